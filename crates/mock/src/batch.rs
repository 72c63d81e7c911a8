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
    let batch = elements(&p)?;
    let context = Context {
        version,
        token: p.get("access_token").cloned(),
        auth: headers.get("authorization").cloned(),
    };
    let mut answers = Vec::with_capacity(batch.len());
    // "Batch requests cannot include multiple Adsets under the same Campaign" (Graph API
    // "Batch requests", Limitations): the second and later are refused [error text
    // unverified].
    let mut ad_set_campaigns = std::collections::BTreeSet::new();
    for item in batch {
        let answer = match context.request(&item, &mut ad_set_campaigns) {
            Ok(request) => answer(&mock, request).await,
            Err(refused) => refused,
        };
        answers.push(answer);
    }
    // Meta traces every answer, batches included.
    Ok((
        [("x-fb-trace-id", "AdskewMockBatch")],
        Json(Value::Array(answers)),
    )
        .into_response())
}

/// The batch's elements: a JSON array of at most [`MAX_BATCH`] requests.
fn elements(p: &super::request::Params) -> Result<Vec<Value>, GraphError> {
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
    Ok(batch)
}

/// What every element of a batch takes from the batch: its version, token and
/// `Authorization` header.
struct Context {
    version: String,
    token: Option<String>,
    auth: Option<axum::http::HeaderValue>,
}

impl Context {
    /// Element `item` as a request to the mock's own routes, or the element's answer when
    /// it is refused without being sent (no `relative_url`, a second ad set of a campaign,
    /// a request that cannot be built).
    fn request(
        &self,
        item: &Value,
        ad_set_campaigns: &mut std::collections::BTreeSet<String>,
    ) -> Result<HttpRequest<Body>, Value> {
        let method = item
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("GET")
            .to_ascii_uppercase();
        let Some(relative) = item.get("relative_url").and_then(Value::as_str) else {
            return Err(json!({"code": 400, "headers": [], "body": json!({"error": {
                "message": "(#100) Missing relative_url", "type": "GraphMethodException", "code": 100}}).to_string()}));
        };
        let relative = relative.trim_start_matches('/');
        // Without a version, the sub-request uses the default one.
        let mut path = if relative.starts_with('v') && relative.contains('.') {
            format!("/{relative}")
        } else {
            format!("/{}/{relative}", self.version)
        };
        let mut sub_body = item
            .get("body")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if second_ad_set(&method, relative, &sub_body, ad_set_campaigns) {
            return Err(json!({"code": 400, "headers": [], "body": json!({"error": {
                "message": "(#100) Batch requests cannot include multiple ad sets under the same campaign",
                "type": "OAuthException", "code": 100, "is_transient": false,
                "fbtrace_id": "AdskewMockBatch"}}).to_string()}));
        }
        // The batch's token applies to every element that does not bring its own.
        if let Some(t) = &self.token {
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
        if let Some(a) = &self.auth {
            request = request.header("authorization", a.clone());
        }
        request.body(Body::from(sub_body)).map_err(|_| Value::Null)
    }
}

/// Whether the element creates an ad set of a campaign the batch already creates one in
/// (recording the campaign otherwise).
fn second_ad_set(
    method: &str,
    relative: &str,
    body: &str,
    ad_set_campaigns: &mut std::collections::BTreeSet<String>,
) -> bool {
    if method != "POST"
        || !relative
            .split('?')
            .next()
            .is_some_and(|r| r.ends_with("/adsets"))
    {
        return false;
    }
    let campaign = serde_urlencoded::from_str::<Vec<(String, String)>>(body)
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "campaign_id")
        .map(|(_, v)| v);
    campaign.is_some_and(|c| !ad_set_campaigns.insert(c))
}

/// An element served by the mock's routes, answered as `{code, headers, body}`.
async fn answer(mock: &Arc<Mock>, request: HttpRequest<Body>) -> Value {
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
    json!({
        "code": code,
        "headers": sub_headers,
        "body": String::from_utf8_lossy(&bytes),
    })
}
