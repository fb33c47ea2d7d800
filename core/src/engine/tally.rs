//! Per-scope accumulators: a [`Tally`] of counts and summed times, kept per minute of event time
//! for the last hour (rolling windows and intervals) and for the current centre day (today).
//!
//! Everything here is a sum or a max, so a window is the sum of its minutes and a scope's figures
//! are the sum of what happened inside it: percentages are derived only when read
//! (docs/METRICS.md, "Roll-ups").

use std::collections::VecDeque;

use crate::event::AgentState;
use crate::service_level::ServiceLevelCounts;

pub(crate) use crate::time::MINUTE_MS;

/// Minutes kept in the ring: the 60 of the longest rolling window plus the current one.
pub(super) const RING_MINUTES: i64 = 61;

/// Counts and summed times of one scope over some span of event time: the sums every figure
/// of docs/METRICS.md is derived from, live (a window) and in history (a quarter-hour).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    /// Queue outcomes: answered calls.
    pub answered: u64,
    /// Queue outcomes: calls the caller hung up on while waiting.
    pub abandoned: u64,
    /// Queue outcomes: calls the queue gave up on.
    pub timed_out: u64,
    /// Abandoned calls under the short-abandon threshold.
    pub short_abandoned: u64,
    /// Answered within the queue's service-level threshold.
    pub answered_within: u64,
    /// Abandoned within the threshold.
    pub abandoned_within: u64,
    /// Timed out within the threshold.
    pub timed_out_within: u64,
    /// Calls completed in self-service (IVR).
    pub ivr_completed: u64,
    /// Sum of waits of answered calls (ASA numerator).
    pub answered_wait_ms: i64,
    /// Longest wait of any outcome; −1 when there was none (waits are >= 0). A plain integer
    /// keeps [`Tally::add`] branch-free: it runs for every scope of every contribution.
    pub max_wait_ms: i64,
    /// Handled call segments (talk ended).
    pub handled: u64,
    /// Their talk time.
    pub talk_ms: i64,
    /// Handled calls put on hold at least once, and their hold time.
    pub held: u64,
    /// Hold time of handled calls.
    pub hold_ms: i64,
    /// Handled calls whose after-call work has ended, and its time.
    pub acw_calls: u64,
    /// After-call work time of those calls.
    pub acw_ms: i64,
    /// Agent time spent in each [`AgentState`], indexed by [`AgentState::index`].
    pub state_ms: [i64; 6],
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            answered: 0,
            abandoned: 0,
            timed_out: 0,
            short_abandoned: 0,
            answered_within: 0,
            abandoned_within: 0,
            timed_out_within: 0,
            ivr_completed: 0,
            answered_wait_ms: 0,
            max_wait_ms: -1,
            handled: 0,
            talk_ms: 0,
            held: 0,
            hold_ms: 0,
            acw_calls: 0,
            acw_ms: 0,
            state_ms: [0; 6],
        }
    }
}

impl Tally {
    /// The longest wait, if any call had an outcome.
    pub fn max_wait(&self) -> Option<i64> {
        (self.max_wait_ms >= 0).then_some(self.max_wait_ms)
    }

    /// Adds another span's counts that service level is made of, and nothing else
    /// ([`Self::service_level_counts`]; a sparkline point draws no other figure).
    fn add_service_level(&mut self, other: &Tally) {
        self.answered += other.answered;
        self.abandoned += other.abandoned;
        self.timed_out += other.timed_out;
        self.short_abandoned += other.short_abandoned;
        self.answered_within += other.answered_within;
        self.abandoned_within += other.abandoned_within;
        self.timed_out_within += other.timed_out_within;
    }

    /// Calls offered to a queue: every queue outcome.
    pub fn offered(&self) -> u64 {
        self.answered + self.abandoned + self.timed_out
    }

    /// Adds another span's sums (the longest wait is the longer).
    pub fn add(&mut self, other: &Tally) {
        self.add_service_level(other);
        self.ivr_completed += other.ivr_completed;
        self.answered_wait_ms += other.answered_wait_ms;
        self.max_wait_ms = self.max_wait_ms.max(other.max_wait_ms);
        self.handled += other.handled;
        self.talk_ms += other.talk_ms;
        self.held += other.held;
        self.hold_ms += other.hold_ms;
        self.acw_calls += other.acw_calls;
        self.acw_ms += other.acw_ms;
        for (mine, theirs) in self.state_ms.iter_mut().zip(other.state_ms) {
            *mine += theirs;
        }
    }

    pub(super) fn service_level_counts(&self) -> ServiceLevelCounts {
        ServiceLevelCounts {
            offered: self.offered(),
            answered: self.answered,
            answered_within: self.answered_within,
            short_abandoned: self.short_abandoned,
            abandoned_within: self.abandoned_within,
            timed_out_within: self.timed_out_within,
        }
    }

    /// Agent time in `state`, ms.
    pub fn state(&self, state: AgentState) -> i64 {
        self.state_ms[state.index()]
    }
}

/// What one call event adds to every scope it counts in (docs/METRICS.md, "Calls"). Each kind
/// touches only its own fields: this runs for every scope of every call event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Contribution {
    /// Queue outcomes, already judged against the queue's T and S.
    Answered {
        wait_ms: i64,
        within: bool,
    },
    Abandoned {
        wait_ms: i64,
        within: bool,
        short: bool,
    },
    TimedOut {
        wait_ms: i64,
        within: bool,
    },
    IvrCompleted,
    /// A handled segment's talk ended.
    Handled {
        talk_ms: i64,
        hold_ms: i64,
    },
    /// Its after-call work ended.
    AfterCallWork {
        acw_ms: i64,
    },
    /// Its after-call work ended, with the call's whole handle time for the percentiles: the
    /// two contributions above and below at once, when they go to the same scopes.
    AfterCallWorkEnded {
        acw_ms: i64,
        handle_ms: i64,
    },
    /// A handled call's whole handle time, for the percentiles only.
    HandleSample {
        handle_ms: i64,
    },
}

impl Contribution {
    pub(crate) fn wait_sample(&self) -> Option<u32> {
        match *self {
            Contribution::Answered { wait_ms, .. }
            | Contribution::Abandoned { wait_ms, .. }
            | Contribution::TimedOut { wait_ms, .. } => Some(sample(wait_ms)),
            _ => None,
        }
    }

    pub(crate) fn handle_sample(&self) -> Option<u32> {
        match *self {
            Contribution::HandleSample { handle_ms }
            | Contribution::AfterCallWorkEnded { handle_ms, .. } => Some(sample(handle_ms)),
            _ => None,
        }
    }
}

/// A duration as a percentile sample: milliseconds, clamped into u32 (49 days).
pub(super) fn sample(ms: i64) -> u32 {
    ms.clamp(0, i64::from(u32::MAX)) as u32
}

impl Tally {
    /// Counts one contribution.
    pub(super) fn count(&mut self, c: &Contribution) {
        match *c {
            Contribution::Answered { wait_ms, within } => {
                self.answered += 1;
                self.answered_wait_ms += wait_ms;
                self.answered_within += u64::from(within);
                self.max_wait_ms = self.max_wait_ms.max(wait_ms);
            }
            Contribution::Abandoned {
                wait_ms,
                within,
                short,
            } => {
                self.abandoned += 1;
                self.abandoned_within += u64::from(within);
                self.short_abandoned += u64::from(short);
                self.max_wait_ms = self.max_wait_ms.max(wait_ms);
            }
            Contribution::TimedOut { wait_ms, within } => {
                self.timed_out += 1;
                self.timed_out_within += u64::from(within);
                self.max_wait_ms = self.max_wait_ms.max(wait_ms);
            }
            Contribution::IvrCompleted => self.ivr_completed += 1,
            Contribution::Handled { talk_ms, hold_ms } => {
                self.handled += 1;
                self.talk_ms += talk_ms;
                self.held += u64::from(hold_ms > 0);
                self.hold_ms += hold_ms;
            }
            Contribution::AfterCallWork { acw_ms }
            | Contribution::AfterCallWorkEnded { acw_ms, .. } => {
                self.acw_calls += 1;
                self.acw_ms += acw_ms;
            }
            Contribution::HandleSample { .. } => {}
        }
    }
}

/// One minute of one scope: its calls, and for a team, group or site the state time an agent
/// who moved team left behind (agents keep their own state time, see `state_time`).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Minute {
    /// Minute number since the epoch (ms / 60,000).
    minute: i64,
    tally: Tally,
}

/// One percentile sample of the last hour, in the minute it counts in.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
struct Sample {
    minute: i64,
    /// A handle time (else a wait).
    handle: bool,
    ms: u32,
}

/// The accumulators of one scope.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct ScopeTally {
    /// The minutes that saw anything, oldest first, sorted by minute: the last
    /// [`RING_MINUTES`], and older ones until the next new minute drops them (readers stop at
    /// their window's first minute; the clock's ticks need not visit every scope).
    minutes: VecDeque<Minute>,
    /// The minutes' percentile samples, sorted by minute and dropped with their minutes: one
    /// buffer per scope rather than two per minute, which an agent's scope would allocate and
    /// free for every call it handles.
    samples: VecDeque<Sample>,
    /// Since the start of the current centre day.
    day: Tally,
    day_waits: Vec<u32>,
    day_handles: Vec<u32>,
    /// Bumped by every change to the minutes or the day, so a reader can tell that a window's
    /// sums stood still without summing them (`readout::figures_into`; issue 15). Not saved:
    /// it is compared only within one engine ([`super::Engine`]'s epoch).
    #[serde(skip)]
    version: u64,
}

/// The sums of one window of one scope, with its percentile samples.
#[derive(Debug, Clone, Default)]
pub(super) struct WindowSum {
    pub tally: Tally,
    pub waits: Vec<u32>,
    pub handles: Vec<u32>,
}

impl ScopeTally {
    /// Adds `c` to minute `minute`, if that minute is still in the ring (`oldest_minute` or
    /// later), and to the day if `in_day`.
    pub(super) fn add(&mut self, minute: i64, oldest_minute: i64, in_day: bool, c: &Contribution) {
        self.version += 1;
        if minute >= oldest_minute {
            self.minute_mut(minute, oldest_minute).tally.count(c);
            if let Some(ms) = c.wait_sample() {
                self.add_sample(Sample {
                    minute,
                    handle: false,
                    ms,
                });
            }
            if let Some(ms) = c.handle_sample() {
                self.add_sample(Sample {
                    minute,
                    handle: true,
                    ms,
                });
            }
        }
        if in_day {
            self.day.count(c);
            self.day_waits.extend(c.wait_sample());
            self.day_handles.extend(c.handle_sample());
        }
    }

    /// Adds agent state time by state to one minute. Only an agent's move between teams does
    /// this (agents keep their own state time, see `state_time`): the time it leaves behind.
    pub(super) fn add_state_minute(&mut self, minute: i64, oldest_minute: i64, ms: &[i64; 6]) {
        self.version += 1;
        let slot = &mut self.minute_mut(minute, oldest_minute).tally.state_ms;
        for (sum, ms) in slot.iter_mut().zip(ms) {
            *sum += ms;
        }
    }

    /// Adds agent state time by state to the day (as [`ScopeTally::add_state_minute`]).
    pub(super) fn add_state_day(&mut self, ms: &[i64; 6]) {
        self.version += 1;
        for (sum, ms) in self.day.state_ms.iter_mut().zip(ms) {
            *sum += ms;
        }
    }

    /// Keeps the samples sorted by minute, like the minutes: a late one goes in its place.
    fn add_sample(&mut self, sample: Sample) {
        if self
            .samples
            .back()
            .is_none_or(|last| last.minute <= sample.minute)
        {
            self.samples.push_back(sample);
        } else {
            let pos = self
                .samples
                .iter()
                .rposition(|s| s.minute <= sample.minute)
                .map_or(0, |i| i + 1);
            self.samples.insert(pos, sample);
        }
    }

    /// Minute `minute` (no older than `oldest_minute`), added if new.
    fn minute_mut(&mut self, minute: i64, oldest_minute: i64) -> &mut Minute {
        // Events arrive nearly in order: the slot is almost always the last one.
        match self.minutes.back() {
            Some(last) if last.minute == minute => {
                let at = self.minutes.len() - 1;
                return &mut self.minutes[at];
            }
            Some(last) if last.minute > minute => {}
            _ => {
                // A new latest minute: time to drop those that left the ring.
                self.prune(oldest_minute);
                self.minutes.push_back(Minute {
                    minute,
                    ..Minute::default()
                });
                let at = self.minutes.len() - 1;
                return &mut self.minutes[at];
            }
        }
        let pos = self
            .minutes
            .iter()
            .rposition(|m| m.minute <= minute)
            .map_or(0, |i| i + 1);
        if pos > 0 && self.minutes[pos - 1].minute == minute {
            return &mut self.minutes[pos - 1];
        }
        self.minutes.insert(
            pos,
            Minute {
                minute,
                ..Minute::default()
            },
        );
        &mut self.minutes[pos]
    }

    /// Drops minutes older than `oldest_minute`.
    fn prune(&mut self, oldest_minute: i64) {
        while self
            .minutes
            .front()
            .is_some_and(|m| m.minute < oldest_minute)
        {
            self.minutes.pop_front();
        }
        while self
            .samples
            .front()
            .is_some_and(|s| s.minute < oldest_minute)
        {
            self.samples.pop_front();
        }
    }

    /// Starts a new centre day.
    pub(super) fn reset_day(&mut self) {
        self.version += 1;
        self.day = Tally::default();
        self.day_waits.clear();
        self.day_handles.clear();
    }

    pub(super) fn day(&self) -> &Tally {
        &self.day
    }

    /// Changes with every change to the minutes or the day (see the field).
    pub(super) fn version(&self) -> u64 {
        self.version
    }

    /// Whether any minute in `[from, to)` saw anything: a window whose first minute moves
    /// from `from` to `to` sums the same while none did.
    pub(super) fn has_minutes_in(&self, from: i64, to: i64) -> bool {
        let first = self.minutes.partition_point(|m| m.minute < from);
        self.minutes.get(first).is_some_and(|m| m.minute < to)
    }

    /// The first minute from `from` on that saw anything (a window starting at `from` sums
    /// the same until it leaves).
    pub(super) fn first_minute_from(&self, from: i64) -> Option<i64> {
        let first = self.minutes.partition_point(|m| m.minute < from);
        self.minutes.get(first).map(|m| m.minute)
    }

    /// The service-level counts of the minutes from `first_minute` on: those of their sum
    /// ([`Tally::service_level_counts`]), adding up only the counts they are made of (a
    /// sparkline point draws nothing else: `super::readout::point`).
    pub(super) fn service_level_from(&self, first_minute: i64) -> ServiceLevelCounts {
        let mut t = Tally::default();
        for m in self.minutes.iter().rev() {
            if m.minute < first_minute {
                break;
            }
            t.add_service_level(&m.tally);
        }
        t.service_level_counts()
    }

    /// Sums the minutes from `first_minute` on; with the wait and handle samples as `(waits,
    /// handles)` asks.
    pub(super) fn sum_minutes(
        &self,
        first_minute: i64,
        (waits, handles): (bool, bool),
        out: &mut WindowSum,
    ) {
        for m in self.minutes.iter().rev() {
            if m.minute < first_minute {
                break;
            }
            out.tally.add(&m.tally);
        }
        if waits || handles {
            for s in self
                .samples
                .iter()
                .rev()
                .take_while(|s| s.minute >= first_minute)
            {
                if s.handle {
                    if handles {
                        out.handles.push(s.ms);
                    }
                } else if waits {
                    out.waits.push(s.ms);
                }
            }
        }
    }

    /// Adds the day's sums; with the samples as `(waits, handles)` asks.
    pub(super) fn sum_day(&self, (waits, handles): (bool, bool), out: &mut WindowSum) {
        out.tally.add(&self.day);
        if waits {
            out.waits.extend_from_slice(&self.day_waits);
        }
        if handles {
            out.handles.extend_from_slice(&self.day_handles);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_in_a_span_are_found_and_changes_counted() {
        let mut t = ScopeTally::default();
        let v0 = t.version();
        t.add(10, 0, true, &answered(5_000));
        t.add(12, 0, true, &answered(5_000));
        assert!(t.version() > v0);
        assert!(!t.has_minutes_in(0, 10));
        assert!(t.has_minutes_in(0, 11));
        assert!(t.has_minutes_in(10, 11));
        assert!(!t.has_minutes_in(11, 12));
        assert!(t.has_minutes_in(11, 13));
        assert!(!t.has_minutes_in(13, 20));
        let v1 = t.version();
        t.reset_day();
        assert!(t.version() > v1);
        let v2 = t.version();
        t.add_state_minute(12, 0, &[1; 6]);
        assert!(t.version() > v2);
    }

    fn answered(wait: i64) -> Contribution {
        Contribution::Answered {
            wait_ms: wait,
            within: wait <= 20_000,
        }
    }

    #[test]
    fn minutes_stay_sorted_when_events_arrive_late() {
        let mut t = ScopeTally::default();
        t.add(10, 0, true, &answered(1000));
        t.add(12, 0, true, &answered(3000));
        t.add(11, 0, true, &answered(2000));
        t.add(12, 0, true, &answered(4000));
        let order: Vec<i64> = t.minutes.iter().map(|m| m.minute).collect();
        assert_eq!(order, vec![10, 11, 12]);
        let mut sum = WindowSum::default();
        t.sum_minutes(11, (true, true), &mut sum);
        assert_eq!(sum.tally.answered, 3);
        assert_eq!(sum.tally.max_wait(), Some(4000));
        sum.waits.sort_unstable();
        assert_eq!(sum.waits, [2000, 3000, 4000]);
        let sample_minutes: Vec<i64> = t.samples.iter().map(|s| s.minute).collect();
        assert_eq!(sample_minutes, [10, 11, 12, 12]);
        assert_eq!(t.day().answered, 4);
    }

    #[test]
    fn pruned_minutes_leave_the_day_intact() {
        let mut t = ScopeTally::default();
        t.add(10, 0, true, &answered(1000));
        // Starting a new minute drops those that left the ring.
        t.add(100, 40, true, &answered(1000));
        assert_eq!(t.minutes.len(), 1);
        let mut sum = WindowSum::default();
        t.sum_minutes(0, (false, false), &mut sum);
        assert_eq!(sum.tally.answered, 1);
        assert_eq!(t.day().answered, 2);
        // A late event for a minute already pruned only reaches the day.
        t.add(20, 40, true, &answered(1000));
        assert_eq!(t.minutes.len(), 1);
        let mut on_call = [0; 6];
        on_call[AgentState::OnCall.index()] = 500;
        t.add_state_minute(100, 40, &on_call);
        let mut sum = WindowSum::default();
        t.sum_minutes(100, (false, false), &mut sum);
        assert_eq!(sum.tally.state(AgentState::OnCall), 500);
        assert_eq!(sum.tally.answered, 1);
        assert_eq!(t.day().answered, 3);
    }
}
