//! `audience_uploads`: one row per customer-list upload, written before the first batch and
//! completed after the last, so an upload that dies half-way is still on record with what
//! Meta had acknowledged (invariant 3). Only counts, ids and the file's SHA-256 are stored;
//! never a value from the file (invariant 4).

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

use super::{ts, Store};
use crate::error::Result;

/// What an upload did. Counts only: nothing here identifies a person.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct UploadReport {
    pub audience: String,
    pub session_id: u64,
    /// Requests that the platform acknowledged.
    pub batches: u32,
    /// Requests the upload needed in all.
    pub batches_planned: u32,
    pub rows_read: u64,
    /// Sum of the platform's `num_received` over the acknowledged batches.
    pub num_received: u64,
    /// Sum of the platform's `num_invalid_entries`.
    pub num_invalid_entries: u64,
    pub rows_skipped: u64,
    pub skipped_lines: Vec<u64>,
    pub cells_blanked: u64,
    pub schema: Vec<String>,
    pub file_sha256: String,
}

/// Where an upload is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadState {
    Uploading,
    Complete,
    Failed,
}

impl UploadState {
    pub fn as_str(self) -> &'static str {
        match self {
            UploadState::Uploading => "uploading",
            UploadState::Complete => "complete",
            UploadState::Failed => "failed",
        }
    }
}

/// What is known of an upload when it starts.
#[derive(Debug, Clone)]
pub struct UploadStart<'a> {
    pub platform: &'a str,
    pub account: &'a str,
    pub audience_id: &'a str,
    pub audience_name: &'a str,
    pub created_audience: bool,
    pub file_sha256: &'a str,
    pub schema: &'a [&'static str],
    pub rows_read: u64,
    pub rows_skipped: u64,
}

/// An upload as stored.
#[derive(Debug, Clone, Serialize)]
pub struct UploadRecord {
    pub id: i64,
    pub account: String,
    pub audience_id: String,
    pub audience_name: String,
    pub file_sha256: String,
    pub batches: i64,
    pub num_received: i64,
    pub num_invalid_entries: i64,
    pub state: String,
    pub started_at: String,
}

impl Store {
    /// Records an upload about to start; returns its id for [`Store::finish_audience_upload`].
    pub fn start_audience_upload(&mut self, u: &UploadStart, now: DateTime<Utc>) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO audience_uploads (platform, account, audience_id, audience_name,
                created_audience, file_sha256, schema, session_id, rows_read, rows_skipped,
                batches, batches_planned, num_received, num_invalid_entries, state,
                adskew_version, started_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, '', ?8, ?9, 0, 0, 0, 0, 'uploading', ?10, ?11)",
            params![
                u.platform,
                u.account,
                u.audience_id,
                u.audience_name,
                u.created_audience,
                u.file_sha256,
                u.schema.join(","),
                u.rows_read as i64,
                u.rows_skipped as i64,
                adskew_core::VERSION,
                ts(now),
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records how an upload ended, with what Meta acknowledged.
    pub fn finish_audience_upload(
        &mut self,
        id: i64,
        report: &UploadReport,
        state: UploadState,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE audience_uploads SET session_id = ?2, batches = ?3, batches_planned = ?4,
                num_received = ?5, num_invalid_entries = ?6, state = ?7, error = ?8, ended_at = ?9
             WHERE id = ?1",
            params![
                id,
                report.session_id.to_string(),
                report.batches,
                report.batches_planned,
                report.num_received as i64,
                report.num_invalid_entries as i64,
                state.as_str(),
                error,
                ts(now),
            ],
        )?;
        Ok(())
    }

    /// Every recorded upload, oldest first.
    pub fn audience_uploads(&self) -> Result<Vec<UploadRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, account, audience_id, audience_name, file_sha256, batches, num_received,
                num_invalid_entries, state, started_at
             FROM audience_uploads ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(UploadRecord {
                id: r.get(0)?,
                account: r.get(1)?,
                audience_id: r.get(2)?,
                audience_name: r.get(3)?,
                file_sha256: r.get(4)?,
                batches: r.get(5)?,
                num_received: r.get(6)?,
                num_invalid_entries: r.get(7)?,
                state: r.get(8)?,
                started_at: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_is_recorded_before_and_after() {
        let mut store = Store::open_in_memory().unwrap();
        let now = Utc::now();
        let id = store
            .start_audience_upload(
                &UploadStart {
                    platform: "meta",
                    account: "act_1",
                    audience_id: "42",
                    audience_name: "list",
                    created_audience: true,
                    file_sha256: &"0".repeat(64),
                    schema: &["EMAIL"],
                    rows_read: 3,
                    rows_skipped: 0,
                },
                now,
            )
            .unwrap();
        assert_eq!(store.audience_uploads().unwrap()[0].state, "uploading");
        let report = UploadReport {
            batches: 1,
            num_received: 3,
            ..Default::default()
        };
        store
            .finish_audience_upload(id, &report, UploadState::Complete, None, now)
            .unwrap();
        let rec = &store.audience_uploads().unwrap()[0];
        assert_eq!((rec.state.as_str(), rec.num_received), ("complete", 3));
    }
}
