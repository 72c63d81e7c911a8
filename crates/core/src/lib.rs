//! adskew's core: the words, money and time every other crate shares, the experiment and
//! its validation, the neutral platform interface, what a run leaves behind, and the
//! statistics over it.
//!
//! It knows no particular platform, reads no store and writes no file but the experiment
//! it is asked to load; every other crate depends on it and it depends on none of them
//! (ARCHITECTURE.md has the crate graph).

pub mod alerts;
pub mod analysis;
pub mod clock;
pub mod count;
pub mod digest;
pub mod due;
pub mod error;
pub mod experiment;
pub mod money;
pub mod platform;
pub mod records;
pub mod text;
pub mod vocab;

/// The adskew version recorded in the store and in every report.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// For [`vocabulary!`], which other crates expand too.
#[doc(hidden)]
pub use serde as __serde;
