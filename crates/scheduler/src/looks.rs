//! The anytime-valid looks of a run's collections (issue 18), computed from the
//! since-launch counts of each collection's settled period (`settled`: launch to the last
//! day a revision window old, `[schedule] recollect_after_days`) that the store holds, and
//! stored with each collection as of the end of that period. Looks are a pure function of
//! the stored totals, so one missed (a crash after the collection) is made at the next
//! collection, the same as it would have been. A collection's looks are computed once, when
//! it is stored, from its own rows: never again at every later collection.

use std::collections::BTreeMap;

use adskew_core::analysis::sequential::settled::settled_at;
use adskew_core::analysis::sequential::{
    best_log_e, next_looks, track, CollectionLooks, Look, SequentialSettings,
};
use adskew_core::error::Result;
use adskew_core::experiment::Experiment;
use adskew_store::{Store, StoredRow};
use chrono::{DateTime, NaiveDate, Utc};

/// The collection just stored: its id, platform time and rows.
pub(super) struct Stored<'a> {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub rows: &'a [StoredRow],
}

/// Stores the looks of collection `new` of run `id` (launched on local day `since`), and
/// of any earlier one a crash left without, and returns `new`'s.
///
/// Normally only `new` needs looks: they come from its own rows, with the p-values taken
/// over the stored looks' largest E, so each collection costs the same however many came
/// before. Should an earlier collection with something settled have none (a crash between
/// storing a collection and its looks), every look is recomputed from the stored totals,
/// which gives the same looks the collections would have had.
pub(super) fn record(
    exp: &Experiment,
    id: i64,
    store: &mut Store,
    tz: chrono_tz::Tz,
    since: NaiveDate,
    new: Stored<'_>,
) -> Result<Vec<Look>> {
    let settings = SequentialSettings::of(exp);
    let stored = store.looks(id)?;
    let last = stored.last().map(|c| c.collection_id);
    // Under a revision bound every collection has looks; without one, those with
    // something settled.
    let has_looks = |at| {
        settings.revision_bound.is_some()
            || settled_at(at, exp.schedule.recollect_after, tz).through >= since
    };
    let missed = store.collections(id)?.into_iter().any(|c| {
        c.id != new.id
            && Some(c.id) > last
            && adskew_store::parse_time(&c.platform_time).is_ok_and(has_looks)
    });
    if missed {
        let looks = compute(exp, settings, id, store, tz)?;
        store.insert_looks(id, &looks)?;
        return Ok(looks
            .into_iter()
            .find(|c| c.collection_id == new.id)
            .map(|c| c.looks)
            .unwrap_or_default());
    }
    let mut best = best_log_e(stored.iter().flat_map(|c| &c.looks));
    let period = settled_at(new.at, exp.schedule.recollect_after, tz);
    let Some((as_of, looks)) = next_looks(exp, settings, new.rows, period, &mut best) else {
        return Ok(Vec::new());
    };
    let collection = CollectionLooks {
        collection_id: new.id,
        as_of,
        looks,
    };
    store.insert_looks(id, std::slice::from_ref(&collection))?;
    Ok(collection.looks)
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
