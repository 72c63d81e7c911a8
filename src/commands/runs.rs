//! The commands that keep runs going after launch: `collect` (cron), `resume`, `stop` (the
//! kill switch) and `daemon`, and the guards `run` and `status` share with them. Each holds
//! the database's lock while it writes, so overlapping cron jobs queue up instead of
//! racing; only `stop` acts without it when it must (see `scheduler::stop_unlocked`).

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use super::connect::{connect, Connected, Purpose};
use super::run::print_outcome;
use serde::Serialize;

use crate::alerts::Alerts;
use crate::cli::{CollectArgs, DaemonArgs, ResumeArgs, StopArgs};
use crate::error::{Error, Result};
use crate::experiment::Experiment;
use crate::runtime;
use crate::scheduler::{self, Mode, RunOutcome};
use crate::settings::Settings;
use crate::store::lock::DbLock;
use crate::store::{ExperimentRecord, PauseKind, PauseRequest, RunOrigin, RunState, Store};
use crate::vocab::PlatformKind;

/// Whether a run has anything left to do (by the scheduler's one decision).
fn unfinished(record: &ExperimentRecord, store: &Store) -> Result<bool> {
    let exp = record.experiment()?;
    Ok(scheduler::run_clock(&exp, record, store)?.is_some_and(|c| c.due().is_unfinished()))
}

/// Whether a run is unfinished in the sense `run` guards: it may still create, activate
/// or spend on its platform.
fn still_open(record: &ExperimentRecord, store: &Store) -> Result<bool> {
    let open = matches!(
        record.state,
        RunState::Draft | RunState::Created | RunState::Running
    );
    Ok(open || store.may_be_spending(record.id)?)
}

/// Refuses to start a second copy of an experiment that has an unfinished run on a real
/// platform (after a crash, running the same command again would otherwise launch a second
/// campaign with its own cap), unless `new` says it is meant. An unfinished simulator run
/// is dead (its state ended with its process, and the lock says no process drives it): it
/// is marked failed, as `collect` would.
pub(super) fn refuse_second_copy(store: &mut Store, exp: &Experiment, new: bool) -> Result<()> {
    let same_name = store.list_experiments()?;
    for record in same_name.iter().filter(|r| r.name == exp.name) {
        if record.platform == RunOrigin::Import || !still_open(record, store)? {
            continue;
        }
        if record.platform == RunOrigin::Sim {
            store.set_state(record.id, RunState::Failed, SIM_INTERRUPTED, Utc::now())?;
            continue;
        }
        let what = if store.may_be_spending(record.id)? {
            format!("{}, its ads not confirmed paused", record.state)
        } else {
            record.state.to_string()
        };
        if new {
            eprintln!(
                "warning: run {} of {} is still unfinished ({what}); --new starts a second \
                 copy with its own campaign and its own spend cap",
                record.id, exp.name
            );
            continue;
        }
        return Err(Error::BadInput(format!(
            "{} already has an unfinished run on {}: run {} ({what}, recorded {}). A new run \
             would create a second campaign that spends under its own cap. `adskew resume {} \
             --live` is the way back to it (`adskew status` shows where it stands, `adskew stop \
             {}` ends it); add --new to start a second copy on purpose",
            exp.name, record.platform, record.id, record.created_at, record.id, record.id
        )));
    }
    Ok(())
}

const SIM_INTERRUPTED: &str =
    "interrupted: the simulator's state ended with the process that ran it; start a new run";

/// A live connection to a run's platform (only runs started with `--live` get here).
fn connect_live(
    exp: &Experiment,
    config: Option<&Path>,
    runtime: &tokio::runtime::Runtime,
) -> Result<Connected> {
    Ok(connect(exp, Purpose::Reconnect, config, runtime)?
        .expect("live connections are never dry runs"))
}

/// Pays what a run owes before anything else: its open pause requests (a stop made while
/// another adskew held the lock, a failed run's pause). `None` when it owed nothing.
fn settle_pauses(
    record: &ExperimentRecord,
    store: &mut Store,
    config: Option<&Path>,
    runtime: &tokio::runtime::Runtime,
) -> Result<Option<usize>> {
    let open = store.open_pauses(Some(record.id))?;
    if open.is_empty() {
        return Ok(None);
    }
    let exp = record.experiment()?;
    if exp.platform == PlatformKind::Sim {
        // Nothing to pause: the simulator's objects ended with the process.
        let ids: Vec<i64> = open.iter().map(|p| p.id).collect();
        store.pauses_done(&ids, Utc::now())?;
        return Ok(Some(0));
    }
    let (platform, clock, _) = connect_live(&exp, config, runtime)?;
    runtime.block_on(scheduler::honour_pauses(
        &exp,
        record.id,
        platform.as_ref(),
        clock.as_ref(),
        store,
    ))
}

/// One pass for one run: connect to its platform and do what is due (after putting a
/// failed run back where it failed, when `reopen`), with a bar of collections when
/// `show_progress` and the clock is simulated.
fn pass(
    record: &ExperimentRecord,
    store: &mut Store,
    config: Option<&Path>,
    runtime: &tokio::runtime::Runtime,
    mode_if_simulated: Mode,
    show_progress: bool,
    reopen: bool,
) -> Result<RunOutcome> {
    let exp = record.experiment()?;
    if exp.platform == PlatformKind::Sim {
        // The simulator lives in the process that ran it; a run it did not finish cannot
        // be continued.
        if !reopen {
            store.set_state(record.id, RunState::Failed, SIM_INTERRUPTED, Utc::now())?;
        }
        return Err(Error::RunFailed {
            run: record.id,
            message: SIM_INTERRUPTED.to_string(),
        });
    }
    let (platform, clock, simulated) = connect_live(&exp, config, runtime)?;
    if reopen {
        scheduler::reopen(record.id, store, clock.now())?;
    }
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
        &super::run::collections_bar(&exp, show_progress && simulated),
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

/// What a pass did to one run, as `collect` prints it (a line, or an object of `--json`).
#[derive(Debug, Serialize)]
struct PassLine {
    run: i64,
    experiment: String,
    outcome: PassOutcome,
    /// The run's state after the pass, when the pass reached it.
    state: Option<RunState>,
    message: String,
    next_due: Option<DateTime<Utc>>,
}

/// What happened to a run in a pass.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
enum PassOutcome {
    /// A pause that was owed was made.
    Paused,
    /// What was due was done.
    Done,
    /// Nothing to do (a run named on the command line that has finished).
    Finished,
    Failed,
}

/// What a pass over some runs did.
struct PassSummary {
    /// Printed as they happen, unless the whole pass is printed as JSON at the end.
    json: bool,
    lines: Vec<PassLine>,
    unfinished: usize,
    failed: usize,
    /// Of the failures, those of an invalid or expired access token (exit code 4 when they
    /// are all there is).
    token_failures: usize,
    /// The earliest time something is next due.
    next: Option<DateTime<Utc>>,
}

impl PassSummary {
    fn fail(&mut self, record: &ExperimentRecord, e: &Error) {
        self.failed += 1;
        if e.exit_code() == crate::error::EXIT_TOKEN {
            self.token_failures += 1;
        }
        self.say(PassLine {
            run: record.id,
            experiment: record.name.clone(),
            outcome: PassOutcome::Failed,
            state: None,
            message: format!("{} (run {}): FAILED: {e}", record.name, record.id),
            next_due: None,
        });
    }

    fn say(&mut self, line: PassLine) {
        if !self.json {
            println!("{}", line.message);
        }
        self.lines.push(line);
    }
}

/// Does what is due for each unfinished run of `runs`, one line per run; a run named on
/// the command line (`say_finished`) also gets a line when it has nothing to do. What each
/// run's pass did is then told to `alerts`.
fn pass_over(
    runs: Vec<ExperimentRecord>,
    store: &mut Store,
    config: Option<&Path>,
    runtime: &tokio::runtime::Runtime,
    say_finished: bool,
    json: bool,
    alerts: &Alerts,
) -> Result<PassSummary> {
    let mut summary = PassSummary {
        json,
        lines: Vec::new(),
        unfinished: 0,
        failed: 0,
        token_failures: 0,
        next: None,
    };
    for record in runs {
        let before = alerts.before(store, &record);
        let failure = pass_run(&record, store, config, runtime, say_finished, &mut summary)?;
        alerts.after(&record, before, failure.as_ref(), store, runtime);
    }
    Ok(summary)
}

/// One run's part of a pass: the pauses it owes, then what is due; its line goes into
/// `summary`. Returns why it failed, if it did.
fn pass_run(
    record: &ExperimentRecord,
    store: &mut Store,
    config: Option<&Path>,
    runtime: &tokio::runtime::Runtime,
    say_finished: bool,
    summary: &mut PassSummary,
) -> Result<Option<Error>> {
    // A pause owed comes first, whatever else the run needs.
    match settle_pauses(record, store, config, runtime) {
        Ok(None) => {}
        Ok(Some(paused)) => summary.say(PassLine {
            run: record.id,
            experiment: record.name.clone(),
            outcome: PassOutcome::Paused,
            state: None,
            message: format!(
                "{} (run {}): paused {paused} object(s), as requested",
                record.name, record.id
            ),
            next_due: None,
        }),
        Err(e) => {
            summary.fail(record, &e);
            return Ok(Some(e));
        }
    }
    let record = store.find_experiment(&record.id.to_string())?;
    if !unfinished(&record, store)? {
        if say_finished {
            summary.say(PassLine {
                run: record.id,
                experiment: record.name.clone(),
                outcome: PassOutcome::Finished,
                state: Some(record.state),
                message: finished(&record, store)?,
                next_due: None,
            });
        }
        return Ok(None);
    }
    summary.unfinished += 1;
    match pass(&record, store, config, runtime, Mode::DueNow, false, false) {
        Ok(outcome) => {
            if let Some(t) = outcome.next {
                summary.next = Some(summary.next.map_or(t, |n| n.min(t)));
            }
            summary.say(PassLine {
                run: record.id,
                experiment: record.name.clone(),
                outcome: PassOutcome::Done,
                state: Some(outcome.state),
                message: describe(&outcome, &record),
                next_due: outcome.next,
            });
            Ok(None)
        }
        Err(e) => {
            summary.fail(&record, &e);
            Ok(Some(e))
        }
    }
}

/// What a run with nothing to do says when named: a failed run says why and how to go on.
fn finished(record: &ExperimentRecord, store: &Store) -> Result<String> {
    if record.state != RunState::Failed {
        return Ok(format!(
            "{} (run {}): {}, nothing to do",
            record.name, record.id, record.state
        ));
    }
    let cause = store
        .events(record.id)?
        .into_iter()
        .rev()
        .find(|e| e.state == RunState::Failed && e.is_about_run())
        .map(|e| e.cause)
        .unwrap_or_default();
    Ok(format!(
        "{} (run {}): failed ({cause}); its ads are paused. Once the cause is fixed, `adskew \
         resume {} --live` continues it",
        record.name, record.id, record.id
    ))
}

/// `adskew collect`: one pass over one run or every unfinished run.
pub fn collect(args: CollectArgs) -> Result<()> {
    let selector =
        match (&args.experiment, args.all) {
            (Some(run), false) => Some(run.as_str()),
            (None, true) => None,
            // clap refuses both together.
            _ => return Err(Error::BadInput(
                "collect what? Name a run (`adskew collect 12`, or its experiment name) or pass \
                 --all for every unfinished run, as cron does nightly"
                    .into(),
            )),
        };
    let db = args.db.path()?;
    // Settings are checked (exit 2) before the lock is taken or the store opened.
    let alerts = alerts_from_settings(args.db.config())?;
    let _lock = DbLock::acquire(&db, Duration::from_secs(args.lock.wait))?;
    let mut store = Store::open_existing(&db)?;
    let runs: Vec<ExperimentRecord> = match selector {
        Some(s) => vec![store.find_experiment(s)?],
        None => store.list_experiments()?.into_iter().rev().collect(),
    };
    let json = args.output.json;
    let config = args.db.config();
    let summary = pass_over(
        runs,
        &mut store,
        config,
        &runtime()?,
        selector.is_some(),
        json,
        &alerts,
    )?;
    if json {
        super::print_json(&serde_json::json!({ "runs": summary.lines }))?;
    } else if selector.is_none() && summary.unfinished == 0 {
        println!("No unfinished runs in {}.", db.display());
    }
    if summary.failed > 0 {
        return Err(Error::PassFailed {
            failed: summary.failed,
            token: summary.token_failures == summary.failed,
        });
    }
    Ok(())
}

/// `adskew resume`: continue one run in this process, then report on it.
pub fn resume(args: ResumeArgs) -> Result<()> {
    let db = args.db.path()?;
    let config = args.db.config();
    let selector = args.experiment.as_str();
    let _lock = DbLock::acquire(&db, Duration::from_secs(args.lock.wait))?;
    let mut store = Store::open_existing(&db)?;
    let record = store.find_experiment(selector)?;
    crate::report::folder::check_out(&args.out, &record.name)?;
    if record.platform == RunOrigin::Import {
        println!(
            "{} (run {}) was imported from exports; there is nothing to resume.",
            record.name, record.id
        );
        return Ok(());
    }
    if record.platform != RunOrigin::Sim && !args.live {
        return Err(Error::BadInput(format!(
            "run {id} is on {}: resuming it may create and activate ads and spend up to its cap \
             of {} {}. To continue it, run `adskew resume {id} --live`; to see where it stands \
             first, `adskew status`",
            record.platform,
            record.spend_cap,
            record.currency,
            id = record.id,
        )));
    }
    // A failed run is continued once its cause is gone (a new token, say).
    let failed = record.state == RunState::Failed;
    if !failed && !unfinished(&record, &store)? {
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
        !args.quiet,
        failed,
    )?;
    println!("{}", describe(&outcome, &record));
    print_outcome(&store, &record.experiment()?, &outcome, &db, &args.out)
}

/// `adskew stop`: the kill switch. The pause never waits for the lock: with the lock the
/// stop is recorded at once; without it, it is left as a request that the holder (or the
/// next pass) records, and nothing re-activates the ads meanwhile.
pub fn stop(args: StopArgs) -> Result<()> {
    let db = args.db.path()?;
    stop_run(
        &args.experiment,
        &args.reason,
        &db,
        Duration::from_secs(args.wait),
        args.db.config(),
    )
}

fn stop_run(
    selector: &str,
    reason: &str,
    db: &Path,
    wait: Duration,
    config: Option<&Path>,
) -> Result<()> {
    let mut store = Store::open_existing(db)?;
    let record = store.find_experiment(selector)?;
    if record.platform == RunOrigin::Import {
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
    let (platform, clock, _) = connect_live(&exp, config, &runtime)?;
    let (platform, clock) = (platform.as_ref(), clock.as_ref());
    match DbLock::try_acquire(db, wait)? {
        Ok(_lock) => {
            let paused = runtime.block_on(scheduler::stop(
                &exp, record.id, platform, clock, &mut store, reason,
            ))?;
            let state = store.find_experiment(&record.id.to_string())?.state;
            println!(
                "{} (run {}): paused {paused} object(s) (campaign, ad sets, ads); the run is {state}. \
                 Cause recorded: {reason}",
                record.name, record.id
            );
        }
        Err(holder) => {
            let paused = runtime.block_on(scheduler::stop_unlocked(
                record.id, platform, clock, &mut store, reason,
            ))?;
            println!(
                "{} (run {}): paused {paused} object(s) (campaign, ad sets, ads). Another adskew \
                 holds {} ({holder}), so the stop is recorded as a request: that adskew, or the \
                 next `adskew collect`, marks the run stopped, and nothing re-activates its ads. \
                 Cause: {reason}",
                record.name,
                record.id,
                db.display()
            );
        }
    }
    Ok(())
}

/// What `status` shows before the table, one paragraph each: runs whose ads may still be
/// spending although they should not (a failed pause), with their platform ids and what to
/// do by hand; and stops paused but not yet recorded.
pub(super) fn attention(store: &Store) -> Result<Vec<String>> {
    let open = store.open_pauses(None)?;
    let mut shown = std::collections::BTreeSet::new();
    let mut paragraphs = Vec::new();
    for request in &open {
        if !shown.insert(request.experiment_id) {
            continue;
        }
        let id = request.experiment_id;
        let name = store.find_experiment(&id.to_string())?.name;
        let unpaused = open
            .iter()
            .find(|p| p.experiment_id == id && p.paused_at.is_none());
        paragraphs.push(match unpaused {
            Some(request) => may_still_spend(store, request, &name)?,
            None => {
                let what = match request.kind {
                    PauseKind::Stop => "stop requested",
                    PauseKind::Failure => "paused after a failure",
                };
                format!(
                    "Run {id} ({name}): {what} at {} ({}); its ads are paused. The next `adskew \
                     collect {id}` records it in the run's state.",
                    request.requested_at, request.cause
                )
            }
        });
    }
    Ok(paragraphs)
}

/// A run whose pause failed: what happened and what to do by hand.
fn may_still_spend(store: &Store, request: &PauseRequest, name: &str) -> Result<String> {
    let id = request.experiment_id;
    let mut text = match request.kind {
        PauseKind::Failure => format!(
            "ATTENTION: run {id} ({name}) may still be spending: {}.",
            request.cause
        ),
        PauseKind::Stop => format!(
            "ATTENTION: run {id} ({name}) may still be spending: a stop was requested at \
             {} ({}) but pausing failed.",
            request.requested_at, request.cause
        ),
    };
    if let Some(error) = &request.error {
        text.push_str(&format!("\n  The last attempt to pause failed: {error}"));
    }
    text.push_str(&format!("\n  {}.", scheduler::unpaused_advice(store, id)?));
    Ok(text)
}

/// `adskew daemon`: `collect --all` on an internal schedule until SIGINT or SIGTERM.
pub fn daemon(args: DaemonArgs) -> Result<()> {
    let db = args.db.path()?;
    let (db, config) = (db.as_path(), args.db.config());
    let max_sleep = Duration::from_secs(args.max_sleep_minutes * 60);
    let alerts = alerts_from_settings(config)?;
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
        let next = match collect_all_for_daemon(db, config, &alerts) {
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
fn collect_all_for_daemon(
    db: &Path,
    config: Option<&Path>,
    alerts: &Alerts,
) -> Result<Option<DateTime<Utc>>> {
    let _lock = DbLock::acquire(db, Duration::from_secs(60))?;
    super::or_abandon(Store::open(db)?, |store| {
        let runs = store.list_experiments()?.into_iter().rev().collect();
        Ok(pass_over(runs, store, config, &runtime()?, false, false, alerts)?.next)
    })
}

/// Where the settings' `[alerts]` send what a pass meets (nowhere without the table).
fn alerts_from_settings(config: Option<&Path>) -> Result<Alerts> {
    Alerts::new(Settings::load(config)?.alerts)
}
