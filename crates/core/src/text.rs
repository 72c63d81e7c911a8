//! Text from files shown back to the user.
//!
//! A value read from a CSV, a file name or any other input can hold control characters: an
//! ESC sequence would recolour or rewrite the user's terminal when a message quotes it, and
//! a newline or carriage return would make one message look like two. Every message that
//! quotes what a file holds passes the quote through [`printable`].

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with every control character (C0, DEL and C1, tabs and newlines included)
/// written as a Rust-style escape (`\u{1b}`, `\n`, `\t`), so a message quoting it shows
/// what is there and does nothing to the terminal. Text without one is borrowed as it is.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert!(matches!(printable("Ärztin – 25-34"), Cow::Borrowed(_)));
        assert_eq!(printable("a\u{1b}[31mred"), "a\\u{1b}[31mred");
        assert_eq!(printable("two\nlines\r\tx"), "two\\nlines\\r\\tx");
        assert_eq!(printable("del\u{7f} c1\u{9b}"), "del\\u{7f} c1\\u{9b}");
        assert_eq!(printable(""), "");
    }
}
