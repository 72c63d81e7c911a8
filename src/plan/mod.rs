//! `adskew plan`: power analysis before money is spent.
//!
//! Two questions a researcher asks while writing a grant budget:
//!
//! - *Simulated*: if I run this exact experiment (budgets, schedule, audience, and the skew I
//!   expect, written as the `[sim]` ground truth), how likely am I to detect the skew after
//!   correction, how variable is the estimate, and what will it cost? [`simulate`] runs the
//!   scheduler and the analysis N times on the simulator with different seeds, so the answer
//!   accounts for everything the real analysis does; the store is left out (see
//!   [`replicate`]), which gives the same analysis.
//! - *Analytic*: how many people must each ad reach to detect p1 vs p2? See
//!   [`crate::analysis::power`].

pub mod stopping;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use indicatif::ProgressBar;
use serde::Serialize;

use crate::analysis::{self, Analysis};
use crate::clock::SimClock;
use crate::error::{Error, Result};
use crate::experiment::{Experiment, Start};
use crate::platform::sim::SimPlatform;
use crate::records::{CollectionRecord, ExperimentRecord, RunOrigin, RunState};
use crate::report::words::group_label;
use crate::scheduler;
use crate::store::Store;
use crate::vocab::{Breakdown, Correction};

/// Summary statistics of a simulated quantity.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub mean: f64,
    pub sd: f64,
    pub q025: f64,
    pub median: f64,
    pub q975: f64,
}

impl Summary {
    /// Summarises finite values (`None` if there are none).
    pub fn of(values: &[f64]) -> Option<Summary> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = if v.len() > 1 {
            v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        // Linear interpolation between order statistics (numpy's default).
        let q = |p: f64| {
            let pos = p * (n - 1.0);
            let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
            v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
        };
        Some(Summary {
            mean,
            sd: var.sqrt(),
            q025: q(0.025),
            median: q(0.5),
            q975: q(0.975),
        })
    }
}

/// What the simulations say about one comparison.
#[derive(Debug, Clone, Serialize)]
pub struct ComparisonPlan {
    pub key: String,
    /// What `estimate` measures, in words.
    pub estimate_is: String,
    pub estimate: Option<Summary>,
    /// Share of replicates in which the skew was detected after correction.
    pub power: f64,
    /// Monte Carlo standard error of `power`.
    pub power_se: f64,
    pub detections: usize,
    /// Mean number counted per ad (people reached or impressions, as analysed; unknown
    /// gender excluded), in the comparison's ad order.
    pub mean_counted: Vec<(String, f64)>,
    /// Mean share of the charted group (women, by default) per ad.
    pub mean_share: Vec<(String, f64)>,
}

/// The result of `adskew plan FILE`.
#[derive(Debug, Clone, Serialize)]
pub struct PlanReport {
    pub experiment: String,
    pub replicates: usize,
    pub seed: u64,
    pub alpha: f64,
    pub correction: Correction,
    pub currency: String,
    /// Total spend per replicate, in major units.
    pub spend: Option<Summary>,
    pub comparisons: Vec<ComparisonPlan>,
    /// With `[stopping]`: the rule simulated next to the fixed-horizon design.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopping: Option<stopping::StoppingPlan>,
}

/// The seed of replicate `r`: well mixed, so neighbouring replicates are unrelated.
pub fn replicate_seed(base: u64, r: u64) -> u64 {
    let mut x = base ^ r.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A replicate's experiment (a start of "now" fixed, so plans are reproducible whatever
/// the wall clock says), its simulated platform seeded `seed`, and the platform's clock.
fn replicate_world(
    exp: &Experiment,
    seed: u64,
) -> Result<(Experiment, SimPlatform, Arc<SimClock>)> {
    let mut exp = exp.clone();
    let mut truth = crate::platform::sim::truth_of(&exp)?;
    truth.seed = seed;
    let epoch = Utc
        .with_ymd_and_hms(2026, 1, 5, 0, 0, 0)
        .single()
        .expect("valid date");
    if exp.schedule.start == Start::Now {
        exp.schedule.start = Start::At(epoch);
    }
    let clock = Arc::new(SimClock::new(scheduler::start_time(&exp, epoch)));
    let platform = SimPlatform::new(truth, clock.clone());
    Ok((exp, platform, clock))
}

/// Runs one replicate through the real pipeline, with an in-memory store: what `run`
/// does, recorded and collected in full. [`replicate`] gives the same analysis faster.
pub fn replicate_stored(
    exp: &Experiment,
    seed: u64,
    runtime: &tokio::runtime::Runtime,
) -> Result<Analysis> {
    let (exp, platform, clock) = replicate_world(exp, seed)?;
    let mut store = Store::open_in_memory()?;
    let outcome = runtime.block_on(scheduler::run(
        &exp,
        &platform,
        clock.as_ref(),
        &mut store,
        &(),
    ))?;
    let record = store.find_experiment(&outcome.experiment_id.to_string())?;
    Ok(analysis::analyze(&crate::analysis_inputs(&store, &record)?))
}

/// Runs one replicate and analyses it: the scheduler's run without a store
/// ([`scheduler::run_unrecorded`]), its last totals handed to the one analysis as they
/// would have been read back from the store. A replicate a spend check could have stopped
/// early goes through [`replicate_stored`]. The analysis is the same either way
/// (`tests/plan.rs` checks it); building and querying a store per replicate was most of
/// `plan`'s time.
pub fn replicate(
    exp: &Experiment,
    seed: u64,
    runtime: &tokio::runtime::Runtime,
) -> Result<Analysis> {
    let (run_exp, platform, clock) = replicate_world(exp, seed)?;
    let Some(run) = runtime.block_on(scheduler::run_unrecorded(
        &run_exp,
        &platform,
        clock.as_ref(),
    ))?
    else {
        return replicate_stored(exp, seed, runtime);
    };
    let at = run
        .collected_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let record = ExperimentRecord {
        id: 0,
        name: run_exp.name.clone(),
        platform: RunOrigin::Sim,
        state: RunState::Completed,
        currency: run_exp.currency.clone(),
        spend_cap: run_exp.spend_cap,
        file_path: run_exp.source.path.display().to_string(),
        file_sha256: String::new(),
        resolved_sha256: String::new(),
        resolved_json: String::new(),
        overrides: Vec::new(),
        adskew_version: crate::VERSION.to_string(),
        created_at: at.clone(),
        started_at: None,
        ended_at: None,
        planned_start: None,
        planned_end: None,
        recollect_at: None,
    };
    let collection = CollectionRecord {
        id: 1,
        platform_time: at.clone(),
        collected_at: at,
        spend: run.spend,
        rows: run.totals.values().map(Vec::len).sum::<usize>() as i64,
    };
    let mut inputs = analysis::Inputs::new(
        record,
        run_exp,
        vec![collection],
        run.totals,
        run.reviews,
        Some("schedule ended".to_string()),
    );
    // As `crate::analysis_inputs` gives it for a stored simulated run.
    inputs.platform_eligible = crate::platform::sim::truth_of(&inputs.experiment)?.eligible();
    Ok(analysis::analyze(&inputs))
}

/// The skew estimate, detection and per-ad counts of one comparison in one replicate.
fn estimate(a: &Analysis, key: &str) -> (String, f64, bool, Vec<f64>, Vec<f64>) {
    let c = a
        .comparisons
        .iter()
        .find(|c| c.key == key)
        .expect("comparison analysed");
    let b = c
        .breakdowns
        .iter()
        .find(|b| b.breakdown == Breakdown::Gender)
        .or_else(|| c.breakdowns.first())
        .expect("a breakdown");
    let counted: Vec<f64> = b
        .table
        .iter()
        .map(|row| row.iter().sum::<u64>() as f64)
        .collect();
    let group = b.headline_group().unwrap_or_default();
    let shares: Vec<f64> = b
        .shares
        .iter()
        .filter(|s| s.group == group)
        .map(|s| s.share)
        .collect();
    if let Some(p) = c.paired() {
        return (
            format!(
                "share of {} for `{}` minus `{}`",
                group_label(&p.group),
                p.ad1,
                p.ad2
            ),
            p.test.difference,
            p.reject,
            counted,
            shares,
        );
    }
    let spread = shares.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        - shares.iter().copied().fold(f64::INFINITY, f64::min);
    (
        format!(
            "largest minus smallest share of {} across ads",
            group_label(&group)
        ),
        spread,
        b.reject,
        counted,
        shares,
    )
}

/// Runs `replicates` simulated copies of `exp` (one thread per core the process may use:
/// `available_parallelism` follows the CPU affinity, so `taskset` limits it) and summarises
/// them.
pub fn simulate(
    exp: &Experiment,
    replicates: usize,
    seed: u64,
    progress: &ProgressBar,
) -> Result<PlanReport> {
    if replicates == 0 {
        return Err(Error::BadInput("--replicates must be at least 1".into()));
    }
    // The fixed-horizon design: the whole schedule, whatever `[stopping]` says
    // ([`stopping::simulate_stopping`] simulates the rule).
    let rule = exp.stopping.as_ref();
    let exp = &Experiment {
        stopping: None,
        ..exp.clone()
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(replicates);
    let results: Vec<Result<(u64, Analysis)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || {
                    let runtime = crate::runtime()?;
                    let mut out = Vec::new();
                    for r in (w..replicates).step_by(workers) {
                        let s = replicate_seed(seed, r as u64);
                        out.push((r, replicate(exp, s, &runtime).map(|a| (s, a))));
                        progress.inc(1);
                    }
                    Ok::<_, Error>(out)
                })
            })
            .collect();
        let mut all: Vec<(usize, Result<(u64, Analysis)>)> = Vec::new();
        for h in handles {
            match h.join().expect("plan worker panicked") {
                Ok(v) => all.extend(v),
                Err(e) => all.push((usize::MAX, Err(e))),
            }
        }
        all.sort_by_key(|(r, _)| *r);
        all.into_iter().map(|(_, res)| res).collect()
    });
    let analyses: Vec<Analysis> = results
        .into_iter()
        .map(|r| r.map(|(_, a)| a))
        .collect::<Result<_>>()?;

    let spend: Vec<f64> = analyses.iter().map(|a| a.data.spend.as_major()).collect();
    let comparisons = exp
        .comparisons
        .iter()
        .map(|c| {
            let mut values = Vec::new();
            let mut detections = 0;
            let mut what = String::new();
            let mut counted = vec![0.0; c.ads.len()];
            let mut share_sum = vec![0.0; c.ads.len()];
            for a in &analyses {
                let (w, v, detected, n, shares) = estimate(a, &c.key);
                for (total, x) in share_sum.iter_mut().zip(shares) {
                    *total += x;
                }
                what = w;
                values.push(v);
                detections += usize::from(detected);
                for (total, x) in counted.iter_mut().zip(n) {
                    *total += x;
                }
            }
            let n = analyses.len() as f64;
            let power = detections as f64 / n;
            ComparisonPlan {
                key: c.key.clone(),
                estimate_is: what,
                estimate: Summary::of(&values),
                power,
                power_se: (power * (1.0 - power) / n).sqrt(),
                detections,
                mean_counted: c
                    .ads
                    .iter()
                    .cloned()
                    .zip(counted.iter().map(|t| t / n))
                    .collect(),
                mean_share: c
                    .ads
                    .iter()
                    .cloned()
                    .zip(share_sum.iter().map(|t| t / n))
                    .collect(),
            }
        })
        .collect();
    Ok(PlanReport {
        experiment: exp.name.clone(),
        replicates,
        seed,
        alpha: exp.analysis.alpha,
        correction: exp.analysis.correction,
        currency: exp.currency.clone(),
        spend: Summary::of(&spend),
        comparisons,
        stopping: match rule {
            Some(rule) => Some(stopping::simulate_stopping(
                exp, rule, replicates, seed, progress,
            )?),
            None => None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_matches_numpy_percentiles() {
        // numpy.percentile([1, 2, 3, 4, 10], [2.5, 50, 97.5]) = [1.1, 3.0, 9.4]
        let s = Summary::of(&[4.0, 1.0, 10.0, 3.0, 2.0]).unwrap();
        assert!(
            (s.q025 - 1.1).abs() < 1e-12
                && (s.median - 3.0).abs() < 1e-12
                && (s.q975 - 9.4).abs() < 1e-12
        );
        assert!((s.mean - 4.0).abs() < 1e-12);
        assert!(Summary::of(&[f64::NAN]).is_none());
    }
}
