//! The since-launch totals of a run, read ad by ad through the `delivery_key` index.
//!
//! A run of 150 ads × 30 days × three breakdowns holds a million snapshot rows, of which
//! only a few thousand are totals. Asking SQLite for them through the `delivery_latest`
//! window view (with a correlated subquery per returned row) took seconds; asking with the
//! breakdown and period as plain filters still walks every index entry of the run, because
//! the index is keyed by ad before breakdown. So the ads are listed by seeking the index
//! (one seek per ad, SQLite has no skip-scan without statistics), each ad's rows of one
//! breakdown are read by their index prefix, and which snapshot is the latest is decided
//! here, in one pass over what was read.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rusqlite::params;

use crate::error::Result;
use crate::{stored_row, Store, StoredRow};
use adskew_core::vocab::Breakdown;

/// A total row with the collection that stored it.
type Snapshot = (i64, StoredRow);

/// The since-launch totals of one breakdown, read once for both uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    /// For each ad, the latest snapshot of the total that ends on the ad's last collected
    /// day (what the analysis tests). Should two totals end on that day but start on
    /// different days (imported exports with other reporting windows), only the window of
    /// the newest collection counts, never both. Sorted by ad and value.
    pub latest: Vec<StoredRow>,
    /// The totals as each collection saw them, in collection order (then ad and value):
    /// how the composition built up (for the over-time chart). Of a collection's totals of
    /// an ad and value from one start, the one ending last (a collection also stores the
    /// totals of its settled period for the anytime-valid looks).
    pub history: Vec<(i64, StoredRow)>,
}

impl Store {
    /// The latest totals and the history of one breakdown ([`Totals`]), from one read of
    /// its stored totals (reading them once for the analysis and again for the report's
    /// history was a third of a million-row report's reading).
    pub fn totals(&self, experiment_id: i64, breakdown: Breakdown) -> Result<Totals> {
        let mut latest = Vec::new();
        let mut snapshots = Vec::new();
        for ad in self.stored_ad_keys(experiment_id)? {
            let of_ad = self.ad_totals(experiment_id, &ad, breakdown)?;
            latest.extend(latest_window(&of_ad));
            snapshots.extend(of_ad);
        }
        Ok(Totals {
            latest,
            history: widest(snapshots),
        })
    }

    /// [`Totals::latest`] alone, each ad's snapshots dropped once its latest are chosen.
    pub fn latest_totals(
        &self,
        experiment_id: i64,
        breakdown: Breakdown,
    ) -> Result<Vec<StoredRow>> {
        let mut latest = Vec::new();
        for ad in self.stored_ad_keys(experiment_id)? {
            latest.extend(latest_window(&self.ad_totals(
                experiment_id,
                &ad,
                breakdown,
            )?));
        }
        Ok(latest)
    }

    /// [`Totals::history`] alone.
    pub fn total_history(
        &self,
        experiment_id: i64,
        breakdown: Breakdown,
    ) -> Result<Vec<(i64, StoredRow)>> {
        Ok(widest(self.total_snapshots(experiment_id, breakdown)?))
    }

    /// Every since-launch total of one breakdown with the collection that stored it, in
    /// collection order (then ad, value and end): what the anytime-valid looks read
    /// (`adskew_core::analysis::sequential::settled`).
    pub fn total_snapshots(
        &self,
        experiment_id: i64,
        breakdown: Breakdown,
    ) -> Result<Vec<(i64, StoredRow)>> {
        let mut out = Vec::new();
        for ad in self.stored_ad_keys(experiment_id)? {
            out.extend(self.ad_totals(experiment_id, &ad, breakdown)?);
        }
        sort_snapshots(&mut out);
        Ok(out)
    }

    /// Every ad key with delivery rows in the run, in order: one index seek per ad.
    fn stored_ad_keys(&self, experiment_id: i64) -> Result<Vec<String>> {
        let mut first = self
            .conn
            .prepare_cached("SELECT MIN(ad_key) FROM delivery WHERE experiment_id = ?1")?;
        let mut next = self.conn.prepare_cached(
            "SELECT MIN(ad_key) FROM delivery WHERE experiment_id = ?1 AND ad_key > ?2",
        )?;
        let mut keys: Vec<String> = Vec::new();
        let mut key = first.query_row([experiment_id], |r| r.get::<_, Option<String>>(0))?;
        while let Some(k) = key {
            key = next.query_row(params![experiment_id, k], |r| r.get(0))?;
            keys.push(k);
        }
        Ok(keys)
    }

    /// Every stored total of one ad and breakdown, with its collection: value by value, so
    /// that only total rows are read from the index, never the run's daily rows.
    fn ad_totals(
        &self,
        experiment_id: i64,
        ad: &str,
        breakdown: Breakdown,
    ) -> Result<Vec<Snapshot>> {
        let mut first_value = self.conn.prepare_cached(
            "SELECT MIN(value) FROM delivery
             WHERE experiment_id = ?1 AND ad_key = ?2 AND breakdown = ?3",
        )?;
        let mut next_value = self.conn.prepare_cached(
            "SELECT MIN(value) FROM delivery
             WHERE experiment_id = ?1 AND ad_key = ?2 AND breakdown = ?3 AND value > ?4",
        )?;
        let mut totals = self.conn.prepare_cached(
            "SELECT collection_id, ad_key, period, date_start, date_stop, breakdown, value, reach,
                    impressions, clicks, spend_minor
             FROM delivery
             WHERE experiment_id = ?1 AND ad_key = ?2 AND breakdown = ?3 AND value = ?4
               AND period = 'total'",
        )?;
        let b = breakdown.as_str();
        let mut out = Vec::new();
        let mut value: Option<String> =
            first_value.query_row(params![experiment_id, ad, b], |r| r.get(0))?;
        while let Some(v) = value {
            let rows = totals.query_map(params![experiment_id, ad, b, v], |r| {
                Ok((r.get::<_, i64>(0)?, stored_row(r, 1)?))
            })?;
            for row in rows {
                out.push(row?);
            }
            value = next_value.query_row(params![experiment_id, ad, b, v], |r| r.get(0))?;
        }
        Ok(out)
    }
}

/// In collection order, then ad, value and end.
fn sort_snapshots(snapshots: &mut [Snapshot]) {
    snapshots.sort_by(|(c1, r1), (c2, r2)| {
        (c1, &r1.ad_key, &r1.value, r1.date_stop).cmp(&(c2, &r2.ad_key, &r2.value, r2.date_stop))
    });
}

/// Of each collection's totals of an ad and value from one start, the one ending last.
fn widest(snapshots: Vec<Snapshot>) -> Vec<Snapshot> {
    type Key = (i64, String, String, NaiveDate);
    let mut widest: BTreeMap<Key, StoredRow> = BTreeMap::new();
    for (c, r) in snapshots {
        let key = (c, r.ad_key.clone(), r.value.clone(), r.date_start);
        match widest.get(&key) {
            Some(seen) if seen.date_stop >= r.date_stop => {}
            _ => {
                widest.insert(key, r);
            }
        }
    }
    widest.into_iter().map(|((c, ..), r)| (c, r)).collect()
}

/// Of one ad's stored totals, the latest snapshot of each value in the window that ends on
/// the last day and, among windows ending then, was collected last; sorted by value.
fn latest_window(snapshots: &[Snapshot]) -> Vec<StoredRow> {
    let Some(stop) = snapshots.iter().map(|(_, r)| r.date_stop).max() else {
        return Vec::new();
    };
    let start: NaiveDate = snapshots
        .iter()
        .filter(|(_, r)| r.date_stop == stop)
        .max_by_key(|(c, _)| *c)
        .map(|(_, r)| r.date_start)
        .expect("a row ends on the last day");
    let mut latest: BTreeMap<&str, &Snapshot> = BTreeMap::new();
    for snapshot in snapshots {
        let (c, r) = snapshot;
        if r.date_stop != stop || r.date_start != start {
            continue;
        }
        match latest.get(r.value.as_str()) {
            Some((seen, _)) if seen >= c => {}
            _ => {
                latest.insert(&r.value, snapshot);
            }
        }
    }
    latest.into_values().map(|(_, r)| r.clone()).collect()
}
