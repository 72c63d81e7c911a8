//! `[stopping]`: the optional early-stopping rule of an experiment (issue 18). Under it,
//! a collection whose anytime-valid look reaches a conclusion pauses everything, so money
//! is not spent on days the answer did not need; the looks stay valid under continuous
//! monitoring (`analysis::sequential`).

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use super::validate::Checker;
use super::{Comparison, Schedule};
use crate::analysis::sequential::DEFAULT_PLANNED_REACH;

/// `[stopping]` as written.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct RawStopping {
    /// `difference` or `skew`.
    pub rule: Option<String>,
    /// The comparison watched (default: the only one).
    pub comparison: Option<String>,
    pub alpha: Option<f64>,
    pub min_days: Option<f64>,
    pub max_days: Option<f64>,
    pub futility: Option<bool>,
    pub margin: Option<f64>,
    pub planned_reach: Option<f64>,
    pub revision_bound: Option<f64>,
}

crate::vocabulary!(
    /// What concludes a run: the confidence sequence of the paired comparison's difference
    /// excludes zero (`difference`), or the always-valid p-value of skew across the
    /// comparison's ads reaches α (`skew`).
    StoppingRule { Difference => "difference", Skew => "skew" }
);

/// The validated `[stopping]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stopping {
    pub rule: StoppingRule,
    pub comparison: String,
    pub alpha: f64,
    /// No stop before this many days since the start (a weekday/weekend cycle, say).
    pub min_days: f64,
    /// The run ends by this many days at the latest (the schedule's duration by default).
    pub max_days: f64,
    /// Also stop when the difference's sequence lies inside ±`margin`: no skew worth the
    /// money is left to find.
    pub futility: bool,
    pub margin: f64,
    /// Where the confidence sequence is tightest (people, both ads together).
    pub planned_reach: u64,
    /// A declared bound on how far, relatively, the platform may still revise a count it
    /// has not settled: with it the difference's sequence also reads the unsettled days,
    /// widened by what the bound lets them change (`analysis::sequential::revision`);
    /// without it (the default) the sequence waits for the revision window.
    #[serde(default)]
    pub revision_bound: Option<f64>,
}

/// Checks `[stopping]` against the schedule and comparisons, naming each field and fix.
pub(super) fn check_stopping(
    c: &mut Checker,
    raw: &RawStopping,
    schedule: &Schedule,
    comparisons: &[Comparison],
) -> Stopping {
    let rule = match raw.rule.as_deref().map(|r| (r, StoppingRule::parse(r))) {
        None => StoppingRule::Difference,
        Some((_, Some(rule))) => rule,
        Some((r, None)) => {
            c.problem(
                "stopping.rule",
                format!("`{r}` is not a stopping rule"),
                &format!("use one of: {}", StoppingRule::choices()),
            );
            StoppingRule::Difference
        }
    };
    let comparison = check_comparison(c, raw, rule, comparisons);
    let alpha = raw.alpha.unwrap_or(0.05);
    if !(alpha > 0.0 && alpha < 1.0) {
        c.problem(
            "stopping.alpha",
            format!("must be strictly between 0 and 1 (got {alpha})"),
            "the level kept over every look together, e.g. alpha = 0.05",
        );
    }
    let (min_days, max_days) = check_days(c, raw, schedule);
    let futility = raw.futility.unwrap_or(false);
    let margin = raw.margin.unwrap_or(0.05);
    if futility && rule == StoppingRule::Skew {
        c.problem(
            "stopping.futility",
            "futility needs rule = \"difference\" (a margin on the difference of shares)",
            "set rule = \"difference\", or futility = false",
        );
    }
    if !(margin > 0.0 && margin < 1.0) {
        c.problem(
            "stopping.margin",
            format!("must be strictly between 0 and 1 (got {margin})"),
            "the smallest difference of shares worth finding, e.g. margin = 0.05",
        );
    }
    let planned_reach = c.number_in(
        raw.planned_reach,
        "stopping.planned_reach",
        DEFAULT_PLANNED_REACH as f64,
        100.0..=1e12,
        "the people both ads together are expected to reach",
    ) as u64;
    let revision_bound = check_revision_bound(c, raw, rule);
    Stopping {
        rule,
        comparison,
        alpha,
        min_days,
        max_days,
        futility,
        margin,
        planned_reach,
        revision_bound,
    }
}

/// `revision_bound`: a relative bound in (0, 0.5), for the difference rule (the skew
/// rule's e-value reads settled counts only).
fn check_revision_bound(c: &mut Checker, raw: &RawStopping, rule: StoppingRule) -> Option<f64> {
    let bound = raw.revision_bound?;
    if !(bound > 0.0 && bound < 0.5) {
        c.problem(
            "stopping.revision_bound",
            format!("must be strictly between 0 and 0.5 (got {bound})"),
            "the largest relative revision of an unsettled count, e.g. revision_bound = 0.1, \
             or leave it out to look on settled counts only",
        );
    } else if rule == StoppingRule::Skew {
        c.problem(
            "stopping.revision_bound",
            "applies to rule = \"difference\" only (the skew rule reads settled counts)",
            "set rule = \"difference\", or leave revision_bound out",
        );
    }
    Some(bound)
}

/// The comparison watched: named, or the only one; it must exist, and the difference rule
/// needs two ads.
fn check_comparison(
    c: &mut Checker,
    raw: &RawStopping,
    rule: StoppingRule,
    comparisons: &[Comparison],
) -> String {
    let keys: Vec<&str> = comparisons.iter().map(|c| c.key.as_str()).collect();
    let key = match (&raw.comparison, keys.as_slice()) {
        (Some(k), _) => k.clone(),
        (None, [only]) => only.to_string(),
        (None, _) => {
            c.problem(
                "stopping.comparison",
                "is required when the experiment has more than one comparison",
                &format!(
                    "name the comparison the rule watches, one of: {}",
                    keys.join(", ")
                ),
            );
            return String::new();
        }
    };
    match comparisons.iter().find(|cmp| cmp.key == key) {
        None => c.problem(
            "stopping.comparison",
            format!("`{key}` is not a comparison of this experiment"),
            &format!("use one of: {}", keys.join(", ")),
        ),
        Some(cmp) if rule == StoppingRule::Difference && cmp.ads.len() != 2 => c.problem(
            "stopping.rule",
            format!(
                "the difference rule needs two ads; comparison `{key}` has {}",
                cmp.ads.len()
            ),
            "use rule = \"skew\" for a comparison of more ads, or compare two ads",
        ),
        Some(_) => {}
    }
    key
}

/// Minimum and maximum days: a maximum within the schedule with a collection before it,
/// and a minimum no later than the maximum.
fn check_days(c: &mut Checker, raw: &RawStopping, schedule: &Schedule) -> (f64, f64) {
    let days = |d: TimeDelta| d.num_seconds() as f64 / 86_400.0;
    let scheduled = days(schedule.duration);
    let max_days = raw.max_days.unwrap_or(scheduled);
    let min_days = raw.min_days.unwrap_or(0.0);
    let every = days(schedule.collect_every);
    if !(max_days > 0.0 && max_days <= scheduled) {
        c.problem(
            "stopping.max_days",
            format!("must be above 0 and at most the schedule's {scheduled} days (got {max_days})"),
            "the latest day the run may end; leave it out to use the schedule's duration",
        );
    } else if max_days < every {
        c.problem(
            "stopping.max_days",
            format!(
                "{max_days} days leaves no collection before the maximum (one every {} hours)",
                every * 24.0
            ),
            "raise max_days to at least one collection interval, or collect more often \
             (schedule.collect_every_hours)",
        );
    }
    if !(min_days >= 0.0 && min_days <= max_days) {
        c.problem(
            "stopping.min_days",
            format!("must be between 0 and max_days {max_days} (got {min_days})"),
            "the first day a conclusion may stop the run, e.g. min_days = 3",
        );
    }
    (min_days, max_days)
}
