//! adskew: measure demographic skew in ad delivery.
//!
//! The data flow is one-directional (see ARCHITECTURE.md):
//!
//! ```text
//! campaigns/*.toml -> experiment -> scheduler -> platform (sim | meta)
//!                                      |
//!                                      v
//!                                    store -> analysis -> report
//! ```
//!
//! `main.rs` only parses the command line and maps errors to exit codes; everything else
//! lives here so it can be tested without spawning a process.

pub mod analysis;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod error;
pub mod experiment;
pub mod import;
pub mod mockapi;
pub mod money;
pub mod plan;
pub mod platform;
pub mod report;
pub mod scheduler;
pub mod settings;
pub mod store;
pub mod vocab;

/// The adskew version recorded in the store and in every report.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
