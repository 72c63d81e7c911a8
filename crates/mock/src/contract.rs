//! Every request checked against Meta's published spec ([`spec`](super::spec)): params the
//! call does not take are refused, required ones must be there, each value must read as its
//! type and enums must hold one of their values. What passes is returned in one canonical
//! form, so the handlers read each value one way whatever encoding the client chose:
//!
//! | type | accepted | canonical |
//! |---|---|---|
//! | string, enum | text, or a JSON-quoted string | the text |
//! | int, unsigned int, float | a number, also JSON-quoted | the number |
//! | bool | `true`/`false`/`1`/`0`, any case | `true`/`false` |
//! | datetime | ISO 8601 with `Z`, `+hh:mm` or `+hhmm`, a UNIX time, `0` (none) | RFC 3339 UTC, or `0` |
//! | list | a JSON array, a comma list, or one value | a JSON array |
//! | map, object | a JSON object | JSON text |
//!
//! Sources: the Python SDK JSON-encodes lists, dicts and bools and sends strings and numbers
//! as they are; the Node SDK posts JSON bodies; Meta's curl examples send comma lists and
//! JSON-quoted strings; the AdSet reference documents UNIX timestamps and `end_time=0`.
//! The exact wording of Meta's refusals for unknown params and mistyped values is not
//! published; the texts below follow those seen in SDK issues ("The parameter X is
//! required", `Invalid keys "k" were found in param "p"`) and are otherwise [unverified].

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{json, Value};

use super::error::GraphError;
use super::request::{Params, Upload};
use super::spec::{spec, CallSpec, ParamType};

/// Params any Graph call may carry (Graph API reference: "common parameters").
const EVERYWHERE: &[&str] = &[
    "access_token",
    "appsecret_proof",
    "format",
    "pretty",
    "suppress_http_code",
    "locale",
    "include_headers",
    "debug",
    "callback",
    "transport",
];

/// Params of every read: field selection and cursor paging (Graph API "Using the Graph API":
/// fields, paging; Marketing API: `filtering`, `summary`, `date_format` on edges).
const READS: &[&str] = &[
    "fields",
    "limit",
    "after",
    "before",
    "offset",
    "summary",
    "filtering",
    "sort",
    "date_format",
];

/// Checks `params` against the call's spec and returns them in canonical form.
pub fn check(
    call: &CallSpec,
    params: &Params,
    files: &BTreeMap<String, Upload>,
) -> Result<Params, GraphError> {
    let s = spec();
    let mut out = Params::new();
    for (key, raw) in params {
        if EVERYWHERE.contains(&key.as_str()) {
            continue;
        }
        if key == "fields" && (call.method == "GET" || call.params.contains_key(key)) {
            // One canonical form for the field list wherever it is taken: a comma list.
            out.insert(key.clone(), read_param(key, raw)?);
        } else if let Some(p) = call.params.get(key) {
            let ty = ParamType::parse(&p.ty, s);
            out.insert(key.clone(), canonical(key, raw, &ty)?);
        } else if call.method == "GET" && READS.contains(&key.as_str()) {
            out.insert(key.clone(), read_param(key, raw)?);
        } else {
            return Err(GraphError::invalid(format!(
                "Param {key} is not a valid parameter of this call"
            ))
            .blame(&[key]));
        }
    }
    for (key, p) in &call.params {
        let ty = ParamType::parse(&p.ty, s);
        let uploaded = ty == ParamType::File && !files.is_empty();
        if p.required && !out.contains_key(key) && !uploaded {
            return Err(
                GraphError::invalid(format!("The parameter {key} is required")).blame(&[key]),
            );
        }
    }
    Ok(out)
}

/// `fields` as a comma list (JSON lists accepted), other read params as given.
fn read_param(key: &str, raw: &str) -> Result<String, GraphError> {
    if key != "fields" {
        return Ok(unquote(raw));
    }
    let items = list_items(raw).map_err(|why| mistyped(key, &why))?;
    Ok(items
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        })
        .collect::<Vec<_>>()
        .join(","))
}

fn canonical(key: &str, raw: &str, ty: &ParamType) -> Result<String, GraphError> {
    let value = typed(key, raw, ty)?;
    Ok(match value {
        Value::String(s) => s,
        other => other.to_string(),
    })
}

/// `raw` read as `ty`.
fn typed(key: &str, raw: &str, ty: &ParamType) -> Result<Value, GraphError> {
    match ty {
        ParamType::List(inner) => {
            let items = list_items(raw).map_err(|why| mistyped(key, &why))?;
            items
                .into_iter()
                .map(|item| typed_value(key, &item, inner))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        _ => {
            let value = serde_json::from_str::<Value>(raw)
                .ok()
                .filter(|v| !matches!(ty, ParamType::String | ParamType::Enum(_)) || v.is_string())
                .unwrap_or_else(|| Value::String(raw.to_string()));
            typed_value(key, &value, ty)
        }
    }
}

/// One JSON value read as `ty`.
fn typed_value(key: &str, v: &Value, ty: &ParamType) -> Result<Value, GraphError> {
    let text = v
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string());
    match ty {
        ParamType::String => Ok(Value::String(text)),
        ParamType::Enum(name) => {
            let values = spec().enum_values(name).unwrap_or_default();
            if values.contains(&text) {
                Ok(Value::String(text))
            } else {
                Err(GraphError::invalid(format!(
                    "Param {key} must be one of {{{}}}",
                    values.join(", ")
                ))
                .blame(&[key]))
            }
        }
        ParamType::Int | ParamType::UnsignedInt => match text.trim().parse::<i64>() {
            Ok(n) if n < 0 && *ty == ParamType::UnsignedInt => {
                Err(mistyped(key, "a non-negative integer"))
            }
            Ok(n) => Ok(json!(n)),
            Err(_) => Err(mistyped(key, "an integer")),
        },
        ParamType::Float => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(|x| json!(x))
            .ok_or_else(|| mistyped(key, "a number")),
        ParamType::Bool => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(json!(true)),
            "false" | "0" => Ok(json!(false)),
            _ => Err(mistyped(key, "a boolean")),
        },
        ParamType::DateTime => datetime(&text)
            .map(Value::String)
            .ok_or_else(|| mistyped(key, "a time in ISO 8601 or a UNIX timestamp")),
        ParamType::Object(name) => {
            let obj = match v {
                Value::String(s) => serde_json::from_str::<Value>(s).ok(),
                other => Some(other.clone()),
            }
            .filter(|o| o.is_object() || o.is_array())
            .ok_or_else(|| mistyped(key, "a JSON object"))?;
            known_keys(key, &obj, name)?;
            // Kept as JSON: inside a list it stays an object; at the top it is written out
            // as JSON text by `canonical`.
            Ok(obj)
        }
        ParamType::List(inner) => match v {
            Value::Array(items) => items
                .iter()
                .map(|i| typed_value(key, i, inner))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            other => typed_value(key, other, inner).map(|x| json!([x])),
        },
        ParamType::File => Err(mistyped(key, "a file upload (multipart)")),
    }
}

/// The keys of an object param of a spec'd value type (`targeting`: `Targeting`) must be
/// that type's fields; nested objects of spec'd types are checked too.
fn known_keys(key: &str, obj: &Value, ty: &str) -> Result<(), GraphError> {
    let Some(fields) = spec().objects.get(ty) else {
        return Ok(());
    };
    let Some(map) = obj.as_object() else {
        return Ok(());
    };
    let unknown: Vec<&str> = map
        .keys()
        .filter(|k| !fields.contains_key(*k))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(GraphError::invalid(format!(
            "Invalid keys \"{}\" were found in param \"{key}\".",
            unknown.join("\", \"")
        ))
        .blame(&[key]));
    }
    for (k, v) in map {
        if let Some(inner) = fields.get(k) {
            known_keys(&format!("{key}[{k}]"), v, inner)?;
        }
    }
    Ok(())
}

/// A list param: a JSON array, a comma list, or a single value.
fn list_items(raw: &str) -> Result<Vec<Value>, String> {
    let trimmed = raw.trim();
    if trimmed.starts_with('[') {
        return match serde_json::from_str::<Value>(trimmed) {
            Ok(Value::Array(items)) => Ok(items),
            _ => Err("a JSON array".into()),
        };
    }
    if trimmed.starts_with('{') {
        return serde_json::from_str::<Value>(trimmed)
            .map(|v| vec![v])
            .map_err(|_| "a JSON array".into());
    }
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    Ok(trimmed
        .split(',')
        .map(|s| Value::String(unquote(s.trim())))
        .collect())
}

/// `"text"` → `text`; anything else as it is.
fn unquote(raw: &str) -> String {
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::String(s)) => s,
        _ => raw.to_string(),
    }
}

/// A Graph datetime as RFC 3339 UTC; `0` (no end) stays `0`.
pub fn datetime(text: &str) -> Option<String> {
    let t = text.trim();
    if t == "0" {
        return Some("0".into());
    }
    if let Ok(secs) = t.parse::<i64>() {
        return DateTime::<Utc>::from_timestamp(secs, 0).map(|d| d.to_rfc3339());
    }
    DateTime::parse_from_rfc3339(t)
        .or_else(|_| DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%z"))
        .or_else(|_| DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .map(|d| d.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").map(|n| n.and_utc()))
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
        })
        .ok()
        .map(|d| d.to_rfc3339())
}

fn mistyped(key: &str, what: &str) -> GraphError {
    GraphError::invalid(format!("Param {key} must be {what}")).blame(&[key])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create_campaign() -> &'static CallSpec {
        spec()
            .node("AdAccount")
            .unwrap()
            .call("POST", Some("campaigns"))
            .unwrap()
    }

    use crate::request::params_of as p;

    #[test]
    fn every_encoding_of_a_list_reads_the_same() {
        for raw in [r#"["EMPLOYMENT"]"#, "EMPLOYMENT", r#""EMPLOYMENT""#] {
            let out = check(
                create_campaign(),
                &p(&[("special_ad_categories", raw), ("name", "\"n\"")]),
                &BTreeMap::new(),
            )
            .unwrap();
            assert_eq!(out["special_ad_categories"], r#"["EMPLOYMENT"]"#, "{raw}");
            assert_eq!(out["name"], "n");
        }
    }

    #[test]
    fn unknown_params_bad_enums_and_missing_required_params_are_refused() {
        let e = check(
            create_campaign(),
            &p(&[("special_ad_categories", "[]"), ("colour", "red")]),
            &BTreeMap::new(),
        )
        .unwrap_err();
        assert_eq!(e.code, 100);
        assert!(e.message.contains("colour"));
        let e = check(
            create_campaign(),
            &p(&[("special_ad_categories", "[]"), ("objective", "WINNING")]),
            &BTreeMap::new(),
        )
        .unwrap_err();
        assert!(e.message.contains("OUTCOME_TRAFFIC"), "{}", e.message);
        let e = check(create_campaign(), &p(&[("name", "n")]), &BTreeMap::new()).unwrap_err();
        assert!(e.message.contains("special_ad_categories is required"));
        let e = check(
            create_campaign(),
            &p(&[("special_ad_categories", "[]"), ("daily_budget", "-5")]),
            &BTreeMap::new(),
        )
        .unwrap_err();
        assert!(e.message.contains("daily_budget"));
    }

    #[test]
    fn lists_of_objects_stay_objects() {
        let insights = spec()
            .node("Campaign")
            .unwrap()
            .call("GET", Some("insights"))
            .unwrap();
        let raw = r#"[{"field":"ad.effective_status","operator":"IN","value":["ACTIVE"]}]"#;
        let out = check(insights, &p(&[("filtering", raw)]), &BTreeMap::new()).unwrap();
        assert_eq!(out["filtering"], raw);
    }

    #[test]
    fn times_read_in_every_documented_form() {
        let want = "2026-12-01T17:00:00+00:00";
        for t in [
            "2026-12-01T09:00:00-0800",
            "2026-12-01T09:00:00-08:00",
            "2026-12-01T17:00:00Z",
            "1796144400",
        ] {
            assert_eq!(datetime(t).as_deref(), Some(want), "{t}");
        }
        assert_eq!(datetime("0").as_deref(), Some("0"));
        assert_eq!(datetime("next tuesday"), None);
    }

    #[test]
    fn targeting_keys_are_metas() {
        let ad_sets = spec()
            .node("AdAccount")
            .unwrap()
            .call("POST", Some("adsets"))
            .unwrap();
        let ok = r#"{"geo_locations":{"countries":["US"]},"targeting_automation":{"advantage_audience":0}}"#;
        assert!(check(
            ad_sets,
            &p(&[("name", "a"), ("targeting", ok)]),
            &BTreeMap::new()
        )
        .is_ok());
        let bad = r#"{"geo_locations":{"countries":["US"],"planets":["mars"]}}"#;
        let e = check(
            ad_sets,
            &p(&[("name", "a"), ("targeting", bad)]),
            &BTreeMap::new(),
        )
        .unwrap_err();
        assert!(
            e.message.contains(
                r#"Invalid keys "planets" were found in param "targeting[geo_locations]""#
            ),
            "{}",
            e.message
        );
    }
}
