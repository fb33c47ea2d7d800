//! Replay speed and pacing: when each event is due on the wall clock, and when a batch goes.
//!
//! At speed `s`, an event `d` ms of event time after the first one is due `d / s` ms of wall
//! time after the replay started, so the original spacing is kept, scaled. Events that are due
//! go in the current batch; a batch is sent when it is full, when the next event is not due
//! for a while ([`LINGER`]), or when its oldest event has waited [`MAX_HOLD`] (so a live floor
//! is never more than that behind). At `max` speed nothing waits: full batches go as fast as
//! the server acknowledges them.

use std::str::FromStr;
use std::time::Duration;

use floorwatch_core::Millis;

/// A replay speed: a positive factor of real time, or as fast as possible.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Speed {
    Factor(f64),
    Max,
}

impl FromStr for Speed {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("max") {
            return Ok(Speed::Max);
        }
        match s.trim_end_matches(['x', 'X']).parse::<f64>() {
            Ok(f) if f.is_finite() && f > 0.0 => Ok(Speed::Factor(f)),
            _ => Err(format!(
                "`{s}` is not a speed: expected a positive number (1, 10, 60, 0.5) or max"
            )),
        }
    }
}

impl std::fmt::Display for Speed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Speed::Max => f.write_str("max"),
            Speed::Factor(x) => write!(f, "{x}x"),
        }
    }
}

/// A due event closer than this to the last one joins the batch instead of sending it first.
pub(crate) const LINGER: Duration = Duration::from_millis(50);
/// The longest an event waits in a batch for company.
pub(crate) const MAX_HOLD: Duration = Duration::from_millis(100);

/// Maps event time to wall-clock offsets from the replay's start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pacer {
    speed: Speed,
    /// Event time of the first event.
    origin: Option<Millis>,
}

impl Pacer {
    pub(crate) fn new(speed: Speed) -> Pacer {
        Pacer {
            speed,
            origin: None,
        }
    }

    /// How long after the replay's start the event at `ts` is due; zero at max speed. The
    /// first event fixes the origin; an event earlier than it (out of order in the file) is
    /// due at once.
    pub(crate) fn due(&mut self, ts: Millis) -> Duration {
        let origin = *self.origin.get_or_insert(ts);
        match self.speed {
            Speed::Max => Duration::ZERO,
            Speed::Factor(f) => Duration::from_secs_f64(((ts - origin).max(0) as f64 / 1000.0) / f),
        }
    }

    pub(crate) fn is_max(&self) -> bool {
        self.speed == Speed::Max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_parse() {
        assert_eq!("max".parse(), Ok(Speed::Max));
        assert_eq!("60".parse(), Ok(Speed::Factor(60.0)));
        assert_eq!("10x".parse(), Ok(Speed::Factor(10.0)));
        assert_eq!("0.5".parse(), Ok(Speed::Factor(0.5)));
        for bad in ["0", "-1", "fast", "inf", "NaN"] {
            assert!(bad.parse::<Speed>().is_err(), "{bad}");
        }
    }

    #[test]
    fn spacing_is_kept_scaled() {
        let mut p = Pacer::new(Speed::Factor(60.0));
        assert_eq!(p.due(1_000_000), Duration::ZERO);
        assert_eq!(p.due(1_060_000), Duration::from_secs(1));
        assert_eq!(p.due(1_000_000 + 3_600_000), Duration::from_secs(60));
        // Out of order: due at once, never "before the start".
        assert_eq!(p.due(999_000), Duration::ZERO);
        let mut max = Pacer::new(Speed::Max);
        assert_eq!(max.due(5), Duration::ZERO);
        assert_eq!(max.due(5_000_000), Duration::ZERO);
    }
}
