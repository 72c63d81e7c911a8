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
        ]
        .iter()
        .any(|r| !(0.0..=1.0).contains(r))
            || total > 1.0
        {
            return Err(format!(
                "{}: rates must be in [0, 1] and sum to at most 1",
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

fn usage_header(call_pct: u64, regain_minutes: u64) -> HeaderValue {
    let value = json!({"1000": [{"type": "ads_management", "call_count": call_pct, "total_cputime": call_pct / 2,
        "total_time": call_pct / 2, "estimated_time_to_regain_access": regain_minutes}]});
    HeaderValue::from_str(&value.to_string()).expect("JSON is a valid header value")
}

/// Middleware on the Graph routes.
pub async fn inject(State(mock): State<Arc<Mock>>, request: Request, next: Next) -> Response {
    let n = mock.requests.fetch_add(1, Ordering::Relaxed);
    let f = &mock.faults;
    let u = draw(f.seed, n);
    if u < f.throttle + f.transient + f.gateway {
        mock.faulted.fetch_add(1, Ordering::Relaxed);
    }
    let mut response = if u < f.throttle {
        let body = json!({"error": {"message": "(#80004) There have been too many calls to this ad-account. Wait a bit and try again.",
            "type": "OAuthException", "code": 80004, "error_subcode": 2446079, "fbtrace_id": "AdskewMockFault"}});
        let mut r = (StatusCode::BAD_REQUEST, Json(body)).into_response();
        r.headers_mut()
            .insert("x-business-use-case-usage", usage_header(100, 0));
        return with_trace_id(r, n);
    } else if u < f.throttle + f.transient {
        let body = json!({"error": {"message": "(#2) Service temporarily unavailable", "type": "OAuthException",
            "code": 2, "is_transient": true, "fbtrace_id": "AdskewMockFault"}});
        return with_trace_id(
            (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response(),
            n,
        );
    } else if u < f.throttle + f.transient + f.gateway {
        return (
            StatusCode::BAD_GATEWAY,
            "<html><body>502 Bad Gateway</body></html>",
        )
            .into_response();
    } else {
        next.run(request).await
    };
    // A rough utilisation: requests so far, modulo an hourly-ish window of 1,000 calls.
    response.headers_mut().insert(
        "x-business-use-case-usage",
        usage_header((n % 1000) / 10, 0),
    );
    with_trace_id(response, n)
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
        let bad = dir.path().join("g.toml");
        std::fs::write(&bad, "throttle = 0.9\ngateway = 0.5\n").unwrap();
        assert!(Faults::load(&bad).unwrap_err().contains("sum"));
        std::fs::write(&bad, "throtle = 0.1\n").unwrap();
        assert!(Faults::load(&bad).unwrap_err().contains("throtle"));
    }
}
