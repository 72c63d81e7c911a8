//! The conventions a user expects of a command-line tool: `--json` on every command that
//! prints results or state (and failures as JSON too), contradictory flags and values out
//! of bounds refused naming the flag and the fix, colour only on a terminal, completions,
//! manual pages and a `--version` that says which commit was built.

mod common;

use common::{adskew_in, stderr_of as stderr, stdout_of as stdout};

use std::path::Path;

use serde_json::Value;

fn json(assert: &assert_cmd::assert::Assert) -> Value {
    let text = stdout(assert);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn campaign(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("campaigns")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn commands_that_print_state_print_it_as_json() {
    let tmp = tempfile::tempdir().unwrap();
    common::run_campaign("pilot_two_ads.toml", tmp.path());
    let db = tmp.path().join("a.db");
    let db = db.to_str().unwrap();
    let dir = tmp.path();

    let valid = json(
        &adskew_in(
            dir,
            &["validate", &campaign("pilot_two_ads.toml"), "--json"],
        )
        .success(),
    );
    assert_eq!(valid["valid"], true);
    assert_eq!(valid["name"], "pilot-two-ads");
    assert_eq!(valid["ads"], 2);
    assert_eq!(valid["spend_cap"], "20.00");

    let status = json(&adskew_in(dir, &["status", "--db", db, "--json"]).success());
    let run = &status["runs"][0];
    assert_eq!(run["experiment"], "pilot-two-ads");
    assert_eq!(run["state"], "completed");
    assert_eq!(run["platform"], "sim");
    assert!(run["collections"].as_u64().unwrap() > 0, "{status}");

    let collect =
        json(&adskew_in(dir, &["collect", "pilot-two-ads", "--db", db, "--json"]).success());
    assert_eq!(collect["runs"][0]["outcome"], "finished");
    assert_eq!(collect["runs"][0]["state"], "completed");

    let out = tmp.path().join("out");
    let report = json(
        &adskew_in(
            dir,
            &[
                "report",
                "pilot-two-ads",
                "--db",
                db,
                "--format",
                "json",
                "--out",
                out.to_str().unwrap(),
                "--json",
            ],
        )
        .success(),
    );
    let files = report["files"].as_array().unwrap();
    assert!(
        files
            .iter()
            .any(|f| f.as_str().unwrap().ends_with("results.json")),
        "{report}"
    );

    let analytic =
        json(&adskew_in(dir, &["plan", "--p1", "0.5", "--p2", "0.55", "--json"]).success());
    assert_eq!(analytic["alternative"], "two-sided");
    assert_eq!(analytic["n1"], 1565.0);
    let simulated = json(
        &adskew_in(
            dir,
            &[
                "plan",
                &campaign("pilot_two_ads.toml"),
                "--replicates",
                "2",
                "--json",
            ],
        )
        .success(),
    );
    assert_eq!(simulated["replicates"], 2);
}

/// `validate --json` on an invalid file: its problems one by one, as its result, and exit
/// code 2; other commands keep stdout empty when they fail.
#[test]
fn an_invalid_experiment_under_json_lists_its_problems() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.toml");
    let text = std::fs::read_to_string(campaign("pilot_two_ads.toml"))
        .unwrap()
        .replace("spend_cap = 20", "spend_cap = -5");
    assert!(
        text.contains("spend_cap = -5"),
        "the pilot's spend cap moved"
    );
    std::fs::write(&bad, text).unwrap();
    let failed = adskew_in(tmp.path(), &["validate", bad.to_str().unwrap(), "--json"]).code(2);
    let result = json(&failed);
    assert_eq!(result["valid"], false);
    let problems = result["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["path"].as_str().unwrap().contains("spend_cap")),
        "{result}"
    );

    let missing = tmp.path().join("none.db");
    let failed = adskew_in(
        tmp.path(),
        &["status", "--db", missing.to_str().unwrap(), "--json"],
    )
    .code(2);
    assert!(stdout(&failed).is_empty());
    assert!(stderr(&failed).contains("none.db"));
    assert!(!missing.exists());
}

/// Flags that contradict each other, or values out of bounds, are refused with exit 2, the
/// flag named and what to give instead; nothing is run.
#[test]
fn contradictory_flags_and_values_out_of_bounds_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cases: &[(&[&str], &str)] = &[
        (&["analyze", "x", "--yates", "--no-yates"], "--no-yates"),
        (&["collect", "x", "--wait", "-1"], "--wait"),
        (&["stop", "x", "--wait", "soon"], "--wait"),
        (
            &["daemon", "--max-sleep-minutes", "0"],
            "--max-sleep-minutes",
        ),
        (
            &["plan", "f.toml", "--replicates", "100000000000"],
            "--replicates",
        ),
        (&["plan", "f.toml", "--replicates", "0"], "--replicates"),
        (
            &[
                "plan",
                "--p1",
                "0.5",
                "--p2",
                "0.55",
                "--n",
                "2000",
                "--alternative",
                "larger",
            ],
            "--alternative smaller",
        ),
        (
            &[
                "plan",
                "--p1",
                "0.5",
                "--p2",
                "0.55",
                "--alternative",
                "larger",
            ],
            "--alternative smaller",
        ),
        (
            &[
                "plan",
                "--p1",
                "0.6",
                "--p2",
                "0.55",
                "--alternative",
                "smaller",
            ],
            "--alternative larger",
        ),
        (&["plan", "--p1", "0.5", "--p2", "0.5"], "no difference"),
        (&["plan", "--p1", "0.5", "--p2", "0.55", "--n", "-3"], "--n"),
        (&["collect"], "--all"),
    ];
    for (args, names) in cases {
        let failed = adskew_in(dir, args).code(2);
        let message = stderr(&failed);
        assert!(message.contains(names), "{args:?}: {message}");
        assert!(stdout(&failed).is_empty(), "{args:?} printed a result");
    }
    assert_eq!(
        std::fs::read_dir(dir).unwrap().count(),
        0,
        "a refused command wrote something"
    );
}

/// The analytic plan speaks the flags' language, not the program's (`two-sided`, not
/// `TwoSided`).
#[test]
fn the_analytic_plan_names_the_alternative_as_the_flag_does() {
    let tmp = tempfile::tempdir().unwrap();
    let out = stdout(
        &adskew_in(
            tmp.path(),
            &[
                "plan",
                "--p1",
                "0.55",
                "--p2",
                "0.5",
                "--alternative",
                "larger",
            ],
        )
        .success(),
    );
    assert!(out.contains("(larger, alpha = 0.05"), "{out}");
    let out = stdout(
        &adskew_in(
            tmp.path(),
            &["plan", "--p1", "0.5", "--p2", "0.55", "--n", "2000"],
        )
        .success(),
    );
    assert!(
        out.contains("two-sided") && !out.contains("TwoSided"),
        "{out}"
    );
}

/// `analyze --expected` shows, in text too, each ad against the composition given.
#[test]
fn expected_composition_is_reported_in_text() {
    let tmp = tempfile::tempdir().unwrap();
    common::run_campaign("pilot_two_ads.toml", tmp.path());
    let db = tmp.path().join("a.db");
    let out = adskew_in(
        tmp.path(),
        &[
            "analyze",
            "pilot-two-ads",
            "--db",
            db.to_str().unwrap(),
            "--expected",
            "female=0.3,male=0.7",
        ],
    )
    .success();
    let text = stdout(&out);
    assert!(
        text.contains("goodness of fit") && text.contains("(command line)"),
        "{text}"
    );
}

/// Logs that go to a file (cron's mail, a systemd journal) are plain text.
#[test]
fn logs_written_to_a_file_carry_no_colour_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let run = common::adskew()
        .args(["-v", "run", &campaign("pilot_two_ads.toml"), "--quiet"])
        .arg("--db")
        .arg(tmp.path().join("a.db"))
        .arg("--out")
        .arg(tmp.path().join("results"))
        .assert()
        .success();
    let log = stderr(&run);
    assert!(log.contains("INFO"), "no log line to check: {log}");
    assert!(
        !log.contains('\u{1b}'),
        "escape codes in a log written to a file: {log:?}"
    );
}

#[test]
fn completions_man_pages_and_version() {
    let tmp = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let script = stdout(&adskew_in(tmp.path(), &["completions", shell]).success());
        for command in ["validate", "run", "collect", "report", "mock-server"] {
            assert!(
                script.contains(command),
                "{shell} completion lacks {command}"
            );
        }
    }
    let man = tmp.path().join("man");
    adskew_in(tmp.path(), &["man", "--out", man.to_str().unwrap()]).success();
    for page in [
        "adskew.1",
        "adskew-run.1",
        "adskew-collect.1",
        "adskew-audience-upload.1",
    ] {
        let text = std::fs::read_to_string(man.join(page)).unwrap();
        assert!(
            text.starts_with(".ie") || text.contains(".TH"),
            "{page} is not a man page"
        );
    }
    let run_page = std::fs::read_to_string(man.join("adskew-run.1")).unwrap();
    assert!(
        run_page.contains("\\-\\-live"),
        "the run page misses --live"
    );

    let version = stdout(&adskew_in(tmp.path(), &["--version"]).success());
    assert!(version.contains(env!("CARGO_PKG_VERSION")), "{version}");
    assert!(
        version.contains("commit ") && version.contains("built 20"),
        "{version}"
    );
}

/// `import --json`: the run, and each file's snapshot and collection.
#[test]
fn import_says_what_it_stored_as_json() {
    let tmp = tempfile::tempdir().unwrap();
    let export = tmp.path().join("2020-08-26_18:00.csv");
    let mut text = "\"Ad Name\",Gender,Reach,Impressions,\"Amount Spent (USD)\",\"Reporting Starts\",\"Reporting Ends\"\n".to_string();
    for ad in ["Nurse", "Lumberjack"] {
        text += &format!("{ad},female,30,40,1.5,2020-08-01,2020-08-26\n{ad},male,50,60,1.5,2020-08-01,2020-08-26\n");
    }
    std::fs::write(&export, text).unwrap();
    let db = tmp.path().join("a.db");
    let args = [
        "import",
        export.to_str().unwrap(),
        "--experiment",
        "aw",
        "--db",
        db.to_str().unwrap(),
        "--json",
    ];
    let first = json(&adskew_in(tmp.path(), &args).success());
    assert_eq!(first["experiment"], "aw");
    assert_eq!(first["run"], 1);
    assert_eq!(first["files"][0]["snapshot_at"], "2020-08-26T18:00:00Z");
    assert_eq!(first["files"][0]["ads"], 2);
    // Again: nothing new, said in the notes, no run touched.
    let again = json(&adskew_in(tmp.path(), &args).success());
    assert!(
        again["run"].is_null() && again["files"].as_array().unwrap().is_empty(),
        "{again}"
    );
    assert!(
        again["notes"][0]
            .as_str()
            .unwrap()
            .contains("already imported"),
        "{again}"
    );
}

/// `doctor --json`: every check with its level, and the exit code of a failed check.
#[test]
fn doctor_reports_its_checks_as_json() {
    use common::mock::{adskew, start_mock_with};
    let dir = tempfile::tempdir().unwrap();
    let faults = dir.path().join("faults.toml");
    std::fs::write(&faults, "[account]\naccount_status = 2\n").unwrap();
    let mock = start_mock_with(Some(&faults));
    let out = adskew(&mock.1)
        .current_dir(dir.path())
        .args(["doctor", "--json"])
        .assert()
        .code(1);
    let report = json(&out);
    let checks = report["checks"].as_array().unwrap();
    let account = checks
        .iter()
        .find(|c| c["name"] == "ad account")
        .expect("an ad account check");
    assert_eq!(account["level"], "fail", "{report}");
    assert!(
        checks
            .iter()
            .any(|c| c["name"] == "token" && c["level"] == "ok"),
        "{report}"
    );
}
