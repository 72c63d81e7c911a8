//! The `[stopping]` rule applied to one collection's looks: whether the run has its answer
//! (or has run out of days), and the cause recorded when it stops. Pure, so the scheduler
//! and `plan`'s simulations decide the same way.

use super::Look;
use crate::experiment::stopping::{Stopping, StoppingRule};
use crate::experiment::Experiment;
use crate::vocab::Breakdown;

/// How every cause of a stop by the rule begins (`status`, alerts and the report read it).
pub const STOPPING_RULE: &str = "stopping rule";

/// What ended a run under `[stopping]`.
#[derive(Debug, Clone, PartialEq)]
pub enum Conclusion {
    /// Skew found: the sequence left out zero, or the always-valid p-value reached α.
    Skew { detail: String },
    /// No skew worth finding is left: the sequence lies inside ±margin.
    Futility { detail: String },
    /// The maximum duration came with no conclusion.
    MaxDays { days: f64 },
}

impl Conclusion {
    /// Whether the rule found skew.
    pub fn found_skew(&self) -> bool {
        matches!(self, Conclusion::Skew { .. })
    }

    /// The cause recorded with the stop.
    pub fn cause(&self) -> String {
        match self {
            Conclusion::Skew { detail } => {
                format!("{STOPPING_RULE}: skew found ({detail}); valid under continuous monitoring")
            }
            Conclusion::Futility { detail } => format!(
                "{STOPPING_RULE}: no skew beyond the margin ({detail}); valid under \
                 continuous monitoring"
            ),
            Conclusion::MaxDays { days } => {
                format!("{STOPPING_RULE}: {days} days reached (max_days) with no conclusion")
            }
        }
    }
}

/// The breakdown whose looks the skew rule reads: the first collected.
pub fn skew_breakdown(exp: &Experiment) -> Breakdown {
    exp.collect
        .breakdowns
        .first()
        .copied()
        .unwrap_or(Breakdown::Gender)
}

/// The rule's decision after a collection `days` after the start with these looks; `None`
/// to go on.
pub fn decide(exp: &Experiment, rule: &Stopping, looks: &[Look], days: f64) -> Option<Conclusion> {
    let mine = looks.iter().filter(|l| l.comparison == rule.comparison);
    let found = if days + 1e-9 < rule.min_days {
        None
    } else {
        match rule.rule {
            StoppingRule::Difference => mine
                .filter_map(|l| l.pair.as_ref())
                .find_map(|p| difference_conclusion(rule, p)),
            StoppingRule::Skew => {
                let b = skew_breakdown(exp);
                mine.filter(|l| l.breakdown == b && l.p_value <= rule.alpha)
                    .map(|l| Conclusion::Skew {
                        detail: format!(
                            "always-valid p = {:.3} ≤ α = {} across {}",
                            l.p_value, rule.alpha, b
                        ),
                    })
                    .next()
            }
        }
    };
    let scheduled = exp.schedule.duration.num_seconds() as f64 / 86_400.0;
    found.or_else(|| {
        (rule.max_days < scheduled && days + 1e-9 >= rule.max_days).then_some(Conclusion::MaxDays {
            days: rule.max_days,
        })
    })
}

/// The difference rule on one pair's sequence.
fn difference_conclusion(rule: &Stopping, p: &super::PairLook) -> Option<Conclusion> {
    let (lo, hi) = p.difference.clipped();
    let detail = format!(
        "{}'s share, {} − {}: {:+.3}, sequence [{:+.3}, {:+.3}] at α = {}",
        p.group, p.ad1, p.ad2, p.difference.estimate, lo, hi, rule.alpha
    );
    if p.difference.excludes(0.0) {
        Some(Conclusion::Skew { detail })
    } else if rule.futility && lo > -rule.margin && hi < rule.margin {
        Some(Conclusion::Futility {
            detail: format!("{detail}, inside ±{}", rule.margin),
        })
    } else {
        None
    }
}
