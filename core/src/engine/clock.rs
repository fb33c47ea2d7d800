//! The engine's clock: event time and explicit ticks, never the wall clock (docs/METRICS.md,
//! "Time"), and the boundaries derived from it.

use super::tally::{MINUTE_MS, RING_MINUTES};
use crate::calendar::CentreCalendar;
use crate::event::Millis;

/// The engine's notion of now and the window boundaries that follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct Clock {
    /// The latest event time or tick seen.
    pub now: Millis,
    /// Start of the current centre day.
    pub day_start: Millis,
    /// Start of the next centre day: when `now` reaches it, today's figures reset.
    pub next_day_start: Millis,
    /// The oldest minute still kept for rolling windows.
    pub oldest_minute: i64,
}

impl Clock {
    pub(super) fn at(now: Millis, calendar: &CentreCalendar) -> Clock {
        Clock {
            now,
            day_start: calendar.day_start(now),
            next_day_start: calendar.next_day_start(now),
            oldest_minute: minute_of(now) - (RING_MINUTES - 1),
        }
    }

    /// Moves to `now` within the same centre day.
    pub(super) fn advance(&mut self, now: Millis) {
        self.now = now;
        self.oldest_minute = minute_of(now) - (RING_MINUTES - 1);
    }

    /// Whether an outcome at `t` belongs to today.
    pub(super) fn in_day(&self, t: Millis) -> bool {
        t >= self.day_start && t < self.next_day_start
    }
}

/// The minute number containing `t`.
pub(super) fn minute_of(t: Millis) -> i64 {
    t.div_euclid(MINUTE_MS)
}
