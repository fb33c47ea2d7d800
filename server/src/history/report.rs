//! Interval reports: a scope's stored quarter-hours rolled up into the intervals of the centre's
//! local calendar (docs/HISTORY.md, "Reports").
//!
//! Every interval of the period is a row, with or without traffic: a quarter-hour nobody worked
//! is a row of zero counts and null percentages, and a DST day has 92 or 100 quarter-hours.
//! Rows are sums; figures are derived once per interval from the sums of its quarter-hours
//! ([`IntervalRow::figures`]), so an hour, a day or a month is exact, percentiles included.

use std::str::FromStr;

use floorwatch_core::history::{IntervalFigures, IntervalRow, QUARTER_HOUR_MS};
use floorwatch_core::{CentreCalendar, Millis, Scope, ServiceLevelSettings};
use jiff::civil::Date;
use serde::Serialize;

/// How long each row of a report is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Granularity {
    /// Quarter-, half- and whole hours of the local clock.
    Minutes(i64),
    Day,
    /// Monday to Sunday (ISO weeks), cut to the period.
    Week,
    /// Calendar months, cut to the period.
    Month,
}

impl FromStr for Granularity {
    type Err = String;

    fn from_str(s: &str) -> Result<Granularity, String> {
        Ok(match s {
            "15m" => Granularity::Minutes(15),
            "30m" => Granularity::Minutes(30),
            "60m" => Granularity::Minutes(60),
            "day" => Granularity::Day,
            "week" => Granularity::Week,
            "month" => Granularity::Month,
            other => {
                return Err(format!(
                    "unknown interval `{other}`: one of 15m, 30m, 60m, day, week, month"
                ));
            }
        })
    }
}

impl Granularity {
    /// The name the API takes and answers with.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Granularity::Minutes(15) => "15m",
            Granularity::Minutes(30) => "30m",
            Granularity::Minutes(_) => "60m",
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }
}

/// The centre days `from` to `to` (inclusive): the span they cover, or what is wrong with them
/// (a rebuild's days, any number of them).
pub(crate) fn span(
    calendar: &CentreCalendar,
    from: Date,
    to: Date,
) -> Result<(Millis, Millis), String> {
    if from > to {
        return Err(format!("`from` {from} is after `to` {to}"));
    }
    let (start, _) = calendar
        .day(from)
        .ok_or_else(|| format!("`from` {from} is out of range"))?;
    let (_, end) = calendar
        .day(to)
        .ok_or_else(|| format!("`to` {to} is out of range"))?;
    Ok((start, end))
}

/// A report's period: [`span`], at most [`MAX_DAYS`] long.
pub(crate) fn period(
    calendar: &CentreCalendar,
    from: Date,
    to: Date,
) -> Result<(Millis, Millis), String> {
    let days = to
        .since(from)
        .map_or(i64::MAX, |span| i64::from(span.get_days()));
    if days >= MAX_DAYS {
        return Err(format!(
            "the period is {} days; a report covers at most {MAX_DAYS}",
            days + 1
        ));
    }
    span(calendar, from, to)
}

/// Longest period of one report: 13 months, the default retention (`--history-days`).
pub(crate) const MAX_DAYS: i64 = 400;

/// The intervals of `granularity` covering `[start, end)`, in the centre's local calendar.
pub(crate) fn intervals(
    calendar: &CentreCalendar,
    (start, end): (Millis, Millis),
    granularity: Granularity,
) -> Vec<(Millis, Millis)> {
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        let next = match granularity {
            Granularity::Minutes(minutes) => {
                // The next local boundary: the zone's offset is whole quarter-hours, so the
                // local boundaries are quarter-hours of UTC too.
                let mut next = at + QUARTER_HOUR_MS;
                while next < end && calendar.interval_start(next, minutes) != next {
                    next += QUARTER_HOUR_MS;
                }
                next
            }
            Granularity::Day => calendar.next_day_start(at),
            Granularity::Week | Granularity::Month => {
                let mut next = calendar.next_day_start(at);
                while next < end && !starts_period(calendar, next, granularity) {
                    next = calendar.next_day_start(next);
                }
                next
            }
        };
        let next = next.min(end);
        if next <= at {
            break;
        }
        out.push((at, next));
        at = next;
    }
    out
}

/// Whether the centre day starting at `t` begins a week (a Monday) or a month (the 1st).
fn starts_period(calendar: &CentreCalendar, t: Millis, granularity: Granularity) -> bool {
    let Some(date) = calendar.date_of(t) else {
        return true;
    };
    match granularity {
        Granularity::Week => date.weekday() == jiff::civil::Weekday::Monday,
        _ => date.day() == 1,
    }
}

/// One row of an interval report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ReportRow {
    pub(crate) start_ms: Millis,
    pub(crate) end_ms: Millis,
    /// The interval's start on the centre's local clock (`2026-03-09T08:15`).
    pub(crate) start_local: String,
    #[serde(flatten)]
    pub(crate) figures: IntervalFigures,
}

/// Rolls `quarters` (a scope's stored rows, oldest first) up into `intervals`.
pub(crate) fn roll_up(
    calendar: &CentreCalendar,
    scope: &Scope,
    settings: &ServiceLevelSettings,
    quarters: &[(Millis, IntervalRow)],
    intervals: &[(Millis, Millis)],
) -> Vec<ReportRow> {
    let mut rows = quarters.iter().peekable();
    intervals
        .iter()
        .map(|&(start, end)| {
            let mut sum = IntervalRow::default();
            while let Some((_, row)) = rows.next_if(|(at, _)| *at < end) {
                sum.merge(row);
            }
            ReportRow {
                start_ms: start,
                end_ms: end,
                start_local: local(calendar, start),
                figures: sum.figures(scope.clone(), (start, end), settings),
            }
        })
        .collect()
}

/// Which days a day is compared with (`GET /api/v1/reports/compare`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Against {
    PreviousDay,
    SameWeekdayLastWeek,
    /// The same weekday of the four weeks before, pooled.
    SameWeekday4WeeksAvg,
}

impl FromStr for Against {
    type Err = String;

    fn from_str(s: &str) -> Result<Against, String> {
        Ok(match s {
            "previous-day" => Against::PreviousDay,
            "same-weekday-last-week" => Against::SameWeekdayLastWeek,
            "same-weekday-4-weeks-avg" => Against::SameWeekday4WeeksAvg,
            other => {
                return Err(format!(
                    "unknown comparison `{other}`: one of previous-day, same-weekday-last-week, \
                     same-weekday-4-weeks-avg"
                ));
            }
        })
    }
}

impl Against {
    /// The name the API takes and answers with.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Against::PreviousDay => "previous-day",
            Against::SameWeekdayLastWeek => "same-weekday-last-week",
            Against::SameWeekday4WeeksAvg => "same-weekday-4-weeks-avg",
        }
    }

    /// The days `date` is compared with.
    pub(crate) fn days(self, date: Date) -> Vec<Date> {
        let back = |days: i64| date.checked_sub(jiff::Span::new().days(days)).ok();
        match self {
            Against::PreviousDay => back(1).into_iter().collect(),
            Against::SameWeekdayLastWeek => back(7).into_iter().collect(),
            Against::SameWeekday4WeeksAvg => (1..=4).filter_map(|w| back(7 * w)).collect(),
        }
    }
}

/// The comparison series: the quarter-hours of `days` pooled by local time of day into the
/// slots of `intervals` (the compared day's), so a DST day lines up by the clock on the wall.
/// Percentages and times are of the pooled calls; counts are sums over the days.
pub(crate) fn pooled_by_time_of_day(
    calendar: &CentreCalendar,
    scope: &Scope,
    settings: &ServiceLevelSettings,
    days: &[Vec<(Millis, IntervalRow)>],
    intervals: &[(Millis, Millis)],
) -> Vec<ReportRow> {
    let slot_of = |t: Millis| local(calendar, t).get(11..16).map(str::to_string);
    let starts: Vec<Option<String>> = intervals.iter().map(|(s, _)| slot_of(*s)).collect();
    let mut sums = vec![IntervalRow::default(); intervals.len()];
    for day in days {
        for (at, row) in day {
            let Some(slot) = slot_of(*at) else { continue };
            // The last interval starting at or before the quarter-hour's local time.
            let i = starts
                .iter()
                .rposition(|s| s.as_deref().is_some_and(|s| s <= slot.as_str()));
            if let Some(i) = i {
                sums[i].merge(row);
            }
        }
    }
    intervals
        .iter()
        .zip(sums)
        .map(|(&(start, end), sum)| ReportRow {
            start_ms: start,
            end_ms: end,
            start_local: local(calendar, start),
            figures: sum.figures(scope.clone(), (start, end), settings),
        })
        .collect()
}

/// `t` on the centre's local clock, to the minute.
fn local(calendar: &CentreCalendar, t: Millis) -> String {
    jiff::Timestamp::from_millisecond(t)
        .map(|ts| {
            ts.to_zoned(calendar.time_zone().clone())
                .strftime("%Y-%m-%dT%H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_york() -> CentreCalendar {
        CentreCalendar::new("America/New_York", "00:00").unwrap()
    }

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn dst_days_have_92_and_100_quarter_hours_and_24_or_so_hours() {
        let cal = new_york();
        let spring = period(&cal, date("2026-03-08"), date("2026-03-08")).unwrap();
        let autumn = period(&cal, date("2026-11-01"), date("2026-11-01")).unwrap();
        assert_eq!(intervals(&cal, spring, Granularity::Minutes(15)).len(), 92);
        assert_eq!(intervals(&cal, autumn, Granularity::Minutes(15)).len(), 100);
        assert_eq!(intervals(&cal, spring, Granularity::Minutes(60)).len(), 23);
        assert_eq!(intervals(&cal, autumn, Granularity::Minutes(30)).len(), 50);
        assert_eq!(intervals(&cal, autumn, Granularity::Day).len(), 1);
    }

    #[test]
    fn weeks_and_months_follow_the_local_calendar_cut_to_the_period() {
        let cal = new_york();
        // Wednesday 2026-03-25 to Tuesday 2026-04-07.
        let span = period(&cal, date("2026-03-25"), date("2026-04-07")).unwrap();
        let weeks = intervals(&cal, span, Granularity::Week);
        let starts: Vec<String> = weeks.iter().map(|(s, _)| local(&cal, *s)).collect();
        assert_eq!(
            starts,
            ["2026-03-25T00:00", "2026-03-30T00:00", "2026-04-06T00:00"]
        );
        let months = intervals(&cal, span, Granularity::Month);
        assert_eq!(months.len(), 2);
        assert_eq!(local(&cal, months[1].0), "2026-04-01T00:00");
        assert_eq!(months[1].1, span.1);
    }

    #[test]
    fn half_hours_follow_the_local_clock_of_a_quarter_hour_zone() {
        let cal = CentreCalendar::new("Asia/Kathmandu", "00:00").unwrap();
        let day = period(&cal, date("2026-03-09"), date("2026-03-09")).unwrap();
        let halves = intervals(&cal, day, Granularity::Minutes(30));
        assert_eq!(halves.len(), 48);
        assert!(
            halves
                .iter()
                .all(|(s, _)| local(&cal, *s).ends_with(":00") || local(&cal, *s).ends_with(":30"))
        );
    }

    #[test]
    fn periods_are_checked() {
        let cal = new_york();
        assert!(period(&cal, date("2026-03-09"), date("2026-03-08")).is_err());
        assert!(period(&cal, date("2020-01-01"), date("2026-03-08")).is_err());
        assert!("5m".parse::<Granularity>().is_err());
    }
}
