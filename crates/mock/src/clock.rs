//! The client side of the mock's admin clock: a [`Clock`] that moves the mock server's
//! simulated time, so the scheduler can run days of delivery through HTTP in seconds.

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use adskew_core::clock::Clock;

pub struct MockClock {
    http: reqwest::Client,
    base_url: String,
    now: Mutex<DateTime<Utc>>,
}

impl MockClock {
    /// Reads the mock's current time from `GET {base_url}/__admin/clock`.
    pub async fn connect(base_url: &str) -> Result<MockClock, String> {
        let http = reqwest::Client::new();
        let url = format!("{}/__admin/clock", base_url.trim_end_matches('/'));
        let body: Value = http
            .get(&url)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let now = body
            .get("now")
            .and_then(Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .ok_or_else(|| format!("{url} did not return a time"))?;
        Ok(MockClock {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            now: Mutex::new(now.with_timezone(&Utc)),
        })
    }
}

#[async_trait]
impl Clock for MockClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().expect("clock lock")
    }

    async fn sleep_until(&self, t: DateTime<Utc>) {
        if t <= self.now() {
            return;
        }
        let url = format!("{}/__admin/clock", self.base_url);
        let moved = self
            .http
            .post(&url)
            .query(&[("to", t.to_rfc3339())])
            .send()
            .await;
        if let Err(e) = moved.and_then(|r| r.error_for_status()) {
            tracing::error!(error = %e, "could not move the mock's clock");
            return;
        }
        *self.now.lock().expect("clock lock") = t;
    }
}
