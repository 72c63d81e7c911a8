//! The commands that keep runs going after launch: `collect` (cron), `resume`, `stop` (the
//! kill switch) and `daemon`. Each holds the database's lock while it writes, so overlapping
//! cron jobs queue up instead of racing.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use indicatif::ProgressBar;
use tracing::{info, warn};

use super::{connect, print_outcome, runtime};
use crate::error::{Error, Result};
use crate::scheduler::{self, Mode, RunOutcome};
use crate::store::lock::DbLock;
use crate::store::{ExperimentRecord, RunState, Store};
use crate::vocab::PlatformKind;

/// Whether a run has anything left to do.
fn unfinished(record: &ExperimentRecord, store: &Store) -> Result<bool> {
    Ok(match RunState::parse(&record.state) {
        Some(RunState::Draft | RunState::Created | RunState::Running) => true,
        Some(RunState::Completed | RunState::Stopped) => match &record.recollect_at {
            Some(at) => !store.collected_due(record.id, crate::store::parse_time(at)?)?,
            None => false,
        },
        _ => false,
    })
}

/// One pass for one run: connect to its platform and do what is due.
fn pass(
    record: &ExperimentRecord,
    store: &mut Store,
    config: Option<&Path>,
    runtime: &tokio::runtime::Runtime,
    mode_if_simulated: Mode,
    progress: &ProgressBar,
) -> Result<RunOutcome> {
    let exp = record.experiment()?;
    if exp.platform == PlatformKind::Sim {
        // The simulator lives in the process that ran it; a run it did not finish cannot
        // be continued.
        let cause = "interrupted: the simulator's state ended with the process that ran it; start a new run";
        store.set_state(record.id, RunState::Failed, cause, Utc::now())?;
        return Err(Error::Other(cause.to_string()));
    }
    let (platform, clock, simulated) =
        connect(&exp, true, config, runtime)?.expect("live connections are never dry runs");
    let mode = if simulated {
        mode_if_simulated
    } else {
        Mode::DueNow
    };
    runtime.block_on(scheduler::drive(
        &exp,
        record.id,
        platform.as_ref(),
        clock.as_ref(),
        store,
        progress,
        mode,
    ))
}

fn describe(outcome: &RunOutcome, record: &ExperimentRecord) -> String {
    let next = outcome
        .next
        .map_or("nothing more scheduled".to_string(), |t: DateTime<Utc>| {
            format!(
                "next due {}",
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )
        });
    format!(
        "{} (run {}): {}, {} collected now, spend {} of {} {}; {next}",
        record.name,
        record.id,
        outcome.state.as_str(),
        outcome.collections,
        outcome.spend,
        record.spend_cap,
        record.currency
    )
}

/// What a pass over some runs did.
struct PassSummary {
    unfinished: usize,
    failed: usize,
    /// The earliest time something is next due.
    next: Option<DateTime<Utc>>,
}

/// Does what is due for each unfinished run of `runs`, one line per run; a run named on
/// the command line (`say_finished`) also gets a line when it has nothing to do.
fn pass_over(
    runs: Vec<ExperimentRecord>,
    store: &mut Store,
    config: Option<&Path>,
    runtime: &tokio::runtime::Runtime,
    say_finished: bool,
) -> Result<PassSummary> {
    let mut summary = PassSummary {
        unfinished: 0,
        failed: 0,
        next: None,
    };
    for record in runs {
        if !unfinished(&record, store)? {
            if say_finished {
                println!(
                    "{} (run {}): {}, nothing to do",
                    record.name, record.id, record.state
                );
            }
            continue;
        }
        summary.unfinished += 1;
        match pass(
            &record,
            store,
            config,
            runtime,
            Mode::DueNow,
            &ProgressBar::hidden(),
        ) {
            Ok(outcome) => {
                println!("{}", describe(&outcome, &record));
                if let Some(t) = outcome.next {
                    summary.next = Some(summary.next.map_or(t, |n| n.min(t)));
                }
            }
            Err(e) => {
                summary.failed += 1;
                println!("{} (run {}): FAILED: {e}", record.name, record.id);
            }
        }
    }
    Ok(summary)
}

/// `adskew collect`: one pass over one run or every unfinished run.
pub fn collect(
    selector: Option<&str>,
    db: &Path,
    wait: Duration,
    config: Option<&Path>,
) -> Result<()> {
    let _lock = DbLock::acquire(db, wait)?;
    let mut store = Store::open_existing(db)?;
    let runs: Vec<ExperimentRecord> = match selector {
        Some(s) => vec![store.find_experiment(s)?],
        None => store.list_experiments()?.into_iter().rev().collect(),
    };
    let summary = pass_over(runs, &mut store, config, &runtime()?, selector.is_some())?;
    if selector.is_none() && summary.unfinished == 0 {
        println!("No unfinished runs in {}.", db.display());
    }
    if summary.failed > 0 {
        return Err(Error::Other(format!(
            "{} run(s) failed this pass (see above; `adskew status` has the history)",
            summary.failed
        )));
    }
    Ok(())
}

/// `adskew resume`: continue one run in this process, then report on it.
pub fn resume(
    selector: &str,
    db: &Path,
    wait: Duration,
    live: bool,
    config: Option<&Path>,
    out: &Path,
) -> Result<()> {
    let _lock = DbLock::acquire(db, wait)?;
    let mut store = Store::open_existing(db)?;
    let record = store.find_experiment(selector)?;
    if record.platform == "import" {
        println!(
            "{} (run {}) was imported from exports; there is nothing to resume.",
            record.name, record.id
        );
        return Ok(());
    }
    if record.platform != "sim" && !live {
        return Err(Error::BadInput(format!(
            "resuming run {} may create and activate ads on {}: add --live",
            record.id, record.platform
        )));
    }
    if !unfinished(&record, &store)? {
        println!(
            "{} (run {}) is {}; nothing to resume.",
            record.name, record.id, record.state
        );
        return Ok(());
    }
    let runtime = runtime()?;
    let outcome = pass(
        &record,
        &mut store,
        config,
        &runtime,
        Mode::ToCompletion,
        &ProgressBar::hidden(),
    )?;
    println!("{}", describe(&outcome, &record));
    print_outcome(&store, &record.experiment()?, &outcome, db, out)
}

/// `adskew stop`: the kill switch.
pub fn stop(
    selector: &str,
    reason: &str,
    db: &Path,
    wait: Duration,
    config: Option<&Path>,
) -> Result<()> {
    let _lock = DbLock::acquire(db, wait)?;
    let mut store = Store::open_existing(db)?;
    let record = store.find_experiment(selector)?;
    if record.platform == "import" {
        println!(
            "{} (run {}) was imported from exports; adskew created nothing on a platform to pause.",
            record.name, record.id
        );
        return Ok(());
    }
    let exp = record.experiment()?;
    if exp.platform == PlatformKind::Sim {
        println!(
            "{} (run {}) ran on the simulator, which stopped with the process that ran it.",
            record.name, record.id
        );
        return Ok(());
    }
    let runtime = runtime()?;
    let (platform, clock, _) =
        connect(&exp, true, config, &runtime)?.expect("live connections are never dry runs");
    let paused = runtime.block_on(scheduler::stop(
        &exp,
        record.id,
        platform.as_ref(),
        clock.as_ref(),
        &mut store,
        reason,
    ))?;
    println!(
        "{} (run {}): paused {paused} object(s) (campaign, ad sets, ads); the run is stopped. Cause recorded: {reason}",
        record.name, record.id
    );
    Ok(())
}

/// `adskew daemon`: `collect --all` on an internal schedule until SIGINT or SIGTERM.
pub fn daemon(db: &Path, config: Option<&Path>, max_sleep: Duration) -> Result<()> {
    let runtime = runtime()?;
    // Both signals are caught from the start, so one arriving during a pass waits for it.
    use tokio::signal::unix::{signal, SignalKind};
    let (mut terminate, mut interrupt) = runtime
        .block_on(async {
            Ok::<_, std::io::Error>((
                signal(SignalKind::terminate())?,
                signal(SignalKind::interrupt())?,
            ))
        })
        .map_err(|e| Error::io("cannot listen for SIGTERM and SIGINT", e))?;
    info!(db = %db.display(), "daemon started");
    loop {
        // A pass runs on its own thread with its own runtime; the wait below is where a
        // signal lands, so a write in progress always finishes.
        let next = match collect_all_for_daemon(db, config) {
            Ok(next) => next,
            Err(e) => {
                warn!(error = %e, "collection pass failed");
                None
            }
        };
        let sleep = next
            .map(|t| (t - Utc::now()).to_std().unwrap_or(Duration::ZERO))
            .unwrap_or(max_sleep)
            .min(max_sleep)
            .max(Duration::from_secs(1));
        info!(seconds = sleep.as_secs(), "sleeping until the next pass");
        let stop = runtime.block_on(async {
            tokio::select! {
                _ = tokio::time::sleep(sleep) => false,
                _ = interrupt.recv() => true,
                _ = terminate.recv() => true,
            }
        });
        if stop {
            println!("adskew daemon: stopping on signal.");
            return Ok(());
        }
    }
}

/// One daemon pass; returns the earliest next due time.
fn collect_all_for_daemon(db: &Path, config: Option<&Path>) -> Result<Option<DateTime<Utc>>> {
    let _lock = DbLock::acquire(db, Duration::from_secs(60))?;
    let mut store = Store::open(db)?;
    let runs = store.list_experiments()?.into_iter().rev().collect();
    Ok(pass_over(runs, &mut store, config, &runtime()?, false)?.next)
}
