//! Designs with audience partitions (replications, mirrored audiences): what each
//! partition delivered on its own, and the pooled counts the tests run on.
//!
//! Partitions are disjoint, so pooling adds counts, reach included. In a mirrored design
//! (Ali et al. 2019, §1.2) race is read off the region breakdown: in partition `p` the
//! people of region set `s` belong to group `s XOR p`, so each region row becomes a row of
//! its group, and pooling the audience with its mirror cancels what the regions themselves
//! do to delivery (prices, activity).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::experiment::{Design, DesignKind};
use crate::records::{Period, StoredRow};
use crate::vocab::{Breakdown, Metric};

/// One partition's delivery per ad: its counts and, per breakdown, each value's share.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PartitionResult {
    pub partition: String,
    pub ads: Vec<PartitionAd>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PartitionAd {
    pub key: String,
    /// The analysis metric's count in this partition (summed over the first breakdown).
    pub count: u64,
    /// breakdown → value → share of the analysis metric (unknown values included).
    pub shares: BTreeMap<String, BTreeMap<String, f64>>,
}

/// Mirrored designs: the region rows of every partition as rows of the groups they encode.
pub fn race_rows(design: &Design, region_rows: &[StoredRow]) -> Vec<StoredRow> {
    if design.kind != DesignKind::Mirrored {
        return Vec::new();
    }
    region_rows
        .iter()
        .filter_map(|r| {
            let (_, part) = Design::split_key(&r.ad_key);
            let p = design
                .partitions
                .iter()
                .position(|x| Some(x.as_str()) == part)?;
            let group = design.group_of(p, &r.value)?;
            Some(StoredRow {
                breakdown: Breakdown::Race,
                value: group.to_string(),
                ..r.clone()
            })
        })
        .collect()
}

/// The rows of all partitions added up per ad (`ad@p` → `ad`).
pub fn pool(rows: &[StoredRow]) -> Vec<StoredRow> {
    let mut pooled: BTreeMap<(String, Period, Breakdown, String), StoredRow> = BTreeMap::new();
    for r in rows {
        let (ad, _) = Design::split_key(&r.ad_key);
        let key = (ad.to_string(), r.period, r.breakdown, r.value.clone());
        match pooled.get_mut(&key) {
            Some(p) => {
                p.reach = p.reach.saturating_add(r.reach);
                p.impressions = p.impressions.saturating_add(r.impressions);
                p.clicks = p.clicks.saturating_add(r.clicks);
                p.spend += r.spend;
                p.date_start = p.date_start.min(r.date_start);
                p.date_stop = p.date_stop.max(r.date_stop);
            }
            None => {
                pooled.insert(
                    key,
                    StoredRow {
                        ad_key: ad.to_string(),
                        ..r.clone()
                    },
                );
            }
        }
    }
    pooled.into_values().collect()
}

/// Each partition's own shares, from the unpooled rows of every breakdown.
pub fn by_partition(
    design: &Design,
    ads: &[String],
    totals: &BTreeMap<Breakdown, Vec<StoredRow>>,
    metric: Metric,
) -> Vec<PartitionResult> {
    let count = |r: &StoredRow| match metric {
        Metric::Impressions => r.impressions,
        Metric::Clicks => r.clicks,
        _ => r.reach,
    };
    design
        .partitions
        .iter()
        .map(|p| PartitionResult {
            partition: p.clone(),
            ads: ads
                .iter()
                .map(|ad| {
                    let key = Design::ad_key(ad, p);
                    let mut shares = BTreeMap::new();
                    let mut first_total = None;
                    for (b, rows) in totals {
                        let mine: Vec<&StoredRow> =
                            rows.iter().filter(|r| r.ad_key == key).collect();
                        // Several rows can hold one value (race: two regions per group).
                        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
                        for r in &mine {
                            let c = counts.entry(r.value.clone()).or_insert(0u64);
                            *c = c.saturating_add(count(r));
                        }
                        let total = crate::count::total(counts.values().copied());
                        first_total.get_or_insert(total);
                        let values: BTreeMap<String, f64> = counts
                            .into_iter()
                            .map(|(v, n)| {
                                let share = if total > 0 {
                                    n as f64 / total as f64
                                } else {
                                    0.0
                                };
                                (v, share)
                            })
                            .collect();
                        shares.insert(b.as_str().to_string(), values);
                    }
                    PartitionAd {
                        key: ad.clone(),
                        count: first_total.unwrap_or(0),
                        shares,
                    }
                })
                .collect(),
        })
        .collect()
}
