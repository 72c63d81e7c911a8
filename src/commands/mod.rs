//! What each command does, one file per command, in terms of the workspace's crates.
//! `execute` only dispatches; `main` only maps the outcome to an exit code.

mod adjust;
mod analyze;
mod audience;
mod completions;
mod connect;
mod doctor;
mod import;
mod logging;
mod mock_server;
mod plan;
mod report;
mod run;
mod runs;
mod status;
mod validate;

use std::path::Path;

use crate::cli::{AudienceCommand, Cli, Command};
use crate::error::Result;
use crate::experiment::{self, Experiment};

pub use logging::init_logging;

/// Runs the command the user gave.
pub fn execute(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Validate(args) => validate::execute(args),
        Command::Run(args) => run::execute(args),
        Command::Analyze(args) => analyze::execute(args),
        Command::Adjust(args) => adjust::execute(args),
        Command::Report(args) => report::execute(args),
        Command::Import(args) => import::execute(args),
        Command::Plan(args) => plan::execute(args),
        Command::Doctor(args) => doctor::execute(args),
        Command::MockServer(args) => mock_server::execute(args),
        Command::Status(args) => status::execute(args),
        Command::Collect(args) => runs::collect(args),
        Command::Resume(args) => runs::resume(args),
        Command::Stop(args) => runs::stop(args),
        Command::Daemon(args) => runs::daemon(args),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
        Command::Audience {
            command: AudienceCommand::Upload(args),
        } => audience::upload(args),
    }
}

/// The experiment in `file`, validated whole: the core's rules and adskew-sim's of `[sim]`.
/// The experiment in `file`, validated whole: the core's rules and adskew-sim's of `[sim]`.
fn load(file: &Path) -> Result<Experiment> {
    let loaded = experiment::load(file, &[crate::platform::sim::check])?;
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(loaded.experiment)
}

fn humanize(d: chrono::TimeDelta) -> String {
    let hours = d.num_hours();
    if hours % 24 == 0 {
        format!("{} day{}", hours / 24, if hours == 24 { "" } else { "s" })
    } else {
        format!("{hours} hours")
    }
}

/// Prints `value` as pretty JSON on stdout: the `--json` of every command.
fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| crate::error::Error::BadInput(format!("cannot write JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

/// `f` on a database a writing command opened; when `f` fails, a database this command
/// created and left without a record is removed, so a refused command leaves nothing behind.
pub(crate) fn or_abandon<T>(
    mut store: crate::store::Store,
    f: impl FnOnce(&mut crate::store::Store) -> Result<T>,
) -> Result<T> {
    let result = f(&mut store);
    if result.is_err() {
        store.abandon();
    }
    result
}
