//! Local times of day as a scenario writes them (`"08:30"`), and where they fall in UTC on a
//! given date in the centre's time zone.

use std::fmt;
use std::str::FromStr;

use floorwatch_core::Millis;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

/// A local time of day, `HH:MM` or `HH:MM:SS`, from `00:00` to `24:00` inclusive (`24:00` is
/// the end of the day, for a shift or an opening time that runs to midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime {
    seconds: u32,
}

/// Seconds in a day of the clock (24:00 is the end of the last).
pub const DAY_SECONDS: u32 = 86_400;

impl ClockTime {
    /// 00:00, the start of the day.
    pub const MIDNIGHT: ClockTime = ClockTime { seconds: 0 };
    /// 24:00, the end of the day.
    pub const END_OF_DAY: ClockTime = ClockTime {
        seconds: DAY_SECONDS,
    };

    /// The time `seconds` after midnight (at most [`DAY_SECONDS`]).
    pub const fn from_seconds(seconds: u32) -> ClockTime {
        ClockTime { seconds }
    }

    /// Seconds since local midnight.
    pub fn seconds(self) -> u32 {
        self.seconds
    }

    /// The UTC instant of this local time on `date` in `tz`. A time inside a DST gap moves
    /// forward and one inside a fold takes the earlier instant (jiff's "compatible" rule, the
    /// same the core calendar uses); `24:00` is the next date's midnight.
    pub fn on(self, date: Date, tz: &TimeZone) -> Millis {
        let (date, seconds) = if self.seconds >= DAY_SECONDS {
            (date.tomorrow().unwrap_or(date), self.seconds - DAY_SECONDS)
        } else {
            (date, self.seconds)
        };
        let time = Time::new(
            (seconds / 3600) as i8,
            ((seconds / 60) % 60) as i8,
            (seconds % 60) as i8,
            0,
        )
        .unwrap_or(Time::midnight());
        date.to_datetime(time)
            .to_zoned(tz.clone())
            .map(|z| z.timestamp().as_millisecond())
            .unwrap_or(0)
    }
}

/// A clock time that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a time of day HH:MM (00:00 to 24:00)")]
pub struct ClockTimeError(String);

impl FromStr for ClockTime {
    type Err = ClockTimeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ClockTimeError(s.to_string());
        let mut parts = s.split(':');
        let mut next = |max: u32| -> Result<Option<u32>, ClockTimeError> {
            match parts.next() {
                None => Ok(None),
                Some(p) if p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()) => {
                    let v: u32 = p.parse().map_err(|_| err())?;
                    if v > max { Err(err()) } else { Ok(Some(v)) }
                }
                Some(_) => Err(err()),
            }
        };
        let h = next(24)?.ok_or_else(err)?;
        let m = next(59)?.ok_or_else(err)?;
        let sec = next(59)?.unwrap_or(0);
        if parts.next().is_some() {
            return Err(err());
        }
        let seconds = h * 3600 + m * 60 + sec;
        if seconds > DAY_SECONDS {
            return Err(err());
        }
        Ok(ClockTime { seconds })
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (h, m, s) = (
            self.seconds / 3600,
            (self.seconds / 60) % 60,
            self.seconds % 60,
        );
        if s == 0 {
            write!(f, "{h:02}:{m:02}")
        } else {
            write!(f, "{h:02}:{m:02}:{s:02}")
        }
    }
}

floorwatch_core::serde_via_str!(ClockTime);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for s in ["00:00", "08:30", "23:59:30", "24:00"] {
            assert_eq!(s.parse::<ClockTime>().unwrap().to_string(), s);
        }
        for bad in ["8:30", "24:01", "12:60", "noon", "12", "12:00:00:00"] {
            assert!(bad.parse::<ClockTime>().is_err(), "{bad}");
        }
    }

    #[test]
    fn lands_on_the_right_instant_across_dst() {
        let tz = TimeZone::get("America/New_York").unwrap();
        let date = jiff::civil::date(2026, 3, 8); // spring forward at 02:00
        let t = |s: &str| s.parse::<ClockTime>().unwrap().on(date, &tz);
        let ms = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
        assert_eq!(t("00:00"), ms("2026-03-08T05:00:00Z"));
        assert_eq!(t("08:00"), ms("2026-03-08T12:00:00Z")); // EDT already
        assert_eq!(t("24:00"), ms("2026-03-09T04:00:00Z"));
    }
}
