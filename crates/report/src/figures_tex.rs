//! `figures.tex`: every figure as a LaTeX `figure` environment with its caption and label,
//! for `\input{figures}` in a paper. A paper-style figure has no title inside it, so the
//! title and the caption go here (as they go into `report.md` and the HTML). Written with
//! the tables' LaTeX (`--format tex`) when the same report writes the figures as PDF (the
//! choice for LaTeX, vector) or PNG: it includes only files that exist.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::charts::style::Width;
use super::charts::{self, Figure};
use super::tables::latex_escape;
use super::{write_file, Exporter, Report};
use adskew_core::error::Result;

/// Writes `figures.tex`, including `<stem>.<ext>`.
#[derive(Debug, Clone, Copy)]
pub struct FiguresTexExporter {
    /// "pdf" or "png": the figure files the same report writes.
    pub ext: &'static str,
}

impl Exporter for FiguresTexExporter {
    fn name(&self) -> &'static str {
        "figures.tex"
    }

    fn export(&self, report: &Report, dir: &Path) -> Result<Vec<PathBuf>> {
        let figures = charts::figures(report);
        if figures.is_empty() {
            return Ok(Vec::new());
        }
        let path = dir.join("figures.tex");
        let text = render(&report.analysis.experiment.name, &figures, self.ext);
        write_file(&path, text.as_bytes())?;
        Ok(vec![path])
    }
}

/// The environments: one column `figure` at `\columnwidth`, two columns `figure*` at
/// `\textwidth`; caption "Title. Caption"; label `fig:<experiment>-<stem>` (unique when two
/// experiments share a paper, like the tables' labels).
pub fn render(experiment: &str, figures: &[Figure], ext: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "% adskew: the figures of {experiment}; \\usepackage{{graphicx}}, then \\input{{figures}}"
    );
    for f in figures {
        let (env, width) = match f.width {
            Width::OneColumn => ("figure", "\\columnwidth"),
            Width::TwoColumn => ("figure*", "\\textwidth"),
        };
        let _ = writeln!(
            s,
            "\n\\begin{{{env}}}[t]\n\\centering\n\\includegraphics[width={width}]{{{}.{ext}}}\n\\caption{{{}}}\n\\label{{fig:{experiment}-{}}}\n\\end{{{env}}}",
            f.stem,
            latex_escape(&format!("{}. {}", capitalised(&f.title), f.caption)),
            f.stem,
        );
    }
    s
}

/// A title starts a sentence in a caption.
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_figure_is_an_environment_with_its_caption_and_a_unique_label() {
        let figure = |stem: &str, width| Figure {
            stem: stem.into(),
            kind: "dot",
            title: "jobs: share of women by ad".into(),
            caption: "The share of people reached who were women, 50.5% eligible.".into(),
            width,
            svg: String::new(),
        };
        let tex = render(
            "ali-2019",
            &[
                figure("jobs-gender-female", Width::OneColumn),
                figure("composition-gender", Width::TwoColumn),
            ],
            "pdf",
        );
        assert!(tex.contains("\\begin{figure}[t]\n\\centering\n\\includegraphics[width=\\columnwidth]{jobs-gender-female.pdf}"));
        assert!(tex.contains("\\caption{Jobs: share of women by ad. The share of people reached who were women, 50.5\\% eligible.}"));
        assert!(tex.contains("\\label{fig:ali-2019-jobs-gender-female}"));
        assert!(
            tex.contains("\\begin{figure*}[t]")
                && tex.contains("width=\\textwidth]{composition-gender.pdf}")
        );
    }
}
