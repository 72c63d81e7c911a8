//! Alerts for nightly runs (issue 15): `collect --all` tells a command and a webhook, both
//! local receivers, about a failed collection, a run stopped at its spend cap, an ad the
//! platform rejected and a failed pause, each exactly once with its kind and run; a pass
//! with nothing new tells nothing; an alert that cannot be delivered changes no exit code
//! and is said on stderr and noted in the run; a bad `[alerts]` table is refused first.
//!
//! Each test launches a run on the mock Graph API (served in this process, so the token can
//! expire) through the library as far as is due at its start, activated with nothing
//! collected, as a nightly cron finds it; the mock's clock is then moved on a day.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use adskew::experiment::load::load_with_env;
use adskew::experiment::Experiment;
use adskew::mockapi::clock::MockClock;
use adskew::mockapi::{self, faults::Faults, Mock};
use adskew::platform::meta::adapter::{MetaConfig, MetaPlatform, Secret};
use adskew::scheduler::{self, Mode};
use adskew::store::{PauseKind, RunState, Store};
use rusqlite::Connection;
use serde_json::Value;

const START: &str = "2026-03-02T00:00:00Z";

/// The paired example on Meta, with `spend_cap` (USD) in place of its own.
fn experiment_file(dir: &Path, spend_cap: &str) -> PathBuf {
    let text = std::fs::read_to_string(common::mock::example()).unwrap();
    let changed = text.replace("spend_cap = 600.0", &format!("spend_cap = {spend_cap}"));
    assert!(changed.contains(&format!("spend_cap = {spend_cap}\n")));
    let file = dir.join("experiment.toml");
    std::fs::write(&file, changed).unwrap();
    file
}

fn load(file: &Path, env: &[(&str, &str)]) -> Experiment {
    let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    load_with_env(file, env).unwrap().experiment
}

/// A night's setting: the mock, a webhook receiver, and a settings file whose `[alerts]`
/// runs a command that appends each alert (stdin) and its `ADSKEW_ALERT_*` to files.
struct Night {
    mock: Arc<Mock>,
    base: String,
    runtime: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
    posted: Arc<Mutex<Vec<Value>>>,
}

impl Night {
    /// The mock serving `truth`'s simulator; the webhook at `webhook`, else the receiver.
    fn new(truth: &Experiment, webhook: Option<&str>) -> Night {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let sim = adskew::platform::sim::SimTruth::of(truth).unwrap();
        let mock = Mock::with_faults(sim, START.parse().unwrap(), Faults::default());
        mock.set_currency(&truth.currency);
        let addr = runtime
            .block_on(mockapi::spawn(mock.clone(), "127.0.0.1:0".parse().unwrap()))
            .unwrap();
        let posted = Arc::new(Mutex::new(Vec::new()));
        let receiver = runtime.block_on(receiver(posted.clone()));
        let night = Night {
            mock,
            base: format!("http://{addr}"),
            runtime,
            dir: tempfile::tempdir().unwrap(),
            posted,
        };
        write_settings(night.dir.path(), webhook.unwrap_or(&receiver));
        night
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("a.db")
    }

    fn settings(&self) -> PathBuf {
        settings(self.dir.path())
    }

    /// Records run 1 of `exp` and does what is due at its start: every object created and
    /// activated, nothing collected yet.
    fn launch(&self, exp: &Experiment) {
        self.runtime.block_on(async {
            let clock = Arc::new(MockClock::connect(&self.base).await.unwrap());
            let mut config = MetaConfig::new(&self.base, "act_1000", "2000", Secret::new("t"));
            config.max_calls_per_second = 1000;
            let platform = MetaPlatform::new(config.for_experiment(exp), clock.clone()).unwrap();
            let mut store = Store::open(&self.db()).unwrap();
            let id = scheduler::record(exp, clock.as_ref(), &mut store).unwrap();
            let outcome = scheduler::drive(
                exp,
                id,
                &platform,
                clock.as_ref(),
                &mut store,
                &(),
                Mode::DueNow,
            )
            .await
            .unwrap();
            assert_eq!((id, outcome.state), (1, RunState::Running));
        });
    }

    /// Moves the mock's clock `hours` past the start.
    fn at_hour(&self, hours: i64) {
        let start: chrono::DateTime<chrono::Utc> = START.parse().unwrap();
        let to = (start + chrono::Duration::hours(hours)).to_rfc3339();
        let url = format!("{}/__admin/clock", self.base);
        self.runtime.block_on(async {
            reqwest::Client::new()
                .post(&url)
                .query(&[("to", to)])
                .send()
                .await
                .unwrap()
                .error_for_status()
                .unwrap();
        });
    }

    /// `adskew collect --all` with these settings, its exit code checked.
    fn collect(&self, token: &str, code: i32) -> std::process::Output {
        common::mock::adskew(&self.base)
            .env("ADSKEW_META_TOKEN", token)
            .args(["collect", "--all", "--config"])
            .arg(self.settings())
            .arg("--db")
            .arg(self.db())
            .assert()
            .code(code)
            .get_output()
            .clone()
    }

    fn told(&self) -> (Vec<Value>, Vec<String>) {
        told(self.dir.path())
    }

    fn posted(&self) -> Vec<Value> {
        self.posted.lock().unwrap().clone()
    }
}

fn settings(dir: &Path) -> PathBuf {
    dir.join("adskew.toml")
}

/// The settings file in `dir`: alerts to `webhook` and to a command that appends each
/// alert (its stdin) to `alerts.jsonl` and `KIND RUN` (its variables) to `env.txt`.
fn write_settings(dir: &Path, webhook: &str) {
    let shown = dir.display();
    let command = format!(
        "cat >> '{shown}/alerts.jsonl' && printf '%s %s\\n' \"$ADSKEW_ALERT_KIND\" \
         \"$ADSKEW_ALERT_RUN\" >> '{shown}/env.txt'"
    );
    let text = format!(
        "[alerts]\ncommand = {}\nwebhook = \"{webhook}\"\n",
        toml_string(&command)
    );
    std::fs::write(settings(dir), text).unwrap();
}

/// Every alert the command in `dir` was given, and the `KIND RUN` its variables said.
fn told(dir: &Path) -> (Vec<Value>, Vec<String>) {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    let alerts = read("alerts.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        alerts,
        read("env.txt").lines().map(str::to_string).collect(),
    )
}

/// A webhook receiver on a free loopback port; what it is POSTed lands in `posted`.
async fn receiver(posted: Arc<Mutex<Vec<Value>>>) -> String {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(alert): axum::Json<Value>| {
            let posted = posted.clone();
            async move {
                posted.lock().unwrap().push(alert);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/hook")
}

fn toml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

fn kinds(alerts: &[Value]) -> Vec<&str> {
    alerts.iter().map(|a| a["kind"].as_str().unwrap()).collect()
}

fn query<T: rusqlite::types::FromSql>(db: &Path, sql: &str) -> T {
    Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A rejected ad and a stop at the spend cap in the same night: one alert each, to the
/// command (JSON and variables) and the webhook alike; the next night, with nothing new,
/// tells nothing.
#[test]
fn a_rejected_ad_and_a_cap_reached_are_told_once() {
    let reason = "Employment ads may not target by gender";
    let setup = tempfile::tempdir().unwrap();
    let file = experiment_file(setup.path(), "5.0");
    let exp = load(&file, &[("ADSKEW_PLATFORM", "meta")]);
    let truth = load(
        &file,
        &[("ADSKEW_SIM__ADS__NVIDIA_SWE__DISAPPROVED", reason)],
    );
    let night = Night::new(&truth, None);
    night.launch(&exp);
    night.at_hour(24);

    night.collect("cli-test-token", 0);
    assert_eq!(
        query::<String>(&night.db(), "SELECT state FROM experiments"),
        "stopped"
    );
    let (alerts, env) = night.told();
    assert_eq!(kinds(&alerts), ["cap_reached", "ad_rejected"], "{alerts:?}");
    assert_eq!(env, ["cap_reached 1", "ad_rejected 1"]);
    let rejected = &alerts[1];
    assert_eq!(rejected["run"], 1);
    assert_eq!(rejected["experiment"], "imana2021-paired-jobs");
    let message = rejected["message"].as_str().unwrap();
    assert!(
        message.contains("nvidia_swe") && message.contains(reason),
        "{message}"
    );
    let cap = alerts[0]["message"].as_str().unwrap();
    assert!(
        cap.starts_with("spend cap reached") && cap.contains("of 5.00 USD"),
        "{cap}"
    );
    assert!(alerts[0]["action"].as_str().unwrap().contains("paused"));
    assert_eq!(night.posted(), alerts, "the webhook was told the same");

    night.collect("cli-test-token", 0);
    assert_eq!(night.told().0.len(), 2, "nothing new, nothing told");
    assert_eq!(night.posted().len(), 2);
}

/// A collection that fails (the token expired) is told once as `collection_failed`; a
/// webhook nobody answers leaves the exit code the collection's own (4), is said on stderr
/// without the webhook's secret path, and is noted in the run's events. The next night,
/// with a new token, collects and tells nothing.
#[test]
fn a_failed_collection_is_told_and_an_unreachable_webhook_changes_nothing() {
    let setup = tempfile::tempdir().unwrap();
    let file = experiment_file(setup.path(), "600.0");
    let exp = load(&file, &[("ADSKEW_PLATFORM", "meta")]);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let webhook = format!("http://{}/T000/secret-path", closed.local_addr().unwrap());
    drop(closed);
    let night = Night::new(&exp, Some(&webhook));
    night.launch(&exp);
    night.at_hour(24);
    night.mock.set_faults(Faults {
        expire_token_after: Some(0),
        ..Faults::default()
    });

    let pass = night.collect("cli-test-token", 4);
    let (alerts, env) = night.told();
    assert_eq!(kinds(&alerts), ["collection_failed"], "{alerts:?}");
    assert_eq!(env, ["collection_failed 1"]);
    assert!(alerts[0]["message"].as_str().unwrap().contains("190"));
    let said = stderr(&pass);
    assert!(
        said.contains("alert collection_failed not delivered by the webhook at 127.0.0.1"),
        "{said}"
    );
    assert!(!said.contains("secret-path"), "{said}");
    let noted: i64 = query(
        &night.db(),
        "SELECT COUNT(*) FROM experiment_events WHERE kind = 'alert_undelivered' \
         AND cause LIKE 'alert collection_failed not delivered by the webhook%'",
    );
    assert_eq!(noted, 1);
    // The run's own story is unchanged: status still says why the collection failed.
    let status = common::adskew()
        .args(["status", "--db"])
        .arg(night.db())
        .assert()
        .success()
        .get_output()
        .clone();
    let shown = String::from_utf8_lossy(&status.stdout);
    assert!(
        shown.contains("collection failed") && !shown.contains("not delivered"),
        "{shown}"
    );

    night.mock.set_faults(Faults::default());
    night.collect("rotated-token", 0);
    let collections: i64 = query(&night.db(), "SELECT COUNT(*) FROM collections");
    assert_eq!(collections, 1);
    assert_eq!(night.told().0.len(), 1, "a good night tells nothing");
}

/// A pause owed (a stop left as a request) that fails at the next pass is told once, as
/// `pause_failed` and nothing else; paid the night after, nothing more is told.
#[test]
fn a_failed_pause_is_told_once() {
    let setup = tempfile::tempdir().unwrap();
    let file = experiment_file(setup.path(), "600.0");
    let exp = load(&file, &[("ADSKEW_PLATFORM", "meta")]);
    let night = Night::new(&exp, None);
    night.launch(&exp);
    let mut store = Store::open(&night.db()).unwrap();
    store
        .request_pause(
            1,
            PauseKind::Stop,
            "grant office says halt",
            chrono::Utc::now(),
        )
        .unwrap();
    drop(store);
    night.mock.set_faults(Faults {
        expire_token_after: Some(0),
        ..Faults::default()
    });

    night.collect("cli-test-token", 1);
    let (alerts, env) = night.told();
    assert_eq!(kinds(&alerts), ["pause_failed"], "{alerts:?}");
    assert_eq!(env, ["pause_failed 1"]);
    assert!(alerts[0]["message"]
        .as_str()
        .unwrap()
        .contains("could not pause run 1"));
    assert!(alerts[0]["action"].as_str().unwrap().contains("by hand"));
    assert_eq!(night.posted(), alerts);

    night.mock.set_faults(Faults::default());
    night.collect("rotated-token", 0);
    assert_eq!(
        query::<String>(&night.db(), "SELECT state FROM experiments"),
        "stopped"
    );
    assert_eq!(night.told().0.len(), 1, "a stop by hand is not a cap");
    assert_eq!(night.posted().len(), 1);
}

/// A run whose process died (on the simulator, which cannot be continued) is marked failed
/// by the next pass and told once as `run_failed`; the night after tells nothing.
#[test]
fn a_run_marked_failed_is_told_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    write_settings(
        dir.path(),
        &format!("http://{}/", closed.local_addr().unwrap()),
    );
    drop(closed);
    let exp = load(&common::mock::example(), &[]);
    let clock = adskew::clock::SimClock::new(START.parse().unwrap());
    scheduler::record(&exp, &clock, &mut Store::open(&db).unwrap()).unwrap();
    let collect = |code: i32| {
        common::adskew()
            .args(["collect", "--all", "--config"])
            .arg(settings(dir.path()))
            .arg("--db")
            .arg(&db)
            .assert()
            .code(code);
    };
    collect(1);
    let (alerts, env) = told(dir.path());
    assert_eq!(kinds(&alerts), ["run_failed"], "{alerts:?}");
    assert_eq!(env, ["run_failed 1"]);
    assert!(alerts[0]["message"]
        .as_str()
        .unwrap()
        .contains("interrupted"));
    assert!(alerts[0]["action"]
        .as_str()
        .unwrap()
        .contains("adskew resume 1 --live"));
    collect(0);
    assert_eq!(told(dir.path()).0.len(), 1);
}

/// A settings file that could never deliver, or a rate of 0 calls per second, is refused
/// before anything is written (no database, no lock file), naming the setting and the fix.
#[test]
fn bad_alert_settings_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (db, settings) = (dir.path().join("a.db"), dir.path().join("adskew.toml"));
    for (text, names, fix) in [
        (
            "[alerts]\ncommand = \"true\"\non = [\"cap\"]\n",
            "alerts.on",
            "cap_reached",
        ),
        (
            "[alerts]\nwebhook = \"http://hooks.example.org/x\"\n",
            "alerts.webhook",
            "https://",
        ),
        ("[alerts]\ncommand = \" \"\n", "alerts.command", "sh -c"),
        (
            "[meta]\nmax_calls_per_second = 0\n",
            "meta.max_calls_per_second",
            "at least 1",
        ),
    ] {
        std::fs::write(&settings, text).unwrap();
        for command in ["collect --all", "daemon"] {
            let refused = common::adskew()
                .args(command.split(' '))
                .arg("--config")
                .arg(&settings)
                .arg("--db")
                .arg(&db)
                .assert()
                .code(2)
                .get_output()
                .clone();
            let said = stderr(&refused);
            assert!(said.contains(names) && said.contains(fix), "{text}: {said}");
        }
    }
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, [std::ffi::OsString::from("adskew.toml")]);
}
