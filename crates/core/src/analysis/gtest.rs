//! The G-test of independence (log-likelihood ratio) for an r × c table of counts, and
//! the chi-square goodness-of-fit test of one ad's composition against the eligible
//! audience's.
//!
//! The G-test answers the same question as Pearson's chi-square and has the same limiting
//! distribution; some audit papers report it, and where the two disagree the table is small
//! enough to want Fisher's exact test. Goodness of fit asks a different question: not "do
//! the ads differ?" but "does this ad's audience differ from who was eligible?", which is
//! the comparison Meta's own variance-reduction reports make.

use serde::Serialize;

use super::chisq::{chi2_sf, margins, Margins, TableError};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GTestResult {
    pub statistic: f64,
    pub dof: u64,
    pub p_value: f64,
    pub log10_p_value: f64,
    /// Whether Yates' correction was applied (2 × 2 tables only; written only then, so
    /// uncorrected results read as before).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub yates: bool,
}

/// G = 2 Σ O ln(O / E) over the cells, E from the margins; df = (r − 1)(c − 1). Cells with
/// O = 0 contribute nothing (the limit of O ln O). Matches scipy's
/// `chi2_contingency(table, correction=False, lambda_="log-likelihood")`.
pub fn g_test_independence(table: &[Vec<u64>]) -> Result<GTestResult, TableError> {
    g_test(table, false)
}

/// [`g_test_independence`], with Yates' continuity correction when `yates` and the table
/// is 2 × 2, as scipy's `chi2_contingency(table, correction=True,
/// lambda_="log-likelihood")` applies it: each observed count moves half a unit toward its
/// expected count (less when it is nearer than that) before G is computed. The same
/// switch as the chi-square test's (`--yates`), so the two tests of a table agree on it.
pub fn g_test(table: &[Vec<u64>], yates: bool) -> Result<GTestResult, TableError> {
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
            let mut o = observed as f64;
            if apply_yates {
                let toward = expected - o;
                o += toward.signum() * toward.abs().min(0.5);
            }
            if o > 0.0 {
                statistic += o * (o / expected).ln();
            }
        }
    }
    statistic *= 2.0;
    let dof = ((rows - 1) * (cols - 1)) as u64;
    let (p_value, log10_p_value) = chi2_sf(statistic, dof as f64);
    Ok(GTestResult {
        statistic,
        dof,
        p_value,
        log10_p_value,
        yates: apply_yates,
    })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoodnessOfFit {
    pub statistic: f64,
    pub dof: u64,
    pub p_value: f64,
    pub log10_p_value: f64,
    /// Total variation distance between the delivered and the expected composition (Meta's
    /// "shuffle distance"): half the sum of absolute share differences, in [0, 1].
    pub total_variation: f64,
}

/// Why a goodness-of-fit test cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    #[error("observed counts and expected shares have different lengths")]
    Mismatch,
    #[error("at least two groups are needed")]
    TooFew,
    #[error("nothing was observed")]
    Empty,
    #[error("expected shares must be positive and finite")]
    BadShare,
}

/// Pearson's chi-square goodness of fit of `observed` counts to `expected` shares (scaled
/// to sum to one), df = k − 1. Matches scipy's `chisquare(f_obs, f_exp)` with
/// `f_exp = shares · n`.
pub fn goodness_of_fit(observed: &[u64], expected: &[f64]) -> Result<GoodnessOfFit, FitError> {
    if observed.len() != expected.len() {
        return Err(FitError::Mismatch);
    }
    if observed.len() < 2 {
        return Err(FitError::TooFew);
    }
    if expected.iter().any(|e| !(e.is_finite() && *e > 0.0)) {
        return Err(FitError::BadShare);
    }
    let n: f64 = observed.iter().map(|&o| o as f64).sum();
    if n == 0.0 {
        return Err(FitError::Empty);
    }
    let share_total: f64 = expected.iter().sum();
    let mut statistic = 0.0;
    let mut total_variation = 0.0;
    for (&o, &e) in observed.iter().zip(expected) {
        let share = e / share_total;
        let exp_count = share * n;
        let d = o as f64 - exp_count;
        statistic += d * d / exp_count;
        total_variation += (o as f64 / n - share).abs();
    }
    let dof = (observed.len() - 1) as u64;
    let (p_value, log10_p_value) = chi2_sf(statistic, dof as f64);
    Ok(GoodnessOfFit {
        statistic,
        dof,
        p_value,
        log10_p_value,
        total_variation: total_variation / 2.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffle_distance_of_the_documented_example() {
        // Eligible 50/50, delivered 60/40: SD = 0.10 (methodology notes §6.4).
        let r = goodness_of_fit(&[600, 400], &[0.5, 0.5]).unwrap();
        assert!((r.total_variation - 0.10).abs() < 1e-12);
        assert_eq!(r.dof, 1);
    }

    #[test]
    fn degenerate_inputs_are_named() {
        assert_eq!(goodness_of_fit(&[1], &[1.0]), Err(FitError::TooFew));
        assert_eq!(goodness_of_fit(&[0, 0], &[0.5, 0.5]), Err(FitError::Empty));
        assert_eq!(goodness_of_fit(&[1, 2], &[0.5]), Err(FitError::Mismatch));
        assert_eq!(
            goodness_of_fit(&[1, 2], &[0.0, 1.0]),
            Err(FitError::BadShare)
        );
        assert_eq!(
            g_test_independence(&[vec![3, 4]]),
            Err(TableError::TooSmall)
        );
    }
}
