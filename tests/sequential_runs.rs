//! Anytime-valid looks in a run (issue 18): stored with every collection, shown by
//! `status`, and, under `[stopping]`, a run that reaches its answer paused early; bad
//! stopping rules refused by `validate`.

mod common;

use std::path::{Path, PathBuf};

use adskew::store::Store;
use common::{adskew, run_campaign, stderr_of, stdout_of};
use serde_json::Value;

fn campaign(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("campaigns")
            .join(name),
    )
    .unwrap()
}

fn status_json(db: &Path) -> Value {
    let out = adskew()
        .args(["status", "--json", "--db"])
        .arg(db)
        .assert()
        .success();
    serde_json::from_str(&stdout_of(&out)).unwrap()
}

/// The paired example with `[stopping]` appended, written to `tmp`.
fn with_stopping(tmp: &Path, stopping: &str) -> PathBuf {
    stopping_variant(tmp, "stopping.toml", stopping, "", "")
}

/// The paired example with `schedule` and `sim` lines added under `[schedule]` and
/// `[sim]` and `[stopping]` appended, written to `tmp/<file>`.
fn stopping_variant(tmp: &Path, file: &str, stopping: &str, schedule: &str, sim: &str) -> PathBuf {
    let path = tmp.join(file);
    std::fs::write(
        &path,
        example_with(schedule, sim) + "\n[stopping]\n" + stopping,
    )
    .unwrap();
    path
}

/// The paired example with `extra` lines added under `[schedule]` and `[sim]`, written to
/// `tmp/<file>`.
fn variant(tmp: &Path, file: &str, schedule: &str, sim: &str) -> PathBuf {
    let path = tmp.join(file);
    std::fs::write(&path, example_with(schedule, sim)).unwrap();
    path
}

/// The paired example's text with `schedule` and `sim` lines added under `[schedule]` and
/// `[sim]`.
fn example_with(schedule: &str, sim: &str) -> String {
    campaign("imana2021_paired_jobs.toml")
        .replace("[schedule]\n", &format!("[schedule]\n{schedule}"))
        .replace("[sim]\n", &format!("[sim]\n{sim}"))
}

/// Runs `file` into `db`.
fn run_file(file: &Path, db: &Path) {
    adskew()
        .arg("run")
        .arg(file)
        .arg("--db")
        .arg(db)
        .arg("--out")
        .arg(db.with_extension("results"))
        .assert()
        .success();
}

#[test]
fn looks_are_made_on_settled_counts_and_status_shows_the_last() {
    let tmp = tempfile::tempdir().unwrap();
    // The simulator's reporting noise (2% on fresh rows, revised away over 3 days) and a
    // revision window of 3 days.
    let noisy = variant(tmp.path(), "noisy.toml", "recollect_after_days = 3\n", "");
    let db = tmp.path().join("a.db");
    run_file(&noisy, &db);
    let store = Store::open_read_only(&db).unwrap();
    let stored = store.looks(1).unwrap();
    // Collections at midnight on March 3-7 and the re-collection on March 10: a look
    // trails its collection by the window, so the first three (nothing settled yet) have
    // none, and each look is as of the end of its last settled day.
    assert_eq!(store.collections(1).unwrap().len(), 6);
    let as_of: Vec<String> = stored.iter().map(|c| c.as_of.to_rfc3339()).collect();
    assert_eq!(
        as_of,
        [
            "2026-03-03T00:00:00+00:00",
            "2026-03-04T00:00:00+00:00",
            "2026-03-07T00:00:00+00:00"
        ]
    );

    // Each collection's looks were made once, from its own rows, when it was stored: the
    // same as replaying every collection from the stored totals.
    let exp = adskew::experiment::load::load_with_env(&noisy, std::iter::empty())
        .unwrap()
        .experiment;
    let settings = adskew::analysis::sequential::SequentialSettings::of(&exp);
    let replayed =
        adskew::scheduler::looks::compute(&exp, settings, 1, &store, chrono_tz::UTC).unwrap();
    assert_eq!(replayed, stored);

    // The settled counts are final: the same looks as in a world without reporting noise,
    // while the collections' own totals (through their fresh last day) differ.
    let exact = variant(
        tmp.path(),
        "exact.toml",
        "recollect_after_days = 3\n",
        "report_noise = 0.0\n",
    );
    let exact_db = tmp.path().join("exact.db");
    run_file(&exact, &exact_db);
    let exact_store = Store::open_read_only(&exact_db).unwrap();
    assert_eq!(exact_store.looks(1).unwrap(), stored);
    let first_totals = |s: &Store| {
        s.total_history(1, adskew::vocab::Breakdown::Gender)
            .unwrap()
            .into_iter()
            .filter(|(c, _)| *c == 1)
            .map(|(_, r)| r.reach)
            .collect::<Vec<_>>()
    };
    assert_ne!(first_totals(&store), first_totals(&exact_store));
    // The settled totals are stored as snapshots of their own period, which the history of
    // totals (the over-time chart's) leaves out: one total per collection, ad and value.
    let gender = adskew::vocab::Breakdown::Gender;
    let history = store.total_history(1, gender).unwrap();
    let snapshots = store.total_snapshots(1, gender).unwrap();
    let mut keys: Vec<_> = history
        .iter()
        .map(|(c, r)| (*c, r.ad_key.clone(), r.value.clone()))
        .collect();
    keys.dedup();
    assert_eq!(keys.len(), history.len());
    assert!(snapshots.len() > history.len());

    // An always-valid p-value never rises: it is over every look so far.
    for pair in stored.windows(2) {
        for (before, after) in pair[0].looks.iter().zip(&pair[1].looks) {
            assert!(after.p_value <= before.p_value, "{before:?} then {after:?}");
        }
    }

    // The simulator's drivers pair is skewed towards women for Instacart: by the end the
    // confidence sequence has left zero out, and status says so.
    let status = status_json(&db);
    assert_eq!(status["runs"][0]["looks_as_of"], "2026-03-07T00:00:00Z");
    let looks = status["runs"][0]["looks"].as_array().unwrap();
    let drivers = looks
        .iter()
        .find(|l| l["comparison"] == "delivery-driver" && l["breakdown"] == "gender")
        .unwrap();
    assert_eq!(drivers["pair"]["ad1"], "instacart_shopper");
    assert!(
        drivers["pair"]["lower"].as_f64().unwrap() > 0.0,
        "{drivers}"
    );
    assert!(drivers["p_value"].as_f64().unwrap() < 0.05);
    let text = stdout_of(
        &adskew()
            .args(["status", "--db"])
            .arg(&db)
            .assert()
            .success(),
    );
    assert!(
        text.contains("anytime-valid, on the counts settled by 2026-03-07T00:00:00Z")
            && text.contains("delivery-driver by gender: always-valid p = ")
            && text.contains("confidence sequence ["),
        "{text}"
    );
}

#[test]
fn a_database_from_before_the_looks_gains_their_table() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.db");
    drop(Store::open(&db).unwrap());
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "DROP TABLE sequential_looks; DELETE FROM schema_migrations WHERE version = 12;
         PRAGMA user_version = 11;",
    )
    .unwrap();
    drop(conn);
    // Read-only commands read the older schema as it is...
    assert!(Store::open_read_only(&db)
        .unwrap()
        .looks(1)
        .unwrap()
        .is_empty());
    // ...and a writing one migrates it.
    drop(Store::open(&db).unwrap());
    let conn = rusqlite::Connection::open(&db).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 12);
    let looks: i64 = conn
        .query_row("SELECT COUNT(*) FROM sequential_looks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(looks, 0);
}

#[test]
fn a_run_that_reaches_its_answer_pauses_early_and_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    // Numbers final a day after (the simulator's reporting noise revised away in a day),
    // and a window to match: the collection two days in has a day of settled counts.
    let file = stopping_variant(
        tmp.path(),
        "stopping.toml",
        "rule = \"difference\"\ncomparison = \"delivery-driver\"\nalpha = 0.05\nmin_days = 2\n",
        "recollect_after_days = 1\n",
        "revision_days = 1\n",
    );
    let db = tmp.path().join("a.db");
    run_file(&file, &db);
    let status = status_json(&db);
    let run = &status["runs"][0];
    assert_eq!(run["state"], "stopped", "{run}");
    let cause = run["cause"].as_str().unwrap();
    assert!(
        cause.contains("stopping rule: skew found")
            && cause.contains("instacart_shopper − dominos_driver")
            && cause.contains("valid under continuous monitoring"),
        "{cause}"
    );
    // Stopped at the collection two days in, not run out over five: every ad is paused
    // (the re-collection after the revision window finds nothing new spent).
    let spend: f64 = run["spend"].as_str().unwrap().parse().unwrap();
    let full = tempfile::tempdir().unwrap();
    run_campaign("imana2021_paired_jobs.toml", full.path());
    let full_spend: f64 = status_json(&full.path().join("a.db"))["runs"][0]["spend"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(spend < 0.5 * full_spend, "{spend} of {full_spend}");
    let store = Store::open_read_only(&db).unwrap();
    let collections = store.collections(1).unwrap();
    let last_two: Vec<_> = collections.iter().rev().take(2).map(|c| c.spend).collect();
    assert_eq!(
        last_two[0], last_two[1],
        "nothing spent after the stop: {collections:?}"
    );
}

#[test]
fn a_declared_revision_bound_lets_a_run_stop_before_any_count_settles() {
    let tmp = tempfile::tempdir().unwrap();
    // The simulator's default reporting noise (2% on a fresh day, revised away over 3
    // days) and a 3-day window: on settled counts alone the first look comes on day 4.
    let file = stopping_variant(
        tmp.path(),
        "stopping.toml",
        "rule = \"difference\"\ncomparison = \"delivery-driver\"\nrevision_bound = 0.1\n",
        "recollect_after_days = 3\n",
        "",
    );
    let db = tmp.path().join("a.db");
    run_file(&file, &db);
    let status = status_json(&db);
    let run = &status["runs"][0];
    assert_eq!(run["state"], "stopped", "{run}");
    assert!(
        run["cause"]
            .as_str()
            .unwrap()
            .contains("stopping rule: skew found"),
        "{run}"
    );
    assert_eq!(run["looks_revision_bound"], 0.1);
    // Stopped at the first collection, a day in, on counts none of which had settled: its
    // look is as of the collection, and the sequence is wider than on the same counts
    // taken as final.
    let store = Store::open_read_only(&db).unwrap();
    let looks = store.looks(1).unwrap();
    assert_eq!(looks[0].as_of.to_rfc3339(), "2026-03-03T00:00:00+00:00");
    let pair = looks[0]
        .looks
        .iter()
        .find_map(|l| l.pair.clone().filter(|_| l.comparison == "delivery-driver"))
        .unwrap();
    assert!(pair.difference.lower > 0.0, "{pair:?}");
    let radius = pair.difference.upper - pair.difference.estimate;
    assert!(radius > 0.09, "widened for revisions: {pair:?}");
    let spend: f64 = run["spend"].as_str().unwrap().parse().unwrap();
    assert!(spend < 0.25 * 500.0, "{spend}");
}

#[test]
fn a_revision_bound_never_makes_a_look_wider_than_on_settled_counts_alone() {
    let tmp = tempfile::tempdir().unwrap();
    // The software engineers' pair: a skew of about 5 points, more than the ±10% bound
    // lets fresh counts show, found once a day has settled (the look at day 4).
    let rule = "rule = \"difference\"\ncomparison = \"software-engineer\"\n";
    let run = |name: &str, extra: &str| {
        let file = stopping_variant(
            tmp.path(),
            &format!("{name}.toml"),
            &(rule.to_string() + extra),
            "recollect_after_days = 3\n",
            "",
        );
        let db = tmp.path().join(format!("{name}.db"));
        run_file(&file, &db);
        let store = Store::open_read_only(&db).unwrap();
        let looks = store.looks(1).unwrap();
        // Made once per collection as it was stored: the same as the replay of them all.
        let exp = adskew::experiment::load::load_with_env(&file, std::iter::empty())
            .unwrap()
            .experiment;
        let settings = adskew::analysis::sequential::SequentialSettings::of(&exp);
        let replayed = adskew::scheduler::looks::compute(&exp, settings, 1, &store, chrono_tz::UTC);
        assert_eq!(replayed.unwrap(), looks, "{name}");
        let spend = status_json(&db)["runs"][0]["spend"].clone();
        (looks, spend)
    };
    let (settled, settled_spend) = run("settled", "");
    let (bounded, bounded_spend) = run("bounded", "revision_bound = 0.1\n");
    let pair = |looks: &[adskew::analysis::sequential::Look]| {
        looks
            .iter()
            .find(|l| l.comparison == "software-engineer")
            .and_then(|l| l.pair.clone())
    };
    let mut compared = 0;
    for s in &settled {
        let b = bounded
            .iter()
            .find(|b| b.collection_id == s.collection_id)
            .unwrap();
        let (s, b) = (pair(&s.looks).unwrap(), pair(&b.looks).unwrap());
        assert!(b.difference.lower >= s.difference.lower, "{b:?} vs {s:?}");
        assert!(b.difference.upper <= s.difference.upper, "{b:?} vs {s:?}");
        compared += 1;
    }
    assert!(compared >= 1);
    // Both stop at the same collection, at the same spend.
    assert_eq!(bounded_spend, settled_spend);
}

#[test]
fn stopping_rules_that_cannot_be_honoured_are_refused_naming_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    for (stopping, field, fix) in [
        (
            "comparison = \"delivery-driver\"\nalpha = 1.5\n",
            "stopping.alpha",
            "strictly between 0 and 1",
        ),
        (
            "comparison = \"drivers\"\n",
            "stopping.comparison",
            "delivery-driver, software-engineer",
        ),
        (
            "alpha = 0.05\n",
            "stopping.comparison",
            "name the comparison the rule watches",
        ),
        (
            "comparison = \"delivery-driver\"\nmax_days = 0.5\n",
            "stopping.max_days",
            "no collection before the maximum",
        ),
        (
            "comparison = \"delivery-driver\"\nrule = \"skew\"\nfutility = true\n",
            "stopping.futility",
            "rule = \"difference\"",
        ),
        (
            "comparison = \"delivery-driver\"\nrevision_bound = 0.5\n",
            "stopping.revision_bound",
            "strictly between 0 and 0.5",
        ),
        (
            "comparison = \"delivery-driver\"\nrule = \"skew\"\nrevision_bound = 0.1\n",
            "stopping.revision_bound",
            "rule = \"difference\"",
        ),
    ] {
        let file = with_stopping(tmp.path(), stopping);
        let out = adskew().arg("validate").arg(&file).assert().code(2);
        let err = stderr_of(&out);
        assert!(
            err.contains(field) && err.contains(fix),
            "{stopping}: {err}"
        );
    }
}

#[test]
fn the_report_draws_the_sequence_as_a_band_and_says_it_is_valid_under_monitoring() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run_campaign("imana2021_paired_jobs.toml", tmp.path());
    let svg = std::fs::read_to_string(dir.join("delivery-driver-sequential-female.svg")).unwrap();
    let collections = status_json(&tmp.path().join("a.db"))["runs"][0]["collections"]
        .as_u64()
        .unwrap() as usize;
    assert_eq!(
        svg.matches("<polygon class=\"band\"").count(),
        1,
        "one band"
    );
    let looks = Store::open_read_only(&tmp.path().join("a.db"))
        .unwrap()
        .looks(1)
        .unwrap()
        .len();
    assert!(
        looks >= 1 && looks < collections,
        "{looks} of {collections}"
    );
    assert_eq!(
        svg.matches("class=\"point\"").count(),
        looks,
        "a point per look"
    );
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("### Anytime-valid results"), "{md}");
    assert!(md.contains("Valid under continuous monitoring"));
    assert!(md.contains("the share of women for `instacart_shopper` minus `dominos_driver`"));
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["anytime_valid"]["alpha"], 0.05);
    assert_eq!(
        results["anytime_valid"]["looks"].as_array().unwrap().len(),
        4
    );
}

#[test]
fn plan_simulates_the_stopping_rule_next_to_the_fixed_horizon() {
    let tmp = tempfile::tempdir().unwrap();
    // The simulator's reporting noise, revised away in a day, and a revision window to
    // match: looks on settled counts (docs/sequential.md), the first two days in.
    let file = stopping_variant(
        tmp.path(),
        "stopping.toml",
        "comparison = \"delivery-driver\"\nmin_days = 1\n",
        "recollect_after_days = 1\n",
        "revision_days = 1\n",
    );
    let plan = plan_json(&file, 12);
    let s = &plan["stopping"];
    assert_eq!(s["rule"], "difference");
    assert_eq!(s["replicates"], 12);
    // A large skew: found at the first look (two days in) in every run, for two fifths
    // of the spend.
    assert_eq!(s["power"], 1.0);
    assert_eq!(s["fixed_power"], 1.0);
    let median = |k: &str| s[k]["median"].as_f64().unwrap();
    assert!(median("spend") < 0.6 * median("fixed_spend"), "{s}");
    assert!(median("days_to_conclusion") <= 2.5, "{s}");
    // The fixed-horizon part is the whole schedule, as without [stopping].
    let fixed = plan["spend"]["median"].as_f64().unwrap();
    assert!(
        (fixed - median("fixed_spend")).abs() < 0.01 * fixed,
        "{plan}"
    );
    for k in ["type_i", "fixed_type_i_peeking", "fixed_type_i"] {
        let x = s[k].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&x), "{k} {x}");
    }
    // A rule that pays: nothing to advise.
    assert_eq!(s["advice"], serde_json::json!([]), "{s}");
    let text = plan_text(&file);
    assert!(text.contains("type-I error, looking every night"), "{text}");
    assert!(text.contains("median days to a conclusion"), "{text}");
}

/// A rule whose looks wait for Meta's 28-day window in a 5-day design concludes only at the
/// re-collection after the end: `plan` says so, and says what to set.
#[test]
fn plan_says_when_the_rule_can_only_conclude_after_the_end() {
    let tmp = tempfile::tempdir().unwrap();
    let file = with_stopping(tmp.path(), "comparison = \"delivery-driver\"\n");
    let advice = plan_json(&file, 4)["stopping"]["advice"]
        .as_array()
        .unwrap()
        .clone();
    let kinds: Vec<&str> = advice.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"waits_for_the_window"), "{advice:?}");
    assert!(kinds.contains(&"no_saving"), "{advice:?}");
    let waits = advice
        .iter()
        .find(|a| a["kind"] == "waits_for_the_window")
        .unwrap();
    assert_eq!(waits["window_days"], 28.0);
    let text = plan_text(&file);
    assert!(text.contains("Note: every look waits 28 days"), "{text}");
    assert!(text.contains("recollect_after_days"), "{text}");
}

/// `adskew plan --json` of `file` with `replicates`.
fn plan_json(file: &Path, replicates: usize) -> Value {
    let out = adskew()
        .args(["plan", "--json", "--replicates", &replicates.to_string()])
        .arg(file)
        .assert()
        .success();
    serde_json::from_str(&stdout_of(&out)).unwrap()
}

/// What `adskew plan` prints for `file` (4 replicates).
fn plan_text(file: &Path) -> String {
    stdout_of(
        &adskew()
            .args(["plan", "--replicates", "4", "--quiet"])
            .arg(file)
            .assert()
            .success(),
    )
}

/// The looks of a two-ad comparison whose sequence is `[lower, upper]`.
fn pair_looks(lower: f64, upper: f64) -> Vec<adskew::analysis::sequential::Look> {
    use adskew::analysis::sequential::difference::DifferenceLook;
    use adskew::analysis::sequential::{Look, PairLook};
    vec![Look {
        comparison: "delivery-driver".into(),
        breakdown: adskew::vocab::Breakdown::Gender,
        log_e: 0.0,
        p_value: 1.0,
        pair: Some(PairLook {
            group: "female".into(),
            ad1: "instacart_shopper".into(),
            ad2: "dominos_driver".into(),
            difference: DifferenceLook {
                estimate: (lower + upper) / 2.0,
                lower,
                upper,
            },
        }),
    }]
}

#[test]
fn the_rule_waits_for_min_days_stops_for_futility_and_at_max_days() {
    use adskew::analysis::sequential::stop::{decide, Conclusion};
    let tmp = tempfile::tempdir().unwrap();
    let file = with_stopping(
        tmp.path(),
        "comparison = \"delivery-driver\"\nmin_days = 2\nmax_days = 4\nfutility = true\nmargin = 0.03\n",
    );
    let exp = adskew::experiment::load::load_with_env(&file, Vec::new())
        .unwrap()
        .experiment;
    let rule = exp.stopping.clone().unwrap();
    let skewed = pair_looks(0.02, 0.08);
    assert_eq!(decide(&exp, &rule, &skewed, 1.0), None, "before min_days");
    assert!(decide(&exp, &rule, &skewed, 2.0).unwrap().found_skew());
    let small = pair_looks(-0.02, 0.025);
    let futile = decide(&exp, &rule, &small, 3.0).unwrap();
    assert!(matches!(futile, Conclusion::Futility { .. }), "{futile:?}");
    assert!(futile.cause().contains("no skew beyond the margin"));
    let open = pair_looks(-0.05, 0.06);
    assert_eq!(decide(&exp, &rule, &open, 3.0), None, "no conclusion yet");
    let out = decide(&exp, &rule, &open, 4.0).unwrap();
    assert_eq!(out, Conclusion::MaxDays { days: 4.0 });
    assert!(!out.found_skew());
}
