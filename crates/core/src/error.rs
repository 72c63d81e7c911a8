//! The error type the library returns, and the exit code each kind maps to.
//!
//! The split matters to the researcher running adskew from cron: exit code 2 means
//! "your input is wrong, nothing was done", anything else means "something failed while
//! running, look at the log". `main` maps errors to codes and nothing else does.

use std::path::PathBuf;

use crate::experiment::Problem;

/// Exit code for success.
pub const EXIT_OK: i32 = 0;
/// Exit code for a runtime failure (platform, store, I/O).
pub const EXIT_FAILURE: i32 = 1;
/// Exit code for bad input: an invalid experiment file, unknown experiment, bad flag.
pub const EXIT_BAD_INPUT: i32 = 2;
/// Another adskew holds the database's lock; nothing was done.
pub const EXIT_BUSY: i32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The experiment file has problems; all of them are listed.
    #[error("{} has {} problem{}:\n{}", path.display(), problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },

    /// Input that is wrong in some other way (an unknown experiment name, a bad flag value).
    #[error("{0}")]
    BadInput(String),

    #[error("platform error: {0}")]
    Platform(#[from] crate::platform::PlatformError),

    /// The database at `path` could not be opened or brought up to date.
    #[error("database {}: {source}", path.display())]
    Store {
        path: PathBuf,
        #[source]
        source: BoxError,
    },

    /// A database statement failed (the store crate converts SQLite's errors to this).
    #[error("database: {0}")]
    Sql(#[source] BoxError),

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("chart {path}: {message}")]
    Chart { path: PathBuf, message: String },

    /// Another adskew holds the database's lock.
    #[error("{0}")]
    Busy(String),

    #[error("{0}")]
    Other(String),
}

impl Error {
    /// The process exit code for this error (see the README's "Exit codes").
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Invalid { .. } | Error::BadInput(_) => EXIT_BAD_INPUT,
            Error::Busy(_) => EXIT_BUSY,
            _ => EXIT_FAILURE,
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error from a layer the core does not depend on (SQLite), kept with its source chain.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
