//! Shared by the integration tests that drive the built binary.

use assert_cmd::Command;

/// The `adskew` binary with a clean environment: no `ADSKEW_*` override or `RUST_LOG` from
/// the developer's shell may leak into what a test checks.
pub fn adskew() -> Command {
    let mut cmd = Command::cargo_bin("adskew").unwrap();
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("ADSKEW_")) {
        cmd.env_remove(k);
    }
    cmd.env_remove("RUST_LOG");
    cmd
}

/// `adskew ARGS` in `dir`, with no settings file of the user's (`HOME` points nowhere).
#[allow(dead_code)]
pub fn adskew_in(dir: &std::path::Path, args: &[&str]) -> assert_cmd::assert::Assert {
    adskew()
        .current_dir(dir)
        .env("HOME", "/nonexistent")
        .args(args)
        .assert()
}

/// What a finished command printed on stdout.
#[allow(dead_code)]
pub fn stdout_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

/// What a finished command printed on stderr.
#[allow(dead_code)]
pub fn stderr_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stderr.clone()).unwrap()
}

/// Runs `campaigns/<campaign>` on the simulator with its database and reports in `tmp`
/// (`a.db`, `results/`) and returns the directory of its report.
#[allow(dead_code)]
pub fn run_campaign(campaign: &str, tmp: &std::path::Path) -> std::path::PathBuf {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("campaigns")
        .join(campaign);
    let text = std::fs::read_to_string(&file).unwrap();
    let name = text
        .lines()
        .find_map(|l| l.strip_prefix("name = "))
        .map(|n| n.trim().trim_matches('"').to_string())
        .unwrap();
    adskew()
        .arg("run")
        .arg(&file)
        .arg("--db")
        .arg(tmp.join("a.db"))
        .arg("--out")
        .arg(tmp.join("results"))
        .assert()
        .success();
    tmp.join("results").join(name)
}

/// The scipy/statsmodels reference values of `scripts/gen_stat_fixtures.py`
/// (tests/fixtures/statistics.json), for the tests that check statistics through the CLI.
#[allow(dead_code)]
pub fn stat_fixtures() -> serde_json::Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/statistics.json"
    ))
    .expect("tests/fixtures/statistics.json is committed");
    serde_json::from_str(&text).expect("the fixtures are JSON")
}

/// The two-ad z-test of a comparison in `results.json` (it sits in the breakdown of the
/// group it tests), or `null`.
#[allow(dead_code)]
pub fn z_test(comparison: &serde_json::Value) -> &serde_json::Value {
    comparison["breakdowns"]
        .as_array()
        .and_then(|bs| bs.iter().find(|b| !b["z_test"].is_null()))
        .map_or(&serde_json::Value::Null, |b| &b["z_test"])
}

/// `adskew mock-server` as a child process and the binary configured to use it (for the
/// tests that drive `platform = "meta"` through the CLI).
/// A whole run of `exp` on `platform` into a store in memory: its analysis and the store.
#[allow(dead_code)]
pub async fn run_on(
    exp: &adskew::experiment::Experiment,
    platform: &dyn adskew::platform::Platform,
    clock: &dyn adskew::clock::Clock,
) -> (adskew::analysis::Analysis, adskew::store::Store) {
    let mut store = adskew::store::Store::open_in_memory().unwrap();
    let outcome = adskew::scheduler::run(exp, platform, clock, &mut store, &())
        .await
        .unwrap();
    let record = store
        .find_experiment(&outcome.experiment_id.to_string())
        .unwrap();
    let analysis = adskew::analysis::analyze(&adskew::analysis_inputs(&store, &record).unwrap());
    (analysis, store)
}

#[allow(dead_code)]
pub mod mock {
    use std::net::TcpListener;
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command as StdCommand, Stdio};
    use std::time::{Duration, Instant};

    use assert_cmd::cargo::CommandCargoExt;
    use assert_cmd::Command;
    use serde_json::Value;

    pub fn example() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns/imana2021_paired_jobs.toml")
    }

    /// The mock server as a child process (`.1` is its base URL), killed when dropped.
    pub struct MockServer(pub Child, pub String);

    impl Drop for MockServer {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    pub fn get_json(url: &str) -> Value {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() })
    }

    /// Serves the simulator with the paired example's ground truth, from a fixed start.
    pub fn start_mock() -> MockServer {
        start_mock_with(None)
    }

    /// [`start_mock`] with a fault file (`adskew mock-server --faults FILE`).
    pub fn start_mock_with(faults: Option<&Path>) -> MockServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = StdCommand::cargo_bin("adskew").unwrap();
        command
            .args([
                "mock-server",
                "--addr",
                &format!("127.0.0.1:{port}"),
                "--start",
                "2026-03-02T00:00:00Z",
                "--truth",
            ])
            .arg(example());
        if let Some(f) = faults {
            command.arg("--faults").arg(f);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "mock server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        MockServer(child, base)
    }

    /// The binary, set up for the mock's Graph API as a `meta` account.
    pub fn adskew(base: &str) -> Command {
        let mut cmd = super::adskew();
        cmd.env("ADSKEW_PLATFORM", "meta")
            .env("ADSKEW_META__BASE_URL", base)
            .env("ADSKEW_META__MOCK_CLOCK", "true")
            .env("ADSKEW_META__AD_ACCOUNT_ID", "act_1000")
            .env("ADSKEW_META__PAGE_ID", "2000")
            .env("ADSKEW_META_TOKEN", "cli-test-token")
            .env("ADSKEW_META__MAX_CALLS_PER_SECOND", "1000")
            .env("HOME", "/nonexistent");
        cmd
    }
}
