//! Being told when a nightly pass meets trouble: a collection that failed, a run that
//! failed, a spend cap reached, an ad the platform refused, a pause that failed. The
//! `[alerts]` settings (`adskew_core::alerts`) say where to: a command, a webhook, or both.
//!
//! Alerts are found by comparing what the store held about a run before its pass with what
//! it holds after (new events, new ad reviews), plus the pass's own error, so everything a
//! pass did is told once and nothing told last night is told again. The scheduler and the
//! store only record; this module is the one place that runs a command or POSTs for it.
//! An alert that cannot be delivered never fails the pass: it is logged, said on stderr
//! and noted in the run's events.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tracing::{info, warn};

pub use adskew_core::alerts::{AlertKind, AlertSettings};

use crate::error::{Error, Result};
use crate::records::{ExperimentRecord, RunState, StoredReview};
use crate::store::Store;

/// How long a command or a webhook may take before the alert counts as undelivered: a
/// hung receiver must not hold the database's lock all night.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(15);

/// One alert, as a command reads it on stdin (one line of JSON) and a webhook receives it.
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    pub kind: AlertKind,
    pub run: i64,
    pub experiment: String,
    /// When adskew noticed it.
    pub at: DateTime<Utc>,
    /// What happened, in adskew's (or the platform's) words.
    pub message: String,
    /// What a person can do about it.
    pub action: String,
    /// All of it in one line, for chat webhooks that show a `text` field.
    pub text: String,
}

impl Alert {
    fn new(kind: AlertKind, record: &ExperimentRecord, message: String) -> Alert {
        let action = kind.action(record.id);
        let text = format!(
            "adskew: {} (run {}): {kind}: {message}. What to do: {action}",
            record.name, record.id
        );
        Alert {
            kind,
            run: record.id,
            experiment: record.name.clone(),
            at: Utc::now(),
            message,
            action,
            text,
        }
    }

    /// The `ADSKEW_ALERT_*` variables a command gets.
    fn env(&self) -> [(&'static str, String); 6] {
        [
            ("ADSKEW_ALERT_KIND", self.kind.to_string()),
            ("ADSKEW_ALERT_RUN", self.run.to_string()),
            ("ADSKEW_ALERT_EXPERIMENT", self.experiment.clone()),
            (
                "ADSKEW_ALERT_AT",
                self.at.to_rfc3339_opts(SecondsFormat::Secs, true),
            ),
            ("ADSKEW_ALERT_MESSAGE", self.message.clone()),
            ("ADSKEW_ALERT_ACTION", self.action.clone()),
        ]
    }
}

/// A run as the store held it before its pass; what the pass added is what differs after.
pub struct Before {
    state: RunState,
    events: usize,
    reviews: BTreeMap<String, StoredReview>,
}

impl Before {
    pub fn take(store: &Store, record: &ExperimentRecord) -> Result<Before> {
        Ok(Before {
            state: record.state,
            events: store.events(record.id)?.len(),
            reviews: store.latest_reviews(record.id)?,
        })
    }
}

/// The alerts of one run's pass: its failure, if it failed, and what the store recorded
/// during it (a stop at the spend cap, an ad newly refused or limited).
pub fn found(
    record: &ExperimentRecord,
    before: &Before,
    failure: Option<&Error>,
    store: &Store,
) -> Result<Vec<Alert>> {
    let mut alerts = Vec::new();
    if let Some(e) = failure {
        let now = store.find_experiment(&record.id.to_string())?.state;
        let kind = match e {
            Error::PauseFailed { .. } | Error::FailedUnpaused { .. } => AlertKind::PauseFailed,
            _ if now == RunState::Failed && before.state != RunState::Failed => {
                AlertKind::RunFailed
            }
            _ => AlertKind::CollectionFailed,
        };
        alerts.push(Alert::new(kind, record, e.to_string()));
    }
    let events = store.events(record.id)?;
    for event in events.iter().skip(before.events) {
        if crate::scheduler::is_cap_stop(event) {
            alerts.push(Alert::new(
                AlertKind::CapReached,
                record,
                event.cause.clone(),
            ));
        }
    }
    for (ad, review) in store.latest_reviews(record.id)? {
        if review.is_problem() && before.reviews.get(&ad) != Some(&review) {
            let why = review.problem.as_deref().unwrap_or("no reason given");
            let message = format!(
                "ad `{ad}` is {} on the platform ({}): {why}",
                review.delivery, review.platform_status
            );
            alerts.push(Alert::new(AlertKind::AdRejected, record, message));
        }
    }
    Ok(alerts)
}

/// Where alerts go, from the settings; does nothing when `[alerts]` names nowhere.
pub struct Alerts {
    settings: AlertSettings,
    http: reqwest::Client,
}

impl Alerts {
    pub fn new(settings: AlertSettings) -> Result<Alerts> {
        let http = reqwest::Client::builder()
            .timeout(WEBHOOK_TIMEOUT)
            .build()
            .map_err(|e| {
                Error::io(
                    "alerts: cannot set up the webhook's HTTP client",
                    std::io::Error::other(e),
                )
            })?;
        Ok(Alerts { settings, http })
    }

    /// The run's state before its pass, when alerts are on (a store that cannot be read
    /// now fails the pass anyway, so it is only warned about here).
    pub fn before(&self, store: &Store, record: &ExperimentRecord) -> Option<Before> {
        if !self.settings.is_on() {
            return None;
        }
        Before::take(store, record)
            .inspect_err(|e| warn!(run = record.id, error = %e, "alerts: cannot read the run"))
            .ok()
    }

    /// Finds and sends the alerts of a run's pass. Never fails: an alert that cannot be
    /// found or delivered is logged, said on stderr and noted in the run's events.
    pub fn after(
        &self,
        record: &ExperimentRecord,
        before: Option<Before>,
        failure: Option<&Error>,
        store: &mut Store,
        runtime: &tokio::runtime::Runtime,
    ) {
        let Some(before) = before else {
            return;
        };
        let alerts = match found(record, &before, failure, store) {
            Ok(alerts) => alerts,
            Err(e) => {
                warn!(run = record.id, error = %e, "alerts: cannot read what the pass did");
                return;
            }
        };
        for alert in alerts.iter().filter(|a| self.settings.wants(a.kind)) {
            for (channel, error) in runtime.block_on(self.deliver(alert)) {
                self.undelivered(alert, &channel, &error, store);
            }
        }
    }

    fn undelivered(&self, alert: &Alert, channel: &str, error: &str, store: &mut Store) {
        let note = format!("alert {} not delivered by {channel}: {error}", alert.kind);
        warn!(run = alert.run, kind = %alert.kind, %channel, %error, "alert not delivered");
        eprintln!(
            "warning: {} (run {}): {note}. The alert said: {}",
            alert.experiment, alert.run, alert.message
        );
        if let Err(e) = store.note_undelivered_alert(alert.run, &note, Utc::now()) {
            warn!(run = alert.run, error = %e, "cannot note the undelivered alert");
        }
    }

    /// Sends `alert` everywhere the settings say; returns the channels that failed, why.
    async fn deliver(&self, alert: &Alert) -> Vec<(String, String)> {
        let mut failed = Vec::new();
        if let Some(command) = &self.settings.command {
            match run_command(command, alert).await {
                Ok(()) => info!(run = alert.run, kind = %alert.kind, "alert sent to the command"),
                Err(e) => failed.push(("the alerts command".to_string(), e)),
            }
        }
        if let Some(url) = &self.settings.webhook {
            match self.post(url, alert).await {
                Ok(()) => info!(run = alert.run, kind = %alert.kind, "alert POSTed"),
                Err(e) => failed.push((format!("the webhook at {}", host(url)), e)),
            }
        }
        failed
    }

    async fn post(&self, url: &str, alert: &Alert) -> std::result::Result<(), String> {
        let answer = self
            .http
            .post(url.trim())
            .json(alert)
            .send()
            .await
            // The URL is often the webhook's secret: never in a message.
            .map_err(|e| e.without_url().to_string())?;
        let status = answer.status();
        if !status.is_success() {
            return Err(format!("it answered HTTP {status}"));
        }
        Ok(())
    }
}

/// The webhook's host, which may be named where its URL may not.
fn host(url: &str) -> String {
    url::Url::parse(url.trim())
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default()
}

/// Runs `command` with `sh -c`, the alert as one line of JSON on stdin and in `ADSKEW_ALERT_*`.
async fn run_command(command: &str, alert: &Alert) -> std::result::Result<(), String> {
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .envs(alert.env())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start sh: {e}"))?;
    let mut json = serde_json::to_vec(alert).map_err(|e| e.to_string())?;
    json.push(b'\n');
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its stdin is fine.
        let _ = stdin.write_all(&json).await;
    }
    let output = tokio::time::timeout(COMMAND_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| format!("it ran longer than {} s", COMMAND_TIMEOUT.as_secs()))?
        .map_err(|e| e.to_string())?;
    if output.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&output.stderr);
    let said = adskew_core::text::printable(said.trim());
    let said: String = said.chars().take(300).collect();
    Err(format!("it exited with {}: {said}", output.status))
}
