//! `report.md`: what was run, the table of shares, and the results in words.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::words::{self, describe_breakdown, describe_paired, group_label};
use super::{charts, tables, write_file, Exporter, Report};
use adskew_core::analysis::Analysis;
use adskew_core::error::Result;
use adskew_core::records::RunOrigin;

pub struct MarkdownExporter;

impl Exporter for MarkdownExporter {
    fn name(&self) -> &'static str {
        "markdown"
    }

    fn export(&self, report: &Report, dir: &Path) -> Result<Vec<PathBuf>> {
        let path = dir.join("report.md");
        let figures = charts::figures(report);
        write_file(&path, render(&report.analysis, &figures).as_bytes())?;
        Ok(vec![path])
    }
}

/// Renders the Markdown report; `figures` are linked by file name (`<stem>.svg`).
pub fn render(a: &Analysis, figures: &[charts::Figure]) -> String {
    let mut s = String::new();
    let e = &a.experiment;
    let _ = writeln!(s, "# {}\n", e.name);
    if !e.description.trim().is_empty() {
        let _ = writeln!(s, "{}\n", e.description.trim());
    }
    what_was_run(&mut s, a);
    ads(&mut s, a);
    results(&mut s, a);
    figures_section(&mut s, figures);
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
    let _ = writeln!(
        s,
        "| Tests | {} (alpha {}, {} correction, {} {}% CIs) |",
        a.tests,
        a.settings.alpha,
        a.settings.correction,
        a.settings.ci,
        a.settings.ci_level * 100.0
    );
    let _ = writeln!(s);
}

/// Each ad's totals, and ads the platform refused or that reached nobody.
fn ads(s: &mut String, a: &Analysis) {
    let _ = writeln!(s, "### Ads\n");
    let _ = writeln!(s, "{}", tables::ads_table(a).markdown());
    for ad in a.ads.iter().filter(|ad| ad.platform_problem.is_some()) {
        let _ = writeln!(s, "> **{}**\n", words::describe_refused(ad));
    }
    if let Some(nothing) = words::describe_no_delivery(a) {
        let _ = writeln!(s, "> **{nothing}**\n");
    }
}

/// Each comparison: its ads, expectation, results in words and shares.
fn results(s: &mut String, a: &Analysis) {
    let _ = writeln!(s, "## Results\n");
    for c in &a.comparisons {
        let _ = writeln!(s, "### Comparison `{}`\n", c.key);
        let _ = writeln!(
            s,
            "Ads: {}.",
            c.ads
                .iter()
                .map(|x| format!("`{x}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Some(exp) = &c.expected {
            let _ = writeln!(
                s,
                "Pre-registered expectation: `{}` reaches a larger share of {}.",
                exp.ad,
                group_label(&exp.group)
            );
        }
        let _ = writeln!(s);
        if let Some(p) = c.paired() {
            let _ = writeln!(s, "{}\n", describe_paired(p));
        }
        for b in &c.breakdowns {
            let _ = writeln!(s, "{}\n", describe_breakdown(a, b));
            let _ = writeln!(s, "{}", tables::shares_table(a, c, b).markdown());
        }
    }
}

/// The figures, linked by file name, with their captions.
fn figures_section(s: &mut String, figures: &[charts::Figure]) {
    if !figures.is_empty() {
        let _ = writeln!(s, "## Figures\n");
        for f in figures {
            let _ = writeln!(s, "![{}]({}.svg)\n", f.title, f.stem);
            let _ = writeln!(s, "*{}*\n", f.caption);
        }
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
