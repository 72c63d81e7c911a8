//! Everything adskew knows about Meta: the Marketing API adapter, custom audiences, images,
//! the account settings, `adskew doctor`, and the import of Ads Manager exports. No other
//! crate holds a Meta string but the mock server that imitates Meta (`adskew-mock`).
//!
//!
//! - [`adapter`]: `MetaPlatform`, the `Platform` trait over HTTP (reqwest, rustls): objects
//!   created PAUSED, status changes, ad-level insights per breakdown with paging, spend,
//!   bounded retries of throttling/transient errors, the token kept out of errors;
//! - [`hashing`]: customer-list normalisation and SHA-256;
//! - [`audience`]: customer-list custom audiences from a CSV of people (checked whole, hashed,
//!   sent in sessions of batches of at most 10,000);
//! - [`batch`]: batch requests (status changes of a launch go 50 at a time);
//! - [`creative`]: Advantage+ creative enhancements switched off, feature by feature, and
//!   checked after creation;
//! - [`images`]: local image files uploaded once to `adimages` and used by `image_hash`;
//! - [`error`]: the Graph error envelope and what to do about each code;
//! - [`usage`]: rate-limit usage headers;
//! - [`versions`]: Graph API versions and when Meta retires them;
//! - [`dsa`]: which targeting needs the EU's DSA beneficiary and payor;
//! - [`doctor`]: `adskew doctor`'s checks of the token, account, page, DSA, version and tier;
//! - [`preflight`]: what would make Meta refuse a launch halfway, checked before anything
//!   is created.
//!
//! - [`settings`]: the account settings file and the token;
//! - [`import`]: Ads Manager exports into the store.
//!
//! Tested against `adskew-mock` on 127.0.0.1. `adskew run --live` uses it for
//! `platform = "meta"` (without `--live`: a dry run).
//!
//! Wire facts follow `shared/research/meta-marketing-api.md` (sections 3.3, 5 and 6).

pub mod adapter;
pub mod audience;
pub mod batch;
pub mod creative;
pub mod doctor;
pub mod dsa;
pub mod error;
pub mod hashing;
pub mod images;
pub mod import;
pub mod input;
mod pacing;
pub mod preflight;
pub mod settings;
pub mod usage;
pub mod versions;
