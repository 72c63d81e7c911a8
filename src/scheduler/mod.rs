//! The scheduler: launch an experiment's ads together, collect delivery on schedule until
//! the end, and stop.
//!
//! It talks to the platform only through [`Platform`] and waits only through [`Clock`], so
//! the same code drives a real platform in real time and the simulator in simulated time
//! (a 14-day experiment runs in seconds).
//!
//! Order of a run: record the run → create every object PAUSED → activate the ad sets and
//! ads, then the campaign last, so all ads start at the same instant → collect every
//! `collect_every` → at the end (or at the spend cap) pause the campaign and collect → collect
//! again `recollect_after` later, once the platform's revisions of recent days have settled →
//! record the final state.

use chrono::{DateTime, Duration, DurationRound, Utc};
use indicatif::ProgressBar;
use tracing::{info, warn};

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::experiment::{Budget, Experiment, Start};
use crate::money::Money;
use crate::platform::{
    AdSetSpec, AdSpec, BudgetSpec, CampaignSpec, CreativeSpec, DeliveryQuery, Granularity,
    ObjectId, Platform, Status,
};
use crate::store::{AdRecord, RunState, Store, StoredRow};

/// What a finished run did.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub experiment_id: i64,
    pub state: RunState,
    pub collections: usize,
    pub spend: Money,
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
}

/// The platform objects of a launched experiment.
struct Launched {
    campaign: ObjectId,
    ad_sets: Vec<ObjectId>,
    /// (ad key, platform ad id)
    ads: Vec<(String, ObjectId)>,
}

/// When the experiment starts, given the platform's clock.
pub fn start_time(exp: &Experiment, now: DateTime<Utc>) -> DateTime<Utc> {
    match exp.schedule.start {
        Start::Now => now.duration_trunc(Duration::hours(1)).unwrap_or(now),
        Start::At(t) => t,
    }
}

/// The current hour: where a simulated clock starts when the experiment says "now".
pub fn start_time_now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(Duration::hours(1)).unwrap_or(now)
}

/// The number of collections a run makes (for progress bars).
pub fn planned_collections(exp: &Experiment) -> u64 {
    let every = exp.schedule.collect_every.num_seconds().max(1);
    let total = exp.schedule.duration.num_seconds();
    // One per interval strictly inside the schedule, the one at the end, and the
    // re-collection after the revision window.
    let recollect = u64::from(exp.schedule.recollect_after > Duration::zero());
    ((total - 1) / every + 1) as u64 + recollect
}

/// Runs an experiment from launch to end. On failure the run is marked failed and the
/// campaign paused (best effort) before the error is returned.
pub async fn run(
    exp: &Experiment,
    platform: &dyn Platform,
    clock: &dyn Clock,
    store: &mut Store,
    progress: &ProgressBar,
) -> Result<RunOutcome> {
    let id = store.insert_experiment(exp, clock.now())?;
    let mut campaign = None;
    let result = run_inner(exp, id, platform, clock, store, progress, &mut campaign).await;
    if let Err(e) = &result {
        if let Some(c) = &campaign {
            if let Err(pause) = platform.set_status(c, Status::Paused).await {
                warn!(error = %pause, "could not pause the campaign after a failure");
            }
        }
        archive(store, id, platform)?;
        store.set_state(id, RunState::Failed, &e.to_string(), clock.now())?;
    }
    result
}

async fn run_inner(
    exp: &Experiment,
    id: i64,
    platform: &dyn Platform,
    clock: &dyn Clock,
    store: &mut Store,
    progress: &ProgressBar,
    campaign_out: &mut Option<ObjectId>,
) -> Result<RunOutcome> {
    let start = start_time(exp, clock.now());
    let end = start + exp.schedule.duration;
    let launched = create_paused(exp, id, platform, store, start, end, campaign_out).await?;

    clock.sleep_until(start).await;
    activate_together(platform, &launched).await?;
    archive(store, id, platform)?;
    let activated = clock.now();
    store.set_activated(id, activated)?;
    store.set_state(
        id,
        RunState::Running,
        "all ads activated together",
        activated,
    )?;
    info!(experiment = %exp.name, id, %activated, "activated");

    let mut collections = 0;
    let mut spend;
    let mut next = start + exp.schedule.collect_every;
    loop {
        let at = next.min(end);
        clock.sleep_until(at).await;
        let finishing = at >= end;
        if finishing {
            platform
                .set_status(&launched.campaign, Status::Paused)
                .await?;
        }
        spend = collect(exp, id, platform, store, &launched, start).await?;
        collections += 1;
        progress.inc(1);
        if finishing {
            if recollect(exp, id, platform, clock, store, &launched, start, at).await? {
                collections += 1;
                progress.inc(1);
            }
            store.set_state(id, RunState::Completed, "schedule ended", clock.now())?;
            return Ok(RunOutcome {
                experiment_id: id,
                state: RunState::Completed,
                collections,
                spend,
                started: start,
                ended: at,
            });
        }
        if spend >= exp.spend_cap {
            platform
                .set_status(&launched.campaign, Status::Paused)
                .await?;
            let now = clock.now();
            let cause = format!(
                "spend cap reached: {spend} of {} {}",
                exp.spend_cap, exp.currency
            );
            warn!(experiment = %exp.name, %cause, "paused");
            archive(store, id, platform)?;
            store.set_state(id, RunState::Stopped, &cause, now)?;
            if recollect(exp, id, platform, clock, store, &launched, start, now).await? {
                collections += 1;
            }
            return Ok(RunOutcome {
                experiment_id: id,
                state: RunState::Stopped,
                collections,
                spend,
                started: start,
                ended: now,
            });
        }
        next += exp.schedule.collect_every;
    }
}

/// A creative's image as the platform should see it: a URL as written, a file path joined
/// to the experiment file's folder (so `run` works from any directory).
fn image_location(exp: &Experiment, image: &str) -> String {
    if image.starts_with("https://") || image.starts_with("http://") {
        return image.to_string();
    }
    let dir = exp.source.path.parent().unwrap_or(std::path::Path::new(""));
    dir.join(image).display().to_string()
}

async fn create_paused(
    exp: &Experiment,
    id: i64,
    platform: &dyn Platform,
    store: &mut Store,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    campaign_out: &mut Option<ObjectId>,
) -> Result<Launched> {
    let prefix = format!("adskew/{}/{id}", exp.name);
    let campaign = platform
        .create_campaign(&CampaignSpec {
            name: prefix.clone(),
            objective: exp.objective,
            category: exp.category,
            countries: exp.audience.countries.clone(),
        })
        .await?;
    *campaign_out = Some(campaign.clone());
    let mut ads = Vec::new();
    let mut ad_sets = Vec::new();
    for ad in &exp.ads {
        let budget = match ad.budget {
            Budget::Daily(m) => BudgetSpec::Daily(m),
            Budget::Lifetime(m) => BudgetSpec::Lifetime(m),
        };
        let ad_set = platform
            .create_ad_set(&AdSetSpec {
                campaign: campaign.clone(),
                name: format!("{prefix}/{}", ad.key),
                budget,
                audience: exp.audience.clone(),
                start,
                end,
            })
            .await?;
        let creative = platform
            .create_creative(&CreativeSpec {
                key: ad.key.clone(),
                name: format!("{prefix}/{}", ad.key),
                headline: ad.headline.clone(),
                body: ad.body.clone(),
                // Relative image paths are relative to the experiment file, as validated.
                image: ad.image.as_ref().map(|i| image_location(exp, i)),
                link: ad.link.clone(),
            })
            .await?;
        let platform_ad = platform
            .create_ad(&AdSpec {
                ad_set: ad_set.clone(),
                creative: creative.clone(),
                name: format!("{prefix}/{}", ad.key),
            })
            .await?;
        let (kind, amount) = match ad.budget {
            Budget::Daily(m) => ("daily", m),
            Budget::Lifetime(m) => ("lifetime", m),
        };
        store.record_ad(
            id,
            &AdRecord {
                ad_key: ad.key.clone(),
                campaign_id: campaign.0.clone(),
                ad_set_id: ad_set.0.clone(),
                creative_id: creative.0.clone(),
                platform_ad_id: platform_ad.0.clone(),
                budget_kind: kind.to_string(),
                budget: amount,
                activated_at: None,
            },
        )?;
        archive(store, id, platform)?;
        ads.push((ad.key.clone(), platform_ad));
        ad_sets.push(ad_set);
    }
    store.set_state(
        id,
        RunState::Created,
        "all objects created paused",
        platform.now(),
    )?;
    Ok(Launched {
        campaign,
        ad_sets,
        ads,
    })
}

/// The final collection, `recollect_after` past the last delivery, once the platform's late
/// revisions of recent days have settled. Returns whether one was made.
#[allow(clippy::too_many_arguments)]
async fn recollect(
    exp: &Experiment,
    id: i64,
    platform: &dyn Platform,
    clock: &dyn Clock,
    store: &mut Store,
    launched: &Launched,
    start: DateTime<Utc>,
    stopped: DateTime<Utc>,
) -> Result<bool> {
    if exp.schedule.recollect_after <= Duration::zero() {
        return Ok(false);
    }
    clock
        .sleep_until(stopped + exp.schedule.recollect_after)
        .await;
    collect(exp, id, platform, store, launched, start).await?;
    info!(experiment = %exp.name, "re-collected after the revision window");
    Ok(true)
}

/// Reads how the platform sees each ad and records changes; a rejected or limited ad is
/// logged as a warning at once (and shown by `status` and in the report), because it delivers
/// nothing and would otherwise only look like a small ad.
async fn review(
    exp: &Experiment,
    id: i64,
    platform: &dyn Platform,
    store: &mut Store,
    launched: &Launched,
    now: DateTime<Utc>,
) -> Result<()> {
    let ids: Vec<ObjectId> = launched.ads.iter().map(|(_, ad)| ad.clone()).collect();
    for review in platform.ad_reviews(&ids).await? {
        let Some((key, _)) = launched.ads.iter().find(|(_, ad)| *ad == review.ad) else {
            continue;
        };
        let changed = store.record_review(
            id,
            key,
            now,
            &review.effective_status,
            review.problem.as_deref(),
        )?;
        if changed && review.is_problem() {
            warn!(
                experiment = %exp.name,
                ad = %key,
                status = %review.effective_status,
                problem = review.problem.as_deref().unwrap_or(""),
                "the platform refused or limited an ad"
            );
        }
    }
    Ok(())
}

/// Moves the platform's API exchanges since the last call into the store's archive.
fn archive(store: &mut Store, id: i64, platform: &dyn Platform) -> Result<()> {
    store.archive(Some(id), platform.name(), &platform.take_exchanges())
}

/// Switches every ad set and ad on, then the campaign: nothing delivers until the last
/// switch, so all ads start at the same instant.
async fn activate_together(platform: &dyn Platform, launched: &Launched) -> Result<()> {
    for ad_set in &launched.ad_sets {
        platform.set_status(ad_set, Status::Active).await?;
    }
    for (_, ad) in &launched.ads {
        platform.set_status(ad, Status::Active).await?;
    }
    platform
        .set_status(&launched.campaign, Status::Active)
        .await?;
    Ok(())
}

/// One collection pass: daily rows and since-launch totals for every breakdown, and the
/// spend, stored in one transaction. Returns the spend.
async fn collect(
    exp: &Experiment,
    id: i64,
    platform: &dyn Platform,
    store: &mut Store,
    launched: &Launched,
    start: DateTime<Utc>,
) -> Result<Money> {
    let now = platform.now();
    let ids: Vec<ObjectId> = launched.ads.iter().map(|(_, a)| a.clone()).collect();
    let key_of = |ad: &ObjectId| -> Result<String> {
        launched
            .ads
            .iter()
            .find(|(_, a)| a == ad)
            .map(|(k, _)| k.clone())
            .ok_or_else(|| Error::Other(format!("platform returned a row for unknown ad {ad}")))
    };
    let mut rows = Vec::new();
    for breakdown in &exp.collect.breakdowns {
        for granularity in [Granularity::Daily, Granularity::Total] {
            let query = DeliveryQuery {
                ads: ids.clone(),
                breakdown: *breakdown,
                since: start.date_naive(),
                until: now.date_naive(),
                granularity,
            };
            for row in platform.delivery(&query).await? {
                rows.push(StoredRow {
                    ad_key: key_of(&row.ad)?,
                    period: granularity.as_str().to_string(),
                    date_start: row.date_start,
                    date_stop: row.date_stop,
                    breakdown: row.breakdown.as_str().to_string(),
                    value: row.value,
                    reach: row.reach,
                    impressions: row.impressions,
                    clicks: row.clicks,
                    spend: row.spend,
                });
            }
        }
    }
    let spend = platform.spend(&launched.campaign).await?;
    review(exp, id, platform, store, launched, now).await?;
    archive(store, id, platform)?;
    store.insert_collection(id, now, spend, &rows)?;
    info!(experiment = %exp.name, rows = rows.len(), %spend, at = %now, "collected");
    Ok(spend)
}
