//! The Meta Marketing API adapter (issue #4), built bottom-up. Present so far, all pure and
//! unit-tested: [`hashing`] (customer-list normalisation and SHA-256), [`error`] (the Graph
//! error envelope and what to do about each code) and [`usage`] (rate-limit usage headers).
//! The HTTP client, the `Platform` implementation and the mock server come next; until then
//! `platform = "meta"` is refused before anything is created.
//!
//! Wire facts follow `shared/research/meta-marketing-api.md` (sections 3.3, 5 and 6).

pub mod error;
pub mod hashing;
pub mod usage;
