//! Request validation the way Meta validates: parameters an edge does not take, bad enum
//! values, breakdown combinations Meta does not store, ranges past the 37-month retention,
//! and the targeting restrictions of special ad categories. Each answers with Meta's error
//! envelope (code 100, with `blame_field_specs` where Meta blames a field), so a client's
//! error handling is exercised against the shapes it will meet.

use chrono::{Months, NaiveDate};

use super::graph::{error, Fail};
use crate::vocab::AdCategory;

type Params = std::collections::BTreeMap<String, String>;

/// Parameters any call may carry.
const EVERYWHERE: &[&str] = &[
    "access_token",
    "appsecret_proof",
    "method",
    "format",
    "pretty",
    "suppress_http_code",
    "locale",
    "include_headers",
];

/// What each creation edge and the insights read take (research notes §2, §4.1).
const EDGE_PARAMS: &[(&str, &[&str])] = &[
    (
        "campaigns",
        &[
            "name",
            "objective",
            "status",
            "special_ad_categories",
            "special_ad_category_country",
            "daily_budget",
            "lifetime_budget",
            "spend_cap",
            "bid_strategy",
            "buying_type",
            "start_time",
            "stop_time",
            "execution_options",
            "promoted_object",
            "adlabels",
        ],
    ),
    (
        "adsets",
        &[
            "name",
            "campaign_id",
            "daily_budget",
            "lifetime_budget",
            "billing_event",
            "optimization_goal",
            "bid_strategy",
            "bid_amount",
            "targeting",
            "start_time",
            "end_time",
            "status",
            "promoted_object",
            "destination_type",
            "execution_options",
            "adlabels",
        ],
    ),
    (
        "adcreatives",
        &["name", "object_story_spec", "execution_options", "adlabels"],
    ),
    (
        "ads",
        &[
            "name",
            "adset_id",
            "creative",
            "status",
            "tracking_specs",
            "execution_options",
            "adlabels",
        ],
    ),
    (
        "insights",
        &[
            "fields",
            "level",
            "breakdowns",
            "action_breakdowns",
            "action_attribution_windows",
            "action_report_time",
            "date_preset",
            "time_range",
            "time_ranges",
            "time_increment",
            "filtering",
            "sort",
            "limit",
            "after",
            "before",
            "use_account_attribution_setting",
            "use_unified_attribution_setting",
            "summary",
            "default_summary",
        ],
    ),
];

/// Insights fields the mock can answer (those a delivery audit reads).
const INSIGHTS_FIELDS: &[&str] = &[
    "ad_id",
    "ad_name",
    "adset_id",
    "adset_name",
    "campaign_id",
    "campaign_name",
    "account_id",
    "date_start",
    "date_stop",
    "reach",
    "impressions",
    "clicks",
    "spend",
];

/// Breakdown sets Meta stores (D-bd "Combining Breakdowns"), as sorted lists.
const BREAKDOWN_SETS: &[&[&str]] = &[
    &[],
    &["age"],
    &["gender"],
    &["age", "gender"],
    &["country"],
    &["region"],
    &["dma"],
];

/// Refuses parameters the edge does not take.
pub fn known_params(edge: &str, p: &Params) -> Result<(), Fail> {
    let Some((_, allowed)) = EDGE_PARAMS.iter().find(|(e, _)| *e == edge) else {
        return Ok(());
    };
    for key in p.keys() {
        if !allowed.contains(&key.as_str()) && !EVERYWHERE.contains(&key.as_str()) {
            return Err(blamed(
                error(
                    100,
                    None,
                    &format!("Invalid parameter: {key} is not a parameter of {edge}"),
                ),
                &[key],
            ));
        }
    }
    Ok(())
}

/// Checks an enum parameter against Meta's values.
pub fn one_of(p: &Params, key: &str, values: &[&str]) -> Result<(), Fail> {
    match p.get(key) {
        Some(v) if !values.contains(&v.as_str()) => Err(blamed(
            error(
                100,
                None,
                &format!(
                    "Invalid parameter: {key} must be one of {} (got {v})",
                    values.join(", ")
                ),
            ),
            &[key],
        )),
        _ => Ok(()),
    }
}

pub const BILLING_EVENTS: &[&str] = &[
    "IMPRESSIONS",
    "LINK_CLICKS",
    "CLICKS",
    "THRUPLAY",
    "APP_INSTALLS",
    "PAGE_LIKES",
    "POST_ENGAGEMENT",
    "PURCHASE",
    "LISTING_INTERACTION",
    "OFFER_CLAIMS",
    "NONE",
];
pub const OPTIMIZATION_GOALS: &[&str] = &[
    "REACH",
    "IMPRESSIONS",
    "LINK_CLICKS",
    "LANDING_PAGE_VIEWS",
    "OFFSITE_CONVERSIONS",
    "POST_ENGAGEMENT",
    "THRUPLAY",
    "VALUE",
    "NONE",
];
pub const BID_STRATEGIES: &[&str] = &[
    "LOWEST_COST_WITHOUT_CAP",
    "LOWEST_COST_WITH_BID_CAP",
    "COST_CAP",
    "LOWEST_COST_WITH_MIN_ROAS",
];

/// Unknown insights fields are refused, as Meta does.
pub fn insights_fields(p: &Params) -> Result<(), Fail> {
    for field in p
        .get("fields")
        .map(String::as_str)
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
    {
        if !INSIGHTS_FIELDS.contains(&field) {
            return Err(error(
                100,
                None,
                &format!("{field} is not valid for fields param. please check https://developers.facebook.com/docs/marketing-api/reference/ads-insights/ for all valid values"),
            ));
        }
    }
    Ok(())
}

/// Only the breakdown sets Meta stores may be asked for; the error text is Meta's.
pub fn breakdown_set(breakdowns: &[String]) -> Result<(), Fail> {
    let mut sorted: Vec<&str> = breakdowns.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    if BREAKDOWN_SETS.contains(&sorted.as_slice()) {
        Ok(())
    } else {
        Err(error(
            100,
            None,
            &format!(
                "Current combination of data breakdown columns ({}) is invalid",
                breakdowns.join(", ")
            ),
        ))
    }
}

/// Insights older than 37 months are gone.
pub fn retention(since: NaiveDate, today: NaiveDate) -> Result<(), Fail> {
    let oldest = today
        .checked_sub_months(Months::new(37))
        .unwrap_or(NaiveDate::MIN);
    if since < oldest {
        return Err(blamed(
            error(
                100,
                None,
                &format!("Invalid parameter: time_range starts before {oldest}; insights are kept for 37 months"),
            ),
            &["time_range"],
        ));
    }
    Ok(())
}

/// A special ad category needs its country, and restricts targeting: all ages 18 to 65+,
/// all genders, no postal codes.
pub fn special_category_campaign(category: AdCategory, p: &Params) -> Result<(), Fail> {
    if category != AdCategory::None && p.get("special_ad_category_country").is_none() {
        return Err(blamed(
            error(
                100,
                None,
                "Invalid parameter: special_ad_category_country is required when special_ad_categories is set",
            ),
            &["special_ad_category_country"],
        ));
    }
    Ok(())
}

pub fn special_category_targeting(
    category: AdCategory,
    targeting: &serde_json::Value,
) -> Result<(), Fail> {
    if category == AdCategory::None {
        return Ok(());
    }
    let age_min = targeting
        .get("age_min")
        .and_then(|v| v.as_u64())
        .unwrap_or(18);
    let age_max = targeting
        .get("age_max")
        .and_then(|v| v.as_u64())
        .unwrap_or(65);
    let restricted = if age_min != 18 {
        Some("age_min")
    } else if age_max < 65 {
        Some("age_max")
    } else if targeting
        .get("genders")
        .and_then(|g| g.as_array())
        .is_some_and(|g| !g.is_empty())
    {
        Some("genders")
    } else if targeting
        .pointer("/geo_locations/zips")
        .is_some_and(|z| !z.is_null())
    {
        Some("geo_locations")
    } else {
        None
    };
    match restricted {
        None => Ok(()),
        Some(field) => {
            let mut fail = blamed(error(100, None, "Invalid parameter"), &["targeting", field]);
            fail.user_msg = Some(format!(
                "Ads in the {} special ad category must target ages 18 to 65+, all genders and no postal codes (targeting.{field}).",
                category.as_str().to_ascii_uppercase()
            ));
            Err(fail)
        }
    }
}

fn blamed(mut fail: Fail, path: &[&str]) -> Fail {
    fail.blame = Some(path.iter().map(|s| s.to_string()).collect());
    fail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakdown_sets_follow_metas_table() {
        assert!(breakdown_set(&["gender".into(), "age".into()]).is_ok());
        assert!(breakdown_set(&["region".into()]).is_ok());
        assert!(breakdown_set(&["gender".into(), "region".into()]).is_err());
    }

    #[test]
    fn retention_is_37_months() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert!(retention(NaiveDate::from_ymd_opt(2023, 10, 23).unwrap(), today).is_ok());
        assert!(retention(NaiveDate::from_ymd_opt(2023, 10, 22).unwrap(), today).is_err());
    }
}
