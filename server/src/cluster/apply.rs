//! A node's apply side (docs/CLUSTER.md, "Apply in stream order"): an ordered consumer reads
//! the stream from the node's snapshot on, and one thread applies each message to the floor
//! with the single-node recorder's own code (`crate::apply`), in stream order, so every node's
//! floor is the same at the same stream sequence. The floor's position is that sequence.
//!
//! Time moves only by what is in the stream: events, and the clock's ticks (`super::clock`);
//! a node's own wall clock never touches its floor in cluster mode.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use floorwatch_core::Millis;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::status::NodeStatus;
use super::stream::{self, DecodeError, INDEX_BITS, KIND_HEADER, Message, STREAM};
use crate::apply::{Applier, mark};
use crate::checkpoint::schedule::Checkpointer;
use crate::floor::{self, CATCH_UP_STEPS, LiveFloor};
use crate::history::HistoryResume;
use crate::journal::CentreDays;
use crate::seen_ids::SeenIds;
use crate::shutdown::Shutdown;

/// One message of the stream, as the consumer hands it to the applier.
pub(crate) struct Delivery {
    seq: u64,
    /// The stream's last sequence when it was delivered.
    last: u64,
    message: Result<Message, DecodeError>,
}

/// How long the consumer may stay quiet before the node asks the stream whether it is behind.
const STALL_CHECK: Duration = Duration::from_secs(2);

/// Reads the stream in order from `from_seq` and hands each message to the applier, until
/// shutdown. An ordered consumer is ephemeral and recreated by the client when its server goes
/// away; if it ends anyway, a new one starts after the last message handed over.
pub(crate) async fn consume(
    js: jetstream::Context,
    (from_seq, status): (u64, Arc<NodeStatus>),
    tx: mpsc::Sender<Delivery>,
    mut shutdown: Shutdown,
) {
    let mut next = from_seq.max(1);
    loop {
        let messages = tokio::select! {
            m = open(&js, next) => m,
            () = shutdown.recv() => return,
        };
        let mut messages = match messages {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, from_seq = next, "cannot read the stream yet; retrying in 1 s");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    () = shutdown.recv() => return,
                }
            }
        };
        loop {
            let item = tokio::select! {
                item = messages.next() => item,
                () = tokio::time::sleep(STALL_CHECK) => {
                    // Quiet: is the stream? A consumer whose server went away has been seen to
                    // stay silent without the heartbeat error that recreates it.
                    if stalled(&js, next, &status).await {
                        tracing::warn!(next, "the stream's consumer stalled behind the stream; reading again from the last message applied");
                        break;
                    }
                    continue;
                }
                () = shutdown.recv() => return,
            };
            let message = match item {
                Some(Ok(message)) => message,
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "the stream's consumer failed; reading again from the last message applied");
                    break;
                }
                None => break,
            };
            let Ok(info) = message.info() else {
                tracing::warn!("a stream message without its JetStream info; skipped");
                continue;
            };
            let (seq, pending) = (info.stream_sequence, info.pending);
            if seq < next {
                // Delivered again by a recreated consumer: applied already.
                continue;
            }
            let kind = message
                .headers
                .as_ref()
                .and_then(|h| h.get(KIND_HEADER))
                .map(|v| v.as_str().to_string());
            let decoded = stream::decode(kind.as_deref(), &message.payload);
            let delivery = Delivery {
                seq,
                last: seq + pending,
                message: decoded,
            };
            if tx.send(delivery).await.is_err() {
                return;
            }
            next = seq + 1;
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
            () = shutdown.recv() => return,
        }
    }
}

/// Whether the stream holds messages from `next` on (the consumer should have delivered them);
/// records the stream's end for `/healthz`. A stream that cannot be asked (no quorum) is not
/// a stalled consumer.
async fn stalled(js: &jetstream::Context, next: u64, status: &NodeStatus) -> bool {
    let Ok(mut stream) = js.get_stream(STREAM).await else {
        return false;
    };
    let Ok(info) = stream.info().await else {
        return false;
    };
    let last = info.state.last_sequence;
    status.heard_of(last);
    last >= next
}

async fn open(js: &jetstream::Context, from_seq: u64) -> anyhow::Result<consumer::push::Ordered> {
    let stream = js
        .get_stream(STREAM)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let deliver_policy = if from_seq <= 1 {
        consumer::DeliverPolicy::All
    } else {
        consumer::DeliverPolicy::ByStartSequence {
            start_sequence: from_seq,
        }
    };
    let consumer = stream
        .create_consumer(consumer::push::OrderedConfig {
            deliver_subject: js.client().new_inbox(),
            deliver_policy,
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    consumer
        .messages()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Applies each delivered message to the floor (see the module doc) and takes the node's
/// snapshots between messages.
pub(crate) struct NodeApplier {
    pub(crate) applier: Applier,
    pub(crate) seen: SeenIds,
    pub(crate) days: CentreDays,
    pub(crate) history: Option<HistoryResume>,
    pub(crate) checkpoints: Option<Checkpointer>,
    pub(crate) status: Arc<NodeStatus>,
}

impl NodeApplier {
    /// Starts the applier's thread; it ends once the consumer stops, after a last snapshot.
    pub(crate) fn spawn(self, rx: mpsc::Receiver<Delivery>) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name("cluster-apply".into())
            .spawn(move || self.run(rx))
    }

    fn run(mut self, mut rx: mpsc::Receiver<Delivery>) {
        while let Some(delivery) = rx.blocking_recv() {
            let seq = delivery.seq;
            let events = match delivery.message {
                Ok(Message::Events(events)) => self.apply_events(seq, &events),
                Ok(Message::Tick(at)) => {
                    self.tick(seq, at);
                    0
                }
                Err(e) => {
                    // Every node skips it alike: the floors stay equal.
                    tracing::error!(seq, error = %e, "a stream message that is not Floorwatch's; skipped");
                    floor::lock(self.applier.floor()).set_stream_position(seq);
                    0
                }
            };
            if self.status.applied(seq, events, delivery.last) {
                self.status.report_caught_up();
            }
            let lookout = self.lookout();
            if let Some(c) = &mut self.checkpoints {
                let next = stream::position(seq + 1, 0);
                c.after_group(self.applier.floor(), &self.seen, lookout, next);
            }
        }
        let lookout = self.lookout();
        if let Some(c) = &mut self.checkpoints {
            let next = stream::position(self.status.position() + 1, 0);
            c.at_stop(self.applier.floor(), &self.seen, lookout, next);
        }
        tracing::info!("cluster applier stopped");
    }

    /// What a snapshot keeps for the horizon (`crate::horizon`): the floor's clock, the latest
    /// event time the stream moved it to (none before the first).
    fn lookout(&self) -> Option<Millis> {
        Some(self.applier.pulse().clock()).filter(|&t| t > 0)
    }

    /// Applies one message of events: duplicates (an id seen before, on this node as on every
    /// other) dropped, the rest applied in order. Returns how many it held.
    fn apply_events(&mut self, seq: u64, events: &[floorwatch_core::Event]) -> u64 {
        let marks = events
            .iter()
            .map(|e| mark(&mut self.seen, &mut self.days, e, |_| Ok(())))
            .collect();
        let mut index = 0usize;
        let history = &mut self.history;
        let replies = self.applier.apply(
            (&mut self.seen, &mut self.days),
            [(events, marks)],
            |floor| {
                let at = stream::position(seq, index.min((1 << INDEX_BITS) - 1));
                index += 1;
                hand_over_history(history, floor, at);
                at
            },
            |floor| floor.set_stream_position(seq),
        );
        self.applier.announce(&replies);
        events.len() as u64
    }

    /// Moves the clock to `at` if it is ahead (clock = max: a tick never moves it back), in
    /// steps as the wall clock of a single node does.
    fn tick(&mut self, seq: u64, at: Millis) {
        let shared = self.applier.floor().clone();
        hand_over_history(
            &mut self.history,
            &mut floor::lock(&shared),
            stream::position(seq, 0),
        );
        loop {
            let mut floor = floor::lock(&shared);
            if floor.catch_up(at, CATCH_UP_STEPS) {
                floor.tick(at);
                floor.set_stream_position(seq);
                self.applier.pulse().set_clock(floor.now());
                break;
            }
            self.applier.pulse().set_clock(floor.now());
            drop(floor);
            std::thread::yield_now();
        }
    }
}

/// Starts history before the event at `position` once the store does not hold it yet
/// (docs/HISTORY.md, "Restarts"; as the single node's start does for the journal).
fn hand_over_history(history: &mut Option<HistoryResume>, floor: &mut LiveFloor, position: u64) {
    if let Some(resume) = history.take_if(|h| h.due_before(Some(position))) {
        floor.resume_history(resume, None);
    }
}
