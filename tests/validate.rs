//! Experiment validation as a user sees it: `adskew validate` (and `adskew run`) on good and
//! bad files, through the built binary. Every bad file is the small valid `BASE` below with
//! one text edit (or a few), and every check asserts exit code 2 plus a problem line that
//! names the exact field path and says what is wrong.

mod common;
use common::adskew;
use std::path::{Path, PathBuf};

use predicates::prelude::*;

/// A small valid experiment; every bad file is derived from it by text edits.
const BASE: &str = r#"name = "validate-test"
platform = "sim"
currency = "USD"
spend_cap = 100.0
objective = "traffic"
category = "employment"

[schedule]
start = "2026-01-05T00:00:00Z"
duration_days = 2
collect_every_hours = 24

[audience]
countries = ["US"]
age_min = 18
age_max = 65

[[ads]]
key = "ad_a"
headline = "Jobs at A"
body = "Apply today."
link = "https://example.org/a"
daily_budget = 10.0

[[ads]]
key = "ad_b"
headline = "Jobs at B"
body = "Apply today."
link = "https://example.org/b"
daily_budget = 10.0

[[comparisons]]
key = "a-vs-b"
ads = ["ad_a", "ad_b"]
expected = { ad = "ad_b", group = "female" }

[collect]
breakdowns = ["gender", "age"]
metrics = ["reach", "impressions"]

[analysis]
alpha = 0.05
correction = "holm"
ci = "wilson"
ci_level = 0.95
metric = "reach"

[sim]
seed = 1
gender = { female = 0.5, male = 0.49, unknown = 0.01 }

[sim.ads.ad_a]
gender = { female = 0.8, male = 1.2 }
"#;

/// The second ad's budget line, to edit `ads[1]` without touching `ads[0]`.
const AD_B_BUDGET: &str = "link = \"https://example.org/b\"\ndaily_budget = 10.0";

/// `BASE` with each `(from, to)` replaced once; panics if `from` is not in the text, so a
/// change to `BASE` cannot silently turn a bad-file test into a good-file test.
fn edit(edits: &[(&str, &str)]) -> String {
    let mut text = BASE.to_string();
    for (from, to) in edits {
        assert!(
            text.contains(from),
            "`{from}` is not in the experiment text"
        );
        text = text.replacen(from, to, 1);
    }
    text
}

/// Writes `text` to a fresh temporary directory; the directory lives as long as the guard.
fn write_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("experiment.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// Runs `adskew validate` on `text`; returns (exit code, stdout, stderr).
fn validate_text(text: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    let (_dir, path) = write_file(text);
    validate_path(&path, env)
}

fn validate_path(path: &Path, env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = adskew();
    cmd.arg("validate").arg(path);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status
            .code()
            .expect("adskew exited normally, not by a signal"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The problem line of an error for one field: `  - PATH: MESSAGE (hint: ...)`.
fn problem_line<'a>(stderr: &'a str, path: &str) -> Option<&'a str> {
    let prefix = format!("  - {path}: ");
    stderr.lines().find(|l| l.starts_with(&prefix))
}

/// Asserts exit code 2 and, for each `(path, word)`, a problem line for exactly that field
/// path whose message contains `word` (case-insensitive).
fn assert_problems(text: &str, env: &[(&str, &str)], expected: &[(&str, &str)]) -> String {
    let (code, stdout, stderr) = validate_text(text, env);
    assert_eq!(
        code, 2,
        "expected exit code 2\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        !stdout.contains("valid."),
        "an invalid file must not be reported valid:\n{stdout}"
    );
    for (path, word) in expected {
        let line = problem_line(&stderr, path)
            .unwrap_or_else(|| panic!("no problem names `{path}`; stderr:\n{stderr}"));
        assert!(
            line.to_lowercase().contains(&word.to_lowercase()),
            "the problem for `{path}` does not say `{word}`: {line}"
        );
    }
    stderr
}

fn assert_problem(text: &str, path: &str, word: &str) -> String {
    assert_problems(text, &[], &[(path, word)])
}

// ---------------------------------------------------------------------------------------
// Good files.

#[test]
fn every_bundled_example_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no examples in {}", dir.display());
    for file in files {
        let (code, stdout, stderr) = validate_path(&file, &[]);
        assert_eq!(code, 0, "{} is invalid:\n{stderr}", file.display());
        assert!(stdout.contains("valid."), "{}: {stdout}", file.display());
        assert!(!stderr.contains("warning"), "{}: {stderr}", file.display());
    }
}

#[test]
fn base_file_is_valid_without_warnings() {
    let (_dir, path) = write_file(BASE);
    adskew()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("valid. 2 ads, 1 comparison on"))
        .stderr(predicate::str::is_empty());
}

#[test]
fn spend_cap_below_scheduled_spend_is_a_warning_not_an_error() {
    // Two ads at 10/day for 2 days can spend 40; a cap of 30 pauses them early.
    let text = edit(&[("spend_cap = 100.0", "spend_cap = 30.0")]);
    let (code, stdout, stderr) = validate_text(&text, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("valid."), "{stdout}");
    assert!(stderr.contains("warning:"), "{stderr}");
    assert!(stderr.contains("spend_cap"), "{stderr}");
    assert!(
        stderr.contains("40.00"),
        "the warning should say what could be spent: {stderr}"
    );
}

// ---------------------------------------------------------------------------------------
// Syntax and types.

#[test]
fn toml_syntax_error_names_the_line() {
    let line = BASE
        .lines()
        .position(|l| l.starts_with("spend_cap"))
        .unwrap()
        + 1;
    let text = edit(&[("spend_cap = 100.0", "spend_cap = = 100.0")]);
    assert_problem(&text, &format!("line {line}"), "syntax error");
}

#[test]
fn toml_duplicate_key_is_a_syntax_error_with_its_line() {
    let text = edit(&[("age_max = 65", "age_max = 65\nage_max = 60")]);
    let line = text.lines().position(|l| l == "age_max = 60").unwrap() + 1;
    assert_problem(&text, &format!("line {line}"), "duplicate key");
}

#[test]
fn string_where_number_expected_names_the_path() {
    let text = edit(&[("spend_cap = 100.0", "spend_cap = \"lots\"")]);
    assert_problem(&text, "spend_cap", "wrong type");

    let text = edit(&[(
        AD_B_BUDGET,
        "link = \"https://example.org/b\"\ndaily_budget = \"ten\"",
    )]);
    assert_problem(&text, "ads[1].daily_budget", "wrong type");

    let text = edit(&[("female = 0.8, male = 1.2", "female = \"high\", male = 1.2")]);
    assert_problem(&text, "sim.ads.ad_a.gender.female", "wrong type");
}

#[test]
fn unknown_top_level_field_suggests_the_right_name() {
    let text = edit(&[("spend_cap = 100.0", "spend_capp = 100.0")]);
    let stderr = assert_problems(
        &text,
        &[],
        &[("spend_capp", "unknown field"), ("spend_cap", "required")],
    );
    let line = problem_line(&stderr, "spend_capp").unwrap();
    assert!(line.contains("did you mean `spend_cap`"), "{line}");
}

#[test]
fn unknown_nested_fields_name_their_full_path() {
    // Under optional sections serde_ignored writes `schedule.?.x`; the `?` must not show.
    let text = edit(&[("duration_days = 2", "duration_dayz = 2")]);
    let stderr = assert_problems(
        &text,
        &[],
        &[
            ("schedule.duration_dayz", "unknown field"),
            ("schedule", "duration"),
        ],
    );
    assert!(stderr.contains("did you mean `duration_days`"), "{stderr}");

    let text = edit(&[(
        AD_B_BUDGET,
        "link = \"https://example.org/b\"\ndaily_budgett = 10.0",
    )]);
    assert_problem(&text, "ads[1].daily_budgett", "unknown field");

    let text = edit(&[("gender = { female = 0.8", "gendr = { female = 0.8")]);
    let stderr = assert_problem(&text, "sim.ads.ad_a.gendr", "unknown field");
    assert!(stderr.contains("did you mean `gender`"), "{stderr}");
}

// ---------------------------------------------------------------------------------------
// Money.

#[test]
fn missing_spend_cap_is_an_error() {
    let text = edit(&[("spend_cap = 100.0\n", "")]);
    assert_problem(&text, "spend_cap", "required");
}

#[test]
fn non_positive_spend_cap_is_an_error() {
    for value in ["-5.0", "0", "0.0"] {
        let text = edit(&[("spend_cap = 100.0", &format!("spend_cap = {value}"))]);
        assert_problem(&text, "spend_cap", "positive");
    }
}

#[test]
fn spend_cap_with_sub_cent_precision_is_an_error() {
    let text = edit(&[("spend_cap = 100.0", "spend_cap = 100.005")]);
    assert_problem(&text, "spend_cap", "decimals");
}

#[test]
fn negative_or_zero_daily_budget_is_an_error() {
    let text = edit(&[(
        AD_B_BUDGET,
        "link = \"https://example.org/b\"\ndaily_budget = -3.0",
    )]);
    assert_problem(&text, "ads[1].daily_budget", "positive");

    let text = edit(&[("daily_budget = 10.0", "daily_budget = 0")]);
    assert_problem(&text, "ads[0].daily_budget", "positive");
}

#[test]
fn both_daily_and_lifetime_budget_is_an_error() {
    let text = edit(&[(
        AD_B_BUDGET,
        "link = \"https://example.org/b\"\ndaily_budget = 10.0\nlifetime_budget = 50.0",
    )]);
    assert_problem(&text, "ads[1].daily_budget", "both");
}

#[test]
fn missing_budget_is_an_error() {
    let text = edit(&[(AD_B_BUDGET, "link = \"https://example.org/b\"")]);
    assert_problem(&text, "ads[1].daily_budget", "budget is required");
}

// ---------------------------------------------------------------------------------------
// Ads and comparisons.

#[test]
fn duplicate_ad_key_is_an_error() {
    let text = edit(&[
        ("key = \"ad_b\"", "key = \"ad_a\""),
        ("ads = [\"ad_a\", \"ad_b\"]", "ads = [\"ad_a\", \"ad_a\"]"),
        ("expected = { ad = \"ad_b\"", "expected = { ad = \"ad_a\""),
    ]);
    assert_problems(
        &text,
        &[],
        &[
            ("ads[1].key", "used by another ad"),
            ("comparisons[0].ads[1]", "listed twice"),
        ],
    );
}

#[test]
fn ad_key_with_bad_characters_is_an_error() {
    for key in ["Ad B", "ad.b", "ad/b", "adé"] {
        let text = edit(&[("key = \"ad_b\"", &format!("key = \"{key}\""))]);
        assert_problem(&text, "ads[1].key", "not a valid key");
    }
}

#[test]
fn empty_ad_fields_are_errors() {
    let text = edit(&[
        ("headline = \"Jobs at B\"", "headline = \"  \""),
        (
            "link = \"https://example.org/a\"",
            "link = \"example.org/a\"",
        ),
    ]);
    assert_problems(
        &text,
        &[],
        &[
            ("ads[1].headline", "empty"),
            ("ads[0].link", "not an http(s) URL"),
        ],
    );
}

#[test]
fn comparison_naming_a_missing_ad_is_an_error() {
    let text = edit(&[
        ("ads = [\"ad_a\", \"ad_b\"]", "ads = [\"ad_a\", \"ad_c\"]"),
        ("expected = { ad = \"ad_b\"", "expected = { ad = \"ad_a\""),
    ]);
    let stderr = assert_problem(&text, "comparisons[0].ads[1]", "no ad has key `ad_c`");
    assert!(stderr.contains("known ads: ad_a, ad_b"), "{stderr}");
}

#[test]
fn comparison_of_one_ad_is_an_error() {
    let text = edit(&[
        ("ads = [\"ad_a\", \"ad_b\"]", "ads = [\"ad_a\"]"),
        ("expected = { ad = \"ad_b\", group = \"female\" }\n", ""),
    ]);
    assert_problem(&text, "comparisons[0].ads", "at least two");
}

#[test]
fn expected_direction_must_name_an_ad_of_the_comparison() {
    let text = edit(&[("expected = { ad = \"ad_b\"", "expected = { ad = \"ad_z\"")]);
    assert_problem(
        &text,
        "comparisons[0].expected.ad",
        "not one of this comparison's ads",
    );
}

#[test]
fn expected_group_must_be_a_gender_or_age_group() {
    let text = edit(&[("group = \"female\"", "group = \"women\"")]);
    assert_problem(
        &text,
        "comparisons[0].expected.group",
        "not a gender or age group",
    );
}

#[test]
fn no_comparisons_is_an_error() {
    let text = edit(&[(
        "[[comparisons]]\nkey = \"a-vs-b\"\nads = [\"ad_a\", \"ad_b\"]\nexpected = { ad = \"ad_b\", group = \"female\" }\n",
        "",
    )]);
    assert_problem(&text, "comparisons", "at least one comparison");
}

// ---------------------------------------------------------------------------------------
// Collection and analysis.

#[test]
fn unknown_breakdown_is_an_error() {
    let text = edit(&[(
        "breakdowns = [\"gender\", \"age\"]",
        "breakdowns = [\"gender\", \"dma\"]",
    )]);
    let stderr = assert_problem(&text, "collect.breakdowns[1]", "unknown breakdown `dma`");
    assert!(
        stderr.contains("gender, age, region"),
        "the hint lists the choices: {stderr}"
    );

    let text = edit(&[(
        "breakdowns = [\"gender\", \"age\"]",
        "breakdowns = [\"race\"]",
    )]);
    // Race is never reported: it is inferred with a mirrored design, which the hint names.
    let stderr = assert_problem(&text, "collect.breakdowns[0]", "race is not reported");
    assert!(stderr.contains("mirrored"), "{stderr}");
}

#[test]
fn unknown_metric_is_an_error() {
    let text = edit(&[(
        "metrics = [\"reach\", \"impressions\"]",
        "metrics = [\"reach\", \"ctr\"]",
    )]);
    assert_problem(&text, "collect.metrics[1]", "unknown metric `ctr`");
}

#[test]
fn bad_alpha_is_an_error() {
    for value in ["0", "0.5", "1.5", "-0.05"] {
        let text = edit(&[("alpha = 0.05", &format!("alpha = {value}"))]);
        assert_problem(&text, "analysis.alpha", "must be in");
    }
}

#[test]
fn unknown_correction_is_an_error() {
    let text = edit(&[("correction = \"holm\"", "correction = \"sidak\"")]);
    let stderr = assert_problem(&text, "analysis.correction", "unknown value `sidak`");
    assert!(
        stderr.contains("bonferroni"),
        "the hint lists the choices: {stderr}"
    );
}

#[test]
fn analysis_metric_must_be_testable() {
    let text = edit(&[("metric = \"reach\"", "metric = \"clicks\"")]);
    assert_problem(&text, "analysis.metric", "cannot be tested");
}

// ---------------------------------------------------------------------------------------
// Schedule and audience.

#[test]
fn missing_schedule_duration_is_an_error() {
    let text = edit(&[("duration_days = 2\n", "")]);
    assert_problem(&text, "schedule", "needs a duration");
}

#[test]
fn two_durations_are_an_error() {
    let text = edit(&[(
        "duration_days = 2",
        "duration_days = 2\nduration_hours = 48",
    )]);
    assert_problem(&text, "schedule", "more than one");
}

#[test]
fn missing_schedule_is_an_error() {
    let text = edit(&[(
        "[schedule]\nstart = \"2026-01-05T00:00:00Z\"\nduration_days = 2\ncollect_every_hours = 24\n",
        "",
    )]);
    assert_problem(&text, "schedule", "required");
}

#[test]
fn bad_start_time_is_an_error() {
    let text = edit(&[("start = \"2026-01-05T00:00:00Z\"", "start = \"tomorrow\"")]);
    assert_problem(&text, "schedule.start", "not a time");
}

#[test]
fn age_min_above_age_max_is_an_error() {
    let text = edit(&[("age_min = 18\nage_max = 65", "age_min = 50\nage_max = 30")]);
    assert_problem(&text, "audience.age_min", "above age_max");
}

#[test]
fn age_outside_targetable_range_is_an_error() {
    let text = edit(&[("age_min = 18", "age_min = 13")]);
    assert_problem(&text, "audience.age_min", "between 18 and 65");
}

#[test]
fn bad_country_code_is_an_error() {
    let text = edit(&[("countries = [\"US\"]", "countries = [\"USA\"]")]);
    assert_problem(&text, "audience.countries[0]", "two-letter");
}

// ---------------------------------------------------------------------------------------
// Simulator ground truth.

#[test]
fn sim_gender_shares_must_sum_to_one() {
    let text = edit(&[("female = 0.5, male = 0.49", "female = 0.6, male = 0.49")]);
    assert_problem(&text, "sim.gender", "sum");
}

#[test]
fn sim_unknown_gender_group_is_an_error() {
    let text = edit(&[("unknown = 0.01 }", "nonbinary = 0.01 }")]);
    assert_problem(&text, "sim.gender.nonbinary", "unknown group");
}

#[test]
fn sim_ads_for_a_missing_ad_is_an_error() {
    let text = edit(&[("[sim.ads.ad_a]", "[sim.ads.ad_x]")]);
    assert_problem(&text, "sim.ads.ad_x", "no ad has key `ad_x`");
}

#[test]
fn sim_multiplier_must_be_positive() {
    let text = edit(&[("female = 0.8, male = 1.2", "female = 0.8, male = -1.0")]);
    assert_problem(&text, "sim.ads.ad_a.gender.male", "positive");
}

// ---------------------------------------------------------------------------------------
// All problems at once.

#[test]
fn every_problem_of_a_file_is_reported_in_one_run() {
    let text = edit(&[
        ("spend_cap = 100.0\n", "spend_capp = 100.0\n"),
        ("duration_days = 2\n", ""),
        ("age_min = 18\nage_max = 65", "age_min = 50\nage_max = 30"),
        (
            AD_B_BUDGET,
            "link = \"https://example.org/b\"\ndaily_budget = -1.0",
        ),
        (
            "ads = [\"ad_a\", \"ad_b\"]",
            "ads = [\"ad_a\", \"ad_b\", \"ad_c\"]",
        ),
        (
            "breakdowns = [\"gender\", \"age\"]",
            "breakdowns = [\"gender\", \"dma\"]",
        ),
        ("alpha = 0.05", "alpha = 2"),
        ("correction = \"holm\"", "correction = \"sidak\""),
        ("female = 0.5, male = 0.49", "female = 0.7, male = 0.49"),
        ("[sim.ads.ad_a]", "[sim.ads.ad_x]"),
    ]);
    let expected = [
        ("spend_capp", "unknown field"),
        ("spend_cap", "required"),
        ("schedule", "duration"),
        ("audience.age_min", "above"),
        ("ads[1].daily_budget", "positive"),
        ("comparisons[0].ads[2]", "no ad"),
        ("comparisons[0].expected", "two ads"),
        ("collect.breakdowns[1]", "unknown breakdown"),
        ("analysis.alpha", "must be in"),
        ("analysis.correction", "unknown value"),
        ("sim.gender", "sum"),
        ("sim.ads.ad_x", "no ad"),
    ];
    let stderr = assert_problems(&text, &[], &expected);
    assert!(
        stderr.contains(&format!("has {} problems", expected.len())),
        "exactly these problems, each once:\n{stderr}"
    );
}

// ---------------------------------------------------------------------------------------
// `run` validates before it writes anything.

#[test]
fn run_with_an_invalid_file_writes_nothing() {
    let text = edit(&[("spend_cap = 100.0", "spend_cap = -1.0")]);
    let (dir, path) = write_file(&text);
    let db = dir.path().join("x.db");
    let out = dir.path().join("out");
    adskew()
        .arg("run")
        .arg("--quiet")
        .arg(&path)
        .arg("--db")
        .arg(&db)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("  - spend_cap: must be positive"));
    assert!(!db.exists(), "the database was created");
    assert!(!out.exists(), "the output directory was created");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("experiment.toml")]);
}

// ---------------------------------------------------------------------------------------
// Environment overrides.

#[test]
fn spend_cap_override_is_validated() {
    assert_problems(
        BASE,
        &[("ADSKEW_SPEND_CAP", "-1")],
        &[("spend_cap", "positive")],
    );
    assert_problems(
        BASE,
        &[("ADSKEW_SPEND_CAP", "plenty")],
        &[("spend_cap", "wrong type")],
    );
}

#[test]
fn nested_override_is_validated() {
    assert_problems(
        BASE,
        &[("ADSKEW_SCHEDULE__DURATION_DAYS", "0")],
        &[("schedule.duration_days", "must be in")],
    );
    assert_problems(
        BASE,
        &[("ADSKEW_SIM__SEEED", "7")],
        &[("sim.seeed", "unknown field")],
    );
}

#[test]
fn valid_overrides_keep_the_file_valid() {
    let (code, stdout, stderr) = validate_text(BASE, &[("ADSKEW_SIM__SEED", "7")]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("valid."), "{stdout}");

    // A larger cap is applied: the summary line reports it.
    let (code, stdout, stderr) = validate_text(BASE, &[("ADSKEW_SPEND_CAP", "200")]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("spend cap 200.00 USD"), "{stdout}");
}

#[test]
fn non_experiment_variables_are_not_overrides() {
    let (code, stdout, stderr) = validate_text(BASE, &[("ADSKEW_DB", "x")]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("valid."), "{stdout}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn non_finite_and_huge_amounts_are_named() {
    assert_problem(
        &edit(&[("spend_cap = 100.0", "spend_cap = inf")]),
        "spend_cap",
        "finite",
    );
    assert_problem(
        &edit(&[("spend_cap = 100.0", "spend_cap = nan")]),
        "spend_cap",
        "finite",
    );
    assert_problem(
        &edit(&[("spend_cap = 100.0", "spend_cap = 1e300")]),
        "spend_cap",
        "too large",
    );
}

#[test]
fn meta_without_account_settings_is_refused_before_anything_is_created() {
    let (dir, path) = write_file(&edit(&[("platform = \"sim\"", "platform = \"meta\"")]));
    let db = dir.path().join("x.db");
    adskew()
        .arg("run")
        .arg(&path)
        .arg("--db")
        .arg(&db)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Meta settings are incomplete"))
        .stderr(predicate::str::contains("ADSKEW_META_TOKEN"));
    assert!(!db.exists());
    adskew()
        .arg("validate")
        .arg(dir.path().join("missing.toml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read"));
}

/// Paired ads differ only in their creative: different budgets in one comparison are
/// refused unless the comparison declares it studies the budget.
#[test]
fn paired_ads_must_share_their_budget_unless_it_is_declared_to_vary() {
    let text = edit(&[(
        AD_B_BUDGET,
        "link = \"https://example.org/b\"\ndaily_budget = 25.0",
    )]);
    let stderr = assert_problems(&text, &[], &[("comparisons[0].ads", "different budgets")]);
    assert!(stderr.contains("vary = [\"budget\"]"), "{stderr}");
    let declared = text.replace(
        "ads = [\"ad_a\", \"ad_b\"]",
        "ads = [\"ad_a\", \"ad_b\"]\nvary = [\"budget\"]",
    );
    adskew()
        .arg("validate")
        .arg(write_file(&declared).1)
        .assert()
        .success();
    let wrong = text.replace(
        "ads = [\"ad_a\", \"ad_b\"]",
        "ads = [\"ad_a\", \"ad_b\"]\nvary = [\"audience\"]",
    );
    assert_problems(&wrong, &[], &[("comparisons[0].vary[0]", "cannot vary")]);
}

#[test]
fn expected_compositions_are_checked() {
    let text = edit(&[(
        "metric = \"reach\"",
        "metric = \"reach\"\n\n[analysis.expected]\ngender = { female = 0.7, male = 0.7 }\nage = { \"25-34\" = 0.5, \"90+\" = 0.5 }\nincome = { low = 0.5, high = 0.5 }",
    )]);
    assert_problems(
        &text,
        &[],
        &[
            ("analysis.expected.gender", "sum to 1.4"),
            ("analysis.expected.age", "not an age bucket"),
            ("analysis.expected.income", "unknown breakdown"),
        ],
    );
    let good = edit(&[(
        "metric = \"reach\"",
        "metric = \"reach\"\n\n[analysis.expected]\ngender = { female = 0.52, male = 0.48 }",
    )]);
    let (code, _, stderr) = validate_text(&good, &[]);
    assert_eq!(code, 0, "{stderr}");
}

// ---------------------------------------------------------------------------------------
// Money in every currency: only currencies an ad account can hold, and amounts in whole
// units of what the platform takes in them (Meta's currency table: whole yen, cents).

#[test]
fn currencies_no_ad_account_holds_are_refused_with_the_list() {
    for code in ["ZZZ", "KWD"] {
        let stderr = assert_problem(
            &edit(&[("currency = \"USD\"", &format!("currency = \"{code}\""))]),
            "currency",
            code,
        );
        assert!(stderr.contains("JPY") && stderr.contains("EUR"), "{stderr}");
    }
}

#[test]
fn amounts_finer_than_the_currency_takes_are_refused() {
    let yen = edit(&[
        ("currency = \"USD\"", "currency = \"JPY\""),
        ("spend_cap = 100.0", "spend_cap = 100000.0"),
        (
            AD_B_BUDGET,
            "link = \"https://example.org/b\"\ndaily_budget = 2500.5",
        ),
    ]);
    let stderr = assert_problem(&yen, "ads[1].daily_budget", "finer");
    assert!(stderr.contains("whole multiples of 1"), "{stderr}");
    let whole_yen = edit(&[
        ("currency = \"USD\"", "currency = \"JPY\""),
        ("spend_cap = 100.0", "spend_cap = 100000.0"),
        (
            "link = \"https://example.org/a\"\ndaily_budget = 10.0",
            "link = \"https://example.org/a\"\ndaily_budget = 2500.0",
        ),
        (
            AD_B_BUDGET,
            "link = \"https://example.org/b\"\ndaily_budget = 2500.0",
        ),
    ]);
    let (code, _, stderr) = validate_text(&whole_yen, &[]);
    assert_eq!(code, 0, "{stderr}");
    // Bahrain's dinar has three minor digits in ISO 4217, but Meta takes hundredths.
    let dinar = edit(&[("currency = \"USD\"", "currency = \"BHD\"")]);
    assert_eq!(validate_text(&dinar, &[]).0, 0);
}

#[test]
fn placements_are_chosen_from_the_known_ones_or_left_to_the_platform() {
    let chosen = edit(&[(
        "age_max = 65",
        "age_max = 65\nplacements = [\"facebook_feed\", \"instagram_reels\"]",
    )]);
    let (code, _, stderr) = validate_text(&chosen, &[]);
    assert_eq!(code, 0, "{stderr}");
    let stderr = assert_problem(
        &edit(&[(
            "age_max = 65",
            "age_max = 65\nplacements = [\"facebook_feed\", \"billboards\"]",
        )]),
        "audience.placements[1]",
        "billboards",
    );
    assert!(
        stderr.contains("instagram_feed") && stderr.contains("automatic"),
        "{stderr}"
    );
}

#[test]
fn a_dsa_table_needs_both_names() {
    let text = format!("{BASE}\n[dsa]\nbeneficiary = \"Example University\"\npayor = \" \"\n");
    assert_problem(&text, "dsa.payor", "empty");
    let text = format!("{BASE}\n[dsa]\npayor = \"Example University\"\n");
    assert_problem(&text, "dsa.beneficiary", "required");
}

// ---------------------------------------------------------------------------------------
// Every problem says where it is and how to fix it (issue 15).

/// The 1-based line of the first line of `text` that starts with `start`.
fn line_of(text: &str, start: &str) -> usize {
    text.lines().position(|l| l.starts_with(start)).unwrap() + 1
}

/// Runs `adskew run` on `path` with its database and output in `dir`; asserts exit code 2
/// and that nothing but `keep` is left in `dir`. Returns stderr.
fn run_writes_nothing(dir: &Path, path: &Path, keep: &[&str]) -> String {
    let out = adskew()
        .arg("run")
        .arg("--quiet")
        .arg(path)
        .arg("--db")
        .arg(dir.join("x.db"))
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let mut left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, keep, "run wrote something");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn values_of_the_wrong_type_are_all_reported_with_their_line_and_fix() {
    let text = edit(&[
        ("spend_cap = 100.0", "spend_cap = \"600\""),
        ("duration_days = 2", "duration_days = \"five\""),
        (
            AD_B_BUDGET,
            "link = \"https://example.org/b\"\ndaily_budget = \"ten\"",
        ),
        ("countries = [\"US\"]", "countries = [\"US\", 1]"),
        ("ci_level = 0.95", "ci_level = 0.95\nyates = \"yes\""),
    ]);
    let stderr = assert_problems(
        &text,
        &[],
        &[
            ("spend_cap", "wrong type: \"600\" is text"),
            ("schedule.duration_days", "\"five\" is text"),
            ("ads[1].daily_budget", "\"ten\" is text"),
            ("audience.countries[1]", "1 is a number"),
            ("analysis.yates", "\"yes\" is text"),
        ],
    );
    assert!(stderr.contains("has 5 problems"), "{stderr}");
    let expect = [
        (
            "spend_cap",
            "spend_cap =",
            "write a number: spend_cap = 600",
        ),
        (
            "schedule.duration_days",
            "duration_days =",
            "write a number, e.g. duration_days =",
        ),
        (
            "ads[1].daily_budget",
            "daily_budget = \"ten\"",
            "write a number, e.g. daily_budget =",
        ),
        (
            "audience.countries[1]",
            "countries =",
            "each item is text in quotes: countries = [\"1\"]",
        ),
        (
            "analysis.yates",
            "yates =",
            "write true or false, e.g. yates = true",
        ),
    ];
    for (path, start, fix) in expect {
        let line = problem_line(&stderr, path).unwrap();
        let at = format!("(line {}; hint: ", line_of(&text, start));
        assert!(line.contains(&at), "`{path}` does not name {at}: {line}");
        assert!(line.contains(fix), "`{path}` does not say `{fix}`: {line}");
    }

    // The simulator's table the same way, all at once.
    let sim = edit(&[("seed = 1", "seed = \"one\"\ncpm = \"cheap\"")]);
    let stderr = assert_problems(
        &sim,
        &[],
        &[
            ("sim.seed", "\"one\" is text"),
            ("sim.cpm", "\"cheap\" is text"),
        ],
    );
    let seed = problem_line(&stderr, "sim.seed").unwrap();
    assert!(seed.contains("write a whole number"), "{seed}");
    assert!(
        seed.contains(&format!("line {}", line_of(&sim, "seed ="))),
        "{seed}"
    );
}

#[test]
fn an_override_with_a_typo_names_the_variable_and_the_one_meant() {
    let stderr = assert_problems(
        BASE,
        &[("ADSKEW_SIM__SEEED", "7")],
        &[("sim.seeed", "unknown field")],
    );
    let line = problem_line(&stderr, "sim.seeed").unwrap();
    assert!(line.contains("set by ADSKEW_SIM__SEEED"), "{line}");
    assert!(line.contains("did you mean ADSKEW_SIM__SEED?"), "{line}");
    assert!(
        !line.contains("line "),
        "an override is no line of the file: {line}"
    );

    let stderr = assert_problems(
        BASE,
        &[("ADSKEW_SPEND_CAP", "plenty")],
        &[("spend_cap", "wrong type")],
    );
    let line = problem_line(&stderr, "spend_cap").unwrap();
    assert!(line.contains("set by ADSKEW_SPEND_CAP"), "{line}");
}

#[test]
fn sums_and_shares_are_printed_without_float_noise() {
    let text = edit(&[
        (
            "gender = { female = 0.5, male = 0.49, unknown = 0.01 }",
            "gender = { female = 0.6, male = 0.5 }",
        ),
        (
            "metric = \"reach\"",
            "metric = \"reach\"\n\n[analysis.expected]\ngender = { female = 0.7, male = 0.4 }",
        ),
    ]);
    let stderr = assert_problems(
        &text,
        &[],
        &[
            ("sim.gender", "shares sum to 1.1, not 1"),
            ("analysis.expected.gender", "sum to 1.1, not 1"),
        ],
    );
    assert!(!stderr.contains("1.09999"), "{stderr}");
}

#[test]
fn unknown_keys_suggest_the_closest_key_or_nothing() {
    let text = edit(&[(
        "spend_cap = 100.0",
        "spend_cap = 100.0\nspendcap_daily = 20.0",
    )]);
    let stderr = assert_problem(&text, "spendcap_daily", "unknown field");
    let line = problem_line(&stderr, "spendcap_daily").unwrap();
    assert!(line.contains("did you mean `daily_spend_cap`?"), "{line}");

    let text = edit(&[("spend_cap = 100.0", "spend_cap = 100.0\ncolour = \"red\"")]);
    let stderr = assert_problem(&text, "colour", "unknown field");
    let line = problem_line(&stderr, "colour").unwrap();
    assert!(!line.contains("did you mean"), "nothing is close: {line}");
    assert!(line.contains("remove it"), "{line}");
    assert!(
        line.contains(&format!("line {}", line_of(&text, "colour"))),
        "{line}"
    );
}

#[test]
fn every_problem_names_its_place_and_a_fix() {
    let text = edit(&[
        ("name = \"validate-test\"", "name = \"a b\""),
        (
            "duration_days = 2",
            "end = \"2026-01-01T00:00:00Z\"",
        ),
        ("countries = [\"US\"]", "countries = [\"us\"]\nregions = [\"X\", \"X\"]\nplacements = [\"facebook_feed\", \"facebook_feed\"]"),
        ("age_min = 18", "age_min = 40"),
        ("age_max = 65", "age_max = 30"),
        ("link = \"https://example.org/a\"", "link = \"example.org/a\""),
        ("ads = [\"ad_a\", \"ad_b\"]", "ads = [\"ad_a\", \"ad_b\", \"ad_a\"]"),
        ("expected = { ad = \"ad_b\", group = \"female\" }", "expected = { ad = \"ad_c\", group = \"female\" }"),
        ("breakdowns = [\"gender\", \"age\"]", "breakdowns = [\"gender\", \"gender\"]"),
        ("metrics = [\"reach\", \"impressions\"]", "metrics = [\"reach\", \"reach\"]"),
        ("seed = 1", "seed = -1"),
    ]);
    let text = format!("{text}\n[design]\nkind = \"replicated\"\npartitions = [\"A\", \"A\"]\n");
    let stderr = assert_problems(
        &text,
        &[],
        &[
            ("name", "characters"),
            ("schedule.end", "is not after schedule.start"),
            ("audience.countries[0]", "two-letter"),
            ("audience.regions[1]", "repeated"),
            ("audience.placements[1]", "repeated"),
            ("audience.age_min", "above age_max"),
            ("ads[0].link", "not an http(s) URL"),
            ("comparisons[0].ads[2]", "listed twice"),
            (
                "comparisons[0].expected.ad",
                "not one of this comparison's ads",
            ),
            ("comparisons[0].expected", "two ads"),
            ("collect.breakdowns[1]", "listed twice"),
            ("collect.metrics[1]", "listed twice"),
            ("sim.seed", "negative"),
            ("design.partitions[1]", "listed twice"),
        ],
    );
    let problems: Vec<&str> = stderr.lines().filter(|l| l.starts_with("  - ")).collect();
    assert!(problems.len() >= 14, "{stderr}");
    for line in problems {
        assert!(line.contains("hint: "), "no fix: {line}");
        assert!(line.contains("(line "), "no line: {line}");
    }
    let end = problem_line(&stderr, "schedule.end").unwrap();
    assert!(end.contains("give an end later than the start"), "{end}");
    let twice = problem_line(&stderr, "comparisons[0].ads[2]").unwrap();
    assert!(twice.contains("list each ad once"), "{twice}");
}

#[test]
fn a_folder_or_an_oversized_file_is_refused_naming_it_and_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("campaign.toml");
    std::fs::create_dir(&folder).unwrap();
    let (code, _, stderr) = validate_path(&folder, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&folder.display().to_string()), "{stderr}");
    assert!(
        stderr.contains("is a folder") && stderr.contains(".toml file"),
        "{stderr}"
    );
    assert!(!stderr.contains("os error"), "{stderr}");
    run_writes_nothing(dir.path(), &folder, &["campaign.toml"]);

    // A valid experiment padded past 1 MiB with comments: refused for its size alone.
    let big = format!("{BASE}\n{}", "# padding\n".repeat(110_000));
    assert!(big.len() > 1024 * 1024);
    let path = dir.path().join("big.toml");
    std::fs::write(&path, &big).unwrap();
    let (code, _, stderr) = validate_path(&path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&path.display().to_string()) && stderr.contains("1 MiB"),
        "{stderr}"
    );
    let stderr = run_writes_nothing(dir.path(), &path, &["big.toml", "campaign.toml"]);
    assert!(stderr.contains("1 MiB"), "{stderr}");
}

#[test]
fn p_floor_must_be_a_power_of_ten_a_journal_prints() {
    for value in ["0.05", "2e-16", "0", "1e-400", "1"] {
        let text = edit(&[("alpha = 0.05", &format!("alpha = 0.05\np_floor = {value}"))]);
        let stderr = assert_problem(&text, "analysis.p_floor", "power of ten");
        assert!(
            stderr.contains("p_floor = 1e-16"),
            "the hint gives one: {stderr}"
        );
    }
    let text = edit(&[("alpha = 0.05", "alpha = 0.05\np_floor = 1e-3")]);
    let (code, _, stderr) = validate_text(&text, &[]);
    assert_eq!(code, 0, "{stderr}");
}

// ---------------------------------------------------------------------------------------
// `[figures]` and display labels (issue 17).

#[test]
fn figure_settings_and_labels_are_checked_with_their_line_and_fix() {
    let text = edit(&[
        ("key = \"ad_a\"", "key = \"ad_a\"\nlabel = \"   \""),
        (
            "[collect]",
            "[figures]\nstyle = \"poster\"\naxis = [70, 30]\nwidth = \"wide\"\ngroups = { female = \"Women\", martians = \"Martians\" }\n\n[collect]",
        ),
    ]);
    let stderr = assert_problems(
        &text,
        &[],
        &[
            ("ads[0].label", "empty"),
            ("figures.style", "poster"),
            ("figures.axis", "0 <= lo < hi <= 100"),
            ("figures.width", "wide"),
            ("figures.groups.martians", "no group"),
        ],
    );
    for path in ["figures.style", "figures.axis", "ads[0].label"] {
        let line = problem_line(&stderr, path).unwrap();
        assert!(line.contains("(line ") && line.contains("hint: "), "{line}");
    }
    assert!(problem_line(&stderr, "figures.groups.female").is_none());
}

#[test]
fn figure_settings_and_labels_that_are_right_validate() {
    let text = edit(&[
        ("key = \"ad_a\"", "key = \"ad_a\"\nlabel = \"Jobs at A\""),
        ("key = \"a-vs-b\"", "key = \"a-vs-b\"\nlabel = \"A against B\""),
        (
            "[collect]",
            "[figures]\nstyle = \"screen\"\naxis = [30, 70]\nwidth = \"two-column\"\ngroups = { female = \"Women\", \"25-34\" = \"aged 25 to 34\" }\n\n[collect]",
        ),
    ]);
    let (code, _, stderr) = validate_text(&text, &[]);
    assert_eq!(code, 0, "{stderr}");
}
