//! Where a node stands in the stream, for `/healthz` and the log (docs/CLUSTER.md, "Health"):
//! counters only, written by the node's applier and its consumer, read by anyone.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// A node's place in the stream.
#[derive(Debug, Default)]
pub(crate) struct NodeStatus {
    /// The node's name (`--cluster-node`).
    pub(crate) node: String,
    /// The stream sequence of the last message applied to the floor (0: none).
    position: AtomicU64,
    /// The stream's last sequence, as the consumer last heard it.
    stream_last: AtomicU64,
    /// The snapshot the start resumed from: the first stream sequence it does not hold.
    resumed_from: Option<u64>,
    /// The stream's last sequence when the node started: the start's catch-up ends there.
    start_target: AtomicU64,
    /// Messages and events applied until the start's catch-up ended.
    replayed_messages: AtomicU64,
    replayed_events: AtomicU64,
    caught_up: AtomicBool,
}

/// `/healthz`'s view of a node.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct NodeHealth {
    pub(crate) node: String,
    /// The stream sequence every figure this node serves reflects.
    pub(crate) position: u64,
    pub(crate) stream_last: u64,
    /// The stream sequence the node's snapshot ended before, when it started from one.
    pub(crate) resumed_from_snapshot: Option<u64>,
    /// What the node replayed at start to reach the stream's end (after its snapshot).
    pub(crate) replayed_messages: u64,
    pub(crate) replayed_events: u64,
    /// Whether the start's catch-up has reached the stream's end as it was at start.
    pub(crate) caught_up: bool,
}

impl NodeStatus {
    /// A node that resumed from a snapshot ending before `resumed_from` (or none), with the
    /// stream's last sequence `target` at start.
    pub(crate) fn new(node: String, resumed_from: Option<u64>, target: u64) -> NodeStatus {
        let applied = resumed_from.map_or(0, |next| next.saturating_sub(1));
        NodeStatus {
            node,
            position: AtomicU64::new(applied),
            stream_last: AtomicU64::new(target),
            resumed_from,
            start_target: AtomicU64::new(target),
            caught_up: AtomicBool::new(applied >= target),
            ..NodeStatus::default()
        }
    }

    /// Message `seq` (holding `events` events) was applied; the stream ended at `last` when it
    /// was delivered. Returns true the moment the start's catch-up ends.
    pub(crate) fn applied(&self, seq: u64, events: u64, last: u64) -> bool {
        self.position.store(seq, Ordering::Relaxed);
        self.stream_last.fetch_max(last.max(seq), Ordering::Relaxed);
        if self.caught_up.load(Ordering::Relaxed) {
            return false;
        }
        self.replayed_messages.fetch_add(1, Ordering::Relaxed);
        self.replayed_events.fetch_add(events, Ordering::Relaxed);
        if seq >= self.start_target.load(Ordering::Relaxed) {
            self.caught_up.store(true, Ordering::Relaxed);
            return true;
        }
        false
    }

    /// The stream ended at `last` when the node last asked.
    pub(crate) fn heard_of(&self, last: u64) {
        self.stream_last.fetch_max(last, Ordering::Relaxed);
    }

    /// The stream sequence of the last message applied.
    pub(crate) fn position(&self) -> u64 {
        self.position.load(Ordering::Relaxed)
    }

    /// What `/healthz` shows.
    pub(crate) fn health(&self) -> NodeHealth {
        NodeHealth {
            node: self.node.clone(),
            position: self.position(),
            stream_last: self.stream_last.load(Ordering::Relaxed),
            resumed_from_snapshot: self.resumed_from,
            replayed_messages: self.replayed_messages.load(Ordering::Relaxed),
            replayed_events: self.replayed_events.load(Ordering::Relaxed),
            caught_up: self.caught_up.load(Ordering::Relaxed),
        }
    }

    /// Startup summary for the log once the catch-up ended.
    pub(crate) fn report_caught_up(&self) {
        let h = self.health();
        tracing::info!(
            node = %h.node,
            position = h.position,
            resumed_from_snapshot = h.resumed_from_snapshot,
            replayed_messages = h.replayed_messages,
            replayed_events = h.replayed_events,
            "caught up with the stream"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_counts_what_it_replays_until_the_stream_end_it_saw() {
        // A snapshot holding messages 1-9; the stream ended at 12 when the node started.
        let status = NodeStatus::new("b".into(), Some(10), 12);
        assert_eq!(status.position(), 9);
        assert!(!status.health().caught_up);
        assert!(!status.applied(10, 5, 12));
        assert!(!status.applied(11, 5, 13));
        assert!(status.applied(12, 5, 13), "caught up at the start's end");
        assert!(!status.applied(13, 5, 13), "told once");
        let health = status.health();
        assert_eq!((health.replayed_messages, health.replayed_events), (3, 15));
        assert_eq!((health.position, health.stream_last), (13, 13));
        assert_eq!(health.resumed_from_snapshot, Some(10));
        // An empty stream: caught up at once.
        assert!(NodeStatus::new("a".into(), None, 0).health().caught_up);
    }
}
