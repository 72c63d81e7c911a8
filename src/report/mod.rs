//! Reports: everything in `results/<experiment>/`, rendered from an [`Analysis`].
//!
//! One exporter per output kind behind one trait (the way hyperfine's `export/` is laid
//! out). Exporters only format; every number they print was computed by `analysis`.

pub mod chart;
pub mod json;
pub mod markdown;
pub mod words;

use std::path::{Path, PathBuf};

use crate::analysis::Analysis;
use crate::error::{Error, Result};

/// Writes one kind of output for an analysis into a directory.
pub trait Exporter {
    /// A short name for logs ("json", "markdown", "charts").
    fn name(&self) -> &'static str;
    /// Writes the output and returns the files written.
    fn export(&self, analysis: &Analysis, dir: &Path) -> Result<Vec<PathBuf>>;
}

/// The exporters `adskew report` runs, in order.
pub fn exporters() -> Vec<Box<dyn Exporter>> {
    vec![
        Box::new(json::JsonExporter),
        Box::new(markdown::MarkdownExporter),
        Box::new(chart::ChartExporter),
    ]
}

/// Writes the full report for `analysis` into `dir` (created if needed).
pub fn write_all(analysis: &Analysis, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    let mut written = Vec::new();
    for exporter in exporters() {
        let files = exporter.export(analysis, dir)?;
        tracing::debug!(exporter = exporter.name(), files = files.len(), "exported");
        written.extend(files);
    }
    Ok(written)
}

/// Writes a file atomically (temporary file, then rename) so a report is never half-written.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    std::fs::write(&tmp, bytes)
        .map_err(|e| Error::io(format!("cannot write {}", tmp.display()), e))?;
    std::fs::rename(&tmp, path)
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}
