//! FreeSWITCH's event socket (ESL) and mod_callcenter: the frame codec, the commands Floorwatch
//! sends, and the mapping of `callcenter::info` events to canonical events. Pure (no sockets,
//! no clock): the server's `freeswitch-esl` source and the simulator's fake FreeSWITCH
//! (`floorwatch-sim esl-server`) put the I/O around it.
//!
//! A client's loop, in outline (docs/CTI.md, "FreeSWITCH"):
//!
//! 1. connect; feed every read into an [`EslDecoder`] (a new one per connection) and drain
//!    [`EslDecoder::next_frame`]; the switch opens with `Content-Type: auth/request`;
//! 2. send [`command::auth`], then [`command::subscribe`]; each answers a `command/reply`;
//! 3. resync: [`command::api`] with [`command::QUEUE_LIST`], then each queue's tiers and agents
//!    ([`EslMapper::resync_agents`]), then every member ([`EslMapper::resync_members`]);
//! 4. hand every `text/event-plain` frame's [`EslFrame::event`] to [`EslMapper::map`].

pub mod command;
mod decoder;
mod headers;
mod mapper;
mod table;

pub use decoder::{EslDecoder, EslError, EslFrame, MAX_BODY_LEN, MAX_HEADERS, MAX_LINE_LEN};
pub use headers::{EslHeaders, url_decode, url_encode};
pub use mapper::EslMapper;
pub use table::{ApiTable, Row};
