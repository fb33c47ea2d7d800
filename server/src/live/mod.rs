//! Live push, per the protocol of `floorwatch_core::wire`: the registry of connected clients
//! ([`Clients`]), the [`Publisher`] that feeds them, and each client's socket [`Writer`]. The
//! websocket endpoint that admits clients and checks their subscriptions is the edge's
//! (`crate::http::live`).
//!
//! A slow client never slows anyone else: the publisher only ever `try_send`s into the
//! client's bounded queue. When it is full, the publisher drops the delta, bumps the client's
//! generation (so deltas already queued are dropped unsent as stale) and sends a fresh
//! snapshot as soon as there is room ([`client::Resync`]). A client that stays behind, or
//! whose socket does not take a frame, for the slow-client timeout is disconnected.

mod client;
mod clients;
mod feed;
mod frame;
mod publisher;
mod writer;

pub(crate) use clients::Clients;
pub(crate) use feed::FeedKey;
pub(crate) use frame::Outgoing;
pub(crate) use publisher::Publisher;
pub(crate) use writer::Writer;
