//! Reports: everything in `results/<experiment>/`, rendered from an [`Analysis`].
//!
//! One exporter per output kind behind one trait (the way hyperfine's `export/` is laid
//! out). Exporters only format; every number they print was computed by `analysis`.

pub mod charts;
pub mod json;
pub mod markdown;
pub mod words;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::analysis::{Analysis, Inputs};
use crate::error::{Error, Result};
use crate::experiment::Experiment;
use crate::store::{CollectionRecord, Store, StoredRow};
use crate::vocab::Breakdown;

/// Everything a report shows: the analysis (every test and share) and what the charts need
/// beyond it from the store: the experiment (budgets), the latest totals with spend per
/// group, and the history of the totals over the collections.
#[derive(Debug, Clone)]
pub struct Report {
    pub analysis: Analysis,
    pub experiment: Experiment,
    /// Latest since-launch rows per breakdown (pooled over a design's partitions).
    pub totals: BTreeMap<Breakdown, Vec<StoredRow>>,
    /// The collections, in order.
    pub collections: Vec<CollectionRecord>,
    /// Per breakdown: each collection's since-launch rows, tagged with the collection id.
    pub history: BTreeMap<Breakdown, Vec<(i64, StoredRow)>>,
    /// The database the data came from (for provenance).
    pub database: Option<PathBuf>,
}

impl Report {
    /// The report of a stored run, analysed with `analysis` (which may carry command-line
    /// settings over the run's own).
    pub fn load(store: &Store, inputs: &Inputs, analysis: Analysis) -> Result<Report> {
        let mut history = BTreeMap::new();
        for b in &inputs.experiment.collect.breakdowns {
            history.insert(*b, store.total_history(inputs.record.id, *b)?);
        }
        Ok(Report {
            analysis,
            experiment: inputs.experiment.clone(),
            totals: inputs.totals.clone(),
            collections: inputs.collections.clone(),
            history,
            database: Some(store.path().to_path_buf()),
        })
    }
}

/// Writes one kind of output for a report into a directory.
pub trait Exporter {
    /// A short name for logs ("json", "markdown", "charts").
    fn name(&self) -> &'static str;
    /// Writes the output and returns the files written.
    fn export(&self, report: &Report, dir: &Path) -> Result<Vec<PathBuf>>;
}

/// The exporters `adskew report` runs, in order.
pub fn exporters() -> Vec<Box<dyn Exporter>> {
    vec![
        Box::new(json::JsonExporter),
        Box::new(markdown::MarkdownExporter),
        Box::new(charts::ChartExporter::default()),
    ]
}

/// Writes the full report into `dir` (created if needed).
pub fn write_all(report: &Report, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    let mut written = Vec::new();
    for exporter in exporters() {
        let files = exporter.export(report, dir)?;
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
