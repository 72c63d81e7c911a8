//! Counts from anywhere: `adskew analyze --counts FILE.csv` runs the same analysis on a
//! long-format table of counts that did not come from adskew's own collection (a report
//! downloaded by hand, another team's data, a published table).
//!
//! ```csv
//! comparison,ad,dimension,group,reach,impressions
//! drivers,dominos,gender,female,1200,1900
//! drivers,dominos,gender,male,2100,3300
//! drivers,instacart,gender,female,2300,3600
//! drivers,instacart,gender,male,1400,2200
//! ```
//!
//! `comparison` is optional: without it all ads of the file are compared together and, when
//! there are more than two, also pairwise. Column names are read in any case, and the
//! separator may be a comma, a semicolon (spreadsheets in much of Europe) or a tab.
//!
//! The whole file is checked first, with the rules `import` reads an export by: groups from
//! the shared vocabulary (`Breakdown::group`), counts by `adskew_core::count::parse_count`
//! (whole numbers up to 10¹²). Every problem is reported at once (the first
//! [`MAX_PROBLEMS`]) with its line, column and fix, and nothing is analysed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::path::Path;

use chrono::NaiveDate;
use csv::ByteRecord;

use crate::analysis::{analyze, Analysis, Inputs};
use crate::count::{parse_count, CountError, COUNT_FIX};
use crate::error::{Error, Result};
use crate::experiment::describe::{all_and_pairwise, Description};
use crate::experiment::keys::is_key;
use crate::experiment::Experiment;
use crate::money::Money;
use crate::store::{ExperimentRecord, Period, RunOrigin, RunState, StoredRow};
use crate::vocab::{Breakdown, Metric};
use adskew_core::text::printable;

/// How many problems of a file are listed; the rest are counted.
pub const MAX_PROBLEMS: usize = 20;

/// The columns a file must have besides its counts.
const KEY_COLUMNS: [&str; 3] = ["ad", "dimension", "group"];

/// What the header may hold, for messages.
const COLUMNS_HINT: &str = "the columns are comparison (optional), ad, dimension, group, \
     and any of reach, impressions, clicks, spend";

/// One checked line of the file.
struct Line {
    comparison: Option<String>,
    ad: String,
    dimension: Breakdown,
    group: String,
    counts: BTreeMap<Metric, u64>,
    spend: Option<Money>,
}

impl Line {
    fn count(&self, metric: Metric) -> u64 {
        self.counts.get(&metric).copied().unwrap_or(0)
    }
}

/// Where each column is, found by name in the header.
struct Columns {
    comparison: Option<usize>,
    ad: usize,
    dimension: usize,
    group: usize,
    /// The metrics the file has, in the vocabulary's order, with their column.
    metrics: Vec<(Metric, usize)>,
}

/// Every problem found in a file, each naming its line; reported together.
struct Problems<'a> {
    path: &'a Path,
    listed: Vec<String>,
    total: usize,
}

impl<'a> Problems<'a> {
    fn new(path: &'a Path) -> Problems<'a> {
        Problems {
            path,
            listed: Vec::new(),
            total: 0,
        }
    }

    fn add(&mut self, line: u64, what: impl Display) {
        self.total += 1;
        if self.listed.len() < MAX_PROBLEMS {
            self.listed
                .push(format!("{}: line {line}: {what}", self.path.display()));
        }
    }

    /// The problems as one error (nothing analysed), or `Ok` if there were none.
    fn finish(self) -> Result<()> {
        if self.total == 0 {
            return Ok(());
        }
        let mut text = if self.total == 1 {
            String::new()
        } else {
            format!(
                "{} has {} problems; fix them and run again (nothing was analysed):\n",
                self.path.display(),
                self.total
            )
        };
        text.push_str(&self.listed.join("\n"));
        if self.total > self.listed.len() {
            text.push_str(&format!("\nand {} more", self.total - self.listed.len()));
        }
        Err(Error::BadInput(text))
    }
}

/// The separator of a file: a comma, a semicolon or a tab, whichever its first line has
/// most of (a comma when it has none of them).
fn separator(text: &[u8]) -> u8 {
    let first = text.split(|b| *b == b'\n').next().unwrap_or_default();
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|s| (first.iter().filter(|b| *b == s).count(), *s == b','))
        .expect("three candidates")
}

/// Reads and checks the whole file: its lines and the metrics it has.
fn read(path: &Path) -> Result<(Vec<Line>, Vec<Metric>)> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::BadInput(format!(
            "cannot read {}: {e}; give the path of a counts file",
            path.display()
        ))
    })?;
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut csv = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .delimiter(separator(text))
        .from_reader(text);
    let columns = Columns::of(path, &mut csv)?;
    let mut problems = Problems::new(path);
    let lines = read_lines(&mut csv, &columns, &mut problems);
    problems.finish()?;
    if lines.is_empty() {
        return Err(Error::BadInput(format!(
            "{} has a header but no counts: add one line per ad, dimension and group",
            path.display()
        )));
    }
    Ok((lines, columns.metrics.iter().map(|(m, _)| *m).collect()))
}

impl Columns {
    /// The columns of the header, or every problem with it.
    fn of(path: &Path, csv: &mut csv::Reader<&[u8]>) -> Result<Columns> {
        let header: Vec<String> = match csv.byte_headers() {
            Ok(h) => h
                .iter()
                .map(|h| String::from_utf8_lossy(h).to_ascii_lowercase())
                .collect(),
            Err(e) => return Err(Error::BadInput(format!("{}: line 1: {e}", path.display()))),
        };
        if header.iter().all(String::is_empty) {
            return Err(Error::BadInput(format!(
                "{} is empty: the first line names the columns (ad, dimension, group, and reach and/or impressions)",
                path.display()
            )));
        }
        let mut problems = Problems::new(path);
        for (i, h) in header.iter().enumerate() {
            let known = h == "comparison" || KEY_COLUMNS.contains(&h.as_str());
            if !known && Metric::parse(h).is_none() {
                problems.add(
                    1,
                    format!("unknown column `{}`; {COLUMNS_HINT}", printable(h)),
                );
            } else if header[..i].contains(h) {
                problems.add(1, format!("column `{h}` appears twice; keep one"));
            }
        }
        let column = |name: &str| header.iter().position(|h| h == name);
        let missing: Vec<&str> = KEY_COLUMNS
            .into_iter()
            .filter(|c| column(c).is_none())
            .collect();
        if !missing.is_empty() {
            problems.add(
                1,
                format!("missing column(s) {}; {COLUMNS_HINT}", missing.join(", ")),
            );
        }
        let metrics: Vec<(Metric, usize)> = Metric::ALL
            .iter()
            .filter_map(|m| column(m.as_str()).map(|i| (*m, i)))
            .collect();
        if !metrics
            .iter()
            .any(|(m, _)| matches!(m, Metric::Reach | Metric::Impressions))
        {
            problems.add(
                1,
                "needs a reach or an impressions column: those are the counts tested; add one",
            );
        }
        problems.finish()?;
        Ok(Columns {
            comparison: column("comparison"),
            ad: column("ad").expect("checked"),
            dimension: column("dimension").expect("checked"),
            group: column("group").expect("checked"),
            metrics,
        })
    }
}

/// Every line of the file after the header: those that are right, and a problem for each
/// one that is not (a line can have several) or repeats an earlier one.
fn read_lines(
    csv: &mut csv::Reader<&[u8]>,
    columns: &Columns,
    problems: &mut Problems<'_>,
) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut seen: BTreeMap<(Option<String>, String, Breakdown, String), u64> = BTreeMap::new();
    for record in csv.byte_records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                problems.add(line, record_problem(&e));
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let checked = match columns.line(&record) {
            Ok(l) => l,
            Err(found) => {
                found.into_iter().for_each(|p| problems.add(line, p));
                continue;
            }
        };
        let key = (
            checked.comparison.clone(),
            checked.ad.clone(),
            checked.dimension,
            checked.group.clone(),
        );
        if let Some(first) = seen.insert(key, line) {
            problems.add(
                line,
                format!(
                    "repeats line {first} ({}, {}, {}); give each count once",
                    checked.ad,
                    checked.dimension,
                    printable(&checked.group)
                ),
            );
            continue;
        }
        lines.push(checked);
    }
    lines
}

/// What is wrong with a line the CSV reader could not split, in words with a fix.
fn record_problem(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "has {len} fields where the header has {expected_len}; give every line one value \
             per column (a value containing the separator must be in double quotes)"
        ),
        _ => format!("cannot be read as CSV ({e}); save the file as CSV again"),
    }
}

/// Takes `r`'s value, or keeps its problem.
fn take<T>(problems: &mut Vec<String>, r: std::result::Result<T, String>) -> Option<T> {
    r.map_err(|p| problems.push(p)).ok()
}

impl Columns {
    /// One line checked field by field: the line, or every problem it has.
    fn line(&self, record: &ByteRecord) -> std::result::Result<Line, Vec<String>> {
        let mut p = Vec::new();
        let ad = take(
            &mut p,
            text(record, self.ad, "ad").and_then(|t| key(t, "ad")),
        );
        let comparison = self.comparison.map(|i| {
            take(
                &mut p,
                text(record, i, "comparison").and_then(|t| key(t, "comparison")),
            )
        });
        let dimension = take(
            &mut p,
            text(record, self.dimension, "dimension").and_then(dimension),
        );
        let group = take(&mut p, text(record, self.group, "group"));
        let group = match (dimension, group) {
            (Some(d), Some(g)) => take(&mut p, group_of(d, g)),
            _ => None,
        };
        let mut counts = BTreeMap::new();
        let mut spend = None;
        for (m, i) in &self.metrics {
            let Some(t) = take(&mut p, text(record, *i, m.as_str())) else {
                continue;
            };
            if *m == Metric::Spend {
                spend = take(&mut p, amount(t));
            } else if let Some(n) = take(&mut p, count(t, *m)) {
                counts.insert(*m, n);
            }
        }
        match (
            ad,
            comparison.unwrap_or(Some(String::new())),
            dimension,
            group,
        ) {
            (Some(ad), Some(comparison), Some(dimension), Some(group)) if p.is_empty() => {
                Ok(Line {
                    comparison: self.comparison.map(|_| comparison),
                    ad,
                    dimension,
                    group,
                    counts,
                    spend,
                })
            }
            _ => Err(p),
        }
    }
}

/// Field `i` as text.
fn text<'r>(
    record: &'r ByteRecord,
    i: usize,
    column: &str,
) -> std::result::Result<&'r str, String> {
    std::str::from_utf8(record.get(i).unwrap_or_default()).map_err(|_| {
        format!("is not UTF-8 text (column {column}); save the file as UTF-8 (in a spreadsheet: CSV UTF-8)")
    })
}

/// An ad or comparison name, which becomes a key of the described experiment.
fn key(text: &str, column: &str) -> std::result::Result<String, String> {
    if is_key(text) {
        Ok(text.to_string())
    } else {
        Err(format!(
            "{column} `{}` must be a key: lowercase letters, digits, - and _; rename it",
            printable(text)
        ))
    }
}

fn dimension(text: &str) -> std::result::Result<Breakdown, String> {
    match Breakdown::parse(text) {
        Some(b) if !b.is_inferred() => Ok(b),
        _ => Err(format!(
            "unknown dimension `{}`; use gender, age or region",
            printable(text)
        )),
    }
}

/// A group of `dimension` in its one spelling, as `import` reads it.
fn group_of(dimension: Breakdown, text: &str) -> std::result::Result<String, String> {
    dimension.group(text).ok_or_else(|| {
        let what = if text.is_empty() {
            "the group is empty".to_string()
        } else {
            format!(
                "{dimension} group `{}` is not one adskew knows",
                printable(text)
            )
        };
        format!("{what}; the {dimension} groups are {}", dimension.groups())
    })
}

fn count(text: &str, metric: Metric) -> std::result::Result<u64, String> {
    parse_count(text).map_err(|e| match e {
        CountError::Empty => format!("{metric} is empty; {COUNT_FIX}"),
        e => format!(
            "{metric} `{}` is not a count: it {e}; {COUNT_FIX}",
            printable(text)
        ),
    })
}

fn amount(text: &str) -> std::result::Result<Money, String> {
    Money::parse_decimal(text).ok_or_else(|| {
        format!(
            "spend `{}` is not an amount; write it like 12.34",
            printable(text)
        )
    })
}

/// The comparisons of the file: as given, or all ads together and, past two, pairwise.
fn comparisons(lines: &[Line]) -> Vec<(String, Vec<String>)> {
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let given = lines.iter().any(|l| l.comparison.is_some());
    for l in lines {
        let name = l.comparison.clone().unwrap_or_else(|| "all".to_string());
        let ads = by_name.entry(name).or_default();
        if !ads.contains(&l.ad) {
            ads.push(l.ad.clone());
        }
    }
    let out: Vec<(String, Vec<String>)> = by_name.into_iter().collect();
    if given {
        out
    } else {
        all_and_pairwise(&out[0].1)
    }
}

/// Analyses a counts file as if it were a stored run's latest totals.
pub fn analyze_counts(path: &Path, options: &crate::cli::AnalysisArgs) -> Result<Analysis> {
    let (lines, metrics) = read(path)?;
    let comparisons = comparisons(&lines);
    if comparisons.iter().any(|(_, ads)| ads.len() < 2) {
        return Err(Error::BadInput(format!(
            "{}: every comparison needs at least two ads; add the other ads' lines or remove the comparison",
            path.display()
        )));
    }
    let mut experiment = description(path, &lines, &metrics, &comparisons).experiment(path)?;
    options.apply(&mut experiment.analysis);
    let metric = experiment.analysis.metric;
    if !metrics.contains(&metric) {
        return Err(Error::BadInput(format!(
            "{} has no {metric} column; add it, or choose a metric the file has ({})",
            path.display(),
            metrics
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    // Each comparison analyses its own lines: the same ad may have different counts in
    // two comparisons of the file.
    let mut parts = comparisons
        .iter()
        .map(|(key, _)| analyze_comparison(&experiment, &lines, key));
    let mut analysis = parts.next().expect("a file has at least one comparison");
    parts.for_each(|one| analysis.comparisons.extend(one.comparisons));
    // One correction across every test of the file, as for a run.
    crate::analysis::correct_all(&mut analysis);
    Ok(analysis)
}

/// The day every line of a counts file is dated: the file says nothing of when.
fn undated() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date")
}

/// An experiment that describes the file: its ads, comparisons and dimensions. The
/// platform is not the simulator, so no eligible audience is assumed.
fn description(
    path: &Path,
    lines: &[Line],
    metrics: &[Metric],
    comparisons: &[(String, Vec<String>)],
) -> Description {
    let ads: BTreeSet<&str> = lines.iter().map(|l| l.ad.as_str()).collect();
    let dimensions: BTreeSet<Breakdown> = lines.iter().map(|l| l.dimension).collect();
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    Description {
        name: experiment_name(&stem),
        description: format!("Counts from {stem}"),
        origin: format!("Describes the counts file {}.", path.display()),
        currency: "USD".to_string(),
        spend_cap: Money(100),
        ads: ads.iter().map(|a| (a.to_string(), a.to_string())).collect(),
        comparisons: comparisons.to_vec(),
        breakdowns: dimensions.into_iter().collect(),
        metric: if metrics.contains(&Metric::Reach) {
            Metric::Reach
        } else {
            Metric::Impressions
        },
        start: undated(),
        end: undated(),
    }
}

/// The file's stem as an experiment name (`keys::is_name`): anything else becomes '-'.
fn experiment_name(stem: &str) -> String {
    stem.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The analysis of one comparison of the file, from its own lines (uncorrected).
fn analyze_comparison(experiment: &Experiment, lines: &[Line], key: &str) -> Analysis {
    let mut exp = experiment.clone();
    exp.comparisons.retain(|c| c.key == key);
    let inputs = Inputs {
        record: record_for(&exp),
        experiment: exp,
        collections: Vec::new(),
        totals: totals(lines, key),
        reviews: BTreeMap::new(),
        state_cause: None,
        partition_totals: BTreeMap::new(),
        // A counts file comes from no platform that could say who was eligible.
        platform_eligible: BTreeMap::new(),
        // Nor from collections looked at one by one.
        looks: Vec::new(),
        looks_as_of: None,
        history: None,
    };
    analyze(&inputs)
}

/// The lines of comparison `key` (all lines when the file names no comparisons) as the
/// store would hand out a run's latest totals, per dimension.
fn totals(lines: &[Line], key: &str) -> BTreeMap<Breakdown, Vec<StoredRow>> {
    let mut totals: BTreeMap<Breakdown, Vec<StoredRow>> = BTreeMap::new();
    for l in lines
        .iter()
        .filter(|l| l.comparison.as_deref().is_none_or(|c| c == key))
    {
        totals.entry(l.dimension).or_default().push(StoredRow {
            ad_key: l.ad.clone(),
            period: Period::Total,
            date_start: undated(),
            date_stop: undated(),
            breakdown: l.dimension,
            value: l.group.clone(),
            reach: l.count(Metric::Reach),
            impressions: l.count(Metric::Impressions),
            clicks: l.count(Metric::Clicks),
            spend: l.spend.unwrap_or(Money::ZERO),
        });
    }
    totals
}

fn record_for(exp: &Experiment) -> ExperimentRecord {
    ExperimentRecord {
        id: 0,
        name: exp.name.clone(),
        platform: RunOrigin::Counts,
        // A counts file holds the final numbers of whatever produced it.
        state: RunState::Completed,
        currency: exp.currency.clone(),
        spend_cap: exp.spend_cap,
        file_path: exp.source.path.display().to_string(),
        file_sha256: exp.source.sha256.clone(),
        resolved_sha256: String::new(),
        resolved_json: String::new(),
        overrides: Vec::new(),
        adskew_version: crate::VERSION.to_string(),
        created_at: String::new(),
        started_at: None,
        ended_at: None,
        planned_start: None,
        planned_end: None,
        recollect_at: None,
    }
}
