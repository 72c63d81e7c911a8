//! The delivery model: who sees an ad, hour by hour, as a function of the ground truth.
//!
//! The eligible audience is split into cells (gender × age bucket × region), each with a
//! number of people and a price. Each hour an active ad spends its pacing share of the
//! budget; the impressions this buys are split across cells in proportion to
//! `people × engagement / price` (creative-driven relevance, and optimisation toward cheap
//! impressions). Clicks follow engagement. Reach is tracked per cell as a count of distinct
//! people: each person is exposed in an hour with probability `1 - exp(-impressions/people)`.
//!
//! All randomness is drawn per cell (binomial), never per person, from a ChaCha stream
//! seeded by (seed, ad key, hour), so the result is deterministic for a seed and adding an
//! ad does not change the others. Issue #3 deepens this model (auction, competition,
//! reporting noise, revisions); the interface stays.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution};

use crate::experiment::{SimAdTruth, SimTruth};
use crate::vocab::{AgeBucket, Breakdown, Gender};

/// One demographic cell of the eligible audience.
#[derive(Debug, Clone)]
pub struct Cell {
    pub gender: Gender,
    pub age: AgeBucket,
    pub region: String,
    pub people: u64,
    /// Price of one impression, in minor currency units.
    pub price: f64,
}

impl Cell {
    pub fn value(&self, breakdown: Breakdown) -> &str {
        match breakdown {
            Breakdown::Gender => self.gender.as_str(),
            Breakdown::Age => self.age.as_str(),
            Breakdown::Region => &self.region,
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
                out.push(Cell {
                    gender: *gender,
                    age: *age,
                    region: region.clone(),
                    people,
                    price: truth.cpm * 100.0 / 1000.0 * price_mult,
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
    key: String,
    seed: u64,
    /// Relative engagement per cell (the creative's ground truth).
    engagement: Vec<f64>,
    /// Allocation weight per cell, normalised.
    weights: Vec<f64>,
    base_ctr: f64,
    /// Hourly budget in minor units (daily budget / 24, or lifetime budget / hours).
    hourly_budget: f64,
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

impl AdSim {
    pub fn new(
        key: &str,
        truth: &SimTruth,
        cells: &[Cell],
        limit: Limit,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Self {
        let ad_truth = truth.ads.get(key);
        let engagement: Vec<f64> = cells.iter().map(|c| engagement_of(ad_truth, c)).collect();
        let raw: Vec<f64> = cells
            .iter()
            .zip(&engagement)
            .map(|(c, e)| c.people as f64 * e / c.price)
            .collect();
        let total: f64 = raw.iter().sum();
        let weights = raw.iter().map(|w| w / total).collect();
        let hours = ((end - start).num_seconds() as f64 / 3600.0)
            .ceil()
            .max(1.0);
        let hourly_budget = match limit {
            Limit::Daily(d) => d / 24.0,
            Limit::Lifetime(l) => l / hours,
        };
        AdSim {
            key: key.to_string(),
            seed: truth.seed,
            engagement,
            weights,
            base_ctr: truth.ctr,
            hourly_budget,
            limit,
            start,
            end,
            hours_done: 0,
            cumulative_reach: vec![0; cells.len()],
            days: Vec::new(),
            total_spend: 0.0,
        }
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
        let date = (self.start + TimeDelta::hours(hour)).date_naive();
        let d = self.day_index(date, cells.len());

        let spent_so_far = match self.limit {
            Limit::Daily(_) => self.days[d].cells.iter().map(|c| c.spend).sum::<f64>(),
            Limit::Lifetime(_) => self.total_spend,
        };
        let remaining = match self.limit {
            Limit::Daily(b) | Limit::Lifetime(b) => (b - spent_so_far).max(0.0),
        };
        let budget = self.hourly_budget.min(remaining);
        let avg_price: f64 = self
            .weights
            .iter()
            .zip(cells)
            .map(|(w, c)| w * c.price)
            .sum();
        let total = (budget / avg_price).floor() as u64;

        // Multinomial split of the hour's impressions, as a chain of binomials.
        let mut imps = vec![0u64; cells.len()];
        let mut left = total;
        let mut mass_left = 1.0;
        for (i, w) in self.weights.iter().enumerate() {
            if left == 0 {
                break;
            }
            let p = if mass_left > 0.0 {
                (w / mass_left).min(1.0)
            } else {
                1.0
            };
            imps[i] = binomial(&mut rng, left, p);
            left -= imps[i];
            mass_left -= w;
        }
        // Randomness may buy a little more than the budget; trim so spend never exceeds it.
        let cost: f64 = imps
            .iter()
            .zip(cells)
            .map(|(n, c)| *n as f64 * c.price)
            .sum();
        if cost > budget && cost > 0.0 {
            let f = budget / cost;
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
            day.spend += n as f64 * cell.price;
            day.reach = (day.reach + new_today).min(cell.people);
            self.total_spend += n as f64 * cell.price;
        }
        self.days[d].cumulative_reach = self.cumulative_reach.clone();
    }
}
