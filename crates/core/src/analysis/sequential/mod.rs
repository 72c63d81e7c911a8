//! Anytime-valid inference (issue 18): statistics that stay valid however often one looks,
//! so a run can be checked at every nightly collection and stopped once the answer is in.
//!
//! A fixed-sample test checked every night is not valid: with a two-proportion z-test at
//! α = 0.05 checked daily for 30 days on experiments with no real effect, about 29% end
//! "significant" at some look. The quantities here are computed at every collection from
//! the cumulative counts and keep their level over all looks together:
//!
//! - [`difference`]: a confidence sequence for the difference of a group's share between
//!   the two ads of a paired comparison (Waudby-Smith et al. 2024's asymptotic confidence
//!   sequence with Robbins' normal-mixture boundary, [`boundary`]);
//! - [`evalue`]: an e-value of skew across a comparison's ads and groups (the chi-square
//!   case), a universal-inference likelihood ratio with a Dirichlet–multinomial mixture,
//!   and its always-valid p-value `min(1, 1 / max E)` over the looks so far.
//!
//! Checked against `ville` (PyPI) by `scripts/fixtures/gen_sequential.py`
//! (`tests/sequential.rs`); the constructions and their assumptions are in
//! `docs/sequential.md`.

pub mod boundary;
pub mod difference;
pub mod evalue;
pub mod revision;
pub mod settled;
pub mod stop;

use std::collections::BTreeMap;

use serde::Serialize;

use self::difference::{difference_look, DifferenceLook};
use self::revision::{AdCounts, Revisable};
use self::settled::Settled;
use super::{json_number, paired_target, tested_table, tested_totals, PairedTarget};
use crate::count;
use crate::experiment::stopping::Stopping;
use crate::experiment::{Comparison, Experiment};
use crate::platform::Period;
use crate::records::StoredRow;
use crate::vocab::Breakdown;

/// The people (both ads together) a confidence sequence is tightest at when the experiment
/// does not say (`[stopping] planned_reach`): a typical paired audit's reach.
pub const DEFAULT_PLANNED_REACH: u64 = 10_000;

/// The level of the looks and where the sequences are tightest; fixed before any data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SequentialSettings {
    pub alpha: f64,
    pub planned_reach: u64,
    /// `[stopping] revision_bound`: with it the difference's sequence also reads the
    /// unsettled days ([`revision`]); without it every look waits for the window.
    pub revision_bound: Option<f64>,
}

impl SequentialSettings {
    /// The experiment's: its `[stopping]` section's, else its analysis' α and the default
    /// planned reach.
    pub fn of(exp: &Experiment) -> SequentialSettings {
        match &exp.stopping {
            Some(s) => SequentialSettings::of_rule(s),
            None => SequentialSettings {
                alpha: exp.analysis.alpha,
                planned_reach: DEFAULT_PLANNED_REACH,
                revision_bound: None,
            },
        }
    }
}

/// The looks of a run's last collection and their level, as `results.json` carries them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnytimeValid {
    /// The level every look keeps over all looks together (the confidence sequences cover
    /// with probability at least 1 − α).
    pub alpha: f64,
    /// The end of the settled period the looks were computed on (a look trails its
    /// collection by the revision window, [`settled`]); under a revision bound, the
    /// collection itself.
    pub as_of: chrono::DateTime<chrono::Utc>,
    /// `[stopping] revision_bound`: the difference's sequences read the latest counts,
    /// allowing each unsettled one to be revised by up to this much ([`revision`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_bound: Option<f64>,
    pub looks: Vec<Look>,
}

/// How a look's counts are described to a reader ("on the counts settled by …", or
/// under a revision bound "on the latest counts, …"), after "computed"; `as_of` as shown.
pub fn counts_phrase(revision_bound: Option<f64>, as_of: &str) -> String {
    match revision_bound {
        None => format!("on the counts settled by {as_of}"),
        Some(b) => format!(
            "as of {as_of}: each difference's sequence on the latest counts, widened for \
             revisions of up to ±{:.0}% of those not yet settled, the e-value on the counts \
             settled a revision window before",
            b * 100.0
        ),
    }
}

impl SequentialSettings {
    /// A `[stopping]` rule's: its α and planned reach.
    pub fn of_rule(rule: &Stopping) -> SequentialSettings {
        SequentialSettings {
            alpha: rule.alpha,
            planned_reach: rule.planned_reach,
            revision_bound: rule.revision_bound,
        }
    }
}

/// One comparison on one breakdown at one collection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Look {
    pub comparison: String,
    pub breakdown: Breakdown,
    /// ln of the e-value of skew across the comparison's ads and groups at this look.
    #[serde(serialize_with = "json_number")]
    pub log_e: f64,
    /// The always-valid p-value after this look and every earlier one.
    #[serde(serialize_with = "json_number")]
    pub p_value: f64,
    /// For a two-ad comparison, in the breakdown of its paired group: the confidence
    /// sequence of the difference of the group's share.
    pub pair: Option<PairLook>,
}

/// The confidence sequence of `share(ad1) − share(ad2)` of `group` at one look.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairLook {
    pub group: String,
    pub ad1: String,
    pub ad2: String,
    #[serde(flatten)]
    pub difference: DifferenceLook,
}

/// Every look of one collection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CollectionLooks {
    pub collection_id: i64,
    /// The end of the settled period the looks were computed on ([`settled`]): the
    /// collection's time less the revision window, at the end of a local day.
    pub as_of: chrono::DateTime<chrono::Utc>,
    pub looks: Vec<Look>,
}

/// The looks of one collection from its since-launch totals per breakdown, as stored; each
/// p-value from this look alone (see [`track`] for the p-value over all looks).
pub fn looks_at(
    exp: &Experiment,
    settings: SequentialSettings,
    stored_totals: BTreeMap<Breakdown, Vec<StoredRow>>,
) -> Vec<Look> {
    let (totals, _) = tested_totals(exp, stored_totals);
    let mut out = Vec::new();
    for cmp in &exp.comparisons {
        for (breakdown, rows) in &totals {
            if exp.collect.breakdowns.contains(breakdown) || *breakdown == Breakdown::Race {
                out.push(look(exp, settings, cmp, *breakdown, rows));
            }
        }
    }
    out
}

/// One comparison on one breakdown from its rows.
fn look(
    exp: &Experiment,
    settings: SequentialSettings,
    cmp: &Comparison,
    breakdown: Breakdown,
    rows: &[StoredRow],
) -> Look {
    let (groups, table) = tested_table(&exp.analysis, &cmp.ads, breakdown, rows);
    let log_e = evalue::log_e_independence(&table);
    let pair = paired_target(&cmp.ads, cmp.expected.as_ref())
        .filter(|t| t.breakdown == breakdown)
        .and_then(|t| {
            let j = groups.iter().position(|g| *g == t.group)?;
            let n = |i: usize| count::total(table[i].iter().copied());
            let difference = difference_look(
                table[t.first][j],
                n(t.first),
                table[t.second][j],
                n(t.second),
                settings.alpha,
                settings.planned_reach as f64,
            )?;
            Some(pair_look(cmp, t, difference))
        });
    Look {
        comparison: cmp.key.clone(),
        breakdown,
        log_e,
        p_value: evalue::always_valid_p([log_e]),
        pair,
    }
}

/// The largest ln E of each comparison and breakdown over the looks so far: what a new
/// look's always-valid p-value is taken over (`min(1, 1 / max E)`).
pub type BestLogE = BTreeMap<(String, Breakdown), f64>;

/// The largest ln E of each comparison and breakdown over `looks`.
pub fn best_log_e<'a>(looks: impl IntoIterator<Item = &'a Look>) -> BestLogE {
    let mut best = BestLogE::new();
    for l in looks {
        let max = best
            .entry((l.comparison.clone(), l.breakdown))
            .or_insert(0.0);
        *max = max.max(l.log_e);
    }
    best
}

/// One collection's looks from its since-launch totals (any rows: only the totals are
/// used, those of its settled `period`, and under a revision bound the latest ones too),
/// each p-value over this look and the earlier ones in `best`, which it updates; with the
/// time they are as of (the end of the settled period, or under a revision bound the
/// collection). `None` when there is nothing to look at yet: such a collection has no
/// looks.
pub fn next_looks<'a>(
    exp: &Experiment,
    settings: SequentialSettings,
    rows: impl IntoIterator<Item = &'a StoredRow>,
    period: Settled,
    best: &mut BestLogE,
) -> Option<(chrono::DateTime<chrono::Utc>, Vec<Look>)> {
    let mut totals: BTreeMap<Breakdown, Vec<StoredRow>> = BTreeMap::new();
    for r in rows.into_iter().filter(|r| r.period == Period::Total) {
        totals.entry(r.breakdown).or_default().push(r.clone());
    }
    let through = |day: chrono::NaiveDate| {
        let mut out: BTreeMap<Breakdown, Vec<StoredRow>> = BTreeMap::new();
        for (b, rows) in &totals {
            let rows = settled::settled_rows(rows, day);
            if !rows.is_empty() {
                out.insert(*b, rows);
            }
        }
        out
    };
    let settled = through(period.through);
    let (mut looks, as_of) = match settings.revision_bound {
        None if settled.is_empty() => return None,
        None => (looks_at(exp, settings, settled), period.as_of),
        Some(bound) => {
            let latest = through(chrono::NaiveDate::MAX);
            if latest.is_empty() {
                return None;
            }
            let unsettled = latest
                .iter()
                .map(|(b, rows)| {
                    let fresh = rows.iter().filter(|r| r.date_stop > period.through);
                    (*b, fresh.cloned().collect())
                })
                .collect();
            let looks = revised_looks(exp, settings, bound, settled, latest, unsettled);
            (looks, period.collected)
        }
    };
    for l in &mut looks {
        let max = best
            .entry((l.comparison.clone(), l.breakdown))
            .or_insert(0.0);
        *max = max.max(l.log_e);
        l.p_value = evalue::always_valid_p([*max]);
    }
    Some((as_of, looks))
}

/// The pair's look of comparison `cmp` for `target`.
fn pair_look(cmp: &Comparison, target: PairedTarget, difference: DifferenceLook) -> PairLook {
    PairLook {
        group: target.group,
        ad1: cmp.ads[target.first].clone(),
        ad2: cmp.ads[target.second].clone(),
        difference,
    }
}

/// A collection's looks under a declared revision `bound` ([`revision`]): the e-value
/// from the `settled` totals (no bound is applied to it, so it still waits for the
/// window); the difference's sequence from the `latest` totals, of which `unsettled`
/// are the ones the platform may still revise, intersected with the sequence on the
/// `settled` totals. Both are the one time-uniform sequence of the final counts, at two
/// times (the widened one contains it), so both cover at once whenever it covers at every
/// time: the intersection keeps the level for a difference constant over time (the
/// sequence's own assumption), and leaving out zero stays a valid test of no skew.
fn revised_looks(
    exp: &Experiment,
    settings: SequentialSettings,
    bound: f64,
    settled: BTreeMap<Breakdown, Vec<StoredRow>>,
    latest: BTreeMap<Breakdown, Vec<StoredRow>>,
    unsettled: BTreeMap<Breakdown, Vec<StoredRow>>,
) -> Vec<Look> {
    let evidence = looks_at(exp, settings, settled);
    let mut looks = looks_at(exp, settings, latest.clone());
    let (latest, _) = tested_totals(exp, latest);
    let (unsettled, _) = tested_totals(exp, unsettled);
    for l in &mut looks {
        let same = |e: &&Look| e.comparison == l.comparison && e.breakdown == l.breakdown;
        l.log_e = evidence.iter().find(same).map_or(0.0, |e| e.log_e);
        l.p_value = evalue::always_valid_p([l.log_e]);
        let Some(cmp) = exp.comparisons.iter().find(|c| c.key == l.comparison) else {
            continue;
        };
        let rows = |totals: &BTreeMap<Breakdown, Vec<StoredRow>>| {
            totals.get(&l.breakdown).cloned().unwrap_or_default()
        };
        let revised = revised_pair(
            exp,
            settings,
            bound,
            cmp,
            l.breakdown,
            (&rows(&latest), &rows(&unsettled)),
        );
        let settled = evidence.iter().find(same).and_then(|e| e.pair.as_ref());
        l.pair = match (revised, settled) {
            (Some(mut r), Some(s)) => {
                r.difference.lower = r.difference.lower.max(s.difference.lower);
                r.difference.upper = r.difference.upper.min(s.difference.upper);
                Some(r)
            }
            (revised, settled) => revised.or_else(|| settled.cloned()),
        };
    }
    looks
}

/// The difference's sequence of `cmp` on one breakdown's `latest` totals, widened for
/// the `unsettled` ones by up to `bound` ([`revision::revised_difference_look`]).
fn revised_pair(
    exp: &Experiment,
    settings: SequentialSettings,
    bound: f64,
    cmp: &Comparison,
    breakdown: Breakdown,
    (latest, unsettled): (&[StoredRow], &[StoredRow]),
) -> Option<PairLook> {
    let t = paired_target(&cmp.ads, cmp.expected.as_ref()).filter(|t| t.breakdown == breakdown)?;
    let (groups, table) = tested_table(&exp.analysis, &cmp.ads, breakdown, latest);
    let (fresh_groups, fresh) = tested_table(&exp.analysis, &cmp.ads, breakdown, unsettled);
    let j = groups.iter().position(|g| *g == t.group)?;
    let part = |i: usize, k: usize| {
        let u = fresh_groups
            .iter()
            .position(|g| *g == groups[k])
            .map_or(0, |f| fresh[i][f]) as f64;
        Revisable {
            settled: table[i][k] as f64 - u,
            unsettled: u,
        }
    };
    let counts = |i: usize| AdCounts {
        group: part(i, j),
        rest: (0..groups.len())
            .filter(|&k| k != j)
            .map(|k| part(i, k))
            .fold(Revisable::default(), |a, b| Revisable {
                settled: a.settled + b.settled,
                unsettled: a.unsettled + b.unsettled,
            }),
    };
    let difference = revision::revised_difference_look(
        counts(t.first),
        counts(t.second),
        bound,
        settings.alpha,
        settings.planned_reach as f64,
    )?;
    Some(pair_look(cmp, t, difference))
}

/// Every collection's looks from the since-launch totals of its settled period (per
/// breakdown, `(collection id, row)` as the store's `total_snapshots` gives them, and each
/// collection's [`Settled`] period), in collection order, each p-value over that look and
/// every earlier one ([`next_looks`] collection by collection).
pub fn track(
    exp: &Experiment,
    settings: SequentialSettings,
    history: &BTreeMap<Breakdown, Vec<(i64, StoredRow)>>,
    periods: &BTreeMap<i64, Settled>,
) -> Vec<CollectionLooks> {
    let mut by_collection: BTreeMap<i64, Vec<&StoredRow>> = BTreeMap::new();
    for (collection, row) in history.values().flatten() {
        by_collection.entry(*collection).or_default().push(row);
    }
    let mut best = BestLogE::new();
    let mut out = Vec::new();
    for (collection_id, rows) in by_collection {
        let Some(period) = periods.get(&collection_id) else {
            continue;
        };
        if let Some((as_of, looks)) = next_looks(exp, settings, rows, *period, &mut best) {
            out.push(CollectionLooks {
                collection_id,
                as_of,
                looks,
            });
        }
    }
    out
}
