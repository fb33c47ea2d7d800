//! Asterisk Manager Interface: the message codec, the actions Floorwatch sends, and the mapping
//! of AMI events to canonical events. Pure (no sockets, no clock): the server's AMI source and the
//! simulator's fake switch (`floorwatch-sim ami-server`) put the I/O around it.
//!
//! A client's loop, in outline:
//!
//! 1. connect; feed every read into an [`AmiDecoder`] (a new one per connection) and drain
//!    [`AmiDecoder::next_message`];
//! 2. send [`action::login`], then [`action::queue_status`] with a fresh ActionID; collect the
//!    messages carrying that ActionID up to [`action::is_list_complete`] and hand them to
//!    [`AmiMapper::resync`];
//! 3. hand every other message to [`AmiMapper::map`] with the time it was received, and call
//!    [`AmiMapper::tick`] about once a second with the server's clock.
//!
//! The mapping, what is skipped and why, is tabulated in docs/CTI.md.

pub mod action;
mod decoder;
mod mapper;
mod message;

pub use decoder::{AmiDecoder, AmiError, MAX_FIELDS, MAX_LINE_LEN, MAX_MESSAGE_LEN};
pub use mapper::{AmiMapper, DEFAULT_ABANDON_GRACE_MS};
pub use message::AmiMessage;
