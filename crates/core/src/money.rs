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

    /// Parses a decimal amount in major units with at most two decimals ("12.34", "0.5",
    /// "7"), exactly, as Meta writes spend and a counts file's `spend` column holds it.
    /// The one parser of such amounts, so that spend read from the API and from a file
    /// cannot disagree by a cent. Surrounding whitespace is ignored. `None` for anything
    /// else: a sign (no spend is negative), a third decimal (it would be rounded away), no
    /// digit before the point, an exponent, or more than `i64` hundredths.
    pub fn parse_decimal(text: &str) -> Option<Money> {
        let (whole, frac) = split_decimal(text)?;
        if whole.is_empty() || frac.len() > 2 {
            return None;
        }
        let whole: i64 = whole.parse().ok()?;
        let frac: i64 = format!("{frac:0<2}").parse().ok()?;
        whole.checked_mul(100)?.checked_add(frac).map(Money)
    }

    pub fn minor(self) -> i64 {
        self.0
    }

    pub fn as_major(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

/// A currency an ad account can hold, with the unit the platform takes amounts in.
///
/// Source: Meta Marketing API "Currency codes" (developers.facebook.com/docs/marketing-api/
/// currencies): every currency an ad account may use, and its offset, the number of units
/// one major unit is sent as: 1 for currencies without subunits on Meta (a ¥2,500 budget is
/// `2500`), 100 for the rest (a $25.00 budget is `2500`). This is Meta's table, not ISO
/// 4217's minor digits: Bahrain's and Jordan's dinars have three minor digits in ISO 4217
/// but offset 100 here, and currencies such as KWD are not in it at all. [`Money`] holds
/// hundredths of the major unit, which represents every amount of every currency in the
/// table exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency {
    pub code: &'static str,
    /// Units of the platform's integer amounts per major unit: 1 or 100.
    pub offset: i64,
}

/// Meta's table. The rows after `TRY` (AED, USD, UYU, VEF, VND) are from the same page's
/// end as cited in `shared/research/meta-marketing-api.md`; HRK, LTL, LVL, SKK are kept
/// because the table still lists them.
const CURRENCIES: &[(&str, i64)] = &[
    ("AED", 100),
    ("ARS", 100),
    ("AUD", 100),
    ("BDT", 100),
    ("BGN", 100),
    ("BHD", 100),
    ("BOB", 100),
    ("BRL", 100),
    ("CAD", 100),
    ("CHF", 100),
    ("CLP", 1),
    ("CNY", 100),
    ("COP", 1),
    ("CRC", 1),
    ("CZK", 100),
    ("DKK", 100),
    ("DZD", 100),
    ("EGP", 100),
    ("EUR", 100),
    ("GBP", 100),
    ("GTQ", 100),
    ("HKD", 100),
    ("HNL", 100),
    ("HRK", 100),
    ("HUF", 1),
    ("IDR", 1),
    ("ILS", 100),
    ("INR", 100),
    ("ISK", 1),
    ("JOD", 100),
    ("JPY", 1),
    ("KES", 100),
    ("KRW", 1),
    ("LKR", 100),
    ("LTL", 100),
    ("LVL", 100),
    ("MOP", 100),
    ("MXN", 100),
    ("MYR", 100),
    ("NGN", 100),
    ("NIO", 100),
    ("NOK", 100),
    ("NZD", 100),
    ("PEN", 100),
    ("PHP", 100),
    ("PKR", 100),
    ("PLN", 100),
    ("PYG", 1),
    ("QAR", 100),
    ("RON", 100),
    ("RSD", 100),
    ("RUB", 100),
    ("SAR", 100),
    ("SEK", 100),
    ("SGD", 100),
    ("SKK", 100),
    ("THB", 100),
    ("TRY", 100),
    ("TWD", 1),
    ("USD", 100),
    ("UYU", 100),
    ("VEF", 100),
    ("VND", 1),
    ("ZAR", 100),
];

impl Currency {
    /// The currency with that ISO 4217 code, if ad accounts can hold it.
    pub fn parse(code: &str) -> Option<Currency> {
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|&(code, offset)| Currency { code, offset })
    }

    /// The codes, for error messages.
    pub fn codes() -> String {
        CURRENCIES
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Hundredths per platform unit: 100 for whole-unit currencies, 1 for the rest.
    fn step(self) -> i64 {
        100 / self.offset
    }

    /// Whether the platform can take `amount` (a whole number of its units).
    pub fn takes(self, amount: Money) -> bool {
        amount.0 % self.step() == 0
    }

    /// `amount` as the platform's integer, if it is a whole number of its units.
    pub fn to_wire(self, amount: Money) -> Option<i64> {
        self.takes(amount).then(|| amount.0 / self.step())
    }

    /// The platform's integer amount as [`Money`].
    pub fn from_wire(self, amount: i64) -> Money {
        Money(amount.saturating_mul(self.step()))
    }

    /// The smallest amount the platform takes, in major units ("1" for yen, "0.01" for
    /// dollars), for messages.
    pub fn smallest(self) -> &'static str {
        if self.offset == 1 {
            "1"
        } else {
            "0.01"
        }
    }
}

/// Digits after the decimal point of `currency`'s minor unit (ISO 4217): 0 for the yen or
/// the won, 3 for the dinars of Bahrain, Jordan, Kuwait, ..., 2 for everything else.
pub fn minor_digits(currency: &str) -> u32 {
    const NONE: &[&str] = &[
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
        "VUV", "XAF", "XOF", "XPF",
    ];
    const THREE: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
    if NONE.contains(&currency) {
        0
    } else if THREE.contains(&currency) {
        3
    } else {
        2
    }
}

/// Unsigned decimal text split at its point, each side digits only (either may be empty,
/// not both): what [`Money::parse_decimal`] and [`ExactAmount::parse`] share.
fn split_decimal(text: &str) -> Option<(&str, &str)> {
    let text = text.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    (!(whole.is_empty() && frac.is_empty()) && all_digits(whole) && all_digits(frac))
        .then_some((whole, frac))
}

/// An amount exactly as an export writes it ("2.3265551839465", "1.2E-5"), in units of
/// 10⁻¹⁸ of the major unit. Exports give spend with many more decimals than the currency
/// has; summing these exactly and rounding once ([`ExactAmount::round`]) keeps a total that
/// is summed from many rows (spend by gender over ages) within half a cent of the truth,
/// where rounding every row first could drift by a cent per row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct ExactAmount(i128);

impl ExactAmount {
    const DECIMALS: i32 = 18;

    /// Parses a non-negative decimal number with an optional exponent. Digits past the
    /// 18th decimal are dropped (which never changes a rounding to cents). `None` for
    /// anything else, negative amounts included.
    pub fn parse(text: &str) -> Option<ExactAmount> {
        let text = text.trim();
        let (mantissa, exponent) = match text.find(['e', 'E']) {
            Some(i) => (&text[..i], text[i + 1..].parse::<i32>().ok()?),
            None => (text, 0),
        };
        let (whole, frac) = split_decimal(mantissa)?;
        if !(-40..=40).contains(&exponent) {
            return None;
        }
        // The digits as one integer times 10^scale.
        let digits = format!("{whole}{frac}");
        let digits = digits.trim_start_matches('0');
        let scale = exponent - frac.len() as i32 + Self::DECIMALS;
        let keep = (digits.len() as i32 + scale.min(0)).max(0) as usize;
        let digits = &digits[..keep];
        if digits.len() as i32 + scale.max(0) > 38 {
            return None; // more than 10^20 major units: not an amount anyone spent
        }
        let mut units: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        for _ in 0..scale.max(0) {
            units *= 10;
        }
        Some(ExactAmount(units))
    }

    /// Rounded half away from zero to `currency`'s minor unit, as [`Money`] (hundredths of
    /// the major unit); `None` for currencies with three decimals, which `Money` cannot hold.
    pub fn round(self, currency: &str) -> Option<Money> {
        let digits = minor_digits(currency);
        if digits > 2 {
            return None;
        }
        let quantum = 10i128.pow(Self::DECIMALS as u32 - digits);
        let minor = (self.0 + quantum / 2) / quantum;
        let hundredths = minor * 10i128.pow(2 - digits);
        i64::try_from(hundredths).ok().map(Money)
    }
}

impl std::ops::Add for ExactAmount {
    type Output = ExactAmount;
    fn add(self, rhs: ExactAmount) -> ExactAmount {
        ExactAmount(self.0.saturating_add(rhs.0))
    }
}

impl std::iter::Sum for ExactAmount {
    fn sum<I: Iterator<Item = ExactAmount>>(iter: I) -> ExactAmount {
        iter.fold(ExactAmount::default(), |a, b| a + b)
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
    fn parses_two_decimal_amounts_exactly() {
        let p = Money::parse_decimal;
        assert_eq!(p("12.34"), Some(Money(1234)));
        assert_eq!(p("0.5"), Some(Money(50)));
        assert_eq!(p("7"), Some(Money(700)));
        assert_eq!(p("7."), Some(Money(700)));
        assert_eq!(p(" 0.07 "), Some(Money(7)));
        assert_eq!(p("0"), Some(Money::ZERO));
        assert_eq!(p("007.10"), Some(Money(710)));
        assert_eq!(p("92233720368547758.07"), Some(Money(i64::MAX)));
        for bad in [
            "",
            " ",
            ".",
            ".5",
            "1.234",
            "abc",
            "-1.50",
            "+1",
            "1.-5",
            "1.+5",
            "1e2",
            "1,5",
            "1.2.3",
            "0x10",
            "92233720368547758.08",
            "1 000",
        ] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
        // The same amount in both parsers: two decimals are exact in each.
        assert_eq!(
            ExactAmount::parse("12.34").unwrap().round("USD"),
            p("12.34")
        );
    }

    #[test]
    fn displays_two_decimals() {
        assert_eq!(Money(123456).to_string(), "1234.56");
        assert_eq!(Money(5).to_string(), "0.05");
        assert_eq!(Money(-250).to_string(), "-2.50");
    }

    #[test]
    fn exact_amounts_round_once_to_the_currency() {
        let a = |t: &str| ExactAmount::parse(t).unwrap();
        assert_eq!(a("2.3265551839465").round("EUR"), Some(Money(233)));
        assert_eq!(a("0.011404682274247").round("EUR"), Some(Money(1)));
        assert_eq!(
            a("0.005").round("USD"),
            Some(Money(1)),
            "half away from zero"
        );
        assert_eq!(a("0.0049999999999").round("USD"), Some(Money(0)));
        assert_eq!(a("12").round("USD"), Some(Money(1200)));
        assert_eq!(a(".5").round("USD"), Some(Money(50)));
        assert_eq!(a("1.2E-2").round("USD"), Some(Money(1)));
        assert_eq!(a("1.5e3").round("USD"), Some(Money(150_000)));
        // The yen has no minor unit: whole yen, kept as hundredths like every amount.
        assert_eq!(a("1234.5").round("JPY"), Some(Money(123_500)));
        assert_eq!(a("1.5").round("KWD"), None);
        // Sums are exact: three rows of 0.004 are 0.012, one cent, not zero.
        let sum: ExactAmount = ["0.004", "0.004", "0.004"].iter().map(|t| a(t)).sum();
        assert_eq!(sum.round("EUR"), Some(Money(1)));
        for bad in ["", "-1", "1,5", "abc", "1.2.3", "1e", ".", "1e999", "0x10"] {
            assert_eq!(ExactAmount::parse(bad), None, "{bad}");
        }
        assert_eq!(minor_digits("JPY"), 0);
        let yen = Currency::parse("JPY").unwrap();
        assert_eq!(
            yen.to_wire(Money(250_000)),
            Some(2_500),
            "¥2,500 is sent as 2500"
        );
        assert_eq!(
            yen.to_wire(Money(50)),
            None,
            "half a yen is no amount Meta takes"
        );
        assert_eq!(yen.from_wire(2_500), Money(250_000));
        let dollar = Currency::parse("USD").unwrap();
        assert_eq!(
            dollar.to_wire(Money(2_500)),
            Some(2_500),
            "$25 is sent as 2500"
        );
        assert_eq!(Currency::parse("BHD").unwrap().offset, 100);
        assert!(Currency::parse("KWD").is_none() && Currency::parse("ZZZ").is_none());
        assert_eq!(minor_digits("EUR"), 2);
        assert_eq!(minor_digits("KWD"), 3);
    }
}
