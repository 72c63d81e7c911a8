//! Multiple-comparison corrections across all tests of an experiment.
//!
//! An audit of 55 ads runs many tests; reporting each at alpha = 0.05 would find "skew" by
//! chance. Adjusted p-values follow statsmodels' `multipletests` (monotone, capped at 1).

use crate::vocab::Correction;

/// Adjusted p-values, in the order given.
pub fn adjust(p: &[f64], method: Correction) -> Vec<f64> {
    adjust_on(p, method, |p, k| p * k, 1.0)
}

/// The same adjustment on log10 p-values: finite where p (and so the adjusted p) underflows
/// to 0, so that the strongest skews still rank after correction.
pub fn adjust_log10(log10_p: &[f64], method: Correction) -> Vec<f64> {
    adjust_on(log10_p, method, |l, k| l + k.log10(), 0.0)
}

/// The corrections on any monotone scale of p: `times(x, k)` is x multiplied by k on that
/// scale and `one` is p = 1 (the cap).
fn adjust_on(p: &[f64], method: Correction, times: fn(f64, f64) -> f64, one: f64) -> Vec<f64> {
    let m = p.len();
    if m == 0 {
        return Vec::new();
    }
    let mf = m as f64;
    match method {
        Correction::None => p.to_vec(),
        Correction::Bonferroni => p.iter().map(|&x| times(x, mf).min(one)).collect(),
        Correction::Holm => {
            let mut order: Vec<usize> = (0..m).collect();
            order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
            let mut out = vec![0.0; m];
            let mut running = f64::NEG_INFINITY;
            for (rank, &i) in order.iter().enumerate() {
                running = running.max(times(p[i], mf - rank as f64).min(one));
                out[i] = running;
            }
            out
        }
        Correction::BenjaminiHochberg => {
            let mut order: Vec<usize> = (0..m).collect();
            order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
            let mut out = vec![0.0; m];
            let mut running = one;
            for (k, &i) in order.iter().enumerate() {
                let rank = (m - k) as f64;
                running = running.min(times(p[i], mf / rank));
                out[i] = running.min(one);
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hand_computed_values() {
        let p = [0.01, 0.04, 0.03, 0.2];
        assert_eq!(
            adjust(&p, Correction::Bonferroni),
            vec![0.04, 0.16, 0.12, 0.8]
        );
        let holm = adjust(&p, Correction::Holm);
        let expected = [0.04, 0.09, 0.09, 0.2];
        for (a, b) in holm.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{holm:?}");
        }
        let bh = adjust(&p, Correction::BenjaminiHochberg);
        let expected = [
            0.04,
            0.053_333_333_333_333_33,
            0.053_333_333_333_333_33,
            0.2,
        ];
        for (a, b) in bh.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{bh:?}");
        }
    }

    #[test]
    fn log10_adjustment_ranks_what_underflows() {
        // Two p-values far below what a double holds: both adjust to 0, their logs do not.
        let log10_p = [-927.6, -431.5, -1.0];
        for method in [
            Correction::Bonferroni,
            Correction::Holm,
            Correction::BenjaminiHochberg,
        ] {
            let adjusted = adjust_log10(&log10_p, method);
            assert!(
                adjusted[0] < adjusted[1] && adjusted[1] < adjusted[2],
                "{method}"
            );
            assert!(
                adjusted[0] > -927.6 && adjusted[0] < -926.0,
                "{method}: {adjusted:?}"
            );
        }
    }
}
