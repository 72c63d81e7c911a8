//! Fisher's exact test for a 2 × 2 table: the p-value when counts are too small for the
//! chi-square approximation (a pilot with a few dozen people per ad), and still exact when
//! they are not.
//!
//! Conditional on the margins, the top-left count follows a hypergeometric distribution.
//! The two-sided p-value sums the probabilities of all tables no more likely than the one
//! observed, with scipy's relative tolerance of 1e-7 so that tables equally likely up to
//! rounding count as such.
//!
//! The distribution is unimodal, so those tables are the two tails outside the interval of
//! more likely ones. Each tail is found by bisection and summed outward from its inner
//! end, where its terms are largest, until what is left cannot change the sum in double
//! precision (the terms fall faster than a geometric series there). The work grows with the
//! spread of the distribution (about √n), not with n, and needs no memory: a table of 10¹²
//! per cell takes milliseconds, where summing the whole support took minutes and a gigabyte.
//!
//! Probabilities are computed in logs with Loader's saddle-point form of the binomial
//! ("Fast and accurate computation of binomial probabilities", 2000, as in R's `dhyper`):
//! ln Γ of numbers near 10¹² is about 10¹³, and its rounding alone would swamp the
//! difference of a few units that a log-probability is; the saddle-point form keeps it to
//! its last digits at any n. Successive terms of a tail come from the exact ratio of
//! neighbouring probabilities, re-anchored to the direct formula every [`ANCHOR`] terms so
//! rounding cannot accumulate.

use serde::Serialize;
use statrs::function::gamma::ln_gamma;

use super::ztest::Alternative;
use crate::count;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FisherResult {
    /// The sample odds ratio (a·d)/(b·c): infinite when b·c = 0 < a·d, undefined (NaN)
    /// when both are 0. Reported as in scipy.
    #[serde(serialize_with = "super::json_number")]
    pub odds_ratio: f64,
    pub p_value: f64,
    /// log10 of the p-value, summed in logs: finite where `p_value` underflows to 0.
    pub log10_p_value: f64,
    /// Two-sided unless asked otherwise (written only then, so results of two-sided tests
    /// read as before). `larger`: the odds ratio is above 1, i.e. row 1's share of column 1
    /// is larger than row 2's (scipy's `alternative="greater"`); `smaller` the reverse.
    #[serde(skip_serializing_if = "Alternative::is_two_sided")]
    pub alternative: Alternative,
}

/// How many terms of a tail follow from ratios before one is computed directly again.
const ANCHOR: u64 = 1024;

/// A tail's sum stops when what is left is below this fraction of it.
const TAIL_EPSILON: f64 = 1e-17;

/// The largest table total Fisher's exact test is computed for: 2⁵³, up to which every
/// count is exact in a double. Counts enter bounded far below (`count::MAX_COUNT` per row),
/// and a table this large has a chi-square test as exact as any computation can tell.
pub const MAX_TOTAL: u64 = 1 << 53;

/// Whether [`fisher_exact`] is meaningful for `table`: a total of at most [`MAX_TOTAL`].
pub fn applies(table: [[u64; 2]; 2]) -> bool {
    count::sum(table.into_iter().flatten()) <= u128::from(MAX_TOTAL)
}

/// Two-sided Fisher's exact test of `[[a, b], [c, d]]`, as scipy's `fisher_exact`.
///
/// # Panics
///
/// If the table's total is above [`MAX_TOTAL`] (see [`applies`]).
pub fn fisher_exact(table: [[u64; 2]; 2]) -> FisherResult {
    fisher_exact_alternative(table, Alternative::TwoSided)
}

/// Fisher's exact test of `[[a, b], [c, d]]` against `alternative`, as scipy's
/// `fisher_exact(table, alternative)`: `Larger` is P(X ≥ a) ("greater": the odds ratio
/// above 1, row 1's share of column 1 the larger), `Smaller` is P(X ≤ a) ("less").
///
/// # Panics
///
/// If the table's total is above [`MAX_TOTAL`] (see [`applies`]).
pub fn fisher_exact_alternative(table: [[u64; 2]; 2], alternative: Alternative) -> FisherResult {
    assert!(applies(table), "Fisher's exact test of a total above 2^53");
    let [[a, b], [c, d]] = table;
    let odds_ratio = {
        let (num, den) = (a as f64 * d as f64, b as f64 * c as f64);
        if den == 0.0 {
            if num == 0.0 {
                f64::NAN
            } else {
                f64::INFINITY
            }
        } else {
            num / den
        }
    };
    let h = Hypergeometric::of(table);
    let ln_sum = match alternative {
        Alternative::TwoSided => h.two_sided_ln_p(a),
        Alternative::Larger => h.one_sided_ln_p(a, Direction::Up),
        Alternative::Smaller => h.one_sided_ln_p(a, Direction::Down),
    }
    .min(0.0);
    FisherResult {
        odds_ratio,
        p_value: ln_sum.exp(),
        log10_p_value: ln_sum / std::f64::consts::LN_10,
        alternative,
    }
}

/// The distribution of the top-left count given the margins: `draws` (column 1) taken from
/// `marked` (row 1) and `unmarked` (row 2) items.
struct Hypergeometric {
    marked: u64,
    unmarked: u64,
    draws: u64,
    lo: u64,
    hi: u64,
}

impl Hypergeometric {
    fn of([[a, b], [c, d]]: [[u64; 2]; 2]) -> Hypergeometric {
        let (marked, unmarked, draws) = (a + b, c + d, a + c);
        Hypergeometric {
            marked,
            unmarked,
            draws,
            lo: draws.saturating_sub(unmarked),
            hi: marked.min(draws),
        }
    }

    /// ln P(X = x), directly (Loader's form).
    fn ln_p(&self, x: u64) -> f64 {
        let total = self.marked + self.unmarked;
        let p = self.draws as f64 / total as f64;
        ln_binomial_pmf(x, self.marked, p) + ln_binomial_pmf(self.draws - x, self.unmarked, p)
            - ln_binomial_pmf(self.draws, total, p)
    }

    /// P(X = x + 1) / P(X = x).
    fn ratio_up(&self, x: u64) -> f64 {
        let (x, m, u, k) = (
            x as f64,
            self.marked as f64,
            self.unmarked as f64,
            self.draws as f64,
        );
        (m - x) * (k - x) / ((x + 1.0) * (u - k + x + 1.0))
    }

    /// The most likely count.
    fn mode(&self) -> u64 {
        let wide = |n: u64| u128::from(n) + 1;
        let total = u128::from(self.marked) + u128::from(self.unmarked) + 2;
        let m = wide(self.marked) * wide(self.draws) / total;
        u64::try_from(m).unwrap_or(self.hi).clamp(self.lo, self.hi)
    }

    /// ln of the two-sided p-value of `observed`: the log of the summed probabilities of
    /// every count no more likely than it.
    fn two_sided_ln_p(&self, observed: u64) -> f64 {
        let threshold = self.ln_p(observed) + (1.0 + 1e-7f64).ln();
        let mode = self.mode();
        if self.ln_p(mode) <= threshold {
            return 0.0; // every count is as unlikely as the observed one: p = 1
        }
        // The last count below the mode and the first above it at or under the threshold.
        let left =
            (self.ln_p(self.lo) <= threshold).then(|| self.last_at_most(self.lo, mode, threshold));
        let right =
            (self.ln_p(self.hi) <= threshold).then(|| self.first_at_most(mode, self.hi, threshold));
        let tails = [
            left.map(|x| self.ln_tail(x, Direction::Down)),
            right.map(|x| self.ln_tail(x, Direction::Up)),
        ];
        let tails: Vec<f64> = tails.into_iter().flatten().collect();
        let largest = tails.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        largest + tails.iter().map(|t| (t - largest).exp()).sum::<f64>().ln()
    }

    /// ln P(X ≥ observed) (Up) or ln P(X ≤ observed) (Down). A tail that starts on the
    /// far side of the mode is summed outward; one that takes in the mode is one minus the
    /// opposite tail, through `ln_1p` (that tail leaves out at least the mode's probability,
    /// so the difference keeps its digits).
    fn one_sided_ln_p(&self, observed: u64, direction: Direction) -> f64 {
        let mode = self.mode();
        let opposite = match direction {
            Direction::Up if observed >= mode => return self.ln_tail(observed, direction),
            Direction::Down if observed <= mode => return self.ln_tail(observed, direction),
            Direction::Up => {
                (observed > self.lo).then(|| self.ln_tail(observed - 1, Direction::Down))
            }
            Direction::Down => {
                (observed < self.hi).then(|| self.ln_tail(observed + 1, Direction::Up))
            }
        };
        opposite.map_or(0.0, |ln_q| (-ln_q.exp()).ln_1p())
    }

    /// The largest x in [from, to) with ln P(x) ≤ threshold, where ln P rises on the range
    /// and ln P(from) ≤ threshold < ln P(to).
    fn last_at_most(&self, mut from: u64, mut to: u64, threshold: f64) -> u64 {
        while to - from > 1 {
            let mid = from + (to - from) / 2;
            if self.ln_p(mid) <= threshold {
                from = mid;
            } else {
                to = mid;
            }
        }
        from
    }

    /// The smallest x in (from, to] with ln P(x) ≤ threshold, where ln P falls on the range
    /// and ln P(from) > threshold ≥ ln P(to).
    fn first_at_most(&self, mut from: u64, mut to: u64, threshold: f64) -> u64 {
        while to - from > 1 {
            let mid = from + (to - from) / 2;
            if self.ln_p(mid) <= threshold {
                to = mid;
            } else {
                from = mid;
            }
        }
        to
    }

    /// ln of P(X ≤ start) (Down) or P(X ≥ start) (Up), for `start` on the far side of the
    /// mode, summed outward from `start` relative to its probability.
    fn ln_tail(&self, start: u64, direction: Direction) -> f64 {
        let ln_start = self.ln_p(start);
        let (mut x, mut term, mut sum) = (start, 1.0f64, 1.0f64);
        loop {
            let ratio = match direction {
                Direction::Up if x < self.hi => self.ratio_up(x),
                Direction::Down if x > self.lo => 1.0 / self.ratio_up(x - 1),
                _ => break,
            };
            x = match direction {
                Direction::Up => x + 1,
                Direction::Down => x - 1,
            };
            term = if x.abs_diff(start) % ANCHOR == 0 {
                (self.ln_p(x) - ln_start).exp()
            } else {
                term * ratio
            };
            sum += term;
            // Ratios only fall further out, so the rest is below a geometric series.
            if ratio < 1.0 && term * ratio / (1.0 - ratio) < TAIL_EPSILON * sum {
                break;
            }
        }
        ln_start + sum.ln()
    }
}

#[derive(Clone, Copy)]
enum Direction {
    Up,
    Down,
}

/// ln of the binomial probability of `x` in `n` trials with success probability `p`, in
/// Loader's form: accurate to the last digits where ln Γ of n would not be.
fn ln_binomial_pmf(x: u64, n: u64, p: f64) -> f64 {
    let q = 1.0 - p;
    if x == 0 {
        return if n == 0 { 0.0 } else { n as f64 * q.ln() };
    }
    if x == n {
        return n as f64 * p.ln();
    }
    let (xf, nf) = (x as f64, n as f64);
    let lc = stirling_error(nf)
        - stirling_error(xf)
        - stirling_error(nf - xf)
        - deviance(xf, nf * p)
        - deviance(nf - xf, nf * q);
    let lf = std::f64::consts::TAU.ln() + xf.ln() + (-xf / nf).ln_1p();
    lc - 0.5 * lf
}

/// ln Γ(n + 1) − ((n + ½) ln n − n + ½ ln 2π): what Stirling's formula leaves out.
fn stirling_error(n: f64) -> f64 {
    const S: [f64; 5] = [
        1.0 / 12.0,
        1.0 / 360.0,
        1.0 / 1260.0,
        1.0 / 1680.0,
        1.0 / 1188.0,
    ];
    if n <= 15.0 {
        // Small enough for ln Γ to be exact to the last digits.
        return ln_gamma(n + 1.0) - (n + 0.5) * n.ln() + n - 0.5 * std::f64::consts::TAU.ln();
    }
    let nn = n * n;
    let series = if n > 500.0 {
        S[0] - S[1] / nn
    } else if n > 80.0 {
        S[0] - (S[1] - S[2] / nn) / nn
    } else if n > 35.0 {
        S[0] - (S[1] - (S[2] - S[3] / nn) / nn) / nn
    } else {
        S[0] - (S[1] - (S[2] - (S[3] - S[4] / nn) / nn) / nn) / nn
    };
    series / n
}

/// x ln(x / m) + m − x, the deviance of x from its mean m, without the cancellation the
/// formula suffers when x is near m (then a series in (x − m)/(x + m)).
fn deviance(x: f64, m: f64) -> f64 {
    if (x - m).abs() < 0.1 * (x + m) {
        let v = (x - m) / (x + m);
        let mut s = (x - m) * v;
        let mut ej = 2.0 * x * v;
        let v2 = v * v;
        for j in 1..1000 {
            ej *= v2;
            let next = s + ej / f64::from(2 * j + 1);
            if next == s {
                break;
            }
            s = next;
        }
        s
    } else {
        x * (x / m).ln() + m - x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole support summed term by term with ln Γ: right for small tables.
    fn by_the_definition(table: [[u64; 2]; 2]) -> f64 {
        let h = Hypergeometric::of(table);
        let ln_choose = |n: u64, k: u64| {
            ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
        };
        let n = h.marked + h.unmarked;
        let ln_p = |x: u64| {
            ln_choose(h.marked, x) + ln_choose(h.unmarked, h.draws - x) - ln_choose(n, h.draws)
        };
        let threshold = ln_p(table[0][0]) + (1.0 + 1e-7f64).ln();
        (h.lo..=h.hi)
            .map(ln_p)
            .filter(|l| *l <= threshold)
            .map(f64::exp)
            .sum::<f64>()
            .min(1.0)
    }

    #[test]
    fn small_tables_agree_with_the_definition() {
        for a in 0..12 {
            for b in [0, 1, 5, 13] {
                for c in [0, 2, 7] {
                    for d in [0, 3, 11, 40] {
                        let t = [[a, b], [c, d]];
                        let ours = fisher_exact(t).p_value;
                        let def = by_the_definition(t);
                        assert!((ours - def).abs() <= 1e-12 * def.max(1e-300), "{t:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn log_probabilities_stay_exact_for_huge_margins() {
        // ln P summed over a wide window around the mode is ln 1 = 0, which ln Γ's
        // rounding at 10^12 (about 0.01) would miss.
        let h = Hypergeometric::of([[1_000_000_000_000, 1_000_000_000_000]; 2]);
        let mode = h.mode();
        let total: f64 = (mode - 8_000_000..mode + 8_000_000)
            .step_by(1000)
            .map(|x| h.ln_p(x).exp() * 1000.0)
            .sum();
        assert!((total - 1.0).abs() < 1e-6, "{total}");
    }
}
