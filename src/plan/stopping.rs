//! `adskew plan` for an experiment with `[stopping]` (issue 18): the stopping rule
//! simulated, next to the fixed-horizon design it replaces.
//!
//! Each replicate runs the whole schedule on the simulator through the real scheduler and
//! store (with the rule taken out, so nothing stops it) and the rule is then replayed on
//! each collection's look, computed as the scheduler computes it (on the counts settled a
//! revision window before the collection, or under a `revision_bound` on the collection's
//! own, `scheduler::looks::compute`), and the fixed
//! test peeked every night reads the same settled counts: the rule only reads the looks up to the
//! collection it decides at, and the simulator's delivery up to a day does not depend on
//! what happens after it, so the replay stops where the run would have stopped, at the
//! spend it would have spent. The same replicate gives the fixed-horizon design (the test
//! at the last collection, the whole schedule's spend) and the fixed test peeked at every
//! collection. A second set of replicates runs a neutral world (the `[sim]` table without
//! its per-ad engagement, so no ad is skewed) for the type-I errors.

use serde::Serialize;

use super::{replicate_seed, replicate_world, Summary};
use crate::analysis::sequential::settled::{settled_at, settled_rows};
use crate::analysis::sequential::stop::{decide, skew_breakdown};
use crate::analysis::sequential::SequentialSettings;
use crate::analysis::{self, Analysis, Inputs};
use crate::error::{Error, Result};
use crate::experiment::stopping::{Stopping, StoppingRule};
use crate::experiment::Experiment;
use crate::store::Store;

/// What one replicate's run gives: per collection, the days since the start, the spend,
/// whether the rule concluded skew there (or stopped without), and whether the fixed test
/// was significant on the counts so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Night {
    pub days: f64,
    pub spend: f64,
    pub stop: Option<bool>,
    pub fixed_significant: bool,
}

/// The stopping rule against the fixed-horizon design, over simulated replicates.
#[derive(Debug, Clone, Serialize)]
pub struct StoppingPlan {
    pub rule: StoppingRule,
    pub comparison: String,
    pub alpha: f64,
    pub replicates: usize,
    /// `[sim]` as written: the share of runs the rule ends with skew found.
    pub power: f64,
    /// The fixed test at the last collection, uncorrected (one pre-chosen comparison).
    pub fixed_power: f64,
    /// Days from the start to the rule's conclusion (runs that concluded).
    pub days_to_conclusion: Option<Summary>,
    /// Spend until the rule stopped the run (the whole schedule's when it did not).
    pub spend: Option<Summary>,
    /// The fixed-horizon design's spend.
    pub fixed_spend: Option<Summary>,
    /// Neutral world: the share of runs the rule ends with skew found.
    pub type_i: f64,
    /// Neutral world: the fixed test significant at some collection when checked at each.
    pub fixed_type_i_peeking: f64,
    /// Neutral world: the fixed test significant at the last collection.
    pub fixed_type_i: f64,
    /// What to change where the rule cannot do what it is for, in the order to read.
    pub advice: Vec<StoppingAdvice>,
}

/// Why a stopping rule does not pay in a design, as `plan` finds it (each with its fix).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StoppingAdvice {
    /// Every look waits for the revision window (no `revision_bound`), which is at least
    /// as long as the rule's days: no day settles before the end, so the rule can
    /// conclude only at the re-collection after it.
    WaitsForTheWindow { window_days: f64, max_days: f64 },
    /// The rule finds the skew in clearly fewer runs than the fixed test (by more than
    /// two standard errors of the difference): a sequence valid at every look is wider
    /// than one test's interval at the same reach.
    LessPower { power: f64, fixed_power: f64 },
    /// The rule's median spend is within 5% of the fixed design's: it saves nothing.
    NoSaving,
}

/// The advice `plan` gives on `rule` from what the replicates found.
fn advice(exp: &Experiment, rule: &Stopping, plan: &StoppingPlan) -> Vec<StoppingAdvice> {
    let mut out = Vec::new();
    let window_days = exp.schedule.recollect_after.num_seconds() as f64 / 86_400.0;
    if rule.revision_bound.is_none() && window_days >= rule.max_days {
        out.push(StoppingAdvice::WaitsForTheWindow {
            window_days,
            max_days: rule.max_days,
        });
    }
    let n = plan.replicates.max(1) as f64;
    let var = |p: f64| p * (1.0 - p) / n;
    let se = (var(plan.power) + var(plan.fixed_power)).sqrt();
    if plan.power + 2.0 * se < plan.fixed_power {
        out.push(StoppingAdvice::LessPower {
            power: plan.power,
            fixed_power: plan.fixed_power,
        });
    }
    if let (Some(spend), Some(fixed)) = (&plan.spend, &plan.fixed_spend) {
        if spend.median >= 0.95 * fixed.median {
            out.push(StoppingAdvice::NoSaving);
        }
    }
    out
}

/// The experiment with the simulator's per-ad engagement taken out: no ad is skewed.
pub fn neutral(exp: &Experiment) -> Experiment {
    let mut exp = exp.clone();
    exp.sim.remove("ads");
    exp
}

/// Whether the fixed test of the rule's comparison rejects in `a`, uncorrected.
fn fixed_significant(exp: &Experiment, rule: &Stopping, a: &Analysis) -> bool {
    let Some(c) = a.comparisons.iter().find(|c| c.key == rule.comparison) else {
        return false;
    };
    match rule.rule {
        StoppingRule::Difference => c.paired().is_some_and(|p| p.test.p_value <= rule.alpha),
        StoppingRule::Skew => c
            .breakdowns
            .iter()
            .find(|b| b.breakdown == skew_breakdown(exp))
            .and_then(|b| b.chi2.as_ref())
            .is_some_and(|t| t.p_value <= rule.alpha),
    }
}

/// Runs one replicate of `exp` (without a `[stopping]` of its own) to the end and replays
/// `rule` on it.
pub fn nights(
    exp: &Experiment,
    rule: &Stopping,
    seed: u64,
    runtime: &tokio::runtime::Runtime,
) -> Result<Vec<Night>> {
    let (free, platform, clock) = replicate_world(exp, seed)?;
    let mut store = Store::open_in_memory()?;
    let run = crate::scheduler::run(&free, &platform, clock.as_ref(), &mut store, &());
    let outcome = runtime.block_on(run)?;
    let record = store.find_experiment(&outcome.experiment_id.to_string())?;
    let start = record
        .planned_start
        .ok_or_else(|| Error::StoredData("a simulated run without a planned start".into()))?;
    let tz = runtime.block_on(crate::scheduler::check_account(&free, &platform))?;
    // The looks at the rule's level and planned reach, as the scheduler stores them (this
    // run had no rule to give them).
    let settings = SequentialSettings::of_rule(rule);
    let looks: std::collections::BTreeMap<i64, Vec<_>> =
        crate::scheduler::looks::compute(&free, settings, record.id, &store, tz)?
            .into_iter()
            .map(|c| (c.collection_id, c.looks))
            .collect();
    let mut history = std::collections::BTreeMap::new();
    for b in &free.collect.breakdowns {
        history.insert(*b, store.total_snapshots(record.id, *b)?);
    }
    let eligible = crate::analysis_inputs(&store, &record)?.platform_eligible;
    let mut out = Vec::new();
    for c in store.collections(record.id)? {
        let at = crate::store::parse_time(&c.platform_time)?;
        let days = (at - start).num_seconds() as f64 / 86_400.0;
        // The fixed test peeked on the same settled counts as the looks.
        let through = settled_at(at, free.schedule.recollect_after, tz).through;
        let totals: std::collections::BTreeMap<_, Vec<_>> = history
            .iter()
            .map(|(b, rows)| {
                let at: Vec<_> = rows
                    .iter()
                    .filter(|(id, _)| *id == c.id)
                    .map(|(_, r)| r.clone())
                    .collect();
                (*b, settled_rows(&at, through))
            })
            .collect();
        let settled = totals.values().any(|rows| !rows.is_empty());
        let mut night = Inputs::new(
            record.clone(),
            free.clone(),
            vec![c.clone()],
            totals,
            Default::default(),
            None,
        );
        night.platform_eligible = eligible.clone();
        let l = looks.get(&c.id).map_or(&[][..], |v| v);
        out.push(Night {
            days,
            spend: c.spend.as_major(),
            stop: decide(&free, rule, l, days).map(|c| c.found_skew()),
            fixed_significant: settled
                && fixed_significant(&free, rule, &analysis::analyze(&night)),
        });
    }
    Ok(out)
}

/// Where the rule ends a run: the first collection it decides at (the last collection
/// when it never does), with whether it found skew.
fn stopped_at(nights: &[Night]) -> Option<(&Night, bool)> {
    let last = nights.last()?;
    Some(
        nights
            .iter()
            .find_map(|n| n.stop.map(|skew| (n, skew)))
            .unwrap_or((last, false)),
    )
}

/// Replicates `0..replicates` of `exp` (seeds from `seed`), run on all cores.
fn replicate_all(
    exp: &Experiment,
    rule: &Stopping,
    replicates: usize,
    seed: u64,
    progress: &indicatif::ProgressBar,
) -> Result<Vec<Vec<Night>>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(replicates.max(1));
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || {
                    let runtime = crate::runtime()?;
                    let mut out = Vec::new();
                    for r in (w..replicates).step_by(workers) {
                        let s = replicate_seed(seed, r as u64);
                        out.push((r, nights(exp, rule, s, &runtime)?));
                        progress.inc(1);
                    }
                    Ok::<_, Error>(out)
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.join().expect("plan worker panicked")?);
        }
        all.sort_by_key(|(r, _)| *r);
        Ok(all.into_iter().map(|(_, n)| n).collect())
    })
}

/// The share of `runs` for which `hit` holds.
fn share(runs: &[Vec<Night>], hit: impl Fn(&[Night]) -> bool) -> f64 {
    runs.iter().filter(|n| hit(n)).count() as f64 / runs.len().max(1) as f64
}

/// Simulates `exp`'s `[stopping]` rule: `replicates` runs of the world `[sim]` describes and
/// as many of a neutral one.
pub fn simulate_stopping(
    exp: &Experiment,
    rule: &Stopping,
    replicates: usize,
    seed: u64,
    progress: &indicatif::ProgressBar,
) -> Result<StoppingPlan> {
    let skewed = replicate_all(exp, rule, replicates, seed, progress)?;
    let null = replicate_all(&neutral(exp), rule, replicates, seed ^ 0x5eed, progress)?;
    let ends: Vec<(&Night, bool)> = skewed.iter().filter_map(|n| stopped_at(n)).collect();
    let concluded: Vec<f64> = ends
        .iter()
        .filter(|(_, skew)| *skew)
        .map(|(n, _)| n.days)
        .collect();
    let last_spend: Vec<f64> = skewed
        .iter()
        .filter_map(|n| n.last())
        .map(|n| n.spend)
        .collect();
    let at_end = |n: &[Night]| n.last().is_some_and(|l| l.fixed_significant);
    let mut plan = StoppingPlan {
        rule: rule.rule,
        comparison: rule.comparison.clone(),
        alpha: rule.alpha,
        replicates,
        power: share(&skewed, |n| stopped_at(n).is_some_and(|(_, skew)| skew)),
        fixed_power: share(&skewed, at_end),
        days_to_conclusion: Summary::of(&concluded),
        spend: Summary::of(&ends.iter().map(|(n, _)| n.spend).collect::<Vec<_>>()),
        fixed_spend: Summary::of(&last_spend),
        type_i: share(&null, |n| stopped_at(n).is_some_and(|(_, skew)| skew)),
        fixed_type_i_peeking: share(&null, |n| n.iter().any(|x| x.fixed_significant)),
        fixed_type_i: share(&null, at_end),
        advice: Vec::new(),
    };
    plan.advice = advice(exp, rule, &plan);
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::load::load_with_env;

    /// The paired example, whose revision window (28 days by default) outlasts its 5 days.
    fn example() -> Experiment {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("campaigns/imana2021_paired_jobs.toml");
        load_with_env(&path, Vec::new()).unwrap().experiment
    }

    fn rule(revision_bound: Option<f64>) -> Stopping {
        Stopping {
            rule: StoppingRule::Difference,
            comparison: "delivery-driver".into(),
            alpha: 0.05,
            min_days: 0.0,
            max_days: 5.0,
            futility: false,
            margin: 0.05,
            planned_reach: 10_000,
            revision_bound,
        }
    }

    fn plan(power: f64, fixed_power: f64, spend: f64, fixed_spend: f64) -> StoppingPlan {
        let at = |x: f64| Summary::of(&[x]);
        StoppingPlan {
            rule: StoppingRule::Difference,
            comparison: "delivery-driver".into(),
            alpha: 0.05,
            replicates: 100,
            power,
            fixed_power,
            days_to_conclusion: at(2.0),
            spend: at(spend),
            fixed_spend: at(fixed_spend),
            type_i: 0.0,
            fixed_type_i_peeking: 0.2,
            fixed_type_i: 0.05,
            advice: Vec::new(),
        }
    }

    #[test]
    fn advice_names_what_keeps_the_rule_from_paying() {
        let exp = example();
        // Power lost beyond two standard errors (0.3 against 0.8 of 100 runs), no saving,
        // and looks that wait for a window longer than the rule's days.
        let said = advice(&exp, &rule(None), &plan(0.3, 0.8, 99.0, 100.0));
        assert_eq!(
            said,
            [
                StoppingAdvice::WaitsForTheWindow {
                    window_days: 28.0,
                    max_days: 5.0
                },
                StoppingAdvice::LessPower {
                    power: 0.3,
                    fixed_power: 0.8
                },
                StoppingAdvice::NoSaving,
            ]
        );
        // Within two standard errors, at a fifth of the spend, with a declared revision
        // bound: nothing to say.
        assert_eq!(
            advice(&exp, &rule(Some(0.1)), &plan(0.76, 0.8, 20.0, 100.0)),
            []
        );
    }
}
