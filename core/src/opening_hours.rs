//! A centre's opening hours (`[centre.opening_hours]`): when silence is expected. Outside
//! them the feed may well be quiet and service level means nothing, so the `source_silent` and
//! service-level alert rules stay quiet (docs/ALERTS.md, "Expected silence").
//!
//! ```toml
//! [centre.opening_hours]
//! mon = ["08:00-20:00"]          # one or more HH:MM-HH:MM ranges, local time
//! sat = ["09:00-12:00", "13:00-17:00"]
//! # a weekday left out is closed all day; "00:00-24:00" is open all day
//! exceptions = [
//!   { date = "2026-12-25", hours = [] },             # closed
//!   { date = "2026-12-24", hours = ["08:00-12:00"] },
//! ]
//! ```
//!
//! Without the table the centre is always open (as before).

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::event::Millis;

/// The `[centre.opening_hours]` table, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningHoursConfig {
    /// Monday's open spans (`"08:00-18:00"`); closed all day when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mon: Option<Vec<String>>,
    /// Tuesday's open spans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tue: Option<Vec<String>>,
    /// Wednesday's open spans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wed: Option<Vec<String>>,
    /// Thursday's open spans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thu: Option<Vec<String>>,
    /// Friday's open spans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fri: Option<Vec<String>>,
    /// Saturday's open spans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sat: Option<Vec<String>>,
    /// Sunday's open spans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sun: Option<Vec<String>>,
    /// Days whose hours differ from their weekday's (holidays, short days).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<OpeningException>,
}

/// One day's own hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningException {
    /// The local date.
    pub date: Date,
    /// Its open spans (`"09:00-12:00"`); empty: closed all day.
    pub hours: Vec<String>,
}

/// A mistake in the table, naming the key at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("centre.opening_hours.{key}: {problem}")]
pub struct OpeningHoursError {
    /// The key, after `centre.opening_hours.`.
    pub key: String,
    /// What is wrong with it.
    pub problem: String,
}

/// Seconds after local midnight: `[from, to)`.
type Range = (i32, i32);

/// The hours, checked: open or not at an instant, and where that can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningHours {
    tz: TimeZone,
    /// By weekday, Monday first.
    week: [Vec<Range>; 7],
    exceptions: BTreeMap<Date, Vec<Range>>,
}

impl OpeningHours {
    /// The hours of `config` in the centre's zone `tz`.
    pub fn new(
        config: &OpeningHoursConfig,
        tz: TimeZone,
    ) -> Result<OpeningHours, OpeningHoursError> {
        let days = [
            ("mon", &config.mon),
            ("tue", &config.tue),
            ("wed", &config.wed),
            ("thu", &config.thu),
            ("fri", &config.fri),
            ("sat", &config.sat),
            ("sun", &config.sun),
        ];
        let mut week: [Vec<Range>; 7] = Default::default();
        for (i, (key, hours)) in days.into_iter().enumerate() {
            week[i] = ranges(key, hours.as_deref().unwrap_or_default())?;
        }
        let mut exceptions = BTreeMap::new();
        for (i, exception) in config.exceptions.iter().enumerate() {
            let key = format!("exceptions[{i}]");
            let hours = ranges(&format!("{key}.hours"), &exception.hours)?;
            if exceptions.insert(exception.date, hours).is_some() {
                return Err(OpeningHoursError {
                    key: format!("{key}.date"),
                    problem: format!("{} is listed twice", exception.date),
                });
            }
        }
        Ok(OpeningHours {
            tz,
            week,
            exceptions,
        })
    }

    fn day(&self, date: Date) -> &[Range] {
        self.exceptions.get(&date).map_or_else(
            || {
                let monday_first = date.weekday().to_monday_zero_offset();
                self.week[monday_first as usize].as_slice()
            },
            Vec::as_slice,
        )
    }

    /// Whether the centre is open at `at`, on its local clock.
    pub fn is_open(&self, at: Millis) -> bool {
        let Ok(ts) = jiff::Timestamp::from_millisecond(at) else {
            return true;
        };
        let local = ts.to_zoned(self.tz.clone());
        let t = local.time();
        let second =
            i32::from(t.hour()) * 3600 + i32::from(t.minute()) * 60 + i32::from(t.second());
        self.day(local.date())
            .iter()
            .any(|&(from, to)| (from..to).contains(&second))
    }

    /// The local times of `date` at which being open can change (its ranges' ends, and
    /// midnight, where one day's hours give way to the next's).
    pub fn edges_on(&self, date: Date) -> Vec<i32> {
        let mut edges = vec![0];
        for &(from, to) in self.day(date) {
            edges.extend([from, to % 86_400]);
        }
        edges
    }

    /// The zone the hours are local to.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }
}

/// `["08:00-20:00", ...]` as second ranges, checked.
fn ranges(key: &str, hours: &[String]) -> Result<Vec<Range>, OpeningHoursError> {
    let fail = |problem: String| OpeningHoursError {
        key: key.to_string(),
        problem,
    };
    let mut out = Vec::with_capacity(hours.len());
    for text in hours {
        let (from, to) = text
            .split_once('-')
            .ok_or_else(|| fail(format!("`{text}` is not HH:MM-HH:MM")))?;
        let from = hh_mm(from).ok_or_else(|| fail(format!("`{text}`: bad start")))?;
        let to = hh_mm(to).ok_or_else(|| fail(format!("`{text}`: bad end")))?;
        if from >= to {
            return Err(fail(format!(
                "`{text}`: the end must come after the start (24:00 for midnight)"
            )));
        }
        out.push((from, to));
    }
    Ok(out)
}

/// `HH:MM` (00:00 to 24:00) as seconds after midnight.
fn hh_mm(text: &str) -> Option<i32> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    let ok = (0..=23).contains(&h) && (0..=59).contains(&m) || (h == 24 && m == 0);
    ok.then_some(h * 3600 + m * 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> Millis {
        s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    fn shanghai(config: &str) -> OpeningHours {
        let config: OpeningHoursConfig = serde_json::from_str(config).unwrap();
        OpeningHours::new(&config, TimeZone::get("Asia/Shanghai").unwrap()).unwrap()
    }

    #[test]
    fn open_by_weekday_and_exception_in_local_time() {
        let hours = shanghai(
            r#"{"mon": ["08:00-20:00"], "exceptions": [{"date": "2026-03-16", "hours": []}]}"#,
        );
        // Monday 2026-03-09, 08:00 in Shanghai is 00:00Z.
        assert!(!hours.is_open(ms("2026-03-08T23:59:59Z")));
        assert!(hours.is_open(ms("2026-03-09T00:00:00Z")));
        assert!(!hours.is_open(ms("2026-03-09T12:00:00Z")));
        // Tuesday is not listed: closed.
        assert!(!hours.is_open(ms("2026-03-10T02:00:00Z")));
        // The next Monday is an exception: closed.
        assert!(!hours.is_open(ms("2026-03-16T02:00:00Z")));
        assert_eq!(
            hours.edges_on(jiff::civil::date(2026, 3, 9)),
            vec![0, 8 * 3600, 20 * 3600]
        );
    }

    #[test]
    fn mistakes_name_their_key() {
        let config: OpeningHoursConfig = serde_json::from_str(r#"{"tue": ["9:00-8:00"]}"#).unwrap();
        let err = OpeningHours::new(&config, TimeZone::UTC).unwrap_err();
        assert_eq!(err.key, "tue");
        let config: OpeningHoursConfig =
            serde_json::from_str(r#"{"wed": ["00:00-24:00", "25:00-26:00"]}"#).unwrap();
        assert!(OpeningHours::new(&config, TimeZone::UTC).is_err());
        let all_day: OpeningHoursConfig =
            serde_json::from_str(r#"{"sun": ["00:00-24:00"]}"#).unwrap();
        let hours = OpeningHours::new(&all_day, TimeZone::UTC).unwrap();
        assert!(hours.is_open(ms("2026-03-08T23:59:59Z")));
    }
}
