//! One Ads Manager export (a CSV report downloaded by hand), read and checked whole.
//!
//! ```csv
//! "Ad Set Name",Gender,Reach,Impressions,...,"Amount Spent (EUR)",...,"Reporting Starts","Reporting Ends"
//! "DE - Germany - Hairdresser",female,679,680,...,2.3265551839465,...,2020-08-01,2020-08-26
//! ```
//!
//! Columns are found by name, in any order and case; columns adskew does not use
//! (Frequency, CPM, Results, ...) are ignored. Every problem is reported with the file and
//! line and what to do, because the person importing is usually looking at the file in a
//! spreadsheet, not at adskew's code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};

use super::snapshot::{snapshot_time, SnapshotFrom};
use adskew_core::count::{parse_count, CountError, COUNT_FIX};
use adskew_core::error::Error;
use adskew_core::money::{minor_digits, ExactAmount, Money};
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
    Error::BadInput(format!("{}: line {line}: {what}", path.display()))
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
        e => format!("{column} `{text}` {e}; it must be a count ({COUNT_FIX})"),
    })
}

fn date(text: &str, column: &str) -> Result<NaiveDate, String> {
    if text.is_empty() {
        return Err(format!(
            "{column} is empty; every row needs its reporting window (export with the Reporting Starts and Reporting Ends columns filled)"
        ));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("{column} `{text}` is not a date like 2020-08-01"))
}

/// A dimension's value in its one spelling (`Breakdown::group`, shared with every reader
/// of counts).
fn dimension_value(dimension: Breakdown, text: &str, column: &str) -> Result<String, String> {
    dimension.group(text).ok_or_else(|| {
        format!(
            "{column} `{text}` is not one adskew knows; the values are {}",
            dimension.groups()
        )
    })
}

impl Export {
    /// Reads and checks the file at `path`.
    pub fn read(path: &Path) -> Result<Export, Error> {
        let bytes = std::fs::read(path)
            .map_err(|e| Error::BadInput(format!("cannot read {}: {e}", path.display())))?;
        let (snapshot_at, snapshot_from) =
            snapshot_time(path).map_err(|e| Error::BadInput(format!("{}: {e}", path.display())))?;
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
                path.display()
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
        let mut csv = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let header: Vec<String> = csv
            .headers()
            .map_err(|e| bad(&path, 1, e))?
            .iter()
            .map(str::to_string)
            .collect();
        let found = || {
            header
                .iter()
                .map(|h| format!("\"{h}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let missing = |what: &str| {
            bad(
                &path,
                1,
                format!(
                    "no {what} column. The columns are: {}. Add it (Columns → Customize columns) and export again ({HOW})",
                    found()
                ),
            )
        };

        let (name_column, name_col) = NAME_COLUMNS
            .iter()
            .find_map(|n| column(&header, n).map(|i| (*n, i)))
            .ok_or_else(|| missing("\"Ad Name\", \"Ad Set Name\" or \"Campaign Name\""))?;
        self.name_column = name_column;
        if let Some(u) = UNSUPPORTED_COLUMNS
            .iter()
            .find(|u| column(&header, u).is_some())
        {
            return Err(bad(
                &path,
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
            .filter_map(|(c, b)| column(&header, c).map(|i| (*b, *c, i)))
            .collect();
        if dims.is_empty() {
            return Err(missing("breakdown (\"Gender\", \"Age\" or \"Region\")"));
        }
        if dims.len() > 1 && dims.iter().any(|(b, _, _)| *b == Breakdown::Region) {
            return Err(bad(
                &path,
                1,
                "breaks delivery down by Region together with Gender or Age. A person can be reached \
                 in two regions, so reach cannot be summed over regions into a gender or age \
                 breakdown: export Region in a file of its own",
            ));
        }
        self.dimensions = dims.iter().map(|(b, _, _)| *b).collect();

        let required =
            |name: &str| column(&header, name).ok_or_else(|| missing(&format!("\"{name}\"")));
        let reach_col = required("Reach")?;
        let impressions_col = required("Impressions")?;
        let start_col = required("Reporting Starts")?;
        let stop_col = required("Reporting Ends")?;
        let clicks = ["Link Clicks", "Clicks (All)"]
            .iter()
            .find_map(|c| column(&header, c).map(|i| (*c, i)));
        let spends: Vec<(usize, &str)> = header
            .iter()
            .enumerate()
            .filter_map(|(i, h)| {
                let code = h.strip_prefix("Amount Spent (")?.strip_suffix(')')?;
                Some((i, code))
            })
            .collect();
        let (spend_col, currency) = match spends.as_slice() {
            [] => {
                return Err(missing(
                    "\"Amount Spent (XXX)\" (XXX: the account's currency)",
                ))
            }
            [(i, code)] => (*i, code.to_string()),
            _ => {
                return Err(bad(
                    &path,
                    1,
                    format!(
                        "has more than one \"Amount Spent\" column ({}); export one currency",
                        found()
                    ),
                ))
            }
        };
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(bad(
                &path,
                1,
                format!(
                    "\"Amount Spent ({currency})\" does not name an ISO 4217 currency such as EUR"
                ),
            ));
        }
        if minor_digits(&currency) > 2 {
            return Err(bad(
                &path,
                1,
                format!(
                    "spends in {currency}, which has three decimals; adskew keeps money in hundredths \
                     of the currency and cannot store it exactly"
                ),
            ));
        }
        self.currency = currency;
        let spend_name = header[spend_col].clone();

        // (ad name, values) -> line, to name both lines of a repeated row.
        let mut seen: BTreeMap<(String, Vec<String>), u64> = BTreeMap::new();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        for record in csv.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, csv::Position::line);
                bad(&path, line, e)
            })?;
            let line = record.position().map_or(0, csv::Position::line);
            let field = |i: usize| record.get(i).unwrap_or_default();
            let at = |what: String| bad(&path, line, what);
            let name = field(name_col).to_string();
            if name.is_empty() && dims.iter().all(|(_, _, i)| field(*i).is_empty()) {
                // A totals row: no ad and no group. Its numbers are sums of the others.
                self.notes.push(format!(
                    "{}: line {line}: skipped a totals row (no {name_column}, no {})",
                    path.display(),
                    dims.iter()
                        .map(|(_, c, _)| *c)
                        .collect::<Vec<_>>()
                        .join(" or ")
                ));
                continue;
            }
            if name.is_empty() {
                return Err(at(format!(
                    "{name_column} is empty; every row must name its ad"
                )));
            }
            let mut values = Vec::new();
            for (b, c, i) in &dims {
                if field(*i).is_empty() {
                    return Err(at(format!(
                        "{c} is empty; every row of an ad needs its {c} (a row without one is a total only when the ad name is empty too)"
                    )));
                }
                values.push(dimension_value(*b, field(*i), c).map_err(at)?);
            }
            let start = date(field(start_col), "Reporting Starts").map_err(at)?;
            let stop = date(field(stop_col), "Reporting Ends").map_err(at)?;
            if stop < start {
                return Err(at(format!(
                    "Reporting Ends {stop} is before Reporting Starts {start}"
                )));
            }
            let cell = Cell {
                line,
                reach: count(field(reach_col), "Reach", false).map_err(at)?,
                impressions: count(field(impressions_col), "Impressions", false).map_err(at)?,
                clicks: match clicks {
                    Some((c, i)) => count(field(i), c, true).map_err(at)?,
                    None => 0,
                },
                spend: match field(spend_col) {
                    "" => ExactAmount::default(),
                    t => ExactAmount::parse(t).ok_or_else(|| {
                        at(format!(
                            "{spend_name} `{t}` is not an amount (0 or more, like 2.33)"
                        ))
                    })?,
                },
                values,
            };
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
                return Err(at(format!(
                    "`{name}` is reported for {start} to {stop} here but for {} to {} on line {}; \
                     export one reporting window per file (no breakdown by Day, Week or Month)",
                    ad.start, ad.stop, ad.line
                )));
            }
            if let Some(first) = seen.insert((name.clone(), cell.values.clone()), line) {
                return Err(at(format!(
                    "repeats line {first} (`{name}`, {}); each ad has one row per {}. \
                     Was the report broken down by something else too?",
                    cell.values.join(", "),
                    dims.iter()
                        .map(|(_, c, _)| *c)
                        .collect::<Vec<_>>()
                        .join(" × ")
                )));
            }
            ad.cells.push(cell);
            self.rows_read += 1;
        }
        if self.ads.is_empty() {
            return Err(Error::BadInput(format!(
                "{} has a header but no rows of ads: export the report again ({HOW})",
                path.display()
            )));
        }
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
        Export::read(&path).map_err(|e| e.to_string())
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
