//! adskew opens only databases it owns (issue #15): another program's SQLite file, a file
//! that is not SQLite, a damaged one and one of a newer schema are refused with exit 2, a
//! message naming the file and what to do, and left byte for byte as they were; commands
//! that only read write nothing, read older databases and archives in read-only folders;
//! and a refused command leaves nothing behind: no database, lock file, folder or run.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use adskew::store::lock::DbLock;
use adskew::store::open::APPLICATION_ID;
use adskew::store::SCHEMA_VERSION;
use rusqlite::Connection;

const NAME: &str = "imana2021-paired-jobs";

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns/imana2021_paired_jobs.toml")
}

/// Every file and folder under `dir` with its bytes (`None` for a folder): what a command
/// wrote or changed there shows as a difference.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut found = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.insert(path.clone(), None);
            found.extend(tree(&path));
        } else {
            found.insert(path.clone(), Some(std::fs::read(&path).unwrap()));
        }
    }
    found
}

/// The example run on the simulator into `dir/a.db` (its report elsewhere); the log the
/// run wrote beside it is removed, so `dir` holds the database alone.
fn recorded(dir: &Path) -> PathBuf {
    let db = dir.join("a.db");
    let out = tempfile::tempdir().unwrap();
    common::adskew()
        .args(["run", "--quiet", "--db"])
        .arg(&db)
        .arg("--out")
        .arg(out.path())
        .arg(example())
        .env("HOME", "/nonexistent")
        .assert()
        .success();
    std::fs::remove_file(dir.join("adskew.log")).unwrap();
    db
}

/// The commands that open a database, read-only and writing, as arguments before `--db`.
fn commands(out: &Path) -> Vec<Vec<String>> {
    let out = out.to_string_lossy().into_owned();
    let example = example().to_string_lossy().into_owned();
    [
        vec!["status"],
        vec!["analyze", NAME],
        vec!["report", NAME, "--out", &out],
        vec!["collect", "--all", "--wait", "0"],
        vec!["resume", "1", "--wait", "0", "--out", &out],
        vec!["stop", "1"],
        vec!["run", "--quiet", "--wait", "0", "--out", &out, &example],
    ]
    .iter()
    .map(|c| c.iter().map(|s| s.to_string()).collect())
    .collect()
}

/// Runs `args --db db` and checks it is refused as bad input (exit 2) with a message that
/// names `db` and contains each of `says`; returns the message.
fn refused(args: &[String], db: &Path, says: &[&str]) -> String {
    let output = common::adskew()
        .args(args)
        .arg("--db")
        .arg(db)
        .env("HOME", "/nonexistent")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(&db.display().to_string()), "{args:?}: {err}");
    for s in says {
        assert!(err.contains(s), "{args:?} should say `{s}`: {err}");
    }
    err
}

#[test]
fn a_database_of_a_newer_schema_is_refused_with_the_version_it_needs() {
    let tmp = tempfile::tempdir().unwrap();
    let db = recorded(tmp.path());
    let newer = SCHEMA_VERSION + 1;
    {
        let c = Connection::open(&db).unwrap();
        c.execute(
            "INSERT INTO schema_migrations VALUES (?1, '9.9.0', '2030-01-01T00:00:00Z')",
            [newer as i64],
        )
        .unwrap();
        c.pragma_update(None, "user_version", newer as i64).unwrap();
    }
    let before = tree(tmp.path());
    let out = tmp.path().join("out");
    for args in commands(&out) {
        refused(
            &args,
            &db,
            &[
                &format!("schema version {newer}"),
                "written by adskew 9.9.0",
                "Upgrade adskew to 9.9.0 or later",
            ],
        );
        assert_eq!(tree(tmp.path()), before, "{args:?} changed the folder");
    }
}

/// Writes each kind of file that is not an adskew database into `dir`, by name.
fn not_adskew_files(dir: &Path, adskew_db: &Path) -> Vec<(PathBuf, &'static str)> {
    let other = dir.join("other.sqlite");
    let c = Connection::open(&other).unwrap();
    c.execute_batch("CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('mine');")
        .unwrap();
    let marked = dir.join("marked.sqlite");
    let c = Connection::open(&marked).unwrap();
    c.execute_batch("PRAGMA application_id = 305419896; CREATE TABLE experiments (id INTEGER);")
        .unwrap();
    let bare = dir.join("bare.sqlite");
    Connection::open(&bare)
        .unwrap()
        .pragma_update(None, "user_version", 3)
        .unwrap();
    let text = dir.join("notes.txt");
    std::fs::write(&text, "id,name\n1,not a database\n").unwrap();
    // An adskew database whose first page (the schema) was overwritten.
    let damaged = dir.join("damaged.db");
    let mut bytes = std::fs::read(adskew_db).unwrap();
    bytes[100..1000].fill(0xA5);
    std::fs::write(&damaged, bytes).unwrap();
    let folder = dir.join("a-folder");
    std::fs::create_dir(&folder).unwrap();
    vec![
        (other, "not an adskew database"),
        (marked, "application_id 0x12345678"),
        (bare, "not an adskew database"),
        (text, "not an adskew database (not an SQLite file at all)"),
        (damaged, "is damaged"),
        (folder, "is not a file"),
    ]
}

#[test]
fn files_that_are_not_adskew_databases_are_refused_and_left_unchanged() {
    let source = tempfile::tempdir().unwrap();
    let adskew_db = recorded(source.path());
    let tmp = tempfile::tempdir().unwrap();
    let files = not_adskew_files(tmp.path(), &adskew_db);
    let before = tree(tmp.path());
    let out = tmp.path().join("out");
    for (file, says) in &files {
        for args in commands(&out) {
            refused(&args, file, &[says, "--db"]);
            assert_eq!(tree(tmp.path()), before, "{args:?} on {}", file.display());
        }
    }
}

/// The binary as a user who cannot write to the database's folder: as `nobody` when the
/// tests run as root (whom permissions do not stop).
fn as_reader_without_write_access() -> std::process::Command {
    use assert_cmd::cargo::CommandCargoExt;
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::cargo_bin("adskew").unwrap();
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("ADSKEW_")) {
        cmd.env_remove(k);
    }
    cmd.env_remove("RUST_LOG").env("HOME", "/nonexistent");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        cmd.uid(65534).gid(65534);
    }
    cmd
}

/// Makes `db` an adskew database as the last version before the mark left it (schema 9,
/// no application_id, no `schema_migrations`, the archive's trace id still `fbtrace_id`,
/// no `sequential_looks`).
fn make_unmarked(db: &Path) {
    let c = Connection::open(db).unwrap();
    c.execute_batch(
        "DROP TABLE schema_migrations; PRAGMA application_id = 0; PRAGMA user_version = 9;
         ALTER TABLE api_calls RENAME COLUMN trace_id TO fbtrace_id;
         DROP TABLE sequential_looks;",
    )
    .unwrap();
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `status`, `analyze` and `report` read the current and the previous schema, in a folder
/// they may write to and in one they may not, and change nothing there; a writing command
/// then brings the older database up to date and marks it as adskew's.
#[test]
fn read_commands_write_nothing_and_read_older_and_read_only_databases() {
    for unmarked in [false, true] {
        for read_only in [false, true] {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().join("archive");
            std::fs::create_dir(&dir).unwrap();
            let db = recorded(&dir);
            if unmarked {
                make_unmarked(&db);
            }
            let out = tmp.path().join("out");
            std::fs::create_dir(&out).unwrap();
            set_mode(tmp.path(), 0o755);
            set_mode(&out, 0o777);
            if read_only {
                set_mode(&db, 0o444);
                set_mode(&dir, 0o555);
            }
            let before = tree(&dir);
            let case = format!("unmarked {unmarked}, read-only {read_only}");
            let out_arg = out.to_string_lossy().into_owned();
            for args in [
                vec!["status"],
                vec!["analyze", NAME],
                vec!["report", NAME, "--out", &out_arg],
            ] {
                let mut cmd = as_reader_without_write_access();
                let output = cmd.args(&args).arg("--db").arg(&db).output().unwrap();
                let err = String::from_utf8_lossy(&output.stderr);
                assert!(output.status.success(), "{case}, {args:?}: {err}");
                assert!(
                    String::from_utf8_lossy(&output.stdout).contains(NAME),
                    "{case}, {args:?}"
                );
                assert_eq!(tree(&dir), before, "{case}: {args:?} changed the folder");
            }
            assert!(out.join(NAME).join("results.json").is_file(), "{case}");
            set_mode(&dir, 0o755);
            set_mode(&db, 0o644);
            if unmarked && !read_only {
                common::adskew()
                    .args(["collect", "--all", "--db"])
                    .arg(&db)
                    .env("HOME", "/nonexistent")
                    .assert()
                    .success();
                let c = Connection::open(&db).unwrap();
                let id: i32 = c
                    .pragma_query_value(None, "application_id", |r| r.get(0))
                    .unwrap();
                let version: i64 = c
                    .pragma_query_value(None, "user_version", |r| r.get(0))
                    .unwrap();
                assert_eq!((id, version as usize), (APPLICATION_ID, SCHEMA_VERSION));
            }
        }
    }
}

/// A busy lock is no bad input (exit 3), but leaves nothing behind either.
#[test]
fn a_command_refused_for_a_busy_database_leaves_it_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let db = recorded(tmp.path());
    let before = tree(tmp.path());
    let held = DbLock::acquire(&db, std::time::Duration::ZERO).unwrap();
    let out = tmp.path().join("out");
    for args in commands(&out).into_iter().filter(|a| {
        // The commands that take the lock (stop pauses without it, on a real platform).
        ["collect", "resume", "run"].contains(&a[0].as_str())
    }) {
        common::adskew()
            .args(&args)
            .arg("--db")
            .arg(&db)
            .env("HOME", "/nonexistent")
            .assert()
            .code(3);
    }
    drop(held);
    assert_eq!(tree(tmp.path()), before);
}

/// A command's arguments (before `--db`), its environment, and what its refusal must say.
type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);

/// Runs `case` with the binary set up for `mock` and checks it exits 2 saying what it must.
fn refused_against(mock: &common::mock::MockServer, (args, env, says): &Case, db: &Path) {
    let mut cmd = common::mock::adskew(&mock.1);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.args(args).arg("--db").arg(db).output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?} {env:?}: {err}");
    assert!(
        err.contains(says),
        "{args:?} {env:?} should say `{says}`: {err}"
    );
}

/// Refusals of every kind, on a database that does not exist yet in a folder that does not
/// either: bad files, missing databases, a run unknown, no token, a schedule over, an
/// account in another currency. Each exits 2 naming the fix and leaves the folder absent.
#[test]
fn refused_commands_leave_nothing_behind() {
    let mock = common::mock::start_mock();
    let tmp = tempfile::tempdir().unwrap();
    let inputs = tempfile::tempdir().unwrap();
    let bad = inputs.path().join("bad.toml");
    std::fs::write(&bad, "name = \"x\"\nspend_cap = \"600\"\n").unwrap();
    let people = inputs.path().join("people.csv");
    std::fs::write(&people, "name\nnobody\n").unwrap();
    let db = tmp.path().join("new/folder/a.db");
    let out = tmp.path().join("out").to_string_lossy().into_owned();
    let example = example().to_string_lossy().into_owned();
    let bad = bad.to_string_lossy().into_owned();
    let people = people.to_string_lossy().into_owned();
    let live = vec!["run", "--live", "--quiet", "--out", &out, &example];
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        (vec!["run", "--out", &out, &bad], vec![], "bad.toml"),
        (vec!["status"], vec![], "`adskew run FILE`"),
        (vec!["analyze", NAME], vec![], "`adskew run FILE`"),
        (vec!["report", NAME, "--out", &out], vec![], "`adskew run FILE`"),
        (vec!["collect", "--all"], vec![], "`adskew run FILE`"),
        (vec!["collect", "7"], vec![], "`adskew run FILE`"),
        (vec!["resume", "7", "--out", &out], vec![], "`adskew run FILE`"),
        (vec!["stop", "7"], vec![], "`adskew run FILE`"),
        (vec!["audience", "upload", &people, "--name", "x"], vec![], "people.csv"),
        (live.clone(), vec![("ADSKEW_META_TOKEN", "")], "token"),
        (live.clone(), vec![("ADSKEW_SCHEDULE__START", "2020-01-06T00:00:00Z")], "schedule.start"),
        (live.clone(), vec![("ADSKEW_CURRENCY", "EUR")], "set currency = \"USD\""),
    ];
    for case in &cases {
        refused_against(&mock, case, &db);
        assert_eq!(tree(tmp.path()), BTreeMap::new(), "{case:?} left files");
    }
}

/// The same refusals on a database that holds a run: unknown runs, an account in another
/// currency. The file is unchanged: no lock, no `failed` run recorded.
#[test]
fn refusals_on_an_existing_database_record_nothing() {
    let mock = common::mock::start_mock();
    let tmp = tempfile::tempdir().unwrap();
    let db = recorded(tmp.path());
    let before = tree(tmp.path());
    let out = tmp.path().join("out").to_string_lossy().into_owned();
    let example = example().to_string_lossy().into_owned();
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        (vec!["collect", "7"], vec![], "no experiment `7`"),
        (vec!["resume", "7", "--out", &out], vec![], "no experiment `7`"),
        (vec!["stop", "7"], vec![], "no experiment `7`"),
        (vec!["analyze", "7"], vec![], "no experiment `7`"),
        (vec!["run", "--live", "--quiet", "--out", &out, &example], vec![("ADSKEW_CURRENCY", "EUR")],
            "set currency = \"USD\""),
    ];
    for case in &cases {
        refused_against(&mock, case, &db);
        assert_eq!(tree(tmp.path()), before, "{case:?} changed the folder");
    }
}
