//! `adskew doctor`: everything about the token, the ad account and the app that can stop a
//! launch or endanger a running study, checked before money moves, one line per check.
//!
//! Sources: Graph API `debug_token` (validity, `expires_at` with 0 for never, `scopes`),
//! Marketing API permissions (`ads_management` to create and change ads, `ads_read` to read
//! insights), system-user tokens (Business Settings → Users → System users, which do not
//! expire), the AdAccount reference (`account_status`, `disable_reason`, the account
//! `spend_cap` and `amount_spent`, `funding_source_details`), the DSA fields, the versions
//! table (`versions`), and the access tier that usage headers carry (development tier apps
//! have far lower rate limits).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::adapter::{MetaConfig, MetaPlatform};
use super::dsa;
use super::versions::{Version, LATEST};
use adskew_core::experiment::Experiment;
use adskew_core::money::Currency;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    /// Worth knowing; the launch works.
    Warn,
    /// Would block the launch or endanger the study.
    Fail,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub level: Level,
    pub message: String,
}

fn check(name: &'static str, level: Level, message: impl Into<String>) -> Check {
    Check {
        name,
        level,
        message: message.into(),
    }
}

/// What the checks know of the experiment, when one is given.
struct Plan<'a> {
    exp: &'a Experiment,
    last_collection: DateTime<Utc>,
}

/// Every check, in order; with `exp`, also against its currency, cap and schedule.
pub async fn run(
    meta: &MetaPlatform,
    config: &MetaConfig,
    exp: Option<&Experiment>,
    start: DateTime<Utc>,
) -> Vec<Check> {
    let plan = exp.map(|exp| Plan {
        exp,
        last_collection: start + exp.schedule.duration + exp.schedule.recollect_after,
    });
    let mut out = vec![token(meta, config, plan.as_ref(), start).await];
    out.extend(account(meta, config, plan.as_ref()).await);
    out.push(page(meta, config).await);
    out.push(dsa_check(meta, config, plan.as_ref()).await);
    out.push(version(config, plan.as_ref(), start));
    out.push(tier(meta));
    out
}

const SYSTEM_USER_HINT: &str = "a system-user token does not expire: Business Settings → Users → System users → Generate new token, with ads_management and ads_read";

async fn token(
    meta: &MetaPlatform,
    config: &MetaConfig,
    plan: Option<&Plan<'_>>,
    now: DateTime<Utc>,
) -> Check {
    let params = [("input_token".to_string(), config.token.expose().to_string())];
    let data = match meta.read_node("debug_token", &params).await {
        Ok(answer) => answer.get("data").cloned().unwrap_or(Value::Null),
        Err(e) => return check("token", Level::Fail, format!("cannot check the token: {e}")),
    };
    if data.get("is_valid").and_then(Value::as_bool) != Some(true) {
        let why = data
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("Meta says it is not valid");
        return check(
            "token",
            Level::Fail,
            format!("not valid ({why}); {SYSTEM_USER_HINT}"),
        );
    }
    let scopes: Vec<&str> = data
        .get("scopes")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let missing: Vec<&str> = ["ads_management", "ads_read"]
        .into_iter()
        .filter(|s| !scopes.contains(s))
        .collect();
    if !missing.is_empty() {
        return check(
            "token",
            Level::Fail,
            format!(
                "lacks the permission(s) {}: grant them to the app's token ({SYSTEM_USER_HINT})",
                missing.join(", ")
            ),
        );
    }
    let expires = data.get("expires_at").and_then(Value::as_i64).unwrap_or(0);
    if expires == 0 {
        return check(
            "token",
            Level::Ok,
            "valid, never expires, ads_management and ads_read",
        );
    }
    let at = DateTime::<Utc>::from_timestamp(expires, 0).unwrap_or(now);
    match plan {
        Some(p) if at < p.last_collection => check(
            "token",
            Level::Fail,
            format!(
                "expires on {}, before the run's last collection on {}: collections would fail; {SYSTEM_USER_HINT}",
                at.date_naive(),
                p.last_collection.date_naive()
            ),
        ),
        _ if at < now + chrono::Duration::days(7) => check(
            "token",
            Level::Warn,
            format!("expires on {} (within a week); {SYSTEM_USER_HINT}", at.date_naive()),
        ),
        _ => check("token", Level::Ok, format!("valid until {}", at.date_naive())),
    }
}

/// Meta's `account_status` values (AdAccount reference).
fn status_name(status: u64) -> &'static str {
    match status {
        1 => "ACTIVE",
        2 => "DISABLED",
        3 => "UNSETTLED",
        7 => "PENDING_RISK_REVIEW",
        8 => "PENDING_SETTLEMENT",
        9 => "IN_GRACE_PERIOD",
        100 => "PENDING_CLOSURE",
        101 => "CLOSED",
        201 => "ANY_ACTIVE",
        202 => "ANY_CLOSED",
        _ => "UNKNOWN",
    }
}

async fn account(meta: &MetaPlatform, config: &MetaConfig, plan: Option<&Plan<'_>>) -> Vec<Check> {
    let fields = "name,account_status,disable_reason,currency,timezone_name,spend_cap,amount_spent,funding_source_details";
    let a = match meta
        .read_node(&config.account_node(), &[("fields".into(), fields.into())])
        .await
    {
        Ok(a) => a,
        Err(e) => {
            return vec![check(
                "ad account",
                Level::Fail,
                format!("cannot read {}: {e}", config.account),
            )]
        }
    };
    let mut out = Vec::new();
    let status = a.get("account_status").and_then(Value::as_u64).unwrap_or(0);
    out.push(if status == 1 {
        check("ad account", Level::Ok, format!("{} is ACTIVE", config.account))
    } else {
        let reason = a.get("disable_reason").and_then(Value::as_u64).unwrap_or(0);
        check(
            "ad account",
            Level::Fail,
            format!(
                "{} is {} (disable_reason {reason}): nothing can be launched; see Ads Manager → Account quality",
                config.account,
                status_name(status)
            ),
        )
    });
    let code = a.get("currency").and_then(Value::as_str).unwrap_or("");
    let currency = Currency::parse(code);
    let tz = a
        .get("timezone_name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    out.push(match (currency, plan) {
        (None, _) => check(
            "currency",
            Level::Fail,
            format!("the account's currency `{code}` is not in Meta's currency table"),
        ),
        (Some(c), Some(p)) if c.code != p.exp.currency => check(
            "currency",
            Level::Fail,
            format!(
                "the account is in {} but the experiment's amounts are in {}: set currency = \"{}\" and check budgets and cap",
                c.code, p.exp.currency, c.code
            ),
        ),
        (Some(c), _) => check("currency", Level::Ok, format!("{} (time zone {tz})", c.code)),
    });
    out.push(
        if a.get("funding_source_details")
            .is_some_and(|f| !f.is_null())
        {
            check("payment method", Level::Ok, "on file")
        } else {
            check(
            "payment method",
            Level::Fail,
            "none on the account: Meta does not deliver without one; add it in Billing & payments",
        )
        },
    );
    if let Some(c) = currency {
        out.push(spending_limit(&a, c, plan));
    }
    out
}

fn spending_limit(a: &Value, currency: Currency, plan: Option<&Plan<'_>>) -> Check {
    let amount = |k: &str| {
        a.get(k)
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let limit = amount("spend_cap");
    if limit == 0 {
        return check("spending limit", Level::Ok, "none on the account");
    }
    let left = currency.from_wire(limit - amount("amount_spent"));
    match plan {
        Some(p) if left < p.exp.spend_cap => check(
            "spending limit",
            Level::Fail,
            format!(
                "the account's spending limit leaves {left} {}, below the experiment's cap {} {}: delivery would stop early; raise it in Billing & payments",
                currency.code, p.exp.spend_cap, currency.code
            ),
        ),
        _ => check(
            "spending limit",
            Level::Ok,
            format!("{left} {} left under the account's limit", currency.code),
        ),
    }
}

async fn page(meta: &MetaPlatform, config: &MetaConfig) -> Check {
    match meta
        .read_node(&config.page_id, &[("fields".into(), "id,name".into())])
        .await
    {
        Ok(p) => check(
            "page",
            Level::Ok,
            format!(
                "{} ({})",
                config.page_id,
                p.get("name").and_then(Value::as_str).unwrap_or("no name")
            ),
        ),
        Err(e) => check(
            "page",
            Level::Fail,
            format!("cannot read page {} with this token: {e}; ads run as a page the token can use (meta.page_id)", config.page_id),
        ),
    }
}

async fn dsa_check(meta: &MetaPlatform, config: &MetaConfig, plan: Option<&Plan<'_>>) -> Check {
    if let Some(d) = &config.dsa {
        return check(
            "DSA",
            Level::Ok,
            format!("beneficiary \"{}\", payor \"{}\"", d.beneficiary, d.payor),
        );
    }
    let suggested: Vec<String> = meta
        .read_node(
            &format!("{}/dsa_recommendations", config.account_node()),
            &[],
        )
        .await
        .ok()
        .and_then(|a| a.pointer("/data/0/recommendations").cloned())
        .and_then(|r| serde_json::from_value(r).ok())
        .unwrap_or_default();
    let hint = match suggested.first() {
        Some(s) => {
            format!("the account suggests \"{s}\": put it in the experiment's [dsa] beneficiary and payor, or in the settings' meta.dsa_beneficiary and meta.dsa_payor")
        }
        None => "set the experiment's [dsa] beneficiary and payor, or the settings' meta.dsa_beneficiary and meta.dsa_payor (usually your organisation)".into(),
    };
    let eu = plan.and_then(|p| dsa::first_eu(p.exp.audience.countries.iter().map(String::as_str)));
    match eu {
        Some(country) => check(
            "DSA",
            Level::Fail,
            format!("the audience includes {country} (EU/EEA) and no beneficiary and payor are set; {hint}"),
        ),
        None => check("DSA", Level::Ok, format!("not needed outside the EU; {hint} before targeting it")),
    }
}

fn version(config: &MetaConfig, plan: Option<&Plan<'_>>, now: DateTime<Utc>) -> Check {
    let Some(v) = Version::parse(&config.version) else {
        return check(
            "API version",
            Level::Fail,
            format!("`{}` is no version", config.version),
        );
    };
    match (v.last_day(), plan) {
        (Some(last), _) if last < now.date_naive() => check(
            "API version",
            Level::Fail,
            format!("{} was retired on {last}; set meta.api_version = \"{LATEST}\"", config.version),
        ),
        (Some(last), Some(p)) if last < p.last_collection.date_naive() => check(
            "API version",
            Level::Fail,
            format!(
                "{} is retired on {last}, before the run's last collection on {}; set meta.api_version = \"{LATEST}\"",
                config.version,
                p.last_collection.date_naive()
            ),
        ),
        (Some(last), _) => check(
            "API version",
            Level::Ok,
            format!("{} (served until {last})", config.version),
        ),
        (None, _) => check(
            "API version",
            Level::Ok,
            format!("{} (no retirement announced)", config.version),
        ),
    }
}

fn tier(meta: &MetaPlatform) -> Check {
    match meta.access_tier().as_deref() {
        Some("standard_access") => check("access tier", Level::Ok, "standard access"),
        Some("development_access") => check(
            "access tier",
            Level::Warn,
            "the app has development access: Meta's rate limits for it are far lower, so a large study's nightly \
             collection may be throttled for hours; request Advanced Access to ads_management in the App Dashboard",
        ),
        Some(other) => check("access tier", Level::Warn, format!("`{other}`")),
        None => check("access tier", Level::Warn, "not reported by Meta's usage headers"),
    }
}
