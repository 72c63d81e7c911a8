//! One Ads Manager export (a CSV report downloaded by hand), read and checked whole.
//!
//! ```csv
//! "Ad Set Name",Gender,Reach,Impressions,...,"Amount Spent (EUR)",...,"Reporting Starts","Reporting Ends"
//! "DE - Germany - Hairdresser",female,679,680,...,2.3265551839465,...,2020-08-01,2020-08-26
//! ```
//!
//! Columns are found by name, in any order and case (`Amount spent (USD)` is `Amount Spent
//! (USD)`); columns adskew does not use (Frequency, CPM, Results, ...) are ignored. The
//! separator is whichever of `,`, `;` (European Excel, whose decimal separator is the comma,
//! which amounts may then use) and tab the header line uses. Every bad line is reported at
//! once (the first [`PROBLEMS_SHOWN`], then how many more), each with the file, line, column
//! and what to do, because the person importing is usually looking at the file in a
//! spreadsheet, not at adskew's code; a value is quoted through
//! [`adskew_core::text::printable`], so no control character reaches the terminal.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::snapshot::{snapshot_time, SnapshotFrom};
use adskew_core::count::{parse_count, CountError, COUNT_FIX};
use adskew_core::error::Error;
use adskew_core::money::{minor_digits, ExactAmount, Money};
use adskew_core::text::printable;
use adskew_core::vocab::Breakdown;
use adskew_store::{Period, StoredRow};

/// The columns that name the ad, most specific first: each ad is compared as a unit, and in
/// adskew's own runs an ad set holds exactly one ad.
const NAME_COLUMNS: [&str; 3] = ["Ad Name", "Ad Set Name", "Campaign Name"];

/// Ads Manager's breakdown columns adskew stores, and the dimension each is.
const DIMENSION_COLUMNS: [(&str, Breakdown); 3] = [
    ("Gender", Breakdown::Gender),
    ("Age", Breakdown::Age),
    ("Region", Breakdown::Region),
];

/// Breakdown columns Ads Manager can add that adskew's store has no dimension for. A file
/// with one is refused by name rather than read as duplicate rows.
const UNSUPPORTED_COLUMNS: [&str; 6] = [
    "DMA Region",
    "Country",
    "Placement",
    "Platform",
    "Device Platform",
    "Impression Device",
];

/// How many problems of one file are listed; the rest are counted.
pub const PROBLEMS_SHOWN: usize = 20;

/// The largest export adskew reads (256 MiB; Ads Manager's exports of a study are a few
/// hundred kilobytes), so a wrong path (`/dev/zero`, a disk image) cannot fill memory.
pub const MAX_EXPORT_BYTES: u64 = 256 << 20;

/// How far past the wall clock a snapshot time may be: file names are read as UTC but are
/// usually written in local time, which is at most 14 hours ahead of UTC (UTC+14). A time
/// later than that is in the future everywhere, and would hide every later snapshot.
pub const FUTURE_SLACK_HOURS: i64 = 14;

/// Where `adskew import --help` and the README say how to export.
const HOW: &str = "in Ads Manager's table: Breakdown → By Delivery → Gender, Age, or Age and Gender (or Region alone), then Reports → Export table data → .csv";

/// A checked export.
#[derive(Debug, Clone)]
pub struct Export {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub sha256: String,
    pub snapshot_at: DateTime<Utc>,
    pub snapshot_from: SnapshotFrom,
    pub currency: String,
    /// The dimensions the file breaks delivery down by, in canonical order.
    pub dimensions: Vec<Breakdown>,
    /// The column the ads are named by.
    pub name_column: &'static str,
    /// In the order they first appear.
    pub ads: Vec<ExportAd>,
    /// Data lines read (a skipped totals line is not one).
    pub rows_read: u64,
    /// What was passed over, for the user (a totals line).
    pub notes: Vec<String>,
}

/// One ad's rows in an export.
#[derive(Debug, Clone)]
pub struct ExportAd {
    pub name: String,
    /// The line of its first row.
    pub line: u64,
    pub start: NaiveDate,
    pub stop: NaiveDate,
    pub cells: Vec<Cell>,
}

/// One row: one ad and one value of each dimension of the file.
#[derive(Debug, Clone)]
pub struct Cell {
    pub line: u64,
    /// One value per dimension of the file, in the same order.
    pub values: Vec<String>,
    pub reach: u64,
    pub impressions: u64,
    pub clicks: u64,
    pub spend: ExactAmount,
}

/// An error in `path` at `line`.
pub fn bad(path: &Path, line: u64, what: impl std::fmt::Display) -> Error {
    Error::BadInput(format!("{}: line {line}: {what}", shown(path)))
}

/// A path as messages show it: control characters escaped.
pub fn shown(path: &Path) -> String {
    printable(&path.display().to_string()).into_owned()
}

/// Every problem of one file's lines, in the order found; the first [`PROBLEMS_SHOWN`]
/// are kept, the rest counted.
struct Problems<'a> {
    path: &'a Path,
    shown: Vec<String>,
    more: usize,
}

impl<'a> Problems<'a> {
    fn new(path: &'a Path) -> Problems<'a> {
        Problems {
            path,
            shown: Vec::new(),
            more: 0,
        }
    }

    /// A problem on `line`, in the column at index `column` if it is one cell's.
    fn add(&mut self, line: u64, column: Option<usize>, what: &str) {
        if self.shown.len() >= PROBLEMS_SHOWN {
            self.more += 1;
            return;
        }
        let at = column.map_or(String::new(), |c| {
            format!(" (spreadsheet column {})", column_letter(c))
        });
        self.shown
            .push(format!("{}: line {line}: {what}{at}", shown(self.path)));
    }

    /// All of them as one error, or `Ok` when there is none.
    fn result(mut self) -> Result<(), Error> {
        if self.shown.is_empty() {
            return Ok(());
        }
        if self.more > 0 {
            self.shown.push(format!(
                "{}: and {} more problem(s) not shown; fix the lines above and import again to see them",
                shown(self.path),
                self.more
            ));
        }
        Err(Error::BadInput(self.shown.join("\n  ")))
    }
}

/// A column's letter as a spreadsheet shows it: A..Z, AA, AB, ...
fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        letters.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ASCII letters")
}

/// A csv-crate error as a message with the fix (the crate's own words never reach the
/// user).
fn csv_problem(e: &csv::Error, separator: u8) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "has {len} fields but the header has {expected_len}; a value that contains `{}` must \
             be in double quotes. Export the report again rather than editing it by hand ({HOW})",
            printable(&(separator as char).to_string())
        ),
        csv::ErrorKind::Utf8 { .. } => "is not UTF-8 text. Ads Manager exports UTF-8; download \
             it again or save it as \"CSV UTF-8\""
            .to_string(),
        _ => format!("cannot be read as CSV; export the report again ({HOW})"),
    }
}

/// The separator of a CSV: whichever of `,`, `;` and tab its first line has most often
/// outside double quotes (a comma on a tie or when there is none).
fn separator(text: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in text.bytes() {
        if b == b'\n' && !quoted {
            break;
        }
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(c) = counts.iter_mut().find(|(s, _)| *s == b) {
                c.1 += 1;
            }
        }
    }
    counts
        .iter()
        .fold((b',', 0), |best, c| if c.1 > best.1 { *c } else { best })
        .0
}

/// `text` without `prefix`, compared in any ASCII case.
fn strip_prefix_ci<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// The index of a column, by its name in any case.
fn column(header: &[String], name: &str) -> Option<usize> {
    header.iter().position(|h| h.eq_ignore_ascii_case(name))
}

/// A count (`adskew_core::count::parse_count`, bounded by `MAX_COUNT`); empty is zero
/// where `empty_is_zero`.
fn count(text: &str, column: &str, empty_is_zero: bool) -> Result<u64, String> {
    if text.is_empty() && empty_is_zero {
        return Ok(0);
    }
    parse_count(text).map_err(|e| match e {
        CountError::Empty => format!("{column} {e}; it must be a count ({COUNT_FIX})"),
        e => format!(
            "{column} `{}` {e}; it must be a count ({COUNT_FIX})",
            printable(text)
        ),
    })
}

fn date(text: &str, column: &str) -> Result<NaiveDate, String> {
    if text.is_empty() {
        return Err(format!(
            "{column} is empty; every row needs its reporting window (export with the Reporting Starts and Reporting Ends columns filled)"
        ));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        format!(
            "{column} `{}` is not a date like 2020-08-01",
            printable(text)
        )
    })
}

/// A dimension's value in its one spelling (`Breakdown::group`, shared with every reader
/// of counts).
fn dimension_value(dimension: Breakdown, text: &str, column: &str) -> Result<String, String> {
    dimension.group(text).ok_or_else(|| {
        format!(
            "{column} `{}` is not one adskew knows; the values are {}",
            printable(text),
            dimension.groups()
        )
    })
}

/// Where the columns adskew reads are in a file's header.
struct Columns {
    /// The column the ads are named by, and its index.
    name: (&'static str, usize),
    /// The breakdown columns, in canonical order.
    dims: Vec<(Breakdown, &'static str, usize)>,
    reach: usize,
    impressions: usize,
    start: usize,
    stop: usize,
    clicks: Option<(&'static str, usize)>,
    spend: usize,
    /// The spend column's header as written, for messages.
    spend_name: String,
    currency: String,
    /// Amounts may use a decimal comma (a `;`-separated file, as European Excel writes).
    decimal_comma: bool,
}

/// The name column (name, index) and the breakdown columns (dimension, name, index).
type NameAndDimensions = ((&'static str, usize), Vec<(Breakdown, &'static str, usize)>);

/// One data line read: its ad, its cell and its reporting window.
struct Line {
    name: String,
    cell: Cell,
    start: NaiveDate,
    stop: NaiveDate,
}

/// What is wrong with one line: each problem with the index of its column, if it is one
/// cell's.
type LineProblems = Vec<(Option<usize>, String)>;

/// `r`'s value, or `None` with its message kept as a problem of column `column`.
fn checked<T>(problems: &mut LineProblems, column: usize, r: Result<T, String>) -> Option<T> {
    r.map_err(|m| problems.push((Some(column), m))).ok()
}

impl Columns {
    /// Finds every column in `header` (line 1 of `path`), or says which is missing or
    /// cannot be stored.
    fn find(path: &Path, header: &[String], separator: u8) -> Result<Columns, Error> {
        let (name, dims) = Columns::name_and_dimensions(path, header)?;
        let required =
            |n: &str| column(header, n).ok_or_else(|| missing(path, header, &format!("\"{n}\"")));
        let reach = required("Reach")?;
        let impressions = required("Impressions")?;
        let start = required("Reporting Starts")?;
        let stop = required("Reporting Ends")?;
        let clicks = ["Link Clicks", "Clicks (All)"]
            .iter()
            .find_map(|c| column(header, c).map(|i| (*c, i)));
        let (spend, currency) = spend_column(path, header)?;
        Ok(Columns {
            name,
            dims,
            reach,
            impressions,
            start,
            stop,
            clicks,
            spend,
            spend_name: printable(&header[spend]).into_owned(),
            currency,
            decimal_comma: separator == b';',
        })
    }

    /// The column naming the ads and the breakdown columns, refusing breakdowns adskew
    /// does not store and Region combined with another.
    fn name_and_dimensions(path: &Path, header: &[String]) -> Result<NameAndDimensions, Error> {
        let name = NAME_COLUMNS
            .iter()
            .find_map(|n| column(header, n).map(|i| (*n, i)))
            .ok_or_else(|| {
                missing(
                    path,
                    header,
                    "\"Ad Name\", \"Ad Set Name\" or \"Campaign Name\"",
                )
            })?;
        if let Some(u) = UNSUPPORTED_COLUMNS
            .iter()
            .find(|u| column(header, u).is_some())
        {
            return Err(bad(
                path,
                1,
                format!(
                    "has a \"{u}\" breakdown, which adskew does not store (its breakdowns are {}). \
                     Export again without it",
                    DIMENSION_COLUMNS
                        .iter()
                        .map(|(c, _)| *c)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let dims: Vec<(Breakdown, &str, usize)> = DIMENSION_COLUMNS
            .iter()
            .filter_map(|(c, b)| column(header, c).map(|i| (*b, *c, i)))
            .collect();
        if dims.is_empty() {
            return Err(missing(
                path,
                header,
                "breakdown (\"Gender\", \"Age\" or \"Region\")",
            ));
        }
        if dims.len() > 1 && dims.iter().any(|(b, _, _)| *b == Breakdown::Region) {
            return Err(bad(
                path,
                1,
                "breaks delivery down by Region together with Gender or Age. A person can be reached \
                 in two regions, so reach cannot be summed over regions into a gender or age \
                 breakdown: export Region in a file of its own",
            ));
        }
        Ok((name, dims))
    }

    /// The breakdown columns' names, joined by `sep`, for messages.
    fn dimension_names(&self, sep: &str) -> String {
        self.dims
            .iter()
            .map(|(_, c, _)| *c)
            .collect::<Vec<_>>()
            .join(sep)
    }

    /// Reads one data line; `Ok(None)` for a totals row (no ad and no group: its numbers
    /// are sums of the others). Every cell is checked, so all of a line's problems are
    /// found at once.
    fn line(&self, record: &csv::StringRecord) -> Result<Option<Line>, LineProblems> {
        let field = |i: usize| record.get(i).unwrap_or_default();
        let (name_column, name_col) = self.name;
        let name = field(name_col).to_string();
        if name.is_empty() && self.dims.iter().all(|(_, _, i)| field(*i).is_empty()) {
            return Ok(None);
        }
        let mut problems = LineProblems::new();
        if name.is_empty() {
            problems.push((
                Some(name_col),
                format!("{name_column} is empty; every row must name its ad"),
            ));
        }
        let values = self.values(record, &mut problems);
        let window = self.window(record, &mut problems);
        let cell = self.cell(record, &mut problems);
        match (values, cell, window, problems.is_empty()) {
            (Some(values), Some(cell), Some((start, stop)), true) => Ok(Some(Line {
                name,
                cell: Cell { values, ..cell },
                start,
                stop,
            })),
            _ => Err(problems),
        }
    }

    /// The line's value of each breakdown, in its one spelling.
    fn values(
        &self,
        record: &csv::StringRecord,
        problems: &mut LineProblems,
    ) -> Option<Vec<String>> {
        let mut values = Vec::new();
        for (b, c, i) in &self.dims {
            let text = record.get(*i).unwrap_or_default();
            values.push(if text.is_empty() {
                problems.push((Some(*i), format!(
                    "{c} is empty; every row of an ad needs its {c} (a row without one is a total only when the ad name is empty too)"
                )));
                None
            } else {
                checked(problems, *i, dimension_value(*b, text, c))
            });
        }
        values.into_iter().collect()
    }

    /// The line's reporting window: two dates, the end not before the start.
    fn window(
        &self,
        record: &csv::StringRecord,
        problems: &mut LineProblems,
    ) -> Option<(NaiveDate, NaiveDate)> {
        let field = |i: usize| record.get(i).unwrap_or_default();
        let start = checked(
            problems,
            self.start,
            date(field(self.start), "Reporting Starts"),
        );
        let stop = checked(
            problems,
            self.stop,
            date(field(self.stop), "Reporting Ends"),
        );
        let (start, stop) = (start?, stop?);
        if stop < start {
            problems.push((
                Some(self.stop),
                format!("Reporting Ends {stop} is before Reporting Starts {start}; export the report again"),
            ));
            return None;
        }
        Some((start, stop))
    }

    /// The line's counts and spend (its breakdown values are added by the caller).
    fn cell(&self, record: &csv::StringRecord, problems: &mut LineProblems) -> Option<Cell> {
        let field = |i: usize| record.get(i).unwrap_or_default();
        let reach = checked(
            problems,
            self.reach,
            count(field(self.reach), "Reach", false),
        );
        let impressions = checked(
            problems,
            self.impressions,
            count(field(self.impressions), "Impressions", false),
        );
        let clicks = match self.clicks {
            Some((c, i)) => checked(problems, i, count(field(i), c, true)),
            None => Some(0),
        };
        let spend = checked(problems, self.spend, self.spend(field(self.spend)));
        Some(Cell {
            line: record.position().map_or(0, csv::Position::line),
            values: Vec::new(),
            reach: reach?,
            impressions: impressions?,
            clicks: clicks?,
            spend: spend?,
        })
    }

    /// A spend cell: empty is zero; in a `;`-separated file the decimal separator may be a
    /// comma.
    fn spend(&self, text: &str) -> Result<ExactAmount, String> {
        if text.is_empty() {
            return Ok(ExactAmount::default());
        }
        let decimal = match self.decimal_comma && !text.contains('.') {
            true => text.replacen(',', ".", 1),
            false => text.to_string(),
        };
        ExactAmount::parse(&decimal).ok_or_else(|| {
            format!(
                "{} `{}` is not an amount (0 or more, like 2.33)",
                self.spend_name,
                printable(text)
            )
        })
    }
}

/// "no X column", with the columns there are and how to add it.
fn missing(path: &Path, header: &[String], what: &str) -> Error {
    let found = header
        .iter()
        .map(|h| format!("\"{}\"", printable(h)))
        .collect::<Vec<_>>()
        .join(", ");
    bad(
        path,
        1,
        format!(
            "no {what} column. The columns are: {found}. Add it (Columns → Customize columns) and export again ({HOW})"
        ),
    )
}

/// The one "Amount Spent (XXX)" column and its currency, which adskew must be able to
/// keep exactly in hundredths.
fn spend_column(path: &Path, header: &[String]) -> Result<(usize, String), Error> {
    let spends: Vec<(usize, &str)> = header
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let code = strip_prefix_ci(h, "Amount Spent (")?.strip_suffix(')')?;
            Some((i, code))
        })
        .collect();
    let (spend_col, currency) = match spends.as_slice() {
        [] => {
            return Err(missing(
                path,
                header,
                "\"Amount Spent (XXX)\" (XXX: the account's currency)",
            ))
        }
        [(i, code)] => (*i, code.to_ascii_uppercase()),
        _ => {
            let found = header
                .iter()
                .map(|h| format!("\"{}\"", printable(h)))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(bad(
                path,
                1,
                format!("has more than one \"Amount Spent\" column ({found}); export one currency"),
            ));
        }
    };
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(bad(
            path,
            1,
            format!(
                "\"Amount Spent ({})\" does not name an ISO 4217 currency such as EUR; export \
                 with the account's currency in the column's name",
                printable(&currency)
            ),
        ));
    }
    if minor_digits(&currency) > 2 {
        return Err(bad(
            path,
            1,
            format!(
                "spends in {currency}, which has three decimals; adskew keeps money in hundredths \
                 of the currency and cannot store it exactly"
            ),
        ));
    }
    Ok((spend_col, currency))
}

/// Refuses a snapshot time later than `now` by more than [`FUTURE_SLACK_HOURS`]: stored,
/// it would be "the latest" for good and every correct snapshot after it refused as older.
fn not_in_the_future(
    path: &Path,
    at: DateTime<Utc>,
    from: SnapshotFrom,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if at <= now + TimeDelta::hours(FUTURE_SLACK_HOURS) {
        return Ok(());
    }
    let fix = match from {
        SnapshotFrom::FileName => {
            "rename the file to the date and time the export was made (e.g. 2020-08-26_18:32.csv)"
        }
        SnapshotFrom::ModificationTime => {
            "put the date and time the export was made in its name (e.g. 2020-08-26_18:32.csv), or correct its modification time"
        }
    };
    Err(Error::BadInput(format!(
        "{}: its snapshot time {} (from its {}) is in the future (now is {}); {fix}",
        shown(path),
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        from.as_str(),
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )))
}

impl Export {
    /// Reads and checks the file at `path`; `now` is the wall clock, past which (by more
    /// than [`FUTURE_SLACK_HOURS`]) no snapshot can have been made.
    pub fn read(path: &Path, now: DateTime<Utc>) -> Result<Export, Error> {
        let bytes = crate::input::read_regular(path, MAX_EXPORT_BYTES).map_err(|r| {
            Error::BadInput(format!(
                "{} {r}: give the path of an Ads Manager export (.csv) of at most {} MiB ({HOW})",
                shown(path),
                MAX_EXPORT_BYTES >> 20
            ))
        })?;
        let (snapshot_at, snapshot_from) =
            snapshot_time(path).map_err(|e| Error::BadInput(format!("{}: {e}", shown(path))))?;
        not_in_the_future(path, snapshot_at, snapshot_from, now)?;
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let text = std::str::from_utf8(text).map_err(|e| {
            let line = text[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            bad(
                path,
                line as u64,
                "is not UTF-8 text. Ads Manager exports UTF-8; if the file was opened and saved \
                 in a spreadsheet, download it again or save it as \"CSV UTF-8\"",
            )
        })?;
        if text.trim().is_empty() {
            return Err(Error::BadInput(format!(
                "{} is empty: export the report again ({HOW})",
                shown(path)
            )));
        }
        let mut export = Export {
            path: path.to_path_buf(),
            sha256: adskew_core::digest::sha256_hex(&bytes),
            bytes: Vec::new(),
            snapshot_at,
            snapshot_from,
            currency: String::new(),
            dimensions: Vec::new(),
            name_column: NAME_COLUMNS[0],
            ads: Vec::new(),
            rows_read: 0,
            notes: Vec::new(),
        };
        export.parse(text)?;
        export.bytes = bytes;
        Ok(export)
    }

    fn parse(&mut self, text: &str) -> Result<(), Error> {
        let path = self.path.clone();
        let separator = separator(text);
        let mut csv = csv::ReaderBuilder::new()
            .delimiter(separator)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let header: Vec<String> = csv
            .headers()
            .map_err(|e| bad(&path, 1, csv_problem(&e, separator)))?
            .iter()
            .map(str::to_string)
            .collect();
        let columns = Columns::find(&path, &header, separator)?;
        self.name_column = columns.name.0;
        self.dimensions = columns.dims.iter().map(|(b, _, _)| *b).collect();
        self.currency = columns.currency.clone();

        let mut problems = Problems::new(&path);
        // (ad name, values) -> line, to name both lines of a repeated row.
        let mut seen: BTreeMap<(String, Vec<String>), u64> = BTreeMap::new();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        for record in csv.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, csv::Position::line);
                    problems.add(line, None, &csv_problem(&e, separator));
                    continue;
                }
            };
            let line = record.position().map_or(0, csv::Position::line);
            let read = match columns.line(&record) {
                Ok(Some(read)) => read,
                Ok(None) => {
                    self.notes.push(format!(
                        "{}: line {line}: skipped a totals row (no {}, no {})",
                        shown(&path),
                        columns.name.0,
                        columns.dimension_names(" or ")
                    ));
                    continue;
                }
                Err(found) => {
                    for (column, what) in found {
                        problems.add(line, column, &what);
                    }
                    continue;
                }
            };
            if let Err(what) = self.add(read, &columns, &mut index, &mut seen) {
                problems.add(line, None, &what);
            }
        }
        problems.result()?;
        if self.ads.is_empty() {
            return Err(Error::BadInput(format!(
                "{} has a header but no rows of ads: export the report again ({HOW})",
                shown(&path)
            )));
        }
        Ok(())
    }

    /// Adds a line to its ad (new ads in the order they appear), refusing a second
    /// reporting window for an ad and a repeated row.
    fn add(
        &mut self,
        read: Line,
        columns: &Columns,
        index: &mut BTreeMap<String, usize>,
        seen: &mut BTreeMap<(String, Vec<String>), u64>,
    ) -> Result<(), String> {
        let Line {
            name,
            cell,
            start,
            stop,
        } = read;
        let line = cell.line;
        let ad = match index.get(&name) {
            Some(&i) => &mut self.ads[i],
            None => {
                index.insert(name.clone(), self.ads.len());
                self.ads.push(ExportAd {
                    name: name.clone(),
                    line,
                    start,
                    stop,
                    cells: Vec::new(),
                });
                self.ads.last_mut().expect("just pushed")
            }
        };
        if (ad.start, ad.stop) != (start, stop) {
            return Err(format!(
                "`{}` is reported for {start} to {stop} here but for {} to {} on line {}; \
                 export one reporting window per file (no breakdown by Day, Week or Month)",
                printable(&name),
                ad.start,
                ad.stop,
                ad.line
            ));
        }
        if let Some(first) = seen.insert((name.clone(), cell.values.clone()), line) {
            return Err(format!(
                "repeats line {first} (`{}`, {}); each ad has one row per {}. \
                 Was the report broken down by something else too? Then export it again without that breakdown",
                printable(&name),
                printable(&cell.values.join(", ")),
                columns.dimension_names(" × ")
            ));
        }
        ad.cells.push(cell);
        self.rows_read += 1;
        Ok(())
    }

    /// The snapshot's spend: every row's, summed exactly, rounded once.
    pub fn spend(&self) -> Money {
        self.ads
            .iter()
            .flat_map(|a| &a.cells)
            .map(|c| c.spend)
            .sum::<ExactAmount>()
            .round(&self.currency)
            .expect("currencies with three decimals are refused when read")
    }

    /// `ad`'s rows for the store under `key`: one total per value of each dimension. With
    /// age × gender the gender rows are summed over ages and the age rows over genders,
    /// which is exact for reach too because each person has one age and one gender.
    pub fn rows(&self, ad: &ExportAd, key: &str) -> Vec<StoredRow> {
        let mut out = Vec::new();
        for (d, dimension) in self.dimensions.iter().enumerate() {
            let mut by_value: BTreeMap<&str, (u64, u64, u64, ExactAmount)> = BTreeMap::new();
            for c in &ad.cells {
                let sum = by_value.entry(&c.values[d]).or_default();
                sum.0 += c.reach;
                sum.1 += c.impressions;
                sum.2 += c.clicks;
                sum.3 = sum.3 + c.spend;
            }
            for (value, (reach, impressions, clicks, spend)) in by_value {
                out.push(StoredRow {
                    ad_key: key.to_string(),
                    period: Period::Total,
                    date_start: ad.start,
                    date_stop: ad.stop,
                    breakdown: *dimension,
                    value: value.to_string(),
                    reach,
                    impressions,
                    clicks,
                    spend: spend
                        .round(&self.currency)
                        .expect("currencies with three decimals are refused when read"),
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "\"Ad Set Name\",Gender,Reach,Impressions,Frequency,\"Result Type\",Results,\"Cost per Result\",\"Amount Spent (EUR)\",\"CPM (Cost per 1,000 Impressions)\",\"Link Clicks\",\"CPC (Cost per Link Click)\",\"CTR (Link Click-Through Rate)\",\"Reporting Starts\",\"Reporting Ends\"\n";

    fn read(name: &str, text: &[u8]) -> Result<Export, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        Export::read(&path, Utc::now()).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_the_algorithmwatch_format() {
        let text = format!(
            "\u{feff}{HEADER}\
             \"DE - Germany - Hairdresser\",female,679,680,1.0014727540501,\"Link Clicks\",17,0.13685618729097,2.3265551839465,3.42140468,17,0.13685619,2.5,2020-08-01,2020-08-26\n\
             \"DE - Germany - Hairdresser\",unknown,2,2,1,,,,0.011404682274247,5.70234114,,,,2020-08-01,2020-08-26\n\
             \"DE - Germany - Legal Counsel\",male,450,450,1,,,,1.2700709219858,2.82237983,,,,2020-08-01,2020-08-26\n"
        );
        let e = read("2020-08-26_18:32.csv", text.as_bytes()).unwrap();
        assert_eq!(e.currency, "EUR");
        assert_eq!(e.dimensions, [Breakdown::Gender]);
        assert_eq!(e.name_column, "Ad Set Name");
        assert_eq!(e.snapshot_from, SnapshotFrom::FileName);
        assert_eq!(e.snapshot_at.to_rfc3339(), "2020-08-26T18:32:00+00:00");
        assert_eq!(e.ads.len(), 2);
        let rows = e.rows(&e.ads[0], "hairdresser");
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (
                rows[0].value.as_str(),
                rows[0].reach,
                rows[0].clicks,
                rows[0].spend
            ),
            ("female", 679, 17, Money(233))
        );
        assert_eq!((rows[1].value.as_str(), rows[1].clicks), ("unknown", 0));
        // 2.3265... + 0.0114... + 1.2700... = 3.608..., rounded once.
        assert_eq!(e.spend(), Money(361));
    }

    #[test]
    fn age_by_gender_is_stored_as_two_breakdowns() {
        let text = "\"Ad Name\",Age,Gender,Reach,Impressions,\"Amount Spent (USD)\",\"Clicks (All)\",\"Reporting Starts\",\"Reporting Ends\"\n\
            ,,,300,400,3.0,,2020-08-01,2020-08-02\n\
            a,18-24,female,10,12,0.004,1,2020-08-01,2020-08-02\n\
            a,18-24,male,20,25,0.004,,2020-08-01,2020-08-02\n\
            a,25-34,female,30,33,0.004,2,2020-08-01,2020-08-02\n";
        let e = read("x.csv", text.as_bytes()).unwrap();
        assert_eq!(e.dimensions, [Breakdown::Gender, Breakdown::Age]);
        assert_eq!(e.notes.len(), 1, "the totals row is skipped and said");
        assert!(e.notes[0].contains("line 2"), "{:?}", e.notes);
        assert_eq!(e.snapshot_from, SnapshotFrom::ModificationTime);
        let rows = e.rows(&e.ads[0], "a");
        let got: Vec<(&str, &str, u64, u64, Money)> = rows
            .iter()
            .map(|r| {
                (
                    r.breakdown.as_str(),
                    r.value.as_str(),
                    r.reach,
                    r.clicks,
                    r.spend,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("gender", "female", 40, 3, Money(1)),
                ("gender", "male", 20, 0, Money(0)),
                ("age", "18-24", 30, 1, Money(1)),
                ("age", "25-34", 30, 2, Money(0)),
            ]
        );
    }

    #[test]
    fn regions_are_read_as_written() {
        let text = "\"Campaign Name\",Region,Reach,Impressions,\"Amount Spent (JPY)\",\"Reporting Starts\",\"Reporting Ends\"\n\
            c,Berlin,5,6,100.4,2020-08-01,2020-08-02\n\
            c,\"Baden-Württemberg\",7,8,,2020-08-01,2020-08-02\n";
        let e = read("r.csv", text.as_bytes()).unwrap();
        assert_eq!(e.dimensions, [Breakdown::Region]);
        assert_eq!(e.name_column, "Campaign Name");
        let rows = e.rows(&e.ads[0], "c");
        assert_eq!(rows[0].value, "Baden-Württemberg");
        assert_eq!(rows[1].spend, Money(10_000), "whole yen");
        assert_eq!(e.spend(), Money(10_000));
    }

    #[test]
    fn bad_rows_name_their_line_and_the_fix() {
        let row = |g: &str, reach: &str, start: &str| {
            format!("{HEADER}a,female,1,1,1,,,,1,1,,,,2020-08-01,2020-08-26\na,{g},{reach},1,1,,,,1,1,,,,{start},2020-08-26\n")
        };
        let cases = [
            (row("male", "-3", "2020-08-01"), "line 3: Reach `-3` is negative"),
            (row("male", "1.5", "2020-08-01"), "line 3: Reach `1.5` is not a whole number"),
            (row("male", "", "2020-08-01"), "line 3: Reach is empty"),
            (row("x", "1", "2020-08-01"), "line 3: Gender `x` is not one adskew knows"),
            (row("female", "1", "2020-08-01"), "line 3: repeats line 2"),
            (row("male", "1", ""), "line 3: Reporting Starts is empty"),
            (row("male", "1", "2020-08-02"), "line 3: `a` is reported for 2020-08-02"),
            (
                "Gender,Reach\nfemale,1\n".to_string(),
                "line 1: no \"Ad Name\", \"Ad Set Name\" or \"Campaign Name\" column. The columns are: \"Gender\", \"Reach\"",
            ),
            (
                "\"Ad Name\",Gender,\"DMA Region\",Reach\n".to_string(),
                "\"DMA Region\" breakdown",
            ),
            (
                "\"Ad Name\",Gender,Region,Reach\n".to_string(),
                "Region together with Gender",
            ),
            ("\"Ad Name\",Gender,Reach,Impressions,\"Amount Spent (KWD)\",\"Reporting Starts\",\"Reporting Ends\"\n".to_string(), "three decimals"),
            (HEADER.to_string(), "has a header but no rows"),
            (" \n".to_string(), "is empty"),
        ];
        for (text, expected) in cases {
            let err = read("2020-08-26_18:32.csv", text.as_bytes()).unwrap_err();
            assert!(err.contains(expected), "expected `{expected}` in: {err}");
        }
        let err = read("y.csv", b"\"Ad Name\",Gender\na,female\nb,f\xe9male\n").unwrap_err();
        assert!(err.contains("line 3: is not UTF-8"), "{err}");
    }
}
