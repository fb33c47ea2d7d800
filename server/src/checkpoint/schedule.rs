//! When the recorder takes a checkpoint: after a group of batches once [`Checkpointer::every`]
//! has passed (or [`EVERY_EVENTS`] were journaled) since the last one, and at a graceful stop.
//! The recorder's thread is the one place where the floor, the seen ids and the journal
//! position agree (between two groups), so it takes them: the floor encoded under the floor's
//! lock (tens of milliseconds on a 5,000-agent floor), the seen ids copied on its own thread,
//! and the compression and write on a thread of their own, off both.

use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use floorwatch_core::Millis;

use super::{Header, Taken};
use crate::floor::{self, SharedFloor};
use crate::history::writer::HistorySender;
use crate::seen_ids::SeenIds;

/// A checkpoint after this many events journaled even before the interval has passed: a
/// replay at full speed keeps the tail a start must replay short.
pub(crate) const EVERY_EVENTS: u64 = 1_000_000;

/// The recorder's checkpoint schedule.
pub(crate) struct Checkpointer {
    dir: PathBuf,
    /// `crate::checkpoint::config_fingerprint` of the configuration now.
    config: String,
    every: Duration,
    last_at: Instant,
    /// The journal position of the last checkpoint written or loaded.
    last_seq: Option<u64>,
    writing: Option<JoinHandle<()>>,
    /// Low bits of a position that number events inside one unit the schedule counts (0: a
    /// journal position counts events; a cluster position, `crate::cluster`, counts messages
    /// above its event index).
    position_shift: u32,
    /// How many bytes the floor took in the last checkpoint taken: the next one's buffer is
    /// sized from it ([`FLOOR_BYTES_ROOM`], `LiveFloor::checkpoint_bytes_into`).
    last_floor_bytes: usize,
}

/// A checkpoint's buffer holds this many times the last one's floor: a replay at full speed
/// checkpoints every [`EVERY_EVENTS`], and a floor filling up with the day's calls and agents
/// grows from one to the next. Only the pages written are resident, so the room costs address
/// space, not memory; a floor that grew more is encoded all the same, its buffer grown once.
const FLOOR_BYTES_ROOM: usize = 2;

impl Checkpointer {
    /// A schedule writing into `dir` every `every`; `loaded`: the position of the checkpoint
    /// the start resumed from, if any.
    pub(crate) fn new(
        dir: PathBuf,
        config: String,
        every: Duration,
        loaded: Option<u64>,
    ) -> Checkpointer {
        Checkpointer {
            dir,
            config,
            every,
            last_at: Instant::now(),
            last_seq: loaded,
            writing: None,
            position_shift: 0,
            last_floor_bytes: 0,
        }
    }

    /// Positions are cluster positions: [`EVERY_EVENTS`] counts the units above the low
    /// `shift` bits (stream messages), not positions.
    pub(crate) fn with_position_shift(mut self, shift: u32) -> Checkpointer {
        self.position_shift = shift;
        self
    }

    /// After a group: takes a checkpoint if one is due and the last one is written.
    pub(crate) fn after_group(
        &mut self,
        floor: &SharedFloor,
        seen: &SeenIds,
        lookout: Option<Millis>,
        next_seq: u64,
    ) {
        let since = (next_seq >> self.position_shift)
            .saturating_sub(self.last_seq.unwrap_or(0) >> self.position_shift);
        let due = self.last_seq != Some(next_seq)
            && (self.last_at.elapsed() >= self.every || since >= EVERY_EVENTS);
        if !due || self.writing.as_ref().is_some_and(|w| !w.is_finished()) {
            return;
        }
        let Some((taken, history)) = self.take(floor, seen, lookout, next_seq) else {
            return;
        };
        let dir = self.dir.clone();
        match std::thread::Builder::new()
            .name("checkpoint".into())
            .spawn(move || write_logged(&dir, taken, history))
        {
            Ok(thread) => self.writing = Some(thread),
            Err(e) => tracing::error!(error = %e, "the checkpoint thread could not start"),
        }
    }

    /// At a graceful stop (every event recorded): waits for a write under way, then writes
    /// the floor as it stands unless the last checkpoint has it already.
    pub(crate) fn at_stop(
        &mut self,
        floor: &SharedFloor,
        seen: &SeenIds,
        lookout: Option<Millis>,
        next_seq: u64,
    ) {
        if let Some(thread) = self.writing.take() {
            let _ = thread.join();
        }
        if self.last_seq == Some(next_seq) {
            return;
        }
        if let Some((taken, history)) = self.take(floor, seen, lookout, next_seq) {
            write_logged(&self.dir, taken, history);
        }
    }

    fn take(
        &mut self,
        floor: &SharedFloor,
        seen: &SeenIds,
        lookout: Option<Millis>,
        next_seq: u64,
    ) -> Option<(Taken, Option<HistorySender>)> {
        let started = Instant::now();
        let last = self.last_floor_bytes;
        let buf = Vec::with_capacity(last.saturating_mul(FLOOR_BYTES_ROOM));
        let (encoded, history) = {
            let floor = floor::lock(floor);
            (floor.checkpoint_bytes_into(buf), floor.history_sender())
        };
        let locked_ms = started.elapsed().as_millis() as u64;
        self.last_at = Instant::now();
        let floor = match encoded {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::error!(error = %e, "the floor could not be encoded for a checkpoint");
                return None;
            }
        };
        self.last_seq = Some(next_seq);
        self.last_floor_bytes = floor.len();
        let taken = Taken {
            header: Header::new(self.config.clone(), next_seq, lookout),
            floor,
            seen: seen.to_bytes(),
            locked_ms,
            taken_ms: started.elapsed().as_millis() as u64,
        };
        Some((taken, history))
    }
}

/// Writes `taken` once the history thread has written every close sent before it was taken
/// (`history`: the floor's, `None` while history is off). The checkpoint's interval ledger
/// counts from the last close sent (`LiveFloor::ledger_from`), and a start uses it only if the
/// history store ends exactly there or past the checkpoint (`crate::start`): the history
/// thread gathers a replay's closes for up to two seconds before writing them, so a
/// checkpoint on disk before they are would be refused after a crash in that time, and the
/// whole journal replayed.
fn write_logged(dir: &std::path::Path, taken: Taken, history: Option<HistorySender>) {
    let started = Instant::now();
    let (next_seq, locked_ms, taken_ms) = (taken.header.next_seq, taken.locked_ms, taken.taken_ms);
    if let Some(history) = history
        && !history.flush()
    {
        // Written all the same: a start checks it against the store and, if they do not fit,
        // replays the journal instead, as without it.
        tracing::warn!(
            next_seq,
            "the history thread did not confirm its closes before a checkpoint; a start after a crash may not be able to use it"
        );
    }
    match super::write(dir, taken) {
        Ok((path, bytes)) => {
            let write_ms = started.elapsed().as_millis() as u64;
            // What the checkpoint's buffers (and a day of seen ids dropped since the last one)
            // leave free goes back to the system (crate::heap).
            let rss_bytes = crate::heap::give_back();
            tracing::info!(
                file = %path.display(),
                next_seq,
                bytes,
                floor_lock_ms = locked_ms,
                recorder_ms = taken_ms,
                write_ms,
                rss_bytes,
                "checkpoint written"
            );
        }
        Err(e) => tracing::error!(
            next_seq,
            error = %e,
            "a checkpoint could not be written; the next start replays more of the journal"
        ),
    }
}
