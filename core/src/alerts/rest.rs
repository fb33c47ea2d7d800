//! When evaluation can be skipped: a floor at rest changes only on timers, so the boundaries
//! between two timers would all decide nothing (docs/ALERTS.md, "Evaluation").
//!
//! Without this, a clock that jumps (an event a day after the last, a server started after a
//! weekend off) evaluates every 10-second boundary in between: 8,640 evaluations a day, each
//! reading every rule's figures. At rest the cost is one evaluation per timer instead.
//!
//! The floor is at rest at boundary `at` when, with no further event:
//! - nobody waits, and nobody is signed in or no rule reads a figure that moves with the clock
//!   while agents are signed in (occupancy and utilisation accumulate state time, agents
//!   needed follows the agents; every other figure of a signed-in agent moves only with an
//!   event), so no figure a rule reads moves with the clock, and
//! - every rolling and interval window lies wholly after the latest event applied
//!   ([`SETTLE_MS`]), so they read empty now and at every later boundary.
//!
//! What is left that time alone changes, each a timer: the next centre day (today's figures
//! reset), a source's silence reaching its rule's `silent_s`, an agent's not-ready spell
//! passing its allowance (an agent signed in on a break), a condition's hold, a cool-down
//! ending, an escalation step due, a notification batch due, and the edges of quiet hours and
//! of the centre's opening hours (local times, with the zone's transitions, so DST cannot hide
//! one). Every reading is
//! otherwise the same at every boundary until the earliest of them, so
//! [`super::condition::step`] decides the same as at `at`: nothing.
//!
//! Skipping is an optimisation only: evaluating a boundary the rest says may be skipped
//! changes nothing (the property tests in core/tests/alerts_rest.rs compare both, boundary by
//! boundary, over days with long silences, DST and quiet hours).

use jiff::Timestamp;
use jiff::civil::Time;
use jiff::tz::TimeZone;

use std::collections::BTreeMap;

use super::batch::Batcher;
use super::book::AlertBook;
use super::compiled::{Check, CompiledRule, DaySecond};
use super::condition::{Run, escalation_times};
use super::observed::Observations;
use super::period::EVALUATION_PERIOD_MS;
use crate::calendar::CentreCalendar;
use crate::engine::{Engine, Needs};
use crate::event::{AgentState, Millis, NotReadyReason};
use crate::opening_hours::OpeningHours;
use crate::scope::{Scope, Window};
use crate::time::MINUTE_MS;

/// How long after the latest event every rolling window (60 minutes at most, counted in whole
/// minutes) and interval window (30 minutes at most) reads empty: with a minute to spare.
pub(crate) const SETTLE_MS: Millis = 62 * MINUTE_MS;

/// What the timers are made of: the parts of [`super::Alerts`] that time alone can change,
/// lent for one look.
pub(super) struct Timers<'a> {
    pub(super) compiled: &'a [CompiledRule],
    pub(super) calendar: &'a CentreCalendar,
    /// When the centre is open (`None`: always).
    pub(super) opening: Option<&'a OpeningHours>,
    pub(super) observed: &'a Observations,
    /// Per rule, the conditions being timed, by key.
    pub(super) runs: &'a BTreeMap<String, BTreeMap<super::keys::Key, Run>>,
    pub(super) book: &'a AlertBook,
    pub(super) batcher: &'a Batcher,
    pub(super) watching_since: Option<Millis>,
    /// No rule reads a figure that moves with the clock while agents are signed in (state
    /// time for occupancy and utilisation, agents needed): the floor can rest with agents
    /// signed in and nobody waiting (see the module doc).
    pub(super) rest_signed_in: bool,
}

impl Timers<'_> {
    /// After evaluating boundary `at`: the first later boundary whose evaluation could change
    /// anything if no event is observed and no alert acknowledged first, when that is more
    /// than one period away.
    pub(super) fn rest_after(&self, engine: &Engine, at: Millis) -> Rest {
        // Cheapest test first: while events keep coming (every replay, every busy hour) this
        // is all that runs.
        if self
            .observed
            .last_applied()
            .is_some_and(|last| at < last.saturating_add(SETTLE_MS))
        {
            return Rest::Due;
        }
        let counts = Needs {
            agents: true,
            ..Needs::SUMS
        };
        match engine.figures_with(&Scope::Centre, Window::Rolling15, counts) {
            Ok(c) if c.waiting_now == 0 && (c.agents.logged_in == 0 || self.rest_signed_in) => {}
            // Only an event changes that (a call the engine forgets after six hours of waiting
            // is the one exception; missing it costs evaluations, never a change).
            Ok(_) => return Rest::Busy,
            Err(_) => return Rest::Due,
        }
        let mut wake = engine.calendar().next_day_start(at);
        let mut timer = |t: Millis| {
            if t > at {
                wake = wake.min(t);
            }
        };
        for rule in self.compiled {
            if let Check::SourceSilent {
                silent, sources, ..
            } = &rule.check
            {
                let silent_since = |source: &str| {
                    self.observed
                        .last_heard(source)
                        .or(self.watching_since)
                        .map(|last| last.saturating_add(*silent))
                };
                match sources {
                    Some(list) => list
                        .iter()
                        .filter_map(|s| silent_since(s))
                        .for_each(&mut timer),
                    None => self
                        .observed
                        .sources()
                        .filter_map(silent_since)
                        .for_each(&mut timer),
                }
            }
            if !rule.quiet.is_empty()
                && let Some(edge) = next_local_edge(self.calendar.time_zone(), at, |_| {
                    rule.quiet
                        .iter()
                        .flat_map(|&(from, to)| [from, to])
                        .collect()
                })
            {
                timer(edge);
            }
            if let Check::NotReadyOverrun { allowance, .. } = &rule.check {
                // An agent signed in on a break: the spell passes its allowance at a time
                // (strictly after `since + allowance`); only an event ends the spell.
                for agent in self.observed.not_ready() {
                    if let Some((AgentState::NotReady, reason, since)) = engine.agent_state(agent)
                        && let Some(allowed) =
                            allowance.get(&reason.unwrap_or(NotReadyReason::Other))
                    {
                        timer(since.saturating_add(*allowed).saturating_add(1));
                    }
                }
            }
            if let Some(runs) = self.runs.get(&rule.id) {
                for (key, run) in runs {
                    run.held_at(rule.hold).for_each(&mut timer);
                    if let Some(cleared) = self.book.last_cleared(key) {
                        timer(cleared.saturating_add(rule.cooldown));
                    }
                }
            }
            for alert in self.book.open_of(&rule.id) {
                escalation_times(alert, rule).for_each(&mut timer);
            }
        }
        if let Some(due) = self.batcher.due_at() {
            timer(due);
        }
        if let Some(opening) = self.opening
            && let Some(edge) = next_local_edge(opening.time_zone(), at, |d| opening.edges_on(d))
        {
            // Opening and closing change what silence means (`Alerts::silence_expected`).
            timer(edge);
        }
        let first = ceil_to_boundary(wake);
        if first > at + EVALUATION_PERIOD_MS {
            Rest::Until(first)
        } else {
            Rest::Due
        }
    }
}

/// What [`Timers::rest_after`] found.
pub(super) enum Rest {
    /// The next boundary must be evaluated.
    Due,
    /// Someone is signed in or a call waits: no rest until the next event.
    Busy,
    /// Boundaries before this decide nothing.
    Until(Millis),
}

/// The first evaluation boundary at or after `t`.
fn ceil_to_boundary(t: Millis) -> Millis {
    let period = EVALUATION_PERIOD_MS;
    t.div_euclid(period)
        .saturating_add(i64::from(t.rem_euclid(period) != 0))
        .saturating_mul(period)
}

/// The first instant after `at` at which one of a day's local times (`edges_on(date)`, seconds
/// after midnight: quiet hours, opening hours) can be crossed on the local clock of `tz`: the
/// edge on the day before, of, or after `at` (both instants of a time that a fold repeats,
/// both candidates of one a gap skips), or the zone's next transition, where the local clock
/// jumps over whatever lies in the gap. Earlier than the true crossing is harmless (one
/// evaluation more); later would not be, hence every candidate.
pub(super) fn next_local_edge(
    tz: &TimeZone,
    at: Millis,
    edges_on: impl Fn(jiff::civil::Date) -> Vec<DaySecond>,
) -> Option<Millis> {
    let now = Timestamp::from_millisecond(at).ok()?;
    let date = now.to_zoned(tz.clone()).date();
    let mut best = tz
        .following(now)
        .next()
        .map(|transition| transition.timestamp().as_millisecond());
    let days = [date.yesterday().ok(), Some(date), date.tomorrow().ok()];
    for day in days.into_iter().flatten() {
        for edge in edges_on(day) {
            let (h, m, s) = (edge / 3600, edge / 60 % 60, edge % 60);
            let Ok(time) = Time::new(h as i8, m as i8, s as i8, 0) else {
                continue;
            };
            let ambiguous = tz.to_ambiguous_timestamp(day.to_datetime(time));
            for candidate in [ambiguous.earlier(), ambiguous.later()]
                .into_iter()
                .flatten()
            {
                let t = candidate.as_millisecond();
                if t > at {
                    best = Some(best.map_or(t, |b| b.min(t)));
                }
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> Millis {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn boundaries_round_up() {
        assert_eq!(ceil_to_boundary(20_000), 20_000);
        assert_eq!(ceil_to_boundary(20_001), 30_000);
        assert_eq!(ceil_to_boundary(-1), 0);
    }

    #[test]
    fn quiet_edges_follow_the_local_clock_and_its_transitions() {
        let shanghai = TimeZone::get("Asia/Shanghai").unwrap();
        // 22:00-07:00 local; at 12:00 local (04:00Z) the next edge is 22:00 local (14:00Z).
        let quiet = [(22 * 3600, 7 * 3600)];
        let edges = |_| quiet.iter().flat_map(|&(from, to)| [from, to]).collect();
        assert_eq!(
            next_local_edge(&shanghai, ms("2026-03-09T04:00:00Z"), edges),
            Some(ms("2026-03-09T14:00:00Z"))
        );
        // New York springs forward at 02:00 local on 2026-03-08: an edge at 02:30 lies in the
        // gap, and the transition itself (07:00Z) is the crossing.
        let new_york = TimeZone::get("America/New_York").unwrap();
        let edge = next_local_edge(&new_york, ms("2026-03-08T06:45:00Z"), |_| {
            vec![2 * 3600 + 1800, 5 * 3600]
        });
        assert!(
            edge.is_some_and(|t| t <= ms("2026-03-08T07:00:00Z")),
            "{edge:?}"
        );
    }
}
