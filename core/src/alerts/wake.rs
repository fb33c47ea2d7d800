//! When a rule must be read again (docs/ALERTS.md, "Evaluation"; issue 15).
//!
//! A rule's outcome at a boundary (what it raises, levels, escalates or clears) is a function
//! of what it reads, of its conditions' runs and open alerts, and of the clock. Between events,
//! what it reads stands still or moves with the clock in ways that decide nothing until a known
//! time: a waiting call's age or an agent's state time (read at every boundary: such a rule
//! never sleeps), a break passing its allowance, a source's silence reaching `silent_s`, a
//! dropped call or an arrival leaving its window, the first hour of arrivals making a usual
//! volume known, a hold being met, a cool-down ending, an escalation step falling due, quiet or
//! opening hours starting or ending, a new minute (rolling windows move) or a new centre day.
//!
//! So after reading a rule, the evaluator notes its [`Inputs`] (the change counters of what it
//! reads) and the earliest of those times ([`after`]); at a later boundary with the same inputs
//! and before that time, reading it again would decide exactly nothing, and the rule is
//! skipped whole (reading, stepping, escalations). `core/tests/alerts_thorough.rs` compares
//! this against reading every rule at every boundary, change by change, over random days.

use std::collections::BTreeMap;

use super::book::AlertBook;
use super::compiled::{Check, CompiledRule};
use super::condition::{Reading, Run, escalation_times};
use super::keys::Key;
use super::metric::Metric;
use super::observed::Observations;
use super::rest::next_local_edge;
use super::rule_scope::RuleScope;
use crate::engine::{Engine, Needs};
use crate::event::Millis;
use crate::opening_hours::OpeningHours;
use crate::scope::{Scope, Window};
use crate::time::MINUTE_MS;

/// The change counters of what one rule reads: equal counters mean equal inputs (the clock
/// aside, which [`after`] accounts for).
pub(super) type Inputs = [u64; 4];

/// What a rule's last reading left: its inputs then, and the first instant after it at which
/// the clock alone could change its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Settled {
    pub(super) inputs: Inputs,
    pub(super) wake: Millis,
    /// The rule times a condition or has an alert open after that reading: what a
    /// `source_silent` rule's inputs depend on ([`inputs`]). Only a reading changes it (an
    /// acknowledgement or a restore forgets every `Settled`).
    pub(super) pending: bool,
}

impl Settled {
    /// Whether reading the rule at boundary `at`, with these inputs, would decide nothing.
    pub(super) fn holds(&self, inputs: &Inputs, at: Millis) -> bool {
        self.inputs == *inputs && at < self.wake
    }
}

/// The counters of what `rule` reads. The engine's revision changes with every event given to
/// it and every new minute (windows move by whole minutes, the daily reset); the observations'
/// counters with the events of each sort ([`super::observed::Seqs`]); `events` counts every
/// event observed, duplicates included (a duplicate shows its source alive); `queues` is how
/// many queues the floor knows (a rule over every queue gains one).
///
/// A metric rule over the queues whose figure is one of the window's sums
/// ([`queue_sums_only`]) reads the queues' sums instead of the engine's revision: events that
/// count in no queue's sums (agent states, a call entering a queue or ringing) and the
/// interval ledger's closes do not make it read again (issue 15). A `source_silent` rule
/// reads the centre's sign-ins only while it times a condition or has an alert open
/// (`pending`, as its last reading left it: [`Settled::pending`]); otherwise only when each
/// source was last heard.
pub(super) fn inputs(
    rule: &CompiledRule,
    engine: &Engine,
    observed: &Observations,
    events: u64,
    queues: usize,
    pending: bool,
) -> Inputs {
    let seq = observed.seq();
    let queues = queues as u64;
    match &rule.check {
        Check::Metric { metric, .. } if queue_sums_only(rule, *metric) => {
            [engine.queue_sums_version(), queues, 1, 0]
        }
        Check::Metric { .. } => [engine.revision(), 0, 0, 0],
        // State and spell of the agents on a break, and their place in the organisation.
        Check::NotReadyOverrun { .. } => [seq.agents, 0, 0, 0],
        // When each source was last heard; the centre's sign-ins (expected silence), which
        // are read only for a condition timed or an alert open.
        Check::SourceSilent { .. } if pending => [events, engine.revision(), 1, 0],
        Check::SourceSilent { .. } => [events, 0, 0, 0],
        // Arrivals, the queues and whether the usual volume is known yet.
        Check::SuddenPeak { .. } => [
            seq.arrivals,
            queues,
            observed.first_at().map_or(0, |t| t as u64),
            0,
        ],
        // Dropped calls, the queues and the agents' teams they count in.
        Check::DroppedCalls { .. } => [observed.dropped_seq(), queues, seq.moves, 0],
    }
}

/// What [`after`] looks at besides the rule.
pub(super) struct Clock<'a> {
    pub(super) engine: &'a Engine,
    pub(super) observed: &'a Observations,
    pub(super) book: &'a AlertBook,
    pub(super) opening: Option<&'a OpeningHours>,
    /// The first boundary evaluated (a source never heard from is silent since).
    pub(super) watching_since: Millis,
    /// The start of the next centre day after the boundary.
    pub(super) next_day: Millis,
    /// For a not-ready overrun, the first instant after the boundary at which one of its
    /// spells passes its allowance (kept by `super::breaks`, whose readings at a boundary
    /// leave out the spells under their allowance).
    pub(super) breaks_due: Option<Millis>,
}

/// After reading `rule` at boundary `at` (with `readings`, leaving `runs`): the first instant
/// after `at` at which, with the same inputs, its outcome could differ from deciding nothing.
/// Earlier than the true time is harmless (a reading more); later would not be.
pub(super) fn after(
    rule: &CompiledRule,
    at: Millis,
    readings: &BTreeMap<Key, Reading>,
    runs: Option<&BTreeMap<Key, Run>>,
    clock: &Clock,
) -> Millis {
    let next_boundary = at + 1;
    let mut wake = clock.next_day;
    let mut timer = |t: Millis| {
        if t > at {
            wake = wake.min(t);
        }
    };
    match &rule.check {
        Check::Metric { metric, window, .. } => {
            if moves_with_the_clock(*metric) {
                return next_boundary;
            }
            match window {
                // A rolling window of the queues' sums changes with the clock alone only as a
                // minute that saw something leaves it: not at a minute end before that, and
                // never while none is in it (the next such event moves the inputs).
                Window::Rolling15 | Window::Rolling30 | Window::Rolling60
                    if queue_sums_only(rule, *metric) =>
                {
                    if let Some(moves) = clock.engine.queue_window_moves_at(*window) {
                        timer(moves);
                    }
                }
                // Rolling and interval windows move by whole minutes.
                _ => timer((at.div_euclid(MINUTE_MS) + 1) * MINUTE_MS),
            }
        }
        Check::NotReadyOverrun { .. } => {
            // A spell passes its allowance strictly after `since + allowance`: the kept spells
            // know the first such time (the readings hold only the spells stepped).
            if let Some(due) = clock.breaks_due {
                timer(due);
            }
        }
        Check::SourceSilent {
            silent, sources, ..
        } => {
            let silent_at = |source: &str| {
                clock
                    .observed
                    .last_heard(source)
                    .unwrap_or(clock.watching_since)
                    .saturating_add(*silent)
            };
            match sources {
                Some(list) => list.iter().map(|s| silent_at(s)).for_each(&mut timer),
                None => clock.observed.sources().map(silent_at).for_each(&mut timer),
            }
        }
        Check::SuddenPeak { min_arrivals, .. } => {
            // At `min_arrivals` the usual volume is compared, and it moves with the clock;
            // below, arrivals only leave the window until the next event.
            if readings
                .values()
                .any(|r| r.value.is_some_and(|v| v >= *min_arrivals as f64))
            {
                return next_boundary;
            }
            if let Some(known) = clock.observed.usual_known_at() {
                timer(known);
            }
        }
        Check::DroppedCalls {
            short_talk, window, ..
        } => {
            // The count falls when the oldest call counted leaves the window.
            if let Some(oldest) = clock
                .observed
                .dropped_ends(at - window, at)
                .find(|(_, talk)| talk < short_talk)
            {
                timer(oldest.0.saturating_add(*window).saturating_add(1));
            }
        }
    }
    let mut pending = false;
    for (key, run) in runs.into_iter().flatten() {
        pending = true;
        run.held_at(rule.hold).for_each(&mut timer);
        if let Some(cleared) = clock.book.last_cleared(key) {
            timer(cleared.saturating_add(rule.cooldown));
        }
    }
    for alert in clock.book.open_of(&rule.id) {
        pending = true;
        escalation_times(alert, rule).for_each(&mut timer);
    }
    // Quiet hours and expected silence matter only to a condition stepped or an alert open.
    if pending {
        if !rule.quiet.is_empty()
            && let Some(edge) = next_local_edge(clock.engine.calendar().time_zone(), at, |_| {
                rule.quiet
                    .iter()
                    .flat_map(|&(from, to)| [from, to])
                    .collect()
            })
        {
            timer(edge);
        }
        let opening_matters = match &rule.check {
            Check::SourceSilent { .. } => true,
            Check::Metric { metric, .. } => *metric == Metric::ServiceLevelPct,
            _ => false,
        };
        if opening_matters
            && let Some(opening) = clock.opening
            && let Some(edge) = next_local_edge(opening.time_zone(), at, |d| opening.edges_on(d))
        {
            timer(edge);
        }
    }
    wake
}

/// Whether `rule` watches `metric` on queues only (every queue, or one) and the metric is one
/// of the window's sums (counts, times, service level: not live, no state time, percentiles,
/// agents or Erlang C): what it reads then changes only with the queues' sums
/// (`Engine::queue_sums_version`), the queues known and the window's first minute.
fn queue_sums_only(rule: &CompiledRule, metric: Metric) -> bool {
    let queues = match &rule.scope {
        RuleScope::EveryQueue => true,
        RuleScope::One(scope) => matches!(scope, Scope::Queue(_)),
        _ => false,
    };
    queues && !metric.is_live() && metric.needs() == Needs::SUMS
}

/// Whether a figure can change with the clock alone within a minute (docs/METRICS.md: state
/// time accumulates, the longest wait now ages; agents needed is left to be read every time).
pub(super) fn moves_with_the_clock(metric: Metric) -> bool {
    let needs = metric.needs();
    metric == Metric::LongestWaitingS || needs.state_time || needs.agents_needed
}
