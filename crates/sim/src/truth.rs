//! The simulated world: who is eligible, what they cost, how the simulated platform reports
//! and how each creative engages them. It is written in an experiment's `[sim]` table, which
//! adskew-core carries as data without reading it; this module reads and checks it.
//!
//! [`check`] is what `adskew validate` runs on every experiment, so the problems of `[sim]`
//! are reported with the rest of the file's; [`SimTruth::of`] is what everything that builds
//! the simulator (commands, `plan`, the mock, tests) takes the truth from.

mod check;
mod raw;

use std::collections::BTreeMap;

use adskew_core::error::Error;
use adskew_core::experiment::{Design, ExpectedComposition, Experiment, Problem, SimTable};
use adskew_core::vocab::{AgeBucket, Breakdown, Gender};

pub use raw::{RawSim, RawSimAd};

/// The simulator's ground truth, resolved: every value of `[sim]` with its default.
#[derive(Debug, Clone)]
pub struct SimTruth {
    pub seed: u64,
    pub audience_size: u64,
    pub cpm: f64,
    pub ctr: f64,
    pub gender: BTreeMap<Gender, f64>,
    pub age: BTreeMap<AgeBucket, f64>,
    pub regions: Vec<(String, f64)>,
    pub price: BTreeMap<Gender, f64>,
    pub price_spread: f64,
    pub opportunities_per_day: f64,
    pub activity: BTreeMap<Gender, f64>,
    /// Relative sd of reporting noise on a day's rows when first reported.
    pub report_noise: f64,
    /// Days over which that noise is revised away.
    pub revision_days: f64,
    /// The simulated account's time zone: days (for daily budgets and reports) are its
    /// local days, 23 or 25 hours long across daylight-saving changes.
    pub timezone: chrono_tz::Tz,
    /// The experiment's design, so the simulator (and the mock) can give each partition its
    /// own disjoint share of the audience and, when mirrored, its groups by region.
    pub design: Option<Design>,
    pub ads: BTreeMap<String, SimAdTruth>,
}

/// Engagement multipliers of one creative per group (1.0 = average).
#[derive(Debug, Clone, Default)]
pub struct SimAdTruth {
    pub gender: BTreeMap<Gender, f64>,
    pub age: BTreeMap<AgeBucket, f64>,
    pub region: BTreeMap<String, f64>,
    /// The simulated review rejects the ad with this reason; it then never delivers.
    pub disapproved: Option<String>,
    /// Engagement by the groups of a mirrored design (the attribute regions encode).
    pub group: BTreeMap<String, f64>,
}

/// The problems of `exp`'s `[sim]` table (none when it is valid): what validation adds to
/// the core's own, so one `adskew validate` reports every problem of a file. `exp` may be
/// the best effort of a file with problems elsewhere (faulty values at their defaults).
pub fn check(exp: &Experiment) -> Vec<Problem> {
    SimTruth::of(exp).err().unwrap_or_default()
}

/// [`SimTruth::of`] as bad input naming the experiment's file: what a command that builds
/// the simulator from an experiment (run, resume, plan, the mock server) calls.
pub fn truth_of(exp: &Experiment) -> adskew_core::error::Result<SimTruth> {
    SimTruth::of(exp).map_err(|problems| Error::Invalid {
        path: exp.source.path.clone(),
        problems,
    })
}

impl SimTruth {
    /// The simulated world of `exp`: its `[sim]` table read and checked against the
    /// experiment's audience, ads and design, every absent value at its default; every
    /// problem of the table at once otherwise.
    pub fn of(exp: &Experiment) -> Result<SimTruth, Vec<Problem>> {
        let table = upgrade_stored(&exp.sim);
        let (raw, mut problems) = adskew_core::experiment::read::read_table::<RawSim>(
            serde_json::Value::Object(table),
            "sim",
            raw::FIELDS,
        )?;
        let mut c = adskew_core::experiment::validate::Checker::default();
        let mut truth = check::check_sim(&mut c, &raw, exp);
        problems.extend(c.into_problems());
        truth.design = exp.design.clone();
        if problems.is_empty() {
            Ok(truth)
        } else {
            Err(problems)
        }
    }

    /// The simulator's ground truth with every default (a broad US adult audience, no
    /// skew): what the mock server simulates without a truth experiment.
    pub fn defaults() -> SimTruth {
        let audience = adskew_core::experiment::Audience {
            countries: vec!["US".to_string()],
            regions: Vec::new(),
            age_min: 18,
            age_max: 65,
            custom_audience: None,
            placements: Vec::new(),
        };
        let mut c = adskew_core::experiment::validate::Checker::default();
        let truth = check::resolve(&mut c, &RawSim::default(), &audience, &Default::default());
        debug_assert!(c.into_problems().is_empty(), "defaults are valid");
        truth
    }

    /// The eligible audience's share of each value of a breakdown (the reference line of
    /// every chart and the null of a goodness-of-fit test).
    pub fn eligible_shares(&self, breakdown: Breakdown) -> Vec<(String, f64)> {
        match breakdown {
            Breakdown::Gender => self
                .gender
                .iter()
                .map(|(g, s)| (g.as_str().to_string(), *s))
                .collect(),
            Breakdown::Age => self
                .age
                .iter()
                .map(|(a, s)| (a.as_str().to_string(), *s))
                .collect(),
            Breakdown::Region => self.regions.clone(),
            Breakdown::Race => self.race_shares(),
        }
    }

    /// Who was eligible by every breakdown, as an analysis takes it from a platform that
    /// knows (the null of the goodness-of-fit tests and the reference line of the charts).
    pub fn eligible(&self) -> BTreeMap<Breakdown, ExpectedComposition> {
        Breakdown::ALL
            .iter()
            .map(|&b| {
                let composition = ExpectedComposition {
                    source: "simulator".to_string(),
                    shares: self.eligible_shares(b),
                };
                (b, composition)
            })
            .collect()
    }

    /// A mirrored design's groups pooled over the audience and its mirror: each group's
    /// people in both (none without a design).
    fn race_shares(&self) -> Vec<(String, f64)> {
        let Some(d) = self.design.as_ref() else {
            return Vec::new();
        };
        let weight = |r: &str| {
            self.regions
                .iter()
                .find(|(name, _)| name == r)
                .map_or(0.0, |(_, w)| *w)
        };
        let mut shares: Vec<(String, f64)> = d.groups.iter().map(|g| (g.clone(), 0.0)).collect();
        for p in 0..d.partitions.len() {
            for (name, _) in &self.regions {
                if let Some(g) = d.group_of(p, name) {
                    if let Some(s) = shares.iter_mut().find(|(x, _)| x == g) {
                        s.1 += weight(name);
                    }
                }
            }
        }
        let total: f64 = shares.iter().map(|(_, s)| s).sum();
        if total > 0.0 {
            for s in shares.iter_mut() {
                s.1 /= total;
            }
        }
        shares
    }
}

/// `[sim]` as written. Runs stored before adskew-sim owned its world kept the resolved
/// truth instead: regions as `[name, share]` pairs and the design beside them. Those read
/// as the table they resolve (the design is the experiment's own), so old runs resume and
/// report as they did.
fn upgrade_stored(table: &SimTable) -> SimTable {
    let mut table = table.clone();
    table.remove("design");
    if let Some(serde_json::Value::Array(pairs)) = table.get("regions") {
        let map: serde_json::Map<String, serde_json::Value> = pairs
            .iter()
            .filter_map(|p| match p.as_array().map(Vec::as_slice) {
                Some([serde_json::Value::String(name), share]) => {
                    Some((name.clone(), share.clone()))
                }
                _ => None,
            })
            .collect();
        table.insert("regions".to_string(), serde_json::Value::Object(map));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run stored with the resolved truth of earlier versions reads as the same world.
    #[test]
    fn a_stored_resolved_truth_reads_as_its_table() {
        let stored: SimTable = serde_json::from_str(
            r#"{"seed": 3, "regions": [["CA", 0.25], ["TX", 0.75]], "design": null,
                "gender": {"female": 0.5, "male": 0.5}}"#,
        )
        .unwrap();
        let table = upgrade_stored(&stored);
        assert!(!table.contains_key("design"));
        assert_eq!(table["regions"]["TX"], 0.75);
        assert_eq!(table["seed"], 3);
    }
}
