//! Edge reads: the objects under a node (`act_X/campaigns`, `{campaign}/ads`, ...), with
//! `fields`, `effective_status`, `filtering`, `summary=true` and cursor paging, as Meta
//! answers them.
//!
//! Sources: Marketing API "Ad objects" reference (edges, `effective_status`), Graph API
//! "Paginated results" (cursors, `paging.next` only while more), the SDKs' `Cursor`
//! (`summary.total_count`), Marketing API "Filtering" (`[{field, operator, value}]`).
//! Archived and deleted objects are listed only when `effective_status` asks for them, as on
//! Meta ("Storing and retrieving ad objects").

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::error::{invalid, GraphError};
use super::objects::{field_list, render};
use super::request::{json_param, Params};
use super::{Kind, Mock, Object};

/// `GET /{node}/{edge}` for the ad-object edges.
pub(crate) async fn list(
    mock: &Mock,
    node_type: &str,
    node: &str,
    edge: &str,
    p: &Params,
    at: &Paging<'_>,
) -> Result<Response, GraphError> {
    let members = members(mock, node_type, node, edge);
    let fields = field_list(p);
    let filters = filters(p)?;
    // Filters read fields the answer may not carry; render those too, then drop them.
    let mut extra: Vec<String> = filters
        .iter()
        .map(|f| f.field.clone())
        .chain(["effective_status".to_string()])
        .filter(|f| !fields.contains(f))
        .collect();
    extra.dedup();
    let statuses: Option<Vec<String>> =
        json_param(p, "effective_status")?.and_then(|v| serde_json::from_value(v).ok());
    let mut rows = Vec::new();
    for (id, o) in members {
        let all: Vec<String> = fields.iter().chain(&extra).cloned().collect();
        let mut row = render(mock, &id, &o, &all).await;
        let status = row["effective_status"].as_str().unwrap_or("").to_string();
        let listed = match &statuses {
            Some(wanted) => wanted.contains(&status),
            None => !matches!(status.as_str(), "ARCHIVED" | "DELETED"),
        };
        if listed && filters.iter().all(|f| f.admits(&row)) {
            if let Some(map) = row.as_object_mut() {
                for e in &extra {
                    map.remove(e);
                }
            }
            rows.push(row);
        }
    }
    let summary = p.get("summary").is_some_and(|s| s != "false");
    Ok(page(&rows, p, at, summary))
}

/// The objects an edge holds, in creation order.
fn members(mock: &Mock, node_type: &str, node: &str, edge: &str) -> Vec<(String, Object)> {
    let objects = mock.objects.lock().expect("objects lock").clone();
    let wanted = |o: &Object| -> bool {
        match (node_type, edge, &o.kind) {
            ("AdAccount", "campaigns", Kind::Campaign)
            | ("AdAccount", "adsets", Kind::AdSet { .. })
            | ("AdAccount", "ads", Kind::Ad { .. })
            | ("AdAccount", "adcreatives", Kind::Creative)
            | ("AdAccount", "customaudiences", Kind::Audience) => true,
            ("Campaign", "adsets", Kind::AdSet { campaign }) => campaign == node,
            ("Campaign", "ads", Kind::Ad { campaign, .. }) => campaign == node,
            ("AdSet", "ads", Kind::Ad { ad_set, .. }) => ad_set == node,
            _ => false,
        }
    };
    let mut out: Vec<(String, Object)> = objects.into_iter().filter(|(_, o)| wanted(o)).collect();
    // Ids are handed out in increasing order; sort numerically.
    out.sort_by_key(|(id, _)| id.parse::<u128>().unwrap_or(0));
    out
}

/// One `filtering` clause.
pub(crate) struct Filter {
    pub field: String,
    operator: String,
    value: Value,
}

/// `filtering=[{"field": ..., "operator": ..., "value": ...}]`; dotted fields name the parent's
/// (`campaign.id` is `campaign_id`).
pub(crate) fn filters(p: &Params) -> Result<Vec<Filter>, GraphError> {
    let Some(list) = json_param(p, "filtering")? else {
        return Ok(Vec::new());
    };
    let items = list.as_array().ok_or_else(|| {
        invalid("filtering must be a JSON array of {field, operator, value}").blame(&["filtering"])
    })?;
    items
        .iter()
        .map(|f| {
            let field = f.get("field").and_then(Value::as_str);
            let operator = f.get("operator").and_then(Value::as_str);
            match (field, operator) {
                (Some(field), Some(op)) if OPERATORS.contains(&op) => Ok(Filter {
                    field: match field {
                        "campaign.id" => "campaign_id".into(),
                        "adset.id" => "adset_id".into(),
                        "ad.id" => "ad_id".into(),
                        other => other.rsplit('.').next().unwrap_or(other).to_string(),
                    },
                    operator: op.to_string(),
                    value: f.get("value").cloned().unwrap_or(Value::Null),
                }),
                (Some(_), Some(op)) => Err(GraphError::invalid(format!(
                    "Filtering operator {op} is not one the mock evaluates ({})",
                    OPERATORS.join(", ")
                ))
                .blame(&["filtering"])),
                _ => {
                    Err(invalid("each filtering entry needs field and operator")
                        .blame(&["filtering"]))
                }
            }
        })
        .collect()
}

const OPERATORS: &[&str] = &[
    "EQUAL",
    "NOT_EQUAL",
    "GREATER_THAN",
    "GREATER_THAN_OR_EQUAL",
    "LESS_THAN",
    "LESS_THAN_OR_EQUAL",
    "IN",
    "NOT_IN",
    "CONTAIN",
    "NOT_CONTAIN",
    "STARTS_WITH",
];

impl Filter {
    pub fn admits(&self, row: &Value) -> bool {
        let text = |v: &Value| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        };
        let Some(have) = row.get(&self.field) else {
            return self.operator.starts_with("NOT");
        };
        let have_text = text(have);
        let number = |v: &Value| text(v).parse::<f64>().ok();
        let list: Vec<String> = self
            .value
            .as_array()
            .map(|a| a.iter().map(text).collect())
            .unwrap_or_else(|| vec![text(&self.value)]);
        let cmp = || number(have).zip(number(&self.value));
        match self.operator.as_str() {
            "EQUAL" => have_text == text(&self.value),
            "NOT_EQUAL" => have_text != text(&self.value),
            "IN" => list.contains(&have_text),
            "NOT_IN" => !list.contains(&have_text),
            "CONTAIN" => have_text.contains(&text(&self.value)),
            "NOT_CONTAIN" => !have_text.contains(&text(&self.value)),
            "STARTS_WITH" => have_text.starts_with(&text(&self.value)),
            "GREATER_THAN" => cmp().is_some_and(|(a, b)| a > b),
            "GREATER_THAN_OR_EQUAL" => cmp().is_some_and(|(a, b)| a >= b),
            "LESS_THAN" => cmp().is_some_and(|(a, b)| a < b),
            "LESS_THAN_OR_EQUAL" => cmp().is_some_and(|(a, b)| a <= b),
            _ => false,
        }
    }
}

/// Where a paged answer was asked for, to build its `paging.next` URL.
pub(crate) struct Paging<'a> {
    pub headers: &'a HeaderMap,
    /// `v25.0/{node}/{edge}`.
    pub path: &'a str,
    /// The request's query string.
    pub query: &'a str,
}

/// Cursor paging: `limit` rows per page (25 by default), `after` an opaque cursor,
/// `paging.next` while more; `summary.total_count` when asked for.
pub(crate) fn page(rows: &[Value], p: &Params, at: &Paging<'_>, summary: bool) -> Response {
    let Paging {
        headers,
        path,
        query,
    } = *at;
    let limit: usize = p
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(25);
    let offset: usize = p.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let end = (offset + limit).min(rows.len());
    let total = rows.len();
    let data: Vec<Value> = rows
        .get(offset..end)
        .map(<[Value]>::to_vec)
        .unwrap_or_default();
    let mut body = json!({"data": data, "paging": {"cursors": {"before": offset.to_string(), "after": end.to_string()}}});
    if end < total {
        let host = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        let mut next: Vec<(String, String)> =
            serde_urlencoded::from_str::<Vec<(String, String)>>(query)
                .unwrap_or_default()
                .into_iter()
                // Meta's next URLs carry the token too; clients must not pass them on as is.
                .filter(|(k, _)| k != "after")
                .collect();
        next.push(("after".into(), end.to_string()));
        let qs = serde_urlencoded::to_string(&next).unwrap_or_default();
        body["paging"]["next"] = json!(format!("http://{host}/{path}?{qs}"));
    }
    if summary {
        body["summary"] = json!({ "total_count": total });
    }
    Json(body).into_response()
}
