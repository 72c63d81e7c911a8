//! One collection pass: daily rows and since-launch totals for every breakdown, the spend,
//! and how the platform sees each ad. The rows, the spend and the time the pass was due for
//! are one transaction (`Store::insert_collection_due`); the ads' reviews and the API
//! archive are written just before it, as what the platform said. A crash in between leaves
//! those on record and no collection, so the pass is made again whole, never half.

use chrono::{DateTime, NaiveDate, Utc};
use tracing::{info, warn};

use super::launch::Launched;
use adskew_core::analysis::sequential::settled::settled_at;
use adskew_core::error::Result;
use adskew_core::experiment::Experiment;
use adskew_core::money::Money;
use adskew_core::platform::{DeliveryQuery, ObjectId, Period, Platform, PlatformError};
use adskew_store::{Store, StoredRow};

/// Collects everything for the scheduled time `due` and returns the spend read. Every day
/// since launch is read again, so the platform's revisions of recent days land as new
/// snapshots (the store keeps every snapshot; `delivery_latest` shows the newest). Days are
/// the account's local days (`tz`), as the platform reports them.
#[allow(clippy::too_many_arguments)]
pub(super) async fn collect(
    exp: &Experiment,
    id: i64,
    platform: &dyn Platform,
    store: &mut Store,
    launched: &Launched,
    start: DateTime<Utc>,
    due: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<Spent> {
    let now = platform.now();
    let mut rows = read_rows(
        exp,
        platform,
        launched,
        (start, now, tz),
        &[Period::Day, Period::Total],
    )
    .await?;
    rows.extend(settled_totals(exp, platform, launched, (start, now, tz), &rows).await?);
    let spend = platform.spend(&launched.campaign).await?;
    review(exp, id, platform, store, launched, now).await?;
    super::archive(store, id, platform)?;
    let collection = store.insert_collection_due(id, now, Some(due), spend, &rows)?;
    let since = start.with_timezone(&tz).date_naive();
    let stored = super::looks::Stored {
        id: collection,
        at: now,
        rows: &rows,
    };
    let looks = super::looks::record(exp, id, store, tz, since, stored)?;
    info!(experiment = %exp.name, rows = rows.len(), %spend, at = %now, "collected");
    // The dearest day so far, from the daily rows of one breakdown (each partitions it).
    let first = exp.collect.breakdowns.first().copied();
    let mut by_day: std::collections::BTreeMap<chrono::NaiveDate, Money> = Default::default();
    for r in rows
        .iter()
        .filter(|r| r.period == Period::Day && Some(r.breakdown) == first)
    {
        *by_day.entry(r.date_start).or_insert(Money::ZERO) += r.spend;
    }
    let (date, day) = by_day
        .into_iter()
        .max_by_key(|(_, m)| *m)
        .unwrap_or((now.with_timezone(&tz).date_naive(), Money::ZERO));
    Ok(Spent {
        total: spend,
        day,
        date,
        looks,
    })
}

/// Every breakdown's rows of the `periods` asked for, from the run's local start day to
/// `now`'s, keyed by the experiment's ad keys.
pub(super) async fn read_rows(
    exp: &Experiment,
    platform: &dyn Platform,
    launched: &Launched,
    (start, now, tz): (DateTime<Utc>, DateTime<Utc>, chrono_tz::Tz),
    periods: &[Period],
) -> Result<Vec<StoredRow>> {
    let since = start.with_timezone(&tz).date_naive();
    let until = now.with_timezone(&tz).date_naive();
    read_days(exp, platform, launched, (since, until), periods).await
}

/// Every breakdown's rows of the `periods` asked for over the local days `since..=until`.
async fn read_days(
    exp: &Experiment,
    platform: &dyn Platform,
    launched: &Launched,
    (since, until): (NaiveDate, NaiveDate),
    periods: &[Period],
) -> Result<Vec<StoredRow>> {
    let ids: Vec<ObjectId> = launched.ads.iter().map(|(_, a)| a.clone()).collect();
    // A million rows come back for a large run: each finds its ad in a map, not a list
    // (built in reverse, so an id listed twice maps to its first ad, as a search would).
    let keys: std::collections::HashMap<&ObjectId, &String> =
        launched.ads.iter().rev().map(|(k, a)| (a, k)).collect();
    let key_of = |ad: &ObjectId| -> Result<String> {
        keys.get(ad).map(|k| (*k).clone()).ok_or_else(|| {
            PlatformError::Protocol(format!("platform returned a row for unknown ad {ad}")).into()
        })
    };
    let queries: Vec<DeliveryQuery> = exp
        .collect
        .breakdowns
        .iter()
        .flat_map(|breakdown| {
            periods.iter().map(|granularity| DeliveryQuery {
                ads: ids.clone(),
                breakdown: *breakdown,
                since,
                until,
                granularity: *granularity,
            })
        })
        .collect();
    // Read side by side where the platform can; the rows come back in the queries' order.
    let answers = platform.deliveries(&queries).await?;
    let mut rows = Vec::new();
    for (query, answer) in queries.iter().zip(answers) {
        for row in answer {
            rows.push(StoredRow {
                ad_key: key_of(&row.ad)?,
                period: query.granularity,
                date_start: row.date_start,
                date_stop: row.date_stop,
                breakdown: row.breakdown,
                value: row.value,
                reach: row.reach,
                impressions: row.impressions,
                clicks: row.clicks,
                spend: row.spend,
            });
        }
    }
    Ok(rows)
}

/// The since-launch totals of the settled period (launch to the last day a revision window
/// old, `analysis::sequential::settled`), which the anytime-valid looks are computed on:
/// one more total per breakdown, unless nothing is settled yet or the collection's own
/// totals already end by then. A total identical in its days to one just read is not
/// read twice.
async fn settled_totals(
    exp: &Experiment,
    platform: &dyn Platform,
    launched: &Launched,
    (start, now, tz): (DateTime<Utc>, DateTime<Utc>, chrono_tz::Tz),
    read: &[StoredRow],
) -> Result<Vec<StoredRow>> {
    let since = start.with_timezone(&tz).date_naive();
    let through = settled_at(now, exp.schedule.recollect_after, tz).through;
    let latest = read
        .iter()
        .filter(|r| r.period == Period::Total)
        .map(|r| r.date_stop)
        .max();
    if through < since || latest.is_none_or(|d| d <= through) {
        return Ok(Vec::new());
    }
    let rows = read_days(exp, platform, launched, (since, through), &[Period::Total]).await?;
    // Looked up in a set: `read` holds every daily row too, a million in a large run.
    let days = |r: &StoredRow| {
        (
            r.ad_key.clone(),
            r.breakdown,
            r.value.clone(),
            r.date_start,
            r.date_stop,
        )
    };
    let totals: std::collections::HashSet<_> = read
        .iter()
        .filter(|o| o.period == Period::Total)
        .map(days)
        .collect();
    Ok(rows
        .into_iter()
        .filter(|r| !totals.contains(&days(r)))
        .collect())
}

/// What a collection found spent: in all, and on the dearest single day (of the account);
/// and its anytime-valid looks, which `[stopping]` reads.
pub(super) struct Spent {
    pub total: Money,
    pub day: Money,
    pub date: chrono::NaiveDate,
    pub looks: Vec<adskew_core::analysis::sequential::Look>,
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
        let changed = store.record_review(id, key, now, &review)?;
        if changed && review.is_problem() {
            warn!(
                experiment = %exp.name,
                ad = %key,
                status = %review.platform_status,
                problem = review.problem.as_deref().unwrap_or(""),
                "the platform refused or limited an ad"
            );
        }
    }
    Ok(())
}
