//! What can be known about a Meta run before anything is created: the problems that would
//! make Meta refuse the launch halfway (after the campaign exists), and the risks a
//! researcher should hear about before money moves. Checked by the dry run and before
//! `run --live` creates anything; pure, so each rule is tested on its own.

use chrono::{DateTime, Utc};

use super::adapter::MetaConfig;
use super::dsa;
use super::versions::{Version, LATEST};
use adskew_core::experiment::Experiment;
use adskew_core::money::{Currency, Money};

/// What the checks found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Findings {
    /// Meta would refuse the launch: nothing may be created.
    pub problems: Vec<String>,
    /// The launch works, but something needs the researcher's attention.
    pub warnings: Vec<String>,
}

/// Checks `exp` on the account `meta` for a run starting at `start`.
pub fn check(exp: &Experiment, meta: &MetaConfig, start: DateTime<Utc>) -> Findings {
    let mut f = Findings::default();
    if let Some(country) = dsa::first_eu(exp.audience.countries.iter().map(String::as_str)) {
        if meta.dsa.is_none() {
            f.problems.push(format!(
                "audience.countries includes {country}, in the EU/EEA: Meta requires the DSA beneficiary and payor on such ad sets; \
                 add [dsa] beneficiary and payor to the experiment, or set meta.dsa_beneficiary and meta.dsa_payor in the settings file (usually your organisation, as on the grant)"
            ));
        }
    }
    let last_collection = start + exp.schedule.duration + exp.schedule.recollect_after;
    if let Some(last_day) = Version::parse(&meta.version).and_then(Version::last_day) {
        if last_collection.date_naive() > last_day {
            f.warnings.push(format!(
                "API version {} is retired by Meta on {last_day}, before this run's last collection on {}: \
                 calls after that day fail; set meta.api_version = \"{LATEST}\"",
                meta.version,
                last_collection.date_naive()
            ));
        }
    }
    // Meta's minimum campaign spend cap is $100 or its local equivalent (Campaign reference).
    let usd_below_minimum = Currency::parse(&exp.currency).is_some_and(|c| c.code == "USD")
        && exp.spend_cap < Money(10_000);
    if usd_below_minimum {
        f.warnings.push(format!(
            "spend_cap {} USD is below Meta's $100 minimum for a campaign spend cap: the campaign runs without \
             Meta's own backstop, and only adskew's collections pause it at the cap (keep the collector running)",
            exp.spend_cap
        ));
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::{Dsa, Secret};
    use adskew_core::experiment::load::load_with_env;
    use chrono::TimeZone;

    fn experiment(name: &str) -> Experiment {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../campaigns")
            .join(name);
        load_with_env(&path, Vec::new()).unwrap().experiment
    }

    fn config(version: &str) -> MetaConfig {
        let mut c = MetaConfig::new("https://graph.facebook.com", "act_1", "2", Secret::new("t"));
        c.version = version.into();
        c
    }

    #[test]
    fn eu_targeting_needs_dsa_settings() {
        let exp = experiment("image_variants.toml");
        let start = Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap();
        let f = check(&exp, &config(LATEST), start);
        assert!(
            f.problems
                .iter()
                .any(|p| p.contains("meta.dsa_beneficiary")),
            "{f:?}"
        );
        let mut with = config(LATEST);
        with.dsa = Some(Dsa {
            beneficiary: "U".into(),
            payor: "U".into(),
        });
        assert!(check(&exp, &with, start).problems.is_empty());
    }

    #[test]
    fn a_version_retired_before_the_last_collection_is_a_warning() {
        let exp = experiment("imana2021_paired_jobs.toml");
        let late = Utc.with_ymd_and_hms(2027, 2, 20, 0, 0, 0).unwrap();
        let f = check(&exp, &config("v25.0"), late);
        assert!(f.warnings.iter().any(|w| w.contains("2027-02-23")), "{f:?}");
        assert!(!check(&exp, &config(LATEST), late)
            .warnings
            .iter()
            .any(|w| w.contains("retired")));
    }
}
