//! The simulator reproduces, qualitatively, what the published audits found, through the
//! whole pipeline (run → store → analysis): the budget effect, image-driven skew, and a
//! neutral control that looks like the eligible audience. Budgets are never exceeded.

use std::path::Path;

mod common;
use common::adskew;
use serde_json::Value;

fn run(file: &str) -> Value {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = adskew();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("campaigns")
        .join(file);
    cmd.args(["run", "--quiet"])
        .arg(&path)
        .arg("--db")
        .arg(tmp.path().join("a.db"))
        .arg("--out")
        .arg(tmp.path());
    cmd.assert().success();
    let name = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    serde_json::from_str(&std::fs::read_to_string(name.join("results.json")).unwrap()).unwrap()
}

/// Share of women per ad in a comparison's gender breakdown.
fn women(r: &Value, comparison: &str) -> Vec<(String, f64)> {
    let c = r["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == comparison)
        .unwrap();
    let b = c["breakdowns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["breakdown"] == "gender")
        .unwrap();
    b["shares"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["group"] == "female")
        .map(|s| {
            (
                s["ad"].as_str().unwrap().to_string(),
                s["share"].as_f64().unwrap(),
            )
        })
        .collect()
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let syy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    sxy / (sxx * syy).sqrt()
}

fn assert_within_budgets(r: &Value, daily_budget_minor: &[(&str, i64)], days: i64) {
    for ad in r["ads"].as_array().unwrap() {
        let key = ad["key"].as_str().unwrap();
        let budget = daily_budget_minor
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, b)| *b)
            .unwrap();
        let spend = ad["spend"].as_i64().unwrap();
        // Rows are rounded to cents: one cent per reported value at most.
        assert!(
            spend <= budget * days + 3,
            "{key} spent {spend} of {}",
            budget * days
        );
        assert!(
            spend >= budget * days * 9 / 10,
            "{key} spends (nearly) its budget: {spend}"
        );
    }
}

#[test]
fn share_of_men_falls_as_budget_rises() {
    let r = run("budget_sweep.toml");
    let budgets = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0];
    let men: Vec<f64> = women(&r, "budgets").iter().map(|(_, w)| 1.0 - w).collect();
    assert_eq!(men.len(), 6);
    for pair in men.windows(2) {
        assert!(pair[1] < pair[0] + 0.005, "share of men by budget {men:?}");
    }
    assert!(
        men[0] - men[5] > 0.05,
        "a clear fall from $1 to $50: {men:?}"
    );
    assert!(men[0] > 0.55, "a $1 budget reaches mostly men: {men:?}");
    let log_budget: Vec<f64> = budgets.iter().map(|b: &f64| b.ln()).collect();
    assert!(pearson(&log_budget, &men) < -0.9, "{men:?}");
    let daily: Vec<(&str, i64)> = vec![
        ("usd01", 100),
        ("usd02", 200),
        ("usd05", 500),
        ("usd10", 1000),
        ("usd20", 2000),
        ("usd50", 5000),
    ];
    assert_within_budgets(&r, &daily, 3);
}

#[test]
fn gender_share_follows_the_image_and_the_control_is_neutral() {
    let r = run("image_variants.toml");
    let w = women(&r, "truck-images");
    let share = |ad: &str| w.iter().find(|(a, _)| a == ad).unwrap().1;
    assert!(share("truck_man") < share("truck_woman"));
    assert!(share("truck_baseline") < share("truck_road"));
    assert!(share("truck_road") < share("truck_lipstick"));
    assert!(
        share("truck_baseline") < 0.3,
        "the plain truck ad goes mostly to men"
    );
    assert!(
        share("truck_lipstick") > 0.7,
        "the lipstick image goes mostly to women"
    );
    // The control has no gender pull: its delivered share is the eligible share (51.5%).
    let control = women(&r, "baseline-vs-control")
        .into_iter()
        .find(|(a, _)| a == "control")
        .unwrap()
        .1;
    assert!(
        (control - 0.51 / 0.99).abs() < 0.02,
        "control share {control}"
    );
    let c = r["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "woman-vs-man-image")
        .unwrap();
    assert_eq!(common::z_test(c)["reject"], true);
    let daily: Vec<(&str, i64)> = [
        "truck_baseline",
        "truck_man",
        "truck_woman",
        "truck_road",
        "truck_lipstick",
        "control",
    ]
    .into_iter()
    .map(|k| (k, 1000))
    .collect();
    assert_within_budgets(&r, &daily, 3);
}
