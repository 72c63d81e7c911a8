//! Fault injection: the failures a nightly collector meets on the real API, on demand.
//!
//! Each Graph request draws, deterministically from `seed` and the request's number, whether
//! it fails and how: throttled (code 80004 with a usage header, HTTP 400, as Meta does),
//! transient (code 2, `is_transient`, HTTP 500) or a gateway error without a Graph body
//! (HTTP 502). A failing request is rejected before it reaches the simulator, so nothing is
//! half-done. Every successful response carries usage headers.
//!
//! ```toml
//! # faults.toml, for `adskew mock-server --faults faults.toml`
//! seed = 7
//! throttle = 0.1    # share of requests throttled
//! transient = 0.05  # share failing with a transient error
//! gateway = 0.02    # share answered by a bare 502
//! async_polls = 3   # polls an async report run stays "Job Running" (default 1)
//! async_fail = 0.2  # share of async report runs that end "Job Failed"
//! async_fail_over_rows = 40   # async report runs of more rows than this end "Job Failed"
//! max_insights_rows = 50      # a synchronous insights page of more rows: "reduce the amount of data"
//! malformed = 0.02  # share of GETs answered 200 with truncated JSON
//! delay = 0.02      # share of GETs held delay_secs (default 30) before being served
//! lost_answer = 0.05   # share of creates carried out whose answer is lost (bare 502)
//! slow_create = 0.05   # share of creates carried out at once but answered after delay_secs
//! expire_token_after = 500   # the token expires (190/463) after this many requests
//! rate_limit = 300           # Meta's limit enforced: calls per rate_window_secs (default 60)
//! unknown_age = 0.02   # share of each age row's delivery reported under age "Unknown"
//! teen_age = 0.001     # share reported under "13-17" although targeting starts at 18
//! enrolled_features = ["image_touchups"]  # Advantage+ creative features Meta keeps on
//!
//! [account]            # what `adskew doctor` finds (see `account.rs`; healthy by default)
//! token_expires_in_days = 3
//! token_scopes = ["ads_read"]
//! account_status = 2
//! funding = false
//! spend_limit = 20000
//! access_tier = "development_access"
//! pages = ["2000"]
//! ```

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::Mock;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub throttle: f64,
    #[serde(default)]
    pub transient: f64,
    #[serde(default)]
    pub gateway: f64,
    /// Polls an async report run answers "Job Running" before "Job Completed" (a slow job).
    #[serde(default = "one")]
    pub async_polls: u32,
    /// Share of async report runs that end "Job Failed".
    #[serde(default)]
    pub async_fail: f64,
    /// Async report runs whose report would have more rows than this end "Job Failed"
    /// (0: off), while smaller runs of the same query complete: Meta's advice for large
    /// reports is a shorter range or fewer ids (research notes §4); the size at which a live
    /// account's jobs fail is not published.
    #[serde(default)]
    pub async_fail_over_rows: u32,
    /// A synchronous insights page that would carry more rows than this is answered as Meta
    /// answers a query too large to serve: HTTP 500, code 1, "Please reduce the amount of
    /// data you're asking for, then retry your request" (0: off). A smaller `limit`, an
    /// async report run or a smaller query is served.
    #[serde(default)]
    pub max_insights_rows: u32,
    /// Share of GET requests answered 200 with a truncated JSON body.
    #[serde(default)]
    pub malformed: f64,
    /// Share of GET requests held for `delay_secs` before they are served, so a client with
    /// a shorter timeout gives up (and retries). Creation requests are never delayed: a
    /// create that times out but succeeds is the crash case that idempotency keys handle.
    #[serde(default)]
    pub delay: f64,
    #[serde(default = "default_delay_secs")]
    pub delay_secs: f64,
    /// Share of creation requests that are carried out but whose answer is lost (a bare
    /// 502, as when a gateway times out after the backend committed): the case a client
    /// must not answer by creating the object again.
    #[serde(default)]
    pub lost_answer: f64,
    /// Share of creation requests carried out at once but answered only after `delay_secs`
    /// (a window in which a client killed has created an object it never heard of).
    #[serde(default)]
    pub slow_create: f64,
    /// After this many requests, the token has expired (code 190, subcode 463) for good.
    #[serde(default)]
    pub expire_token_after: Option<u64>,
    /// Meta's rate limit, enforced: at most this many calls per `rate_window_secs` (sliding,
    /// in real time); beyond it, code 80004 with usage headers saying when access returns.
    /// Every answer reports the share of the window used. 0 means no limit.
    #[serde(default)]
    pub rate_limit: u32,
    #[serde(default = "default_window")]
    pub rate_window_secs: f64,
    /// Share of each age row's delivery that insights report under age `Unknown`, as Meta
    /// does for people whose age it does not know (research notes §9.2, demographic edge
    /// cases; the share on a live account is not published).
    #[serde(default)]
    pub unknown_age: f64,
    /// Share reported under `13-17` even when targeting starts at 18 [inferred possibility,
    /// research notes §9.2: kept configurable].
    #[serde(default)]
    pub teen_age: f64,
    /// Advantage+ creative features the account keeps enrolled whatever a creative's
    /// `degrees_of_freedom_spec` asks (as an account-level default can), read back as
    /// `OPT_IN`.
    #[serde(default)]
    pub enrolled_features: Vec<String>,
    /// The account, token and page `adskew doctor` checks.
    #[serde(default)]
    pub account: super::account::AccountConfig,
}

fn default_delay_secs() -> f64 {
    30.0
}

fn default_window() -> f64 {
    60.0
}

fn one() -> u32 {
    1
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            seed: 0,
            throttle: 0.0,
            transient: 0.0,
            gateway: 0.0,
            async_polls: 1,
            async_fail: 0.0,
            async_fail_over_rows: 0,
            max_insights_rows: 0,
            malformed: 0.0,
            delay: 0.0,
            delay_secs: default_delay_secs(),
            lost_answer: 0.0,
            slow_create: 0.0,
            expire_token_after: None,
            rate_limit: 0,
            rate_window_secs: default_window(),
            unknown_age: 0.0,
            teen_age: 0.0,
            enrolled_features: Vec::new(),
            account: Default::default(),
        }
    }
}

impl Faults {
    pub fn load(path: &Path) -> Result<Faults, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let faults: Faults =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let total = faults.throttle + faults.transient + faults.gateway;
        if [
            faults.throttle,
            faults.transient,
            faults.gateway,
            faults.async_fail,
            faults.malformed,
            faults.delay,
            faults.lost_answer,
            faults.slow_create,
            faults.unknown_age,
            faults.teen_age,
        ]
        .iter()
        .any(|r| !(0.0..=1.0).contains(r))
            || total > 1.0
        {
            return Err(format!(
                "{}: rates must be in [0, 1], and throttle + transient + gateway at most 1",
                path.display()
            ));
        }
        let window_ok = faults.rate_window_secs > 0.0 && faults.rate_window_secs.is_finite();
        let delay_ok = faults.delay_secs >= 0.0 && faults.delay_secs.is_finite();
        if !window_ok || !delay_ok {
            return Err(format!(
                "{}: rate_window_secs must be positive and delay_secs non-negative",
                path.display()
            ));
        }
        Ok(faults)
    }
}

/// A uniform number in [0, 1) for request `n` (SplitMix64).
pub(crate) fn draw(seed: u64, n: u64) -> f64 {
    let mut x = seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

fn usage_header(kind: &str, call_pct: u64, regain_minutes: u64, tier: &str) -> HeaderValue {
    header(
        json!({"1000": [{"type": kind, "call_count": call_pct, "total_cputime": call_pct / 2,
        "total_time": call_pct / 2, "estimated_time_to_regain_access": regain_minutes,
        "ads_api_access_tier": tier}]}),
    )
}

fn header(value: serde_json::Value) -> HeaderValue {
    HeaderValue::from_str(&value.to_string()).expect("JSON is a valid header value")
}

/// Middleware on the Graph routes: the token's expiry, the rate limit, then the random
/// faults, each answered as Meta answers it; requests that pass reach the handlers.
pub async fn inject(State(mock): State<Arc<Mock>>, request: Request, next: Next) -> Response {
    let n = mock.requests.fetch_add(1, Ordering::Relaxed);
    let f = &mock.faults.read().expect("faults lock").clone();
    let insights = request.uri().path().ends_with("/insights");
    if f.expire_token_after.is_some_and(|after| n >= after) {
        mock.faulted.fetch_add(1, Ordering::Relaxed);
        let body = json!({"error": {"message": "Error validating access token: Session has expired on Monday, 23-Nov-26 09:00:00 PST.",
            "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "AdskewMockFault"}});
        return with_trace_id((StatusCode::BAD_REQUEST, Json(body)).into_response(), n);
    }
    let used_pct = match mock.rate.admit(f) {
        Admission::Unlimited => (n % 1000) / 10,
        Admission::Admitted { used_pct } => used_pct,
        Admission::Refused { reset_secs } => {
            mock.throttled.fetch_add(1, Ordering::Relaxed);
            return with_trace_id(over_the_limit(f, insights, reset_secs), n);
        }
    };
    let u = draw(f.seed, n);
    if u < f.throttle + f.transient + f.gateway {
        mock.faulted.fetch_add(1, Ordering::Relaxed);
        return random_fault(f, u, n);
    }
    let mut response = match served(&mock, f, n, request, next).await {
        Ok(r) => r,
        Err(fault) => return fault,
    };
    response.headers_mut().insert(
        "x-business-use-case-usage",
        usage_header(
            if insights {
                "ads_insights"
            } else {
                "ads_management"
            },
            used_pct,
            0,
            &f.account.access_tier,
        ),
    );
    if insights {
        response.headers_mut().insert(
            "x-fb-ads-insights-throttle",
            header(json!({"app_id_util_pct": used_pct, "acc_id_util_pct": used_pct, "ads_api_access_tier": f.account.access_tier})),
        );
    }
    with_trace_id(response, n)
}

/// Meta's answer to a call over the rate limit: code 80000 (insights) or 80004, with
/// usage headers saying when access comes back.
fn over_the_limit(f: &Faults, insights: bool, reset_secs: f64) -> Response {
    let (code, kind) = if insights {
        (80000, "ads_insights")
    } else {
        (80004, "ads_management")
    };
    let body = json!({"error": {"message": format!("(#{code}) There have been too many calls to this ad-account. Wait a bit and try again."),
        "type": "OAuthException", "code": code, "error_subcode": 2446079, "fbtrace_id": "AdskewMockThrottle"}});
    let mut r = (StatusCode::BAD_REQUEST, Json(body)).into_response();
    // Meta gives the regain time in whole minutes; the account header has seconds.
    r.headers_mut().insert(
        "x-business-use-case-usage",
        usage_header(
            kind,
            100,
            (reset_secs / 60.0).floor() as u64,
            &f.account.access_tier,
        ),
    );
    r.headers_mut().insert(
        "x-ad-account-usage",
        header(json!({"acc_id_util_pct": 100, "reset_time_duration": reset_secs.ceil()})),
    );
    r
}

/// The fault drawn for request `n` (`u` below throttle + transient + gateway): a
/// throttle, a transient error or a bare 502.
fn random_fault(f: &Faults, u: f64, n: u64) -> Response {
    if u < f.throttle {
        let body = json!({"error": {"message": "(#80004) There have been too many calls to this ad-account. Wait a bit and try again.",
            "type": "OAuthException", "code": 80004, "error_subcode": 2446079, "fbtrace_id": "AdskewMockFault"}});
        let mut r = (StatusCode::BAD_REQUEST, Json(body)).into_response();
        r.headers_mut().insert(
            "x-business-use-case-usage",
            usage_header("ads_management", 100, 0, &f.account.access_tier),
        );
        with_trace_id(r, n)
    } else if u < f.throttle + f.transient {
        let body = json!({"error": {"message": "(#2) Service temporarily unavailable", "type": "OAuthException",
            "code": 2, "is_transient": true, "fbtrace_id": "AdskewMockFault"}});
        with_trace_id(
            (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response(),
            n,
        )
    } else {
        bad_gateway()
    }
}

fn bad_gateway() -> Response {
    (
        StatusCode::BAD_GATEWAY,
        "<html><body>502 Bad Gateway</body></html>",
    )
        .into_response()
}

/// The request served by the handlers, perhaps with a fault of the answer: a create
/// applied but its answer lost or slow, a GET held, a truncated body. `Err` is an answer
/// sent as it is (without usage headers).
async fn served(
    mock: &Mock,
    f: &Faults,
    n: u64,
    request: Request,
    next: Next,
) -> Result<Response, Response> {
    let is_get = request.method() == axum::http::Method::GET;
    let is_create = request.method() == axum::http::Method::POST
        && request.uri().path().contains("/act_")
        && ["/campaigns", "/adsets", "/adcreatives", "/ads"]
            .iter()
            .any(|edge| request.uri().path().ends_with(edge));
    if is_create && draw(f.seed ^ 0x5105, n) < f.lost_answer + f.slow_create {
        mock.faulted.fetch_add(1, Ordering::Relaxed);
        let applied = next.run(request).await;
        if draw(f.seed ^ 0x5105, n) < f.lost_answer {
            return Err(bad_gateway());
        }
        tokio::time::sleep(std::time::Duration::from_secs_f64(f.delay_secs)).await;
        Ok(applied)
    } else if is_get && draw(f.seed ^ 0xDE1A, n) < f.delay {
        // Held, then served; a client that gave up has dropped the connection by then.
        mock.faulted.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(std::time::Duration::from_secs_f64(f.delay_secs)).await;
        Ok(next.run(request).await)
    } else if is_get && draw(f.seed ^ 0xBAD0, n) < f.malformed {
        mock.faulted.fetch_add(1, Ordering::Relaxed);
        Err(with_trace_id(
            (
                StatusCode::OK,
                [("content-type", "application/json")],
                "{\"data\": [{\"ad_id\": \"12",
            )
                .into_response(),
            n,
        ))
    } else {
        Ok(next.run(request).await)
    }
}

/// The mock's rate limiter: the times of the calls admitted within the window.
#[derive(Debug, Default)]
pub struct RateLimit {
    admitted: std::sync::Mutex<std::collections::VecDeque<std::time::Instant>>,
}

enum Admission {
    Unlimited,
    Admitted { used_pct: u64 },
    Refused { reset_secs: f64 },
}

impl RateLimit {
    fn admit(&self, f: &Faults) -> Admission {
        if f.rate_limit == 0 {
            return Admission::Unlimited;
        }
        let window = std::time::Duration::from_secs_f64(f.rate_window_secs);
        let now = std::time::Instant::now();
        let mut admitted = self.admitted.lock().expect("rate lock");
        while admitted
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            admitted.pop_front();
        }
        if admitted.len() >= f.rate_limit as usize {
            let oldest = *admitted.front().expect("non-empty at the limit");
            let reset = window.saturating_sub(now.duration_since(oldest));
            return Admission::Refused {
                reset_secs: reset.as_secs_f64(),
            };
        }
        admitted.push_back(now);
        Admission::Admitted {
            used_pct: (admitted.len() as u64 * 100) / u64::from(f.rate_limit),
        }
    }
}

/// Meta tags every answer with `x-fb-trace-id`, which support asks for; the mock's are
/// numbered by request.
fn with_trace_id(mut response: Response, n: u64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("AdskewMock{n:08}")) {
        response.headers_mut().insert("x-fb-trace-id", v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_uniform_and_deterministic() {
        let n = 20_000;
        let below: usize = (0..n).filter(|i| draw(7, *i) < 0.25).count();
        assert!((4_700..5_300).contains(&below), "{below}");
        assert_eq!(draw(7, 42), draw(7, 42));
        assert_ne!(draw(7, 42), draw(8, 42));
    }

    #[test]
    fn fault_files_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("f.toml");
        std::fs::write(&good, "seed = 3\nthrottle = 0.1\ntransient = 0.05\n").unwrap();
        assert_eq!(Faults::load(&good).unwrap().throttle, 0.1);
        std::fs::write(&good, "max_insights_rows = 50\nasync_fail_over_rows = 40\n").unwrap();
        let sized = Faults::load(&good).unwrap();
        assert_eq!(
            (sized.max_insights_rows, sized.async_fail_over_rows),
            (50, 40)
        );
        let bad = dir.path().join("g.toml");
        std::fs::write(&bad, "throttle = 0.9\ngateway = 0.5\n").unwrap();
        assert!(Faults::load(&bad).unwrap_err().contains("at most 1"));
        std::fs::write(&bad, "rate_limit = 10\nrate_window_secs = 0\n").unwrap();
        assert!(Faults::load(&bad).unwrap_err().contains("rate_window_secs"));
        std::fs::write(&bad, "throtle = 0.1\n").unwrap();
        assert!(Faults::load(&bad).unwrap_err().contains("throtle"));
    }
}
