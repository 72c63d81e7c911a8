//! `imports`: the Ads Manager exports `adskew import` stored, one row per file, each linked
//! to the collection that holds its rows.
//!
//! An import is written in one transaction: the experiment (when the import creates it),
//! every file's collection and rows, and these records. A file that fails its checks thus
//! leaves nothing behind, and a file already recorded here (same SHA-256, same run) is
//! recognised when it is imported again and skipped instead of stored twice.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

use super::archive::{gunzip, gzip};
use super::{insert_collection_in, insert_experiment_in, ts, RunState, Store, StoredRow};
use crate::error::{Error, Result};
use adskew_core::digest::sha256_hex;
use adskew_core::experiment::Experiment;
use adskew_core::money::Money;

/// Where an import goes.
#[derive(Debug, Clone, Copy)]
pub enum ImportTarget<'a> {
    /// A new run recorded as `platform = 'import'`, state `completed`.
    New(&'a Experiment),
    /// An existing run (by id).
    Existing(i64),
}

/// One checked file, ready to store as a collection.
#[derive(Debug, Clone)]
pub struct ImportedFile<'a> {
    pub path: &'a str,
    pub bytes: &'a [u8],
    pub sha256: &'a str,
    pub snapshot_at: DateTime<Utc>,
    /// `file name` or `modification time`.
    pub snapshot_from: &'a str,
    pub rows_read: u64,
    /// The whole snapshot's spend (the collection's).
    pub spend: Money,
    pub rows: &'a [StoredRow],
}

/// An import as stored.
#[derive(Debug, Clone, Serialize)]
pub struct ImportRecord {
    pub id: i64,
    pub experiment_id: i64,
    pub collection_id: i64,
    pub path: String,
    pub file_sha256: String,
    pub snapshot_at: String,
    pub snapshot_from: String,
    pub rows_read: i64,
    pub imported_at: String,
}

impl Store {
    /// Stores `files` (in the order given, so collection ids follow it) into `target`, all
    /// in one transaction; returns the run's id and each file's collection id.
    pub fn import(
        &mut self,
        target: ImportTarget<'_>,
        files: &[ImportedFile<'_>],
        now: DateTime<Utc>,
    ) -> Result<(i64, Vec<i64>)> {
        let tx = self.conn.transaction()?;
        let experiment_id = match target {
            ImportTarget::New(exp) => insert_experiment_in(
                &tx,
                exp,
                "import",
                RunState::Completed,
                "imported from Ads Manager exports by adskew import",
                now,
            )?,
            ImportTarget::Existing(id) => id,
        };
        let mut collections = Vec::new();
        for f in files {
            let collection =
                insert_collection_in(&tx, experiment_id, f.snapshot_at, None, f.spend, f.rows)?;
            tx.execute(
                "INSERT INTO imports (experiment_id, collection_id, path, file_sha256, file_gz,
                    snapshot_at, snapshot_from, rows_read, imported_at, adskew_version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    experiment_id,
                    collection,
                    f.path,
                    f.sha256,
                    gzip(f.bytes)?,
                    ts(f.snapshot_at),
                    f.snapshot_from,
                    f.rows_read as i64,
                    ts(now),
                    adskew_core::VERSION,
                ],
            )?;
            collections.push(collection);
        }
        tx.commit()?;
        Ok((experiment_id, collections))
    }

    /// The files imported into a run, oldest snapshot first.
    pub fn imports(&self, experiment_id: i64) -> Result<Vec<ImportRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, experiment_id, collection_id, path, file_sha256, snapshot_at,
                    snapshot_from, rows_read, imported_at
             FROM imports WHERE experiment_id = ?1 ORDER BY snapshot_at, id",
        )?;
        let rows = stmt.query_map([experiment_id], |r| {
            Ok(ImportRecord {
                id: r.get(0)?,
                experiment_id: r.get(1)?,
                collection_id: r.get(2)?,
                path: r.get(3)?,
                file_sha256: r.get(4)?,
                snapshot_at: r.get(5)?,
                snapshot_from: r.get(6)?,
                rows_read: r.get(7)?,
                imported_at: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The bytes of an imported file, checked against the SHA-256 recorded with them.
    pub fn imported_file(&self, import_id: i64) -> Result<Vec<u8>> {
        let (gz, sha): (Vec<u8>, String) = self.conn.query_row(
            "SELECT file_gz, file_sha256 FROM imports WHERE id = ?1",
            [import_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let bytes = gunzip(&gz)?;
        if sha256_hex(&bytes) != sha {
            return Err(Error::StoredData(format!(
                "imported file {import_id} in the store does not match its SHA-256 {sha}"
            ))
            .into());
        }
        Ok(bytes)
    }
}
