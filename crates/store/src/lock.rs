//! One writer at a time: a lock file next to the database, held while a command that
//! launches, collects or stops runs. Two overlapping cron jobs would otherwise both collect
//! (harmless for the data, which are snapshots, but not for a launch or a kill switch).
//!
//! The lock is the operating system's advisory file lock (`File::try_lock`), released when
//! the process exits in any way, so a crashed collector never leaves a stale lock behind.
//! The holder removes the file (and a folder it created for it) when it lets go, so a
//! command leaves no `<db>.lock` behind, refused or not. A waiter that then gets the lock
//! on the removed file notices (the path no longer names its file) and takes the lock anew.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::created::CreatedDirs;
use crate::error::{Error, Result};

/// Held while alive; dropping it removes the lock file, then releases the lock.
#[derive(Debug)]
pub struct DbLock {
    _file: File,
    path: PathBuf,
    dirs: Option<CreatedDirs>,
}

impl Drop for DbLock {
    fn drop(&mut self) {
        // Removed while still held: whoever locks the old file next sees it is gone.
        let _ = std::fs::remove_file(&self.path);
        if let Some(dirs) = self.dirs.take() {
            dirs.remove_empty();
        }
    }
}

/// Whether `file` is still the file at `path` (not removed by a holder that let go).
fn still_at(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
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
        let deadline = Instant::now() + wait;
        let mut dirs = CreatedDirs::default();
        let mut file = open_lock_file(&path, &mut dirs)?;
        loop {
            match file.try_lock() {
                Ok(()) if still_at(&file, &path) => break,
                // The holder removed it as it let go: lock the file now at the path.
                Ok(()) => file = open_lock_file(&path, &mut dirs)?,
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
        Ok(Ok(DbLock {
            _file: file,
            path,
            dirs: Some(dirs),
        }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Opens (creating) the lock file at `path` and its folder, adding the folders it made to
/// `dirs`. A holder letting go may remove the folder between the two: then again.
fn open_lock_file(path: &Path, dirs: &mut CreatedDirs) -> Result<File> {
    let mut attempts = 0;
    loop {
        dirs.add(CreatedDirs::for_file(path)?);
        let opened = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path);
        match opened {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && attempts < 3 => attempts += 1,
            Err(e) => {
                let context = format!("cannot open the lock file {}", path.display());
                return Err(Error::io(context, e).into());
            }
            Ok(file) => return Ok(file),
        }
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
        assert!(
            !db.with_extension("db.lock").exists(),
            "the holder removes the file"
        );
        assert!(DbLock::acquire(&db, Duration::ZERO).is_ok());
    }

    /// A waiter that gets the lock of a file its holder removed takes the lock anew, so two
    /// processes never hold "the" lock at once.
    #[test]
    fn a_waiter_on_a_removed_file_locks_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("new/a.db");
        let first = DbLock::acquire(&db, Duration::ZERO).unwrap();
        let waiter = std::thread::spawn({
            let db = db.clone();
            move || DbLock::acquire(&db, Duration::from_secs(5)).unwrap()
        });
        std::thread::sleep(Duration::from_millis(300));
        drop(first);
        let second = waiter.join().unwrap();
        assert!(still_at(&second._file, second.path()));
        // Held: a third cannot have it.
        assert!(DbLock::try_acquire(&db, Duration::ZERO).unwrap().is_err());
        drop(second);
        assert!(
            !dir.path().join("new").exists(),
            "the folder made for the lock is gone"
        );
    }
}
