//! The error type the library returns, and the exit code each kind maps to.
//!
//! The split matters to the researcher running adskew from cron: exit code 2 means
//! "your input is wrong, nothing was done", 3 "another adskew is at work, nothing was
//! done", 4 "the access token is invalid or expired: a person must make a new one", and 1
//! "something failed while running, look at the log". `main` maps errors to codes and
//! nothing else does.
//!
//! Each variant is one kind of failure, kept as it travels up: a platform's error stays a
//! [`PlatformError`] of its kind (throttled, token, rejected, ...) inside
//! [`Error::Platform`] or [`Error::PlatformDuring`], so `main` and tests can tell them apart.

use std::path::PathBuf;

use crate::experiment::Problem;
use crate::platform::PlatformError;

/// Exit code for success.
pub const EXIT_OK: i32 = 0;
/// Exit code for a runtime failure (platform, store, I/O).
pub const EXIT_FAILURE: i32 = 1;
/// Exit code for bad input: an invalid experiment file, unknown experiment, bad flag.
pub const EXIT_BAD_INPUT: i32 = 2;
/// Another adskew holds the database's lock; nothing was done.
pub const EXIT_BUSY: i32 = 3;
/// The platform refused the access token as invalid or expired
/// ([`PlatformError::Token`]): nothing will succeed until a person sets a new one, so a
/// cron job should page someone rather than wait for the next pass.
pub const EXIT_TOKEN: i32 = 4;

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

    /// A platform call failed; the [`PlatformError`] says of what kind.
    #[error("platform error: {0}")]
    Platform(#[from] PlatformError),

    /// A platform call failed during a step that has more to say than the error: what was
    /// being done and what is left (an upload stopped half-way, a dry run's `validate_only`
    /// check). `message` includes the error's text; `source` keeps its kind.
    #[error("{message}")]
    PlatformDuring {
        message: String,
        #[source]
        source: PlatformError,
    },

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

    /// The database holds something that cannot be read back: a body or file that does not
    /// match its SHA-256 or is not valid gzip, a time or a word the store never writes, an
    /// experiment this adskew version cannot read. The data is damaged, altered, or from
    /// another version; retrying cannot help.
    #[error("{0}")]
    StoredData(String),

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    /// A chart could not be drawn or encoded; `path` is the file (or the format) it was for.
    #[error("chart {}: {source}", path.display())]
    Chart {
        path: PathBuf,
        #[source]
        source: BoxError,
    },

    /// Another adskew holds the database's lock.
    #[error("{0}")]
    Busy(String),

    /// Run `run` failed earlier, or was interrupted where it cannot go on (a simulated run
    /// whose simulator was in the process that ended), and is not continued.
    #[error("{message}")]
    RunFailed { run: i64, message: String },

    /// Pausing run `run`'s objects failed (`source`): its ads may still be spending. The
    /// pause stays owed (`status` shows it first, every pass retries it); `advice` lists
    /// what is not confirmed paused and what to do by hand. Exit 1 whatever the cause: money
    /// that may be spending outranks the reason it could not be stopped.
    #[error("could not pause run {run}: {source}. Its ads may still be spending; {advice}")]
    PauseFailed {
        run: i64,
        #[source]
        source: Box<Error>,
        advice: String,
    },

    /// Run `run` failed (`source`) and pausing its ads afterwards failed too; `advice` says
    /// so, with what is owed. Exit 1, as [`Error::PauseFailed`].
    #[error("{source}\n{advice}")]
    FailedUnpaused {
        run: i64,
        #[source]
        source: Box<Error>,
        advice: String,
    },

    /// Runs of a `collect` pass failed (each was printed with its error). `token`: every
    /// one failed on an invalid or expired access token, so the pass exits as a token error.
    #[error("{failed} run(s) failed this pass (see above; `adskew status` has the history)")]
    PassFailed { failed: usize, token: bool },

    /// `adskew doctor` found problems (each was printed on its line).
    #[error("{failed} check(s) failed: fix them before `run --live`")]
    ChecksFailed { failed: usize },
}

impl Error {
    /// The process exit code for this error (see the README's "Exit codes").
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Invalid { .. } | Error::BadInput(_) => EXIT_BAD_INPUT,
            Error::Busy(_) => EXIT_BUSY,
            Error::Platform(e) | Error::PlatformDuring { source: e, .. } => platform_exit_code(e),
            Error::PassFailed { token: true, .. } => EXIT_TOKEN,
            _ => EXIT_FAILURE,
        }
    }

    /// The platform's error inside this one, if it is one.
    pub fn platform(&self) -> Option<&PlatformError> {
        match self {
            Error::Platform(e) | Error::PlatformDuring { source: e, .. } => Some(e),
            _ => None,
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// The exit code of a platform's error: 4 for a dead token, 2 for unusable adapter
/// settings, else 1 (a later pass may succeed, or the log says what to fix).
fn platform_exit_code(e: &PlatformError) -> i32 {
    match e {
        PlatformError::Token(_) => EXIT_TOKEN,
        PlatformError::Config(_) => EXIT_BAD_INPUT,
        _ => EXIT_FAILURE,
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error from a layer the core does not depend on (SQLite), kept with its source chain.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::ObjectId;

    fn platform(e: PlatformError) -> Error {
        Error::Platform(e)
    }

    /// Each kind's exit code: 2 bad input, 3 busy, 4 a dead token (also inside a step or
    /// as the whole of a pass), 1 every other failure, including a pause that failed for
    /// a dead token (money that may be spending comes first).
    #[test]
    fn every_kind_has_its_exit_code() {
        let token = || PlatformError::Token("Meta API error 190: expired".into());
        let cases: Vec<(Error, i32)> = vec![
            (
                Error::Invalid {
                    path: "x.toml".into(),
                    problems: Vec::new(),
                },
                EXIT_BAD_INPUT,
            ),
            (Error::BadInput("no such run".into()), EXIT_BAD_INPUT),
            (Error::Busy("locked".into()), EXIT_BUSY),
            (platform(token()), EXIT_TOKEN),
            (
                Error::PlatformDuring {
                    message: "uploading stopped".into(),
                    source: token(),
                },
                EXIT_TOKEN,
            ),
            (
                Error::PassFailed {
                    failed: 2,
                    token: true,
                },
                EXIT_TOKEN,
            ),
            (
                Error::PassFailed {
                    failed: 2,
                    token: false,
                },
                EXIT_FAILURE,
            ),
            (
                platform(PlatformError::Config("http://x".into())),
                EXIT_BAD_INPUT,
            ),
            (
                platform(PlatformError::Throttled {
                    retry_after: None,
                    message: "80000".into(),
                }),
                EXIT_FAILURE,
            ),
            (
                platform(PlatformError::Transient("502".into())),
                EXIT_FAILURE,
            ),
            (
                platform(PlatformError::Permission("10".into())),
                EXIT_FAILURE,
            ),
            (platform(PlatformError::rejected("100")), EXIT_FAILURE),
            (
                platform(PlatformError::Protocol("no id".into())),
                EXIT_FAILURE,
            ),
            (
                platform(PlatformError::Conflict("two".into())),
                EXIT_FAILURE,
            ),
            (
                platform(PlatformError::NotFound {
                    object: ObjectId("1".into()),
                    message: "gone".into(),
                }),
                EXIT_FAILURE,
            ),
            (
                platform(PlatformError::UnknownObject(ObjectId("1".into()))),
                EXIT_FAILURE,
            ),
            (platform(PlatformError::Other("368".into())), EXIT_FAILURE),
            (
                Error::PauseFailed {
                    run: 1,
                    source: Box::new(platform(token())),
                    advice: "switch it off".into(),
                },
                EXIT_FAILURE,
            ),
            (
                Error::FailedUnpaused {
                    run: 1,
                    source: Box::new(platform(token())),
                    advice: "switch it off".into(),
                },
                EXIT_FAILURE,
            ),
            (Error::StoredData("bad gzip".into()), EXIT_FAILURE),
            (
                Error::RunFailed {
                    run: 1,
                    message: "failed earlier".into(),
                },
                EXIT_FAILURE,
            ),
            (Error::ChecksFailed { failed: 1 }, EXIT_FAILURE),
            (
                Error::Chart {
                    path: "a.png".into(),
                    source: "drawing".into(),
                },
                EXIT_FAILURE,
            ),
            (Error::Sql("disk I/O".into()), EXIT_FAILURE),
            (
                Error::io("reading", std::io::Error::other("x")),
                EXIT_FAILURE,
            ),
        ];
        for (e, code) in cases {
            assert_eq!(e.exit_code(), code, "{e:?}");
        }
    }

    /// The platform's kind is reachable from the top-level error, and the wrappers keep
    /// the messages callers read.
    #[test]
    fn the_platform_kind_survives_and_messages_keep_their_words() {
        let e = Error::PlatformDuring {
            message: "Meta did not accept the campaign: expired".into(),
            source: PlatformError::Token("expired".into()),
        };
        assert!(matches!(e.platform(), Some(PlatformError::Token(_))));
        let paused = Error::PauseFailed {
            run: 3,
            source: Box::new(Error::Platform(PlatformError::Token("190".into()))),
            advice: "switch campaign 9 off".into(),
        };
        assert_eq!(
            paused.to_string(),
            "could not pause run 3: platform error: 190. Its ads may still be spending; switch campaign 9 off"
        );
        assert!(
            paused.platform().is_none(),
            "a failed pause is its own kind"
        );
    }
}
