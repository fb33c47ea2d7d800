//! Masking caller numbers (shared/DOMAIN.md: "Caller numbers are masked (138****1234)").
//!
//! The rule, on characters (a `+`, space or dash counts like a digit, so the mask keeps the
//! number's length and shape):
//! - 11 characters or more (a Chinese mobile number, a landline with its area code, anything
//!   international): the first three and the last four are kept, everything between becomes
//!   `*` — `13812341234` → `138****1234`. At least four characters are always hidden.
//! - 5 to 10 characters (a local landline, a short service number): only the last two are
//!   kept — `87654321` → `******21`. Keeping three and four would leave one or two hidden.
//! - 4 characters or fewer (an extension): all hidden.
//!
//! Unmasking one call is a separate, audited permission (docs/SECURITY.md, "Caller numbers").
//!
//! [`CallerNumber`] carries a number on events: its `Debug` is masked, so an event in a log
//! line never shows the digits; they are read on purpose with [`CallerNumber::as_str`].

use std::fmt;

use serde::{Deserialize, Serialize};

/// A caller's number as the switch sent it (JSON: a plain string).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallerNumber(String);

impl CallerNumber {
    /// A caller's number as the switch sent it.
    pub fn new(number: impl Into<String>) -> CallerNumber {
        CallerNumber(number.into())
    }

    /// The digits, unmasked: for the call register and the parsers' own checks only.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number as anyone without the unmask permission sees it ([`mask_caller`]).
    pub fn masked(&self) -> String {
        mask_caller(&self.0)
    }
}

impl From<&str> for CallerNumber {
    fn from(number: &str) -> CallerNumber {
        CallerNumber::new(number)
    }
}

impl From<String> for CallerNumber {
    fn from(number: String) -> CallerNumber {
        CallerNumber(number)
    }
}

/// Masked: an event printed with `{:?}` (a log line, a test failure) shows no full number.
impl fmt::Debug for CallerNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CallerNumber({:?})", self.masked())
    }
}

/// The caller number as anyone without the unmask permission sees it.
pub fn mask_caller(number: &str) -> String {
    let chars: Vec<char> = number.trim().chars().collect();
    let n = chars.len();
    let (head, tail) = match n {
        11.. => (3, 4),
        5..=10 => (0, 2),
        _ => (0, 0),
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - tail { *c } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_in_a_log_line_shows_the_number_masked() {
        let number = CallerNumber::from("13812341234");
        assert_eq!(format!("{number:?}"), "CallerNumber(\"138****1234\")");
        assert_eq!(number.as_str(), "13812341234");
        assert_eq!(serde_json::to_string(&number).unwrap(), "\"13812341234\"");
    }

    #[test]
    fn mobile_numbers_keep_the_first_three_and_last_four() {
        assert_eq!(mask_caller("13812341234"), "138****1234");
        assert_eq!(mask_caller(" 13812341234 "), "138****1234");
        assert_eq!(mask_caller("+8613812341234"), "+86*******1234");
        assert_eq!(mask_caller("02112345678"), "021****5678");
    }

    #[test]
    fn short_numbers_are_mostly_masked() {
        assert_eq!(mask_caller("87654321"), "******21");
        assert_eq!(mask_caller("10086"), "***86");
        assert_eq!(mask_caller("8001"), "****");
        assert_eq!(mask_caller("7"), "*");
        assert_eq!(mask_caller(""), "");
    }

    #[test]
    fn from_five_characters_on_half_or_four_are_hidden() {
        for n in 5..=20 {
            let masked = mask_caller(&"9".repeat(n));
            let hidden = masked.chars().filter(|c| *c == '*').count();
            assert_eq!(masked.chars().count(), n, "length kept");
            assert!(hidden * 2 >= n || hidden >= 4, "{n}: {masked}");
        }
    }

    #[test]
    fn non_ascii_text_is_masked_by_characters() {
        assert_eq!(mask_caller("张三的电话号码是多少呢"), "张三的****是多少呢");
    }
}
