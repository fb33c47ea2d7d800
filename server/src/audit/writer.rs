//! The one audit writer of the running server: every request or task that audits goes through
//! [`record`], off the async threads (the trail syncs to disk), with one rule: **no record, no
//! action**. An action that needs its record (a sign-in, a screen's first request, an unmask,
//! an export) is done only once [`record`] returned `Ok`; its caller answers the error with 503
//! and does not do it. A record of something already decided elsewhere (a refused login, a
//! session that ended, an acknowledgement already journaled) cannot undo it: its caller only
//! lets the error be logged here.

use super::{Action, AuditTrail, Entry};

/// The audit record of an action could not be written, so the action is not done. The cause
/// is in the server's log (it may name files), never in the answer.
#[derive(Debug, thiserror::Error)]
#[error(
    "the {action} could not be recorded in the audit trail, so it was not done; the server's log \
     says why"
)]
pub(crate) struct NotRecorded {
    /// What was to be recorded.
    pub(crate) action: Action,
}

/// Appends `entry` to `trail` off the async threads. A failure is logged here, with the action.
pub(crate) async fn record(trail: &AuditTrail, entry: Entry) -> Result<(), NotRecorded> {
    let action = entry.action;
    let trail = trail.clone();
    match tokio::task::spawn_blocking(move || record_blocking(&trail, entry)).await {
        Ok(written) => written,
        Err(e) => {
            tracing::error!(%action, error = %e, "audit record not written: the audit writer stopped");
            Err(NotRecorded { action })
        }
    }
}

/// [`record`] for a caller already on a blocking thread that must write the record inside a
/// step of its own (a sign-off: inside the history store's transaction, before it commits).
pub(crate) fn record_blocking(trail: &AuditTrail, entry: Entry) -> Result<(), NotRecorded> {
    let action = entry.action;
    match trail.append(entry, jiff::Timestamp::now()) {
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::error!(%action, error = %e, "audit record not written");
            Err(NotRecorded { action })
        }
    }
}
