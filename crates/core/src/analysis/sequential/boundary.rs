//! Robbins' two-sided normal-mixture boundary (Robbins 1970; Howard, Ramdas, McAuliffe &
//! Sekhon 2021, "Time-uniform, nonparametric, nonasymptotic confidence sequences", Ann.
//! Statist. 49(2), §3.3 and Proposition 5).
//!
//! For a process S with `exp(λ S_v − λ² v / 2)` a supermartingale for every λ (a sum of
//! sub-Gaussian increments in "intrinsic time" v, or, asymptotically, any sum of
//! finite-variance increments standardised by their variance), mixing λ over N(0, 1/ρ)
//! gives `P(∃ v: |S_v| ≥ u(v)) ≤ α` with
//! `u(v) = sqrt((v + ρ) ln((v + ρ) / (ρ α²)))`. The precision ρ is fixed before any data
//! and only sets where the boundary is tightest: [`best_rho`] makes it narrowest at a
//! planned intrinsic time, as `ville.best_rho` does.

/// The boundary `u(v)` at intrinsic time `v` for level `alpha` and mixing precision `rho`.
pub fn normal_mixture(v: f64, alpha: f64, rho: f64) -> f64 {
    let w = v + rho;
    (w * (w / (rho * alpha * alpha)).ln()).sqrt()
}

/// The mixing precision that makes [`normal_mixture`] narrowest at intrinsic time `v_opt`.
///
/// Setting the derivative in ρ to zero gives, for `x = v_opt / ρ`,
/// `x − ln(1 + x) = ln(1 / α²)`; solved by Newton's method from above (the left side is
/// convex and increasing for x > 0, so the iterates fall monotonically to the root).
pub fn best_rho(v_opt: f64, alpha: f64) -> f64 {
    let target = -2.0 * alpha.ln();
    let mut x = target + (1.0 + 2.0 * target).ln() + 1.0;
    for _ in 0..100 {
        let f = x - (1.0 + x).ln() - target;
        let step = f / (x / (1.0 + x));
        x -= step;
        if step.abs() <= 1e-15 * x {
            break;
        }
    }
    v_opt / x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_rho_minimises_the_boundary() {
        for alpha in [0.01, 0.05, 0.1] {
            let rho = best_rho(1000.0, alpha);
            let at = normal_mixture(1000.0, alpha, rho);
            assert!(at < normal_mixture(1000.0, alpha, rho * 1.01));
            assert!(at < normal_mixture(1000.0, alpha, rho * 0.99));
        }
    }

    #[test]
    fn a_smaller_alpha_widens_the_boundary() {
        let rho = best_rho(1000.0, 0.05);
        assert!(normal_mixture(500.0, 0.01, rho) > normal_mixture(500.0, 0.05, rho));
    }
}
