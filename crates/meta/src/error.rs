//! The Graph API error envelope, and what adskew does about each kind of error.
//!
//! Meta reports errors in the JSON body (throttling usually arrives as HTTP 400, not 429),
//! so decisions branch on `code`, never on the HTTP status alone (research notes §6).

use std::time::Duration;

use adskew_core::platform::PlatformError;
use serde::Deserialize;
use serde_json::Value;

/// `{"error": {...}}` as Meta sends it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Envelope {
    pub error: GraphError,
}

/// One Graph API error.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GraphError {
    #[serde(default)]
    pub message: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub code: i64,
    #[serde(default)]
    pub error_subcode: Option<i64>,
    #[serde(default)]
    pub error_user_title: Option<String>,
    #[serde(default)]
    pub error_user_msg: Option<String>,
    #[serde(default)]
    pub fbtrace_id: Option<String>,
    #[serde(default)]
    pub is_transient: Option<bool>,
    /// An object, or a JSON object encoded as a string (both occur).
    #[serde(default)]
    pub error_data: Option<Value>,
}

/// What to do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Rate limited: wait (for the usage header's regain time, or back off), then retry.
    Throttled,
    /// Temporary on Meta's side: retry a bounded number of times.
    Transient,
    /// The access token is invalid or expired: stop and ask for a new token.
    Token,
    /// The token lacks a permission or the app a grant: stop; retrying cannot help.
    Permission,
    /// The request is wrong (a parameter, a value): stop and report the field.
    Parameter,
    /// Anything else: stop and report it.
    Other,
}

impl GraphError {
    /// Parses an error body; `None` if it is not Meta's envelope.
    pub fn from_body(body: &str) -> Option<GraphError> {
        serde_json::from_str::<Envelope>(body).ok().map(|e| e.error)
    }

    pub fn class(&self) -> ErrorClass {
        match self.code {
            4 | 17 | 32 | 613 | 80000..=80014 => ErrorClass::Throttled,
            // 104 is "An access token is required" (and "Incorrect signature"): no retry
            // brings a token, so it is a token problem, not a transient one.
            190 | 102 | 104 => ErrorClass::Token,
            1 | 2 | 960 => ErrorClass::Transient,
            10 | 200..=299 => ErrorClass::Permission,
            100 => ErrorClass::Parameter,
            _ if self.is_transient == Some(true) => ErrorClass::Transient,
            _ => ErrorClass::Other,
        }
    }

    /// Whether the same request may succeed later.
    pub fn retryable(&self) -> bool {
        matches!(self.class(), ErrorClass::Throttled | ErrorClass::Transient)
    }

    /// The fields Meta blames, such as `targeting.age_min`.
    pub fn blamed_fields(&self) -> Vec<String> {
        let data = match &self.error_data {
            Some(Value::String(s)) => serde_json::from_str::<Value>(s).ok(),
            Some(v) => Some(v.clone()),
            None => None,
        };
        data.and_then(|d| d.get("blame_field_specs").cloned())
            .and_then(|specs| specs.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|spec| {
                let parts: Vec<&str> = spec.as_array()?.iter().filter_map(Value::as_str).collect();
                (!parts.is_empty()).then(|| parts.join("."))
            })
            .collect()
    }

    /// This error as the platform-neutral kind the rest of adskew decides on: the one place
    /// Meta's classes become [`PlatformError`]s. The message is [`GraphError::explain`];
    /// `retry_after` is when the usage headers said the quota comes back (throttling only).
    pub fn to_platform(&self, retry_after: Option<Duration>) -> PlatformError {
        let message = self.explain();
        match self.class() {
            ErrorClass::Throttled => PlatformError::Throttled {
                retry_after,
                message,
            },
            ErrorClass::Transient => PlatformError::Transient(message),
            ErrorClass::Token => PlatformError::Token(message),
            ErrorClass::Permission => PlatformError::Permission(message),
            ErrorClass::Parameter => PlatformError::Rejected {
                fields: self.blamed_fields(),
                message,
            },
            ErrorClass::Other => PlatformError::Other(message),
        }
    }

    /// A message for the researcher: what happened, and what to do.
    pub fn explain(&self) -> String {
        let detail = self.error_user_msg.as_deref().unwrap_or(&self.message);
        let trace = self
            .fbtrace_id
            .as_deref()
            .map(|t| format!(" [fbtrace_id {t}]"))
            .unwrap_or_default();
        let advice = match self.class() {
            ErrorClass::Throttled => "Meta is rate-limiting this account; adskew waits and retries".to_string(),
            ErrorClass::Transient => "a temporary error at Meta; adskew retries a few times".to_string(),
            ErrorClass::Token => {
                "the access token is invalid or expired: create a new one and set ADSKEW_META_TOKEN or the token file".to_string()
            }
            ErrorClass::Permission => {
                "the token or app lacks a permission (ads_management, ads_read) or terms were not accepted".to_string()
            }
            ErrorClass::Parameter => match self.blamed_fields().as_slice() {
                [] => "a parameter of the request is invalid".to_string(),
                fields => format!("Meta rejects the field(s) {}", fields.join(", ")),
            },
            ErrorClass::Other => "see Meta's error reference for this code".to_string(),
        };
        format!(
            "Meta API error {}{}: {detail} ({advice}){trace}",
            self.code,
            self.error_subcode
                .map(|s| format!("/{s}"))
                .unwrap_or_default()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_captured_bodies() {
        // Bodies captured in the wild (research notes §5.3).
        let throttled = GraphError::from_body(r#"{"error":{"message":"(#80000) There have been too many calls from this ad-account.","type":"OAuthException","code":80000,"error_subcode":2446079,"fbtrace_id":"A1"}}"#).unwrap();
        assert_eq!(throttled.class(), ErrorClass::Throttled);
        assert!(throttled.retryable());
        let user_limit = GraphError::from_body(r#"{"error":{"message":"(#17) User request limit reached","type":"OAuthException","is_transient":true,"code":17,"fbtrace_id":"HsDsvTm9trr"}}"#).unwrap();
        assert_eq!(user_limit.class(), ErrorClass::Throttled);
        let token = GraphError::from_body(r#"{"error":{"message":"Error validating access token","type":"OAuthException","code":190,"error_subcode":463}}"#).unwrap();
        assert_eq!(token.class(), ErrorClass::Token);
        assert!(!token.retryable());
        assert!(token.explain().contains("ADSKEW_META_TOKEN"));
        for (code, class) in [
            (2, ErrorClass::Transient),
            (10, ErrorClass::Permission),
            (294, ErrorClass::Permission),
            (100, ErrorClass::Parameter),
            (368, ErrorClass::Other),
        ] {
            let e = GraphError {
                code,
                ..token.clone()
            };
            assert_eq!(e.class(), class, "code {code}");
        }
        let odd = GraphError {
            code: 9999,
            is_transient: Some(true),
            ..token.clone()
        };
        assert_eq!(
            odd.class(),
            ErrorClass::Transient,
            "is_transient is honoured"
        );
        assert_eq!(GraphError::from_body("<html>bad gateway</html>"), None);
    }

    /// Every class of Meta's error bodies becomes its platform-neutral kind, with Meta's
    /// words (code, message, advice, trace id) as the message.
    #[test]
    fn error_bodies_map_to_platform_kinds() {
        let kind = |body: &str| {
            GraphError::from_body(body)
                .expect("a Graph error body")
                .to_platform(Some(Duration::from_secs(300)))
        };
        let throttled = kind(
            r#"{"error":{"message":"(#80000) There have been too many calls from this ad-account.","type":"OAuthException","code":80000,"error_subcode":2446079,"fbtrace_id":"A1"}}"#,
        );
        assert!(
            matches!(&throttled, PlatformError::Throttled { retry_after: Some(d), message }
                if *d == Duration::from_secs(300) && message.contains("80000") && message.contains("A1")),
            "{throttled:?}"
        );
        assert!(throttled.retryable());
        for code in [4, 17, 32, 613] {
            let body = format!(r#"{{"error":{{"message":"limit","code":{code}}}}}"#);
            assert!(
                matches!(kind(&body), PlatformError::Throttled { .. }),
                "code {code}"
            );
        }
        let token = kind(
            r#"{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463}}"#,
        );
        assert!(
            matches!(&token, PlatformError::Token(m) if m.contains("190/463") && m.contains("ADSKEW_META_TOKEN")),
            "{token:?}"
        );
        assert!(!token.retryable());
        for code in [102, 104] {
            let body = format!(r#"{{"error":{{"message":"token","code":{code}}}}}"#);
            assert!(
                matches!(kind(&body), PlatformError::Token(_)),
                "code {code}"
            );
        }
        for code in [10, 200, 294] {
            let body = format!(r#"{{"error":{{"message":"no permission","code":{code}}}}}"#);
            assert!(
                matches!(kind(&body), PlatformError::Permission(_)),
                "code {code}"
            );
        }
        for code in [1, 2, 960] {
            let body = format!(r#"{{"error":{{"message":"try later","code":{code}}}}}"#);
            assert!(
                matches!(kind(&body), PlatformError::Transient(_)),
                "code {code}"
            );
        }
        let odd = kind(r#"{"error":{"message":"odd","code":9999,"is_transient":true}}"#);
        assert!(matches!(odd, PlatformError::Transient(_)), "{odd:?}");
        let rejected = kind(
            r#"{"error":{"message":"Invalid parameter","code":100,"error_user_msg":"Age can't be narrowed","error_data":{"blame_field_specs":[["targeting","age_min"],["targeting","age_max"]]}}}"#,
        );
        assert!(
            matches!(&rejected, PlatformError::Rejected { fields, message }
                if fields == &["targeting.age_min", "targeting.age_max"] && message.contains("Age can't be narrowed")),
            "{rejected:?}"
        );
        let unblamed = kind(r#"{"error":{"message":"Invalid parameter","code":100}}"#);
        assert!(
            matches!(&unblamed, PlatformError::Rejected { fields, .. } if fields.is_empty()),
            "{unblamed:?}"
        );
        let unclassified = kind(r#"{"error":{"message":"blocked","code":368}}"#);
        assert!(
            matches!(&unclassified, PlatformError::Other(m) if m.contains("368") && m.contains("error reference")),
            "{unclassified:?}"
        );
    }

    #[test]
    fn blamed_fields_from_object_or_string() {
        let as_object = GraphError::from_body(r#"{"error":{"message":"Invalid parameter","code":100,"error_data":{"blame_field_specs":[["targeting","age_min"]]}}}"#).unwrap();
        assert_eq!(as_object.blamed_fields(), vec!["targeting.age_min"]);
        let as_string = GraphError::from_body(r#"{"error":{"message":"Invalid parameter","code":100,"error_data":"{\"blame_field_specs\":[[\"daily_budget\"]]}"}}"#).unwrap();
        assert_eq!(as_string.blamed_fields(), vec!["daily_budget"]);
        assert!(as_string.explain().contains("daily_budget"));
    }
}
