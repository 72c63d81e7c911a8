//! `pause_requests`: pauses a run is owed. The kill switch must work while a collection pass
//! holds the database's lock for minutes, and a failed pause must not be forgotten while the
//! ads keep spending, so both become a row that stays open until the pause is confirmed
//! and the run's state records it.
//!
//! Who writes what: `adskew stop` inserts a row and, once it has paused everything, sets
//! `paused_at` (or `error`) on it, with or without the lock: the row is all it adds, so it
//! never races the lock holder's own writes. Only the lock holder changes the run's state
//! and closes rows (`done_at`).

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{ts, Store};
use crate::error::{Error, Result};

/// Why a run owes a pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseKind {
    /// `adskew stop`: the run ends `stopped` once recorded.
    Stop,
    /// The run failed after its ads may have been activated, and pausing them failed too;
    /// the run stays `failed` and every later pass retries the pause.
    Failure,
}

impl PauseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PauseKind::Stop => "stop",
            PauseKind::Failure => "failure",
        }
    }

    fn parse(text: &str) -> Result<PauseKind> {
        match text {
            "stop" => Ok(PauseKind::Stop),
            "failure" => Ok(PauseKind::Failure),
            other => Err(
                Error::StoredData(format!("store: unknown pause request kind `{other}`")).into(),
            ),
        }
    }
}

/// An open pause request, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseRequest {
    pub id: i64,
    pub experiment_id: i64,
    pub kind: PauseKind,
    pub cause: String,
    pub requested_at: String,
    /// When every recorded object was confirmed paused; `None` while they may still spend.
    pub paused_at: Option<String>,
    /// Why the last attempt to pause failed.
    pub error: Option<String>,
}

impl Store {
    /// Records that run `experiment_id` must be paused; committed before anyone pauses, so
    /// a process killed half-way leaves the request for the next one.
    pub fn request_pause(
        &mut self,
        experiment_id: i64,
        kind: PauseKind,
        cause: &str,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO pause_requests (experiment_id, kind, cause, requested_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![experiment_id, kind.as_str(), cause, ts(at)],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The requests of a run not yet recorded in its state, oldest first (all runs with
    /// `None`).
    pub fn open_pauses(&self, experiment_id: Option<i64>) -> Result<Vec<PauseRequest>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, experiment_id, kind, cause, requested_at, paused_at, error
             FROM pause_requests
             WHERE done_at IS NULL AND (?1 IS NULL OR experiment_id = ?1) ORDER BY id",
        )?;
        let rows = stmt.query_map(params![experiment_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        rows.map(|row| {
            let (id, experiment_id, kind, cause, requested_at, paused_at, error) = row?;
            Ok(PauseRequest {
                id,
                experiment_id,
                kind: PauseKind::parse(&kind)?,
                cause,
                requested_at,
                paused_at,
                error,
            })
        })
        .collect()
    }

    /// Whether run `experiment_id` has a request whose pause is not confirmed: its ads may
    /// still be spending.
    pub fn may_be_spending(&self, experiment_id: i64) -> Result<bool> {
        Ok(self
            .open_pauses(Some(experiment_id))?
            .iter()
            .any(|p| p.paused_at.is_none()))
    }

    /// Every object of the run was confirmed paused: marks its open requests so.
    pub fn pause_confirmed(&mut self, experiment_id: i64, at: DateTime<Utc>) -> Result<()> {
        self.conn.execute(
            "UPDATE pause_requests SET paused_at = ?2, error = NULL
             WHERE experiment_id = ?1 AND done_at IS NULL AND paused_at IS NULL",
            params![experiment_id, ts(at)],
        )?;
        Ok(())
    }

    /// An attempt to pause failed: kept with the requests, for `status`.
    pub fn pause_failed(&mut self, experiment_id: i64, error: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE pause_requests SET error = ?2
             WHERE experiment_id = ?1 AND done_at IS NULL AND paused_at IS NULL",
            params![experiment_id, error],
        )?;
        Ok(())
    }

    /// The run's state records requests `ids` (only the lock holder calls this).
    pub fn pauses_done(&mut self, ids: &[i64], at: DateTime<Utc>) -> Result<()> {
        let tx = self.conn.transaction()?;
        for id in ids {
            tx.execute(
                "UPDATE pause_requests SET done_at = ?2 WHERE id = ?1",
                params![id, ts(at)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}
