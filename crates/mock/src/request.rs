//! A Graph request as Meta reads it, whatever way the client sent it.
//!
//! Meta accepts params in the query string and in the body, the body as a form, as multipart
//! (Meta's own curl examples use `-F`, and file uploads need it) or as JSON (the Node SDK
//! posts JSON), and paths with or without a trailing slash (the Python SDK calls nodes as
//! `/{version}/{id}/`). Everything is decoded here into one map of text values; how each
//! value is read (JSON-encoded lists, comma lists, quoted strings, timestamps) depends on its
//! type and is the job of [`contract`](super::contract).

use std::collections::BTreeMap;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, Method};

use super::error::GraphError;

/// Params by name, as text: JSON values that are not strings are kept as JSON text.
pub type Params = BTreeMap<String, String>;

/// A file part of a multipart body.
#[derive(Debug, Clone)]
pub struct Upload {
    pub filename: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug)]
pub struct GraphRequest {
    /// After `method=` overrides (`GET ...?method=delete` is a delete, as on Meta).
    pub method: Method,
    pub version: String,
    /// The node id (`act_123`, a numeric id, `search`), if the path names one.
    pub node: Option<String>,
    pub edge: Option<String>,
    /// Anything past the edge (Meta has no such paths).
    pub extra: Vec<String>,
    pub params: Params,
    pub files: BTreeMap<String, Upload>,
    pub headers: HeaderMap,
}

impl GraphRequest {
    pub async fn decode(request: Request) -> Result<GraphRequest, GraphError> {
        let headers = request.headers().clone();
        let mut method = request.method().clone();
        let path = request.uri().path().to_string();
        let mut params = query_params(request.uri().query())?;
        let mut files = BTreeMap::new();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("multipart/form-data") {
            let mut parts = Multipart::from_request(request, &())
                .await
                .map_err(|e| bad_body(&e.to_string()))?;
            while let Some(part) = parts
                .next_field()
                .await
                .map_err(|e| bad_body(&e.to_string()))?
            {
                let name = part.name().unwrap_or_default().to_string();
                let filename = part.file_name().map(str::to_string);
                let bytes = part.bytes().await.map_err(|e| bad_body(&e.to_string()))?;
                match filename {
                    Some(filename) => {
                        files.insert(
                            name,
                            Upload {
                                filename,
                                bytes: bytes.to_vec(),
                            },
                        );
                    }
                    None => {
                        params.insert(name, String::from_utf8_lossy(&bytes).into_owned());
                    }
                }
            }
        } else {
            let bytes = axum::body::to_bytes(request.into_body(), 64 << 20)
                .await
                .map_err(|e| bad_body(&e.to_string()))?;
            if content_type.starts_with("application/json") && !bytes.is_empty() {
                params.extend(json_params(&bytes)?);
            } else {
                params.extend(form_params(&bytes)?);
            }
        }
        if let Some(m) = params.remove("method") {
            method = Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                .map_err(|_| GraphError::invalid(format!("Unsupported method {m}")))?;
        }
        let mut segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let version = segments.next().unwrap_or_default();
        let node = segments.next();
        let edge = segments.next();
        Ok(GraphRequest {
            method,
            version,
            node,
            edge,
            extra: segments.collect(),
            params,
            files,
            headers,
        })
    }
}

/// A param holding JSON (canonical lists and objects are JSON text).
pub fn json_param(p: &Params, key: &str) -> Result<Option<serde_json::Value>, GraphError> {
    match p.get(key) {
        None => Ok(None),
        Some(text) => serde_json::from_str(text)
            .map(Some)
            .map_err(|_| GraphError::invalid(format!("Param {key} must be JSON")).blame(&[key])),
    }
}

/// A param that must be there and not empty.
pub fn required<'a>(p: &'a Params, key: &str) -> Result<&'a str, GraphError> {
    p.get(key)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            GraphError::invalid(format!("The parameter {key} is required")).blame(&[key])
        })
}

/// Params from pairs, for tests.
#[cfg(test)]
pub fn params_of(pairs: &[(&str, &str)]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn bad_body(why: &str) -> GraphError {
    GraphError::invalid(format!("The request body could not be read: {why}"))
}

pub fn query_params(query: Option<&str>) -> Result<Params, GraphError> {
    form_params(query.unwrap_or("").as_bytes())
}

fn form_params(bytes: &[u8]) -> Result<Params, GraphError> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
        .map(|pairs| pairs.into_iter().collect())
        .map_err(|e| bad_body(&e.to_string()))
}

/// A JSON object body: strings as they are, every other value as JSON text (which is how a
/// form would carry it).
fn json_params(bytes: &[u8]) -> Result<Params, GraphError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| bad_body(&format!("invalid JSON: {e}")))?;
    let serde_json::Value::Object(map) = value else {
        return Err(bad_body("a JSON body must be an object of params"));
    };
    Ok(map
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    async fn decode(req: axum::http::Request<Body>) -> GraphRequest {
        GraphRequest::decode(req).await.unwrap()
    }

    #[tokio::test]
    async fn trailing_slashes_json_bodies_and_method_overrides() {
        let r = decode(
            axum::http::Request::post("/v25.0/123/?access_token=t")
                .header("content-type", "application/json")
                .body(Body::from(
                    r#"{"name":"x","daily_budget":500,"flags":["a"],"n":null}"#,
                ))
                .unwrap(),
        )
        .await;
        assert_eq!(
            (r.version.as_str(), r.node.as_deref(), r.edge.as_deref()),
            ("v25.0", Some("123"), None)
        );
        assert_eq!(r.params["name"], "x");
        assert_eq!(r.params["daily_budget"], "500");
        assert_eq!(r.params["flags"], r#"["a"]"#);
        assert!(!r.params.contains_key("n"));
        let r = decode(
            axum::http::Request::get("/v25.0/123?method=delete")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.method, Method::DELETE);
    }

    #[tokio::test]
    async fn multipart_bodies_give_params_and_files() {
        let body = "--B\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nimg\r\n--B\r\nContent-Disposition: form-data; name=\"pic.png\"; filename=\"pic.png\"\r\nContent-Type: image/png\r\n\r\n\x7fPNG\r\n--B--\r\n";
        let r = decode(
            axum::http::Request::post("/v25.0/act_1/adimages")
                .header("content-type", "multipart/form-data; boundary=B")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
        assert_eq!(r.params["name"], "img");
        assert_eq!(r.files["pic.png"].filename, "pic.png");
        assert_eq!(r.files["pic.png"].bytes, b"\x7fPNG");
    }
}
