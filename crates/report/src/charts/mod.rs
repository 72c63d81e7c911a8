//! Charts: the figures of a report, one chart kind per file, one look for all
//! ([`style`]).
//!
//! | Kind | File | Width | What it shows |
//! |---|---|---|---|
//! | `dot` | [`dot`] | one column | a group's share per ad with CI bars, sorted, against the eligible audience (Ali et al. 2019's job-ad figure); per comparison, and over every ad for gender |
//! | `paired` | [`paired`] | one column | the two ads of a two-ad comparison with CIs, connected, with the z-test's z and p (Imana et al. 2021) |
//! | `composition` | [`composition`] | two columns | each ad's whole composition by one breakdown as stacked bars |
//! | `over-time` | [`over_time`] | two columns | each ad's cumulative share since launch at every collection |
//! | `budget` | [`budget`] | one column | share against budget with a least-squares line and Pearson's r, when a comparison varies the budget (Ali et al. 2019 §4.1) |
//! | `cost` | [`cost`] | two columns | spend and cost per 1,000 people reached by gender, per ad |
//! | `sequential` | [`sequential`] | two columns | a two-ad comparison's difference of shares at every look (on the counts settled a revision window before each collection), with its anytime-valid confidence sequence as a band (issue 18) |
//!
//! Every kind follows the experiment's `[figures]` (or `report --style/--axis/--width`):
//! no title inside the figure in the paper style (the default), the share axis zoomed to
//! the data, full, or given, and an optional common width; ads, comparisons and groups
//! are named by their display labels ([`crate::labels`]) and ads keep one colour across
//! all figures ([`palette`]).
//!
//! [`figures`] gives every chart of a report as SVG text (for the HTML report);
//! [`ChartExporter`] writes them as files (SVG, 300-dpi PNG, and PDF on request). Each
//! chart is drawn once, as SVG with its font embedded ([`svg`], [`font`]); the PNG and
//! the PDF are rendered from that SVG ([`output`]), figures in parallel ([`parallel`]).
//! Charts only draw what `analysis` computed or the store holds; the one statistic
//! computed here is the budget chart's descriptive line fit.

pub mod budget;
pub mod composition;
pub mod cost;
pub mod dot;
pub mod font;
pub mod over_time;
pub mod paired;
pub mod palette;
pub mod sequential;
pub mod style;

mod output;
mod parallel;
mod strips;
mod svg;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend};

pub use self::style::ChartError;
use self::style::{Draw, DrawResult, Pen, Width};
use super::{write_file, Exporter, Report};
use crate::labels::Labels;
use adskew_core::analysis::{BreakdownResult, ComparisonResult, Share};
use adskew_core::error::{Error, Result};
use adskew_core::experiment::figures::{FigureStyle, FigureWidth};
use adskew_core::vocab::{AgeBucket, Breakdown, Metric, DEFAULT_GROUP};

/// One chart of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// File name without extension, unique within the report.
    pub stem: String,
    /// "dot", "paired", "composition", "over-time", "budget" or "cost".
    pub kind: &'static str,
    pub title: String,
    /// One sentence a paper could use as the figure's caption.
    pub caption: String,
    /// The figure's printed width.
    pub width: Width,
    /// The SVG document.
    pub svg: String,
}

/// Every chart of the report, rendered as SVG, in a fixed order: dot plots, paired plots,
/// compositions, over time, budget, cost. A chart that fails to draw is left out with a
/// warning (the exporter, by contrast, fails). Drawn once per report ([`Drawings`]).
pub fn figures(report: &Report) -> Vec<Figure> {
    report
        .drawings
        .get(report)
        .iter()
        .filter_map(|d| match &d.svg {
            Ok(svg) => Some(Figure {
                width: d.planned.width(),
                stem: d.planned.stem.clone(),
                kind: d.planned.kind,
                title: d.planned.title.clone(),
                caption: d.planned.caption.clone(),
                svg: svg.text.clone(),
            }),
            Err(e) => {
                tracing::warn!(stem = %d.planned.stem, error = %e, "chart not drawn");
                None
            }
        })
        .collect()
}

/// A planned chart and its SVG, or why it could not be drawn.
pub(crate) struct Drawn {
    planned: Planned,
    svg: std::result::Result<svg::Svg, ChartError>,
}

/// The report's charts, planned and drawn as SVG once, on first use: the Markdown and
/// HTML reports and the SVG and PDF files all take them from here (drawing every chart
/// again for each was a third of a report's time at a million rows), drawn on the
/// available cores. A clone starts empty and draws again when asked.
#[derive(Default)]
pub struct Drawings(std::sync::OnceLock<Vec<Drawn>>);

impl Drawings {
    fn get(&self, report: &Report) -> &[Drawn] {
        self.0.get_or_init(|| {
            let planned = plan(report);
            let svgs = parallel::map(&planned, svg::render);
            planned
                .into_iter()
                .zip(svgs)
                .map(|(planned, svg)| Drawn { planned, svg })
                .collect()
        })
    }
}

impl Clone for Drawings {
    fn clone(&self) -> Self {
        Drawings::default()
    }
}

impl std::fmt::Debug for Drawings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let drawn = self.0.get().map_or(0, Vec::len);
        write!(f, "Drawings({drawn} drawn)")
    }
}

/// Which files [`ChartExporter`] writes for each figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    pub svg: bool,
    /// At 300 dpi.
    pub png: bool,
    /// Vector, at the printed size, font embedded (rendered from the SVG).
    pub pdf: bool,
}

impl Default for Formats {
    /// SVG and PNG.
    fn default() -> Self {
        Formats {
            svg: true,
            png: true,
            pdf: false,
        }
    }
}

impl Formats {
    pub const ALL: Formats = Formats {
        svg: true,
        png: true,
        pdf: true,
    };
}

/// Writes `<stem>.svg`, `<stem>.png` (300 dpi) and, if asked, `<stem>.pdf` for every
/// figure of the report.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChartExporter {
    pub formats: Formats,
}

impl Exporter for ChartExporter {
    fn name(&self) -> &'static str {
        "charts"
    }

    /// Each figure's files are rendered and written on the available cores, one figure
    /// per worker at a time; the files are listed, and the first failure reported, in
    /// the figures' order.
    fn export(&self, report: &Report, dir: &Path) -> Result<Vec<PathBuf>> {
        let drawn = report.drawings.get(report);
        let mut written = Vec::new();
        let area =
            |d: &Drawn| u64::from(d.planned.width().svg_px()) * u64::from(d.planned.height());
        for files in parallel::map_largest_first(drawn, area, |d| self.files(d, dir)) {
            written.extend(files?);
        }
        Ok(written)
    }
}

impl ChartExporter {
    /// Writes one figure's files: the SVG as drawn, the PNG and the PDF from it.
    fn files(&self, d: &Drawn, dir: &Path) -> Result<Vec<PathBuf>> {
        let f = self.formats;
        let path = |ext: &str| dir.join(format!("{}.{ext}", d.planned.stem));
        // A chart that cannot be made names the file it was for.
        let made = |ext: &str, e: ChartError| Error::Chart {
            path: path(ext),
            source: Box::new(e),
        };
        let mut written = Vec::new();
        let mut file = |ext: &str, bytes: &[u8]| -> Result<()> {
            let path = path(ext);
            write_file(&path, bytes)?;
            written.push(path);
            Ok(())
        };
        let first = [(f.svg, "svg"), (f.png, "png"), (f.pdf, "pdf")]
            .into_iter()
            .find_map(|(on, ext)| on.then_some(ext));
        let Some(first) = first else {
            return Ok(written);
        };
        let svg = d.svg.as_ref().map_err(|e| made(first, e.again()))?;
        if f.svg {
            file("svg", svg.text.as_bytes())?;
        }
        if f.png || f.pdf {
            let tree = output::Tree::of(svg).map_err(|e| made(first, e))?;
            if f.png {
                file("png", &tree.png().map_err(|e| made("png", e))?)?;
            }
            if f.pdf {
                file("pdf", &tree.pdf().map_err(|e| made("pdf", e))?)?;
            }
        }
        Ok(written)
    }
}

/// A chart to draw and what to call it.
pub(crate) struct Planned {
    stem: String,
    kind: &'static str,
    title: String,
    caption: String,
    plot: Plot,
    /// The experiment's common width (`[figures] width`), over the kind's own.
    width: Option<Width>,
}

impl Planned {
    fn new(stem: String, kind: &'static str, title: String, caption: String, plot: Plot) -> Self {
        Planned {
            stem,
            kind,
            title,
            caption,
            plot,
            width: None,
        }
    }
}

impl Draw for Planned {
    fn width(&self) -> Width {
        self.width.unwrap_or_else(|| self.plot.width())
    }

    fn height(&self) -> u32 {
        self.plot.height()
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, pen: &Pen) -> DrawResult {
        self.plot.draw(area, pen)
    }
}

/// The title drawn inside a figure: none in the paper style (the caption outside carries
/// it), the title in the screen style.
pub fn in_figure_title(report: &Report, title: &str) -> String {
    match report.experiment.figures.style {
        FigureStyle::Paper => String::new(),
        FigureStyle::Screen => title.to_string(),
    }
}

/// Every chart kind's data.
pub(crate) enum Plot {
    Dot(dot::DotChart),
    Paired(paired::PairedChart),
    Composition(composition::CompositionChart),
    OverTime(over_time::OverTimeChart),
    Budget(budget::BudgetChart),
    Cost(cost::CostChart),
    Sequential(sequential::SequenceChart),
}

impl Draw for Plot {
    fn width(&self) -> Width {
        match self {
            Plot::Dot(c) => c.width(),
            Plot::Paired(c) => c.width(),
            Plot::Composition(c) => c.width(),
            Plot::OverTime(c) => c.width(),
            Plot::Budget(c) => c.width(),
            Plot::Cost(c) => c.width(),
            Plot::Sequential(c) => c.width(),
        }
    }

    fn height(&self) -> u32 {
        match self {
            Plot::Dot(c) => c.height(),
            Plot::Paired(c) => c.height(),
            Plot::Composition(c) => c.height(),
            Plot::OverTime(c) => c.height(),
            Plot::Budget(c) => c.height(),
            Plot::Cost(c) => c.height(),
            Plot::Sequential(c) => c.height(),
        }
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, pen: &Pen) -> DrawResult {
        match self {
            Plot::Dot(c) => c.draw(area, pen),
            Plot::Paired(c) => c.draw(area, pen),
            Plot::Composition(c) => c.draw(area, pen),
            Plot::OverTime(c) => c.draw(area, pen),
            Plot::Budget(c) => c.draw(area, pen),
            Plot::Cost(c) => c.draw(area, pen),
            Plot::Sequential(c) => c.draw(area, pen),
        }
    }
}

/// Every chart of the report, with unique stems.
fn plan(report: &Report) -> Vec<Planned> {
    let mut all = Vec::new();
    all.extend(dot::plan(report));
    all.extend(paired::plan(report));
    all.extend(composition::plan(report));
    all.extend(over_time::plan(report));
    all.extend(budget::plan(report));
    all.extend(cost::plan(report));
    all.extend(sequential::plan(report));
    let width = report.experiment.figures.width.map(|w| match w {
        FigureWidth::OneColumn => Width::OneColumn,
        FigureWidth::TwoColumn => Width::TwoColumn,
    });
    for p in &mut all {
        p.width = width;
    }
    let mut seen = BTreeSet::new();
    for p in &mut all {
        let base = p.stem.clone();
        let mut n = 2;
        while !seen.insert(p.stem.clone()) {
            p.stem = format!("{base}-{n}");
            n += 1;
        }
    }
    all
}

/// A file stem from parts: joined with `-`, anything but letters, digits, `-`, `_` and `.`
/// replaced by `_` ("65+" → "65_").
pub fn stem(parts: &[&str]) -> String {
    parts
        .join("-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Whether `b` is the gender breakdown with the default group in it.
fn has_default_group(b: &BreakdownResult) -> bool {
    b.breakdown == Breakdown::Gender && b.groups.iter().any(|g| g == DEFAULT_GROUP.as_str())
}

/// The group charted for a breakdown ([`BreakdownResult::headline_group`]).
pub fn group_of(b: &BreakdownResult) -> Option<String> {
    b.headline_group()
}

/// The (breakdown, group) pairs a comparison's charts show: women if gender was
/// collected, and the group of the comparison's z-test (a pre-registered group such as
/// Black users in a mirrored design, or an age bucket) if it is another; else the first
/// group of the first breakdown.
pub fn targets(c: &ComparisonResult) -> Vec<(&BreakdownResult, String)> {
    let mut out: Vec<(&BreakdownResult, String)> = Vec::new();
    if let Some(b) = c.breakdowns.iter().find(|b| has_default_group(b)) {
        out.push((b, DEFAULT_GROUP.as_str().to_string()));
    }
    for b in &c.breakdowns {
        if let Some(z) = &b.z_test {
            if !out
                .iter()
                .any(|(x, g)| x.breakdown == b.breakdown && *g == z.group)
            {
                out.push((b, z.group.clone()));
            }
        }
    }
    if out.is_empty() {
        if let Some(b) = c.breakdowns.iter().find(|b| !b.groups.is_empty()) {
            out.push((b, b.groups[0].clone()));
        }
    }
    out
}

/// File name (without extension) of the dot plot of `b` in comparison `c`, if `b` is
/// charted.
pub fn file_stem(c: &ComparisonResult, b: &BreakdownResult) -> Option<String> {
    targets(c)
        .into_iter()
        .find(|(x, _)| x.breakdown == b.breakdown)
        .map(|(b, group)| stem(&[&c.key, b.breakdown.as_str(), &group]))
}

/// Each ad's share of `group` in `b`, in the comparison's ad order.
pub fn shares_of<'a>(b: &'a BreakdownResult, group: &str) -> Vec<&'a Share> {
    b.shares.iter().filter(|s| s.group == group).collect()
}

/// A group as the object of "who are ...": its label, else "women", "aged 25-34",
/// "Black".
fn who(labels: &Labels, group: &str) -> String {
    if let Some(label) = labels.custom_group(group) {
        return label.to_string();
    }
    match group {
        "female" => "women".to_string(),
        "male" => "men".to_string(),
        "unknown" => "of unknown gender".to_string(),
        g if AgeBucket::parse(g).is_some() => format!("aged {g}"),
        g @ ("white" | "black" | "asian" | "hispanic" | "latino") => capitalised(g),
        g => format!("in {g}"),
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// A group as a legend entry: "women", "18-24", "Black", "Charlotte".
pub fn legend_label(group: &str) -> String {
    match group {
        "female" => "women".to_string(),
        "male" => "men".to_string(),
        "unknown" => "unknown".to_string(),
        g @ ("white" | "black" | "asian" | "hispanic" | "latino") => capitalised(g),
        g => g.to_string(),
    }
}

/// The value axis of a share chart, with its unit: "Share of people reached who are
/// women (%)", "Share of impressions shown to people aged 25-34 (%)".
pub fn share_axis(labels: &Labels, metric: Metric, group: &str) -> String {
    match metric {
        Metric::Impressions => format!("Share of impressions shown to {} (%)", labels.group(group)),
        _ => format!("Share of people reached who are {} (%)", who(labels, group)),
    }
}

/// "people reached" or "impressions": what the counts are.
pub fn metric_noun(metric: Metric) -> &'static str {
    match metric {
        Metric::Impressions => "impressions",
        _ => "people reached",
    }
}

/// A share in a caption: "share of people reached who were women".
pub fn share_phrase(labels: &Labels, metric: Metric, group: &str) -> String {
    match metric {
        Metric::Impressions => format!("share of impressions shown to {}", labels.group(group)),
        _ => format!("share of people reached who were {}", who(labels, group)),
    }
}

/// The reference (eligible audience's) share of `group` in `b`, where known.
pub fn reference_share(b: &BreakdownResult, group: &str) -> Option<f64> {
    let j = b.groups.iter().position(|g| g == group)?;
    b.eligible.get(j).copied()
}

/// "95% Wilson CI", for legends.
pub fn ci_short(settings: &adskew_core::experiment::AnalysisSettings) -> String {
    format!(
        "{}% {} CI",
        super::words::level_percent(settings.ci_level),
        super::words::ci_method_name(settings.ci)
    )
}

/// Ends a caption: names the dashed reference line if there is one, and the full stop.
pub fn end_caption(mut caption: String, b: &BreakdownResult, reference: Option<f64>) -> String {
    if let Some(r) = reference {
        caption.push_str(&format!(
            "; the dashed line marks {} at {}",
            reference_phrase(b),
            super::words::percent(r)
        ));
    }
    caption.push('.');
    caption
}

/// Where a breakdown's reference share came from, for captions.
pub fn reference_phrase(b: &BreakdownResult) -> &'static str {
    match b.eligible_source.as_deref() {
        Some("simulator") => "the eligible audience (simulator)",
        Some("experiment") => "the expected composition (experiment file)",
        Some("command line") => "the expected composition (--expected)",
        _ => "the eligible audience",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_file_names() {
        assert_eq!(
            stem(&["all-jobs", "gender", "female"]),
            "all-jobs-gender-female"
        );
        assert_eq!(stem(&["c 1", "age", "65+"]), "c_1-age-65_");
    }

    #[test]
    fn axes_name_the_group_and_the_unit() {
        let e = crate::labels::test_experiment("");
        let l = Labels::of(&e);
        assert_eq!(
            share_axis(&l, Metric::Reach, "female"),
            "Share of people reached who are women (%)"
        );
        assert_eq!(
            share_axis(&l, Metric::Reach, "black"),
            "Share of people reached who are Black (%)"
        );
        assert_eq!(
            share_axis(&l, Metric::Impressions, "25-34"),
            "Share of impressions shown to people aged 25-34 (%)"
        );
    }
}
