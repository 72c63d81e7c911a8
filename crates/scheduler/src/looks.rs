//! The anytime-valid looks of a run's collections (issue 18), computed from the
//! since-launch counts of each collection's settled period (`settled`: launch to the last
//! day a revision window old, `[schedule] recollect_after_days`) that the store holds, and
//! stored with each collection as of the end of that period. Looks are a pure function of
//! the stored totals, so one missed (a crash after the collection) is made at the next
//! collection, the same as it would have been.

use std::collections::BTreeMap;

use adskew_core::analysis::sequential::settled::settled_at;
use adskew_core::analysis::sequential::{track, CollectionLooks, Look, SequentialSettings};
use adskew_core::error::Result;
use adskew_core::experiment::Experiment;
use adskew_store::Store;

/// Stores the looks of every collection of run `id` that has none, and returns the last
/// collection's.
pub(super) fn record(
    exp: &Experiment,
    id: i64,
    store: &mut Store,
    tz: chrono_tz::Tz,
) -> Result<Vec<Look>> {
    let looks = compute(exp, SequentialSettings::of(exp), id, store, tz)?;
    store.insert_looks(id, &looks)?;
    let last = store.collections(id)?.last().map(|c| c.id);
    Ok(looks
        .into_iter()
        .last()
        .filter(|c| Some(c.collection_id) == last)
        .map(|c| c.looks)
        .unwrap_or_default())
}

/// Every collection's looks of run `id` at `settings`, from the stored totals of each
/// collection's settled period in the account's time zone `tz` (also `plan`'s replay).
pub fn compute(
    exp: &Experiment,
    settings: SequentialSettings,
    id: i64,
    store: &Store,
    tz: chrono_tz::Tz,
) -> Result<Vec<CollectionLooks>> {
    let mut history = BTreeMap::new();
    for b in &exp.collect.breakdowns {
        history.insert(*b, store.total_snapshots(id, *b)?);
    }
    let mut periods = BTreeMap::new();
    for c in store.collections(id)? {
        let at = adskew_store::parse_time(&c.platform_time)?;
        periods.insert(c.id, settled_at(at, exp.schedule.recollect_after, tz));
    }
    Ok(track(exp, settings, &history, &periods))
}
