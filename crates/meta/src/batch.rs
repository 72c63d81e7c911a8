//! Batch requests (Graph API "Batch requests"): up to 50 calls in one HTTP request, each
//! answered on its own as `{code, headers, body}` with the body as a JSON string, or `null`
//! when Meta did not get to it. Each call still counts against the rate limits, but a launch
//! of hundreds of ads takes tens of requests instead of a thousand.

use serde_json::Value;

/// Meta's limit on calls per batch.
pub const MAX: usize = 50;

/// Whether a batch element answered `{"success": true}` with a 2xx code.
pub fn confirmed(answer: &Value) -> bool {
    let ok_code = answer
        .get("code")
        .and_then(Value::as_u64)
        .is_some_and(|c| (200..300).contains(&c));
    let body: Option<Value> = answer
        .get("body")
        .and_then(Value::as_str)
        .and_then(|b| serde_json::from_str(b).ok());
    ok_code
        && body
            .and_then(|b| b.get("success").and_then(Value::as_bool))
            .unwrap_or(false)
}

/// The id a batch element that created an object answered with (a 2xx `{"id": ...}`).
pub fn created_id(answer: &Value) -> Option<adskew_core::platform::ObjectId> {
    let ok_code = answer
        .get("code")
        .and_then(Value::as_u64)
        .is_some_and(|c| (200..300).contains(&c));
    let body: Value = serde_json::from_str(answer.get("body")?.as_str()?).ok()?;
    let id = body.get("id")?.as_str()?;
    ok_code.then(|| adskew_core::platform::ObjectId(id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_a_2xx_success_is_confirmed() {
        assert!(confirmed(
            &json!({"code": 200, "body": "{\"success\":true}"})
        ));
        assert!(!confirmed(
            &json!({"code": 400, "body": "{\"error\":{\"code\":100}}"})
        ));
        assert!(!confirmed(
            &json!({"code": 200, "body": "{\"success\":false}"})
        ));
        assert!(!confirmed(&Value::Null));
    }

    #[test]
    fn a_created_id_is_read_only_from_a_2xx_answer() {
        let ok = json!({"code": 200, "body": "{\"id\":\"123\"}"});
        assert_eq!(created_id(&ok).unwrap().0, "123");
        assert!(created_id(&json!({"code": 400, "body": "{\"id\":\"123\"}"})).is_none());
        assert!(created_id(&Value::Null).is_none());
    }
}
