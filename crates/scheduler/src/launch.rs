//! Launching a run: every platform object created PAUSED, idempotently, then all activated
//! together.
//!
//! Each object's record (its idempotency key, which is also its name on the platform) is
//! committed *before* the create call and completed after it. A process killed between the
//! two leaves a record without an id; the next process looks the object up by that name
//! instead of creating it again. An object recorded with its id is only re-introduced to
//! the adapter. So a launch can be interrupted anywhere and resumed without duplicates.

use chrono::{DateTime, Utc};
use tracing::info;

use adskew_core::error::{Error, Result};
use adskew_core::experiment::{Budget, Experiment};
use adskew_core::platform::{
    AdSetSpec, AdSpec, BudgetSpec, CampaignSpec, CreativeSpec, ObjectId, ObjectSpec, Platform,
    Status,
};
use adskew_store::{AdRecord, Store};

/// The platform objects of a launched run.
#[derive(Debug, Clone)]
pub(super) struct Launched {
    pub campaign: ObjectId,
    pub ad_sets: Vec<ObjectId>,
    /// (ad key, platform ad id)
    pub ads: Vec<(String, ObjectId)>,
}

/// The ad set an ad gets: the experiment's one audience, the ad's budget, the run's schedule.
fn ad_set_spec(
    exp: &Experiment,
    ad: &adskew_core::experiment::Ad,
    campaign: &ObjectId,
    prefix: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> AdSetSpec {
    AdSetSpec {
        campaign: campaign.clone(),
        name: format!("{prefix}/{}", ad.key),
        budget: match ad.budget {
            Budget::Daily(m) => BudgetSpec::Daily(m),
            Budget::Lifetime(m) => BudgetSpec::Lifetime(m),
        },
        audience: exp.audience.clone(),
        start,
        end,
        partition: None,
    }
}

/// Refuses a launch in which the ads of a comparison would differ in anything but their
/// creative and the dimensions the comparison declares it varies (`vary`), naming the
/// difference. Validation checks the same on the file; this checks what would be sent.
pub(super) fn check_paired(
    exp: &Experiment,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<()> {
    let campaign = ObjectId(String::new());
    for c in &exp.comparisons {
        let specs: Vec<(&str, AdSetSpec)> = c
            .ads
            .iter()
            .filter_map(|key| exp.ads.iter().find(|a| &a.key == key))
            .map(|ad| {
                (
                    ad.key.as_str(),
                    ad_set_spec(exp, ad, &campaign, "", start, end),
                )
            })
            .collect();
        let Some((first_key, first)) = specs.first() else {
            continue;
        };
        for (key, spec) in &specs[1..] {
            let budget_varies = c.vary.iter().any(|v| v == "budget");
            let difference = if spec.budget != first.budget && !budget_varies {
                Some(format!("budget {:?} vs {:?}", first.budget, spec.budget))
            } else if spec.start != first.start || spec.end != first.end {
                Some("schedule".to_string())
            } else if format!("{:?}", spec.audience) != format!("{:?}", first.audience) {
                Some("targeting".to_string())
            } else {
                None
            };
            if let Some(d) = difference {
                return Err(Error::BadInput(format!(
                    "comparison `{}`: ads `{first_key}` and `{key}` differ in {d}; paired ads must \
                     differ only in their creative (declare `vary = [\"budget\"]` if the budget is \
                     what the comparison studies)",
                    c.key
                )));
            }
        }
    }
    Ok(())
}

/// Creates (or finds, or re-introduces) every object of the run, PAUSED.
pub(super) async fn ensure_objects(
    exp: &Experiment,
    id: i64,
    platform: &dyn Platform,
    store: &mut Store,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Launched> {
    let prefix = format!("adskew/{}/{id}", exp.name);
    let campaign_spec = campaign_spec(exp, &prefix);
    let campaign = ensure(
        id,
        platform,
        store,
        "",
        ObjectSpec::Campaign(&campaign_spec),
    )
    .await?;
    let mut ads = Vec::new();
    let mut ad_sets = Vec::new();
    // In two phases of few requests each: every creative and ad set together (on Meta an
    // ad set needs a batch of its own, as Meta batches no two of one campaign, and the
    // creatives ride along), then every ad, which needs both.
    let creative_specs = creative_specs(exp, &prefix);
    let sets = ad_set_specs(exp, &campaign, &prefix, start, end);
    let first_items: Vec<(String, ObjectSpec)> = exp
        .ads
        .iter()
        .zip(&creative_specs)
        .map(|(ad, s)| (ad.key.clone(), ObjectSpec::Creative(s)))
        .chain(
            sets.iter()
                .map(|(_, key, s)| (key.clone(), ObjectSpec::AdSet(s))),
        )
        .collect();
    let mut first = ensure_many(id, platform, store, &first_items).await?;
    let ad_set_ids = first.split_off(exp.ads.len());
    let creatives = first;
    super::archive(store, id, platform)?;
    let placed: Vec<_> = sets
        .iter()
        .zip(ad_set_ids)
        .map(|((i, key, _), ad_set)| {
            let ad_spec = AdSpec {
                ad_set: ad_set.clone(),
                creative: creatives[*i].clone(),
                name: format!("{prefix}/{key}"),
            };
            (
                &exp.ads[*i],
                key.clone(),
                creatives[*i].clone(),
                ad_set,
                ad_spec,
            )
        })
        .collect();
    let ad_items: Vec<(String, ObjectSpec)> = placed
        .iter()
        .map(|(_, key, _, _, spec)| (key.clone(), ObjectSpec::Ad(spec)))
        .collect();
    let platform_ads = ensure_many(id, platform, store, &ad_items).await?;
    for ((ad, key, creative, ad_set, _), platform_ad) in placed.into_iter().zip(platform_ads) {
        let (kind, amount) = match ad.budget {
            Budget::Daily(m) => ("daily", m),
            Budget::Lifetime(m) => ("lifetime", m),
        };
        store.record_ad(
            id,
            &AdRecord {
                ad_key: key.clone(),
                campaign_id: campaign.0.clone(),
                ad_set_id: ad_set.0.clone(),
                creative_id: creative.0.clone(),
                platform_ad_id: platform_ad.0.clone(),
                budget_kind: kind.to_string(),
                budget: amount,
                activated_at: None,
            },
        )?;
        super::archive(store, id, platform)?;
        ads.push((key, platform_ad));
        ad_sets.push(ad_set);
    }
    Ok(Launched {
        campaign,
        ad_sets,
        ads,
    })
}

/// The campaign a run creates; its spend cap is the platform's own backstop: spending
/// stops at the cap even if no collector runs.
fn campaign_spec(exp: &Experiment, prefix: &str) -> CampaignSpec {
    CampaignSpec {
        spend_cap: Some(exp.spend_cap),
        name: prefix.to_string(),
        objective: exp.objective,
        category: exp.category,
        countries: exp.audience.countries.clone(),
    }
}

/// Creates every object of a run PAUSED, as [`ensure_objects`] does, but records nothing:
/// for `plan`'s replicates, which are thrown away and never resumed. The objects are
/// created in `ensure_objects`' order (every creative, every ad set, every ad), which the
/// simulator's ids follow.
pub(super) async fn create_unrecorded(
    exp: &Experiment,
    platform: &dyn Platform,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Launched> {
    let prefix = format!("adskew/{}/plan", exp.name);
    let campaign = platform
        .create_campaign(&campaign_spec(exp, &prefix))
        .await?;
    let mut creatives = Vec::new();
    for spec in creative_specs(exp, &prefix) {
        creatives.push(platform.create_creative(&spec).await?);
    }
    let mut placed = Vec::new();
    for (i, key, set_spec) in ad_set_specs(exp, &campaign, &prefix, start, end) {
        let ad_set = platform.create_ad_set(&set_spec).await?;
        let ad_spec = AdSpec {
            ad_set: ad_set.clone(),
            creative: creatives[i].clone(),
            name: set_spec.name,
        };
        placed.push((key, ad_set, ad_spec));
    }
    let (mut ads, mut ad_sets) = (Vec::new(), Vec::new());
    for (key, ad_set, ad_spec) in placed {
        ads.push((key, platform.create_ad(&ad_spec).await?));
        ad_sets.push(ad_set);
    }
    Ok(Launched {
        campaign,
        ad_sets,
        ads,
    })
}

/// Every ad's creative, named `{prefix}/{ad}`.
fn creative_specs(exp: &Experiment, prefix: &str) -> Vec<CreativeSpec> {
    exp.ads
        .iter()
        .map(|ad| CreativeSpec {
            key: ad.key.clone(),
            name: format!("{prefix}/{}", ad.key),
            headline: ad.headline.clone(),
            body: ad.body.clone(),
            // Relative image paths are relative to the experiment file, as validated.
            image: ad.image.as_ref().map(|i| image_location(exp, i)),
            link: ad.link.clone(),
        })
        .collect()
}

/// Every ad set of the run as (ad index, key, spec): one per ad, or, with a design, one per
/// ad and partition, keyed `ad@partition` (the creative is shared).
fn ad_set_specs(
    exp: &Experiment,
    campaign: &ObjectId,
    prefix: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<(usize, String, AdSetSpec)> {
    // One audience, or every partition of the design: each ad gets an ad set per partition,
    // stored under `ad@partition`; the creative is shared.
    let partitions: Vec<(Option<&str>, Option<&str>)> = match &exp.design {
        None => vec![(None, None)],
        Some(d) => d
            .partitions
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (
                    Some(p.as_str()),
                    d.custom_audiences.get(i).map(String::as_str),
                )
            })
            .collect(),
    };
    let mut sets = Vec::new();
    for (i, ad) in exp.ads.iter().enumerate() {
        for (partition, audience) in &partitions {
            let key = match partition {
                Some(p) => adskew_core::experiment::Design::ad_key(&ad.key, p),
                None => ad.key.clone(),
            };
            let mut set_spec = ad_set_spec(exp, ad, campaign, prefix, start, end);
            set_spec.name = format!("{prefix}/{key}");
            set_spec.partition = partition.map(str::to_string);
            if let Some(a) = audience {
                set_spec.audience.custom_audience = Some(a.to_string());
            }
            sets.push((i, key, set_spec));
        }
    }
    sets
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

/// Objects of one kind: every one not yet recorded is recorded as requested, then created in
/// as few requests as the platform allows ([`Platform::create_many`]); each the platform
/// did not confirm, and each recorded earlier, goes through [`ensure`] (found by name,
/// else created alone), so a lost batch answer never makes a second object.
async fn ensure_many(
    id: i64,
    platform: &dyn Platform,
    store: &mut Store,
    items: &[(String, ObjectSpec<'_>)],
) -> Result<Vec<ObjectId>> {
    let mut fresh = Vec::new();
    for (i, (key, spec)) in items.iter().enumerate() {
        if store.object(id, spec.role(), key)?.is_none() {
            store.object_requested(id, spec.role(), key, spec.name(), platform.now())?;
            fresh.push(i);
        }
    }
    let mut created: Vec<Option<ObjectId>> = vec![None; items.len()];
    if !fresh.is_empty() {
        let specs: Vec<ObjectSpec> = fresh.iter().map(|&i| items[i].1).collect();
        let answers = platform.create_many(&specs).await?;
        for (&i, answer) in fresh.iter().zip(answers) {
            if let Some(object) = answer {
                let (key, spec) = &items[i];
                store.object_created(id, spec.role(), key, &object.0, platform.now())?;
                created[i] = Some(object);
            }
        }
    }
    let mut out = Vec::with_capacity(items.len());
    for ((key, spec), made) in items.iter().zip(created) {
        out.push(match made {
            Some(object) => object,
            None => ensure(id, platform, store, key, *spec).await?,
        });
    }
    Ok(out)
}

/// One object: re-introduced if recorded with its id, found by name if its create call's
/// answer was lost, created otherwise; recorded before and after the call.
async fn ensure(
    id: i64,
    platform: &dyn Platform,
    store: &mut Store,
    ad_key: &str,
    spec: ObjectSpec<'_>,
) -> Result<ObjectId> {
    let role = spec.role();
    if let Some(record) = store.object(id, role, ad_key)? {
        if let Some(platform_id) = record.platform_id {
            let object = ObjectId(platform_id);
            platform.remember(spec, &object);
            return Ok(object);
        }
        if let Some(found) = platform.find(spec).await? {
            info!(role, ad = ad_key, id = %found, "found an object whose creation was interrupted");
            store.object_created(id, role, ad_key, &found.0, platform.now())?;
            return Ok(found);
        }
    } else {
        store.object_requested(id, role, ad_key, spec.name(), platform.now())?;
    }
    let object = match spec {
        ObjectSpec::Campaign(s) => platform.create_campaign(s).await?,
        ObjectSpec::AdSet(s) => platform.create_ad_set(s).await?,
        ObjectSpec::Creative(s) => platform.create_creative(s).await?,
        ObjectSpec::Ad(s) => platform.create_ad(s).await?,
    };
    store.object_created(id, role, ad_key, &object.0, platform.now())?;
    Ok(object)
}

/// Switches every ad set and ad on, then the campaign: nothing delivers until the last
/// switch, so all ads start at the same instant. Switching on twice is harmless, so an
/// interrupted activation is simply done again.
pub(super) async fn activate_together(platform: &dyn Platform, launched: &Launched) -> Result<()> {
    platform
        .set_statuses(&launched.ad_sets, Status::Active)
        .await?;
    let ads: Vec<ObjectId> = launched.ads.iter().map(|(_, ad)| ad.clone()).collect();
    platform.set_statuses(&ads, Status::Active).await?;
    platform
        .set_status(&launched.campaign, Status::Active)
        .await?;
    Ok(())
}

/// Pauses the campaign, then every ad set and ad: the kill switch.
pub(super) async fn pause_everything(platform: &dyn Platform, launched: &Launched) -> Result<()> {
    platform
        .set_status(&launched.campaign, Status::Paused)
        .await?;
    platform
        .set_statuses(&launched.ad_sets, Status::Paused)
        .await?;
    let ads: Vec<ObjectId> = launched.ads.iter().map(|(_, ad)| ad.clone()).collect();
    platform.set_statuses(&ads, Status::Paused).await?;
    Ok(())
}
