//! The simulated audience's regions as Meta's targeting names them: each region has a key
//! (`GET /search?type=adgeolocation`), and targeting gives regions by key. Its own module
//! so that the router (`graph`) and the handlers (`objects`) both use it and neither the
//! other: the dependency goes one way.

use serde_json::{json, Value};

use super::request::Params;
use super::Mock;

/// The mock's region keys: 3000 + the region's position in the simulated audience.
const REGION_KEY_BASE: usize = 3000;

/// `GET /{v}/search?type=adgeolocation&q=...`: the simulated audience's regions whose name
/// contains `q`, with their keys.
pub(super) fn search(mock: &Mock, p: &Params) -> Vec<Value> {
    let q = p.get("q").map(|q| q.to_lowercase()).unwrap_or_default();
    mock.sim
        .truth()
        .regions
        .iter()
        .enumerate()
        .filter(|(_, (name, _))| name.to_lowercase().contains(&q))
        .map(|(i, (name, _))| {
            json!({"key": (REGION_KEY_BASE + i).to_string(), "name": name, "type": "region"})
        })
        .collect()
}

/// A region given by key (as Meta requires) or by name, as the simulator's region name.
pub(super) fn name(mock: &Mock, entry: &Value) -> Option<String> {
    if let Some(key) = entry.get("key") {
        let key: usize = match key {
            Value::String(s) => s.parse().ok()?,
            other => other.as_u64()? as usize,
        };
        return mock
            .sim
            .truth()
            .regions
            .get(key.checked_sub(REGION_KEY_BASE)?)
            .map(|(name, _)| name.clone());
    }
    None
}
