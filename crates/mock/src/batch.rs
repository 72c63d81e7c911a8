//! Batch requests: `POST /` (or `/{version}/`) with `batch=[{method, relative_url, body}]`,
//! up to 50 per batch. Each element is served by the same routes as a single request (so it
//! counts against the rate limit and may meet injected faults, as on Meta), and answered in
//! order as `{code, headers, body}` with the body as a JSON string; the outer answer is 200.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::Request as HttpRequest;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::error::{error, GraphError};
use super::request::GraphRequest;
use super::Mock;

/// Meta's limit on the number of requests in one batch.
pub const MAX_BATCH: usize = 50;

/// The batch, sent as a form (the Python SDK, curl) or a JSON body (the Node SDK).
pub async fn serve(
    State(mock): State<Arc<Mock>>,
    request: Request,
) -> Result<Response, GraphError> {
    let req = GraphRequest::decode(request).await?;
    // Elements without a version use the batch's own, else the newest.
    let version = if super::versions::Version::parse(&req.version).is_some() {
        req.version.clone()
    } else {
        super::versions::LATEST.to_string()
    };
    let (p, headers) = (req.params, req.headers);
    let batch: Vec<Value> = p
        .get("batch")
        .and_then(|b| serde_json::from_str(b).ok())
        .ok_or_else(|| {
            error(
                100,
                None,
                "Invalid parameter: batch must be a JSON array of requests",
            )
        })?;
    if batch.len() > MAX_BATCH {
        return Err(error(
            100,
            None,
            &format!("Too many requests in batch message. Maximum batch size is {MAX_BATCH}"),
        ));
    }
    let token = p.get("access_token").cloned();
    let auth = headers.get("authorization").cloned();
    let mut answers = Vec::with_capacity(batch.len());
    // "Batch requests cannot include multiple Adsets under the same Campaign" (Graph API
    // "Batch requests", Limitations): the second and later are refused [error text
    // unverified].
    let mut ad_set_campaigns = std::collections::BTreeSet::new();
    for item in batch {
        let method = item
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("GET")
            .to_ascii_uppercase();
        let Some(relative) = item.get("relative_url").and_then(Value::as_str) else {
            answers.push(json!({"code": 400, "headers": [], "body": json!({"error": {
                "message": "(#100) Missing relative_url", "type": "GraphMethodException", "code": 100}}).to_string()}));
            continue;
        };
        let relative = relative.trim_start_matches('/');
        // Without a version, the sub-request uses the default one.
        let mut path = if relative.starts_with('v') && relative.contains('.') {
            format!("/{relative}")
        } else {
            format!("/{version}/{relative}")
        };
        let mut sub_body = item
            .get("body")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if method == "POST"
            && relative
                .split('?')
                .next()
                .is_some_and(|r| r.ends_with("/adsets"))
        {
            let campaign = serde_urlencoded::from_str::<Vec<(String, String)>>(&sub_body)
                .unwrap_or_default()
                .into_iter()
                .find(|(k, _)| k == "campaign_id")
                .map(|(_, v)| v);
            if let Some(c) = campaign {
                if !ad_set_campaigns.insert(c) {
                    answers.push(json!({"code": 400, "headers": [], "body": json!({"error": {
                        "message": "(#100) Batch requests cannot include multiple ad sets under the same campaign",
                        "type": "OAuthException", "code": 100, "is_transient": false,
                        "fbtrace_id": "AdskewMockBatch"}}).to_string()}));
                    continue;
                }
            }
        }
        // The batch's token applies to every element that does not bring its own.
        if let Some(t) = &token {
            let pair = serde_urlencoded::to_string([("access_token", t)]).unwrap_or_default();
            if method == "GET" || method == "DELETE" {
                path.push(if path.contains('?') { '&' } else { '?' });
                path.push_str(&pair);
            } else if !sub_body.contains("access_token=") {
                if !sub_body.is_empty() {
                    sub_body.push('&');
                }
                sub_body.push_str(&pair);
            }
        }
        let mut request = HttpRequest::builder()
            .method(method.as_str())
            .uri(path)
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(a) = &auth {
            request = request.header("authorization", a.clone());
        }
        let Ok(request) = request.body(Body::from(sub_body)) else {
            answers.push(Value::Null);
            continue;
        };
        let response = match super::router(mock.clone()).oneshot(request).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let code = response.status().as_u16();
        let sub_headers: Vec<Value> = response
            .headers()
            .iter()
            .filter_map(|(k, v)| {
                v.to_str()
                    .ok()
                    .map(|v| json!({"name": k.as_str(), "value": v}))
            })
            .collect();
        let bytes = axum::body::to_bytes(response.into_body(), 16 << 20)
            .await
            .unwrap_or_default();
        answers.push(json!({
            "code": code,
            "headers": sub_headers,
            "body": String::from_utf8_lossy(&bytes),
        }));
    }
    // Meta traces every answer, batches included.
    Ok((
        [("x-fb-trace-id", "AdskewMockBatch")],
        Json(Value::Array(answers)),
    )
        .into_response())
}
