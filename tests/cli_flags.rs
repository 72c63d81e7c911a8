//! Flags are honoured or refused, never ignored: `--config` names the settings file for
//! every command that reads one; `collect` takes a run or `--all`, never both and never
//! neither; `resume --quiet` is accepted.

mod common;

use common::adskew_in as in_empty;

use std::path::Path;

/// A run of the pilot in `tmp/a.db` and a settings file elsewhere naming that database.
fn run_and_settings(tmp: &Path) -> std::path::PathBuf {
    common::run_campaign("pilot_two_ads.toml", tmp);
    let settings = tmp.join("elsewhere.toml");
    let db = tmp.join("a.db");
    std::fs::write(
        &settings,
        format!("database = {:?}\n", db.to_str().unwrap()),
    )
    .unwrap();
    settings
}

#[test]
fn config_names_the_database_of_status_analyze_and_report() {
    let tmp = tempfile::tempdir().unwrap();
    let settings = run_and_settings(tmp.path());
    let settings = settings.to_str().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();

    let status = in_empty(&empty, &["status", "--config", settings]).success();
    let text = String::from_utf8(status.get_output().stdout.clone()).unwrap();
    assert!(text.contains("pilot-two-ads"), "{text}");

    let analysis = in_empty(
        &empty,
        &["analyze", "pilot-two-ads", "--json", "--config", settings],
    )
    .success();
    let json: serde_json::Value = serde_json::from_slice(&analysis.get_output().stdout).unwrap();
    assert_eq!(json["experiment"]["name"], "pilot-two-ads");

    let out = tmp.path().join("out");
    in_empty(
        &empty,
        &[
            "report",
            "pilot-two-ads",
            "--format",
            "json",
            "--out",
            out.to_str().unwrap(),
            "--config",
            settings,
        ],
    )
    .success();
    assert!(out.join("pilot-two-ads").join("results.json").is_file());

    // Without it the same commands look for results/adskew.db here, which is not there.
    in_empty(&empty, &["analyze", "pilot-two-ads"]).failure();
}

#[test]
fn config_that_cannot_be_read_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing.toml");
    for command in ["status", "collect --all", "daemon", "doctor"] {
        let mut args: Vec<&str> = command.split(' ').collect();
        args.extend(["--config", missing.to_str().unwrap()]);
        let out = in_empty(tmp.path(), &args).code(2);
        let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert!(
            stderr.contains("cannot read settings file"),
            "{command}: {stderr}"
        );
    }
}

#[test]
fn collect_takes_a_run_or_all_not_both_nor_neither() {
    let tmp = tempfile::tempdir().unwrap();
    common::run_campaign("pilot_two_ads.toml", tmp.path());
    let db = tmp.path().join("a.db");
    let db = db.to_str().unwrap();

    let both = in_empty(
        tmp.path(),
        &["collect", "--all", "pilot-two-ads", "--db", db],
    )
    .code(2);
    let stderr = String::from_utf8(both.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("cannot be used with"), "{stderr}");

    let neither = in_empty(tmp.path(), &["collect", "--db", db]).code(2);
    let stderr = String::from_utf8(neither.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("--all"), "{stderr}");

    // --all: every unfinished run, and the pilot finished on the simulator.
    let all = in_empty(tmp.path(), &["collect", "--all", "--db", db]).success();
    let stdout = String::from_utf8(all.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("No unfinished runs"), "{stdout}");
    // A run named: that run, even when it is finished.
    let one = in_empty(tmp.path(), &["collect", "pilot-two-ads", "--db", db]).success();
    let stdout = String::from_utf8(one.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("pilot-two-ads"), "{stdout}");
}

#[test]
fn resume_takes_quiet() {
    let tmp = tempfile::tempdir().unwrap();
    common::run_campaign("pilot_two_ads.toml", tmp.path());
    let db = tmp.path().join("a.db");
    for quiet in ["--quiet", "-q"] {
        let out = in_empty(
            tmp.path(),
            &[
                "resume",
                "pilot-two-ads",
                quiet,
                "--db",
                db.to_str().unwrap(),
            ],
        )
        .success();
        let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        assert!(stdout.contains("nothing to resume"), "{stdout}");
    }
}
