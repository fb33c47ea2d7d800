//! The centre's local calendar: where "today" and the current 15/30-minute interval begin, in
//! the centre's own time zone (docs/METRICS.md, "Windows").
//!
//! Midnight resets and DST changes are where peers lose counters; every boundary here is
//! computed by `jiff` from the zone's rules, never by adding 24 hours.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use crate::event::Millis;

/// A time zone or reset time that cannot make a calendar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// Not an IANA zone name.
    #[error("unknown time zone `{0}` (expected an IANA name such as Asia/Shanghai)")]
    Zone(String),
    /// Not `HH:MM`.
    #[error("`{0}` is not a time of day HH:MM")]
    ResetTime(String),
    /// A time the zone cannot convert.
    #[error("time {0} ms is out of range")]
    Range(Millis),
}

/// A time zone plus the local time at which the centre's day starts.
#[derive(Debug, Clone)]
pub struct CentreCalendar {
    tz: TimeZone,
    reset: Time,
}

impl CentreCalendar {
    /// The calendar of `zone` (IANA name) with days starting at `reset_time` (`HH:MM`) local.
    pub fn new(zone: &str, reset_time: &str) -> Result<Self, CalendarError> {
        let tz = TimeZone::get(zone).map_err(|_| CalendarError::Zone(zone.to_string()))?;
        let reset = parse_hhmm(reset_time)
            .ok_or_else(|| CalendarError::ResetTime(reset_time.to_string()))?;
        Ok(CentreCalendar { tz, reset })
    }

    /// UTC days from midnight: the fallback when a configured calendar cannot be made.
    pub fn utc() -> Self {
        CentreCalendar {
            tz: TimeZone::UTC,
            reset: Time::midnight(),
        }
    }

    /// `ZONE HH:MM`: what decides where each day starts, so that something keyed by the
    /// centre's days (history's day rows) can tell when the configuration moved them.
    pub fn describe(&self) -> String {
        format!(
            "{} {:02}:{:02}",
            self.tz.iana_name().unwrap_or("UTC"),
            self.reset.hour(),
            self.reset.minute()
        )
    }

    /// The centre's time zone.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// Start of the centre's day containing `t`: the latest reset at or before `t`.
    pub fn day_start(&self, t: Millis) -> Millis {
        let Ok(zoned) = zoned(t, &self.tz) else {
            return t;
        };
        let today = self.reset_on(zoned.date());
        match today {
            Some(start) if start <= t => start,
            _ => zoned
                .date()
                .yesterday()
                .ok()
                .and_then(|d| self.reset_on(d))
                .unwrap_or(t),
        }
    }

    /// Start of the next centre day after the one containing `t`.
    pub fn next_day_start(&self, t: Millis) -> Millis {
        let start = self.day_start(t);
        let Ok(zoned) = zoned(start, &self.tz) else {
            return Millis::MAX;
        };
        // The next civil date's reset, found via the civil date so that a 23- or 25-hour DST
        // day stays exact. A reset pushed past midnight by a DST gap can fall on the next date
        // already, hence the second candidate.
        let first = zoned.date().tomorrow().ok();
        let second = first.and_then(|d| d.tomorrow().ok());
        [first, second]
            .into_iter()
            .flatten()
            .filter_map(|d| self.reset_on(d))
            .find(|&next| next > start)
            .unwrap_or(Millis::MAX)
    }

    /// Start of the current `minutes`-long interval of the local clock containing `t` (15 or 30:
    /// intervals start on the local quarter or half hour).
    pub fn interval_start(&self, t: Millis, minutes: i64) -> Millis {
        let offset_ms = self.offset_ms(t);
        let local = t + offset_ms;
        let len = minutes * crate::time::MINUTE_MS;
        local.div_euclid(len) * len - offset_ms
    }

    /// The zone's UTC offset at `t`, in milliseconds.
    pub fn offset_ms(&self, t: Millis) -> Millis {
        match Timestamp::from_millisecond(t) {
            Ok(ts) => i64::from(self.tz.to_offset(ts).seconds()) * crate::time::SECOND_MS,
            Err(_) => 0,
        }
    }

    /// The local date of the centre day containing `t`, as `YYYY-MM-DD`.
    pub fn day_label(&self, t: Millis) -> String {
        zoned(self.day_start(t), &self.tz)
            .map(|z| z.date().to_string())
            .unwrap_or_default()
    }

    /// The span of the centre day named by local date `date` (its reset to the next), as reports
    /// and history name days (docs/HISTORY.md); `None` outside the supported range of time.
    pub fn day(&self, date: Date) -> Option<(Millis, Millis)> {
        let start = self.reset_on(date)?;
        Some((start, self.next_day_start(start)))
    }

    /// The local date naming the centre day that contains `t`.
    pub fn date_of(&self, t: Millis) -> Option<Date> {
        zoned(self.day_start(t), &self.tz).ok().map(|z| z.date())
    }

    /// The reset instant on a local date; a reset time inside a DST gap moves forward (jiff's
    /// "compatible" rule), one inside a fold takes the earlier instant.
    fn reset_on(&self, date: Date) -> Option<Millis> {
        date.to_datetime(self.reset)
            .to_zoned(self.tz.clone())
            .ok()
            .map(|z| z.timestamp().as_millisecond())
    }
}

fn zoned(t: Millis, tz: &TimeZone) -> Result<Zoned, CalendarError> {
    Timestamp::from_millisecond(t)
        .map(|ts| ts.to_zoned(tz.clone()))
        .map_err(|_| CalendarError::Range(t))
}

fn parse_hhmm(s: &str) -> Option<Time> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: i8 = h.parse().ok()?;
    let m: i8 = m.parse().ok()?;
    Time::new(h, m, 0, 0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> Millis {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn shanghai_day_starts_at_local_midnight() {
        let cal = CentreCalendar::new("Asia/Shanghai", "00:00").unwrap();
        // 2026-03-09 23:59 local is 15:59 UTC; the day began at 2026-03-08T16:00Z.
        assert_eq!(
            cal.day_start(ms("2026-03-09T15:59:00Z")),
            ms("2026-03-08T16:00:00Z")
        );
        assert_eq!(
            cal.day_start(ms("2026-03-09T16:00:00Z")),
            ms("2026-03-09T16:00:00Z")
        );
        assert_eq!(
            cal.next_day_start(ms("2026-03-09T15:59:00Z")),
            ms("2026-03-09T16:00:00Z")
        );
        assert_eq!(cal.day_label(ms("2026-03-09T15:59:00Z")), "2026-03-09");
    }

    #[test]
    fn new_york_dst_days_are_23_and_25_hours() {
        let cal = CentreCalendar::new("America/New_York", "00:00").unwrap();
        // Spring forward: 2026-03-08 has 23 hours.
        let start = cal.day_start(ms("2026-03-08T12:00:00Z"));
        assert_eq!(start, ms("2026-03-08T05:00:00Z"));
        assert_eq!(cal.next_day_start(start) - start, 23 * 3_600_000);
        // Fall back: 2026-11-01 has 25 hours.
        let start = cal.day_start(ms("2026-11-01T12:00:00Z"));
        assert_eq!(start, ms("2026-11-01T04:00:00Z"));
        assert_eq!(cal.next_day_start(start) - start, 25 * 3_600_000);
    }

    #[test]
    fn reset_time_inside_a_dst_gap_moves_forward() {
        // 02:30 does not exist in New York on 2026-03-08; the day starts at 03:30 EDT instead.
        let cal = CentreCalendar::new("America/New_York", "02:30").unwrap();
        assert_eq!(
            cal.day_start(ms("2026-03-08T12:00:00Z")),
            ms("2026-03-08T07:30:00Z")
        );
    }

    #[test]
    fn intervals_follow_the_local_clock() {
        // Kathmandu is UTC+05:45: local quarter hours are not UTC quarter hours.
        let cal = CentreCalendar::new("Asia/Kathmandu", "00:00").unwrap();
        let t = ms("2026-01-01T00:20:00Z"); // 06:05 local
        assert_eq!(cal.interval_start(t, 15), ms("2026-01-01T00:15:00Z")); // 06:00 local
        assert_eq!(cal.interval_start(t, 30), ms("2026-01-01T00:15:00Z"));
    }

    #[test]
    fn bad_zone_and_reset_are_named() {
        assert_eq!(
            CentreCalendar::new("Nowhere/City", "00:00").unwrap_err(),
            CalendarError::Zone("Nowhere/City".into())
        );
        assert!(CentreCalendar::new("UTC", "7:00").is_err());
        assert!(CentreCalendar::new("UTC", "07:60").is_err());
    }
}
