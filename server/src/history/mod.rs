//! History: every scope's quarter-hours, kept in an embedded SQLite store so the floor no longer
//! forgets at midnight (docs/HISTORY.md).
//!
//! The engine's ledger (`floorwatch_core::Engine::keep_intervals`) counts what every event adds
//! to each scope's quarter-hour; the live floor closes it at every quarter-hour end of event time
//! ([`crate::floor::Floor`]) and hands the deltas to the [`writer`] thread, which merges them
//! into the [`store`] with the journal position they cover. Deltas are sums, so a late event
//! amends the row it belongs to whatever its age, and `floorwatch history rebuild`
//! (`cli/history.rs`) recomputes the same rows from the journal in one pass. Reports
//! ([`report`]) roll the rows up into the centre's calendar; the web edge serves them.

mod closed;
pub(crate) mod report;
pub(crate) mod store;
pub(crate) mod writer;

use std::path::Path;
use std::thread::JoinHandle;

use floorwatch_core::Millis;

pub(crate) use closed::ClosedIntervals;
use store::{ResumePoint, Store, StoreError};
use writer::HistorySender;

/// Default of `--history-days`: rows kept (13 months: a year-on-year comparison).
pub(crate) const HISTORY_DAYS: u32 = 400;
/// Default of `--journal-days`: journal segments kept (a month and a margin to rebuild from).
pub(crate) const JOURNAL_DAYS: u32 = 35;

/// History's store, opened before the journal is replayed at start: the floor starts keeping
/// history at the store's resume point ([`HistoryResume::due_before`], docs/HISTORY.md,
/// "Restarts").
pub(crate) struct HistoryResume {
    sender: HistorySender,
    point: Option<ResumePoint>,
}

/// A position of the history store: the boundary of a close and the journal sequence number
/// of the last event it includes ("Restarts"); where the floor's ledger counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct LedgerFrom {
    pub(crate) closed_until: Millis,
    pub(crate) through_seq: Option<u64>,
}

impl HistoryResume {
    /// Where the store ends: its last close and the last journal event it includes (a new
    /// store: 0 and none). A checkpoint's ledger fits when it counts from exactly here.
    pub(crate) fn position(&self) -> LedgerFrom {
        LedgerFrom {
            closed_until: self.point.map_or(0, |p| p.closed_until),
            through_seq: self.point.and_then(|p| p.through_seq),
        }
    }

    /// Whether the event numbered `seq` is not in the store yet: history resumes before it.
    pub(crate) fn due_before(&self, seq: Option<u64>) -> bool {
        match (self.point.and_then(|p| p.through_seq), seq) {
            (Some(through), Some(seq)) => seq > through,
            _ => true,
        }
    }

    /// Where the floor's ledger resumes before the event numbered `seq` (`None`: after the
    /// replay, or an event without a number): the sender and the boundary running states are
    /// credited up to. Says so in the log when events between the store and `seq` are missing.
    pub(crate) fn resume(self, seq: Option<u64>) -> (HistorySender, Millis) {
        let through = self.point.and_then(|p| p.through_seq);
        if let (Some(through), Some(seq)) = (through, seq)
            && seq > through + 1
        {
            tracing::warn!(
                stored_through = through,
                next_replayed = seq,
                "history store ends before the journal replayed at start: the events between \
                 are missing from history; `floorwatch history rebuild` recomputes their days"
            );
        }
        (self.sender, self.point.map_or(0, |p| p.closed_until))
    }
}

/// Opens history's store in `data_dir`, deletes journal segments older than `journal_days`,
/// and starts the history thread, which deletes rows older than `history_days` (a scan of the
/// store: off the start-up path, then once a day); `None` with `history_days` 0 (history off).
pub(crate) fn open(
    data_dir: &Path,
    calendar: &floorwatch_core::calendar::CentreCalendar,
    (history_days, journal_days): (u32, u32),
    now: Millis,
) -> Result<Option<(HistoryResume, JoinHandle<()>)>, OpenError> {
    if history_days == 0 {
        return Ok(None);
    }
    let store = Store::open(data_dir, calendar)?;
    let today = jiff::Timestamp::from_millisecond(now)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date())
        .unwrap_or(jiff::civil::Date::MIN);
    let oldest = today
        .checked_sub(jiff::Span::new().days(i64::from(journal_days)))
        .unwrap_or(jiff::civil::Date::MIN);
    let segments = crate::journal::remove_before(&data_dir.join("journal"), oldest, today)?;
    if segments > 0 {
        tracing::info!(
            journal_segments = segments,
            journal_days,
            "journal segments past retention deleted"
        );
    }
    let point = store.resume_point()?;
    let (sender, thread) = writer::spawn(store, history_days).map_err(OpenError::Thread)?;
    Ok(Some((HistoryResume { sender, point }, thread)))
}

/// Why history could not start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OpenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("pruning the journal: {0}")]
    Journal(#[from] crate::journal::JournalError),
    #[error("starting the history thread: {0}")]
    Thread(std::io::Error),
    #[error(transparent)]
    Calendar(#[from] floorwatch_core::OrgError),
}
