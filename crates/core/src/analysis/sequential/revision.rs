//! The difference's confidence sequence on counts the platform may still revise, under a
//! declared bound on the revisions (`[stopping] revision_bound`).
//!
//! Waiting for every count to settle makes each look trail its collection by the revision
//! window while the ads keep spending. A look can instead read the latest counts if it
//! allows for what their revisions can still change. The assumption, declared by the user:
//! every count read before it settles is within a factor `1 ± b` of its final value, so the
//! final count lies in `[read / (1 + b), read / (1 − b)]` (a settled count is exact).
//!
//! Construction: the sequence of [`super::difference`] is valid, at every look together,
//! for the *final* counts (the people the ads really reached). Whatever the final counts
//! in that box are, the sequence computed from them lies inside
//! `[min est − max radius, max est + max radius]` over the box, so that hull covers
//! whenever the sequence on the final counts does and the bound holds: the level stays α
//! (plus the chance that a revision breaks the bound, which the user's bound must make
//! negligible). The estimate `x1/n1 − x2/n2` is monotone in each ad's group count and in
//! the rest of its people, so its extremes are at the box's corners; the radius changes
//! with the counts only through the plug-in variance and `u(n)/n`, smoothly and by about
//! the bound relatively, and is taken at its largest over the corners and the counts as
//! read.
//!
//! This is a worst case over revisions (no model of them), in the spirit of a sensitivity
//! analysis (e.g. Rosenbaum's bounds); the confidence sequence itself is Waudby-Smith et
//! al. (2024)'s, unchanged. Checked by simulated coverage (`tests`): with revisions chosen
//! to push the estimate away from the truth, the sequence without the margin loses its
//! level and the hull keeps it.

use super::difference::{difference_look_real, DifferenceLook};

/// A count as read, split into its settled part (final) and the part the platform may
/// still revise by up to `bound` (relative).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Revisable {
    pub settled: f64,
    pub unsettled: f64,
}

impl Revisable {
    /// The final value's range under relative revisions of at most `bound`.
    fn range(&self, bound: f64) -> [f64; 2] {
        [
            self.settled + self.unsettled / (1.0 + bound),
            self.settled + self.unsettled / (1.0 - bound),
        ]
    }

    /// The count as read.
    fn read(&self) -> f64 {
        self.settled + self.unsettled
    }
}

/// One ad's counts for the pair: its people in the group and the rest of its people.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdCounts {
    pub group: Revisable,
    pub rest: Revisable,
}

/// The hull of the difference's sequence (`share(ad 1) − share(ad 2)` of the group) over
/// every set of final counts within relative revisions `bound` of `ad1`'s and `ad2`'s
/// counts as read, at level `alpha`, tightest near `t_opt` people. The estimate is the
/// counts' as read. `None` when the sequence is not given at some point of the box (too
/// few people, or an ad with nobody).
pub fn revised_difference_look(
    ad1: AdCounts,
    ad2: AdCounts,
    bound: f64,
    alpha: f64,
    t_opt: f64,
) -> Option<DifferenceLook> {
    let look = |x1: f64, r1: f64, x2: f64, r2: f64| {
        difference_look_real(x1, x1 + r1, x2, x2 + r2, alpha, t_opt)
    };
    let read = look(
        ad1.group.read(),
        ad1.rest.read(),
        ad2.group.read(),
        ad2.rest.read(),
    )?;
    let (g1, r1) = (ad1.group.range(bound), ad1.rest.range(bound));
    let (g2, r2) = (ad2.group.range(bound), ad2.rest.range(bound));
    let mut lowest = read.estimate;
    let mut highest = read.estimate;
    let mut radius = read.upper - read.estimate;
    for corner in 0..16u8 {
        let pick = |range: [f64; 2], bit: u8| range[usize::from(corner >> bit & 1)];
        let at = look(pick(g1, 0), pick(r1, 1), pick(g2, 2), pick(r2, 3))?;
        lowest = lowest.min(at.estimate);
        highest = highest.max(at.estimate);
        radius = radius.max(at.upper - at.estimate);
    }
    Some(DifferenceLook {
        estimate: read.estimate,
        lower: lowest - radius,
        upper: highest + radius,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::sequential::difference::difference_look;

    fn settled(x: f64) -> Revisable {
        Revisable {
            settled: x,
            unsettled: 0.0,
        }
    }

    fn fresh(x: f64) -> Revisable {
        Revisable {
            settled: 0.0,
            unsettled: x,
        }
    }

    #[test]
    fn settled_counts_give_the_sequence_itself() {
        let ad = |x: f64, n: f64| AdCounts {
            group: settled(x),
            rest: settled(n - x),
        };
        let got = revised_difference_look(ad(626.0, 1000.0), ad(401.0, 1000.0), 0.1, 0.05, 1e4);
        assert_eq!(got, difference_look(626, 1000, 401, 1000, 0.05, 1e4));
    }

    #[test]
    fn unsettled_counts_widen_the_sequence_by_what_revisions_can_change() {
        let ad = |x: f64, n: f64| AdCounts {
            group: fresh(x),
            rest: fresh(n - x),
        };
        let plain = difference_look(6000, 10_000, 4000, 10_000, 0.05, 1e4).unwrap();
        let got = revised_difference_look(ad(6e3, 1e4), ad(4e3, 1e4), 0.1, 0.05, 1e4).unwrap();
        assert_eq!(got.estimate, plain.estimate);
        // Each ad's share can move by up to about 2b·s(1 − s) = 0.048 either way.
        let widened = plain.lower - got.lower;
        assert!((0.09..0.11).contains(&widened), "widened by {widened}");
        assert!(got.upper - plain.upper > 0.09);
    }
}

/// Simulated coverage: does the sequence keep its level over every nightly look when each
/// look's counts are revised within the bound in the direction that hurts most?
#[cfg(test)]
mod coverage {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Binomial, Distribution};

    use super::*;
    use crate::analysis::sequential::difference::difference_look_real;

    const BOUND: f64 = 0.1;
    const ALPHA: f64 = 0.05;

    /// Runs of `looks` nightly looks at two ads with group shares `p1` and `p2`, each
    /// reaching `daily` new people a day; at every look each count is read a factor 1 ± b
    /// off its final value, pushing the difference up. The share of runs whose sequence
    /// (the hull with `margin`, else the plain sequence on the counts as read) leaves out
    /// the true difference at some look.
    fn miss_rate(margin: bool, runs: u32, looks: u32) -> f64 {
        let (p1, p2, daily) = (0.5, 0.45, 2000);
        let mut rng = ChaCha8Rng::seed_from_u64(18);
        let mut missed = 0;
        for _ in 0..runs {
            let (mut x1, mut x2, mut n) = (0.0, 0.0, 0.0);
            for _ in 0..looks {
                x1 += Binomial::new(daily, p1).unwrap().sample(&mut rng) as f64;
                x2 += Binomial::new(daily, p2).unwrap().sample(&mut rng) as f64;
                n += daily as f64;
                let read = |x: f64, up: bool| {
                    let f = if up { 1.0 + BOUND } else { 1.0 - BOUND };
                    Revisable {
                        settled: 0.0,
                        unsettled: x * f,
                    }
                };
                let (g1, r1) = (read(x1, true), read(n - x1, false));
                let (g2, r2) = (read(x2, false), read(n - x2, true));
                let look = if margin {
                    let ad = |group, rest| AdCounts { group, rest };
                    revised_difference_look(ad(g1, r1), ad(g2, r2), BOUND, ALPHA, 1e4)
                } else {
                    let (a, b) = (g1.read(), g2.read());
                    difference_look_real(a, a + r1.read(), b, b + r2.read(), ALPHA, 1e4)
                };
                if look.is_some_and(|l| l.excludes(p1 - p2)) {
                    missed += 1;
                    break;
                }
            }
        }
        f64::from(missed) / f64::from(runs)
    }

    #[test]
    fn revisions_within_the_bound_keep_the_level() {
        let rate = miss_rate(true, 1000, 30);
        assert!(
            rate <= ALPHA,
            "the hull missed the truth in {rate:.3} of runs"
        );
    }

    #[test]
    fn the_same_revisions_break_the_plain_sequence() {
        let rate = miss_rate(false, 200, 30);
        assert!(
            rate > 0.5,
            "the plain sequence missed in only {rate:.3} of runs"
        );
    }
}
