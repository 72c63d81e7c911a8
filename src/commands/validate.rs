//! `adskew validate`: check an experiment file and say what it would do; writes nothing.

use serde::Serialize;

use super::humanize;
use crate::cli::ValidateArgs;
use crate::error::{Error, Result};

/// What a valid experiment amounts to, as `validate --json` prints it.
#[derive(Debug, Serialize)]
struct Summary<'a> {
    file: String,
    valid: bool,
    name: &'a str,
    platform: String,
    ads: usize,
    comparisons: usize,
    currency: &'a str,
    /// The most the budgets can spend over the schedule (a decimal string, like every
    /// amount adskew prints as JSON).
    max_scheduled_spend: String,
    spend_cap: String,
    duration_hours: i64,
    warnings: &'a [String],
}

pub fn execute(args: ValidateArgs) -> Result<()> {
    let loaded = match crate::experiment::load(&args.file, &[crate::platform::sim::check]) {
        Err(Error::Invalid { path, problems }) if args.output.json => {
            // The problems are validate's result: an editor or a script reads them here.
            super::print_json(&serde_json::json!({
                "file": path.display().to_string(),
                "valid": false,
                "problems": problems,
            }))?;
            return Err(Error::Invalid { path, problems });
        }
        loaded => loaded?,
    };
    let exp = &loaded.experiment;
    let summary = Summary {
        file: args.file.display().to_string(),
        valid: true,
        name: &exp.name,
        platform: exp.platform.to_string(),
        ads: exp.ads.len(),
        comparisons: exp.comparisons.len(),
        currency: &exp.currency,
        max_scheduled_spend: exp.max_scheduled_spend().to_string(),
        spend_cap: exp.spend_cap.to_string(),
        duration_hours: exp.schedule.duration.num_hours(),
        warnings: &loaded.warnings,
    };
    if args.output.json {
        return super::print_json(&summary);
    }
    for warning in summary.warnings {
        eprintln!("warning: {warning}");
    }
    println!(
        "{}: valid. {}, {} on platform {}; at most {} {} over {} (spend cap {} {}).",
        summary.file,
        crate::report::words::plural(summary.ads, "ad", "ads"),
        crate::report::words::plural(summary.comparisons, "comparison", "comparisons"),
        summary.platform,
        summary.max_scheduled_spend,
        summary.currency,
        humanize(exp.schedule.duration),
        summary.spend_cap,
        summary.currency,
    );
    Ok(())
}
