//! What a command created on disk for the database (its folders, the file itself), so that a
//! command refused before it wrote anything can take it all back: bad input leaves nothing
//! behind, not even an empty folder. Used by the lock and by [`crate::Store::open`].

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Folders created for a file at some path, outermost first.
#[derive(Debug, Default)]
pub(crate) struct CreatedDirs(Vec<PathBuf>);

impl CreatedDirs {
    /// Creates the folder `file` is in, with any missing parents, remembering which of them
    /// did not exist before.
    pub(crate) fn for_file(file: &Path) -> Result<CreatedDirs> {
        let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) else {
            return Ok(CreatedDirs::default());
        };
        let missing: Vec<PathBuf> = dir
            .ancestors()
            .filter(|d| !d.as_os_str().is_empty())
            .take_while(|d| !d.exists())
            .map(Path::to_path_buf)
            .collect();
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
        Ok(CreatedDirs(missing.into_iter().rev().collect()))
    }

    /// These and `more` (made later for the same file), outermost first.
    pub(crate) fn add(&mut self, more: CreatedDirs) {
        self.0.extend(more.0);
        self.0.sort_by_key(|d| d.components().count());
        self.0.dedup();
    }

    /// Removes the created folders that are empty, innermost first; one that holds anything
    /// (another process's file, a database kept) stays, and so do its parents.
    pub(crate) fn remove_empty(self) {
        for dir in self.0.iter().rev() {
            if std::fs::remove_dir(dir).is_err() {
                return;
            }
        }
    }
}

/// A database file this process created, with the folders made for it.
#[derive(Debug)]
pub(crate) struct CreatedFile {
    pub(crate) path: PathBuf,
    pub(crate) dirs: CreatedDirs,
}

impl CreatedFile {
    /// Removes the file, SQLite's files beside it, and the folders made for it. Called only
    /// once the connection is closed and the file holds nothing.
    pub(crate) fn remove(self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut name = self.path.as_os_str().to_owned();
            name.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(name));
        }
        self.dirs.remove_empty();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_folders_made_are_removed_and_only_when_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("a/b/c.db");
        let dirs = CreatedDirs::for_file(&file).unwrap();
        assert!(tmp.path().join("a/b").is_dir());
        dirs.remove_empty();
        assert!(!tmp.path().join("a").exists());
        assert!(tmp.path().exists());

        let dirs = CreatedDirs::for_file(&file).unwrap();
        std::fs::write(tmp.path().join("a/kept"), "x").unwrap();
        dirs.remove_empty();
        assert!(!tmp.path().join("a/b").exists());
        assert!(tmp.path().join("a/kept").exists());
    }
}
