//! Crash safety of a live run (issue #5), through the binary against `adskew mock-server`:
//! a run killed with SIGKILL at many points during creation, activation and collection and
//! then resumed must end exactly like an uninterrupted run: the same delivery in the store,
//! and no platform object created twice. Also: two collectors never run at once, and a
//! collection pass run twice changes nothing.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use common::mock::{adskew, example, get_json, start_mock, start_mock_with};
use rusqlite::Connection;

/// The latest snapshot of every delivery value, in a stable order.
fn latest(db: &Path) -> Vec<String> {
    rows(
        db,
        "SELECT ad_key, period, date_start, date_stop, breakdown, value, reach, impressions,
                clicks, spend_minor
         FROM delivery_latest ORDER BY ad_key, period, date_start, date_stop, breakdown, value",
    )
}

/// Every stored anytime-valid look, in the order of its settled period.
fn looks(db: &Path) -> Vec<String> {
    rows(
        db,
        "SELECT as_of, comparison, breakdown, log_e, p_value, lower, upper
         FROM sequential_looks ORDER BY as_of, comparison, breakdown",
    )
}

/// The rows `sql` reads from `db`, each as its values written out in order.
fn rows(db: &Path, sql: &str) -> Vec<String> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let columns = stmt.column_count();
    stmt.query_map([], |r| {
        (0..columns)
            .map(|i| {
                r.get::<_, rusqlite::types::Value>(i)
                    .map(|v| format!("{v:?}"))
            })
            .collect::<rusqlite::Result<Vec<_>>>()
            .map(|values| values.join(" "))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn collections(db: &Path) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM collections", [], |r| r.get(0))
        .unwrap()
}

fn state(db: &Path) -> String {
    Connection::open(db)
        .unwrap()
        .query_row("SELECT state FROM experiments WHERE id = 1", [], |r| {
            r.get(0)
        })
        .unwrap()
}

/// A live run's command line, paced so a test can stop it between two requests.
fn live_run(base: &str, db: &Path, out: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::cargo_bin("adskew").unwrap();
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("ADSKEW_")) {
        cmd.env_remove(k);
    }
    cmd.env("ADSKEW_PLATFORM", "meta")
        .env("ADSKEW_META__BASE_URL", base)
        .env("ADSKEW_META__MOCK_CLOCK", "true")
        .env("ADSKEW_META__AD_ACCOUNT_ID", "act_1000")
        .env("ADSKEW_META__PAGE_ID", "2000")
        .env("ADSKEW_META_TOKEN", "cli-test-token")
        .env("ADSKEW_META__MAX_CALLS_PER_SECOND", "100")
        .env("HOME", "/nonexistent")
        .args(["run", "--live", "--quiet", "--db"])
        .arg(db)
        .arg("--out")
        .arg(out)
        .arg(example())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

#[test]
fn a_run_killed_anywhere_resumes_to_the_uninterrupted_result() {
    let tmp = tempfile::tempdir().unwrap();

    // The reference: the same run, uninterrupted.
    let reference_mock = start_mock();
    let reference_db = tmp.path().join("reference.db");
    let status = live_run(&reference_mock.1, &reference_db, tmp.path())
        .status()
        .unwrap();
    assert!(status.success());
    let reference = latest(&reference_db);
    let reference_looks = looks(&reference_db);
    assert!(!reference_looks.is_empty());
    let reference_collections = collections(&reference_db);
    let total_requests = get_json(&format!("{}/__admin/stats", reference_mock.1))["requests"]
        .as_u64()
        .unwrap();
    assert!(!reference.is_empty() && total_requests > 40);
    drop(reference_mock);

    // Kill points spread over creation (13 objects), activation (9 switches) and the
    // collections that follow.
    // During creation every create is carried out at once but answered only after half a
    // second, so the kill lands between the object existing and the run hearing of it.
    let slow = tmp.path().join("slow-creates.toml");
    std::fs::write(&slow, "slow_create = 1.0\ndelay_secs = 0.5\n").unwrap();
    // Request 1 is the account's currency check, made before the run is recorded; request 2
    // is the same check as the recorded run starts launching.
    let mut points = vec![
        2,
        4,
        9,
        13,
        17,
        22,
        30,
        total_requests / 2,
        total_requests - 5,
    ];
    points.sort_unstable();
    points.dedup();
    for point in points {
        let mock = if point <= 13 {
            start_mock_with(Some(&slow))
        } else {
            start_mock()
        };
        let db = tmp.path().join(format!("killed-at-{point}.db"));
        let mut child = live_run(&mock.1, &db, tmp.path()).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let seen = get_json(&format!("{}/__admin/stats", mock.1))["requests"]
                .as_u64()
                .unwrap();
            if seen >= point {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the run never reached request {point}"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // The kill really interrupted the run.
        assert!(
            collections(&db) < reference_collections,
            "killed at request {point}: the run had already finished ({} of {reference_collections} collections; {total_requests} requests in all)",
            collections(&db)
        );
        if point < 13 {
            let objects = get_json(&format!("{}/__admin/stats", mock.1))["objects"]
                .as_u64()
                .unwrap();
            assert!(
                objects < 13,
                "killed at request {point}: creation had finished"
            );
        }

        adskew(&mock.1)
            .args(["resume", "1", "--live", "--quiet", "--db"])
            .arg(&db)
            .arg("--out")
            .arg(tmp.path())
            .assert()
            .success();
        assert_eq!(state(&db), "completed", "killed at request {point}");
        assert_eq!(
            latest(&db),
            reference,
            "killed at request {point}: the resumed run's data differ"
        );
        assert_eq!(
            looks(&db),
            reference_looks,
            "killed at request {point}: the resumed run's anytime-valid looks differ"
        );
        let stats = get_json(&format!("{}/__admin/stats", mock.1));
        assert_eq!(
            stats["objects"], 13,
            "killed at request {point}: an object was created twice"
        );
        // Nothing left to do: another pass changes nothing.
        let before = latest(&db);
        adskew(&mock.1)
            .args(["collect", "--all", "--db"])
            .arg(&db)
            .assert()
            .success()
            .stdout(predicates::str::contains("No unfinished runs"));
        assert_eq!(latest(&db), before);
    }
}

/// Two collectors: the second waits for the lock a bounded time, then exits 3 naming the
/// holder, having done nothing.
#[test]
fn a_second_collector_waits_then_gives_up_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.db");
    adskew::store::Store::open(&db).unwrap();
    let held = adskew::store::lock::DbLock::acquire(&db, Duration::ZERO).unwrap();
    let started = Instant::now();
    common::adskew()
        .args(["collect", "--all", "--wait", "1", "--db"])
        .arg(&db)
        .env("HOME", "/nonexistent")
        .assert()
        .code(3)
        .stderr(predicates::str::contains(format!(
            "pid {}",
            std::process::id()
        )));
    assert!(started.elapsed() >= Duration::from_secs(1));
    drop(held);
    common::adskew()
        .args(["collect", "--all", "--wait", "1", "--db"])
        .arg(&db)
        .env("HOME", "/nonexistent")
        .assert()
        .success();
}

/// The daemon sleeps between passes and stops cleanly on SIGTERM and on SIGINT.
#[test]
fn the_daemon_stops_cleanly_on_a_signal() {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("a.db");
        adskew::store::Store::open(&db).unwrap();
        let mut child = std::process::Command::cargo_bin("adskew")
            .unwrap()
            .args(["daemon", "--db"])
            .arg(&db)
            .env("HOME", "/nonexistent")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(700));
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the daemon ignored signal {signal}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "signal {signal}: {status}");
        let mut out = String::new();
        std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
        assert!(out.contains("stopping on signal"), "{out}");
    }
}
