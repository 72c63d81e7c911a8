//! What a day is: the ad account's local day, in its time zone, across daylight-saving
//! changes (issue #5). A run on a New York account over the end of daylight saving time
//! (1 November 2026, a 25-hour day) must report New York dates, keep every daily budget
//! per New York day, and collect on schedule across the change.

use std::path::Path;
use std::sync::Arc;

use adskew::clock::SimClock;
use adskew::experiment::load::load_with_env;
use adskew::platform::sim::SimPlatform;
use adskew::scheduler;
use adskew::store::Store;
use adskew::vocab::Breakdown;
use chrono::NaiveDate;

/// Runs the pilot from 2026-10-31T02:00Z (22:00 on 30 October in New York) for three days,
/// on an account in `timezone`; returns each (date, spend in cents) of ad `a`.
fn daily_spend(timezone: &str) -> (Vec<(NaiveDate, i64)>, usize) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns/pilot_two_ads.toml");
    let env = vec![
        ("ADSKEW_SIM__TIMEZONE".to_string(), timezone.to_string()),
        (
            "ADSKEW_SCHEDULE__START".to_string(),
            "2026-10-31T02:00:00Z".to_string(),
        ),
        (
            "ADSKEW_SCHEDULE__DURATION_DAYS".to_string(),
            "3".to_string(),
        ),
    ];
    let exp = load_with_env(&path, env).unwrap().experiment;
    let start = scheduler::start_time(&exp, chrono::Utc::now());
    let clock = Arc::new(SimClock::new(start));
    let sim = SimPlatform::new(
        adskew::platform::sim::SimTruth::of(&exp).unwrap(),
        clock.clone(),
    );
    let mut store = Store::open_in_memory().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = runtime
        .block_on(scheduler::run(&exp, &sim, clock.as_ref(), &mut store, &()))
        .unwrap();
    let mut days: Vec<(NaiveDate, i64)> = store
        .latest_daily(outcome.experiment_id, Breakdown::Gender)
        .unwrap()
        .into_iter()
        .filter(|r| r.ad_key == "a")
        .fold(Vec::new(), |mut acc, r| {
            match acc.iter_mut().find(|(d, _)| *d == r.date_start) {
                Some((_, s)) => *s += r.spend.minor(),
                None => acc.push((r.date_start, r.spend.minor())),
            }
            acc
        });
    days.sort();
    let collections = store.collections(outcome.experiment_id).unwrap().len();
    (days, collections)
}

#[test]
fn days_are_the_accounts_local_days_across_a_daylight_saving_change() {
    let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    let (new_york, collections) = daily_spend("America/New_York");
    assert_eq!(
        new_york.iter().map(|(date, _)| *date).collect::<Vec<_>>(),
        [d(10, 30), d(10, 31), d(11, 1), d(11, 2)],
        "New York days: the run starts at 22:00 on 30 October and ends at 21:00 on 2 November"
    );
    // The daily budget (50 cents) holds per New York day, the 25-hour 1 November included
    // (reported spend may carry up to 2% reporting noise, revised away later).
    for (date, spend) in &new_york {
        assert!(*spend <= 51, "{date}: {spend} cents");
    }
    let full_day = new_york
        .iter()
        .find(|(date, _)| *date == d(11, 1))
        .unwrap()
        .1;
    assert!(
        full_day >= 45,
        "the 25-hour day spends its budget: {full_day}"
    );
    // Collections every 24 hours of real time, across the change: 3 plus the final one.
    assert_eq!(collections, 4);

    let (utc, _) = daily_spend("UTC");
    assert_eq!(
        utc.iter().map(|(date, _)| *date).collect::<Vec<_>>(),
        [d(10, 31), d(11, 1), d(11, 2), d(11, 3)],
        "the same run on a UTC account has UTC days"
    );
}
