//! Asterisk queue_log: parsing its lines into canonical events, and writing canonical events back
//! out as queue_log lines (for the simulator's `generate --format queue-log`).
//!
//! app_queue appends one line per queue happening to `/var/log/asterisk/queue_log`:
//!
//! ```text
//! unixtime|callid|queue|agent|EVENT|data1|data2|...
//! 1700000000|1700000000.42|billing|NONE|ENTERQUEUE||13812341234|1
//! 1700000012|1700000000.42|billing|SIP/1001|CONNECT|12|1700000010.43|2
//! 1700000200|1700000000.42|billing|SIP/1001|COMPLETECALLER|12|188|1
//! ```
//!
//! Each line stands on its own: the outcome lines carry the switch's own measure of the wait
//! (`holdtime` / `waittime`) and of the talk (`calltime`), and the reader puts them on the
//! canonical outcome events with the queue, so the engine counts a call whose entry line fell
//! before the replayed file began (docs/METRICS.md, "Wait", and docs/CTI.md for every mapping).
//!
//! Event ids are derived from the line's content, so replaying the same file twice, or importing a
//! file that a tail source already followed, applies every line once.

mod fields;
mod reader;
mod verbs;
mod writer;

pub use fields::{MAX_LINE_LEN, pause_reason};
pub(crate) use fields::{fnv1a, parse_time};
pub use reader::{LineError, QueueLogError, QueueLogReader, ReadOutcome};
pub use writer::QueueLogWriter;
