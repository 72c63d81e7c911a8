//! Graph API versions on the mock: a path must start with a version Meta has released and
//! not yet retired (the lifecycle is `platform::meta::versions`, with its sources). A call to
//! a retired version is refused with code 2635 [text from SDK issues; unverified against a
//! live account]. The mock judges by its own clock, so a test can move past a retirement.

use chrono::{DateTime, Utc};

use super::error::GraphError;
pub use adskew_meta::versions::{Version, LATEST};

/// Refuses paths without a version Meta serves at `now`.
pub fn check(text: &str, now: DateTime<Utc>) -> Result<Version, GraphError> {
    let Some(version) = Version::parse(text) else {
        return Err(GraphError::new(
            2500,
            format!("Unknown path components: /{text}. Marketing API paths start with a version such as /{LATEST}/"),
        ));
    };
    if !version.is_released() {
        return Err(GraphError::new(
            2500,
            format!("Unknown path components: /{text}. The newest version is {LATEST}"),
        ));
    }
    if let Some(last_day) = version.last_day() {
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
