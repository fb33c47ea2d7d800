//! How the connection looks to the people in the room: live, stale or reconnecting.

/// How the connection looks to the people in the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnStatus {
    /// Never connected yet.
    Connecting,
    /// Frames (heartbeats at least) arrive.
    Live,
    /// The socket is closed; a retry is scheduled.
    Reconnecting,
    /// The socket looks open but nothing arrived for [`STALE_AFTER_MS`].
    Stale,
}

/// Figures not refreshed for this long grey out (issue 5: 10 s); the server sends a heartbeat
/// every 5 s, so two missed heartbeats make the page stale.
pub const STALE_AFTER_MS: f64 = 10_000.0;
/// A socket silent for this long is closed and reopened: a half-open TCP connection never
/// reports its own death.
pub const DEAD_AFTER_MS: f64 = 15_000.0;

/// Whether figures last refreshed at `last_frame_ms` (browser clock) are too old to show as live.
pub fn is_stale(last_frame_ms: Option<f64>, now_ms: f64) -> bool {
    last_frame_ms.is_none_or(|t| now_ms - t > STALE_AFTER_MS)
}

/// How the connection looks: `open` socket, ever had a snapshot, and how old the last frame is.
pub fn status(open: bool, ever_live: bool, last_frame_ms: Option<f64>, now_ms: f64) -> ConnStatus {
    match (open, ever_live) {
        (true, _) if !is_stale(last_frame_ms, now_ms) => ConnStatus::Live,
        (true, true) => ConnStatus::Stale,
        (true, false) | (false, false) => ConnStatus::Connecting,
        (false, true) => ConnStatus::Reconnecting,
    }
}
