//! Confidence intervals for a binomial proportion `x / n`.
//!
//! Four methods, because papers differ: Wilson (adskew's default: good coverage at any n),
//! Agresti–Coull (what Ali et al. 2019 report), Clopper–Pearson (exact, conservative) and
//! Wald (for comparison with older work; poor near 0 and 1). Checked against statsmodels'
//! `proportion_confint` in `tests/statistics.rs`.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};
use statrs::function::beta::beta_reg;

use crate::vocab::CiMethod;

/// A confidence interval as `results.json` writes it: how it was made, and its bounds
/// (the strings "nan" when there is nothing to bound, e.g. an ad that reached nobody).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interval {
    pub method: String,
    pub level: f64,
    #[serde(serialize_with = "super::json_number")]
    pub low: f64,
    #[serde(serialize_with = "super::json_number")]
    pub high: f64,
}

impl Interval {
    /// The `method` interval for `x` of `n` at `level`.
    pub fn proportion(x: u64, n: u64, level: f64, method: CiMethod) -> Interval {
        let (low, high) = proportion_ci(x, n, level, method);
        Interval {
            method: method.as_str().to_string(),
            level,
            low,
            high,
        }
    }
}

/// Two-sided standard-normal critical value for a confidence `level` (0.95 -> 1.959964).
pub fn z_critical(level: f64) -> f64 {
    let normal = Normal::new(0.0, 1.0).expect("standard normal");
    normal.inverse_cdf(1.0 - (1.0 - level) / 2.0)
}

/// The interval `(low, high)` for `x` successes out of `n` at confidence `level`.
/// Returns `(NaN, NaN)` when `n == 0`: there is no estimate to bound.
pub fn proportion_ci(x: u64, n: u64, level: f64, method: CiMethod) -> (f64, f64) {
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let (xf, nf) = (x as f64, n as f64);
    let p = xf / nf;
    let z = z_critical(level);
    let z2 = z * z;
    match method {
        CiMethod::Wald => {
            let half = z * (p * (1.0 - p) / nf).sqrt();
            ((p - half).max(0.0), (p + half).min(1.0))
        }
        CiMethod::Wilson => {
            let denom = 1.0 + z2 / nf;
            let centre = (p + z2 / (2.0 * nf)) / denom;
            let half = z * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / denom;
            ((centre - half).max(0.0), (centre + half).min(1.0))
        }
        CiMethod::AgrestiCoull => {
            let n_tilde = nf + z2;
            let p_tilde = (xf + z2 / 2.0) / n_tilde;
            let half = z * (p_tilde * (1.0 - p_tilde) / n_tilde).sqrt();
            ((p_tilde - half).max(0.0), (p_tilde + half).min(1.0))
        }
        CiMethod::ClopperPearson => {
            let tail = (1.0 - level) / 2.0;
            // Closed forms at the edges; otherwise invert the regularised incomplete beta.
            let low = if x == 0 {
                0.0
            } else if x == n {
                tail.powf(1.0 / nf)
            } else {
                beta_quantile(xf, nf - xf + 1.0, tail)
            };
            let high = if x == n {
                1.0
            } else if x == 0 {
                1.0 - tail.powf(1.0 / nf)
            } else {
                beta_quantile(xf + 1.0, nf - xf, 1.0 - tail)
            };
            (low, high)
        }
    }
}

/// The `q` quantile of Beta(a, b), by bisection on statrs' regularised incomplete beta.
/// statrs' own `inverse_cdf` stops at about 1e-5; 200 halvings reach double precision.
fn beta_quantile(a: f64, b: f64, q: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if beta_reg(a, b, mid) < q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn critical_values() {
        assert!((z_critical(0.95) - 1.959_963_984_540_054).abs() < 1e-9);
        assert!((z_critical(0.99) - 2.575_829_303_548_901).abs() < 1e-9);
    }

    #[test]
    fn intervals_contain_the_estimate() {
        for method in CiMethod::ALL {
            let (lo, hi) = proportion_ci(30, 100, 0.95, *method);
            assert!(lo < 0.3 && 0.3 < hi, "{method}: {lo} {hi}");
        }
        assert!(proportion_ci(0, 0, 0.95, CiMethod::Wilson).0.is_nan());
    }
}
