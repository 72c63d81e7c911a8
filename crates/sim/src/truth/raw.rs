//! `[sim]` as written: serde structs that mirror the table one to one, lenient like the
//! core's schema, so that [`super::check`] can report every problem at once.

use std::collections::BTreeMap;

use adskew_core::experiment::read::Known;
use serde::{Deserialize, Serialize};

/// The keys `[sim]` knows (first level) and `[sim.ads.<key>]` knows (below), for "did you
/// mean" hints.
pub(super) const FIELDS: Known<'static> = Known {
    top: &[
        "seed",
        "audience_size",
        "cpm",
        "ctr",
        "gender",
        "age",
        "regions",
        "price",
        "price_spread",
        "opportunities_per_day",
        "activity",
        "report_noise",
        "revision_days",
        "timezone",
        "ads",
    ],
    nested: &["gender", "age", "region", "disapproved", "group"],
};

/// The simulator's ground truth: who is eligible, and how each creative engages them.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct RawSim {
    pub seed: Option<i64>,
    /// People in the eligible audience.
    pub audience_size: Option<i64>,
    /// Base price of 1,000 impressions, in major units.
    pub cpm: Option<f64>,
    /// Base click-through rate of an ad before engagement multipliers.
    pub ctr: Option<f64>,
    /// Eligible audience by gender (`female`, `male`, `unknown`): shares summing to 1.
    pub gender: Option<BTreeMap<String, f64>>,
    /// Eligible audience by age bucket (`18-24` … `65+`): shares summing to 1.
    pub age: Option<BTreeMap<String, f64>>,
    /// Eligible audience by region: shares summing to 1 (default: equal).
    pub regions: Option<BTreeMap<String, f64>>,
    /// Price multiplier per gender: competing advertisers make some groups dearer.
    pub price: Option<BTreeMap<String, f64>>,
    /// Spread (sd of the log) of competing bids around the price.
    pub price_spread: Option<f64>,
    /// Impression opportunities per person per day (sessions × ad slots).
    pub opportunities_per_day: Option<f64>,
    /// Activity multiplier per gender (some groups use the platform more).
    pub activity: Option<BTreeMap<String, f64>>,
    /// Relative sd of the estimation noise on a fresh day's breakdown rows.
    pub report_noise: Option<f64>,
    /// Days after which a day's reported numbers stop being revised.
    pub revision_days: Option<f64>,
    /// The simulated ad account's time zone (IANA name): what a day is for budgets and
    /// reporting.
    pub timezone: Option<String>,
    /// Per-ad engagement multipliers: the skew the experiment should find.
    #[serde(default)]
    pub ads: BTreeMap<String, RawSimAd>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct RawSimAd {
    #[serde(default)]
    pub gender: BTreeMap<String, f64>,
    #[serde(default)]
    pub age: BTreeMap<String, f64>,
    #[serde(default)]
    pub region: BTreeMap<String, f64>,
    /// The platform's review rejects this ad with this reason (to rehearse a rejection).
    pub disapproved: Option<String>,
    /// Engagement multipliers by the groups of a mirrored design (e.g. race).
    #[serde(default)]
    pub group: BTreeMap<String, f64>,
}
