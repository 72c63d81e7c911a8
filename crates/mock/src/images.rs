//! The ad image library in the mock: `POST act_X/adimages` with `bytes` (base64) answers
//! `{"images": {"bytes": {"hash": ..., "url": ...}}}` as Meta does, and creatives may then
//! use `link_data.image_hash`; an unknown hash is refused with code 100.
//!
//! The hash is the first 32 hex digits of the image's SHA-256: the same shape as Meta's
//! (32 hex digits), and like Meta's the same for the same bytes. Upload and use counts are
//! exposed so a test can see an image uploaded once and used by its hash.

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::json;

use super::error::{invalid, GraphError};
use super::request::{Params, Upload};
use super::Mock;

#[derive(Default)]
struct State_ {
    uploads: u64,
    /// hash -> url
    images: BTreeMap<String, String>,
    /// creative id -> image hash
    used: BTreeMap<String, String>,
}

#[derive(Default)]
pub struct Registry(Mutex<State_>);

impl Registry {
    fn with<T>(&self, f: impl FnOnce(&mut State_) -> T) -> T {
        f(&mut self.0.lock().expect("images lock"))
    }
}

/// Whether the bytes start like an image format Meta accepts.
fn looks_like_image(b: &[u8]) -> bool {
    b.starts_with(b"\x89PNG\r\n\x1a\n")
        || b.starts_with(b"\xff\xd8\xff")
        || b.starts_with(b"GIF8")
        || b.starts_with(b"BM")
        || b.starts_with(b"II*\0")
        || b.starts_with(b"MM\0*")
        || (b.len() > 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP")
}

/// `POST act_X/adimages`: an image as a file part of a multipart body (the SDKs' and
/// Meta's curl examples' way) or base64 in `bytes`. Answered as Meta answers, keyed by the
/// file name (`bytes` for base64).
pub(crate) fn upload(
    mock: &Mock,
    p: &Params,
    files: &std::collections::BTreeMap<String, Upload>,
) -> Result<Response, GraphError> {
    let mut images = Vec::new();
    for upload in files.values() {
        images.push((upload.filename.clone(), upload.bytes.clone()));
    }
    if let Some(encoded) = p.get("bytes") {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| invalid("bytes must be the image encoded as base64").blame(&["bytes"]))?;
        images.push(("bytes".to_string(), bytes));
    }
    if images.is_empty() {
        return Err(invalid(
            "give the image as a file (multipart, e.g. curl -F 'filename=@image.png') or base64 in bytes",
        ));
    }
    let mut answer = serde_json::Map::new();
    for (name, bytes) in images {
        if !looks_like_image(&bytes) {
            return Err(invalid(&format!(
                "{name} is not an image Meta accepts (JPEG, PNG, GIF, BMP, TIFF or WebP)"
            )));
        }
        // Meta's image hashes are 32 hex characters: the first half of the SHA-256.
        let mut hash = adskew_core::digest::sha256_hex(&bytes);
        hash.truncate(32);
        let url = format!("https://scontent.mock.invalid/adimages/{hash}");
        mock.images.with(|s| {
            s.uploads += 1;
            s.images.insert(hash.clone(), url.clone());
        });
        answer.insert(name, json!({"hash": hash, "url": url}));
    }
    Ok(Json(json!({ "images": answer })).into_response())
}

/// `GET act_X/adimages`: the library, optionally only `hashes=[...]`.
pub(crate) fn list(mock: &Mock, p: &Params, at: &super::edges::Paging<'_>) -> Response {
    let wanted: Option<Vec<String>> = p.get("hashes").and_then(|h| serde_json::from_str(h).ok());
    let rows: Vec<serde_json::Value> = mock.images.with(|s| {
        s.images
            .iter()
            .filter(|(hash, _)| wanted.as_ref().is_none_or(|w| w.contains(hash)))
            .map(|(hash, url)| json!({"id": hash, "hash": hash, "url": url}))
            .collect()
    });
    super::edges::page(&rows, p, at, false)
}

impl Mock {
    /// `adimages` requests that stored an image.
    pub fn image_uploads(&self) -> u64 {
        self.images.with(|s| s.uploads)
    }

    /// The image hash a creative was created with, if it used one.
    pub fn creative_image_hash(&self, creative: &str) -> Option<String> {
        self.images.with(|s| s.used.get(creative).cloned())
    }

    /// The stored URL of an uploaded image, or a code-100 failure for an unknown hash.
    pub(crate) fn image_url(&self, hash: &str) -> Result<String, GraphError> {
        self.images
            .with(|s| s.images.get(hash).cloned())
            .ok_or_else(|| {
                invalid(&format!(
                    "image_hash {hash} is not in this ad account's image library (upload it to adimages first)"
                ))
            })
    }

    pub(crate) fn record_image_use(&self, creative: &str, hash: &str) {
        self.images
            .with(|s| s.used.insert(creative.to_string(), hash.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_signatures() {
        assert!(looks_like_image(b"\x89PNG\r\n\x1a\n...."));
        assert!(looks_like_image(b"\xff\xd8\xff\xe0"));
        assert!(!looks_like_image(b"email,phone\n"));
    }
}
