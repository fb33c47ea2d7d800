//! Reconnecting: how long to wait before the next attempt.

/// Reconnect delays: 0.5 s doubling to 10 s, each spread ±25 % so that a room of TVs does not
/// reconnect in lock-step after a server restart.
#[derive(Debug, Clone, Copy, Default)]
pub struct Backoff {
    attempt: u32,
}

/// The first reconnect delay, ms.
pub const BACKOFF_FIRST_MS: f64 = 500.0;
/// The longest reconnect delay, ms.
pub const BACKOFF_MAX_MS: f64 = 10_000.0;

impl Backoff {
    /// The delay before the next attempt; `jitter` is uniform in 0..1.
    pub fn next_delay_ms(&mut self, jitter: f64) -> f64 {
        let base = (BACKOFF_FIRST_MS * 2f64.powi(self.attempt.min(16) as i32)).min(BACKOFF_MAX_MS);
        self.attempt = self.attempt.saturating_add(1);
        base * (0.75 + 0.5 * jitter.clamp(0.0, 1.0))
    }

    /// After a snapshot: the connection works again.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}
