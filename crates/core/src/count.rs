//! Counts as they enter adskew: the one parser of a count written in a file, the bound every
//! count is held to, and sums that cannot overflow.
//!
//! A count is what a platform reports for one group of one ad: people reached, impressions,
//! clicks. The bound, [`MAX_COUNT`] (10¹²), is far above anything a platform reports for one
//! ad (Meta's whole audience is a few billion people; 10¹² impressions would cost billions)
//! and far below where arithmetic breaks: a million such counts add up within `u64`, and any
//! of them fits SQLite's signed 64-bit integers. A larger number in a file is a typo or a
//! damaged export, and refusing it where it enters keeps every later sum, table and test
//! meaningful. Every reader of counts (`analyze --counts`, `import`) parses with
//! [`parse_count`]; the store refuses what does not fit its integers.

/// The largest count adskew accepts for one row (one group of one ad): 10¹².
pub const MAX_COUNT: u64 = 1_000_000_000_000;

/// [`MAX_COUNT`] as people read it in messages.
pub const MAX_COUNT_TEXT: &str = "1000000000000 (10^12)";

/// Why a text is not a count. The messages complete a sentence about the text: "reach `-3`
/// is negative".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CountError {
    #[error("is empty")]
    Empty,
    #[error("is negative")]
    Negative,
    #[error("is not a whole number")]
    NotWhole,
    #[error("is not a number")]
    NotANumber,
    #[error("is above {MAX_COUNT_TEXT}, more than any platform reports for one group of one ad")]
    TooLarge,
}

/// The fix every count error names.
pub const COUNT_FIX: &str = "write a whole number from 0 to 1000000000000 (10^12), digits only";

/// A count written in a file: ASCII digits only, at most [`MAX_COUNT`].
pub fn parse_count(text: &str) -> Result<u64, CountError> {
    if text.is_empty() {
        return Err(CountError::Empty);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(if text.starts_with('-') {
            CountError::Negative
        } else if text.contains(['.', ',']) {
            CountError::NotWhole
        } else {
            CountError::NotANumber
        });
    }
    // Digits only: a failure to parse can only be a number beyond u64.
    match text.parse::<u64>() {
        Ok(n) if n <= MAX_COUNT => Ok(n),
        _ => Err(CountError::TooLarge),
    }
}

/// The exact sum of `counts`, which no number of counts can overflow.
pub fn sum(counts: impl IntoIterator<Item = u64>) -> u128 {
    counts.into_iter().map(u128::from).sum()
}

/// `sum` as a `u64` for a field that holds a total, or `u64::MAX` if it does not fit (only
/// reachable with more than eighteen million counts at [`MAX_COUNT`] in one sum).
pub fn total(counts: impl IntoIterator<Item = u64>) -> u64 {
    u64::try_from(sum(counts)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_digits_within_the_bound() {
        assert_eq!(parse_count("0"), Ok(0));
        assert_eq!(parse_count("1000000000000"), Ok(MAX_COUNT));
        assert_eq!(parse_count("1000000000001"), Err(CountError::TooLarge));
        assert_eq!(
            parse_count("18446744073709551616"),
            Err(CountError::TooLarge)
        );
        assert_eq!(parse_count("-3"), Err(CountError::Negative));
        assert_eq!(parse_count("1.5"), Err(CountError::NotWhole));
        assert_eq!(parse_count("1e3"), Err(CountError::NotANumber));
        assert_eq!(parse_count("+3"), Err(CountError::NotANumber));
        assert_eq!(parse_count(""), Err(CountError::Empty));
    }

    #[test]
    fn sums_do_not_wrap() {
        assert_eq!(sum([u64::MAX, u64::MAX]), 2 * u128::from(u64::MAX));
        assert_eq!(total([u64::MAX, 1]), u64::MAX);
        assert_eq!(total([MAX_COUNT, MAX_COUNT]), 2 * MAX_COUNT);
    }
}
