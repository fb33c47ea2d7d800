//! Notification batches: one incident does not send fifty messages (docs/ALERTS.md,
//! "Notification batches").
//!
//! The first change after a quiet spell goes out at once, in the batch of the boundary that made
//! it; every change in the next `batch_s` seconds waits and goes out together in one batch at
//! the first boundary after that. Batches close at evaluation boundaries, on event time, so a
//! replay groups the same changes the same way.

use serde::{Deserialize, Serialize};

use super::book::{Alert, ChangeKind};
use crate::event::Millis;

/// Changes to send as one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationBatch {
    /// `batch-AT`: stable, so a webhook receiver can drop a batch it already has.
    pub id: String,
    /// The boundary that closed the batch.
    pub at: Millis,
    /// The changes, in order.
    pub notices: Vec<Notice>,
}

/// One change, with the alert as it stood right after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// What happened to the alert.
    pub change: ChangeKind,
    /// When, event time.
    pub at: Millis,
    /// The alert as it stands after the change.
    pub alert: Alert,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Batcher {
    window: Millis,
    pending: Vec<Notice>,
    last_sent: Option<Millis>,
}

impl Batcher {
    /// The batching window it was made with.
    pub(super) fn window(&self) -> Millis {
        self.window
    }

    pub(super) fn new(window: Millis) -> Batcher {
        Batcher {
            window,
            ..Batcher::default()
        }
    }

    pub(super) fn push(&mut self, notice: Notice) {
        self.pending.push(notice);
    }

    /// When the changes waiting now are due to go out (`None`: nothing waits).
    pub(super) fn due_at(&self) -> Option<Millis> {
        if self.pending.is_empty() {
            return None;
        }
        Some(
            self.last_sent
                .map_or(Millis::MIN, |last| last + self.window),
        )
    }

    /// The batch due at boundary `at`, if any.
    pub(super) fn close(&mut self, at: Millis) -> Option<NotificationBatch> {
        let due = self.last_sent.is_none_or(|last| at - last >= self.window);
        if self.pending.is_empty() || !due {
            return None;
        }
        self.last_sent = Some(at);
        Some(NotificationBatch {
            id: format!("batch-{at}"),
            at,
            notices: std::mem::take(&mut self.pending),
        })
    }
}
