//! Pearson's chi-square test of independence for an r × c table of counts.
//!
//! In an audit the rows are ads and the columns demographic groups; the null hypothesis is
//! that every ad reached the same composition. Yates' continuity correction is off by
//! default: with the thousands of people a delivery audit reaches it changes nothing of
//! substance, and it makes the test conservative for small 2 × 2 tables where Fisher's exact
//! test is the better tool. It can be switched on to match scipy's `correction=True`.

use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};
use statrs::function::gamma::ln_gamma;

use crate::count;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChiSquareResult {
    pub statistic: f64,
    pub dof: u64,
    pub p_value: f64,
    /// log10 of the p-value, finite even where `p_value` underflows to 0.
    pub log10_p_value: f64,
    /// Cramér's V: effect size in [0, 1], comparable across table sizes. Written once per
    /// table in `results.json` (next to `chi2`), as it describes the table, not the test.
    #[serde(skip)]
    pub cramers_v: f64,
    pub yates: bool,
}

/// Why a table cannot be tested.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TableError {
    #[error("the table needs at least two rows and two columns with counts")]
    TooSmall,
    #[error("the table has no counts")]
    Empty,
}

/// Drops all-zero rows and columns (an ad that reached nobody, a group nobody in the table
/// belongs to): they carry no information and would make expected counts zero.
pub fn trim(table: &[Vec<u64>]) -> Vec<Vec<u64>> {
    let cols = table.first().map_or(0, Vec::len);
    let keep_col: Vec<bool> = (0..cols).map(|j| table.iter().any(|r| r[j] > 0)).collect();
    table
        .iter()
        .filter(|r| r.iter().any(|&v| v > 0))
        .map(|r| {
            r.iter()
                .zip(&keep_col)
                .filter(|(_, k)| **k)
                .map(|(v, _)| *v)
                .collect()
        })
        .collect()
}

/// A testable table (all-zero rows and columns dropped) with its row sums, column sums and
/// total, or why it cannot be tested.
pub(crate) struct Margins {
    pub table: Vec<Vec<u64>>,
    pub rows: Vec<f64>,
    pub cols: Vec<f64>,
    pub total: f64,
}

pub(crate) fn margins(table: &[Vec<u64>]) -> Result<Margins, TableError> {
    let t = trim(table);
    let rows = t.len();
    let cols = t.first().map_or(0, Vec::len);
    if rows < 2 || cols < 2 {
        return Err(if t.is_empty() {
            TableError::Empty
        } else {
            TableError::TooSmall
        });
    }
    // Summed exactly (a sum of counts near u64::MAX would wrap), then as floats.
    let row_sums: Vec<f64> = t
        .iter()
        .map(|r| count::sum(r.iter().copied()) as f64)
        .collect();
    let col_sums: Vec<f64> = (0..cols)
        .map(|j| count::sum(t.iter().map(|r| r[j])) as f64)
        .collect();
    let total = row_sums.iter().sum();
    Ok(Margins {
        table: t,
        rows: row_sums,
        cols: col_sums,
        total,
    })
}

/// The counts expected under independence, E = row sum × column sum / total, for every
/// cell of `table` as given (an all-zero row or column expects 0), as scipy's
/// `chi2_contingency(table).expected_freq`: what the chi-square and G-tests compare the
/// table with, for a reader to see which cells drive them.
pub fn expected_frequencies(table: &[Vec<u64>]) -> Vec<Vec<f64>> {
    let cols = table.first().map_or(0, Vec::len);
    let row_sums: Vec<f64> = table
        .iter()
        .map(|r| count::sum(r.iter().copied()) as f64)
        .collect();
    let col_sums: Vec<f64> = (0..cols)
        .map(|j| count::sum(table.iter().map(|r| r[j])) as f64)
        .collect();
    let total: f64 = row_sums.iter().sum();
    row_sums
        .iter()
        .map(|r| {
            col_sums
                .iter()
                .map(|c| if total > 0.0 { r * c / total } else { 0.0 })
                .collect()
        })
        .collect()
}

/// Pearson's chi-square test of independence. `yates` applies the continuity correction,
/// which is only defined (and only applied) for 2 × 2 tables.
pub fn chi_square_independence(
    table: &[Vec<u64>],
    yates: bool,
) -> Result<ChiSquareResult, TableError> {
    let Margins {
        table: t,
        rows: row_sums,
        cols: col_sums,
        total,
    } = margins(table)?;
    let (rows, cols) = (row_sums.len(), col_sums.len());
    let apply_yates = yates && rows == 2 && cols == 2;
    let mut statistic = 0.0;
    for (i, row) in t.iter().enumerate() {
        for (j, &observed) in row.iter().enumerate() {
            let expected = row_sums[i] * col_sums[j] / total;
            let mut diff = (observed as f64 - expected).abs();
            if apply_yates {
                diff = (diff - 0.5).max(0.0);
            }
            statistic += diff * diff / expected;
        }
    }
    let dof = ((rows - 1) * (cols - 1)) as u64;
    let (p_value, log10_p_value) = chi2_sf(statistic, dof as f64);
    let k = (rows.min(cols) - 1) as f64;
    Ok(ChiSquareResult {
        statistic,
        dof,
        p_value,
        log10_p_value,
        cramers_v: (statistic / (total * k)).sqrt(),
        yates: apply_yates,
    })
}

/// Upper tail of the chi-square distribution, and its log10 computed without underflow.
pub fn chi2_sf(x: f64, dof: f64) -> (f64, f64) {
    let dist = ChiSquared::new(dof).expect("positive degrees of freedom");
    let p = dist.sf(x);
    if p > 1e-290 {
        return (p, p.log10());
    }
    // Far in the tail: Q(a, y) ~ y^(a-1) e^(-y) / Γ(a) · Σ_k (a-1)…(a-k) / y^k with a = dof/2,
    // y = x/2, an asymptotic series that converges quickly when y ≫ a.
    let (a, y) = (dof / 2.0, x / 2.0);
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..30 {
        term *= (a - k as f64) / y;
        if term.abs() < 1e-17 {
            break;
        }
        sum += term;
    }
    let ln_q = (a - 1.0) * y.ln() - y - ln_gamma(a) + sum.ln();
    (p, ln_q / std::f64::consts::LN_10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn independent_table_has_zero_statistic() {
        let r = chi_square_independence(&[vec![10, 20], vec![20, 40]], false).unwrap();
        assert!(r.statistic.abs() < 1e-12);
        assert!((r.p_value - 1.0).abs() < 1e-12);
    }

    #[test]
    fn rejects_degenerate_tables() {
        assert_eq!(
            chi_square_independence(&[vec![1, 2]], false),
            Err(TableError::TooSmall)
        );
        assert_eq!(
            chi_square_independence(&[vec![0, 0], vec![0, 0]], false),
            Err(TableError::Empty)
        );
        // An all-zero row is dropped, leaving one row.
        assert_eq!(
            chi_square_independence(&[vec![5, 5], vec![0, 0]], false),
            Err(TableError::TooSmall)
        );
    }

    #[test]
    fn log_p_stays_finite_in_the_far_tail() {
        let (p, log10_p_value) = chi2_sf(5000.0, 1.0);
        assert_eq!(p, 0.0);
        // mpmath, 50 digits: log10 Q(1/2, 2500) = -1087.68383651432237...
        assert!(
            (log10_p_value - (-1_087.683_836_514_322_4)).abs() < 1e-9,
            "{log10_p_value}"
        );
    }
}
