//! The Graph API handlers of the mock server.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};

use super::{Kind, Mock};
use crate::experiment::Audience;
use crate::money::Money;
use crate::platform::{
    AdSetSpec, AdSpec, BudgetSpec, CampaignSpec, CreativeSpec, Granularity, ObjectId, Platform,
    Status,
};
use crate::vocab::{AdCategory, Breakdown, Objective};

pub(super) type Params = BTreeMap<String, String>;

/// A Graph API error, answered with Meta's envelope and HTTP 400 (as Meta does for most).
pub struct Fail {
    code: i64,
    subcode: Option<i64>,
    message: String,
    /// `error_user_msg`: the explanation Meta shows a person.
    pub(super) user_msg: Option<String>,
    /// `error_data.blame_field_specs`: the field Meta blames, as a path.
    pub(super) blame: Option<Vec<String>>,
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        let mut body = json!({"error": {
            "message": format!("(#{}) {}", self.code, self.message),
            "type": if self.code == 190 { "OAuthException" } else { "GraphMethodException" },
            "code": self.code,
            "fbtrace_id": "AdskewMock",
        }});
        if let Some(s) = self.subcode {
            body["error"]["error_subcode"] = json!(s);
        }
        if let Some(m) = self.user_msg {
            body["error"]["error_user_msg"] = json!(m);
        }
        if let Some(path) = self.blame {
            // Meta sends error_data as a JSON string.
            body["error"]["error_data"] = json!(json!({"blame_field_specs": [path]}).to_string());
        }
        (StatusCode::BAD_REQUEST, Json(body)).into_response()
    }
}

pub(super) fn error(code: i64, subcode: Option<i64>, message: &str) -> Fail {
    Fail {
        code,
        subcode,
        message: message.to_string(),
        user_msg: None,
        blame: None,
    }
}

pub(super) fn invalid(message: &str) -> Fail {
    error(100, None, &format!("Invalid parameter: {message}"))
}

/// Query-string and form-body parameters, merged (clients send either).
pub(super) fn params(query: Option<String>, body: &str) -> Params {
    let mut out: Params =
        serde_urlencoded::from_str::<Vec<(String, String)>>(query.as_deref().unwrap_or(""))
            .unwrap_or_default()
            .into_iter()
            .collect();
    out.extend(serde_urlencoded::from_str::<Vec<(String, String)>>(body).unwrap_or_default());
    out
}

/// A token is required, as a parameter or an `Authorization: Bearer|OAuth` header, and the
/// app secret proof when the mock was told to require one.
pub(super) fn authorised(mock: &Mock, p: &Params, headers: &HeaderMap) -> Result<(), Fail> {
    let token = token(p, headers)?;
    if let Some(secret) = mock.app_secret.lock().expect("secret lock").as_deref() {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(token.as_bytes());
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if p.get("appsecret_proof") != Some(&expected) {
            return Err(error(
                100,
                None,
                "Invalid appsecret_proof provided in the API argument",
            ));
        }
    }
    Ok(())
}

fn token(p: &Params, headers: &HeaderMap) -> Result<String, Fail> {
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
        Err(error(
            190,
            None,
            "An access token is required to request this resource.",
        ))
    }
}

pub(super) fn json_param(p: &Params, key: &str) -> Result<Option<Value>, Fail> {
    match p.get(key) {
        None => Ok(None),
        Some(text) => serde_json::from_str(text)
            .map(Some)
            .map_err(|_| invalid(&format!("{key} must be JSON"))),
    }
}

pub(super) fn required<'a>(p: &'a Params, key: &str) -> Result<&'a str, Fail> {
    p.get(key)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| invalid(&format!("The parameter {key} is required")))
}

fn status_of(p: &Params) -> Result<Option<Status>, Fail> {
    match p.get("status").map(String::as_str) {
        None => Ok(None),
        Some("PAUSED") => Ok(Some(Status::Paused)),
        Some("ACTIVE") => Ok(Some(Status::Active)),
        Some(other) => Err(invalid(&format!(
            "status must be one of ACTIVE, PAUSED (got {other})"
        ))),
    }
}

fn time_param(p: &Params, key: &str) -> Result<DateTime<Utc>, Fail> {
    let text = required(p, key)?;
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z"))
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| invalid(&format!("{key} must be an ISO-8601 time")))
}

fn platform_error(e: crate::platform::PlatformError) -> Fail {
    error(100, Some(33), &e.to_string())
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
) -> Result<Response, Fail> {
    let p = params(q, &body);
    let to = p
        .get("to")
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .ok_or_else(|| invalid("to must be an RFC 3339 time"))?;
    mock.clock.advance_to(to.with_timezone(&Utc));
    Ok(Json(json!({"now": mock.sim.now().to_rfc3339()})).into_response())
}

/// `POST /{v}/{id}`: status updates.
pub async fn update_node(
    State(mock): State<Arc<Mock>>,
    Path((_version, node)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: String,
) -> Result<Response, Fail> {
    let p = params(q, &body);
    authorised(&mock, &p, &headers)?;
    let (_, sim_id) = mock.lookup(&node).ok_or_else(|| {
        error(
            100,
            Some(33),
            &format!("Unsupported post request. Object with ID '{node}' does not exist"),
        )
    })?;
    let status = status_of(&p)?.ok_or_else(|| invalid("nothing to update"))?;
    mock.sim
        .set_status(&sim_id, status)
        .await
        .map_err(platform_error)?;
    Ok(Json(json!({"success": true})).into_response())
}

/// `POST /{v}/{id}/insights` starts an async report run; `POST /{v}/act_{id}/{edge}` creates
/// an object.
pub async fn create_on_edge_or_start_report(
    State(mock): State<Arc<Mock>>,
    Path((_version, node, edge)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: String,
) -> Result<Response, Fail> {
    let p = params(q, &body);
    authorised(&mock, &p, &headers)?;
    if edge == "insights" {
        return start_report(&mock, &node, &p).await;
    }
    if edge == "users" {
        return super::audience::add_users(&mock, &node, &p);
    }
    if !node.starts_with("act_") {
        return Err(error(
            100,
            Some(33),
            &format!("Unsupported post request to {node}/{edge}"),
        ));
    }
    // `execution_options=["validate_only"]`: check everything, create nothing.
    let dry = json_param(&p, "execution_options")?.is_some_and(|o| {
        o.as_array()
            .is_some_and(|a| a.iter().any(|x| x == "validate_only"))
    });
    super::validation::known_params(&edge, &p)?;
    let id = match edge.as_str() {
        "campaigns" => create_campaign(&mock, &p, dry).await?,
        "adsets" => create_ad_set(&mock, &p, dry).await?,
        "adcreatives" => create_creative(&mock, &p, dry).await?,
        "ads" => create_ad(&mock, &p, dry).await?,
        "customaudiences" => super::audience::create(&mock, &p, dry)?,
        "adimages" => return super::images::upload(&mock, &p),
        other => {
            return Err(error(
                100,
                Some(33),
                &format!("Unsupported post request to edge {other}"),
            ))
        }
    };
    Ok(match id {
        Some(id) => Json(json!({"id": id})).into_response(),
        None => Json(json!({"success": true})).into_response(),
    })
}

/// Objects may be created ACTIVE; adskew always creates them PAUSED, SDK users may not.
async fn activate_if(mock: &Mock, sim_id: &ObjectId, status: Option<Status>) -> Result<(), Fail> {
    if status == Some(Status::Active) {
        mock.sim
            .set_status(sim_id, Status::Active)
            .await
            .map_err(platform_error)?;
    }
    Ok(())
}

async fn create_campaign(mock: &Mock, p: &Params, dry: bool) -> Result<Option<String>, Fail> {
    let name = required(p, "name")?;
    let objective = match required(p, "objective")? {
        "OUTCOME_TRAFFIC" | "LINK_CLICKS" => Objective::Traffic,
        "OUTCOME_AWARENESS" | "REACH" => Objective::Reach,
        other => {
            return Err(invalid(&format!(
                "objective {other} is not supported by the mock"
            )))
        }
    };
    let categories = json_param(p, "special_ad_categories")?
        .ok_or_else(|| invalid("The parameter special_ad_categories is required"))?;
    let category = match categories
        .as_array()
        .and_then(|a| a.first())
        .and_then(Value::as_str)
    {
        None | Some("NONE") => AdCategory::None,
        Some("EMPLOYMENT") => AdCategory::Employment,
        Some("HOUSING") => AdCategory::Housing,
        Some("CREDIT") | Some("FINANCIAL_PRODUCTS_SERVICES") => AdCategory::Credit,
        Some(other) => {
            return Err(invalid(&format!(
                "special_ad_categories: unknown value {other}"
            )))
        }
    };
    super::validation::special_category_campaign(category, p)?;
    let countries: Vec<String> = json_param(p, "special_ad_category_country")?
        .and_then(|c| serde_json::from_value(c).ok())
        .unwrap_or_default();
    let status = status_of(p)?;
    let spec = CampaignSpec {
        countries,
        name: name.to_string(),
        objective,
        category,
    };
    if dry {
        return Ok(None);
    }
    let sim_id = mock
        .sim
        .create_campaign(&spec)
        .await
        .map_err(platform_error)?;
    activate_if(mock, &sim_id, status).await?;
    let id = mock.register(Kind::Campaign, sim_id, name);
    mock.categories
        .lock()
        .expect("categories lock")
        .insert(id.clone(), category);
    Ok(Some(id))
}

async fn create_ad_set(mock: &Mock, p: &Params, dry: bool) -> Result<Option<String>, Fail> {
    let name = required(p, "name")?;
    let campaign = required(p, "campaign_id")?;
    let Some((Kind::Campaign, campaign_sim)) = mock.lookup(campaign) else {
        return Err(invalid(&format!("campaign_id {campaign} does not exist")));
    };
    let minor = |key: &str| -> Result<Option<Money>, Fail> {
        p.get(key)
            .map(|v| {
                v.parse::<i64>()
                    .map(Money)
                    .map_err(|_| invalid(&format!("{key} must be an integer in minor units")))
            })
            .transpose()
    };
    let budget = match (minor("daily_budget")?, minor("lifetime_budget")?) {
        (Some(d), None) => BudgetSpec::Daily(d),
        (None, Some(l)) => BudgetSpec::Lifetime(l),
        _ => {
            return Err(invalid(
                "give exactly one of daily_budget and lifetime_budget",
            ))
        }
    };
    let targeting = json_param(p, "targeting")?
        .ok_or_else(|| invalid("The parameter targeting is required"))?;
    use super::validation::{one_of, BID_STRATEGIES, BILLING_EVENTS, OPTIMIZATION_GOALS};
    one_of(p, "billing_event", BILLING_EVENTS)?;
    one_of(p, "optimization_goal", OPTIMIZATION_GOALS)?;
    one_of(p, "bid_strategy", BID_STRATEGIES)?;
    let category = mock
        .categories
        .lock()
        .expect("categories lock")
        .get(campaign)
        .copied()
        .unwrap_or(AdCategory::None);
    super::validation::special_category_targeting(category, &targeting)?;
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| {
                        x.as_str()
                            .or_else(|| x.get("name").and_then(Value::as_str))
                            .map(str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let custom_audiences = mock.targeted_audiences(&targeting)?;
    let regions = targeting
        .pointer("/geo_locations/regions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(bad) = regions
        .iter()
        .find(|r| region_name(mock, r).is_none() || r.get("key").is_none())
    {
        return Err(invalid(&format!(
            "geo_locations.regions: {bad} is not a known region key (Meta targets regions by key; look them up with /search?type=adgeolocation)"
        )));
    }
    let geo = targeting.get("geo_locations");
    let audience = Audience {
        countries: strings(geo.and_then(|g| g.get("countries"))),
        regions: geo
            .and_then(|g| g.get("regions"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|r| region_name(mock, r)).collect())
            .unwrap_or_default(),
        age_min: targeting
            .get("age_min")
            .and_then(Value::as_u64)
            .unwrap_or(18) as u8,
        age_max: targeting
            .get("age_max")
            .and_then(Value::as_u64)
            .unwrap_or(65) as u8,
        custom_audience: custom_audiences.first().cloned(),
    };
    let spec = AdSetSpec {
        campaign: campaign_sim,
        name: name.to_string(),
        budget,
        audience,
        start: time_param(p, "start_time")?,
        end: time_param(p, "end_time")?,
    };
    let status = status_of(p)?;
    if dry {
        return Ok(None);
    }
    let sim_id = mock
        .sim
        .create_ad_set(&spec)
        .await
        .map_err(platform_error)?;
    activate_if(mock, &sim_id, status).await?;
    let id = mock.register(
        Kind::AdSet {
            campaign: campaign.to_string(),
        },
        sim_id,
        name,
    );
    mock.record_targeting(&id, custom_audiences);
    Ok(Some(id))
}

async fn create_creative(mock: &Mock, p: &Params, dry: bool) -> Result<Option<String>, Fail> {
    let name = required(p, "name")?;
    let story = json_param(p, "object_story_spec")?
        .ok_or_else(|| invalid("The parameter object_story_spec is required"))?;
    let link_data = story
        .get("link_data")
        .ok_or_else(|| invalid("object_story_spec needs link_data"))?;
    let text = |k: &str| {
        link_data
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    // An uploaded image by its hash (unknown hashes are refused), or a URL to fetch.
    let image_hash = link_data.get("image_hash").and_then(Value::as_str);
    let image = match image_hash {
        Some(hash) => Some(mock.image_url(hash)?),
        None => link_data
            .get("picture")
            .and_then(Value::as_str)
            .map(str::to_string),
    };
    let spec = CreativeSpec {
        // adskew names creatives ".../<ad key>"; the simulator looks the creative's ground
        // truth up by that key, standing in for what Meta infers from the image and text.
        key: name.rsplit('/').next().unwrap_or(name).to_string(),
        name: name.to_string(),
        headline: text("name"),
        body: text("message"),
        image,
        link: text("link"),
    };
    if dry {
        return Ok(None);
    }
    let sim_id = mock
        .sim
        .create_creative(&spec)
        .await
        .map_err(platform_error)?;
    let id = mock.register(Kind::Creative, sim_id, name);
    if let Some(hash) = image_hash {
        mock.record_image_use(&id, hash);
    }
    Ok(Some(id))
}

async fn create_ad(mock: &Mock, p: &Params, dry: bool) -> Result<Option<String>, Fail> {
    let name = required(p, "name")?;
    let ad_set = required(p, "adset_id")?;
    let Some((Kind::AdSet { campaign }, ad_set_sim)) = mock.lookup(ad_set) else {
        return Err(invalid(&format!("adset_id {ad_set} does not exist")));
    };
    let creative = json_param(p, "creative")?
        .and_then(|c| {
            c.get("creative_id")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .ok_or_else(|| invalid("creative must be {\"creative_id\": ...}"))?;
    let Some((Kind::Creative, creative_sim)) = mock.lookup(&creative) else {
        return Err(invalid(&format!("creative {creative} does not exist")));
    };
    let status = status_of(p)?;
    if dry {
        return Ok(None);
    }
    let sim_id = mock
        .sim
        .create_ad(&AdSpec {
            ad_set: ad_set_sim,
            creative: creative_sim,
            name: name.to_string(),
        })
        .await
        .map_err(platform_error)?;
    activate_if(mock, &sim_id, status).await?;
    let id = mock.register(Kind::Ad { campaign }, sim_id, name);
    Ok(Some(id))
}

/// `GET /{v}/{campaign id}/insights`.
pub async fn read_edge(
    State(mock): State<Arc<Mock>>,
    Path((version, node, edge)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Fail> {
    let p = params(q.clone(), "");
    authorised(&mock, &p, &headers)?;
    let rows = match edge.as_str() {
        "insights" => match report_rows(&mock, &node)? {
            Some(rows) => rows,
            None => cached_insights(&mock, &node, &p).await?,
        },
        "campaigns" | "adsets" | "adcreatives" | "ads" if node.starts_with("act_") => {
            list_objects(&mock, &edge, &p)?
        }
        "ads" => ads_of_campaign(&mock, &node).await?,
        _ => {
            return Err(error(
                100,
                Some(33),
                &format!("Unsupported get request to edge {edge}"),
            ))
        }
    };
    Ok(page(
        rows,
        &p,
        &headers,
        &format!("{version}/{node}/{edge}"),
        q.as_deref().unwrap_or(""),
    ))
}

/// Starts an async insights job. Its rows are the ones a synchronous read would give now;
/// whether it completes, and after how many polls, is set by the fault configuration.
async fn start_report(mock: &Mock, node: &str, p: &Params) -> Result<Response, Fail> {
    let rows = insights(mock, node, p).await?;
    let id = mock.new_id();
    let n: u64 = id.parse().unwrap_or(0);
    let faults = mock.faults.read().expect("faults lock").clone();
    let run = super::ReportRun {
        rows,
        polls_left: faults.async_polls,
        fails: super::faults::draw(faults.seed ^ 0xA5A5_A5A5, n) < faults.async_fail,
    };
    mock.report_runs
        .lock()
        .expect("report runs lock")
        .insert(id.clone(), run);
    Ok(Json(json!({"report_run_id": id})).into_response())
}

/// `GET /{v}/{id}`: an async report run's progress (each poll moves it on), or an object's
/// id and status.
pub async fn read_node(
    State(mock): State<Arc<Mock>>,
    Path((_version, node)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Fail> {
    let p = params(q, "");
    authorised(&mock, &p, &headers)?;
    if let Some(run) = mock
        .report_runs
        .lock()
        .expect("report runs lock")
        .get_mut(&node)
    {
        let (status, percent) = if run.polls_left > 0 {
            run.polls_left -= 1;
            ("Job Running", 50)
        } else if run.fails {
            ("Job Failed", 0)
        } else {
            ("Job Completed", 100)
        };
        let mut body = json!({"id": node, "async_status": status,
            "async_percent_completion": percent, "is_running": status == "Job Running"});
        if run.fails && run.polls_left == 0 {
            body["error_code"] = json!(-2);
            body["error_subcode"] = json!(2490547);
            body["error_message"] = json!("Report Failed");
        }
        return Ok(Json(body).into_response());
    }
    if node == "search" {
        return Ok(Json(json!({"data": search_regions(&mock, &p)})).into_response());
    }
    if let Some(account) = node.strip_prefix("act_") {
        // Any account exists; its time zone is the simulated account's.
        let mut body = json!({
            "id": node,
            "account_id": account,
            "timezone_name": mock.sim.truth().timezone.name(),
        });
        if let Some(c) = mock.currency.lock().expect("currency lock").clone() {
            body["currency"] = json!(c);
        }
        return Ok(Json(body).into_response());
    }
    match mock.lookup(&node) {
        Some((Kind::Audience, _)) => super::audience::read(&mock, &node, &p),
        Some(_) => Ok(Json(json!({"id": node})).into_response()),
        None => Err(error(
            100,
            Some(33),
            &format!("Object with ID '{node}' does not exist"),
        )),
    }
}

/// `DELETE /{v}/{id}`: the object stops delivering for good (the simulator pauses it).
pub async fn delete_node(
    State(mock): State<Arc<Mock>>,
    Path((_version, node)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Fail> {
    let p = params(q, "");
    authorised(&mock, &p, &headers)?;
    let (kind, sim_id) = mock.lookup(&node).ok_or_else(|| {
        error(
            100,
            Some(33),
            &format!("Unsupported delete request. Object with ID '{node}' does not exist"),
        )
    })?;
    if !matches!(kind, Kind::Creative) {
        mock.sim
            .set_status(&sim_id, Status::Paused)
            .await
            .map_err(platform_error)?;
    }
    Ok(Json(json!({"success": true})).into_response())
}

/// The mock's region keys: 3000 + the region's position in the simulated audience.
const REGION_KEY_BASE: usize = 3000;

/// `GET /{v}/search?type=adgeolocation&q=...`: the simulated audience's regions whose name
/// contains `q`, with their keys.
fn search_regions(mock: &Mock, p: &Params) -> Vec<Value> {
    let q = p.get("q").map(|q| q.to_lowercase()).unwrap_or_default();
    mock.sim
        .truth()
        .regions
        .iter()
        .enumerate()
        .filter(|(_, (name, _))| name.to_lowercase().contains(&q))
        .map(|(i, (name, _))| {
            json!({"key": (REGION_KEY_BASE + i).to_string(), "name": name, "type": "region"})
        })
        .collect()
}

/// A region given by key (as Meta requires) or by name, as the simulator's region name.
fn region_name(mock: &Mock, entry: &Value) -> Option<String> {
    if let Some(key) = entry.get("key") {
        let key: usize = match key {
            Value::String(s) => s.parse().ok()?,
            other => other.as_u64()? as usize,
        };
        return mock
            .sim
            .truth()
            .regions
            .get(key.checked_sub(REGION_KEY_BASE)?)
            .map(|(name, _)| name.clone());
    }
    None
}

/// The rows of a finished report run; Meta answers an unfinished one with an error.
fn report_rows(mock: &Mock, node: &str) -> Result<Option<Vec<Value>>, Fail> {
    let runs = mock.report_runs.lock().expect("report runs lock");
    let Some(run) = runs.get(node) else {
        return Ok(None);
    };
    if run.polls_left > 0 || run.fails {
        return Err(invalid(&format!(
            "report run {node} has not completed; poll it until async_status is Job Completed"
        )));
    }
    Ok(Some(run.rows.clone()))
}

/// `GET /{v}/act_{id}/{campaigns|adsets|adcreatives|ads}`: the account's objects of a kind,
/// with `id` and `name`, optionally filtered as Meta filters
/// (`filtering=[{"field":"name","operator":"EQUAL","value":...}]`).
fn list_objects(mock: &Mock, edge: &str, p: &Params) -> Result<Vec<Value>, Fail> {
    let filters: Vec<Value> = json_param(p, "filtering")?
        .map(|f| {
            f.as_array()
                .cloned()
                .ok_or_else(|| invalid("filtering must be a JSON array"))
        })
        .transpose()?
        .unwrap_or_default();
    let mut wanted = None;
    for f in &filters {
        match (
            f.get("field").and_then(Value::as_str),
            f.get("operator").and_then(Value::as_str),
            f.get("value").and_then(Value::as_str),
        ) {
            (Some("name"), Some("EQUAL"), Some(v)) => wanted = Some(v.to_string()),
            _ => return Err(invalid("the mock filters by name with operator EQUAL only")),
        }
    }
    let names = mock.names.lock().expect("names lock").clone();
    let objects = mock.objects.lock().expect("objects lock").clone();
    Ok(objects
        .iter()
        .filter(|(_, (kind, _))| {
            matches!(
                (edge, kind),
                ("campaigns", Kind::Campaign)
                    | ("adsets", Kind::AdSet { .. })
                    | ("adcreatives", Kind::Creative)
                    | ("ads", Kind::Ad { .. })
            )
        })
        .filter_map(|(id, _)| {
            let name = names.get(id)?;
            wanted
                .as_ref()
                .is_none_or(|w| w == name)
                .then(|| json!({"id": id, "name": name}))
        })
        .collect())
}

/// `GET /{v}/{campaign id}/ads`: each ad's effective status and review feedback.
async fn ads_of_campaign(mock: &Mock, node: &str) -> Result<Vec<Value>, Fail> {
    let Some((Kind::Campaign, _)) = mock.lookup(node) else {
        return Err(error(
            100,
            Some(33),
            &format!("Object with ID '{node}' does not exist"),
        ));
    };
    let ads = mock.ads_of(node);
    let sim_ids: Vec<ObjectId> = ads.iter().map(|(_, s)| s.clone()).collect();
    let reviews = mock
        .sim
        .ad_reviews(&sim_ids)
        .await
        .map_err(platform_error)?;
    Ok(ads
        .iter()
        .zip(reviews)
        .map(|((graph_id, _), review)| {
            let mut ad = json!({"id": graph_id, "effective_status": review.effective_status});
            if let Some(reason) = review.problem {
                ad["ad_review_feedback"] = json!({"global": {"Advertising Standards": reason}});
            }
            ad
        })
        .collect())
}

/// [`insights`], remembering the last query's rows: the pages of one query (which differ
/// only in `after` and credentials) are served from the same rows, as Meta's cursors are.
async fn cached_insights(mock: &Mock, node: &str, p: &Params) -> Result<Vec<Value>, Fail> {
    let key_params: Vec<_> = p
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "after" | "access_token" | "appsecret_proof"))
        .collect();
    let key = format!(
        "{node} {} {} {key_params:?}",
        mock.sim.now().to_rfc3339(),
        mock.object_count()
    );
    if let Some((cached, rows)) = mock.last_insights.lock().expect("cache lock").as_ref() {
        if *cached == key {
            return Ok(rows.clone());
        }
    }
    let rows = insights(mock, node, p).await?;
    *mock.last_insights.lock().expect("cache lock") = Some((key, rows.clone()));
    Ok(rows)
}

async fn insights(mock: &Mock, node: &str, p: &Params) -> Result<Vec<Value>, Fail> {
    super::validation::known_params("insights", p)?;
    super::validation::insights_fields(p)?;
    if p.get("level").map(String::as_str) != Some("ad") {
        return Err(invalid("the mock serves level=ad"));
    }
    let breakdowns: Vec<String> = match p.get("breakdowns") {
        None => Vec::new(),
        Some(b) => serde_json::from_str::<Vec<String>>(b).unwrap_or_else(|_| {
            b.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        }),
    };
    super::validation::breakdown_set(&breakdowns)?;
    // A campaign's ads, or (account-level insights) every ad.
    let ads = if node.starts_with("act_") {
        mock.all_ads()
    } else {
        let Some((Kind::Campaign, _)) = mock.lookup(node) else {
            return Err(error(
                100,
                Some(33),
                &format!("Object with ID '{node}' does not exist"),
            ));
        };
        mock.ads_of(node)
    };
    // No breakdown: one row per ad, summed over genders (which partition the audience).
    let split = !breakdowns.is_empty();
    let dims: Vec<Breakdown> = if split {
        breakdowns
            .iter()
            .map(|b| {
                Breakdown::parse(b).ok_or_else(|| {
                    invalid(&format!("breakdowns: {b} is not supported by the mock"))
                })
            })
            .collect::<Result<_, _>>()?
    } else {
        vec![Breakdown::Gender]
    };
    // Without a time_range Meta reports the last 30 days (date_preset last_30d).
    let today = mock.sim.now().date_naive();
    let range = json_param(p, "time_range")?.unwrap_or_else(|| {
        json!({"since": (today - chrono::Days::new(30)).to_string(), "until": today.to_string()})
    });
    let date = |k: &str| -> Result<NaiveDate, Fail> {
        range
            .get(k)
            .and_then(Value::as_str)
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| invalid(&format!("time_range.{k} must be YYYY-MM-DD")))
    };
    super::validation::retention(date("since")?, mock.sim.now().date_naive())?;
    let granularity = match p.get("time_increment").map(String::as_str) {
        Some("1") => Granularity::Daily,
        Some("all_days") | None => Granularity::Total,
        Some(other) => {
            return Err(invalid(&format!(
                "time_increment {other} is not supported by the mock"
            )))
        }
    };
    let sim_ads: Vec<ObjectId> = ads.iter().map(|(_, sim)| sim.clone()).collect();
    let mut rows = mock
        .sim
        .delivery_cross(&sim_ads, &dims, date("since")?, date("until")?, granularity)
        .map_err(platform_error)?;
    if !split {
        let mut merged: Vec<crate::platform::sim::CrossRow> = Vec::new();
        for r in rows {
            match merged.iter_mut().find(|m| {
                m.ad == r.ad && m.date_start == r.date_start && m.date_stop == r.date_stop
            }) {
                Some(m) => {
                    m.reach += r.reach;
                    m.impressions += r.impressions;
                    m.clicks += r.clicks;
                    m.spend += r.spend;
                }
                None => merged.push(r),
            }
        }
        rows = merged;
    }
    let graph_id = |sim: &ObjectId| {
        ads.iter()
            .find(|(_, s)| s == sim)
            .map(|(g, _)| g.clone())
            .unwrap_or_default()
    };
    let mut out: Vec<(String, String, Vec<String>, Value)> = rows
        .iter()
        .map(|r| {
            let mut row = json!({
                "ad_id": graph_id(&r.ad),
                "date_start": r.date_start.to_string(),
                "date_stop": r.date_stop.to_string(),
                // Meta sends metrics as strings.
                "reach": r.reach.to_string(),
                "impressions": r.impressions.to_string(),
                "clicks": r.clicks.to_string(),
                "spend": r.spend.to_string(),
            });
            // Breakdown values are extra top-level keys on each row.
            if split {
                for (d, v) in dims.iter().zip(&r.values) {
                    row[d.as_str()] = json!(v);
                }
            }
            (
                graph_id(&r.ad),
                r.date_start.to_string(),
                r.values.clone(),
                row,
            )
        })
        .collect();
    out.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
    Ok(out.into_iter().map(|(_, _, _, row)| row).collect())
}

/// Cursor paging: `limit` rows per page, `after` an opaque cursor, `paging.next` while more.
fn page(rows: Vec<Value>, p: &Params, headers: &HeaderMap, path: &str, query: &str) -> Response {
    let limit: usize = p
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(25);
    let offset: usize = p.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let end = (offset + limit).min(rows.len());
    let data: Vec<Value> = rows
        .get(offset..end)
        .map(<[Value]>::to_vec)
        .unwrap_or_default();
    let mut body = json!({"data": data, "paging": {"cursors": {"before": offset.to_string(), "after": end.to_string()}}});
    if end < rows.len() {
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
    Json(body).into_response()
}
