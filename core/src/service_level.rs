//! Per-queue service-level settings and the four service-level variants
//! (docs/METRICS.md, "Service level").
//!
//! Vendors disagree on what to do with abandoned calls, so the variant is a queue setting rather
//! than a global choice; every variant is computed from the same summed counts, which is what lets
//! figures roll up the tree without averaging percentages.

use serde::{Deserialize, Serialize};

/// How abandoned calls enter the service-level fraction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceLevelVariant {
    /// answered_within / (offered − short_abandoned): the centre's own definition.
    #[default]
    AnsweredOverOffered,
    /// answered_within / answered (Asterisk's ServiceLevelPerf).
    AnsweredOverAnswered,
    /// (answered_within + abandoned and timed out within T) / offered (Asterisk's
    /// ServiceLevelPerf2, Amazon Connect's "SL X").
    RemovedOverOffered,
    /// answered_within / (offered − abandoned within T): abandons inside T have no impact.
    AnsweredOverOfferedExclAbandonedWithin,
}

impl ServiceLevelVariant {
    /// Every variant, in the order docs/METRICS.md lists them.
    pub const ALL: [ServiceLevelVariant; 4] = [
        ServiceLevelVariant::AnsweredOverOffered,
        ServiceLevelVariant::AnsweredOverAnswered,
        ServiceLevelVariant::RemovedOverOffered,
        ServiceLevelVariant::AnsweredOverOfferedExclAbandonedWithin,
    ];

    /// The variant's name in config and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceLevelVariant::AnsweredOverOffered => "answered_over_offered",
            ServiceLevelVariant::AnsweredOverAnswered => "answered_over_answered",
            ServiceLevelVariant::RemovedOverOffered => "removed_over_offered",
            ServiceLevelVariant::AnsweredOverOfferedExclAbandonedWithin => {
                "answered_over_offered_excl_abandoned_within"
            }
        }
    }
}

/// The service-level contract of one queue.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceLevelSettings {
    /// T: a call answered with wait <= T seconds is answered within threshold.
    #[serde(default = "default_threshold")]
    pub threshold_s: u32,
    /// The target share, in percent (80 in "80/20").
    #[serde(default = "default_target")]
    pub target_pct: f64,
    /// Which formula the service level uses.
    #[serde(default)]
    pub variant: ServiceLevelVariant,
    /// S: an abandon with wait < S seconds is a short abandon.
    #[serde(default = "default_short_abandon")]
    pub short_abandon_s: u32,
}

fn default_threshold() -> u32 {
    20
}
fn default_target() -> f64 {
    80.0
}
fn default_short_abandon() -> u32 {
    5
}

impl Default for ServiceLevelSettings {
    fn default() -> Self {
        ServiceLevelSettings {
            threshold_s: default_threshold(),
            target_pct: default_target(),
            variant: ServiceLevelVariant::default(),
            short_abandon_s: default_short_abandon(),
        }
    }
}

impl ServiceLevelSettings {
    /// The threshold in milliseconds.
    pub fn threshold_ms(&self) -> i64 {
        i64::from(self.threshold_s) * crate::time::SECOND_MS
    }

    /// The short-abandon time in milliseconds.
    pub fn short_abandon_ms(&self) -> i64 {
        i64::from(self.short_abandon_s) * crate::time::SECOND_MS
    }
}

/// The counts every variant is computed from, summed over calls whose queue outcome falls in the
/// window. Each call was judged against its own queue's T and S.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServiceLevelCounts {
    /// Calls that entered a queue.
    pub offered: u64,
    /// Calls answered.
    pub answered: u64,
    /// Calls answered within the threshold.
    pub answered_within: u64,
    /// Calls abandoned within the short-abandon time.
    pub short_abandoned: u64,
    /// Abandoned with wait <= T.
    pub abandoned_within: u64,
    /// Timed out with wait <= T.
    pub timed_out_within: u64,
}

impl ServiceLevelCounts {
    /// The service level in percent under `variant`; `None` when the denominator is zero.
    pub fn pct(&self, variant: ServiceLevelVariant) -> Option<f64> {
        let (num, den) = match variant {
            ServiceLevelVariant::AnsweredOverOffered => (
                self.answered_within,
                self.offered.saturating_sub(self.short_abandoned),
            ),
            ServiceLevelVariant::AnsweredOverAnswered => (self.answered_within, self.answered),
            ServiceLevelVariant::RemovedOverOffered => (
                self.answered_within + self.abandoned_within + self.timed_out_within,
                self.offered,
            ),
            ServiceLevelVariant::AnsweredOverOfferedExclAbandonedWithin => (
                self.answered_within,
                self.offered.saturating_sub(self.abandoned_within),
            ),
        };
        pct(num, den)
    }
}

/// 100 × num / den, or `None` for a zero denominator (docs/METRICS.md: an empty window has no
/// figure, never 0 % or 100 %). Computed in exactly this order so that every screen and every
/// independent check gets the same float.
pub fn pct(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 * 100.0 / den as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 10 offered: 6 answered (5 within T), 3 abandoned (1 short, 2 within T), 1 timed out
    /// within T.
    fn counts() -> ServiceLevelCounts {
        ServiceLevelCounts {
            offered: 10,
            answered: 6,
            answered_within: 5,
            short_abandoned: 1,
            abandoned_within: 2,
            timed_out_within: 1,
        }
    }

    #[test]
    fn each_variant_by_hand() {
        let c = counts();
        use ServiceLevelVariant::*;
        assert_eq!(c.pct(AnsweredOverOffered), Some(500.0 / 9.0));
        assert_eq!(c.pct(AnsweredOverAnswered), Some(500.0 / 6.0));
        assert_eq!(c.pct(RemovedOverOffered), Some(80.0));
        assert_eq!(c.pct(AnsweredOverOfferedExclAbandonedWithin), Some(62.5));
    }

    #[test]
    fn empty_window_has_no_service_level() {
        for v in ServiceLevelVariant::ALL {
            assert_eq!(ServiceLevelCounts::default().pct(v), None);
        }
    }

    #[test]
    fn settings_default_to_80_20_with_5s_short_abandon() {
        let s: ServiceLevelSettings = toml_like_empty();
        assert_eq!(s, ServiceLevelSettings::default());
        assert_eq!(
            (s.threshold_s, s.target_pct, s.short_abandon_s),
            (20, 80.0, 5)
        );
    }

    fn toml_like_empty() -> ServiceLevelSettings {
        serde_json::from_str("{}").unwrap()
    }
}
