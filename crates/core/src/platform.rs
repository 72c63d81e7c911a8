//! The seam between adskew and an ad platform.
//!
//! The scheduler talks to every platform through [`Platform`] and knows nothing else about
//! it. The trait speaks in platform-neutral terms (campaign, ad set, creative, ad, a
//! breakdown of delivery over dates); Meta's names for these live in the Meta adapter, so
//! LinkedIn or Google Ads can be added as further implementations.
//!
//! Implementations: `adskew_sim::SimPlatform` (the default and the test double) and
//! `adskew_meta::adapter::MetaPlatform` (Meta's Graph API over HTTP).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::experiment::Audience;
use crate::money::Money;
pub use crate::vocab::Period;
use crate::vocab::{AdCategory, Breakdown, Objective};

/// A platform's identifier for an object it created.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectId(pub String);

impl std::fmt::Display for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Paused,
    Active,
}

/// A container for the ads of one experiment.
#[derive(Debug, Clone)]
pub struct CampaignSpec {
    /// Names embed the experiment and an idempotency key so objects can be found again.
    pub name: String,
    pub objective: Objective,
    pub category: AdCategory,
    /// The countries the campaign's ads run in (ISO 3166-1 alpha-2), from the experiment's
    /// audience. A platform that regulates categories by country (housing, employment and
    /// credit ads) needs them on the campaign, before any ad set names its audience.
    pub countries: Vec<String>,
    /// A cap the platform itself enforces on the campaign's total spend: a backstop that
    /// stops spending even when no collector runs to pause the ads at the experiment's cap.
    pub spend_cap: Option<Money>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetSpec {
    Daily(Money),
    Lifetime(Money),
}

/// Targeting, budget and schedule; one per ad so every ad has the same budget.
#[derive(Debug, Clone)]
pub struct AdSetSpec {
    pub campaign: ObjectId,
    pub name: String,
    pub budget: BudgetSpec,
    pub audience: Audience,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The design partition the ad set runs in, if the experiment has a design. A real
    /// platform reaches it through the audience (the partition's custom audience); the
    /// simulator delivers to the partition's share of its people.
    pub partition: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CreativeSpec {
    /// The experiment's key for this ad. Platforms may embed it in names to find objects
    /// again; the simulator uses it to look up the creative's ground-truth engagement,
    /// standing in for what a real platform infers from the image and text.
    pub key: String,
    pub name: String,
    pub headline: String,
    pub body: String,
    pub image: Option<String>,
    pub link: String,
}

#[derive(Debug, Clone)]
pub struct AdSpec {
    pub ad_set: ObjectId,
    pub creative: ObjectId,
    pub name: String,
}

/// Any object's spec, for finding an object again or re-introducing one to an adapter.
#[derive(Debug, Clone, Copy)]
pub enum ObjectSpec<'a> {
    Campaign(&'a CampaignSpec),
    AdSet(&'a AdSetSpec),
    Creative(&'a CreativeSpec),
    Ad(&'a AdSpec),
}

impl ObjectSpec<'_> {
    /// The object's name, which embeds its run and ad key, so it is unique per run.
    pub fn name(&self) -> &str {
        match self {
            ObjectSpec::Campaign(s) => &s.name,
            ObjectSpec::AdSet(s) => &s.name,
            ObjectSpec::Creative(s) => &s.name,
            ObjectSpec::Ad(s) => &s.name,
        }
    }

    /// `campaign`, `ad_set`, `creative` or `ad`.
    pub fn role(&self) -> &'static str {
        match self {
            ObjectSpec::Campaign(_) => "campaign",
            ObjectSpec::AdSet(_) => "ad_set",
            ObjectSpec::Creative(_) => "creative",
            ObjectSpec::Ad(_) => "ad",
        }
    }
}

/// Delivery of some ads split by one breakdown over an inclusive date range.
#[derive(Debug, Clone)]
pub struct DeliveryQuery {
    pub ads: Vec<ObjectId>,
    pub breakdown: Breakdown,
    pub since: NaiveDate,
    pub until: NaiveDate,
    pub granularity: Period,
}

/// One reported row: an ad's delivery to one breakdown value over `date_start..=date_stop`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub ad: ObjectId,
    pub date_start: NaiveDate,
    pub date_stop: NaiveDate,
    pub breakdown: Breakdown,
    /// The breakdown value as the platform reports it ("female", "25-34", a region name);
    /// values adskew does not know are kept, not dropped.
    pub value: String,
    pub reach: u64,
    pub impressions: u64,
    pub clicks: u64,
    pub spend: Money,
}

/// What an ad account is set up with.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountInfo {
    /// The account's time zone decides what a day is: daily budgets and reported days.
    pub time_zone: chrono_tz::Tz,
    /// ISO 4217, when the platform says (amounts are in its minor unit).
    pub currency: Option<String>,
}

/// How the platform currently sees an ad: whether it delivers, the platform's own status
/// and, when review or delivery checks found a problem, the platform's words for it. A
/// rejected ad delivers nothing; the report must say so rather than show it as merely small.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdReview {
    pub ad: ObjectId,
    /// Whether the platform shows the ad, in adskew's words.
    pub delivery: Delivery,
    /// The platform's own word for it (Meta's `effective_status`), kept for the record.
    pub platform_status: String,
    /// The platform's review feedback or delivery issue.
    pub problem: Option<String>,
}

crate::vocabulary!(
    /// Whether a platform shows an ad: what adskew decides on, whatever the platform calls
    /// it (each adapter maps its own statuses to these).
    Delivery {
        Delivering => "delivering",
        Paused => "paused",
        InReview => "in_review",
        Rejected => "rejected",
        // Delivering with issues, or only partly.
        Limited => "limited",
        // Held by the account (billing), not the ad.
        Blocked => "blocked",
        Other => "other",
    }
);

impl AdReview {
    /// Whether the platform refuses or limits the ad (as opposed to it being paused).
    pub fn is_problem(&self) -> bool {
        self.problem.is_some() || self.delivery.is_problem()
    }
}

impl Delivery {
    /// Whether the platform refuses or limits delivery (as opposed to it being paused).
    pub fn is_problem(self) -> bool {
        matches!(
            self,
            Delivery::Rejected | Delivery::Limited | Delivery::Blocked
        )
    }
}

/// One request to a platform's API and its answer, kept for provenance. Credentials are
/// redacted by the adapter before an `Exchange` exists. The same type goes into the store's
/// archive (`Store::archive`) and comes back out of it (`Store::api_calls`, bodies checked
/// against their hashes; `at` to the second, as the store keeps times).
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    /// The machine's clock when the request left.
    pub at: DateTime<Utc>,
    pub elapsed_ms: u64,
    pub method: String,
    pub url: String,
    /// The request's parameters as a JSON object.
    pub request: String,
    /// HTTP status; 0 when no response arrived.
    pub status: u16,
    pub trace_id: Option<String>,
    pub response: Vec<u8>,
    /// The transport error, when there was no response.
    pub error: Option<String>,
}

/// Why a platform call failed, sorted by what a caller can do about it. Each adapter maps
/// its platform's own errors onto these kinds in one place (Meta's Graph error classes:
/// `adskew_meta::error::GraphError::to_platform`); the kind travels unchanged inside
/// [`crate::error::Error::Platform`] to `main` and its exit code.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// The adapter was never told of this object (not created or recorded by this run).
    #[error("unknown object {0}")]
    UnknownObject(ObjectId),
    /// An object the run recorded is no longer on the platform (deleted there?).
    #[error("{message}")]
    NotFound { object: ObjectId, message: String },
    /// The platform rate-limits the account and the retries did not outlast it; a later
    /// pass may succeed. `retry_after` is when the platform said its quota comes back.
    #[error("{message}")]
    Throttled {
        retry_after: Option<std::time::Duration>,
        message: String,
    },
    /// A temporary failure that outlasted the retries: no answer, a bare 5xx, a truncated
    /// body, the platform's own transient errors, a report job that did not finish in time.
    /// A later pass may succeed.
    #[error("{0}")]
    Transient(String),
    /// The access token is invalid or expired: nothing succeeds until a new one is set.
    /// The one kind with its own exit code ([`crate::error::EXIT_TOKEN`]).
    #[error("{0}")]
    Token(String),
    /// The token or the app lacks a permission, or terms were not accepted: a person must
    /// grant it; retrying cannot help.
    #[error("{0}")]
    Permission(String),
    /// The platform refused the request as written (a parameter, a value), or the adapter
    /// refused it first by the platform's rules; the same request fails again. `fields` are
    /// the parameters blamed (`targeting.age_min`), when known.
    #[error("{message}")]
    Rejected {
        fields: Vec<String>,
        message: String,
    },
    /// An answer that is not what the API promises: a field missing, a value adskew cannot
    /// read, a row for something not asked about, a URL to elsewhere.
    #[error("{0}")]
    Protocol(String),
    /// The account holds something that contradicts the run's records (several objects
    /// with the one name a run gives an object); a person must clean it up.
    #[error("{0}")]
    Conflict(String),
    /// The adapter's settings are unusable (a base URL that is not https or loopback).
    #[error("{0}")]
    Config(String),
    /// A local file the adapter sends (an ad image) could not be read.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// An error in none of the kinds above: a platform error code adskew does not classify
    /// (Meta's error reference has it), or a request adskew will not send twice.
    #[error("{0}")]
    Other(String),
}

impl PlatformError {
    /// A refusal that blames no particular field.
    pub fn rejected(message: impl Into<String>) -> PlatformError {
        PlatformError::Rejected {
            fields: Vec::new(),
            message: message.into(),
        }
    }

    /// Whether the same request may succeed later (throttling, transient failures).
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            PlatformError::Throttled { .. } | PlatformError::Transient(_)
        )
    }
}

/// What the scheduler needs from an ad platform.
#[async_trait]
pub trait Platform: Send + Sync {
    /// A short name for logs and the store ("sim", "meta").
    fn name(&self) -> &'static str;
    /// The platform's current time (simulated platforms have their own clock).
    fn now(&self) -> DateTime<Utc>;

    async fn create_campaign(&self, spec: &CampaignSpec) -> Result<ObjectId, PlatformError>;
    async fn create_ad_set(&self, spec: &AdSetSpec) -> Result<ObjectId, PlatformError>;
    async fn create_creative(&self, spec: &CreativeSpec) -> Result<ObjectId, PlatformError>;
    /// Ads are always created paused; [`Platform::set_status`] activates them.
    async fn create_ad(&self, spec: &AdSpec) -> Result<ObjectId, PlatformError>;
    async fn set_status(&self, object: &ObjectId, status: Status) -> Result<(), PlatformError>;
    /// [`Platform::set_status`] for many objects; platforms that can (Meta's batch requests)
    /// send them in few requests. Every object ends in `status`, or the call fails.
    async fn set_statuses(
        &self,
        objects: &[ObjectId],
        status: Status,
    ) -> Result<(), PlatformError> {
        for object in objects {
            self.set_status(object, status).await?;
        }
        Ok(())
    }
    /// Finds an object created earlier under exactly this spec's name, for crash recovery:
    /// a create call may have succeeded without its answer being recorded. A found object
    /// is remembered as by [`Platform::remember`].
    async fn find(&self, spec: ObjectSpec<'_>) -> Result<Option<ObjectId>, PlatformError>;
    /// Creates objects in few requests where the platform can (Meta's batch requests, for
    /// creatives and ads): each answer is the new object's id, or `None` where the platform
    /// did not confirm one, which the caller then finds by name or creates alone. The
    /// default creates nothing and answers `None` for every spec.
    async fn create_many(
        &self,
        specs: &[ObjectSpec<'_>],
    ) -> Result<Vec<Option<ObjectId>>, PlatformError> {
        Ok(vec![None; specs.len()])
    }
    /// Tells the adapter about an object an earlier process created (its id is in the
    /// store), so that a resumed run can use it.
    fn remember(&self, _spec: ObjectSpec<'_>, _id: &ObjectId) {}
    async fn delivery(&self, query: &DeliveryQuery) -> Result<Vec<DeliveryRow>, PlatformError>;
    /// [`Platform::delivery`] of each query, answered in the queries' order (the rows of
    /// each exactly as `delivery` gives them). Platforms whose reads wait on the network
    /// (Meta's pages, each cursor taken from the answer before) read the queries side by
    /// side, so one query's round trips overlap another's; the default reads them one
    /// after another. The first failure in the queries' order is the answer.
    async fn deliveries(
        &self,
        queries: &[DeliveryQuery],
    ) -> Result<Vec<Vec<DeliveryRow>>, PlatformError> {
        let mut out = Vec::with_capacity(queries.len());
        for query in queries {
            out.push(self.delivery(query).await?);
        }
        Ok(out)
    }
    /// The account's time zone and currency.
    async fn account(&self) -> Result<AccountInfo, PlatformError> {
        Ok(AccountInfo {
            time_zone: chrono_tz::UTC,
            currency: None,
        })
    }
    /// The effective status and any review problem of each of these ads.
    async fn ad_reviews(&self, ads: &[ObjectId]) -> Result<Vec<AdReview>, PlatformError>;
    /// Total spend of a campaign so far.
    async fn spend(&self, campaign: &ObjectId) -> Result<Money, PlatformError>;
    /// The API exchanges made since the last call, for the store's archive: every request
    /// that could create, change or spend is kept (invariant "nothing lost"), whatever the
    /// platform. In-process platforms make none.
    fn take_exchanges(&self) -> Vec<Exchange> {
        Vec::new()
    }
}
