//! `MetaPlatform`: the [`Platform`] trait over Meta's Graph API, with reqwest (rustls).
//!
//! Objects are created PAUSED; insights are read once per breakdown at the campaign level
//! with `level=ad` (not once per ad), following `paging.next` until it is absent. Throttling
//! and transient errors are retried a bounded number of times; token, permission and
//! parameter errors fail at once with an explanation. An insights request Meta finds too
//! large ("Please reduce the amount of data you're asking for") is never sent again as it
//! was: smaller pages, then an async report run, and a failed run is split into halves (by
//! day for daily reads, else by ad) and run in parts. The access token is sent as the
//! `access_token` parameter (as Meta's SDKs do), never logged, and stripped from transport
//! errors, whose messages would otherwise carry the URL.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};

use super::error::GraphError;
use super::images::{self, LocalImage};
use super::usage::Usage;
use adskew_core::clock::Clock;
use adskew_core::money::{Currency, Money};
use adskew_core::platform::*;
use adskew_core::vocab::{AdCategory, Breakdown, Objective, Placement};

/// A secret that never prints.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Where and as whom to call the Graph API.
#[derive(Debug, Clone)]
pub struct MetaConfig {
    /// `https://graph.facebook.com`, or a loopback mock.
    pub base_url: String,
    /// `v27.0` (by default the newest, [`super::versions::LATEST`]).
    pub version: String,
    /// The ad account, with or without the `act_` prefix.
    pub account: String,
    pub page_id: String,
    pub token: Secret,
    /// Retries for throttling and transient errors.
    pub max_retries: u32,
    /// First back-off; doubled per retry.
    pub backoff: Duration,
    /// Insights rows per page (Meta's `limit`).
    pub page_size: u32,
    /// Client-side ceiling on calls per second, below Meta's: at most
    /// `max_calls_per_second` × `rate_window` calls in any sliding `rate_window`, each call
    /// inside a batch counted (see `pacing.rs`).
    pub max_calls_per_second: u32,
    /// The window the ceiling is counted over (1 s by default; a longer one lets a
    /// collection use the burst a platform's window allows).
    pub rate_window: Duration,
    /// When set, every call carries `appsecret_proof` (apps may require it).
    pub app_secret: Option<Secret>,
    /// A request with no answer after this long is abandoned and retried.
    pub request_timeout: Duration,
    /// Insights over more days than this are read through an async report run, which Meta
    /// recommends for large reports; shorter ranges are read synchronously.
    pub async_after_days: u32,
    /// How often to poll an async report run (doubling up to 16 times this).
    pub async_poll: Duration,
    /// How long one insights read may take through async report runs in all (a failed
    /// run's query is split and its parts run in turn, all within this) before giving up.
    pub async_timeout: Duration,
    /// Who benefits from and who pays for the ads, for the EU's Digital Services Act: Meta
    /// requires both on ad sets that reach the EU unless the account has defaults.
    pub dsa: Option<Dsa>,
    /// The server is `adskew mock-server`, whose simulated clock a run keeps (settings
    /// `meta.mock_clock`); never probed for otherwise.
    pub mock_clock: bool,
}

/// The defaults of the settings a user may change (`settings::MetaSettings`), here once so
/// that a configuration built in code ([`MetaConfig::new`]) and one read from a settings file
/// that leaves them out are the same.
pub mod defaults {
    /// Meta's Graph API.
    pub const BASE_URL: &str = "https://graph.facebook.com";
    /// Client-side calls per second, below Meta's limits for a standard-access app.
    pub const MAX_CALLS_PER_SECOND: u32 = 5;
    /// Insights over more days than this are read through an async report run.
    pub const ASYNC_AFTER_DAYS: u32 = 28;
    /// How long one insights read may take through async report runs in all.
    pub const ASYNC_TIMEOUT_MINUTES: u32 = 60;
}

/// Sent as ad sets' `dsa_beneficiary` and `dsa_payor` (Meta's DSA transparency fields).
pub use adskew_core::experiment::Dsa;

impl MetaConfig {
    /// This configuration for `exp`: the experiment's `[dsa]`, when it has one, takes the
    /// place of the settings' DSA defaults.
    pub fn for_experiment(mut self, exp: &adskew_core::experiment::Experiment) -> MetaConfig {
        if let Some(dsa) = &exp.dsa {
            self.dsa = Some(dsa.clone());
        }
        self
    }

    /// A configuration with the defaults a real account wants: 5 retries from 5 s, pages of
    /// 500 rows, and the settings' [`defaults`] (at most 5 calls per second, async reports
    /// beyond 28 days and for at most an hour, the newest API version).
    pub fn new(base_url: &str, account: &str, page_id: &str, token: Secret) -> MetaConfig {
        MetaConfig {
            base_url: base_url.to_string(),
            version: super::versions::LATEST.to_string(),
            account: account.to_string(),
            page_id: page_id.to_string(),
            token,
            max_retries: 5,
            backoff: Duration::from_secs(5),
            page_size: 500,
            max_calls_per_second: defaults::MAX_CALLS_PER_SECOND,
            rate_window: Duration::from_secs(1),
            app_secret: None,
            request_timeout: Duration::from_secs(120),
            async_after_days: defaults::ASYNC_AFTER_DAYS,
            async_poll: Duration::from_secs(2),
            async_timeout: Duration::from_secs(60 * u64::from(defaults::ASYNC_TIMEOUT_MINUTES)),
            dsa: None,
            mock_clock: false,
        }
    }
}

impl MetaConfig {
    /// Refuses plain `http://` except to a loopback address, so a token never crosses a
    /// network unencrypted.
    pub fn check(&self) -> Result<(), PlatformError> {
        let url = reqwest::Url::parse(&self.base_url)
            .map_err(|e| PlatformError::Config(format!("base URL {}: {e}", self.base_url)))?;
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => false,
        };
        match url.scheme() {
            "https" => Ok(()),
            "http" if loopback => Ok(()),
            _ => Err(PlatformError::Config(format!(
                "refusing {}: the token may only travel over https (plain http is allowed to loopback only)",
                self.base_url
            ))),
        }
    }

    /// `act_{id}`, the node every object is created on.
    pub fn account_node(&self) -> String {
        if self.account.starts_with("act_") {
            self.account.clone()
        } else {
            format!("act_{}", self.account)
        }
    }
}

#[derive(Debug, Default)]
struct Known {
    /// campaign id -> objective
    campaigns: BTreeMap<String, Objective>,
    /// ad set id -> campaign id
    ad_sets: BTreeMap<String, String>,
    /// campaign id -> the earliest start of its ad sets (spend is read from then on)
    starts: BTreeMap<String, DateTime<Utc>>,
    /// ad id -> campaign id
    ads: BTreeMap<String, String>,
}

impl Known {
    /// An ad set of a campaign: its campaign, and the campaign's earliest start.
    fn ad_set(&mut self, spec: &AdSetSpec, id: &ObjectId) {
        self.ad_sets.insert(id.0.clone(), spec.campaign.0.clone());
        let start = self
            .starts
            .entry(spec.campaign.0.clone())
            .or_insert(spec.start);
        *start = (*start).min(spec.start);
    }
}

pub struct MetaPlatform {
    http: reqwest::Client,
    pacer: super::pacing::Pacer,
    /// The highest quota utilisation the last response reported, in percent.
    last_usage_pct: Mutex<f64>,
    /// The app's access tier, as the last usage header that named it said.
    access_tier: Mutex<Option<String>>,
    pub(super) config: MetaConfig,
    /// Uploaded images: SHA-256 of the file -> Meta's `image_hash` (see `images.rs`).
    image_hashes: Mutex<BTreeMap<String, String>>,
    clock: Arc<dyn Clock>,
    known: Mutex<Known>,
    /// HTTP requests made (for the benchmark and tests); a batch is one.
    pub calls: std::sync::atomic::AtomicU64,
    /// Batch requests sent, and the calls inside them (each counts against Meta's limits).
    pub batches: std::sync::atomic::AtomicU64,
    pub batched_calls: std::sync::atomic::AtomicU64,
    /// Exchanges not yet handed to the store's archive.
    exchanges: Mutex<Vec<Exchange>>,
    /// The account's time zone and currency, read once.
    account: Mutex<Option<AccountInfo>>,
    /// Region name -> Meta's key, looked up once per name.
    region_keys: Mutex<BTreeMap<String, String>>,
    /// Insights page size: `page_size`, or the smaller one Meta last accepted after asking
    /// for less data, so later reads do not send what it refused.
    insights_page: std::sync::atomic::AtomicU32,
}

impl MetaPlatform {
    pub fn new(config: MetaConfig, clock: Arc<dyn Clock>) -> Result<MetaPlatform, PlatformError> {
        config.check()?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("adskew/", env!("CARGO_PKG_VERSION")))
            .timeout(config.request_timeout)
            // A redirect would resend the token to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| PlatformError::Config(format!("HTTP client: {}", e.without_url())))?;
        let per_window = (f64::from(config.max_calls_per_second) * config.rate_window.as_secs_f64())
            .floor()
            .max(1.0) as u64;
        let pacer = super::pacing::Pacer::new(per_window, config.rate_window);
        Ok(MetaPlatform {
            http,
            pacer,
            last_usage_pct: Mutex::new(0.0),
            access_tier: Mutex::new(None),
            image_hashes: Mutex::new(BTreeMap::new()),
            clock,
            known: Mutex::new(Known::default()),
            calls: Default::default(),
            batches: Default::default(),
            batched_calls: Default::default(),
            exchanges: Mutex::new(Vec::new()),
            account: Mutex::new(None),
            region_keys: Mutex::new(BTreeMap::new()),
            insights_page: std::sync::atomic::AtomicU32::new(config.page_size),
            config,
        })
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!(
            "{}/{}/{}",
            self.config.base_url.trim_end_matches('/'),
            self.config.version,
            path
        )
    }

    /// One Graph call with retries. `url` is absolute (paging URLs are followed as given,
    /// but only to the configured origin, and with any credentials in them replaced).
    /// Every attempt is kept as an [`Exchange`] for the store's archive, credentials
    /// redacted.
    pub(super) async fn call(
        &self,
        post: bool,
        url: &str,
        params: &[(String, String)],
    ) -> Result<Value, PlatformError> {
        self.call_with(post, url, params, None).await
    }

    /// [`MetaPlatform::call`] for a create on `edge` of an object named `name`: when an
    /// attempt fails in a way that leaves open whether Meta applied it (no answer, a 5xx, a
    /// transient error, a truncated body), the object is looked up by its name before the
    /// create is sent again, so a lost answer never makes a second object.
    async fn call_with(
        &self,
        post: bool,
        url: &str,
        params: &[(String, String)],
        create: Option<(&str, &str)>,
    ) -> Result<Value, PlatformError> {
        self.call_graph(post, url, params, create, 1)
            .await
            .map_err(Failure::into_platform)
    }

    /// [`MetaPlatform::call_with`], telling apart Meta's "ask for less data" ([`Failure`]),
    /// which is never retried unchanged: the same request would be refused again.
    async fn call_graph(
        &self,
        post: bool,
        url: &str,
        params: &[(String, String)],
        create: Option<(&str, &str)>,
        calls: usize,
    ) -> Result<Value, Failure> {
        let url = self.checked_url(url)?;
        let endpoint = format!("{} {}", if post { "POST" } else { "GET" }, url.path());
        let params = self.signed(params);
        let archived_request = redacted_params(&params);
        let mut attempt = 0;
        loop {
            let (graph, usage, message) = match self
                .send_archived(post, &url, &params, &archived_request, calls)
                .await
            {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if let Some(error) = graph.as_ref().filter(|g| asks_too_much(g)) {
                return Err(Failure::TooMuchData {
                    endpoint,
                    error: error.clone(),
                });
            }
            let retryable = graph.as_ref().is_none_or(GraphError::retryable);
            if !retryable || attempt >= self.config.max_retries {
                return Err(Failure::Failed(given_up(graph, usage, &message, attempt)));
            }
            if let Some(found) = self.created_after_all(graph.as_ref(), create).await? {
                return Ok(found);
            }
            let wait = self.backoff(attempt, &usage);
            // What failed and why, in Meta's words (never the URL's query: no credentials).
            let error = graph.as_ref().map_or(message, GraphError::explain);
            tracing::warn!(
                attempt,
                wait_ms = wait.as_millis() as u64,
                %endpoint,
                %error,
                "Meta call failed; retrying"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// `params` with the token and, when an app secret is set, its proof.
    fn signed(&self, params: &[(String, String)]) -> Vec<(String, String)> {
        let mut params = params.to_vec();
        params.push((
            "access_token".into(),
            self.config.token.expose().to_string(),
        ));
        if let Some(proof) = self.appsecret_proof() {
            params.push(("appsecret_proof".into(), proof));
        }
        params
    }

    /// One paced attempt of a request of `calls` Graph calls (a batch's count, else 1),
    /// kept as an [`Exchange`] with credentials and customer samples removed, so the
    /// archive holds every attempt and no secret.
    async fn send_archived(
        &self,
        post: bool,
        url: &reqwest::Url,
        params: &[(String, String)],
        archived_request: &str,
        calls: usize,
    ) -> Result<Value, (Option<GraphError>, Usage, String)> {
        // Held until the answer is in (see `pacing.rs`).
        let _permit = self.pace(calls).await;
        self.calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let request = if post {
            self.http.post(url.clone()).form(params)
        } else {
            self.http.get(url.clone()).query(params)
        };
        let mut exchange = Exchange {
            at: Utc::now(),
            elapsed_ms: 0,
            method: if post { "POST" } else { "GET" }.to_string(),
            url: url.to_string(),
            request: archived_request.to_string(),
            status: 0,
            trace_id: None,
            response: Vec::new(),
            error: None,
        };
        let started = std::time::Instant::now();
        let outcome = self.attempt(request, &mut exchange).await;
        exchange.elapsed_ms = started.elapsed().as_millis() as u64;
        if url.path().ends_with("/users") {
            scrub_samples(&mut exchange.response);
        }
        // Meta's `paging.next` URLs in a body carry the token: never archive it.
        for secret in self.secrets() {
            exchange.response = redact(&exchange.response, &secret);
        }
        self.exchanges
            .lock()
            .expect("exchanges lock")
            .push(exchange);
        outcome
    }

    /// For a create whose failure leaves open whether Meta applied it, the object found by
    /// its name (as Meta's answer would have been), so it is not created twice.
    async fn created_after_all(
        &self,
        graph: Option<&GraphError>,
        create: Option<(&str, &str)>,
    ) -> Result<Option<Value>, Failure> {
        let ambiguous = graph.is_none_or(|g| g.class() == super::error::ErrorClass::Transient);
        if let (true, Some((edge, name))) = (ambiguous, create) {
            if let Some(id) = Box::pin(self.lookup_by_name(edge, name)).await? {
                tracing::info!(edge, id = %id, "the create had succeeded; its answer was lost");
                return Ok(Some(json!({"id": id.0})));
            }
        }
        Ok(None)
    }

    /// Exponential back-off with jitter, so many clients do not retry in step, and never
    /// sooner than Meta's usage headers say the quota comes back.
    fn backoff(&self, attempt: u32, usage: &Usage) -> std::time::Duration {
        let backoff = self
            .config
            .backoff
            .mul_f64(2f64.powi(attempt as i32) * (0.5 + rand::random::<f64>()));
        usage.regain.map_or(backoff, |r| r.max(backoff))
    }

    /// Sends one request and reads its answer into `exchange`: the JSON on success, else
    /// the Graph error (if the body is one), the usage headers and a description.
    async fn attempt(
        &self,
        request: reqwest::RequestBuilder,
        exchange: &mut Exchange,
    ) -> Result<Value, (Option<GraphError>, Usage, String)> {
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                let message = e.without_url().to_string();
                exchange.error = Some(message.clone());
                return Err((None, Usage::default(), message));
            }
        };
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter_map(|(k, v)| {
                v.to_str()
                    .ok()
                    .map(|v| (k.as_str().to_string(), v.to_string()))
            })
            .collect();
        let usage = Usage::from_headers(headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        *self.last_usage_pct.lock().expect("usage lock") = usage.max_pct;
        if let Some(tier) = &usage.access_tier {
            *self.access_tier.lock().expect("tier lock") = Some(tier.clone());
        }
        exchange.trace_id = headers
            .iter()
            .find(|(k, _)| k == "x-fb-trace-id")
            .map(|(_, v)| v.clone());
        let status = response.status();
        exchange.status = status.as_u16();
        let body = match response.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => {
                let message = format!("reading the response: {}", e.without_url());
                exchange.error = Some(message.clone());
                return Err((None, usage, message));
            }
        };
        exchange.response = body;
        let parsed = serde_json::from_slice::<Value>(&exchange.response).ok();
        if exchange.trace_id.is_none() {
            exchange.trace_id = parsed
                .as_ref()
                .and_then(|v| v.pointer("/error/fbtrace_id"))
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        if status.is_success() {
            match parsed {
                Some(v) if v.get("error").is_none() => Ok(v),
                _ => Err((None, usage, format!("malformed response (HTTP {status})"))),
            }
        } else {
            let text = String::from_utf8_lossy(&exchange.response);
            match GraphError::from_body(&text) {
                Some(e) => Err((Some(e), usage, String::new())),
                None => Err((
                    None,
                    usage,
                    format!("HTTP {status} without a Graph error body"),
                )),
            }
        }
    }

    /// `url` parsed, refused unless it has the configured origin (a `paging.next` pointing
    /// elsewhere would otherwise receive the token), and stripped of credentials it carries
    /// (Meta's `paging.next` URLs include the token; it is added back as a parameter).
    fn checked_url(&self, url: &str) -> Result<reqwest::Url, PlatformError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| PlatformError::Protocol(format!("bad URL from the API: {e}")))?;
        let base = reqwest::Url::parse(&self.config.base_url)
            .map_err(|e| PlatformError::Config(format!("base URL: {e}")))?;
        if parsed.origin() != base.origin() {
            return Err(PlatformError::Protocol(format!(
                "refusing to follow {} (not {}): the token is only sent to the configured API",
                parsed.origin().ascii_serialization(),
                base.origin().ascii_serialization()
            )));
        }
        Ok(without_credentials(&parsed))
    }

    /// The strings that must never be archived: the token and the app secret proof, as
    /// written and as URL-encoded.
    fn secrets(&self) -> Vec<String> {
        let mut out = vec![self.config.token.expose().to_string()];
        out.extend(self.appsecret_proof());
        let encoded: Vec<String> = out
            .iter()
            .map(|s| url::form_urlencoded::byte_serialize(s.as_bytes()).collect())
            .collect();
        out.extend(encoded);
        out.retain(|s| !s.is_empty());
        out.dedup();
        out
    }

    /// This adapter's `appsecret_proof`, when an app secret is configured.
    fn appsecret_proof(&self) -> Option<String> {
        let secret = self.config.app_secret.as_ref()?;
        Some(appsecret_proof(secret.expose(), self.config.token.expose()))
    }

    /// Waits for room for `calls` calls in the pacer's window, and longer when Meta reports
    /// a quota above 75% used, so the account slows down before it is throttled rather
    /// than after.
    async fn pace(&self, calls: usize) -> super::pacing::Permit<'_> {
        let permit = self.pacer.acquire(calls).await;
        let pct = *self.last_usage_pct.lock().expect("usage lock");
        if pct > 75.0 {
            let extra = self.config.backoff.mul_f64(((pct - 75.0) / 25.0).min(4.0));
            tracing::info!(
                usage_pct = pct,
                wait_ms = extra.as_millis() as u64,
                "slowing down before Meta throttles"
            );
            tokio::time::sleep(extra).await;
        }
        permit
    }

    async fn create(
        &self,
        edge: &str,
        params: Vec<(String, String)>,
    ) -> Result<ObjectId, PlatformError> {
        let url = self.url(&format!("{}/{edge}", self.config.account_node()));
        let name = params
            .iter()
            .find(|(k, _)| k == "name")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let v = self
            .call_with(true, &url, &params, Some((edge, &name)))
            .await?;
        v.get("id")
            .and_then(Value::as_str)
            .map(|id| ObjectId(id.to_string()))
            .ok_or_else(|| {
                PlatformError::Protocol(format!("creating {edge}: no id in the response"))
            })
    }

    /// The object on `edge` (campaigns, adsets, adcreatives, ads) named exactly `name`, if
    /// there is one; an error if there are several (adskew will not guess).
    async fn lookup_by_name(
        &self,
        edge: &str,
        name: &str,
    ) -> Result<Option<ObjectId>, PlatformError> {
        let params = [
            ("fields".to_string(), "id,name".to_string()),
            (
                "filtering".to_string(),
                json!([{"field": "name", "operator": "EQUAL", "value": name}]).to_string(),
            ),
            ("limit".to_string(), "25".to_string()),
        ];
        let url = self.url(&format!("{}/{edge}", self.config.account_node()));
        let found: Vec<ObjectId> = self
            .read_all(&url, &params)
            .await?
            .iter()
            // Meta's EQUAL is exact, but a name check costs nothing.
            .filter(|o| o.get("name").and_then(Value::as_str) == Some(name))
            .filter_map(|o| o.get("id").and_then(Value::as_str))
            .map(|id| ObjectId(id.to_string()))
            .collect();
        match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.clone())),
            many => Err(PlatformError::Conflict(format!(
                "{} objects named `{name}` exist on the account ({}); adskew will not guess which is this run's",
                many.len(),
                many.iter().map(|m| m.0.as_str()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// Meta's key for a region: numbers are keys already; a name is looked up once with the
    /// targeting search (`GET /search?type=adgeolocation&location_types=["region"]`), and
    /// must match exactly one region of the audience's countries.
    async fn region_key(
        &self,
        countries: &[String],
        region: &str,
    ) -> Result<String, PlatformError> {
        if !region.is_empty() && region.chars().all(|c| c.is_ascii_digit()) {
            return Ok(region.to_string());
        }
        if let Some(key) = self.region_keys.lock().expect("regions lock").get(region) {
            return Ok(key.clone());
        }
        let params = [
            ("type".to_string(), "adgeolocation".to_string()),
            ("location_types".to_string(), json!(["region"]).to_string()),
            ("q".to_string(), region.to_string()),
            ("limit".to_string(), "50".to_string()),
        ];
        let found = self.call(false, &self.url("search"), &params).await?;
        let matches: Vec<(String, String)> = found
            .get("data")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|r| {
                r.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(region))
            })
            .filter(|r| {
                countries.is_empty()
                    || r.get("country_code").is_none()
                    || r.get("country_code")
                        .and_then(Value::as_str)
                        .is_some_and(|c| countries.iter().any(|x| x.eq_ignore_ascii_case(c)))
            })
            .filter_map(|r| {
                let key = match r.get("key")? {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                Some((
                    key,
                    r.get("country_code")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                ))
            })
            .collect();
        match matches.as_slice() {
            [(key, _)] => {
                self.region_keys
                    .lock()
                    .expect("regions lock")
                    .insert(region.to_string(), key.clone());
                Ok(key.clone())
            }
            [] => Err(PlatformError::Rejected {
                fields: vec!["targeting.geo_locations.regions".into()],
                message: format!(
                "Meta knows no region named `{region}` in {}; use the region's name as Meta spells it, or its key",
                countries.join(", ")
            )}),
            many => Err(PlatformError::Rejected {
                fields: vec!["targeting.geo_locations.regions".into()],
                message: format!(
                "`{region}` names {} regions ({}); give the key instead",
                many.len(),
                many.iter().map(|(k, c)| format!("{k} in {c}")).collect::<Vec<_>>().join(", ")
            )}),
        }
    }

    /// The account's currency from Meta's table; amounts go out in its unit.
    async fn currency(&self) -> Result<Currency, PlatformError> {
        let code = Platform::account(self).await?.currency.ok_or_else(|| {
            PlatformError::Protocol("the ad account did not report its currency".into())
        })?;
        Currency::parse(&code).ok_or_else(|| {
            PlatformError::Protocol(format!(
                "the ad account's currency {code} is not in Meta's currency table"
            ))
        })
    }

    /// A creative's params: link data (a local image uploaded once, a URL as it is) and
    /// every Advantage+ enhancement opted out.
    async fn creative_params(
        &self,
        spec: &CreativeSpec,
    ) -> Result<Vec<(String, String)>, PlatformError> {
        let mut link_data = json!({"link": spec.link, "message": spec.body, "name": spec.headline});
        if let Some(image) = &spec.image {
            if images::is_local_file(image) {
                let hash = self.upload_image(Path::new(image)).await?;
                link_data["image_hash"] = json!(hash);
            } else {
                link_data["picture"] = json!(image);
            }
        }
        let story = json!({"page_id": self.config.page_id, "link_data": link_data});
        Ok(vec![
            ("name".into(), spec.name.clone()),
            ("object_story_spec".into(), story.to_string()),
            (
                "degrees_of_freedom_spec".into(),
                super::creative::opt_out().to_string(),
            ),
        ])
    }

    /// The `image_hash` of a local image file, uploading it unless this run already did.
    pub async fn upload_image(&self, path: &Path) -> Result<String, PlatformError> {
        let image = LocalImage::read(path)?;
        if let Some(hash) = self
            .image_hashes
            .lock()
            .expect("images lock")
            .get(&image.content)
        {
            return Ok(hash.clone());
        }
        let url = self.url(&format!("{}/adimages", self.config.account_node()));
        let answer = self.call(true, &url, &image.upload_params()).await?;
        let hash = images::uploaded_hash(&answer, path)?;
        self.image_hashes
            .lock()
            .expect("images lock")
            .insert(image.content, hash.clone());
        Ok(hash)
    }

    /// An ad's params (created PAUSED) and its campaign's id.
    fn ad_params(&self, spec: &AdSpec) -> Result<(Vec<(String, String)>, String), PlatformError> {
        let campaign = self
            .known
            .lock()
            .expect("known lock")
            .ad_sets
            .get(&spec.ad_set.0)
            .cloned()
            .ok_or_else(|| PlatformError::UnknownObject(spec.ad_set.clone()))?;
        let params = vec![
            ("name".into(), spec.name.clone()),
            ("adset_id".into(), spec.ad_set.0.clone()),
            (
                "creative".into(),
                json!({"creative_id": spec.creative.0}).to_string(),
            ),
            ("status".into(), "PAUSED".into()),
        ];
        Ok((params, campaign))
    }

    /// The params of an ad set's create call: the experiment's one audience as Meta's
    /// targeting, the budget in the account currency's unit, the run's schedule, PAUSED.
    async fn ad_set_params(
        &self,
        spec: &AdSetSpec,
    ) -> Result<Vec<(String, String)>, PlatformError> {
        let objective = self
            .known
            .lock()
            .expect("known lock")
            .campaigns
            .get(&spec.campaign.0)
            .copied();
        let goal = match objective {
            Some(Objective::Reach) => "REACH",
            _ => "LINK_CLICKS",
        };
        let mut keys = Vec::new();
        for region in &spec.audience.regions {
            keys.push(self.region_key(&spec.audience.countries, region).await?);
        }
        let mut targeting = targeting_json(&spec.audience, &keys);
        // A customer-list audience (uploaded with `adskew audience upload`) narrows the
        // neutral audience to the people on the list.
        if let Some(audience) = &spec.audience.custom_audience {
            targeting["custom_audiences"] = json!([{ "id": audience }]);
        }
        let (budget_key, amount) = match spec.budget {
            BudgetSpec::Daily(m) => ("daily_budget", m),
            BudgetSpec::Lifetime(m) => ("lifetime_budget", m),
        };
        let mut params: Vec<(String, String)> = vec![
            ("name".into(), spec.name.clone()),
            ("campaign_id".into(), spec.campaign.0.clone()),
            (
                budget_key.into(),
                wire_amount(amount, self.currency().await?, budget_key)?,
            ),
            ("billing_event".into(), "IMPRESSIONS".into()),
            ("optimization_goal".into(), goal.into()),
            ("bid_strategy".into(), "LOWEST_COST_WITHOUT_CAP".into()),
            ("targeting".into(), targeting.to_string()),
            ("start_time".into(), spec.start.to_rfc3339()),
            ("end_time".into(), spec.end.to_rfc3339()),
            ("status".into(), "PAUSED".into()),
        ];
        if let Some(dsa) = &self.config.dsa {
            params.push(("dsa_beneficiary".into(), dsa.beneficiary.clone()));
            params.push(("dsa_payor".into(), dsa.payor.clone()));
        }
        Ok(params)
    }

    /// What the adapter keeps of an ad set it created: its campaign, and the campaign's
    /// earliest start (insights are read from it).
    fn note_ad_set(&self, spec: &AdSetSpec, id: &ObjectId) {
        self.known.lock().expect("known lock").ad_set(spec, id);
    }

    /// What the adapter keeps of an object a batch created (as its single create does).
    fn note_created(&self, spec: &ObjectSpec<'_>, id: &ObjectId) -> Result<(), PlatformError> {
        match spec {
            ObjectSpec::AdSet(s) => self.note_ad_set(s, id),
            ObjectSpec::Ad(s) => {
                let (_, campaign) = self.ad_params(s)?;
                self.known
                    .lock()
                    .expect("known lock")
                    .ads
                    .insert(id.0.clone(), campaign);
            }
            ObjectSpec::Creative(_) | ObjectSpec::Campaign(_) => {}
        }
        Ok(())
    }

    /// [`Self::check_enhancements`] for many creatives, read back in batches.
    async fn check_enhancements_many(&self, creatives: &[ObjectId]) -> Result<(), PlatformError> {
        for chunk in creatives.chunks(super::batch::MAX) {
            let reads: Vec<Value> = chunk.iter().map(|c| self.read_back_request(c)).collect();
            let answers = self.batch(&reads).await?;
            for (creative, answer) in chunk.iter().zip(answers) {
                self.check_read_back(creative, &answer).await?;
            }
        }
        Ok(())
    }

    /// The batch element that reads a creative's `degrees_of_freedom_spec` back.
    fn read_back_request(&self, creative: &ObjectId) -> Value {
        json!({"method": "GET", "relative_url":
            format!("{}/{}?fields=degrees_of_freedom_spec", self.config.version, creative.0)})
    }

    /// A creative's read-back answered in a batch: fine when every enhancement is off;
    /// enrolled or not answered, the single read decides (and explains).
    async fn check_read_back(
        &self,
        creative: &ObjectId,
        answer: &Value,
    ) -> Result<(), PlatformError> {
        let body: Option<Value> = answer
            .get("body")
            .and_then(Value::as_str)
            .and_then(|b| serde_json::from_str(b).ok());
        match body.and_then(|b| b.get("degrees_of_freedom_spec").cloned()) {
            Some(spec) if super::creative::still_enrolled(&spec).is_empty() => Ok(()),
            _ => self.check_enhancements(creative).await,
        }
    }

    /// Reads a new creative's `degrees_of_freedom_spec` back: Meta may keep a feature
    /// enrolled despite the opt-out, and an audit must not compare ads Meta rewrote.
    async fn check_enhancements(&self, creative: &ObjectId) -> Result<(), PlatformError> {
        let url = self.url(&creative.0);
        let answer = self
            .call(
                false,
                &url,
                &[("fields".to_string(), "degrees_of_freedom_spec".to_string())],
            )
            .await?;
        let spec = answer
            .get("degrees_of_freedom_spec")
            .cloned()
            .unwrap_or(Value::Null);
        let enrolled = super::creative::still_enrolled(&spec);
        if enrolled.is_empty() {
            return Ok(());
        }
        Err(PlatformError::rejected(format!(
            "Meta kept creative {} enrolled in Advantage+ creative features {}: Meta may alter the ad's text or image, \
             so the ads compared would not be the ads written. Nothing was activated; switch these off for the account \
             (Ads Manager: Advantage+ creative) or ask Meta support, then `adskew resume` the run",
            creative.0,
            enrolled.join(", ")
        )))
    }

    /// When a campaign began: its `start_time`, else its `created_time`.
    async fn campaign_start(&self, campaign: &ObjectId) -> Result<DateTime<Utc>, PlatformError> {
        let url = self.url(&campaign.0);
        let answer = self
            .call(
                false,
                &url,
                &[("fields".to_string(), "start_time,created_time".to_string())],
            )
            .await?;
        ["start_time", "created_time"]
            .iter()
            .filter_map(|k| answer.get(*k).and_then(Value::as_str))
            .find_map(|t| {
                DateTime::parse_from_rfc3339(t)
                    .or_else(|_| DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%z"))
                    .ok()
            })
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| {
                PlatformError::Protocol(format!(
                    "cannot read when campaign {} started (answer {answer}), so its spend is unknown",
                    campaign.0
                ))
            })
    }

    /// One batch request (`POST /{version}/` with `batch=[...]`): the answers in request
    /// order, `Value::Null` where Meta answered none.
    async fn batch(&self, requests: &[Value]) -> Result<Vec<Value>, PlatformError> {
        use std::sync::atomic::Ordering::Relaxed;
        self.batches.fetch_add(1, Relaxed);
        self.batched_calls.fetch_add(requests.len() as u64, Relaxed);
        let params = [(
            "batch".to_string(),
            Value::Array(requests.to_vec()).to_string(),
        )];
        // Each call in the batch counts against Meta's limits, so against the pacer's.
        let answer = self
            .call_graph(true, &self.url(""), &params, None, requests.len())
            .await
            .map_err(Failure::into_platform)?;
        let mut answers = answer.as_array().cloned().ok_or_else(|| {
            PlatformError::Protocol(format!("a batch request was answered with {answer}"))
        })?;
        answers.resize(requests.len(), Value::Null);
        Ok(answers)
    }

    /// `GET /{node}` with `params` (for `adskew doctor`'s checks), through the same retries,
    /// pacing and redaction as every other call.
    pub async fn read_node(
        &self,
        node: &str,
        params: &[(String, String)],
    ) -> Result<Value, PlatformError> {
        self.call(false, &self.url(node), params).await
    }

    /// The app's Marketing API access tier, once a response has named it.
    pub fn access_tier(&self) -> Option<String> {
        self.access_tier.lock().expect("tier lock").clone()
    }

    /// Asks Meta to check a campaign's parameters (`execution_options=["validate_only"]`)
    /// without creating it: the dry run's proof that the token, the account and the
    /// campaign settings are accepted. Ad sets, creatives and ads cannot be validated this
    /// way, as they need a campaign that exists.
    pub async fn validate_campaign(&self, spec: &CampaignSpec) -> Result<(), PlatformError> {
        let mut params = campaign_params(spec, self.currency().await?)?;
        params.push((
            "execution_options".into(),
            json!(["validate_only"]).to_string(),
        ));
        let url = self.url(&format!("{}/campaigns", self.config.account_node()));
        let answer = self.call(true, &url, &params).await?;
        if answer.get("success").and_then(Value::as_bool) == Some(true) {
            Ok(())
        } else {
            Err(PlatformError::Protocol(format!(
                "validate_only: unexpected answer {answer}"
            )))
        }
    }

    /// Every row of a campaign's ad-level insights for one breakdown (or none) and range.
    ///
    /// Short ranges are read synchronously, long ones (and any Meta answers as too large)
    /// through async report runs, which split themselves when they fail; see
    /// [`MetaPlatform::insights_sync`] and [`MetaPlatform::insights_async`]. The whole read,
    /// every report run and part included, must end within `async_timeout`.
    async fn insights(
        &self,
        campaign: &str,
        breakdown: Option<Breakdown>,
        since: NaiveDate,
        until: NaiveDate,
        daily: bool,
    ) -> Result<Vec<Value>, PlatformError> {
        let query = InsightsQuery {
            campaign: campaign.to_string(),
            breakdown,
            since,
            until,
            daily,
            ads: None,
        };
        let mut reading = Reading {
            deadline: std::time::Instant::now() + self.config.async_timeout,
            jobs: Vec::new(),
            ads: None,
        };
        let rows = if query.days() > i64::from(self.config.async_after_days) {
            self.insights_async(&query, &mut reading).await?
        } else {
            self.insights_sync(&query, &mut reading, true).await?
        };
        match incomplete(&rows, breakdown) {
            None => Ok(rows),
            // Since 2025-06-10 Meta leaves `reach` out of synchronous breakdown queries that
            // reach back more than 13 months; an async run keeps it (unless the rows came
            // from async runs already, which are never started twice).
            Some(_) if reading.jobs.is_empty() => {
                let rows = self.insights_async(&query, &mut reading).await?;
                match incomplete(&rows, breakdown) {
                    None => Ok(rows),
                    Some(why) => Err(PlatformError::Protocol(why)),
                }
            }
            Some(why) => Err(PlatformError::Protocol(why)),
        }
    }

    /// A synchronous insights read, every page. When Meta answers that it asks for too much
    /// data ([`asks_too_much`]), it is never sent again as it was: the read starts over with
    /// half the page size, down to [`MIN_PAGE_SIZE`], then (with `may_go_async`) goes
    /// through an async report run, which Meta recommends for large reports and which splits
    /// the query further if it fails.
    async fn insights_sync(
        &self,
        query: &InsightsQuery,
        reading: &mut Reading,
        may_go_async: bool,
    ) -> Result<Vec<Value>, PlatformError> {
        let url = self.url(&format!("{}/insights", query.campaign));
        match self
            .read_shrinking(&url, &query.params(self.insights_page_size()))
            .await
        {
            Ok(rows) => Ok(rows),
            Err(Failure::TooMuchData { endpoint, error }) if may_go_async => {
                tracing::warn!(
                    %endpoint,
                    error = %too_much(&error),
                    %query,
                    "Meta finds the insights query too large even in small pages; reading it through an async report run"
                );
                Box::pin(self.insights_async(query, reading)).await
            }
            Err(Failure::TooMuchData { endpoint, error }) => Err(PlatformError::rejected(format!(
                "{endpoint}: Meta finds the insights query for {query} too large even in pages of {MIN_PAGE_SIZE} rows, \
                 and its async report run failed: {}",
                too_much(&error)
            ))),
            Err(Failure::Failed(e)) => Err(e),
        }
    }
}

/// The smallest page size (`limit`) an insights read halves down to when Meta asks for less
/// data, before it tries an async report run.
pub const MIN_PAGE_SIZE: u32 = 25;

/// Every `effective_status` an ad can have: insights and ad lists filtered on all of them
/// keep ads archived or deleted since launch, which Meta leaves out by default.
const EVERY_STATUS: &[&str] = &[
    "ACTIVE",
    "PAUSED",
    "DELETED",
    "ARCHIVED",
    "PENDING_REVIEW",
    "DISAPPROVED",
    "PREAPPROVED",
    "PENDING_BILLING_INFO",
    "CAMPAIGN_PAUSED",
    "ADSET_PAUSED",
    "IN_PROCESS",
    "WITH_ISSUES",
];

/// The error of a call given up on: Meta's class becomes adskew's kind here, and only
/// here; no answer, a bare 5xx, a truncated or malformed body says how often it was tried.
fn given_up(graph: Option<GraphError>, usage: Usage, message: &str, attempt: u32) -> PlatformError {
    match graph {
        Some(e) => e.to_platform(usage.regain),
        None => PlatformError::Transient(format!("{message} after {} attempt(s)", attempt + 1)),
    }
}

/// Why a Graph call failed.
enum Failure {
    /// Meta asks for less data per request ([`asks_too_much`]): the same request would be
    /// refused again, so it is not retried; insights reads ask for less instead.
    TooMuchData { endpoint: String, error: GraphError },
    /// Anything else, retried already where retrying helps.
    Failed(PlatformError),
}

impl Failure {
    fn into_platform(self) -> PlatformError {
        match self {
            Failure::TooMuchData { endpoint, error } => PlatformError::rejected(format!(
                "{endpoint}: {} (the request asks for too much data at once)",
                too_much(&error)
            )),
            Failure::Failed(e) => e,
        }
    }
}

impl From<PlatformError> for Failure {
    fn from(e: PlatformError) -> Failure {
        Failure::Failed(e)
    }
}

/// A "too much data" error in Meta's words (code, message, trace id), without the advice
/// [`GraphError::explain`] gives for its code, which would call code 1 temporary.
fn too_much(e: &GraphError) -> String {
    format!(
        "Meta API error {}{}: {}{}",
        e.code,
        e.error_subcode.map(|s| format!("/{s}")).unwrap_or_default(),
        e.error_user_msg.as_deref().unwrap_or(&e.message),
        e.fbtrace_id
            .as_deref()
            .map(|t| format!(" [fbtrace_id {t}]"))
            .unwrap_or_default()
    )
}

/// Meta's ways of saying a request asks for too much data at once: "Please reduce the amount
/// of data you're asking for, then retry your request" (code 1 or 100 without a subcode,
/// HTTP 500 or 400; Airbyte's connector halves `limit` on it), 100/1487534 (the data-per-call
/// limit) and 100/1504018 (a synchronous insights query that timed out); Meta's advice for
/// all three is a smaller query or an async report run (research notes §4, §6).
fn asks_too_much(e: &GraphError) -> bool {
    let said = |t: &str| t.to_ascii_lowercase().contains("reduce the amount of data");
    (matches!(e.code, 1 | 100)
        && (said(&e.message) || e.error_user_msg.as_deref().is_some_and(said)))
        || (e.code == 100 && matches!(e.error_subcode, Some(1_487_534 | 1_504_018)))
}

/// One ad-level insights read of a campaign, and the ways it can be cut smaller.
#[derive(Debug, Clone, PartialEq)]
struct InsightsQuery {
    campaign: String,
    breakdown: Option<Breakdown>,
    since: NaiveDate,
    until: NaiveDate,
    /// One row per day (`time_increment=1`), else totals over the range.
    daily: bool,
    /// Only these ads (`filtering` on `ad.id`); every ad of the campaign when `None`.
    ads: Option<Vec<String>>,
}

impl InsightsQuery {
    fn days(&self) -> i64 {
        (self.until - self.since).num_days() + 1
    }

    fn params(&self, page_size: u32) -> Vec<(String, String)> {
        insights_params(
            self.breakdown,
            self.since,
            self.until,
            self.daily,
            self.ads.as_deref(),
            page_size,
        )
    }

    /// Two halves that together give exactly this query's rows: a daily read's date range
    /// (daily rows do not depend on the range around them), else its ads (rows are per
    /// ad); never a total's date range, since reach over a range is not the sum of its
    /// halves'. `None` for one ad's single day or total. `ads` are the campaign's ads.
    fn halves(&self, ads: &[String]) -> Option<[InsightsQuery; 2]> {
        if self.daily && self.since < self.until {
            let mid = self.since + chrono::Days::new(((self.days() - 1) / 2) as u64);
            let first = InsightsQuery {
                until: mid,
                ..self.clone()
            };
            let second = InsightsQuery {
                since: mid + chrono::Days::new(1),
                ..self.clone()
            };
            return Some([first, second]);
        }
        let ads = self.ads.as_deref().unwrap_or(ads);
        if ads.len() < 2 {
            return None;
        }
        let (a, b) = ads.split_at(ads.len() / 2);
        Some([
            InsightsQuery {
                ads: Some(a.to_vec()),
                ..self.clone()
            },
            InsightsQuery {
                ads: Some(b.to_vec()),
                ..self.clone()
            },
        ])
    }
}

impl std::fmt::Display for InsightsQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "campaign {} {}..{} {} by {}",
            self.campaign,
            self.since,
            self.until,
            if self.daily { "daily" } else { "total" },
            self.breakdown.map_or("nothing", |b| b.as_str()),
        )?;
        match &self.ads {
            Some(ads) => write!(f, ", ads {}", ads.join(",")),
            None => Ok(()),
        }
    }
}

/// The state of one insights read across its report runs and parts.
struct Reading {
    /// When every report run of the read must have ended (`async_timeout` from the start).
    deadline: std::time::Instant,
    /// The params of every report run started, so that none is started twice.
    jobs: Vec<Vec<(String, String)>>,
    /// The campaign's ads of every status, once listed (to split a query by ad).
    ads: Option<Vec<String>>,
}

/// The params of an ad-level insights read: link clicks (the clicks an audit means, not
/// all clicks), and every ad whatever its status, so ads archived or deleted since launch
/// stay in re-collections (Meta leaves them out by default; the Airbyte connector filters on
/// `ad.effective_status` for the same reason); with `ads`, only those ads.
fn insights_params(
    breakdown: Option<Breakdown>,
    since: NaiveDate,
    until: NaiveDate,
    daily: bool,
    ads: Option<&[String]>,
    page_size: u32,
) -> Vec<(String, String)> {
    let mut filtering =
        vec![json!({"field": "ad.effective_status", "operator": "IN", "value": EVERY_STATUS})];
    if let Some(ads) = ads {
        filtering.push(json!({"field": "ad.id", "operator": "IN", "value": ads}));
    }
    let mut params = vec![
        ("level".to_string(), "ad".to_string()),
        (
            "fields".to_string(),
            "ad_id,reach,impressions,inline_link_clicks,spend".to_string(),
        ),
        ("filtering".to_string(), Value::from(filtering).to_string()),
        (
            "time_range".to_string(),
            json!({"since": since.to_string(), "until": until.to_string()}).to_string(),
        ),
        (
            "time_increment".to_string(),
            if daily { "1" } else { "all_days" }.to_string(),
        ),
        ("limit".to_string(), page_size.to_string()),
    ];
    if let Some(b) = breakdown {
        params.push(("breakdowns".to_string(), json!([b.as_str()]).to_string()));
    }
    params
}

/// Why rows cannot be stored as they are: a row without the breakdown's value or without a
/// metric asked for would become an invented `unknown` group or a 0; such answers are
/// refused whole (and kept in the API archive), never stored.
fn incomplete(rows: &[Value], breakdown: Option<Breakdown>) -> Option<String> {
    for row in rows {
        if let Some(b) = breakdown {
            if row.get(b.as_str()).and_then(Value::as_str).is_none() {
                return Some(format!(
                    "an insights row has no `{}` value, so its group is unknown; nothing was stored: {row}",
                    b.as_str()
                ));
            }
        }
        for metric in ["reach", "impressions", "spend"] {
            if row.get(metric).is_none() {
                return Some(format!(
                    "Meta left `{metric}` out of an insights row; nothing was stored rather than a 0: {row}"
                ));
            }
        }
    }
    None
}

impl MetaPlatform {
    /// An insights read as an async report run, as Meta recommends for large reports:
    /// start the job, poll it with a growing interval until it ends, then read its pages.
    /// A job that fails is never started again as it was: the query is cut in two halves
    /// ([`InsightsQuery::halves`]: a daily read's date range, else its ads) and each half
    /// run on its own, splitting again if it fails; a part that cannot be cut (one ad's day
    /// or total) is read synchronously. Every job and part must end before the reading's
    /// deadline (`async_timeout`).
    async fn insights_async(
        &self,
        query: &InsightsQuery,
        reading: &mut Reading,
    ) -> Result<Vec<Value>, PlatformError> {
        let run = self.start_report_run(query, reading).await?;
        let job = self.finished_report_run(query, &run, reading).await?;
        let status = job
            .get("async_status")
            .and_then(Value::as_str)
            .unwrap_or("");
        if status == "Job Completed" {
            let limit = [("limit".to_string(), self.insights_page_size().to_string())];
            return self
                .read_shrinking(&self.url(&format!("{run}/insights")), &limit)
                .await
                .map_err(Failure::into_platform);
        }
        // Meta's reason, when the run gives one (`error_code`, `error_message`).
        let error = match (job.get("error_code"), job.get("error_message")) {
            (Some(code), Some(Value::String(m))) => format!("{m} (error_code {code})"),
            (_, Some(Value::String(m))) => m.clone(),
            _ => format!("`{status}`"),
        };
        self.after_failed_run(query, reading, &run, &error).await
    }

    /// What a reading that ran out of `meta.async_timeout_minutes` says.
    fn async_timeout(&self, query: &InsightsQuery, jobs: usize) -> String {
        format!(
            "async insights for {query} did not finish within {:?} in all \
             ({jobs} report run(s) started; setting meta.async_timeout_minutes)",
            self.config.async_timeout,
        )
    }

    /// Starts a report run for `query` (never the same job twice, never past the reading's
    /// deadline) and returns its id.
    async fn start_report_run(
        &self,
        query: &InsightsQuery,
        reading: &mut Reading,
    ) -> Result<String, PlatformError> {
        if std::time::Instant::now() >= reading.deadline {
            return Err(PlatformError::Transient(
                self.async_timeout(query, reading.jobs.len()),
            ));
        }
        let params = query.params(self.insights_page_size());
        if reading.jobs.contains(&params) {
            // adskew's own refusal to resend a job Meta failed: no platform kind fits.
            return Err(PlatformError::Other(format!(
                "an async report run for {query} was started once already; adskew does not start the same job twice"
            )));
        }
        reading.jobs.push(params.clone());
        let started = self
            .call(
                true,
                &self.url(&format!("{}/insights", query.campaign)),
                &params,
            )
            .await?;
        Ok(started
            .get("report_run_id")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                PlatformError::Protocol(format!("async insights: no report_run_id in {started}"))
            })?
            .to_string())
    }

    /// Polls report run `run` with a doubling wait until Meta says it completed, failed or
    /// was skipped, or the reading's deadline would pass.
    async fn finished_report_run(
        &self,
        query: &InsightsQuery,
        run: &str,
        reading: &Reading,
    ) -> Result<Value, PlatformError> {
        let mut wait = self.config.async_poll;
        loop {
            let job = self.call(false, &self.url(run), &[]).await?;
            let status = job
                .get("async_status")
                .and_then(Value::as_str)
                .unwrap_or("");
            if matches!(status, "Job Completed" | "Job Failed" | "Job Skipped") {
                return Ok(job);
            }
            if std::time::Instant::now() + wait > reading.deadline {
                return Err(PlatformError::Transient(format!(
                    "{} (report run {run} last `{status}`)",
                    self.async_timeout(query, reading.jobs.len())
                )));
            }
            tracing::debug!(run = %run, %status, wait_ms = wait.as_millis() as u64, "report run not finished");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(self.config.async_poll * 16);
        }
    }

    /// After report run `run` failed with `error`: its query in two halves, each its own
    /// run, or, when it cannot be cut smaller, read synchronously.
    async fn after_failed_run(
        &self,
        query: &InsightsQuery,
        reading: &mut Reading,
        run: &str,
        error: &str,
    ) -> Result<Vec<Value>, PlatformError> {
        if reading.ads.is_none() && query.ads.is_none() && !(query.daily && query.days() > 1) {
            reading.ads = Some(self.campaign_ads(&query.campaign).await?);
        }
        let endpoint = format!("POST /{}/{}/insights", self.config.version, query.campaign);
        match query.halves(reading.ads.as_deref().unwrap_or_default()) {
            Some([first, second]) => {
                tracing::warn!(
                    %endpoint,
                    run = %run,
                    %error,
                    %query,
                    parts = %format!("{first}; {second}"),
                    "async report run failed; running its query in two parts"
                );
                let mut rows = Box::pin(self.insights_async(&first, reading)).await?;
                rows.extend(Box::pin(self.insights_async(&second, reading)).await?);
                Ok(rows)
            }
            None => {
                tracing::warn!(
                    %endpoint,
                    run = %run,
                    %error,
                    %query,
                    "async report run failed and its query cannot be cut smaller; reading it synchronously"
                );
                Box::pin(self.insights_sync(query, reading, false)).await
            }
        }
    }

    /// The ids of a campaign's ads of every status (archived and deleted ones too).
    async fn campaign_ads(&self, campaign: &str) -> Result<Vec<String>, PlatformError> {
        let params = [
            ("fields".to_string(), "id".to_string()),
            (
                "effective_status".to_string(),
                json!(EVERY_STATUS).to_string(),
            ),
            ("limit".to_string(), self.config.page_size.to_string()),
        ];
        Ok(self
            .read_all(&self.url(&format!("{campaign}/ads")), &params)
            .await?
            .iter()
            .filter_map(|ad| ad.get("id").and_then(Value::as_str).map(str::to_string))
            .collect())
    }

    /// Every page of an insights read. When Meta says the request asks for too much data,
    /// the read starts over with half the page size (`limit`), down to [`MIN_PAGE_SIZE`];
    /// below that, the caller asks for less another way.
    async fn read_shrinking(
        &self,
        url: &str,
        params: &[(String, String)],
    ) -> Result<Vec<Value>, Failure> {
        let mut params = params.to_vec();
        loop {
            let limit = params
                .iter()
                .find(|(k, _)| k == "limit")
                .and_then(|(_, v)| v.parse::<u32>().ok())
                .unwrap_or(25);
            let (endpoint, error) = match self.read_pages(url, &params).await {
                Err(Failure::TooMuchData { endpoint, error }) => (endpoint, error),
                Ok(rows) => {
                    self.insights_page
                        .fetch_min(limit, std::sync::atomic::Ordering::Relaxed);
                    return Ok(rows);
                }
                other => return other,
            };
            if limit <= MIN_PAGE_SIZE {
                return Err(Failure::TooMuchData { endpoint, error });
            }
            let smaller = (limit / 2).max(MIN_PAGE_SIZE);
            tracing::warn!(
                %endpoint,
                error = %too_much(&error),
                limit,
                smaller,
                "Meta asks for less data per request; reading again with smaller pages"
            );
            params.retain(|(k, _)| k != "limit");
            params.push(("limit".to_string(), smaller.to_string()));
        }
    }

    fn insights_page_size(&self) -> u32 {
        self.insights_page
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Every row of a cursor-paged edge, following `paging.next` until it is absent.
    async fn read_all(
        &self,
        url: &str,
        params: &[(String, String)],
    ) -> Result<Vec<Value>, PlatformError> {
        self.read_pages(url, params)
            .await
            .map_err(Failure::into_platform)
    }

    async fn read_pages(
        &self,
        url: &str,
        params: &[(String, String)],
    ) -> Result<Vec<Value>, Failure> {
        let mut rows = Vec::new();
        let mut page = self.call_graph(false, url, params, None, 1).await?;
        loop {
            rows.extend(
                page.get("data")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
            );
            let Some(next) = page
                .pointer("/paging/next")
                .and_then(Value::as_str)
                .map(str::to_string)
            else {
                break;
            };
            // The next URL carries every parameter but the token.
            page = self.call_graph(false, &next, &[], None, 1).await?;
        }
        Ok(rows)
    }

    fn campaign_of_ads(&self, ads: &[ObjectId]) -> Result<Vec<String>, PlatformError> {
        let known = self.known.lock().expect("known lock");
        let mut campaigns: Vec<String> = Vec::new();
        for ad in ads {
            let c = known
                .ads
                .get(&ad.0)
                .ok_or_else(|| PlatformError::UnknownObject(ad.clone()))?;
            if !campaigns.contains(c) {
                campaigns.push(c.clone());
            }
        }
        Ok(campaigns)
    }
}

/// An ad set's targeting: the experiment's one neutral audience, exactly. Regions go by
/// Meta's keys. Advantage+ audience is switched off: since v23.0 Meta otherwise defaults it
/// on for default-looking targeting and widens the audience beyond what was specified,
/// which would make the eligible audience unknown.
fn targeting_json(audience: &adskew_core::experiment::Audience, region_keys: &[String]) -> Value {
    let mut geo = json!({"countries": audience.countries});
    if !region_keys.is_empty() {
        geo["regions"] = json!(region_keys
            .iter()
            .map(|k| json!({"key": k}))
            .collect::<Vec<_>>());
    }
    let mut targeting = json!({
        "geo_locations": geo,
        "age_min": audience.age_min,
        "age_max": audience.age_max,
        "targeting_automation": {"advantage_audience": 0},
    });
    // Chosen placements become Meta's publisher platforms and positions (Targeting
    // reference, "Placement"); none chosen leaves Meta's automatic placements.
    for p in &audience.placements {
        let (platform, key, position) = meta_placement(*p);
        push_unique(&mut targeting, "publisher_platforms", platform);
        push_unique(&mut targeting, key, position);
    }
    targeting
}

/// A placement as Meta's (publisher platform, positions field, position) [position names
/// from Meta's targeting reference; the spec table types them only as strings].
fn meta_placement(p: Placement) -> (&'static str, &'static str, &'static str) {
    use Placement::*;
    match p {
        FacebookFeed => ("facebook", "facebook_positions", "feed"),
        FacebookStories => ("facebook", "facebook_positions", "story"),
        FacebookReels => ("facebook", "facebook_positions", "facebook_reels"),
        FacebookVideoFeeds => ("facebook", "facebook_positions", "video_feeds"),
        FacebookMarketplace => ("facebook", "facebook_positions", "marketplace"),
        FacebookRightColumn => ("facebook", "facebook_positions", "right_hand_column"),
        FacebookSearch => ("facebook", "facebook_positions", "search"),
        InstagramFeed => ("instagram", "instagram_positions", "stream"),
        InstagramStories => ("instagram", "instagram_positions", "story"),
        InstagramReels => ("instagram", "instagram_positions", "reels"),
        InstagramExplore => ("instagram", "instagram_positions", "explore"),
        MessengerInbox => ("messenger", "messenger_positions", "messenger_home"),
        AudienceNetwork => ("audience_network", "audience_network_positions", "classic"),
    }
}

fn push_unique(targeting: &mut Value, key: &str, value: &str) {
    let list = targeting[key].as_array_mut();
    match list {
        Some(list) if list.iter().any(|v| v == value) => {}
        Some(list) => list.push(json!(value)),
        None => targeting[key] = json!([value]),
    }
}

/// The parameters of a campaign, created PAUSED, with the platform-side spend cap in the
/// account currency's unit.
fn campaign_params(
    spec: &CampaignSpec,
    currency: Currency,
) -> Result<Vec<(String, String)>, PlatformError> {
    // Meta's current names: credit is "financial products and services" since 2025-01-21
    // (Help Center 2220749868045706; the v25 spec's enum carries both).
    let categories = match spec.category {
        AdCategory::None => json!([]),
        AdCategory::Employment => json!(["EMPLOYMENT"]),
        AdCategory::Housing => json!(["HOUSING"]),
        AdCategory::Credit => json!(["FINANCIAL_PRODUCTS_SERVICES"]),
    };
    let objective = match spec.objective {
        Objective::Traffic => "OUTCOME_TRAFFIC",
        Objective::Reach => "OUTCOME_AWARENESS",
    };
    let mut params = vec![
        ("name".into(), spec.name.clone()),
        ("objective".into(), objective.into()),
        ("status".into(), "PAUSED".into()),
        ("special_ad_categories".into(), categories.to_string()),
        // Budgets are set per ad set (each ad its own), never shared: Meta requires the
        // choice to be explicit for campaigns without a campaign budget since v24.0.
        ("is_adset_budget_sharing_enabled".into(), "false".into()),
    ];
    // Required by Meta whenever a special ad category is declared.
    if spec.category != AdCategory::None {
        params.push((
            "special_ad_category_country".into(),
            json!(spec.countries).to_string(),
        ));
    }
    if let Some(cap) = spec.spend_cap {
        params.push(("spend_cap".into(), wire_amount(cap, currency, "spend_cap")?));
    }
    Ok(params)
}

/// Whether Meta refused a campaign's `spend_cap` (blamed, or named in an error of a code
/// adskew does not classify).
fn refuses_spend_cap(e: &PlatformError) -> bool {
    match e {
        PlatformError::Rejected { fields, message } => {
            fields.iter().any(|f| f == "spend_cap") || message.contains("spend_cap")
        }
        PlatformError::Other(message) => message.contains("spend_cap"),
        _ => false,
    }
}

/// An amount as Meta's integer in the account currency's unit (Meta's currency table).
fn wire_amount(amount: Money, currency: Currency, what: &str) -> Result<String, PlatformError> {
    currency
        .to_wire(amount)
        .map(|n| n.to_string())
        .ok_or_else(|| PlatformError::Rejected {
            fields: vec![what.to_string()],
            message: format!(
                "{what} {amount} {} is finer than Meta takes in {} (whole multiples of {})",
                currency.code,
                currency.code,
                currency.smallest()
            ),
        })
}

/// An ad's `effective_status`, and its review feedback and delivery issues in Meta's words.
/// What Meta's `effective_status` of an ad means for its delivery (Ad reference,
/// `effective_status` enum in the spec).
fn delivery_of(effective_status: &str) -> Delivery {
    match effective_status {
        "ACTIVE" => Delivery::Delivering,
        "PAUSED" | "ADSET_PAUSED" | "CAMPAIGN_PAUSED" | "ARCHIVED" | "DELETED" => Delivery::Paused,
        "PENDING_REVIEW" | "IN_PROCESS" | "PREAPPROVED" => Delivery::InReview,
        "DISAPPROVED" => Delivery::Rejected,
        "WITH_ISSUES" => Delivery::Limited,
        "PENDING_BILLING_INFO" => Delivery::Blocked,
        _ => Delivery::Other,
    }
}

fn review_of(ad: &Value) -> (String, Option<String>) {
    let status = ad
        .get("effective_status")
        .and_then(Value::as_str)
        .unwrap_or("UNKNOWN")
        .to_string();
    let mut problems = Vec::new();
    // {"global": {"Policy name": "explanation"}, "placement_specific": {...}}
    if let Some(feedback) = ad.get("ad_review_feedback").and_then(Value::as_object) {
        for scope in feedback.values().filter_map(Value::as_object) {
            for (policy, text) in scope {
                match text.as_str() {
                    Some(t) if !t.is_empty() => problems.push(format!("{policy}: {t}")),
                    _ => problems.push(policy.clone()),
                }
            }
        }
    }
    for issue in ad
        .get("issues_info")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(m) = issue
            .get("error_summary")
            .or_else(|| issue.get("error_message"))
            .and_then(Value::as_str)
        {
            problems.push(m.to_string());
        }
    }
    (status, (!problems.is_empty()).then(|| problems.join("; ")))
}

/// `appsecret_proof`: lowercase hex HMAC-SHA256 of the token keyed by the app secret, as
/// Meta checks it on every call of an app that requires it. One function for the adapter
/// that sends it and the mock that checks it, so the two cannot drift apart.
pub fn appsecret_proof(app_secret: &str, token: &str) -> String {
    adskew_core::digest::hmac_sha256_hex(app_secret, token)
}

/// Parameters whose values are credentials: never archived, logged or followed.
const CREDENTIALS: [&str; 2] = ["access_token", "appsecret_proof"];

/// Parameters archived as their size and SHA-256 only: a customer list's hashed people
/// (`payload`, pseudonymous personal data that the store must not keep) and an image's
/// bytes (megabytes; the hash identifies the file).
const SUMMARISED: [&str; 2] = ["payload", "bytes"];

/// The parameters as a JSON object for the archive, credentials redacted.
fn redacted_params(params: &[(String, String)]) -> String {
    let map: serde_json::Map<String, Value> = params
        .iter()
        .map(|(k, v)| {
            let v = if CREDENTIALS.contains(&k.as_str()) {
                "[redacted]".to_string()
            } else if SUMMARISED.contains(&k.as_str()) {
                format!(
                    "[{} bytes, sha256 {}]",
                    v.len(),
                    adskew_core::digest::sha256_hex(v)
                )
            } else {
                v.clone()
            };
            (k.clone(), Value::String(v))
        })
        .collect();
    Value::Object(map).to_string()
}

/// `body` with every occurrence of `secret` replaced by `[redacted]`.
fn redact(body: &[u8], secret: &str) -> Vec<u8> {
    let needle = secret.as_bytes();
    if needle.is_empty() || body.len() < needle.len() {
        return body.to_vec();
    }
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i..].starts_with(needle) {
            out.extend_from_slice(b"[redacted]");
            i += needle.len();
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    out
}

/// Meta's answer to a customer-list upload echoes rejected rows (`invalid_entry_samples`):
/// the archive keeps only how many there were.
fn scrub_samples(body: &mut Vec<u8>) {
    if let Ok(mut v) = serde_json::from_slice::<Value>(body) {
        if let Some(samples) = v.get_mut("invalid_entry_samples") {
            let n = samples
                .as_object()
                .map_or_else(|| samples.as_array().map_or(0, Vec::len), |o| o.len());
            *samples = json!(format!("[{n} sample(s) not archived]"));
            *body = v.to_string().into_bytes();
        }
    }
}

/// `url` without credentials in its query string.
fn without_credentials(url: &reqwest::Url) -> reqwest::Url {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !CREDENTIALS.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut clean = url.clone();
    if kept.is_empty() {
        clean.set_query(None);
    } else {
        clean.query_pairs_mut().clear().extend_pairs(kept);
    }
    clean
}

fn count(row: &Value, key: &str) -> u64 {
    row.get(key)
        .and_then(|v| {
            v.as_str()
                .and_then(|s| s.parse().ok())
                .or_else(|| v.as_u64())
        })
        .unwrap_or(0)
}

#[async_trait]
impl Platform for MetaPlatform {
    fn name(&self) -> &'static str {
        "meta"
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    async fn create_campaign(&self, spec: &CampaignSpec) -> Result<ObjectId, PlatformError> {
        let currency = self.currency().await?;
        let id = match self
            .create("campaigns", campaign_params(spec, currency)?)
            .await
        {
            // Meta's minimum campaign cap is $100 or its local equivalent: below it the
            // campaign runs without the backstop, and the collector's cap alone applies.
            Err(why) if spec.spend_cap.is_some() && refuses_spend_cap(&why) => {
                tracing::warn!(
                    "Meta refused the campaign spend cap ({why}); creating the campaign without \
                     a platform-side cap: only adskew's collections enforce spend_cap"
                );
                let without = CampaignSpec {
                    spend_cap: None,
                    ..spec.clone()
                };
                self.create("campaigns", campaign_params(&without, currency)?)
                    .await?
            }
            other => other?,
        };
        self.known
            .lock()
            .expect("known lock")
            .campaigns
            .insert(id.0.clone(), spec.objective);
        Ok(id)
    }

    async fn create_ad_set(&self, spec: &AdSetSpec) -> Result<ObjectId, PlatformError> {
        let params = self.ad_set_params(spec).await?;
        let id = self.create("adsets", params).await?;
        self.note_ad_set(spec, &id);
        Ok(id)
    }

    async fn create_creative(&self, spec: &CreativeSpec) -> Result<ObjectId, PlatformError> {
        let params = self.creative_params(spec).await?;
        let id = self.create("adcreatives", params).await?;
        self.check_enhancements(&id).await?;
        Ok(id)
    }

    /// Creatives, ad sets and ads in batch requests packed by Meta's two rules
    /// ([`super::batch::pack`]: at most 50 calls, at most one ad set of a campaign), so 200
    /// ads' creatives ride along with their ad sets; campaigns are created alone (answered
    /// `None`). Each creative created is read back for its Advantage+ opt-outs in the room
    /// later batches leave, the rest in batches of their own. Every call is independent of
    /// the others in its batch: Meta's dependencies (`{result=...}`) are not relied on.
    async fn create_many(
        &self,
        specs: &[ObjectSpec<'_>],
    ) -> Result<Vec<Option<ObjectId>>, PlatformError> {
        let mut requests = Vec::with_capacity(specs.len());
        for spec in specs {
            let (edge, params) = match spec {
                ObjectSpec::Creative(s) => ("adcreatives", self.creative_params(s).await?),
                ObjectSpec::AdSet(s) => ("adsets", self.ad_set_params(s).await?),
                ObjectSpec::Ad(s) => ("ads", self.ad_params(s)?.0),
                ObjectSpec::Campaign(_) => {
                    requests.push(None);
                    continue;
                }
            };
            requests.push(Some(json!({
                "method": "POST",
                "relative_url": format!("{}/{}/{edge}", self.config.version, self.config.account_node()),
                "body": serde_urlencoded::to_string(&params).unwrap_or_default(),
            })));
        }
        let exclusive: Vec<Option<&str>> = specs
            .iter()
            .zip(&requests)
            .map(|(spec, request)| match spec {
                ObjectSpec::AdSet(s) if request.is_some() => Some(s.campaign.0.as_str()),
                _ => None,
            })
            .collect();
        let sendable: Vec<usize> = (0..specs.len())
            .filter(|&i| requests[i].is_some())
            .collect();
        let mut out: Vec<Option<ObjectId>> = vec![None; specs.len()];
        // Creatives created but not yet read back: their reads fill the room later batches
        // leave (a batch of one ad set has room for 49), the rest go in batches of their own.
        let mut unread: std::collections::VecDeque<ObjectId> = Default::default();
        for batch in super::batch::pack(&sendable, |i| exclusive[i]) {
            let reading: Vec<ObjectId> = (batch.len()..super::batch::MAX)
                .map_while(|_| unread.pop_front())
                .collect();
            let sent: Vec<Value> = batch
                .iter()
                .filter_map(|&i| requests[i].clone())
                .chain(reading.iter().map(|c| self.read_back_request(c)))
                .collect();
            let mut answers = self.batch(&sent).await?.into_iter();
            for (&i, answer) in batch.iter().zip(answers.by_ref()) {
                out[i] = super::batch::created_id(&answer);
                if let Some(id) = &out[i] {
                    self.note_created(&specs[i], id)?;
                    if matches!(specs[i], ObjectSpec::Creative(_)) {
                        unread.push_back(id.clone());
                    }
                }
            }
            for (creative, answer) in reading.iter().zip(answers) {
                self.check_read_back(creative, &answer).await?;
            }
        }
        self.check_enhancements_many(unread.make_contiguous())
            .await?;
        Ok(out)
    }

    async fn create_ad(&self, spec: &AdSpec) -> Result<ObjectId, PlatformError> {
        let (params, campaign) = self.ad_params(spec)?;
        let id = self.create("ads", params).await?;
        self.known
            .lock()
            .expect("known lock")
            .ads
            .insert(id.0.clone(), campaign);
        Ok(id)
    }

    async fn set_status(&self, object: &ObjectId, status: Status) -> Result<(), PlatformError> {
        let value = match status {
            Status::Active => "ACTIVE",
            Status::Paused => "PAUSED",
        };
        let answer = self
            .call(
                true,
                &self.url(&object.0),
                &[("status".into(), value.into())],
            )
            .await?;
        // Meta answers {"success": true}; anything else means the status did not change,
        // which matters most for a pause at the spend cap.
        if answer.get("success").and_then(Value::as_bool) != Some(true) {
            return Err(PlatformError::Protocol(format!(
                "setting {object} to {value}: Meta did not confirm ({answer})"
            )));
        }
        Ok(())
    }

    /// Status changes in batch requests of at most 50 (Graph API "Batch requests"): each
    /// element is answered on its own, and any element not confirmed (an error, or `null`
    /// when Meta did not get to it) is sent again alone, so every object ends in `status`
    /// or the call fails. Status changes are idempotent, so sending one twice is harmless.
    async fn set_statuses(
        &self,
        objects: &[ObjectId],
        status: Status,
    ) -> Result<(), PlatformError> {
        let value = match status {
            Status::Active => "ACTIVE",
            Status::Paused => "PAUSED",
        };
        for chunk in objects.chunks(super::batch::MAX) {
            let requests: Vec<Value> = chunk
                .iter()
                .map(|o| {
                    json!({"method": "POST", "relative_url": format!("{}/{}", self.config.version, o.0),
                           "body": format!("status={value}")})
                })
                .collect();
            let answers = self.batch(&requests).await?;
            for (object, answer) in chunk.iter().zip(answers) {
                if !super::batch::confirmed(&answer) {
                    tracing::warn!(object = %object, "batch status change not confirmed; sending it alone");
                    self.set_status(object, status).await?;
                }
            }
        }
        Ok(())
    }

    async fn account(&self) -> Result<AccountInfo, PlatformError> {
        if let Some(info) = self.account.lock().expect("account lock").clone() {
            return Ok(info);
        }
        let url = self.url(&self.config.account_node());
        let answer = self
            .call(
                false,
                &url,
                &[("fields".to_string(), "timezone_name,currency".to_string())],
            )
            .await?;
        let name = answer
            .get("timezone_name")
            .and_then(Value::as_str)
            .unwrap_or("UTC");
        let time_zone = name.parse::<chrono_tz::Tz>().map_err(|_| {
            PlatformError::Protocol(format!("the account's time zone `{name}` is not known"))
        })?;
        let info = AccountInfo {
            time_zone,
            currency: answer
                .get("currency")
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        *self.account.lock().expect("account lock") = Some(info.clone());
        Ok(info)
    }

    async fn find(&self, spec: ObjectSpec<'_>) -> Result<Option<ObjectId>, PlatformError> {
        let edge = match spec {
            ObjectSpec::Campaign(_) => "campaigns",
            ObjectSpec::AdSet(_) => "adsets",
            ObjectSpec::Creative(_) => "adcreatives",
            ObjectSpec::Ad(_) => "ads",
        };
        let found = self.lookup_by_name(edge, spec.name()).await?;
        if let Some(id) = &found {
            self.remember(spec, id);
        }
        Ok(found)
    }

    fn remember(&self, spec: ObjectSpec<'_>, id: &ObjectId) {
        let mut known = self.known.lock().expect("known lock");
        match spec {
            ObjectSpec::Campaign(c) => {
                known.campaigns.insert(id.0.clone(), c.objective);
            }
            ObjectSpec::AdSet(s) => known.ad_set(s, id),
            ObjectSpec::Creative(_) => {}
            ObjectSpec::Ad(a) => {
                if let Some(campaign) = known.ad_sets.get(&a.ad_set.0).cloned() {
                    known.ads.insert(id.0.clone(), campaign);
                }
            }
        }
    }

    async fn ad_reviews(&self, ads: &[ObjectId]) -> Result<Vec<AdReview>, PlatformError> {
        let mut found = BTreeMap::new();
        for campaign in self.campaign_of_ads(ads)? {
            let params = [
                (
                    "fields".to_string(),
                    "id,effective_status,ad_review_feedback,issues_info".to_string(),
                ),
                ("limit".to_string(), self.config.page_size.to_string()),
            ];
            for row in self
                .read_all(&self.url(&format!("{campaign}/ads")), &params)
                .await?
            {
                if let Some(id) = row.get("id").and_then(Value::as_str) {
                    found.insert(id.to_string(), review_of(&row));
                }
            }
        }
        ads.iter()
            .map(|ad| {
                let (platform_status, problem) =
                    found.remove(&ad.0).ok_or_else(|| PlatformError::NotFound {
                        object: ad.clone(),
                        message: format!(
                            "ad {ad} is missing from its campaign's ads (deleted on the platform?)"
                        ),
                    })?;
                Ok(AdReview {
                    ad: ad.clone(),
                    delivery: delivery_of(&platform_status),
                    platform_status,
                    problem,
                })
            })
            .collect()
    }

    async fn delivery(&self, query: &DeliveryQuery) -> Result<Vec<DeliveryRow>, PlatformError> {
        let mut out = Vec::new();
        for campaign in self.campaign_of_ads(&query.ads)? {
            let daily = query.granularity == Period::Day;
            for row in self
                .insights(
                    &campaign,
                    Some(query.breakdown),
                    query.since,
                    query.until,
                    daily,
                )
                .await?
            {
                let ad = ObjectId(
                    row.get("ad_id")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                );
                if !query.ads.contains(&ad) {
                    continue;
                }
                let date = |k: &str| {
                    row.get(k)
                        .and_then(Value::as_str)
                        .and_then(|d| d.parse().ok())
                };
                let (Some(date_start), Some(date_stop)) = (date("date_start"), date("date_stop"))
                else {
                    return Err(PlatformError::Protocol(format!(
                        "insights row without dates: {row}"
                    )));
                };
                let spend_text = row.get("spend").and_then(Value::as_str).unwrap_or("0");
                out.push(DeliveryRow {
                    ad,
                    date_start,
                    date_stop,
                    breakdown: query.breakdown,
                    // Checked present by `incomplete`; unknown values are kept as reported.
                    value: row
                        .get(query.breakdown.as_str())
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    reach: count(&row, "reach"),
                    impressions: count(&row, "impressions"),
                    // Link clicks [unverified: whether Meta leaves the field out, rather than
                    // sending "0", for rows without a click; absent counts as none].
                    clicks: count(&row, "inline_link_clicks"),
                    spend: Money::parse_decimal(spend_text).ok_or_else(|| {
                        PlatformError::Protocol(format!("spend `{spend_text}` is not an amount"))
                    })?,
                });
            }
        }
        Ok(out)
    }

    /// Every query read at once, the pacer their one gate: a query's pages go one after
    /// another (each cursor comes from the answer before), so while one waits for its
    /// answer another's page uses the window. Every read runs to its end, so a failure
    /// leaves no request half-archived, and the first failure in the queries' order is
    /// the answer, as when they are read in turn.
    async fn deliveries(
        &self,
        queries: &[DeliveryQuery],
    ) -> Result<Vec<Vec<DeliveryRow>>, PlatformError> {
        futures_util::future::join_all(queries.iter().map(|q| self.delivery(q)))
            .await
            .into_iter()
            .collect()
    }

    fn take_exchanges(&self) -> Vec<Exchange> {
        std::mem::take(&mut *self.exchanges.lock().expect("exchanges lock"))
    }

    async fn spend(&self, campaign: &ObjectId) -> Result<Money, PlatformError> {
        let start = self
            .known
            .lock()
            .expect("known lock")
            .starts
            .get(&campaign.0)
            .copied();
        // A campaign this process did not launch (a resumed run, another collector): its
        // start is read from Meta, never assumed; unreadable, the spend is an error, not 0.
        let start = match start {
            Some(start) => start,
            None => self.campaign_start(campaign).await?,
        };
        // Meta reads date ranges in the account's time zone.
        let tz = self.account().await?.time_zone;
        let rows = self
            .insights(
                &campaign.0,
                None,
                start.with_timezone(&tz).date_naive(),
                self.now().with_timezone(&tz).date_naive(),
                false,
            )
            .await?;
        let mut total = Money::ZERO;
        for row in rows {
            let text = row.get("spend").and_then(Value::as_str).unwrap_or("0");
            total += Money::parse_decimal(text).ok_or_else(|| {
                PlatformError::Protocol(format!("spend `{text}` is not an amount"))
            })?;
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `effective_status` an ad can have in Meta's published spec means something to
    /// adskew: a new status Meta adds shows up here, not as `other` in a paper's table.
    #[test]
    fn every_ad_status_in_metas_spec_has_a_delivery() {
        let spec: Value =
            serde_json::from_str(include_str!("../../mock/src/spec/graph.json")).unwrap();
        let statuses = spec["enums"]["Ad_effective_status"].as_array().unwrap();
        assert!(statuses.len() >= 10, "{statuses:?}");
        for s in statuses {
            let s = s.as_str().unwrap();
            assert_ne!(delivery_of(s), Delivery::Other, "{s}");
        }
        assert_eq!(delivery_of("DISAPPROVED"), Delivery::Rejected);
        assert_eq!(delivery_of("ACTIVE"), Delivery::Delivering);
    }

    #[test]
    fn money_strings_parse_exactly() {
        assert_eq!(Money::parse_decimal("12.34"), Some(Money(1234)));
        assert_eq!(Money::parse_decimal("0.5"), Some(Money(50)));
        assert_eq!(Money::parse_decimal("7"), Some(Money(700)));
        assert_eq!(Money::parse_decimal("1.234"), None);
        assert_eq!(Money::parse_decimal("abc"), None);
    }

    #[test]
    fn too_much_data_is_told_apart_from_transient_errors() {
        let body = |b: &str| GraphError::from_body(b).unwrap();
        // Meta's answer as the Airbyte connector matches it: code 1, no subcode, HTTP 500.
        let reduce = body(
            r#"{"error":{"message":"Please reduce the amount of data you're asking for, then retry your request","type":"OAuthException","code":1,"fbtrace_id":"T"}}"#,
        );
        assert!(asks_too_much(&reduce) && reduce.retryable());
        assert!(
            !too_much(&reduce).contains("temporary"),
            "{}",
            too_much(&reduce)
        );
        assert!(asks_too_much(&body(
            r#"{"error":{"message":"(#100) Please reduce the amount of data you're asking for, then retry your request","code":100}}"#
        )));
        assert!(asks_too_much(&body(
            r#"{"error":{"message":"(#100) Too much data","code":100,"error_subcode":1487534}}"#
        )));
        assert!(!asks_too_much(&body(
            r#"{"error":{"message":"An unknown error occurred","code":1}}"#
        )));
        assert!(!asks_too_much(&body(
            r#"{"error":{"message":"(#2) Service temporarily unavailable","code":2,"is_transient":true}}"#
        )));
    }

    #[test]
    fn queries_split_by_day_when_daily_else_by_ad_and_never_cut_a_total_s_days() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        let daily = InsightsQuery {
            campaign: "1".into(),
            breakdown: Some(Breakdown::Gender),
            since: day(1),
            until: day(5),
            daily: true,
            ads: None,
        };
        let ads: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let [a, b] = daily.halves(&ads).unwrap();
        assert_eq!(
            (a.since, a.until, b.since, b.until),
            (day(1), day(3), day(4), day(5))
        );
        assert_eq!(a.ads, None);
        let one_day = InsightsQuery {
            until: day(1),
            ..daily.clone()
        };
        let [a, b] = one_day.halves(&ads).unwrap();
        assert_eq!(
            (a.ads.unwrap(), b.ads.unwrap()),
            (
                vec!["a".to_string()],
                vec!["b".to_string(), "c".to_string()]
            )
        );
        let total = InsightsQuery {
            daily: false,
            ..daily.clone()
        };
        let [a, b] = total.halves(&ads).unwrap();
        assert_eq!(
            (a.since, a.until),
            (total.since, total.until),
            "a total keeps its range"
        );
        assert_eq!(
            a.ads.as_ref().unwrap().len() + b.ads.as_ref().unwrap().len(),
            3
        );
        let single = InsightsQuery {
            ads: Some(vec!["a".into()]),
            ..total.clone()
        };
        assert!(single.halves(&ads).is_none());
        let params = b.params(50);
        let filtering = &params.iter().find(|(k, _)| k == "filtering").unwrap().1;
        assert!(
            filtering.contains("ad.effective_status") && filtering.contains(r#""ad.id""#),
            "{filtering}"
        );
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let config = |url: &str| MetaConfig::new(url, "1000", "1", Secret::new("t"));
        assert!(config("https://graph.facebook.com").check().is_ok());
        assert!(config("http://127.0.0.1:8080").check().is_ok());
        assert!(config("http://localhost:8080").check().is_ok());
        assert!(config("http://graph.facebook.com").check().is_err());
        assert!(config("http://10.0.0.1").check().is_err());
        assert_eq!(format!("{:?}", config("https://x").token), "[redacted]");
        assert_eq!(config("https://x").account_node(), "act_1000");
    }

    #[test]
    fn targeting_is_exactly_the_audience_with_advantage_audience_off() {
        let audience = adskew_core::experiment::Audience {
            countries: vec!["US".into()],
            regions: vec!["North Carolina".into()],
            age_min: 18,
            age_max: 65,
            custom_audience: None,
            placements: Vec::new(),
        };
        let t = targeting_json(&audience, &["3843".to_string()]);
        assert_eq!(t["targeting_automation"]["advantage_audience"], 0);
        assert!(
            t.get("publisher_platforms").is_none(),
            "automatic placements"
        );
        let chosen = adskew_core::experiment::Audience {
            placements: vec![
                adskew_core::vocab::Placement::FacebookFeed,
                adskew_core::vocab::Placement::InstagramReels,
                adskew_core::vocab::Placement::FacebookStories,
            ],
            ..audience
        };
        let t = targeting_json(&chosen, &["3843".to_string()]);
        assert_eq!(t["publisher_platforms"], json!(["facebook", "instagram"]));
        assert_eq!(t["facebook_positions"], json!(["feed", "story"]));
        assert_eq!(t["instagram_positions"], json!(["reels"]));
        assert_eq!(t["geo_locations"]["regions"], json!([{"key": "3843"}]));
        assert_eq!(t["geo_locations"]["countries"], json!(["US"]));
        assert!(t.get("genders").is_none(), "all genders");
    }

    #[test]
    fn review_feedback_is_read_in_metas_words() {
        let ad = json!({"id": "1", "effective_status": "DISAPPROVED",
            "ad_review_feedback": {"global": {"Employment": "Ads may not exclude by gender"}},
            "issues_info": [{"error_summary": "Ad rejected", "level": "AD"}]});
        assert_eq!(
            review_of(&ad),
            (
                "DISAPPROVED".to_string(),
                Some("Employment: Ads may not exclude by gender; Ad rejected".to_string())
            )
        );
        assert_eq!(review_of(&json!({"effective_status": "ACTIVE"})).1, None);
    }

    #[test]
    fn credentials_are_stripped_and_redacted() {
        let url = reqwest::Url::parse(
            "https://graph.facebook.com/v25.0/1/insights?limit=5&access_token=SECRET&after=abc&appsecret_proof=P",
        )
        .unwrap();
        assert_eq!(
            without_credentials(&url).as_str(),
            "https://graph.facebook.com/v25.0/1/insights?limit=5&after=abc"
        );
        assert_eq!(
            redact(b"{\"next\":\"...?access_token=SECRET&after=2\"}", "SECRET"),
            b"{\"next\":\"...?access_token=[redacted]&after=2\"}".to_vec()
        );
        let archived = redacted_params(&[
            ("name".into(), "x".into()),
            ("access_token".into(), "SECRET".into()),
        ]);
        assert!(!archived.contains("SECRET") && archived.contains("[redacted]"));
        let payload = r#"{"schema":["EMAIL"],"data":[["836f82db99121b3481011f16b49dfa5fbc714a0d1b1b9f784a1ebbbf5b39577f"]]}"#;
        let archived = redacted_params(&[("payload".into(), payload.into())]);
        assert!(
            !archived.contains("836f82db") && archived.contains("sha256"),
            "customer-list hashes are not archived: {archived}"
        );
    }

    #[tokio::test]
    async fn appsecret_proof_is_hmac_sha256_of_the_token() {
        let mut config = MetaConfig::new("https://x", "1", "1", Secret::new("token-123"));
        config.app_secret = Some(Secret::new("app-secret"));
        let meta = MetaPlatform::new(config, Arc::new(adskew_core::clock::WallClock)).unwrap();
        // python3 -c "import hmac,hashlib; print(hmac.new(b'app-secret', b'token-123', hashlib.sha256).hexdigest())"
        assert_eq!(
            meta.appsecret_proof().unwrap(),
            "fe175a04c90a44651c43e687608dcc779f306c5d07be7fa7f0a085cd068ed621"
        );
        // Following a paging URL to another origin would hand it the token.
        assert!(meta
            .checked_url("https://evil.example/v25.0/1/insights")
            .unwrap_err()
            .to_string()
            .contains("refusing"));
    }
}
