//! The registry of connected live clients ([`Clients`]): who joined, with which subscription,
//! and the queue the publisher fills for each.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dashmap::DashMap;
use floorwatch_core::Scope;
use tokio::sync::{Notify, mpsc};

use super::client::{ClientSlot, Generation};
use super::feed::FeedKey;
use super::frame::Outgoing;
use super::writer::WriterParts;

/// Every connected live client, by id.
#[derive(Default)]
pub(crate) struct Clients {
    pub(super) slots: DashMap<u64, ClientSlot>,
    next_id: AtomicU64,
    /// Woken whenever a client leaves (shutdown waits for the last one).
    left: Notify,
    /// Woken when a client (re)subscribes, so its snapshot goes out without waiting for the
    /// publisher's next tick (issue 15, item 5: the first figures after sign-in).
    subscribed: Notify,
}

/// A client just joined: its id, the end of its queue the writer reads, and what the writer
/// needs to know about the publisher's decisions.
pub(crate) struct Joined {
    /// The client's id in the registry.
    pub(crate) id: u64,
    /// The sending end of its queue (subscription errors go there too).
    pub(crate) tx: mpsc::Sender<Outgoing>,
    /// The writer's half of the client.
    pub(crate) writer_parts: WriterParts,
}

impl Clients {
    /// How many clients are connected.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// A new client, with a queue of `queue_frames` frames.
    pub(crate) fn join(&self, queue_frames: usize) -> Joined {
        let (tx, rx) = mpsc::channel(queue_frames);
        let generation = Generation::default();
        let kick = Arc::new(Notify::new());
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.slots.insert(
            id,
            ClientSlot::new(tx.clone(), generation.clone(), kick.clone()),
        );
        Joined {
            id,
            tx,
            writer_parts: WriterParts::new(rx, generation, kick),
        }
    }

    /// The client is gone.
    pub(crate) fn leave(&self, id: u64) {
        self.slots.remove(&id);
        self.left.notify_waiters();
    }

    /// Files a new subscription: stale frames are dropped and a snapshot follows.
    pub(crate) fn subscribe(&self, id: u64, key: Arc<FeedKey>) {
        if let Some(mut slot) = self.slots.get_mut(&id) {
            slot.feed = Some(key);
            slot.resync.resubscribed();
        }
        self.subscribed.notify_one();
    }

    /// Returns once a client subscribed since the last return.
    pub(super) async fn subscribed(&self) {
        self.subscribed.notified().await;
    }

    /// Waits until every client left (their writers close on shutdown), `within` at most.
    /// Returns whether they all did.
    pub(crate) async fn all_gone(&self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = self.left.notified();
            tokio::pin!(left);
            // Registered before looking, so a leave between the look and the wait is seen.
            left.as_mut().enable();
            if self.slots.is_empty() {
                return true;
            }
            if tokio::time::timeout_at(deadline, left).await.is_err() {
                return self.slots.is_empty();
            }
        }
    }

    /// The agent scopes anyone subscribes to (sampled for history while they do).
    pub(super) fn agent_figure_scopes(&self) -> std::collections::BTreeSet<Scope> {
        self.slots
            .iter()
            .filter_map(|slot| slot.feed.clone())
            .flat_map(|key| key.figures.clone())
            .filter(|s| matches!(s, Scope::Agent(_)))
            .collect()
    }
}
