//! Graph API versions and their lifecycle.
//!
//! Source: Marketing API "Versions" table and changelog (developers.facebook.com/docs/
//! marketing-api/versions), as noted in `../shared/research/meta-marketing-api.md`
//! (addendum, 2026-12): v24.0 expired on 2026-11-10, v25.0 expires on 2027-02-23, v26.0 was
//! released on 2026-07-29 and v27.0 on 2026-11-04; each version lives for at least 90 days
//! after the next. Every version before v24.0 had expired by then. The expiry dates of v26.0
//! and v27.0 were not yet announced and are left open here. A call to an expired version is
//! refused with code 2635 [text from SDK issues; unverified against a live account]. The
//! mock judges by its own clock, so a test can move past an expiry.

use chrono::{DateTime, NaiveDate, Utc};

use super::error::GraphError;

/// The newest version Meta has released (for the error's advice).
pub const LATEST: &str = "v27.0";

/// A calendar day as (year, month, day).
type Day = (i32, u32, u32);

/// (major version, its last day of service).
const EXPIRIES: &[(u32, Option<Day>)] = &[
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
}

/// Refuses paths without a version Meta serves at `now`.
pub fn check(text: &str, now: DateTime<Utc>) -> Result<Version, GraphError> {
    let Some(version) = Version::parse(text) else {
        return Err(GraphError::new(
            2500,
            format!("Unknown path components: /{text}. Marketing API paths start with a version such as /{LATEST}/"),
        ));
    };
    let newest = EXPIRIES.last().map(|(m, _)| *m).unwrap_or(0);
    if version.major > newest {
        return Err(GraphError::new(
            2500,
            format!("Unknown path components: /{text}. The newest version is {LATEST}"),
        ));
    }
    let expiry = EXPIRIES
        .iter()
        .find(|(m, _)| *m == version.major)
        .map(|(_, e)| *e)
        .unwrap_or(Some((2026, 11, 10)));
    if let Some((y, m, d)) = expiry {
        let last_day = NaiveDate::from_ymd_opt(y, m, d).expect("a calendar date");
        if now.date_naive() > last_day {
            return Err(GraphError::new(
                2635,
                format!("You are calling a deprecated version of the Ads API. Please update to the latest version: {LATEST}."),
            ));
        }
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn versions_expire_on_metas_dates() {
        let dec = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        assert!(check("v25.0", dec).is_ok());
        assert_eq!(check("v24.0", dec).unwrap_err().code, 2635);
        assert_eq!(check("v19.0", dec).unwrap_err().code, 2635);
        let march = Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).unwrap();
        assert_eq!(check("v25.0", march).unwrap_err().code, 2635);
        assert!(check("v27.0", march).is_ok());
        assert!(check("v99.0", dec).is_err());
        assert!(check("act_1", dec).is_err());
    }
}
