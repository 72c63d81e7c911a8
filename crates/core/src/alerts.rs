//! What a person running adskew nightly wants to be told about, and where to tell it: the
//! `[alerts]` table of the settings file. Data and its checks only; the command line
//! finds the alerts in what a pass did and delivers them (`src/alerts.rs`), so the
//! scheduler and the store never run a command or make an HTTP request.
//!
//! ```toml
//! [alerts]
//! command = "mail -s 'adskew alert' me@example.org"   # run with sh -c, the alert as JSON on stdin
//! webhook = "https://hooks.example.org/adskew"        # the alert POSTed as JSON
//! on = ["collection_failed", "cap_reached"]           # default: every kind
//! ```

use serde::Deserialize;

use crate::error::{Error, Result};

crate::vocabulary!(
    /// Something that happened to a run that a person should hear about without watching.
    AlertKind {
        CollectionFailed => "collection_failed",
        RunFailed => "run_failed",
        CapReached => "cap_reached",
        AdRejected => "ad_rejected",
        PauseFailed => "pause_failed",
    }
);

impl AlertKind {
    /// What a person can do about it (the run's id where a command needs it).
    pub fn action(self, run: i64) -> String {
        match self {
            AlertKind::CollectionFailed => format!(
                "the next pass retries it; `adskew status` and adskew.log (next to the \
                 database) say why. Fix the cause before then (e.g. a new token in \
                 ADSKEW_META_TOKEN), or run `adskew collect {run}` once it is fixed"
            ),
            AlertKind::RunFailed => format!(
                "its ads were paused; `adskew status` says why. Once the cause is fixed, \
                 `adskew resume {run} --live` continues it"
            ),
            AlertKind::CapReached => format!(
                "every ad of run {run} is paused and the run is stopped; its final \
                 re-collection stays planned. Nothing to do unless the cap was set too low"
            ),
            AlertKind::AdRejected => format!(
                "the ad delivers nothing while the platform refuses or limits it, so the \
                 comparisons it is in may not be tested; see the platform's review (Ads \
                 Manager) and `adskew status`, or `adskew stop {run}` to end the run"
            ),
            AlertKind::PauseFailed => format!(
                "its ads may still be spending: pause them by hand now (`adskew status` \
                 lists their platform ids); every pass retries the pause, `adskew collect \
                 {run}` does at once"
            ),
        }
    }
}

/// The `[alerts]` table: where to send alerts, and which.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertSettings {
    /// A shell command (`sh -c`), run once per alert with the alert as JSON on its stdin
    /// and in `ADSKEW_ALERT_*` variables.
    pub command: Option<String>,
    /// An https URL (http only to this machine) the alert is POSTed to as JSON.
    pub webhook: Option<String>,
    /// The kinds to send; every kind when absent.
    pub on: Option<Vec<AlertKind>>,
}

impl AlertSettings {
    /// Whether alerts go anywhere at all.
    pub fn is_on(&self) -> bool {
        self.command.is_some() || self.webhook.is_some()
    }

    /// Whether alerts of `kind` are sent.
    pub fn wants(&self, kind: AlertKind) -> bool {
        self.is_on() && self.on.as_ref().is_none_or(|on| on.contains(&kind))
    }

    /// Refuses a table that could never deliver what it says, naming the setting and the fix.
    pub fn check(&self) -> Result<()> {
        if self.command.as_ref().is_some_and(|c| c.trim().is_empty()) {
            return Err(bad(
                "alerts.command is empty: give a shell command (it runs with sh -c, the \
                 alert as JSON on its stdin), or remove the line",
            ));
        }
        if let Some(url) = &self.webhook {
            check_webhook(url)?;
        }
        match &self.on {
            Some(on) if on.is_empty() => Err(bad(&format!(
                "alerts.on is empty, so no alert would ever be sent: list the kinds to send \
                 ({}), or remove `on` to send every kind",
                AlertKind::choices()
            ))),
            Some(_) if !self.is_on() => Err(bad(
                "alerts.on is set but nothing says where to send alerts: add alerts.command \
                 (a shell command) or alerts.webhook (an https URL)",
            )),
            _ => Ok(()),
        }
    }
}

fn bad(message: &str) -> Error {
    Error::BadInput(format!("settings: {message}"))
}

/// An https URL, or http to this machine (a local receiver). The message names only the
/// scheme and host: a webhook's path is often its secret.
fn check_webhook(text: &str) -> Result<()> {
    let url = url::Url::parse(text.trim()).map_err(|e| {
        bad(&format!(
            "alerts.webhook is not a URL ({e}): give one like https://hooks.example.org/adskew"
        ))
    })?;
    let host = url.host_str().unwrap_or_default().to_string();
    let loopback = matches!(
        url.host(),
        Some(url::Host::Ipv4(ip)) if ip.is_loopback()
    ) || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
        || host == "localhost";
    match url.scheme() {
        "https" if !host.is_empty() => Ok(()),
        "http" if loopback => Ok(()),
        scheme => Err(bad(&format!(
            "alerts.webhook ({scheme}://{host}/...) must be an https:// URL, so the alert and \
             the URL's secret are encrypted on the way; plain http is allowed only to this \
             machine (127.0.0.1, ::1 or localhost)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(webhook: Option<&str>, command: Option<&str>) -> AlertSettings {
        AlertSettings {
            command: command.map(str::to_string),
            webhook: webhook.map(str::to_string),
            on: None,
        }
    }

    #[test]
    fn webhooks_are_https_or_loopback() {
        for ok in [
            "https://hooks.example.org/x",
            "http://127.0.0.1:9000/a",
            "http://[::1]/a",
            "http://localhost:8080/",
        ] {
            settings(Some(ok), None).check().unwrap();
        }
        for (bad, says) in [
            ("http://hooks.example.org/T0/hidden-path", "https://"),
            ("ftp://127.0.0.1/x", "https://"),
            ("hooks.example.org", "not a URL"),
        ] {
            let err = settings(Some(bad), None).check().unwrap_err().to_string();
            assert!(
                err.contains("alerts.webhook") && err.contains(says),
                "{err}"
            );
            assert!(
                !err.contains("hidden-path"),
                "the path is not repeated: {err}"
            );
        }
    }

    #[test]
    fn an_empty_command_or_list_is_refused_with_the_fix() {
        let err = settings(None, Some("  ")).check().unwrap_err().to_string();
        assert!(
            err.contains("alerts.command") && err.contains("sh -c"),
            "{err}"
        );
        let mut s = settings(None, Some("true"));
        s.on = Some(Vec::new());
        let err = s.check().unwrap_err().to_string();
        assert!(
            err.contains("alerts.on") && err.contains("cap_reached"),
            "{err}"
        );
        let only_on = AlertSettings {
            on: Some(vec![AlertKind::CapReached]),
            ..AlertSettings::default()
        };
        let err = only_on.check().unwrap_err().to_string();
        assert!(err.contains("alerts.webhook"), "{err}");
    }

    #[test]
    fn on_chooses_the_kinds() {
        let mut s = settings(None, Some("true"));
        assert!(AlertKind::ALL.iter().all(|k| s.wants(*k)));
        s.on = Some(vec![AlertKind::PauseFailed]);
        assert!(s.wants(AlertKind::PauseFailed) && !s.wants(AlertKind::CapReached));
        assert!(!AlertSettings::default().wants(AlertKind::PauseFailed));
    }
}
