//! `adskew status`: every stored run, its spend, collections, what is due next, and what
//! needs attention (ads that may still be spending, rejected ads, a retiring API version).

use std::path::Path;

use serde::Serialize;

use super::runs;
use crate::analysis::sequential::{counts_phrase, Look};
use crate::cli::StatusArgs;
use crate::error::Result;
use crate::platform::Delivery;
use crate::scheduler;
use crate::settings::Settings;
use crate::store::{EventKind, ExperimentRecord, RunEvent, RunOrigin, RunState, Store};

/// One run as `status` shows it (a line of the table, or an object of `--json`).
#[derive(Debug, Serialize)]
struct RunStatus {
    id: i64,
    experiment: String,
    state: RunState,
    platform: RunOrigin,
    /// Spend so far, as the latest collection saw it (decimal string, like every amount).
    spend: String,
    /// The cap; `None` for an import, whose spend is what its exports say was spent.
    spend_cap: Option<String>,
    currency: String,
    collections: usize,
    last_collection: Option<String>,
    next_due: Option<String>,
    /// Why a run stopped or failed, or the last failed collection.
    cause: Option<String>,
    /// Ads the platform rejected or limited, or does not deliver while it should.
    ads: Vec<AdNote>,
    /// The last anytime-valid looks (docs/sequential.md): valid however often one looks.
    looks: Vec<Look>,
    /// The end of the settled period they were computed on: a look trails its collection
    /// by the revision window.
    looks_as_of: Option<String>,
    /// `[stopping] revision_bound`: the sequences read the latest counts, widened for
    /// what revisions of up to this much can change (as of the collection itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    looks_revision_bound: Option<f64>,
}

#[derive(Debug, Serialize)]
struct AdNote {
    ad: String,
    platform_status: String,
    problem: Option<String>,
}

/// Everything `status` says, as `--json` prints it.
#[derive(Debug, Serialize)]
struct Status {
    database: String,
    /// Paragraphs that need a person: ads that may still be spending, unrecorded stops,
    /// an API version Meta retires before a run's last collection.
    attention: Vec<String>,
    runs: Vec<RunStatus>,
}

pub fn execute(args: StatusArgs) -> Result<()> {
    let db = args.db.path()?;
    let store = Store::open_read_only(&db)?;
    let records = store.list_experiments()?;
    let mut attention = runs::attention(&store)?;
    attention.extend(version_retirements(&records, args.db.config()));
    let runs = records
        .into_iter()
        .map(|r| run_status(&store, r))
        .collect::<Result<Vec<_>>>()?;
    let status = Status {
        database: db.display().to_string(),
        attention,
        runs,
    };
    if args.output.json {
        return super::print_json(&status);
    }
    print(&status);
    Ok(())
}

fn run_status(store: &Store, r: ExperimentRecord) -> Result<RunStatus> {
    let collections = store.collections(r.id)?;
    let next_due = r
        .experiment()
        .ok()
        .and_then(|exp| scheduler::next_due(&exp, &r, store).ok().flatten())
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let cause = store
        .events(r.id)?
        .into_iter()
        .rev()
        .find(RunEvent::is_about_run)
        .filter(|e| {
            matches!(r.state, RunState::Stopped | RunState::Failed)
                || e.kind == EventKind::CollectionFailed
        })
        .map(|e| format!("{}: {}", e.at, e.cause));
    let ads = store
        .latest_reviews(r.id)?
        .into_iter()
        .filter(|(_, review)| {
            review.problem.is_some()
                || (r.state == RunState::Running && review.delivery != Delivery::Delivering)
        })
        .map(|(ad, review)| AdNote {
            ad,
            platform_status: review.platform_status,
            problem: review.problem,
        })
        .collect();
    let last_look = store.looks(r.id)?.pop();
    Ok(RunStatus {
        looks_as_of: last_look
            .as_ref()
            .map(|c| c.as_of.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        looks: last_look.map(|c| c.looks).unwrap_or_default(),
        looks_revision_bound: r
            .experiment()
            .ok()
            .and_then(|e| e.stopping)
            .and_then(|s| s.revision_bound),
        id: r.id,
        spend: collections
            .last()
            .map(|c| c.spend)
            .unwrap_or_default()
            .to_string(),
        spend_cap: (r.platform != RunOrigin::Import).then(|| r.spend_cap.to_string()),
        collections: collections.len(),
        last_collection: collections.last().map(|c| c.platform_time.clone()),
        experiment: r.name,
        state: r.state,
        platform: r.platform,
        currency: r.currency,
        next_due,
        cause,
        ads,
    })
}

fn print(status: &Status) {
    if status.runs.is_empty() {
        println!("No runs in {}.", status.database);
        return;
    }
    for paragraph in &status.attention {
        println!("{paragraph}\n");
    }
    println!(
        "{:>4}  {:<30} {:<9} {:<6} {:>22} {:>5}  {:<20}  next due",
        "id", "experiment", "state", "plat", "spend / cap", "coll.", "last collection"
    );
    for r in &status.runs {
        let spend = match &r.spend_cap {
            Some(cap) => format!("{} / {cap} {}", r.spend, r.currency),
            None => format!("{} {} (no cap)", r.spend, r.currency),
        };
        println!(
            "{:>4}  {:<30} {:<9} {:<6} {:>22} {:>5}  {:<20}  {}",
            r.id,
            r.experiment,
            r.state,
            r.platform,
            spend,
            r.collections,
            r.last_collection.as_deref().unwrap_or("-"),
            r.next_due.as_deref().unwrap_or("-"),
        );
        if let Some(cause) = &r.cause {
            println!("      {cause}");
        }
        for ad in &r.ads {
            match &ad.problem {
                Some(problem) => println!("      ad {}: {}: {problem}", ad.ad, ad.platform_status),
                None => println!("      ad {}: {} on the platform", ad.ad, ad.platform_status),
            }
        }
        if let Some(as_of) = &r.looks_as_of {
            let counts = counts_phrase(r.looks_revision_bound, as_of);
            println!("      anytime-valid, {counts}:");
        }
        for look in &r.looks {
            println!("      {}", describe_look(look));
        }
    }
}

/// One anytime-valid look on a line: the always-valid p of skew across the comparison's
/// ads and, for a pair, the confidence sequence of its group's difference.
fn describe_look(l: &Look) -> String {
    let p = match l.p_value {
        p if p >= 1e-4 => format!("{p:.4}"),
        p if p > 0.0 => format!("{p:.1e}"),
        _ => "< 1e-300".to_string(),
    };
    let mut line = format!("{} by {}: always-valid p = {p}", l.comparison, l.breakdown);
    if let Some(p) = &l.pair {
        let (lo, hi) = p.difference.clipped();
        line.push_str(&format!(
            "; {}'s share {} − {} = {:+.3}, confidence sequence [{:+.3}, {:+.3}]",
            p.group, p.ad1, p.ad2, p.difference.estimate, lo, hi
        ));
    }
    line
}

/// Unfinished Meta runs whose last collection falls after Meta retires the API version the
/// settings use (calls to a retired version fail).
fn version_retirements(runs: &[ExperimentRecord], config: Option<&Path>) -> Vec<String> {
    use crate::platform::meta::versions::{Version, LATEST};
    let Some(settings) = Settings::load(config).ok() else {
        return Vec::new();
    };
    let version = settings.meta.api_version;
    let Some(last_day) = Version::parse(&version).and_then(Version::last_day) else {
        return Vec::new();
    };
    let unfinished = |r: &&ExperimentRecord| {
        r.platform == RunOrigin::Meta
            && matches!(
                r.state,
                RunState::Draft | RunState::Created | RunState::Running
            )
    };
    runs.iter()
        .filter(unfinished)
        .filter_map(|r| {
            let last = [r.planned_end, r.recollect_at]
                .into_iter()
                .flatten()
                .map(|t| t.date_naive())
                .max()
                .filter(|l| *l > last_day)?;
            Some(format!(
                "WARNING: run {}'s last collection ({last}) falls after Meta retires API version {version} on {last_day}: \
                 set meta.api_version = \"{LATEST}\" before then",
                r.id
            ))
        })
        .collect()
}
