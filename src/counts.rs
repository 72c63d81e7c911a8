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
//! there are more than two, also pairwise. The whole file is checked first; any problem is
//! reported with its line, and nothing is analysed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::NaiveDate;

use crate::analysis::{analyze, Analysis, Inputs};
use crate::error::{Error, Result};
use crate::experiment::describe::{all_and_pairwise, Description};
use crate::experiment::keys::is_key;
use crate::money::Money;
use crate::store::{ExperimentRecord, Period, RunOrigin, RunState, StoredRow};
use crate::vocab::{Breakdown, Metric};

const METRICS: [&str; 4] = ["reach", "impressions", "clicks", "spend"];

/// One checked line of the file.
struct Line {
    comparison: Option<String>,
    ad: String,
    dimension: Breakdown,
    group: String,
    counts: BTreeMap<&'static str, u64>,
    spend: Option<Money>,
}

fn bad(path: &Path, line: u64, what: impl std::fmt::Display) -> Error {
    Error::BadInput(format!("{}: line {line}: {what}", path.display()))
}

/// Reads and checks the whole file.
fn read(path: &Path) -> Result<(Vec<Line>, Vec<&'static str>)> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::BadInput(format!("cannot read {}: {e}", path.display())))?;
    let mut csv = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes.as_slice());
    let header: Vec<String> = csv
        .byte_headers()
        .map_err(|e| bad(path, 1, e))?
        .iter()
        .map(|h| String::from_utf8_lossy(h).to_ascii_lowercase())
        .collect();
    if header.iter().all(String::is_empty) {
        return Err(Error::BadInput(format!(
            "{} is empty: the first line names the columns (ad, dimension, group, and reach and/or impressions)",
            path.display()
        )));
    }
    let column = |name: &str| header.iter().position(|h| h == name);
    for h in &header {
        if !["comparison", "ad", "dimension", "group"].contains(&h.as_str())
            && !METRICS.contains(&h.as_str())
        {
            return Err(bad(
                path,
                1,
                format!("unknown column `{h}`; the columns are comparison (optional), ad, dimension, group, and any of reach, impressions, clicks, spend"),
            ));
        }
    }
    let (Some(ad_col), Some(dim_col), Some(group_col)) =
        (column("ad"), column("dimension"), column("group"))
    else {
        let missing: Vec<&str> = ["ad", "dimension", "group"]
            .into_iter()
            .filter(|c| column(c).is_none())
            .collect();
        return Err(bad(
            path,
            1,
            format!("missing column(s) {}", missing.join(", ")),
        ));
    };
    let metrics: Vec<&'static str> = METRICS
        .into_iter()
        .filter(|m| column(m).is_some())
        .collect();
    if !metrics.iter().any(|m| *m == "reach" || *m == "impressions") {
        return Err(bad(
            path,
            1,
            "needs a reach or an impressions column: those are the counts tested",
        ));
    }
    let comparison_col = column("comparison");
    let mut lines = Vec::new();
    let mut seen: BTreeMap<(Option<String>, String, Breakdown, String), u64> = BTreeMap::new();
    for record in csv.byte_records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            bad(path, line, e)
        })?;
        let line = record.position().map_or(0, csv::Position::line);
        let field = |i: usize| -> Result<String> {
            let raw = record.get(i).unwrap_or_default();
            std::str::from_utf8(raw)
                .map(str::to_string)
                .map_err(|_| bad(path, line, "is not UTF-8 text; save the file as UTF-8"))
        };
        let ad = field(ad_col)?;
        if !is_key(&ad) {
            return Err(bad(
                path,
                line,
                format!("ad `{ad}` must be a key: lowercase letters, digits, - and _"),
            ));
        }
        let dim_text = field(dim_col)?;
        let dimension = match Breakdown::parse(&dim_text) {
            Some(b) if !b.is_inferred() => b,
            _ => {
                return Err(bad(
                    path,
                    line,
                    format!("unknown dimension `{dim_text}`; use gender, age or region"),
                ))
            }
        };
        let group = field(group_col)?;
        if group.is_empty() {
            return Err(bad(path, line, "the group is empty"));
        }
        let comparison = match comparison_col {
            Some(i) => {
                let c = field(i)?;
                if !is_key(&c) {
                    return Err(bad(
                        path,
                        line,
                        format!(
                            "comparison `{c}` must be a key: lowercase letters, digits, - and _"
                        ),
                    ));
                }
                Some(c)
            }
            None => None,
        };
        let mut counts = BTreeMap::new();
        let mut spend = None;
        for m in &metrics {
            let text = field(column(m).expect("present"))?;
            if *m == "spend" {
                spend = Some(Money::parse_decimal(&text).ok_or_else(|| {
                    bad(
                        path,
                        line,
                        format!("spend `{text}` is not an amount like 12.34"),
                    )
                })?);
            } else {
                let n: u64 = text.parse().map_err(|_| {
                    bad(
                        path,
                        line,
                        format!("{m} `{text}` is not a count (a whole number, 0 or more)"),
                    )
                })?;
                counts.insert(*m, n);
            }
        }
        let key = (comparison.clone(), ad.clone(), dimension, group.clone());
        if let Some(first) = seen.insert(key, line) {
            return Err(bad(
                path,
                line,
                format!("repeats line {first} ({ad}, {dim_text}, {group}); give each count once"),
            ));
        }
        lines.push(Line {
            comparison,
            ad,
            dimension,
            group,
            counts,
            spend,
        });
    }
    if lines.is_empty() {
        return Err(Error::BadInput(format!(
            "{} has a header but no counts",
            path.display()
        )));
    }
    Ok((lines, metrics))
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
            "{}: every comparison needs at least two ads",
            path.display()
        )));
    }
    let ads: BTreeSet<&str> = lines.iter().map(|l| l.ad.as_str()).collect();
    let day = NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date");
    let dimensions: BTreeSet<Breakdown> = lines.iter().map(|l| l.dimension).collect();
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    // The file's stem as an experiment name (`keys::is_name`): anything else becomes '-'.
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    // An experiment that describes the file: its ads, comparisons and dimensions. The
    // platform is not the simulator, so no eligible audience is assumed.
    let description = Description {
        name,
        description: format!("Counts from {stem}"),
        origin: format!("Describes the counts file {}.", path.display()),
        currency: "USD".to_string(),
        spend_cap: Money(100),
        ads: ads.iter().map(|a| (a.to_string(), a.to_string())).collect(),
        comparisons: comparisons.clone(),
        breakdowns: dimensions.into_iter().collect(),
        metric: if metrics.contains(&"reach") {
            Metric::Reach
        } else {
            Metric::Impressions
        },
        start: day,
        end: day,
    };
    let mut experiment = description.experiment(path)?;
    options.apply(&mut experiment.analysis);
    if !metrics.contains(&experiment.analysis.metric.as_str()) {
        return Err(Error::BadInput(format!(
            "{} has no {} column",
            path.display(),
            experiment.analysis.metric
        )));
    }

    // Each comparison analyses its own lines: the same ad may have different counts in
    // two comparisons of the file.
    let mut analysis: Option<Analysis> = None;
    for (key, _) in &comparisons {
        let mut totals: BTreeMap<Breakdown, Vec<StoredRow>> = BTreeMap::new();
        for l in lines
            .iter()
            .filter(|l| l.comparison.as_deref().is_none_or(|c| c == key))
        {
            totals.entry(l.dimension).or_default().push(StoredRow {
                ad_key: l.ad.clone(),
                period: Period::Total,
                date_start: day,
                date_stop: day,
                breakdown: l.dimension,
                value: l.group.clone(),
                reach: l.counts.get("reach").copied().unwrap_or(0),
                impressions: l.counts.get("impressions").copied().unwrap_or(0),
                clicks: l.counts.get("clicks").copied().unwrap_or(0),
                spend: l.spend.unwrap_or(Money::ZERO),
            });
        }
        let mut exp = experiment.clone();
        exp.comparisons.retain(|c| &c.key == key);
        let inputs = Inputs {
            record: record_for(&exp),
            experiment: exp,
            collections: Vec::new(),
            totals,
            reviews: BTreeMap::new(),
            state_cause: None,
            partition_totals: BTreeMap::new(),
            // A counts file comes from no platform that could say who was eligible.
            platform_eligible: BTreeMap::new(),
        };
        let one = analyze(&inputs);
        analysis = Some(match analysis {
            None => one,
            Some(mut all) => {
                all.comparisons.extend(one.comparisons);
                all
            }
        });
    }
    let mut analysis = analysis.expect("at least one comparison");
    // One correction across every test of the file, as for a run.
    crate::analysis::correct_all(&mut analysis);
    Ok(analysis)
}

fn record_for(exp: &crate::experiment::Experiment) -> ExperimentRecord {
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
