//! Rate-limit usage headers. Meta reports how much of each quota a call has used, as JSON in
//! response headers; adskew slows down before it is throttled and, when throttled, waits
//! for the regain time they give (research notes §5.2). Headers can lag behind the real
//! state, so they complement the error codes, never replace them.

use std::time::Duration;

use serde_json::Value;

/// The usage one response reported, reduced to what pacing needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    /// The highest utilisation of any quota, in percent (0 to 100+).
    pub max_pct: f64,
    /// The longest wait Meta asked for before access is regained.
    pub regain: Option<Duration>,
    /// The app's Marketing API access tier (`standard_access` or `development_access`, whose
    /// rate limits are far lower), when a header names it.
    pub access_tier: Option<String>,
}

impl Usage {
    /// Parses the usage headers present among `headers` (name, value), case-insensitively.
    /// Malformed values are ignored: a header never fails a request.
    pub fn from_headers<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Usage {
        let mut usage = Usage::default();
        for (name, value) in headers {
            let Ok(json) = serde_json::from_str::<Value>(value) else {
                continue;
            };
            match name.to_ascii_lowercase().as_str() {
                "x-app-usage" => {
                    for key in ["call_count", "total_time", "total_cputime"] {
                        usage.pct(json.get(key));
                    }
                }
                "x-ad-account-usage" => {
                    usage.tier(&json);
                    usage.pct(json.get("acc_id_util_pct"));
                    // reset_time_duration is in seconds.
                    if usage_f64(json.get("acc_id_util_pct")) >= 100.0 {
                        usage.wait(
                            json.get("reset_time_duration")
                                .and_then(Value::as_f64)
                                .map(Duration::from_secs_f64),
                        );
                    }
                }
                "x-fb-ads-insights-throttle" => {
                    usage.pct(json.get("app_id_util_pct"));
                    usage.pct(json.get("acc_id_util_pct"));
                }
                "x-business-use-case-usage" => {
                    let Some(accounts) = json.as_object() else {
                        continue;
                    };
                    for entries in accounts.values() {
                        for entry in entries.as_array().into_iter().flatten() {
                            usage.tier(entry);
                            for key in ["call_count", "total_time", "total_cputime"] {
                                usage.pct(entry.get(key));
                            }
                            // estimated_time_to_regain_access is in minutes.
                            let minutes = entry
                                .get("estimated_time_to_regain_access")
                                .and_then(Value::as_f64);
                            usage.wait(
                                minutes
                                    .filter(|m| *m > 0.0)
                                    .map(|m| Duration::from_secs_f64(m * 60.0)),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        usage
    }

    fn tier(&mut self, json: &Value) {
        if let Some(t) = json.get("ads_api_access_tier").and_then(Value::as_str) {
            self.access_tier = Some(t.to_string());
        }
    }

    fn pct(&mut self, v: Option<&Value>) {
        self.max_pct = self.max_pct.max(usage_f64(v));
    }

    fn wait(&mut self, d: Option<Duration>) {
        if let Some(d) = d {
            self.regain = Some(self.regain.map_or(d, |r| r.max(d)));
        }
    }
}

fn usage_f64(v: Option<&Value>) -> f64 {
    v.and_then(|v| {
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    })
    .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_headers() {
        // Header examples from the research notes §5.2.
        let u = Usage::from_headers([
            (
                "X-App-Usage",
                r#"{"call_count":28,"total_time":25,"total_cputime":25}"#,
            ),
            (
                "X-Ad-Account-Usage",
                r#"{"acc_id_util_pct":9.67,"reset_time_duration":100,"ads_api_access_tier":"standard_access"}"#,
            ),
            (
                "x-business-use-case-usage",
                r#"{"66782684":[{"type":"ads_management","call_count":95,"total_cputime":20,"total_time":20,"estimated_time_to_regain_access":0,"ads_api_access_tier":"development_access"}]}"#,
            ),
            (
                "X-FB-Ads-Insights-Throttle",
                r#"{"app_id_util_pct":0,"acc_id_util_pct":0}"#,
            ),
            ("Content-Type", "application/json"),
        ]);
        assert_eq!(u.max_pct, 95.0);
        assert_eq!(u.regain, None, "a regain time of 0 means no wait");
        assert_eq!(u.access_tier.as_deref(), Some("development_access"));
    }

    #[test]
    fn regain_time_is_in_minutes_and_the_longest_wins() {
        let u = Usage::from_headers([(
            "X-Business-Use-Case-Usage",
            r#"{"1":[{"type":"ads_insights","call_count":100,"estimated_time_to_regain_access":2},{"type":"ads_management","call_count":10,"estimated_time_to_regain_access":5}]}"#,
        )]);
        assert_eq!(u.max_pct, 100.0);
        assert_eq!(u.regain, Some(Duration::from_secs(300)));
        let blocked = Usage::from_headers([(
            "X-Ad-Account-Usage",
            r#"{"acc_id_util_pct":100,"reset_time_duration":45}"#,
        )]);
        assert_eq!(blocked.regain, Some(Duration::from_secs(45)));
    }

    #[test]
    fn malformed_headers_are_ignored() {
        let u = Usage::from_headers([
            ("X-App-Usage", "not json"),
            ("X-Business-Use-Case-Usage", "[1,2]"),
        ]);
        assert_eq!(u, Usage::default());
    }
}
