//! A confidence sequence for the difference of a group's share between two ads (the paired
//! comparison of Imana et al. 2021), valid at every look, however often one looks.
//!
//! Construction: the asymptotic confidence sequence of Waudby-Smith, Arbour, Sinha,
//! Kennedy & Ramdas (2024, "Time-uniform central limit theory and asymptotic confidence
//! sequences", Ann. Statist.), with Robbins' normal-mixture boundary
//! ([`super::boundary`]), applied to inverse-propensity pseudo-outcomes as `ville`'s
//! `AsymptoticABTest` does: each of the `n = n1 + n2` people reached by the two ads gives
//! `φ = (y − c)/π` if ad 1 reached them and `−(y − c)/(1 − π)` if ad 2 did, with `y = 1`
//! for a member of the group, `π = n1/n` and `c` the pooled share. The mean of φ is the
//! difference of the shares; the sequence is `mean ± σ̂ u(n)/n`.
//!
//! Assumptions (said in `docs/sequential.md`): people reached are independent draws from
//! each ad's delivered audience (a platform's delivery drifts over days; the sequence
//! covers the cumulative share at each look), counts are exact (a platform's reach is an
//! estimate), and the guarantee is asymptotic (Waudby-Smith et al.'s Theorem 2.2), so no
//! sequence is given before [`MIN_PEOPLE`] people. Because it depends on the counts only,
//! it is computed from the cumulative counts at each collection, order-free.

use serde::Serialize;

use super::boundary::{best_rho, normal_mixture};
use crate::analysis::json_number;

/// People (both ads together) before the asymptotic sequence is given, as `ville`'s
/// `AsymptoticCS(min_samples=100)`.
pub const MIN_PEOPLE: u64 = 100;

/// One look of the sequence for `share(ad 1) − share(ad 2)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DifferenceLook {
    /// The observed difference of shares.
    #[serde(serialize_with = "json_number")]
    pub estimate: f64,
    /// The sequence at this look (not clipped to [−1, 1]; see [`DifferenceLook::clipped`]).
    #[serde(serialize_with = "json_number")]
    pub lower: f64,
    #[serde(serialize_with = "json_number")]
    pub upper: f64,
}

impl DifferenceLook {
    /// Whether the sequence has left out `value` (0: the ads differ).
    pub fn excludes(&self, value: f64) -> bool {
        self.lower > value || self.upper < value
    }

    /// The bounds within the possible range of a difference of shares.
    pub fn clipped(&self) -> (f64, f64) {
        (self.lower.max(-1.0), self.upper.min(1.0))
    }
}

/// The sequence at the look where ad 1 reached `x1` of the group among `n1` people and ad 2
/// `x2` among `n2`, at level `alpha`, tightest near `t_opt` people in all. `None` before
/// [`MIN_PEOPLE`] people or while an ad has reached nobody.
pub fn difference_look(
    x1: u64,
    n1: u64,
    x2: u64,
    n2: u64,
    alpha: f64,
    t_opt: f64,
) -> Option<DifferenceLook> {
    let n = n1.checked_add(n2)?;
    if x1 > n1 || x2 > n2 {
        return None;
    }
    difference_look_real(x1 as f64, n1 as f64, x2 as f64, n2 as f64, alpha, t_opt)
        .filter(|_| n >= MIN_PEOPLE)
}

/// [`difference_look`] on real-valued counts (a count a platform may still revise is known
/// only to lie in a range, [`super::revision`]); the same arithmetic. `None` before
/// [`MIN_PEOPLE`] people, while an ad has reached nobody, or for impossible counts.
pub fn difference_look_real(
    x1: f64,
    n1: f64,
    x2: f64,
    n2: f64,
    alpha: f64,
    t_opt: f64,
) -> Option<DifferenceLook> {
    let n = n1 + n2;
    let possible = |x: f64, m: f64| x >= 0.0 && x <= m;
    if n < MIN_PEOPLE as f64 || n1 <= 0.0 || n2 <= 0.0 || !possible(x1, n1) || !possible(x2, n2) {
        return None;
    }
    let pi = n1 / n;
    let c = (x1 + x2) / n;
    let estimate = x1 / n1 - x2 / n2;
    // Σφ² over each ad's members (y = 1) and others (y = 0).
    let squares = |x: f64, m: f64, w: f64| (x * (1.0 - c).powi(2) + (m - x) * c * c) / (w * w);
    let sum_sq = squares(x1, n1, pi) + squares(x2, n2, 1.0 - pi);
    let var = ((sum_sq - n * estimate * estimate) / (n - 1.0)).max(0.0);
    let radius = var.sqrt() * normal_mixture(n, alpha, best_rho(t_opt, alpha)) / n;
    Some(DifferenceLook {
        estimate,
        lower: estimate - radius,
        upper: estimate + radius,
    })
}
