//! The scheduler: launch an experiment's ads together, collect delivery on schedule until
//! the end, and stop; resumable at any point.
//!
//! It talks to the platform only through [`Platform`] and waits only through [`Clock`], so
//! the same code drives a real platform in real time and the simulator in simulated time
//! (a 14-day experiment runs in seconds).
//!
//! A run's life is recorded in the store as it happens: `draft` (recorded; objects being
//! created, each with an idempotency key, see [`launch`]) → `created` (all PAUSED) →
//! `running` (activated together at the planned start) → `completed` (schedule ended) or
//! `stopped` (spend cap or kill switch) or `failed`. Collections are due every
//! `collect_every` from the start and at the end, plus a final re-collection
//! `recollect_after` later, once the platform's revisions of recent days have settled; a
//! collection records the time it was due for, in the same transaction as its rows. So
//! [`drive`] can pick a run up in any state, in a new process, and continue where it
//! stopped: [`Mode::ToCompletion`] waits for every due time (simulated clocks),
//! [`Mode::DueNow`] does what is due and returns (`adskew collect` from cron).
//!
//! Pausing never waits (see [`pause`]): `adskew stop` from another process, and a failed
//! run whose own pause failed, leave a pause request in the store that [`drive`] honours
//! before every step (so also right after an activation), and every later pass before
//! anything else. A schedule already over by the platform's clock is refused by
//! [`record`] before anything exists.

mod collect;
mod launch;
pub mod looks;
mod pause;

use chrono::{DateTime, Duration, DurationRound, Utc};
use tracing::{info, warn};

use adskew_core::analysis::sequential::stop;
use adskew_core::clock::Clock;
use adskew_core::due::{Due, RunClock};
use adskew_core::error::{Error, Result};
use adskew_core::experiment::{Experiment, Start};
use adskew_core::money::Money;
use adskew_core::platform::{Period, Platform, Status};
use adskew_core::records::StoredReview;
use adskew_core::vocab::Breakdown;
use adskew_store::{EventKind, RunEvent, RunState, Store, StoredRow};
use std::collections::BTreeMap;

pub use pause::{honour_pauses, reopen, stop, stop_unlocked, unpaused_advice};

/// How far [`drive`] goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Wait for every due time and finish the run (simulated clocks; a live run in one
    /// process).
    ToCompletion,
    /// Do what is due now and return (a collection pass from cron or the daemon).
    DueNow,
}

/// Where a run stands after [`run`] or [`drive`].
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub experiment_id: i64,
    pub state: RunState,
    /// Collections made by this call.
    pub collections: usize,
    /// The spend read at the last collection (of this call or before).
    pub spend: Money,
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    /// When something is next due (`None` once the run has nothing more to do).
    pub next: Option<DateTime<Utc>>,
}

/// When the experiment starts, given the platform's clock.
pub fn start_time(exp: &Experiment, now: DateTime<Utc>) -> DateTime<Utc> {
    match exp.schedule.start {
        Start::Now => now.duration_trunc(Duration::hours(1)).unwrap_or(now),
        Start::At(t) => t,
    }
}

/// The current hour: where a simulated clock starts when the experiment says "now".
pub fn start_time_now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(Duration::hours(1)).unwrap_or(now)
}

/// The number of collections a run makes (for progress bars).
pub fn planned_collections(exp: &Experiment) -> u64 {
    let every = exp.schedule.collect_every.num_seconds().max(1);
    let total = exp.schedule.duration.num_seconds();
    // One per interval strictly inside the schedule, the one at the end, and the
    // re-collection after the revision window.
    let recollect = u64::from(exp.schedule.recollect_after > Duration::zero());
    ((total - 1) / every + 1) as u64 + recollect
}

/// What a driven run reports as it goes, for whoever shows progress (the command line's
/// bar); `()` reports nothing. The scheduler itself draws nothing.
pub trait Progress: Sync {
    /// One scheduled collection, or the re-collection, was made.
    fn collected(&self);
}

impl Progress for () {
    fn collected(&self) {}
}

/// What a run that nothing records ends with: the latest since-launch totals per breakdown
/// (ordered by ad key and value, as the store hands them out), the spend and each ad's
/// review at the last collection, and that collection's time.
#[derive(Debug, Clone)]
pub struct Unrecorded {
    pub totals: BTreeMap<Breakdown, Vec<StoredRow>>,
    pub spend: Money,
    pub reviews: BTreeMap<String, StoredReview>,
    pub collected_at: DateTime<Utc>,
}

/// Runs `exp` to completion on a simulated `clock` recording nothing, for `plan`'s
/// replicates: the same checks, objects, activation, end-of-schedule pause and last
/// collection's totals as [`run`], without the store and without the daily rows and the
/// collections before the last, which only the store and the spend checks read. `None`
/// when a spend check could have stopped the run early (a daily spend cap, or the whole
/// cap reached): the caller then runs it through [`run`], which knows when it stopped.
pub async fn run_unrecorded(
    exp: &Experiment,
    platform: &dyn Platform,
    clock: &dyn Clock,
) -> Result<Option<Unrecorded>> {
    let tz = check_account(exp, platform).await?;
    let start = start_time(exp, clock.now());
    let end = start + exp.schedule.duration;
    check_not_over(exp, start, end, clock.now())?;
    launch::check_paired(exp, start, end)?;
    let launched = launch::create_unrecorded(exp, platform, start, end).await?;
    clock.sleep_until(start).await;
    launch::activate_together(platform, &launched).await?;
    clock.sleep_until(end).await;
    platform
        .set_status(&launched.campaign, Status::Paused)
        .await?;
    if exp.daily_spend_cap.is_some() || platform.spend(&launched.campaign).await? >= exp.spend_cap {
        return Ok(None);
    }
    if exp.schedule.recollect_after > Duration::zero() {
        clock.sleep_until(end + exp.schedule.recollect_after).await;
    }
    let now = platform.now();
    let rows =
        collect::read_rows(exp, platform, &launched, (start, now, tz), &[Period::Total]).await?;
    let mut totals: BTreeMap<Breakdown, Vec<StoredRow>> = BTreeMap::new();
    for row in rows {
        totals.entry(row.breakdown).or_default().push(row);
    }
    for rows in totals.values_mut() {
        rows.sort_by(|a, b| (&a.ad_key, &a.value).cmp(&(&b.ad_key, &b.value)));
    }
    let ids: Vec<_> = launched.ads.iter().map(|(_, ad)| ad.clone()).collect();
    let mut reviews = BTreeMap::new();
    for review in platform.ad_reviews(&ids).await? {
        if let Some((key, _)) = launched.ads.iter().find(|(_, ad)| *ad == review.ad) {
            reviews.insert(
                key.clone(),
                StoredReview {
                    delivery: review.delivery,
                    platform_status: review.platform_status,
                    problem: review.problem,
                },
            );
        }
    }
    Ok(Some(Unrecorded {
        totals,
        spend: platform.spend(&launched.campaign).await?,
        reviews,
        collected_at: now,
    }))
}

/// Records a new run of `exp` and drives it to completion. On failure the run is marked
/// failed and its ads paused (best effort) before the error is returned.
pub async fn run(
    exp: &Experiment,
    platform: &dyn Platform,
    clock: &dyn Clock,
    store: &mut Store,
    progress: &dyn Progress,
) -> Result<RunOutcome> {
    check_account(exp, platform).await?;
    let id = record(exp, clock, store)?;
    drive(
        exp,
        id,
        platform,
        clock,
        store,
        progress,
        Mode::ToCompletion,
    )
    .await
}

/// Records a new run of `exp` (state `draft`, with its planned start and end) after
/// checking its comparisons are paired; returns its id.
pub fn record(exp: &Experiment, clock: &dyn Clock, store: &mut Store) -> Result<i64> {
    let start = start_time(exp, clock.now());
    let end = start + exp.schedule.duration;
    check_not_over(exp, start, end, clock.now())?;
    launch::check_paired(exp, start, end)?;
    Ok(store.insert_run(exp, clock.now(), start, end)?)
}

/// Refuses a schedule that has already ended by the platform's clock: its ads could not
/// deliver, yet the run would be created, "complete" empty and read like a finding.
pub fn check_not_over(
    exp: &Experiment,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    let time = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if end <= now {
        return Err(Error::BadInput(format!(
            "{}: schedule.start = \"{}\" with this duration ends at {}, which has already passed \
             (the platform's clock says {}); nothing was created. Set schedule.start to \"now\" \
             or a time in the future (and schedule.end, if given, after it)",
            exp.source.path.display(),
            time(start),
            time(end),
            time(now)
        )));
    }
    if start < now {
        warn!(start = %time(start), now = %time(now), "the schedule started in the past: the ads start late, now");
    }
    Ok(())
}

/// A run's planned start and end, as recorded.
fn plan(
    store: &Store,
    id: i64,
) -> Result<(DateTime<Utc>, DateTime<Utc>, adskew_store::ExperimentRecord)> {
    let record = store.find_experiment(&id.to_string())?;
    match (record.planned_start, record.planned_end) {
        (Some(s), Some(e)) => Ok((s, e, record)),
        _ => Err(Error::BadInput(format!(
            "run {id} was recorded by an adskew without resumable runs; it cannot be continued"
        ))),
    }
}

/// The schedule of run `record` as the store knows it; `None` for a run recorded without
/// a plan (by an adskew before resumable runs, or imported).
pub fn run_clock(
    exp: &Experiment,
    record: &adskew_store::ExperimentRecord,
    store: &Store,
) -> Result<Option<RunClock>> {
    let (Some(start), Some(end)) = (record.planned_start, record.planned_end) else {
        return Ok(None);
    };
    let recollect = match record.recollect_at {
        Some(at) => Some((at, store.collected_due(record.id, at)?)),
        None => None,
    };
    Ok(Some(RunClock {
        state: record.state,
        start,
        end,
        collect_every: exp.schedule.collect_every,
        last_collected: store.last_due_collected(record.id)?,
        recollect,
    }))
}

/// When run `record` next has something to do, from what the store says (for `status`).
pub fn next_due(
    exp: &Experiment,
    record: &adskew_store::ExperimentRecord,
    store: &Store,
) -> Result<Option<DateTime<Utc>>> {
    Ok(run_clock(exp, record, store)?.and_then(|c| c.due().next_at()))
}

/// The account's time zone, once its currency is checked against the experiment's: amounts
/// in the wrong currency would spend the wrong sums. Checked before a run is recorded (a
/// refused run leaves no record) and again by every pass.
pub async fn check_account(exp: &Experiment, platform: &dyn Platform) -> Result<chrono_tz::Tz> {
    let account = platform.account().await?;
    if let Some(currency) = account.currency.as_deref() {
        if !currency.eq_ignore_ascii_case(&exp.currency) {
            return Err(Error::BadInput(format!(
                "the ad account's currency is {currency} but the experiment's amounts are in {}; \
                 set currency = \"{currency}\" and check the budgets and spend cap",
                exp.currency
            )));
        }
    }
    Ok(account.time_zone)
}

/// The time `due` is acted on for: waited for when running to completion; in a pass that
/// only does what is due, `None` when nothing is due yet.
async fn wait_for(due: &Due, mode: Mode, clock: &dyn Clock) -> Option<DateTime<Utc>> {
    match mode {
        Mode::ToCompletion => {
            let at = due.next_at().unwrap_or_else(|| clock.now());
            clock.sleep_until(at).await;
            Some(at)
        }
        Mode::DueNow => due.due_by(clock.now()),
    }
}

/// A run's delivery window and the account's day.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    tz: chrono_tz::Tz,
}

/// The scheduled collection due `at`; the last one pauses the campaign first and ends the
/// run, any other that finds a cap reached pauses everything and stops it. Returns the
/// spend so far.
#[allow(clippy::too_many_arguments)]
async fn collect_due(
    exp: &Experiment,
    id: i64,
    platform: &dyn Platform,
    clock: &dyn Clock,
    store: &mut Store,
    launched: &launch::Launched,
    window: Window,
    at: DateTime<Utc>,
) -> Result<Money> {
    let finishing = at >= window.end;
    if finishing {
        platform
            .set_status(&launched.campaign, Status::Paused)
            .await?;
    }
    let spent = collect::collect(
        exp,
        id,
        platform,
        store,
        launched,
        window.start,
        at,
        window.tz,
    )
    .await?;
    if finishing {
        finish(exp, id, store, window.end, clock.now())?;
    } else if let Some(cause) = over_cap(exp, &spent).or_else(|| concluded(exp, &spent, at, window))
    {
        warn!(experiment = %exp.name, %cause, "pausing everything");
        launch::pause_everything(platform, launched).await?;
        archive(store, id, platform)?;
        end_run(exp, id, store, RunState::Stopped, &cause, clock.now())?;
    }
    Ok(spent.total)
}

/// Activates every ad together and records it.
async fn activate(
    exp: &Experiment,
    id: i64,
    platform: &dyn Platform,
    store: &mut Store,
    launched: &launch::Launched,
    now: DateTime<Utc>,
) -> Result<()> {
    launch::activate_together(platform, launched).await?;
    archive(store, id, platform)?;
    let activated = now;
    store.set_activated(id, activated)?;
    store.set_state(
        id,
        RunState::Running,
        "all ads activated together",
        activated,
    )?;
    info!(experiment = %exp.name, id, %activated, "activated");
    Ok(())
}

/// How the cause of a stop at the whole spend cap begins.
const CAP_REACHED: &str = "spend cap reached";
/// How the cause of a stop at the daily spend cap begins.
const DAILY_CAP_REACHED: &str = "daily spend cap reached";

/// Whether `event` is a run stopped at its spend cap (whole or daily) by [`over_cap`], as
/// opposed to stopped by hand; alerts tell the two apart by it.
pub fn is_cap_stop(event: &RunEvent) -> bool {
    event.kind == EventKind::State
        && event.state == RunState::Stopped
        && (event.cause.starts_with(CAP_REACHED) || event.cause.starts_with(DAILY_CAP_REACHED))
}

/// Why a collection that found `spent` stops the run, if it does: the whole cap, or the
/// daily one.
fn over_cap(exp: &Experiment, spent: &collect::Spent) -> Option<String> {
    let spend = spent.total;
    let over_daily = exp.daily_spend_cap.filter(|cap| spent.day >= *cap);
    match over_daily {
        Some(cap) if spend < exp.spend_cap => Some(format!(
            "{DAILY_CAP_REACHED}: {} of {cap} {} on {}",
            spent.day, exp.currency, spent.date
        )),
        _ if spend >= exp.spend_cap || over_daily.is_some() => Some(format!(
            "{CAP_REACHED}: {spend} of {} {}",
            exp.spend_cap, exp.currency
        )),
        _ => None,
    }
}

/// Why the `[stopping]` rule stops the run after the collection due `at`, if it does: its
/// looks concluded, or its maximum duration came (`analysis::sequential::stop`).
fn concluded(
    exp: &Experiment,
    spent: &collect::Spent,
    at: DateTime<Utc>,
    window: Window,
) -> Option<String> {
    let rule = exp.stopping.as_ref()?;
    let days = (at - window.start).num_seconds() as f64 / 86_400.0;
    stop::decide(exp, rule, &spent.looks, days).map(|c| c.cause())
}

/// Moves the platform's API exchanges since the last call into the store's archive.
fn archive(store: &mut Store, id: i64, platform: &dyn Platform) -> Result<()> {
    Ok(store.archive(Some(id), platform.name(), &platform.take_exchanges())?)
}

/// How far [`drive_inner`] got, for the failure handling in [`drive`].
#[derive(Debug, Default)]
struct Reached {
    /// Every object exists (paused, unless activated).
    objects: bool,
    /// An activation has begun: ads may be delivering.
    activation: bool,
}

/// Continues run `id` from wherever it is, honouring pause requests (`adskew stop` from
/// another process) before each step. Errors while launching mark the run failed and
/// pause what exists; errors while collecting do too in [`Mode::ToCompletion`], while in
/// [`Mode::DueNow`] they are recorded as an event and the run stays as it was, so the next
/// pass (the next night) tries again. A run that fails after activation and cannot pause
/// its ads is recorded as owing a pause, and the error says what is still active.
pub async fn drive(
    exp: &Experiment,
    id: i64,
    platform: &dyn Platform,
    clock: &dyn Clock,
    store: &mut Store,
    progress: &dyn Progress,
    mode: Mode,
) -> Result<RunOutcome> {
    let mut reached = Reached::default();
    let result = drive_inner(
        exp,
        id,
        platform,
        clock,
        store,
        progress,
        mode,
        &mut reached,
    )
    .await;
    let Err(e) = result else {
        return result;
    };
    let state = store
        .find_experiment(&id.to_string())
        .map(|r| r.state)
        .unwrap_or(RunState::Failed);
    let launching = matches!(state, RunState::Draft | RunState::Created);
    if !(launching || mode == Mode::ToCompletion) {
        archive(store, id, platform)?;
        store.note_failed_collection(id, &e.to_string(), clock.now())?;
        return Err(e);
    }
    let may_deliver = state == RunState::Running || reached.activation;
    let mut still_active = None;
    if reached.objects || may_deliver {
        still_active = pause::after_failure(id, platform, clock, store, &e, may_deliver).await?;
    }
    archive(store, id, platform)?;
    if !matches!(state, RunState::Failed) {
        store.set_state(id, RunState::Failed, &e.to_string(), clock.now())?;
    }
    Err(match still_active {
        Some(advice) => Error::FailedUnpaused {
            run: id,
            source: Box::new(e),
            advice,
        },
        None => e,
    })
}

#[allow(clippy::too_many_arguments)]
async fn drive_inner(
    exp: &Experiment,
    id: i64,
    platform: &dyn Platform,
    clock: &dyn Clock,
    store: &mut Store,
    progress: &dyn Progress,
    mode: Mode,
    reached: &mut Reached,
) -> Result<RunOutcome> {
    let (start, end, record) = plan(store, id)?;
    if record.state == RunState::Failed {
        return Err(Error::RunFailed {
            run: id,
            message: format!("run {id} failed earlier and is not continued; see `adskew status`"),
        });
    }
    let tz = check_account(exp, platform).await?;
    // A stop requested before this process got here pauses what exists first.
    honour_pauses(exp, id, platform, clock, store).await?;
    let mut tally = Tally {
        id,
        started: start,
        collections: 0,
        spend: Money::ZERO,
    };
    let now = store.find_experiment(&id.to_string())?;
    if now.state == RunState::Stopped && now.recollect_at.is_none() {
        // Stopped before it was activated: nothing more is created or collected.
        return Ok(tally.outcome(RunState::Stopped, None, clock.now()));
    }
    let launched = launch::ensure_objects(exp, id, platform, store, start, end).await?;
    reached.objects = true;
    if record.state == RunState::Draft {
        let cause = "all objects created paused";
        store.set_state(id, RunState::Created, cause, platform.now())?;
    }
    tally.spend = store
        .collections(id)?
        .last()
        .map_or(Money::ZERO, |c| c.spend);
    let window = Window { start, end, tz };
    loop {
        // Also right after an activation: a stop that landed during it is applied again.
        honour_pauses(exp, id, platform, clock, store).await?;
        let record = store.find_experiment(&id.to_string())?;
        let due = run_clock(exp, &record, store)?.map_or(Due::Nothing, |c| c.due());
        if due == Due::Nothing {
            return Ok(tally.outcome(record.state, None, clock.now()));
        }
        let Some(at) = wait_for(&due, mode, clock).await else {
            return Ok(tally.outcome(record.state, due.next_at(), clock.now()));
        };
        let step = Step {
            exp,
            id,
            platform,
            clock,
            launched: &launched,
            window,
        };
        let collects = matches!(due, Due::Collect { .. } | Due::Recollect { .. });
        step.take(due, at, store, &mut tally, reached).await?;
        if collects {
            progress.collected();
        }
    }
}

/// What a drive has done so far, for its [`RunOutcome`].
struct Tally {
    id: i64,
    started: DateTime<Utc>,
    collections: usize,
    spend: Money,
}

impl Tally {
    fn outcome(
        &self,
        state: RunState,
        next: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> RunOutcome {
        RunOutcome {
            experiment_id: self.id,
            state,
            collections: self.collections,
            spend: self.spend,
            started: self.started,
            ended: now,
            next,
        }
    }
}

/// One thing a run has due, with what doing it needs.
struct Step<'a> {
    exp: &'a Experiment,
    id: i64,
    platform: &'a dyn Platform,
    clock: &'a dyn Clock,
    launched: &'a launch::Launched,
    window: Window,
}

impl Step<'_> {
    /// Does `due` for the time `at`.
    async fn take(
        &self,
        due: Due,
        at: DateTime<Utc>,
        store: &mut Store,
        tally: &mut Tally,
        reached: &mut Reached,
    ) -> Result<()> {
        let (exp, id, platform, clock) = (self.exp, self.id, self.platform, self.clock);
        match due {
            Due::Activate { .. } => {
                reached.activation = true;
                activate(exp, id, platform, store, self.launched, clock.now()).await?;
            }
            Due::Collect { .. } => {
                tally.spend = collect_due(
                    exp,
                    id,
                    platform,
                    clock,
                    store,
                    self.launched,
                    self.window,
                    at,
                )
                .await?;
                tally.collections += 1;
            }
            // Collected at the end, but the process stopped before recording it.
            Due::Finish => finish(exp, id, store, self.window.end, clock.now())?,
            Due::Recollect { .. } => {
                let Window { start, tz, .. } = self.window;
                let spent =
                    collect::collect(exp, id, platform, store, self.launched, start, at, tz)
                        .await?;
                tally.spend = spent.total;
                tally.collections += 1;
                info!(experiment = %exp.name, "re-collected after the revision window");
            }
            Due::Nothing => {}
        }
        Ok(())
    }
}

/// The schedule ended: record it and plan the final re-collection.
fn finish(
    exp: &Experiment,
    id: i64,
    store: &mut Store,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    store.set_state(id, RunState::Completed, "schedule ended", now)?;
    if exp.schedule.recollect_after > Duration::zero() {
        store.set_recollect_at(id, end + exp.schedule.recollect_after)?;
    }
    Ok(())
}

/// Stopped early (spend cap, kill switch): record why and plan the final re-collection.
fn end_run(
    exp: &Experiment,
    id: i64,
    store: &mut Store,
    state: RunState,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    store.set_state(id, state, cause, now)?;
    if exp.schedule.recollect_after > Duration::zero() {
        store.set_recollect_at(id, now + exp.schedule.recollect_after)?;
    }
    Ok(())
}
