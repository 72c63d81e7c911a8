//! adskew: measure demographic skew in ad delivery.
//!
//! This crate is the command line: [`cli`] (the clap definitions), [`commands`] (one
//! function per command, in terms of the crates below), [`plan`] (power by replicated
//! simulation) and [`counts`] (a counts file read for `analyze --counts`). The work is done
//! in the workspace's crates, one step of the data flow each (ARCHITECTURE.md has the
//! graph):
//!
//! ```text
//! adskew-core ─┬─ adskew-store ─┬─ adskew-scheduler ─┐
//!              │                ├─ adskew-report ────┤
//!              │                └─ adskew-meta ──────┼─ adskew (this crate)
//!              ├─ adskew-sim ───── adskew-mock ──────┘
//! ```
//!
//! The crates are re-exported under the module names they had when adskew was one crate,
//! so `adskew::store::Store` or `adskew::platform::meta::adapter::MetaPlatform` name the
//! same thing from outside.

pub use adskew_core::{
    analysis, clock, count, digest, error, experiment, money, records, vocab, VERSION,
};
pub use adskew_meta::{import, settings};
pub use adskew_mock as mockapi;
pub use adskew_report as report;
pub use adskew_scheduler as scheduler;
pub use adskew_store as store;

/// The neutral platform interface and its implementations.
pub mod platform {
    pub use adskew_core::platform::*;
    pub use adskew_meta as meta;
    pub use adskew_sim as sim;
}

/// The async runtime every command that talks to a platform runs on: one thread, because a
/// command does one thing at a time (`plan` starts one per worker thread), with I/O and timers
/// enabled for HTTP and the rate limiter. One builder, so every command fails to start it with
/// the same error.
pub fn runtime() -> error::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| error::Error::io("cannot start the async runtime", e))
}

/// The inputs of an analysis of run `record`: what the store holds and, for a simulated
/// run, the simulator's eligible audience (the null of its goodness-of-fit tests), which
/// only adskew-sim can read from the experiment's `[sim]`.
pub fn analysis_inputs(
    store: &store::Store,
    record: &records::ExperimentRecord,
) -> error::Result<analysis::Inputs> {
    with_platform_eligible(store.analysis_inputs(record)?)
}

/// [`analysis_inputs`] with each collection's totals, for a report
/// (`store::Store::report_inputs`).
pub fn report_inputs(
    store: &store::Store,
    record: &records::ExperimentRecord,
) -> error::Result<analysis::Inputs> {
    with_platform_eligible(store.report_inputs(record)?)
}

/// What the simulator knows of who was eligible, for a run on it.
fn with_platform_eligible(mut inputs: analysis::Inputs) -> error::Result<analysis::Inputs> {
    if inputs.experiment.platform == vocab::PlatformKind::Sim {
        inputs.platform_eligible = platform::sim::truth_of(&inputs.experiment)?.eligible();
    }
    Ok(inputs)
}

pub mod alerts;
pub mod cli;
pub mod commands;
pub mod counts;
pub mod plan;
