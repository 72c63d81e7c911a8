//! The anytime-valid looks of a run's collections (issue 18), computed from the
//! cumulative counts the store holds and stored with each collection. Looks are a pure
//! function of the stored totals, so one missed (a crash after the collection) is made at
//! the next collection, the same as it would have been.

use std::collections::BTreeMap;

use adskew_core::analysis::sequential::{track, Look, SequentialSettings};
use adskew_core::error::Result;
use adskew_core::experiment::Experiment;
use adskew_store::Store;

/// Stores the looks of every collection of run `id` that has none, and returns the last
/// collection's.
pub(super) fn record(exp: &Experiment, id: i64, store: &mut Store) -> Result<Vec<Look>> {
    let mut history = BTreeMap::new();
    for b in &exp.collect.breakdowns {
        history.insert(*b, store.total_history(id, *b)?);
    }
    let looks = track(exp, SequentialSettings::of(exp), &history);
    store.insert_looks(id, &looks)?;
    Ok(looks
        .into_iter()
        .last()
        .map(|c| c.looks)
        .unwrap_or_default())
}
