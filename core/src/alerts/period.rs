//! The evaluation period: alerts are evaluated at fixed boundaries of event time, never in
//! between, so a replay at any speed crosses the same boundaries and raises the same alerts.

use crate::event::Millis;

/// Alerts are evaluated at every multiple of this much event time (10 s: finer than any hold
/// worth configuring, cheap enough to run 8,640 times for a replayed day).
pub const EVALUATION_PERIOD_MS: Millis = 10_000;

/// The evaluation boundaries in `(after, up_to]`, in order: the times at which the server
/// evaluates after ticking the engine to each.
pub fn boundaries(after: Millis, up_to: Millis) -> impl Iterator<Item = Millis> {
    let first = (after.div_euclid(EVALUATION_PERIOD_MS) + 1) * EVALUATION_PERIOD_MS;
    (first..=up_to).step_by(EVALUATION_PERIOD_MS as usize)
}
