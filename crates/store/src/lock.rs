//! One writer at a time: a lock file next to the database, held while a command that
//! launches, collects or stops runs. Two overlapping cron jobs would otherwise both collect
//! (harmless for the data, which are snapshots, but not for a launch or a kill switch).
//!
//! The lock is the operating system's advisory file lock (`File::try_lock`), released when
//! the process exits in any way, so a crashed collector never leaves a stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Held while alive.
#[derive(Debug)]
pub struct DbLock {
    _file: File,
    path: PathBuf,
}

impl DbLock {
    /// The lock file of `db`: `<db>.lock`.
    pub fn path_for(db: &Path) -> PathBuf {
        let mut name = db.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Takes the lock of `db`, waiting up to `wait` for another holder to finish.
    pub fn acquire(db: &Path, wait: Duration) -> Result<DbLock> {
        Self::try_acquire(db, wait)?.map_err(|holder| {
            Error::Busy(format!(
                "{} is in use by another adskew ({holder}); waited {} s. It finishes by itself; \
                 try again later or give --wait SECONDS",
                db.display(),
                wait.as_secs()
            ))
            .into()
        })
    }

    /// [`DbLock::acquire`], but a lock still held after `wait` is an answer, not an error:
    /// who holds it (for `adskew stop`, which acts without the lock).
    pub fn try_acquire(db: &Path, wait: Duration) -> Result<Result<DbLock, String>> {
        let path = Self::path_for(db);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(format!("cannot open the lock file {}", path.display()), e))?;
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    return Ok(Err(holder.trim().replace('\n', ", ")));
                }
                Err(TryLockError::Error(e)) => {
                    return Err(Error::io(format!("cannot lock {}", path.display()), e).into())
                }
            }
        }
        // Who holds it, for the message another process prints.
        let _ = file.set_len(0);
        let _ = file.seek(SeekFrom::Start(0));
        let _ = write!(
            file,
            "pid {} since {}",
            std::process::id(),
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        let _ = file.flush();
        Ok(Ok(DbLock { _file: file, path }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_then_gives_up_with_the_first_ones_pid() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        let first = DbLock::acquire(&db, Duration::ZERO).unwrap();
        assert!(first.path().ends_with("a.db.lock"));
        let started = Instant::now();
        let err = DbLock::acquire(&db, Duration::from_millis(300)).unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(300));
        let text = err.to_string();
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        drop(first);
        assert!(DbLock::acquire(&db, Duration::ZERO).is_ok());
    }
}
