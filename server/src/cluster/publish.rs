//! A node's ingest side in cluster mode: batches from every source (the same
//! [`crate::recorder::RecorderHandle`] the single-node recorder takes them by) are published
//! to the stream, and each is answered once JetStream acknowledged it (stored on a quorum of
//! its replicas): nothing is acknowledged before it is durable (docs/CLUSTER.md, "Ingest").
//!
//! What depends on this node's own state or clock is decided here, before publishing, never at
//! apply: the horizon (an event too far ahead is refused, `crate::horizon`) and duplicates
//! within the group. A duplicate of an event another node published is dropped at apply by the
//! seen ids, the same way on every node, since every node applies the same order.
//!
//! One message per batch (split only when it would pass the servers' largest message): far
//! cheaper than a message per event (one acknowledgement, one id, one index entry per batch),
//! and a batch stays whole. The messages of a group are published back to back and their
//! acknowledgements awaited together.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage};
use floorwatch_core::Millis;
use tokio::sync::mpsc;

use super::stream::{self, KIND_EVENTS, KIND_HEADER, MAX_EVENTS, SUBJECT};
use crate::apply::Recorded;
use crate::horizon::Lookout;
use crate::pulse::Pulse;
use crate::recorder::{Batch, Command, RecordError};
use crate::seen_ids::{Fingerprint, fingerprint};
use crate::telemetry::{EventOutcome, Telemetry};

/// How long a publish may wait for JetStream's acknowledgement before the batch is answered
/// with an error (a stream without quorum never answers).
pub(crate) const ACK_TIMEOUT: Duration = Duration::from_secs(5);
/// Room left in a message for its headers and the protocol.
const HEADROOM: usize = 4 * 1024;

/// Publishes batches to the stream (see the module doc).
pub(crate) struct StreamPublisher {
    js: jetstream::Context,
    lookout: Lookout,
    telemetry: Arc<Telemetry>,
    pulse: Arc<Pulse>,
    /// Events older than the floor's clock by more than this are counted late in the answer.
    lateness: Millis,
}

/// One message of a batch, ready to publish.
struct Outgoing {
    id: String,
    payload: Vec<u8>,
    events: u64,
}

impl StreamPublisher {
    pub(crate) fn new(
        js: jetstream::Context,
        lookout: Lookout,
        telemetry: Arc<Telemetry>,
        pulse: Arc<Pulse>,
        lateness: Millis,
    ) -> StreamPublisher {
        StreamPublisher {
            js,
            lookout,
            telemetry,
            pulse,
            lateness,
        }
    }

    /// Publishes what arrives until [`Command::Stop`] (after publishing what is queued) or
    /// until every handle is gone.
    pub(crate) async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        // At most `recorder::GROUP_BATCHES` batches are published before their acknowledgements
        // are awaited.
        let mut group = Vec::with_capacity(crate::recorder::GROUP_BATCHES);
        let mut stopping = false;
        while !stopping {
            let Some(first) = rx.recv().await else { break };
            stopping = crate::recorder::gather(first, &mut rx, &mut group);
            self.publish_group(&mut group).await;
        }
        tracing::info!("stream publisher stopped");
    }

    async fn publish_group(&mut self, group: &mut Vec<Batch>) {
        let wall_now = jiff::Timestamp::now().as_millisecond();
        let max_payload = self
            .js
            .client()
            .server_info()
            .max_payload
            .saturating_sub(HEADROOM)
            .max(64 * 1024);
        let clock = self.pulse.clock();
        let mut in_group = rustc_hash::FxHashSet::default();
        let mut sent = Vec::with_capacity(group.len());
        for batch in group.iter() {
            let (recorded, messages) =
                self.prepare(batch, (&mut in_group, wall_now, clock), max_payload);
            let mut acks = Vec::with_capacity(messages.len());
            let mut failed = None;
            for message in messages {
                let publish = PublishMessage::build()
                    .payload(message.payload.into())
                    .message_id(&message.id)
                    .header(KIND_HEADER, KIND_EVENTS);
                match self.js.send_publish(SUBJECT, publish).await {
                    Ok(ack) => acks.push((ack, message.events)),
                    Err(e) => {
                        failed = Some(e.to_string());
                        break;
                    }
                }
            }
            sent.push((recorded, acks, failed));
        }
        for (batch, (mut recorded, acks, mut failed)) in group.drain(..).zip(sent) {
            for (ack, events) in acks {
                match tokio::time::timeout(ACK_TIMEOUT, ack).await {
                    Ok(Ok(ack)) if ack.duplicate => {
                        // Published before (a retry): its events are in the stream already.
                        recorded.accepted = recorded.accepted.saturating_sub(events);
                        recorded.duplicate += events;
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        failed.get_or_insert_with(|| e.to_string());
                    }
                    Err(_) => {
                        failed.get_or_insert_with(|| {
                            format!(
                                "no acknowledgement within {} s (has the NATS cluster lost its quorum?)",
                                ACK_TIMEOUT.as_secs()
                            )
                        });
                    }
                }
            }
            let answer = match failed {
                None => Ok(recorded),
                Some(why) => {
                    tracing::error!(error = %why, "a batch was not stored by the stream; answered with an error");
                    Err(RecordError::Cluster(why))
                }
            };
            let _ = batch.reply.send(answer);
        }
    }

    /// The answer a batch gets once stored, and its messages: duplicates within the group and
    /// events too far ahead are left out (the latter counted as rejected here: they never
    /// reach the stream, so no node counts them).
    fn prepare(
        &mut self,
        batch: &Batch,
        (in_group, wall_now, clock): (&mut rustc_hash::FxHashSet<Fingerprint>, Millis, Millis),
        max_payload: usize,
    ) -> (Recorded, Vec<Outgoing>) {
        let mut recorded = Recorded::default();
        let mut messages = Vec::new();
        let mut payload = Vec::new();
        let mut ids: Vec<&str> = Vec::new();
        let mut line = Vec::with_capacity(512);
        for (i, event) in batch.events.iter().enumerate() {
            let fp = fingerprint(&event.id);
            if in_group.contains(&fp) {
                recorded.duplicate += 1;
                continue;
            }
            if let Err(why) = self.lookout.admit(event, wall_now) {
                self.telemetry
                    .count_events(&event.source, EventOutcome::Rejected, 1);
                recorded.refused.push((i, why));
                continue;
            }
            in_group.insert(fp);
            recorded.accepted += 1;
            if !event.test && event.ts < clock - self.lateness {
                recorded.late += 1;
            }
            line.clear();
            // Serialising a struct of strings and numbers into memory cannot fail.
            let _ = serde_json::to_writer(&mut line, event);
            line.push(b'\n');
            if !ids.is_empty()
                && (payload.len() + line.len() > max_payload || ids.len() >= MAX_EVENTS)
            {
                messages.push(outgoing(std::mem::take(&mut payload), &mut ids));
            }
            payload.extend_from_slice(&line);
            ids.push(&event.id);
        }
        if !ids.is_empty() {
            messages.push(outgoing(payload, &mut ids));
        }
        (recorded, messages)
    }
}

fn outgoing(payload: Vec<u8>, ids: &mut Vec<&str>) -> Outgoing {
    let id = stream::events_message_id(ids.iter().copied());
    let events = ids.len() as u64;
    ids.clear();
    Outgoing {
        id,
        payload,
        events,
    }
}
