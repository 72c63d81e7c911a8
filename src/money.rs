//! Money as an integer count of the currency's minor unit (cents for USD/EUR).
//!
//! Budgets, caps and spend are compared against each other to decide whether to keep
//! spending a grant's money, so they are never floats. Experiment files write amounts in
//! major units ("20.00" dollars); they are converted once, at validation, and rejected if
//! they have more precision than the minor unit can hold.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(pub i64);

impl Money {
    pub const ZERO: Money = Money(0);

    /// Converts an amount in major units (as written in an experiment file) to minor units.
    /// Returns `None` if the amount is not finite or has sub-cent precision.
    pub fn from_major(amount: f64) -> Option<Money> {
        if !amount.is_finite() {
            return None;
        }
        let minor = (amount * 100.0).round();
        if ((minor / 100.0) - amount).abs() > 1e-9 || minor.abs() > 9.0e15 {
            return None;
        }
        Some(Money(minor as i64))
    }

    pub fn minor(self) -> i64 {
        self.0
    }

    pub fn as_major(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl std::ops::AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        Money(iter.map(|m| m.0).sum())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_major_units_exactly() {
        assert_eq!(Money::from_major(20.0), Some(Money(2000)));
        assert_eq!(Money::from_major(0.1 + 0.2), Some(Money(30)));
        assert_eq!(Money::from_major(19.99), Some(Money(1999)));
        assert_eq!(
            Money::from_major(1.005),
            None,
            "sub-cent amounts are rejected"
        );
        assert_eq!(Money::from_major(f64::NAN), None);
    }

    #[test]
    fn displays_two_decimals() {
        assert_eq!(Money(123456).to_string(), "1234.56");
        assert_eq!(Money(5).to_string(), "0.05");
        assert_eq!(Money(-250).to_string(), "-2.50");
    }
}
