//! What may name things in an experiment: the rules every reader of keys and names uses
//! (the experiment file's validation, a counts file, `adskew import`), so that a key one of
//! them accepts is never refused by another. Each caller words its own message.
//!
//! There are three rules, different on purpose:
//! - a key ([`is_key`]) names an ad or a comparison; it goes into platform object names
//!   (the idempotency keys), file names of figures and results.json, so it has one spelling:
//!   lowercase, and short enough for a platform's name field;
//! - a partition label ([`is_label`]) is written by researchers as they name groups in a
//!   paper ("A", "B"; `campaigns/mirrored_race.toml`), so it keeps its case;
//! - an experiment's name ([`is_name`]) becomes a folder under results/ and may carry a
//!   version ("drivers-1.2"), so it also allows '.'.

/// An ad or comparison key: 1 to 64 of lowercase ASCII letters, digits, '_' and '-'.
pub fn is_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// A partition label: ASCII letters of either case, digits, '_' and '-', at least one.
pub fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The longest experiment name: it is a folder name (file systems allow 255 bytes) inside
/// platform object names (with room for the ad key and the idempotency key).
pub const MAX_NAME_LEN: usize = 100;

/// An experiment's name: 1 to [`MAX_NAME_LEN`] ASCII letters of either case, digits, '-',
/// '_' and '.', starting with a letter or a digit (so never `.`, `..` or a hidden folder).
pub fn is_name(s: &str) -> bool {
    name_problem(s).is_none()
}

/// Why `s` cannot be an experiment's name, in words that follow the name in a message.
pub fn name_problem(s: &str) -> Option<&'static str> {
    if s.is_empty() {
        Some("is empty")
    } else if s.len() > MAX_NAME_LEN {
        Some("is longer than 100 characters")
    } else if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        Some("has characters other than letters, digits, '-', '_' and '.'")
    } else if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        Some("does not start with a letter or a digit")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_rules() {
        assert!(is_key("nurse_woman-2"));
        assert!(!is_key("Nurse") && !is_key("") && !is_key("a.b") && !is_key("a b"));
        assert!(is_key(&"a".repeat(64)) && !is_key(&"a".repeat(65)));
        assert!(is_label("A") && is_label("p_1-x") && !is_label("") && !is_label("a.b"));
        assert!(is_name("Drivers-1.2_x") && !is_name("") && !is_name("a/b") && !is_name("a b"));
        // Names become folders: never the folder itself, its parent or a hidden one.
        for bad in [".", "..", ".hidden", "-x", &"a".repeat(101)] {
            assert!(!is_name(bad), "{bad}");
        }
        assert!(is_name(&"a".repeat(100)));
    }
}
