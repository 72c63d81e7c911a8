//! `adskew audience upload`: a CSV of people, checked whole, hashed and sent to Meta.

use std::path::Path;
use std::sync::Arc;

use crate::cli::UploadArgs;
use crate::clock::WallClock;
use crate::error::{Error, Result};
use crate::platform::meta::adapter::MetaPlatform;
use crate::platform::meta::audience::{PeopleFile, UploadReport};
use crate::platform::{ObjectId, Platform};
use crate::runtime;
use crate::settings::Settings;
use crate::store::{Store, UploadStart, UploadState};

/// `adskew audience upload`: the whole file checked, then hashed people sent in batches.
pub fn upload(args: UploadArgs) -> Result<()> {
    let db = args.db.path()?;
    // Everything that can be wrong with the input is found before Meta is asked anything.
    let people = PeopleFile::check(&args.file).map_err(|e| Error::BadInput(e.to_string()))?;
    if let Some(id) = args.audience.as_deref() {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(Error::BadInput(format!(
                "--audience `{id}` is not a Meta audience id (digits, as `audience upload` prints)"
            )));
        }
    }
    let meta =
        Settings::load(args.db.config())?.meta_config(std::env::var("ADSKEW_META_TOKEN").ok())?;
    let account = meta.account_node();
    let platform = MetaPlatform::new(meta, Arc::new(WallClock))?;
    let runtime = runtime()?;
    // Nothing is left in a new database if Meta refuses the audience before the upload
    // is recorded.
    super::or_abandon(Store::open(&db)?, |store| {
        runtime.block_on(async {
            let audience = target(&platform, &args, &account).await?;
            let upload = Upload {
                platform: &platform,
                people: &people,
                audience: &audience,
                account: &account,
                name: args.name.as_deref().unwrap_or_default(),
                created: args.audience.is_none(),
            };
            let report = upload.send(store, args.batch_size as usize).await?;
            print_uploaded(&people, &report, &audience, &db);
            Ok(())
        })
    })
}

/// The audience to add to: the one named by `--audience`, or a new one named `--name`.
async fn target(platform: &MetaPlatform, args: &UploadArgs, account: &str) -> Result<ObjectId> {
    if let Some(id) = &args.audience {
        return Ok(ObjectId(id.clone()));
    }
    let name = args.name.as_deref().unwrap_or_default();
    let audience = platform
        .create_custom_audience(name, &args.description)
        .await?;
    println!("Created custom audience {audience} \"{name}\" on {account}.");
    Ok(audience)
}

/// One upload of a people file into an audience, recorded in the store.
struct Upload<'a> {
    platform: &'a MetaPlatform,
    people: &'a PeopleFile,
    audience: &'a ObjectId,
    account: &'a str,
    name: &'a str,
    created: bool,
}

impl Upload<'_> {
    /// Records the upload, sends the people and records how it ended: complete, or failed
    /// with what Meta had received by then.
    async fn send(&self, store: &mut Store, batch_size: usize) -> Result<UploadReport> {
        let upload = store.start_audience_upload(
            &UploadStart {
                platform: "meta",
                account: self.account,
                audience_id: &self.audience.0,
                audience_name: self.name,
                created_audience: self.created,
                file_sha256: &self.people.file_sha256,
                schema: &self.people.schema,
                rows_read: self.people.rows_read,
                rows_skipped: self.people.rows_skipped,
            },
            chrono::Utc::now(),
        )?;
        let outcome = self
            .platform
            .upload_checked(self.audience, self.people, batch_size)
            .await;
        // Provenance of every request (customer-list payloads summarised by their hash).
        store.archive(None, self.platform.name(), &self.platform.take_exchanges())?;
        let now = chrono::Utc::now();
        match outcome {
            Ok(report) => {
                store.finish_audience_upload(upload, &report, UploadState::Complete, None, now)?;
                Ok(report)
            }
            Err(e) => {
                if let Some(done) = e.done() {
                    let cause = e.to_string();
                    store.finish_audience_upload(
                        upload,
                        done,
                        UploadState::Failed,
                        Some(&cause),
                        now,
                    )?;
                }
                Err(e.into())
            }
        }
    }
}

fn print_uploaded(people: &PeopleFile, report: &UploadReport, audience: &ObjectId, db: &Path) {
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
        let more = if report.rows_skipped as usize > lines.len() {
            ", ..."
        } else {
            ""
        };
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
    println!(
        "Meta matches the people within about 24 hours. Recorded in {} (audience_uploads).",
        db.display()
    );
}
