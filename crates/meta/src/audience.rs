//! Customer-list custom audiences: a CSV of people becomes a Meta custom audience without a
//! single raw value leaving the process (invariant 4).
//!
//! Why it is shaped like this:
//!
//! - **Validate everything before the first request.** [`PeopleFile::check`] reads the whole
//!   file (header, UTF-8, field counts) without any network, so a bad file fails with the
//!   line or column to fix and nothing is created on Meta (invariant 6). The upload reads the
//!   file a second time rather than keeping it in memory: voter files run to millions of rows.
//!   Both passes hash the file's bytes; if the file changed between them the upload stops.
//! - **Hash in the adapter, never later.** Every value is normalised and SHA-256 hashed by
//!   [`super::hashing`] as it is read; only hashes (and `EXTERN_ID`, which Meta takes
//!   unhashed) are sent. A value that normalises to nothing is sent as `""`, as Meta documents
//!   for a missing value; a row with nothing left is not sent at all and is reported by its
//!   line number. Errors and logs name lines and columns, never cell contents.
//! - **One session, batches of at most 10,000.** Meta takes at most 10,000 records per
//!   request (research notes §3.2); a client-chosen `session_id` with `batch_seq` 1..N,
//!   `last_batch_flag` on the last and `estimated_num_total` lets Meta see the batches as one
//!   upload. Adding the same people twice does not change an audience, so the adapter's
//!   retry of a failed batch is safe.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use adskew_core::digest::HashingReader;
use adskew_core::text::printable;
use serde_json::{json, Value};

use super::adapter::MetaPlatform;
use super::hashing::{self, PiiKey};
use super::input::{self, Refusal};
use adskew_core::platform::{ObjectId, PlatformError};

/// Meta's ceiling on records per `/{audience}/users` request.
pub const MAX_BATCH: usize = 10_000;

/// The column names an upload accepts (case-insensitive; spaces and dashes count as `_`).
/// Shown in full when a column is not recognised.
pub const ACCEPTED_COLUMNS: &str = "email, phone, first_name (fn), last_name (ln), \
first_initial (fi), gender (gen), dob (YYYY-MM-DD), birth_year (doby), birth_month (dobm), \
birth_day (dobd), city (ct), state (st), zip, country, extern_id";

/// The largest people file adskew reads (1 GiB, tens of millions of people). A bigger
/// list is split into files under the limit and uploaded into one audience with
/// `--audience ID`; the bound keeps a wrong path (`/dev/zero`, a disk image) from filling
/// memory.
pub const MAX_PEOPLE_FILE_BYTES: u64 = 1 << 30;

/// How many skipped line numbers a report keeps (the count is always complete).
const SKIPPED_LINES_KEPT: usize = 20;

/// One CSV column: a Meta key, or a full date of birth that becomes DOBY, DOBM and DOBD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Key(PiiKey),
    Dob,
}

impl Column {
    fn parse(name: &str) -> Option<Column> {
        let n = name.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        match n.as_str() {
            "dob" | "date_of_birth" | "birth_date" | "birthdate" | "birthday" => Some(Column::Dob),
            _ => PiiKey::from_column(&n).map(Column::Key),
        }
    }

    fn keys(self) -> Vec<PiiKey> {
        match self {
            Column::Key(k) => vec![k],
            Column::Dob => vec![PiiKey::BirthYear, PiiKey::BirthMonth, PiiKey::BirthDay],
        }
    }

    /// The cell normalised per key (None where nothing valid is left).
    fn normalize(self, raw: &str) -> Vec<Option<String>> {
        match self {
            Column::Key(k) => vec![hashing::normalize(k, raw)],
            Column::Dob => {
                // Only ISO dates (YYYY-MM-DD or YYYYMMDD): 03/04/1990 is ambiguous between
                // the US and everyone else, and a wrong month matches nobody.
                let s = raw.trim();
                let parts: Option<(&str, &str, &str)> = if s.len() == 8 && !s.contains('-') {
                    Some((&s[..4], &s[4..6], &s[6..]))
                } else {
                    let mut it = s.splitn(3, '-');
                    match (it.next(), it.next(), it.next()) {
                        (Some(y), Some(m), Some(d)) => Some((y, m, d)),
                        _ => None,
                    }
                };
                let (y, m, d) = parts.unwrap_or(("", "", ""));
                let valid =
                    |x: &str, n: usize| x.len() == n && x.chars().all(|c| c.is_ascii_digit());
                if !(valid(y, 4) && valid(m, 2) && valid(d, 2)) {
                    return vec![None, None, None];
                }
                vec![
                    hashing::normalize(PiiKey::BirthYear, y),
                    hashing::normalize(PiiKey::BirthMonth, m),
                    hashing::normalize(PiiKey::BirthDay, d),
                ]
            }
        }
    }
}

/// Why a people file cannot be uploaded. Messages name the file, line or column and the
/// fix; they never quote a cell.
#[derive(Debug, thiserror::Error)]
pub enum PeopleFileError {
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is {kind}, not a file of people: give the path of a CSV file (one person per line, a header line naming the columns)", path.display())]
    NotAFile { path: PathBuf, kind: &'static str },
    #[error("{} is larger than the {} MiB adskew reads for an audience: split it into files under that size (keeping the header line in each) and upload each into the same audience with --audience ID", path.display(), limit >> 20)]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{} is empty: give a CSV whose first line names the columns (e.g. `email,phone,country`) and one person per line", path.display())]
    Empty { path: PathBuf },
    #[error("{} has a header but no people: add one person per line below it", path.display())]
    NoRows { path: PathBuf },
    #[error("{}: column {position} `{name}` is not a customer-list field{hint}. Accepted columns: {ACCEPTED_COLUMNS}. Rename the column or remove it.", path.display())]
    UnknownColumn {
        path: PathBuf,
        position: usize,
        name: String,
        hint: String,
    },
    #[error("{}: column {position} has no name; every column needs one of: {ACCEPTED_COLUMNS}", path.display())]
    UnnamedColumn { path: PathBuf, position: usize },
    #[error("{}: columns `{first}` and `{second}` both give {key}; keep one of them", path.display())]
    DuplicateColumn {
        path: PathBuf,
        first: String,
        second: String,
        key: &'static str,
    },
    #[error("{}: line {line} is not UTF-8 text; re-save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)", path.display())]
    NotUtf8 { path: PathBuf, line: u64 },
    #[error("{}: line {line} has {found} fields but the header has {expected}; quote values that contain commas (\"Smith, Jr.\")", path.display())]
    FieldCount {
        path: PathBuf,
        line: u64,
        found: usize,
        expected: usize,
    },
    #[error("{}: no line has a usable value ({skipped} line(s) skipped: every cell empty or malformed, e.g. line {first_line}); check the columns hold what their names say", path.display())]
    NothingUsable {
        path: PathBuf,
        skipped: u64,
        first_line: u64,
    },
    #[error("{} changed while it was being uploaded (its SHA-256 differs between the check and the upload); upload it again when it is no longer being written", path.display())]
    Changed { path: PathBuf },
}

/// A people file that passed [`PeopleFile::check`]: its shape, never its contents.
#[derive(Debug, Clone)]
pub struct PeopleFile {
    pub path: PathBuf,
    columns: Vec<Column>,
    /// Meta's schema for the columns, in order (a `dob` column gives three keys).
    pub schema: Vec<&'static str>,
    /// People lines read (the header not counted).
    pub rows_read: u64,
    /// Lines that will be sent (at least one usable value).
    pub rows_usable: u64,
    /// Lines with nothing usable; not sent.
    pub rows_skipped: u64,
    /// The first few skipped line numbers (1-based, the header is line 1).
    pub skipped_lines: Vec<u64>,
    /// Non-empty cells that normalised to nothing and are sent as "".
    pub cells_blanked: u64,
    /// SHA-256 of the file's bytes (provenance; the contents are never stored).
    pub file_sha256: String,
}

/// A line's number (1-based, the header is line 1) and its values normalised per schema
/// key (`None` where nothing valid is left).
type Line = (u64, Vec<Option<String>>);

/// The file opened with its header parsed into columns.
struct Rows {
    path: PathBuf,
    csv: csv::Reader<HashingReader<input::Bounded<std::fs::File>>>,
    columns: Vec<Column>,
    record: csv::ByteRecord,
}

impl Rows {
    fn open(path: &Path) -> Result<Rows, PeopleFileError> {
        let file =
            input::open_regular(path, MAX_PEOPLE_FILE_BYTES).map_err(|r| refused(path, r))?;
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(HashingReader::new(file));
        let header = csv
            .byte_headers()
            .map_err(|e| csv_error(path, e, 0))?
            .clone();
        if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
            return Err(PeopleFileError::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(Rows {
            path: path.to_path_buf(),
            csv,
            columns: columns_of(path, &header)?,
            record: csv::ByteRecord::new(),
        })
    }

    fn schema(&self) -> Vec<&'static str> {
        self.columns
            .iter()
            .flat_map(|c| c.keys())
            .map(PiiKey::schema_name)
            .collect()
    }

    /// The next line: its number and its values normalised per schema key.
    fn next(&mut self) -> Result<Option<Line>, PeopleFileError> {
        let line_hint = self.csv.position().line();
        match self.csv.read_byte_record(&mut self.record) {
            Ok(false) => return Ok(None),
            Ok(true) => {}
            Err(e) => return Err(csv_error(&self.path, e, line_hint)),
        }
        let line = self
            .record
            .position()
            .map_or(line_hint, csv::Position::line);
        let mut values = Vec::new();
        for (column, raw) in self.columns.iter().zip(self.record.iter()) {
            let text = std::str::from_utf8(raw).map_err(|_| PeopleFileError::NotUtf8 {
                path: self.path.clone(),
                line,
            })?;
            values.extend(column.normalize(text));
        }
        // A US phone number written without its country code gets it from the row's
        // country, as Meta requires.
        let keys: Vec<PiiKey> = self.columns.iter().flat_map(|c| c.keys()).collect();
        let country = keys
            .iter()
            .position(|k| *k == PiiKey::Country)
            .and_then(|i| values[i].clone());
        if let Some(i) = keys.iter().position(|k| *k == PiiKey::Phone) {
            if let Some(phone) = &values[i] {
                values[i] = Some(hashing::with_country_code(phone, country.as_deref()));
            }
        }
        Ok(Some((line, values)))
    }

    fn finish(self) -> String {
        self.csv.into_inner().finish_hex()
    }
}

/// The header's columns, each a customer-list field named once.
fn columns_of(path: &Path, header: &csv::ByteRecord) -> Result<Vec<Column>, PeopleFileError> {
    let mut columns = Vec::new();
    let mut names: Vec<(PiiKey, String)> = Vec::new();
    for (i, raw) in header.iter().enumerate() {
        let name = std::str::from_utf8(raw)
            .map_err(|_| PeopleFileError::NotUtf8 {
                path: path.to_path_buf(),
                line: 1,
            })?
            .trim_start_matches('\u{feff}')
            .trim();
        if name.is_empty() {
            return Err(PeopleFileError::UnnamedColumn {
                path: path.to_path_buf(),
                position: i + 1,
            });
        }
        let column = Column::parse(name).ok_or_else(|| unknown_column(path, i + 1, name))?;
        for key in column.keys() {
            if let Some((_, first)) = names.iter().find(|(k, _)| *k == key) {
                return Err(PeopleFileError::DuplicateColumn {
                    path: path.to_path_buf(),
                    first: first.clone(),
                    second: name.to_string(),
                    key: key.schema_name(),
                });
            }
            names.push((key, name.to_string()));
        }
        columns.push(column);
    }
    Ok(columns)
}

/// Column `position` named `name` is no customer-list field: said with a hint when the
/// file seems to have no header or another separator.
fn unknown_column(path: &Path, position: usize, name: &str) -> PeopleFileError {
    // A file without a header line has a person in its first line: never echo
    // something that looks like personal data.
    let looks_like_data = name.contains('@')
        || name.chars().filter(char::is_ascii_digit).count() >= 4
        || name.len() > 40;
    if looks_like_data {
        return PeopleFileError::UnknownColumn {
            path: path.to_path_buf(),
            position,
            name: "[not shown: it looks like a person's data]".to_string(),
            hint: " (the first line must name the columns; is the header line missing?)"
                .to_string(),
        };
    }
    let hint = [(';', "`;`"), ('\t', "tabs"), ('|', "`|`")]
        .iter()
        .find(|(c, _)| name.contains(*c))
        .map(|(_, s)| {
            format!(" (the file seems to separate columns with {s}; adskew reads comma-separated files)")
        })
        .unwrap_or_default();
    PeopleFileError::UnknownColumn {
        path: path.to_path_buf(),
        position,
        name: printable(name).into_owned(),
        hint,
    }
}

/// A file not read at all (not a regular file, over [`MAX_PEOPLE_FILE_BYTES`]) or
/// unreadable, as the error that says what to do.
fn refused(path: &Path, r: Refusal) -> PeopleFileError {
    let path = path.to_path_buf();
    match r {
        Refusal::NotRegular { kind } => PeopleFileError::NotAFile { path, kind },
        Refusal::TooLarge { limit } => PeopleFileError::TooLarge { path, limit },
        Refusal::Io(source) => PeopleFileError::Unreadable { path, source },
    }
}

/// A csv error as a message that names the line, never the content.
fn csv_error(path: &Path, e: csv::Error, line_hint: u64) -> PeopleFileError {
    let line = e.position().map_or(line_hint, csv::Position::line);
    match e.into_kind() {
        csv::ErrorKind::Io(source) => refused(path, Refusal::from_read(source)),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => PeopleFileError::FieldCount {
            path: path.to_path_buf(),
            line,
            found: len as usize,
            expected: expected_len as usize,
        },
        csv::ErrorKind::Utf8 { .. } => PeopleFileError::NotUtf8 {
            path: path.to_path_buf(),
            line,
        },
        other => PeopleFileError::Unreadable {
            path: path.to_path_buf(),
            source: std::io::Error::other(format!(
                "line {line}: not a readable CSV ({})",
                kind_name(&other)
            )),
        },
    }
}

fn kind_name(kind: &csv::ErrorKind) -> &'static str {
    match kind {
        csv::ErrorKind::Seek => "seek error",
        csv::ErrorKind::Serialize(_) | csv::ErrorKind::Deserialize { .. } => "bad field",
        _ => "malformed",
    }
}

impl PeopleFile {
    /// Reads the whole file without sending anything: every problem that would stop an
    /// upload is found here, before Meta is asked to create anything.
    pub fn check(path: &Path) -> Result<PeopleFile, PeopleFileError> {
        let mut rows = Rows::open(path)?;
        let schema = rows.schema();
        let (mut read, mut usable, mut skipped, mut blanked) = (0u64, 0u64, 0u64, 0u64);
        let mut skipped_lines = Vec::new();
        while let Some((line, values)) = rows.next()? {
            read += 1;
            if values.iter().all(Option::is_none) {
                skipped += 1;
                if skipped_lines.len() < SKIPPED_LINES_KEPT {
                    skipped_lines.push(line);
                }
            } else {
                usable += 1;
            }
            blanked += count_blanked(&rows.record, &rows.columns, &values);
        }
        let columns = rows.columns.clone();
        let file_sha256 = rows.finish();
        if read == 0 {
            return Err(PeopleFileError::NoRows {
                path: path.to_path_buf(),
            });
        }
        if usable == 0 {
            return Err(PeopleFileError::NothingUsable {
                path: path.to_path_buf(),
                skipped,
                first_line: skipped_lines.first().copied().unwrap_or(2),
            });
        }
        Ok(PeopleFile {
            path: path.to_path_buf(),
            columns,
            schema,
            rows_read: read,
            rows_usable: usable,
            rows_skipped: skipped,
            skipped_lines,
            cells_blanked: blanked,
            file_sha256,
        })
    }
}

impl PeopleFile {
    /// A line's values as sent: each normalised value hashed (`EXTERN_ID` as it is), a
    /// missing one as "", as Meta documents.
    fn hashed(&self, values: Vec<Option<String>>) -> Vec<String> {
        self.columns
            .iter()
            .flat_map(|c| c.keys())
            .zip(values)
            .map(|(key, v)| v.map(|n| hash_normalized(key, &n)).unwrap_or_default())
            .collect()
    }
}

/// The report of an upload of `file` to `audience` before its first batch.
fn starting_report(audience: &ObjectId, file: &PeopleFile, batch_size: usize) -> UploadReport {
    UploadReport {
        audience: audience.0.clone(),
        session_id: new_session_id(),
        batches: 0,
        batches_planned: file.rows_usable.div_ceil(batch_size as u64) as u32,
        rows_read: file.rows_read,
        num_received: 0,
        num_invalid_entries: 0,
        rows_skipped: file.rows_skipped,
        skipped_lines: file.skipped_lines.clone(),
        cells_blanked: file.cells_blanked,
        schema: file.schema.iter().map(|s| s.to_string()).collect(),
        file_sha256: file.file_sha256.clone(),
    }
}

/// Non-empty cells whose every key normalised to nothing (a `dob` cell counts once).
fn count_blanked(record: &csv::ByteRecord, columns: &[Column], values: &[Option<String>]) -> u64 {
    let mut at = 0;
    let mut n = 0;
    for (column, raw) in columns.iter().zip(record.iter()) {
        let width = column.keys().len();
        let nonblank = raw.iter().any(|b| !b.is_ascii_whitespace());
        if nonblank && values[at..at + width].iter().all(Option::is_none) {
            n += 1;
        }
        at += width;
    }
    n
}

/// What an upload did (recorded by the store as it is).
pub use adskew_store::UploadReport;

/// An upload that could not finish.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The file is unusable; nothing was sent.
    #[error(transparent)]
    File(#[from] PeopleFileError),
    /// Meta refused or failed a request. `done` says what had been acknowledged before.
    #[error("uploading to audience {} stopped after {} of {} batch(es) ({} people received by Meta): {error}. The audience and the people already received stay on Meta; adding the same people again changes nothing, so the whole file can be uploaded again with --audience {}", done.audience, done.batches, done.batches_planned, done.num_received, done.audience)]
    Platform {
        error: PlatformError,
        done: Box<UploadReport>,
    },
}

impl UploadError {
    /// What had been acknowledged before the failure (nothing for a bad file).
    pub fn done(&self) -> Option<&UploadReport> {
        match self {
            UploadError::File(_) => None,
            UploadError::Platform { done, .. } => Some(done),
        }
    }
}

impl From<UploadError> for adskew_core::error::Error {
    fn from(e: UploadError) -> Self {
        let message = e.to_string();
        match e {
            UploadError::File(f) => adskew_core::error::Error::BadInput(f.to_string()),
            // What was sent before it stopped, and the platform's error of its kind.
            UploadError::Platform { error, .. } => adskew_core::error::Error::PlatformDuring {
                message,
                source: error,
            },
        }
    }
}

/// A number Meta may send as a JSON number or a numeric string.
fn number(v: &Value, key: &str) -> Option<u64> {
    let x = v.get(key)?;
    x.as_u64()
        .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
}

/// A session id for one upload: random, positive as an int64.
fn new_session_id() -> u64 {
    (rand::random::<u64>() >> 1).max(1)
}

impl MetaPlatform {
    /// Creates an empty customer-list audience (`subtype=CUSTOM`, people the advertiser
    /// collected itself: `customer_file_source=USER_PROVIDED_ONLY`).
    pub async fn create_custom_audience(
        &self,
        name: &str,
        description: &str,
    ) -> Result<ObjectId, PlatformError> {
        if name.trim().is_empty() {
            return Err(PlatformError::Rejected {
                fields: vec!["name".into()],
                message: "an audience needs a name (--name)".into(),
            });
        }
        let url = self.url(&format!("{}/customaudiences", self.config.account_node()));
        let params = vec![
            ("name".to_string(), name.to_string()),
            ("subtype".to_string(), "CUSTOM".to_string()),
            ("description".to_string(), description.to_string()),
            (
                "customer_file_source".to_string(),
                "USER_PROVIDED_ONLY".to_string(),
            ),
        ];
        let v = self.call(true, &url, &params).await?;
        v.get("id")
            .and_then(Value::as_str)
            .map(|id| ObjectId(id.to_string()))
            .ok_or_else(|| {
                PlatformError::Protocol("creating a custom audience: no id in the response".into())
            })
    }

    /// Checks `csv`, then adds its people to `audience` in one session of batches of at
    /// most `batch_size` (capped at [`MAX_BATCH`]). Nothing is sent if the file is bad.
    pub async fn upload_members(
        &self,
        audience: &ObjectId,
        csv: &Path,
        batch_size: usize,
    ) -> Result<UploadReport, UploadError> {
        let checked = PeopleFile::check(csv)?;
        self.upload_checked(audience, &checked, batch_size).await
    }

    /// [`MetaPlatform::upload_members`] for a file already checked (the CLI checks before
    /// it creates the audience).
    pub async fn upload_checked(
        &self,
        audience: &ObjectId,
        file: &PeopleFile,
        batch_size: usize,
    ) -> Result<UploadReport, UploadError> {
        let batch_size = batch_size.clamp(1, MAX_BATCH);
        let total = file.rows_usable;
        let mut report = starting_report(audience, file, batch_size);
        let url = self.url(&format!("{}/users", audience.0));
        let mut rows = Rows::open(&file.path)?;
        if rows.columns != file.columns {
            return Err(PeopleFileError::Changed {
                path: file.path.clone(),
            }
            .into());
        }
        let mut batch: Vec<Vec<String>> = Vec::with_capacity(batch_size);
        let mut sent = 0u64;
        loop {
            let next = rows.next()?;
            let at_end = next.is_none();
            if let Some((_, values)) = next {
                if values.iter().all(Option::is_none) {
                    continue;
                }
                batch.push(file.hashed(values));
                if batch.len() < batch_size {
                    continue;
                }
            }
            if batch.is_empty() {
                break;
            }
            if sent + batch.len() as u64 > total {
                return Err(PeopleFileError::Changed {
                    path: file.path.clone(),
                }
                .into());
            }
            let last = sent + batch.len() as u64 == total;
            report = self.send_batch(&url, file, &batch, last, report).await?;
            sent += batch.len() as u64;
            batch.clear();
            if at_end {
                break;
            }
        }
        if rows.finish() != file.file_sha256 || sent != total {
            return Err(UploadError::Platform {
                // Not the platform's doing, but batches were sent, so it is reported with
                // what Meta received; no platform kind fits a file changed under adskew.
                error: PlatformError::Other(
                    PeopleFileError::Changed {
                        path: file.path.clone(),
                    }
                    .to_string(),
                ),
                done: Box::new(report),
            });
        }
        Ok(report)
    }

    /// Sends one batch of the session to `url` and counts what Meta received into the
    /// report; a failure carries the report of what had been acknowledged before.
    async fn send_batch(
        &self,
        url: &str,
        file: &PeopleFile,
        batch: &[Vec<String>],
        last: bool,
        mut report: UploadReport,
    ) -> Result<UploadReport, UploadError> {
        let params = vec![
            (
                "payload".to_string(),
                json!({"schema": file.schema, "data": batch}).to_string(),
            ),
            (
                "session".to_string(),
                json!({
                    "session_id": report.session_id,
                    "batch_seq": report.batches + 1,
                    "last_batch_flag": last,
                    "estimated_num_total": file.rows_usable,
                })
                .to_string(),
            ),
        ];
        let response = match self.call(true, url, &params).await {
            Ok(v) => v,
            Err(error) => {
                return Err(UploadError::Platform {
                    error,
                    done: Box::new(report),
                })
            }
        };
        let Some(received) = number(&response, "num_received") else {
            return Err(UploadError::Platform {
                error: PlatformError::Protocol(
                    "Meta's answer to an upload has no num_received".into(),
                ),
                done: Box::new(report),
            });
        };
        report.batches += 1;
        report.num_received += received;
        report.num_invalid_entries += number(&response, "num_invalid_entries").unwrap_or(0);
        tracing::info!(
            batch = report.batches,
            of = report.batches_planned,
            rows = batch.len(),
            received,
            "custom audience batch uploaded"
        );
        Ok(report)
    }

    /// Meta's size estimate of an audience: a lower and an upper bound, never an exact count.
    pub async fn audience_size(&self, audience: &ObjectId) -> Result<(u64, u64), PlatformError> {
        let v = self
            .call(
                false,
                &self.url(&audience.0),
                &[(
                    "fields".to_string(),
                    "approximate_count_lower_bound,approximate_count_upper_bound".to_string(),
                )],
            )
            .await?;
        match (
            number(&v, "approximate_count_lower_bound"),
            number(&v, "approximate_count_upper_bound"),
        ) {
            (Some(lo), Some(hi)) => Ok((lo, hi)),
            _ => Err(PlatformError::Protocol(format!(
                "audience {audience}: no approximate_count bounds in Meta's answer"
            ))),
        }
    }
}

/// A normalised value as sent: SHA-256, except `EXTERN_ID`, which Meta takes as is.
fn hash_normalized(key: PiiKey, normalized: &str) -> String {
    if key == PiiKey::ExternId {
        normalized.to_string()
    } else {
        adskew_core::digest::sha256_hex(normalized)
    }
}

/// Every accepted spelling of [`ACCEPTED_COLUMNS`] in one set (for tests and hints).
pub fn accepted_column_names() -> BTreeSet<String> {
    ACCEPTED_COLUMNS
        .split(", ")
        .flat_map(|s| {
            s.split([' ', '(', ')'])
                .filter(|w| !w.is_empty() && !w.starts_with("YYYY"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("people.csv");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    /// The list shown to users is the list the parser accepts.
    #[test]
    fn every_advertised_column_name_is_accepted() {
        let names = accepted_column_names();
        assert!(names.len() >= 20, "{names:?}");
        for name in names {
            assert!(Column::parse(&name).is_some(), "{name}");
        }
    }

    #[test]
    fn schema_follows_the_columns_and_dob_expands() {
        let (_d, path) = file(b"Email,First Name,dob,ZIP\na@b.co,Ann,1990-01-31,94025\n");
        let f = PeopleFile::check(&path).unwrap();
        assert_eq!(f.schema, ["EMAIL", "FN", "DOBY", "DOBM", "DOBD", "ZIP"]);
        assert_eq!((f.rows_read, f.rows_usable, f.rows_skipped), (1, 1, 0));
        assert_eq!(f.file_sha256.len(), 64);
    }

    #[test]
    fn us_phones_get_their_country_code_from_the_row() {
        let (_d, path) = file(b"phone,country\n(650) 555-1234,US\n(650) 555-1234,DE\n");
        let mut rows = Rows::open(&path).unwrap();
        let (_, us) = rows.next().unwrap().unwrap();
        assert_eq!(us[0].as_deref(), Some("16505551234"));
        let (_, de) = rows.next().unwrap().unwrap();
        assert_eq!(de[0].as_deref(), Some("6505551234"));
    }

    #[test]
    fn dob_accepts_iso_dates_only() {
        let n = |s: &str| Column::Dob.normalize(s);
        assert_eq!(
            n("1990-01-31"),
            [Some("1990".into()), Some("01".into()), Some("31".into())]
        );
        assert_eq!(n("19900131"), n("1990-01-31"));
        assert_eq!(n("03/04/1990"), [None, None, None], "ambiguous order");
        assert_eq!(n("1990-13-01")[1], None);
    }

    /// A bad row is named by its line, and the message never quotes what it held.
    #[test]
    fn errors_name_lines_and_columns_never_contents() {
        let (_d, path) = file(
            b"email,phone\nsecret.person@example.com,+15551234567\nonly-one-field@example.com\n",
        );
        let err = PeopleFile::check(&path).unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("1 fields"), "{err}");
        assert!(!err.contains("example.com"), "{err}");

        let (_d, path) = file(b"email,favourite colour\na@b.co,blue\n");
        let err = PeopleFile::check(&path).unwrap_err().to_string();
        assert!(
            err.contains("column 2 `favourite colour`") && err.contains("first_name (fn)"),
            "{err}"
        );

        let (_d, path) = file(b"email;phone\na@b.co;123\n");
        let err = PeopleFile::check(&path).unwrap_err().to_string();
        assert!(err.contains("`;`"), "{err}");

        let (_d, path) = file(b"email,e-mail\na@b.co,a@b.co\n");
        let err = PeopleFile::check(&path).unwrap_err().to_string();
        assert!(err.contains("both give EMAIL"), "{err}");

        let (_d, path) = file(b"email,ln\nann@example.org,M\xfcller\n");
        let err = PeopleFile::check(&path).unwrap_err().to_string();
        assert!(err.contains("line 2 is not UTF-8"), "{err}");

        let (_d, path) = file(b"");
        assert!(matches!(
            PeopleFile::check(&path),
            Err(PeopleFileError::Empty { .. })
        ));
        let (_d, path) = file(b"email\n");
        assert!(matches!(
            PeopleFile::check(&path),
            Err(PeopleFileError::NoRows { .. })
        ));
        let (_d, path) = file(b"email,\na@b.co,\n");
        assert!(matches!(
            PeopleFile::check(&path),
            Err(PeopleFileError::UnnamedColumn { position: 2, .. })
        ));
    }

    /// Garbage that normalises to nothing is sent as "" (Meta's blank), and a line with
    /// nothing left is skipped and reported by number.
    #[test]
    fn unusable_cells_are_blanked_and_empty_lines_skipped() {
        let (_d, path) = file(
            b"\xef\xbb\xbfemail,phone,gender\n\
              ann@example.org,not a phone,F\n\
              no-at-sign,12,x\n\
              ,,\n\
              bob@example.org,+1 650 555 1234,\n",
        );
        let f = PeopleFile::check(&path).unwrap();
        assert_eq!(
            f.schema,
            ["EMAIL", "PHONE", "GEN"],
            "a BOM is not part of a name"
        );
        assert_eq!((f.rows_read, f.rows_usable, f.rows_skipped), (4, 2, 2));
        assert_eq!(f.skipped_lines, [3, 4]);
        assert_eq!(
            f.cells_blanked,
            1 + 3,
            "line 2's phone; line 3's three cells"
        );

        let (_d, path) = file(b"email\nnot-an-email\n");
        let err = PeopleFile::check(&path).unwrap_err().to_string();
        assert!(
            err.contains("no line has a usable value") && err.contains("line 2"),
            "{err}"
        );
    }

    #[test]
    fn quoted_fields_with_commas_and_newlines() {
        let (_d, path) = file(b"ln,email\n\"Smith, Jr.\",a@b.co\n\"multi\nline\",c@d.co\nx,\n");
        let f = PeopleFile::check(&path).unwrap();
        assert_eq!(f.rows_read, 3);
        assert_eq!(f.rows_usable, 3);
    }

    #[test]
    fn extern_id_is_sent_unhashed_everything_else_hashed() {
        assert_eq!(hash_normalized(PiiKey::ExternId, "id-42"), "id-42");
        assert_eq!(
            hash_normalized(PiiKey::Email, "john.doe@example.com"),
            "836f82db99121b3481011f16b49dfa5fbc714a0d1b1b9f784a1ebbbf5b39577f"
        );
    }
}
