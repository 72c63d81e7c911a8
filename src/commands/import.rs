//! `adskew import`: Ads Manager exports into the store (see [`crate::import`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::cli::ImportArgs;
use crate::error::Result;
use crate::import::{self, Target};
use crate::store::lock::DbLock;
use crate::store::Store;

/// What an import did, as `import --json` prints it.
#[derive(Debug, Default, Serialize)]
struct Imported {
    /// Files skipped and why (already imported, a totals row left out, ...).
    notes: Vec<String>,
    /// The run the files went into; `None` when there was nothing new.
    run: Option<i64>,
    experiment: Option<String>,
    files: Vec<ImportedFile>,
}

#[derive(Debug, Serialize)]
struct ImportedFile {
    file: String,
    snapshot_at: String,
    /// Where the snapshot time came from: the file's name or its modification time.
    snapshot_from: String,
    ads: usize,
    rows: u64,
    collection: i64,
}

pub fn execute(args: ImportArgs) -> Result<()> {
    let db = args.db.path()?;
    let wait = Duration::from_secs(args.lock.wait);
    let json = args.output.json;
    let imported = import(&args.files, &args.experiment, &db, wait, json)?;
    if json {
        super::print_json(&imported)?;
    }
    Ok(())
}

/// Checks every file, then writes them all in one transaction under the database's lock;
/// says what it did as it goes unless the whole is printed as JSON.
fn import(
    files: &[PathBuf],
    selector: &str,
    db: &Path,
    wait: Duration,
    json: bool,
) -> Result<Imported> {
    let say = |line: &str| {
        if !json {
            println!("{line}");
        }
    };
    // Everything that can be wrong with the files is found before the database is touched.
    let now = chrono::Utc::now();
    let exports = import::read_all(files, now)?;
    let _lock = DbLock::acquire(db, wait)?;
    // A database that does not exist yet is created only once the plan holds.
    let existing = if db.is_file() {
        Some(Store::open(db)?)
    } else {
        None
    };
    let plan = import::plan(exports, selector, existing.as_ref())?;
    let mut imported = Imported {
        notes: plan.notes.clone(),
        ..Imported::default()
    };
    plan.notes.iter().for_each(|note| say(note));
    if plan.files.is_empty() {
        say(&format!(
            "Nothing new to import; {} is unchanged.",
            db.display()
        ));
        return Ok(imported);
    }
    let store = match existing {
        Some(s) => s,
        None => Store::open(db)?,
    };
    let outcome = super::or_abandon(store, |store| {
        import::apply(&plan, store, chrono::Utc::now())
    })?;
    for file in stored_files(&plan, &outcome) {
        say(&format!(
            "{}: snapshot {} (from its {}), {} ad(s), {} row(s) -> collection {}",
            file.file, file.snapshot_at, file.snapshot_from, file.ads, file.rows, file.collection,
        ));
        imported.files.push(file);
    }
    say(&format!(
        "Imported {} file(s) into {} in {}. Next: `adskew analyze {}`, `adskew report {}`.",
        outcome.collections.len(),
        into_what(&plan, &outcome),
        db.display(),
        outcome.name,
        outcome.name
    ));
    imported.run = Some(outcome.experiment_id);
    imported.experiment = Some(outcome.name);
    Ok(imported)
}

/// Each file stored, with its snapshot and the collection it became.
fn stored_files(plan: &import::Plan, outcome: &import::Outcome) -> Vec<ImportedFile> {
    plan.files
        .iter()
        .zip(&outcome.collections)
        .map(|(f, (path, collection))| ImportedFile {
            file: path.display().to_string(),
            snapshot_at: f
                .export
                .snapshot_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            snapshot_from: f.export.snapshot_from.as_str().to_string(),
            ads: f.export.ads.len(),
            rows: f.export.rows_read,
            collection: *collection,
        })
        .collect()
}

/// The run the files went into, as the summary names it.
fn into_what(plan: &import::Plan, outcome: &import::Outcome) -> String {
    match &plan.target {
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
    }
}
