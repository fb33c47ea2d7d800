//! One serde adapter for the types that are written as a string: a type with `Display` and
//! `FromStr` (a scope like `"team:t1"`, a window, a subscription entry, a clock time) is
//! serialised as its `Display` text and deserialised through its `FromStr`, so the text on the
//! wire, in TOML and in the URL is the same and parsed by one function.
//!
//! Two ways in, both with the same behaviour:
//! - [`serde_via_str!`](crate::serde_via_str) implements `Serialize` and `Deserialize` for a
//!   type, for types that are always a string;
//! - [`serialize`] and [`deserialize`] for a field's `#[serde(with = "floorwatch_core::serde_str")]`,
//!   when only some uses of a type should be a string.

use std::fmt::Display;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serializer};

/// Writes `value` as its `Display` text.
pub fn serialize<T: Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// Reads a string and parses it with `FromStr`; the parse error's `Display` becomes the serde
/// error, so a config file names the key and the reason.
pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
where
    T: FromStr,
    T::Err: Display,
    D: Deserializer<'de>,
{
    let s = String::deserialize(d)?;
    s.parse().map_err(serde::de::Error::custom)
}

/// Implements `Serialize` (its `Display` text) and `Deserialize` (through its `FromStr`) for
/// each type named, with [`serialize`] and [`deserialize`].
///
/// `serde_via_str!(Type => as_str)` writes the `&'static str` that `as_str` returns instead of
/// going through `Display`: the same text without the formatting machinery, which the
/// wallboard's wasm bundle would otherwise carry for it.
///
/// ```
/// use std::fmt;
/// use std::str::FromStr;
///
/// struct Code(u8);
/// impl fmt::Display for Code {
///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
///         write!(f, "C{}", self.0)
///     }
/// }
/// impl FromStr for Code {
///     type Err = String;
///     fn from_str(s: &str) -> Result<Self, String> {
///         s.strip_prefix('C').and_then(|n| n.parse().ok()).map(Code).ok_or(s.to_string())
///     }
/// }
/// floorwatch_core::serde_via_str!(Code);
///
/// assert_eq!(serde_json::to_string(&Code(7)).unwrap(), "\"C7\"");
/// assert_eq!(serde_json::from_str::<Code>("\"C9\"").unwrap().0, 9);
/// ```
#[macro_export]
macro_rules! serde_via_str {
    ($ty:ty => $as_str:ident) => {
        impl $crate::__serde::Serialize for $ty {
            fn serialize<S: $crate::__serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.$as_str())
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $ty {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::serde_str::deserialize(d)
            }
        }
    };
    ($($ty:ty),+ $(,)?) => {$(
        impl $crate::__serde::Serialize for $ty {
            fn serialize<S: $crate::__serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $crate::serde_str::serialize(self, s)
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $ty {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::serde_str::deserialize(d)
            }
        }
    )+};
}
