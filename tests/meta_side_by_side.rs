//! A collection's insights queries read side by side through the Meta adapter
//! (`Platform::deliveries`), against the mock with Meta's rate limit enforced and the
//! adapter paced by the limit's own window: the same rows as reading them one by one and as
//! the in-process simulator, one call per page, no call refused, never more calls in a
//! window than the limit allows, and the queries' pages really interleaved.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use adskew::clock::SimClock;
use adskew::experiment::load::load_with_env;
use adskew::experiment::Experiment;
use adskew::mockapi::{self, clock::MockClock, faults::Faults, Mock};
use adskew::platform::meta::adapter::{MetaConfig, MetaPlatform, Secret};
use adskew::platform::sim::{SimPlatform, SimTruth};
use adskew::platform::{DeliveryQuery, Exchange, ObjectId, Period, Platform, PlatformError};
use adskew::scheduler;
use common::run_on;

/// The mock's limit, and the adapter's window set to it: 10 calls in any quarter second.
const LIMIT: usize = 10;
const WINDOW: Duration = Duration::from_millis(250);
/// Small pages, so every query takes many calls, each cursor from the answer before.
const PAGE: u32 = 7;

fn experiment() -> Experiment {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns/imana2021_paired_jobs.toml");
    load_with_env(&path, Vec::new()).unwrap().experiment
}

fn limit() -> Faults {
    Faults {
        rate_limit: LIMIT as u32,
        rate_window_secs: WINDOW.as_secs_f64(),
        ..Faults::default()
    }
}

async fn paced_adapter(base: &str, clock: Arc<MockClock>) -> MetaPlatform {
    let mut config = MetaConfig::new(base, "act_1000", "2000", Secret::new("t"));
    config.page_size = PAGE;
    config.max_calls_per_second = (LIMIT as f64 / WINDOW.as_secs_f64()) as u32;
    config.rate_window = WINDOW;
    config.max_retries = 0;
    config.backoff = Duration::from_millis(1);
    MetaPlatform::new(config, clock).unwrap()
}

/// Which query an archived insights call belongs to: its breakdown and time increment, from
/// the first page's parameters or a later page's URL.
/// `mock` served on a free loopback port: its clock, and the adapter paced to its limit.
async fn serve(mock: Arc<Mock>) -> (Arc<MockClock>, MetaPlatform) {
    let addr = mockapi::spawn(mock, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = format!("http://{addr}");
    let clock = Arc::new(MockClock::connect(&base).await.unwrap());
    let meta = paced_adapter(&base, clock.clone()).await;
    (clock, meta)
}

fn query_of(e: &Exchange) -> (String, String) {
    let params: Vec<(String, String)> = match reqwest::Url::parse(&e.url) {
        Ok(url) if url.query().is_some() => url.query_pairs().into_owned().collect(),
        _ => serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&e.request)
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
            .collect(),
    };
    let get = |k: &str| {
        params
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    (get("breakdowns"), get("time_increment"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_read_side_by_side_share_one_window_and_give_the_same_rows() {
    let exp = experiment();
    let start = scheduler::start_time(&exp, chrono::Utc::now());
    let mock = Mock::with_faults(SimTruth::of(&exp).unwrap(), start, limit());
    let (clock, meta) = serve(mock.clone()).await;

    // A whole run, its collections read side by side, under the limit: what the simulator
    // gives in-process, and nothing refused.
    let (via_mock, store) = run_on(&exp, &meta, clock.as_ref()).await;
    let id = store.find_experiment(&exp.name).unwrap().id;
    let direct = {
        let clock = Arc::new(SimClock::new(start));
        let sim = SimPlatform::new(SimTruth::of(&exp).unwrap(), clock.clone());
        run_on(&exp, &sim, clock.as_ref()).await.0
    };
    assert_eq!(
        serde_json::to_value(&via_mock.comparisons).unwrap(),
        serde_json::to_value(&direct.comparisons).unwrap()
    );
    assert_eq!(mock.throttled_count(), 0, "a call was refused by the limit");

    // One collection's queries again, side by side, timed by the adapter's own archive.
    let ads: Vec<ObjectId> = store
        .objects(id)
        .unwrap()
        .into_iter()
        .filter(|o| o.role == "ad")
        .map(|o| ObjectId(o.platform_id.unwrap()))
        .collect();
    assert_eq!(ads.len(), exp.ads.len());
    // The run's days (read synchronously: fewer than `async_after_days`).
    let since = start.date_naive();
    let until = since + chrono::Days::new(4);
    let queries: Vec<DeliveryQuery> = exp
        .collect
        .breakdowns
        .iter()
        .flat_map(|b| {
            [Period::Day, Period::Total].map(|granularity| DeliveryQuery {
                ads: ads.clone(),
                breakdown: *b,
                since,
                until,
                granularity,
            })
        })
        .collect();
    meta.take_exchanges();
    let side_by_side = meta.deliveries(&queries).await.unwrap();
    let exchanges = meta.take_exchanges();
    let mut in_turn = Vec::new();
    for q in &queries {
        in_turn.push(meta.delivery(q).await.unwrap());
    }
    assert_eq!(side_by_side, in_turn, "the same rows, query by query");
    assert_eq!(mock.throttled_count(), 0, "a call was refused by the limit");

    // One call per page, and no more than the limit in any window: the 21st call sent goes
    // out at least a window after the first did.
    let pages: usize = side_by_side
        .iter()
        .map(|rows| rows.len().div_ceil(PAGE as usize).max(1))
        .sum();
    assert_eq!(exchanges.len(), pages, "one call per page");
    assert!(
        pages > 2 * LIMIT,
        "{pages} pages fill the window more than twice"
    );
    let mut sent: Vec<_> = exchanges.iter().map(|e| e.at).collect();
    sent.sort();
    for (i, t) in sent.iter().enumerate().skip(LIMIT) {
        let apart = (*t - sent[i - LIMIT]).to_std().unwrap();
        assert!(
            apart >= WINDOW,
            "calls {} and {i} sent {apart:?} apart, within one window of {WINDOW:?}",
            i - LIMIT
        );
    }

    // Side by side: between two pages of one query, another query's page went out.
    let mut by_time: Vec<&Exchange> = exchanges.iter().collect();
    by_time.sort_by_key(|e| e.at);
    let order: Vec<_> = by_time.iter().map(|e| query_of(e)).collect();
    let interleaved = (0..order.len())
        .any(|j| (0..j).any(|i| order[i] != order[j] && order[j + 1..].contains(&order[i])));
    assert!(
        interleaved,
        "the queries were read one after another: {order:?}"
    );
}

/// A failing query fails the read, as when the queries are read in turn, and the failure
/// told is the first in the queries' order, whichever ended first.
#[tokio::test]
async fn the_first_failing_query_in_order_is_the_answer() {
    let exp = experiment();
    let start = scheduler::start_time(&exp, chrono::Utc::now());
    let mock = Mock::new(SimTruth::of(&exp).unwrap(), start);
    let (_, meta) = serve(mock.clone()).await;
    let query = |ad: &str| DeliveryQuery {
        ads: vec![ObjectId(ad.to_string())],
        breakdown: exp.collect.breakdowns[0],
        since: start.date_naive(),
        until: start.date_naive(),
        granularity: Period::Day,
    };
    let err = meta
        .deliveries(&[query("first-unknown"), query("second-unknown")])
        .await
        .unwrap_err();
    match err {
        PlatformError::UnknownObject(id) => assert_eq!(id.0, "first-unknown"),
        other => panic!("expected the first query's failure, got {other}"),
    }
}
