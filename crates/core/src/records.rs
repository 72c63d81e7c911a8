//! What a run left behind, as the store hands it out: the run's record, its collections and
//! its delivery rows. Analysis and reports read these; only the store makes them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::experiment::Experiment;
use crate::money::Money;
use crate::platform::Delivery;
pub use crate::vocab::Period;
use crate::vocab::{Breakdown, PlatformKind};

crate::vocabulary!(
    /// Where a run is in its life.
    RunState {
        // Recorded; platform objects are being created.
        Draft => "draft",
        // Every object exists, paused.
        Created => "created",
        Running => "running",
        Completed => "completed",
        Stopped => "stopped",
        Failed => "failed",
    }
);

crate::vocabulary!(
    /// Where a run's numbers came from: a platform adskew ran it on, Ads Manager exports
    /// (`adskew import`), or a counts file (`analyze --counts`, never stored).
    RunOrigin { Sim => "sim", Meta => "meta", Import => "import", Counts => "counts" }
);

crate::vocabulary!(
    /// What a run's event records.
    EventKind {
        // The run moved to its state.
        State => "state",
        // Something happened in the state it was in.
        Note => "note",
        // A collection pass failed; the cause says why.
        CollectionFailed => "collection_failed",
        // An alert about the run could not be delivered; the cause says which and why.
        AlertUndelivered => "alert_undelivered",
    }
);

/// One event in a run's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunEvent {
    /// When, as the store wrote it (RFC 3339).
    pub at: String,
    /// The run's state then.
    pub state: RunState,
    pub kind: EventKind,
    pub cause: String,
}

impl RunEvent {
    /// Whether the event tells something about the run itself; an alert that could not be
    /// delivered tells about the alerts, so it is never read as why a run is as it is.
    pub fn is_about_run(&self) -> bool {
        self.kind != EventKind::AlertUndelivered
    }
}

impl From<PlatformKind> for RunOrigin {
    fn from(kind: PlatformKind) -> RunOrigin {
        match kind {
            PlatformKind::Sim => RunOrigin::Sim,
            PlatformKind::Meta => RunOrigin::Meta,
        }
    }
}

impl RunOrigin {
    /// The platform adskew ran the run on and can reach again; `None` for numbers that
    /// came from files.
    pub fn platform(self) -> Option<PlatformKind> {
        match self {
            RunOrigin::Sim => Some(PlatformKind::Sim),
            RunOrigin::Meta => Some(PlatformKind::Meta),
            RunOrigin::Import | RunOrigin::Counts => None,
        }
    }
}

/// An experiment run as stored.
#[derive(Debug, Clone, Serialize)]
pub struct ExperimentRecord {
    pub id: i64,
    pub name: String,
    pub platform: RunOrigin,
    pub state: RunState,
    pub currency: String,
    pub spend_cap: Money,
    pub file_path: String,
    pub file_sha256: String,
    pub resolved_sha256: String,
    pub resolved_json: String,
    /// `ADSKEW_*` overrides applied on top of the file, as `KEY=value`.
    pub overrides: Vec<String>,
    pub adskew_version: String,
    pub created_at: String,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    /// When the run's ads start and stop delivering (fixed when the run is recorded).
    pub planned_start: Option<DateTime<Utc>>,
    pub planned_end: Option<DateTime<Utc>>,
    /// The final re-collection, once the run has ended.
    pub recollect_at: Option<DateTime<Utc>>,
}

impl ExperimentRecord {
    /// The validated experiment this run used (with the overrides it had).
    pub fn experiment(&self) -> Result<Experiment> {
        serde_json::from_str(&self.resolved_json).map_err(|e| {
            Error::StoredData(format!(
                "experiment {} (id {}) in the store cannot be read by this adskew version: {e}",
                self.name, self.id
            ))
        })
    }
}

/// A delivery row as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRow {
    pub ad_key: String,
    pub period: Period,
    pub date_start: NaiveDate,
    pub date_stop: NaiveDate,
    pub breakdown: Breakdown,
    pub value: String,
    pub reach: u64,
    pub impressions: u64,
    pub clicks: u64,
    pub spend: Money,
}

#[derive(Debug, Clone, Serialize)]
pub struct CollectionRecord {
    pub id: i64,
    pub platform_time: String,
    pub collected_at: String,
    pub spend: Money,
    pub rows: i64,
}

/// An ad's latest review as stored: whether it delivers, the platform's own status and
/// the problem it named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredReview {
    pub delivery: Delivery,
    pub platform_status: String,
    pub problem: Option<String>,
}

impl StoredReview {
    /// Whether the platform refused or limited the ad (as `AdReview::is_problem` said
    /// when it was recorded).
    pub fn is_problem(&self) -> bool {
        self.problem.is_some() || self.delivery.is_problem()
    }
}
