//! The pooled two-proportion z-test (Imana et al. 2021's paired test): is a group's share
//! among the people ad 1 reached different from its share among those ad 2 reached?

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

use super::ci::z_critical;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Alternative {
    TwoSided,
    /// Share 1 is larger than share 2.
    Larger,
    /// Share 1 is smaller than share 2.
    Smaller,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZTestResult {
    pub share1: f64,
    pub share2: f64,
    /// share1 - share2.
    pub difference: f64,
    /// Unpooled (Wald) CI of the difference at the requested level.
    pub difference_ci: (f64, f64),
    pub z: f64,
    pub p_value: f64,
    pub alternative: Alternative,
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
    let pooled = (x1 + x2) as f64 / (n1f + n2f);
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
    let se_diff = (p1 * (1.0 - p1) / n1f + p2 * (1.0 - p2) / n2f).sqrt();
    let half = z_critical(level) * se_diff;
    Some(ZTestResult {
        share1: p1,
        share2: p2,
        difference: p1 - p2,
        difference_ci: (p1 - p2 - half, p1 - p2 + half),
        z,
        p_value,
        alternative,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_and_directional() {
        let two = two_proportion_z(60, 100, 40, 100, Alternative::TwoSided, 0.95).unwrap();
        let larger = two_proportion_z(60, 100, 40, 100, Alternative::Larger, 0.95).unwrap();
        assert!((two.z - 2.828_427_124_746_19).abs() < 1e-9);
        assert!((larger.p_value * 2.0 - two.p_value).abs() < 1e-15);
        assert!(two_proportion_z(0, 0, 1, 2, Alternative::TwoSided, 0.95).is_none());
    }
}
