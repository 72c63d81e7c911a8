//! Experiments: the TOML file a researcher writes, loaded, checked and turned into typed
//! values the rest of adskew can trust.
//!
//! - [`schema`]: the file as written (lenient serde structs);
//! - [`load`]: reading the file through the `config` crate, then `ADSKEW_*` overrides;
//! - [`read`]: a table into its structs, every wrong type and unknown key reported;
//! - [`validate`]: every rule, every problem reported at once with its field path;
//! - [`figures`]: how reports draw figures, and display labels (presentation only).
//!
//! Nothing downstream sees a [`schema::RawExperiment`]; it sees an [`Experiment`], which
//! can only be built by validation.

pub mod describe;
pub mod figures;
pub mod image;
pub mod keys;
pub mod load;
pub mod read;
pub mod schema;
pub mod stopping;
pub mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::vocab::{
    AdCategory, AgeBucket, Breakdown, CiMethod, Correction, Gender, Metric, Objective, PlatformKind,
};

pub use load::{load, Loaded};

/// One problem in an experiment file: where it is, what is wrong, how to fix it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// Field path such as `ads[2].daily_budget`, or `(file)` for syntax errors.
    pub path: String,
    pub message: String,
    pub hint: Option<String>,
    /// The line of the file the value is on, when it is in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The `ADSKEW_*` variable that set the value, when one did (it then has no line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variable: Option<String>,
    /// For an unknown key: the known key meant, so the hint can be spelt as the file or
    /// the variable spells it.
    #[serde(skip)]
    pub meant: Option<String>,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
            hint: None,
            line: None,
            variable: None,
            meant: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)?;
        let place = match (&self.variable, self.line) {
            (Some(var), _) => Some(format!("set by {var}")),
            (None, Some(line)) => Some(format!("line {line}")),
            (None, None) => None,
        };
        match (place, &self.hint) {
            (Some(place), Some(hint)) => write!(f, " ({place}; hint: {hint})"),
            (Some(place), None) => write!(f, " ({place})"),
            (None, Some(hint)) => write!(f, " (hint: {hint})"),
            (None, None) => Ok(()),
        }
    }
}

/// `x` as a message shows it: at most six decimals, no float noise (a sum of 0.6 and 0.5
/// is 1.1, not 1.0999999999999999).
pub fn decimal(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Where an experiment came from, for provenance in the store and every report.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Source {
    pub path: PathBuf,
    /// The file exactly as read.
    pub text: String,
    /// SHA-256 of `text`, hex.
    pub sha256: String,
    /// Environment overrides applied on top of the file (`ADSKEW_*`), as `key=value`.
    pub overrides: Vec<String>,
}

/// A validated experiment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Experiment {
    pub name: String,
    pub description: String,
    pub platform: PlatformKind,
    pub currency: String,
    pub spend_cap: Money,
    /// The most all ads together may spend on one day of the account; reaching it stops the
    /// run (the platform may overspend a daily budget on a given day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_spend_cap: Option<Money>,
    pub objective: Objective,
    pub category: AdCategory,
    pub schedule: Schedule,
    pub audience: Audience,
    pub ads: Vec<Ad>,
    pub comparisons: Vec<Comparison>,
    pub collect: Collect,
    pub analysis: AnalysisSettings,
    /// `[sim]` as written (with its overrides): the simulator's world, read by adskew-sim.
    #[serde(default)]
    pub sim: SimTable,
    /// Replications or mirrored audiences; `None` for one audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design: Option<Design>,
    /// The DSA beneficiary and payor; `None` leaves them to the platform settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsa: Option<Dsa>,
    /// `[stopping]`: stop at the first nightly look that concludes; `None` runs the
    /// schedule out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopping: Option<stopping::Stopping>,
    /// `[figures]`: how reports draw figures, and group labels.
    #[serde(default, skip_serializing_if = "figures::Figures::is_default")]
    pub figures: figures::Figures,
    #[serde(skip)]
    pub source: Source,
}

/// Who benefits from and who pays for the ads: the EU's Digital Services Act (art. 26)
/// has platforms show both on every ad that reaches people in the EU/EEA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dsa {
    pub beneficiary: String,
    pub payor: String,
}

impl Experiment {
    pub fn ad(&self, key: &str) -> Option<&Ad> {
        self.ads.iter().find(|a| a.key == key)
    }

    /// The most the ads can spend over the schedule if every budget is exhausted.
    pub fn max_scheduled_spend(&self) -> Money {
        let days = self.schedule.duration.num_seconds() as f64 / 86_400.0;
        self.ads
            .iter()
            .map(|ad| match ad.budget {
                Budget::Daily(per_day) => Money((per_day.0 as f64 * days.ceil()) as i64),
                Budget::Lifetime(total) => total,
            })
            .sum()
    }

    /// The validated experiment as canonical JSON; its hash identifies what actually ran
    /// (the file plus any environment overrides).
    pub fn resolved_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("experiment serialises")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Start {
    /// Start when `adskew run` is called.
    Now,
    At(DateTime<Utc>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Schedule {
    pub start: Start,
    #[serde(with = "delta_seconds")]
    pub duration: TimeDelta,
    #[serde(with = "delta_seconds")]
    pub collect_every: TimeDelta,
    /// Time after the end at which a final collection is made (zero: none).
    #[serde(with = "delta_seconds")]
    pub recollect_after: TimeDelta,
}

/// Durations are stored as whole seconds.
mod delta_seconds {
    use chrono::TimeDelta;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &TimeDelta, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(d.num_seconds())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TimeDelta, D::Error> {
        Ok(TimeDelta::seconds(i64::deserialize(d)?))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Audience {
    pub countries: Vec<String>,
    pub regions: Vec<String>,
    pub age_min: u8,
    pub age_max: u8,
    pub custom_audience: Option<String>,
    /// Where the ads may be shown; empty: wherever the platform chooses (automatic).
    #[serde(default)]
    pub placements: Vec<crate::vocab::Placement>,
}

impl Audience {
    pub fn age_buckets(&self) -> Vec<AgeBucket> {
        AgeBucket::overlapping(self.age_min, self.age_max)
    }

    /// The region values delivery is reported by: the targeted regions, or the countries.
    pub fn region_values(&self) -> Vec<String> {
        if self.regions.is_empty() {
            self.countries.clone()
        } else {
            self.regions.clone()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Budget {
    Daily(Money),
    Lifetime(Money),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ad {
    pub key: String,
    pub headline: String,
    pub body: String,
    pub image: Option<String>,
    pub link: String,
    pub budget: Budget,
    /// The name reports show for the ad (`None`: its key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    pub key: String,
    pub ads: Vec<String>,
    pub expected: Option<Expected>,
    /// What deliberately differs between the ads besides the creative (`budget`); anything
    /// else differing would confound the comparison and is refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vary: Vec<String>,
    /// The name reports show for the comparison (`None`: its key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A pre-registered direction: `ad` reaches a larger share of `group` than the others.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Expected {
    pub ad: String,
    pub group: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Collect {
    pub breakdowns: Vec<Breakdown>,
    pub metrics: Vec<Metric>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnalysisSettings {
    pub alpha: f64,
    pub correction: Correction,
    pub ci: CiMethod,
    pub ci_level: f64,
    /// Reach (people) or impressions.
    pub metric: Metric,
    pub include_unknown: bool,
    /// Yates' continuity correction on 2 × 2 chi-square tests. Off by default: with the
    /// thousands of people an audit reaches it changes nothing of substance, and for small
    /// tables Fisher's exact test (always reported for 2 × 2) is the better answer.
    #[serde(default)]
    pub yates: bool,
    /// The smallest p-value a report prints: below it, prose, captions and tables say
    /// "p < 10⁻¹⁶" (a journal prints no more digits than the arithmetic supports), while
    /// `results.json` and the CSV tables keep the exact log10 p. A power of ten.
    #[serde(default = "default_p_floor")]
    pub p_floor: f64,
    /// Expected composition per breakdown for goodness of fit, from the experiment's
    /// `[analysis.expected]` or `--expected`; it takes the place of the simulator's
    /// eligible audience for that breakdown.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub expected: BTreeMap<Breakdown, ExpectedComposition>,
    /// The alternative of the z-test and of Fisher's exact test, when given on the command
    /// line (`analyze --alternative`); otherwise a z-test is one-sided where a direction
    /// was pre-registered and two-sided elsewhere, and Fisher's test is two-sided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternative: Option<crate::analysis::ztest::Alternative>,
}

/// The default [`AnalysisSettings::p_floor`]: about the double-precision epsilon, below
/// which a p-value computed as 1 − CDF has no correct digit left.
pub const DEFAULT_P_FLOOR: f64 = 1e-16;

fn default_p_floor() -> f64 {
    DEFAULT_P_FLOOR
}

/// The exponent of `floor` if it is a power of ten from 10⁻³⁰⁰ to 10⁻³, the floors a
/// report can print (`None` for anything else).
pub fn p_floor_exponent(floor: f64) -> Option<i32> {
    if !(floor.is_finite() && floor > 0.0) {
        return None;
    }
    let k = floor.log10().round() as i32;
    let exact: f64 = format!("1e{k}").parse().ok()?;
    ((-300..=-3).contains(&k) && (exact - floor).abs() <= exact * 1e-12).then_some(k)
}

/// A composition a delivery is tested against, and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectedComposition {
    /// "experiment" or "command line".
    pub source: String,
    /// Each group's share, summing to 1.
    pub shares: Vec<(String, f64)>,
}

impl ExpectedComposition {
    /// Checks `pairs` as the composition of one breakdown: which breakdown the group names
    /// belong to (gender, age, else `hint`), positive shares summing to 1, no repeats.
    /// The error says what to write instead.
    pub fn check(
        hint: Option<Breakdown>,
        pairs: &[(String, f64)],
    ) -> std::result::Result<(Breakdown, Vec<(String, f64)>), String> {
        if pairs.len() < 2 {
            return Err("give at least two groups, e.g. female=0.5,male=0.5".into());
        }
        let all = |f: fn(&str) -> bool| pairs.iter().all(|(g, _)| f(g));
        let breakdown = match hint {
            Some(b) => b,
            None if all(|g| Gender::parse(g).is_some()) => Breakdown::Gender,
            None if all(|g| AgeBucket::parse(g).is_some()) => Breakdown::Age,
            None => {
                return Err(
                    "the groups are neither all genders nor all age buckets; name the breakdown first, e.g. region:California=0.4,Texas=0.6".into(),
                )
            }
        };
        let mut shares: Vec<(String, f64)> = Vec::new();
        for (group, share) in pairs {
            let group = match breakdown {
                Breakdown::Gender => Gender::parse(group)
                    .map(|g| g.as_str().to_string())
                    .ok_or_else(|| format!("`{group}` is not a gender ({})", Gender::choices()))?,
                Breakdown::Age => AgeBucket::parse(group)
                    .map(|a| a.as_str().to_string())
                    .ok_or_else(|| {
                        format!("`{group}` is not an age bucket ({})", AgeBucket::choices())
                    })?,
                Breakdown::Region | Breakdown::Race => group.trim().to_string(),
            };
            if !(share.is_finite() && *share > 0.0) {
                return Err(format!(
                    "the share of `{group}` must be positive (got {}); give each group a share above 0",
                    decimal(*share)
                ));
            }
            if shares.iter().any(|(g, _)| *g == group) {
                return Err(format!("`{group}` is given twice; give each group once"));
            }
            shares.push((group, *share));
        }
        let sum: f64 = shares.iter().map(|(_, s)| s).sum();
        if (sum - 1.0).abs() > 1e-6 {
            return Err(format!(
                "the shares sum to {}, not 1; scale them so they do",
                decimal(sum)
            ));
        }
        Ok((breakdown, shares))
    }
}

/// A table of the file the core carries as written, without reading it: `[sim]`, the
/// simulated world, which adskew-sim reads and checks (`adskew_sim::SimTruth::of`). The
/// core knows no platform, so it knows neither the table's keys nor their meaning.
pub type SimTable = serde_json::Map<String, serde_json::Value>;

/// Every ad runs in each of several disjoint partitions of the audience, each with its own
/// ad set. Replications give independent estimates to pool; mirrored audiences (Ali et al.
/// 2019, §1.2) encode race by region: in partition 0 `groups[0]` lives in
/// `region_sets[0]` and `groups[1]` in `region_sets[1]`; partition 1 swaps the sets, so the
/// region breakdown reveals race and geography cancels when the two are pooled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Design {
    pub kind: DesignKind,
    pub partitions: Vec<String>,
    /// The platform audience of each partition, if given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_audiences: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub region_sets: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DesignKind {
    Replicated,
    Mirrored,
}

impl Design {
    /// The store's key of an ad in a partition: `ad@partition`.
    pub fn ad_key(ad: &str, partition: &str) -> String {
        format!("{ad}@{partition}")
    }

    /// Splits a stored ad key into the ad and its partition.
    pub fn split_key(key: &str) -> (&str, Option<&str>) {
        match key.split_once('@') {
            Some((ad, p)) => (ad, Some(p)),
            None => (key, None),
        }
    }

    /// Mirrored: the group that lives in `region` within partition `p` (index), if any.
    pub fn group_of(&self, p: usize, region: &str) -> Option<&str> {
        let set = self
            .region_sets
            .iter()
            .position(|s| s.iter().any(|r| r == region))?;
        self.groups.get(set ^ (p & 1)).map(String::as_str)
    }
}
