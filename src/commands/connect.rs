//! Connecting an experiment to its platform: the simulator, or Meta with its clock, its
//! preflight and (for a dry run) the checks that create nothing.

use std::path::Path;
use std::sync::Arc;

use super::humanize;
use crate::clock::{Clock, SimClock, WallClock};
use crate::error::{Error, Result};
use crate::experiment::Experiment;
use crate::mockapi::clock::MockClock;
use crate::platform::meta::adapter::MetaPlatform;
use crate::platform::sim::SimPlatform;
use crate::platform::Platform;
use crate::scheduler;
use crate::settings::Settings;
use crate::vocab::PlatformKind;

/// A platform to run on, its clock, and whether that clock is simulated; `None` after a dry
/// run (a real platform without `--live`), which creates nothing.
pub(crate) type Connected = (Box<dyn Platform>, Arc<dyn Clock>, bool);

/// Why [`connect`] is called: what it checks and whether it returns a platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// `run` without `--live`: check and describe, create nothing.
    DryRun,
    /// `run --live`: a new run, refused if its schedule has already ended.
    Launch,
    /// Back to a recorded run (`resume`, `collect`, `stop`), whatever the time.
    Reconnect,
}

pub(super) fn connect(
    exp: &Experiment,
    purpose: Purpose,
    config: Option<&Path>,
    runtime: &tokio::runtime::Runtime,
) -> Result<Option<Connected>> {
    match exp.platform {
        PlatformKind::Sim => {
            let start = scheduler::start_time(exp, chrono::Utc::now());
            let clock = Arc::new(SimClock::new(start));
            let sim = SimPlatform::new(crate::platform::sim::truth_of(exp)?, clock.clone());
            Ok(Some((Box::new(sim), clock, true)))
        }
        PlatformKind::Meta => {
            let meta = Settings::load(config)?
                .meta_config(std::env::var("ADSKEW_META_TOKEN").ok())?
                .for_experiment(exp);
            let (clock, simulated) = meta_clock(&meta, runtime)?;
            let now = clock.now();
            let start = scheduler::start_time(exp, now);
            if purpose != Purpose::Reconnect {
                // Refused here, so a dry run says it too, not only `--live`.
                scheduler::check_not_over(exp, start, start + exp.schedule.duration, now)?;
            }
            let findings = crate::platform::meta::preflight::check(exp, &meta, start);
            for w in &findings.warnings {
                eprintln!("warning: {w}");
            }
            if !findings.problems.is_empty() {
                // Refused before anything exists on the platform.
                return Err(Error::BadInput(format!(
                    "Meta would refuse this launch after creating the campaign:\n  - {}",
                    findings.problems.join("\n  - ")
                )));
            }
            if purpose == Purpose::DryRun {
                print_dry_run(exp, &meta);
                println!("\nThe account (as `adskew doctor` checks it):");
                super::doctor::run_and_print(Some(exp), &meta, runtime)?;
                validate_on_meta(exp, meta, runtime)?;
                return Ok(None);
            }
            let platform = MetaPlatform::new(meta, clock.clone())?;
            Ok(Some((Box::new(platform), clock, simulated)))
        }
    }
}

/// The clock a Meta run keeps, and whether it is simulated: the mock server's when the
/// settings say the server is `adskew mock-server` (`meta.mock_clock`), the real time
/// otherwise. A real account's run never asks its server for a clock.
fn meta_clock(
    meta: &crate::platform::meta::adapter::MetaConfig,
    runtime: &tokio::runtime::Runtime,
) -> Result<(Arc<dyn Clock>, bool)> {
    if !meta.mock_clock {
        return Ok((Arc::new(WallClock), false));
    }
    let clock = runtime
        .block_on(MockClock::connect(&meta.base_url))
        .map_err(|e| {
            Error::BadInput(format!(
                "meta.mock_clock is set but {} does not serve a mock clock ({e}): start \
                 `adskew mock-server` there, or remove mock_clock",
                meta.base_url
            ))
        })?;
    Ok((Arc::new(clock), true))
}

/// Has Meta check the campaign's parameters with `validate_only`, which creates nothing and
/// spends nothing but proves the token, the account and the settings are accepted.
fn validate_on_meta(
    exp: &Experiment,
    mut meta: crate::platform::meta::adapter::MetaConfig,
    runtime: &tokio::runtime::Runtime,
) -> Result<()> {
    // A dry run should answer quickly, not wait out a long outage.
    meta.max_retries = 1;
    meta.backoff = std::time::Duration::from_secs(1);
    let platform = MetaPlatform::new(meta, Arc::new(WallClock))?;
    let spec = crate::platform::CampaignSpec {
        spend_cap: Some(exp.spend_cap),
        name: format!("adskew/{}/dry-run", exp.name),
        objective: exp.objective,
        category: exp.category,
        countries: exp.audience.countries.clone(),
    };
    runtime
        .block_on(platform.validate_campaign(&spec))
        .map_err(|e| Error::PlatformDuring {
            message: format!("Meta did not accept the campaign in a validate_only check: {e}"),
            source: e,
        })?;
    println!(
        "Meta checked the campaign's parameters (execution_options=validate_only) and accepted them; \
         ad sets, creatives and ads are checked when --live creates them paused."
    );
    Ok(())
}

/// What `run` would do on a real platform, without doing it.
fn print_dry_run(exp: &Experiment, meta: &crate::platform::meta::adapter::MetaConfig) {
    println!(
        "Dry run: nothing was created and nothing will be spent. Add --live to run {} on Meta.",
        exp.name
    );
    println!(
        "Account {} via {}/{}; all objects are created PAUSED and activated together.",
        meta.account, meta.base_url, meta.version
    );
    println!(
        "Would create 1 campaign ({}, {}) and per ad an ad set, a creative and an ad:",
        exp.objective, exp.category
    );
    for ad in &exp.ads {
        let budget = match ad.budget {
            crate::experiment::Budget::Daily(m) => format!("{m} {}/day", exp.currency),
            crate::experiment::Budget::Lifetime(m) => format!("{m} {} lifetime", exp.currency),
        };
        println!("  {:<24} {budget:>18}  \"{}\"", ad.key, ad.headline);
    }
    if let Some(ca) = &exp.audience.custom_audience {
        if !ca.is_empty() && ca.chars().all(|c| c.is_ascii_digit()) {
            println!("Targeting custom audience {ca} (audience.custom_audience).");
        } else {
            println!(
                "Warning: audience.custom_audience = \"{ca}\" is not a Meta audience id, so Meta will refuse the ad sets. \
Upload the list with `adskew audience upload FILE.csv --name NAME` and put the id it prints there."
            );
        }
    }
    println!(
        "At most {} {cur} over {} (the budgets); spend cap {} {cur}, also set on the campaign as \
         Meta's spend_cap so spending stops there even if no collection runs.",
        exp.max_scheduled_spend(),
        humanize(exp.schedule.duration),
        exp.spend_cap,
        cur = exp.currency
    );
}
