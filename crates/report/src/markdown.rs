//! `report.md`: what was run, the table of shares, and the results in words.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::words::{self, describe_breakdown, describe_paired_as};
use super::{charts, tables, write_file, Exporter, Report};
use adskew_core::analysis::Analysis;
use adskew_core::error::Result;
use adskew_core::records::RunOrigin;

/// Writes `report.md`; `figures` are the chart files the same report writes, which are
/// the only ones it links (a link to a file not beside it is a broken figure in a paper).
pub struct MarkdownExporter {
    pub figures: charts::Formats,
}

impl Exporter for MarkdownExporter {
    fn name(&self) -> &'static str {
        "markdown"
    }

    fn export(&self, report: &Report, dir: &Path) -> Result<Vec<PathBuf>> {
        let path = dir.join("report.md");
        let figures = charts::figures(report);
        let labels = crate::labels::Labels::of(&report.experiment);
        let text = render_linking(&report.analysis, &labels, &figures, self.figures);
        write_file(&path, text.as_bytes())?;
        Ok(vec![path])
    }
}

/// Renders the Markdown report with its figures linked as SVGs (`<stem>.svg`).
pub fn render(a: &Analysis, figures: &[charts::Figure]) -> String {
    let svg = charts::Formats {
        svg: true,
        png: false,
        pdf: false,
    };
    render_linking(a, &crate::labels::Labels::keys(), figures, svg)
}

/// Renders the Markdown report, linking each figure in the best of the `written` formats:
/// SVG, else PNG (both shown inline), else PDF (a link); none when no chart is written.
pub fn render_linking(
    a: &Analysis,
    labels: &crate::labels::Labels,
    figures: &[charts::Figure],
    written: charts::Formats,
) -> String {
    let mut s = String::new();
    let e = &a.experiment;
    let _ = writeln!(s, "# {}\n", e.name);
    if !e.description.trim().is_empty() {
        let _ = writeln!(s, "{}\n", e.description.trim());
    }
    what_was_run(&mut s, a);
    ads(&mut s, a, labels);
    results(&mut s, a, labels);
    crate::anytime::markdown(&mut s, a, labels);
    figures_section(&mut s, figures, written);
    provenance(&mut s, a);
    s
}

/// The run: platform, state, dates, collections, spend and the tests' settings.
fn what_was_run(s: &mut String, a: &Analysis) {
    let e = &a.experiment;
    let _ = writeln!(s, "## What was run\n");
    let _ = writeln!(s, "| | |\n|---|---|");
    let _ = writeln!(s, "| Platform | {} |", e.platform);
    match &e.state_cause {
        Some(cause) => {
            let _ = writeln!(s, "| State | {} ({}) |", e.state, cause.replace('|', "\\|"));
        }
        None => {
            let _ = writeln!(s, "| State | {} |", e.state);
        }
    }
    let _ = writeln!(
        s,
        "| Activated | {} |",
        e.started_at
            .as_deref()
            .map_or("-".to_string(), |t| format!("{t} (all ads together)"))
    );
    let _ = writeln!(s, "| Ended | {} |", e.ended_at.as_deref().unwrap_or("-"));
    let _ = writeln!(
        s,
        "| Collections | {} (last at {}) |",
        a.data.collections,
        a.data.last_collection_at.as_deref().unwrap_or("-")
    );
    if e.platform == RunOrigin::Import {
        // Imported exports say what was spent, not what the cap was.
        let _ = writeln!(
            s,
            "| Spend | {} {} (in the latest export) |",
            a.data.spend, a.data.currency
        );
    } else {
        let _ = writeln!(
            s,
            "| Spend | {} of a {} {} cap |",
            a.data.spend, a.data.spend_cap, a.data.currency
        );
    }
    let _ = writeln!(s, "| Counts tested | {} |", a.settings.metric);
    let _ = writeln!(s, "| Tests | {} |", words::settings_summary(a));
    let _ = writeln!(s);
}

/// Each ad's totals, and ads the platform refused or that reached nobody.
fn ads(s: &mut String, a: &Analysis, labels: &crate::labels::Labels) {
    let _ = writeln!(s, "### Ads\n");
    let _ = writeln!(s, "{}", tables::ads_table(a, labels).markdown());
    for ad in a.ads.iter().filter(|ad| ad.platform_problem.is_some()) {
        let _ = writeln!(s, "> **{}**\n", words::describe_refused(ad));
    }
    if let Some(nothing) = words::describe_no_delivery(a) {
        let _ = writeln!(s, "> **{nothing}**\n");
    }
}

/// Each comparison: its ads, expectation, results in words and shares.
fn results(s: &mut String, a: &Analysis, labels: &crate::labels::Labels) {
    let _ = writeln!(s, "## Results\n");
    for c in &a.comparisons {
        let _ = writeln!(s, "### Comparison {}\n", labels.comparison_in_prose(&c.key));
        let _ = writeln!(
            s,
            "Ads: {}.",
            c.ads
                .iter()
                .map(|x| labels.ad_in_prose(x))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Some(exp) = &c.expected {
            let _ = writeln!(
                s,
                "Pre-registered expectation: {} reaches a larger share of {}.",
                labels.ad_in_prose(&exp.ad),
                labels.group(&exp.group)
            );
        }
        let _ = writeln!(s);
        if let Some(p) = c.paired() {
            let _ = writeln!(
                s,
                "{}\n",
                describe_paired_as(a, p, &|k| labels.ad_in_prose(k))
            );
        }
        for b in &c.breakdowns {
            let _ = writeln!(s, "{}\n", describe_breakdown(a, b));
            let _ = writeln!(s, "{}", tables::shares_table(a, labels, c, b).markdown());
        }
    }
}

/// The figures, linked by file name, with their captions; with no chart files written,
/// a line saying how to get them instead of links to nothing.
fn figures_section(s: &mut String, figures: &[charts::Figure], written: charts::Formats) {
    if figures.is_empty() {
        return;
    }
    let _ = writeln!(s, "## Figures\n");
    let link = |stem: &str, title: &str| {
        if written.svg {
            Some(format!("![{title}]({stem}.svg)"))
        } else if written.png {
            Some(format!("![{title}]({stem}.png)"))
        } else if written.pdf {
            Some(format!("[{title} (PDF)]({stem}.pdf)"))
        } else {
            None
        }
    };
    if link("", "").is_none() {
        let _ = writeln!(
            s,
            "This report was written without its figures; `adskew report --format svg` (or png, pdf) draws them.\n"
        );
        return;
    }
    // The title goes with the caption, under the figure (a paper-style figure has none
    // inside it).
    for (i, f) in figures.iter().enumerate() {
        let _ = writeln!(s, "{}\n", link(&f.stem, &f.title).expect("checked above"));
        let _ = writeln!(s, "**Figure {}. {}.** {}\n", i + 1, f.title, f.caption);
    }
}

/// Where every number came from.
fn provenance(s: &mut String, a: &Analysis) {
    let e = &a.experiment;
    let _ = writeln!(s, "## Provenance\n");
    let _ = writeln!(s, "- Experiment file: `{}`", e.file_path);
    let _ = writeln!(s, "- File SHA-256: `{}`", e.file_sha256);
    let _ = writeln!(
        s,
        "- Resolved experiment SHA-256 (file plus overrides): `{}`",
        e.resolved_sha256
    );
    let overrides = if e.overrides.is_empty() {
        "none".to_string()
    } else {
        e.overrides
            .iter()
            .map(|o| format!("`{o}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(s, "- Environment overrides: {overrides}");
    let _ = writeln!(
        s,
        "- Run id {} by adskew {}; report by adskew {}",
        e.id, e.run_by_adskew_version, a.adskew_version
    );
    let _ = writeln!(
        s,
        "- Data: {} collections, the last one id {}",
        a.data.collections,
        a.data
            .last_collection_id
            .map_or("-".to_string(), |x| x.to_string())
    );
    let _ = writeln!(s, "- Every number here is in `results.json`.");
}
