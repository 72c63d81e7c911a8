//! `adskew audience upload`: a CSV of people, checked whole, hashed and sent to Meta.

use std::path::Path;
use std::sync::Arc;

use crate::cli::UploadArgs;
use crate::clock::WallClock;
use crate::error::{Error, Result};
use crate::platform::meta::adapter::MetaPlatform;
use crate::platform::Platform;
use crate::runtime;
use crate::settings::Settings;
use crate::store::Store;

/// `adskew audience upload`: the whole file checked, then hashed people sent in batches.
pub fn upload(args: UploadArgs) -> Result<()> {
    let db = args.db.path()?;
    audience_upload(
        &args.file,
        args.name.as_deref(),
        &args.description,
        args.audience.as_deref(),
        args.batch_size as usize,
        &db,
        args.db.config(),
    )
}

fn audience_upload(
    file: &Path,
    name: Option<&str>,
    description: &str,
    existing: Option<&str>,
    batch_size: usize,
    db: &Path,
    config: Option<&Path>,
) -> Result<()> {
    use crate::platform::meta::audience::PeopleFile;
    use crate::platform::ObjectId;
    use crate::store::{UploadStart, UploadState};

    // Everything that can be wrong with the input is found before Meta is asked anything.
    let people = PeopleFile::check(file).map_err(|e| Error::BadInput(e.to_string()))?;
    if let Some(id) = existing {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(Error::BadInput(format!(
                "--audience `{id}` is not a Meta audience id (digits, as `audience upload` prints)"
            )));
        }
    }
    let meta = Settings::load(config)?.meta_config(std::env::var("ADSKEW_META_TOKEN").ok())?;
    let account = meta.account_node();
    let platform = MetaPlatform::new(meta, Arc::new(WallClock))?;
    let runtime = runtime()?;
    // Nothing is left in a new database if Meta refuses the audience before the upload
    // is recorded.
    super::or_abandon(Store::open(db)?, |store| {
        runtime.block_on(async {
        let (audience, created) = match existing {
            Some(id) => (ObjectId(id.to_string()), false),
            None => {
                let name = name.unwrap_or_default();
                (platform.create_custom_audience(name, description).await?, true)
            }
        };
        if created {
            println!(
                "Created custom audience {audience} \"{}\" on {account}.",
                name.unwrap_or_default()
            );
        }
        let upload = store.start_audience_upload(
            &UploadStart {
                platform: "meta",
                account: &account,
                audience_id: &audience.0,
                audience_name: name.unwrap_or_default(),
                created_audience: created,
                file_sha256: &people.file_sha256,
                schema: &people.schema,
                rows_read: people.rows_read,
                rows_skipped: people.rows_skipped,
            },
            chrono::Utc::now(),
        )?;
        let outcome = platform.upload_checked(&audience, &people, batch_size).await;
        // Provenance of every request (customer-list payloads summarised by their hash).
        store.archive(None, platform.name(), &platform.take_exchanges())?;
        let report = match outcome {
            Ok(report) => report,
            Err(e) => {
                if let Some(done) = e.done() {
                    store.finish_audience_upload(
                        upload,
                        done,
                        UploadState::Failed,
                        Some(&e.to_string()),
                        chrono::Utc::now(),
                    )?;
                }
                return Err(e.into());
            }
        };
        store.finish_audience_upload(
            upload,
            &report,
            UploadState::Complete,
            None,
            chrono::Utc::now(),
        )?;
        println!(
            "Uploaded {} of {} people in {} batch(es) (session {}, columns {}): Meta received {}, {} invalid.",
            people.rows_usable,
            people.rows_read,
            report.batches,
            report.session_id,
            report.schema.join(","),
            report.num_received,
            report.num_invalid_entries
        );
        if report.rows_skipped > 0 {
            let lines: Vec<String> = report.skipped_lines.iter().map(u64::to_string).collect();
            let more = if report.rows_skipped as usize > lines.len() { ", ..." } else { "" };
            println!(
                "Skipped {} line(s) with no valid value (line {}{more}).",
                report.rows_skipped,
                lines.join(", ")
            );
        }
        if report.cells_blanked > 0 {
            println!(
                "{} value(s) were not valid for their column and were sent empty.",
                report.cells_blanked
            );
        }
        println!("To target these people, put the id in the experiment file:\n  [audience]\n  custom_audience = \"{audience}\"");
        println!("Meta matches the people within about 24 hours. Recorded in {} (audience_uploads).", db.display());
        Ok(())
    })
    })
}
