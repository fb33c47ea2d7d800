//! One condition (a rule on one scope) from one evaluation boundary to the next: how long it
//! has held, and what that means for its alert: raise it, change its level, clear it, escalate
//! it (docs/ALERTS.md, "Lifecycle" and "Evaluation").
//!
//! Every decision compares event times of evaluation boundaries, never the wall clock, so the
//! same boundaries with the same figures decide the same way on every replay.

use super::book::Alert;
use super::compiled::CompiledRule;
use super::rules::{EscalationTier, Level};
use crate::event::{Millis, NotReadyReason};
use crate::scope::{Scope, Window};
use crate::time::MINUTE_MS;

/// What a rule reads for one condition at one boundary.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reading {
    pub scope: Scope,
    /// The level the value is at now (strictly past a threshold), or none.
    pub level: Option<Level>,
    /// Whether an open alert clears: the value is back past the clear threshold (hysteresis),
    /// or there is nothing to judge any more.
    pub recovered: bool,
    pub value: Option<f64>,
    pub warning: Option<f64>,
    pub critical: Option<f64>,
    pub detail: Detail,
}

/// What an alert says beyond its value, depending on its kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Detail {
    pub metric: &'static str,
    pub window: Option<Window>,
    pub reason: Option<NotReadyReason>,
    pub source: Option<String>,
    pub usual: Option<f64>,
}

impl Reading {
    /// The condition of a scope the rule no longer reads (an agent back from break, a scope
    /// gone): not met, and an open alert clears.
    pub(super) fn gone(scope: Scope) -> Reading {
        Reading {
            scope,
            level: None,
            recovered: true,
            value: None,
            warning: None,
            critical: None,
            detail: Detail::default(),
        }
    }

    /// The threshold that `level` stands for.
    pub(super) fn threshold(&self, level: Level) -> f64 {
        let t = match level {
            Level::Critical => self.critical.or(self.warning),
            Level::Warning => self.warning.or(self.critical),
        };
        t.unwrap_or_default()
    }
}

/// Since when the condition has been met, unbroken, at each level: the first boundary of the
/// current run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Run {
    /// Met at warning or critical.
    active_since: Option<Millis>,
    /// Met at critical.
    critical_since: Option<Millis>,
    /// Not at critical (for an open critical alert to step down).
    calm_since: Option<Millis>,
}

impl Run {
    fn note(&mut self, level: Option<Level>, at: Millis) {
        fn track(since: &mut Option<Millis>, holds: bool, at: Millis) {
            if holds {
                since.get_or_insert(at);
            } else {
                *since = None;
            }
        }
        track(&mut self.active_since, level.is_some(), at);
        track(&mut self.critical_since, level == Some(Level::Critical), at);
        track(&mut self.calm_since, level != Some(Level::Critical), at);
    }

    /// Nothing is being timed that an idle condition would not time.
    pub(super) fn is_idle(&self) -> bool {
        self.active_since.is_none() && self.critical_since.is_none()
    }

    /// The times at which a `hold` of this run is first met: where [`step`] can decide
    /// differently with the same reading (`super::rest`).
    pub(super) fn held_at(&self, hold: Millis) -> impl Iterator<Item = Millis> {
        [self.active_since, self.critical_since, self.calm_since]
            .into_iter()
            .flatten()
            .map(move |since| since.saturating_add(hold))
    }
}

/// What the boundary decides for one condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Nothing,
    Raise(Level),
    ChangeLevel(Level),
    Clear,
}

/// The lifecycle rules, in order:
/// - no open alert: raise once the condition has held for `hold` (at critical if critical has
///   held that long too), unless in quiet hours or within `cooldown` of the last clear;
/// - open alert: clear when recovered (past the clear threshold: hysteresis); otherwise step up
///   to critical once critical has held for `hold` (not in quiet hours), or down to warning
///   once the value has been off critical for `hold`.
pub(crate) fn step(
    run: &mut Run,
    reading: &Reading,
    open: Option<&Alert>,
    rule: &CompiledRule,
    at: Millis,
    quiet: bool,
    last_cleared: Option<Millis>,
) -> Step {
    run.note(reading.level, at);
    let held = |since: Option<Millis>| since.is_some_and(|s| at - s >= rule.hold);
    match open {
        None => {
            let cooled = last_cleared.is_none_or(|c| at - c >= rule.cooldown);
            if held(run.active_since) && cooled && !quiet {
                Step::Raise(if held(run.critical_since) {
                    Level::Critical
                } else {
                    Level::Warning
                })
            } else {
                Step::Nothing
            }
        }
        Some(_) if reading.recovered => Step::Clear,
        Some(alert) => match alert.level {
            Level::Warning if held(run.critical_since) && !quiet => {
                Step::ChangeLevel(Level::Critical)
            }
            Level::Critical if reading.warning.is_some() && held(run.calm_since) => {
                Step::ChangeLevel(Level::Warning)
            }
            _ => Step::Nothing,
        },
    }
}

/// When each escalation step `alert` has not taken yet falls due, none once it is
/// acknowledged: the times a floor at rest (`super::rest`) and a sleeping rule
/// (`super::wake`) must wake for, as [`escalations_due`] counts them.
pub(crate) fn escalation_times<'a>(
    alert: &'a Alert,
    rule: &'a CompiledRule,
) -> impl Iterator<Item = Millis> + 'a {
    let steps = if alert.acknowledged.is_some() {
        &[][..]
    } else {
        &rule.escalation[..]
    };
    steps.iter().skip(alert.escalation_step + 1).map(|step| {
        alert
            .raised_at
            .saturating_add(Millis::from(step.after_min) * MINUTE_MS)
    })
}

/// The escalation steps due for an open alert at `at`: every step of the chain after the
/// current one whose `after_min` has passed since the raise, while nobody has acknowledged it
/// and the rule is not in quiet hours.
pub(crate) fn escalations_due(
    alert: &Alert,
    rule: &CompiledRule,
    at: Millis,
    quiet: bool,
) -> Vec<(usize, EscalationTier)> {
    if quiet || alert.acknowledged.is_some() || !alert.is_open() {
        return Vec::new();
    }
    rule.escalation
        .iter()
        .enumerate()
        .skip(alert.escalation_step + 1)
        .take_while(|(_, step)| at - alert.raised_at >= Millis::from(step.after_min) * MINUTE_MS)
        .map(|(i, step)| (i, step.role))
        .collect()
}
