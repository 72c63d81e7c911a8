//! Analysis: pure functions from stored counts (and the experiment) to test results.
//!
//! [`Inputs::load`] reads what a run stored; [`analyze`] turns it into an [`Analysis`]
//! without touching the store or the platform, so the same inputs always give the same
//! numbers. Reports render an [`Analysis`]; they never compute statistics themselves.
//!
//! For each comparison and breakdown: the contingency table (ads × groups, "unknown" gender
//! kept apart and excluded from the test unless the experiment says otherwise), Pearson's
//! chi-square test of independence, each ad's share of each group with a CI; for two-ad
//! comparisons also the pooled two-proportion z-test of the expected group's share
//! (one-sided when a direction was pre-registered). All p-values of an experiment are
//! corrected together.

pub mod chisq;
pub mod ci;
pub mod correction;
pub mod design;
pub mod fisher;
pub mod gtest;
pub mod power;
pub mod sequential;
pub mod ztest;

use std::collections::BTreeMap;

use serde::Serialize;

use self::chisq::{chi_square_independence, ChiSquareResult};
use self::ztest::{two_proportion_z, Alternative, ZTestResult};
use crate::count;
use crate::experiment::{AnalysisSettings, Comparison, Expected, ExpectedComposition, Experiment};
use crate::money::Money;
use crate::platform::Delivery;
use crate::records::{
    CollectionRecord, ExperimentRecord, RunOrigin, RunState, StoredReview, StoredRow,
};
use crate::vocab::{AgeBucket, Breakdown, Gender, Metric, DEFAULT_GROUP};

/// See [`Analysis::results_format`].
pub const RESULTS_FORMAT: u32 = 1;

/// Everything an analysis reads: the run's record, its experiment, and its latest totals.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub record: ExperimentRecord,
    pub experiment: Experiment,
    pub collections: Vec<CollectionRecord>,
    /// Latest since-launch totals, per breakdown.
    pub totals: BTreeMap<Breakdown, Vec<StoredRow>>,
    /// The platform's latest (effective status, problem) per ad key.
    pub reviews: BTreeMap<String, StoredReview>,
    /// Why the run is in its state (the cause recorded with its last state change).
    pub state_cause: Option<String>,
    /// For designs with partitions: the unpooled totals (`ad@partition`), race included.
    pub partition_totals: BTreeMap<Breakdown, Vec<StoredRow>>,
    /// What the platform itself knows of who was eligible, per breakdown: the simulator
    /// knows its world; a real platform says nothing (empty). The core knows no platform,
    /// so whoever does fills it (the command line, from adskew-sim); `[analysis.expected]`
    /// and `--expected` come first.
    pub platform_eligible: BTreeMap<Breakdown, ExpectedComposition>,
    /// The anytime-valid looks stored with the last collection ([`sequential`]), which the
    /// store fills in; none for counts that were not collected night by night.
    pub looks: Vec<sequential::Look>,
    /// The end of the settled period those looks were computed on.
    pub looks_as_of: Option<chrono::DateTime<chrono::Utc>>,
    /// Each collection's since-launch totals per breakdown, `(collection id, row)` in
    /// collection order, as stored (partitions unpooled): not tested, but read with the
    /// latest totals for a report's charts over time when asked for (the store's
    /// `report_inputs`); `None` when not read.
    pub history: Option<BTreeMap<Breakdown, Vec<(i64, StoredRow)>>>,
}

impl Inputs {
    /// The inputs of a run from what the store holds: its latest totals per breakdown as
    /// stored (a design's partitions unpooled), its collections, the platform's review of
    /// each ad and the cause of its state. A design's partitions are kept for the partition
    /// results and pooled for the tests; a mirrored design's race is read off its regions.
    pub fn new(
        record: ExperimentRecord,
        experiment: Experiment,
        collections: Vec<CollectionRecord>,
        stored_totals: BTreeMap<Breakdown, Vec<StoredRow>>,
        reviews: BTreeMap<String, StoredReview>,
        state_cause: Option<String>,
    ) -> Inputs {
        let (totals, partition_totals) = tested_totals(&experiment, stored_totals);
        Inputs {
            record,
            experiment,
            collections,
            totals,
            reviews,
            state_cause,
            partition_totals,
            platform_eligible: BTreeMap::new(),
            looks: Vec::new(),
            looks_as_of: None,
            history: None,
        }
    }
}

/// The totals the tests read, from the totals as stored, and (for a design) the unpooled
/// ones: a design's partitions pooled, a mirrored design's race read off its regions.
pub(crate) fn tested_totals(
    experiment: &Experiment,
    stored_totals: BTreeMap<Breakdown, Vec<StoredRow>>,
) -> (
    BTreeMap<Breakdown, Vec<StoredRow>>,
    BTreeMap<Breakdown, Vec<StoredRow>>,
) {
    let mut totals = stored_totals;
    let mut partition_totals = BTreeMap::new();
    if let Some(d) = &experiment.design {
        if let Some(regions) = totals.get(&Breakdown::Region) {
            let race = design::race_rows(d, regions);
            if !race.is_empty() {
                totals.insert(Breakdown::Race, race);
            }
        }
        partition_totals = totals.clone();
        for rows in totals.values_mut() {
            *rows = design::pool(rows);
        }
    }
    (totals, partition_totals)
}

/// The complete result of analysing one run; serialised as `results.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// The version of this format (docs/results-json.md): raised when a field is renamed or
    /// removed, never when one is added.
    pub results_format: u32,
    pub adskew_version: String,
    pub experiment: ExperimentInfo,
    pub settings: AnalysisSettings,
    pub data: DataInfo,
    pub ads: Vec<AdTotals>,
    pub comparisons: Vec<ComparisonResult>,
    /// Number of hypothesis tests the correction was applied across.
    pub tests: usize,
    /// For replicated or mirrored designs: each partition's shares (the tests use the
    /// pooled counts).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<design::PartitionResult>,
    /// The anytime-valid looks of the last collection (docs/sequential.md): valid under
    /// continuous monitoring, unlike the tests above when they were checked night by night.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anytime_valid: Option<sequential::AnytimeValid>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExperimentInfo {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub platform: RunOrigin,
    pub state: RunState,
    pub file_path: String,
    pub file_sha256: String,
    pub resolved_sha256: String,
    /// `ADSKEW_*` environment overrides the run was started with.
    pub overrides: Vec<String>,
    pub run_by_adskew_version: String,
    /// When every ad was switched on together.
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    /// Why the run is in its state: "schedule ended", "spend cap reached: ...", ...
    pub state_cause: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DataInfo {
    pub collections: usize,
    pub first_collection_at: Option<String>,
    pub last_collection_at: Option<String>,
    pub last_collection_id: Option<i64>,
    pub currency: String,
    pub spend: Money,
    pub spend_cap: Money,
}

/// One ad's whole-run totals (summed over the values of the first breakdown).
#[derive(Debug, Clone, Serialize)]
pub struct AdTotals {
    pub key: String,
    pub headline: String,
    pub reach: u64,
    pub impressions: u64,
    pub clicks: u64,
    pub spend: Money,
    /// Whether the platform delivered the ad when it was last asked, in adskew's words.
    pub delivery: Option<Delivery>,
    /// The platform's last word on the ad (Meta's `effective_status`), when it was read.
    pub platform_status: Option<String>,
    /// The platform's review feedback or delivery issue: the ad was refused or limited.
    pub platform_problem: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComparisonResult {
    pub key: String,
    pub ads: Vec<String>,
    pub expected: Option<Expected>,
    pub breakdowns: Vec<BreakdownResult>,
}

impl ComparisonResult {
    /// The two-proportion z-test of a two-ad comparison (in the breakdown of its group).
    pub fn paired(&self) -> Option<&PairedResult> {
        self.breakdowns.iter().find_map(|b| b.z_test.as_ref())
    }
}

/// One comparison's ads on one breakdown. The field names are the stable `results.json`
/// format documented in `docs/results-json.md`; change them only with that file.
#[derive(Debug, Clone, Serialize)]
pub struct BreakdownResult {
    pub breakdown: Breakdown,
    pub metric: Metric,
    /// Column labels of `table`.
    pub groups: Vec<String>,
    /// Rows follow the comparison's ads, columns follow `groups`.
    pub table: Vec<Vec<u64>>,
    /// The counts `table` would hold if every ad reached the same composition (row sum ×
    /// column sum / total): what the chi-square and G-tests compare it with. Written for a
    /// tested table only.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expected_frequencies: Vec<Vec<f64>>,
    /// The group left out of the tests (gender "unknown", age "Unknown"), if any, and its
    /// count per ad:
    /// reported, not tested.
    pub excluded_group: Option<String>,
    pub excluded: Vec<u64>,
    /// The expected share of each group (the eligible audience's, from the simulator, the
    /// experiment's `[analysis.expected]` or `--expected`), where known.
    pub eligible: Vec<f64>,
    /// Where `eligible` came from: "simulator", "experiment" or "command line".
    pub eligible_source: Option<String>,
    /// Pearson's chi-square test of independence.
    pub chi2: Option<ChiSquareResult>,
    /// Cramér's V of the table.
    #[serde(serialize_with = "json_number_opt")]
    pub cramers_v: Option<f64>,
    /// The G-test (log-likelihood ratio) of the same table.
    pub g_test: Option<gtest::GTestResult>,
    /// Fisher's exact test, for 2 × 2 tables (of a total up to 2⁵³, `fisher::MAX_TOTAL`).
    pub fisher: Option<fisher::FisherResult>,
    /// The pooled two-proportion z-test of a two-ad comparison, in the breakdown of the
    /// group it tests (the pre-registered one, else women).
    pub z_test: Option<PairedResult>,
    /// Why there is no test (e.g. an ad reached nobody, or only one group was seen).
    pub not_tested: Option<String>,
    /// The chi-square p-value after the experiment's correction.
    pub adjusted_p_value: Option<f64>,
    /// Its log10, adjusted in the log domain (finite where the adjusted p underflows).
    pub adjusted_log10_p_value: Option<f64>,
    /// Whether the chi-square test rejects independence at `alpha` after correction.
    pub reject: bool,
    /// Each ad's share of each group, with its CI.
    pub shares: Vec<Share>,
    /// Each ad's composition against the expected one, where it is known: chi-square
    /// goodness of fit, the total variation ("shuffle") distance and per-group skew ratios.
    pub goodness_of_fit: Vec<AdFit>,
}

impl BreakdownResult {
    /// The group a breakdown is summed up by, in charts and `plan`: the default group
    /// (women) for gender, else the first group.
    pub fn headline_group(&self) -> Option<String> {
        let default = DEFAULT_GROUP.as_str();
        if self.breakdown == Breakdown::Gender && self.groups.iter().any(|g| g == default) {
            return Some(default.to_string());
        }
        self.groups.first().cloned()
    }
}

/// One ad's delivered composition against the expected one.
#[derive(Debug, Clone, Serialize)]
pub struct AdFit {
    pub ad: String,
    #[serde(flatten)]
    pub test: gtest::GoodnessOfFit,
    /// Delivered share over expected share, per group (in `groups` order): 1 is no skew,
    /// 2 means the group got twice its share.
    pub skew_ratios: BTreeMap<String, JsonF64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Share {
    pub ad: String,
    pub group: String,
    pub count: u64,
    /// The ad's count over all tested groups (the denominator of `share`).
    pub total: u64,
    #[serde(serialize_with = "json_number")]
    pub share: f64,
    pub ci: ci::Interval,
}

/// The two-proportion z-test of a two-ad comparison.
#[derive(Debug, Clone, Serialize)]
pub struct PairedResult {
    pub group: String,
    /// The ad whose share is `share1` (the expected-higher ad when a direction was given).
    pub ad1: String,
    pub ad2: String,
    #[serde(flatten)]
    pub test: ZTestResult,
    pub adjusted_p_value: f64,
    pub adjusted_log10_p_value: f64,
    pub reject: bool,
    /// Whether the observed difference points the pre-registered way.
    pub direction_as_expected: Option<bool>,
}

/// An `f64` that serialises through [`json_number`] (for maps and other containers).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct JsonF64(#[serde(serialize_with = "json_number")] pub f64);

fn group_order(breakdown: Breakdown, value: &str) -> (usize, String) {
    let known = match breakdown {
        Breakdown::Gender => Gender::parse(value).map(|g| g as usize),
        Breakdown::Age => AgeBucket::parse(value).map(|a| a as usize),
        Breakdown::Region | Breakdown::Race => None,
    };
    (known.unwrap_or(usize::MAX), value.to_string())
}

fn count_of(row: &StoredRow, metric: Metric) -> u64 {
    match metric {
        Metric::Impressions => row.impressions,
        _ => row.reach,
    }
}

/// Adjusts every p-value of `comparisons` together under the settings' correction and
/// marks what is significant; returns the number of tests.
fn correct(comparisons: &mut [ComparisonResult], settings: &AnalysisSettings) -> usize {
    let (mut p_values, mut log10_p_values) = (Vec::new(), Vec::new());
    for b in comparisons.iter().flat_map(|c| &c.breakdowns) {
        if let Some(chi) = &b.chi2 {
            p_values.push(chi.p_value);
            log10_p_values.push(chi.log10_p_value);
        }
        if let Some(z) = &b.z_test {
            p_values.push(z.test.p_value);
            log10_p_values.push(z.test.log10_p_value);
        }
    }
    let adjusted = correction::adjust(&p_values, settings.correction);
    let adjusted_log10 = correction::adjust_log10(&log10_p_values, settings.correction);
    let mut next = adjusted.iter().zip(&adjusted_log10);
    for b in comparisons.iter_mut().flat_map(|c| &mut c.breakdowns) {
        if b.chi2.is_some() {
            let (p, l) = next.next().expect("one adjusted p per test");
            b.adjusted_p_value = Some(*p);
            b.adjusted_log10_p_value = Some(*l);
            b.reject = *p < settings.alpha;
        }
        if let Some(z) = &mut b.z_test {
            let (p, l) = next.next().expect("one adjusted p per test");
            z.adjusted_p_value = *p;
            z.adjusted_log10_p_value = *l;
            z.reject = *p < settings.alpha;
        }
    }
    p_values.len()
}

/// Corrects across every comparison of an analysis assembled from parts (a counts file).
pub fn correct_all(analysis: &mut Analysis) {
    let settings = analysis.settings.clone();
    analysis.tests = correct(&mut analysis.comparisons, &settings);
}

/// The breakdowns tested: those collected, and race when a mirrored design infers it.
fn analysed_breakdowns(inputs: &Inputs) -> Vec<Breakdown> {
    let mut out = inputs.experiment.collect.breakdowns.clone();
    if inputs.totals.contains_key(&Breakdown::Race) {
        out.push(Breakdown::Race);
    }
    out
}

/// Analyses one run. Pure: the same inputs give the same result.
pub fn analyze(inputs: &Inputs) -> Analysis {
    let exp = &inputs.experiment;
    let settings = &exp.analysis;
    let mut comparisons: Vec<ComparisonResult> = exp
        .comparisons
        .iter()
        .map(|cmp| compare(inputs, cmp))
        .collect();
    // Correct every p-value of the experiment together.
    let tests = correct(&mut comparisons, settings);
    Analysis {
        results_format: RESULTS_FORMAT,
        adskew_version: crate::VERSION.to_string(),
        experiment: experiment_info(inputs),
        settings: settings.clone(),
        data: data_info(inputs),
        ads: ad_totals(inputs),
        comparisons,
        tests,
        partitions: partition_results(inputs),
        anytime_valid: inputs
            .looks_as_of
            .filter(|_| !inputs.looks.is_empty())
            .map(|as_of| sequential::AnytimeValid {
                alpha: sequential::SequentialSettings::of(exp).alpha,
                as_of,
                revision_bound: sequential::SequentialSettings::of(exp).revision_bound,
                looks: inputs.looks.clone(),
            }),
    }
}

/// One comparison on every analysed breakdown, with its paired z-test; uncorrected.
fn compare(inputs: &Inputs, cmp: &Comparison) -> ComparisonResult {
    let exp = &inputs.experiment;
    let settings = &exp.analysis;
    let mut breakdowns = analysed_breakdowns(inputs)
        .iter()
        .map(|b| {
            breakdown_result(
                &inputs.platform_eligible,
                settings,
                &cmp.ads,
                *b,
                inputs.totals.get(b).map_or(&[][..], |v| v),
            )
        })
        .collect::<Vec<_>>();
    add_z_test(settings, &cmp.ads, cmp.expected.as_ref(), &mut breakdowns);
    ComparisonResult {
        key: cmp.key.clone(),
        ads: cmp.ads.clone(),
        expected: cmp.expected.clone(),
        breakdowns,
    }
}

/// Each ad's whole-run totals, summed over the values of the first collected breakdown
/// (each person is in exactly one of them), with the platform's last word on the ad.
fn ad_totals(inputs: &Inputs) -> Vec<AdTotals> {
    let exp = &inputs.experiment;
    let first = exp
        .collect
        .breakdowns
        .first()
        .copied()
        .unwrap_or(Breakdown::Gender);
    let first_rows = inputs.totals.get(&first).map_or(&[][..], |v| v);
    exp.ads
        .iter()
        .map(|ad| {
            let rows = first_rows.iter().filter(|r| r.ad_key == ad.key);
            let mut t = AdTotals {
                key: ad.key.clone(),
                headline: ad.headline.clone(),
                reach: 0,
                impressions: 0,
                clicks: 0,
                spend: Money::ZERO,
                delivery: inputs.reviews.get(&ad.key).map(|r| r.delivery),
                platform_status: inputs
                    .reviews
                    .get(&ad.key)
                    .map(|r| r.platform_status.clone()),
                platform_problem: inputs.reviews.get(&ad.key).and_then(|r| r.problem.clone()),
            };
            for r in rows {
                t.reach = t.reach.saturating_add(r.reach);
                t.impressions = t.impressions.saturating_add(r.impressions);
                t.clicks = t.clicks.saturating_add(r.clicks);
                t.spend += r.spend;
            }
            t
        })
        .collect()
}

/// Which run this is: its record, the file it came from and why it is in its state.
fn experiment_info(inputs: &Inputs) -> ExperimentInfo {
    let record = &inputs.record;
    ExperimentInfo {
        id: record.id,
        name: record.name.clone(),
        description: inputs.experiment.description.clone(),
        platform: record.platform,
        state: record.state,
        file_path: record.file_path.clone(),
        file_sha256: record.file_sha256.clone(),
        resolved_sha256: record.resolved_sha256.clone(),
        overrides: record.overrides.clone(),
        run_by_adskew_version: record.adskew_version.clone(),
        started_at: record.started_at.clone(),
        ended_at: record.ended_at.clone(),
        state_cause: inputs.state_cause.clone(),
    }
}

/// What was collected: how many collections, when, and the spend at the last.
fn data_info(inputs: &Inputs) -> DataInfo {
    let collections = &inputs.collections;
    DataInfo {
        collections: collections.len(),
        first_collection_at: collections.first().map(|c| c.platform_time.clone()),
        last_collection_at: collections.last().map(|c| c.platform_time.clone()),
        last_collection_id: collections.last().map(|c| c.id),
        currency: inputs.record.currency.clone(),
        spend: collections.last().map_or(Money::ZERO, |c| c.spend),
        spend_cap: inputs.record.spend_cap,
    }
}

/// For a design, each partition's shares from the unpooled totals; none without one.
fn partition_results(inputs: &Inputs) -> Vec<design::PartitionResult> {
    let exp = &inputs.experiment;
    match &exp.design {
        Some(d) => design::by_partition(
            d,
            &exp.ads.iter().map(|a| a.key.clone()).collect::<Vec<_>>(),
            &inputs.partition_totals,
            exp.analysis.metric,
        ),
        None => Vec::new(),
    }
}

/// The value a platform reports for people whose group it does not know, per breakdown:
/// gender `unknown`, age `Unknown` (Meta's spellings). Reported, and by default left out of
/// the tests, which compare known groups.
fn unknown_value(breakdown: Breakdown) -> Option<&'static str> {
    match breakdown {
        Breakdown::Gender => Some(Gender::Unknown.as_str()),
        Breakdown::Age => Some(crate::vocab::UNKNOWN_AGE),
        _ => None,
    }
}

/// One comparison's ads on one breakdown: the table, shares, tests of independence and
/// fits to the expected composition (uncorrected; no z-test yet).
fn breakdown_result(
    platform_eligible: &BTreeMap<Breakdown, ExpectedComposition>,
    settings: &AnalysisSettings,
    ads: &[String],
    breakdown: Breakdown,
    rows: &[StoredRow],
) -> BreakdownResult {
    let excluded_group = excluded_group(settings, breakdown);
    let (groups, table, excluded) =
        contingency_table(ads, breakdown, rows, settings.metric, excluded_group);
    let (eligible, eligible_source) =
        expected_shares(platform_eligible, settings, breakdown, &groups);
    let shares = group_shares(ads, &groups, &table, settings);
    let (chi2, not_tested) = independence_test(breakdown, &groups, &table, &excluded, settings);
    let g_test = not_tested
        .is_none()
        .then(|| gtest::g_test(&table, settings.yates).ok())
        .flatten();
    let fisher_alternative = settings.alternative.unwrap_or(Alternative::TwoSided);
    let fisher = (not_tested.is_none() && table.len() == 2 && groups.len() == 2)
        .then(|| [[table[0][0], table[0][1]], [table[1][0], table[1][1]]])
        .filter(|t| fisher::applies(*t))
        .map(|t| fisher::fisher_exact_alternative(t, fisher_alternative));
    let expected_frequencies = match not_tested {
        None => chisq::expected_frequencies(&table),
        Some(_) => Vec::new(),
    };
    let goodness_of_fit = fits_to_expected(ads, &groups, &table, &eligible);
    BreakdownResult {
        breakdown,
        metric: settings.metric,
        groups,
        table,
        expected_frequencies,
        excluded_group: excluded_group.map(str::to_string),
        excluded,
        eligible,
        eligible_source,
        cramers_v: chi2.as_ref().map(|c| c.cramers_v),
        chi2,
        g_test,
        fisher,
        z_test: None,
        not_tested,
        adjusted_p_value: None,
        adjusted_log10_p_value: None,
        reject: false,
        shares,
        goodness_of_fit,
    }
}

/// The group a breakdown's tests leave out, unless the experiment includes it.
fn excluded_group(settings: &AnalysisSettings, breakdown: Breakdown) -> Option<&'static str> {
    unknown_value(breakdown).filter(|_| !settings.include_unknown)
}

/// The groups and table (ads × groups) the tests of one breakdown read, as
/// [`analyze`] builds them; for the sequential looks, which read each collection's totals.
pub(crate) fn tested_table(
    settings: &AnalysisSettings,
    ads: &[String],
    breakdown: Breakdown,
    rows: &[StoredRow],
) -> (Vec<String>, Vec<Vec<u64>>) {
    let excluded = excluded_group(settings, breakdown);
    let (groups, table, _) = contingency_table(ads, breakdown, rows, settings.metric, excluded);
    (groups, table)
}

/// The groups seen (in the breakdown's order) and the table of `metric` counts, ads ×
/// groups, with the excluded group's count per ad kept apart.
/// Cells add saturating: counts enter bounded by `count::MAX_COUNT`, so only inputs built
/// by hand could reach `u64::MAX`, and they then stay there rather than wrap to small.
fn contingency_table(
    ads: &[String],
    breakdown: Breakdown,
    rows: &[StoredRow],
    metric: Metric,
    excluded_group: Option<&str>,
) -> (Vec<String>, Vec<Vec<u64>>, Vec<u64>) {
    let excluded_value = |v: &str| excluded_group == Some(v);
    let mut groups: Vec<String> = rows
        .iter()
        .filter(|r| ads.contains(&r.ad_key) && !excluded_value(&r.value))
        .map(|r| r.value.clone())
        .collect();
    groups.sort_by_key(|g| group_order(breakdown, g));
    groups.dedup();

    let mut table = vec![vec![0u64; groups.len()]; ads.len()];
    let mut excluded = vec![0u64; ads.len()];
    for r in rows {
        let Some(i) = ads.iter().position(|a| *a == r.ad_key) else {
            continue;
        };
        if excluded_value(&r.value) {
            excluded[i] = excluded[i].saturating_add(count_of(r, metric));
        } else if let Some(j) = groups.iter().position(|g| *g == r.value) {
            table[i][j] = table[i][j].saturating_add(count_of(r, metric));
        }
    }
    (groups, table, excluded)
}

/// Each ad's share of each group among its tested groups, with its CI (NaN for an ad with
/// no count).
fn group_shares(
    ads: &[String],
    groups: &[String],
    table: &[Vec<u64>],
    settings: &AnalysisSettings,
) -> Vec<Share> {
    let mut shares = Vec::new();
    for (i, ad) in ads.iter().enumerate() {
        let total = count::total(table[i].iter().copied());
        for (j, group) in groups.iter().enumerate() {
            let count = table[i][j];
            shares.push(Share {
                ad: ad.clone(),
                group: group.clone(),
                count,
                total,
                share: if total > 0 {
                    count as f64 / total as f64
                } else {
                    f64::NAN
                },
                ci: ci::Interval::proportion(count, total, settings.ci_level, settings.ci),
            });
        }
    }
    shares
}

/// Pearson's chi-square test of independence of the table, or why there is none.
fn independence_test(
    breakdown: Breakdown,
    groups: &[String],
    table: &[Vec<u64>],
    excluded: &[u64],
    settings: &AnalysisSettings,
) -> (Option<ChiSquareResult>, Option<String>) {
    // Counted in any group, the excluded unknown gender included: a comparison nobody saw
    // must say so, not look like one where a single group was reached.
    let delivered = table.iter().flatten().chain(excluded).any(|n| *n > 0);
    if !delivered {
        (
            None,
            Some(format!(
                "no delivery: no ad in this comparison was shown to anyone, so there is no \
                 {breakdown} composition to compare"
            )),
        )
    } else if groups.len() < 2 {
        (
            None,
            Some(format!(
                "only one {breakdown} group was reached, so there is no composition to compare"
            )),
        )
    } else if table.iter().any(|r| r.iter().all(|n| *n == 0)) {
        (
            None,
            Some("an ad in this comparison has no delivery to compare".to_string()),
        )
    } else {
        match chi_square_independence(table, settings.yates) {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e.to_string())),
        }
    }
}

/// Each ad's composition against the expected one, when every group has a positive
/// expected share: the goodness-of-fit test and the per-group skew ratios.
fn fits_to_expected(
    ads: &[String],
    groups: &[String],
    table: &[Vec<u64>],
    eligible: &[f64],
) -> Vec<AdFit> {
    if eligible.len() != groups.len() || !eligible.iter().all(|e| *e > 0.0) {
        return Vec::new();
    }
    ads.iter()
        .zip(table)
        .filter_map(|(ad, row)| {
            let test = gtest::goodness_of_fit(row, eligible).ok()?;
            let total = count::sum(row.iter().copied());
            let skew_ratios = groups
                .iter()
                .zip(row.iter().zip(eligible))
                .map(|(g, (n, e))| (g.clone(), JsonF64(*n as f64 / total as f64 / e)))
                .collect();
            Some(AdFit {
                ad: ad.clone(),
                test,
                skew_ratios,
            })
        })
        .collect()
}

/// The expected share of each of `groups` (rescaled to sum to one over them) and where it
/// came from: `[analysis.expected]` or `--expected` first, else what the platform knows of
/// its eligible audience (the simulator's). Empty when unknown, or when a group has no
/// expected share.
fn expected_shares(
    platform_eligible: &BTreeMap<Breakdown, ExpectedComposition>,
    settings: &AnalysisSettings,
    breakdown: Breakdown,
    groups: &[String],
) -> (Vec<f64>, Option<String>) {
    let Some(e) = settings
        .expected
        .get(&breakdown)
        .or_else(|| platform_eligible.get(&breakdown))
    else {
        return (Vec::new(), None);
    };
    let (all, source) = (e.shares.clone(), e.source.clone());
    let share = |g: &String| all.iter().find(|(v, _)| v == g).map(|(_, s)| *s);
    let known: Option<Vec<f64>> = groups.iter().map(share).collect();
    match known {
        Some(shares) if !shares.is_empty() && shares.iter().sum::<f64>() > 0.0 => {
            let total: f64 = shares.iter().sum();
            (shares.iter().map(|s| s / total).collect(), Some(source))
        }
        _ => (Vec::new(), None),
    }
}

/// Adds the two-proportion z-test of a two-ad comparison to the breakdown of the tested
/// group: the pre-registered group, else women.
/// What a two-ad comparison's paired test compares: a group's share (the pre-registered
/// one, else women), in the breakdown that has it, ad `first` (the one expected higher)
/// against ad `second` (indices into the comparison's ads).
pub(crate) struct PairedTarget {
    pub group: String,
    pub breakdown: Breakdown,
    pub first: usize,
    pub second: usize,
}

/// The paired test's target of a comparison of these ads; `None` unless there are two.
pub(crate) fn paired_target(ads: &[String], expected: Option<&Expected>) -> Option<PairedTarget> {
    if ads.len() != 2 {
        return None;
    }
    let group = expected.map_or(DEFAULT_GROUP.as_str().to_string(), |e| e.group.clone());
    let breakdown = if AgeBucket::parse(&group).is_some() {
        Breakdown::Age
    } else if Gender::parse(&group).is_some() {
        Breakdown::Gender
    } else {
        // A mirrored design's group (race inferred from regions).
        Breakdown::Race
    };
    // Put the ad expected to be higher first, so "larger" is the pre-registered direction.
    let (first, second) = match expected {
        Some(e) if e.ad == ads[1] => (1, 0),
        _ => (0, 1),
    };
    Some(PairedTarget {
        group,
        breakdown,
        first,
        second,
    })
}

fn add_z_test(
    settings: &AnalysisSettings,
    ads: &[String],
    expected: Option<&Expected>,
    breakdowns: &mut [BreakdownResult],
) {
    let Some(PairedTarget {
        group,
        breakdown,
        first,
        second,
    }) = paired_target(ads, expected)
    else {
        return;
    };
    let Some(b) = breakdowns.iter_mut().find(|b| b.breakdown == breakdown) else {
        return;
    };
    let Some(j) = b.groups.iter().position(|g| *g == group) else {
        return;
    };
    let n = |i: usize| count::total(b.table[i].iter().copied());
    let alternative = settings.alternative.unwrap_or(if expected.is_some() {
        Alternative::Larger
    } else {
        Alternative::TwoSided
    });
    let Some(test) = two_proportion_z(
        b.table[first][j],
        n(first),
        b.table[second][j],
        n(second),
        alternative,
        settings.ci_level,
    ) else {
        return;
    };
    b.z_test = Some(PairedResult {
        group,
        ad1: ads[first].clone(),
        ad2: ads[second].clone(),
        direction_as_expected: expected.map(|_| test.difference > 0.0),
        test,
        adjusted_p_value: f64::NAN,
        adjusted_log10_p_value: f64::NAN,
        reject: false,
    });
}

/// Writes a float so a reader can tell the cases apart: a finite number as a number, and
/// infinity or an undefined value as the strings "inf", "-inf" and "nan" (JSON has no such
/// numbers, and a bare null would not say which it was).
pub fn json_number<S: serde::Serializer>(x: &f64, s: S) -> std::result::Result<S::Ok, S::Error> {
    if x.is_nan() {
        s.serialize_str("nan")
    } else if x.is_infinite() {
        s.serialize_str(if *x > 0.0 { "inf" } else { "-inf" })
    } else {
        s.serialize_f64(*x)
    }
}

/// [`json_number`] for an optional value: `null` when it was not computed.
pub fn json_number_opt<S: serde::Serializer>(
    x: &Option<f64>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match x {
        Some(x) => json_number(x, s),
        None => s.serialize_none(),
    }
}
