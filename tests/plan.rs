//! `adskew plan`: simulated power must agree with the analytic power of the test it runs,
//! and the analytic mode must answer as statsmodels does.

mod common;
use common::adskew;
use std::path::Path;

use adskew::analysis::power::{cohens_h, power};
use adskew::analysis::ztest::Alternative;
use serde_json::Value;

fn pilot() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns/pilot_two_ads.toml")
}

#[test]
fn simulated_power_matches_analytic_power() {
    let replicates = 400;
    let out = adskew()
        .args(["plan", "--json", "--replicates", &replicates.to_string()])
        .arg(pilot())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let plan: Value = serde_json::from_slice(&out).unwrap();
    let c = &plan["comparisons"][0];
    let simulated = c["power"].as_f64().unwrap();
    let n_a = c["mean_counted"][0][1].as_f64().unwrap();
    let n_b = c["mean_counted"][1][1].as_f64().unwrap();
    // The shares the design produces (the auction amplifies the creative's pull, so they
    // are read from the replicates) and the analytic power of the z-test at those shares.
    let p_a = c["mean_share"][0][1].as_f64().unwrap();
    let p_b = c["mean_share"][1][1].as_f64().unwrap();
    assert!(p_b > p_a + 0.01, "ad b reaches more women: {p_a} {p_b}");
    let analytic = power(
        cohens_h(p_a, p_b),
        n_a,
        0.05,
        n_b / n_a,
        Alternative::TwoSided,
    );
    let se = (analytic * (1.0 - analytic) / replicates as f64).sqrt();
    assert!(
        (0.3..0.95).contains(&analytic),
        "the pilot is designed for a power that can be wrong both ways: {analytic}"
    );
    assert!(
        (simulated - analytic).abs() < 4.0 * se + 0.01,
        "simulated power {simulated} vs analytic {analytic} (MC se {se})"
    );
    // The estimate is centred on the ground truth's difference.
    let mean = c["estimate"]["mean"].as_f64().unwrap();
    let sd = c["estimate"]["sd"].as_f64().unwrap();
    assert!(
        ((p_a - p_b) - mean).abs() < 4.0 * sd / (replicates as f64).sqrt() + 0.003,
        "{mean} vs {}",
        p_a - p_b
    );
    // Spend never exceeds the budgets: 2 ads x $0.50 x 14 days.
    assert!(plan["spend"]["q975"].as_f64().unwrap() <= 14.0);
}

#[test]
fn plan_is_deterministic_for_a_seed() {
    let run = |seed: &str| {
        adskew()
            .args(["plan", "--json", "--replicates", "20", "--seed", seed])
            .arg(pilot())
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    };
    assert_eq!(run("5"), run("5"));
    assert_ne!(run("5"), run("6"));
}

#[test]
fn analytic_mode_answers_like_statsmodels() {
    // statsmodels: NormalIndPower().solve_power(proportion_effectsize(0.5, 0.55), alpha=0.05,
    // power=0.8) = 1564.529...; .power(..., nobs1=1000) = 0.61022 (tests/fixtures).
    adskew()
        .args(["plan", "--p1", "0.5", "--p2", "0.55"])
        .assert()
        .success()
        .stdout(predicates::str::contains("1565 for ad 1"));
    adskew()
        .args(["plan", "--p1", "0.5", "--p2", "0.55", "--n", "1000"])
        .assert()
        .success()
        .stdout(predicates::str::contains("0.6102"));
    adskew()
        .args(["plan", "--p1", "1.5", "--p2", "0.5"])
        .assert()
        .code(2);
    adskew()
        .args([
            "plan",
            "--p1",
            "0.5",
            "--p2",
            "0.55",
            "--alternative",
            "larger",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("against"));
    adskew().args(["plan"]).assert().code(2);
}

/// `plan` analyses each replicate straight from the simulator's last totals, without a
/// store; the answer must be exactly what the full pipeline (store, every collection,
/// `analysis_inputs`) gives for the same seed, on every bundled experiment (designs,
/// several breakdowns, lifetime budgets), or plan's power would not be the power of `run`.
#[test]
fn plan_without_a_store_analyses_exactly_as_the_stored_run() {
    let runtime = adskew::runtime().unwrap();
    let mut compared = 0;
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns")).unwrap()
    {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let exp = adskew::experiment::load(&path, &[adskew::platform::sim::check])
            .unwrap()
            .experiment;
        for seed in [1u64, 7, 1234] {
            let direct = adskew::plan::replicate(&exp, seed, &runtime).unwrap();
            let stored = adskew::plan::replicate_stored(&exp, seed, &runtime).unwrap();
            let view = |a: &adskew::analysis::Analysis| {
                serde_json::json!({
                    "comparisons": a.comparisons,
                    "tests": a.tests,
                    "ads": a.ads,
                    "partitions": a.partitions,
                    "spend": a.data.spend,
                })
            };
            assert_eq!(
                view(&direct),
                view(&stored),
                "{} seed {seed}",
                path.display()
            );
            compared += 1;
        }
    }
    assert!(
        compared >= 18,
        "every bundled experiment compared ({compared})"
    );
}
