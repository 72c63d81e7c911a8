//! adskew's statistics against reference values from scipy and statsmodels.
//!
//! The fixtures come from `scripts/gen_stat_fixtures.py` (committed with the versions that
//! produced them); these tests need no Python.

use adskew::analysis::chisq::chi_square_independence;
use adskew::analysis::ci::proportion_ci;
use adskew::analysis::correction::adjust;
use adskew::analysis::ztest::{two_proportion_z, Alternative};
use adskew::vocab::{CiMethod, Correction};
use serde_json::Value;

fn fixtures() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/statistics.json"
    ))
    .expect("fixtures exist; regenerate with scripts/gen_stat_fixtures.py");
    serde_json::from_str(&text).expect("fixtures parse")
}

/// Relative error, with an absolute floor for values near zero.
fn close(ours: f64, theirs: f64, rel: f64) -> bool {
    if theirs == 0.0 {
        return ours.abs() < rel;
    }
    ((ours - theirs) / theirs).abs() <= rel || (ours - theirs).abs() < 1e-300
}

fn table_of(v: &Value) -> Vec<Vec<u64>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect()
        })
        .collect()
}

#[test]
fn chi_square_matches_scipy() {
    let f = fixtures();
    let cases = f["chi_square"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let table = table_of(&case["table"]);
        let yates = case["yates"].as_bool().unwrap();
        let r = chi_square_independence(&table, yates).expect("testable table");
        let ctx = format!("{table:?} yates={yates}: {r:?}");
        assert!(
            close(r.statistic, case["statistic"].as_f64().unwrap(), 1e-9),
            "statistic {ctx}"
        );
        assert_eq!(r.dof, case["dof"].as_u64().unwrap(), "dof {ctx}");
        assert!(
            close(r.cramers_v, case["cramers_v"].as_f64().unwrap(), 1e-9),
            "V {ctx}"
        );
        let p = case["p_value"].as_f64().unwrap();
        assert!(close(r.p_value, p, 1e-8), "p {ctx} vs {p}");
        let log10_p_value = case["log10_p"].as_f64().unwrap();
        assert!(
            close(r.log10_p_value, log10_p_value, 1e-6),
            "log10 p {ctx} vs {log10_p_value}"
        );
        assert!(
            r.log10_p_value.is_finite(),
            "log10 p is finite even when p underflows: {ctx}"
        );
    }
}

#[test]
fn proportion_cis_match_statsmodels() {
    let f = fixtures();
    for case in f["proportion_ci"].as_array().unwrap() {
        let method = CiMethod::parse(case["method"].as_str().unwrap()).unwrap();
        let (x, n) = (case["x"].as_u64().unwrap(), case["n"].as_u64().unwrap());
        let level = case["level"].as_f64().unwrap();
        let (lo, hi) = proportion_ci(x, n, level, method);
        let (elo, ehi) = (
            case["low"].as_f64().unwrap(),
            case["high"].as_f64().unwrap(),
        );
        // statsmodels leaves Wald and Agresti-Coull unclipped; adskew clips to [0, 1]
        // because a share outside it is meaningless on a chart.
        let (elo, ehi) = (elo.clamp(0.0, 1.0), ehi.clamp(0.0, 1.0));
        let ctx = format!("{method} x={x} n={n} level={level}: ({lo}, {hi}) vs ({elo}, {ehi})");
        assert!(
            close(lo, elo, 1e-9) || (lo - elo).abs() < 1e-12,
            "low {ctx}"
        );
        assert!(
            close(hi, ehi, 1e-9) || (hi - ehi).abs() < 1e-12,
            "high {ctx}"
        );
    }
}

#[test]
fn two_proportion_z_matches_statsmodels() {
    let f = fixtures();
    for case in f["two_proportion_z"].as_array().unwrap() {
        let g = |k: &str| case[k].as_u64().unwrap();
        let alternative = match case["alternative"].as_str().unwrap() {
            "two-sided" => Alternative::TwoSided,
            "larger" => Alternative::Larger,
            _ => Alternative::Smaller,
        };
        let r = two_proportion_z(g("x1"), g("n1"), g("x2"), g("n2"), alternative, 0.95).unwrap();
        let ctx = format!("{case}: {r:?}");
        assert!(
            close(r.statistic, case["z"].as_f64().unwrap(), 1e-9),
            "z {ctx}"
        );
        assert!(
            close(r.p_value, case["p_value"].as_f64().unwrap(), 1e-8),
            "p {ctx}"
        );
        assert!(
            close(r.log10_p_value, case["log10_p"].as_f64().unwrap(), 1e-8),
            "log10 p {ctx}"
        );
        assert!(close(
            r.difference,
            case["difference"].as_f64().unwrap(),
            1e-12
        ));
        assert!(
            close(r.ci.low, case["ci_low"].as_f64().unwrap(), 1e-9)
                && close(r.ci.high, case["ci_high"].as_f64().unwrap(), 1e-9),
            "difference CI {ctx}"
        );
    }
}

#[test]
fn corrections_match_statsmodels() {
    let f = fixtures();
    for case in f["corrections"].as_array().unwrap() {
        let p: Vec<f64> = case["p"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let method = Correction::parse(case["method"].as_str().unwrap()).unwrap();
        let ours = adjust(&p, method);
        let logs: Vec<f64> = p.iter().map(|x| x.log10()).collect();
        let ours_log10 = adskew::analysis::correction::adjust_log10(&logs, method);
        for ((o, l), t) in ours
            .iter()
            .zip(&ours_log10)
            .zip(case["adjusted"].as_array().unwrap())
        {
            let t = t.as_f64().unwrap();
            assert!(
                close(*o, t, 1e-12),
                "{method} {p:?}: {ours:?} vs {}",
                case["adjusted"]
            );
            // The log-domain adjustment gives the same adjusted p.
            assert!(
                (l - t.log10()).abs() < 1e-12,
                "{method} {p:?}: log10 {l} vs {t}"
            );
        }
    }
}

#[test]
fn power_and_sample_size_match_statsmodels() {
    use adskew::analysis::power::{cohens_h, power, sample_size};
    let f = fixtures();
    let cases = f["power"].as_array().unwrap();
    assert!(cases.len() >= 5);
    for case in cases {
        let g = |k: &str| case[k].as_f64().unwrap();
        let alternative = match case["alternative"].as_str().unwrap() {
            "two-sided" => Alternative::TwoSided,
            "larger" => Alternative::Larger,
            _ => Alternative::Smaller,
        };
        let h = cohens_h(g("p1"), g("p2"));
        assert!(close(h, g("h"), 1e-12), "h {case}");
        let p = power(h, g("n"), g("alpha"), g("ratio"), alternative);
        assert!(close(p, g("power_at_n"), 1e-9), "power {case}: {p}");
        let n = sample_size(h, g("alpha"), g("power"), g("ratio"), alternative).unwrap();
        // statsmodels solves with a root finder whose tolerance is about 1e-8 relative.
        assert!(close(n, g("nobs1"), 1e-7), "n {case}: {n}");
    }
}

#[test]
fn g_test_matches_scipy() {
    let f = fixtures();
    let cases = f["g_test"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let table = table_of(&case["table"]);
        let r = adskew::analysis::gtest::g_test_independence(&table).expect("testable table");
        assert_g_matches(&r, case, &format!("{table:?}: {r:?}"));
    }
}

/// A G-test's statistic, degrees of freedom, p and log10 p against scipy's.
fn assert_g_matches(r: &adskew::analysis::gtest::GTestResult, case: &Value, ctx: &str) {
    assert!(
        close(r.statistic, case["statistic"].as_f64().unwrap(), 1e-9),
        "G {ctx} vs {}",
        case["statistic"]
    );
    assert_eq!(r.dof, case["dof"].as_u64().unwrap(), "dof {ctx}");
    assert!(
        close(r.p_value, case["p_value"].as_f64().unwrap(), 1e-8),
        "p {ctx}"
    );
    assert!(
        close(r.log10_p_value, case["log10_p"].as_f64().unwrap(), 1e-6),
        "log10 p {ctx}"
    );
}

#[test]
fn fisher_exact_matches_scipy() {
    let f = fixtures();
    let cases = f["fisher"].as_array().unwrap();
    assert!(cases.len() >= 8);
    for case in cases {
        let t = table_of(&case["table"]);
        let r = adskew::analysis::fisher::fisher_exact([[t[0][0], t[0][1]], [t[1][0], t[1][1]]]);
        let ctx = format!("{t:?}: {r:?}");
        match &case["odds_ratio"] {
            Value::String(s) if s == "inf" => assert!(r.odds_ratio.is_infinite(), "{ctx}"),
            Value::String(s) if s == "nan" => assert!(r.odds_ratio.is_nan(), "{ctx}"),
            v => assert!(
                close(r.odds_ratio, v.as_f64().unwrap(), 1e-12),
                "odds {ctx}"
            ),
        }
        assert!(
            close(r.p_value, case["p_value"].as_f64().unwrap(), 1e-8),
            "p {ctx}"
        );
        assert!(
            close(r.log10_p_value, case["log10_p"].as_f64().unwrap(), 1e-8),
            "log10 p {ctx}"
        );
        // Infinite and undefined odds ratios stay distinguishable in JSON.
        let json = serde_json::to_value(&r).unwrap();
        if r.odds_ratio.is_infinite() {
            assert_eq!(json["odds_ratio"], "inf");
        } else if r.odds_ratio.is_nan() {
            assert_eq!(json["odds_ratio"], "nan");
        }
    }
}

#[test]
fn goodness_of_fit_matches_scipy() {
    let f = fixtures();
    let cases = f["goodness_of_fit"].as_array().unwrap();
    assert!(cases.len() >= 5);
    for case in cases {
        let observed: Vec<u64> = case["observed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        let shares: Vec<f64> = case["shares"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let r = adskew::analysis::gtest::goodness_of_fit(&observed, &shares).unwrap();
        let ctx = format!("{observed:?} vs {shares:?}: {r:?}");
        assert!(
            close(r.statistic, case["statistic"].as_f64().unwrap(), 1e-9),
            "statistic {ctx}"
        );
        assert_eq!(r.dof, case["dof"].as_u64().unwrap());
        assert!(
            close(r.p_value, case["p_value"].as_f64().unwrap(), 1e-8),
            "p {ctx}"
        );
        assert!(
            close(r.log10_p_value, case["log10_p"].as_f64().unwrap(), 1e-6),
            "log10 p {ctx}"
        );
        assert!(
            close(
                r.total_variation,
                case["total_variation"].as_f64().unwrap(),
                1e-12
            ),
            "TVD {ctx}"
        );
    }
}

/// Counts near u64::MAX: sums do not wrap (Cramér's V was 515190040.7), and every statistic
/// is the small table's, scaled as it should be.
#[test]
fn counts_near_u64_max_do_not_wrap() {
    let scale = u64::MAX / 4;
    let small = [vec![3u64, 1], vec![1, 3]];
    let big: Vec<Vec<u64>> = small
        .iter()
        .map(|r| r.iter().map(|n| n * scale).collect())
        .collect();
    let (s, b) = (
        chi_square_independence(&small, false).unwrap(),
        chi_square_independence(&big, false).unwrap(),
    );
    assert!(close(b.cramers_v, s.cramers_v, 1e-12), "{b:?}");
    assert!(
        close(b.statistic, s.statistic * scale as f64, 1e-12),
        "{b:?}"
    );
    assert!(
        b.log10_p_value.is_finite() && b.log10_p_value < -1e18,
        "{b:?}"
    );
    let g = adskew::analysis::gtest::g_test_independence(&big).unwrap();
    let g_small = adskew::analysis::gtest::g_test_independence(&small).unwrap();
    assert!(close(g.statistic, g_small.statistic * scale as f64, 1e-12));
    let z = two_proportion_z(
        big[0][0],
        4 * scale,
        big[1][0],
        4 * scale,
        Alternative::TwoSided,
        0.95,
    )
    .unwrap();
    assert!(
        close(z.share1, 0.75, 1e-15) && close(z.share2, 0.25, 1e-15),
        "{z:?}"
    );
    assert!(
        close(z.statistic, (2.0 * scale as f64).sqrt(), 1e-9),
        "{z:?}"
    );
    // Fisher's test is left to the chi-square where counts stop being exact in a double.
    assert!(!adskew::analysis::fisher::applies([
        [big[0][0], big[0][1]],
        [big[1][0], big[1][1]]
    ]));
}

/// Fisher's exact test where its tails are longest, near the mode at 10^12 per cell: a
/// finite p that the chi-square test matches at this size, in milliseconds.
#[test]
fn fisher_near_the_mode_of_a_trillion_per_cell_agrees_with_chi_square() {
    let (e, f) = (1_000_000_000_000u64, 999_998_600_000u64);
    let fisher = adskew::analysis::fisher::fisher_exact([[e, f], [f, e]]);
    let chi = chi_square_independence(&[vec![e, f], vec![f, e]], false).unwrap();
    assert!(fisher.p_value > 0.01 && fisher.p_value < 0.5, "{fisher:?}");
    assert!(
        (fisher.log10_p_value - chi.log10_p_value).abs() < 1e-4,
        "{fisher:?} vs {chi:?}"
    );
}

/// `alternative` as the fixtures spell it (scipy's words).
fn alternative_of(v: &Value) -> Alternative {
    Alternative::parse(v.as_str().unwrap()).expect("a known alternative")
}

#[test]
fn one_sided_fisher_matches_scipy() {
    // scipy.stats.fisher_exact(table, alternative="greater" / "less"), log10 p from mpmath.
    let f = fixtures();
    let cases = f["fisher_one_sided"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for case in cases {
        let t = table_of(&case["table"]);
        let alternative = alternative_of(&case["alternative"]);
        let r = adskew::analysis::fisher::fisher_exact_alternative(
            [[t[0][0], t[0][1]], [t[1][0], t[1][1]]],
            alternative,
        );
        let ctx = format!("{t:?} {alternative:?}: {r:?}");
        assert!(
            close(r.p_value, case["p_value"].as_f64().unwrap(), 1e-8),
            "p {ctx} vs {}",
            case["p_value"]
        );
        assert!(
            close(r.log10_p_value, case["log10_p"].as_f64().unwrap(), 1e-8),
            "log10 p {ctx} vs {}",
            case["log10_p"]
        );
        assert_eq!(r.alternative, alternative);
    }
}

#[test]
fn g_test_with_yates_matches_scipy() {
    // scipy.stats.chi2_contingency(table, correction=True, lambda_="log-likelihood"):
    // corrected on 2 × 2 tables, the plain G-test on larger ones.
    let f = fixtures();
    let cases = f["g_test_yates"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let table = table_of(&case["table"]);
        let r = adskew::analysis::gtest::g_test(&table, true).expect("testable table");
        let ctx = format!("{table:?}: {r:?}");
        let two_by_two = table.len() == 2 && table[0].len() == 2;
        assert_eq!(r.yates, two_by_two, "{ctx}");
        assert_g_matches(&r, case, &ctx);
    }
}

#[test]
fn expected_frequencies_match_scipy() {
    // scipy.stats.chi2_contingency(table).expected_freq.
    let f = fixtures();
    let cases = f["expected_frequencies"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let table = table_of(&case["table"]);
        let ours = adskew::analysis::chisq::expected_frequencies(&table);
        let theirs = case["expected"].as_array().unwrap();
        assert_eq!(ours.len(), theirs.len(), "{table:?}");
        for (row, their_row) in ours.iter().zip(theirs) {
            for (o, t) in row.iter().zip(their_row.as_array().unwrap()) {
                assert!(
                    close(*o, t.as_f64().unwrap(), 1e-12),
                    "{table:?}: {ours:?} vs {theirs:?}"
                );
            }
        }
    }
}
