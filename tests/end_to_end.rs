//! The whole pipeline through the built binary: run an example experiment on the simulator
//! into a temporary directory, then check the report a researcher would open.

mod common;
use common::adskew;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("campaigns")
        .join(name)
}

fn run(file: &str, dir: &Path, env: &[(&str, &str)]) -> String {
    let mut cmd = adskew();
    cmd.args(["run", "--quiet"])
        .arg(example(file))
        .arg("--db")
        .arg(dir.join("a.db"))
        .arg("--out")
        .arg(dir.join("out"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.assert().success().get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

fn results(dir: &Path, name: &str) -> Value {
    let text = std::fs::read_to_string(dir.join("out").join(name).join("results.json")).unwrap();
    serde_json::from_str(&text).expect("results.json parses")
}

#[test]
fn paired_example_finds_the_ground_truth_skew() {
    let tmp = tempfile::tempdir().unwrap();
    let stdout = run("imana2021_paired_jobs.toml", tmp.path(), &[]);
    let dir = tmp.path().join("out/imana2021-paired-jobs");
    assert!(
        stdout.contains("Report:") && stdout.contains("report.html"),
        "{stdout}"
    );
    for file in [
        "report.html",
        "report.md",
        "results.json",
        "delivery-driver-gender-female.svg",
        "delivery-driver-gender-female.png",
        "software-engineer-gender-female.svg",
        "software-engineer-gender-female.png",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    let png = std::fs::read(dir.join("delivery-driver-gender-female.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

    let r = results(tmp.path(), "imana2021-paired-jobs");
    assert_eq!(r["adskew_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(r["experiment"]["file_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(r["experiment"]["state"], "completed");
    // The simulator's ground truth makes women likelier to be shown the Instacart and
    // Netflix ads; the pipeline must find both skews, significant and in that direction.
    for c in r["comparisons"].as_array().unwrap() {
        let paired = common::z_test(c);
        assert_eq!(paired["direction_as_expected"], true, "{}", c["key"]);
        assert_eq!(paired["reject"], true, "{}", c["key"]);
        assert!(paired["share1"].as_f64().unwrap() > paired["share2"].as_f64().unwrap());
        let gender = c["breakdowns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["breakdown"] == "gender")
            .unwrap();
        assert_eq!(gender["reject"], true);
        assert_eq!(
            gender["groups"],
            serde_json::json!(["female", "male"]),
            "unknown gender is kept out of the test"
        );
        assert!(
            gender["excluded"]
                .as_array()
                .unwrap()
                .iter()
                .all(|x| x.as_u64().unwrap() > 0),
            "unknown gender is reported"
        );
    }
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("a significant difference"));
    assert!(
        !report.contains("p = 0 ") && !report.contains("p = 0.000"),
        "never prints p = 0"
    );
}

/// Ali et al.'s design: many ads, one comparison of all of them. The observed ranking of the
/// share of women must follow the ground truth's female/male engagement ratio.
#[test]
fn many_ad_example_ranks_ads_like_the_ground_truth() {
    let tmp = tempfile::tempdir().unwrap();
    run("ali2019_job_ads.toml", tmp.path(), &[]);
    let r = results(tmp.path(), "ali2019-job-ads");
    let all = r["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "all-jobs")
        .unwrap();
    let gender = &all["breakdowns"][0];
    assert_eq!(gender["breakdown"], "gender");
    assert_eq!(gender["reject"], true);
    let share_of = |ad: &str| {
        gender["shares"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["ad"] == ad && s["group"] == "female")
            .unwrap()["share"]
            .as_f64()
            .unwrap()
    };
    // female/male engagement ratios in the experiment's [sim] section, ascending.
    let by_truth = [
        "lumber",
        "taxi_driver",
        "ai_developer",
        "janitor",
        "secretary",
        "supermarket_cashier",
        "preschool_teacher",
    ];
    for pair in by_truth.windows(2) {
        assert!(
            share_of(pair[0]) < share_of(pair[1]),
            "{} should reach fewer women than {}",
            pair[0],
            pair[1]
        );
    }
    assert!(
        share_of("lumber") < 0.15,
        "lumber ads go overwhelmingly to men"
    );
    assert!(share_of("supermarket_cashier") > 0.75);
    // Every ad has a point on the chart.
    let svg = std::fs::read_to_string(
        tmp.path()
            .join("out/ali2019-job-ads/all-jobs-gender-female.svg"),
    )
    .unwrap();
    assert_eq!(
        svg.matches("<circle").count(),
        8 + 1,
        "one point per ad plus the legend marker"
    );
    for ad in by_truth {
        assert!(svg.contains(ad), "{ad} labelled");
    }
}

#[test]
fn same_seed_same_numbers_and_reports_regenerate_identically() {
    let tmp = tempfile::tempdir().unwrap();
    run("imana2021_paired_jobs.toml", tmp.path(), &[]);
    let first = results(tmp.path(), "imana2021-paired-jobs");
    let svg_path = tmp
        .path()
        .join("out/imana2021-paired-jobs/delivery-driver-gender-female.svg");
    let svg = std::fs::read(&svg_path).unwrap();

    // `report` regenerates from the store, byte for byte.
    adskew()
        .args(["report", "imana2021-paired-jobs", "--db"])
        .arg(tmp.path().join("a.db"))
        .arg("--out")
        .arg(tmp.path().join("out"))
        .assert()
        .success();
    assert_eq!(std::fs::read(&svg_path).unwrap(), svg);

    // `analyze --json` prints the same numbers as results.json.
    let out = adskew()
        .args(["analyze", "imana2021-paired-jobs", "--json", "--db"])
        .arg(tmp.path().join("a.db"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let analyzed: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(analyzed["comparisons"], first["comparisons"]);

    // A second run with the same seed delivers exactly the same counts.
    run("imana2021_paired_jobs.toml", tmp.path(), &[]);
    let second = results(tmp.path(), "imana2021-paired-jobs");
    assert_ne!(first["experiment"]["id"], second["experiment"]["id"]);
    assert_eq!(first["comparisons"], second["comparisons"]);

    // Another seed gives other counts.
    run(
        "imana2021_paired_jobs.toml",
        tmp.path(),
        &[("ADSKEW_SIM__SEED", "99")],
    );
    let third = results(tmp.path(), "imana2021-paired-jobs");
    assert_ne!(first["comparisons"], third["comparisons"]);

    let status = adskew()
        .args(["status", "--db"])
        .arg(tmp.path().join("a.db"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let status = String::from_utf8(status).unwrap();
    assert_eq!(
        status.matches("imana2021-paired-jobs").count(),
        3,
        "{status}"
    );
}

#[test]
fn spend_cap_pauses_everything() {
    let tmp = tempfile::tempdir().unwrap();
    // The budgets could spend 500 over five days; a cap of 150 is hit on day two.
    let stdout = run(
        "imana2021_paired_jobs.toml",
        tmp.path(),
        &[("ADSKEW_SPEND_CAP", "150")],
    );
    assert!(stdout.contains("stopped"), "{stdout}");
    let r = results(tmp.path(), "imana2021-paired-jobs");
    assert_eq!(r["experiment"]["state"], "stopped");
    assert_eq!(
        r["experiment"]["overrides"],
        serde_json::json!(["ADSKEW_SPEND_CAP=150"]),
        "the override is recorded with the run"
    );
    let spend = r["data"]["spend"].as_i64().unwrap();
    assert!(spend >= 15_000, "stopped at the cap, spend {spend}");
    assert!(
        spend < 25_000,
        "stopped within one collection of the cap, spend {spend}"
    );
    assert!(r["data"]["collections"].as_u64().unwrap() < 5);
    // The cause is recorded and reported.
    assert!(r["experiment"]["state_cause"]
        .as_str()
        .unwrap()
        .starts_with("spend cap reached"));
    let report =
        std::fs::read_to_string(tmp.path().join("out/imana2021-paired-jobs/report.md")).unwrap();
    assert!(
        report.contains("| State | stopped (spend cap reached"),
        "{report}"
    );
}

/// An optional daily cap across all ads stops the run when any one day reaches it.
#[test]
fn a_daily_spend_cap_stops_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    // Four ads of 25 a day spend up to 100 a day; a daily cap of 60 is reached on day one.
    let stdout = run(
        "imana2021_paired_jobs.toml",
        tmp.path(),
        &[("ADSKEW_DAILY_SPEND_CAP", "60")],
    );
    assert!(stdout.contains("stopped"), "{stdout}");
    let r = results(tmp.path(), "imana2021-paired-jobs");
    let cause = r["experiment"]["state_cause"].as_str().unwrap();
    assert!(cause.starts_with("daily spend cap reached"), "{cause}");
    assert_eq!(
        r["data"]["collections"].as_u64().unwrap(),
        2,
        "one, then the re-collection"
    );
}

#[test]
fn read_commands_on_a_missing_database_or_experiment_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("none.db");
    adskew()
        .args(["analyze", "x", "--db"])
        .arg(&db)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no database"));
    assert!(!db.exists(), "reading commands create nothing");
    run("imana2021_paired_jobs.toml", tmp.path(), &[]);
    adskew()
        .args(["report", "no-such-experiment", "--db"])
        .arg(tmp.path().join("a.db"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("imana2021-paired-jobs"));
}

/// The settings file's `database` is the default database for every command; `--db` wins.
#[test]
fn the_settings_file_names_the_default_database() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("adskew.toml"), "database = \"audit.db\"\n").unwrap();
    common::adskew()
        .current_dir(dir.path())
        .env("HOME", "/nonexistent")
        .args(["run", "--quiet"])
        .arg(example("pilot_two_ads.toml"))
        .assert()
        .success();
    assert!(dir.path().join("audit.db").exists());
    assert!(!dir.path().join("results/adskew.db").exists());
    // The run's structured log sits next to its database: one JSON object per line.
    let log = std::fs::read_to_string(dir.path().join("adskew.log")).unwrap();
    let events: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(events
        .iter()
        .any(|e| e["fields"]["message"] == "activated"
            && e["fields"]["experiment"] == "pilot-two-ads"));
    assert!(
        events
            .iter()
            .filter(|e| e["fields"]["message"] == "collected")
            .count()
            >= 14
    );
    let status = common::adskew()
        .current_dir(dir.path())
        .env("HOME", "/nonexistent")
        .arg("status")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(status).unwrap().contains("pilot"));
    common::adskew()
        .current_dir(dir.path())
        .env("HOME", "/nonexistent")
        .args(["status", "--db", "other.db"])
        .assert()
        .failure();
}

/// The platform revises recent days (the simulator's reporting noise fades over
/// `revision_days`): a day collected again lands as a new snapshot, the old one is kept,
/// and `delivery_latest` shows the final numbers.
#[test]
fn revised_days_land_as_new_snapshots_and_the_latest_view_shows_them() {
    let tmp = tempfile::tempdir().unwrap();
    run("pilot_two_ads.toml", tmp.path(), &[]);
    let conn = rusqlite::Connection::open(tmp.path().join("a.db")).unwrap();
    let snapshots: Vec<(i64, i64)> = conn
        .prepare(
            "SELECT collection_id, impressions FROM delivery
             WHERE ad_key = 'a' AND period = 'day' AND breakdown = 'gender' AND value = 'female'
               AND date_start = '2026-01-05' ORDER BY collection_id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        snapshots.len() >= 10,
        "collected again and again: {snapshots:?}"
    );
    let (first, last) = (snapshots[0].1, snapshots.last().unwrap().1);
    assert_ne!(first, last, "the first report was revised");
    let latest: i64 = conn
        .query_row(
            "SELECT impressions FROM delivery_latest
             WHERE ad_key = 'a' AND period = 'day' AND breakdown = 'gender' AND value = 'female'
               AND date_start = '2026-01-05'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(latest, last);
}

/// A rejected ad is named, with the platform's reason, by the run summary and `status`.
#[test]
fn status_names_an_ad_the_platform_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let reason = "Employment ads may not target by gender";
    let stdout = run(
        "imana2021_paired_jobs.toml",
        tmp.path(),
        &[("ADSKEW_SIM__ADS__NVIDIA_SWE__DISAPPROVED", reason)],
    );
    assert!(stdout.contains("`nvidia_swe` was rejected"), "{stdout}");
    let status = adskew()
        .args(["status", "--db"])
        .arg(tmp.path().join("a.db"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let status = String::from_utf8(status).unwrap();
    assert!(
        status.contains(&format!("ad nvidia_swe: DISAPPROVED: {reason}")),
        "{status}"
    );
}

/// Every breakdown of results.json carries the G-test, Fisher's exact test for 2 × 2 tables
/// and each ad's fit to the eligible audience, consistent with its table.
#[test]
fn results_carry_the_g_test_fisher_and_fit_to_the_eligible_audience() {
    let tmp = tempfile::tempdir().unwrap();
    run("imana2021_paired_jobs.toml", tmp.path(), &[]);
    let r = results(tmp.path(), "imana2021-paired-jobs");
    for c in r["comparisons"].as_array().unwrap() {
        let gender = c["breakdowns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["breakdown"] == "gender")
            .unwrap();
        let chi = gender["chi2"]["p_value"].as_f64().unwrap();
        let g = gender["g_test"]["p_value"].as_f64().unwrap();
        let fisher = gender["fisher"]["p_value"].as_f64().unwrap();
        // Thousands of people: the three tests agree on significance.
        assert_eq!(chi < 0.05, g < 0.05, "{}", c["key"]);
        assert_eq!(chi < 0.05, fisher < 0.05, "{}", c["key"]);
        let fits = gender["goodness_of_fit"].as_array().unwrap();
        assert_eq!(fits.len(), 2);
        let eligible: Vec<f64> = gender["eligible"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        for (fit, row) in fits.iter().zip(gender["table"].as_array().unwrap()) {
            let row: Vec<f64> = row
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            let n: f64 = row.iter().sum();
            let tvd: f64 = row
                .iter()
                .zip(&eligible)
                .map(|(o, e)| (o / n - e).abs())
                .sum::<f64>()
                / 2.0;
            assert!((fit["total_variation"].as_f64().unwrap() - tvd).abs() < 1e-12);
        }
    }
}

/// `analyze` options re-analyse the stored counts without touching the run: correction,
/// alpha, interval method and level, Yates, metric; a bad value exits 2 naming the flag.
#[test]
fn analyze_options_override_the_files_settings() {
    let tmp = tempfile::tempdir().unwrap();
    run("imana2021_paired_jobs.toml", tmp.path(), &[]);
    let analyze = |args: &[&str]| -> Value {
        let out = adskew()
            .args(["analyze", "imana2021-paired-jobs", "--json", "--db"])
            .arg(tmp.path().join("a.db"))
            .args(args)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice(&out).unwrap()
    };
    let gender = |r: &Value| -> Value {
        r["comparisons"][0]["breakdowns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["breakdown"] == "gender")
            .unwrap()
            .clone()
    };
    let default = analyze(&[]);
    let custom = analyze(&[
        "--correction",
        "none",
        "--alpha",
        "0.01",
        "--ci",
        "clopper-pearson",
        "--level",
        "0.99",
        "--yates",
        "--metric",
        "impressions",
    ]);
    let s = &custom["settings"];
    assert_eq!(s["correction"], "none");
    assert_eq!(s["alpha"], 0.01);
    assert_eq!(s["ci"], "clopper-pearson");
    assert_eq!(s["ci_level"], 0.99);
    assert_eq!(s["metric"], "impressions");
    let g = gender(&custom);
    // Without a correction the adjusted p is the p; Yates is applied to the 2 × 2 table.
    assert_eq!(g["adjusted_p_value"], g["chi2"]["p_value"]);
    assert_eq!(g["chi2"]["yates"], true);
    // Impressions outnumber people.
    let count = |r: &Value| r["table"][0][0].as_u64().unwrap();
    assert!(count(&g) > count(&gender(&default)));
    // Wider intervals at 99% than at 95% on the same counts.
    let width = |b: &Value| {
        let s = &b["shares"][0];
        s["ci"]["high"].as_f64().unwrap() - s["ci"]["low"].as_f64().unwrap()
    };
    let impressions_95 = gender(&analyze(&[
        "--metric",
        "impressions",
        "--ci",
        "clopper-pearson",
    ]));
    assert!(width(&g) > width(&impressions_95) * 1.2);

    adskew()
        .args(["analyze", "imana2021-paired-jobs", "--alpha", "2", "--db"])
        .arg(tmp.path().join("a.db"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--alpha"));
}
