//! An ad's `image`: a URL, or a file that is an image. Only an image is ever read and
//! uploaded: a path such as `../../etc/passwd` names a file, but not a picture, and is
//! refused at validation, before anything is created or spent.

use std::io::Read;
use std::path::Path;

/// Meta's limit for an ad image (30 MB); a larger file would be refused after the campaign
/// exists.
pub const MAX_IMAGE_BYTES: u64 = 30 * 1024 * 1024;

/// Why `image` (as written, relative to `base_dir`) cannot be an ad's image: the message
/// and the fix.
pub fn problem(base_dir: &Path, image: &str) -> Option<(String, &'static str)> {
    if image.starts_with("https://") || image.starts_with("http://") {
        return None;
    }
    let path = base_dir.join(image);
    let Ok(meta) = std::fs::metadata(&path) else {
        return Some((
            format!("`{image}` is neither a URL nor a file next to the experiment"),
            "paths are relative to the experiment file, e.g. image = \"images/nurse.png\"",
        ));
    };
    if !meta.is_file() {
        return Some((
            format!("`{image}` is not a file"),
            "give a PNG, JPEG or GIF file, relative to the experiment file",
        ));
    }
    if meta.len() > MAX_IMAGE_BYTES {
        return Some((
            format!(
                "`{image}` is {} MB; Meta takes images up to 30 MB",
                meta.len() / 1_000_000
            ),
            "export it smaller (1080 × 1080 pixels is Meta's recommended size)",
        ));
    }
    if !is_picture(&path) {
        return Some((
            format!("`{image}` is not a PNG, JPEG or GIF image (judged by its first bytes)"),
            "give the ad's picture as a PNG, JPEG or GIF file",
        ));
    }
    None
}

/// Whether the file starts as a PNG, JPEG or GIF does.
fn is_picture(path: &Path) -> bool {
    let mut head = [0u8; 8];
    let Ok(n) = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)) else {
        return false;
    };
    let head = &head[..n];
    head.starts_with(b"\x89PNG\r\n\x1a\n")
        || head.starts_with(&[0xFF, 0xD8, 0xFF])
        || head.starts_with(b"GIF8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pictures_pass() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.png"), b"\x89PNG\r\n\x1a\nrest").unwrap();
        std::fs::write(dir.path().join("b.jpg"), [0xFF, 0xD8, 0xFF, 0xE0]).unwrap();
        std::fs::write(dir.path().join("secret"), b"root:x:0:0").unwrap();
        assert!(problem(dir.path(), "a.png").is_none());
        assert!(problem(dir.path(), "b.jpg").is_none());
        assert!(problem(dir.path(), "https://example.org/x.png").is_none());
        let (message, _) = problem(dir.path(), "secret").unwrap();
        assert!(message.contains("not a PNG"), "{message}");
        assert!(problem(dir.path(), "missing.png").is_some());
        assert!(problem(dir.path(), ".").unwrap().0.contains("not a file"));
    }
}
