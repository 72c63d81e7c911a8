//! `adskew analyze`: the statistics of a stored run, or of a CSV of counts, as text or JSON.

use std::path::Path;

use crate::analysis::{self, Analysis};
use crate::cli::{AnalysisArgs, AnalyzeArgs};
use crate::error::Result;
use crate::report::words;
use crate::store::{RunOrigin, Store};

pub fn execute(args: AnalyzeArgs) -> Result<()> {
    let analysis = match (&args.experiment, &args.counts) {
        (_, Some(file)) => crate::counts::analyze_counts(file, &args.options)?,
        (Some(run), None) => analysis_for(run, &args.db.path()?, &args.options)?,
        // clap requires one of the two.
        (None, None) => unreachable!("clap requires a run or --counts"),
    };
    print_analysis(&analysis, args.output.json)
}

/// The words of every result, as `run`, `resume` and `analyze` print them.
pub(super) fn print_summary(a: &Analysis) {
    for ad in a.ads.iter().filter(|ad| ad.platform_problem.is_some()) {
        println!("\nWarning: {}", words::describe_refused(ad));
    }
    if let Some(nothing) = words::describe_no_delivery(a) {
        println!("\n{nothing}");
    }
    for c in &a.comparisons {
        println!("\nComparison {}:", c.key);
        if let Some(p) = c.paired() {
            println!("  {}", words::describe_paired(a, p));
        }
        for b in &c.breakdowns {
            println!("  {}", words::describe_breakdown(a, b));
            for fit in words::describe_fits(a, b) {
                println!("    {fit}");
            }
        }
    }
    println!();
}

fn analysis_for(selector: &str, db: &Path, options: &AnalysisArgs) -> Result<Analysis> {
    let store = Store::open_read_only(db)?;
    let record = store.find_experiment(selector)?;
    let mut inputs = crate::analysis_inputs(&store, &record)?;
    options.apply(&mut inputs.experiment.analysis);
    Ok(analysis::analyze(&inputs))
}

fn print_analysis(analysis: &Analysis, json: bool) -> Result<()> {
    if json {
        return super::print_json(analysis);
    }
    if analysis.experiment.platform == RunOrigin::Counts {
        println!(
            "{} (counts from {}):",
            analysis.experiment.name, analysis.experiment.file_path
        );
    } else {
        println!(
            "{} (run {}, {}):",
            analysis.experiment.name, analysis.experiment.id, analysis.experiment.state
        );
    }
    print_summary(analysis);
    Ok(())
}
