//! Ad images: a creative whose `image` is a local file gets it uploaded to the account's
//! image library (`POST act_{id}/adimages`) and refers to it by the returned `image_hash`.
//!
//! Why: an image-variant audit (the image is what drives skew, Ali et al. 2019 §4.2) must
//! show every participant exactly the image the researcher chose. `picture` asks Meta to
//! fetch a URL, which may change or vanish between launch and review; an uploaded file is
//! fixed by its hash. The file is sent as `bytes` (base64 in the form body, as Meta's SDK
//! examples do), so no multipart client is needed. Each distinct file is uploaded once per
//! run: creatives sharing a file share its hash.

use std::path::Path;

use base64::Engine;
use serde_json::Value;

use adskew_core::platform::PlatformError;

/// Whether a creative's `image` names a file to upload rather than a URL to fetch.
pub fn is_local_file(image: &str) -> bool {
    !(image.starts_with("https://") || image.starts_with("http://")) && Path::new(image).is_file()
}

/// A local image file read for upload. The adapter uploads it (this module knows no
/// client, so the dependency goes one way: adapter → images).
pub struct LocalImage {
    pub bytes: Vec<u8>,
    /// The SHA-256 of the bytes: a run uploads each distinct content once.
    pub content: String,
}

impl LocalImage {
    pub fn read(path: &Path) -> Result<LocalImage, PlatformError> {
        let bytes = std::fs::read(path).map_err(|e| PlatformError::Io {
            context: format!("cannot read image {}", path.display()),
            source: e,
        })?;
        let content = adskew_core::digest::sha256_hex(&bytes);
        Ok(LocalImage { bytes, content })
    }

    /// The form of `POST act_{id}/adimages`: the file as base64 `bytes`.
    pub fn upload_params(&self) -> Vec<(String, String)> {
        vec![(
            "bytes".to_string(),
            base64::engine::general_purpose::STANDARD.encode(&self.bytes),
        )]
    }
}

/// The image hash in Meta's answer to an upload of `path`:
/// `{"images": {"bytes": {"hash": "...", "url": "..."}}}`; the inner key is the upload's
/// name, so whichever entry there is.
pub fn uploaded_hash(answer: &Value, path: &Path) -> Result<String, PlatformError> {
    answer
        .get("images")
        .and_then(Value::as_object)
        .and_then(|m| m.values().next())
        .and_then(|i| i.get("hash"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            PlatformError::Protocol(format!(
                "uploading image {}: no images.*.hash in Meta's answer",
                path.display()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_fetched_files_uploaded() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.png");
        std::fs::write(&file, b"\x89PNG").unwrap();
        assert!(is_local_file(file.to_str().unwrap()));
        assert!(!is_local_file("https://img.example.org/a.png"));
        assert!(!is_local_file(
            dir.path().join("missing.png").to_str().unwrap()
        ));
        assert!(
            !is_local_file(dir.path().to_str().unwrap()),
            "a directory is not an image"
        );
    }
}
