//! `adskew run`: validate, connect (a dry run stops there), record the run, drive it, report.

use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};

use super::analyze::print_summary;
use super::connect::{connect, Purpose};
use super::{load, runs};
use crate::analysis;
use crate::cli::RunArgs;
use crate::error::Result;
use crate::experiment::Experiment;
use crate::report;
use crate::runtime;
use crate::scheduler;
use crate::store::Store;

/// The bar of collections that `run` and `resume` show while they drive a run to its end in
/// simulated time (a real-time run ends in minutes and is left to `collect`); hidden
/// with `--quiet`.
pub(crate) fn collections_bar(exp: &Experiment, show: bool) -> CollectionsBar {
    if !show {
        return CollectionsBar(ProgressBar::hidden());
    }
    let bar = ProgressBar::new(scheduler::planned_collections(exp));
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} collections ({elapsed})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(format!("{} on {} (simulated time)", exp.name, exp.platform));
    CollectionsBar(bar)
}

/// The collections bar, as the scheduler reports to it.
pub(crate) struct CollectionsBar(pub ProgressBar);

impl scheduler::Progress for CollectionsBar {
    fn collected(&self) {
        self.0.inc(1);
    }
}

/// `adskew run`: validate, connect (a dry run stops there), record, drive, report.
pub fn execute(args: RunArgs) -> Result<()> {
    let db = args.db.path()?;
    let wait = std::time::Duration::from_secs(args.lock.wait);
    // Validate everything before anything is opened or created.
    let exp = load(&args.file)?;
    // Where the report goes is checked before anything is spent.
    report::folder::check_out(&args.out, &exp.name)?;
    let runtime = runtime()?;
    let purpose = if args.live {
        Purpose::Launch
    } else {
        Purpose::DryRun
    };
    let Some((platform, clock, simulated)) = connect(&exp, purpose, args.db.config(), &runtime)?
    else {
        return Ok(()); // a dry run
    };
    let _lock = crate::store::lock::DbLock::acquire(&db, wait)?;
    super::or_abandon(Store::open(&db)?, |store| {
        if exp.platform == crate::vocab::PlatformKind::Sim {
            // The simulator's objects live only in this process (see `Durability`).
            store.set_durability(crate::store::Durability::RunEnd)?;
        }
        runs::refuse_second_copy(store, &exp, args.new)?;
        // An account in another currency is refused before the run is recorded.
        runtime.block_on(scheduler::check_account(&exp, platform.as_ref()))?;
        let progress = collections_bar(&exp, !args.quiet && simulated);
        let id = scheduler::record(&exp, clock.as_ref(), store)?;
        // In simulated time the whole run happens now; in real time this launches (and
        // activates, once the start has come) and collection continues from cron or the
        // daemon.
        let mode = if simulated {
            scheduler::Mode::ToCompletion
        } else {
            scheduler::Mode::DueNow
        };
        let outcome = runtime.block_on(scheduler::drive(
            &exp,
            id,
            platform.as_ref(),
            clock.as_ref(),
            store,
            &progress,
            mode,
        ))?;
        progress.0.finish_and_clear();
        if exp.platform == crate::vocab::PlatformKind::Sim {
            store.sync()?;
        }
        if simulated {
            return print_outcome(store, &exp, &outcome, &db, &args.out);
        }
        print_launched(&exp, &outcome);
        Ok(())
    })
}

/// What `run` says of a run launched in real time, which cron or the daemon continues.
fn print_launched(exp: &Experiment, outcome: &scheduler::RunOutcome) {
    let id = outcome.experiment_id;
    println!(
        "{}: run {} launched ({}); {} collection(s) so far. Collection continues with \
         `adskew collect --all` from cron or `adskew daemon` (see scripts/); \
         `adskew stop {}` is the kill switch.",
        exp.name,
        id,
        outcome.state.as_str(),
        outcome.collections,
        id
    );
    if let Some(next) = outcome.next {
        println!("Next due: {}", next.to_rfc3339());
    }
}

/// The analysis, report files and summary of a run that ended in this process.
pub(super) fn print_outcome(
    store: &Store,
    exp: &Experiment,
    outcome: &scheduler::RunOutcome,
    db: &Path,
    out: &Path,
) -> Result<()> {
    let record = store.find_experiment(&outcome.experiment_id.to_string())?;
    let inputs = crate::report_inputs(store, &record)?;
    let analysis = analysis::analyze(&inputs);
    let report = report::Report::load(store, inputs, analysis)?;
    let analysis = &report.analysis;
    let dir = report::write_all(&report, out)?.dir;
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
    print_summary(analysis);
    println!(
        "Report: {} (also report.md, results.json, tables/ and the charts)",
        dir.join("report.html").display()
    );
    println!("Database: {}", db.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--quiet` (of `run` and `resume`) hides the bar; without it the bar counts the
    /// planned collections. (Through the binary no bar is drawn: stderr is no terminal.)
    #[test]
    fn quiet_hides_the_bar_of_collections() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns/pilot_two_ads.toml");
        let exp = load(&file).unwrap();
        assert_eq!(collections_bar(&exp, false).0.length(), None);
        assert_eq!(
            collections_bar(&exp, true).0.length(),
            Some(scheduler::planned_collections(&exp))
        );
    }
}
