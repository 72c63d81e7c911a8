//! Reports: everything in `results/<experiment>/`, rendered from an [`Analysis`].
//!
//! One exporter per output kind behind one trait (the way hyperfine's `export/` is laid
//! out). Exporters only format; every number they print was computed by `analysis`.

pub mod anytime;
pub mod charts;
pub mod figures_tex;
pub mod folder;
pub mod html;
pub mod json;
pub mod labels;
pub mod markdown;
pub mod tables;
pub mod words;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use adskew_core::analysis::{Analysis, Inputs};
use adskew_core::error::{Error, Result};
use adskew_core::experiment::Experiment;
use adskew_core::vocab::{Breakdown, Metric};
use adskew_store::{CollectionRecord, Store, StoredRow};

/// Everything a report shows: the analysis (every test and share) and what the charts need
/// beyond it from the store: the experiment (budgets), the latest totals with spend per
/// group, and the history of the totals over the collections.
#[derive(Debug, Clone)]
pub struct Report {
    pub analysis: Analysis,
    /// The same analysis on the other count (impressions when reach is tested, and the
    /// other way round), for the robustness table; tested and corrected on its own.
    pub other_metric: Option<Analysis>,
    pub experiment: Experiment,
    /// Latest since-launch rows per breakdown (pooled over a design's partitions).
    pub totals: BTreeMap<Breakdown, Vec<StoredRow>>,
    /// The collections, in order.
    pub collections: Vec<CollectionRecord>,
    /// Per breakdown: each collection's since-launch rows, tagged with the collection id.
    pub history: BTreeMap<Breakdown, Vec<(i64, StoredRow)>>,
    /// The anytime-valid looks stored with each collection (`analysis::sequential`).
    pub looks: Vec<adskew_core::analysis::sequential::CollectionLooks>,
    /// The database the data came from (for provenance).
    pub database: Option<PathBuf>,
    /// The charts, drawn once for every exporter that shows them.
    drawings: charts::Drawings,
}

impl Report {
    /// The report of a stored run, analysed with `analysis` (which may carry command-line
    /// settings over the run's own). Takes the inputs, whose totals and history it keeps
    /// (a million-row run's history is too large to copy for nothing); their history, read
    /// with the totals by `Store::report_inputs`, is read here if they have none.
    pub fn load(store: &Store, mut inputs: Inputs, analysis: Analysis) -> Result<Report> {
        let history = match inputs.history.take() {
            Some(history) => history,
            None => {
                let mut history = BTreeMap::new();
                for b in &inputs.experiment.collect.breakdowns {
                    history.insert(*b, store.total_history(inputs.record.id, *b)?);
                }
                history
            }
        };
        // The other metric's analysis: the same inputs, the settings given, the metric
        // switched; then the run's own settings back.
        let own = std::mem::replace(&mut inputs.experiment.analysis, analysis.settings.clone());
        inputs.experiment.analysis.metric = match analysis.settings.metric {
            Metric::Impressions => Metric::Reach,
            _ => Metric::Impressions,
        };
        let other_metric = adskew_core::analysis::analyze(&inputs);
        inputs.experiment.analysis = own;
        Ok(Report {
            other_metric: Some(other_metric),
            analysis,
            looks: store.looks(inputs.record.id)?,
            experiment: inputs.experiment,
            totals: inputs.totals,
            collections: inputs.collections,
            history,
            database: Some(store.path().to_path_buf()),
            drawings: charts::Drawings::default(),
        })
    }
}

/// Writes one kind of output for a report into a directory. Exporters write different
/// files, so [`write`] runs them at the same time.
pub trait Exporter: Sync {
    /// A short name for logs ("json", "markdown", "charts").
    fn name(&self) -> &'static str;
    /// Writes the output and returns the files written.
    fn export(&self, report: &Report, dir: &Path) -> Result<Vec<PathBuf>>;
}

adskew_core::vocabulary!(
    /// An output format of `adskew report --format`.
    Format { Html => "html", Md => "md", Tex => "tex", Csv => "csv", Json => "json", Svg => "svg", Png => "png", Pdf => "pdf" }
);

/// The exporters for `formats` (all of them when empty), in order.
pub fn exporters(formats: &[Format]) -> Vec<Box<dyn Exporter>> {
    let on = |f: Format| formats.is_empty() || formats.contains(&f);
    let mut out: Vec<Box<dyn Exporter>> = Vec::new();
    if on(Format::Json) {
        out.push(Box::new(json::JsonExporter));
    }
    // PDF only when asked for: it is not part of "all formats".
    let figures = charts::Formats {
        svg: on(Format::Svg),
        png: on(Format::Png),
        pdf: formats.contains(&Format::Pdf),
    };
    if on(Format::Md) {
        // report.md links the figures this report writes, and only those.
        out.push(Box::new(markdown::MarkdownExporter { figures }));
    }
    if figures.svg || figures.png || figures.pdf {
        out.push(Box::new(charts::ChartExporter { formats: figures }));
    }
    if on(Format::Md) || on(Format::Tex) || on(Format::Csv) {
        out.push(Box::new(tables::TablesExporter {
            markdown: on(Format::Md),
            latex: on(Format::Tex),
            csv: on(Format::Csv),
        }));
    }
    // LaTeX includes PDF figures, else PNG; SVG it cannot.
    let included = if figures.pdf {
        Some("pdf")
    } else if figures.png {
        Some("png")
    } else {
        None
    };
    if let (true, Some(ext)) = (on(Format::Tex), included) {
        out.push(Box::new(figures_tex::FiguresTexExporter { ext }));
    }
    if on(Format::Html) {
        out.push(Box::new(html::HtmlExporter));
    }
    out
}

/// Writes the full report into `dir` (created if needed).
pub fn write_all(report: &Report, out: &Path) -> Result<Written> {
    write(report, out, &[])
}

/// What a report wrote: its folder and files.
#[derive(Debug)]
pub struct Written {
    /// `OUT/<experiment name>`.
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
}

/// Writes the report in `formats` (all when empty) into its run's folder under `out`
/// (`out/<experiment name>/`, see [`folder`]: it holds one run, and appears only complete).
pub fn write(report: &Report, out: &Path, formats: &[Format]) -> Result<Written> {
    let experiment = &report.analysis.experiment;
    let folder = folder::ReportFolder::prepare(out, &experiment.name, experiment.id)?;
    let exporters = exporters(formats);
    // At once: the figures' PNGs are most of a report's time, and the other exporters
    // run beside them (a failure is reported in the exporters' order, as one by one).
    let outcomes: Vec<Result<Vec<PathBuf>>> = std::thread::scope(|scope| {
        let running: Vec<_> = exporters
            .iter()
            .map(|e| scope.spawn(|| e.export(report, folder.work())))
            .collect();
        running
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut files = Vec::new();
    for (exporter, written) in exporters.iter().zip(outcomes) {
        let written = written?;
        tracing::debug!(
            exporter = exporter.name(),
            files = written.len(),
            "exported"
        );
        files.extend(written.iter().map(|f| folder.final_path(f)));
    }
    let dir = folder.finish()?;
    Ok(Written { dir, files })
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
