//! When an export was made: its snapshot time.
//!
//! Ads Manager numbers are cumulative, so the order of snapshots decides which one is the
//! latest, and the latest is what gets analysed. Ads Manager does not write the time into
//! the file, and its default file names carry the reporting range, not the time of export,
//! so a researcher who downloads exports every few minutes names them by time (as
//! AlgorithmWatch did: `2020-08-26_18:32.csv`). That name is the best record there is; a
//! file's modification time is the fallback, and it changes when a file is copied without
//! care, so the import says which one it used.

use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// How a snapshot time was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotFrom {
    FileName,
    ModificationTime,
}

impl SnapshotFrom {
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotFrom::FileName => "file name",
            SnapshotFrom::ModificationTime => "modification time",
        }
    }
}

/// The snapshot time of the file at `path`: a date and time in its name (read as UTC),
/// else its modification time. `Err` says what is wrong with the name.
pub fn snapshot_time(path: &Path) -> Result<(DateTime<Utc>, SnapshotFrom), String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    if let Some(t) = from_name(&name)? {
        return Ok((t.and_utc(), SnapshotFrom::FileName));
    }
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map_err(|e| format!("has no time in its name and no modification time ({e})"))?;
    let t: DateTime<Utc> = modified.into();
    let t = DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t);
    Ok((t, SnapshotFrom::ModificationTime))
}

/// The date and time in a file name: `YYYY-MM-DD`, one of `T _ - . space`, then `HH`, one
/// of `: _ - . h`, `MM`, and optionally the same separator and `SS`. `2020-08-26_18:32`,
/// `export-2020-08-26T18_32_05.csv` and `2020-08-26 18h32` all qualify; a date alone
/// (Ads Manager's reporting range, `...-Aug-1-2020-Aug-26-2020.csv` or
/// `2020-08-01-2020-08-26`) does not. Two different times in one name are an error.
pub fn from_name(name: &str) -> Result<Option<NaiveDateTime>, String> {
    let b = name.as_bytes();
    let mut found: Vec<NaiveDateTime> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match at(b, i) {
            Some((t, len)) => {
                if !found.contains(&t) {
                    found.push(t);
                }
                i += len;
            }
            None => i += 1,
        }
    }
    match found.as_slice() {
        [] => Ok(None),
        [t] => Ok(Some(*t)),
        [a, b, ..] => Err(format!(
            "its name has two times ({a} and {b}); rename it so it has the time the export was made, \
             e.g. 2020-08-26_18:32.csv"
        )),
    }
}

/// A date and time starting at `b[i]`, and its length.
fn at(b: &[u8], i: usize) -> Option<(NaiveDateTime, usize)> {
    if i > 0 && b[i - 1].is_ascii_digit() {
        return None;
    }
    let number = |from: usize, len: usize| -> Option<u32> {
        let s = b.get(from..from + len)?;
        s.iter()
            .all(u8::is_ascii_digit)
            .then(|| std::str::from_utf8(s).ok()?.parse().ok())
            .flatten()
    };
    let is = |at: usize, set: &[u8]| b.get(at).is_some_and(|c| set.contains(c));
    let year = number(i, 4)?;
    if !(is(i + 4, b"-") && is(i + 7, b"-") && is(i + 10, b"T_-. ")) {
        return None;
    }
    let (month, day, hour) = (number(i + 5, 2)?, number(i + 8, 2)?, number(i + 11, 2)?);
    let sep = *b.get(i + 13)?;
    if !b":_-.h".contains(&sep) {
        return None;
    }
    let minute = number(i + 14, 2)?;
    let mut len = 16;
    let mut second = 0;
    if b.get(i + 16) == Some(&sep) || (sep == b'h' && is(i + 16, b"m")) {
        if let Some(s) = number(i + 17, 2).filter(|_| !is(i + 19, b"0123456789")) {
            second = s;
            len = 19;
        }
    }
    if is(i + len, b"0123456789") {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    let time = NaiveTime::from_hms_opt(hour, minute, second)?;
    Some((date.and_time(time), len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Option<String> {
        from_name(text)
            .unwrap()
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
    }

    #[test]
    fn times_in_file_names() {
        assert_eq!(
            t("2020-08-26_18:32.csv").as_deref(),
            Some("2020-08-26 18:32:00")
        );
        assert_eq!(
            t("hairdresser-2020-08-26T18_32_05-export.csv").as_deref(),
            Some("2020-08-26 18:32:05")
        );
        assert_eq!(
            t("2020-08-26 18h32.csv").as_deref(),
            Some("2020-08-26 18:32:00")
        );
        assert_eq!(
            t("x_2020-08-26-18-32.csv").as_deref(),
            Some("2020-08-26 18:32:00")
        );
    }

    #[test]
    fn dates_alone_and_ranges_are_not_times() {
        assert_eq!(t("report-2020-08-26.csv"), None);
        assert_eq!(t("report-2020-08-01-2020-08-26.csv"), None);
        assert_eq!(t("Ads-Aug-1-2020-Aug-26-2020.csv"), None);
        assert_eq!(t("2020-08-26_25:00.csv"), None, "no hour 25");
        assert_eq!(t("12020-08-26_18:32.csv"), None);
    }

    #[test]
    fn two_times_are_refused() {
        assert!(from_name("2020-08-26_18:32-2020-08-26_18:40.csv").is_err());
        assert_eq!(
            t("2020-08-26_18:32-copy-2020-08-26_18:32.csv").as_deref(),
            Some("2020-08-26 18:32:00")
        );
    }
}
