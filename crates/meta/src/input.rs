//! Files a user names on the command line, read within bounds.
//!
//! `std::fs::read` of `/dev/zero`, a FIFO or a runaway file allocates until the process is
//! killed, and a CSV reader buffering one endless record does the same. Every file an
//! import or an audience upload reads is therefore a regular file of at most a stated size,
//! checked before reading and enforced while reading (a file that grows past the limit
//! mid-read fails instead of being read on).

use std::io::Read;
use std::path::Path;

/// Why a file is not read at all.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("is {kind}, not a regular file")]
    NotRegular { kind: &'static str },
    #[error("is larger than adskew reads ({} MiB)", limit >> 20)]
    TooLarge { limit: u64 },
    #[error("cannot be read: {0}")]
    Io(#[from] std::io::Error),
}

/// The error [`Bounded`] reads end with once more than the limit has come.
#[derive(Debug, thiserror::Error)]
#[error("more than {limit} bytes")]
pub struct OverLimit {
    pub limit: u64,
}

impl Refusal {
    /// A read error as a refusal: [`OverLimit`] is `TooLarge`, anything else I/O.
    pub fn from_read(e: std::io::Error) -> Refusal {
        match e.get_ref().and_then(|i| i.downcast_ref::<OverLimit>()) {
            Some(o) => Refusal::TooLarge { limit: o.limit },
            None => Refusal::Io(e),
        }
    }
}

/// A reader that fails with [`OverLimit`] instead of yielding more than `limit` bytes.
pub struct Bounded<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // One byte more than may come, to tell "exactly the limit" from "over it".
        let want = buf
            .len()
            .min(usize::try_from(self.left + 1).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            return Err(std::io::Error::other(OverLimit { limit: self.limit }));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// `path` opened for reading if it is a regular file of at most `limit` bytes, as a reader
/// that stops with [`OverLimit`] past the limit.
pub fn open_regular(path: &Path, limit: u64) -> Result<Bounded<std::fs::File>, Refusal> {
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Refusal::NotRegular {
            kind: kind(&meta.file_type()),
        });
    }
    if meta.len() > limit {
        return Err(Refusal::TooLarge { limit });
    }
    Ok(Bounded {
        inner: file,
        left: limit,
        limit,
    })
}

/// The bytes of `path`, a regular file of at most `limit` bytes.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, Refusal> {
    let mut reader = open_regular(path, limit)?;
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(Refusal::from_read)?;
    Ok(bytes)
}

/// What a file that is not a regular file is, in words.
fn kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_fifo() {
            return "a pipe";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.csv");
        std::fs::write(&file, b"0123456789").unwrap();
        assert_eq!(
            read_regular(&file, 10).unwrap().len(),
            10,
            "exactly the limit"
        );
        assert!(matches!(
            read_regular(&file, 9),
            Err(Refusal::TooLarge { limit: 9 })
        ));
        assert!(matches!(
            read_regular(dir.path(), 10),
            Err(Refusal::NotRegular { kind: "a folder" })
        ));
        #[cfg(unix)]
        assert!(matches!(
            read_regular(Path::new("/dev/zero"), 10),
            Err(Refusal::NotRegular { kind: "a device" })
        ));
        // A file that grows past the limit while it is read stops there.
        let mut reader = Bounded {
            inner: std::io::repeat(0),
            left: 100,
            limit: 100,
        };
        let mut sink = Vec::new();
        let e = reader.read_to_end(&mut sink).unwrap_err();
        assert!(matches!(
            Refusal::from_read(e),
            Refusal::TooLarge { limit: 100 }
        ));
        assert!(sink.len() <= 100);
    }
}
