//! E-values of skew, from counts alone, valid at every look: a test martingale (or a
//! quantity below one) under the null, so `P(∃ look: E ≥ 1/α) ≤ α` (Ville's inequality).
//!
//! Construction: the sequential likelihood ratio of universal inference (Wasserman,
//! Ramdas & Balakrishnan 2020, "Universal inference", PNAS 117(29), §7 and Howard et al.
//! 2021's conjugate mixtures), with the Dirichlet(1, …, 1)–multinomial marginal (Laplace's
//! rule of succession, a predictable plug-in) in the numerator:
//!
//! - against one expected composition q (goodness of fit): `E = m(x) / Π q_j^{x_j}`, the
//!   Bayes factor `ville.BernoulliTest` computes for two groups;
//! - across ads (independence, the chi-square case): each ad's marginal, multiplied, over
//!   the null likelihood maximised at the pooled shares. For the true common composition
//!   q*, `Π m_i / L(q*)` is a test martingale in the people reached, whichever ad reached
//!   them; dividing by `sup_q L(q) ≥ L(q*)` keeps it below one, so it is an e-process.
//!
//! Both are exchangeable, so computed from the cumulative counts at each collection.

use statrs::function::gamma::ln_gamma;

/// ln of the Dirichlet(1, …, 1)–multinomial probability of one ordered sequence with
/// these counts: `ln Γ(k) − ln Γ(k + n) + Σ ln Γ(1 + x_j)`.
fn log_marginal(counts: &[u64]) -> f64 {
    let k = counts.len() as f64;
    let n: f64 = counts.iter().map(|&x| x as f64).sum();
    ln_gamma(k) - ln_gamma(k + n)
        + counts
            .iter()
            .map(|&x| ln_gamma(1.0 + x as f64))
            .sum::<f64>()
}

/// `Σ x_j ln q_j`, with `0 ln 0 = 0`.
fn log_likelihood(counts: &[u64], shares: &[f64]) -> f64 {
    counts
        .iter()
        .zip(shares)
        .filter(|(&x, _)| x > 0)
        .map(|(&x, &q)| x as f64 * q.ln())
        .sum()
}

/// ln E of one ad's counts against an expected composition (shares summing to one).
pub fn log_e_fit(counts: &[u64], shares: &[f64]) -> f64 {
    log_marginal(counts) - log_likelihood(counts, shares)
}

/// ln E of independence of a table (rows ads, columns groups): 0 (no evidence) for a
/// table with fewer than two rows or columns.
pub fn log_e_independence(table: &[Vec<u64>]) -> f64 {
    let cols = table.first().map_or(0, Vec::len);
    if table.len() < 2 || cols < 2 {
        return 0.0;
    }
    let column = |j: usize| table.iter().map(|r| r[j] as f64).sum::<f64>();
    let totals: Vec<f64> = (0..cols).map(column).collect();
    let n: f64 = totals.iter().sum();
    if n == 0.0 {
        return 0.0;
    }
    let pooled: Vec<f64> = totals.iter().map(|t| t / n).collect();
    table.iter().map(|row| log_e_fit(row, &pooled)).sum()
}

/// The always-valid p-value after looks with these ln e-values, in order:
/// `min(1, 1 / max E)` (an e-process's running maximum; Ramdas et al. 2023, "Game-
/// theoretic statistics and safe anytime-valid inference", Stat. Sci., §5).
pub fn always_valid_p(log_e: impl IntoIterator<Item = f64>) -> f64 {
    let max = log_e.into_iter().fold(0.0_f64, f64::max);
    (-max).exp().min(1.0)
}
