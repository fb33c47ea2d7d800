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
    let written =
        tokio::task::spawn_blocking(move || trail.append(entry, jiff::Timestamp::now())).await;
    let failure = match written {
        Ok(Ok(_)) => return Ok(()),
        Ok(Err(e)) => e.to_string(),
        Err(e) => format!("the audit writer stopped: {e}"),
    };
    tracing::error!(%action, error = %failure, "audit record not written");
    Err(NotRecorded { action })
}
