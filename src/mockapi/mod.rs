//! A local server that speaks a subset of Meta's Graph API wire format, with the simulator
//! behind it, so the real Meta adapter can be exercised without an ad account (issue #4).
//!
//! Served so far: object creation (`/{v}/act_{id}/campaigns|adsets|adcreatives|ads`), status
//! updates (`POST /{v}/{id}`), synchronous insights with breakdowns, daily or whole-range
//! rows and cursor paging (`GET /{v}/{id}/insights`), Meta's error envelope for missing
//! tokens and bad parameters, and an admin clock outside the Graph paths:
//! `GET /__admin/clock` and `POST /__admin/clock?to=RFC3339` (the clock only moves forward),
//! and `GET /__admin/stats` (requests served, faults injected, objects created).
//! Fault injection ([`faults`]): throttling with usage headers, transient errors, bare
//! gateway errors. Customer-list custom audiences ([`audience`]: create, add members in
//! sessions, size bounds) and the ad image library ([`images`]). Still to come: async report
//! runs, batch requests, rate limits enforced from the usage counts.

pub mod audience;
mod batch;
pub mod clock;
pub mod faults;
mod graph;
pub mod images;
mod validation;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};

use crate::clock::SimClock;
use crate::experiment::SimTruth;
use crate::platform::sim::SimPlatform;
use crate::platform::ObjectId;

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
    },
    /// A customer-list custom audience (no simulator object; see `audience.rs`).
    Audience,
}

/// An async insights job: its rows are computed when it starts (the simulator's numbers at
/// that instant), and it reports progress for a few polls before completing or failing.
#[derive(Debug, Clone)]
pub(crate) struct ReportRun {
    pub rows: Vec<serde_json::Value>,
    pub polls_left: u32,
    pub fails: bool,
}

/// The server's state: the simulator and the Graph ids it handed out.
pub struct Mock {
    pub(crate) sim: SimPlatform,
    pub(crate) clock: Arc<SimClock>,
    pub(crate) objects: Mutex<BTreeMap<String, (Kind, ObjectId)>>,
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
    /// Each object's name (clients find objects again by name after a crash).
    pub(crate) names: Mutex<BTreeMap<String, String>>,
    /// The account's currency, reported when set.
    pub(crate) currency: Mutex<Option<String>>,
    pub(crate) rate: faults::RateLimit,
    /// Each campaign's special ad category, which restricts its ad sets' targeting.
    pub(crate) categories: Mutex<BTreeMap<String, crate::vocab::AdCategory>>,
    /// The rows of the last synchronous insights query, keyed by the query (paging aside)
    /// and the simulated time, so reading page after page does not recompute them.
    pub(crate) last_insights: Mutex<Option<(String, Vec<serde_json::Value>)>>,
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
            names: Mutex::new(BTreeMap::new()),
            currency: Mutex::new(None),
            rate: Default::default(),
            categories: Mutex::new(BTreeMap::new()),
            last_insights: Mutex::new(None),
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

    /// Records a simulator object under a new numeric Graph id, with the name it was
    /// created with (clients find objects again by name after a crash).
    pub(crate) fn register(&self, kind: Kind, sim_id: ObjectId, name: &str) -> String {
        let id = self.new_id();
        self.names
            .lock()
            .expect("names lock")
            .insert(id.clone(), name.to_string());
        self.objects
            .lock()
            .expect("objects lock")
            .insert(id.clone(), (kind, sim_id));
        id
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

    /// How many Graph objects have been created (tests check nothing is created twice).
    pub fn object_count(&self) -> usize {
        self.objects.lock().expect("objects lock").len()
    }

    pub(crate) fn lookup(&self, id: &str) -> Option<(Kind, ObjectId)> {
        self.objects.lock().expect("objects lock").get(id).cloned()
    }

    /// The Graph ids of every ad, in creation order.
    pub(crate) fn all_ads(&self) -> Vec<(String, ObjectId)> {
        let objects = self.objects.lock().expect("objects lock");
        let mut ads: Vec<_> = objects
            .iter()
            .filter(|(_, (k, _))| matches!(k, Kind::Ad { .. }))
            .map(|(id, (_, sim))| (id.clone(), sim.clone()))
            .collect();
        ads.sort();
        ads
    }

    /// The Graph ids of a campaign's ads, in creation order.
    pub(crate) fn ads_of(&self, campaign: &str) -> Vec<(String, ObjectId)> {
        let objects = self.objects.lock().expect("objects lock");
        let mut ads: Vec<_> = objects
            .iter()
            .filter(|(_, (k, _))| matches!(k, Kind::Ad { campaign: c } if c == campaign))
            .map(|(id, (_, sim))| (id.clone(), sim.clone()))
            .collect();
        ads.sort();
        ads
    }
}

/// The HTTP routes.
pub fn router(mock: Arc<Mock>) -> Router {
    let graph = Router::new()
        .route(
            "/{version}/{node}",
            post(graph::update_node)
                .get(graph::read_node)
                .delete(graph::delete_node),
        )
        .route(
            "/{version}/{node}/{edge}",
            post(graph::create_on_edge_or_start_report).get(graph::read_edge),
        )
        .layer(axum::middleware::from_fn_with_state(
            mock.clone(),
            faults::inject,
        ))
        // A batch of 10,000 customer-list rows is several MB of form body.
        .layer(DefaultBodyLimit::max(64 * 1024 * 1024));
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
        .merge(graph)
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
