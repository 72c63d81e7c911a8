//! The ad objects: created on the account's edges, read with `fields`, updated, archived and
//! deleted, each answered as Meta answers (Campaign, AdSet, AdCreative and Ad references).
//!
//! An object keeps the fields it was created or updated with, under Meta's names and in the
//! JSON shapes Meta reads them back in (budgets as numeric strings in the currency's offset
//! unit, times with a `+0000` offset); `status` is the configured status and
//! `effective_status` is derived at read time from the object, its parents and the
//! simulator's ad review (`CAMPAIGN_PAUSED`, `ADSET_PAUSED`, ...).

use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::error::{invalid, GraphError};
use super::request::{json_param, required, Params};
use super::spec::spec;
use super::{rules, Kind, Mock, Object};
use adskew_core::experiment::Audience;
use adskew_core::platform::{
    AdSetSpec, AdSpec, CampaignSpec, CreativeSpec, ObjectId, Platform, Status,
};
use adskew_core::vocab::{AdCategory, Objective};

/// Meta's configured statuses (`status` on every ad object).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Configured {
    Active,
    Paused,
    Archived,
    Deleted,
}

impl Configured {
    pub fn parse(s: &str) -> Option<Configured> {
        Some(match s {
            "ACTIVE" => Configured::Active,
            "PAUSED" => Configured::Paused,
            "ARCHIVED" => Configured::Archived,
            "DELETED" => Configured::Deleted,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Configured::Active => "ACTIVE",
            Configured::Paused => "PAUSED",
            Configured::Archived => "ARCHIVED",
            Configured::Deleted => "DELETED",
        }
    }

    /// What the simulator delivers under: only active objects deliver.
    fn sim(self) -> Status {
        match self {
            Configured::Active => Status::Active,
            _ => Status::Paused,
        }
    }
}

fn configured(o: &Object) -> Configured {
    o.field_str("status")
        .and_then(Configured::parse)
        .unwrap_or(Configured::Active)
}

/// Meta's time format in answers (`2026-12-01T09:00:00+0000`).
pub(crate) fn graph_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%z").to_string()
}

fn parse_time(canonical: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(canonical)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Whether `execution_options` asks only to validate.
fn validate_only(p: &Params) -> Result<bool, GraphError> {
    Ok(json_param(p, "execution_options")?
        .and_then(|o| o.as_array().cloned())
        .is_some_and(|a| a.iter().any(|x| x == "validate_only")))
}

/// The fields a create or update sets: every canonical param that is a field of the node
/// type, in the field's JSON shape.
fn fields_from(node_type: &str, p: &Params) -> Map<String, Value> {
    let Some(node) = spec().node(node_type) else {
        return Map::new();
    };
    p.iter()
        .filter_map(|(k, v)| {
            let ty = node.fields.get(k)?;
            let value = if ty == "datetime" {
                match parse_time(v) {
                    Some(t) => json!(graph_time(t)),
                    None => json!(v),
                }
            } else if ty == "string"
                || node
                    .fields
                    .get(k)
                    .is_some_and(|t| spec().enums.contains_key(t))
            {
                json!(v)
            } else {
                serde_json::from_str(v).unwrap_or_else(|_| json!(v))
            };
            Some((k.clone(), value))
        })
        .collect()
}

/// The fields every new object has.
fn born(mock: &Mock, account: &str, node_type: &str, p: &Params) -> Map<String, Value> {
    let mut f = fields_from(node_type, p);
    let now = json!(graph_time(mock.sim.now()));
    f.insert(
        "account_id".into(),
        json!(account.trim_start_matches("act_")),
    );
    f.insert("created_time".into(), now.clone());
    f.insert("updated_time".into(), now);
    if node_type != "AdCreative" {
        let status = p.get("status").map(String::as_str).unwrap_or("ACTIVE");
        f.insert("status".into(), json!(status));
    }
    f
}

/// `POST act_X/{campaigns|adsets|adcreatives|ads}`: `{"id": ...}`, or `{"success": true}`
/// for `execution_options=["validate_only"]` (everything checked, nothing created).
pub(crate) async fn create(
    mock: &Mock,
    account: &str,
    edge: &str,
    p: &Params,
    version: &str,
) -> Result<Response, GraphError> {
    let dry = validate_only(p)?;
    let id = match edge {
        "campaigns" => create_campaign(mock, account, p, version, dry).await?,
        "adsets" => create_ad_set(mock, account, p, version, dry).await?,
        "adcreatives" => create_creative(mock, account, p, dry).await?,
        _ => create_ad(mock, account, p, dry).await?,
    };
    Ok(match id {
        Some(id) => Json(json!({ "id": id })).into_response(),
        None => Json(json!({"success": true})).into_response(),
    })
}

fn category_of(categories: &Value) -> Result<AdCategory, GraphError> {
    let first = categories
        .as_array()
        .and_then(|a| a.iter().find(|c| *c != "NONE"))
        .and_then(Value::as_str);
    Ok(match first {
        None => AdCategory::None,
        Some("EMPLOYMENT") => AdCategory::Employment,
        Some("HOUSING") => AdCategory::Housing,
        Some("CREDIT" | "FINANCIAL_PRODUCTS_SERVICES") => AdCategory::Credit,
        Some(other) => {
            return Err(invalid(&format!(
                "special_ad_categories: {other} is a category the simulator does not model"
            )))
        }
    })
}

async fn create_campaign(
    mock: &Mock,
    account: &str,
    p: &Params,
    version: &str,
    dry: bool,
) -> Result<Option<String>, GraphError> {
    rules::campaign(p, version)?;
    // The simulator models reach and traffic; other ODAX objectives deliver as traffic.
    let objective = match p.get("objective").map(String::as_str) {
        Some("OUTCOME_AWARENESS") => Objective::Reach,
        _ => Objective::Traffic,
    };
    let categories = json_param(p, "special_ad_categories")?.unwrap_or_else(|| json!([]));
    let category = category_of(&categories)?;
    let countries: Vec<String> = json_param(p, "special_ad_category_country")?
        .and_then(|c| serde_json::from_value(c).ok())
        .unwrap_or_default();
    let name = p.get("name").cloned().unwrap_or_default();
    let currency = mock.currency.lock().expect("currency lock").clone();
    let spend_cap = rules::campaign_spend_cap(p, currency.as_deref())?;
    let spec = CampaignSpec {
        spend_cap,
        countries,
        name: name.clone(),
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
    let fields = born(mock, account, "Campaign", p);
    activate(mock, &sim_id, &fields).await?;
    let id = mock.register(Kind::Campaign, sim_id, fields);
    mock.categories
        .lock()
        .expect("categories lock")
        .insert(id.clone(), category);
    Ok(Some(id))
}

async fn create_ad_set(
    mock: &Mock,
    account: &str,
    p: &Params,
    version: &str,
    dry: bool,
) -> Result<Option<String>, GraphError> {
    required(p, "name")?;
    let campaign_id = required(p, "campaign_id")?;
    let campaign = campaign_of(mock, campaign_id)?;
    let targeting = json_param(p, "targeting")?.ok_or_else(|| {
        GraphError::invalid("The parameter targeting is required").blame(&["targeting"])
    })?;
    let category = mock
        .categories
        .lock()
        .expect("categories lock")
        .get(campaign_id)
        .copied()
        .unwrap_or(AdCategory::None);
    rules::ad_set(p, &targeting, category, version)?;
    let currency = mock.currency.lock().expect("currency lock").clone();
    let budget = rules::ad_set_budget(p, &campaign, currency.as_deref())?;
    let now = mock.sim.now();
    let start = p
        .get("start_time")
        .and_then(|t| parse_time(t))
        .unwrap_or(now);
    let end = p.get("end_time").and_then(|t| parse_time(t));
    rules::schedule(start, end, now, &budget)?;
    let custom_audiences = mock.targeted_audiences(&targeting)?;
    let audience = audience_of(mock, &targeting, custom_audiences.first().cloned())?;
    let spec = AdSetSpec {
        campaign: campaign.sim.clone(),
        name: p["name"].clone(),
        budget,
        audience,
        start,
        // Without an end (daily budgets may run on), a horizon no study reaches.
        end: end.unwrap_or(start + chrono::Days::new(3650)),
        // Meta knows no partitions: its clients reach one through a custom audience. The
        // simulator behind the mock needs the partition to deliver to it, and all the wire
        // carries is the name adskew gives such ad sets (`.../ad@partition`).
        partition: p["name"].rsplit_once('@').map(|(_, part)| part.to_string()),
    };
    if dry {
        return Ok(None);
    }
    let id = register_ad_set(mock, account, p, &spec, end.is_none()).await?;
    mock.record_targeting(&id, custom_audiences);
    Ok(Some(id))
}

/// The campaign an ad set names, which must exist.
fn campaign_of(mock: &Mock, campaign_id: &str) -> Result<Object, GraphError> {
    match mock.object(campaign_id) {
        Some(
            o @ Object {
                kind: Kind::Campaign,
                ..
            },
        ) => Ok(o),
        _ => Err(
            invalid(&format!("campaign_id {campaign_id} does not exist")).blame(&["campaign_id"]),
        ),
    }
}

/// Creates the checked ad set in the simulator and registers it with its fields (no
/// `end_time` when it has none).
async fn register_ad_set(
    mock: &Mock,
    account: &str,
    p: &Params,
    spec: &AdSetSpec,
    open_ended: bool,
) -> Result<String, GraphError> {
    let sim_id = mock.sim.create_ad_set(spec).await.map_err(platform_error)?;
    let mut fields = born(mock, account, "AdSet", p);
    fields.insert("start_time".into(), json!(graph_time(spec.start)));
    if open_ended {
        fields.remove("end_time");
    }
    activate(mock, &sim_id, &fields).await?;
    Ok(mock.register(
        Kind::AdSet {
            campaign: p["campaign_id"].clone(),
        },
        sim_id,
        fields,
    ))
}

/// The simulator's audience from a Meta targeting spec.
fn audience_of(
    mock: &Mock,
    targeting: &Value,
    custom_audience: Option<String>,
) -> Result<Audience, GraphError> {
    let geo = targeting.get("geo_locations");
    let regions = geo
        .and_then(|g| g.get("regions"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut region_names = Vec::new();
    for r in &regions {
        match super::regions::name(mock, r) {
            Some(name) => region_names.push(name),
            None => {
                return Err(invalid(&format!(
                    "geo_locations.regions: {r} is not a known region key (Meta targets regions by key; look them up with /search?type=adgeolocation)"
                )))
            }
        }
    }
    let countries = geo
        .and_then(|g| g.get("countries"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let age =
        |k: &str, default: u64| targeting.get(k).and_then(Value::as_u64).unwrap_or(default) as u8;
    Ok(Audience {
        countries,
        regions: region_names,
        age_min: age("age_min", 18),
        age_max: age("age_max", 65),
        custom_audience,
        // The simulator does not model placements: they are kept in the ad set's targeting
        // and read back, not simulated.
        placements: Vec::new(),
    })
}

async fn create_creative(
    mock: &Mock,
    account: &str,
    p: &Params,
    dry: bool,
) -> Result<Option<String>, GraphError> {
    let name = p.get("name").cloned().unwrap_or_default();
    let story = json_param(p, "object_story_spec")?.ok_or_else(|| {
        invalid("the mock serves link ads: give object_story_spec with link_data")
    })?;
    let link_data = story
        .get("link_data")
        .ok_or_else(|| invalid("the mock serves link ads: object_story_spec needs link_data"))?;
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
        key: name.rsplit('/').next().unwrap_or(&name).to_string(),
        name: name.clone(),
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
    let mut fields = born(mock, account, "AdCreative", p);
    fields.insert("status".into(), json!("ACTIVE"));
    let forced = mock
        .faults
        .read()
        .expect("faults lock")
        .enrolled_features
        .clone();
    for feature in forced {
        let spec = fields
            .entry("degrees_of_freedom_spec")
            .or_insert_with(|| json!({}));
        spec["creative_features_spec"][feature] = json!({"enroll_status": "OPT_IN"});
    }
    let id = mock.register(Kind::Creative, sim_id, fields);
    if let Some(hash) = image_hash {
        mock.record_image_use(&id, hash);
    }
    Ok(Some(id))
}

async fn create_ad(
    mock: &Mock,
    account: &str,
    p: &Params,
    dry: bool,
) -> Result<Option<String>, GraphError> {
    let name = required(p, "name")?.to_string();
    let ad_set = required(p, "adset_id")?.to_string();
    let Some((Kind::AdSet { campaign }, ad_set_sim)) = mock.lookup(&ad_set) else {
        return Err(invalid(&format!("adset_id {ad_set} does not exist")).blame(&["adset_id"]));
    };
    let creative = json_param(p, "creative")?
        .and_then(|c| match c.get("creative_id") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
        .ok_or_else(|| invalid("creative must be {\"creative_id\": ...}").blame(&["creative"]))?;
    let Some((Kind::Creative, creative_sim)) = mock.lookup(&creative) else {
        return Err(invalid(&format!("creative {creative} does not exist")).blame(&["creative"]));
    };
    if dry {
        return Ok(None);
    }
    let sim_id = mock
        .sim
        .create_ad(&AdSpec {
            ad_set: ad_set_sim,
            creative: creative_sim,
            name,
        })
        .await
        .map_err(platform_error)?;
    let mut fields = born(mock, account, "Ad", p);
    fields.insert("campaign_id".into(), json!(campaign));
    fields.insert("adset_id".into(), json!(ad_set));
    fields.insert("creative".into(), json!({ "id": creative }));
    activate(mock, &sim_id, &fields).await?;
    let id = mock.register(Kind::Ad { campaign, ad_set }, sim_id, fields);
    Ok(Some(id))
}

/// Objects may be created ACTIVE; adskew always creates them PAUSED, SDK users may not.
async fn activate(
    mock: &Mock,
    sim_id: &ObjectId,
    fields: &Map<String, Value>,
) -> Result<(), GraphError> {
    if fields.get("status").and_then(Value::as_str) == Some("ACTIVE") {
        mock.sim
            .set_status(sim_id, Status::Active)
            .await
            .map_err(platform_error)?;
    }
    Ok(())
}

pub(crate) fn platform_error(e: adskew_core::platform::PlatformError) -> GraphError {
    GraphError::new(100, e.to_string()).subcode(33)
}

/// Meta's effective status: archived and deleted objects are that; an ad's review verdict
/// (`DISAPPROVED`, `PENDING_REVIEW`, ...) comes next; then the object's own pause, then its
/// parents' (`CAMPAIGN_PAUSED`, `ADSET_PAUSED`).
pub(crate) async fn effective_status(mock: &Mock, o: &Object) -> String {
    let own = configured(o);
    if matches!(own, Configured::Archived | Configured::Deleted) {
        return own.as_str().to_string();
    }
    if matches!(o.kind, Kind::Ad { .. }) {
        let review = mock
            .sim
            .ad_reviews(std::slice::from_ref(&o.sim))
            .await
            .ok()
            .and_then(|r| r.into_iter().next())
            .map(|r| r.platform_status);
        if let Some(r) = review.filter(|r| {
            matches!(
                r.as_str(),
                "DISAPPROVED" | "PENDING_REVIEW" | "WITH_ISSUES" | "IN_PROCESS"
            )
        }) {
            return r;
        }
    }
    if own == Configured::Paused {
        return "PAUSED".into();
    }
    let parent_active =
        |id: &str| mock.object(id).map(|p| configured(&p)) == Some(Configured::Active);
    match &o.kind {
        Kind::AdSet { campaign } | Kind::Ad { campaign, .. } if !parent_active(campaign) => {
            "CAMPAIGN_PAUSED".into()
        }
        Kind::Ad { ad_set, .. } if !parent_active(ad_set) => "ADSET_PAUSED".into(),
        _ => "ACTIVE".into(),
    }
}

/// The object's answer to a read: `id` and the fields asked for (only `id` when none are),
/// each as Meta sends it; fields without a value are left out, as Meta leaves them out.
pub(crate) async fn render(mock: &Mock, id: &str, o: &Object, fields: &[String]) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(id));
    for f in fields {
        let value = match f.as_str() {
            "effective_status" => Some(json!(effective_status(mock, o).await)),
            "configured_status" => o.fields.get("status").cloned(),
            "issues_info" => Some(json!([])),
            "ad_review_feedback" => review_feedback(mock, o).await,
            _ => o.fields.get(f).cloned(),
        };
        if let Some(v) = value {
            out.insert(f.clone(), v);
        }
    }
    Value::Object(out)
}

async fn review_feedback(mock: &Mock, o: &Object) -> Option<Value> {
    if !matches!(o.kind, Kind::Ad { .. }) {
        return None;
    }
    let review = mock
        .sim
        .ad_reviews(std::slice::from_ref(&o.sim))
        .await
        .ok()?;
    let reason = review.into_iter().next()?.problem?;
    Some(json!({"global": {"Advertising Standards": reason}}))
}

/// `fields=a,b` as a list (sub-field syntax such as `insights{reach}` is cut to its name).
pub(crate) fn field_list(p: &Params) -> Vec<String> {
    p.get("fields")
        .map(|f| {
            f.split(',')
                .map(|x| {
                    x.split(['{', '.', '('])
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_string()
                })
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// `GET /{id}` of an ad object.
pub(crate) async fn read(mock: &Mock, id: &str, p: &Params) -> Result<Response, GraphError> {
    let o = mock
        .object(id)
        .ok_or_else(|| GraphError::no_object("GET", id))?;
    Ok(Json(render(mock, id, &o, &field_list(p)).await).into_response())
}

/// `POST /{id}`: any field the node's `#update` call takes; a status change reaches the
/// simulator (only ACTIVE objects deliver).
pub(crate) async fn update(mock: &Mock, id: &str, p: &Params) -> Result<Response, GraphError> {
    let o = mock
        .object(id)
        .ok_or_else(|| GraphError::no_object("POST", id))?;
    if configured(&o) == Configured::Deleted {
        return Err(GraphError::no_object("POST", id));
    }
    if validate_only(p)? {
        return Ok(Json(json!({"success": true})).into_response());
    }
    let mut changes = fields_from(o.kind.node_type(), p);
    if let Some(status) = p.get("status").and_then(|s| Configured::parse(s)) {
        set_status(mock, &o, status).await?;
        changes.insert("status".into(), json!(status.as_str()));
    }
    changes.insert("updated_time".into(), json!(graph_time(mock.sim.now())));
    mock.update_fields(id, |o| o.fields.extend(changes));
    Ok(Json(json!({"success": true})).into_response())
}

async fn set_status(mock: &Mock, o: &Object, status: Configured) -> Result<(), GraphError> {
    if matches!(o.kind, Kind::Creative | Kind::Audience) {
        return Ok(());
    }
    mock.sim
        .set_status(&o.sim, status.sim())
        .await
        .map_err(platform_error)
}

/// `DELETE /{id}`: the object is `DELETED` for good (it no longer delivers).
pub(crate) async fn delete(mock: &Mock, id: &str) -> Result<Response, GraphError> {
    let o = mock
        .object(id)
        .ok_or_else(|| GraphError::no_object("DELETE", id))?;
    set_status(mock, &o, Configured::Deleted).await?;
    mock.update_fields(id, |o| {
        o.fields.insert("status".into(), json!("DELETED"));
    });
    Ok(Json(json!({"success": true})).into_response())
}
