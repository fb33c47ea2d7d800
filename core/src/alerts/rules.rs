//! Alert rules as written: the `[alerts]` table of the server's config (`[[alerts.rules]]`) and
//! the names its fields take (docs/ALERTS.md, "Rules").
//!
//! A rule is written flat in TOML, one table per rule, with the fields of its `kind`. What the
//! strings mean is in `rule_scope` and `threshold`, the rules every centre gets in `defaults`,
//! and the checks and defaults applied to each rule in `compile`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::rule_scope::RuleScope;
use super::threshold::Threshold;
use crate::scope::Window;

/// The `[alerts]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// Evaluate the default rules ([`default_rules`]) as well as the configured ones. A
    /// configured rule with a default rule's id replaces it (`enabled = false` switches it off).
    #[serde(default = "yes")]
    pub default_rules: bool,
    /// The escalation chain of every rule that sets none.
    #[serde(default = "default_escalation")]
    pub escalation: Vec<EscalationStep>,
    /// Changes within this many seconds of the last notification batch wait for the next one,
    /// so a burst becomes one message (docs/ALERTS.md, "Notification batches").
    #[serde(default = "default_batch_s")]
    pub batch_s: u32,
    /// The configured rules, in evaluation order.
    #[serde(default)]
    pub rules: Vec<AlertRule>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            default_rules: true,
            escalation: default_escalation(),
            batch_s: default_batch_s(),
            rules: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_batch_s() -> u32 {
    30
}

/// Team lead at once, the supervisor after 10 minutes unacknowledged, the manager after 30.
pub fn default_escalation() -> Vec<EscalationStep> {
    vec![
        EscalationStep {
            role: EscalationTier::TeamLead,
            after_min: 0,
        },
        EscalationStep {
            role: EscalationTier::Supervisor,
            after_min: 10,
        },
        EscalationStep {
            role: EscalationTier::Manager,
            after_min: 30,
        },
    ]
}

/// One `[[alerts.rules]]` table. Fields a kind does not use must be left out; fields left out
/// take the kind's defaults (docs/ALERTS.md lists them). [`super::Alerts::rules`] returns rules
/// with every default filled in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// Unique; letters, digits, `-`, `_` and `.`. Part of every alert id the rule raises.
    pub id: String,
    /// What the rule watches (`metric` unless set).
    #[serde(default)]
    pub kind: RuleKind,
    /// `false` switches the rule off (a default rule, by its id).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Where the rule looks: a scope (`queue:billing`, `team:t1`, `centre`) or every scope of a
    /// kind (`every_queue`, `every_team`, `every_group`, `every_site`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<RuleScope>,

    // kind = "metric"
    /// A figure of docs/METRICS.md by its field name (see [`Metric`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// The window the figure is read over (`metric` rules; 30 minutes unless set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// Whether a breach is a value below or above the thresholds (`metric` rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
    /// Warning threshold (`metric` rules); at least one of `warning` and `critical`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<Threshold>,
    /// Critical threshold (`metric` rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critical: Option<Threshold>,
    /// An open alert clears once the value is back past this (hysteresis); defaults to the
    /// least severe threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear: Option<Threshold>,
    /// The condition counts only when the window has at least this many offered calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_offered: Option<u64>,

    // built-in kinds
    /// The level a built-in kind raises at (metric rules use `warning` / `critical`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// `not_ready_overrun`: minutes allowed per not-ready reason; reasons left out are not
    /// watched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowance_min: Option<BTreeMap<String, u32>>,
    /// `source_silent`: seconds without an event before a source counts as silent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silent_s: Option<u32>,
    /// `source_silent`: the sources to watch; every source ever observed when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<String>>,
    /// `sudden_peak`: arrivals must exceed this many times the usual volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
    /// `sudden_peak`: and be at least this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_arrivals: Option<u64>,
    /// `dropped_calls`: a call ended within this many seconds of its answer is dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_talk_s: Option<u32>,
    /// `dropped_calls`: this many dropped calls within `window_min` raise the alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// `dropped_calls`: the counting window, minutes (1 to 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_min: Option<u32>,

    // lifecycle
    /// How long the condition must hold, unbroken, before the alert is raised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_s: Option<u32>,
    /// After an alert clears, the same condition raises no new alert for this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_s: Option<u32>,
    /// Local times (the centre's zone) in which the rule raises and escalates nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<Vec<QuietHours>>,
    /// Who is told, and when (the `[alerts]` chain unless set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<Vec<EscalationStep>>,
}

/// What a rule watches.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// A figure of docs/METRICS.md against thresholds.
    #[default]
    Metric,
    /// An agent not ready longer than the allowance of its reason.
    NotReadyOverrun,
    /// A source that sent nothing for `silent_s` (a system problem).
    SourceSilent,
    /// Arrivals in the last 5 minutes above `factor` times the usual volume.
    SuddenPeak,
    /// Calls ended within `short_talk_s` of their answer, `count` or more in `window_min`.
    DroppedCalls,
}

impl RuleKind {
    /// Every kind, in declaration order: what a screen must have a label for (the dashboard's
    /// catalogues are tested against it; `tests::every_variant_is_listed` keeps it complete).
    pub const ALL: [RuleKind; 5] = [
        RuleKind::Metric,
        RuleKind::NotReadyOverrun,
        RuleKind::SourceSilent,
        RuleKind::SuddenPeak,
        RuleKind::DroppedCalls,
    ];

    /// The kind's name in config and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Metric => "metric",
            RuleKind::NotReadyOverrun => "not_ready_overrun",
            RuleKind::SourceSilent => "source_silent",
            RuleKind::SuddenPeak => "sudden_peak",
            RuleKind::DroppedCalls => "dropped_calls",
        }
    }
}

/// How bad an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Worth a look.
    Warning,
    /// Needs action now.
    Critical,
}

impl Level {
    /// Every level, least severe first (see [`RuleKind::ALL`]).
    pub const ALL: [Level; 2] = [Level::Warning, Level::Critical];

    /// The level's name in config and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Warning => "warning",
            Level::Critical => "critical",
        }
    }
}

/// Whether the alert is about a value too low or too high.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// A breach is a value below the threshold (service level).
    Below,
    /// A breach is a value above the threshold (waiting calls).
    Above,
}

impl Comparison {
    /// The comparison's name in config and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::Below => "below",
            Comparison::Above => "above",
        }
    }

    /// Whether `value` is past `threshold` (strictly).
    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::Below => value < threshold,
            Comparison::Above => value > threshold,
        }
    }
}

/// Who an alert is escalated to: a tier of the escalation chain, named like the user roles it
/// reaches but not one ([`crate::Role`] is what a user may do; this is who is told when).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationTier {
    /// 组长.
    TeamLead,
    /// 值班长.
    Supervisor,
    /// 呼叫中心经理.
    Manager,
}

impl EscalationTier {
    /// Every tier, in escalation order (see [`RuleKind::ALL`]).
    pub const ALL: [EscalationTier; 3] = [
        EscalationTier::TeamLead,
        EscalationTier::Supervisor,
        EscalationTier::Manager,
    ];

    /// The tier's name in config and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationTier::TeamLead => "team_lead",
            EscalationTier::Supervisor => "supervisor",
            EscalationTier::Manager => "manager",
        }
    }
}

/// One step of an escalation chain: `role` is told once the alert has been unacknowledged for
/// `after_min` minutes since it was raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationStep {
    /// Who is told.
    pub role: EscalationTier,
    /// Minutes after the raise, unacknowledged.
    pub after_min: u32,
}

/// A span of local time, `from` inclusive to `to` exclusive, `HH:MM`; wraps midnight when
/// `to` is earlier than `from` (`22:00` to `07:00`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// Start, local `HH:MM` (inclusive).
    pub from: String,
    /// End, local `HH:MM` (exclusive).
    pub to: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::ChangeKind;

    /// Each `ALL` holds every variant once, in order: the `match`es below are exhaustive, so a
    /// new variant does not compile until it has a position here, and then fails until it is
    /// in its `ALL` too.
    #[test]
    fn every_variant_is_listed() {
        fn positions<T: Copy>(all: &[T], position: fn(T) -> usize) -> Vec<usize> {
            all.iter().map(|&v| position(v)).collect()
        }
        let kind = |k| match k {
            RuleKind::Metric => 0,
            RuleKind::NotReadyOverrun => 1,
            RuleKind::SourceSilent => 2,
            RuleKind::SuddenPeak => 3,
            RuleKind::DroppedCalls => 4,
        };
        assert_eq!(positions(&RuleKind::ALL, kind), [0, 1, 2, 3, 4]);
        let level = |l| match l {
            Level::Warning => 0,
            Level::Critical => 1,
        };
        assert_eq!(positions(&Level::ALL, level), [0, 1]);
        let tier = |t| match t {
            EscalationTier::TeamLead => 0,
            EscalationTier::Supervisor => 1,
            EscalationTier::Manager => 2,
        };
        assert_eq!(positions(&EscalationTier::ALL, tier), [0, 1, 2]);
        let change = |c| match c {
            ChangeKind::Raised => 0,
            ChangeKind::LevelChanged => 1,
            ChangeKind::Escalated => 2,
            ChangeKind::Acknowledged => 3,
            ChangeKind::Cleared => 4,
        };
        assert_eq!(positions(&ChangeKind::ALL, change), [0, 1, 2, 3, 4]);
    }
}
