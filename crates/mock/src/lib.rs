//! A local server that speaks Meta's Graph API wire format, with the simulator behind it, so
//! the real Meta adapter, and Meta's own SDKs, can be exercised without an ad account.
//!
//! Meta's contract, not ours: every request is decoded whatever way Meta accepts it
//! ([`request`]), checked against the table generated from Meta's published API specs
//! ([`spec`], [`contract`]) and against the rules Meta's reference and changelog add
//! ([`rules`], [`versions`]), and answered in Meta's shapes ([`error`]). [`graph`] routes a
//! request to the node or edge it names; [`objects`] keeps the ad objects (fields as set,
//! effective statuses as Meta derives them); [`edges`] lists them with `filtering` and
//! `summary`; [`insights`] answers insights and async report runs from the simulator;
//! [`audience`] and [`images`] keep custom audiences and the image library; [`batch`] serves
//! batch requests through the same routes; [`faults`] injects throttling and failures.
//! Outside the Graph paths: `GET /__admin/clock`, `POST /__admin/clock?to=RFC3339` (the clock
//! only moves forward) and `GET /__admin/stats`.

pub mod account;
pub mod audience;
mod batch;
pub mod clock;
pub mod contract;
mod edges;
pub mod error;
pub mod faults;
mod graph;
pub mod images;
mod insights;
mod objects;
mod regions;
pub mod request;
mod rules;
pub mod spec;
pub mod versions;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};

use adskew_core::clock::SimClock;
use adskew_core::platform::ObjectId;
use adskew_sim::SimPlatform;
use adskew_sim::SimTruth;

/// What a Graph id stands for in the simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Campaign,
    AdSet {
        campaign: String,
    },
    Creative,
    Ad {
        campaign: String,
        ad_set: String,
    },
    /// A customer-list custom audience (no simulator object; see `audience.rs`).
    Audience,
}

impl Kind {
    /// The node type's name in Meta's spec.
    pub(crate) fn node_type(&self) -> &'static str {
        match self {
            Kind::Campaign => "Campaign",
            Kind::AdSet { .. } => "AdSet",
            Kind::Creative => "AdCreative",
            Kind::Ad { .. } => "Ad",
            Kind::Audience => "CustomAudience",
        }
    }
}

/// A Graph object: what it is, its simulator object, and its fields as set by creation and
/// updates (Meta's field names and JSON shapes; numbers Meta sends as strings kept as strings).
#[derive(Debug, Clone)]
pub(crate) struct Object {
    pub kind: Kind,
    pub sim: ObjectId,
    pub fields: serde_json::Map<String, serde_json::Value>,
}

impl Object {
    pub fn field_str(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(serde_json::Value::as_str)
    }
}

/// An async insights job: its rows are computed when it starts (the simulator's numbers at
/// that instant), and it moves through Meta's states as it is polled
/// (`Job Not Started` → `Job Started` → `Job Running` → `Job Completed` or `Job Failed`).
#[derive(Debug, Clone)]
pub(crate) struct ReportRun {
    pub rows: Arc<Vec<serde_json::Value>>,
    pub account_id: String,
    pub date_start: String,
    pub date_stop: String,
    /// Polls answered so far.
    pub polls: u32,
    /// Polls a run takes from start to its end state.
    pub polls_needed: u32,
    pub fails: bool,
    pub time_ref: i64,
    /// The params it was started with, credentials left out.
    pub params: BTreeMap<String, String>,
}

/// The server's state: the simulator and the Graph ids it handed out.
pub struct Mock {
    pub(crate) sim: SimPlatform,
    pub(crate) clock: Arc<SimClock>,
    pub(crate) objects: Mutex<BTreeMap<String, Object>>,
    next_id: Mutex<u64>,
    /// Changeable while serving (a benchmark sets up without limits, then measures with).
    pub(crate) faults: std::sync::RwLock<faults::Faults>,
    /// Graph requests received, failed or not.
    pub(crate) requests: std::sync::atomic::AtomicU64,
    /// Requests failed on purpose.
    pub(crate) faulted: std::sync::atomic::AtomicU64,
    /// When set, calls must carry the matching `appsecret_proof` (an app with "Require App
    /// Secret" switched on).
    pub(crate) app_secret: Mutex<Option<String>>,
    pub(crate) report_runs: Mutex<BTreeMap<String, ReportRun>>,
    /// The account's currency, reported when set.
    pub(crate) currency: Mutex<Option<String>>,
    pub(crate) rate: faults::RateLimit,
    /// Each campaign's special ad category, which restricts its ad sets' targeting.
    pub(crate) categories: Mutex<BTreeMap<String, adskew_core::vocab::AdCategory>>,
    /// The rows of the latest synchronous insights queries, so reading page after page
    /// does not recompute them, also while a client pages through several at once.
    pub(crate) insights_cache: insights::Cache,
    /// Requests refused by the enforced rate limit.
    pub(crate) throttled: std::sync::atomic::AtomicU64,
    pub(crate) audiences: audience::Registry,
    pub(crate) images: images::Registry,
}

impl Mock {
    pub fn new(truth: SimTruth, start: DateTime<Utc>) -> Arc<Mock> {
        Mock::with_faults(truth, start, faults::Faults::default())
    }

    /// A mock that fails some requests as `faults` says.
    pub fn with_faults(truth: SimTruth, start: DateTime<Utc>, faults: faults::Faults) -> Arc<Mock> {
        let clock = Arc::new(SimClock::new(start));
        Arc::new(Mock {
            sim: SimPlatform::new(truth, clock.clone()),
            clock,
            objects: Mutex::new(BTreeMap::new()),
            next_id: Mutex::new(120_210_000_000_000_000),
            faults: std::sync::RwLock::new(faults),
            requests: Default::default(),
            faulted: Default::default(),
            app_secret: Mutex::new(None),
            report_runs: Mutex::new(BTreeMap::new()),
            // Every ad account has a currency; tests and `mock-server` may set another.
            currency: Mutex::new(Some("USD".to_string())),
            rate: Default::default(),
            categories: Mutex::new(BTreeMap::new()),
            insights_cache: Default::default(),
            throttled: Default::default(),
            audiences: Default::default(),
            images: Default::default(),
        })
    }

    /// Replaces the fault and rate-limit configuration from the next request on.
    pub fn set_faults(&self, faults: faults::Faults) {
        *self.faults.write().expect("faults lock") = faults;
    }

    /// Sets the currency the account reports (unset, it reports none).
    pub fn set_currency(&self, currency: &str) {
        *self.currency.lock().expect("currency lock") = Some(currency.to_string());
    }

    /// Requires every call to prove the app secret, as apps with "Require App Secret" do.
    pub fn require_app_secret(&self, secret: &str) {
        *self.app_secret.lock().expect("secret lock") = Some(secret.to_string());
    }

    /// A new numeric Graph id.
    pub(crate) fn new_id(&self) -> String {
        let mut next = self.next_id.lock().expect("id lock");
        *next += 1;
        next.to_string()
    }

    /// Records a simulator object under a new numeric Graph id, with the fields it was
    /// created with (clients find objects again by name after a crash).
    pub(crate) fn register(
        &self,
        kind: Kind,
        sim_id: ObjectId,
        mut fields: serde_json::Map<String, serde_json::Value>,
    ) -> String {
        let id = self.new_id();
        fields.insert("id".into(), serde_json::Value::String(id.clone()));
        self.objects.lock().expect("objects lock").insert(
            id.clone(),
            Object {
                kind,
                sim: sim_id,
                fields,
            },
        );
        id
    }

    /// A copy of the object with that id.
    pub(crate) fn object(&self, id: &str) -> Option<Object> {
        self.objects.lock().expect("objects lock").get(id).cloned()
    }

    /// Changes an object's fields in place.
    pub(crate) fn update_fields(&self, id: &str, f: impl FnOnce(&mut Object)) {
        if let Some(o) = self.objects.lock().expect("objects lock").get_mut(id) {
            f(o);
        }
    }

    /// How many Graph requests arrived (including those failed by fault injection).
    pub fn request_count(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many requests fault injection failed.
    pub fn fault_count(&self) -> u64 {
        self.faulted.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many requests the enforced rate limit refused.
    pub fn throttled_count(&self) -> u64 {
        self.throttled.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many async report runs were started.
    pub fn report_run_count(&self) -> usize {
        self.report_runs.lock().expect("report runs lock").len()
    }

    /// The params of every async report run started, in the order started (credentials
    /// left out): tests check no job was started twice.
    pub fn report_run_params(&self) -> Vec<BTreeMap<String, String>> {
        let runs = self.report_runs.lock().expect("report runs lock");
        let mut all: Vec<(u128, BTreeMap<String, String>)> = runs
            .iter()
            .map(|(id, r)| (id.parse().unwrap_or(0), r.params.clone()))
            .collect();
        all.sort_by_key(|(id, _)| *id);
        all.into_iter().map(|(_, p)| p).collect()
    }

    /// How many ads are switched on, with their ad set and campaign (tests check a refused
    /// launch activated nothing).
    pub fn active_ad_count(&self) -> usize {
        let objects = self.objects.lock().expect("objects lock");
        let active =
            |id: &str| objects.get(id).and_then(|o| o.field_str("status")) == Some("ACTIVE");
        objects
            .iter()
            .filter(|(id, o)| match &o.kind {
                Kind::Ad { campaign, ad_set } => active(id) && active(ad_set) && active(campaign),
                _ => false,
            })
            .count()
    }

    /// How many Graph objects have been created (tests check nothing is created twice).
    pub fn object_count(&self) -> usize {
        self.objects.lock().expect("objects lock").len()
    }

    pub(crate) fn lookup(&self, id: &str) -> Option<(Kind, ObjectId)> {
        self.object(id).map(|o| (o.kind, o.sim))
    }
}

/// The HTTP routes: the admin paths, batch requests at the root or a version, and every
/// other path as a Graph node or edge ([`graph::serve`], behind fault injection).
pub fn router(mock: Arc<Mock>) -> Router {
    let graph = Router::new()
        .fallback(graph::serve)
        .layer(axum::middleware::from_fn_with_state(
            mock.clone(),
            faults::inject,
        ))
        // A batch of 10,000 customer-list rows is several MB of form body.
        .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
        .with_state(mock.clone());
    Router::new()
        .route(
            "/__admin/clock",
            get(graph::get_clock).post(graph::set_clock),
        )
        .route("/__admin/stats", get(graph::get_stats))
        // Batch requests; each element goes through the Graph routes (and their faults).
        .route("/", post(batch::serve))
        .route("/{version}", post(batch::serve))
        .route("/{version}/", post(batch::serve))
        .fallback_service(graph)
        .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
        .with_state(mock)
}

/// Binds `addr` (use port 0 for a free one) and serves until the task is dropped. Returns the
/// bound address.
pub async fn spawn(mock: Arc<Mock>, addr: SocketAddr) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router(mock)).await;
    });
    Ok(bound)
}
