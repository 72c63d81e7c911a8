//! The report's folder, `OUT/<experiment name>/`, belongs to one run.
//!
//! Two runs of an experiment share its name, so without care the second report would be
//! written over the first and leave the first run's figures next to the second run's
//! `results.json`: a folder showing a skew beside a run that reached nobody. So the run a
//! folder holds is recorded beside it (`OUT/.<name>.run`, outside the folder, which holds
//! only what was asked for); a report of the same run writes into it
//! (adding formats), a report of another run is built beside it and replaces it whole, and
//! a new folder appears only once complete. A folder adskew did not write is never deleted.
//!
//! The experiment's name becomes a path here, so it is checked as one: a name such as `..`
//! would otherwise put the report outside `OUT`.

use std::path::{Path, PathBuf};

use adskew_core::error::{Error, Result};
use adskew_core::experiment::keys;

/// The file beside a report folder that names the run the folder holds.
fn marker(dir: &Path) -> PathBuf {
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    dir.with_file_name(format!(".{name}.run"))
}

/// Where a report is written, and how it takes its place.
#[derive(Debug)]
pub struct ReportFolder {
    /// `OUT/<name>`: where the report ends up.
    pub dir: PathBuf,
    /// Where it is written: `dir` itself, or a folder beside it that replaces it at the end.
    work: PathBuf,
    run: i64,
    finished: bool,
}

/// Refuses, before anything runs or is spent, an `out` that is a file and a name that is
/// not a safe folder name.
pub fn check_out(out: &Path, name: &str) -> Result<PathBuf> {
    if let Some(reason) = keys::name_problem(name) {
        return Err(Error::BadInput(format!(
            "experiment name {name:?} {reason}, and it names the report's folder; rename it \
             (e.g. \"imana2021-drivers\")"
        )));
    }
    if out.exists() && !out.is_dir() {
        return Err(Error::BadInput(format!(
            "--out {}: is a file, not a folder; give a folder for reports (default: results)",
            out.display()
        )));
    }
    let dir = out.join(name);
    if dir.exists() && !dir.is_dir() {
        return Err(Error::BadInput(format!(
            "{}: is a file, where the report's folder goes; move it, or give another --out",
            dir.display()
        )));
    }
    Ok(dir)
}

impl ReportFolder {
    /// The folder for run `run` of experiment `name` under `out`, ready to be written.
    pub fn prepare(out: &Path, name: &str, run: i64) -> Result<ReportFolder> {
        let dir = check_out(out, name)?;
        let in_place = match holder(&dir)? {
            Holder::Nothing => false,
            Holder::Run(r) => r == run,
            Holder::Unmarked => false,
        };
        let work = if in_place {
            dir.clone()
        } else {
            out.join(format!(".{name}.new-{}", std::process::id()))
        };
        std::fs::create_dir_all(&work)
            .map_err(|e| Error::io(format!("cannot create {}", work.display()), e))?;
        Ok(ReportFolder {
            dir,
            work,
            run,
            finished: false,
        })
    }

    /// Where exporters write.
    pub fn work(&self) -> &Path {
        &self.work
    }

    /// `path` (under [`Self::work`]) as it will be once the folder is in place.
    pub fn final_path(&self, path: &Path) -> PathBuf {
        path.strip_prefix(&self.work)
            .map_or_else(|_| path.to_path_buf(), |rest| self.dir.join(rest))
    }

    /// Marks the folder as the run's and puts it in place (replacing another run's whole).
    pub fn finish(mut self) -> Result<PathBuf> {
        if self.work != self.dir {
            self.replace()?;
        }
        crate::write_file(&marker(&self.dir), format!("{}\n", self.run).as_bytes())?;
        self.finished = true;
        Ok(self.dir.clone())
    }

    fn replace(&self) -> Result<()> {
        let io = |what: &str, e| Error::io(format!("cannot {what} {}", self.dir.display()), e);
        let old = self.dir.with_file_name(format!(
            ".{}.old-{}",
            self.dir.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        let had_old = self.dir.exists();
        if had_old {
            std::fs::rename(&self.dir, &old).map_err(|e| io("move aside", e))?;
        }
        std::fs::rename(&self.work, &self.dir).map_err(|e| io("put in place", e))?;
        if had_old {
            std::fs::remove_dir_all(&old).map_err(|e| io("remove the previous report in", e))?;
        }
        Ok(())
    }
}

impl Drop for ReportFolder {
    /// A report that failed half-way leaves no half-built folder behind.
    fn drop(&mut self) {
        if !self.finished && self.work != self.dir {
            let _ = std::fs::remove_dir_all(&self.work);
        }
    }
}

/// Whose report a folder holds.
enum Holder {
    Nothing,
    Run(i64),
    /// A report from before folders were marked: only files adskew writes.
    Unmarked,
}

fn holder(dir: &Path) -> Result<Holder> {
    if !dir.exists() {
        return Ok(Holder::Nothing);
    }
    if let Ok(text) = std::fs::read_to_string(marker(dir)) {
        if let Ok(run) = text.trim().parse() {
            return Ok(Holder::Run(run));
        }
    }
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !written_by_adskew(&name) {
            return Err(Error::BadInput(format!(
                "{} holds {name:?}, which adskew did not write, so it will not replace that \
                 folder with this report: move it, or give another --out",
                dir.display(),
            )));
        }
    }
    Ok(Holder::Unmarked)
}

/// The names a report folder holds: what the exporters write (and their temporary files).
fn written_by_adskew(name: &str) -> bool {
    matches!(
        name,
        "report.html" | "report.md" | "results.json" | "figures.tex" | "tables" | ".adskew-report"
    ) || [".svg", ".png", ".pdf", ".tmp"]
        .iter()
        .any(|ext| name.ends_with(ext))
}
