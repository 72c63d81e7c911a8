//! Meta's currency offsets: the unit budgets, bids and caps are sent in.
//!
//! Source: Marketing API "Currencies" (developers.facebook.com/docs/marketing-api/currencies):
//! amounts are integers in the currency's offset unit, 1 for the currencies below (a
//! ¥2,500 daily budget is `daily_budget=2500`) and 100 for every other currency Meta supports
//! (a $25.00 budget is `2500`). This is Meta's own table, not ISO 4217's minor digits: the
//! dinars of Bahrain or Jordan have three minor digits in ISO 4217 but offset 100 here.
//! Insights report `spend` in major units, as a decimal string.

use crate::money::Money;

/// Currencies whose offset is 1.
const OFFSET_ONE: &[&str] = &[
    "CLP", "COP", "CRC", "HUF", "IDR", "ISK", "JPY", "KRW", "PYG", "TWD", "VND",
];

/// How many offset units make one major unit of `currency`.
pub fn offset(currency: &str) -> i64 {
    if OFFSET_ONE.contains(&currency.to_ascii_uppercase().as_str()) {
        1
    } else {
        100
    }
}

/// A [`Money`] (hundredths of the major unit) as Meta's integer amount, if it is a whole
/// number of offset units.
pub fn to_wire(amount: Money, currency: &str) -> Option<i64> {
    let per_unit = 100 / offset(currency);
    (amount.minor() % per_unit == 0).then(|| amount.minor() / per_unit)
}

/// Meta's integer amount as a [`Money`].
pub fn from_wire(amount: i64, currency: &str) -> Money {
    Money(amount * (100 / offset(currency)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yen_are_sent_whole_and_dollars_in_cents() {
        assert_eq!(to_wire(Money(250_000), "JPY"), Some(2_500));
        assert_eq!(to_wire(Money(2_500), "USD"), Some(2_500));
        assert_eq!(
            to_wire(Money(50), "JPY"),
            None,
            "half a yen is no amount Meta takes"
        );
        assert_eq!(from_wire(2_500, "jpy"), Money(250_000));
        assert_eq!(from_wire(2_500, "BHD"), Money(2_500));
    }
}
