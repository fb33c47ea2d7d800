//! [`CentreDays`]: the centre day an event time falls in, what the journal's day files and the
//! seen ids are keyed by (docs/ARCHITECTURE.md, "The journal").
//!
//! "Today" on the floor is the centre's local day from its reset time (docs/METRICS.md,
//! "Windows"), so a day file holds what the floor counts as one day, and a replayed or late
//! past day lands in its own file, not in the day it was written.

use floorwatch_core::Millis;
use floorwatch_core::calendar::CentreCalendar;
use jiff::civil::Date;

/// The centre's calendar with the last day looked up kept: events come in time order, so
/// nearly every lookup is the cached day (one comparison, not a time-zone conversion).
#[derive(Debug, Clone)]
pub(crate) struct CentreDays {
    calendar: CentreCalendar,
    /// The last two days looked up: `[start, end)` and the date (the floor's day and a late
    /// event's day alternate without a time-zone conversion each).
    cached: [Option<(Millis, Millis, Date)>; 2],
}

impl CentreDays {
    pub(crate) fn new(calendar: CentreCalendar) -> CentreDays {
        CentreDays {
            calendar,
            cached: [None, None],
        }
    }

    /// The local date naming the centre day that contains `ts`; times outside jiff's range
    /// (which the horizon refuses before they are journaled) fall on its first or last day.
    pub(crate) fn of(&mut self, ts: Millis) -> Date {
        for (start, end, day) in self.cached.into_iter().flatten() {
            if (start..end).contains(&ts) {
                return day;
            }
        }
        let day = self
            .calendar
            .date_of(ts)
            .unwrap_or(if ts < 0 { Date::MIN } else { Date::MAX });
        if let Some((start, end)) = self.calendar.day(day) {
            self.cached = [Some((start, end, day)), self.cached[0]];
        }
        day
    }

    /// The day before the one containing `ts`: the oldest whose event ids are kept
    /// (`crate::seen_ids`).
    pub(crate) fn yesterday_of(&mut self, ts: Millis) -> Date {
        self.of(ts).yesterday().unwrap_or(Date::MIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_runs_from_the_centres_reset_in_its_zone() {
        let calendar = CentreCalendar::new("Asia/Shanghai", "06:00").unwrap();
        let mut days = CentreDays::new(calendar);
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
        // 05:59 local on the 7th is still the 6th's day; 06:00 starts the 7th.
        assert_eq!(
            days.of(at("2026-12-06T21:59:00Z")).to_string(),
            "2026-12-06"
        );
        assert_eq!(
            days.of(at("2026-12-06T22:00:00Z")).to_string(),
            "2026-12-07"
        );
        assert_eq!(
            days.of(at("2026-12-06T21:59:59.999Z")).to_string(),
            "2026-12-06"
        );
        assert_eq!(
            days.of(at("2026-12-07T12:00:00Z")).to_string(),
            "2026-12-07"
        );
    }
}
