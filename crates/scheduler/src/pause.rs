//! Pausing a run: the kill switch, and the pauses a run is owed.
//!
//! A pause is idempotent and safe to do from two processes at once, so it never waits for
//! the database's lock: `adskew stop` records a pause request, pauses every recorded object,
//! and leaves the request for the lock holder when it cannot take the lock itself. The lock
//! holder ([`drive`](super::drive) at every step, every `collect`/`daemon` pass before
//! anything else) honours open requests: it pauses again and records the run's new state.
//! Requests are committed *before* the pauses they ask for, and the scheduler checks for
//! them after activating, so a stop that lands during an activation is never undone by it.

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use super::{archive, end_run};
use adskew_core::clock::Clock;
use adskew_core::error::{Error, Result};
use adskew_core::experiment::Experiment;
use adskew_core::platform::{ObjectId, Platform, Status};
use adskew_store::{PauseKind, RunState, Store};

/// The recorded platform ids of a run with `role`, in the order they were requested.
fn recorded(store: &Store, id: i64, role: &str) -> Result<Vec<ObjectId>> {
    Ok(store
        .objects(id)?
        .into_iter()
        .filter(|o| o.role == role)
        .filter_map(|o| o.platform_id.map(ObjectId))
        .collect())
}

/// Pauses every recorded object of run `id`: the campaign first (one call stops all
/// delivery), then every ad set and ad. Works on a launch interrupted half-way. The calls
/// are archived even when one fails.
pub(super) async fn pause_recorded(
    platform: &dyn Platform,
    store: &mut Store,
    id: i64,
) -> Result<usize> {
    let mut objects = recorded(store, id, "campaign")?;
    objects.extend(recorded(store, id, "ad_set")?);
    objects.extend(recorded(store, id, "ad")?);
    let mut paused = 0;
    let mut outcome = Ok(());
    for object in &objects {
        if let Err(e) = platform.set_status(object, Status::Paused).await {
            outcome = Err(Error::from(e));
            break;
        }
        paused += 1;
    }
    archive(store, id, platform)?;
    outcome.map(|()| paused)
}

/// What is still possibly active of run `id` and how to switch it off by hand, for the
/// messages of a failed pause and for `status`.
pub fn unpaused_advice(store: &Store, id: i64) -> Result<String> {
    let list = |role: &str| -> Result<String> {
        let ids: Vec<String> = recorded(store, id, role)?
            .into_iter()
            .map(|o| o.0)
            .collect();
        Ok(if ids.is_empty() {
            "none".to_string()
        } else {
            ids.join(", ")
        })
    };
    let campaign = list("campaign")?;
    Ok(format!(
        "not confirmed paused: campaign {campaign}; ad sets {}; ads {}. In Ads Manager \
         (adsmanager.facebook.com, Campaigns tab) switch campaign {campaign} off now; then fix \
         the cause (an expired token: put a new one in ADSKEW_META_TOKEN) and run `adskew \
         collect {id}`, which pauses everything first",
        list("ad_set")?,
        list("ad")?
    ))
}

/// Honours run `id`'s open pause requests (the lock holder only): pauses every recorded
/// object, then records it in the run's state. Returns how many objects were paused, or
/// `None` when nothing was owed. A failed pause stays requested, with its error.
pub async fn honour_pauses(
    exp: &Experiment,
    id: i64,
    platform: &dyn Platform,
    clock: &dyn Clock,
    store: &mut Store,
) -> Result<Option<usize>> {
    let open = store.open_pauses(Some(id))?;
    if open.is_empty() {
        return Ok(None);
    }
    let paused = match pause_recorded(platform, store, id).await {
        Ok(n) => n,
        Err(e) => {
            store.pause_failed(id, &e.to_string())?;
            return Err(Error::PauseFailed {
                run: id,
                advice: unpaused_advice(store, id)?,
                source: Box::new(e),
            });
        }
    };
    store.pause_confirmed(id, clock.now())?;
    for request in &open {
        record(exp, id, store, request.kind, &request.cause, clock.now())?;
    }
    let ids: Vec<i64> = open.iter().map(|r| r.id).collect();
    store.pauses_done(&ids, clock.now())?;
    info!(experiment = %exp.name, id, paused, "pause requests honoured");
    Ok(Some(paused))
}

/// Records a confirmed pause in the run's state: a stop ends the run `stopped` (with the
/// final re-collection planned once it had activated), a failed run stays `failed`.
fn record(
    exp: &Experiment,
    id: i64,
    store: &mut Store,
    kind: PauseKind,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let run = store.find_experiment(&id.to_string())?;
    let state = run.state;
    match (kind, state) {
        (PauseKind::Failure, _) => store.note(id, &format!("paused after: {cause}"), now)?,
        (PauseKind::Stop, RunState::Stopped | RunState::Failed) => {
            store.note(id, &format!("{cause} (already {})", run.state), now)?
        }
        (PauseKind::Stop, RunState::Completed) => store.note(id, cause, now)?,
        // Never activated: nothing was delivered, so nothing is left to re-collect.
        (PauseKind::Stop, RunState::Draft) => store.set_state(id, RunState::Stopped, cause, now)?,
        (PauseKind::Stop, RunState::Created | RunState::Running) => {
            end_run(exp, id, store, RunState::Stopped, cause, now)?
        }
    }
    Ok(())
}

/// The kill switch, with the lock held: requests the pause, pauses the campaign, every ad
/// set and every ad of run `id` that exists, and marks the run stopped (a final
/// re-collection stays planned). Works in any state, also on a launch interrupted half-way.
pub async fn stop(
    exp: &Experiment,
    id: i64,
    platform: &dyn Platform,
    clock: &dyn Clock,
    store: &mut Store,
    cause: &str,
) -> Result<usize> {
    store.request_pause(id, PauseKind::Stop, cause, clock.now())?;
    Ok(honour_pauses(exp, id, platform, clock, store)
        .await?
        .unwrap_or(0))
}

/// The kill switch while another adskew holds the lock: requests the pause and pauses
/// everything recorded, but leaves the run's state to the lock holder (or the next pass),
/// which honours the request. Adds only the request (and the archived calls) to the store.
pub async fn stop_unlocked(
    id: i64,
    platform: &dyn Platform,
    clock: &dyn Clock,
    store: &mut Store,
    cause: &str,
) -> Result<usize> {
    store.request_pause(id, PauseKind::Stop, cause, clock.now())?;
    match pause_recorded(platform, store, id).await {
        Ok(paused) => {
            store.pause_confirmed(id, clock.now())?;
            Ok(paused)
        }
        Err(e) => {
            store.pause_failed(id, &e.to_string())?;
            Err(Error::PauseFailed {
                run: id,
                advice: unpaused_advice(store, id)?,
                source: Box::new(e),
            })
        }
    }
}

/// After a failure, pauses what may be delivering; if that fails too, records that the run
/// owes a pause (every later pass retries it, and `status` shows it first) and returns why.
pub(super) async fn after_failure(
    id: i64,
    platform: &dyn Platform,
    clock: &dyn Clock,
    store: &mut Store,
    failure: &Error,
    may_deliver: bool,
) -> Result<Option<String>> {
    let Err(pause) = pause_recorded(platform, store, id).await else {
        return Ok(None);
    };
    warn!(error = %pause, "could not pause the ads after a failure");
    if !may_deliver {
        // Created paused and never switched on: nothing spends.
        return Ok(None);
    }
    let cause = format!("the run failed ({failure}) and pausing its ads failed ({pause})");
    store.request_pause(id, PauseKind::Failure, &cause, clock.now())?;
    store.pause_failed(id, &pause.to_string())?;
    Ok(Some(format!(
        "Pausing the ads after the failure failed too ({pause}), so they may still be \
         spending; {}.",
        unpaused_advice(store, id)?
    )))
}

/// Puts failed run `id` back where it failed, so `resume` continues it once the cause is
/// gone: a launch continues creating or activating; a run that had been delivering is
/// activated again (its ads were paused by the failure) unless its schedule has ended,
/// then it only collects what is left. Returns the state it is in now.
pub fn reopen(id: i64, store: &mut Store, now: DateTime<Utc>) -> Result<RunState> {
    let (_, end, _) = super::plan(store, id)?;
    let before = store
        .events(id)?
        .iter()
        .rev()
        .map(|e| e.state)
        .find(|s| *s != RunState::Failed)
        .unwrap_or(RunState::Draft);
    let state = match before {
        RunState::Running if now < end => RunState::Created,
        other => other,
    };
    store.set_state(id, state, "resumed after the failure (adskew resume)", now)?;
    Ok(state)
}
