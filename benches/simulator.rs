//! Simulator throughput: impression opportunities (auctions) simulated per second, and the
//! wall time of a 1,000-replicate `plan` of `campaigns/pilot_two_ads.toml` (two ads, 14 days,
//! 100,000 people). Run with:
//!
//!     cargo bench --bench simulator
//!
//! Prints one line per measurement; the numbers are recorded in README.md.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use adskew::clock::SimClock;
use adskew::experiment::load::load_with_env;
use adskew::platform::sim::SimPlatform;
use adskew::store::Store;

fn main() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns/pilot_two_ads.toml");
    let exp = load_with_env(&path, Vec::new())
        .expect("pilot is valid")
        .experiment;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();

    // Single-threaded throughput of the whole run (scheduler, store in memory, simulator).
    let runs = 200;
    let mut opportunities = 0.0;
    let started = Instant::now();
    let truth = adskew::platform::sim::SimTruth::of(&exp).unwrap();
    for r in 0..runs {
        let e = exp.clone();
        let mut truth = truth.clone();
        truth.seed = r;
        let start = adskew::scheduler::start_time(&e, chrono::Utc::now());
        let clock = Arc::new(SimClock::new(start));
        let platform = SimPlatform::new(truth, clock.clone());
        let mut store = Store::open_in_memory().unwrap();
        runtime
            .block_on(adskew::scheduler::run(
                &e,
                &platform,
                clock.as_ref(),
                &mut store,
                &(),
            ))
            .unwrap();
        opportunities += platform.opportunities_simulated();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "runs of pilot-two-ads (1 thread): {runs} in {secs:.2} s, {:.1} ms/run, {:.3e} impression opportunities/s",
        secs * 1000.0 / runs as f64,
        opportunities / secs
    );

    // The plan a researcher would run: 1,000 replicates on every core.
    let started = Instant::now();
    let plan =
        adskew::plan::simulate(&exp, 1000, truth.seed, &indicatif::ProgressBar::hidden()).unwrap();
    println!(
        "plan of pilot-two-ads, 1000 replicates ({} threads): {:.2} s (power {:.3})",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        started.elapsed().as_secs_f64(),
        plan.comparisons[0].power
    );
}
