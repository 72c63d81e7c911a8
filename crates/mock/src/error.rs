//! Meta's error envelope: every refusal of the mock is answered the way the Graph API
//! answers, so a client's error handling meets the shapes it will meet live.
//!
//! Sources: Graph API error handling guide (developers.facebook.com/docs/graph-api/guides/
//! error-handling: `message`, `type`, `code`, `error_subcode`, `error_user_title`,
//! `error_user_msg`, `fbtrace_id`, `is_transient`), Marketing API error reference
//! (`error_data.blame_field_specs`), and the bodies quoted in the official SDKs' issues
//! (`../shared/research/meta-marketing-api.md` §6). HTTP statuses: 400 for client errors,
//! 500 for Meta's own unknown (1) and temporary (2) errors [inferred from SDK issues].

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// A Graph API error, answered with Meta's envelope.
#[derive(Debug, Clone)]
pub struct GraphError {
    pub code: i64,
    pub subcode: Option<i64>,
    /// The whole `message`, usually `(#code) text`.
    pub message: String,
    /// `type`: `OAuthException` for most Marketing API errors, `GraphMethodException` for
    /// calls on objects that do not exist or do not support the call.
    pub kind: &'static str,
    /// What only some errors carry (boxed: errors travel in every `Result` of the mock).
    pub extra: Box<Extra>,
    pub transient: bool,
    pub status: StatusCode,
}

#[derive(Debug, Clone, Default)]
pub struct Extra {
    /// `error_user_title` and `error_user_msg`: what Meta shows a person.
    pub user_title: Option<String>,
    pub user_msg: Option<String>,
    /// `error_data.blame_field_specs`: the fields Meta blames, as paths.
    pub blame: Option<Vec<String>>,
}

impl GraphError {
    pub fn new(code: i64, message: impl Into<String>) -> GraphError {
        GraphError::unprefixed(code, format!("(#{code}) {}", message.into()))
    }

    /// An error whose message Meta sends without the `(#code)` prefix (access token errors).
    pub fn unprefixed(code: i64, message: impl Into<String>) -> GraphError {
        GraphError {
            code,
            subcode: None,
            message: message.into(),
            kind: "OAuthException",
            extra: Box::default(),
            transient: false,
            status: StatusCode::BAD_REQUEST,
        }
    }

    /// Code 100, the invalid-parameter error most refusals are.
    pub fn invalid(message: impl Into<String>) -> GraphError {
        GraphError::new(100, message)
    }

    pub fn subcode(mut self, subcode: i64) -> GraphError {
        self.subcode = Some(subcode);
        self
    }

    /// A rule from Meta's reference: a title and an explanation for a person, as Meta's
    /// policy refusals carry.
    pub fn user(mut self, title: impl Into<String>, msg: impl Into<String>) -> GraphError {
        self.extra.user_title = Some(title.into());
        self.extra.user_msg = Some(msg.into());
        self
    }

    pub fn blame(mut self, path: &[&str]) -> GraphError {
        self.extra.blame = Some(path.iter().map(|s| s.to_string()).collect());
        self
    }

    pub fn transient(mut self) -> GraphError {
        self.transient = true;
        self
    }

    pub fn method_exception(mut self) -> GraphError {
        self.kind = "GraphMethodException";
        self
    }

    pub fn status(mut self, status: StatusCode) -> GraphError {
        self.status = status;
        self
    }

    /// A call on an id that is not there (or not of a kind that supports the call): Meta's
    /// `GraphMethodException` 100/33.
    pub fn no_object(method: &str, id: &str) -> GraphError {
        GraphError::new(
            100,
            format!(
                "Unsupported {} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
                method.to_ascii_lowercase()
            ),
        )
        .subcode(33)
        .method_exception()
    }

    /// The JSON body, `{"error": {...}}`.
    pub fn body(&self) -> Value {
        let mut e = json!({
            "message": self.message,
            "type": self.kind,
            "code": self.code,
            "is_transient": self.transient,
            "fbtrace_id": "AdskewMockTrace",
        });
        if let Some(s) = self.subcode {
            e["error_subcode"] = json!(s);
        }
        if let Some(t) = &self.extra.user_title {
            e["error_user_title"] = json!(t);
        }
        if let Some(m) = &self.extra.user_msg {
            e["error_user_msg"] = json!(m);
        }
        if let Some(path) = &self.extra.blame {
            // Meta sends error_data as a JSON string.
            e["error_data"] = json!(json!({"blame_field_specs": [path]}).to_string());
        }
        json!({ "error": e })
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

/// An invalid-parameter error whose text says which parameter and why.
pub fn invalid(message: &str) -> GraphError {
    GraphError::invalid(format!("Invalid parameter: {message}"))
}

/// An error with a code and, maybe, a subcode.
pub fn error(code: i64, subcode: Option<i64>, message: &str) -> GraphError {
    let e = GraphError::new(code, message);
    match subcode {
        Some(s) => e.subcode(s),
        None => e,
    }
}
