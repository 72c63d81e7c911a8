//! Which files the store opens: only adskew's own databases, at a schema version this adskew
//! knows. Everything is decided by reading the file (never by writing to it), so a file that
//! is refused is left exactly as it was.
//!
//! An adskew database says it is one twice: `PRAGMA application_id` is [`APPLICATION_ID`]
//! (set by migration 10; databases made before it are recognised by their version and
//! tables and marked when a writing command migrates them), and `PRAGMA user_version` is
//! its schema version. `schema_migrations` records which adskew brought it to each
//! version from 10 on, so an older adskew can say which version a newer database needs.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::{Error, StoreError};

/// `PRAGMA application_id` of an adskew database: "adsk" in ASCII.
pub const APPLICATION_ID: i32 = 0x6164_736B;

/// The last schema version written without [`APPLICATION_ID`].
const LAST_UNMARKED: usize = 9;

/// What the file at a database's path is, as the store found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// An empty file (or none): a writing command makes a new database in it.
    New,
    /// An adskew database at schema version `version`, at most the one this adskew knows.
    Adskew { version: usize },
}

/// Why the store will not open a file: each says what the file is and what to do, and is
/// bad input (exit 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A command that reads found no database (or an empty file).
    Missing(PathBuf),
    /// The path is a folder or something else that is not a file.
    NotAFile(PathBuf),
    /// The file is not an SQLite database at all.
    NotSqlite(PathBuf),
    /// SQLite cannot read the file: damaged or truncated.
    Damaged { path: PathBuf, sqlite: String },
    /// An SQLite database without adskew's marks: another program's (its tables, the first
    /// few, and its `application_id`).
    Foreign {
        path: PathBuf,
        application_id: i32,
        tables: Vec<String>,
    },
    /// An adskew database of a newer schema than this adskew knows.
    Newer {
        path: PathBuf,
        version: usize,
        known: usize,
        written_by: Option<String>,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Missing(path) => write!(
                f,
                "no database at {}: `adskew run FILE` (or `adskew import EXPORT.csv`) creates \
                 one; give another with --db",
                path.display()
            ),
            Refusal::NotAFile(path) => write!(
                f,
                "{} is not a file: give the database file with --db (e.g. {})",
                path.display(),
                path.join("adskew.db").display()
            ),
            Refusal::NotSqlite(path) => write!(
                f,
                "{} is not an adskew database (not an SQLite file at all); it was left \
                 unchanged. Give adskew's database with --db, or a path where none exists for \
                 a new one",
                path.display()
            ),
            Refusal::Damaged { path, sqlite } => write!(
                f,
                "{} is damaged: SQLite cannot read it ({sqlite}); it was left unchanged. Restore \
                 it from a backup, or save what can be read with `sqlite3 {} .recover | sqlite3 \
                 recovered.db` and give that with --db",
                path.display(),
                path.display()
            ),
            Refusal::Foreign {
                path,
                application_id,
                tables,
            } => write!(
                f,
                "{} is not an adskew database: it is an SQLite database without adskew's schema \
                 ({}{}); it was left unchanged. Give adskew's database with --db, or a path \
                 where none exists for a new one",
                path.display(),
                match tables.len() {
                    0 => "no tables".to_string(),
                    _ => format!("tables {}", tables.join(", ")),
                },
                match application_id {
                    0 => String::new(),
                    id => format!("; application_id {id:#x}, another program's"),
                }
            ),
            Refusal::Newer {
                path,
                version,
                known,
                written_by,
            } => write!(
                f,
                "{} has adskew schema version {version}{}, newer than this adskew ({}) knows \
                 (up to {known}); it was left unchanged. Upgrade adskew{} to read and write it",
                path.display(),
                written_by
                    .as_ref()
                    .map_or(String::new(), |v| format!(", written by adskew {v}")),
                env!("CARGO_PKG_VERSION"),
                written_by
                    .as_ref()
                    .map_or(String::new(), |v| format!(" to {v} or later")),
            ),
        }
    }
}

impl From<Refusal> for StoreError {
    fn from(r: Refusal) -> StoreError {
        Error::BadInput(r.to_string()).into()
    }
}

/// A refusal, or SQLite's own error where it is not about what the file is (a folder
/// without permission, say), naming the file.
pub(crate) fn sqlite_error(path: &Path, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => Refusal::NotSqlite(path.to_path_buf()).into(),
        Some(ErrorCode::DatabaseCorrupt) => Refusal::Damaged {
            path: path.to_path_buf(),
            sqlite: e.to_string(),
        }
        .into(),
        _ => Error::Store {
            path: path.to_path_buf(),
            source: Box::new(e),
        }
        .into(),
    }
}

/// Refuses a path that is there but is not a file; `Ok(false)` when nothing is there.
pub(crate) fn file_exists(path: &Path) -> Result<bool, Refusal> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(true),
        Ok(_) => Err(Refusal::NotAFile(path.to_path_buf())),
        Err(_) => Ok(false),
    }
}

/// What the database open on `conn` (the file at `path`) is, by reading it only.
pub(crate) fn inspect(conn: &Connection, path: &Path, known: usize) -> Result<Found, StoreError> {
    let read = |e| sqlite_error(path, e);
    let application_id: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(read)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(read)?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(read)?;
    let has = |name: &str| tables.iter().any(|t| t == name);
    let empty = std::fs::metadata(path).is_ok_and(|m| m.len() == 0);
    match (application_id, version) {
        (APPLICATION_ID, v) if v > known => Err(Refusal::Newer {
            path: path.to_path_buf(),
            version: v,
            known,
            written_by: written_by(conn),
        }
        .into()),
        (APPLICATION_ID, v) if v > LAST_UNMARKED => Ok(Found::Adskew { version: v }),
        (0, 0) if empty && tables.is_empty() => Ok(Found::New),
        // Made by an adskew before the mark (or one interrupted before migration 10).
        (0, v @ 1..=LAST_UNMARKED) if has("experiments") && has("delivery") => {
            Ok(Found::Adskew { version: v })
        }
        _ => Err(Refusal::Foreign {
            path: path.to_path_buf(),
            application_id,
            tables: tables
                .into_iter()
                .filter(|t| !t.starts_with("sqlite_"))
                .take(5)
                .collect(),
        }
        .into()),
    }
}

/// The adskew that brought a database to its schema version, when it says.
fn written_by(conn: &Connection) -> Option<String> {
    conn.query_row(
        "SELECT adskew_version FROM schema_migrations ORDER BY version DESC LIMIT 1",
        [],
        |r| r.get(0),
    )
    .ok()
}

/// A connection that writes nothing to the file at `path` and cannot create it.
///
/// In a folder this process can write to, the connection is SQLite's usual one made
/// `query_only`: it takes SQLite's locks, so it reads consistently while a collector
/// writes, and SQLite removes its `-wal` and `-shm` files when it closes, so a read leaves
/// no file behind (a read-only connection would leave them). A database in a folder this
/// process cannot write to (an archive on read-only media) is read as immutable: SQLite
/// could not make its shared-memory file there, and no adskew can be writing to it.
pub(crate) fn connect_read_only(path: &Path) -> Result<Connection, StoreError> {
    let folder = path.parent().map_or(Path::new("."), |d| {
        if d.as_os_str().is_empty() {
            Path::new(".")
        } else {
            d
        }
    });
    let wrap = |e| sqlite_error(path, e);
    if writable(folder) {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(wrap)?;
        conn.pragma_update(None, "query_only", true).map_err(wrap)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(wrap)?;
        Ok(conn)
    } else {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        Connection::open_with_flags(format!("{}?immutable=1", file_uri(path)), flags).map_err(wrap)
    }
}

/// Whether this process may create files in `dir`.
fn writable(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated string that outlives the call.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

/// `path` as an SQLite `file:` URI (absolute, with `%`, `?` and `#` escaped).
fn file_uri(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut uri = String::from("file:");
    for c in absolute.to_string_lossy().chars() {
        match c {
            '%' | '?' | '#' => uri.push_str(&format!("%{:02X}", c as u32)),
            c => uri.push(c),
        }
    }
    uri
}
