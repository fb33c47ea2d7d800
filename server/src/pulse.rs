//! The floor's pulse: its clock and the acceptance times not yet pushed, shared by whoever
//! applies events (the recorder, or a cluster node's applier, `crate::cluster`) with the
//! publisher and the HTTP API. A leaf: both appliers and their readers import it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

/// Acceptance times kept for the ingest-to-push histogram between two publisher ticks.
const MAX_PENDING_PUSH: usize = 10_000;

/// The floor's clock and the acceptance times not yet pushed, shared with the publisher.
#[derive(Debug, Default)]
pub(crate) struct Pulse {
    clock: AtomicI64,
    accepted_at: Mutex<Vec<Instant>>,
    /// Woken once events changed the floor, so that the publisher pushes a change on a quiet
    /// floor at once instead of at its next tick (issue 15, item 5). A permit is kept when
    /// nobody waits: a change during a push is not lost.
    changed: tokio::sync::Notify,
}

impl Pulse {
    /// Returns once events changed the floor since the last return.
    pub(crate) async fn changed(&self) {
        self.changed.notified().await;
    }

    pub(crate) fn clock(&self) -> i64 {
        self.clock.load(Ordering::Relaxed)
    }

    pub(crate) fn set_clock(&self, now: i64) {
        self.clock.store(now, Ordering::Relaxed);
    }

    /// Acceptance times since the last call.
    pub(crate) fn take_accepted(&self) -> Vec<Instant> {
        std::mem::take(&mut *self.accepted_at.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Notes that events were accepted at `at` (for the ingest-to-push histogram).
    pub(crate) fn accepted(&self, at: Instant) {
        let mut pending = self.accepted_at.lock().unwrap_or_else(|p| p.into_inner());
        if pending.len() < MAX_PENDING_PUSH {
            pending.push(at);
        }
    }
}

impl Pulse {
    /// Tells the publisher that events changed the floor.
    pub(crate) fn notify_changed(&self) {
        self.changed.notify_one();
    }
}
