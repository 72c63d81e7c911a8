//! `adskew doctor`: every check of the Meta account before money moves, one line each.

use std::sync::Arc;

use super::load;
use crate::cli::DoctorArgs;
use crate::clock::WallClock;
use crate::error::{Error, Result};
use crate::experiment::Experiment;
use crate::platform::meta::adapter::{MetaConfig, MetaPlatform};
use crate::platform::meta::doctor::{self, Check, Level};
use crate::runtime;
use crate::scheduler;
use crate::settings::Settings;

/// Runs the checks (against the experiment too, when given); exit 1 if any fails.
pub fn execute(args: DoctorArgs) -> Result<()> {
    let exp = args.file.as_deref().map(load).transpose()?;
    let mut meta = Settings::load(args.settings.file())?
        .meta_config(std::env::var("ADSKEW_META_TOKEN").ok())?;
    if let Some(exp) = &exp {
        meta = meta.for_experiment(exp);
    }
    let checks = checks(exp.as_ref(), &meta, &runtime()?)?;
    if args.output.json {
        let list: Vec<serde_json::Value> = checks
            .iter()
            .map(|c| serde_json::json!({"name": c.name, "level": c.level.label().to_lowercase(), "message": c.message}))
            .collect();
        super::print_json(&serde_json::json!({ "checks": list }))?;
    } else {
        print(&checks);
    }
    verdict(&checks)
}

/// The checks, printed one per line (as a dry run shows them); an error if any failed.
pub(super) fn run_and_print(
    exp: Option<&Experiment>,
    meta: &MetaConfig,
    runtime: &tokio::runtime::Runtime,
) -> Result<()> {
    let checks = checks(exp, meta, runtime)?;
    print(&checks);
    verdict(&checks)
}

/// Every check, each answered quickly: a doctor should not wait out a long outage.
fn checks(
    exp: Option<&Experiment>,
    meta: &MetaConfig,
    runtime: &tokio::runtime::Runtime,
) -> Result<Vec<Check>> {
    let mut quick = meta.clone();
    quick.max_retries = 1;
    quick.backoff = std::time::Duration::from_secs(1);
    let platform = MetaPlatform::new(quick, Arc::new(WallClock))?;
    let start = exp
        .map(|e| scheduler::start_time(e, chrono::Utc::now()))
        .unwrap_or_else(chrono::Utc::now);
    Ok(runtime.block_on(doctor::run(&platform, meta, exp, start)))
}

fn print(checks: &[Check]) {
    for c in checks {
        println!("{:<5} {:<15} {}", c.level.label(), c.name, c.message);
    }
}

fn verdict(checks: &[Check]) -> Result<()> {
    match checks.iter().filter(|c| c.level == Level::Fail).count() {
        0 => Ok(()),
        failed => Err(Error::ChecksFailed { failed }),
    }
}
