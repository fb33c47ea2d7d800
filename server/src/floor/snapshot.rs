//! The live floor in a checkpoint (docs/ARCHITECTURE.md, "Checkpoints"): the engine, the
//! alerts (book, observations) with the alert journal's position, the call register, the
//! per-minute points and the journal position, written as compact binary serde (MessagePack, `rmp-serde`).
//! Configuration (the organisation's calendar, the alert rules, the lateness allowance) is not
//! state: a restored floor takes it from the floor it is restored into.

use std::collections::{BTreeMap, VecDeque};

use floorwatch_core::alerts::{AlertChange, Alerts, AlertsSnapshot, RestoreReport};
use floorwatch_core::wire::MinutePoint;
use floorwatch_core::{Engine, EngineSnapshot, Organisation, Scope};
use serde::{Deserialize, Serialize};

use super::LiveFloor;
use crate::alerts::JournalPosition;
use crate::calls::CallRegister;
use crate::history::LedgerFrom;
use crate::history::writer::HistorySender;

/// The floor's state as written (borrowed under the floor's lock, for as long as encoding
/// takes). Field for field the same as [`FloorState`], which reads it back.
#[derive(Serialize)]
struct FloorRef<'a> {
    engine: &'a Engine,
    alerts: &'a Alerts,
    alert_journal: &'a JournalPosition,
    history: &'a BTreeMap<Scope, VecDeque<MinutePoint>>,
    calls: &'a CallRegister,
    version: u64,
    journal_seq: Option<u64>,
    ledger_from: Option<LedgerFrom>,
}

/// A floor's state read back from a checkpoint, to be taken by [`LiveFloor::resume_from`].
#[derive(Deserialize)]
pub(crate) struct FloorState {
    engine: EngineSnapshot,
    alerts: AlertsSnapshot,
    alert_journal: JournalPosition,
    history: BTreeMap<Scope, VecDeque<MinutePoint>>,
    calls: CallRegister,
    version: u64,
    journal_seq: Option<u64>,
    /// Where the restored ledger counts from; `None` when history was off.
    pub(crate) ledger_from: Option<LedgerFrom>,
}

/// Why a checkpoint's floor was not taken.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ResumeError {
    #[error(
        "the alert journal does not continue the checkpoint's (it holds {found} changes, the \
         checkpoint was taken at {expected})"
    )]
    AlertJournal { expected: u64, found: usize },
    #[error("the organisation does not validate: {0}")]
    Organisation(#[from] floorwatch_core::OrgError),
}

impl FloorState {
    /// Reads a floor's state from [`LiveFloor::checkpoint_bytes`].
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<FloorState, rmp_serde::decode::Error> {
        rmp_serde::from_slice(bytes)
    }

    /// Whether the alert journal (`changes`, all of it) continues the one the checkpoint was
    /// taken beside.
    pub(crate) fn alerts_fit(&self, changes: &[AlertChange]) -> bool {
        self.alert_journal.fits(changes)
    }
}

impl LiveFloor {
    /// [`Self::checkpoint_bytes_into`] a buffer of its own.
    #[cfg(test)]
    pub(crate) fn checkpoint_bytes(&self) -> Result<Vec<u8>, rmp_serde::encode::Error> {
        self.checkpoint_bytes_into(Vec::new())
    }

    /// The floor's state, encoded (what a checkpoint keeps of it), appended to `buf`. Runs
    /// under the floor's lock; compressing and writing are the caller's, off the lock. A
    /// caller that knows about how large the encoding will be (the last checkpoint's) hands a
    /// buffer of that capacity, so that the tens of megabytes of a large floor are not grown
    /// by doubling under the lock, each step copying what came before into fresh pages
    /// (issue 15: the copies and the page faults of a checkpoint were a share of the recorder
    /// thread's time on the large day; BENCHMARKS.md, "Tenth pass: the recorder's per-event
    /// cost").
    pub(crate) fn checkpoint_bytes_into(
        &self,
        mut buf: Vec<u8>,
    ) -> Result<Vec<u8>, rmp_serde::encode::Error> {
        rmp_serde::encode::write_named(
            &mut buf,
            &FloorRef {
                engine: &self.engine,
                alerts: self.alerts.alerts(),
                alert_journal: self.alerts.journaled(),
                history: &self.history,
                calls: &self.calls,
                version: self.version,
                journal_seq: self.journal_seq,
                ledger_from: self.ledger_from,
            },
        )?;
        Ok(buf)
    }

    /// After a restart from a checkpoint: the alerts time their conditions again from the next
    /// boundary, as after a full replay of the journal (docs/ALERTS.md).
    pub(crate) fn forget_alert_timers(&mut self) {
        self.alerts.forget_timers();
    }

    /// Takes a checkpoint's state into this fresh floor (made for `org` with the alert rules
    /// the checkpoint was taken under), then the alert journal's changes after its position
    /// (`changes`: the whole journal). `history`: the store's sender when the restored ledger
    /// goes on as it was; `None` drops it (history off, or the store past the checkpoint: the
    /// ledger starts again at the store's resume point, as in a full replay). Nothing changes
    /// on an error.
    pub(crate) fn resume_from(
        &mut self,
        org: &Organisation,
        state: FloorState,
        changes: &[AlertChange],
        history: Option<HistorySender>,
    ) -> Result<RestoreReport, ResumeError> {
        let mut engine = state.engine.into_engine(org)?;
        let restored = self
            .alerts
            .resume(state.alerts, &state.alert_journal, changes)
            .ok_or(ResumeError::AlertJournal {
                expected: state.alert_journal.changes,
                found: changes.len(),
            })?;
        match history {
            Some(sender) => {
                self.interval_store = Some(sender);
                self.ledger_from = state.ledger_from;
            }
            None => {
                engine.forget_intervals();
                self.ledger_from = None;
            }
        }
        self.engine = engine;
        self.history = state.history;
        self.calls = state.calls;
        self.version = state.version + 1;
        self.journal_seq = state.journal_seq;
        Ok(restored)
    }
}
