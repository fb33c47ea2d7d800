//! Alerts on the server: the core's rules (`floorwatch_core::alerts`, docs/ALERTS.md) driven by
//! the floor's clock, their changes journaled, pushed to the wallboards and sent by webhook.
//!
//! - [`settings`]: the `[alerts]` table (rules and `[[alerts.webhooks]]`).
//! - [`AlertDesk`] (here): the book of one centre, held by the floor. The floor feeds it every
//!   event it applies ([`AlertDesk::observe`]) and every 10-second boundary its clock crosses
//!   ([`AlertDesk::evaluate`]); at the end of each step it calls [`AlertDesk::flush`], which
//!   journals the step's changes, then queues its notification batch for the webhooks. All of
//!   it happens under the floor's lock, so no reader (the publisher, the HTTP API) sees a change
//!   before it is in the journal.
//! - [`journal`]: the changes on disk, replayed into the book at start.
//! - [`outbox`] and [`webhook`]: batches waiting for each receiver, and the tasks that send them.
//! - `crate::http::alerts`: `GET /api/v1/alerts/rules`, `GET /api/v1/alerts?since=`, `POST /api/v1/alerts/ack`.

pub(crate) mod journal;
pub(crate) mod outbox;
pub(crate) mod settings;
pub(crate) mod webhook;

use std::sync::Arc;

use floorwatch_core::alerts::{
    Alert, AlertChange, AlertError, Alerts, NotificationBatch, RestoreReport,
};
use floorwatch_core::{Applied, Engine, Event, Millis};

pub(crate) use journal::AlertJournal;
pub(crate) use outbox::Outbox;
pub(crate) use settings::AlertSettings;

/// Alerts changed or open within this much event time travel in live snapshots.
pub(crate) const RECENT_MS: Millis = floorwatch_core::time::HOUR_MS;

/// The alert book of the floor, with where its changes go.
pub(crate) struct AlertDesk {
    alerts: Alerts,
    journal: Option<AlertJournal>,
    outbox: Option<Arc<Outbox>>,
    /// Changes evaluated in the current clock step, not yet journaled.
    pending: Vec<AlertChange>,
    /// Batches closed in the current clock step, queued after the changes are journaled.
    batches: Vec<NotificationBatch>,
    /// Changes whenever the book changed (for the publisher's cache).
    version: u64,
    /// Journal or outbox writes that failed (logged each time).
    failed_writes: u64,
    /// How far the alert journal goes: what a checkpoint of the book reflects.
    journaled: JournalPosition,
}

/// A position in the alert journal: the changes it holds, and the last of them (so that a
/// checkpoint restored against a journal that is not the one it was taken beside is noticed).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct JournalPosition {
    pub(crate) changes: u64,
    pub(crate) last: Option<AlertChange>,
}

impl JournalPosition {
    /// Whether `changes` (a whole alert journal) continue from this position.
    pub(crate) fn fits(&self, changes: &[AlertChange]) -> bool {
        usize::try_from(self.changes).is_ok_and(|k| {
            changes.len() >= k && k.checked_sub(1).map(|i| &changes[i]) == self.last.as_ref()
        })
    }

    fn advance(&mut self, changes: &[AlertChange]) {
        self.changes += changes.len() as u64;
        if let Some(last) = changes.last() {
            self.last = Some(last.clone());
        }
    }
}

/// Why an acknowledgement was not recorded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AckError {
    #[error(transparent)]
    Refused(#[from] AlertError),
    #[error("the acknowledgement could not be journaled: {0}")]
    Journal(String),
}

impl AlertDesk {
    /// A desk that keeps its book in memory only (tests and tools); see [`Self::set_journal`].
    pub(crate) fn new(alerts: Alerts) -> AlertDesk {
        AlertDesk {
            alerts,
            journal: None,
            outbox: None,
            pending: Vec::new(),
            batches: Vec::new(),
            version: 0,
            failed_writes: 0,
            journaled: JournalPosition::default(),
        }
    }

    /// Journals every change from now on.
    pub(crate) fn set_journal(&mut self, journal: AlertJournal) {
        self.journal = Some(journal);
    }

    /// Queues every notification batch for the webhooks from now on.
    pub(crate) fn with_outbox(mut self, outbox: Arc<Outbox>) -> AlertDesk {
        self.outbox = Some(outbox);
        self
    }

    /// Rebuilds the book from the journal's changes (before any event is replayed).
    pub(crate) fn restore(&mut self, changes: Vec<AlertChange>) -> RestoreReport {
        self.journaled.advance(&changes);
        let report = self.alerts.restore(changes);
        self.version += 1;
        report
    }

    /// Files an event the engine was given (also while replaying the event journal).
    pub(crate) fn observe(&mut self, event: &Event, applied: Applied) {
        self.alerts.observe(event, applied);
    }

    /// Evaluates boundary `at`; the engine has been ticked to it. Changes wait for
    /// [`Self::flush`].
    pub(crate) fn evaluate(&mut self, engine: &Engine, at: Millis) {
        let evaluation = self.alerts.evaluate(engine, at);
        self.pending.extend(evaluation.changes);
        self.batches.extend(evaluation.batch);
    }

    /// Journals the changes of the step just taken, then queues its batches for the webhooks.
    /// Returns whether the book changed.
    pub(crate) fn flush(&mut self) -> bool {
        if self.pending.is_empty() && self.batches.is_empty() {
            return false;
        }
        let changed = !self.pending.is_empty();
        if changed {
            if let Some(journal) = &mut self.journal {
                match journal.append(&self.pending) {
                    Ok(()) => self.journaled.advance(&self.pending),
                    Err(e) => {
                        self.failed_writes += 1;
                        tracing::error!(
                        error = %e,
                        changes = self.pending.len(),
                                "alert changes could not be journaled; they are live but will be lost \
                                 at a restart"
                            );
                    }
                }
            }
            for change in &self.pending {
                tracing::info!(
                    change = ?change.kind(),
                    id = change.id(),
                    at = change.at(),
                    "alert"
                );
            }
            self.pending.clear();
            self.version += 1;
        }
        for batch in self.batches.drain(..) {
            if let Some(outbox) = &self.outbox
                && let Err(e) = outbox.queue(&batch)
            {
                self.failed_writes += 1;
                tracing::error!(
                    error = %e,
                    batch = %batch.id,
                    "an alert batch could not be written to the outbox; it is sent unless the \
                     server stops first"
                );
            }
        }
        changed
    }

    /// Records an acknowledgement at `at` (the floor's clock) and journals it before answering.
    pub(crate) fn acknowledge(
        &mut self,
        id: &str,
        by: &str,
        note: &str,
        at: Millis,
    ) -> Result<Alert, AckError> {
        let change = self.alerts.acknowledge(id, by, note, at)?;
        self.version += 1;
        tracing::info!(id, by, at = change.at(), "alert acknowledged");
        if let Some(journal) = &mut self.journal {
            if let Err(e) = journal.append(std::slice::from_ref(&change)) {
                self.failed_writes += 1;
                tracing::error!(error = %e, id, "an acknowledgement could not be journaled");
                return Err(AckError::Journal(e.to_string()));
            }
            self.journaled.advance(std::slice::from_ref(&change));
        }
        self.alerts
            .alert(id)
            .cloned()
            .ok_or_else(|| AckError::Refused(AlertError::Unknown(id.to_string())))
    }

    pub(crate) fn alerts(&self) -> &Alerts {
        &self.alerts
    }

    /// Forgets the alerts' condition timers, as a full replay of the journal would have none
    /// (`floorwatch_core::alerts::Alerts::forget_timers`): after a restart from a checkpoint.
    pub(crate) fn forget_timers(&mut self) {
        self.alerts.forget_timers();
    }

    /// How far the alert journal goes (a checkpoint records it with the book).
    pub(crate) fn journaled(&self) -> &JournalPosition {
        &self.journaled
    }

    /// Takes the book, observations and timers of a checkpoint (docs/ARCHITECTURE.md,
    /// "Checkpoints"), then the alert journal's changes after its position: `None` (nothing
    /// changed) when the journal does not continue the checkpoint's (shorter, or another
    /// change at its position), and the caller replays everything instead.
    pub(crate) fn resume(
        &mut self,
        snapshot: floorwatch_core::alerts::AlertsSnapshot,
        at: &JournalPosition,
        changes: &[AlertChange],
    ) -> Option<RestoreReport> {
        if !at.fits(changes) {
            return None;
        }
        let k = usize::try_from(at.changes).ok()?;
        self.alerts.resume_from(snapshot);
        self.journaled = at.clone();
        Some(self.restore(changes[k..].to_vec()))
    }

    /// Changes whenever an alert was raised, changed or acknowledged.
    pub(crate) fn version(&self) -> u64 {
        self.version
    }
}
