//! The pooled two-proportion z-test (Imana et al. 2021's paired test): is a group's share
//! among the people ad 1 reached different from its share among those ad 2 reached?

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use super::chisq::chi2_sf;
use super::ci::{z_critical, Interval};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Alternative {
    TwoSided,
    /// Share 1 is larger than share 2.
    Larger,
    /// Share 1 is smaller than share 2.
    Smaller,
}

impl Alternative {
    /// The spelling `results.json` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Alternative::TwoSided => "two-sided",
            Alternative::Larger => "larger",
            Alternative::Smaller => "smaller",
        }
    }

    /// An alternative as a user writes it: scipy's words (`two-sided`, `greater`, `less`)
    /// or statsmodels' (`two-sided`, `larger`, `smaller`), in any case.
    pub fn parse(s: &str) -> Option<Alternative> {
        match s.trim().to_ascii_lowercase().as_str() {
            "two-sided" | "two_sided" => Some(Alternative::TwoSided),
            "greater" | "larger" => Some(Alternative::Larger),
            "less" | "smaller" => Some(Alternative::Smaller),
            _ => None,
        }
    }

    /// For `skip_serializing_if`: a two-sided test writes no `alternative`.
    pub fn is_two_sided(&self) -> bool {
        *self == Alternative::TwoSided
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZTestResult {
    pub share1: f64,
    pub share2: f64,
    /// The z statistic, from the pooled standard error.
    pub statistic: f64,
    pub p_value: f64,
    /// log10 of the p-value, finite where `p_value` underflows to 0.
    pub log10_p_value: f64,
    pub alternative: Alternative,
    /// share1 - share2.
    pub difference: f64,
    /// Unpooled (Wald) CI of the difference at the requested level (two-sided, also when
    /// the test is one-sided).
    pub ci: Interval,
}

/// Tests `x1/n1` against `x2/n2`. `None` if either ad reached nobody or the pooled share is
/// 0 or 1 (no variance to test against).
pub fn two_proportion_z(
    x1: u64,
    n1: u64,
    x2: u64,
    n2: u64,
    alternative: Alternative,
    level: f64,
) -> Option<ZTestResult> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let (p1, p2) = (x1 as f64 / n1f, x2 as f64 / n2f);
    let pooled = (x1 as f64 + x2 as f64) / (n1f + n2f);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f)).sqrt();
    if se == 0.0 {
        return None;
    }
    let z = (p1 - p2) / se;
    let normal = Normal::new(0.0, 1.0).expect("standard normal");
    let p_value = match alternative {
        Alternative::TwoSided => 2.0 * normal.sf(z.abs()),
        Alternative::Larger => normal.sf(z),
        Alternative::Smaller => normal.cdf(z),
    };
    // Far in a tail, through z² ~ chi-square(1): P(|Z| > |z|) = Q(z²), whose log stays
    // finite; a one-sided tail is half of it.
    let log10_two_sided = chi2_sf(z * z, 1.0).1;
    let toward = match alternative {
        Alternative::TwoSided => None,
        Alternative::Larger => Some(z > 0.0),
        Alternative::Smaller => Some(z < 0.0),
    };
    let log10_p_value = match toward {
        None => log10_two_sided,
        Some(true) => log10_two_sided - std::f64::consts::LOG10_2,
        // The far side of a one-sided test: p = 1 − q with q the near tail; log1p keeps
        // the digits that 1 − q would round away.
        Some(false) => (-normal.sf(z.abs())).ln_1p() / std::f64::consts::LN_10,
    };
    let se_diff = (p1 * (1.0 - p1) / n1f + p2 * (1.0 - p2) / n2f).sqrt();
    let half = z_critical(level) * se_diff;
    Some(ZTestResult {
        share1: p1,
        share2: p2,
        statistic: z,
        p_value,
        log10_p_value,
        alternative,
        difference: p1 - p2,
        ci: Interval {
            method: "wald".to_string(),
            level,
            low: p1 - p2 - half,
            high: p1 - p2 + half,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_and_directional() {
        let two = two_proportion_z(60, 100, 40, 100, Alternative::TwoSided, 0.95).unwrap();
        let larger = two_proportion_z(60, 100, 40, 100, Alternative::Larger, 0.95).unwrap();
        assert!((two.statistic - 2.828_427_124_746_19).abs() < 1e-9);
        assert!((larger.p_value * 2.0 - two.p_value).abs() < 1e-15);
        assert!(two_proportion_z(0, 0, 1, 2, Alternative::TwoSided, 0.95).is_none());
        for t in [&two, &larger] {
            assert!((t.log10_p_value - t.p_value.log10()).abs() < 1e-9);
        }
    }

    #[test]
    fn log10_p_stays_finite_far_in_the_tail() {
        // z ≈ 65: p underflows to 0, its logarithm does not. log10 of the normal tail at z
        // is about -z²/(2 ln 10) - log10(z √(2π)).
        let t =
            two_proportion_z(46_000, 77_500, 33_000, 77_800, Alternative::Larger, 0.95).unwrap();
        assert_eq!(t.p_value, 0.0);
        let z = t.statistic;
        let approx = -z * z / (2.0 * std::f64::consts::LN_10)
            - (z * (2.0 * std::f64::consts::PI).sqrt()).log10();
        assert!(
            (t.log10_p_value - approx).abs() < 1e-3,
            "{}",
            t.log10_p_value
        );
    }
}
