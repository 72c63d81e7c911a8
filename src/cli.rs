//! The command line, as clap derives it. Help texts here are the user's manual at hand:
//! they say what each command does, what it writes and what it costs.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "adskew",
    version,
    about = "Measure demographic skew in ad delivery",
    long_about = "adskew runs ad-delivery audits end to end: it reads an experiment written in TOML, \
launches its ads together with identical targeting, collects delivery breakdowns (gender, age, \
region) into SQLite, tests for skew (chi-square, two-proportion z) and writes charts and tables \
for a paper.\n\nThe default platform is a simulator: no account, no token, no network, no money.",
    after_help = "Examples:\n  adskew validate campaigns/imana2021_paired_jobs.toml\n  adskew run campaigns/imana2021_paired_jobs.toml\n  adskew status\n  adskew analyze imana2021-paired-jobs --json\n\nExit codes: 0 ok; 2 bad input (nothing was created, spent or written); 1 failure while running.\nLogs: set RUST_LOG (e.g. RUST_LOG=adskew=debug) or pass -v."
)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by commands that use the database.
#[derive(Debug, clap::Args)]
pub struct DbArgs {
    /// The SQLite database that holds runs and delivery snapshots.
    #[arg(
        long,
        env = "ADSKEW_DB",
        default_value = "results/adskew.db",
        value_name = "PATH"
    )]
    pub db: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check an experiment file and report every problem at once (writes nothing).
    ///
    /// Each problem names its field path (e.g. `ads[2].daily_budget`) and a hint.
    /// Exit code 2 if the file is invalid. Warnings (e.g. a spend cap the budgets would
    /// exceed) do not fail validation.
    Validate {
        /// The experiment file (TOML).
        file: PathBuf,
    },

    /// Launch an experiment, collect delivery to the end, analyse it and write the report.
    ///
    /// On the simulator (platform = "sim") time is simulated: a 14-day experiment runs in
    /// seconds. All ads are created paused and activated together; delivery is collected
    /// every `schedule.collect_every_hours`; every ad is paused at the end or when the
    /// spend cap is reached. The report goes to OUT/<experiment name>/.
    Run {
        /// The experiment file (TOML).
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
        /// Directory for reports; each experiment gets a subdirectory.
        #[arg(long, default_value = "results", value_name = "DIR")]
        out: PathBuf,
        /// Do not show a progress bar.
        #[arg(long)]
        quiet: bool,
    },

    /// Analyse a stored run and print the results (text, or JSON with --json).
    ///
    /// EXPERIMENT is a run id or an experiment name (the latest run with that name).
    /// Reads only the database; never talks to a platform.
    Analyze {
        /// Run id or experiment name.
        experiment: String,
        #[command(flatten)]
        db: DbArgs,
        /// Print every number as JSON (the same document as results.json).
        #[arg(long)]
        json: bool,
    },

    /// Regenerate the report of a stored run (report.md, results.json, charts).
    ///
    /// Reads only the database; never talks to a platform.
    Report {
        /// Run id or experiment name.
        experiment: String,
        #[command(flatten)]
        db: DbArgs,
        /// Directory for reports; the run gets a subdirectory named after the experiment.
        #[arg(long, default_value = "results", value_name = "DIR")]
        out: PathBuf,
    },

    /// List stored runs: state, spend against cap, collections.
    Status {
        #[command(flatten)]
        db: DbArgs,
    },
}
