//! How far ahead of the server's clock an event may be (docs/EVENTS.md, "Time").
//!
//! Event time drives every figure, so one event stamped in 2099 would move the floor's clock
//! there: "today" would be empty, every real event late, and the jump itself costs an
//! evaluation of every alert boundary in between. A switch with a wrong clock, a typo in a
//! replay or a hostile local process can send one. So an event too far ahead is refused with a
//! line error naming the field and the limit, and never journaled; one already in the journal
//! (from before this check) is set aside at start and listed by `floorwatch journal check`.
//!
//! The reference is the wall clock in `--clock wall` (`--max-future`, default 5 minutes: a
//! switch's clock may run a little fast) and the latest accepted event in `--clock events`
//! (`--max-jump`, default a day: a replay moves from one day to the next, never to next year),
//! except that the first event of an empty journal sets the clock wherever it is.

use floorwatch_core::{Event, Millis};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
/// What moves the floor's clock (`--clock`).
pub(crate) enum ClockMode {
    // The wall clock and events.
    Wall,
    // Events only (a replay shows as if live).
    Events,
}

/// `--max-future` when not given, seconds.
const DEFAULT_MAX_FUTURE_S: u64 = 300;
/// `--max-jump` when not given, seconds.
const DEFAULT_MAX_JUMP_S: u64 = 86_400;
/// The largest limit accepted for either: a year.
const MAX_LIMIT_S: u64 = 366 * 86_400;

/// What an event's time is compared with, and how far ahead of it may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Horizon {
    /// `--clock wall`: at most `max_future` ahead of the wall clock.
    WallClock { max_future: Millis },
    /// `--clock events`: at most `max_jump` ahead of the latest accepted event.
    LatestEvent { max_jump: Millis },
}

impl Horizon {
    /// The horizon of `clock`, from the flags (seconds); errors name the key at fault.
    pub(crate) fn new(
        clock: ClockMode,
        max_future_s: Option<u64>,
        max_jump_s: Option<u64>,
    ) -> Result<Horizon, (&'static str, String)> {
        let limit = |key: &'static str, value: Option<u64>, default: u64| {
            let s = value.unwrap_or(default);
            if s == 0 || s > MAX_LIMIT_S {
                return Err((key, format!("must be 1 to {MAX_LIMIT_S} seconds, not {s}")));
            }
            Ok(s as Millis * 1000)
        };
        let max_future = limit("max-future", max_future_s, DEFAULT_MAX_FUTURE_S)?;
        let max_jump = limit("max-jump", max_jump_s, DEFAULT_MAX_JUMP_S)?;
        Ok(match clock {
            ClockMode::Wall => Horizon::WallClock { max_future },
            ClockMode::Events => Horizon::LatestEvent { max_jump },
        })
    }
}

impl Default for Horizon {
    fn default() -> Self {
        Horizon::WallClock {
            max_future: DEFAULT_MAX_FUTURE_S as Millis * 1000,
        }
    }
}

/// Why an event was refused: it lies too far ahead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "field `ts`: {} is {} ahead of {what} ({}); events more than {} ahead are refused ({flag})",
    iso(*.ts), human(*.ts - *.reference), iso(*.reference), human(*.limit)
)]
pub(crate) struct TooFarAhead {
    pub(crate) ts: Millis,
    pub(crate) reference: Millis,
    pub(crate) limit: Millis,
    what: &'static str,
    flag: &'static str,
}

/// Checks events in the order they are accepted, remembering the latest one's time.
#[derive(Debug, Clone)]
pub(crate) struct Lookout {
    horizon: Horizon,
    /// The latest accepted event time; `None` while nothing was accepted (an empty journal).
    latest: Option<Millis>,
}

impl Lookout {
    /// A lookout whose latest accepted event time is `latest` (the floor's clock after the
    /// journal was replayed, `None` for an empty journal).
    pub(crate) fn new(horizon: Horizon, latest: Option<Millis>) -> Lookout {
        Lookout { horizon, latest }
    }

    /// The latest accepted event time (a checkpoint keeps it).
    pub(crate) fn latest(&self) -> Option<Millis> {
        self.latest
    }

    /// Admits `event` (remembering its time) or says why it is refused; `wall_now` is the wall
    /// clock, read by the caller once per batch.
    pub(crate) fn admit(&mut self, event: &Event, wall_now: Millis) -> Result<(), TooFarAhead> {
        let refuse = |reference: Millis, limit: Millis, what, flag| TooFarAhead {
            ts: event.ts,
            reference,
            limit,
            what,
            flag,
        };
        match self.horizon {
            Horizon::WallClock { max_future } => {
                if event.ts > wall_now.saturating_add(max_future) {
                    return Err(refuse(
                        wall_now,
                        max_future,
                        "the server's clock",
                        "--max-future",
                    ));
                }
            }
            Horizon::LatestEvent { max_jump } => {
                if let Some(latest) = self.latest
                    && event.ts > latest.saturating_add(max_jump)
                {
                    return Err(refuse(
                        latest,
                        max_jump,
                        "the latest accepted event",
                        "--max-jump",
                    ));
                }
            }
        }
        if !event.test {
            // Test calls never move the clock (docs/EVENTS.md): nor do they move the horizon.
            self.latest = Some(self.latest.map_or(event.ts, |l| l.max(event.ts)));
        }
        Ok(())
    }
}

/// An instant as RFC 3339 UTC, or the raw number when it is out of range.
fn iso(ms: Millis) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(|_| format!("{ms} ms"), |t| t.to_string())
}

/// A duration in its two largest units (`73d 4h`, `5m`, `12s`).
fn human(ms: Millis) -> String {
    let s = ms.max(0) / 1000;
    let units = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    let parts: Vec<String> = units
        .iter()
        .scan(s, |left, &(size, unit)| {
            let n = *left / size;
            *left %= size;
            Some((n, unit))
        })
        .skip_while(|(n, _)| *n == 0)
        .take(2)
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if parts.is_empty() {
        format!("{ms} ms")
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ts: Millis, test: bool) -> Event {
        let mut event = Event::from_json(&format!(
            r#"{{"v":1,"id":"e{ts}","source":"pbx","seq":1,"ts":{ts},"type":"agent_logout","agent":"a1"}}"#
        ))
        .unwrap();
        event.test = test;
        event
    }

    const NOW: Millis = 1_765_000_000_000;

    #[test]
    fn wall_clock_refuses_beyond_max_future_and_names_field_and_limit() {
        let horizon = Horizon::new(ClockMode::Wall, None, None).unwrap();
        let mut lookout = Lookout::new(horizon, None);
        assert!(lookout.admit(&at(NOW + 300_000, false), NOW).is_ok());
        let err = lookout
            .admit(&at(4_070_908_799_999, false), NOW)
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("field `ts`: 2098-12-31T23:59:59.999Z"),
            "{text}"
        );
        assert!(
            text.contains("5m ahead are refused (--max-future)"),
            "{text}"
        );
        assert!(text.contains("days") || text.contains('d'), "{text}");
        // Events far behind are late, not refused.
        assert!(
            lookout
                .admit(&at(NOW - 86_400_000 * 30, false), NOW)
                .is_ok()
        );
    }

    #[test]
    fn event_clock_refuses_a_jump_beyond_max_jump_unless_nothing_was_accepted() {
        let horizon = Horizon::new(ClockMode::Events, None, Some(3_600)).unwrap();
        let mut lookout = Lookout::new(horizon, None);
        // The first event of an empty journal sets the clock wherever it is.
        assert!(lookout.admit(&at(NOW, false), 0).is_ok());
        assert!(lookout.admit(&at(NOW + 3_600_000, false), 0).is_ok());
        let err = lookout
            .admit(&at(NOW + 2 * 3_600_000 + 1_000, false), 0)
            .unwrap_err();
        assert_eq!(err.reference, NOW + 3_600_000);
        assert!(
            err.to_string()
                .contains("1h ahead are refused (--max-jump)")
        );
        // A test call far ahead is refused too, and an admitted one moves nothing.
        assert!(lookout.admit(&at(NOW + 7_200_000, true), 0).is_ok());
        assert!(lookout.admit(&at(NOW + 7_300_000, false), 0).is_err());
    }

    #[test]
    fn limits_are_checked() {
        assert_eq!(
            Horizon::new(ClockMode::Wall, Some(0), None).unwrap_err().0,
            "max-future"
        );
        assert_eq!(
            Horizon::new(ClockMode::Events, None, Some(400 * 86_400))
                .unwrap_err()
                .0,
            "max-jump"
        );
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human(300_000), "5m");
        assert_eq!(human(90_061_000), "1d 1h");
        assert_eq!(human(3_661_000), "1h 1m");
        assert_eq!(human(500), "500 ms");
    }
}
