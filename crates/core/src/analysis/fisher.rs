//! Fisher's exact test for a 2 × 2 table: the p-value when counts are too small for the
//! chi-square approximation (a pilot with a few dozen people per ad).
//!
//! Conditional on the margins, the top-left count follows a hypergeometric distribution.
//! The two-sided p-value sums the probabilities of all tables no more likely than the one
//! observed, with scipy's relative tolerance of 1e-7 so that tables equally likely up to
//! rounding count as such. Probabilities are computed in logs (via ln Γ), so margins in the
//! hundreds of thousands neither overflow nor underflow.

use serde::Serialize;
use statrs::function::gamma::ln_gamma;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FisherResult {
    /// The sample odds ratio (a·d)/(b·c): infinite when b·c = 0 < a·d, undefined (NaN)
    /// when both are 0. Reported as in scipy.
    #[serde(serialize_with = "super::json_number")]
    pub odds_ratio: f64,
    pub p_value: f64,
    /// log10 of the p-value, summed in logs: finite where `p_value` underflows to 0.
    pub log10_p_value: f64,
}

fn ln_choose(n: u64, k: u64) -> f64 {
    ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
}

/// Two-sided Fisher's exact test of `[[a, b], [c, d]]`, as scipy's `fisher_exact`.
pub fn fisher_exact(table: [[u64; 2]; 2]) -> FisherResult {
    let [[a, b], [c, d]] = table;
    let odds_ratio = {
        let (num, den) = ((a * d) as f64, (b * c) as f64);
        if den == 0.0 {
            if num == 0.0 {
                f64::NAN
            } else {
                f64::INFINITY
            }
        } else {
            num / den
        }
    };
    let row1 = a + b;
    let col1 = a + c;
    let n = a + b + c + d;
    let lo = col1.saturating_sub(n - row1);
    let hi = row1.min(col1);
    // ln P(X = x) for the hypergeometric count in the top-left cell.
    let ln_p = |x: u64| ln_choose(row1, x) + ln_choose(n - row1, col1 - x) - ln_choose(n, col1);
    let observed = ln_p(a);
    let threshold = observed + (1.0 + 1e-7f64).ln();
    // Sum the tail in logs (relative to its largest term) so it never underflows.
    let tail: Vec<f64> = (lo..=hi).map(ln_p).filter(|lp| *lp <= threshold).collect();
    let largest = tail.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let ln_sum = largest + tail.iter().map(|lp| (lp - largest).exp()).sum::<f64>().ln();
    let ln_sum = ln_sum.min(0.0);
    FisherResult {
        odds_ratio,
        p_value: ln_sum.exp(),
        log10_p_value: ln_sum / std::f64::consts::LN_10,
    }
}
