//! Experiment validation as a researcher meets it: `adskew validate` (and `run`) on good and
//! bad files. Every bad file must exit 2, name the field path, and write nothing.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

/// A small valid experiment; bad files are made from it by text edits.
const BASE: &str = r#"
name = "base"
spend_cap = 100.0

[schedule]
duration_days = 2

[audience]
countries = ["US"]

[[ads]]
key = "a"
headline = "Jobs"
body = "Apply"
link = "https://example.org/a"
daily_budget = 10.0

[[ads]]
key = "b"
headline = "Jobs"
body = "Apply"
link = "https://example.org/b"
daily_budget = 10.0

[[comparisons]]
key = "a-vs-b"
ads = ["a", "b"]

[collect]
breakdowns = ["gender", "age"]
"#;

fn adskew() -> Command {
    let mut cmd = Command::cargo_bin("adskew").unwrap();
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("ADSKEW_")) {
        cmd.env_remove(k);
    }
    cmd
}

fn write(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("experiment.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "base contains {from:?}");
    BASE.replacen(from, to, 1)
}

/// Asserts that validating `text` exits 2 and stderr names each of `expected`.
fn rejects(text: &str, expected: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), text);
    let out = adskew()
        .arg("validate")
        .arg(&file)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("experiment.toml"),
        "names the file: {stderr}"
    );
    for needle in expected {
        assert!(stderr.contains(needle), "expected {needle:?} in:\n{stderr}");
    }
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "nothing written next to the file"
    );
}

#[test]
fn bundled_examples_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            adskew()
                .arg("validate")
                .arg(&path)
                .assert()
                .success()
                .stdout(predicate::str::contains("valid"));
            n += 1;
        }
    }
    assert!(n >= 2);
}

#[test]
fn base_is_valid() {
    let tmp = tempfile::tempdir().unwrap();
    adskew()
        .arg("validate")
        .arg(write(tmp.path(), BASE))
        .assert()
        .success();
}

#[test]
fn syntax_errors_name_the_line() {
    rejects(
        &edit("duration_days = 2", "duration_days = = 2"),
        &["line 6", "TOML syntax"],
    );
}

#[test]
fn money_fields_are_checked() {
    rejects(
        &edit("spend_cap = 100.0\n", ""),
        &["spend_cap: is required"],
    );
    rejects(
        &edit("spend_cap = 100.0", "spend_cap = 0"),
        &["spend_cap: must be positive"],
    );
    rejects(
        &edit("spend_cap = 100.0", "spend_cap = -5.0"),
        &["spend_cap: must be positive"],
    );
    let second = BASE.rmatch_indices("daily_budget = 10.0").next().unwrap().0;
    let mut text = BASE.to_string();
    text.replace_range(
        second..second + "daily_budget = 10.0".len(),
        "daily_budget = -1.0",
    );
    rejects(&text, &["ads[1].daily_budget: must be positive"]);
    rejects(
        &edit(
            "daily_budget = 10.0",
            "daily_budget = 10.0\nlifetime_budget = 50.0",
        ),
        &["ads[0].daily_budget", "both"],
    );
    rejects(
        &edit("daily_budget = 10.0", "daily_budget = 10.005"),
        &["ads[0].daily_budget", "decimals"],
    );
}

#[test]
fn references_between_sections_are_checked() {
    rejects(
        &edit("ads = [\"a\", \"b\"]", "ads = [\"a\", \"c\"]"),
        &["comparisons[0].ads[1]", "no ad has key `c`"],
    );
    rejects(
        &edit("ads = [\"a\", \"b\"]", "ads = [\"a\"]"),
        &["comparisons[0].ads", "at least two"],
    );
    rejects(
        &edit(
            "ads = [\"a\", \"b\"]",
            "ads = [\"a\", \"b\"]\nexpected = { ad = \"z\", group = \"female\" }",
        ),
        &[
            "comparisons[0].expected.ad",
            "not one of this comparison's ads",
        ],
    );
    rejects(
        &format!("{BASE}\n[sim.ads.zz]\ngender = {{ female = 2.0 }}\n"),
        &["sim.ads.zz", "no ad has key"],
    );
    rejects(
        &edit("key = \"b\"", "key = \"a\""),
        &["ads[1].key", "used by another ad"],
    );
    rejects(
        &edit("key = \"b\"", "key = \"Bad Key\""),
        &["ads[1].key", "not a valid key"],
    );
}

#[test]
fn vocabulary_is_checked() {
    rejects(
        &edit(
            "breakdowns = [\"gender\", \"age\"]",
            "breakdowns = [\"gender\", \"race\"]",
        ),
        &[
            "collect.breakdowns[1]",
            "unknown breakdown `race`",
            "gender, age, region",
        ],
    );
    rejects(
        &format!("{BASE}metrics = [\"reach\", \"likes\"]\n"),
        &["collect.metrics[1]", "unknown metric"],
    );
    rejects(
        &format!("{BASE}\n[analysis]\ncorrection = \"sidak\"\nalpha = 0.7\n"),
        &["analysis.correction", "holm", "analysis.alpha"],
    );
    rejects(
        &edit(
            "countries = [\"US\"]",
            "countries = [\"US\"]\nage_min = 40\nage_max = 30",
        ),
        &["audience.age_min", "above age_max"],
    );
    rejects(
        &edit("duration_days = 2", ""),
        &["schedule", "needs a duration"],
    );
    rejects(
        &format!("{BASE}\n[sim]\ngender = {{ female = 0.6, male = 0.6 }}\n"),
        &["sim.gender", "sum to 1.2"],
    );
}

#[test]
fn unknown_fields_and_wrong_types_are_named() {
    rejects(
        &edit("spend_cap = 100.0", "spend_cap = 100.0\nspend_capp = 3"),
        &["spend_capp: unknown field", "did you mean `spend_cap`"],
    );
    rejects(
        &edit(
            "duration_days = 2",
            "duration_days = 2\ncolect_every_hours = 6",
        ),
        &["schedule.colect_every_hours", "collect_every_hours"],
    );
    rejects(
        &edit("duration_days = 2", "duration_days = \"two\""),
        &["schedule.duration_days", "wrong type"],
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = edit("spend_cap = 100.0", "spend_cap = -1.0")
        .replacen("ads = [\"a\", \"b\"]", "ads = [\"a\", \"nope\"]", 1)
        .replacen(
            "breakdowns = [\"gender\", \"age\"]",
            "breakdowns = [\"dma\"]",
            1,
        )
        .replacen("daily_budget = 10.0", "daily_budget = 0.0", 1);
    rejects(
        &text,
        &[
            "4 problems",
            "spend_cap",
            "comparisons[0].ads[1]",
            "collect.breakdowns[0]",
            "ads[0].daily_budget",
        ],
    );
}

#[test]
fn a_low_spend_cap_is_a_warning_not_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), &edit("spend_cap = 100.0", "spend_cap = 5.0"));
    adskew()
        .arg("validate")
        .arg(&file)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: spend_cap 5.00 USD is below the 40.00 USD",
        ));
}

#[test]
fn run_with_bad_input_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), &edit("spend_cap = 100.0", "spend_cap = 0"));
    let db = tmp.path().join("db/a.db");
    let out = tmp.path().join("out");
    adskew()
        .arg("run")
        .arg(&file)
        .arg("--db")
        .arg(&db)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    assert!(
        !db.exists() && !db.parent().unwrap().exists(),
        "no database"
    );
    assert!(!out.exists(), "no report directory");
    // A platform this version cannot drive is refused before anything is created.
    let meta = write(
        tmp.path(),
        &edit("name = \"base\"", "name = \"base\"\nplatform = \"meta\""),
    );
    adskew()
        .arg("run")
        .arg(&meta)
        .arg("--db")
        .arg(&db)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Nothing was created"));
    assert!(!db.exists());
    adskew()
        .arg("validate")
        .arg(tmp.path().join("missing.toml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read"));
}

#[test]
fn environment_overrides_are_applied_and_limited_to_experiment_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), BASE);
    adskew()
        .arg("validate")
        .arg(&file)
        .env("ADSKEW_SPEND_CAP", "-1")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("spend_cap: must be positive"));
    adskew()
        .arg("validate")
        .arg(&file)
        .env("ADSKEW_SIM__SEED", "7")
        .assert()
        .success();
    adskew()
        .arg("validate")
        .arg(&file)
        .env("ADSKEW_SCHEDULE__DURATION_DAYS", "0")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("schedule.duration_days"));
    adskew()
        .arg("validate")
        .arg(&file)
        .env("ADSKEW_DB", "elsewhere.db")
        .env("ADSKEW_META_TOKEN", "x")
        .assert()
        .success();
}
