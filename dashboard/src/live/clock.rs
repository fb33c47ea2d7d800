//! The server's clock, as the browser carries it forward between frames.

/// The server's clock as last reported, carried forward by the browser's clock, so that ticking
/// figures agree with the server even when it replays a day (`--clock events`) or the TV's clock
/// is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ServerClock {
    /// The `now` of the last frame, UTC ms.
    pub server_ms: i64,
    /// The browser's clock (`Date.now()`) when that frame arrived.
    pub local_ms: f64,
}

impl ServerClock {
    /// The server's clock now, from the browser's `local_now_ms`.
    pub fn now(&self, local_now_ms: f64) -> i64 {
        if self.server_ms == 0 {
            return local_now_ms as i64;
        }
        self.server_ms + (local_now_ms - self.local_ms).max(0.0) as i64
    }
}
