//! Tables for a paper: every table of the report as Markdown, LaTeX (booktabs) and CSV.
//!
//! A [`Table`] is built once from the analysis; each format is a rendering of it, so the
//! three can never disagree. Every cell keeps two spellings: the exact value for CSV (as
//! `results.json` has it, so scripts can check one against the other) and the rounded
//! text a reader sees in Markdown and LaTeX. Significance marks follow the adjusted
//! p-values, and every caption names the test, the counts and the correction.

use crate::labels::Labels;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::words::{
    chi_square_name, ci_label, ci_method_name, correction_phrase, group_label, level_percent,
    PrintedP,
};
use super::{write_file, Exporter, Report};
use adskew_core::analysis::{Analysis, BreakdownResult, ComparisonResult, PairedResult};
use adskew_core::error::Result;

/// One cell: what CSV writes, and what a reader sees.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// One value per CSV column of the cell's column (a CI is two: low and high).
    pub exact: Vec<String>,
    pub shown: String,
    /// How LaTeX typesets it, where that is not `shown` escaped (a p-value's power of ten).
    pub latex: Option<String>,
    /// Numbers are right-aligned (and so line up on their decimal point, being written to
    /// the same number of decimals within a column).
    pub numeric: bool,
}

impl Cell {
    /// A thing with a key: the key in the CSV (it joins with results.json), its display
    /// label on the page.
    fn named(key: &str, label: String) -> Cell {
        Cell {
            exact: vec![key.to_string()],
            ..Cell::text(label)
        }
    }

    fn text(s: impl Into<String>) -> Cell {
        let s = s.into();
        Cell {
            exact: vec![s.clone()],
            shown: s,
            latex: None,
            numeric: false,
        }
    }

    fn int(n: u64) -> Cell {
        Cell {
            exact: vec![n.to_string()],
            shown: thousands(n),
            latex: None,
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
            latex: None,
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
            latex: None,
            numeric: true,
        }
    }

    /// A p-value: exact with its log10 (two CSV columns: the log10 stays finite where p
    /// underflows to 0), shown never as 0 and never below the floor.
    fn p(p: f64, log10_p: Option<f64>, floor: f64) -> Cell {
        let printed = PrintedP::of(p, log10_p, floor);
        Cell {
            exact: vec![exact(p), exact(log10_p.unwrap_or(p.log10()))],
            shown: printed.text(),
            latex: Some(printed.latex()),
            numeric: true,
        }
    }

    /// A difference of shares: exact fraction, shown in percentage points with its sign.
    fn points(x: f64) -> Cell {
        Cell {
            exact: vec![exact(x)],
            shown: if x.is_finite() {
                format!("{:+.1}", x * 100.0)
            } else {
                "n/a".to_string()
            },
            latex: None,
            numeric: true,
        }
    }

    /// An interval: its bounds exact (two CSV columns), shown as "[low, high]" in `unit`s
    /// of 1/100 (percent or percentage points) with `signed` bounds for a difference.
    fn interval(low: f64, high: f64, signed: bool) -> Cell {
        let show = |x: f64| {
            if signed {
                format!("{:+.1}", x * 100.0)
            } else {
                format!("{:.1}", x * 100.0)
            }
        };
        Cell {
            exact: vec![exact(low), exact(high)],
            shown: if low.is_finite() && high.is_finite() {
                format!("[{}, {}]", show(low), show(high))
            } else {
                "n/a".into()
            },
            latex: None,
            numeric: true,
        }
    }

    /// A blank in a column of `width` CSV values.
    fn empty(width: usize) -> Cell {
        Cell {
            exact: vec![String::new(); width],
            shown: String::new(),
            latex: None,
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
        Column::wide(heading, &[csv])
    }

    /// A column of several CSV values per cell (a CI's bounds, a p-value and its log10).
    fn wide(heading: impl Into<String>, csv: &[&str]) -> Column {
        Column {
            heading: heading.into(),
            csv: csv.iter().map(|c| c.to_string()).collect(),
        }
    }
}

/// A table of the report.
#[derive(Debug, Clone)]
pub struct Table {
    /// File name without extension.
    pub stem: String,
    /// The experiment's name: LaTeX labels are `tab:<experiment>-<stem>`, so the tables of
    /// two experiments can go into one paper.
    pub experiment: String,
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

/// Every table of the report, in order: ads, tests, the same tests on the other metric
/// (impressions when reach is tested, and the other way round) as a robustness check, then
/// shares per comparison and breakdown.
pub fn tables(report: &Report) -> Vec<Table> {
    let a = &report.analysis;
    let labels = Labels::of(&report.experiment);
    let mut out = vec![ads_table(a, &labels), tests_table(a, &labels)];
    if let Some(other) = &report.other_metric {
        let mut t = tests_table(other, &labels);
        t.stem = format!("tests-{}", other.settings.metric);
        t.caption = format!(
            "Robustness: the same tests on {} instead of {}. {}",
            counted(other),
            counted(a),
            t.caption
        );
        out.push(t);
    }
    for c in &a.comparisons {
        for b in &c.breakdowns {
            out.push(shares_table(a, &labels, c, b));
        }
    }
    out
}

pub(crate) fn ads_table(a: &Analysis, labels: &Labels) -> Table {
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
                Cell::named(&ad.key, labels.ad(&ad.key)),
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
        experiment: a.experiment.name.clone(),
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

/// The tests table: one row per chi-square test and per z-test, one effect measure per
/// column (Cramér's V for a table, the difference in share with its interval for a pair).
fn tests_table(a: &Analysis, labels: &Labels) -> Table {
    let pairs: Vec<&PairedResult> = a.comparisons.iter().filter_map(|c| c.paired()).collect();
    // The difference's interval as the z-tests computed it (its method and level).
    let diff_ci = pairs.first().map(|z| ci_label(&z.test.ci));
    let mut rows = Vec::new();
    for c in &a.comparisons {
        for b in &c.breakdowns {
            rows.push(chi_square_row(a, labels, c, b, diff_ci.is_some()));
            if let Some(z) = &b.z_test {
                rows.push(z_row(a, labels, c, b, z));
            }
        }
    }
    let mut headers = vec![
        Column::new("Comparison", "comparison"),
        Column::new("Breakdown", "breakdown"),
        Column::new("Test", "test"),
        Column::new("Statistic", "statistic"),
        Column::new("df", "dof"),
        Column::wide("p", &["p_value", "log10_p_value"]),
        Column::wide("Adjusted p", &["adjusted_p_value", "log10_p_adjusted"]),
        Column::new("", "marks"),
        Column::new("Cramér's V", "cramers_v"),
    ];
    if let Some(label) = &diff_ci {
        headers.push(Column::new("Difference (pp)", "difference"));
        headers.push(Column::wide(
            format!("{label} CI (pp)"),
            &["difference_ci_low", "difference_ci_high"],
        ));
    }
    Table {
        stem: "tests".into(),
        experiment: a.experiment.name.clone(),
        caption: tests_caption(a, diff_ci.as_deref()),
        headers,
        rows,
        note: Some(format!(
            "* adjusted p < {}; ** < 0.01; *** < 0.001 (marks only below α). p-values below {} are shown as a bound; results.json and the CSV hold each p and its log10 exactly.",
            a.settings.alpha,
            PrintedP::of(0.0, Some(f64::NEG_INFINITY), a.settings.p_floor)
                .text()
                .trim_start_matches("< ")
        )),
    }
}

/// What the tests table holds, in words: the tests by their published names, the counts,
/// the effect measures and the correction.
fn tests_caption(a: &Analysis, diff_ci: Option<&str>) -> String {
    let yates = if a.settings.yates {
        "Yates-corrected χ² for 2 × 2 tables"
    } else {
        "without Yates' correction"
    };
    let pairs = match diff_ci {
        Some(ci) => format!(
            " and, for two-ad comparisons, the pooled two-proportion z-test of a group's share (effect: the difference in share in percentage points, with its {ci} confidence interval)"
        ),
        None => String::new(),
    };
    format!(
        "Tests of skew in {}: Pearson's chi-square (χ²) test of independence of ads × groups ({yates}; effect: Cramér's V){pairs}; counts are {}{}; {}.",
        a.experiment.name,
        counted(a),
        if a.settings.include_unknown {
            ""
        } else {
            ", unknown gender excluded"
        },
        correction_phrase(a)
    )
}

/// A breakdown's chi-square row (or why it was not tested); `pairs` when the table has
/// the difference columns, which this row leaves blank.
fn chi_square_row(
    a: &Analysis,
    labels: &Labels,
    c: &ComparisonResult,
    b: &BreakdownResult,
    pairs: bool,
) -> Vec<Cell> {
    let mut row = vec![
        Cell::named(&c.key, labels.comparison(&c.key)),
        Cell::text(b.breakdown.as_str()),
    ];
    match &b.chi2 {
        Some(chi) => {
            let adj = b.adjusted_p_value.unwrap_or(f64::NAN);
            row.extend([
                Cell {
                    // Machine-readable in the CSV, the published name on the page.
                    exact: vec![if chi.yates {
                        "chi-square-yates"
                    } else {
                        "chi-square"
                    }
                    .into()],
                    ..Cell::text(chi_square_name(chi.yates))
                },
                Cell::num(chi.statistic, 2),
                Cell::int(chi.dof),
                Cell::p(chi.p_value, Some(chi.log10_p_value), a.settings.p_floor),
                Cell::p(adj, b.adjusted_log10_p_value, a.settings.p_floor),
                Cell::text(marks(adj, a.settings.alpha)),
                Cell::num(b.cramers_v.unwrap_or(f64::NAN), 3),
            ]);
        }
        None => {
            row.push(Cell::text(format!(
                "not tested: {}",
                b.not_tested.as_deref().unwrap_or("no data")
            )));
            row.extend([1, 1, 2, 2, 1, 1].map(Cell::empty));
        }
    }
    if pairs {
        row.extend([Cell::empty(1), Cell::empty(2)]);
    }
    row
}

/// A two-ad comparison's z-test row: the difference in share and its interval.
fn z_row(
    a: &Analysis,
    labels: &Labels,
    c: &ComparisonResult,
    b: &BreakdownResult,
    z: &PairedResult,
) -> Vec<Cell> {
    let t = &z.test;
    vec![
        Cell::named(&c.key, labels.comparison(&c.key)),
        Cell::text(format!("{} ({})", b.breakdown, z.group)),
        Cell {
            exact: vec![format!("z ({})", t.alternative.as_str())],
            ..Cell::text(format!("Two-proportion z ({})", t.alternative.as_str()))
        },
        Cell::num(t.statistic, 2),
        Cell::empty(1),
        Cell::p(t.p_value, Some(t.log10_p_value), a.settings.p_floor),
        Cell::p(
            z.adjusted_p_value,
            Some(z.adjusted_log10_p_value),
            a.settings.p_floor,
        ),
        Cell::text(marks(z.adjusted_p_value, a.settings.alpha)),
        Cell::empty(1),
        Cell::points(t.difference),
        Cell::interval(t.ci.low, t.ci.high, true),
    ]
}

pub(crate) fn shares_table(
    a: &Analysis,
    labels: &Labels,
    c: &ComparisonResult,
    b: &BreakdownResult,
) -> Table {
    // Long format (one row per ad and group): it stays narrow for six age buckets and is
    // the tidy shape scripts want from the CSV.
    let headers = vec![
        Column::new("Ad", "ad"),
        Column::new("Group", "group"),
        Column::new("Share (%)", "share"),
        Column::wide(
            format!(
                "{}% {} CI (%)",
                level_percent(a.settings.ci_level),
                ci_method_name(a.settings.ci)
            ),
            &["ci_low", "ci_high"],
        ),
        Column::new("n", "count"),
    ];
    let mut rows = Vec::new();
    for s in &b.shares {
        rows.push(vec![
            Cell::named(&s.ad, labels.ad(&s.ad)),
            Cell::named(
                &s.group,
                labels
                    .custom_group(&s.group)
                    .unwrap_or(&s.group)
                    .to_string(),
            ),
            Cell::percent(s.share),
            Cell::interval(s.ci.low, s.ci.high, false),
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
    Table {
        stem: format!("shares-{}-{}", c.key, b.breakdown),
        experiment: a.experiment.name.clone(),
        caption: format!(
            "Composition by {} of {} in comparison {}: share (%), {}% {} confidence interval and count.",
            b.breakdown,
            match a.settings.metric {
                adskew_core::vocab::Metric::Impressions => "each ad's impressions",
                _ => "the people each ad reached",
            },
            labels.comparison(&c.key),
            level_percent(a.settings.ci_level),
            ci_method_name(a.settings.ci),
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
    /// The LaTeX label, unique across experiments: `tab:imana2021-paired-jobs-tests`.
    pub fn label(&self) -> String {
        format!("tab:{}-{}", self.experiment, self.stem)
    }

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
        let _ = writeln!(s, "\\label{{{}}}", self.label());
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
                    if let Some(latex) = &c.latex {
                        latex.clone()
                    } else if c.shown.chars().all(|ch| ch == '*') && !c.shown.is_empty() {
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

/// Escapes LaTeX's special characters in text, and sets the symbols adskew's words use in
/// math mode: "χ²" as `$\\chi^{2}$`, "10⁻¹⁶" as `10$^{-16}$`, "α" as `$\\alpha$`.
pub fn latex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
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
            'α' => out.push_str("$\\alpha$"),
            'χ' => {
                let power = superscript_run(&mut chars);
                if power.is_empty() {
                    out.push_str("$\\chi$");
                } else {
                    out.push_str(&format!("$\\chi^{{{power}}}$"));
                }
            }
            c if from_superscript(c).is_some() => {
                let mut power = from_superscript(c).expect("checked").to_string();
                power.push_str(&superscript_run(&mut chars));
                out.push_str(&format!("$^{{{power}}}$"));
            }
            _ => out.push(c),
        }
    }
    out
}

/// The superscript characters that follow, as plain digits and minus ("" when none).
fn superscript_run(chars: &mut std::iter::Peekable<std::str::Chars>) -> String {
    let mut run = String::new();
    while let Some(d) = chars.peek().and_then(|&c| from_superscript(c)) {
        run.push(d);
        chars.next();
    }
    run
}

/// A superscript digit or minus as its plain character.
fn from_superscript(c: char) -> Option<char> {
    let digits = "⁰¹²³⁴⁵⁶⁷⁸⁹";
    if c == '⁻' {
        return Some('-');
    }
    digits
        .chars()
        .position(|d| d == c)
        .and_then(|i| char::from_digit(i as u32, 10))
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
        assert_eq!(
            latex_escape("Pearson's χ² below 10⁻¹⁶, α = 0.05"),
            "Pearson's $\\chi^{2}$ below 10$^{-16}$, $\\alpha$ = 0.05"
        );
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
        let p = Cell::p(0.0, Some(-927.6), 1e-16);
        assert_eq!(p.shown, "< 10⁻¹⁶");
        assert_eq!(p.exact, ["0.0", "-927.6"]);
        assert_eq!(p.latex.as_deref(), Some("$<10^{-16}$"));
    }
}
