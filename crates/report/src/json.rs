//! `results.json`: every number of the analysis, with the experiment's hashes and the
//! adskew version, for scripts and for reviewers who want to check the figures.

use std::path::{Path, PathBuf};

use super::{write_file, Exporter, Report};
use adskew_core::error::Result;

pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn name(&self) -> &'static str {
        "json"
    }

    fn export(&self, report: &Report, dir: &Path) -> Result<Vec<PathBuf>> {
        let path = dir.join("results.json");
        let mut text = serde_json::to_string_pretty(&report.analysis).expect("analysis serialises");
        text.push('\n');
        write_file(&path, text.as_bytes())?;
        Ok(vec![path])
    }
}
