//! The anytime-valid looks of each collection (issue 18), stored with it
//! (`sequential_looks`, migration 12) and read back for `status`, the report and the
//! stopping rule. The scheduler computes them (`adskew_core::analysis::sequential::track`)
//! from the cumulative counts; the store only keeps them.

use rusqlite::params;

use crate::error::Result;
use crate::{word, Store};
use adskew_core::analysis::sequential::difference::DifferenceLook;
use adskew_core::analysis::sequential::{CollectionLooks, Look, PairLook};
use adskew_core::vocab::Breakdown;

impl Store {
    /// Stores the looks of collections that have none yet, in one transaction; returns how
    /// many looks were new. Looks are a pure function of the stored counts, so a look
    /// stored before is the same and is left as it is.
    pub fn insert_looks(&mut self, experiment_id: i64, looks: &[CollectionLooks]) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let mut added = 0;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO sequential_looks (collection_id, experiment_id,
                 comparison, breakdown, log_e, p_value, pair_group, ad1, ad2, estimate, lower,
                 upper, as_of) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?;
            for c in looks {
                for l in &c.looks {
                    let pair = l.pair.as_ref();
                    let d = pair.map(|p| p.difference);
                    added += insert.execute(params![
                        c.collection_id,
                        experiment_id,
                        l.comparison,
                        l.breakdown.as_str(),
                        l.log_e,
                        l.p_value,
                        pair.map(|p| &p.group),
                        pair.map(|p| &p.ad1),
                        pair.map(|p| &p.ad2),
                        d.map(|d| d.estimate),
                        d.map(|d| d.lower),
                        d.map(|d| d.upper),
                        crate::ts(c.as_of),
                    ])?;
                }
            }
        }
        tx.commit()?;
        Ok(added)
    }

    /// Every stored look of a run, by collection in order, each collection's in the order
    /// they were computed.
    pub fn looks(&self, experiment_id: i64) -> Result<Vec<CollectionLooks>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT collection_id, comparison, breakdown, log_e, p_value, pair_group, ad1, ad2,
             estimate, lower, upper, as_of FROM sequential_looks WHERE experiment_id = ?1
             ORDER BY collection_id, rowid",
        )?;
        let rows = stmt.query_map([experiment_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(11)?, look(r)?))
        })?;
        let mut out: Vec<CollectionLooks> = Vec::new();
        for row in rows {
            let (collection_id, as_of, look) = row?;
            match out.last_mut() {
                Some(c) if c.collection_id == collection_id => c.looks.push(look),
                _ => out.push(CollectionLooks {
                    collection_id,
                    as_of: crate::parse_time(&as_of)?,
                    looks: vec![look],
                }),
            }
        }
        Ok(out)
    }
}

/// One look from columns 1.. of a `sequential_looks` row.
fn look(r: &rusqlite::Row<'_>) -> rusqlite::Result<Look> {
    let group: Option<String> = r.get(5)?;
    let pair = match group {
        Some(group) => Some(PairLook {
            group,
            ad1: r.get(6)?,
            ad2: r.get(7)?,
            difference: DifferenceLook {
                estimate: r.get(8)?,
                lower: r.get(9)?,
                upper: r.get(10)?,
            },
        }),
        None => None,
    };
    Ok(Look {
        comparison: r.get(1)?,
        breakdown: word(r, 2, Breakdown::parse)?,
        log_e: r.get(3)?,
        p_value: r.get(4)?,
        pair,
    })
}
