//! Customer-list PII: normalised per Meta's rules, then SHA-256 hashed, before it leaves the
//! process. Raw values are never stored or logged (invariant 4); only the hashes are sent.
//!
//! The rules are Meta's documented ones (research notes §3.3). Where Meta's Python SDK
//! differs (it drops accented letters from names and keeps leading zeros of phone numbers),
//! the documented rule is followed: a name keeps its letters in UTF-8, a phone number loses
//! its leading zeros and must carry its country code.

use adskew_core::digest::sha256_hex;

/// The customer-list keys Meta accepts (the schema names it uses on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PiiKey {
    Email,
    Phone,
    Gender,
    BirthYear,
    BirthMonth,
    BirthDay,
    FirstName,
    LastName,
    FirstInitial,
    City,
    State,
    Zip,
    Country,
    /// The advertiser's own id: not hashed.
    ExternId,
}

impl PiiKey {
    /// Meta's schema name for the key.
    pub fn schema_name(self) -> &'static str {
        match self {
            PiiKey::Email => "EMAIL",
            PiiKey::Phone => "PHONE",
            PiiKey::Gender => "GEN",
            PiiKey::BirthYear => "DOBY",
            PiiKey::BirthMonth => "DOBM",
            PiiKey::BirthDay => "DOBD",
            PiiKey::FirstName => "FN",
            PiiKey::LastName => "LN",
            PiiKey::FirstInitial => "FI",
            PiiKey::City => "CT",
            PiiKey::State => "ST",
            PiiKey::Zip => "ZIP",
            PiiKey::Country => "COUNTRY",
            PiiKey::ExternId => "EXTERN_ID",
        }
    }

    /// The key for a CSV column name (case-insensitive; common spellings accepted).
    pub fn from_column(name: &str) -> Option<PiiKey> {
        let key = match name
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '-'], "_")
            .as_str()
        {
            "email" | "e_mail" => PiiKey::Email,
            "phone" | "phone_number" | "mobile" => PiiKey::Phone,
            "gender" | "gen" | "sex" => PiiKey::Gender,
            "doby" | "birth_year" | "year_of_birth" => PiiKey::BirthYear,
            "dobm" | "birth_month" => PiiKey::BirthMonth,
            "dobd" | "birth_day" => PiiKey::BirthDay,
            "fn" | "first_name" | "firstname" => PiiKey::FirstName,
            "ln" | "last_name" | "lastname" | "surname" => PiiKey::LastName,
            "fi" | "first_initial" => PiiKey::FirstInitial,
            "ct" | "city" => PiiKey::City,
            "st" | "state" => PiiKey::State,
            "zip" | "zip_code" | "postcode" | "postal_code" => PiiKey::Zip,
            "country" => PiiKey::Country,
            "extern_id" | "external_id" => PiiKey::ExternId,
            _ => return None,
        };
        Some(key)
    }
}

/// Letters only (any script), lowercased: names, cities, states.
fn letters(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphabetic())
        .flat_map(char::to_lowercase)
        .collect()
}

fn digits(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_digit()).collect()
}

/// US state names (letters only, lowercase) and their ANSI codes.
const US_STATES: [(&str, &str); 51] = [
    ("alabama", "al"),
    ("alaska", "ak"),
    ("arizona", "az"),
    ("arkansas", "ar"),
    ("california", "ca"),
    ("colorado", "co"),
    ("connecticut", "ct"),
    ("delaware", "de"),
    ("districtofcolumbia", "dc"),
    ("florida", "fl"),
    ("georgia", "ga"),
    ("hawaii", "hi"),
    ("idaho", "id"),
    ("illinois", "il"),
    ("indiana", "in"),
    ("iowa", "ia"),
    ("kansas", "ks"),
    ("kentucky", "ky"),
    ("louisiana", "la"),
    ("maine", "me"),
    ("maryland", "md"),
    ("massachusetts", "ma"),
    ("michigan", "mi"),
    ("minnesota", "mn"),
    ("mississippi", "ms"),
    ("missouri", "mo"),
    ("montana", "mt"),
    ("nebraska", "ne"),
    ("nevada", "nv"),
    ("newhampshire", "nh"),
    ("newjersey", "nj"),
    ("newmexico", "nm"),
    ("newyork", "ny"),
    ("northcarolina", "nc"),
    ("northdakota", "nd"),
    ("ohio", "oh"),
    ("oklahoma", "ok"),
    ("oregon", "or"),
    ("pennsylvania", "pa"),
    ("rhodeisland", "ri"),
    ("southcarolina", "sc"),
    ("southdakota", "sd"),
    ("tennessee", "tn"),
    ("texas", "tx"),
    ("utah", "ut"),
    ("vermont", "vt"),
    ("virginia", "va"),
    ("washington", "wa"),
    ("westvirginia", "wv"),
    ("wisconsin", "wi"),
    ("wyoming", "wy"),
];

/// A US phone number given without its country code (10 digits, in a row whose country is
/// the US) gets the `1` Meta requires; other numbers are kept as given.
pub fn with_country_code(phone: &str, country: Option<&str>) -> String {
    if phone.len() == 10 && country == Some("us") {
        format!("1{phone}")
    } else {
        phone.to_string()
    }
}

/// Normalises one value; `None` if nothing valid is left (the row counts as invalid).
pub fn normalize(key: PiiKey, raw: &str) -> Option<String> {
    let s = raw.trim_matches(|c: char| c.is_whitespace() || c == '\0' || c == '.');
    let out = match key {
        PiiKey::Email => {
            let e = s.to_lowercase();
            let (local, domain) = e.split_once('@')?;
            if local.is_empty() || !domain.contains('.') || e.contains(char::is_whitespace) {
                return None;
            }
            e
        }
        PiiKey::Phone => {
            let d = digits(s);
            let d = d.trim_start_matches('0').to_string();
            // E.164 numbers with country code have 8 to 15 digits.
            if !(8..=15).contains(&d.len()) {
                return None;
            }
            d
        }
        PiiKey::Gender => match s.to_lowercase().chars().next()? {
            c @ ('m' | 'f') => c.to_string(),
            _ => return None,
        },
        PiiKey::BirthYear => {
            let d = digits(s);
            let year: u32 = d.parse().ok()?;
            if d.len() != 4 || !(1900..=2100).contains(&year) {
                return None;
            }
            d
        }
        PiiKey::BirthMonth | PiiKey::BirthDay => {
            let n: u32 = digits(s).parse().ok()?;
            let max = if key == PiiKey::BirthMonth { 12 } else { 31 };
            if !(1..=max).contains(&n) {
                return None;
            }
            format!("{n:02}")
        }
        PiiKey::FirstName | PiiKey::LastName | PiiKey::City => letters(s),
        // US states as their 2-letter ANSI code (Meta's rule); other regions as letters.
        PiiKey::State => {
            let l = letters(s);
            US_STATES
                .iter()
                .find(|(name, _)| *name == l)
                .map_or(l, |(_, code)| code.to_string())
        }
        PiiKey::FirstInitial => letters(s).chars().next()?.to_string(),
        PiiKey::Zip => {
            let z: String = s
                .split('-')
                .next()?
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            // A US ZIP+4 written without its dash: the first five digits.
            if z.len() == 9 && z.chars().all(|c| c.is_ascii_digit()) {
                z[..5].to_string()
            } else {
                z.to_lowercase()
            }
        }
        PiiKey::Country => {
            let c = letters(s);
            if c.chars().count() != 2 {
                return None;
            }
            c
        }
        PiiKey::ExternId => s.to_string(),
    };
    (!out.is_empty()).then_some(out)
}

/// The value as sent to Meta: normalised and hashed (EXTERN_ID normalised only).
pub fn hash(key: PiiKey, raw: &str) -> Option<String> {
    let n = normalize(key, raw)?;
    Some(if key == PiiKey::ExternId {
        n
    } else {
        sha256_hex(&n)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors from the research notes §3.3, recomputed with Python's hashlib.
    #[test]
    fn us_states_zip_plus_four_and_country_codes_follow_metas_rules() {
        assert_eq!(
            normalize(PiiKey::State, "North Carolina").as_deref(),
            Some("nc")
        );
        assert_eq!(normalize(PiiKey::State, "NC").as_deref(), Some("nc"));
        assert_eq!(
            normalize(PiiKey::State, "Bayern").as_deref(),
            Some("bayern")
        );
        assert_eq!(
            normalize(PiiKey::Zip, "940251234").as_deref(),
            Some("94025")
        );
        assert_eq!(
            normalize(PiiKey::Zip, "94025-1234").as_deref(),
            Some("94025")
        );
        assert_eq!(with_country_code("6505551234", Some("us")), "16505551234");
        assert_eq!(with_country_code("6505551234", Some("de")), "6505551234");
        assert_eq!(with_country_code("16505551234", Some("us")), "16505551234");
    }

    #[test]
    fn hashes_match_known_vectors() {
        let cases = [
            (
                PiiKey::Email,
                "  John.Doe@Example.COM ",
                "836f82db99121b3481011f16b49dfa5fbc714a0d1b1b9f784a1ebbbf5b39577f",
            ),
            (
                PiiKey::Phone,
                "+1 (650) 555-1234",
                "6069d14bf122fdfd931dc7beb58e5dfbba395b1faf05bdcd42d12358d63d8599",
            ),
            (
                PiiKey::Phone,
                "001 650 555 1234",
                "6069d14bf122fdfd931dc7beb58e5dfbba395b1faf05bdcd42d12358d63d8599",
            ),
            (
                PiiKey::Gender,
                "Male",
                "62c66a7a5dd70c3146618063c344e531e6d4b59e379808443ce962b3abd63c5a",
            ),
            (
                PiiKey::Zip,
                "94025-1234",
                "b9a9cf3cd3723a2e91b7c23ecf68456e872b6e5d86e5cab7f3d45a7302da32c7",
            ),
            (
                PiiKey::Country,
                " US ",
                "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621",
            ),
            (
                PiiKey::FirstName,
                "John",
                "96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a",
            ),
            (
                PiiKey::LastName,
                "Smith,",
                "6627835f988e2c5e50533d491163072d3f4f41f5c8b04630150debb3722ca2dd",
            ),
            (
                PiiKey::BirthYear,
                "1990",
                "a7be8e1fe282a37cd666e0632b17d933fa13f21addf4798fc0455bc166e2488c",
            ),
            (
                PiiKey::BirthMonth,
                "1",
                "938db8c9f82c8cb58d3f3ef4fd250036a48d26a712753d2fde5abd03a85cabf4",
            ),
        ];
        for (key, raw, expected) in cases {
            assert_eq!(hash(key, raw).as_deref(), Some(expected), "{key:?} {raw:?}");
        }
    }

    #[test]
    fn normalisation_rules() {
        assert_eq!(
            normalize(PiiKey::LastName, "O'Brien-Smith").as_deref(),
            Some("obriensmith")
        );
        assert_eq!(
            normalize(PiiKey::FirstName, "José").as_deref(),
            Some("josé"),
            "letters stay UTF-8"
        );
        assert_eq!(
            normalize(PiiKey::FirstInitial, " maria").as_deref(),
            Some("m")
        );
        assert_eq!(
            normalize(PiiKey::City, "Winston-Salem").as_deref(),
            Some("winstonsalem")
        );
        assert_eq!(normalize(PiiKey::BirthDay, "7").as_deref(), Some("07"));
        assert_eq!(
            normalize(PiiKey::ExternId, " id-42 ").as_deref(),
            Some("id-42")
        );
        assert_eq!(
            hash(PiiKey::ExternId, "id-42").as_deref(),
            Some("id-42"),
            "not hashed"
        );
    }

    #[test]
    fn invalid_values_are_rejected_not_hashed() {
        for (key, raw) in [
            (PiiKey::Email, "not-an-email"),
            (PiiKey::Email, ""),
            (PiiKey::Phone, "555-12"),
            (PiiKey::Gender, "x"),
            (PiiKey::BirthYear, "90"),
            (PiiKey::BirthMonth, "13"),
            (PiiKey::Country, "USA"),
        ] {
            assert_eq!(normalize(key, raw), None, "{key:?} {raw:?}");
        }
    }

    #[test]
    fn csv_columns_map_to_keys() {
        assert_eq!(PiiKey::from_column("First Name"), Some(PiiKey::FirstName));
        assert_eq!(PiiKey::from_column("zip_code"), Some(PiiKey::Zip));
        assert_eq!(PiiKey::from_column("favourite colour"), None);
        assert_eq!(PiiKey::Phone.schema_name(), "PHONE");
    }
}
