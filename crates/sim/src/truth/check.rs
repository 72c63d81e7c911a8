//! `[sim]`: the simulator's ground truth, checked rule by rule, every absent value at its
//! default. Problems come in a fixed order: the audience and its prices, its composition,
//! the auction, reporting, then each ad.

use std::collections::{BTreeMap, BTreeSet};

use adskew_core::experiment::validate::Checker;
use adskew_core::experiment::{decimal, Audience, DesignKind, Experiment};
use adskew_core::vocab::{AgeBucket, Gender};

use super::{RawSim, RawSimAd, SimAdTruth, SimTruth};

/// The group names a `[sim]` table may use, from the experiment's audience.
struct Names {
    /// Every gender, as a list for hints.
    genders: String,
    /// The audience's age buckets, and as a list for hints.
    buckets: Vec<AgeBucket>,
    ages: String,
    /// The regions delivery is reported by (the audience's, else its countries), and as a
    /// list for hints.
    regions: Vec<String>,
    region_list: String,
}

impl Names {
    /// The names `audience` allows.
    fn of(audience: &Audience) -> Names {
        let buckets = audience.age_buckets();
        let ages = buckets
            .iter()
            .map(|b| b.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let regions = audience.region_values();
        let region_list = regions.join(", ");
        Names {
            genders: Gender::choices(),
            buckets,
            ages,
            regions,
            region_list,
        }
    }

    /// `key` if it is one of the audience's regions.
    fn region(&self, key: &str) -> Option<String> {
        self.regions.iter().find(|r| *r == key).cloned()
    }
}

/// `[sim]` of `exp` (absent: every default), checked against the experiment's audience,
/// ads and design.
pub(super) fn check_sim(c: &mut Checker, s: &RawSim, exp: &Experiment) -> SimTruth {
    let ad_keys: BTreeSet<&str> = exp.ads.iter().map(|a| a.key.as_str()).collect();
    let truth = resolve(c, s, &exp.audience, &ad_keys);
    check_design_groups(c, &truth, exp);
    truth
}

/// A mirrored design's groups are the only ones the simulator's ads may engage.
fn check_design_groups(c: &mut Checker, truth: &SimTruth, exp: &Experiment) {
    let Some(design) = exp
        .design
        .as_ref()
        .filter(|d| d.kind == DesignKind::Mirrored)
    else {
        return;
    };
    for (key, ad) in &truth.ads {
        for g in ad.group.keys() {
            if !design.groups.contains(g) {
                c.problem(
                    format!("sim.ads.{key}.group.{g}"),
                    format!("`{g}` is not one of the design's groups"),
                    &format!(
                        "use one of the design's groups: {}",
                        design.groups.join(", ")
                    ),
                );
            }
        }
    }
}

/// `[sim]` (absent: every default): the simulated audience, auction, reporting and ads.
pub(super) fn resolve(
    c: &mut Checker,
    s: &RawSim,
    audience: &Audience,
    ad_keys: &BTreeSet<&str>,
) -> SimTruth {
    let names = Names::of(audience);
    let (seed, audience_size) = check_population(c, s);
    let (cpm, ctr) = check_rates(c, s);
    let gender = check_gender_shares(c, s, &names);
    let age = check_age_shares(c, s, &names);
    let regions = check_region_shares(c, s, &names);
    let price = match &s.price {
        None => BTreeMap::new(),
        Some(m) => c.multipliers(m, "sim.price", Gender::parse, &names.genders),
    };
    let activity = match &s.activity {
        None => BTreeMap::new(),
        Some(m) => c.multipliers(m, "sim.activity", Gender::parse, &names.genders),
    };
    let (price_spread, opportunities_per_day) = check_auction(c, s);
    let (report_noise, revision_days, timezone) = check_reporting(c, s);
    let ads = check_sim_ads(c, s, &names, ad_keys);
    SimTruth {
        seed,
        audience_size,
        cpm,
        ctr,
        gender,
        age,
        regions,
        price,
        price_spread,
        opportunities_per_day,
        activity,
        report_noise,
        revision_days,
        timezone,
        design: None,
        ads,
    }
}

/// `sim.seed` and `sim.audience_size`: the random seed and the number of eligible people.
fn check_population(c: &mut Checker, s: &RawSim) -> (u64, u64) {
    let seed = match s.seed {
        None => 1,
        Some(v) if v >= 0 => v as u64,
        Some(v) => {
            c.problem(
                "sim.seed",
                format!("must not be negative (got {v})"),
                "any whole number from 0 up, e.g. seed = 1",
            );
            1
        }
    };
    let audience_size = match s.audience_size {
        None => 1_000_000,
        Some(v) if v >= 1_000 => v as u64,
        Some(v) => {
            c.problem(
                "sim.audience_size",
                format!("must be at least 1000 (got {v})"),
                "the number of eligible people, e.g. audience_size = 1000000",
            );
            1_000
        }
    };
    (seed, audience_size)
}

/// `sim.cpm` and `sim.ctr`: the base price of 1,000 impressions and click-through rate.
fn check_rates(c: &mut Checker, s: &RawSim) -> (f64, f64) {
    let cpm = s.cpm.unwrap_or(5.0);
    if !(cpm > 0.0 && cpm.is_finite()) {
        c.problem(
            "sim.cpm",
            format!("must be positive (got {})", decimal(cpm)),
            "the price of 1,000 impressions in major units, e.g. cpm = 5.0",
        );
    }
    let ctr = s.ctr.unwrap_or(0.01);
    if !(ctr > 0.0 && ctr < 0.5) {
        c.problem(
            "sim.ctr",
            format!("must be in (0, 0.5) (got {})", decimal(ctr)),
            "e.g. ctr = 0.01, a typical click-through rate",
        );
    }
    (cpm, ctr)
}

/// `sim.gender`: the eligible audience's shares by gender (by default a small unknown share).
fn check_gender_shares(c: &mut Checker, s: &RawSim, names: &Names) -> BTreeMap<Gender, f64> {
    match &s.gender {
        None => default_gender(),
        Some(m) => c.shares(m, "sim.gender", Gender::parse, &names.genders),
    }
}

/// `sim.age`: the eligible audience's shares by the audience's age buckets (by default a
/// broad adult audience's).
fn check_age_shares(c: &mut Checker, s: &RawSim, names: &Names) -> BTreeMap<AgeBucket, f64> {
    match &s.age {
        None => default_age(&names.buckets),
        Some(m) => c.shares(
            m,
            "sim.age",
            |k| AgeBucket::parse(k).filter(|b| names.buckets.contains(b)),
            &names.ages,
        ),
    }
}

/// `sim.regions`: the eligible audience's shares by region (by default equal).
fn check_region_shares(c: &mut Checker, s: &RawSim, names: &Names) -> Vec<(String, f64)> {
    match &s.regions {
        None => names
            .regions
            .iter()
            .map(|r| (r.clone(), 1.0 / names.regions.len().max(1) as f64))
            .collect(),
        Some(m) => c
            .shares(m, "sim.regions", |k| names.region(k), &names.region_list)
            .into_iter()
            .collect(),
    }
}

/// `sim.price_spread` and `sim.opportunities_per_day`: the competing bids and how often a
/// person is up for auction.
fn check_auction(c: &mut Checker, s: &RawSim) -> (f64, f64) {
    let price_spread = c.number_in(
        s.price_spread,
        "sim.price_spread",
        1.5,
        0.05..=5.0,
        "the sd of log competing bids",
    );
    let opportunities_per_day = c.number_in(
        s.opportunities_per_day,
        "sim.opportunities_per_day",
        0.05,
        0.01..=1000.0,
        "auctions per person per day that an ad of this kind enters",
    );
    (price_spread, opportunities_per_day)
}

/// `sim.report_noise`, `sim.revision_days` and `sim.timezone`: how the simulated platform
/// reports (noise on fresh days, revised away over days, days in the account's time zone).
fn check_reporting(c: &mut Checker, s: &RawSim) -> (f64, f64, chrono_tz::Tz) {
    let report_noise = c.number_in(
        s.report_noise,
        "sim.report_noise",
        0.02,
        0.0..=0.5,
        "relative sd of the noise on a fresh day's rows",
    );
    let revision_days = c.number_in(
        s.revision_days,
        "sim.revision_days",
        3.0,
        0.0..=30.0,
        "days until a day's numbers are final",
    );
    let timezone = match s.timezone.as_deref() {
        None => chrono_tz::UTC,
        Some(name) => name.parse::<chrono_tz::Tz>().unwrap_or_else(|_| {
            c.problem(
                "sim.timezone",
                format!("`{name}` is not a time zone"),
                "use an IANA name such as \"America/New_York\" or \"Europe/Berlin\"",
            );
            chrono_tz::UTC
        }),
    };
    (report_noise, revision_days, timezone)
}

/// `[sim.ads.<key>]`: the engagement of each ad, which must be an ad of the experiment.
fn check_sim_ads(
    c: &mut Checker,
    s: &RawSim,
    names: &Names,
    ad_keys: &BTreeSet<&str>,
) -> BTreeMap<String, SimAdTruth> {
    let mut ads = BTreeMap::new();
    for (key, truth) in &s.ads {
        let path = format!("sim.ads.{key}");
        if !ad_keys.contains(key.as_str()) {
            c.problem(
                &path,
                format!("no ad has key `{key}`"),
                "use the key of an ad of the experiment: sim.ads.<key> sets the engagement of the ad with that key",
            );
            continue;
        }
        ads.insert(key.clone(), check_sim_ad(c, &path, truth, names));
    }
    ads
}

/// One `[sim.ads.<key>]` at `path`: multipliers by gender, age and region, and a rehearsed
/// rejection.
fn check_sim_ad(c: &mut Checker, path: &str, truth: &RawSimAd, names: &Names) -> SimAdTruth {
    let RawSimAd {
        gender,
        age,
        region,
        disapproved,
        group,
    } = truth;
    if disapproved.as_deref().is_some_and(|r| r.trim().is_empty()) {
        c.problem(
            format!("{path}.disapproved"),
            "is empty".to_string(),
            "give the rejection reason the simulated review reports, or remove the field",
        );
    }
    SimAdTruth {
        gender: c.multipliers(
            gender,
            &format!("{path}.gender"),
            Gender::parse,
            &names.genders,
        ),
        age: c.multipliers(
            age,
            &format!("{path}.age"),
            AgeBucket::parse,
            &AgeBucket::choices(),
        ),
        region: c.multipliers(
            region,
            &format!("{path}.region"),
            |k| names.region(k),
            &names.region_list,
        ),
        disapproved: disapproved.clone(),
        group: group.clone(),
    }
}

/// Default eligible composition by gender: a small unknown share, as platforms report.
fn default_gender() -> BTreeMap<Gender, f64> {
    BTreeMap::from([
        (Gender::Female, 0.495),
        (Gender::Male, 0.495),
        (Gender::Unknown, 0.01),
    ])
}

/// Default age composition of a broad adult audience (roughly that of US adult users).
fn default_age(buckets: &[AgeBucket]) -> BTreeMap<AgeBucket, f64> {
    let weight = |b: AgeBucket| match b {
        AgeBucket::A18_24 => 0.13,
        AgeBucket::A25_34 => 0.22,
        AgeBucket::A35_44 => 0.21,
        AgeBucket::A45_54 => 0.17,
        AgeBucket::A55_64 => 0.14,
        AgeBucket::A65Plus => 0.13,
    };
    let total: f64 = buckets.iter().map(|b| weight(*b)).sum();
    buckets.iter().map(|b| (*b, weight(*b) / total)).collect()
}
