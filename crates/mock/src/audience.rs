//! Customer-list custom audiences in the mock: create (`POST act_X/customaudiences`), add
//! members (`POST {audience}/users`), read the size estimate (`GET {audience}`).
//!
//! The point of this module is to let a test prove what the adapter sent. It validates the
//! way Meta documents (research notes §3): the enums of a new audience, a JSON `payload`
//! with keys from Meta's schema list, at most 10,000 records per request, a `session` with
//! `batch_seq` 1..N and `last_batch_flag`. A value of a hashed key counts as invalid unless
//! it is "" or 64 lowercase hex digits; such values are only counted (in
//! [`Mock::non_hash_values_received`]), never kept. Valid rows keep only their hashes.
//!
//! A request repeated with a `batch_seq` the session already has (a retry) is answered as
//! before and not counted twice, so a test can check that retries change nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::error::{error, invalid, GraphError};
use super::request::{json_param, required, Params};
use super::{Kind, Mock};
use adskew_core::platform::ObjectId;

/// Meta's ceiling on records per request.
pub const MAX_RECORDS: usize = 10_000;

/// Multi-key schema names Meta accepts (research notes §3.2).
const MULTI_KEYS: &[&str] = &[
    "EXTERN_ID",
    "EMAIL",
    "PHONE",
    "GEN",
    "DOBY",
    "DOBM",
    "DOBD",
    "LN",
    "FN",
    "FI",
    "CT",
    "ST",
    "ZIP",
    "MADID",
    "COUNTRY",
];
/// Single-key schemas, whose `data` is a flat list.
const SINGLE_KEYS: &[&str] = &["EMAIL_SHA256", "PHONE_SHA256", "MOBILE_ADVERTISER_ID"];
/// Keys Meta takes unhashed.
const UNHASHED: &[&str] = &["EXTERN_ID", "MADID", "MOBILE_ADVERTISER_ID"];

/// One acknowledged request of an upload session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub session_id: u64,
    pub batch_seq: u64,
    pub last_batch_flag: bool,
    pub estimated_num_total: Option<u64>,
    pub num_received: u64,
    pub num_invalid_entries: u64,
}

/// What the mock knows of one audience: counts and hashes, nothing raw.
#[derive(Debug, Clone, Default)]
pub struct AudienceSnapshot {
    pub id: String,
    pub name: String,
    pub description: String,
    pub customer_file_source: String,
    pub num_received: u64,
    pub num_invalid_entries: u64,
    /// Acknowledged batches in arrival order.
    pub batches: Vec<Batch>,
    /// Distinct values received per schema key ("" excluded).
    pub values: BTreeMap<String, BTreeSet<String>>,
    /// Distinct valid rows.
    pub members: BTreeSet<Vec<String>>,
}

impl AudienceSnapshot {
    /// A batch's valid rows added to the members (removed for `Op::Remove`); a replace
    /// session's first batch empties the audience first.
    fn apply(
        &mut self,
        op: Op,
        session: Option<&Session>,
        schema: &[String],
        rows: Vec<Vec<String>>,
    ) {
        if op == Op::Replace && session.is_some_and(|s| s.seq == 1) {
            self.members.clear();
            self.values.clear();
        }
        for row in rows {
            if op == Op::Remove {
                self.members.remove(&row);
                continue;
            }
            for (key, v) in schema.iter().zip(&row) {
                if !v.is_empty() {
                    self.values
                        .entry(key.clone())
                        .or_default()
                        .insert(v.clone());
                }
            }
            self.members.insert(row);
        }
    }
}

#[derive(Default)]
struct State_ {
    audiences: BTreeMap<String, AudienceSnapshot>,
    /// Responses of acknowledged batches, by (audience, session, seq), for retries.
    answered: BTreeMap<(String, u64, u64), Value>,
    non_hash_values: u64,
    /// Ad set id -> custom audience ids in its targeting.
    targeted: BTreeMap<String, Vec<String>>,
}

/// The mock's custom-audience state.
#[derive(Default)]
pub struct Registry(Mutex<State_>);

impl Registry {
    fn with<T>(&self, f: impl FnOnce(&mut State_) -> T) -> T {
        f(&mut self.0.lock().expect("audience lock"))
    }
}

impl Mock {
    /// Ids of the custom audiences created so far.
    pub fn audience_ids(&self) -> Vec<String> {
        self.audiences
            .with(|s| s.audiences.keys().cloned().collect())
    }

    /// Everything the mock holds about one audience.
    pub fn audience(&self, id: &str) -> Option<AudienceSnapshot> {
        self.audiences.with(|s| s.audiences.get(id).cloned())
    }

    /// Values of hashed keys that were neither "" nor a SHA-256 hex digest, over all
    /// uploads: anything above zero means raw data reached the "platform".
    pub fn non_hash_values_received(&self) -> u64 {
        self.audiences.with(|s| s.non_hash_values)
    }

    /// The custom audience ids each ad set was created with (`targeting.custom_audiences`).
    pub fn ad_set_custom_audiences(&self) -> BTreeMap<String, Vec<String>> {
        self.audiences.with(|s| s.targeted.clone())
    }

    /// Checks `targeting.custom_audiences` (a list of `{"id": ...}`) and returns the ids.
    /// An id of another kind of object is refused (code 100). An id the mock has not seen is
    /// accepted and recorded: example experiments name an audience for the record, and the
    /// mock has no account history to check it against.
    pub(crate) fn targeted_audiences(&self, targeting: &Value) -> Result<Vec<String>, GraphError> {
        let Some(list) = targeting.get("custom_audiences") else {
            return Ok(Vec::new());
        };
        let items = list
            .as_array()
            .ok_or_else(|| invalid("targeting.custom_audiences must be a list of {\"id\": ...}"))?;
        let mut ids = Vec::new();
        for item in items {
            let id =
                match item.get("id") {
                    Some(Value::String(s)) if !s.is_empty() => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => return Err(invalid(
                        "targeting.custom_audiences entries must be {\"id\": \"<audience id>\"}",
                    )),
                };
            match self.lookup(&id) {
                Some((Kind::Audience, _)) | None => ids.push(id),
                Some(_) => {
                    return Err(invalid(&format!(
                        "targeting.custom_audiences: {id} is not a custom audience"
                    )))
                }
            }
        }
        Ok(ids)
    }

    pub(crate) fn record_targeting(&self, ad_set: &str, ids: Vec<String>) {
        if !ids.is_empty() {
            self.audiences
                .with(|s| s.targeted.insert(ad_set.to_string(), ids));
        }
    }
}

/// `POST act_X/customaudiences`: `{"id": ...}`, or `{"success": true}` when only validating.
pub(crate) fn create(mock: &Mock, account: &str, p: &Params) -> Result<Response, GraphError> {
    let dry = json_param(p, "execution_options")?
        .and_then(|o| o.as_array().cloned())
        .is_some_and(|a| a.iter().any(|x| x == "validate_only"));
    let name = required(p, "name")?;
    match required(p, "subtype")? {
        "CUSTOM" => {}
        other @ ("WEBSITE"
        | "APP"
        | "OFFLINE_CONVERSION"
        | "CLAIM"
        | "PARTNER"
        | "MANAGED"
        | "VIDEO"
        | "LOOKALIKE"
        | "ENGAGEMENT"
        | "DATA_SET"
        | "BAG_OF_ACCOUNTS"
        | "STUDY_RULE_AUDIENCE"
        | "FOX"
        | "MEASUREMENT"
        | "REGULATED_CATEGORIES_AUDIENCE") => {
            return Err(invalid(&format!(
                "subtype {other} is not supported by the mock (customer lists use CUSTOM)"
            )))
        }
        other => {
            return Err(invalid(&format!(
                "subtype must be a CustomAudience subtype such as CUSTOM (got {other})"
            )))
        }
    }
    let source = required(p, "customer_file_source")?;
    if !matches!(
        source,
        "USER_PROVIDED_ONLY" | "PARTNER_PROVIDED_ONLY" | "BOTH_USER_AND_PARTNER_PROVIDED"
    ) {
        return Err(invalid(&format!(
            "customer_file_source must be one of USER_PROVIDED_ONLY, PARTNER_PROVIDED_ONLY, BOTH_USER_AND_PARTNER_PROVIDED (got {source})"
        )));
    }
    if dry {
        return Ok(Json(json!({"success": true})).into_response());
    }
    let mut fields = serde_json::Map::new();
    fields.insert("name".into(), json!(name));
    fields.insert(
        "account_id".into(),
        json!(account.trim_start_matches("act_")),
    );
    let id = mock.register(Kind::Audience, ObjectId(String::new()), fields);
    let snapshot = AudienceSnapshot {
        id: id.clone(),
        name: name.to_string(),
        description: p.get("description").cloned().unwrap_or_default(),
        customer_file_source: source.to_string(),
        ..Default::default()
    };
    mock.audiences
        .with(|s| s.audiences.insert(id.clone(), snapshot));
    Ok(Json(json!({ "id": id })).into_response())
}

fn is_sha256_hex(v: &str) -> bool {
    v.len() == 64
        && v.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

struct Session {
    id: u64,
    seq: u64,
    last: bool,
    total: Option<u64>,
}

fn session(p: &Params) -> Result<Option<Session>, GraphError> {
    let Some(s) = json_param(p, "session")? else {
        return Ok(None);
    };
    let int = |k: &str| -> Option<u64> {
        s.get(k).and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|t| t.parse().ok()))
        })
    };
    let id = int("session_id")
        .ok_or_else(|| invalid("session.session_id must be a positive integer"))?;
    let seq = int("batch_seq")
        .filter(|n| *n >= 1)
        .ok_or_else(|| invalid("session.batch_seq must be an integer from 1"))?;
    let last = s
        .get("last_batch_flag")
        .and_then(Value::as_bool)
        .ok_or_else(|| invalid("session.last_batch_flag must be true or false"))?;
    let total = match s.get("estimated_num_total") {
        None => None,
        Some(_) => Some(
            int("estimated_num_total")
                .ok_or_else(|| invalid("session.estimated_num_total must be an integer"))?,
        ),
    };
    Ok(Some(Session {
        id,
        seq,
        last,
        total,
    }))
}

/// What a users call does with the rows it is sent (Custom Audience Users reference: POST
/// adds, DELETE removes; `usersreplace`: the first batch of a session drops every member
/// before it adds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Add,
    Remove,
    Replace,
}

/// `POST {audience}/users`.
pub(crate) fn add_users(mock: &Mock, node: &str, p: &Params) -> Result<Response, GraphError> {
    users(mock, node, p, Op::Add)
}

/// `DELETE {audience}/users`.
pub(crate) fn remove_users(mock: &Mock, node: &str, p: &Params) -> Result<Response, GraphError> {
    users(mock, node, p, Op::Remove)
}

/// `POST {audience}/usersreplace`.
pub(crate) fn replace_users(mock: &Mock, node: &str, p: &Params) -> Result<Response, GraphError> {
    users(mock, node, p, Op::Replace)
}

fn users(mock: &Mock, node: &str, p: &Params, op: Op) -> Result<Response, GraphError> {
    if !matches!(mock.lookup(node), Some((Kind::Audience, _))) {
        return Err(error(
            100,
            Some(33),
            &format!("Unsupported post request. Object with ID '{node}' does not exist or is not a custom audience"),
        ));
    }
    let (schema, rows) = payload(p)?;
    check_payload(&schema, &rows)?;
    let session = session(p)?;
    if let Some(s) = &session {
        if let Some(answer) = replayed(mock, node, s)? {
            return Ok(Json(answer).into_response());
        }
    }
    let checked = Checked::rows(&schema, &rows);
    let received = rows.len() as u64;
    let answer = json!({
        "audience_id": node,
        "session_id": session.as_ref().map_or(0, |s| s.id).to_string(),
        "num_received": received,
        "num_invalid_entries": checked.invalid_rows,
        "invalid_entry_samples": checked.samples,
    });
    mock.audiences.with(|st| {
        st.non_hash_values += checked.non_hash;
        let a = st.audiences.get_mut(node).expect("checked above");
        a.num_received += received;
        a.num_invalid_entries += checked.invalid_rows;
        a.apply(op, session.as_ref(), &schema, checked.valid_rows);
        if let Some(s) = &session {
            a.batches.push(Batch {
                session_id: s.id,
                batch_seq: s.seq,
                last_batch_flag: s.last,
                estimated_num_total: s.total,
                num_received: received,
                num_invalid_entries: checked.invalid_rows,
            });
            st.answered
                .insert((node.to_string(), s.id, s.seq), answer.clone());
        }
    });
    Ok(Json(answer).into_response())
}

/// The payload's schema and rows; a single-key schema's data are values, each a row.
fn payload(p: &Params) -> Result<(Vec<String>, Vec<Value>), GraphError> {
    let payload =
        json_param(p, "payload")?.ok_or_else(|| invalid("The parameter payload is required"))?;
    match payload.get("schema") {
        Some(Value::String(single)) => {
            let data = payload
                .get("data")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    invalid("payload.data must be a list of values for a single-key schema")
                })?;
            let rows = data.iter().map(|v| Value::Array(vec![v.clone()])).collect();
            Ok((vec![single.clone()], rows))
        }
        Some(Value::Array(keys)) => {
            let keys: Option<Vec<String>> = keys
                .iter()
                .map(|k| k.as_str().map(str::to_string))
                .collect();
            let keys = keys.ok_or_else(|| invalid("payload.schema must be a list of key names"))?;
            let data = payload
                .get("data")
                .and_then(Value::as_array)
                .ok_or_else(|| invalid("payload.data must be a list of rows"))?;
            Ok((keys, data.clone()))
        }
        _ => Err(invalid(
            "payload.schema is required (a key name or a list of them)",
        )),
    }
}

/// Customer-list keys only (single-only keys alone), between 1 and [`MAX_RECORDS`] rows.
fn check_payload(schema: &[String], rows: &[Value]) -> Result<(), GraphError> {
    if schema.is_empty() {
        return Err(invalid("payload.schema is empty"));
    }
    for key in schema {
        let known = if schema.len() == 1 {
            MULTI_KEYS.contains(&key.as_str()) || SINGLE_KEYS.contains(&key.as_str())
        } else {
            MULTI_KEYS.contains(&key.as_str())
        };
        if !known {
            return Err(invalid(&format!(
                "payload.schema: {key} is not a customer-list key (use {} or one of {})",
                MULTI_KEYS.join(", "),
                SINGLE_KEYS.join(", ")
            )));
        }
    }
    if rows.is_empty() {
        return Err(invalid("payload.data is empty"));
    }
    if rows.len() > MAX_RECORDS {
        return Err(invalid(&format!(
            "payload.data has {} records; at most {MAX_RECORDS} may be sent per request (split them into batches of one session)",
            rows.len()
        )));
    }
    Ok(())
}

/// A batch already answered gets the same answer again (a client's retry changes
/// nothing); a batch after the session's last is refused.
fn replayed(mock: &Mock, node: &str, s: &Session) -> Result<Option<Value>, GraphError> {
    let retry = mock
        .audiences
        .with(|st| st.answered.get(&(node.to_string(), s.id, s.seq)).cloned());
    if retry.is_some() {
        return Ok(retry);
    }
    let ended = mock.audiences.with(|st| {
        st.audiences[node]
            .batches
            .iter()
            .find(|b| b.session_id == s.id && b.last_batch_flag)
            .map(|b| b.batch_seq)
    });
    if let Some(last) = ended.filter(|last| s.seq > *last) {
        return Err(invalid(&format!(
            "session {} ended with batch {last} (last_batch_flag); start a new session",
            s.id
        )));
    }
    Ok(None)
}

/// A batch's rows sorted into valid and invalid, as Meta counts and samples them.
struct Checked {
    invalid_rows: u64,
    /// Values that should have been hashed but were not.
    non_hash: u64,
    samples: serde_json::Map<String, Value>,
    valid_rows: Vec<Vec<String>>,
}

impl Checked {
    fn rows(schema: &[String], rows: &[Value]) -> Checked {
        let mut checked = Checked {
            invalid_rows: 0,
            non_hash: 0,
            samples: serde_json::Map::new(),
            valid_rows: Vec::new(),
        };
        for row in rows {
            match checked.problem(schema, row) {
                Some(r) => {
                    checked.invalid_rows += 1;
                    if checked.samples.len() < 5 {
                        checked.samples.insert(row.to_string(), json!(r));
                    }
                }
                None => checked.valid_rows.push(
                    row.as_array()
                        .into_iter()
                        .flatten()
                        .map(|v| v.as_str().unwrap_or_default().to_string())
                        .collect(),
                ),
            }
        }
        checked
    }

    /// Why `row` is invalid, if it is: not a list, the wrong length, a value that is not
    /// a string or not hashed where it must be, or nothing but empty values.
    fn problem(&mut self, schema: &[String], row: &Value) -> Option<String> {
        let Some(c) = row.as_array() else {
            return Some("not a list of values".to_string());
        };
        if c.len() != schema.len() {
            return Some(format!(
                "{} values for {} schema keys",
                c.len(),
                schema.len()
            ));
        }
        let mut reason = None;
        for (key, v) in schema.iter().zip(c) {
            match v.as_str() {
                None => reason = Some(format!("{key}: not a string")),
                Some("") => {}
                Some(_) if UNHASHED.contains(&key.as_str()) => {}
                Some(text) if is_sha256_hex(text) => {}
                Some(_) => {
                    self.non_hash += 1;
                    reason = Some(format!("{key}: not a SHA-256 hex digest"));
                }
            }
        }
        if reason.is_none() && c.iter().all(|v| v.as_str() == Some("")) {
            reason = Some("every value is empty".to_string());
        }
        reason
    }
}

/// `GET /{v}/{id}` of a custom audience: its fields. Meta gives bounds, never a count; the
/// mock matches every distinct valid row and brackets that count by ±10% (at least 0..100).
pub(crate) fn read(mock: &Mock, node: &str, p: &Params) -> Result<Response, GraphError> {
    let Some(a) = mock.audience(node) else {
        return Err(error(
            100,
            Some(33),
            &format!("Object with ID '{node}' does not exist"),
        ));
    };
    let n = a.members.len() as u64;
    let lower = n - n / 10;
    let upper = (n + n.div_ceil(10)).max(100);
    let all = json!({
        "id": a.id,
        "name": a.name,
        "description": a.description,
        "subtype": "CUSTOM",
        "customer_file_source": a.customer_file_source,
        "approximate_count_lower_bound": lower,
        "approximate_count_upper_bound": upper,
        "operation_status": {"code": 200, "description": "Normal"},
    });
    let body = match p.get("fields") {
        None => json!({"id": a.id, "name": a.name}),
        Some(fields) => {
            let mut out = serde_json::Map::new();
            out.insert("id".into(), json!(a.id));
            for f in fields.split(',').map(str::trim).filter(|f| !f.is_empty()) {
                // A field of Meta's spec the mock has no value for is left out, as Meta
                // leaves out fields without a value.
                if let Some(v) = all.get(f) {
                    out.insert(f.to_string(), v.clone());
                }
            }
            Value::Object(out)
        }
    };
    Ok(Json(body).into_response())
}

/// `GET {audience}/sessions`: each upload session with its batches' counts.
pub(crate) fn sessions(
    mock: &Mock,
    node: &str,
    p: &Params,
    at: &super::edges::Paging<'_>,
) -> Result<Response, GraphError> {
    let Some(a) = mock.audience(node) else {
        return Err(GraphError::no_object("GET", node));
    };
    let mut ids: Vec<u64> = a.batches.iter().map(|b| b.session_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows: Vec<Value> = ids
        .iter()
        .map(|id| {
            let batches: Vec<&Batch> = a.batches.iter().filter(|b| b.session_id == *id).collect();
            let received: u64 = batches.iter().map(|b| b.num_received).sum();
            let invalid: u64 = batches.iter().map(|b| b.num_invalid_entries).sum();
            let done = batches.iter().any(|b| b.last_batch_flag);
            json!({
                "session_id": id.to_string(),
                "num_received": received.to_string(),
                "num_invalid_entries": invalid.to_string(),
                "stage": if done { "uploaded" } else { "uploading" },
            })
        })
        .collect();
    Ok(super::edges::page(&rows, p, at, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_shape() {
        assert!(is_sha256_hex(&"a".repeat(64)));
        assert!(
            !is_sha256_hex(&"A".repeat(64)),
            "Meta's digests are lowercase"
        );
        assert!(!is_sha256_hex("john@example.com"));
        assert!(!is_sha256_hex(&"a".repeat(63)));
    }
}
