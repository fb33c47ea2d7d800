//! The client side of the live protocol (core/src/wire.rs), free of the browser: frame order
//! and resync, reconnect back-off, the server's clock, and the books the frames fill.
//!
//! The browser glue (`app::connection`) feeds frames through [`FrameOrder`] and applies what it
//! lets through to the reactive store; everything that decides *what* to do lives here, where
//! host tests can reach it.

mod backoff;
mod books;
mod clock;
mod frame;
mod order;
mod plan;
mod status;
#[cfg(test)]
mod tests;

pub use backoff::{BACKOFF_FIRST_MS, BACKOFF_MAX_MS, Backoff};
pub use books::{FigureBook, HistoryBook};
pub use clock::ServerClock;
pub use frame::{FrameError, parse_frame, read_alert};
pub use order::{FrameOrder, Verdict};
pub use plan::{Plan, teams_of};
pub use status::{ConnStatus, DEAD_AFTER_MS, STALE_AFTER_MS, is_stale, status};
