//! One live client as the publisher and its writer share it: its subscription, its queue, and
//! its resync state ([`Resync`]).
//!
//! Invariant: the resync state changes only through [`Resync`]'s methods, each one step of the
//! protocol: a new subscription, a snapshot sent, a snapshot that found the queue full, a delta
//! dropped. A frame queued under an older generation is never sent (the writer asks
//! [`Generation::is_stale`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, mpsc};

use super::feed::FeedKey;
use super::frame::Outgoing;

/// The publisher's view of one client.
pub(crate) struct ClientSlot {
    /// What the client subscribed to; `None` before its first accepted subscription.
    pub(super) feed: Option<Arc<FeedKey>>,
    pub(super) tx: mpsc::Sender<Outgoing>,
    /// Tells the writer to close the connection (the client was stuck too long).
    pub(super) kick: Arc<Notify>,
    pub(super) resync: Resync,
}

impl ClientSlot {
    /// A client that subscribed to nothing yet, sending into `tx`.
    pub(super) fn new(
        tx: mpsc::Sender<Outgoing>,
        generation: Generation,
        kick: Arc<Notify>,
    ) -> ClientSlot {
        ClientSlot {
            feed: None,
            tx,
            kick,
            resync: Resync {
                generation,
                needs_snapshot: false,
                behind_since: None,
            },
        }
    }
}

/// The generation of a client's frames, shared by the publisher (which bumps it when queued
/// frames become stale) and the client's writer (which drops frames of older generations).
#[derive(Debug, Clone, Default)]
pub(crate) struct Generation(Arc<AtomicU64>);

impl Generation {
    fn current(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn bump(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether a frame queued under `generation` was made stale by a resync since.
    pub(super) fn is_stale(&self, generation: u64) -> bool {
        generation < self.current()
    }
}

/// Where a client stands in the resync protocol (docs/ARCHITECTURE.md, "Publisher").
pub(crate) struct Resync {
    generation: Generation,
    /// The next frame must be a snapshot (new subscription, or resync after dropped deltas).
    needs_snapshot: bool,
    /// Since when the client has been waiting for a resync it could not take.
    behind_since: Option<Instant>,
}

impl Resync {
    /// The generation frames queued now carry.
    pub(super) fn generation(&self) -> u64 {
        self.generation.current()
    }

    /// Whether the next frame must be a snapshot.
    pub(super) fn needs_snapshot(&self) -> bool {
        self.needs_snapshot
    }

    /// A new subscription: frames queued for the old one are stale, a snapshot follows.
    pub(super) fn resubscribed(&mut self) {
        self.generation.bump();
        self.needs_snapshot = true;
        self.behind_since = None;
    }

    /// A snapshot was queued: the client is in step again.
    pub(super) fn snapshot_queued(&mut self) {
        self.needs_snapshot = false;
        self.behind_since = None;
    }

    /// A snapshot found the queue full: it is tried again next tick. Answers how long the
    /// client has been behind.
    pub(super) fn snapshot_refused(&mut self, now: Instant) -> Duration {
        self.needs_snapshot = true;
        let since = *self.behind_since.get_or_insert(now);
        now.duration_since(since)
    }

    /// A delta found the queue full: what is queued is stale now; resync with a snapshot.
    pub(super) fn delta_dropped(&mut self, now: Instant) {
        self.generation.bump();
        self.needs_snapshot = true;
        self.behind_since = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot() -> (ClientSlot, Generation) {
        let (tx, _rx) = mpsc::channel(1);
        let generation = Generation::default();
        (
            ClientSlot::new(tx, generation.clone(), Arc::default()),
            generation,
        )
    }

    #[test]
    fn a_dropped_delta_makes_queued_frames_stale_until_a_snapshot() {
        let (mut slot, writer) = slot();
        let queued = slot.resync.generation();
        assert!(!slot.resync.needs_snapshot());
        let now = Instant::now();
        slot.resync.delta_dropped(now);
        assert!(writer.is_stale(queued));
        assert!(slot.resync.needs_snapshot());
        let later = now + Duration::from_secs(3);
        assert_eq!(slot.resync.snapshot_refused(later), Duration::from_secs(3));
        slot.resync.snapshot_queued();
        assert!(!slot.resync.needs_snapshot());
        assert_eq!(slot.resync.snapshot_refused(later), Duration::ZERO);
    }

    #[test]
    fn a_new_subscription_asks_for_a_snapshot() {
        let (mut slot, writer) = slot();
        let queued = slot.resync.generation();
        slot.resync.resubscribed();
        assert!(slot.resync.needs_snapshot());
        assert!(writer.is_stale(queued));
        assert!(!writer.is_stale(slot.resync.generation()));
    }
}
