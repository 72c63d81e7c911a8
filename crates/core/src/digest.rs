//! SHA-256 as adskew writes it everywhere: lowercase hex of 64 characters.
//!
//! One implementation, so that the hash of a file stored by one crate (an experiment, an
//! archived call, an imported export, a people file) is the hash another crate compares it
//! with, and so that no crate but this one depends on `sha2` and `hmac`.

use sha2::{Digest, Sha256};
use std::io::Read;

/// Lowercase hex SHA-256 of some bytes (a `&str` hashes its UTF-8 bytes).
pub fn sha256_hex(bytes: impl AsRef<[u8]>) -> String {
    hex(&Sha256::digest(bytes.as_ref()))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lowercase hex HMAC-SHA256 of a message under a key (of any length).
pub fn hmac_sha256_hex(key: impl AsRef<[u8]>, message: impl AsRef<[u8]>) -> String {
    use hmac::Mac;
    let mut mac =
        hmac::Hmac::<Sha256>::new_from_slice(key.as_ref()).expect("HMAC takes keys of any length");
    mac.update(message.as_ref());
    hex(&mac.finalize().into_bytes())
}

/// A reader that hashes every byte it passes on, for a file read once whose hash is kept
/// (a people file is parsed as a stream and never held whole).
pub struct HashingReader<R> {
    inner: R,
    digest: Sha256,
}

impl<R> HashingReader<R> {
    pub fn new(inner: R) -> HashingReader<R> {
        HashingReader {
            inner,
            digest: Sha256::new(),
        }
    }

    /// The lowercase hex SHA-256 of every byte read so far.
    pub fn finish_hex(self) -> String {
        hex(&self.digest.finalize())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digest.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // printf '' | sha256sum; printf 'abc' | sha256sum
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hmac_known_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn the_reader_hashes_what_it_passes_on() {
        let mut r = HashingReader::new(&b"abc"[..]);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abc");
        assert_eq!(r.finish_hex(), sha256_hex("abc"));
    }
}
