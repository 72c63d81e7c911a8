//! Tables for a paper: every table of the report as Markdown, LaTeX (booktabs) and CSV.
//!
//! A [`Table`] is built once from the analysis; each format is a rendering of it, so the
//! three can never disagree. Every cell keeps two spellings: the exact value for CSV (as
//! `results.json` has it, so scripts can check one against the other) and the rounded
//! text a reader sees in Markdown and LaTeX. Significance marks follow the adjusted
//! p-values, and every caption names the test, the counts and the correction.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::words::{format_p, group_label};
use super::{write_file, Exporter, Report};
use adskew_core::analysis::{Analysis, BreakdownResult, ComparisonResult};
use adskew_core::error::Result;

/// One cell: what CSV writes, and what a reader sees.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// One value per CSV column of the cell's column (a CI is two: low and high).
    pub exact: Vec<String>,
    pub shown: String,
    /// Numbers are right-aligned (and so line up on their decimal point, being written to
    /// the same number of decimals within a column).
    pub numeric: bool,
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        let s = s.into();
        Cell {
            exact: vec![s.clone()],
            shown: s,
            numeric: false,
        }
    }

    fn int(n: u64) -> Cell {
        Cell {
            exact: vec![n.to_string()],
            shown: thousands(n),
            numeric: true,
        }
    }

    /// A float: exact as Rust prints it (round-trips), shown to `digits` decimals.
    fn num(x: f64, digits: usize) -> Cell {
        Cell {
            exact: vec![exact(x)],
            shown: if x.is_finite() {
                format!("{x:.digits$}")
            } else {
                "n/a".to_string()
            },
            numeric: true,
        }
    }

    /// A share: exact fraction, shown as a percentage.
    fn percent(x: f64) -> Cell {
        Cell {
            exact: vec![exact(x)],
            shown: if x.is_finite() {
                format!("{:.1}", x * 100.0)
            } else {
                "n/a".to_string()
            },
            numeric: true,
        }
    }

    /// A p-value: exact (with its log10 where it underflowed), shown never as 0.
    fn p(p: f64, log10_p: Option<f64>) -> Cell {
        Cell {
            exact: vec![exact(p)],
            shown: format_p(p, log10_p)
                .trim_start_matches("p = ")
                .trim_start_matches("p ")
                .to_string(),
            numeric: true,
        }
    }

    /// A blank in a column of `width` CSV values.
    fn empty(width: usize) -> Cell {
        Cell {
            exact: vec![String::new(); width],
            shown: String::new(),
            numeric: false,
        }
    }
}

/// A float as `results.json` writes it: shortest round-trip digits; "nan"/"inf" spelled.
fn exact(x: f64) -> String {
    if x.is_nan() {
        "nan".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        // serde_json's formatting, so a CSV value equals the JSON number textually.
        serde_json::to_string(&x).expect("finite float serialises")
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A column: its heading, and the names of its CSV columns (one, or two for a CI).
#[derive(Debug, Clone)]
pub struct Column {
    pub heading: String,
    pub csv: Vec<String>,
}

impl Column {
    fn new(heading: impl Into<String>, csv: &str) -> Column {
        Column {
            heading: heading.into(),
            csv: vec![csv.to_string()],
        }
    }
}

/// A table of the report.
#[derive(Debug, Clone)]
pub struct Table {
    /// File name without extension.
    pub stem: String,
    pub caption: String,
    pub headers: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// Under the table: what the marks mean.
    pub note: Option<String>,
}

/// Significance marks of an adjusted p-value.
fn marks(p_adjusted: f64, alpha: f64) -> &'static str {
    if p_adjusted.is_nan() || p_adjusted >= alpha {
        ""
    } else if p_adjusted < 0.001 {
        "***"
    } else if p_adjusted < 0.01 {
        "**"
    } else {
        "*"
    }
}

fn counted(a: &Analysis) -> &'static str {
    match a.settings.metric {
        adskew_core::vocab::Metric::Impressions => "impressions",
        _ => "people reached",
    }
}

fn correction_phrase(a: &Analysis) -> String {
    let method = match a.settings.correction {
        adskew_core::vocab::Correction::None => return "no correction for multiple tests".into(),
        adskew_core::vocab::Correction::Bonferroni => "Bonferroni's method",
        adskew_core::vocab::Correction::Holm => "Holm's method",
        adskew_core::vocab::Correction::BenjaminiHochberg => "the Benjamini–Hochberg method",
    };
    format!(
        "p-values adjusted across all {} tests with {method}",
        a.tests
    )
}

/// Every table of the report, in order: ads, tests, then shares per comparison and
/// breakdown.
/// Every table of the report, in order: ads, tests, the same tests on the other metric
/// (impressions when reach is tested, and the other way round) as a robustness check, then
/// shares per comparison and breakdown.
pub fn tables(report: &Report) -> Vec<Table> {
    let a = &report.analysis;
    let mut out = vec![ads_table(a), tests_table(a)];
    if let Some(other) = &report.other_metric {
        let mut t = tests_table(other);
        t.stem = format!("tests-{}", other.settings.metric);
        t.caption = format!(
            "Robustness: the tests of Table tests on {} instead of {}. {}",
            other.settings.metric, a.settings.metric, t.caption
        );
        out.push(t);
    }
    for c in &a.comparisons {
        for b in &c.breakdowns {
            out.push(shares_table(a, c, b));
        }
    }
    out
}

pub(crate) fn ads_table(a: &Analysis) -> Table {
    let cur = &a.data.currency;
    let rows = a
        .ads
        .iter()
        .map(|ad| {
            let spend = ad.spend.minor() as f64 / 100.0;
            let per_1000 = if ad.reach > 0 {
                spend / ad.reach as f64 * 1000.0
            } else {
                f64::NAN
            };
            vec![
                Cell::text(&ad.key),
                Cell::text(&ad.headline),
                Cell::int(ad.reach),
                Cell::int(ad.impressions),
                Cell::int(ad.clicks),
                Cell::num(spend, 2),
                Cell::num(per_1000, 2),
            ]
        })
        .collect();
    Table {
        stem: "ads".into(),
        caption: format!(
            "Delivery and spend per ad of {} ({}){}.",
            a.experiment.name,
            cur,
            if a.experiment.started_at.is_some() {
                "; all ads ran with the same targeting and were switched on together"
            } else {
                ""
            }
        ),
        headers: vec![
            Column::new("Ad", "ad"),
            Column::new("Headline", "headline"),
            Column::new("Reach", "reach"),
            Column::new("Impressions", "impressions"),
            Column::new("Clicks", "clicks"),
            Column::new(format!("Spend ({cur})"), "spend"),
            Column::new(format!("{cur} per 1,000 reached"), "cost_per_1000_reached"),
        ],
        rows,
        note: None,
    }
}

fn tests_table(a: &Analysis) -> Table {
    let alpha = a.settings.alpha;
    let mut rows = Vec::new();
    for c in &a.comparisons {
        for b in &c.breakdowns {
            match &b.chi2 {
                Some(chi) => {
                    let adj = b.adjusted_p_value.unwrap_or(f64::NAN);
                    rows.push(vec![
                        Cell::text(&c.key),
                        Cell::text(b.breakdown.as_str()),
                        Cell::text("chi-square"),
                        Cell::num(chi.statistic, 2),
                        Cell::int(chi.dof),
                        Cell::p(chi.p_value, Some(chi.log10_p_value)),
                        Cell::p(adj, b.adjusted_log10_p_value),
                        Cell::text(marks(adj, alpha)),
                        Cell::num(b.cramers_v.unwrap_or(f64::NAN), 3),
                    ]);
                }
                None => rows.push(vec![
                    Cell::text(&c.key),
                    Cell::text(b.breakdown.as_str()),
                    Cell::text(format!(
                        "not tested: {}",
                        b.not_tested.as_deref().unwrap_or("no data")
                    )),
                    Cell::empty(1),
                    Cell::empty(1),
                    Cell::empty(1),
                    Cell::empty(1),
                    Cell::empty(1),
                    Cell::empty(1),
                ]),
            }
            if let Some(z) = &b.z_test {
                rows.push(vec![
                    Cell::text(&c.key),
                    Cell::text(format!("{} ({})", b.breakdown, z.group)),
                    Cell::text(format!("z ({})", z.test.alternative.as_str())),
                    Cell::num(z.test.statistic, 2),
                    Cell::empty(1),
                    Cell::p(z.test.p_value, Some(z.test.log10_p_value)),
                    Cell::p(z.adjusted_p_value, Some(z.adjusted_log10_p_value)),
                    Cell::text(marks(z.adjusted_p_value, alpha)),
                    Cell::num(z.test.difference, 3),
                ]);
            }
        }
    }
    let yates = if a.settings.yates {
        "with Yates' correction for 2 × 2 tables"
    } else {
        "without Yates' correction"
    };
    Table {
        stem: "tests".into(),
        caption: format!(
            "Tests of skew in {}: Pearson's chi-square test of independence of ads × groups ({yates}; effect: Cramér's V) and, for two-ad comparisons, the pooled two-proportion z-test of a group's share (effect: difference in share); counts are {}{}; {}.",
            a.experiment.name,
            counted(a),
            if a.settings.include_unknown {
                ""
            } else {
                ", unknown gender excluded"
            },
            correction_phrase(a)
        ),
        headers: vec![
            Column::new("Comparison", "comparison"),
            Column::new("Breakdown", "breakdown"),
            Column::new("Test", "test"),
            Column::new("Statistic", "statistic"),
            Column::new("df", "dof"),
            Column::new("p", "p_value"),
            Column::new("Adjusted p", "adjusted_p_value"),
            Column::new("", "marks"),
            Column::new("Effect", "effect"),
        ],
        rows,
        note: Some(format!(
            "* adjusted p < {alpha}; ** < 0.01; *** < 0.001 (marks only below alpha)."
        )),
    }
}

pub(crate) fn shares_table(a: &Analysis, c: &ComparisonResult, b: &BreakdownResult) -> Table {
    // Long format (one row per ad and group): it stays narrow for six age buckets and is
    // the tidy shape scripts want from the CSV.
    let headers = vec![
        Column::new("Ad", "ad"),
        Column::new("Group", "group"),
        Column::new("Share (%)", "share"),
        Column {
            heading: "CI (%)".into(),
            csv: vec!["ci_low".into(), "ci_high".into()],
        },
        Column::new("n", "count"),
    ];
    let mut rows = Vec::new();
    for s in &b.shares {
        rows.push(vec![
            Cell::text(&s.ad),
            Cell::text(&s.group),
            Cell::percent(s.share),
            Cell {
                exact: vec![exact(s.ci.low), exact(s.ci.high)],
                shown: if s.ci.low.is_finite() {
                    format!("[{:.1}, {:.1}]", s.ci.low * 100.0, s.ci.high * 100.0)
                } else {
                    "n/a".into()
                },
                numeric: true,
            },
            Cell::int(s.count),
        ]);
    }
    let source = format!(
        "eligible ({})",
        b.eligible_source.as_deref().unwrap_or("expected")
    );
    for (g, e) in b.groups.iter().zip(&b.eligible) {
        rows.push(vec![
            Cell::text(&source),
            Cell::text(g),
            Cell::percent(*e),
            Cell::empty(2),
            Cell::empty(1),
        ]);
    }
    let ci = &a.settings;
    Table {
        stem: format!("shares-{}-{}", c.key, b.breakdown),
        caption: format!(
            "Composition of the {} of each ad in comparison {} by {}: share (%), {} {}% confidence interval and count.",
            counted(a),
            c.key,
            b.breakdown,
            ci.ci,
            ci.ci_level * 100.0
        ),
        headers,
        rows,
        note: b
            .excluded_group
            .as_ref()
            .filter(|_| b.excluded.iter().any(|&x| x > 0))
            .map(|g| {
                format!(
                    "Not in the shares: {} ({}).",
                    group_label(g),
                    c.ads
                        .iter()
                        .zip(&b.excluded)
                        .map(|(ad, n)| format!("{ad} {n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }),
    }
}

impl Table {
    pub fn markdown(&self) -> String {
        let esc = |s: &str| s.replace('|', "\\|");
        let mut s = String::new();
        let _ = writeln!(s, "Table: {}\n", self.caption);
        let _ = writeln!(
            s,
            "| {} |",
            self.headers
                .iter()
                .map(|h| esc(&h.heading))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        let align: Vec<&str> = (0..self.headers.len())
            .map(|j| {
                if self.rows.iter().any(|r| r[j].numeric) {
                    "---:"
                } else {
                    "---"
                }
            })
            .collect();
        let _ = writeln!(s, "|{}|", align.join("|"));
        for row in &self.rows {
            let _ = writeln!(
                s,
                "| {} |",
                row.iter()
                    .map(|c| esc(&c.shown))
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
        }
        if let Some(note) = &self.note {
            let _ = writeln!(s, "\n{note}");
        }
        s
    }

    /// A booktabs table (`\usepackage{booktabs}`), numbers right-aligned.
    pub fn latex(&self) -> String {
        let align: String = (0..self.headers.len())
            .map(|j| {
                if self.rows.iter().any(|r| r[j].numeric) {
                    'r'
                } else {
                    'l'
                }
            })
            .collect();
        let mut s = String::new();
        let _ = writeln!(s, "% adskew: {}", self.stem);
        let _ = writeln!(s, "\\begin{{table}}[t]\n\\centering\n\\small");
        let _ = writeln!(s, "\\caption{{{}}}", latex_escape(&self.caption));
        let _ = writeln!(s, "\\label{{tab:{}}}", self.stem);
        let _ = writeln!(s, "\\begin{{tabular}}{{{align}}}\n\\toprule");
        let _ = writeln!(
            s,
            "{} \\\\\n\\midrule",
            self.headers
                .iter()
                .map(|h| latex_escape(&h.heading))
                .collect::<Vec<_>>()
                .join(" & ")
        );
        for row in &self.rows {
            let cells: Vec<String> = row
                .iter()
                .map(|c| {
                    if c.shown.chars().all(|ch| ch == '*') && !c.shown.is_empty() {
                        format!("$^{{{}}}$", c.shown)
                    } else if c.numeric {
                        latex_number(&c.shown)
                    } else {
                        latex_escape(&c.shown)
                    }
                })
                .collect();
            let _ = writeln!(s, "{} \\\\", cells.join(" & "));
        }
        let _ = writeln!(s, "\\bottomrule\n\\end{{tabular}}");
        if let Some(note) = &self.note {
            let _ = writeln!(
                s,
                "\\par\\smallskip{{\\footnotesize {}}}",
                latex_escape(note)
            );
        }
        let _ = writeln!(s, "\\end{{table}}");
        s
    }

    /// CSV with the exact values, one header line.
    pub fn csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(self.headers.iter().flat_map(|h| &h.csv))
            .expect("in-memory CSV");
        for row in &self.rows {
            w.write_record(row.iter().flat_map(|c| &c.exact))
                .expect("in-memory CSV");
        }
        String::from_utf8(w.into_inner().expect("in-memory CSV")).expect("UTF-8 in, UTF-8 out")
    }
}

/// A number as LaTeX typesets it: "3.31e-88" as 3.31 × 10⁻⁸⁸, "< 1e-927" as < 10⁻⁹²⁷.
fn latex_number(shown: &str) -> String {
    let (prefix, rest) = match shown.strip_prefix("< ") {
        Some(r) => ("<", r),
        None => ("", shown),
    };
    match rest.split_once('e') {
        Some((m, e)) if e.parse::<i64>().is_ok() && m.parse::<f64>().is_ok() => {
            let e: i64 = e.parse().expect("checked");
            if m == "1" {
                format!("${prefix}10^{{{e}}}$")
            } else {
                format!("${prefix}{m}\\times10^{{{e}}}$")
            }
        }
        _ => latex_escape(shown),
    }
}

/// Escapes LaTeX's special characters in text.
pub fn latex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '×' => out.push_str("$\\times$"),
            '–' => out.push_str("--"),
            '<' => out.push_str("$<$"),
            '>' => out.push_str("$>$"),
            _ => out.push(c),
        }
    }
    out
}

/// Which table formats to write.
#[derive(Debug, Clone, Copy)]
pub struct TablesExporter {
    pub markdown: bool,
    pub latex: bool,
    pub csv: bool,
}

impl Exporter for TablesExporter {
    fn name(&self) -> &'static str {
        "tables"
    }

    /// Writes `tables/<stem>.md`, `.tex` and `.csv`.
    fn export(&self, report: &Report, dir: &Path) -> Result<Vec<PathBuf>> {
        let dir = dir.join("tables");
        std::fs::create_dir_all(&dir).map_err(|e| {
            adskew_core::error::Error::io(format!("cannot create {}", dir.display()), e)
        })?;
        let mut written = Vec::new();
        for t in tables(report) {
            for (on, ext, text) in [
                (self.markdown, "md", Table::markdown as fn(&Table) -> String),
                (self.latex, "tex", Table::latex),
                (self.csv, "csv", Table::csv),
            ] {
                if on {
                    let path = dir.join(format!("{}.{ext}", t.stem));
                    write_file(&path, text(&t).as_bytes())?;
                    written.push(path);
                }
            }
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latex_special_characters_are_escaped() {
        assert_eq!(latex_escape("50% & $5_a"), "50\\% \\& \\$5\\_a");
        assert_eq!(latex_escape("p < 0.05"), "p $<$ 0.05");
        assert_eq!(latex_number("3.31e-88"), "$3.31\\times10^{-88}$");
        assert_eq!(latex_number("< 1e-927"), "$<10^{-927}$");
        assert_eq!(latex_number("0.350"), "0.350");
    }

    #[test]
    fn marks_follow_the_adjusted_p() {
        assert_eq!(marks(0.2, 0.05), "");
        assert_eq!(marks(0.04, 0.05), "*");
        assert_eq!(marks(0.004, 0.05), "**");
        assert_eq!(marks(0.0, 0.05), "***");
        assert_eq!(marks(0.02, 0.01), "");
        assert_eq!(marks(f64::NAN, 0.05), "");
    }

    #[test]
    fn numbers_keep_exact_and_shown_forms() {
        let c = Cell::num(0.123456789, 2);
        assert_eq!(
            (c.exact[0].as_str(), c.shown.as_str()),
            ("0.123456789", "0.12")
        );
        assert_eq!(Cell::int(1234567).shown, "1,234,567");
        assert_eq!(Cell::percent(f64::NAN).exact, ["nan"]);
        assert_eq!(Cell::p(0.0, Some(-927.6)).shown, "< 1e-927");
    }
}
