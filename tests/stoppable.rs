//! Always stoppable, never silently spending (issue #13), through the binary against the
//! mock Graph API served in this process (so a test can expire and rotate the token):
//! a second `run` of an unfinished experiment is refused; `stop` pauses everything while
//! another adskew holds the database, and the holder honours it; a failed pause is owed,
//! shown first by `status`, retried by every pass and paid once the token is new, after
//! which the failed run resumes; a schedule already over is refused; an empty run says so.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use adskew::mockapi::{self, faults::Faults, Mock};
use adskew::store::lock::DbLock;
use assert_cmd::cargo::CommandCargoExt;
use common::mock::example;
use rusqlite::Connection;
use serde_json::Value;

/// The mock Graph API on a free loopback port, served by a runtime of its own; the paired
/// example's ground truth, from the example's start.
struct Served {
    mock: Arc<Mock>,
    base: String,
    runtime: tokio::runtime::Runtime,
}

fn serve(faults: Faults) -> Served {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let exp = adskew::experiment::load::load_with_env(&example(), Vec::new())
        .unwrap()
        .experiment;
    let start = "2026-03-02T00:00:00Z".parse().unwrap();
    let mock = Mock::with_faults(
        adskew::platform::sim::SimTruth::of(&exp).unwrap(),
        start,
        faults,
    );
    mock.set_currency(&exp.currency);
    let addr = runtime
        .block_on(mockapi::spawn(mock.clone(), "127.0.0.1:0".parse().unwrap()))
        .unwrap();
    Served {
        mock,
        base: format!("http://{addr}"),
        runtime,
    }
}

impl Served {
    /// The binary, set up for this mock as a `meta` account.
    fn adskew(&self) -> assert_cmd::Command {
        common::mock::adskew(&self.base)
    }

    /// `adskew run --live --quiet [flags] --db DB --out OUT <example>` for this mock.
    fn run_live(&self, flags: &[&str], db: &Path, out: &Path) -> assert_cmd::Command {
        let mut cmd = self.adskew();
        cmd.args(["run", "--live", "--quiet"])
            .args(flags)
            .arg("--db")
            .arg(db)
            .arg("--out")
            .arg(out)
            .arg(example());
        cmd
    }

    /// The binary as a child process for this mock (with a clean environment), started
    /// with `args`, its output piped.
    fn spawn(&self, args: &[&str], db: &Path, out: &Path) -> Child {
        let mut cmd = std::process::Command::cargo_bin("adskew").unwrap();
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("ADSKEW_")) {
            cmd.env_remove(k);
        }
        cmd.env("ADSKEW_PLATFORM", "meta")
            .env("ADSKEW_META__BASE_URL", &self.base)
            .env("ADSKEW_META__MOCK_CLOCK", "true")
            .env("ADSKEW_META__AD_ACCOUNT_ID", "act_1000")
            .env("ADSKEW_META__PAGE_ID", "2000")
            .env("ADSKEW_META_TOKEN", "cli-test-token")
            .env("ADSKEW_META__MAX_CALLS_PER_SECOND", "100")
            .env("HOME", "/nonexistent")
            .env_remove("RUST_LOG")
            .args(args)
            .arg("--db")
            .arg(db)
            .arg("--out")
            .arg(out)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// `run --live` of the example as a child process, to be killed.
    fn spawn_run(&self, db: &Path, out: &Path) -> Child {
        let example = example();
        self.spawn(
            &["run", "--live", "--quiet", example.to_str().unwrap()],
            db,
            out,
        )
    }

    /// A live run killed (SIGKILL) once its ads are active and collecting has begun: run 1
    /// is left `running`, delivering, with no process driving it.
    fn killed_while_running(&self, db: &Path, out: &Path) {
        let mut child = self.spawn_run(db, out);
        let deadline = Instant::now() + Duration::from_secs(60);
        // 13 creates and 9 activations come first.
        while self.mock.request_count() < 30 {
            assert!(Instant::now() < deadline, "the run never got going");
            std::thread::sleep(Duration::from_millis(1));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(state(db, 1), "running");
    }

    /// A Graph GET with a valid token.
    fn get(&self, path_and_query: &str) -> Value {
        let url = format!(
            "{}/v25.0/{path_and_query}&access_token=test-token",
            self.base
        );
        self.runtime.block_on(async {
            reqwest::get(&url)
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    }

    /// The campaign's and every ad's own `status` on the platform.
    fn statuses(&self, db: &Path) -> (String, Vec<String>) {
        let campaign = campaign_id(db);
        let c = self.get(&format!("{campaign}?fields=status"));
        let ads = self.get(&format!(
            "{campaign}/ads?fields=status,effective_status&limit=100"
        ));
        let ads = ads["data"]
            .as_array()
            .unwrap_or_else(|| panic!("{ads}"))
            .iter()
            .map(|a| a["status"].as_str().unwrap().to_string())
            .collect();
        (c["status"].as_str().unwrap().to_string(), ads)
    }

    fn assert_all_paused(&self, db: &Path, when: &str) {
        let (campaign, ads) = self.statuses(db);
        assert_eq!(campaign, "PAUSED", "{when}: the campaign");
        assert_eq!(ads.len(), 4, "{when}");
        assert!(ads.iter().all(|s| s == "PAUSED"), "{when}: ads {ads:?}");
    }
}

fn query<T: rusqlite::types::FromSql>(db: &Path, sql: &str) -> T {
    Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

fn state(db: &Path, id: i64) -> String {
    query(
        db,
        &format!("SELECT state FROM experiments WHERE id = {id}"),
    )
}

fn campaign_id(db: &Path) -> String {
    query(
        db,
        "SELECT platform_id FROM platform_objects WHERE experiment_id = 1 AND role = 'campaign'",
    )
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn paths(tmp: &tempfile::TempDir) -> (PathBuf, PathBuf) {
    (tmp.path().join("a.db"), tmp.path().join("out"))
}

/// After a crash, running the same command again must not launch a second campaign with a
/// cap of its own: it is refused, naming the run and the way back; `--new` makes a second
/// copy deliberately.
#[test]
fn a_second_run_of_an_unfinished_experiment_is_refused() {
    let served = serve(Faults::default());
    let tmp = tempfile::tempdir().unwrap();
    let (db, out) = paths(&tmp);
    served.killed_while_running(&db, &out);
    let objects = served.mock.object_count();
    assert_eq!(objects, 13);

    let refused = served
        .run_live(&[], &db, &out)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let text = stderr(&refused);
    assert!(
        text.contains("run 1 (running")
            && text.contains("`adskew resume 1 --live`")
            && text.contains("--new"),
        "{text}"
    );
    assert_eq!(served.mock.object_count(), objects, "nothing was created");
    assert_eq!(
        query::<i64>(&db, "SELECT COUNT(*) FROM experiments"),
        1,
        "nothing was recorded"
    );

    let second = served
        .run_live(&["--new"], &db, &out)
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(
        stderr(&second).contains("second copy"),
        "{}",
        stderr(&second)
    );
    assert_eq!(served.mock.object_count(), 2 * objects);
}

/// `stop` while a collector holds the database's lock: it pauses everything at once and
/// exits 0; the stop is recorded by the next pass, which re-activates nothing.
#[test]
fn stop_pauses_everything_while_another_adskew_holds_the_lock() {
    let served = serve(Faults::default());
    let tmp = tempfile::tempdir().unwrap();
    let (db, out) = paths(&tmp);
    served.killed_while_running(&db, &out);
    let (campaign, ads) = served.statuses(&db);
    assert_eq!(campaign, "ACTIVE");
    assert!(ads.iter().all(|s| s == "ACTIVE"), "{ads:?}");

    let held = DbLock::acquire(&db, Duration::ZERO).unwrap();
    let started = Instant::now();
    let stopped = served
        .adskew()
        .args(["stop", "1", "--reason", "grant office says halt", "--db"])
        .arg(&db)
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stop waited for the lock: {:?}",
        started.elapsed()
    );
    assert!(
        stdout(&stopped).contains("paused 9 object(s)"),
        "{}",
        stdout(&stopped)
    );
    served.assert_all_paused(&db, "right after stop");
    // The holder has not looked yet; status says the ads are paused and the record waits.
    assert_eq!(state(&db, 1), "running");
    let status = served
        .adskew()
        .args(["status", "--db"])
        .arg(&db)
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(
        stdout(&status).contains("its ads are paused"),
        "{}",
        stdout(&status)
    );

    drop(held);
    served
        .adskew()
        .args(["collect", "1", "--db"])
        .arg(&db)
        .assert()
        .success();
    assert_eq!(state(&db, 1), "stopped");
    let cause: String = query(
        &db,
        "SELECT cause FROM experiment_events WHERE experiment_id = 1 ORDER BY id DESC LIMIT 1",
    );
    assert_eq!(cause, "grant office says halt");
    served.assert_all_paused(&db, "after the next pass");
    assert_eq!(
        query::<i64>(
            &db,
            "SELECT COUNT(*) FROM pause_requests WHERE done_at IS NULL"
        ),
        0
    );
}

/// A `resume` holding the lock through a slow collection: a `stop` made meanwhile takes
/// effect at once, and the holder records it and re-activates nothing.
#[test]
fn the_lock_holder_honours_a_stop_made_during_its_pass() {
    let served = serve(Faults::default());
    let tmp = tempfile::tempdir().unwrap();
    let (db, out) = paths(&tmp);
    served.killed_while_running(&db, &out);
    // Every read now takes a while, so the resumed run holds the lock for seconds.
    served.mock.set_faults(Faults {
        delay: 1.0,
        delay_secs: 0.5,
        ..Faults::default()
    });
    let mut resume = served.spawn(&["resume", "1", "--live", "--quiet"], &db, &out);
    let deadline = Instant::now() + Duration::from_secs(30);
    while DbLock::try_acquire(&db, Duration::ZERO).unwrap().is_ok() {
        assert!(Instant::now() < deadline, "resume never took the lock");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(500)); // well into its collection

    let started = Instant::now();
    served
        .adskew()
        .args(["stop", "1", "--db"])
        .arg(&db)
        .assert()
        .success();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        resume.try_wait().unwrap().is_none(),
        "the resumed run finished before the stop; the test proves nothing"
    );
    served.mock.set_faults(Faults::default());
    served.assert_all_paused(&db, "right after stop");

    let done = resume.wait_with_output().unwrap();
    assert!(done.status.success(), "{}", stderr(&done));
    assert_eq!(state(&db, 1), "stopped");
    served.assert_all_paused(&db, "after the holder finished");
    assert_eq!(
        query::<i64>(
            &db,
            "SELECT COUNT(*) FROM pause_requests WHERE done_at IS NULL"
        ),
        0
    );
}

/// The token expires mid-run: the run fails and so does the pause. The pause is owed:
/// `status` shows it first with the platform ids, `run` refuses a second copy, every pass
/// retries it, and once the token is new it is paid and the failed run resumes to the end.
#[test]
fn a_failed_pause_is_owed_retried_and_paid_and_the_run_resumes() {
    let served = serve(Faults {
        expire_token_after: Some(40),
        ..Faults::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let (db, out) = paths(&tmp);
    let failed = served
        .run_live(&[], &db, &out)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let text = stderr(&failed);
    let campaign = campaign_id(&db);
    assert!(
        text.contains("may still be spending")
            && text.contains(&campaign)
            && text.contains("adskew collect 1"),
        "{text}"
    );
    assert_eq!(state(&db, 1), "failed");
    // The ads really are still on (a valid token sees it).
    let expired = served.mock.request_count();
    served.mock.set_faults(Faults::default());
    let (c, _) = served.statuses(&db);
    assert_eq!(c, "ACTIVE");
    served.mock.set_faults(Faults {
        expire_token_after: Some(0),
        ..Faults::default()
    });
    assert!(served.mock.request_count() > expired);

    // status: first thing, with the ids and what to do by hand.
    let status = served
        .adskew()
        .args(["status", "--db"])
        .arg(&db)
        .assert()
        .success()
        .get_output()
        .clone();
    let text = stdout(&status);
    assert!(
        text.starts_with("ATTENTION: run 1")
            && text.contains(&campaign)
            && text.contains("Ads Manager"),
        "{text}"
    );

    // No second copy while the first may be spending.
    let refused = served
        .adskew()
        .args(["run", "--live", "--quiet", "--db"])
        .arg(&db)
        .arg(example())
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(stderr(&refused).contains("`adskew resume 1 --live`"));
    assert_eq!(served.mock.object_count(), 13);

    // Every pass retries the pause first; while the token is dead that fails, loudly.
    for args in [&["collect", "--all"][..], &["collect", "1"][..]] {
        let pass = served
            .adskew()
            .args(args)
            .arg("--db")
            .arg(&db)
            .assert()
            .code(1)
            .get_output()
            .clone();
        assert!(
            stdout(&pass).contains("could not pause run 1"),
            "{args:?}: {}",
            stdout(&pass)
        );
    }

    // A new token: the next pass pays the pause.
    served.mock.set_faults(Faults::default());
    let pass = served
        .adskew()
        .env("ADSKEW_META_TOKEN", "rotated-token")
        .args(["collect", "1", "--db"])
        .arg(&db)
        .assert()
        .success()
        .get_output()
        .clone();
    let text = stdout(&pass);
    assert!(
        text.contains("paused 9 object(s)") && text.contains("adskew resume 1 --live"),
        "{text}"
    );
    served.assert_all_paused(&db, "after the pass with the new token");
    let status = served
        .adskew()
        .args(["status", "--db"])
        .arg(&db)
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(
        !stdout(&status).contains("ATTENTION"),
        "{}",
        stdout(&status)
    );

    // And the failed run goes on to its end.
    served
        .adskew()
        .env("ADSKEW_META_TOKEN", "rotated-token")
        .args(["resume", "1", "--live", "--quiet", "--db"])
        .arg(&db)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(state(&db, 1), "completed");
    assert_eq!(served.mock.object_count(), 13, "nothing created twice");
    let collections: i64 = query(&db, "SELECT COUNT(*) FROM collections");
    assert!(collections >= 5, "{collections}");
    // At the end the campaign is paused, which stops every ad under it.
    assert_eq!(served.statuses(&db).0, "PAUSED");
}

/// A schedule whose end has passed by the platform's clock is refused before anything is
/// created, naming the field and the fix; the dry run says so first.
#[test]
fn a_schedule_that_has_already_ended_is_refused() {
    let served = serve(Faults::default());
    let tmp = tempfile::tempdir().unwrap();
    let (db, out) = paths(&tmp);
    let text = std::fs::read_to_string(example()).unwrap();
    let past = text.replace(
        "start = \"2026-03-02T00:00:00Z\"",
        "start = \"2026-02-01T00:00:00Z\"",
    );
    assert_ne!(past, text);
    let file = tmp.path().join("past.toml");
    std::fs::write(&file, past).unwrap();
    let dry = served
        .adskew()
        .args(["run", "--db"])
        .arg(&db)
        .arg(&file)
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(
        stderr(&dry).contains("has already passed"),
        "{}",
        stderr(&dry)
    );
    let refused = served
        .adskew()
        .args(["run", "--live", "--quiet", "--db"])
        .arg(&db)
        .arg("--out")
        .arg(&out)
        .arg(&file)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let text = stderr(&refused);
    assert!(
        text.contains("schedule.start")
            && text.contains("has already passed")
            && text.contains("\"now\""),
        "{text}"
    );
    assert_eq!(served.mock.object_count(), 0);
    assert_eq!(served.mock.request_count(), 0, "not a single Graph call");
    assert!(!db.exists() || query::<i64>(&db, "SELECT COUNT(*) FROM experiments") == 0);
}

/// An invalid or expired token exits 4 (README "Exit codes"), not 1: no later pass can
/// succeed until a person sets a new token, so a cron job should page someone. So does a
/// `collect` pass whose every failure is the token, and a launch refused at its first call
/// (nothing created); the message says what to do.
#[test]
fn an_expired_token_exits_4_and_says_what_to_do() {
    let served = serve(Faults::default());
    let tmp = tempfile::tempdir().unwrap();
    let (db, out) = paths(&tmp);
    served.killed_while_running(&db, &out);
    served.mock.set_faults(Faults {
        expire_token_after: Some(0),
        ..Faults::default()
    });

    let pass = served
        .adskew()
        .args(["collect", "1", "--db"])
        .arg(&db)
        .assert()
        .code(4)
        .get_output()
        .clone();
    let (said, why) = (stdout(&pass), stderr(&pass));
    assert!(
        said.contains("FAILED") && said.contains("190") && said.contains("ADSKEW_META_TOKEN"),
        "{said}"
    );
    assert!(why.contains("1 run(s) failed this pass"), "{why}");
    assert_eq!(
        state(&db, 1),
        "running",
        "a collection failure is retried later"
    );

    let objects = served.mock.object_count();
    let other = tempfile::tempdir().unwrap();
    let (db2, out2) = paths(&other);
    let refused = served
        .run_live(&["--new"], &db2, &out2)
        .assert()
        .code(4)
        .get_output()
        .clone();
    let text = stderr(&refused);
    assert!(
        text.contains("190") && text.contains("expired") && text.contains("ADSKEW_META_TOKEN"),
        "{text}"
    );
    assert_eq!(served.mock.object_count(), objects, "nothing created");
}

/// A run nobody was shown says so, in the summary, the words of each test and the report,
/// instead of "only one gender group was reached".
#[test]
fn a_run_with_no_delivery_says_so_plainly() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, out) = paths(&tmp);
    let mut cmd = common::adskew();
    for key in [
        "DOMINOS_DRIVER",
        "INSTACART_SHOPPER",
        "NVIDIA_SWE",
        "NETFLIX_SWE",
    ] {
        cmd.env(
            format!("ADSKEW_SIM__ADS__{key}__DISAPPROVED"),
            "rehearsing an empty run",
        );
    }
    let run = cmd
        .args(["run", "--quiet", "--db"])
        .arg(&db)
        .arg("--out")
        .arg(&out)
        .arg(example())
        .assert()
        .success()
        .get_output()
        .clone();
    let text = stdout(&run);
    assert!(
        text.contains("No delivery: none of the 4 ads was shown to anyone"),
        "{text}"
    );
    assert!(
        text.contains("By gender: not tested (no delivery"),
        "{text}"
    );
    assert!(!text.contains("only one"), "{text}");
    let report = std::fs::read_to_string(out.join("imana2021-paired-jobs/report.md")).unwrap();
    assert!(report.contains("No delivery") && !report.contains("only one"));
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("imana2021-paired-jobs/results.json")).unwrap(),
    )
    .unwrap();
    let not_tested = results["comparisons"][0]["breakdowns"][0]["not_tested"]
        .as_str()
        .unwrap();
    assert!(not_tested.starts_with("no delivery"), "{not_tested}");
}
