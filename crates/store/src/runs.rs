//! What a resumable run needs from the store: its platform objects with their idempotency
//! keys, which scheduled collections are done, and the final re-collection.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{ts, EventKind, RunEvent, RunState, Store};
use crate::error::{Error, Result};

/// A platform object of a run, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRecord {
    pub role: String,
    pub ad_key: String,
    /// The idempotency key, embedded in the object's name on the platform.
    pub name: String,
    /// `None` when the create call was made but its answer not recorded (a crash between).
    pub platform_id: Option<String>,
}

/// Parses a time the store wrote.
pub fn parse_time(text: &str) -> adskew_core::error::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::StoredData(format!("store: bad time `{text}`: {e}")))
}

impl Store {
    /// The recorded object for `role` and `ad_key`, if its creation was ever requested.
    pub fn object(
        &self,
        experiment_id: i64,
        role: &str,
        ad_key: &str,
    ) -> Result<Option<ObjectRecord>> {
        Ok(self
            .conn
            .query_row(
                "SELECT role, ad_key, name, platform_id FROM platform_objects
                 WHERE experiment_id = ?1 AND role = ?2 AND ad_key = ?3",
                params![experiment_id, role, ad_key],
                |r| {
                    Ok(ObjectRecord {
                        role: r.get(0)?,
                        ad_key: r.get(1)?,
                        name: r.get(2)?,
                        platform_id: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// Every object of a run, in the order they were requested.
    pub fn objects(&self, experiment_id: i64) -> Result<Vec<ObjectRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT role, ad_key, name, platform_id FROM platform_objects
             WHERE experiment_id = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map(params![experiment_id], |r| {
            Ok(ObjectRecord {
                role: r.get(0)?,
                ad_key: r.get(1)?,
                name: r.get(2)?,
                platform_id: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Written (and committed) before the create call: from here on a crash leaves a record
    /// that makes the next process look the object up by name.
    pub fn object_requested(
        &mut self,
        experiment_id: i64,
        role: &str,
        ad_key: &str,
        name: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO platform_objects (experiment_id, role, ad_key, name, requested_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![experiment_id, role, ad_key, name, ts(at)],
        )?;
        Ok(())
    }

    /// Written right after the create call (or the lookup) answered.
    pub fn object_created(
        &mut self,
        experiment_id: i64,
        role: &str,
        ad_key: &str,
        platform_id: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE platform_objects SET platform_id = ?4, created_at = ?5
             WHERE experiment_id = ?1 AND role = ?2 AND ad_key = ?3",
            params![experiment_id, role, ad_key, platform_id, ts(at)],
        )?;
        Ok(())
    }

    /// The latest scheduled collection that is done, if any.
    pub fn last_due_collected(&self, experiment_id: i64) -> Result<Option<DateTime<Utc>>> {
        let last: Option<String> = self.conn.query_row(
            "SELECT MAX(due_at) FROM collections WHERE experiment_id = ?1",
            params![experiment_id],
            |r| r.get(0),
        )?;
        Ok(last.as_deref().map(parse_time).transpose()?)
    }

    /// Whether the collection scheduled for `due` is done.
    pub fn collected_due(&self, experiment_id: i64, due: DateTime<Utc>) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM collections WHERE experiment_id = ?1 AND due_at = ?2)",
            params![experiment_id, ts(due)],
            |r| r.get(0),
        )?)
    }

    /// Schedules the final re-collection of an ended run.
    pub fn set_recollect_at(&mut self, experiment_id: i64, at: DateTime<Utc>) -> Result<()> {
        self.conn.execute(
            "UPDATE experiments SET recollect_at = ?2 WHERE id = ?1",
            params![experiment_id, ts(at)],
        )?;
        Ok(())
    }

    /// Records an event that does not change the run's state (a failed collection pass, a
    /// kill switch on an already stopped run, ...).
    pub fn note(&mut self, experiment_id: i64, cause: &str, at: DateTime<Utc>) -> Result<()> {
        self.event(experiment_id, EventKind::Note, cause, at)
    }

    /// Records that a collection pass of the run failed, and why.
    pub fn note_failed_collection(
        &mut self,
        experiment_id: i64,
        error: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let cause = format!("collection failed: {error}");
        self.event(experiment_id, EventKind::CollectionFailed, &cause, at)
    }

    /// Records that an alert about the run could not be delivered, and why.
    pub fn note_undelivered_alert(
        &mut self,
        experiment_id: i64,
        cause: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.event(experiment_id, EventKind::AlertUndelivered, cause, at)
    }

    /// Records an event of `kind` in the state the run is in.
    fn event(
        &mut self,
        experiment_id: i64,
        kind: EventKind,
        cause: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO experiment_events (experiment_id, at, state, cause, kind)
             SELECT id, ?2, state, ?3, ?4 FROM experiments WHERE id = ?1",
            params![experiment_id, ts(at), cause, kind.as_str()],
        )?;
        Ok(())
    }

    /// The events of a run, oldest first.
    pub fn events(&self, experiment_id: i64) -> Result<Vec<RunEvent>> {
        let mut stmt = self.conn.prepare(
            "SELECT at, state, cause, kind FROM experiment_events
             WHERE experiment_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![experiment_id], |r| {
            Ok(RunEvent {
                at: r.get(0)?,
                state: crate::word(r, 1, RunState::parse)?,
                cause: r.get(2)?,
                kind: crate::word(r, 3, EventKind::parse)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
