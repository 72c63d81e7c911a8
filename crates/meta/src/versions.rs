//! Graph API versions and when Meta retires them.
//!
//! Source: Marketing API "Versions" table and changelog (developers.facebook.com/docs/
//! marketing-api/versions), as noted in `shared/research/meta-marketing-api.md` (addendum,
//! 2026-12): v24.0 was retired on 2026-11-10, v25.0 is retired on 2027-02-23, v26.0 was
//! released on 2026-07-29 and v27.0 on 2026-11-04, each living at least 90 days after the
//! next. Every version before v24.0 had been retired by then. The retirement dates of v26.0
//! and v27.0 were not yet announced. The adapter's default is the newest, and a dry run
//! warns when a run's last collection falls after its version's last day.

use chrono::NaiveDate;

/// The newest version Meta has released: the adapter's default.
pub const LATEST: &str = "v27.0";

/// A calendar day as (year, month, day).
type Day = (i32, u32, u32);

/// (major version, its last day of service, if announced).
const LAST_DAYS: &[(u32, Option<Day>)] = &[
    (24, Some((2026, 11, 10))),
    (25, Some((2027, 2, 23))),
    (26, None),
    (27, None),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
}

impl Version {
    /// `v25.0` → 25.0; anything else is no version.
    pub fn parse(text: &str) -> Option<Version> {
        let (major, minor) = text.strip_prefix('v')?.split_once('.')?;
        Some(Version {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
        })
    }

    /// Whether Meta has released it (versions past the newest do not exist yet).
    pub fn is_released(self) -> bool {
        LAST_DAYS.last().is_some_and(|(m, _)| self.major <= *m)
    }

    /// Its last day of service: announced for recent versions, long past for older ones
    /// (taken as v24.0's), unknown for the newest.
    pub fn last_day(self) -> Option<NaiveDate> {
        let day = LAST_DAYS
            .iter()
            .find(|(m, _)| *m == self.major)
            .map_or(Some((2026, 11, 10)), |(_, d)| *d)?;
        NaiveDate::from_ymd_opt(day.0, day.1, day.2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_retire_on_metas_dates() {
        let v25 = Version::parse("v25.0").unwrap();
        assert_eq!(v25.last_day(), NaiveDate::from_ymd_opt(2027, 2, 23));
        assert!(Version::parse("v19.0").unwrap().last_day() < v25.last_day());
        assert_eq!(Version::parse(LATEST).unwrap().last_day(), None);
        assert!(!Version::parse("v99.0").unwrap().is_released());
        assert_eq!(Version::parse("25"), None);
    }
}
