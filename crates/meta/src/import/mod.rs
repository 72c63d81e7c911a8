//! `adskew import`: Meta Ads Manager report exports into the store, so researchers who
//! download reports by hand (as AlgorithmWatch did in 2020, every few minutes) get the same
//! `analyze`, `report` and `status` as runs adskew collected itself.
//!
//! Each file is one cumulative snapshot and becomes one collection of `total` rows whose
//! dates are the file's reporting window; the store's usual rule then makes the newest
//! snapshot the one analysed. Files are stored oldest first, which is why the snapshot time
//! matters ([`snapshot`]).
//!
//! Two steps, so that a bad file costs nothing: [`plan`] reads and checks every file
//! completely and decides where every row goes; [`apply`] writes the whole plan in one
//! transaction (the experiment if it is new, every collection, every import record). A
//! problem anywhere means nothing is written.

pub mod export;
pub mod snapshot;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use self::export::{bad, shown, Export};
use adskew_core::error::{Error, Result};
use adskew_core::experiment::describe::{all_and_pairwise, Description};
use adskew_core::experiment::{Design, Experiment};
use adskew_core::text::printable;
use adskew_core::vocab::{Breakdown, Metric};
use adskew_store::{ExperimentRecord, ImportTarget, ImportedFile, Store, StoredRow};

/// Reads and checks every file; all problems of all files are reported together (every bad
/// line of each, up to [`export::PROBLEMS_SHOWN`] a file), so a batch of exports is fixed
/// in one pass. `now` is the wall clock: no snapshot can be from after it.
pub fn read_all(paths: &[PathBuf], now: DateTime<Utc>) -> Result<Vec<Export>> {
    let mut exports = Vec::new();
    let mut problems = Vec::new();
    for p in paths {
        match Export::read(p, now) {
            Ok(e) => exports.push(e),
            Err(e) => problems.push(e.to_string()),
        }
    }
    if problems.is_empty() {
        Ok(exports)
    } else {
        Err(Error::BadInput(format!(
            "nothing was imported:\n  {}",
            problems.join("\n  ")
        )))
    }
}

/// Where the plan's rows go.
#[derive(Debug)]
pub enum Target {
    /// A new experiment record (platform `import`) described by the files.
    New(Box<Experiment>),
    /// A run already in the store.
    Existing(Box<ExperimentRecord>),
}

/// One file to store, with its rows under the run's ad keys.
#[derive(Debug)]
pub struct PlannedFile {
    pub export: Export,
    pub rows: Vec<StoredRow>,
}

/// Everything an import will write, checked.
#[derive(Debug)]
pub struct Plan {
    pub target: Target,
    /// In snapshot order.
    pub files: Vec<PlannedFile>,
    /// Files and lines passed over, and why.
    pub notes: Vec<String>,
}

/// What [`apply`] wrote.
#[derive(Debug)]
pub struct Outcome {
    pub experiment_id: i64,
    pub name: String,
    pub created: bool,
    /// `(file, collection id)`, in snapshot order.
    pub collections: Vec<(PathBuf, i64)>,
}

/// An ad key made from an Ads Manager name: lowercase ASCII letters and digits, anything
/// else one `-`, at most 64 characters: a key `keys::is_key` accepts (or empty).
pub fn slug(name: &str) -> String {
    let mut key = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
        } else if !key.is_empty() && !key.ends_with('-') {
            key.push('-');
        }
    }
    key.truncate(64);
    key.trim_end_matches('-').to_string()
}

/// Orders the exports by snapshot time and drops repeated files; refuses two different
/// files of the same moment and files in different currencies.
fn order(mut exports: Vec<Export>, notes: &mut Vec<String>) -> Result<Vec<Export>> {
    exports.sort_by_key(|e| e.snapshot_at);
    let mut kept: Vec<Export> = Vec::new();
    for e in exports {
        if let Some(same) = kept.iter().find(|k| k.sha256 == e.sha256) {
            notes.push(format!(
                "{}: skipped: the same file as {}",
                shown(&e.path),
                shown(&same.path)
            ));
            continue;
        }
        if let Some(other) = kept.iter().find(|k| k.snapshot_at == e.snapshot_at) {
            return Err(Error::BadInput(format!(
                "{} and {} are different files of the same moment ({}, from their {} and {}): \
                 only one can be the snapshot of that time. Remove one, or name each file by the \
                 time it was exported (e.g. 2020-08-26_18:32.csv)",
                shown(&other.path),
                shown(&e.path),
                e.snapshot_at.to_rfc3339(),
                other.snapshot_from.as_str(),
                e.snapshot_from.as_str()
            )));
        }
        if let Some(first) = kept.first().filter(|k| k.currency != e.currency) {
            return Err(bad(
                &e.path,
                1,
                format!(
                    "spends in {} but {} spends in {}; one experiment has one currency. Import \
                     each currency into its own experiment",
                    e.currency,
                    shown(&first.path),
                    first.currency
                ),
            ));
        }
        kept.push(e);
    }
    Ok(kept)
}

/// Decides where every file goes: into run `selector` if the store has it, else into a new
/// experiment of that name. `store` is `None` when the database does not exist yet.
pub fn plan(exports: Vec<Export>, selector: &str, store: Option<&Store>) -> Result<Plan> {
    let mut notes: Vec<String> = exports.iter().flat_map(|e| e.notes.clone()).collect();
    let existing = match store {
        Some(s) => s.lookup_experiment(selector)?,
        None => None,
    };
    let mut exports = order(exports, &mut notes)?;
    let (target, keys) = match existing {
        Some(record) => {
            let store = store.expect("a run was found in it");
            exports = drop_imported(exports, &record, store, &mut notes)?;
            let keys = check_existing(&exports, &record, store)?;
            (Target::Existing(Box::new(record)), keys)
        }
        None => {
            let (experiment, keys) = describe(&exports, selector)?;
            (Target::New(Box::new(experiment)), keys)
        }
    };
    let files = exports
        .into_iter()
        .map(|export| {
            let rows = export
                .ads
                .iter()
                .flat_map(|ad| export.rows(ad, &keys[&ad.name]))
                .collect();
            PlannedFile { export, rows }
        })
        .collect();
    Ok(Plan {
        target,
        files,
        notes,
    })
}

/// Drops the files this run already imported (the same bytes), with a note.
fn drop_imported(
    exports: Vec<Export>,
    record: &ExperimentRecord,
    store: &Store,
    notes: &mut Vec<String>,
) -> Result<Vec<Export>> {
    let imported = store.imports(record.id)?;
    let mut kept = Vec::new();
    for e in exports {
        match imported.iter().find(|i| i.file_sha256 == e.sha256) {
            Some(i) => notes.push(format!(
                "{}: skipped: already imported into {} (run {}) on {} as {} (collection {})",
                shown(&e.path),
                record.name,
                record.id,
                i.imported_at,
                i.path,
                i.collection_id
            )),
            None => kept.push(e),
        }
    }
    Ok(kept)
}

/// The store's ad keys of a run, each with its headline: `ad@partition` for designs.
fn run_keys(exp: &Experiment) -> Vec<(String, String)> {
    let mut keys = Vec::new();
    for ad in &exp.ads {
        match &exp.design {
            Some(d) => keys.extend(
                d.partitions
                    .iter()
                    .map(|p| (Design::ad_key(&ad.key, p), ad.headline.clone())),
            ),
            None => keys.push((ad.key.clone(), ad.headline.clone())),
        }
    }
    keys
}

/// The key of the run's ad an export's name means: the key is the name's slug, or the name
/// ends in `/KEY` (adskew names its Meta objects `adskew/{experiment}/{run}/{key}`), or the
/// name is the ad's headline.
fn key_for(
    name: &str,
    record: &ExperimentRecord,
    keys: &[(String, String)],
) -> Result<String, String> {
    if let Some(rest) = name.strip_prefix("adskew/") {
        let parts: Vec<&str> = rest.split('/').collect();
        if let [_, run, _] = parts.as_slice() {
            if run.parse::<i64>().is_ok_and(|r| r != record.id) {
                return Err(format!(
                    "`{}` is an ad of run {run}, not of {} (run {}); import it into its own run",
                    printable(name),
                    record.name,
                    record.id
                ));
            }
        }
    }
    let slug = slug(name);
    let matches: BTreeSet<&str> = keys
        .iter()
        .filter(|(key, headline)| {
            *key == slug || name.ends_with(&format!("/{key}")) || headline == name
        })
        .map(|(key, _)| key.as_str())
        .collect();
    match matches.len() {
        1 => Ok(matches.into_iter().next().expect("one").to_string()),
        0 => Err(format!(
            "`{}` is none of the ads of {} (run {}): {}. An ad is matched by its key, \
             a name ending in /KEY, or its headline; rename the ad in the file to its key",
            printable(name),
            record.name,
            record.id,
            keys.iter()
                .map(|(k, _)| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        _ => Err(format!(
            "`{}` could be any of the ads {} of run {}; rename the ad in the file to its key",
            printable(name),
            matches.into_iter().collect::<Vec<_>>().join(", "),
            record.id
        )),
    }
}

/// Checks that the files fit run `record` and maps their ad names to its keys.
fn check_existing(
    exports: &[Export],
    record: &ExperimentRecord,
    store: &Store,
) -> Result<BTreeMap<String, String>> {
    if !matches!(record.platform.as_str(), "meta" | "import") {
        return Err(Error::BadInput(format!(
            "{} (run {}) ran on the {} platform; Ads Manager exports can be added only to a run \
             on Meta or an earlier import. Choose another --experiment name to import into a new experiment",
            record.name, record.id, record.platform
        )));
    }
    let exp = record.experiment()?;
    let keys = run_keys(&exp);
    let mut latest = None;
    for c in store.collections(record.id)? {
        latest = latest.max(Some(adskew_store::parse_time(&c.platform_time)?));
    }
    let mut map = BTreeMap::new();
    for e in exports {
        fits_run(e, record, &exp)?;
        if let Some(latest) = latest.filter(|l| *l >= e.snapshot_at) {
            return Err(older_snapshot(e, record, latest));
        }
        map.extend(ad_keys(e, record, &keys)?);
    }
    Ok(map)
}

/// The file's currency and breakdowns are the run's.
fn fits_run(e: &Export, record: &ExperimentRecord, exp: &Experiment) -> Result<()> {
    if e.currency != record.currency {
        return Err(bad(
            &e.path,
            1,
            format!(
                "spends in {} but {} (run {}) is in {}; import it into an experiment of its own",
                e.currency, record.name, record.id, record.currency
            ),
        ));
    }
    if let Some(d) = e
        .dimensions
        .iter()
        .find(|d| !exp.collect.breakdowns.contains(d))
    {
        return Err(bad(
            &e.path,
            1,
            format!(
                "breaks delivery down by {d}, which {} (run {}) does not collect ({}), so \
                 these rows would never be analysed. Export without that breakdown, or \
                 import into a new experiment",
                record.name,
                record.id,
                breakdowns_of(exp)
            ),
        ));
    }
    Ok(())
}

/// A snapshot no newer than the run's latest collection (at `latest`): refused, since the
/// newest collection is what is analysed.
fn older_snapshot(e: &Export, record: &ExperimentRecord, latest: DateTime<Utc>) -> Error {
    Error::BadInput(format!(
        "{}: its snapshot ({}, from its {}) is not newer than the latest collection of {} \
         (run {}) at {}. The newest collection is what is analysed, so an older \
         snapshot added now would hide newer numbers. Import snapshots oldest first; \
         older files belong in a new experiment together with the rest",
        shown(&e.path),
        e.snapshot_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        e.snapshot_from.as_str(),
        record.name,
        record.id,
        latest.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    ))
}

/// The run's key of each ad of the file; within one file, two names must not land on the
/// same ad.
fn ad_keys(
    e: &Export,
    record: &ExperimentRecord,
    keys: &[(String, String)],
) -> Result<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    let mut taken: BTreeMap<String, (&str, u64)> = BTreeMap::new();
    for ad in &e.ads {
        let key = key_for(&ad.name, record, keys).map_err(|m| bad(&e.path, ad.line, m))?;
        if let Some((other, line)) = taken.insert(key.clone(), (&ad.name, ad.line)) {
            return Err(bad(
                &e.path,
                ad.line,
                format!(
                    "`{}` and `{}` (line {line}) are both ad `{key}`; rename one in the file to another ad's key",
                    printable(&ad.name),
                    printable(other)
                ),
            ));
        }
        map.insert(ad.name.clone(), key);
    }
    Ok(map)
}

/// The breakdowns an experiment collects, for messages: `gender, age`.
pub fn breakdowns_of(exp: &Experiment) -> String {
    let names: Vec<&str> = exp.collect.breakdowns.iter().map(|b| b.as_str()).collect();
    names.join(", ")
}

/// Whether `name` can name a new experiment (it becomes a folder under results/).
fn check_name(name: &str) -> Result<()> {
    if let Some(reason) = adskew_core::experiment::keys::name_problem(name) {
        return Err(Error::BadInput(format!(
            "--experiment {name:?} {reason}: a new experiment's name has letters, digits, '-', '_' \
             and '.', starting with a letter or digit, e.g. --experiment aw-de (it becomes a \
             folder under results/)"
        )));
    }
    if name.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::BadInput(format!(
            "--experiment {name}: there is no run with id {name}; give a new experiment a name that is not a number"
        )));
    }
    Ok(())
}

/// A new experiment that describes the files: an ad per name (key: its slug, headline: the
/// name), all ads compared together and pairwise, the dimensions found.
fn describe(exports: &[Export], name: &str) -> Result<(Experiment, BTreeMap<String, String>)> {
    check_name(name)?;
    let first = exports
        .first()
        .ok_or_else(|| Error::BadInput("no file to import".into()))?;
    // slug -> (name, file, line), in the order ads first appear.
    let mut ads: Vec<(String, String, &Path, u64)> = Vec::new();
    let mut map = BTreeMap::new();
    for e in exports {
        for ad in &e.ads {
            if map.contains_key(&ad.name) {
                continue;
            }
            let key = slug(&ad.name);
            if key.is_empty() {
                return Err(bad(
                    &e.path,
                    ad.line,
                    format!(
                        "`{}` has no letter or digit to make an ad key of; rename the ad",
                        printable(&ad.name)
                    ),
                ));
            }
            if let Some((_, other, path, line)) = ads.iter().find(|a| a.0 == key) {
                return Err(bad(
                    &e.path,
                    ad.line,
                    format!(
                        "`{}` and `{}` ({}: line {line}) make the same ad key `{key}`; \
                         rename one so they differ in letters or digits",
                        printable(&ad.name),
                        printable(other),
                        shown(path)
                    ),
                ));
            }
            ads.push((key.clone(), ad.name.clone(), &e.path, ad.line));
            map.insert(ad.name.clone(), key);
        }
    }
    if ads.len() < 2 {
        return Err(Error::BadInput(format!(
            "{}: has one ad (`{}`); skew is measured by comparing ads, so a new experiment needs \
             at least two (or add the file to an existing run with --experiment)",
            shown(&first.path),
            printable(&ads[0].1)
        )));
    }
    let keys: Vec<String> = ads.iter().map(|a| a.0.clone()).collect();
    let dimensions: BTreeSet<Breakdown> = exports
        .iter()
        .flat_map(|e| e.dimensions.iter().copied())
        .collect();
    let windows = exports.iter().flat_map(|e| &e.ads);
    let start = windows.clone().map(|a| a.start).min().expect("an ad");
    let stop = windows.map(|a| a.stop).max().expect("an ad");
    let latest = exports.last().expect("a file");
    let description = Description {
        name: name.to_string(),
        description: "Imported from Meta Ads Manager exports by `adskew import`; each file's \
                      name, SHA-256 and snapshot time are in the database's `imports` table."
            .to_string(),
        origin: "Generated by `adskew import` from Meta Ads Manager exports.".to_string(),
        currency: first.currency.clone(),
        spend_cap: latest.spend(),
        ads: ads.iter().map(|a| (a.0.clone(), a.1.clone())).collect(),
        comparisons: all_and_pairwise(&keys),
        breakdowns: dimensions.into_iter().collect(),
        metric: Metric::Reach,
        start,
        end: stop.succ_opt().unwrap_or(stop),
    };
    let experiment = description.experiment(Path::new("(generated by adskew import)"))?;
    Ok((experiment, map))
}

/// Writes the plan in one transaction.
pub fn apply(plan: &Plan, store: &mut Store, now: DateTime<Utc>) -> Result<Outcome> {
    let paths: Vec<String> = plan
        .files
        .iter()
        .map(|f| shown(&f.export.path).to_string())
        .collect();
    let files: Vec<ImportedFile<'_>> = plan
        .files
        .iter()
        .zip(&paths)
        .map(|(f, path)| ImportedFile {
            path,
            bytes: &f.export.bytes,
            sha256: &f.export.sha256,
            snapshot_at: f.export.snapshot_at,
            snapshot_from: f.export.snapshot_from.as_str(),
            rows_read: f.export.rows_read,
            spend: f.export.spend(),
            rows: &f.rows,
        })
        .collect();
    let (target, name, created) = match &plan.target {
        Target::New(exp) => (ImportTarget::New(exp), exp.name.clone(), true),
        Target::Existing(r) => (ImportTarget::Existing(r.id), r.name.clone(), false),
    };
    let (experiment_id, collections) = store.import(target, &files, now)?;
    Ok(Outcome {
        experiment_id,
        name,
        created,
        collections: plan
            .files
            .iter()
            .map(|f| f.export.path.clone())
            .zip(collections)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_ad_keys() {
        assert_eq!(slug("DE - Germany - Hairdresser"), "de-germany-hairdresser");
        assert_eq!(slug("  Truck driver (m/w/d)!"), "truck-driver-m-w-d");
        assert_eq!(slug("Ärztin"), "rztin");
        assert_eq!(slug("???"), "");
        assert_eq!(slug(&"a".repeat(70)).len(), 64);
        assert_eq!(slug(&format!("{}-b", "a".repeat(63))), "a".repeat(63));
        for name in [
            "DE - Germany - Hairdresser",
            "  Truck driver (m/w/d)!",
            "Ärztin",
        ] {
            assert!(adskew_core::experiment::keys::is_key(&slug(name)), "{name}");
        }
    }
}
