//! The EU's Digital Services Act on Meta: ad sets that reach the EU (and the EEA) must name
//! who benefits from the ad (`dsa_beneficiary`) and who pays for it (`dsa_payor`), unless
//! the ad account has defaults (Meta's DSA transparency update, 2023; `GET
//! act_ID/dsa_recommendations` suggests values). Both the adapter's pre-flight check and
//! the mock use this list.

/// EU member states and the EEA countries, as ISO 3166-1 alpha-2 codes.
pub const EU_EEA: &[&str] = &[
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
];

/// The first targeted country in the EU or EEA, if any.
pub fn first_eu<'a, I: IntoIterator<Item = &'a str>>(countries: I) -> Option<&'a str> {
    countries.into_iter().find(|c| EU_EEA.contains(c))
}
