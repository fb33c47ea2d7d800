//! The registry of connected live clients ([`Clients`]): who joined, with which subscription,
//! and the queue the publisher fills for each.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use dashmap::DashMap;
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
    /// Every subscription in use, once: equal subscriptions share one `Arc`, so the publisher
    /// finds a client's feed by the key's address (one pointer hash a client a push, not a
    /// hash of its scopes; issue 15's fan-out) and a wall of identical screens holds one key.
    keys: Mutex<HashSet<Arc<FeedKey>>>,
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
    pub(crate) fn subscribe(&self, id: u64, key: FeedKey) {
        let key = self.intern(key);
        if let Some(mut slot) = self.slots.get_mut(&id) {
            slot.feed = Some(key);
            slot.resync.resubscribed();
        }
        self.subscribed.notify_one();
    }

    /// The shared `Arc` of `key`: the one already in use if an equal subscription is, else a
    /// new one. Keys nobody else holds any more are forgotten on the way (a handful of distinct
    /// subscriptions per floor, so the sweep is short).
    fn intern(&self, key: FeedKey) -> Arc<FeedKey> {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        keys.retain(|k| Arc::strong_count(k) > 1);
        if let Some(shared) = keys.get(&key) {
            return shared.clone();
        }
        let shared = Arc::new(key);
        keys.insert(shared.clone());
        shared
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use floorwatch_core::Scope;
    use floorwatch_core::wire::Subscribe;

    fn key(json: &str) -> FeedKey {
        let subscribe: Subscribe = serde_json::from_str(json).unwrap();
        FeedKey::new(&subscribe, Some(Scope::Centre))
    }

    fn feed_of(clients: &Clients, id: u64) -> Arc<FeedKey> {
        clients.slots.get(&id).and_then(|s| s.feed.clone()).unwrap()
    }

    /// Equal subscriptions, in any order, share one key (the publisher serves them from one
    /// feed, found by address); a different one has its own; a key nobody holds is forgotten.
    #[test]
    fn equal_subscriptions_share_one_key() {
        let clients = Clients::default();
        let [a, b, c] = [(); 3].map(|()| clients.join(4).id);
        clients.subscribe(a, key(r#"{"subscribe":["centre","queue:q1"]}"#));
        clients.subscribe(b, key(r#"{"subscribe":["queue:q1","centre","centre"]}"#));
        clients.subscribe(c, key(r#"{"subscribe":["queue:q2"]}"#));
        assert!(Arc::ptr_eq(&feed_of(&clients, a), &feed_of(&clients, b)));
        assert!(!Arc::ptr_eq(&feed_of(&clients, a), &feed_of(&clients, c)));

        clients.leave(c);
        clients.subscribe(a, key(r#"{"subscribe":["centre"]}"#));
        let held = clients.keys.lock().unwrap().len();
        assert_eq!(held, 2, "b's key and a's new one; c's was dropped");
        assert_eq!(feed_of(&clients, b).figures.len(), 2);
    }
}
