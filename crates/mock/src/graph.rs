//! The Graph API router of the mock: every path outside the admin and batch routes is read
//! the way Meta reads it (a version, a node, an optional edge) and answered by the handler
//! of that node type and call, after the version, the token and Meta's spec have been
//! checked. Nothing is answered with a bare status: an unknown path, object or call gets
//! Meta's error envelope.

use std::sync::Arc;

use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde_json::json;

use super::error::GraphError;
use super::request::{query_params, GraphRequest, Params};
use super::spec::{spec, CallSpec};
use super::{
    account, audience, contract, edges, images, insights, objects, regions, versions, Mock,
};
use adskew_core::platform::Platform;

/// Every Graph path.
pub async fn serve(State(mock): State<Arc<Mock>>, request: Request) -> Response {
    let query = request.uri().query().unwrap_or("").to_string();
    match handle(&mock, request, &query).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// What a node id stands for.
struct Target {
    node_type: &'static str,
    id: String,
}

async fn handle(mock: &Mock, request: Request, query: &str) -> Result<Response, GraphError> {
    let req = GraphRequest::decode(request).await?;
    versions::check(&req.version, mock.sim.now())?;
    let node = node_of(&req)?;
    authorised(mock, &req.params, &req.headers)?;
    if let Some(r) = special_node(mock, &req, &node)? {
        return Ok(r);
    }
    let target = match resolve(mock, &node, &req.method) {
        Ok(t) => t,
        // Not an ad object: maybe a page the token can use.
        Err(e) => {
            return match (req.method == Method::GET && req.edge.is_none())
                .then(|| account::page(mock, &node, &req.params))
                .flatten()
            {
                Some(r) => Ok(r),
                None => Err(e),
            }
        }
    };
    let edge = req.edge.as_deref();
    let call = call_of(&target, req.method.as_str(), edge)?;
    let mut params = req.params.clone();
    // The Node SDK puts the node's own id in every JSON body; Meta takes it as naming the
    // node the path already names.
    if params
        .get("id")
        .is_some_and(|i| i.trim_start_matches("act_") == node.trim_start_matches("act_"))
    {
        params.remove("id");
    }
    let p = contract::check(call, &params, &req.files)?;
    if req.method == Method::GET {
        known_fields(&target, call, &p)?;
    }
    let path = format!("{}/{}/{}", req.version, node, edge.unwrap_or(""));
    let at = edges::Paging {
        headers: &req.headers,
        path: path.trim_end_matches('/'),
        query,
    };
    dispatch(mock, &req, &target, &p, &at).await
}

/// The path's node; more than one edge, or none at all, is Meta's unknown path.
fn node_of(req: &GraphRequest) -> Result<String, GraphError> {
    let Some(node) = req.node.clone() else {
        return Err(GraphError::new(
            2500,
            format!("Unknown path components: /{}", req.version),
        ));
    };
    if !req.extra.is_empty() {
        return Err(GraphError::new(
            2500,
            format!("Unknown path components: /{}", req.extra.join("/")),
        ));
    }
    Ok(node)
}

/// Nodes that are no object: the targeting search and `debug_token`.
fn special_node(
    mock: &Mock,
    req: &GraphRequest,
    node: &str,
) -> Result<Option<Response>, GraphError> {
    if req.method != Method::GET || req.edge.is_some() {
        return Ok(None);
    }
    match node {
        "search" => Ok(Some(
            Json(json!({"data": regions::search(mock, &req.params)})).into_response(),
        )),
        "debug_token" => account::debug_token(mock, &req.params).map(Some),
        _ => Ok(None),
    }
}

/// The handler of a checked call: by node type, method and edge.
async fn dispatch(
    mock: &Mock,
    req: &GraphRequest,
    target: &Target,
    p: &Params,
    at: &edges::Paging<'_>,
) -> Result<Response, GraphError> {
    let id = target.id.as_str();
    match (target.node_type, req.method.as_str(), req.edge.as_deref()) {
        ("AdAccount", "GET", None) => Ok(account::read(mock, id, p)),
        ("AdAccount", "GET", Some("dsa_recommendations")) => Ok(account::dsa_recommendations(mock)),
        ("AdReportRun", "GET", None) => insights::poll(mock, id, p),
        ("CustomAudience", "GET", None) => audience::read(mock, id, p),
        (_, "GET", None) => objects::read(mock, id, p).await,
        (_, "POST", None) => objects::update(mock, id, p).await,
        (_, "DELETE", None) => objects::delete(mock, id).await,
        ("AdAccount", "POST", Some(e @ ("campaigns" | "adsets" | "adcreatives" | "ads"))) => {
            objects::create(mock, id, e, p, &req.version).await
        }
        ("AdAccount", "POST", Some("customaudiences")) => audience::create(mock, id, p),
        ("AdAccount", "POST", Some("adimages")) => images::upload(mock, p, &req.files),
        (_, "POST", Some("insights")) => {
            insights::start_report(mock, target.node_type, id, p).await
        }
        (_, "GET", Some("insights")) => insights::read(mock, target.node_type, id, p, at).await,
        ("CustomAudience", "POST", Some("users")) => audience::add_users(mock, id, p),
        ("CustomAudience", "DELETE", Some("users")) => audience::remove_users(mock, id, p),
        ("CustomAudience", "POST", Some("usersreplace")) => audience::replace_users(mock, id, p),
        ("CustomAudience", "GET", Some("sessions")) => audience::sessions(mock, id, p, at),
        (
            "AdAccount" | "Campaign" | "AdSet",
            "GET",
            Some(e @ ("campaigns" | "adsets" | "ads" | "adcreatives" | "customaudiences")),
        ) => edges::list(mock, target.node_type, id, e, p, at).await,
        ("AdAccount", "GET", Some("adimages")) => Ok(images::list(mock, p, at)),
        (node_type, method, edge) => Err(GraphError::invalid(format!(
            "{method} {} on {node_type} is part of Meta's API but not served by the adskew mock",
            edge.unwrap_or("(the node)")
        ))),
    }
}

/// The node type of an id: an ad account (`act_…`), an object the mock created, or a report
/// run.
fn resolve(mock: &Mock, node: &str, method: &Method) -> Result<Target, GraphError> {
    let node_type = if node
        .strip_prefix("act_")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    {
        "AdAccount"
    } else if let Some(o) = mock.object(node) {
        // A deleted object can still be read by its id ("Storing and retrieving ad
        // objects"), but no longer changed.
        if o.field_str("status") == Some("DELETED") && *method == Method::POST {
            return Err(GraphError::no_object(method.as_str(), node));
        }
        o.kind.node_type()
    } else if mock
        .report_runs
        .lock()
        .expect("report runs lock")
        .contains_key(node)
    {
        "AdReportRun"
    } else {
        return Err(GraphError::no_object(method.as_str(), node));
    };
    Ok(Target {
        node_type,
        id: node.to_string(),
    })
}

/// The spec of the call, or Meta's answer for a call the node type does not have.
fn call_of(
    target: &Target,
    method: &str,
    edge: Option<&str>,
) -> Result<&'static CallSpec, GraphError> {
    let node = spec()
        .node(target.node_type)
        .expect("every node type the mock resolves is in the spec table");
    if let Some(call) = node.call(method, edge) {
        return Ok(call);
    }
    match edge {
        Some(e) if method == "GET" && !node.has_edge(e) => Err(GraphError::invalid(format!(
            "Tried accessing nonexisting field ({e}) on node type ({})",
            target.node_type
        ))),
        _ => Err(GraphError::no_object(method, &target.id)),
    }
}

/// `fields` may name only fields of what the call returns.
fn known_fields(target: &Target, call: &CallSpec, p: &Params) -> Result<(), GraphError> {
    let returns = match call.edge {
        None => target.node_type,
        Some(_) => call.returns.as_deref().unwrap_or(target.node_type),
    };
    let Some(node) = spec().node(returns) else {
        return Ok(());
    };
    for f in objects::field_list(p) {
        if !node.fields.contains_key(&f) {
            return Err(if returns == "AdsInsights" {
                GraphError::invalid(format!("{f} is not valid for fields param. please check https://developers.facebook.com/docs/marketing-api/reference/ads-insights/ for all valid values"))
            } else {
                GraphError::invalid(format!(
                    "Tried accessing nonexisting field ({f}) on node type ({returns})"
                ))
            });
        }
    }
    Ok(())
}

/// A token is required, as a parameter or an `Authorization: Bearer|OAuth` header, and the
/// app secret proof when the mock was told to require one.
pub(super) fn authorised(mock: &Mock, p: &Params, headers: &HeaderMap) -> Result<(), GraphError> {
    let token = token(p, headers)?;
    if let Some(secret) = mock.app_secret.lock().expect("secret lock").as_deref() {
        let expected = adskew_meta::adapter::appsecret_proof(secret, &token);
        if p.get("appsecret_proof") != Some(&expected) {
            return Err(GraphError::new(
                100,
                "Invalid appsecret_proof provided in the API argument",
            ));
        }
    }
    Ok(())
}

fn token(p: &Params, headers: &HeaderMap) -> Result<String, GraphError> {
    let header = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("OAuth "))
        })
        .filter(|t| !t.is_empty());
    if let Some(t) = p.get("access_token").filter(|t| !t.is_empty()) {
        Ok(t.clone())
    } else if let Some(t) = header {
        Ok(t.to_string())
    } else {
        // Code 104, without the `(#104)` prefix (research notes, addendum).
        Err(GraphError::unprefixed(
            104,
            "An access token is required to request this resource.",
        ))
    }
}

pub async fn get_clock(State(mock): State<Arc<Mock>>) -> Response {
    Json(json!({"now": mock.sim.now().to_rfc3339()})).into_response()
}

/// `GET /__admin/stats`: what the server has seen, for tests and demos.
pub async fn get_stats(State(mock): State<Arc<Mock>>) -> Response {
    Json(json!({
        "requests": mock.request_count(),
        "faults": mock.fault_count(),
        "throttled": mock.throttled_count(),
        "objects": mock.object_count(),
    }))
    .into_response()
}

pub async fn set_clock(
    State(mock): State<Arc<Mock>>,
    RawQuery(q): RawQuery,
    body: String,
) -> Result<Response, GraphError> {
    let mut p = query_params(q.as_deref())?;
    p.extend(query_params(Some(&body))?);
    let to = p
        .get("to")
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .ok_or_else(|| GraphError::invalid("to must be an RFC 3339 time"))?;
    mock.clock.advance_to(to.with_timezone(&Utc));
    Ok(Json(json!({"now": mock.sim.now().to_rfc3339()})).into_response())
}
