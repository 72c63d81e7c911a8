//! The ad account, its access token and its page as Meta reports them, healthy by default
//! and configurable to fail each check `adskew doctor` makes (`[account]` in a fault file).
//!
//! Sources: Graph API `debug_token` (`data.is_valid`, `expires_at` with 0 for never,
//! `scopes`, `type`), the AdAccount reference (`account_status` 1 = ACTIVE, 2 = DISABLED,
//! 3 = UNSETTLED, 7 = PENDING_RISK_REVIEW, 8 = PENDING_SETTLEMENT, 9 = IN_GRACE_PERIOD,
//! 100 = PENDING_CLOSURE, 101 = CLOSED; `disable_reason`; `spend_cap` and `amount_spent` as
//! strings in the currency's offset unit, `spend_cap` "0" for none; `funding_source_details`),
//! `act_ID/dsa_recommendations`, and the `ads_api_access_tier` that usage headers carry.

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::error::GraphError;
use super::objects::field_list;
use super::request::Params;
use super::Mock;
use adskew_core::platform::Platform;

/// What the account, the token and the page are like.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountConfig {
    pub token_valid: bool,
    /// Days until the token expires; none: it never does (a system-user token).
    pub token_expires_in_days: Option<f64>,
    pub token_scopes: Vec<String>,
    /// `USER`, `SYSTEM_USER`, `PAGE`, `APP`.
    pub token_type: String,
    pub account_status: u32,
    pub disable_reason: u32,
    /// Whether a payment method is on file.
    pub funding: bool,
    /// The account's spending limit, in the currency's offset unit (none: no limit).
    pub spend_limit: Option<i64>,
    /// Spent so far against that limit, in the same unit.
    pub amount_spent: i64,
    /// `standard_access` or `development_access`.
    pub access_tier: String,
    /// Pages the token can use (`GET /{page}` answers for these only); unset, any numeric id
    /// that is no ad object is a page (the mock does not model pages unless told).
    pub pages: Option<Vec<String>>,
    /// What `act_ID/dsa_recommendations` suggests as beneficiary and payor.
    pub dsa_recommendations: Vec<String>,
}

impl Default for AccountConfig {
    fn default() -> Self {
        AccountConfig {
            token_valid: true,
            token_expires_in_days: None,
            token_scopes: vec![
                "ads_management".into(),
                "ads_read".into(),
                "business_management".into(),
            ],
            token_type: "SYSTEM_USER".into(),
            account_status: 1,
            disable_reason: 0,
            funding: true,
            spend_limit: None,
            amount_spent: 0,
            access_tier: "standard_access".into(),
            pages: None,
            dsa_recommendations: Vec::new(),
        }
    }
}

fn config(mock: &Mock) -> AccountConfig {
    mock.faults.read().expect("faults lock").account.clone()
}

/// Only `id` and the fields asked for (only `id` when none are).
fn select(id: &str, all: &Value, p: &Params) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(id));
    for f in field_list(p) {
        if let Some(v) = all.get(&f) {
            out.insert(f, v.clone());
        }
    }
    Value::Object(out)
}

/// `GET act_X`: any account exists; its time zone is the simulated account's.
pub(crate) fn read(mock: &Mock, id: &str, p: &Params) -> Response {
    let c = config(mock);
    let mut all = json!({
        "id": id,
        "account_id": id.trim_start_matches("act_"),
        "name": "adskew mock account",
        "timezone_name": mock.sim.truth().timezone.name(),
        "account_status": c.account_status,
        "disable_reason": c.disable_reason,
        "spend_cap": c.spend_limit.unwrap_or(0).to_string(),
        "amount_spent": c.amount_spent.to_string(),
    });
    if let Some(currency) = mock.currency.lock().expect("currency lock").clone() {
        all["currency"] = json!(currency);
    }
    if c.funding {
        all["funding_source_details"] =
            json!({"id": "9000", "type": 1, "display_string": "Visa *4242"});
    }
    Json(select(id, &all, p)).into_response()
}

/// `GET act_X/dsa_recommendations`.
pub(crate) fn dsa_recommendations(mock: &Mock) -> Response {
    let c = config(mock);
    Json(json!({"data": [{"recommendations": c.dsa_recommendations}]})).into_response()
}

/// `GET /debug_token?input_token=...`: what Meta says of a token.
pub(crate) fn debug_token(mock: &Mock, p: &Params) -> Result<Response, GraphError> {
    if p.get("input_token").is_none_or(|t| t.is_empty()) {
        return Err(
            GraphError::invalid("The parameter input_token is required").blame(&["input_token"])
        );
    }
    let c = config(mock);
    let expires_at = c
        .token_expires_in_days
        .map(|d| (mock.sim.now() + chrono::Duration::seconds((d * 86_400.0) as i64)).timestamp())
        .unwrap_or(0);
    let mut data = json!({
        "app_id": "1000000000000",
        "type": c.token_type,
        "application": "adskew mock",
        "expires_at": expires_at,
        "is_valid": c.token_valid,
        "scopes": c.token_scopes,
    });
    if !c.token_valid {
        data["error"] = json!({"code": 190, "subcode": 460,
            "message": "The session has been invalidated because the user changed their password."});
    }
    Ok(Json(json!({ "data": data })).into_response())
}

/// `GET /{page}` for a page the token can use.
pub(crate) fn page(mock: &Mock, id: &str, p: &Params) -> Option<Response> {
    let c = config(mock);
    let exists = match &c.pages {
        Some(pages) => pages.iter().any(|page| page == id),
        None => !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()),
    };
    exists.then(|| {
        let all = json!({"id": id, "name": "adskew mock page", "is_published": true});
        Json(select(id, &all, p)).into_response()
    })
}
