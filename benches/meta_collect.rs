//! Collection through the real Meta adapter under the mock server's enforced rate limit:
//! an experiment of 200 ads (campaigns/ali2019_job_ads.toml's audience and schedule, its
//! ad cloned 200 times), 14 days of daily rows for the gender, age and region breakdowns.
//! Reports the API calls and wall time against the minimum: one call per page of rows, and
//! the time a sliding-window limit of `LIMIT` calls per `WINDOW` allows for that many calls,
//! ⌊(calls − 1) / LIMIT⌋ × WINDOW. Run with:
//!
//!     cargo bench --bench meta_collect
//!
//! Five collections are measured: the adapter paced by its own sliding window set to the
//! limit's (`LIMIT` calls per `WINDOW`, adskew's way of never being throttled: it uses the
//! burst the window allows and then sends each call as a slot frees) reading the three
//! breakdowns side by side as a collection does (`Platform::deliveries`), the same adapter
//! reading them one after another (as collections did before), and one unpaced that runs
//! into the limit and waits for the reset time Meta's usage headers give; then the two paced
//! ones again with every page held 300 ms by the mock, as a network's round trip would take
//! it. Each also reports the pages' round trips from the adapter's archive of exchanges (the
//! first page of a query is where the mock computes its rows). The numbers are in README.md.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use adskew::clock::Clock;
use adskew::experiment::load::load_with_env;
use adskew::experiment::{Ad, Experiment};
use adskew::mockapi::{self, clock::MockClock, faults::Faults, Mock};
use adskew::platform::meta::adapter::{MetaConfig, MetaPlatform, Secret};
use adskew::platform::{
    AdSetSpec, AdSpec, BudgetSpec, CampaignSpec, CreativeSpec, DeliveryQuery, DeliveryRow,
    ObjectSpec, Period, Platform, PlatformError, Status,
};
use adskew::scheduler;

const ADS: usize = 200;
const DAYS: i64 = 14;
const LIMIT: u32 = 20;
const WINDOW: f64 = 5.0;
const PAGE: u32 = 500;

fn experiment() -> Experiment {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns/ali2019_job_ads.toml");
    let mut exp = load_with_env(&path, Vec::new()).unwrap().experiment;
    let template: Ad = exp.ads[0].clone();
    exp.ads = (0..ADS)
        .map(|i| Ad {
            key: format!("ad_{i:03}"),
            ..template.clone()
        })
        .collect();
    // The clones have no engagement of their own in [sim] (the simulator's defaults), and
    // the original ads' entries would name ads that no longer exist.
    exp.sim.remove("ads");
    exp
}

/// How the collector reads the breakdowns' queries.
#[derive(Clone, Copy, PartialEq)]
enum Reading {
    /// All at once, as a collection reads them (`Platform::deliveries`).
    SideBySide,
    /// One after another, each `Platform::delivery` awaited before the next.
    InTurn,
}

impl Reading {
    async fn read(
        self,
        collector: &MetaPlatform,
        queries: &[DeliveryQuery],
    ) -> Result<Vec<Vec<DeliveryRow>>, PlatformError> {
        match self {
            Reading::SideBySide => collector.deliveries(queries).await,
            Reading::InTurn => {
                let mut out = Vec::new();
                for query in queries {
                    out.push(collector.delivery(query).await?);
                }
                Ok(out)
            }
        }
    }
}

/// Round trips of the collection's pages, in milliseconds: (median, slowest) of the pages
/// after a query's first, and the slowest first page.
struct RoundTrips {
    later_median: u64,
    later_max: u64,
    first_max: u64,
}

impl RoundTrips {
    fn of(exchanges: &[adskew::platform::Exchange]) -> RoundTrips {
        let (mut first, mut later): (Vec<u64>, Vec<u64>) = (Vec::new(), Vec::new());
        for e in exchanges.iter().filter(|e| e.url.contains("/insights")) {
            if e.url.contains("after=") {
                later.push(e.elapsed_ms);
            } else {
                first.push(e.elapsed_ms);
            }
        }
        later.sort_unstable();
        RoundTrips {
            later_median: later.get(later.len() / 2).copied().unwrap_or(0),
            later_max: later.last().copied().unwrap_or(0),
            first_max: first.into_iter().max().unwrap_or(0),
        }
    }
}

/// One way of collecting: the adapter's pacing (calls per second, window), how it reads the
/// queries, and how long the mock holds each read (seconds, 0 for none).
struct Variant {
    label: &'static str,
    pacing: (u32, Duration),
    reading: Reading,
    latency: f64,
}

struct Measured {
    /// HTTP requests of the launch (creates, creative read-backs, status changes) and the
    /// batches among them.
    launch_calls: u64,
    launch_batches: u64,
    calls: u64,
    rows: usize,
    pages: u64,
    seconds: f64,
    throttled: u64,
    round_trips: RoundTrips,
}

/// Sets up 200 running ads on a fresh mock without a limit, lets 14 days pass, then turns
/// the limit on and times the collection.
async fn measure(exp: &Experiment, v: &Variant) -> Measured {
    let (calls_per_second, window) = v.pacing;
    let start = scheduler::start_time(exp, chrono::Utc::now());
    let mock = Mock::new(adskew::platform::sim::SimTruth::of(exp).unwrap(), start);
    let addr = mockapi::spawn(mock.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = format!("http://{addr}");
    let clock = Arc::new(MockClock::connect(&base).await.unwrap());
    let mut config = MetaConfig::new(&base, "act_1000", "2000", Secret::new("bench-token"));
    config.max_calls_per_second = calls_per_second;
    config.rate_window = window;
    config.page_size = PAGE;
    config.max_retries = 20;
    config.backoff = Duration::from_millis(100);
    let setup = {
        let mut c = config.clone();
        c.max_calls_per_second = 100_000;
        MetaPlatform::new(c, clock.clone()).unwrap()
    };
    let campaign_spec = CampaignSpec {
        spend_cap: None,
        name: "bench".into(),
        objective: exp.objective,
        category: exp.category,
        countries: exp.audience.countries.clone(),
    };
    let campaign = setup.create_campaign(&campaign_spec).await.unwrap();
    // What the collector must be told of, as a resumed run tells a new adapter.
    let mut created = Vec::new();
    // Created as a launch creates them: the creatives and ad sets together (one ad set per
    // batch, as Meta batches no two of one campaign, the creatives riding along), then the
    // ads in batches.
    let creative_specs: Vec<CreativeSpec> = exp
        .ads
        .iter()
        .map(|ad| CreativeSpec {
            key: ad.key.clone(),
            name: format!("bench/{}", ad.key),
            headline: ad.headline.clone(),
            body: ad.body.clone(),
            image: None,
            link: ad.link.clone(),
        })
        .collect();
    let set_specs: Vec<AdSetSpec> = exp
        .ads
        .iter()
        .map(|ad| AdSetSpec {
            campaign: campaign.clone(),
            name: format!("bench/{}", ad.key),
            budget: BudgetSpec::Daily(adskew::money::Money(500)),
            audience: exp.audience.clone(),
            start,
            end: start + chrono::Duration::days(DAYS),
            partition: None,
        })
        .collect();
    let specs: Vec<ObjectSpec> = creative_specs
        .iter()
        .map(ObjectSpec::Creative)
        .chain(set_specs.iter().map(ObjectSpec::AdSet))
        .collect();
    let mut made: Vec<_> = setup
        .create_many(&specs)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.expect("every creative and ad set confirmed"))
        .collect();
    let ad_set_ids = made.split_off(ADS);
    let creatives = made;
    let mut ad_specs = Vec::new();
    for ((ad, creative), (set_spec, ad_set)) in exp
        .ads
        .iter()
        .zip(&creatives)
        .zip(set_specs.into_iter().zip(ad_set_ids))
    {
        let ad_spec = AdSpec {
            ad_set: ad_set.clone(),
            creative: creative.clone(),
            name: format!("bench/{}", ad.key),
        };
        ad_specs.push((set_spec, ad_set, ad_spec));
    }
    let specs: Vec<ObjectSpec> = ad_specs.iter().map(|(_, _, a)| ObjectSpec::Ad(a)).collect();
    let ads: Vec<_> = setup
        .create_many(&specs)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.expect("every ad confirmed"))
        .collect();
    for ((set_spec, ad_set, ad_spec), id) in ad_specs.into_iter().zip(&ads) {
        created.push((set_spec, ad_set, ad_spec, id.clone()));
    }
    // Activation as a launch does it: ad sets, then ads, in batches; the campaign last.
    let ad_sets: Vec<_> = created.iter().map(|c| c.1.clone()).collect();
    setup.set_statuses(&ad_sets, Status::Active).await.unwrap();
    setup.set_statuses(&ads, Status::Active).await.unwrap();
    setup.set_status(&campaign, Status::Active).await.unwrap();
    let launch_calls = setup.calls.load(Ordering::Relaxed);
    let launch_batches = setup.batches.load(Ordering::Relaxed);
    clock
        .sleep_until(start + chrono::Duration::days(DAYS))
        .await;
    // The mock's simulator plays the 14 days out on the first request after its clock moved
    // (0.5-0.7 s of CPU for 200 ads here), while Meta's delivery has happened before anyone
    // asks: one read of the spend, before the limit and the timing start, lets it catch up,
    // so what is timed is the collection's.
    setup.spend(&campaign).await.unwrap();

    // The collector: the same adapter state (it must know the ads), with its own pacing.
    let collector = MetaPlatform::new(config, clock.clone()).unwrap();
    collector.remember(ObjectSpec::Campaign(&campaign_spec), &campaign);
    for (set_spec, ad_set, ad_spec, id) in &created {
        collector.remember(ObjectSpec::AdSet(set_spec), ad_set);
        collector.remember(ObjectSpec::Ad(ad_spec), id);
    }
    mock.set_faults(Faults {
        rate_limit: LIMIT,
        rate_window_secs: WINDOW,
        // Every read held this long before it is served: a round trip as over a network.
        delay: if v.latency > 0.0 { 1.0 } else { 0.0 },
        delay_secs: v.latency,
        ..Faults::default()
    });
    let since = start.date_naive();
    let until = (start + chrono::Duration::days(DAYS - 1)).date_naive();
    let queries: Vec<DeliveryQuery> = exp
        .collect
        .breakdowns
        .iter()
        .map(|breakdown| DeliveryQuery {
            ads: ads.clone(),
            breakdown: *breakdown,
            since,
            until,
            granularity: Period::Day,
        })
        .collect();
    collector.take_exchanges();
    let started = Instant::now();
    let got = v.reading.read(&collector, &queries).await.unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let rows = got.iter().map(Vec::len).sum();
    let pages = got
        .iter()
        .map(|g| (g.len() as u64).div_ceil(u64::from(PAGE)).max(1))
        .sum();
    Measured {
        launch_calls,
        launch_batches,
        calls: collector.calls.load(Ordering::Relaxed),
        rows,
        pages,
        seconds,
        throttled: mock.throttled_count(),
        round_trips: RoundTrips::of(&collector.take_exchanges()),
    }
}

fn main() {
    let exp = experiment();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "{ADS} ads, {DAYS} days, breakdowns {:?}, pages of {PAGE} rows, mock limit {LIMIT} calls per {WINDOW} s",
        exp.collect
            .breakdowns
            .iter()
            .map(|b| b.as_str())
            .collect::<Vec<_>>()
    );
    // The paced adapter's window is the limit's: LIMIT / WINDOW calls per second over
    // WINDOW seconds, i.e. LIMIT calls in any WINDOW.
    let paced = (
        (f64::from(LIMIT) / WINDOW) as u32,
        Duration::from_secs_f64(WINDOW),
    );
    let unpaced = (100_000, Duration::from_secs(1));
    let variant = |label, pacing, reading, latency| Variant {
        label,
        pacing,
        reading,
        latency,
    };
    let variants = [
        variant("paced", paced, Reading::SideBySide, 0.0),
        variant("in turn", paced, Reading::InTurn, 0.0),
        variant("unpaced", unpaced, Reading::SideBySide, 0.0),
        // Each page held 300 ms by the mock, as a network's round trip would take it.
        variant("paced", paced, Reading::SideBySide, 0.3),
        variant("in turn", paced, Reading::InTurn, 0.3),
    ];
    for (i, v) in variants.iter().enumerate() {
        let m = runtime.block_on(measure(&exp, v));
        let minimum_time = ((m.pages.saturating_sub(1)) / u64::from(LIMIT)) as f64 * WINDOW;
        let label = v.label;
        println!(
            "{label:>8} ({} calls per {:.0} s, breakdowns {}, pages held {:.0} ms): {} rows, {} calls (minimum {}, ratio {:.2}), {:.1} s (limit allows {:.1} s, ratio {:.2}), refused by the limit {}",
            u64::from(v.pacing.0) * v.pacing.1.as_secs(),
            v.pacing.1.as_secs_f64(),
            if v.reading == Reading::SideBySide { "side by side" } else { "in turn" },
            v.latency * 1000.0,
            m.rows,
            m.calls,
            m.pages,
            m.calls as f64 / m.pages as f64,
            m.seconds,
            minimum_time,
            m.seconds / minimum_time,
            m.throttled
        );
        println!(
            "{label:>8} round trips: pages after a query's first {} ms median, {} ms at most; first pages at most {} ms",
            m.round_trips.later_median, m.round_trips.later_max, m.round_trips.first_max
        );
        if i == 0 {
            println!(
                "launch: {} requests for {ADS} ads ({} of them batches; without batches \
                 the creates, creative read-backs and status changes would be {})",
                m.launch_calls,
                m.launch_batches,
                1 + 4 * ADS + 2 * ADS + 1
            );
        }
    }
}
