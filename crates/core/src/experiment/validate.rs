//! Every rule an experiment must satisfy before anything is created or spent.
//!
//! [`validate`] walks the whole [`RawExperiment`] and collects *all* problems, so a
//! researcher fixes a file in one pass. Each rule names the field path and, where the fix is
//! not obvious, a hint. Risky-but-allowed settings (a spend cap the schedule would exceed)
//! become warnings.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};

use self::design::check_design;
use super::schema::RawExperiment;
use super::*;
use crate::money::{Currency, Money};
use crate::vocab::{
    AdCategory, AgeBucket, Breakdown, CiMethod, Correction, Gender, Metric, Objective, Placement,
    PlatformKind,
};

mod design;

/// First-level fields; `ADSKEW_*` overrides are accepted only for these.
pub const TOP_LEVEL_FIELDS: &[&str] = &[
    "name",
    "description",
    "platform",
    "currency",
    "spend_cap",
    "daily_spend_cap",
    "objective",
    "category",
    "schedule",
    "audience",
    "ads",
    "comparisons",
    "collect",
    "analysis",
    "sim",
    "design",
    "dsa",
    "stopping",
    "figures",
];

/// Field names below the top level, for "did you mean" hints (with [`TOP_LEVEL_FIELDS`]).
pub const NESTED_FIELDS: &[&str] = &[
    "start",
    "duration_days",
    "duration_hours",
    "end",
    "collect_every_hours",
    "recollect_after_days",
    "countries",
    "regions",
    "age_min",
    "age_max",
    "custom_audience",
    "placements",
    "kind",
    "partitions",
    "custom_audiences",
    "groups",
    "region_sets",
    "group",
    "vary",
    "key",
    "headline",
    "body",
    "image",
    "link",
    "daily_budget",
    "lifetime_budget",
    "expected",
    "ad",
    "group",
    "breakdowns",
    "metrics",
    "alpha",
    "correction",
    "ci",
    "ci_level",
    "metric",
    "include_unknown",
    "yates",
    "beneficiary",
    "payor",
    "rule",
    "comparison",
    "min_days",
    "max_days",
    "futility",
    "margin",
    "planned_reach",
    "revision_bound",
    "label",
    "style",
    "axis",
    "width",
];

/// Tolerance for shares that must sum to one.
const SHARE_SUM_TOLERANCE: f64 = 1e-6;

/// Collects problems while walking the file; public so that the reader of a table the core
/// does not interpret (adskew-sim's `[sim]`) checks it by the same rules and words.
#[derive(Default)]
pub struct Checker {
    problems: Vec<Problem>,
    warnings: Vec<String>,
    /// The experiment's currency, once known: amounts must be whole units of what the
    /// platform takes in it.
    currency: Option<Currency>,
}

impl Checker {
    /// Every problem found, in the order found.
    pub fn into_problems(self) -> Vec<Problem> {
        self.problems
    }

    /// A problem at `path` with the `hint` that says how to fix it (every problem has one;
    /// `tests/validate.rs` checks that every message shows it).
    pub fn problem(&mut self, path: impl Into<String>, message: impl Into<String>, hint: &str) {
        let mut p = Problem::new(path, message);
        if !hint.is_empty() {
            p = p.hint(hint);
        }
        self.problems.push(p);
    }

    /// An optional display label, checked ([`super::figures::label_problem`]).
    fn label(&mut self, value: &Option<String>, path: &str) -> Option<String> {
        let label = value.as_deref()?;
        if let Some(problem) = super::figures::label_problem(label) {
            self.problem(
                path,
                format!("the label {problem}"),
                "one line of at most 60 characters, e.g. label = \"Instacart shopper\"",
            );
        }
        Some(label.trim().to_string())
    }

    fn required_text(&mut self, value: &Option<String>, path: &str, hint: &str) -> String {
        match value.as_deref().map(str::trim) {
            Some(v) if !v.is_empty() => v.to_string(),
            Some(_) => {
                self.problem(path, "must not be empty", hint);
                String::new()
            }
            None => {
                self.problem(path, "is required", hint);
                String::new()
            }
        }
    }

    /// An optional number within `range`, or `default` when absent.
    pub fn number_in(
        &mut self,
        value: Option<f64>,
        path: &str,
        default: f64,
        range: std::ops::RangeInclusive<f64>,
        meaning: &str,
    ) -> f64 {
        let v = value.unwrap_or(default);
        if !range.contains(&v) {
            self.problem(
                path,
                format!(
                    "must be between {} and {} (got {})",
                    decimal(*range.start()),
                    decimal(*range.end()),
                    decimal(v)
                ),
                &format!("{meaning}; {default} is the default"),
            );
        }
        v
    }

    /// A required, well-formed key that no earlier sibling used.
    fn unique_key(
        &mut self,
        value: &Option<String>,
        path: &str,
        seen: &mut BTreeSet<String>,
        what: &str,
    ) -> String {
        let key = self.required_text(value, path, KEY_HINT);
        if !key.is_empty() && !keys::is_key(&key) {
            self.problem(path, format!("`{key}` is not a valid key"), KEY_HINT);
        }
        if !key.is_empty() && !seen.insert(key.clone()) {
            self.problem(
                path,
                format!("`{key}` is used by another {what}"),
                "give each a key of its own",
            );
        }
        key
    }

    fn choice<T: Copy>(
        &mut self,
        value: &Option<String>,
        path: &str,
        default: T,
        parse: fn(&str) -> Option<T>,
        choices: String,
    ) -> T {
        match value {
            None => default,
            Some(v) => parse(v).unwrap_or_else(|| {
                self.problem(
                    path,
                    format!("unknown value `{v}`"),
                    &format!("use one of: {choices}"),
                );
                default
            }),
        }
    }

    fn positive_money(&mut self, value: f64, path: &str) -> Money {
        if value.is_nan() || value <= 0.0 {
            self.problem(
                path,
                format!("must be positive (got {})", decimal(value)),
                "amounts are in the currency's major unit, e.g. 20.0 for $20",
            );
            return Money::ZERO;
        }
        if value > 9.0e13 {
            self.problem(
                path,
                format!("{value:e} is too large"),
                "amounts are in the currency's major unit, e.g. 20.0 for $20",
            );
            return Money::ZERO;
        }
        let Some(money) = Money::from_major(value) else {
            self.problem(
                path,
                format!("{} has more than two decimals", decimal(value)),
                "round to cents, e.g. 19.99",
            );
            return Money::ZERO;
        };
        if let Some(currency) = self.currency.filter(|c| !c.takes(money)) {
            self.problem(
                path,
                format!(
                    "{value} {} is finer than the platform takes in {}",
                    currency.code, currency.code
                ),
                &format!(
                    "amounts in {} are whole multiples of {}; round it",
                    currency.code,
                    currency.smallest()
                ),
            );
        }
        money
    }

    /// Shares of the eligible audience by group: each a known group (parsed by `parse`,
    /// listed in `choices`), in [0, 1], summing to one.
    pub fn shares<K: Ord>(
        &mut self,
        map: &BTreeMap<String, f64>,
        path: &str,
        parse: impl Fn(&str) -> Option<K>,
        choices: &str,
    ) -> BTreeMap<K, f64> {
        let mut out = BTreeMap::new();
        for (key, share) in map {
            match parse(key) {
                Some(k) => {
                    if !(0.0..=1.0).contains(share) {
                        self.problem(
                            format!("{path}.{key}"),
                            format!("share must be in [0, 1] (got {})", decimal(*share)),
                            "a share is the fraction of the eligible audience in the group, e.g. 0.5",
                        );
                    }
                    out.insert(k, *share);
                }
                None => self.problem(
                    format!("{path}.{key}"),
                    "unknown group",
                    &format!("use one of: {choices}"),
                ),
            }
        }
        let sum: f64 = map.values().sum();
        if !map.is_empty() && (sum - 1.0).abs() > SHARE_SUM_TOLERANCE {
            self.problem(
                path,
                format!("shares sum to {}, not 1", decimal(sum)),
                "shares are fractions of the eligible audience; scale them so they sum to 1",
            );
        }
        out
    }

    /// Positive multipliers by group (1.0 = average), each a known group.
    pub fn multipliers<K: Ord>(
        &mut self,
        map: &BTreeMap<String, f64>,
        path: &str,
        parse: impl Fn(&str) -> Option<K>,
        choices: &str,
    ) -> BTreeMap<K, f64> {
        let mut out = BTreeMap::new();
        for (key, m) in map {
            match parse(key) {
                Some(k) => {
                    if !(*m > 0.0 && m.is_finite()) {
                        self.problem(
                            format!("{path}.{key}"),
                            format!("multiplier must be positive (got {})", decimal(*m)),
                            "1.0 means average engagement",
                        );
                    }
                    out.insert(k, *m);
                }
                None => self.problem(
                    format!("{path}.{key}"),
                    "unknown group",
                    &format!("use one of: {choices}"),
                ),
            }
        }
        out
    }
}

/// A check of a table the core carries without interpreting it (`[sim]`, which
/// adskew-sim reads): given the experiment as validation built it, faulty values at their
/// defaults, the table's problems, so one validation reports every problem of a file.
pub type TableCheck = fn(&Experiment) -> Vec<Problem>;

/// Validates a raw experiment, with `checks` of the tables it does not interpret.
/// `base_dir` resolves relative image paths.
pub fn validate(
    raw: &RawExperiment,
    source: Source,
    base_dir: &Path,
    checks: &[TableCheck],
) -> std::result::Result<(Experiment, Vec<String>), Vec<Problem>> {
    let mut c = Checker::default();

    let name = c.required_text(
        &raw.name,
        "name",
        "a short identifier such as \"imana2021-drivers\"",
    );
    if let Some(reason) = keys::name_problem(&name).filter(|_| !name.is_empty()) {
        c.problem(
            "name",
            format!("{name:?} {reason}"),
            "use letters, digits, '-', '_' and '.', starting with a letter or digit, e.g. \
             \"imana2021-drivers\" (the name becomes a folder under results/)",
        );
    }
    let description = raw.description.clone().unwrap_or_default();
    let platform = c.choice(
        &raw.platform,
        "platform",
        PlatformKind::Sim,
        PlatformKind::parse,
        PlatformKind::choices(),
    );
    let (currency, spend_cap, daily_spend_cap) = check_money(&mut c, raw);
    let (objective, category) = check_purpose(&mut c, raw);

    let schedule = check_schedule(&mut c, raw);
    let audience = check_audience(&mut c, raw);
    let ads = check_ads(&mut c, raw, base_dir);
    let ad_keys: BTreeSet<&str> = ads.iter().map(|a| a.key.as_str()).collect();
    let comparisons = check_comparisons(&mut c, raw, &ad_keys);
    let collect = check_collect(&mut c, raw);
    let analysis = check_analysis(&mut c, raw);
    let design = check_design(&mut c, raw, &audience, &collect);
    let dsa = raw.dsa.as_ref().map(|d| check_dsa(&mut c, d));
    let stopping = raw
        .stopping
        .as_ref()
        .map(|s| super::stopping::check_stopping(&mut c, s, &schedule, &comparisons));
    let figures = super::figures::check_figures(&mut c, raw.figures.as_ref());
    let sim = raw.sim.clone().unwrap_or_default();
    let experiment = Experiment {
        name,
        description,
        platform,
        currency,
        spend_cap,
        daily_spend_cap,
        objective,
        category,
        schedule,
        audience,
        ads,
        comparisons,
        collect,
        analysis,
        sim,
        design,
        dsa,
        stopping,
        figures,
        source,
    };
    for group in super::figures::unknown_groups(&experiment) {
        c.problem(
            format!("figures.groups.{group}"),
            format!("`{group}` is no group of this experiment"),
            "label a gender (female, male, unknown), an age bucket (e.g. 25-34), a targeted region or a group of [design]",
        );
    }
    for check in checks {
        c.problems.extend(check(&experiment));
    }
    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    c.warnings.extend(spend_cap_warning(&experiment));
    Ok((experiment, c.warnings))
}

/// The currency and the spend caps. The currency comes first, since every amount after it
/// must be a whole number of the units the platform takes in it.
fn check_money(c: &mut Checker, raw: &RawExperiment) -> (String, Money, Option<Money>) {
    let currency = raw.currency.clone().unwrap_or_else(|| "USD".to_string());
    c.currency = Currency::parse(&currency);
    if c.currency.is_none() {
        c.problem(
            "currency",
            format!("`{currency}` is not a currency an ad account can hold"),
            &format!(
                "the account's currency, one of Meta's: {}",
                Currency::codes()
            ),
        );
    }
    let spend_cap = match raw.spend_cap {
        None => {
            c.problem("spend_cap", "is required", "the most the whole experiment may spend, e.g. spend_cap = 500.0; adskew pauses every ad when it is reached");
            Money::ZERO
        }
        Some(v) => c.positive_money(v, "spend_cap"),
    };
    let daily_spend_cap = raw
        .daily_spend_cap
        .map(|v| c.positive_money(v, "daily_spend_cap"));
    if let Some(daily) = daily_spend_cap.filter(|d| *d > spend_cap && spend_cap > Money::ZERO) {
        c.problem(
            "daily_spend_cap",
            format!("{daily} is above spend_cap {spend_cap}"),
            "a daily cap larger than the whole cap never applies; lower it or remove it",
        );
    }
    (currency, spend_cap, daily_spend_cap)
}

/// What the campaign is for: its objective and its special ad category.
fn check_purpose(c: &mut Checker, raw: &RawExperiment) -> (Objective, AdCategory) {
    let objective = c.choice(
        &raw.objective,
        "objective",
        Objective::Traffic,
        Objective::parse,
        Objective::choices(),
    );
    let category = c.choice(
        &raw.category,
        "category",
        AdCategory::None,
        AdCategory::parse,
        AdCategory::choices(),
    );
    (objective, category)
}

/// A warning when the budgets could spend more over the schedule than the spend cap allows:
/// allowed, but the run will then stop early.
fn spend_cap_warning(experiment: &Experiment) -> Option<String> {
    let max = experiment.max_scheduled_spend();
    (max > experiment.spend_cap).then(|| {
        format!(
            "spend_cap {} {} is below the {} {} the budgets could spend over the schedule: \
             the experiment will be paused early when the cap is reached",
            experiment.spend_cap, experiment.currency, max, experiment.currency
        )
    })
}

/// `[dsa]`: both names, or no table at all (the platform settings then apply).
fn check_dsa(c: &mut Checker, raw: &super::schema::RawDsa) -> Dsa {
    let hint =
        "who the ads are for and who pays for them, usually your organisation as on the grant";
    Dsa {
        beneficiary: c.required_text(&raw.beneficiary, "dsa.beneficiary", hint),
        payor: c.required_text(&raw.payor, "dsa.payor", hint),
    }
}

fn parse_time(c: &mut Checker, value: &str, path: &str) -> Option<DateTime<Utc>> {
    match DateTime::parse_from_rfc3339(value) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(e) => {
            c.problem(
                path,
                format!("`{value}` is not a time: {e}"),
                "use RFC 3339, e.g. \"2026-12-01T09:00:00Z\"",
            );
            None
        }
    }
}

/// `[schedule]`: when the experiment starts, how long it runs, and when it collects.
fn check_schedule(c: &mut Checker, raw: &RawExperiment) -> Schedule {
    let default = default_schedule();
    let Some(s) = &raw.schedule else {
        c.problem(
            "schedule",
            "is required",
            "add [schedule] with duration_days (and optionally start, collect_every_hours)",
        );
        return default;
    };
    let start = match s.start.as_deref() {
        None | Some("now") => Start::Now,
        Some(t) => parse_time(c, t, "schedule.start")
            .map(Start::At)
            .unwrap_or(Start::Now),
    };
    let duration = check_duration(c, s, start).unwrap_or(default.duration);
    let (collect_every, recollect_after) = check_collection_times(c, s, &default);
    Schedule {
        start,
        duration,
        collect_every,
        recollect_after,
    }
}

/// What a `[schedule]` leaves out: a day's run collected daily, re-collected after 28 days.
fn default_schedule() -> Schedule {
    Schedule {
        start: Start::Now,
        duration: TimeDelta::days(1),
        collect_every: TimeDelta::hours(24),
        // Meta's breakdown numbers settle over 28 days ("Facebook freezes insight data 28
        // days after it was generated", as Meta's reporting guidance is quoted by the
        // Airbyte connector that re-reads that window): the final collection waits for it.
        recollect_after: TimeDelta::days(28),
    }
}

/// A number of hours as a duration, to the second.
fn hours(v: f64) -> TimeDelta {
    TimeDelta::seconds((v * 3600.0).round() as i64)
}

/// The run's length from exactly one of `duration_days`, `duration_hours` or `end` (which
/// needs an explicit start); `None` when it cannot be had.
fn check_duration(
    c: &mut Checker,
    s: &super::schema::RawSchedule,
    start: Start,
) -> Option<TimeDelta> {
    let given = [
        s.duration_days.is_some(),
        s.duration_hours.is_some(),
        s.end.is_some(),
    ]
    .iter()
    .filter(|g| **g)
    .count();
    if given != 1 {
        c.problem(
            "schedule",
            if given == 0 {
                "needs a duration"
            } else {
                "has more than one of duration_days, duration_hours, end"
            },
            "give exactly one of duration_days, duration_hours or end",
        );
    } else if let Some(d) = s.duration_days {
        if d.is_nan() || d <= 0.0 || d > 366.0 {
            c.problem(
                "schedule.duration_days",
                format!("must be in (0, 366] (got {})", decimal(d)),
                "the run's length in days, e.g. duration_days = 7",
            );
        } else {
            return Some(hours(d * 24.0));
        }
    } else if let Some(h) = s.duration_hours {
        if !(1.0..=366.0 * 24.0).contains(&h) {
            c.problem(
                "schedule.duration_hours",
                format!("must be between 1 and 8784 (got {})", decimal(h)),
                "the run's length in hours, e.g. duration_hours = 12",
            );
        } else {
            return Some(hours(h));
        }
    } else if let Some(end) = &s.end {
        match (start, parse_time(c, end, "schedule.end")) {
            (Start::At(st), Some(e)) if e > st => return Some(e - st),
            (Start::At(_), Some(_)) => c.problem(
                "schedule.end",
                "is not after schedule.start",
                "give an end later than the start, or give duration_days instead",
            ),
            (Start::Now, Some(_)) => c.problem(
                "schedule.end",
                "needs an explicit schedule.start",
                "with start = \"now\" give duration_days instead",
            ),
            _ => {}
        }
    }
    None
}

/// `collect_every_hours` and `recollect_after_days`: how often delivery is read, and how
/// long the final read waits for the platform's revisions.
fn check_collection_times(
    c: &mut Checker,
    s: &super::schema::RawSchedule,
    default: &Schedule,
) -> (TimeDelta, TimeDelta) {
    let collect_every = match s.collect_every_hours {
        None => default.collect_every,
        Some(h) if (1.0..=24.0 * 7.0).contains(&h) => hours(h),
        Some(h) => {
            c.problem(
                "schedule.collect_every_hours",
                format!("must be between 1 and 168 (got {})", decimal(h)),
                "e.g. collect_every_hours = 24 collects once a day",
            );
            default.collect_every
        }
    };
    let recollect_after = match s.recollect_after_days {
        None => default.recollect_after,
        Some(d) if (0.0..=60.0).contains(&d) => hours(d * 24.0),
        Some(d) => {
            c.problem(
                "schedule.recollect_after_days",
                format!("must be between 0 and 60 (got {})", decimal(d)),
                "Meta revises recent days' numbers for up to 28 days; 28 is the default, 0 disables",
            );
            default.recollect_after
        }
    };
    (collect_every, recollect_after)
}

/// `[audience]`: the one neutral audience every ad is shown to.
fn check_audience(c: &mut Checker, raw: &RawExperiment) -> Audience {
    let Some(a) = &raw.audience else {
        c.problem(
            "audience",
            "is required",
            "add [audience] with countries (or regions) and age_min/age_max",
        );
        return Audience {
            countries: vec![],
            regions: vec![],
            age_min: 18,
            age_max: 65,
            custom_audience: None,
            placements: Vec::new(),
        };
    };
    check_places(c, a);
    let (age_min, age_max) = check_ages(c, a);
    let placements = check_placements(c, &a.placements);
    Audience {
        countries: a.countries.clone(),
        regions: a.regions.clone(),
        age_min,
        age_max,
        custom_audience: a.custom_audience.clone(),
        placements,
    }
}

/// Where the audience is: at least one country or region, countries as ISO codes, each
/// region once.
fn check_places(c: &mut Checker, a: &super::schema::RawAudience) {
    if a.countries.is_empty() && a.regions.is_empty() {
        c.problem(
            "audience.countries",
            "needs at least one country or region",
            "e.g. countries = [\"US\"]",
        );
    }
    for (i, country) in a.countries.iter().enumerate() {
        if country.len() != 2 || !country.chars().all(|ch| ch.is_ascii_uppercase()) {
            c.problem(
                format!("audience.countries[{i}]"),
                format!("`{country}` is not a two-letter country code"),
                "use an ISO 3166-1 alpha-2 code in capitals, e.g. \"US\"",
            );
        }
    }
    let mut seen = BTreeSet::new();
    for (i, region) in a.regions.iter().enumerate() {
        if region.trim().is_empty() || !seen.insert(region) {
            c.problem(
                format!("audience.regions[{i}]"),
                format!("`{region}` is empty or repeated"),
                "name each region once, as the platform spells it, e.g. \"California\"",
            );
        }
    }
}

/// `age_min` and `age_max`: within the platforms' 18 to 65+, in order.
fn check_ages(c: &mut Checker, a: &super::schema::RawAudience) -> (u8, u8) {
    let age_min = age_limit(c, a.age_min, "audience.age_min", 18);
    let age_max = age_limit(c, a.age_max, "audience.age_max", 65);
    if age_min > age_max {
        c.problem(
            "audience.age_min",
            format!("{age_min} is above age_max {age_max}"),
            "swap them, or lower age_min: the audience is everyone from age_min to age_max",
        );
    }
    (age_min, age_max)
}

/// One age limit between 18 and 65 (65 meaning 65 and older), or `default` when absent.
fn age_limit(c: &mut Checker, v: Option<i64>, path: &str, default: u8) -> u8 {
    match v {
        None => default,
        Some(x) if (18..=65).contains(&x) => x as u8,
        Some(x) => {
            c.problem(
                path,
                format!("must be between 18 and 65 (got {x})"),
                "give an age from 18 to 65 (65 means 65 and older)",
            );
            default
        }
    }
}

/// `audience.placements`: known placements, each once (none: the platform's automatic ones).
fn check_placements(c: &mut Checker, given: &[String]) -> Vec<Placement> {
    let mut placements = Vec::new();
    for (i, p) in given.iter().enumerate() {
        match Placement::parse(p) {
            Some(p) if !placements.contains(&p) => placements.push(p),
            Some(_) => c.problem(
                format!("audience.placements[{i}]"),
                format!("`{p}` is repeated"),
                "list each placement once; remove this one",
            ),
            None => c.problem(
                format!("audience.placements[{i}]"),
                format!("`{p}` is not a placement"),
                &format!(
                    "one of {}; leave placements out for the platform's automatic placements",
                    Placement::choices()
                ),
            ),
        }
    }
    placements
}

const KEY_HINT: &str = "keys use lowercase letters, digits, '_' and '-', e.g. \"nurse_woman\"";

fn check_ads(c: &mut Checker, raw: &RawExperiment, base_dir: &Path) -> Vec<Ad> {
    if raw.ads.is_empty() {
        c.problem(
            "ads",
            "needs at least one ad",
            "add [[ads]] tables with key, headline, body, link and a budget",
        );
    }
    let mut keys = BTreeSet::new();
    let mut ads = Vec::new();
    for (i, ad) in raw.ads.iter().enumerate() {
        let path = |f: &str| format!("ads[{i}].{f}");
        let key = c.unique_key(&ad.key, &path("key"), &mut keys, "ad");
        let headline = c.required_text(&ad.headline, &path("headline"), "the ad's title text");
        let body = c.required_text(&ad.body, &path("body"), "the ad's primary text");
        let link = c.required_text(
            &ad.link,
            &path("link"),
            "the landing page, e.g. \"https://example.org/jobs\"",
        );
        if !(link.is_empty() || link.starts_with("https://") || link.starts_with("http://")) {
            c.problem(
                path("link"),
                format!("`{link}` is not an http(s) URL"),
                "the landing page with its scheme, e.g. \"https://example.org/jobs\"",
            );
        }
        if let Some((message, fix)) = ad
            .image
            .as_deref()
            .and_then(|image| super::image::problem(base_dir, image))
        {
            c.problem(path("image"), message, fix);
        }
        let budget = match (ad.daily_budget, ad.lifetime_budget) {
            (Some(d), None) => Budget::Daily(c.positive_money(d, &path("daily_budget"))),
            (None, Some(l)) => Budget::Lifetime(c.positive_money(l, &path("lifetime_budget"))),
            (None, None) => {
                c.problem(
                    path("daily_budget"),
                    "a budget is required",
                    "give daily_budget or lifetime_budget",
                );
                Budget::Daily(Money::ZERO)
            }
            (Some(_), Some(_)) => {
                c.problem(
                    path("daily_budget"),
                    "both daily_budget and lifetime_budget are given",
                    "give exactly one",
                );
                Budget::Daily(Money::ZERO)
            }
        };
        ads.push(Ad {
            key,
            headline,
            body,
            image: ad.image.clone(),
            link,
            budget,
            label: c.label(&ad.label, &path("label")),
        });
    }
    ads
}

/// `[[comparisons]]`: which ads are tested against each other, and how.
fn check_comparisons(
    c: &mut Checker,
    raw: &RawExperiment,
    ad_keys: &BTreeSet<&str>,
) -> Vec<Comparison> {
    if raw.comparisons.is_empty() {
        c.problem(
            "comparisons",
            "needs at least one comparison",
            "add [[comparisons]] with key and ads = [\"a\", \"b\"]",
        );
    }
    let mut keys = BTreeSet::new();
    let mut out = Vec::new();
    for (i, cmp) in raw.comparisons.iter().enumerate() {
        let path = |f: &str| format!("comparisons[{i}].{f}");
        let key = c.unique_key(&cmp.key, &path("key"), &mut keys, "comparison");
        check_comparison_ads(c, i, cmp, ad_keys);
        let expected = cmp
            .expected
            .as_ref()
            .map(|e| check_direction(c, raw, i, cmp, e));
        check_vary(c, i, cmp);
        // Paired ads must differ only in their creative unless the comparison says so.
        if !cmp.vary.iter().any(|v| v == "budget") {
            check_same_budgets(c, raw, i, cmp);
        }
        out.push(Comparison {
            key,
            ads: cmp.ads.clone(),
            expected,
            vary: cmp.vary.clone(),
            label: c.label(&cmp.label, &path("label")),
        });
    }
    out
}

/// Comparison `i`'s ads: at least two, each an ad of the experiment, each once.
fn check_comparison_ads(
    c: &mut Checker,
    i: usize,
    cmp: &super::schema::RawComparison,
    ad_keys: &BTreeSet<&str>,
) {
    if cmp.ads.len() < 2 {
        c.problem(
            format!("comparisons[{i}].ads"),
            "needs at least two ads",
            "a comparison tests whether ads reach different audiences",
        );
    }
    let mut seen = BTreeSet::new();
    for (j, ad) in cmp.ads.iter().enumerate() {
        if !ad_keys.contains(ad.as_str()) {
            c.problem(
                format!("comparisons[{i}].ads[{j}]"),
                format!("no ad has key `{ad}`"),
                &format!(
                    "known ads: {}",
                    ad_keys.iter().copied().collect::<Vec<_>>().join(", ")
                ),
            );
        } else if !seen.insert(ad) {
            c.problem(
                format!("comparisons[{i}].ads[{j}]"),
                format!("`{ad}` is listed twice"),
                "list each ad once; remove this one",
            );
        }
    }
}

/// Comparison `i`'s `expected`: the pre-registered direction, an ad of a two-ad comparison
/// expected to reach more of a gender, age or (mirrored) design group.
fn check_direction(
    c: &mut Checker,
    raw: &RawExperiment,
    i: usize,
    cmp: &super::schema::RawComparison,
    e: &super::schema::RawExpected,
) -> Expected {
    let path = |f: &str| format!("comparisons[{i}].{f}");
    let ad = c.required_text(
        &e.ad,
        &path("expected.ad"),
        "the ad expected to reach a larger share of the group",
    );
    let group = c.required_text(&e.group, &path("expected.group"), "e.g. \"female\"");
    if !ad.is_empty() && !cmp.ads.contains(&ad) {
        c.problem(
            path("expected.ad"),
            format!("`{ad}` is not one of this comparison's ads"),
            &format!("use one of: {}", cmp.ads.join(", ")),
        );
    }
    if cmp.ads.len() != 2 {
        c.problem(
            path("expected"),
            "a direction can only be given for a comparison of two ads",
            "remove expected, or split the comparison into pairs of two ads",
        );
    }
    if !group.is_empty()
        && Gender::parse(&group).is_none()
        && AgeBucket::parse(&group).is_none()
        && !mirrored_groups(raw).contains(&group)
    {
        c.problem(
            path("expected.group"),
            format!("`{group}` is not a gender or age group"),
            &format!(
                "use one of: {}, {}",
                Gender::choices(),
                AgeBucket::choices()
            ),
        );
    }
    Expected { ad, group }
}

/// A mirrored design's groups (race by region), which can be the expected group too: as
/// written, else white and black; none without a mirrored design.
fn mirrored_groups(raw: &RawExperiment) -> Vec<String> {
    raw.design
        .as_ref()
        .filter(|d| d.kind.as_deref() == Some("mirrored"))
        .map(|d| {
            if d.groups.is_empty() {
                vec!["white".to_string(), "black".to_string()]
            } else {
                d.groups.clone()
            }
        })
        .unwrap_or_default()
}

/// Comparison `i`'s `vary`: only the budget may be declared to differ between paired ads.
fn check_vary(c: &mut Checker, i: usize, cmp: &super::schema::RawComparison) {
    for (j, v) in cmp.vary.iter().enumerate() {
        if v != "budget" {
            c.problem(
                format!("comparisons[{i}].vary[{j}]"),
                format!("`{v}` cannot vary within a comparison"),
                "paired ads share audience, objective, bid and schedule; only \"budget\" may be declared to vary",
            );
        }
    }
}

/// Comparison `i`'s ads have the same budget (of those whose budget is valid: an invalid
/// one has its own problem).
fn check_same_budgets(
    c: &mut Checker,
    raw: &RawExperiment,
    i: usize,
    cmp: &super::schema::RawComparison,
) {
    let valid = |b: Option<f64>| b.is_none_or(|x| x.is_finite() && x > 0.0);
    let budget_of = |key: &str| {
        raw.ads
            .iter()
            .find(|a| a.key.as_deref() == Some(key))
            .filter(|a| valid(a.daily_budget) && valid(a.lifetime_budget))
            .map(|a| (a.daily_budget, a.lifetime_budget))
    };
    let budgets: Vec<(&String, _)> = cmp
        .ads
        .iter()
        .filter_map(|k| budget_of(k).map(|b| (k, b)))
        .collect();
    if let Some((first, b0)) = budgets.first() {
        if let Some((other, _)) = budgets.iter().find(|(_, b)| b != b0) {
            c.problem(
                format!("comparisons[{i}].ads"),
                format!("ads `{first}` and `{other}` have different budgets"),
                "paired ads differ only in their creative; give them the same budget, or add vary = [\"budget\"] if the budget is what this comparison studies",
            );
        }
    }
}

fn check_collect(c: &mut Checker, raw: &RawExperiment) -> Collect {
    let collect = raw.collect.clone().unwrap_or_default();
    let mut breakdowns = Vec::new();
    let given = collect
        .breakdowns
        .unwrap_or_else(|| vec!["gender".into(), "age".into()]);
    for (i, b) in given.iter().enumerate() {
        match Breakdown::parse(b) {
            Some(b) if b.is_inferred() => c.problem(
                format!("collect.breakdowns[{i}]"),
                "race is not reported by platforms",
                "it is inferred from regions: declare [design] kind = \"mirrored\" with region_sets",
            ),
            Some(b) if !breakdowns.contains(&b) => breakdowns.push(b),
            Some(_) => c.problem(
                format!("collect.breakdowns[{i}]"),
                format!("`{b}` is listed twice"),
                "list each breakdown once; remove this one",
            ),
            None => c.problem(
                format!("collect.breakdowns[{i}]"),
                format!("unknown breakdown `{b}`"),
                &format!("use one of: {}", Breakdown::choices()),
            ),
        }
    }
    // (An unknown breakdown is reported above; only an empty list needs its own message.)
    if given.is_empty() {
        c.problem(
            "collect.breakdowns",
            "needs at least one breakdown",
            "e.g. breakdowns = [\"gender\", \"age\"]",
        );
    }
    let mut metrics = Vec::new();
    for (i, m) in collect
        .metrics
        .unwrap_or_else(|| Metric::ALL.iter().map(|m| m.to_string()).collect())
        .iter()
        .enumerate()
    {
        match Metric::parse(m) {
            Some(m) if !metrics.contains(&m) => metrics.push(m),
            Some(_) => c.problem(
                format!("collect.metrics[{i}]"),
                format!("`{m}` is listed twice"),
                "list each metric once; remove this one",
            ),
            None => c.problem(
                format!("collect.metrics[{i}]"),
                format!("unknown metric `{m}`"),
                &format!("use one of: {}", Metric::choices()),
            ),
        }
    }
    Collect {
        breakdowns,
        metrics,
    }
}

fn check_analysis(c: &mut Checker, raw: &RawExperiment) -> AnalysisSettings {
    let a = raw.analysis.clone().unwrap_or_default();
    let alpha = a.alpha.unwrap_or(0.05);
    if !(alpha > 0.0 && alpha < 0.5) {
        c.problem(
            "analysis.alpha",
            format!("must be in (0, 0.5) (got {})", decimal(alpha)),
            "e.g. alpha = 0.05, the conventional level",
        );
    }
    let ci_level = a.ci_level.unwrap_or(0.95);
    if !(ci_level > 0.5 && ci_level < 1.0) {
        c.problem(
            "analysis.ci_level",
            format!("must be in (0.5, 1) (got {})", decimal(ci_level)),
            "e.g. ci_level = 0.95 or 0.99",
        );
    }
    let p_floor = a.p_floor.unwrap_or(DEFAULT_P_FLOOR);
    if p_floor_exponent(p_floor).is_none() {
        c.problem(
            "analysis.p_floor",
            format!(
                "must be a power of ten from 1e-300 to 1e-3 (got {})",
                decimal(p_floor)
            ),
            "e.g. p_floor = 1e-16 (the default) or 1e-3 to print \"p < 0.001\" as APA style does",
        );
    }
    let metric = c.choice(
        &a.metric,
        "analysis.metric",
        Metric::Reach,
        Metric::parse,
        "reach, impressions".into(),
    );
    if !matches!(metric, Metric::Reach | Metric::Impressions) {
        c.problem(
            "analysis.metric",
            format!("`{metric}` cannot be tested for composition"),
            "use reach (people) or impressions",
        );
    }
    AnalysisSettings {
        alpha,
        correction: c.choice(
            &a.correction,
            "analysis.correction",
            Correction::Holm,
            Correction::parse,
            Correction::choices(),
        ),
        ci: c.choice(
            &a.ci,
            "analysis.ci",
            CiMethod::Wilson,
            CiMethod::parse,
            CiMethod::choices(),
        ),
        ci_level,
        metric,
        include_unknown: a.include_unknown.unwrap_or(false),
        yates: a.yates.unwrap_or(false),
        p_floor,
        expected: check_expected(c, a.expected.as_ref()),
        alternative: None,
    }
}

/// `[analysis.expected]`: per breakdown, the composition each ad is tested against.
fn check_expected(
    c: &mut Checker,
    raw: Option<&BTreeMap<String, BTreeMap<String, f64>>>,
) -> BTreeMap<Breakdown, ExpectedComposition> {
    let mut out = BTreeMap::new();
    for (name, groups) in raw.into_iter().flatten() {
        let path = format!("analysis.expected.{name}");
        let Some(breakdown) = Breakdown::parse(name) else {
            c.problem(
                &path,
                format!("unknown breakdown `{name}`"),
                &format!("use one of: {}", Breakdown::choices()),
            );
            continue;
        };
        let pairs: Vec<(String, f64)> = groups.iter().map(|(g, s)| (g.clone(), *s)).collect();
        match ExpectedComposition::check(Some(breakdown), &pairs) {
            Ok((b, shares)) => {
                out.insert(
                    b,
                    ExpectedComposition {
                        source: "experiment".to_string(),
                        shares,
                    },
                );
            }
            Err(e) => c.problem(&path, e, "shares of the eligible audience summing to 1"),
        }
    }
    out
}
