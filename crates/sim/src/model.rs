//! The delivery model: who sees an ad, hour by hour, as a function of the ground truth.
//!
//! The eligible audience is split into cells (gender × age bucket × region), each with a
//! number of people, an activity (impression opportunities per person per day) and a
//! price: the median bid of competing advertisers for one impression there.
//!
//! **Auction.** Every opportunity is an auction. The ad's value for it is its predicted
//! action rate in that cell: the creative's engagement for the `traffic` objective (content
//! decides from the first impression, before any click), and the chance of reaching someone
//! new for `reach`. Competing bids are log-normal around the cell's price (spread `sigma`).
//! The ad bids `lambda × value` and, when it wins, pays the competing bid (second price).
//!
//! **Pacing.** `lambda` is set each day so the expected spend matches the budget (lowest-cost
//! bidding). A small budget means a low `lambda`: the ad wins only where it is cheap relative
//! to its value, so it buys the cheapest impressions (the budget effect of Ali et al. 2019
//! §4.1 and Lambrecht & Tucker). A larger budget reaches into dearer groups. Expected
//! spend has a closed form, `A × m × exp(σ²/2) × Φ(z − σ)` per cell, so pacing is cheap.
//!
//! **Draws.** Per hour and cell: wins ~ Binomial(opportunities, P(win)), clicks ~
//! Binomial(wins, ctr × engagement), and distinct people reached by occupancy. Never one
//! draw per person or per impression, so thousands of replicates are cheap. The stream is
//! seeded by (seed, ad key, hour): deterministic for a seed, and adding an ad does not
//! change the others. Spend never exceeds the daily or lifetime budget.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution};

use statrs::distribution::{ContinuousCDF, Normal};

use crate::truth::{SimAdTruth, SimTruth};
use adskew_core::vocab::{AgeBucket, Breakdown, Gender, Objective};

/// Standard normal CDF.
fn phi(z: f64) -> f64 {
    // statrs' Normal::cdf uses erfc: accurate far into the lower tail, where pacing lives.
    thread_local! {
        static N: Normal = Normal::new(0.0, 1.0).expect("standard normal");
    }
    N.with(|n| n.cdf(z))
}

/// One demographic cell of the eligible audience.
#[derive(Debug, Clone)]
pub struct Cell {
    pub gender: Gender,
    pub age: AgeBucket,
    pub region: String,
    pub people: u64,
    /// Median competing bid for one impression, in minor currency units.
    pub price: f64,
    /// Impression opportunities per hour in the cell.
    pub opportunities: f64,
}

impl Cell {
    pub fn value(&self, breakdown: Breakdown) -> &str {
        match breakdown {
            Breakdown::Gender => self.gender.as_str(),
            Breakdown::Age => self.age.as_str(),
            Breakdown::Region => &self.region,
            // Not a property of a cell: inferred from regions in a mirrored design.
            Breakdown::Race => "",
        }
    }
}

/// Splits the eligible audience into cells.
pub fn cells(truth: &SimTruth) -> Vec<Cell> {
    let mut out = Vec::new();
    for (gender, g) in &truth.gender {
        for (age, a) in &truth.age {
            for (region, r) in &truth.regions {
                let people = (truth.audience_size as f64 * g * a * r).round() as u64;
                let price_mult = truth.price.get(gender).copied().unwrap_or(1.0);
                let activity = truth.activity.get(gender).copied().unwrap_or(1.0);
                out.push(Cell {
                    gender: *gender,
                    age: *age,
                    region: region.clone(),
                    people,
                    price: truth.cpm * 100.0 / 1000.0 * price_mult,
                    opportunities: people as f64 * truth.opportunities_per_day * activity / 24.0,
                });
            }
        }
    }
    out
}

/// Delivery to one cell over one day.
#[derive(Debug, Clone, Default)]
pub struct CellDay {
    pub impressions: u64,
    pub clicks: u64,
    /// Minor units, unrounded.
    pub spend: f64,
    /// Distinct people reached that day.
    pub reach: u64,
}

/// One day of an ad's delivery, plus cumulative reach at the end of the day.
#[derive(Debug, Clone)]
pub struct Day {
    pub date: NaiveDate,
    pub cells: Vec<CellDay>,
    pub cumulative_reach: Vec<u64>,
}

/// The simulation state of one ad.
#[derive(Debug, Clone)]
pub struct AdSim {
    /// The account's time zone, which decides what a day is.
    timezone: chrono_tz::Tz,
    key: String,
    seed: u64,
    /// Relative engagement per cell (the creative's ground truth).
    engagement: Vec<f64>,
    base_ctr: f64,
    objective: Objective,
    /// Spread (log-scale sd) of competing bids.
    sigma: f64,
    /// Hourly spend target in minor units (daily budget / 24, or lifetime budget / hours).
    hourly_budget: f64,
    /// Pacing multiplier of the day being simulated, and that day.
    lambda: Option<(NaiveDate, f64)>,
    /// Each cell's auction odds at a pacing multiplier, and that multiplier: with the
    /// `traffic` objective an ad's values never change, so its multiplier and odds are the
    /// same every day and hour, and computed once (the same numbers, a fraction of the time).
    odds: Option<(f64, Vec<Option<Odds>>)>,
    /// Impression opportunities offered to this ad so far (for benchmarks).
    pub opportunities_seen: f64,
    /// Daily or lifetime limit in minor units.
    limit: Limit,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// Hours already simulated since `start`.
    hours_done: i64,
    cumulative_reach: Vec<u64>,
    pub days: Vec<Day>,
    pub total_spend: f64,
}

#[derive(Debug, Clone, Copy)]
pub enum Limit {
    Daily(f64),
    Lifetime(f64),
}

/// One cell's auction at a pacing multiplier: the chance of winning an opportunity and the
/// expected second price paid when winning.
#[derive(Debug, Clone, Copy)]
struct Odds {
    /// Opportunities offered per hour (whole).
    offered: u64,
    p_win: f64,
    price_paid: f64,
}

/// The cells of partition `index` of a design: a disjoint 1/n of every cell (so partitions
/// never share people); in a mirrored design only the two region sets, whose people belong
/// to the group that partition places there.
pub fn partition_cells(
    cells: &[Cell],
    design: &adskew_core::experiment::Design,
    index: usize,
) -> Vec<Cell> {
    let n = design.partitions.len().max(1) as f64;
    cells
        .iter()
        .map(|c| {
            let inside = design.kind == adskew_core::experiment::DesignKind::Replicated
                || design.group_of(index, &c.region).is_some();
            let f = if inside { 1.0 / n } else { 0.0 };
            Cell {
                people: (c.people as f64 * f).round() as u64,
                opportunities: c.opportunities * f,
                ..c.clone()
            }
        })
        .collect()
}

fn engagement_of(truth: Option<&SimAdTruth>, cell: &Cell) -> f64 {
    let Some(t) = truth else { return 1.0 };
    t.gender.get(&cell.gender).copied().unwrap_or(1.0)
        * t.age.get(&cell.age).copied().unwrap_or(1.0)
        * t.region.get(&cell.region).copied().unwrap_or(1.0)
}

/// SplitMix64 finaliser: a stable, well-mixed seed from a few integers.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn key_hash(key: &str) -> u64 {
    // FNV-1a: stable across Rust versions, unlike std's hasher.
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Expected number of distinct people hit when `hits` impressions land at random on `people`.
fn occupancy(people: u64, hits: u64) -> u64 {
    if people == 0 || hits == 0 {
        return 0;
    }
    let k = people as f64;
    ((k * (1.0 - (-(hits as f64) / k).exp())).round() as u64).clamp(1, people.min(hits))
}

fn binomial(rng: &mut ChaCha8Rng, n: u64, p: f64) -> u64 {
    if n == 0 || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    Binomial::new(n, p).expect("valid binomial").sample(rng)
}

/// The platform's reporting layer: a day's breakdown rows are estimates, first reported
/// with relative noise `report_noise` that is revised away linearly over `revision_days`
/// after the day ends (so re-collecting a recent day gives new numbers, and numbers older
/// than the window are final). The noise is fixed per (seed, ad, day, breakdown value), so
/// the same query at the same time always gives the same answer.
pub fn revision_factor(
    truth: &SimTruth,
    ad_key: &str,
    date: NaiveDate,
    breakdown: Breakdown,
    value: &str,
    now: DateTime<Utc>,
) -> f64 {
    if truth.report_noise <= 0.0 {
        return 1.0;
    }
    let day_end = date
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| {
            use chrono::TimeZone;
            truth.timezone.from_local_datetime(&t).earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    let age_days = (now - day_end).num_seconds() as f64 / 86_400.0;
    let weight = if truth.revision_days <= 0.0 {
        0.0
    } else {
        (1.0 - age_days.max(0.0) / truth.revision_days).clamp(0.0, 1.0)
    };
    if weight == 0.0 {
        return 1.0;
    }
    let key = format!("{ad_key}/{date}/{breakdown}/{value}");
    let mut rng = ChaCha8Rng::seed_from_u64(mix(truth.seed ^ mix(key_hash(&key))));
    let eps: f64 = rand_distr::StandardNormal.sample(&mut rng);
    (1.0 + truth.report_noise * weight * eps).max(0.0)
}

impl AdSim {
    /// The experiment's key of this ad's creative.
    pub fn key(&self) -> &str {
        &self.key
    }

    #[allow(clippy::too_many_arguments)]
    /// `partition` is the design partition the ad runs in (its index): the ad's random
    /// stream is then its own, and in a mirrored design its engagement follows the group
    /// each region holds in that partition.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        key: &str,
        truth: &SimTruth,
        cells: &[Cell],
        objective: Objective,
        limit: Limit,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        partition: Option<usize>,
    ) -> Self {
        let ad_truth = truth.ads.get(key);
        let design = truth.design.as_ref().zip(partition);
        let engagement: Vec<f64> = cells
            .iter()
            .map(|c| {
                let by_group = design
                    .and_then(|(d, p)| d.group_of(p, &c.region))
                    .and_then(|g| ad_truth.and_then(|t| t.group.get(g)))
                    .copied()
                    .unwrap_or(1.0);
                engagement_of(ad_truth, c) * by_group
            })
            .collect();
        let key = match design {
            Some((d, p)) => adskew_core::experiment::Design::ad_key(key, &d.partitions[p]),
            None => key.to_string(),
        };
        let key = key.as_str();
        let hours = ((end - start).num_seconds() as f64 / 3600.0)
            .ceil()
            .max(1.0);
        let hourly_budget = match limit {
            Limit::Daily(d) => d / 24.0,
            Limit::Lifetime(l) => l / hours,
        };
        AdSim {
            timezone: truth.timezone,
            key: key.to_string(),
            seed: truth.seed,
            engagement,
            base_ctr: truth.ctr,
            objective,
            sigma: truth.price_spread,
            hourly_budget,
            lambda: None,
            odds: None,
            opportunities_seen: 0.0,
            limit,
            start,
            end,
            hours_done: 0,
            cumulative_reach: vec![0; cells.len()],
            days: Vec::new(),
            total_spend: 0.0,
        }
    }

    /// The ad's value of an impression in cell `i`, by objective.
    fn value(&self, cells: &[Cell], i: usize) -> f64 {
        match self.objective {
            Objective::Traffic => self.engagement[i],
            // Reach values people not reached yet.
            Objective::Reach => {
                let n = cells[i].people.max(1) as f64;
                (1.0 - self.cumulative_reach[i] as f64 / n).max(1e-6)
            }
        }
    }

    /// Expected spend per hour at pacing multiplier `exp(ln_lambda)`.
    /// `terms` holds per cell `(ln value, ln price, opportunities × price × exp(σ²/2))`,
    /// computed once per pacing rather than once per bisection step (same values).
    fn expected_spend(&self, terms: &[Option<(f64, f64, f64)>], ln_lambda: f64) -> f64 {
        let s = self.sigma;
        terms
            .iter()
            .map(|t| match t {
                None => 0.0,
                Some((ln_v, ln_price, scale)) => {
                    let z = (ln_lambda + ln_v - ln_price) / s;
                    scale * phi(z - s)
                }
            })
            .sum()
    }

    /// The pacing multiplier whose expected spend is the hourly budget (or everything the
    /// audience offers, if that costs less), found by bisection on its logarithm.
    fn pace(&self, cells: &[Cell]) -> f64 {
        let s = self.sigma;
        let terms: Vec<Option<(f64, f64, f64)>> = (0..cells.len())
            .map(|i| {
                let (c, v) = (&cells[i], self.value(cells, i));
                (v > 0.0 && c.opportunities > 0.0).then(|| {
                    (
                        v.ln(),
                        c.price.ln(),
                        c.opportunities * c.price * (s * s / 2.0).exp(),
                    )
                })
            })
            .collect();
        let (mut lo, mut hi) = (-60.0f64, 60.0f64);
        for _ in 0..80 {
            let mid = 0.5 * (lo + hi);
            if self.expected_spend(&terms, mid) < self.hourly_budget {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }

    /// Each cell's auction odds at pacing multiplier `exp(ln_lambda)`; `None` where the ad
    /// does not bid (no value, or no opportunities).
    fn odds_at(&self, cells: &[Cell], ln_lambda: f64) -> Vec<Option<Odds>> {
        let s = self.sigma;
        cells
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let v = self.value(cells, i);
                if v <= 0.0 || cell.opportunities <= 0.0 {
                    return None;
                }
                let z = (ln_lambda + v.ln() - cell.price.ln()) / s;
                let p_win = phi(z);
                let price_paid = if p_win > 0.0 {
                    cell.price * (s * s / 2.0).exp() * phi(z - s) / p_win
                } else {
                    0.0
                };
                Some(Odds {
                    offered: cell.opportunities.round() as u64,
                    p_win,
                    price_paid,
                })
            })
            .collect()
    }

    /// Simulates every whole hour up to `until`; `active` says whether the ad was
    /// delivering during that span (status changes advance the simulation first).
    pub fn advance(&mut self, cells: &[Cell], until: DateTime<Utc>, active: bool) {
        let target = ((until.min(self.end) - self.start).num_seconds() / 3600).max(0);
        while self.hours_done < target {
            if active {
                self.simulate_hour(cells, self.hours_done);
            }
            self.hours_done += 1;
        }
    }

    fn day_index(&mut self, date: NaiveDate, n_cells: usize) -> usize {
        if let Some(i) = self.days.iter().position(|d| d.date == date) {
            return i;
        }
        self.days.push(Day {
            date,
            cells: vec![CellDay::default(); n_cells],
            cumulative_reach: self.cumulative_reach.clone(),
        });
        self.days.len() - 1
    }

    fn simulate_hour(&mut self, cells: &[Cell], hour: i64) {
        let mut rng =
            ChaCha8Rng::seed_from_u64(mix(self.seed ^ mix(key_hash(&self.key) ^ mix(hour as u64))));
        // The account's local day: budgets and reports follow it.
        let date = (self.start + TimeDelta::hours(hour))
            .with_timezone(&self.timezone)
            .date_naive();
        let d = self.day_index(date, cells.len());

        let spent_so_far = match self.limit {
            Limit::Daily(_) => self.days[d].cells.iter().map(|c| c.spend).sum::<f64>(),
            Limit::Lifetime(_) => self.total_spend,
        };
        let remaining = match self.limit {
            Limit::Daily(b) | Limit::Lifetime(b) => (b - spent_so_far).max(0.0),
        };
        let ln_lambda = match self.lambda {
            Some((day, l)) if day == date => l,
            _ => {
                let l = match &self.odds {
                    Some((l, _)) if self.objective == Objective::Traffic => *l,
                    _ => self.pace(cells),
                };
                self.lambda = Some((date, l));
                l
            }
        };

        // Auctions: wins per cell, and what they cost (the expected second price).
        let odds = match self.odds.take() {
            Some((l, odds)) if l == ln_lambda && self.objective == Objective::Traffic => odds,
            _ => self.odds_at(cells, ln_lambda),
        };
        let mut imps = vec![0u64; cells.len()];
        let mut price_paid = vec![0.0f64; cells.len()];
        for (i, o) in odds.iter().enumerate() {
            let Some(o) = o else { continue };
            self.opportunities_seen += o.offered as f64;
            imps[i] = binomial(&mut rng, o.offered, o.p_win);
            price_paid[i] = o.price_paid;
        }
        self.odds = Some((ln_lambda, odds));
        // Never spend past the budget: trim every cell alike if the draws overshoot.
        let cost: f64 = imps
            .iter()
            .zip(&price_paid)
            .map(|(n, p)| *n as f64 * p)
            .sum();
        if cost > remaining && cost > 0.0 {
            let f = remaining / cost;
            for n in imps.iter_mut() {
                *n = (*n as f64 * f).floor() as u64;
            }
        }

        for (i, cell) in cells.iter().enumerate() {
            let n = imps[i];
            if n == 0 || cell.people == 0 {
                continue;
            }
            let ctr = (self.base_ctr * self.engagement[i]).min(0.5);
            let clicks = binomial(&mut rng, n, ctr);
            // Each impression lands on a random person of the cell. Split the impressions by
            // whom they land on (never reached / reached before but not today / reached
            // today), then count distinct people by the occupancy expectation. Drawing reach
            // independently of impressions would add variance real reach does not have and
            // inflate every test statistic.
            let reached = self.cumulative_reach[i];
            let today = self.days[d].cells[i].reach;
            let people = cell.people;
            let on_new = binomial(&mut rng, n, (people - reached) as f64 / people as f64);
            let on_seen = n - on_new;
            let on_seen_not_today = if reached > 0 {
                binomial(
                    &mut rng,
                    on_seen,
                    reached.saturating_sub(today) as f64 / reached as f64,
                )
            } else {
                0
            };
            let new_ever = occupancy(people - reached, on_new);
            let new_today = new_ever + occupancy(reached.saturating_sub(today), on_seen_not_today);
            self.cumulative_reach[i] += new_ever;
            let day = &mut self.days[d].cells[i];
            day.impressions += n;
            day.clicks += clicks;
            day.spend += n as f64 * price_paid[i];
            day.reach = (day.reach + new_today).min(cell.people);
            self.total_spend += n as f64 * price_paid[i];
        }
        self.days[d]
            .cumulative_reach
            .copy_from_slice(&self.cumulative_reach);
    }
}
