//! A rule's threshold: a number in the metric's unit, or relative to the scope's service-level
//! target (`target-10`); read from a TOML number or string.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A threshold: a number in the metric's unit, or relative to the scope's service-level target
/// (`"target"`, `"target-10"`, `"target+2"`: percentage points, for `service_level_pct` only).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// A number in the metric's unit.
    Value(f64),
    /// The scope's `service_level_target_pct` plus this many points, kept within 0..=100.
    Target(f64),
}

impl Threshold {
    /// The threshold for a scope whose service-level target is `target_pct`.
    pub fn resolve(self, target_pct: f64) -> f64 {
        match self {
            Threshold::Value(v) => v,
            Threshold::Target(offset) => (target_pct + offset).clamp(0.0, 100.0),
        }
    }

    pub(super) fn relative(self) -> bool {
        matches!(self, Threshold::Target(_))
    }

    /// The number compared, for checks between thresholds of the same sort.
    pub(super) fn number(self) -> f64 {
        match self {
            Threshold::Value(v) | Threshold::Target(v) => v,
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Threshold::Value(v) => write!(f, "{v}"),
            Threshold::Target(o) if *o == 0.0 => f.write_str("target"),
            Threshold::Target(o) => write!(f, "target{o:+}"),
        }
    }
}

impl FromStr for Threshold {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || format!("`{s}` is not a number, `target`, `target-N` or `target+N`");
        let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        if let Some(rest) = compact.strip_prefix("target") {
            if rest.is_empty() {
                return Ok(Threshold::Target(0.0));
            }
            if !rest.starts_with(['+', '-']) {
                return Err(err());
            }
            let offset: f64 = rest.parse().map_err(|_| err())?;
            return finite(offset).map(Threshold::Target).ok_or_else(err);
        }
        let value: f64 = compact.parse().map_err(|_| err())?;
        finite(value).map(Threshold::Value).ok_or_else(err)
    }
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

impl Serialize for Threshold {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Threshold::Value(v) => s.serialize_f64(*v),
            Threshold::Target(_) => s.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Threshold;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, or \"target\", \"target-N\", \"target+N\"")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Threshold, E> {
                finite(v)
                    .map(Threshold::Value)
                    .ok_or_else(|| E::custom("threshold must be finite"))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Threshold, E> {
                Ok(Threshold::Value(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Threshold, E> {
                Ok(Threshold::Value(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Threshold, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_read_numbers_and_targets() {
        assert_eq!("80".parse::<Threshold>(), Ok(Threshold::Value(80.0)));
        assert_eq!("target".parse::<Threshold>(), Ok(Threshold::Target(0.0)));
        assert_eq!(
            "target - 10".parse::<Threshold>(),
            Ok(Threshold::Target(-10.0))
        );
        assert_eq!(
            "target+2.5".parse::<Threshold>(),
            Ok(Threshold::Target(2.5))
        );
        assert!("targetx".parse::<Threshold>().is_err());
        assert!("target10".parse::<Threshold>().is_err());
        assert_eq!(Threshold::Target(-10.0).to_string(), "target-10");
        assert_eq!(Threshold::Target(2.0).to_string(), "target+2");
        assert_eq!(Threshold::Target(25.0).resolve(80.0), 100.0);
    }
}
