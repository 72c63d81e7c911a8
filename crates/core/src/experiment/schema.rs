//! The experiment file as written: serde structs that mirror the TOML one to one.
//!
//! Almost every field is optional here on purpose. Deserialisation only fails on a value of
//! the wrong type; missing and out-of-range values are left to [`super::validate`], which
//! can then report *every* problem of a file at once, each with its field path, instead of
//! stopping at the first one the way a strict serde struct would.
//!
//! Field documentation lives in `campaigns/README.md`, next to the examples.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct RawExperiment {
    pub name: Option<String>,
    pub description: Option<String>,
    /// `sim` (default) or `meta`.
    pub platform: Option<String>,
    /// ISO 4217 code of the ad account's currency; amounts are in its major unit.
    pub currency: Option<String>,
    /// The most the whole experiment may spend, in major units. Required.
    pub spend_cap: Option<f64>,
    /// Optional: the most the experiment may spend on any one day (the account's day).
    pub daily_spend_cap: Option<f64>,
    /// `traffic` (link clicks) or `reach`; the same for every ad.
    pub objective: Option<String>,
    /// Special ad category (`employment`, `housing`, `credit`, `none`).
    pub category: Option<String>,
    pub schedule: Option<RawSchedule>,
    pub audience: Option<RawAudience>,
    #[serde(default)]
    pub ads: Vec<RawAd>,
    #[serde(default)]
    pub comparisons: Vec<RawComparison>,
    pub collect: Option<RawCollect>,
    pub analysis: Option<RawAnalysis>,
    /// The simulated world, which adskew-sim reads; carried here as written.
    pub sim: Option<super::SimTable>,
    /// Replications on disjoint audience partitions, or mirrored audiences.
    pub design: Option<RawDesign>,
    /// Who benefits from and who pays for the ads, as the EU's Digital Services Act asks.
    pub dsa: Option<RawDsa>,
    /// Early stopping under anytime-valid looks (issue 18).
    pub stopping: Option<super::stopping::RawStopping>,
    /// How figures are drawn, and the groups' display labels (`super::figures`).
    pub figures: Option<RawFigures>,
}

/// `[figures]`: style, axis range, width and group labels of a report's figures.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct RawFigures {
    /// `paper` (default: no title inside the figure) or `screen`.
    pub style: Option<String>,
    /// `"auto"` (default), `"full"`, or `[lo, hi]` in percent; checked by validation.
    pub axis: Option<serde_json::Value>,
    /// `one-column` or `two-column`: every figure at this width.
    pub width: Option<String>,
    /// Display labels of groups: `groups = { female = "Women" }`.
    pub groups: Option<BTreeMap<String, String>>,
}

/// `[dsa]`: the beneficiary and payor shown on ads that reach the EU/EEA.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct RawDsa {
    pub beneficiary: Option<String>,
    pub payor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct RawSchedule {
    /// `"now"` or an RFC 3339 time such as `2026-12-01T09:00:00Z`.
    pub start: Option<String>,
    pub duration_days: Option<f64>,
    pub duration_hours: Option<f64>,
    /// RFC 3339 end time; alternative to a duration.
    pub end: Option<String>,
    /// Hours between two collections (default 24).
    pub collect_every_hours: Option<f64>,
    /// Days after the end to collect once more, when the platform's late revisions have
    /// settled (default 3; 0 disables).
    pub recollect_after_days: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct RawAudience {
    #[serde(default)]
    pub countries: Vec<String>,
    #[serde(default)]
    pub regions: Vec<String>,
    pub age_min: Option<i64>,
    pub age_max: Option<i64>,
    /// A reference to a custom audience (its name or platform id).
    pub custom_audience: Option<String>,
    /// Where the ads may be shown (default: the platform's automatic placements).
    #[serde(default)]
    pub placements: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct RawAd {
    pub key: Option<String>,
    pub headline: Option<String>,
    pub body: Option<String>,
    /// A path (relative to the experiment file) or an `https://` URL.
    pub image: Option<String>,
    pub link: Option<String>,
    pub daily_budget: Option<f64>,
    pub lifetime_budget: Option<f64>,
    /// The name figures, tables and captions show (default: the key).
    pub label: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct RawComparison {
    pub key: Option<String>,
    /// The ad keys compared; at least two.
    #[serde(default)]
    pub ads: Vec<String>,
    pub expected: Option<RawExpected>,
    /// What deliberately differs between the ads besides the creative (`["budget"]`).
    #[serde(default)]
    pub vary: Vec<String>,
    /// The name figures, tables and captions show (default: the key).
    pub label: Option<String>,
}

/// "Ad `ad` is expected to reach a larger share of `group` than the other ad."
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct RawExpected {
    pub ad: Option<String>,
    pub group: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct RawCollect {
    pub breakdowns: Option<Vec<String>>,
    pub metrics: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct RawAnalysis {
    pub alpha: Option<f64>,
    /// `none`, `bonferroni`, `holm` or `bh`.
    pub correction: Option<String>,
    /// `wilson`, `agresti-coull`, `clopper-pearson` or `wald`.
    pub ci: Option<String>,
    pub ci_level: Option<f64>,
    /// `reach` or `impressions`.
    pub metric: Option<String>,
    /// Keep the "unknown" gender in the test (default false: reported, not tested).
    pub include_unknown: Option<bool>,
    /// Yates' continuity correction on 2 × 2 chi-square tests (default false).
    pub yates: Option<bool>,
    /// The smallest p-value reports print, a power of ten (default 1e-16).
    pub p_floor: Option<f64>,
    /// Expected composition per breakdown for goodness of fit (the eligible audience's,
    /// e.g. from Meta's audience estimate): `gender = { female = 0.5, male = 0.5 }`.
    pub expected: Option<BTreeMap<String, BTreeMap<String, f64>>>,
}

/// `[design]`: every ad runs in each of several disjoint audience partitions.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct RawDesign {
    /// `replicated` or `mirrored`.
    pub kind: Option<String>,
    /// Partition keys, e.g. ["A", "B"].
    #[serde(default)]
    pub partitions: Vec<String>,
    /// The platform audience of each partition (e.g. uploaded customer lists), in order.
    #[serde(default)]
    pub custom_audiences: Vec<String>,
    /// Mirrored: the two groups of the attribute encoded by region (default white, black).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Mirrored: two disjoint sets of regions. In the first partition the first group lives
    /// in the first set; the mirror swaps them.
    #[serde(default)]
    pub region_sets: Vec<Vec<String>>,
}
