//! Batch requests (Graph API "Batch requests"): up to 50 calls in one HTTP request, each
//! answered on its own as `{code, headers, body}` with the body as a JSON string, or `null`
//! when Meta did not get to it.
//!
//! What Meta's page says, and so what this relies on (verified against
//! developers.facebook.com/docs/graph-api/batch-requests, "Limitations"):
//! - at most 50 calls per batch;
//! - each call in a batch counts separately against the rate limits ("a batch of 10 API
//!   calls will count as 10 calls"), so batching saves requests and round trips, not quota;
//! - a batch "cannot include multiple Adsets under the same Campaign".
//!
//! Not relied on (the evidence, with Meta's words and where they are, is in
//! `docs/meta-mock.md`, "Many ad sets in few requests"): dependencies between calls of one
//! batch (`name` and `{result=...}` references; they only order calls inside a batch, which
//! still holds one ad set per campaign, and what a dependant answers when its parent fails
//! is not documented), asynchronous batch requests (`asyncbatch`: the endpoints they may
//! call are listed on a page no readable copy of which gives the list) and
//! `act_X/async_batch_requests` (no documented endpoints, maximum or way to read results).
//! So every call of a batch is independent of the others, and a launch takes a request per
//! ad set of its one campaign.

use serde_json::Value;

/// Meta's limit on calls per batch.
pub const MAX: usize = 50;

/// `items` in batches by Meta's two rules: at most [`MAX`] calls, and at most one item of
/// each exclusive key (an ad set's campaign) per batch. Each batch first takes the next item
/// of every key still pending, then fills up with unkeyed items, so the keyed items (which
/// need a batch each) carry the rest: 200 ad sets of one campaign and 200 creatives make
/// 200 batches, not 204. Within a batch, items keep their order in `items`.
pub fn pack<'a>(items: &[usize], key: impl Fn(usize) -> Option<&'a str>) -> Vec<Vec<usize>> {
    let mut keyed: Vec<(&str, std::collections::VecDeque<usize>)> = Vec::new();
    let mut free = std::collections::VecDeque::new();
    for &i in items {
        match key(i) {
            Some(k) => match keyed.iter_mut().find(|(kk, _)| *kk == k) {
                Some((_, queue)) => queue.push_back(i),
                None => keyed.push((k, [i].into())),
            },
            None => free.push_back(i),
        }
    }
    let mut batches = Vec::new();
    while !free.is_empty() || keyed.iter().any(|(_, q)| !q.is_empty()) {
        let mut batch = Vec::with_capacity(MAX);
        for (_, queue) in &mut keyed {
            if batch.len() < MAX {
                batch.extend(queue.pop_front());
            }
        }
        while batch.len() < MAX {
            let Some(i) = free.pop_front() else { break };
            batch.push(i);
        }
        batch.sort_unstable();
        batches.push(batch);
    }
    batches
}

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
    fn batches_hold_at_most_50_calls_and_one_ad_set_per_campaign() {
        // 200 creatives (unkeyed) then 200 ad sets of campaign "c", and 3 of campaign "d".
        let items: Vec<usize> = (0..403).collect();
        let key = |i: usize| match i {
            0..200 => None,
            200..400 => Some("c"),
            _ => Some("d"),
        };
        let batches = pack(&items, key);
        // One batch per ad set of the larger campaign: the creatives ride along.
        assert_eq!(batches.len(), 200);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, items, "every item once");
        for b in &batches {
            assert!(b.len() <= MAX);
            for k in ["c", "d"] {
                assert!(b.iter().filter(|&&i| key(i) == Some(k)).count() <= 1);
            }
        }
        // Without keys: as few batches as 50 allows.
        assert_eq!(pack(&(0..120).collect::<Vec<_>>(), |_| None).len(), 3);
        assert!(pack(&[], |_| None).is_empty());
    }

    #[test]
    fn a_created_id_is_read_only_from_a_2xx_answer() {
        let ok = json!({"code": 200, "body": "{\"id\":\"123\"}"});
        assert_eq!(created_id(&ok).unwrap().0, "123");
        assert!(created_id(&json!({"code": 400, "body": "{\"id\":\"123\"}"})).is_none());
        assert!(created_id(&Value::Null).is_none());
    }
}
