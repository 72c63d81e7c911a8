//! Power and sample size of the pooled two-proportion z-test, for planning an audit before
//! money is spent: how many people must each ad reach to detect a given skew?
//!
//! Effect size is Cohen's h = 2 asin(sqrt(p1)) - 2 asin(sqrt(p2)), and power follows the
//! normal approximation used by statsmodels' `NormalIndPower` (both tails counted for a
//! two-sided test), so numbers match what reviewers compute in Python.

use statrs::distribution::{ContinuousCDF, Normal};

use super::ztest::Alternative;

/// Cohen's h between two proportions.
pub fn cohens_h(p1: f64, p2: f64) -> f64 {
    2.0 * p1.sqrt().asin() - 2.0 * p2.sqrt().asin()
}

fn normal() -> Normal {
    Normal::new(0.0, 1.0).expect("standard normal")
}

/// Power to detect effect `h` with `n1` people for ad 1 and `ratio * n1` for ad 2.
pub fn power(h: f64, n1: f64, alpha: f64, ratio: f64, alternative: Alternative) -> f64 {
    let n = 1.0 / (1.0 / n1 + 1.0 / (n1 * ratio));
    let shift = h * n.sqrt();
    let z = normal();
    let tail = match alternative {
        Alternative::TwoSided => alpha / 2.0,
        _ => alpha,
    };
    let mut p = 0.0;
    if matches!(alternative, Alternative::TwoSided | Alternative::Larger) {
        p += z.sf(z.inverse_cdf(1.0 - tail) - shift);
    }
    if matches!(alternative, Alternative::TwoSided | Alternative::Smaller) {
        p += z.cdf(z.inverse_cdf(tail) - shift);
    }
    p
}

/// People ad 1 must reach (ad 2 reaches `ratio` times as many) for the requested power.
/// `None` if the effect is zero or points against a one-sided alternative (no sample size
/// reaches the power).
pub fn sample_size(
    h: f64,
    alpha: f64,
    target: f64,
    ratio: f64,
    alternative: Alternative,
) -> Option<f64> {
    let reachable = match alternative {
        Alternative::TwoSided => h != 0.0,
        Alternative::Larger => h > 0.0,
        Alternative::Smaller => h < 0.0,
    };
    if !reachable || !(0.0..1.0).contains(&target) {
        return None;
    }
    // Power rises monotonically with n; bracket, then bisect to double precision.
    let (mut lo, mut hi) = (1e-9f64, 1.0f64);
    while power(h, hi, alpha, ratio, alternative) < target {
        hi *= 2.0;
        if hi > 1e15 {
            return None;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if power(h, mid, alpha, ratio, alternative) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_size_reaches_the_power() {
        let h = cohens_h(0.55, 0.5);
        let n = sample_size(h, 0.05, 0.8, 1.0, Alternative::TwoSided).unwrap();
        assert!((power(h, n, 0.05, 1.0, Alternative::TwoSided) - 0.8).abs() < 1e-12);
        // The classic pooled-variance formula gives about 1,565 per group for 50% vs 55%.
        assert!((1_560.0..1_570.0).contains(&n), "{n}");
        assert!(sample_size(h, 0.05, 0.8, 1.0, Alternative::Smaller).is_none());
    }
}
