//! Insights, synchronous and as async report runs, from the simulator.
//!
//! Sources: Insights API reference (`level`, `fields`, `breakdowns`, `date_preset`,
//! `time_range`, `time_ranges`, `time_increment` 1–90/`monthly`/`all_days`, `filtering`),
//! "Breakdowns" (the combinations Meta stores), AdReportRun reference (`async_status`
//! `Job Not Started` → `Job Started` → `Job Running` → `Job Completed`/`Job Failed`,
//! `async_percent_completion`), and the SDK issues for reading an unfinished report (code
//! 2601, subcode 1815107, transient). Metrics are strings, as Meta sends them; a field the
//! simulator has no number for is left out of the row, as Meta leaves out empty fields.
//!
//! Since 2025-06-10, `reach` is left out of synchronous breakdown queries that start more
//! than 13 months back (Marketing API changelog, "unique metrics"); async runs keep it. Rows
//! under age `Unknown` and `13-17` appear as the fault configuration says (`unknown_age`,
//! `teen_age`). `sort` (`reach_descending`, `impressions_ascending`, ...) orders the rows.
//!
//! What the simulator cannot back: reach above the ad level is the sum of the ads' reach (the
//! simulator does not model one person reached by two ads); actions other than link clicks
//! are not modelled; attribution settings and `action_breakdowns` are accepted and have no
//! effect.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{Datelike, Days, Months, NaiveDate};
use serde_json::{json, Map, Value};

use super::edges::{filters, page, Paging};
use super::error::{invalid, GraphError};
use super::objects::{field_list, graph_time};
use super::request::{json_param, Params};
use super::{rules, Kind, Mock, ReportRun};
use adskew_core::money::Money;
use adskew_core::platform::{ObjectId, Period, Platform};
use adskew_core::vocab::Breakdown;
use adskew_sim::CrossRow;

/// Insights levels, from the account down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Account,
    Campaign,
    AdSet,
    Ad,
}

impl Level {
    fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "account" => Level::Account,
            "campaign" => Level::Campaign,
            "adset" => Level::AdSet,
            "ad" => Level::Ad,
            _ => return None,
        })
    }

    fn of_node(node_type: &str) -> Level {
        match node_type {
            "Campaign" => Level::Campaign,
            "AdSet" => Level::AdSet,
            "Ad" => Level::Ad,
            _ => Level::Account,
        }
    }
}

/// Fields returned when none are asked for [unverified: Meta's default set].
const DEFAULT_FIELDS: &[&str] = &["impressions", "spend"];

/// `GET /{node}/insights` (or a finished report run's rows).
pub(crate) async fn read(
    mock: &Mock,
    node_type: &str,
    node: &str,
    p: &Params,
    at: &Paging<'_>,
) -> Result<Response, GraphError> {
    let rows = if node_type == "AdReportRun" {
        finished_rows(mock, node)?
    } else {
        let rows = cached(mock, node_type, node, p).await?;
        too_much_data(mock, &rows, p)?;
        rows
    };
    Ok(page(&rows, p, at, false))
}

/// Meta's answer to a synchronous query too large to serve (fault `max_insights_rows`): the
/// page asked for would carry more rows than the limit. Meta sends it as code 1 without a
/// subcode on HTTP 500 (research notes §4, "reduce the amount of data"; Airbyte's connector
/// halves `limit` on it), not as a parameter error, so a client that treats code 1 as
/// transient sends the same request again and again.
fn too_much_data(mock: &Mock, rows: &[Value], p: &Params) -> Result<(), GraphError> {
    let max = mock.faults.read().expect("faults lock").max_insights_rows as usize;
    if max == 0 {
        return Ok(());
    }
    let limit: usize = p
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(25);
    let offset: usize = p.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let on_page = rows.len().saturating_sub(offset).min(limit);
    if on_page <= max {
        return Ok(());
    }
    mock.faulted
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Err(GraphError::unprefixed(
        1,
        "Please reduce the amount of data you're asking for, then retry your request",
    )
    .status(axum::http::StatusCode::INTERNAL_SERVER_ERROR))
}

/// The rows of one query, remembered: the pages of a query (which differ only in `after`
/// and credentials) are served from the same rows, as Meta's cursors are.
async fn cached(
    mock: &Mock,
    node_type: &str,
    node: &str,
    p: &Params,
) -> Result<Arc<Vec<Value>>, GraphError> {
    let key_params: Vec<_> = p.iter().filter(|(k, _)| k.as_str() != "after").collect();
    let key = format!(
        "{node} {} {} {key_params:?}",
        mock.sim.now().to_rfc3339(),
        mock.object_count()
    );
    if let Some(rows) = mock.insights_cache.get(&key) {
        return Ok(rows);
    }
    let rows = Arc::new(rows(mock, node_type, node, p, Run::Sync).await?);
    mock.insights_cache.put(key, rows.clone());
    Ok(rows)
}

/// The rows of the latest [`Cache::QUERIES`] synchronous queries, by query (paging aside),
/// simulated time and object count. More than one, so a client reading several queries'
/// pages in turn (the breakdowns of a collection read side by side) is served each page
/// from its query's rows, as Meta serves cursors of queries made at the same time, rather
/// than recomputing a query whenever another came in between.
#[derive(Default)]
pub(crate) struct Cache {
    /// Oldest first.
    queries: Mutex<VecDeque<(String, Arc<Vec<Value>>)>>,
}

impl Cache {
    const QUERIES: usize = 8;

    fn get(&self, key: &str) -> Option<Arc<Vec<Value>>> {
        let queries = self.queries.lock().expect("cache lock");
        queries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, rows)| rows.clone())
    }

    fn put(&self, key: String, rows: Arc<Vec<Value>>) {
        let mut queries = self.queries.lock().expect("cache lock");
        queries.retain(|(k, _)| *k != key);
        if queries.len() >= Cache::QUERIES {
            queries.pop_front();
        }
        queries.push_back((key, rows));
    }
}

/// `POST /{node}/insights`: an async report run over the rows a synchronous read gives now.
pub(crate) async fn start_report(
    mock: &Mock,
    node_type: &str,
    node: &str,
    p: &Params,
) -> Result<Response, GraphError> {
    let rows = rows(mock, node_type, node, p, Run::Async).await?;
    let windows = windows(mock, p)?;
    let id = mock.new_id();
    let n: u64 = id.parse().unwrap_or(0);
    let faults = mock.faults.read().expect("faults lock").clone();
    let account = account_of(mock, node_type, node);
    // Large jobs fail (fault `async_fail_over_rows`); any job may (`async_fail`).
    let fails = super::faults::draw(faults.seed ^ 0xA5A5_A5A5, n) < faults.async_fail
        || (faults.async_fail_over_rows > 0 && rows.len() > faults.async_fail_over_rows as usize);
    let run = ReportRun {
        rows: Arc::new(rows),
        account_id: account,
        date_start: windows.first().map(|w| w.0.to_string()).unwrap_or_default(),
        date_stop: windows.last().map(|w| w.1.to_string()).unwrap_or_default(),
        polls: 0,
        polls_needed: faults.async_polls,
        fails,
        params: p
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "access_token" | "appsecret_proof"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        time_ref: mock.sim.now().timestamp(),
    };
    mock.report_runs
        .lock()
        .expect("report runs lock")
        .insert(id.clone(), run);
    Ok(Json(json!({ "report_run_id": id })).into_response())
}

fn account_of(mock: &Mock, node_type: &str, node: &str) -> String {
    if node_type == "AdAccount" {
        return node.trim_start_matches("act_").to_string();
    }
    mock.object(node)
        .and_then(|o| o.field_str("account_id").map(str::to_string))
        .unwrap_or_default()
}

/// `GET /{report run}`: each poll moves the run on, through Meta's states.
pub(crate) fn poll(mock: &Mock, id: &str, p: &Params) -> Result<Response, GraphError> {
    let mut runs = mock.report_runs.lock().expect("report runs lock");
    let run = runs
        .get_mut(id)
        .ok_or_else(|| GraphError::no_object("GET", id))?;
    let k = run.polls;
    run.polls += 1;
    let n = run.polls_needed;
    let (status, percent) = if k >= n {
        if run.fails {
            ("Job Failed", 0)
        } else {
            ("Job Completed", 100)
        }
    } else if k == 0 && n > 1 {
        ("Job Not Started", 0)
    } else if k == 1 && n > 2 {
        ("Job Started", 0)
    } else {
        ("Job Running", (100 * (k + 1) / (n + 1)).min(99))
    };
    let done = status == "Job Completed";
    let mut all = json!({
        "id": id,
        "account_id": run.account_id,
        "async_status": status,
        "async_percent_completion": percent,
        "date_start": run.date_start,
        "date_stop": run.date_stop,
        "is_running": !done && status != "Job Failed",
        "time_ref": run.time_ref,
        "is_async_export": 0,
        "is_bookmarked": false,
    });
    if done {
        all["time_completed"] = json!(run.time_ref);
    }
    if status == "Job Failed" {
        all["error_code"] = json!(-2);
        all["error_subcode"] = json!(2490547);
        all["error_message"] = json!("Report Failed");
    }
    let fields = field_list(p);
    let body = if fields.is_empty() {
        // Meta answers a poll without fields with the run's fields; the SDKs read these.
        all
    } else {
        let mut out = Map::new();
        out.insert("id".into(), json!(id));
        for f in fields {
            if let Some(v) = all.get(&f) {
                out.insert(f, v.clone());
            }
        }
        Value::Object(out)
    };
    Ok(Json(body).into_response())
}

/// A completed run's rows; an unfinished or failed one is Meta's transient 2601.
fn finished_rows(mock: &Mock, id: &str) -> Result<Arc<Vec<Value>>, GraphError> {
    let runs = mock.report_runs.lock().expect("report runs lock");
    let run = runs
        .get(id)
        .ok_or_else(|| GraphError::no_object("GET", id))?;
    if run.polls <= run.polls_needed || run.fails {
        return Err(GraphError::new(2601, "Error accessing adreport job.")
            .subcode(1815107)
            .user(
                "Report not ready",
                "The report run has not completed: poll it until async_status is Job Completed.",
            )
            .transient());
    }
    Ok(run.rows.clone())
}

/// How a query is run: Meta answers some queries differently when they run async.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    Sync,
    Async,
}

/// The rows of an insights query.
async fn rows(
    mock: &Mock,
    node_type: &str,
    node: &str,
    p: &Params,
    run: Run,
) -> Result<Vec<Value>, GraphError> {
    let level = level_of(node_type, p)?;
    let dims = breakdowns_of(p)?;
    let mut fields = field_list(p);
    if fields.is_empty() {
        fields = DEFAULT_FIELDS.iter().map(|s| s.to_string()).collect();
    }
    let filters = filters(p)?;
    // Archived and deleted ads are left out unless a filter on their effective status asks
    // for them (the Airbyte connector filters on `ad.effective_status` to get them).
    let by_status = filters.iter().any(|f| f.field == "effective_status");
    let ads = visible_ads(mock, node_type, node, by_status);
    let today = mock.sim.now().date_naive();
    let mut out = Vec::new();
    for (since, until, granularity) in windows(mock, p)? {
        rules::retention(since, today)?;
        let old = since < today - Months::new(13);
        let omit_reach = run == Run::Sync && !dims.is_empty() && old;
        for (key, sums) in grouped(mock, &ads, &dims, level, (since, until, granularity))? {
            let mut row = row(mock, level, &key, &sums, &fields);
            if omit_reach {
                row.remove("reach");
            }
            for (d, v) in dims.iter().zip(&key.values) {
                row.insert(d.as_str().into(), json!(v));
            }
            let row = Value::Object(row);
            if filters
                .iter()
                .all(|f| f.admits(&with_filter_fields(mock, &key, &row)))
            {
                out.push(row);
            }
        }
    }
    sort(&mut out, p)?;
    Ok(out)
}

/// The query's `level`, by default the node's own; never above the node queried.
fn level_of(node_type: &str, p: &Params) -> Result<Level, GraphError> {
    let level = match p.get("level") {
        Some(l) => Level::parse(l).ok_or_else(|| invalid(&format!("level {l}")))?,
        None => Level::of_node(node_type),
    };
    if level < Level::of_node(node_type) {
        return Err(GraphError::invalid(format!(
            "Invalid parameter: level {} is above the {node_type} queried",
            p["level"]
        ))
        .blame(&["level"]));
    }
    Ok(level)
}

/// The query's `breakdowns`: a set Meta allows, each one the simulator has.
fn breakdowns_of(p: &Params) -> Result<Vec<Breakdown>, GraphError> {
    let breakdowns: Vec<String> = json_param(p, "breakdowns")?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    rules::breakdown_set(&breakdowns)?;
    breakdowns
        .iter()
        .map(|b| {
            Breakdown::parse(b)
                .ok_or_else(|| invalid(&format!("breakdowns: the simulator has no {b} breakdown")))
        })
        .collect()
}

/// The ads under a node, archived and deleted ones only when `by_status`.
fn visible_ads(mock: &Mock, node_type: &str, node: &str, by_status: bool) -> Vec<AdIds> {
    ads_under(mock, node_type, node)
        .into_iter()
        .filter(|a| {
            by_status
                || !matches!(
                    mock.object(&a.id)
                        .and_then(|o| o.field_str("status").map(str::to_string))
                        .as_deref(),
                    Some("ARCHIVED" | "DELETED")
                )
        })
        .collect()
}

/// The simulator's delivery in one window, summed per object of `level`, date and
/// breakdown values (ages relabelled as the faults say), sorted as Meta sorts.
fn grouped(
    mock: &Mock,
    ads: &[AdIds],
    dims: &[Breakdown],
    level: Level,
    (since, until, granularity): (NaiveDate, NaiveDate, Period),
) -> Result<Vec<(Key, Sums)>, GraphError> {
    let sim_ads: Vec<ObjectId> = ads.iter().map(|a| a.sim.clone()).collect();
    // No breakdown: gender partitions the audience, so summing it gives the totals.
    let split: &[Breakdown] = if dims.is_empty() {
        &[Breakdown::Gender]
    } else {
        dims
    };
    let cross = mock
        .sim
        .delivery_cross(&sim_ads, split, since, until, granularity)
        .map_err(super::objects::platform_error)?;
    // Each ad by its simulator id (the first listed, as a search would find), and each
    // group by what makes it one: a lookup per row, not a search, at tens of thousands.
    let mut by_sim: HashMap<&ObjectId, &AdIds> = HashMap::new();
    for a in ads {
        by_sim.entry(&a.sim).or_insert(a);
    }
    let mut groups: Vec<(Key, Sums)> = Vec::new();
    let mut index: HashMap<Group, usize> = HashMap::new();
    for r in &cross {
        let Some(&ad) = by_sim.get(&r.ad) else {
            continue;
        };
        let key = Key {
            level_id: ad.id_at(level),
            date_start: r.date_start,
            date_stop: r.date_stop,
            values: if dims.is_empty() {
                Vec::new()
            } else {
                r.values.clone()
            },
            ad: ad.clone(),
        };
        match index.entry(key.group()) {
            Entry::Occupied(at) => groups[*at.get()].1.add(r),
            Entry::Vacant(at) => {
                at.insert(groups.len());
                groups.push((key, Sums::of(r)));
            }
        }
    }
    if let Some(i) = dims.iter().position(|d| *d == Breakdown::Age) {
        let faults = mock.faults.read().expect("faults lock").clone();
        groups = relabel_ages(
            groups,
            i,
            &[("Unknown", faults.unknown_age), ("13-17", faults.teen_age)],
        );
    }
    groups.sort_by(|a, b| {
        (&a.0.level_id, a.0.date_start, &a.0.values).cmp(&(
            &b.0.level_id,
            b.0.date_start,
            &b.0.values,
        ))
    });
    Ok(groups)
}

/// Moves `share` of each age row's delivery to a row under `label` (merged per ad, date and
/// other breakdown values). Shares too small to move a whole impression move nothing, and
/// no empty row is made, as Meta leaves out rows without delivery.
fn relabel_ages(groups: Vec<(Key, Sums)>, age: usize, labels: &[(&str, f64)]) -> Vec<(Key, Sums)> {
    let mut out: Vec<(Key, Sums)> = Vec::new();
    let mut moved: Vec<(Key, Sums)> = Vec::new();
    let mut index: HashMap<Group, usize> = HashMap::new();
    for (key, mut sums) in groups {
        for (label, share) in labels.iter().filter(|(_, s)| *s > 0.0) {
            let part = sums.take(*share);
            if part.impressions == 0 {
                continue;
            }
            let mut k = key.clone();
            k.values[age] = label.to_string();
            match index.entry(k.group()) {
                Entry::Occupied(at) => moved[*at.get()].1.merge(&part),
                Entry::Vacant(at) => {
                    at.insert(moved.len());
                    moved.push((k, part));
                }
            }
        }
        out.push((key, sums));
    }
    out.extend(moved);
    out
}

/// `sort=["reach_descending", ...]`: rows ordered by those fields, the first most significant.
fn sort(rows: &mut [Value], p: &Params) -> Result<(), GraphError> {
    let Some(keys) = json_param(p, "sort")? else {
        return Ok(());
    };
    let keys: Vec<String> = serde_json::from_value(keys).unwrap_or_default();
    for key in keys.iter().rev() {
        let (field, descending) = match key.rsplit_once('_') {
            Some((f, "descending")) => (f, true),
            Some((f, "ascending")) => (f, false),
            _ => {
                return Err(invalid(&format!(
                    "sort {key}: give a field and _ascending or _descending"
                ))
                .blame(&["sort"]))
            }
        };
        let value = |r: &Value| -> f64 {
            r.get(field)
                .and_then(|v| {
                    v.as_str()
                        .and_then(|s| s.parse().ok())
                        .or_else(|| v.as_f64())
                })
                .unwrap_or(0.0)
        };
        rows.sort_by(|a, b| {
            let o = value(a).total_cmp(&value(b));
            if descending {
                o.reverse()
            } else {
                o
            }
        });
    }
    Ok(())
}

/// The row plus the ids and effective status filters may name.
fn with_filter_fields(mock: &Mock, key: &Key, row: &Value) -> Value {
    let mut r = row.clone();
    let ids = key.ad.ids();
    for (k, v) in ids {
        r[k] = json!(v);
    }
    // The ad's own status stands for its effective status here (filters name
    // `ad.effective_status`).
    if let Some(o) = mock.object(&key.ad.id) {
        if let Some(s) = o.field_str("status") {
            r["effective_status"] = json!(s);
        }
    }
    r
}

/// The date windows of a query, each with how the simulator is asked for it.
fn windows(mock: &Mock, p: &Params) -> Result<Vec<(NaiveDate, NaiveDate, Period)>, GraphError> {
    let today = mock.sim.now().date_naive();
    let ranges: Vec<(NaiveDate, NaiveDate)> = if let Some(list) = json_param(p, "time_ranges")? {
        list.as_array()
            .ok_or_else(|| {
                invalid("time_ranges must be a list of {since, until}").blame(&["time_ranges"])
            })?
            .iter()
            .map(range)
            .collect::<Result<_, _>>()?
    } else if let Some(r) = json_param(p, "time_range")? {
        vec![range(&r)?]
    } else {
        vec![preset(
            p.get("date_preset")
                .map(String::as_str)
                .unwrap_or("last_30d"),
            today,
        )?]
    };
    let increment = p
        .get("time_increment")
        .map(String::as_str)
        .unwrap_or("all_days");
    let mut out = Vec::new();
    for (since, until) in ranges {
        match increment {
            "all_days" => out.push((since, until, Period::Total)),
            "1" => out.push((since, until, Period::Day)),
            "monthly" => {
                let mut start = since;
                while start <= until {
                    let next = start.with_day(1).expect("day 1") + Months::new(1);
                    let stop = (next - Days::new(1)).min(until);
                    out.push((start, stop, Period::Total));
                    start = next;
                }
            }
            n => {
                let days: u64 = n
                    .parse()
                    .ok()
                    .filter(|d| (1..=90).contains(d))
                    .ok_or_else(|| {
                        invalid("time_increment must be a number of days from 1 to 90, monthly or all_days")
                            .blame(&["time_increment"])
                    })?;
                let mut start = since;
                while start <= until {
                    let stop = (start + Days::new(days - 1)).min(until);
                    out.push((start, stop, Period::Total));
                    start = stop + Days::new(1);
                }
            }
        }
    }
    Ok(out)
}

fn range(r: &Value) -> Result<(NaiveDate, NaiveDate), GraphError> {
    let date = |k: &str| -> Result<NaiveDate, GraphError> {
        r.get(k)
            .and_then(Value::as_str)
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| {
                invalid(&format!("time_range.{k} must be YYYY-MM-DD")).blame(&["time_range"])
            })
    };
    let (since, until) = (date("since")?, date("until")?);
    if until < since {
        return Err(invalid("time_range: until is before since").blame(&["time_range"]));
    }
    Ok((since, until))
}

/// Meta's `date_preset` values (the insights enum), relative to the account's today.
fn preset(name: &str, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), GraphError> {
    let yesterday = today - Days::new(1);
    let month_start = today.with_day(1).expect("day 1");
    let last_n = |n: u64| (today - Days::new(n), yesterday);
    Ok(match name {
        "today" => (today, today),
        "yesterday" => (yesterday, yesterday),
        "this_month" => (month_start, today),
        "last_month" => (month_start - Months::new(1), month_start - Days::new(1)),
        "maximum" => (today - Months::new(37) + Days::new(1), today),
        "last_3d" => last_n(3),
        "last_7d" => last_n(7),
        "last_14d" => last_n(14),
        "last_28d" => last_n(28),
        "last_30d" => last_n(30),
        "last_90d" => last_n(90),
        "this_week_mon_today" => (
            today - Days::new(today.weekday().num_days_from_monday() as u64),
            today,
        ),
        "this_year" => (today.with_ordinal(1).expect("day 1"), today),
        other => {
            return Err(invalid(&format!(
            "date_preset {other} is valid for Meta but not modelled by the mock; give time_range"
        ))
            .blame(&["date_preset"]))
        }
    })
}

/// An ad and its parents' Graph ids.
#[derive(Debug, Clone, PartialEq)]
struct AdIds {
    id: String,
    sim: ObjectId,
    ad_set: String,
    campaign: String,
    account: String,
}

impl AdIds {
    fn id_at(&self, level: Level) -> String {
        match level {
            Level::Account => self.account.clone(),
            Level::Campaign => self.campaign.clone(),
            Level::AdSet => self.ad_set.clone(),
            Level::Ad => self.id.clone(),
        }
    }

    fn ids(&self) -> [(&'static str, &str); 4] {
        [
            ("account_id", &self.account),
            ("campaign_id", &self.campaign),
            ("adset_id", &self.ad_set),
            ("ad_id", &self.id),
        ]
    }
}

/// The ads under a node, in creation order.
fn ads_under(mock: &Mock, node_type: &str, node: &str) -> Vec<AdIds> {
    let objects = mock.objects.lock().expect("objects lock").clone();
    let mut ads: Vec<AdIds> = objects
        .iter()
        .filter_map(|(id, o)| match &o.kind {
            Kind::Ad { campaign, ad_set } => Some(AdIds {
                id: id.clone(),
                sim: o.sim.clone(),
                ad_set: ad_set.clone(),
                campaign: campaign.clone(),
                account: o.field_str("account_id").unwrap_or_default().to_string(),
            }),
            _ => None,
        })
        .filter(|a| match node_type {
            "Campaign" => a.campaign == node,
            "AdSet" => a.ad_set == node,
            "Ad" => a.id == node,
            _ => true,
        })
        .collect();
    ads.sort_by_key(|a| a.id.parse::<u128>().unwrap_or(0));
    ads
}

#[derive(Clone)]
struct Key {
    level_id: String,
    date_start: NaiveDate,
    date_stop: NaiveDate,
    values: Vec<String>,
    /// The first ad of the group (its parents name the row).
    ad: AdIds,
}

/// What makes rows one group: the object of the level, the dates and the breakdown values.
type Group = (String, NaiveDate, NaiveDate, Vec<String>);

impl Key {
    fn group(&self) -> Group {
        (
            self.level_id.clone(),
            self.date_start,
            self.date_stop,
            self.values.clone(),
        )
    }
}

#[derive(Default)]
struct Sums {
    reach: u64,
    impressions: u64,
    clicks: u64,
    spend: Money,
}

impl Sums {
    fn of(r: &CrossRow) -> Sums {
        let mut s = Sums::default();
        s.add(r);
        s
    }

    fn add(&mut self, r: &CrossRow) {
        self.reach += r.reach;
        self.impressions += r.impressions;
        self.clicks += r.clicks;
        self.spend = Money(self.spend.0 + r.spend.0);
    }

    fn merge(&mut self, other: &Sums) {
        self.reach += other.reach;
        self.impressions += other.impressions;
        self.clicks += other.clicks;
        self.spend = Money(self.spend.0 + other.spend.0);
    }

    /// Takes `share` of every count (rounded down) out of these sums.
    fn take(&mut self, share: f64) -> Sums {
        fn cut(x: &mut u64, share: f64) -> u64 {
            let t = ((*x as f64) * share).floor() as u64;
            *x -= t;
            t
        }
        let spend = ((self.spend.0 as f64) * share).floor() as i64;
        self.spend = Money(self.spend.0 - spend);
        Sums {
            reach: cut(&mut self.reach, share),
            impressions: cut(&mut self.impressions, share),
            clicks: cut(&mut self.clicks, share),
            spend: Money(spend),
        }
    }
}

/// One insights row with the fields asked for (plus `date_start`/`date_stop`).
fn row(mock: &Mock, level: Level, key: &Key, s: &Sums, fields: &[String]) -> Map<String, Value> {
    let mut row = Map::new();
    let ratio = |num: f64, den: u64, scale: f64| {
        (den > 0).then(|| json!(format!("{:.6}", num * scale / den as f64)))
    };
    let spend = s.spend.as_major();
    let name = |id: &str| {
        mock.object(id)
            .and_then(|o| o.field_str("name").map(str::to_string))
    };
    let currency = mock.currency.lock().expect("currency lock").clone();
    for f in fields {
        let v = match f.as_str() {
            "reach" => Some(json!(s.reach.to_string())),
            "impressions" => Some(json!(s.impressions.to_string())),
            "clicks" | "inline_link_clicks" => Some(json!(s.clicks.to_string())),
            "spend" => Some(json!(s.spend.to_string())),
            "frequency" => ratio(s.impressions as f64, s.reach, 1.0),
            "cpm" => ratio(spend, s.impressions, 1000.0),
            "cpp" => ratio(spend, s.reach, 1000.0),
            "ctr" | "inline_link_click_ctr" => ratio(s.clicks as f64, s.impressions, 100.0),
            "cpc" | "cost_per_inline_link_click" => ratio(spend, s.clicks, 1.0),
            "actions" => {
                Some(json!([{"action_type": "link_click", "value": s.clicks.to_string()}]))
            }
            "account_currency" => currency.as_ref().map(|c| json!(c)),
            "account_id" => Some(json!(key.ad.account)),
            "campaign_id" if level >= Level::Campaign => Some(json!(key.ad.campaign)),
            "adset_id" if level >= Level::AdSet => Some(json!(key.ad.ad_set)),
            "ad_id" if level >= Level::Ad => Some(json!(key.ad.id)),
            "campaign_name" if level >= Level::Campaign => name(&key.ad.campaign).map(|n| json!(n)),
            "adset_name" if level >= Level::AdSet => name(&key.ad.ad_set).map(|n| json!(n)),
            "ad_name" if level >= Level::Ad => name(&key.ad.id).map(|n| json!(n)),
            "date_start" | "date_stop" => None,
            "created_time" | "updated_time" => Some(json!(graph_time(mock.sim.now()))),
            _ => None,
        };
        if let Some(v) = v {
            row.insert(f.clone(), v);
        }
    }
    row.insert("date_start".into(), json!(key.date_start.to_string()));
    row.insert("date_stop".into(), json!(key.date_stop.to_string()));
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_serves_each_of_the_latest_queries_its_own_rows() {
        let cache = Cache::default();
        for i in 0..=Cache::QUERIES {
            cache.put(format!("query {i}"), Arc::new(vec![json!(i)]));
        }
        assert!(cache.get("query 0").is_none(), "the oldest query is let go");
        for i in 1..=Cache::QUERIES {
            let rows = cache
                .get(&format!("query {i}"))
                .expect("a recent query is kept");
            assert_eq!(*rows, vec![json!(i)]);
        }
    }
}
