//! The SQLite store: one file that holds every experiment run, the platform objects it
//! created, and every delivery snapshot ever collected.
//!
//! Delivery rows are append-only: a value collected again is a new row tagged with its
//! collection, and `delivery_latest` (a view) picks the newest. Every write that belongs
//! together happens in one transaction, so a kill leaves either all of a collection or none
//! of it. The schema is documented in ARCHITECTURE.md for researchers who open the file from
//! pandas, R or DuckDB.
//!
//! The store opens only adskew's own databases (see [`open`]): a writing command
//! ([`Store::open`], [`Store::open_existing`]) migrates the file to [`SCHEMA_VERSION`]; a
//! command that only reads ([`Store::open_read_only`]) writes, creates and locks nothing.
//! A command refused after opening calls [`Store::abandon`], which removes a database it
//! created and left empty.

mod audience;
pub mod error;

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::created::{CreatedDirs, CreatedFile};
use crate::error::{Error, Result};
use crate::open::{Found, Refusal};
use adskew_core::experiment::Experiment;
use adskew_core::money::Money;
use adskew_core::platform::{AdReview, Delivery};
use adskew_core::vocab::Breakdown;

mod archive;
mod created;
mod imports;
mod inputs;
pub mod lock;
mod looks;
pub mod open;
mod pauses;
mod runs;
mod totals;
pub use adskew_core::records::{
    CollectionRecord, EventKind, ExperimentRecord, Period, RunEvent, RunOrigin, RunState,
    StoredReview, StoredRow,
};
pub use audience::{UploadRecord, UploadReport, UploadStart, UploadState};
pub use imports::{ImportRecord, ImportTarget, ImportedFile};
pub use pauses::{PauseKind, PauseRequest};
pub use runs::{parse_time, ObjectRecord};

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("schema.sql"),
    include_str!("migration_2.sql"),
    include_str!("migration_3.sql"),
    include_str!("migration_4.sql"),
    include_str!("migration_5.sql"),
    include_str!("migration_6.sql"),
    include_str!("migration_7.sql"),
    include_str!("migration_8.sql"),
    include_str!("migration_9.sql"),
    include_str!("migration_10.sql"),
    include_str!("migration_11.sql"),
    include_str!("migration_12.sql"),
];

/// The schema version this adskew writes (and the newest it reads).
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// The platform objects behind one ad.
#[derive(Debug, Clone, Serialize)]
pub struct AdRecord {
    pub ad_key: String,
    pub campaign_id: String,
    pub ad_set_id: String,
    pub creative_id: String,
    pub platform_ad_id: String,
    pub budget_kind: String,
    pub budget: Money,
    pub activated_at: Option<String>,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// The file, when this `open` created it: [`Store::abandon`] removes it if it stays
    /// empty.
    created: Option<CreatedFile>,
    durability: Durability,
}

/// Which commits are on disk when they return, against a power cut or a crash of the
/// operating system. A killed process loses no commit either way: once a commit returns,
/// its pages are in the write-ahead log, in the operating system's hands, and the next
/// open replays them; and in WAL mode the database stays consistent after a power cut at
/// either setting (SQLite, "PRAGMA synchronous": NORMAL in WAL mode "is safe from
/// corruption"; a commit "might roll back following a power loss").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Every commit is synced to disk before it returns (`synchronous = FULL`): the
    /// default, and what a real platform needs. The record that an object is about to be
    /// created must outlive a power cut, or the next process, not knowing of the object,
    /// would create it again (invariant 2, no duplicates).
    EveryCommit,
    /// No commit is synced as it returns (`synchronous = NORMAL`); [`Store::sync`] syncs
    /// everything committed before it (the log is synced as a whole, in order). For runs on
    /// the simulator, whose objects live only in the process that runs them: `run` syncs
    /// the store when the run has ended, before it reports. A kill loses nothing, and a
    /// power cut during the run loses at most commits of a run that could not have gone
    /// on anyway (`resume` refuses an interrupted simulator run, whose rows a new run with
    /// the same seed reproduces), and no object outside the process can be duplicated. A
    /// simulated run made one sync per collection before (10 of its 18 syncs for the
    /// Ali et al. example, ~5 ms of its 80).
    RunEnd,
}

/// Hands the memory of a collection's page cache back to the system, so the report that
/// follows a run does not add to it. With glibc, freed small allocations stay in the
/// process unless `malloc_trim` is asked to release them; and freeing the cache's large
/// blocks raised glibc's dynamic mmap threshold, so the report's buffers of a few MB came
/// from the heap and stayed there (a 1 M-row run peaked at 213 MB instead of 155 MB).
/// Fixing the threshold at glibc's initial 128 KiB turns that adjustment off.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static FIXED_THRESHOLD: std::sync::Once = std::sync::Once::new();
        // SAFETY: mallopt and malloc_trim change only the allocator's policy and release
        // only memory it holds free.
        FIXED_THRESHOLD.call_once(|| unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        });
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

/// How much the write-ahead log holds before a commit copies it into the database file
/// (SQLite's default is 1,000 pages, 4 MiB at 4 KiB pages). A collection that rewrites
/// most of the `delivery_key` index logs every page of it, so with the default each
/// collection was copied into the file (and the file synced) on its own commit; at 80 MiB
/// a page rewritten by two or three collections is copied once. The log file grows to
/// about this plus one collection while the store is open, and goes when it closes.
const WAL_CHECKPOINT_BYTES: i64 = 80 << 20;

/// The page size of a new database: 16 KiB rather than SQLite's 4 KiB. A collection
/// inserts its rows next to the earlier snapshots of each (ad, breakdown, value, day) all
/// over the `delivery_key` index; with pages four times the size, the index has a
/// quarter of the pages to find, split, log and checksum (a 1 M-row run took 6.9 s
/// instead of 8.3 s). A database made before keeps its page size.
const PAGE_SIZE: i64 = 16 << 10;

/// The page cache of a collection's transaction, in KiB (SQLite allocates it only as
/// pages are used). Each collection adds a row to every (ad, breakdown, value, date) of the
/// `delivery_key` index, so it touches nearly every page of the index: with SQLite's
/// default of 2 MiB the pages were read and written back again and again within one
/// transaction (a 1 M-row run: 670,000 reads and 890,000 writes of pages). 128 MiB holds
/// the index of a few million rows; the cache goes back to the default after the commit,
/// so the memory is the transaction's only.
const COLLECTION_CACHE_KIB: i64 = 128 * 1024;

/// SQLite's default page cache, in KiB (`PRAGMA cache_size = -2000`).
const DEFAULT_CACHE_KIB: i64 = 2000;

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Store {
    /// Opens the adskew database at `path` to write to it, creating it (and its folder) if
    /// there is none, and brings its schema up to date. A file that is not an adskew
    /// database, or of a newer schema, is refused and left unchanged ([`open::Refusal`]).
    pub fn open(path: &Path) -> Result<Store> {
        let created = match open::file_exists(path)? {
            true => None,
            false => Some(CreatedFile {
                dirs: CreatedDirs::for_file(path)?,
                path: path.to_path_buf(),
            }),
        };
        let mut store = Store {
            conn: Connection::open(path).map_err(|e| open::sqlite_error(path, e))?,
            path: path.to_path_buf(),
            created,
            durability: Durability::EveryCommit,
        };
        match store.prepare_to_write() {
            Ok(()) => Ok(store),
            Err(e) => {
                store.abandon();
                Err(e)
            }
        }
    }

    /// Checks what the file is, then migrates it and sets it up for writing. WAL mode comes
    /// first, so a new database's schema is one commit to the log, not a rollback
    /// journal's four syncs (the migrations are one transaction: a new database is either
    /// empty or has a whole schema).
    fn prepare_to_write(&mut self) -> Result<()> {
        let path = self.path.clone();
        let wrap = |e| open::sqlite_error(&path, e);
        open::inspect(&self.conn, &path, SCHEMA_VERSION)?;
        self.conn
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(wrap)?;
        // Takes effect only on a database without tables yet.
        self.conn
            .pragma_update(None, "page_size", PAGE_SIZE)
            .map_err(wrap)?;
        self.conn
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(wrap)?;
        migrate(&mut self.conn).map_err(wrap)?;
        self.conn
            .pragma_update(None, "foreign_keys", "ON")
            .map_err(wrap)?;
        self.conn
            .pragma_update(None, "synchronous", "FULL")
            .map_err(wrap)?;
        let page: i64 = self
            .conn
            .pragma_query_value(None, "page_size", |r| r.get(0))
            .map_err(wrap)?;
        self.conn
            .pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_BYTES / page)
            .map_err(wrap)?;
        Ok(())
    }

    /// A private database in memory, for simulations that need no file (`adskew plan`).
    pub fn open_in_memory() -> Result<Store> {
        let path = PathBuf::from(":memory:");
        let wrap = |e| open::sqlite_error(&path, e);
        let mut conn = Connection::open_in_memory().map_err(wrap)?;
        migrate(&mut conn).map_err(wrap)?;
        Ok(Store {
            conn,
            path,
            created: None,
            durability: Durability::EveryCommit,
        })
    }

    /// [`Store::open`] of a database that must already exist (for commands that act on
    /// recorded runs).
    pub fn open_existing(path: &Path) -> Result<Store> {
        if !open::file_exists(path)? {
            return Err(Refusal::Missing(path.to_path_buf()).into());
        }
        Store::open(path)
    }

    /// Opens an existing adskew database for commands that only read: nothing is written,
    /// created, migrated or locked, and a database in a read-only folder reads as well as
    /// any. A database of an older schema is read through a copy in memory brought up to
    /// date; the file stays as it is until a writing command migrates it.
    pub fn open_read_only(path: &Path) -> Result<Store> {
        if !open::file_exists(path)? {
            return Err(Refusal::Missing(path.to_path_buf()).into());
        }
        let conn = open::connect_read_only(path)?;
        let wrap = |e| open::sqlite_error(path, e);
        let conn = match open::inspect(&conn, path, SCHEMA_VERSION)? {
            Found::New => return Err(Refusal::Missing(path.to_path_buf()).into()),
            Found::Adskew { version } if version == SCHEMA_VERSION => conn,
            Found::Adskew { .. } => {
                let mut copy = Connection::open_in_memory().map_err(wrap)?;
                rusqlite::backup::Backup::new(&conn, &mut copy)
                    .and_then(|b| b.run_to_completion(256, std::time::Duration::ZERO, None))
                    .map_err(wrap)?;
                migrate(&mut copy).map_err(wrap)?;
                copy
            }
        };
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            created: None,
            durability: Durability::EveryCommit,
        })
    }

    /// Closes the store after a command was refused: a database this `open` created that
    /// holds no record yet is removed, with the folders made for it, so the refusal leaves
    /// nothing behind. Any other database is simply closed.
    pub fn abandon(self) {
        let Store {
            conn,
            path: _,
            created,
            durability: _,
        } = self;
        let Some(created) = created else {
            return;
        };
        let empty = holds_nothing(&conn).unwrap_or(false);
        drop(conn);
        if empty {
            created.remove();
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sets which commits are synced to disk before they return (see [`Durability`]).
    pub fn set_durability(&mut self, durability: Durability) -> Result<()> {
        self.durability = durability;
        self.conn.pragma_update(
            None,
            "synchronous",
            match durability {
                Durability::EveryCommit => "FULL",
                Durability::RunEnd => "NORMAL",
            },
        )?;
        Ok(())
    }

    /// Records a new run of `exp` in state `draft` and returns its id; `start` and `end` are
    /// its plan, which a resumed run follows. One transaction: a run is never on record
    /// without its plan.
    pub fn insert_run(
        &mut self,
        exp: &Experiment,
        now: DateTime<Utc>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<i64> {
        let tx = self.conn.transaction()?;
        let origin = exp.platform.as_str();
        let id = insert_experiment_in(&tx, exp, origin, RunState::Draft, "adskew run", now)?;
        tx.execute(
            "UPDATE experiments SET planned_start = ?2, planned_end = ?3 WHERE id = ?1",
            params![id, ts(start), ts(end)],
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Records a new run of `exp` (state `draft`, no plan) and returns its id.
    pub fn insert_experiment(&mut self, exp: &Experiment, now: DateTime<Utc>) -> Result<i64> {
        let tx = self.conn.transaction()?;
        let id = insert_experiment_in(
            &tx,
            exp,
            exp.platform.as_str(),
            RunState::Draft,
            "adskew run",
            now,
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Moves a run to `state`, recording when and why.
    pub fn set_state(
        &mut self,
        id: i64,
        state: RunState,
        cause: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE experiments SET state = ?2 WHERE id = ?1",
            params![id, state.as_str()],
        )?;
        match state {
            // The first activation is when the run started; a failed run resumed later
            // keeps it. A run that is going again has not ended.
            RunState::Running => {
                tx.execute(
                    "UPDATE experiments SET started_at = COALESCE(started_at, ?2), ended_at = NULL
                     WHERE id = ?1",
                    params![id, ts(at)],
                )?;
            }
            RunState::Completed | RunState::Stopped | RunState::Failed => {
                tx.execute(
                    "UPDATE experiments SET ended_at = ?2 WHERE id = ?1",
                    params![id, ts(at)],
                )?;
            }
            RunState::Draft | RunState::Created => {
                tx.execute(
                    "UPDATE experiments SET ended_at = NULL WHERE id = ?1",
                    params![id],
                )?;
            }
        }
        tx.execute(
            "INSERT INTO experiment_events (experiment_id, at, state, cause) VALUES (?1, ?2, ?3, ?4)",
            params![id, ts(at), state.as_str(), cause],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn record_ad(&mut self, experiment_id: i64, ad: &AdRecord) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO ads (experiment_id, ad_key, campaign_id, ad_set_id, creative_id,
                platform_ad_id, budget_kind, budget_minor, activated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                experiment_id,
                ad.ad_key,
                ad.campaign_id,
                ad.ad_set_id,
                ad.creative_id,
                ad.platform_ad_id,
                ad.budget_kind,
                ad.budget.minor(),
                ad.activated_at,
            ],
        )?;
        Ok(())
    }

    /// Records the moment all ads of a run were activated together (the first time: a
    /// failed run resumed later is activated again, but delivery began at the first).
    pub fn set_activated(&mut self, experiment_id: i64, at: DateTime<Utc>) -> Result<()> {
        self.conn.execute(
            "UPDATE ads SET activated_at = ?2 WHERE experiment_id = ?1 AND activated_at IS NULL",
            params![experiment_id, ts(at)],
        )?;
        Ok(())
    }

    /// Stores one collection pass and its rows atomically; returns the collection id.
    pub fn insert_collection(
        &mut self,
        experiment_id: i64,
        platform_time: DateTime<Utc>,
        spend: Money,
        rows: &[StoredRow],
    ) -> Result<i64> {
        self.insert_collection_due(experiment_id, platform_time, None, spend, rows)
    }

    /// [`Store::insert_collection`] for the scheduled collection due at `due`: the pass and
    /// its rows commit together, so a crash leaves the due collection not done, never half
    /// done.
    pub fn insert_collection_due(
        &mut self,
        experiment_id: i64,
        platform_time: DateTime<Utc>,
        due: Option<DateTime<Utc>>,
        spend: Money,
        rows: &[StoredRow],
    ) -> Result<i64> {
        let big = self.outgrows_default_cache()?;
        if big {
            self.conn
                .pragma_update(None, "cache_size", -COLLECTION_CACHE_KIB)?;
        }
        let inserted = self.conn.transaction().and_then(|tx| {
            let collection =
                insert_collection_in(&tx, experiment_id, platform_time, due, spend, rows)?;
            tx.commit()?;
            Ok(collection)
        });
        let restored = if big { self.after_collection() } else { Ok(()) };
        let collection = inserted?;
        restored?;
        Ok(collection)
    }

    /// Whether the database is larger than SQLite's default page cache of 2 MiB, so that a
    /// collection needs [`COLLECTION_CACHE_KIB`]. A smaller one fits in the default cache:
    /// enlarging it changes nothing, and shrinking it and trimming the heap after each
    /// collection only made the next one read its pages and fault its memory in again.
    fn outgrows_default_cache(&self) -> rusqlite::Result<bool> {
        let bytes: i64 = self.conn.query_row(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            [],
            |r| r.get(0),
        )?;
        Ok(bytes > DEFAULT_CACHE_KIB * 1024)
    }

    /// The default page cache again, and its memory handed back.
    fn after_collection(&mut self) -> rusqlite::Result<()> {
        self.conn
            .pragma_update(None, "cache_size", -DEFAULT_CACHE_KIB)?;
        self.conn.execute_batch("PRAGMA shrink_memory")?;
        release_freed_memory();
        Ok(())
    }

    /// Syncs to disk everything committed so far, whatever the durability (a checkpoint
    /// syncs the log, copies it into the database file and syncs that). A program reading
    /// the database from an older snapshot for longer than the busy timeout leaves the
    /// rest to the checkpoint at close, with a warning: the commits are safe from a kill,
    /// only not yet from a power cut.
    pub fn sync(&mut self) -> Result<()> {
        let (busy, logged, copied): (i64, i64, i64) =
            self.conn
                .query_row("PRAGMA wal_checkpoint(FULL)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
        if busy != 0 || copied < logged {
            tracing::warn!(
                db = %self.path.display(),
                "another program is reading the database: its last commits are synced when \
                 adskew closes it"
            );
        }
        Ok(())
    }

    /// Finds a run by numeric id, or by name (the most recent run with that name).
    pub fn find_experiment(&self, selector: &str) -> Result<ExperimentRecord> {
        self.lookup_experiment(selector)?.ok_or_else(|| {
            let known = self.list_experiments().unwrap_or_default();
            let names: Vec<String> = known
                .iter()
                .map(|e| format!("{} (id {})", e.name, e.id))
                .collect();
            Error::BadInput(format!(
                "no experiment `{selector}` in {}{}",
                self.path.display(),
                if names.is_empty() {
                    " (it is empty: run one with `adskew run FILE`)".to_string()
                } else {
                    format!("; known: {}", names.join(", "))
                }
            ))
            .into()
        })
    }

    /// [`Store::find_experiment`], with `None` when there is no such run.
    pub fn lookup_experiment(&self, selector: &str) -> Result<Option<ExperimentRecord>> {
        let by_id = selector.parse::<i64>().ok();
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {EXPERIMENT_COLUMNS} FROM experiments
                     WHERE id = ?1 OR name = ?2 ORDER BY (id = ?1) DESC, id DESC LIMIT 1"
                ),
                params![by_id.unwrap_or(-1), selector],
                experiment_from_row,
            )
            .optional()?)
    }

    /// Every run, newest first.
    pub fn list_experiments(&self) -> Result<Vec<ExperimentRecord>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {EXPERIMENT_COLUMNS} FROM experiments ORDER BY id DESC"
        ))?;
        let rows = stmt.query_map([], experiment_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records how the platform sees an ad, if that changed since the last record; returns
    /// whether it did.
    pub fn record_review(
        &mut self,
        experiment_id: i64,
        ad_key: &str,
        at: DateTime<Utc>,
        review: &AdReview,
    ) -> Result<bool> {
        // This ad's last review only, through `ad_reviews_key` (reading every ad's made a
        // collection of n ads read n² rows).
        let last: Option<(String, Option<String>)> = self
            .conn
            .prepare_cached(
                "SELECT effective_status, problem FROM ad_reviews
                 WHERE experiment_id = ?1 AND ad_key = ?2 ORDER BY id DESC LIMIT 1",
            )?
            .query_row(params![experiment_id, ad_key], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        if last.is_some_and(|(status, problem)| {
            status == review.platform_status && problem == review.problem
        }) {
            return Ok(false);
        }
        self.conn.execute(
            "INSERT INTO ad_reviews (experiment_id, ad_key, at, effective_status, problem, delivery)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                experiment_id,
                ad_key,
                ts(at),
                review.platform_status,
                review.problem,
                review.delivery.as_str()
            ],
        )?;
        Ok(true)
    }

    /// The latest review of each ad the platform was asked about, by ad key.
    pub fn latest_reviews(
        &self,
        experiment_id: i64,
    ) -> Result<std::collections::BTreeMap<String, StoredReview>> {
        let mut stmt = self.conn.prepare(
            "SELECT ad_key, effective_status, problem, delivery FROM ad_reviews
             WHERE experiment_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![experiment_id], |r| {
            let review = StoredReview {
                platform_status: r.get(1)?,
                problem: r.get(2)?,
                delivery: word(r, 3, Delivery::parse)?,
            };
            Ok((r.get::<_, String>(0)?, review))
        })?;
        // Later rows overwrite earlier ones.
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn ads(&self, experiment_id: i64) -> Result<Vec<AdRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT ad_key, campaign_id, ad_set_id, creative_id, platform_ad_id, budget_kind,
                    budget_minor, activated_at
             FROM ads WHERE experiment_id = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([experiment_id], |r| {
            Ok(AdRecord {
                ad_key: r.get(0)?,
                campaign_id: r.get(1)?,
                ad_set_id: r.get(2)?,
                creative_id: r.get(3)?,
                platform_ad_id: r.get(4)?,
                budget_kind: r.get(5)?,
                budget: Money(r.get(6)?),
                activated_at: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn collections(&self, experiment_id: i64) -> Result<Vec<CollectionRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, platform_time, collected_at, spend_minor, rows FROM collections
             WHERE experiment_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([experiment_id], |r| {
            Ok(CollectionRecord {
                id: r.get(0)?,
                platform_time: r.get(1)?,
                collected_at: r.get(2)?,
                spend: Money(r.get(3)?),
                rows: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The latest snapshot of every daily row of one breakdown.
    pub fn latest_daily(&self, experiment_id: i64, breakdown: Breakdown) -> Result<Vec<StoredRow>> {
        self.query_rows(
            "SELECT ad_key, period, date_start, date_stop, breakdown, value, reach, impressions,
                    clicks, spend_minor
             FROM delivery_latest WHERE experiment_id = ?1 AND breakdown = ?2 AND period = 'day'
             ORDER BY ad_key, date_start, value",
            params![experiment_id, breakdown.as_str()],
        )
    }

    /// Every snapshot row ever stored for a run (for audits of the store itself).
    pub fn all_rows(&self, experiment_id: i64) -> Result<Vec<StoredRow>> {
        self.query_rows(
            "SELECT ad_key, period, date_start, date_stop, breakdown, value, reach, impressions,
                    clicks, spend_minor
             FROM delivery WHERE experiment_id = ?1 ORDER BY id",
            params![experiment_id],
        )
    }

    fn query_rows(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<StoredRow>> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map(params, |r| stored_row(r, 0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Records a run of `exp` in `state` within a transaction; returns its id.
fn insert_experiment_in(
    tx: &rusqlite::Transaction<'_>,
    exp: &Experiment,
    platform: &str,
    state: RunState,
    cause: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<i64> {
    let resolved = exp.resolved_json();
    let resolved_sha = adskew_core::digest::sha256_hex(resolved.as_bytes());
    tx.execute(
        "INSERT INTO experiments (name, description, platform, currency, spend_cap_minor,
            file_path, file_text, file_sha256, resolved_json, resolved_sha256,
            adskew_version, state, created_at, overrides)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            exp.name,
            exp.description,
            platform,
            exp.currency,
            exp.spend_cap.minor(),
            exp.source.path.display().to_string(),
            exp.source.text,
            exp.source.sha256,
            resolved,
            resolved_sha,
            adskew_core::VERSION,
            state.as_str(),
            ts(now),
            exp.source.overrides.join("\n"),
        ],
    )?;
    let id = tx.last_insert_rowid();
    tx.execute(
        "INSERT INTO experiment_events (experiment_id, at, state, cause) VALUES (?1, ?2, ?3, ?4)",
        params![id, ts(now), state.as_str(), cause],
    )?;
    Ok(id)
}

/// Stores a collection pass and its rows within a transaction; returns the collection id.
fn insert_collection_in(
    tx: &rusqlite::Transaction<'_>,
    experiment_id: i64,
    platform_time: DateTime<Utc>,
    due: Option<DateTime<Utc>>,
    spend: Money,
    rows: &[StoredRow],
) -> rusqlite::Result<i64> {
    tx.execute(
        "INSERT INTO collections (experiment_id, platform_time, collected_at, spend_minor, rows, due_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            experiment_id,
            ts(platform_time),
            ts(Utc::now()),
            spend.minor(),
            rows.len() as i64,
            due.map(ts)
        ],
    )?;
    let collection = tx.last_insert_rowid();
    let mut insert = tx.prepare(
        "INSERT INTO delivery (experiment_id, collection_id, ad_key, period, date_start,
            date_stop, breakdown, value, reach, impressions, clicks, spend_minor)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    // The dates written into two buffers reused from row to row (a million rows made two
    // million strings).
    let (mut start, mut stop) = (String::new(), String::new());
    for r in rows {
        use std::fmt::Write;
        start.clear();
        stop.clear();
        write!(start, "{}", r.date_start).expect("writing to a String");
        write!(stop, "{}", r.date_stop).expect("writing to a String");
        insert.execute(params![
            experiment_id,
            collection,
            r.ad_key,
            r.period.as_str(),
            start,
            stop,
            r.breakdown.as_str(),
            r.value,
            stored_count(r.reach)?,
            stored_count(r.impressions)?,
            stored_count(r.clicks)?,
            r.spend.minor(),
        ])?;
    }
    Ok(collection)
}

const EXPERIMENT_COLUMNS: &str = "id, name, platform, state, currency, spend_cap_minor, file_path,
    file_sha256, resolved_sha256, resolved_json, adskew_version, created_at, started_at, ended_at,
    overrides, planned_start, planned_end, recollect_at";

fn experiment_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ExperimentRecord> {
    Ok(ExperimentRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        platform: word(r, 2, RunOrigin::parse)?,
        state: word(r, 3, RunState::parse)?,
        currency: r.get(4)?,
        spend_cap: Money(r.get(5)?),
        file_path: r.get(6)?,
        file_sha256: r.get(7)?,
        resolved_sha256: r.get(8)?,
        resolved_json: r.get(9)?,
        adskew_version: r.get(10)?,
        created_at: r.get(11)?,
        started_at: r.get(12)?,
        ended_at: r.get(13)?,
        overrides: r
            .get::<_, String>(14)?
            .lines()
            .map(str::to_string)
            .collect(),
        planned_start: time(r, 15)?,
        planned_end: time(r, 16)?,
        recollect_at: time(r, 17)?,
    })
}

/// Column `i` of `r` as one of adskew's words (a state, an origin, a period): the one place
/// where the store's text becomes a type. Text no adskew version writes is an error naming
/// the value, never a default.
pub(crate) fn word<T>(
    r: &rusqlite::Row<'_>,
    i: usize,
    parse: fn(&str) -> Option<T>,
) -> rusqlite::Result<T> {
    let text: String = r.get(i)?;
    parse(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("`{text}` is not a value this adskew version knows").into(),
        )
    })
}

/// Column `i` of `r`, a time the store wrote (RFC 3339), or NULL.
fn time(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let text: Option<String> = r.get(i)?;
    text.map(|t| {
        DateTime::parse_from_rfc3339(&t)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
            })
    })
    .transpose()
}

/// Applies the migrations the database lacks, all in one transaction, which reads the
/// version it starts from (so two processes migrating at once do each step once) and
/// leaves the database at either its old version or the newest, never in between. (One
/// commit: each is synced to disk, and a new database used to take one per migration,
/// most of a short run's waiting for the disk.) `schema_migrations` (from migration 10 on)
/// records the adskew that applied each one.
fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let done: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (version, sql) in (done + 1..).zip(MIGRATIONS.iter().skip(done as usize)) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        if version >= 10 {
            tx.execute(
                "INSERT INTO schema_migrations (version, adskew_version, applied_at) VALUES (?1, ?2, ?3)",
                params![version, env!("CARGO_PKG_VERSION"), ts(Utc::now())],
            )?;
        }
    }
    tx.commit()
}

/// Whether no table of the database holds a row (but `schema_migrations`, which every new
/// database has).
fn holds_nothing(conn: &Connection) -> rusqlite::Result<bool> {
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table'
             AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for table in tables {
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM \"{}\")",
            table.replace('"', "\"\"")
        );
        if conn.query_row(&sql, [], |r| r.get::<_, bool>(0))? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A count as SQLite stores it (a signed 64-bit integer). Every count that enters adskew is
/// bounded far below (`adskew_core::count::MAX_COUNT`); one that is not is refused here
/// rather than stored as a negative number.
fn stored_count(n: u64) -> rusqlite::Result<i64> {
    i64::try_from(n).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// Column `i` of `r`, a count: a negative number was not written by adskew (the database
/// is damaged or another program wrote it) and is refused, naming the column.
fn count(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<u64> {
    let n: i64 = r.get(i)?;
    u64::try_from(n).map_err(|_| {
        let column = r.as_ref().column_name(i).unwrap_or("count").to_string();
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Integer,
            format!(
                "{column} {n} is negative, which adskew never stores: the database is damaged or \
                 was written by another program; restore it from a backup or collect again"
            )
            .into(),
        )
    })
}

/// A date as the store writes it, `YYYY-MM-DD`: read digit by digit (chrono's parser of
/// any format was a fifth of reading a million-row run's totals), and by chrono otherwise,
/// whose error says what is wrong.
fn day(text: &str) -> std::result::Result<NaiveDate, chrono::ParseError> {
    let b = text.as_bytes();
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        if let (Some(y), Some(m), Some(d)) = (number(&b[..4]), number(&b[5..7]), number(&b[8..])) {
            if let Some(date) = NaiveDate::from_ymd_opt(y as i32, m, d) {
                return Ok(date);
            }
        }
    }
    text.parse()
}

/// A delivery row read from the columns ad_key, period, date_start, date_stop, breakdown,
/// value, reach, impressions, clicks, spend_minor, starting at column `at`.
fn stored_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<StoredRow> {
    let date = |i: usize| -> rusqlite::Result<NaiveDate> {
        let failure = |e: Box<dyn std::error::Error + Send + Sync>| {
            rusqlite::Error::FromSqlConversionFailure(at + i, rusqlite::types::Type::Text, e)
        };
        let text = r.get_ref(at + i)?.as_str().map_err(|e| failure(e.into()))?;
        day(text).map_err(|e| failure(e.into()))
    };
    Ok(StoredRow {
        ad_key: r.get(at)?,
        period: word(r, at + 1, Period::parse)?,
        date_start: date(2)?,
        date_stop: date(3)?,
        breakdown: word(r, at + 4, Breakdown::parse)?,
        value: r.get(at + 5)?,
        reach: count(r, at + 6)?,
        impressions: count(r, at + 7)?,
        clicks: count(r, at + 8)?,
        spend: Money(r.get(at + 9)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast reading of dates gives what chrono's parser gives, for every day of
    /// decades and for text that is not a date.
    #[test]
    fn dates_read_as_chrono_reads_them() {
        let mut d = NaiveDate::from_ymd_opt(1999, 12, 25).unwrap();
        for _ in 0..12_000 {
            let text = d.to_string();
            assert_eq!(day(&text), Ok(d));
            d = d.succ_opt().unwrap();
        }
        for text in [
            "2026-02-30",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "2026-02-3a",
            "0000-01-01",
            "+2026-02-01",
            "2026/02/01",
            "",
        ] {
            assert_eq!(day(text), text.parse::<NaiveDate>(), "{text:?}");
        }
    }
}
