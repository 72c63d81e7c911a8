//! What each command does, in terms of the library's modules.

use std::path::Path;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use tracing_subscriber::EnvFilter;

use crate::analysis::{self, Analysis, Inputs};
use crate::cli::{Cli, Command};
use crate::clock::SimClock;
use crate::error::{Error, Result};
use crate::experiment::{self, Experiment};
use crate::platform::sim::SimPlatform;
use crate::report::{self, words};
use crate::scheduler;
use crate::store::Store;
use crate::vocab::PlatformKind;

/// Logs go to stderr; RUST_LOG wins over -v.
pub fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "adskew=warn",
        1 => "adskew=info",
        _ => "adskew=debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

pub fn execute(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Validate { file } => validate(&file),
        Command::Run {
            file,
            db,
            out,
            quiet,
        } => run(&file, &db.db, &out, quiet),
        Command::Analyze {
            experiment,
            db,
            json,
        } => analyze(&experiment, &db.db, json),
        Command::Report {
            experiment,
            db,
            out,
        } => report_cmd(&experiment, &db.db, &out),
        Command::Status { db } => status(&db.db),
    }
}

fn load(file: &Path) -> Result<Experiment> {
    let loaded = experiment::load(file)?;
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(loaded.experiment)
}

fn validate(file: &Path) -> Result<()> {
    let exp = load(file)?;
    println!(
        "{}: valid. {} ads, {} comparisons on platform {}; at most {} {} over {} (spend cap {} {}).",
        file.display(),
        exp.ads.len(),
        exp.comparisons.len(),
        exp.platform,
        exp.max_scheduled_spend(),
        exp.currency,
        humanize(exp.schedule.duration),
        exp.spend_cap,
        exp.currency,
    );
    Ok(())
}

fn humanize(d: chrono::TimeDelta) -> String {
    let hours = d.num_hours();
    if hours % 24 == 0 {
        format!("{} day{}", hours / 24, if hours == 24 { "" } else { "s" })
    } else {
        format!("{hours} hours")
    }
}

fn run(file: &Path, db: &Path, out: &Path, quiet: bool) -> Result<()> {
    // Validate everything before anything is opened or created.
    let exp = load(file)?;
    if exp.platform != PlatformKind::Sim {
        return Err(Error::BadInput(format!(
            "{}: platform `{}` is not available in this version of adskew; use platform = \"sim\" \
             (the Meta adapter is tracked in issue #4). Nothing was created or spent.",
            file.display(),
            exp.platform
        )));
    }
    let clock = Arc::new(SimClock::new(scheduler::start_time(
        &exp,
        chrono::Utc::now(),
    )));
    let platform = SimPlatform::new(exp.sim.clone(), clock.clone());
    let mut store = Store::open(db)?;

    let progress = if quiet {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new(scheduler::planned_collections(&exp));
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} collections ({elapsed})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_message(format!("{} (simulated)", exp.name));
        bar
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))?;
    let outcome = runtime.block_on(scheduler::run(
        &exp,
        &platform,
        clock.as_ref(),
        &mut store,
        &progress,
    ))?;
    progress.finish_and_clear();

    let record = store.find_experiment(&outcome.experiment_id.to_string())?;
    let analysis = analysis::analyze(&Inputs::load(&store, &record)?);
    let dir = out.join(&exp.name);
    report::write_all(&analysis, &dir)?;
    println!(
        "{}: run {} {} after {} collections; spent {} of {} {}.",
        exp.name,
        outcome.experiment_id,
        outcome.state.as_str(),
        outcome.collections,
        outcome.spend,
        exp.spend_cap,
        exp.currency
    );
    print_summary(&analysis);
    println!("Report: {}", dir.join("report.md").display());
    println!("Database: {}", db.display());
    Ok(())
}

fn print_summary(a: &Analysis) {
    for c in &a.comparisons {
        println!("\nComparison {}:", c.key);
        if let Some(p) = &c.paired {
            println!("  {}", words::describe_paired(p));
        }
        for b in &c.breakdowns {
            println!("  {}", words::describe_breakdown(a, b));
        }
    }
    println!();
}

fn analysis_for(selector: &str, db: &Path) -> Result<Analysis> {
    let store = Store::open_existing(db)?;
    let record = store.find_experiment(selector)?;
    Ok(analysis::analyze(&Inputs::load(&store, &record)?))
}

fn analyze(selector: &str, db: &Path, json: bool) -> Result<()> {
    let analysis = analysis_for(selector, db)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&analysis).expect("analysis serialises")
        );
    } else {
        println!(
            "{} (run {}, {}):",
            analysis.experiment.name, analysis.experiment.id, analysis.experiment.state
        );
        print_summary(&analysis);
    }
    Ok(())
}

fn report_cmd(selector: &str, db: &Path, out: &Path) -> Result<()> {
    let analysis = analysis_for(selector, db)?;
    let dir = out.join(&analysis.experiment.name);
    let files = report::write_all(&analysis, &dir)?;
    for f in files {
        println!("{}", f.display());
    }
    Ok(())
}

fn status(db: &Path) -> Result<()> {
    let store = Store::open_existing(db)?;
    let runs = store.list_experiments()?;
    if runs.is_empty() {
        println!("No runs in {}.", db.display());
        return Ok(());
    }
    println!(
        "{:>4}  {:<36} {:<9} {:<5} {:>22} {:>11}  last collection",
        "id", "experiment", "state", "plat", "spend / cap", "collections"
    );
    for r in runs {
        let collections = store.collections(r.id)?;
        let spend = collections.last().map(|c| c.spend).unwrap_or_default();
        println!(
            "{:>4}  {:<36} {:<9} {:<5} {:>22} {:>11}  {}",
            r.id,
            r.name,
            r.state,
            r.platform,
            format!("{spend} / {} {}", r.spend_cap, r.currency),
            collections.len(),
            collections
                .last()
                .map_or("-".to_string(), |c| c.platform_time.clone()),
        );
    }
    Ok(())
}
