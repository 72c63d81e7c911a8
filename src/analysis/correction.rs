//! Multiple-comparison corrections across all tests of an experiment.
//!
//! An audit of 55 ads runs many tests; reporting each at alpha = 0.05 would find "skew" by
//! chance. Adjusted p-values follow statsmodels' `multipletests` (monotone, capped at 1).

use crate::vocab::Correction;

/// Adjusted p-values, in the order given.
pub fn adjust(p: &[f64], method: Correction) -> Vec<f64> {
    let m = p.len();
    if m == 0 {
        return Vec::new();
    }
    let mf = m as f64;
    match method {
        Correction::None => p.to_vec(),
        Correction::Bonferroni => p.iter().map(|&x| (x * mf).min(1.0)).collect(),
        Correction::Holm => {
            let mut order: Vec<usize> = (0..m).collect();
            order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
            let mut out = vec![0.0; m];
            let mut running = 0.0f64;
            for (rank, &i) in order.iter().enumerate() {
                running = running.max(((mf - rank as f64) * p[i]).min(1.0));
                out[i] = running;
            }
            out
        }
        Correction::BenjaminiHochberg => {
            let mut order: Vec<usize> = (0..m).collect();
            order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
            let mut out = vec![0.0; m];
            let mut running = 1.0f64;
            for (k, &i) in order.iter().enumerate() {
                let rank = (m - k) as f64;
                running = running.min(p[i] * mf / rank);
                out[i] = running.min(1.0);
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
}
