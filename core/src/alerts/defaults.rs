//! The rules every centre gets unless it says `default_rules = false` (docs/ALERTS.md,
//! "Defaults").

use super::rule_scope::RuleScope;
use super::rules::{AlertRule, Comparison, RuleKind};
use super::threshold::Threshold;
use crate::scope::Window;

/// The built-in service-level rule's `min_offered`: below it the window has too few calls
/// for a percentage to mean anything (docs/ALERTS.md, "Defaults"); the wallboard shows "not
/// enough calls" there instead of a service level.
pub const DEFAULT_MIN_OFFERED: u64 = 5;

/// The rules every centre gets unless `default_rules = false` (docs/ALERTS.md, "Defaults").
pub fn default_rules() -> Vec<AlertRule> {
    vec![
        AlertRule {
            id: "service-level".into(),
            kind: RuleKind::Metric,
            scope: Some(RuleScope::EveryQueue),
            metric: Some("service_level_pct".into()),
            window: Some(Window::Rolling30),
            comparison: Some(Comparison::Below),
            warning: Some(Threshold::Target(0.0)),
            critical: Some(Threshold::Target(-10.0)),
            clear: Some(Threshold::Target(2.0)),
            hold_s: Some(300),
            // Service level on one or two calls is not a signal: "Technical support 0.0 %"
            // from a single call was the demo's loudest false alarm.
            min_offered: Some(DEFAULT_MIN_OFFERED),
            ..rule_defaults()
        },
        AlertRule {
            id: "not-ready-overrun".into(),
            kind: RuleKind::NotReadyOverrun,
            ..rule_defaults()
        },
        AlertRule {
            id: "source-silent".into(),
            kind: RuleKind::SourceSilent,
            ..rule_defaults()
        },
        AlertRule {
            id: "sudden-peak".into(),
            kind: RuleKind::SuddenPeak,
            ..rule_defaults()
        },
        AlertRule {
            id: "dropped-calls".into(),
            kind: RuleKind::DroppedCalls,
            ..rule_defaults()
        },
    ]
}

fn rule_defaults() -> AlertRule {
    AlertRule {
        enabled: true,
        ..AlertRule::default()
    }
}
