//! The real Meta adapter (reqwest over HTTP) against the mock Graph API server on
//! 127.0.0.1, with the simulator behind it: a whole experiment must give exactly the numbers
//! the simulator gives in-process, with paging exercised and every object created once.

mod common;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use adskew::analysis::Analysis;
use adskew::clock::{Clock, SimClock};
use adskew::experiment::load::load_with_env;
use adskew::experiment::Experiment;
use adskew::mockapi::{self, clock::MockClock, Mock};
use adskew::platform::meta::adapter::{MetaConfig, MetaPlatform, Secret};
use adskew::platform::sim::SimPlatform;
use adskew::platform::Platform;
use adskew::scheduler;
use adskew::store::Store;
use common::run_on;

fn experiment() -> Experiment {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns/imana2021_paired_jobs.toml");
    load_with_env(&path, Vec::new()).unwrap().experiment
}

/// The mock Graph API on a free loopback port, with `faults`; its base URL and clock.
async fn serve(
    exp: &Experiment,
    start: chrono::DateTime<chrono::Utc>,
    faults: mockapi::faults::Faults,
) -> (Arc<Mock>, String, Arc<MockClock>) {
    let mock = Mock::with_faults(
        adskew::platform::sim::SimTruth::of(exp).unwrap(),
        start,
        faults,
    );
    let addr = mockapi::spawn(mock.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = format!("http://{addr}");
    let clock = Arc::new(MockClock::connect(&base).await.unwrap());
    (mock, base, clock)
}

/// The same experiment on the in-process simulator: what the mock must reproduce.
async fn run_direct(exp: &Experiment, start: chrono::DateTime<chrono::Utc>) -> Analysis {
    let clock = Arc::new(SimClock::new(start));
    let sim = SimPlatform::new(
        adskew::platform::sim::SimTruth::of(exp).unwrap(),
        clock.clone(),
    );
    run_on(exp, &sim, clock.as_ref()).await.0
}

/// Sends `batch` as one batch request to the mock; its answers and their HTTP codes.
async fn post_batch(base: &str, batch: &serde_json::Value) -> (serde_json::Value, Vec<u64>) {
    let answers: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/v27.0/"))
        .form(&[("access_token", "t"), ("batch", &batch.to_string())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let codes = answers
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_u64().unwrap())
        .collect();
    (answers, codes)
}

fn config(base_url: String, token: &str) -> MetaConfig {
    let mut c = MetaConfig::new(&base_url, "act_1000", "2000", Secret::new(token));
    c.max_retries = 2;
    c.backoff = Duration::from_millis(1);
    // Small pages so every insights read follows `paging.next`.
    c.page_size = 7;
    c.max_calls_per_second = 10_000;
    c
}

#[tokio::test]
async fn an_experiment_through_the_meta_adapter_matches_the_simulator() {
    let exp = experiment();
    let start = scheduler::start_time(&exp, chrono::Utc::now());

    let direct = run_direct(&exp, start).await;

    let (mock, base, mock_clock) = serve(&exp, start, Default::default()).await;
    // An app that requires the app secret proof on every call.
    mock.require_app_secret("app-secret");
    let mut cfg = config(base.clone(), "test-token");
    cfg.app_secret = Some(Secret::new("app-secret"));
    let meta = MetaPlatform::new(cfg, mock_clock.clone()).unwrap();
    let (via_http, store) = run_on(&exp, &meta, mock_clock.as_ref()).await;

    assert_eq!(
        serde_json::to_value(&via_http.comparisons).unwrap(),
        serde_json::to_value(&direct.comparisons).unwrap(),
        "the adapter and the mock reproduce the simulator exactly"
    );
    // Meta reports spend per ad as rounded decimal strings; the simulator's own total is
    // exact. They may differ by at most a cent per ad.
    assert!((via_http.data.spend.minor() - direct.data.spend.minor()).abs() <= 4);
    assert!(via_http.data.spend.minor() > 0);
    // 1 campaign + 4 × (ad set, creative, ad) objects, each created once.
    assert_eq!(mock.object_count(), 1 + 4 * 3);
    let ads = store.ads(via_http.experiment.id).unwrap();
    assert!(
        ads.iter()
            .all(|a| a.platform_ad_id.chars().all(|c| c.is_ascii_digit())),
        "Graph ids recorded"
    );
    assert!(
        meta.calls.load(Ordering::Relaxed) > 13 + 9,
        "paged insights reads were made"
    );

    // Meta's `age,gender` breakdown: the cross rows add up to the gender rows, per ad.
    let http = reqwest::Client::new();
    let proof = {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"app-secret").unwrap();
        mac.update(b"t");
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let read = |breakdowns: &str| {
        let url = format!(
            "{base}/v27.0/{}/insights?access_token=t&appsecret_proof={proof}&level=ad&fields=ad_id,impressions&limit=1000&breakdowns={breakdowns}&time_range={}",
            ads[0].campaign_id,
            serde_json::json!({"since": start.date_naive().to_string(), "until": (start + chrono::Duration::days(10)).date_naive().to_string()})
        );
        let http = http.clone();
        async move {
            let mut cfg = http
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap();
            cfg["data"].take()
        }
    };
    let cross = read("age,gender").await;
    let by_gender = read("gender").await;
    assert!(cross
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["age"].is_string() && r["gender"].is_string()));
    for row in by_gender.as_array().unwrap() {
        let sum: u64 = cross
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["ad_id"] == row["ad_id"] && c["gender"] == row["gender"])
            .map(|c| c["impressions"].as_str().unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(sum.to_string(), row["impressions"].as_str().unwrap());
    }

    // A wrong app secret is Meta's code 100 at once, not retried.
    let mut cfg = config(base, "test-token");
    cfg.app_secret = Some(Secret::new("wrong"));
    let wrong = MetaPlatform::new(cfg, mock_clock.clone()).unwrap();
    let err = wrong
        .set_status(
            &adskew::platform::ObjectId(ads[0].ad_set_id.clone()),
            adskew::platform::Status::Paused,
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("appsecret_proof"), "{err}");
    assert_eq!(wrong.calls.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn graph_errors_become_clear_failures() {
    let exp = experiment();
    let start = scheduler::start_time(&exp, chrono::Utc::now());
    let (_mock, base, clock) = serve(&exp, start, Default::default()).await;

    // No token: Meta's code 104, explained, not retried.
    let meta = MetaPlatform::new(config(base.clone(), ""), clock.clone()).unwrap();
    let spec = adskew::platform::CampaignSpec {
        spend_cap: None,
        name: "x".into(),
        objective: adskew::vocab::Objective::Traffic,
        category: adskew::vocab::AdCategory::None,
        countries: vec!["US".into()],
    };
    let err = meta.create_campaign(&spec).await.unwrap_err().to_string();
    assert!(
        err.contains("104") && err.contains("ADSKEW_META_TOKEN"),
        "{err}"
    );
    assert_eq!(
        meta.calls.load(Ordering::Relaxed),
        1,
        "token errors are not retried"
    );
    assert!(
        !err.contains("access_token="),
        "the token never appears in errors: {err}"
    );

    // A status the API does not know: code 100, not retried.
    let meta = MetaPlatform::new(config(base, "secret-token"), clock).unwrap();
    let err = meta
        .set_status(
            &adskew::platform::ObjectId("999".into()),
            adskew::platform::Status::Active,
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("100"), "{err}");
    assert!(!err.contains("secret-token"));
}

/// Throttling, transient errors and bare gateway errors on a fifth of all requests: the
/// adapter's retries must deliver exactly the fault-free data, creating nothing twice (the
/// mock rejects a failing request before it reaches the simulator).
#[tokio::test]
async fn faults_are_retried_and_change_nothing() {
    let exp = experiment();
    let start = scheduler::start_time(&exp, chrono::Utc::now());
    let direct = run_direct(&exp, start).await;

    let faults = mockapi::faults::Faults {
        seed: 3,
        throttle: 0.1,
        transient: 0.06,
        gateway: 0.04,
        // Creates carried out whose answer is lost: retrying blindly would duplicate them.
        lost_answer: 0.3,
        ..Default::default()
    };
    let (mock, base, mock_clock) = serve(&exp, start, faults).await;
    let mut cfg = config(base, "test-token");
    cfg.max_retries = 12;
    let meta = MetaPlatform::new(cfg, mock_clock.clone()).unwrap();
    let (via_http, store) = run_on(&exp, &meta, mock_clock.as_ref()).await;

    assert!(
        serde_json::to_value(&via_http.comparisons).unwrap()
            == serde_json::to_value(&direct.comparisons).unwrap(),
        "retried collection equals the fault-free data"
    );

    // Provenance: every attempt, failed or not, is archived with its answer and trace id,
    // and the token is nowhere in the archive.
    let archived = store.api_calls(Some(via_http.experiment.id)).unwrap();
    assert_eq!(archived.len() as u64, meta.calls.load(Ordering::Relaxed));
    // A fault inside a batch is an element of the batch's answer, archived with it.
    let in_batches: u64 = archived
        .iter()
        .filter(|c| c.status == 200 && c.url.ends_with("/v27.0/"))
        .filter_map(|c| serde_json::from_slice::<serde_json::Value>(&c.response).ok())
        .map(|answers| {
            answers
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| {
                    a["code"].as_u64() != Some(200)
                        || a["body"]
                            .as_str()
                            .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
                            .is_none()
                })
                .count() as u64
        })
        .sum();
    let failed = archived.iter().filter(|c| c.status != 200).count() as u64;
    assert_eq!(
        failed + in_batches,
        mock.fault_count(),
        "each injected fault is archived"
    );
    assert!(archived.iter().filter(|c| c.status != 502).all(|c| c
        .trace_id
        .as_deref()
        .is_some_and(|t| t.starts_with("AdskewMock"))));
    assert!(archived
        .iter()
        .any(|c| c.status == 400 && String::from_utf8_lossy(&c.response).contains("80004")));
    for (i, c) in archived.iter().enumerate() {
        assert!(
            !c.url.contains("test-token")
                && !c.request.contains("test-token")
                && !String::from_utf8_lossy(&c.response).contains("test-token"),
            "token archived in call {}",
            i + 1
        );
        assert!(c.request.contains("[redacted]"));
    }
    assert_eq!(mock.object_count(), 1 + 4 * 3, "no object created twice");
    let calls = meta.calls.load(Ordering::Relaxed);
    // A batch is one HTTP request; the mock counts the Graph calls inside it, as Meta's
    // rate limits do.
    let graph_calls =
        calls - meta.batches.load(Ordering::Relaxed) + meta.batched_calls.load(Ordering::Relaxed);
    assert_eq!(
        mock.request_count(),
        graph_calls,
        "every attempt reached the server"
    );
    assert!(
        mock.fault_count() >= 10,
        "faults were injected: {} of {calls}",
        mock.fault_count()
    );
}

/// An ad the platform's review rejects delivers nothing, and every layer says so: the
/// adapter reads `effective_status` and the review feedback, the store keeps them, and the
/// analysis and report name the ad and the reason instead of showing a merely small ad.
#[tokio::test]
async fn a_rejected_ad_is_reported_not_silently_missing() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns/imana2021_paired_jobs.toml");
    let reason = "Employment ads may not target by gender";
    let exp = load_with_env(
        &path,
        vec![(
            "ADSKEW_SIM__ADS__NVIDIA_SWE__DISAPPROVED".to_string(),
            reason.to_string(),
        )],
    )
    .unwrap()
    .experiment;
    let start = scheduler::start_time(&exp, chrono::Utc::now());
    let (_mock, base, mock_clock) = serve(&exp, start, Default::default()).await;
    let meta = MetaPlatform::new(config(base, "test-token"), mock_clock.clone()).unwrap();
    let (analysis, store) = run_on(&exp, &meta, mock_clock.as_ref()).await;

    let rejected = analysis.ads.iter().find(|a| a.key == "nvidia_swe").unwrap();
    assert_eq!(rejected.platform_status.as_deref(), Some("DISAPPROVED"));
    assert!(rejected
        .platform_problem
        .as_deref()
        .unwrap()
        .contains(reason));
    assert_eq!(rejected.impressions, 0, "a rejected ad delivers nothing");
    for other in analysis.ads.iter().filter(|a| a.key != "nvidia_swe") {
        assert_eq!(other.platform_problem, None);
        assert!(other.impressions > 0);
        // Paused at the end of the schedule, by the campaign.
        assert_eq!(other.platform_status.as_deref(), Some("CAMPAIGN_PAUSED"));
    }
    let report = adskew::report::markdown::render(&analysis, &[]);
    assert!(
        report.contains("`nvidia_swe` was rejected") && report.contains(reason),
        "{report}"
    );
    // Every ad's status was read and kept.
    let history = store.latest_reviews(analysis.experiment.id).unwrap();
    assert_eq!(history.len(), 4);
}

/// Every insights read as an async report run (start, poll, read pages), with slow jobs and
/// a third of them failing: the adapter splits failed jobs into parts (never starting one
/// again as it was) and the data equal a direct simulator run's.
#[tokio::test]
async fn async_report_runs_are_polled_and_failed_ones_split() {
    let exp = experiment();
    let start = scheduler::start_time(&exp, chrono::Utc::now());
    let direct = run_direct(&exp, start).await;

    let faults = mockapi::faults::Faults {
        seed: 11,
        async_polls: 3,
        async_fail: 0.3,
        ..Default::default()
    };
    let (mock, base, mock_clock) = serve(&exp, start, faults).await;
    let mut cfg = config(base, "test-token");
    cfg.async_after_days = 0;
    cfg.async_poll = Duration::from_millis(1);
    cfg.max_retries = 8;
    let meta = MetaPlatform::new(cfg, mock_clock.clone()).unwrap();
    let (via_http, _) = run_on(&exp, &meta, mock_clock.as_ref()).await;

    assert_eq!(
        serde_json::to_value(&via_http.comparisons).unwrap(),
        serde_json::to_value(&direct.comparisons).unwrap()
    );
    // Per collection and breakdown a daily and a total read, plus the spend read: all
    // async, and more runs than that because failed ones were run again in parts.
    let reads = via_http.data.collections * (2 * exp.collect.breakdowns.len() + 1);
    assert!(
        mock.report_run_count() > reads,
        "{} report runs for {reads} reads",
        mock.report_run_count()
    );
}

/// Meta's rate limit, enforced by the mock (40 calls per second, sliding): the adapter is
/// refused, reads the reset time from the usage headers, waits, and still collects exactly
/// the fault-free data. Slow and truncated answers to reads are retried the same way.
#[tokio::test]
async fn rate_limits_timeouts_and_truncated_answers_are_survived() {
    let exp = experiment();
    let start = scheduler::start_time(&exp, chrono::Utc::now());
    let direct = run_direct(&exp, start).await;

    let faults = mockapi::faults::Faults {
        seed: 5,
        rate_limit: 40,
        rate_window_secs: 1.0,
        malformed: 0.05,
        delay: 0.03,
        delay_secs: 2.0,
        ..Default::default()
    };
    let (mock, base, mock_clock) = serve(&exp, start, faults).await;
    let mut cfg = config(base, "test-token");
    cfg.max_retries = 10;
    cfg.backoff = Duration::from_millis(20);
    cfg.request_timeout = Duration::from_millis(500);
    let meta = MetaPlatform::new(cfg, mock_clock.clone()).unwrap();
    let (via_http, _) = run_on(&exp, &meta, mock_clock.as_ref()).await;

    assert_eq!(
        serde_json::to_value(&via_http.comparisons).unwrap(),
        serde_json::to_value(&direct.comparisons).unwrap()
    );
    assert!(mock.throttled_count() > 0, "the limit was reached");
    assert!(
        mock.fault_count() > 0,
        "slow or truncated answers were sent"
    );
    assert_eq!(mock.object_count(), 1 + 4 * 3, "no object created twice");
}

/// A token that expires mid-run is not retried: the run fails at once with a message that
/// says what to do, and is recorded as failed.
#[tokio::test]
async fn an_expired_token_fails_the_run_clearly() {
    let exp = experiment();
    let start = scheduler::start_time(&exp, chrono::Utc::now());
    let faults = mockapi::faults::Faults {
        expire_token_after: Some(20),
        ..Default::default()
    };
    let (_mock, base, mock_clock) = serve(&exp, start, faults).await;
    let meta = MetaPlatform::new(config(base, "test-token"), mock_clock.clone()).unwrap();
    let mut store = Store::open_in_memory().unwrap();
    let err = scheduler::run(&exp, &meta, mock_clock.as_ref(), &mut store, &())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("190") && err.contains("expired") && err.contains("ADSKEW_META_TOKEN"),
        "{err}"
    );
    let runs = store.list_experiments().unwrap();
    assert_eq!(runs[0].state.as_str(), "failed");
    // The failing call (or the batch it was in), then the attempt to pause the campaign:
    // nothing retried, so at most one batch of calls after the expiry.
    let graph_calls = meta.calls.load(Ordering::Relaxed) - meta.batches.load(Ordering::Relaxed)
        + meta.batched_calls.load(Ordering::Relaxed);
    assert!((21..=20 + 50 + 2).contains(&graph_calls), "{graph_calls}");
}

/// The mock validates as Meta does, so the adapter's error handling meets Meta's shapes: an
/// employment ad set narrowed by age is refused naming the blamed field, a special category
/// without its country is refused, and so are unknown parameters, unknown insights fields
/// and breakdown combinations Meta does not store (with Meta's own error text).
#[tokio::test]
async fn the_mock_refuses_what_meta_refuses() {
    let exp = experiment();
    let start = scheduler::start_time(&exp, chrono::Utc::now());
    let (mock, base, clock) = serve(&exp, start, Default::default()).await;
    let meta = MetaPlatform::new(config(base.clone(), "t"), clock).unwrap();
    let campaign = meta
        .create_campaign(&adskew::platform::CampaignSpec {
            spend_cap: None,
            name: "jobs".into(),
            objective: adskew::vocab::Objective::Traffic,
            category: adskew::vocab::AdCategory::Employment,
            countries: vec!["US".into()],
        })
        .await
        .unwrap();
    let mut audience = exp.audience.clone();
    audience.age_min = 25;
    let err = meta
        .create_ad_set(&adskew::platform::AdSetSpec {
            campaign,
            name: "narrow".into(),
            budget: adskew::platform::BudgetSpec::Daily(adskew::money::Money(1000)),
            audience,
            start,
            end: start + chrono::Duration::days(1),
            partition: None,
        })
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("targeting.age_min"), "{err}");
    assert_eq!(
        mock.object_count(),
        1,
        "nothing created by the refused call"
    );

    let http = reqwest::Client::new();
    let post = |path: &str, form: Vec<(&str, &str)>| {
        http.post(format!("{base}/v27.0/{path}")).form(&form).send()
    };
    let body = |r: reqwest::Response| async move {
        assert_eq!(r.status(), 400);
        r.json::<serde_json::Value>().await.unwrap()["error"].clone()
    };
    let e = body(
        post(
            "act_1/campaigns",
            vec![
                ("access_token", "t"),
                ("name", "x"),
                ("objective", "OUTCOME_TRAFFIC"),
                ("special_ad_categories", "[\"HOUSING\"]"),
            ],
        )
        .await
        .unwrap(),
    )
    .await;
    assert!(e["error_data"]
        .as_str()
        .unwrap()
        .contains("special_ad_category_country"));
    let e = body(
        post(
            "act_1/campaigns",
            vec![
                ("access_token", "t"),
                ("name", "x"),
                ("objective", "OUTCOME_TRAFFIC"),
                ("special_ad_categories", "[]"),
                ("colour", "red"),
            ],
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(e["code"], 100);
    assert!(e["message"].as_str().unwrap().contains("colour"));
    let get = |q: &str| {
        http.get(format!(
            "{base}/v27.0/act_1/insights?access_token=t&level=ad&{q}"
        ))
        .send()
    };
    let e = body(get("fields=reach,gender_skew").await.unwrap()).await;
    assert!(e["message"]
        .as_str()
        .unwrap()
        .contains("gender_skew is not valid for fields param"));
    let e = body(get("breakdowns=gender,region").await.unwrap()).await;
    assert_eq!(
        e["message"],
        "(#100) Current combination of data breakdown columns (gender, region) is invalid"
    );
}

/// Batch requests: elements are served in order by the same routes, each with its own code
/// and body, the outer answer 200; more than 50 elements are refused as Meta does.
#[tokio::test]
async fn batch_requests_are_served_in_order() {
    let exp = experiment();
    let start = scheduler::start_time(&exp, chrono::Utc::now());
    let mock = Mock::new(adskew::platform::sim::SimTruth::of(&exp).unwrap(), start);
    let addr = mockapi::spawn(mock.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let batch = serde_json::json!([
        {"method": "POST", "relative_url": "v27.0/act_1000/campaigns",
         "body": "name=b&objective=OUTCOME_TRAFFIC&special_ad_categories=%5B%5D&status=PAUSED&is_adset_budget_sharing_enabled=false"},
        {"method": "GET", "relative_url": "act_1000/insights?level=ad&fields=reach&breakdowns=gender,region&time_range=%7B%7D"},
        {"method": "DELETE", "relative_url": "v27.0/999"},
    ]);
    let (answers, codes) = post_batch(&base, &batch).await;
    assert_eq!(codes, [200, 400, 400]);
    let created: serde_json::Value =
        serde_json::from_str(answers[0]["body"].as_str().unwrap()).unwrap();
    assert!(created["id"]
        .as_str()
        .unwrap()
        .chars()
        .all(|c| c.is_ascii_digit()));
    assert!(answers[1]["body"]
        .as_str()
        .unwrap()
        .contains("Current combination of data breakdown columns"));
    assert_eq!(mock.object_count(), 1);

    let too_many: Vec<_> = (0..51)
        .map(|_| serde_json::json!({"method": "GET", "relative_url": "act_1000/campaigns"}))
        .collect();
    let refused = http
        .post(format!("{base}/"))
        .form(&[
            ("access_token", "t"),
            ("batch", &serde_json::Value::Array(too_many).to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Maximum batch size is 50"));
}

/// One ad that delivered for four days on a mock with `faults`; the mock and its base URL.
async fn one_ad_delivering(faults: mockapi::faults::Faults) -> (Arc<Mock>, String) {
    let run = launched_with("USD", adskew::money::Money(5000), None, faults).await;
    let later = run.clock.now() + chrono::Duration::days(4);
    run.clock.sleep_until(later).await;
    (run.mock, run.base)
}

async fn insights(base: &str, query: &str) -> Vec<serde_json::Value> {
    let body: serde_json::Value = reqwest::get(format!(
        "{base}/v27.0/act_1000/insights?access_token=t&level=ad&limit=500&{query}"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone()
}

fn sum(rows: &[serde_json::Value], field: &str) -> u64 {
    rows.iter()
        .map(|r| r[field].as_str().unwrap().parse::<u64>().unwrap())
        .sum()
}

#[tokio::test]
async fn insights_report_unknown_and_teen_ages_sort_and_drop_old_reach_as_meta_does() {
    let (_plain, plain) = one_ad_delivering(Default::default()).await;
    let (_edge, edge) = one_ad_delivering(mockapi::faults::Faults {
        unknown_age: 0.05,
        teen_age: 0.01,
        ..Default::default()
    })
    .await;
    let by_age = "breakdowns=age&fields=impressions,reach&date_preset=last_7d";
    let (without, with) = (
        insights(&plain, by_age).await,
        insights(&edge, by_age).await,
    );
    let ages = |rows: &[serde_json::Value]| -> std::collections::BTreeSet<String> {
        rows.iter()
            .map(|r| r["age"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(!ages(&without).contains("Unknown"));
    assert!(ages(&with).contains("Unknown") && ages(&with).contains("13-17"));
    assert_eq!(
        sum(&with, "impressions"),
        sum(&without, "impressions"),
        "the same delivery, partly reported under other ages"
    );

    let sorted = insights(
        &plain,
        &format!("{by_age}&sort=%5B%22impressions_descending%22%5D"),
    )
    .await;
    let counts: Vec<u64> = sorted
        .iter()
        .map(|r| r["impressions"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        counts.len() > 1 && counts.windows(2).all(|w| w[0] >= w[1]),
        "{counts:?}"
    );

    // A breakdown query reaching back more than 13 months loses reach when synchronous.
    let old = "breakdowns=gender&fields=impressions,reach&date_preset=maximum";
    let rows = insights(&plain, old).await;
    assert!(
        !rows.is_empty() && rows.iter().all(|r| r.get("reach").is_none()),
        "{rows:?}"
    );
    assert!(
        insights(&plain, "fields=impressions,reach&date_preset=maximum")
            .await
            .iter()
            .all(|r| r.get("reach").is_some())
    );
}

/// What [`launched`] made: a campaign with one ad set and one ad, all active.
struct Launched {
    mock: Arc<Mock>,
    base: String,
    clock: Arc<MockClock>,
    meta: MetaPlatform,
    campaign: adskew::platform::ObjectId,
    ad_set: adskew::platform::ObjectId,
    ad: adskew::platform::ObjectId,
}

/// A campaign with one ad set (budget `daily`, in the account's currency `currency`) and one
/// ad, all active, through the adapter.
async fn launched(
    currency: &str,
    daily: adskew::money::Money,
    spend_cap: Option<adskew::money::Money>,
) -> Launched {
    launched_with(currency, daily, spend_cap, Default::default()).await
}

/// [`launched`] on a mock with `faults`.
async fn launched_with(
    currency: &str,
    daily: adskew::money::Money,
    spend_cap: Option<adskew::money::Money>,
    faults: mockapi::faults::Faults,
) -> Launched {
    use adskew::platform::{AdSetSpec, AdSpec, BudgetSpec, CampaignSpec, CreativeSpec, Status};
    let exp = experiment();
    let start = scheduler::start_time(&exp, chrono::Utc::now());
    let (mock, base, clock) = serve(&exp, start, faults).await;
    mock.set_currency(currency);
    let meta = MetaPlatform::new(config(base.clone(), "t"), clock.clone()).unwrap();
    let campaign = meta
        .create_campaign(&CampaignSpec {
            spend_cap,
            name: "money".into(),
            objective: adskew::vocab::Objective::Traffic,
            category: adskew::vocab::AdCategory::Credit,
            countries: vec!["US".into()],
        })
        .await
        .unwrap();
    let ad_set = meta
        .create_ad_set(&AdSetSpec {
            campaign: campaign.clone(),
            name: "money/set".into(),
            budget: BudgetSpec::Daily(daily),
            audience: exp.audience.clone(),
            start,
            end: start + chrono::Duration::days(10),
            partition: None,
        })
        .await
        .unwrap();
    let creative = meta
        .create_creative(&CreativeSpec {
            key: exp.ads[0].key.clone(),
            name: format!("money/{}", exp.ads[0].key),
            headline: "h".into(),
            body: "b".into(),
            image: None,
            link: "https://example.org".into(),
        })
        .await
        .unwrap();
    let ad = meta
        .create_ad(&AdSpec {
            ad_set: ad_set.clone(),
            creative,
            name: "money/ad".into(),
        })
        .await
        .unwrap();
    for id in [&ad, &ad_set, &campaign] {
        meta.set_status(id, Status::Active).await.unwrap();
    }
    Launched {
        mock,
        base,
        clock,
        meta,
        campaign,
        ad_set,
        ad,
    }
}

async fn field(base: &str, id: &str, field: &str) -> serde_json::Value {
    let body: serde_json::Value =
        reqwest::get(format!("{base}/v27.0/{id}?access_token=t&fields={field}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    body[field].clone()
}

#[tokio::test]
async fn budgets_and_caps_go_out_in_the_account_currencys_unit() {
    use adskew::money::Money;
    // ¥2,500 a day is sent as 2500 (offset 1), $25 as 2500 cents (offset 100).
    let yen = launched("JPY", Money(250_000), Some(Money(5_000_000))).await;
    assert_eq!(
        field(&yen.base, &yen.ad_set.0, "daily_budget").await,
        "2500"
    );
    assert_eq!(
        field(&yen.base, &yen.campaign.0, "spend_cap").await,
        "50000"
    );
    // Credit is sent under Meta's current name.
    assert_eq!(
        field(&yen.base, &yen.campaign.0, "special_ad_categories").await,
        serde_json::json!(["FINANCIAL_PRODUCTS_SERVICES"])
    );
    let usd = launched("USD", Money(2_500), Some(Money(15_000))).await;
    assert_eq!(
        field(&usd.base, &usd.ad_set.0, "daily_budget").await,
        "2500"
    );
    assert_eq!(
        field(&usd.base, &usd.campaign.0, "spend_cap").await,
        "15000"
    );
}

#[tokio::test]
async fn the_campaign_spend_cap_stops_spending_while_no_collector_runs() {
    use adskew::money::Money;
    let cap = Money(15_000);
    let capped = launched("USD", Money(10_000), Some(cap)).await;
    let uncapped = launched("USD", Money(10_000), None).await;
    // Four days with nobody collecting: $100 a day would be $400.
    let later = capped.clock.now() + chrono::Duration::days(4);
    capped.clock.sleep_until(later).await;
    uncapped.clock.sleep_until(later).await;
    let spent = capped.meta.spend(&capped.campaign).await.unwrap();
    let unbounded = uncapped.meta.spend(&uncapped.campaign).await.unwrap();
    assert!(unbounded > Money(30_000), "without a cap: {unbounded}");
    assert!(spent >= Money(14_000), "spent up to the cap: {spent}");
    assert!(
        spent <= Money(15_000 + 10_000 / 24 * 3),
        "Meta stops within the hour its cap is reached: {spent} against {cap}"
    );

    // An adapter that did not launch the campaign (a resumed run) reads the same spend,
    // never a silent zero.
    let fresh = MetaPlatform::new(config(capped.base.clone(), "t"), capped.clock.clone()).unwrap();
    assert_eq!(fresh.spend(&capped.campaign).await.unwrap(), spent);
}

#[tokio::test]
async fn a_cap_below_metas_minimum_launches_without_the_backstop_once() {
    use adskew::money::Money;
    let small = launched("USD", Money(1_000), Some(Money(5_000))).await;
    assert_eq!(
        field(&small.base, &small.campaign.0, "spend_cap").await,
        serde_json::Value::Null
    );
    assert_eq!(
        small.mock.object_count(),
        4,
        "one campaign, ad set, creative and ad"
    );
}

#[tokio::test]
async fn creatives_opt_out_of_every_advantage_plus_enhancement_and_a_kept_one_stops_the_launch() {
    use adskew::platform::CreativeSpec;
    let exp = experiment();
    let start = scheduler::start_time(&exp, chrono::Utc::now());
    let creative = |name: &str| CreativeSpec {
        key: exp.ads[0].key.clone(),
        name: name.into(),
        headline: "h".into(),
        body: "b".into(),
        image: None,
        link: "https://example.org".into(),
    };
    let (_mock, base, clock) = serve(&exp, start, Default::default()).await;
    let meta = MetaPlatform::new(config(base.clone(), "t"), clock).unwrap();
    let id = meta.create_creative(&creative("plain/a")).await.unwrap();
    let spec = field(&base, &id.0, "degrees_of_freedom_spec").await;
    for feature in adskew::platform::meta::creative::FEATURES {
        assert_eq!(
            spec["creative_features_spec"][feature]["enroll_status"], "OPT_OUT",
            "{feature} in {spec}"
        );
    }

    let kept = mockapi::faults::Faults {
        enrolled_features: vec!["image_touchups".into()],
        ..Default::default()
    };
    let (_mock, base, clock) = serve(&exp, start, kept).await;
    let meta = MetaPlatform::new(config(base, "t"), clock.clone()).unwrap();
    let err = meta
        .create_creative(&creative("kept/a"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("image_touchups") && err.contains("Nothing was activated"),
        "{err}"
    );

    // Through a whole run: the launch stops before any ad is switched on.
    let (mock, base, clock) = serve(
        &exp,
        start,
        mockapi::faults::Faults {
            enrolled_features: vec!["text_optimizations".into()],
            ..Default::default()
        },
    )
    .await;
    let meta = MetaPlatform::new(config(base, "t"), clock.clone()).unwrap();
    let mut store = Store::open_in_memory().unwrap();
    let failed = scheduler::run(&exp, &meta, clock.as_ref(), &mut store, &()).await;
    assert!(failed.is_err());
    assert_eq!(mock.active_ad_count(), 0, "no ad was activated");
}

#[tokio::test]
async fn collections_keep_archived_ads_count_link_clicks_and_never_lose_reach() {
    use adskew::platform::{DeliveryQuery, Period};
    use adskew::vocab::Breakdown;
    let run = launched("USD", adskew::money::Money(5_000), None).await;
    let later = run.clock.now() + chrono::Duration::days(3);
    run.clock.sleep_until(later).await;
    let today = later.date_naive();
    let query = |since| DeliveryQuery {
        ads: vec![run.ad.clone()],
        breakdown: Breakdown::Gender,
        since,
        until: today,
        granularity: Period::Total,
    };
    let before = run
        .meta
        .delivery(&query(today - chrono::Days::new(5)))
        .await
        .unwrap();
    assert!(before.iter().map(|r| r.impressions).sum::<u64>() > 0);
    assert!(
        before.iter().map(|r| r.clicks).sum::<u64>() > 0,
        "link clicks are collected"
    );

    // Archived after delivering: Meta's insights leave it out unless asked for by status.
    let archived: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/v27.0/{}", run.base, run.ad.0))
        .form(&[("access_token", "t"), ("status", "ARCHIVED")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(archived["success"], true);
    let plain = insights(&run.base, "fields=impressions&date_preset=last_7d").await;
    assert!(
        plain.is_empty(),
        "Meta's default leaves archived ads out: {plain:?}"
    );
    let after = run
        .meta
        .delivery(&query(today - chrono::Days::new(5)))
        .await
        .unwrap();
    assert_eq!(after, before, "the re-collection still has the archived ad");

    // A breakdown range starting more than 13 months back: Meta's synchronous answer has no
    // reach; the adapter reads it through an async run instead of storing zeros.
    let runs = run.mock.report_run_count();
    let old = run
        .meta
        .delivery(&query(today - chrono::Days::new(400)))
        .await
        .unwrap();
    assert!(
        run.mock.report_run_count() > runs,
        "read again as an async run"
    );
    assert_eq!(
        old.iter().map(|r| r.reach).sum::<u64>(),
        before.iter().map(|r| r.reach).sum::<u64>()
    );
}

/// Log lines written while a guard from [`capture_logs`] lives (warnings and above, as text).
#[derive(Clone, Default)]
struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Captures this thread's log lines (a `#[tokio::test]` runs the adapter and the mock on it).
fn capture_logs() -> (Logs, tracing::subscriber::DefaultGuard) {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

/// The whole experiment through the adapter on a mock with `faults`; every delivery row it
/// stored (sorted, so reads cut in parts compare with whole ones) and its API archive.
async fn collected_with(
    faults: mockapi::faults::Faults,
    tweak: impl Fn(&mut MetaConfig),
) -> (
    Arc<Mock>,
    Vec<adskew::store::StoredRow>,
    Vec<adskew::platform::Exchange>,
) {
    let exp = experiment();
    let start = scheduler::start_time(&exp, chrono::Utc::now());
    let (mock, base, mock_clock) = serve(&exp, start, faults).await;
    let mut cfg = config(base, "tok-SECRET-9731");
    cfg.page_size = 200;
    cfg.async_poll = Duration::from_millis(1);
    tweak(&mut cfg);
    let meta = MetaPlatform::new(cfg, mock_clock.clone()).unwrap();
    let (analysis, store) = run_on(&exp, &meta, mock_clock.as_ref()).await;
    let id = analysis.experiment.id;
    let mut rows = store.all_rows(id).unwrap();
    rows.sort_by(|a, b| {
        let key = |r: &adskew::store::StoredRow| {
            (
                r.ad_key.clone(),
                r.period,
                r.date_start,
                r.date_stop,
                r.breakdown,
                r.value.clone(),
                r.impressions,
            )
        };
        key(a).cmp(&key(b))
    });
    (mock, rows, store.api_calls(Some(id)).unwrap())
}

/// Meta's "Please reduce the amount of data you're asking for" (code 1, HTTP 500, which
/// looks transient) is never answered by sending the same request again: the adapter reads
/// with half the page size, down to its floor, then through an async report run; the rows
/// stored are exactly those of a read Meta never refused, and the warnings name the
/// endpoint and Meta's error, never the token.
#[tokio::test]
async fn an_insights_query_meta_finds_too_large_is_asked_for_less_never_resent_unchanged() {
    use adskew::platform::meta::adapter::MIN_PAGE_SIZE;
    let (plain, expected, _) = collected_with(Default::default(), |_| {}).await;
    assert!(
        expected.len() > 60,
        "reads of many rows: {}",
        expected.len()
    );

    let (logs, _guard) = capture_logs();
    // Pages of 200 are refused, pages of 50 are not; with a few transient errors besides.
    let halved = mockapi::faults::Faults {
        seed: 3,
        transient: 0.03,
        max_insights_rows: 60,
        ..Default::default()
    };
    let (mock, rows, calls) = collected_with(halved, |_| {}).await;
    assert_eq!(rows, expected, "smaller pages, the same rows");
    let too_large = |c: &adskew::platform::Exchange| {
        String::from_utf8_lossy(&c.response).contains("reduce the amount of data")
    };
    let refused: Vec<usize> = (0..calls.len()).filter(|i| too_large(&calls[*i])).collect();
    assert!(!refused.is_empty(), "Meta refused some pages");
    for &i in &refused {
        let (a, b) = (&calls[i], &calls[i + 1]);
        assert!(
            (&a.method, &a.url, &a.request) != (&b.method, &b.url, &b.request),
            "a refused request is never sent again unchanged: {} {} {}",
            a.method,
            a.url,
            a.request
        );
    }
    assert!(
        refused.len() <= 3,
        "the page size Meta accepted is kept for later reads: {} refusals",
        refused.len()
    );
    assert_eq!(
        mock.report_run_count(),
        plain.report_run_count(),
        "smaller pages were enough: no report run beyond the long ranges'"
    );

    // Even the smallest page is refused: the read goes through async report runs.
    let floor = mockapi::faults::Faults {
        max_insights_rows: MIN_PAGE_SIZE - 5,
        ..Default::default()
    };
    let (mock, rows, calls) = collected_with(floor, |_| {}).await;
    assert_eq!(rows, expected, "read through report runs, the same rows");
    assert!(mock.report_run_count() > plain.report_run_count());
    assert!(calls.iter().any(too_large));

    let logs = logs.text();
    let warned = |needle: &str| {
        logs.lines()
            .filter(|l| l.contains(needle))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let smaller = warned("reading again with smaller pages");
    assert!(
        !smaller.is_empty()
            && smaller.iter().all(|l| l.contains("/insights")
                && l.contains("Please reduce the amount of data you're asking for")),
        "{logs}"
    );
    let retries = warned("Meta call failed; retrying");
    assert!(
        !retries.is_empty()
            && retries
                .iter()
                .all(|l| l.contains("endpoint=") && l.contains("Meta API error")),
        "retry warnings name the endpoint and Meta's error: {retries:?}"
    );
    assert!(!warned("through an async report run").is_empty(), "{logs}");
    assert!(
        !logs.contains("tok-SECRET-9731"),
        "the token is never logged"
    );
}

/// One campaign with two ads (one archived after five days of delivery) through the adapter
/// configured by `tweak`, on a mock without faults; the clock five days on.
async fn two_ads_delivered(
    tweak: impl Fn(&mut MetaConfig),
) -> (Arc<Mock>, MetaPlatform, Vec<adskew::platform::ObjectId>) {
    use adskew::platform::{AdSetSpec, AdSpec, BudgetSpec, CampaignSpec, CreativeSpec, Status};
    let exp = experiment();
    let start = scheduler::start_time(&exp, chrono::Utc::now());
    let (mock, base, clock) = serve(&exp, start, Default::default()).await;
    let mut cfg = config(base.clone(), "tok-SECRET-9731");
    cfg.async_after_days = 0;
    cfg.async_poll = Duration::from_millis(1);
    tweak(&mut cfg);
    let meta = MetaPlatform::new(cfg, clock.clone()).unwrap();
    let campaign = meta
        .create_campaign(&CampaignSpec {
            spend_cap: None,
            name: "split".into(),
            objective: adskew::vocab::Objective::Traffic,
            category: adskew::vocab::AdCategory::None,
            countries: vec!["US".into()],
        })
        .await
        .unwrap();
    let mut ads = Vec::new();
    for (i, ad) in exp.ads.iter().take(2).enumerate() {
        let ad_set = meta
            .create_ad_set(&AdSetSpec {
                campaign: campaign.clone(),
                name: format!("split/set{i}"),
                budget: BudgetSpec::Daily(adskew::money::Money(5_000)),
                audience: exp.audience.clone(),
                start,
                end: start + chrono::Duration::days(10),
                partition: None,
            })
            .await
            .unwrap();
        let creative = meta
            .create_creative(&CreativeSpec {
                key: ad.key.clone(),
                name: format!("split/{}", ad.key),
                headline: "h".into(),
                body: "b".into(),
                image: None,
                link: "https://example.org".into(),
            })
            .await
            .unwrap();
        let id = meta
            .create_ad(&AdSpec {
                ad_set: ad_set.clone(),
                creative,
                name: format!("split/ad{i}"),
            })
            .await
            .unwrap();
        for object in [&id, &ad_set] {
            meta.set_status(object, Status::Active).await.unwrap();
        }
        ads.push(id);
    }
    meta.set_status(&campaign, Status::Active).await.unwrap();
    clock.sleep_until(start + chrono::Duration::days(5)).await;
    let archived: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/v27.0/{}", ads[1].0))
        .form(&[("access_token", "t"), ("status", "ARCHIVED")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(archived["success"], true);
    (mock, meta, ads)
}

fn by_ad_and_day(
    mut rows: Vec<adskew::platform::DeliveryRow>,
) -> Vec<adskew::platform::DeliveryRow> {
    rows.sort_by(|a, b| (&a.ad.0, a.date_start, &a.value).cmp(&(&b.ad.0, b.date_start, &b.value)));
    rows
}

/// An async report run Meta fails is not started again as it was (which could take hours
/// to fail again): a daily read is cut into halves of its days, a total into halves of its
/// ads (`filtering` on `ad.id`, archived ads kept), each part run on its own; the rows equal
/// those of a run that never failed, and no job is started twice.
#[tokio::test]
async fn a_failed_async_report_run_is_split_and_no_job_is_started_twice() {
    use adskew::platform::{DeliveryQuery, Period};
    use adskew::vocab::Breakdown;
    let (mock, meta, ads) = two_ads_delivered(|_| {}).await;
    let today = meta.now().date_naive();
    let query = |granularity| DeliveryQuery {
        ads: ads.clone(),
        breakdown: Breakdown::Gender,
        since: today - chrono::Days::new(5),
        until: today,
        granularity,
    };
    let daily = by_ad_and_day(meta.delivery(&query(Period::Day)).await.unwrap());
    let total = by_ad_and_day(meta.delivery(&query(Period::Total)).await.unwrap());
    assert!(
        daily.iter().any(|r| r.ad == ads[1]) && total.iter().any(|r| r.ad == ads[1]),
        "the archived ad is read"
    );
    assert!(
        daily.len() > 12 && total.len() == 6,
        "{} {}",
        daily.len(),
        total.len()
    );

    // Jobs of more than 4 rows fail: one ad's gender total (3 rows) or one day of it.
    let before = mock.report_run_count();
    mock.set_faults(mockapi::faults::Faults {
        async_fail_over_rows: 4,
        ..Default::default()
    });
    let (logs, _guard) = capture_logs();
    let split_daily = by_ad_and_day(meta.delivery(&query(Period::Day)).await.unwrap());
    let split_total = by_ad_and_day(meta.delivery(&query(Period::Total)).await.unwrap());
    assert_eq!(split_daily, daily, "days and ads in parts, the same rows");
    assert_eq!(split_total, total, "ads in parts, the same rows");

    let jobs = mock.report_run_params()[before..].to_vec();
    assert!(
        jobs.len() > 4,
        "failed jobs were split: {} jobs",
        jobs.len()
    );
    for (i, job) in jobs.iter().enumerate() {
        assert!(!jobs[..i].contains(job), "job started twice: {job:?}");
    }
    let by_ad = |job: &std::collections::BTreeMap<String, String>| {
        job["filtering"].contains("ad.id") && job["filtering"].contains("ad.effective_status")
    };
    assert!(
        jobs.iter()
            .any(|j| j["time_increment"] == "all_days" && by_ad(j)),
        "totals are split by ad, keeping every status: {jobs:?}"
    );
    assert!(
        jobs.iter()
            .filter(|j| j["time_increment"] == "all_days")
            .all(|j| j["time_range"] == jobs.last().unwrap()["time_range"]),
        "a total's range is never cut (reach does not add up over days)"
    );
    let logs = logs.text();
    assert!(
        logs.contains("async report run failed; running its query in two parts")
            && logs.contains("Report Failed")
            && logs.contains("/insights"),
        "{logs}"
    );
    assert!(!logs.contains("tok-SECRET-9731"));
}

/// All report runs of one read, parts included, share one deadline (`async_timeout`, the
/// setting `meta.async_timeout_minutes`): every job here ends well within it, but a read
/// whose jobs keep failing and splitting does not, and fails with an error that says so and
/// names the setting.
#[tokio::test]
async fn async_reads_give_up_after_the_overall_timeout() {
    use adskew::platform::{DeliveryQuery, Period};
    use adskew::vocab::Breakdown;
    let timeout = Duration::from_millis(400);
    let (mock, meta, ads) = two_ads_delivered(|c| c.async_timeout = timeout).await;
    // Every job of more than one row fails, after several polls (about 30 ms of waiting).
    mock.set_faults(mockapi::faults::Faults {
        async_polls: 5,
        async_fail_over_rows: 1,
        ..Default::default()
    });
    let before = mock.report_run_count();
    let today = meta.now().date_naive();
    let started = std::time::Instant::now();
    let err = meta
        .delivery(&DeliveryQuery {
            ads: ads.clone(),
            breakdown: Breakdown::Age,
            since: today - chrono::Days::new(5),
            until: today,
            granularity: Period::Day,
        })
        .await
        .unwrap_err()
        .to_string();
    let elapsed = started.elapsed();
    let jobs = mock.report_run_count() - before;
    // The adapter gives up as soon as the next wait would pass the deadline, so a little
    // before it; the jobs counted below show it used the time rather than failing at once.
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert!(
        jobs > 3,
        "several jobs, each within the timeout, ran before the deadline: {jobs}"
    );
    assert!(
        err.contains("did not finish") && err.contains("meta.async_timeout_minutes"),
        "{err}"
    );
    assert!(!err.contains("tok-SECRET-9731"));
}

#[tokio::test]
async fn a_launch_switches_its_ads_on_and_off_in_batches() {
    let exp = experiment();
    let start = scheduler::start_time(&exp, chrono::Utc::now());
    let (mock, base, clock) = serve(&exp, start, Default::default()).await;
    let meta = MetaPlatform::new(config(base.clone(), "t"), clock.clone()).unwrap();
    run_on(&exp, &meta, clock.as_ref()).await;
    let ads = exp.ads.len() as u64;
    // Activation: ad sets, then ads, each a batch; the campaign alone, last.
    assert!(meta.batches.load(Ordering::Relaxed) >= 2);
    assert!(meta.batched_calls.load(Ordering::Relaxed) >= 2 * ads);
    // Every ad ran and was paused at the end, as the statuses on the mock say.
    for (id, ad) in [("ads", ads)] {
        let listed: serde_json::Value = reqwest::get(format!(
            "{base}/v27.0/act_1000/{id}?access_token=t&fields=effective_status&limit=100"
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(
            listed["data"].as_array().unwrap().len() as u64,
            ad,
            "{listed}"
        );
    }
    assert_eq!(mock.active_ad_count(), 0, "paused at the end");
}

#[tokio::test]
async fn a_batch_creates_at_most_one_ad_set_per_campaign_as_meta_allows() {
    let run = launched("USD", adskew::money::Money(1_000), None).await;
    let targeting = serde_json::json!({"geo_locations": {"countries": ["US"]},
        "targeting_automation": {"advantage_audience": 0}})
    .to_string();
    let body = |name: &str| {
        serde_urlencoded::to_string([
            ("name", name),
            ("campaign_id", run.campaign.0.as_str()),
            ("daily_budget", "1000"),
            ("billing_event", "IMPRESSIONS"),
            ("optimization_goal", "REACH"),
            ("targeting", targeting.as_str()),
            ("status", "PAUSED"),
        ])
        .unwrap()
    };
    let batch = serde_json::json!([
        {"method": "POST", "relative_url": "act_1000/adsets", "body": body("first")},
        {"method": "POST", "relative_url": "act_1000/adsets", "body": body("second")},
    ]);
    let before = run.mock.object_count();
    let (answers, codes) = post_batch(&run.base, &batch).await;
    assert_eq!(codes, [200, 400], "{answers}");
    assert_eq!(
        run.mock.object_count(),
        before + 1,
        "only the first ad set exists"
    );
}

/// `campaigns/ali2019_job_ads.toml` with its first ad cloned `n` times (as the Meta
/// benchmark does).
fn experiment_of(n: usize) -> Experiment {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns/ali2019_job_ads.toml");
    let mut exp = load_with_env(&path, Vec::new()).unwrap().experiment;
    let template = exp.ads[0].clone();
    exp.ads = (0..n)
        .map(|i| adskew::experiment::Ad {
            key: format!("ad_{i:03}"),
            ..template.clone()
        })
        .collect();
    // The clones take the simulator's default engagement; the originals' entries would
    // name ads that no longer exist.
    exp.sim.remove("ads");
    exp
}

/// Launches (and, if due, activates) run `id` of `exp` on `platform`: what one
/// `adskew collect` pass does for a run that has not started.
async fn launch_pass(
    exp: &Experiment,
    id: i64,
    platform: &dyn Platform,
    clock: &dyn Clock,
    store: &mut Store,
) -> adskew::error::Result<scheduler::RunOutcome> {
    scheduler::drive(
        exp,
        id,
        platform,
        clock,
        store,
        &(),
        scheduler::Mode::DueNow,
    )
    .await
}

/// Meta batches at most 50 calls and no two ad sets of one campaign (Graph API "Batch
/// requests", Limitations), so a 200-ad launch needs at least one request per ad set; the
/// creatives ride along in those batches and everything else takes a few batches more.
#[tokio::test]
async fn a_200_ad_launch_takes_one_request_per_ad_set_and_few_more() {
    let exp = experiment_of(200);
    let start = scheduler::start_time(&exp, chrono::Utc::now());
    let (mock, base, clock) = serve(&exp, start, Default::default()).await;
    let meta = MetaPlatform::new(config(base, "t"), clock.clone()).unwrap();
    let mut store = Store::open_in_memory().unwrap();
    let id = scheduler::record(&exp, clock.as_ref(), &mut store).unwrap();
    let outcome = launch_pass(&exp, id, &meta, clock.as_ref(), &mut store)
        .await
        .unwrap();
    assert_eq!(outcome.state, adskew::store::RunState::Running);
    assert_eq!(mock.object_count(), 1 + 3 * 200, "every object once");
    assert_eq!(mock.active_ad_count(), 200, "all activated");
    let requests = meta.calls.load(Ordering::Relaxed);
    // 200 batches of ad sets (carrying the 200 creatives and their read-backs), 4 of ads,
    // 9 of status changes, the campaign, the image and the account's reads.
    assert!(
        (200..=220).contains(&requests),
        "{requests} requests for a 200-ad launch"
    );
    // Every request is in the store's archive.
    let archived = store.api_calls(Some(id)).unwrap().len() as u64;
    assert_eq!(archived, requests, "every exchange archived");
}

/// A launch killed while the mock is in the middle of a batch (creates carried out, their
/// answers not yet sent) resumes in a new process without a second object: the store holds
/// every key of the batch, so the resumed launch finds each object by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launch_killed_inside_a_batch_resumes_without_duplicates() {
    let exp = experiment_of(60);
    let start = scheduler::start_time(&exp, chrono::Utc::now());
    let faults = mockapi::faults::Faults {
        slow_create: 1.0,
        delay_secs: 0.02,
        ..Default::default()
    };
    let (mock, base, clock) = serve(&exp, start, faults).await;
    let mut store = Store::open_in_memory().unwrap();
    let id = scheduler::record(&exp, clock.as_ref(), &mut store).unwrap();
    let objects = 1 + 3 * 60;
    // Kill points: inside the first batch (the first ad set and 49 creatives), inside a
    // batch of one ad set, inside the ads' first batch.
    for kill_at in [30, 120, 300] {
        let meta = MetaPlatform::new(config(base.clone(), "t"), clock.clone()).unwrap();
        let killed = {
            let pass = launch_pass(&exp, id, &meta, clock.as_ref(), &mut store);
            let at_request = async {
                while mock.request_count() < kill_at {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            };
            tokio::select! {
                r = pass => { r.unwrap(); false }
                () = at_request => true,
            }
        };
        assert!(killed, "the launch had finished before request {kill_at}");
        assert!(mock.object_count() < objects, "killed at {kill_at}");
        assert_eq!(mock.active_ad_count(), 0, "nothing active before all exist");
    }
    let meta = MetaPlatform::new(config(base.clone(), "t"), clock.clone()).unwrap();
    let archived_before = store.api_calls(Some(id)).unwrap().len() as u64;
    launch_pass(&exp, id, &meta, clock.as_ref(), &mut store)
        .await
        .unwrap();
    assert_eq!(mock.object_count(), objects, "an object was created twice");
    assert_eq!(mock.active_ad_count(), 60);
    let archived = store.api_calls(Some(id)).unwrap().len() as u64 - archived_before;
    assert_eq!(
        archived,
        meta.calls.load(Ordering::Relaxed),
        "every exchange archived"
    );
}

#[tokio::test]
async fn age_rows_meta_reports_as_unknown_are_counted_not_tested() {
    let exp = experiment();
    let start = scheduler::start_time(&exp, chrono::Utc::now());
    let faults = mockapi::faults::Faults {
        unknown_age: 0.05,
        ..Default::default()
    };
    let (_mock, base, clock) = serve(&exp, start, faults).await;
    let meta = MetaPlatform::new(config(base, "t"), clock.clone()).unwrap();
    let (analysis, _store) = run_on(&exp, &meta, clock.as_ref()).await;
    let ages: Vec<_> = analysis
        .comparisons
        .iter()
        .flat_map(|c| &c.breakdowns)
        .filter(|b| b.breakdown == adskew::vocab::Breakdown::Age)
        .collect();
    assert!(!ages.is_empty(), "the example collects age");
    for b in ages {
        assert_eq!(b.excluded_group.as_deref(), Some("Unknown"));
        assert!(!b.groups.iter().any(|g| g == "Unknown"), "{:?}", b.groups);
        assert!(
            b.excluded.iter().all(|n| *n > 0),
            "counted: {:?}",
            b.excluded
        );
    }
}

/// A design's partitions survive the trip through Meta's wire format: the mirrored
/// example, each ad an ad set per partition, gives the simulator's numbers through the
/// adapter and the mock.
#[tokio::test]
async fn a_design_through_the_meta_adapter_matches_the_simulator() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns/mirrored_race.toml");
    let exp = load_with_env(&path, Vec::new()).unwrap().experiment;
    assert!(exp.design.is_some());
    let start = scheduler::start_time(&exp, chrono::Utc::now());
    let direct = run_direct(&exp, start).await;
    let (mock, base, mock_clock) = serve(&exp, start, Default::default()).await;
    mock.set_currency(&exp.currency);
    let meta = MetaPlatform::new(config(base, "test-token"), mock_clock.clone()).unwrap();
    let (via_http, _) = run_on(&exp, &meta, mock_clock.as_ref()).await;
    assert_eq!(
        serde_json::to_value(&via_http.comparisons).unwrap(),
        serde_json::to_value(&direct.comparisons).unwrap(),
    );
    assert_eq!(
        serde_json::to_value(&via_http.partitions).unwrap(),
        serde_json::to_value(&direct.partitions).unwrap(),
    );
}
