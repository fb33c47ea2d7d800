//! Spans of event time in milliseconds ([`Millis`]), named once for every crate.
//!
//! Event time is counted in milliseconds everywhere (docs/METRICS.md, "Time"); these constants
//! keep a minute from being written as `60_000` in one file and `60 * 1000` in the next, and let
//! the compiler, not a reader, check that the units match.

use crate::event::Millis;

/// One second of event time: converts the `_s` settings of the config into [`Millis`].
pub const SECOND_MS: Millis = 1_000;
/// One minute of event time: the engine's bucket width and the unit of the `_min` settings.
pub const MINUTE_MS: Millis = 60 * SECOND_MS;
/// One hour of event time.
pub const HOUR_MS: Millis = 60 * MINUTE_MS;
/// One day of event time in UTC (a local day can be 23 or 25 hours: ask the
/// [`CentreCalendar`](crate::CentreCalendar) for those).
pub const DAY_MS: Millis = 24 * HOUR_MS;
