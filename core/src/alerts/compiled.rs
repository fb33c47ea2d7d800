//! A rule once checked: what the evaluator runs, with every default applied and every time in
//! milliseconds or local seconds.

use std::collections::BTreeMap;

use super::metric::Metric;
use super::rule_scope::RuleScope;
use super::rules::{Comparison, EscalationStep, Level, RuleKind};
use super::threshold::Threshold;
use crate::event::{Millis, NotReadyReason};
use crate::scope::Window;

/// A local time of day, seconds after local midnight.
pub(crate) type DaySecond = i32;

/// A validated rule, ready to evaluate.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    pub id: String,
    pub kind: RuleKind,
    pub scope: RuleScope,
    pub check: Check,
    pub hold: Millis,
    pub cooldown: Millis,
    pub quiet: Vec<(DaySecond, DaySecond)>,
    pub escalation: Vec<EscalationStep>,
}

impl CompiledRule {
    /// Whether local second-of-day `t` falls in the rule's quiet hours.
    pub(super) fn quiet_at(&self, t: DaySecond) -> bool {
        self.quiet.iter().any(|&(from, to)| {
            if from < to {
                (from..to).contains(&t)
            } else {
                t >= from || t < to
            }
        })
    }
}

/// What a rule measures, with its kind's parameters.
#[derive(Debug, Clone)]
pub(crate) enum Check {
    Metric {
        metric: Metric,
        window: Window,
        comparison: Comparison,
        warning: Option<Threshold>,
        critical: Option<Threshold>,
        clear: Threshold,
        min_offered: u64,
    },
    NotReadyOverrun {
        /// Allowance per watched reason.
        allowance: BTreeMap<NotReadyReason, Millis>,
        level: Level,
    },
    SourceSilent {
        silent: Millis,
        sources: Option<Vec<String>>,
        level: Level,
    },
    SuddenPeak {
        factor: f64,
        min_arrivals: u64,
        level: Level,
    },
    DroppedCalls {
        short_talk: Millis,
        count: u64,
        window: Millis,
        level: Level,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::default_escalation;

    #[test]
    fn quiet_hours_wrap_midnight() {
        let rule = CompiledRule {
            id: "r".into(),
            kind: RuleKind::Metric,
            scope: RuleScope::EveryQueue,
            check: Check::SuddenPeak {
                factor: 2.0,
                min_arrivals: 1,
                level: Level::Warning,
            },
            hold: 0,
            cooldown: 0,
            quiet: vec![(22 * 3600, 7 * 3600)],
            escalation: default_escalation(),
        };
        assert!(rule.quiet_at(23 * 3600));
        assert!(rule.quiet_at(0));
        assert!(rule.quiet_at(7 * 3600 - 1));
        assert!(!rule.quiet_at(7 * 3600));
        assert!(!rule.quiet_at(12 * 3600));
    }
}
