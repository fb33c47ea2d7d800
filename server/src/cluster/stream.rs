//! The cluster's ordered log (docs/CLUSTER.md, "The stream"): one JetStream stream holding
//! every accepted event and every clock tick, in the order every node applies them.
//!
//! A message is either a batch of canonical events (NDJSON, one per line, as the journal holds
//! them) or a clock tick (the wall clock's millisecond, as text), told apart by the
//! [`KIND_HEADER`]. Each carries a `Nats-Msg-Id` made from what it holds, so a batch published
//! twice within the [`DUPLICATE_WINDOW`] (a retry after a lost acknowledgement) is stored once.
//!
//! A position on the floor (what the history store and a snapshot record) is the stream
//! sequence and the event's index in its message, [`position`]: the engine's single-node code
//! numbers events, the cluster numbers messages, and a quarter-hour may close inside a message.

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use floorwatch_core::{Event, Millis};
use sha2::{Digest, Sha256};

/// The stream's name.
pub(crate) const STREAM: &str = "FLOORWATCH_EVENTS";
/// The one subject it takes.
pub(crate) const SUBJECT: &str = "floorwatch.events";
/// Says what a message holds: [`KIND_EVENTS`] or [`KIND_TICK`].
pub(crate) const KIND_HEADER: &str = "Floorwatch-Kind";
/// A message of canonical events, NDJSON.
pub(crate) const KIND_EVENTS: &str = "events";
/// A clock tick: the floor's clock moves to at least this millisecond.
pub(crate) const KIND_TICK: &str = "tick";
/// How long JetStream remembers a message id: a retry within it is stored once (the seen ids
/// catch any later one at apply).
pub(crate) const DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);
/// How long messages are kept: the days a node that starts without a snapshot replays, as the
/// single-node journal replays its last days (`crate::journal::REPLAY_DAYS`).
pub(crate) const MAX_AGE: Duration = Duration::from_secs(3 * 24 * 3600);
/// The bits of a [`position`] given to the event's index in its message.
pub(crate) const INDEX_BITS: u32 = 20;
/// Most events in one message (its index must fit in [`INDEX_BITS`]).
pub(crate) const MAX_EVENTS: usize = (1 << INDEX_BITS) - 1;

/// The floor position of the event at `index` of the message at stream sequence `seq`.
pub(crate) fn position(seq: u64, index: usize) -> u64 {
    (seq << INDEX_BITS) | index as u64
}

/// The stream sequence a position lies in.
pub(crate) fn seq_of(position: u64) -> u64 {
    position >> INDEX_BITS
}

/// What one message of the stream holds.
#[derive(Debug, PartialEq)]
pub(crate) enum Message {
    Events(Vec<Event>),
    Tick(Millis),
}

/// Why a message of the stream could not be read (a message not written by Floorwatch, or a
/// newer version's).
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecodeError {
    #[error("no {KIND_HEADER} header, or an unknown kind `{0}`")]
    Kind(String),
    #[error("line {line}: {reason}")]
    Event { line: usize, reason: String },
    #[error("a tick that is not a millisecond count: {0}")]
    Tick(String),
}

/// Reads a message of the stream.
pub(crate) fn decode(kind: Option<&str>, payload: &[u8]) -> Result<Message, DecodeError> {
    match kind {
        Some(KIND_EVENTS) => {
            let text = std::str::from_utf8(payload).map_err(|e| DecodeError::Event {
                line: 0,
                reason: e.to_string(),
            })?;
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .enumerate()
                .map(|(i, line)| {
                    Event::from_json(line).map_err(|e| DecodeError::Event {
                        line: i + 1,
                        reason: e.to_string(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Message::Events)
        }
        Some(KIND_TICK) => {
            let text = String::from_utf8_lossy(payload);
            text.trim()
                .parse::<Millis>()
                .map(Message::Tick)
                .map_err(|_| DecodeError::Tick(text.into_owned()))
        }
        other => Err(DecodeError::Kind(other.unwrap_or_default().to_string())),
    }
}

/// The message id of a batch of events: a digest of their ids, so the same batch published
/// again (a retry) has the same id and JetStream stores it once.
pub(crate) fn events_message_id<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    let mut hasher = Sha256::new();
    for id in ids {
        hasher.update(id.as_bytes());
        hasher.update(b"\n");
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("ev-{hex}")
}

/// The message id of the tick of second `ms / 1000`: two nodes that both think they hold the
/// clock's lease (a partition healing) store one tick a second.
pub(crate) fn tick_message_id(ms: Millis) -> String {
    format!("tick-{}", ms.div_euclid(1000))
}

/// The stream's configuration for a cluster of `servers` NATS servers: three replicas when it
/// has three or more (a quorum survives the loss of one), fewer on a smaller one.
pub(crate) fn config(servers: usize) -> stream::Config {
    stream::Config {
        name: STREAM.into(),
        description: Some("Floorwatch: every accepted event and clock tick, in order".into()),
        subjects: vec![SUBJECT.into()],
        storage: stream::StorageType::File,
        num_replicas: super::nats::replicas(servers),
        duplicate_window: DUPLICATE_WINDOW,
        max_age: MAX_AGE,
        ..Default::default()
    }
}

/// Creates the stream, or brings an existing one to [`config`] (its replicas, window and age),
/// and returns its last sequence. Fails while JetStream has no quorum; the caller retries.
pub(crate) async fn ensure(js: &jetstream::Context, servers: usize) -> anyhow::Result<u64> {
    let wanted = config(servers);
    let mut stream = js
        .get_or_create_stream(wanted.clone())
        .await
        .map_err(|e| anyhow::anyhow!("creating the stream {STREAM}: {e}"))?;
    let info = stream
        .info()
        .await
        .map_err(|e| anyhow::anyhow!("reading the stream {STREAM}: {e}"))?
        .clone();
    let have = &info.config;
    if have.num_replicas != wanted.num_replicas
        || have.duplicate_window != wanted.duplicate_window
        || have.max_age != wanted.max_age
        || have.subjects != wanted.subjects
    {
        tracing::info!(
            replicas = wanted.num_replicas,
            was = have.num_replicas,
            "updating the stream's configuration"
        );
        js.update_stream(wanted)
            .await
            .map_err(|e| anyhow::anyhow!("updating the stream {STREAM}: {e}"))?;
    }
    Ok(info.state.last_sequence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_order_messages_then_events() {
        assert!(position(7, MAX_EVENTS) < position(8, 0));
        assert_eq!(seq_of(position(42, 17)), 42);
    }

    #[test]
    fn messages_read_back_and_strangers_are_named() {
        let line = r#"{"v":1,"id":"e1","source":"t","seq":1,"ts":1700000000000,"type":"agent_login","agent":"a1"}"#;
        let Message::Events(events) = decode(Some(KIND_EVENTS), format!("{line}\n").as_bytes())
            .unwrap_or_else(|e| panic!("{e}"))
        else {
            panic!("not events");
        };
        assert_eq!(events[0].id, "e1");
        assert_eq!(
            decode(Some(KIND_TICK), b"1700000000123").unwrap(),
            Message::Tick(1_700_000_000_123)
        );
        assert!(matches!(decode(None, b""), Err(DecodeError::Kind(_))));
        assert!(matches!(
            decode(Some(KIND_EVENTS), b"{\"nope\":1}\n"),
            Err(DecodeError::Event { line: 1, .. })
        ));
    }

    #[test]
    fn a_batch_has_the_same_id_each_time_and_another_batch_another() {
        let a = events_message_id(["e1", "e2"]);
        assert_eq!(a, events_message_id(["e1", "e2"]));
        assert_ne!(a, events_message_id(["e1", "e3"]));
        assert_eq!(tick_message_id(1_999), tick_message_id(1_000));
    }
}
