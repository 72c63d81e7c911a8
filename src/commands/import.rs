//! `adskew import`: Ads Manager exports into the store (see [`crate::import`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Result;
use crate::import::{self, Target};
use crate::store::lock::DbLock;
use crate::store::Store;

/// Checks every file, then writes them all in one transaction under the database's lock.
pub fn import(files: &[PathBuf], selector: &str, db: &Path, wait: Duration) -> Result<()> {
    // Everything that can be wrong with the files is found before the database is touched.
    let exports = import::read_all(files)?;
    let _lock = DbLock::acquire(db, wait)?;
    // A database that does not exist yet is created only once the plan holds.
    let existing = if db.is_file() {
        Some(Store::open(db)?)
    } else {
        None
    };
    let plan = import::plan(exports, selector, existing.as_ref())?;
    for note in &plan.notes {
        println!("{note}");
    }
    if plan.files.is_empty() {
        println!("Nothing new to import; {} is unchanged.", db.display());
        return Ok(());
    }
    let store = match existing {
        Some(s) => s,
        None => Store::open(db)?,
    };
    let outcome = super::or_abandon(store, |store| {
        import::apply(&plan, store, chrono::Utc::now())
    })?;
    for (f, (path, collection)) in plan.files.iter().zip(&outcome.collections) {
        println!(
            "{}: snapshot {} (from its {}), {} ad(s), {} row(s) -> collection {collection}",
            path.display(),
            f.export
                .snapshot_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            f.export.snapshot_from.as_str(),
            f.export.ads.len(),
            f.export.rows_read,
        );
    }
    let what = match &plan.target {
        Target::New(exp) => format!(
            "the new experiment {} (run {}; ads {}; breakdowns {})",
            outcome.name,
            outcome.experiment_id,
            exp.ads
                .iter()
                .map(|a| a.key.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            import::breakdowns_of(exp)
        ),
        Target::Existing(_) => format!("{} (run {})", outcome.name, outcome.experiment_id),
    };
    println!(
        "Imported {} file(s) into {what} in {}. Next: `adskew analyze {}`, `adskew report {}`.",
        outcome.collections.len(),
        db.display(),
        outcome.name,
        outcome.name
    );
    Ok(())
}
