//! The recorder: the one place events enter the floor. Batches from every source (HTTP, the
//! ingest websocket, the demo simulator) queue here; a dedicated thread drops ids it has seen,
//! appends the rest to the journal (synced per the policy), applies them to the floor in
//! journal order, and only then answers each batch.
//!
//! Batches that arrive while the disk is busy are written together (group commit): one sync
//! covers them all, which is what lets a synced journal keep up with tens of thousands of
//! events per second.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::thread::JoinHandle;
use std::time::Instant;

use bytes::Bytes;
use floorwatch_core::alerts::EVALUATION_PERIOD_MS;
use floorwatch_core::{Applied, Event};
use tokio::sync::{mpsc, oneshot};

use crate::checkpoint::schedule::Checkpointer;
use crate::floor::{self, CATCH_UP_STEPS, SharedFloor};
use crate::horizon::{Lookout, TooFarAhead};
use crate::journal::{CentreDays, Journal, JournalBatch, JournalError};
use crate::seen_ids::{SeenIds, fingerprint};
use crate::telemetry::{EventOutcome, Telemetry};

/// Batches waiting for the recorder before senders wait too (back-pressure on ingest).
const QUEUE_BATCHES: usize = 1024;
/// Most batches written under one sync.
const GROUP_BATCHES: usize = 256;
/// Acceptance times kept for the ingest-to-push histogram between two publisher ticks.
const MAX_PENDING_PUSH: usize = 10_000;

/// What one batch came to. Every event is accepted, a duplicate or refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Recorded {
    pub(crate) accepted: u64,
    pub(crate) duplicate: u64,
    /// Of the accepted ones, how many were late (see [`crate::floor::Outcome::late_by`]).
    pub(crate) late: u64,
    /// Events refused for their time (too far ahead, see [`crate::horizon`]): their index in
    /// the batch and why. Not journaled, not applied.
    pub(crate) refused: Vec<(usize, TooFarAhead)>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum RecordError {
    #[error("the journal could not be written, nothing in this request was accepted: {0}")]
    Journal(String),
    #[error("the server is shutting down")]
    Stopped,
}

struct Batch {
    events: Vec<Event>,
    /// Each event's journal line, when the source already has it (HTTP and websocket ingest);
    /// `None`: the recorder serialises each event itself.
    lines: Option<EventLines>,
    reply: oneshot::Sender<Result<Recorded, RecordError>>,
}

/// The journal line of each event of a batch, in its order, made by the source on its own
/// task: the bytes received when a line is already canonical (what `Event::to_json` would
/// write, checked byte for byte), the canonical serialisation otherwise (issue 15, item 4).
/// The recorder's one thread then copies bytes instead of serialising every event.
#[derive(Debug, Default)]
pub(crate) struct EventLines {
    /// The request body the received lines are cut from (shared, not copied).
    received: Bytes,
    /// Canonical lines of events whose received line was not canonical, one after another.
    own: Vec<u8>,
    spans: Vec<LineSpan>,
}

/// Where one event's line is: in the body received or in [`EventLines::own`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineSpan {
    Received(usize, usize),
    Own(usize, usize),
}

impl EventLines {
    /// Lines cut from `received` or made here; empty until [`Self::push`].
    pub(crate) fn new(received: Bytes) -> EventLines {
        EventLines {
            received,
            own: Vec::new(),
            spans: Vec::new(),
        }
    }

    /// Adds the line of `event`, which was read from `received[at..at + len]`: that range
    /// when it is what `Event::to_json` writes, the serialisation otherwise. A range outside
    /// the body is serialised too.
    pub(crate) fn push(&mut self, event: &Event, at: usize, len: usize) {
        let start = self.own.len();
        // Serialising a struct of strings and numbers into memory cannot fail.
        let _ = serde_json::to_writer(&mut self.own, event);
        let end = self.own.len();
        let received = at.checked_add(len).and_then(|to| self.received.get(at..to));
        if received == Some(&self.own[start..end]) {
            self.own.truncate(start);
            self.spans.push(LineSpan::Received(at, at + len));
        } else {
            self.spans.push(LineSpan::Own(start, end));
        }
    }

    /// The line of event `i`, if there is one.
    pub(crate) fn line(&self, i: usize) -> Option<&[u8]> {
        match *self.spans.get(i)? {
            LineSpan::Received(from, to) => self.received.get(from..to),
            LineSpan::Own(from, to) => self.own.get(from..to),
        }
    }

    /// How many lines were the bytes received (the rest were serialised).
    #[cfg(test)]
    pub(crate) fn received_count(&self) -> usize {
        self.spans
            .iter()
            .filter(|s| matches!(s, LineSpan::Received(..)))
            .count()
    }
}

enum Command {
    Record(Batch),
    /// Record what is queued, sync the journal and stop.
    Stop,
}

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

    fn accepted(&self, at: Instant) {
        let mut pending = self.accepted_at.lock().unwrap_or_else(|p| p.into_inner());
        if pending.len() < MAX_PENDING_PUSH {
            pending.push(at);
        }
    }
}

/// The sending side, cloned into every ingest path.
#[derive(Clone)]
pub(crate) struct RecorderHandle {
    tx: mpsc::Sender<Command>,
}

impl RecorderHandle {
    /// Journals and applies `events`; resolves once they are durable per the fsync policy.
    pub(crate) async fn record(&self, events: Vec<Event>) -> Result<Recorded, RecordError> {
        self.record_batch(events, None).await
    }

    /// [`Self::record`] with each event's journal line made by the caller (`lines`, one per
    /// event in order), so the recorder's thread does not serialise them.
    pub(crate) async fn record_lines(
        &self,
        events: Vec<Event>,
        lines: EventLines,
    ) -> Result<Recorded, RecordError> {
        self.record_batch(events, Some(lines)).await
    }

    async fn record_batch(
        &self,
        events: Vec<Event>,
        lines: Option<EventLines>,
    ) -> Result<Recorded, RecordError> {
        if events.is_empty() {
            return Ok(Recorded::default());
        }
        // Lines out of step with the events are not used (the recorder serialises instead).
        let lines = lines.filter(|l| l.spans.len() == events.len());
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Command::Record(Batch {
                events,
                lines,
                reply,
            }))
            .await
            .map_err(|_| RecordError::Stopped)?;
        answer.await.map_err(|_| RecordError::Stopped)?
    }

    /// False once the recorder thread has stopped (or died): ingest would fail.
    pub(crate) fn is_running(&self) -> bool {
        !self.tx.is_closed()
    }

    /// Asks the recorder to record what is queued, sync the journal and stop; join its
    /// thread to wait for that.
    pub(crate) async fn stop(&self) {
        let _ = self.tx.send(Command::Stop).await;
    }
}

pub(crate) struct Recorder {
    journal: Journal,
    seen: SeenIds,
    /// The centre day of each event: its journal day file and its seen-ids set.
    days: CentreDays,
    floor: SharedFloor,
    telemetry: Arc<Telemetry>,
    pulse: Arc<Pulse>,
    /// Refuses events too far ahead of the clock before they are journaled.
    lookout: Lookout,
    /// When each source was last warned about late events (one warning a minute at most).
    late_warned: HashMap<String, Instant>,
    /// Checkpoints of the floor, when they are on (`crate::checkpoint`).
    checkpoints: Option<Checkpointer>,
}

/// What becomes of one event of a group, decided before the journal is written.
enum Mark {
    /// New: journaled, then applied (the id's fingerprint and its centre day, for the seen
    /// ids).
    New(u128, jiff::civil::Date),
    Duplicate,
    Refused(TooFarAhead),
}

impl Recorder {
    pub(crate) fn new(
        journal: Journal,
        (seen, days): (SeenIds, CentreDays),
        floor: SharedFloor,
        telemetry: Arc<Telemetry>,
        pulse: Arc<Pulse>,
        lookout: Lookout,
    ) -> Recorder {
        Recorder {
            journal,
            seen,
            days,
            floor,
            telemetry,
            pulse,
            lookout,
            late_warned: HashMap::new(),
            checkpoints: None,
        }
    }

    /// Takes checkpoints of the floor on this schedule (docs/ARCHITECTURE.md, "Checkpoints").
    pub(crate) fn with_checkpoints(mut self, checkpoints: Option<Checkpointer>) -> Recorder {
        self.checkpoints = checkpoints;
        self
    }

    /// Starts the recorder thread. It ends on [`RecorderHandle::stop`] or when every handle is
    /// dropped, after syncing the journal.
    pub(crate) fn spawn(self) -> std::io::Result<(RecorderHandle, JoinHandle<()>)> {
        let (tx, rx) = mpsc::channel(QUEUE_BATCHES);
        let thread = std::thread::Builder::new()
            .name("recorder".into())
            .spawn(move || self.run(rx))?;
        Ok((RecorderHandle { tx }, thread))
    }

    fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        let mut group = Vec::with_capacity(GROUP_BATCHES);
        let mut buf = JournalBatch::default();
        let mut stopping = false;
        while !stopping {
            let Some(first) = rx.blocking_recv() else {
                break;
            };
            let mut next = Some(first);
            while let Some(command) = next.take() {
                match command {
                    Command::Record(batch) => group.push(batch),
                    Command::Stop => stopping = true,
                }
                if group.len() >= GROUP_BATCHES {
                    break;
                }
                next = rx.try_recv().ok();
            }
            if stopping {
                rx.close();
                while let Ok(command) = rx.try_recv() {
                    if let Command::Record(batch) = command {
                        group.push(batch);
                    }
                }
            }
            if !group.is_empty() {
                self.record_group(&mut group, &mut buf);
                if let Some(c) = &mut self.checkpoints {
                    let next_seq = self.journal.next_seq();
                    c.after_group(&self.floor, &self.seen, self.lookout.latest(), next_seq);
                }
            }
        }
        match self.journal.sync() {
            Ok(()) => tracing::info!("journal synced; recorder stopped"),
            Err(e) => tracing::error!(error = %e, "journal sync at shutdown failed"),
        }
        if let Some(c) = &mut self.checkpoints {
            let next_seq = self.journal.next_seq();
            c.at_stop(&self.floor, &self.seen, self.lookout.latest(), next_seq);
        }
    }

    fn record_group(&mut self, group: &mut Vec<Batch>, buf: &mut JournalBatch) {
        // What becomes of each event: new (not journaled before, not earlier in this group,
        // not too far ahead), a duplicate, or refused.
        let mut marks: Vec<Vec<Mark>> = Vec::with_capacity(group.len());
        // Fingerprints are uniformly spread already: a multiply-rotate hash places them as
        // well as SipHash would, at a fraction of the cost.
        let mut in_group = rustc_hash::FxHashSet::default();
        // One event's line, reused: serialised straight into it, no string per event.
        let mut line = Vec::with_capacity(512);
        let lookout_before = self.lookout.clone();
        let wall_now = jiff::Timestamp::now().as_millisecond();
        buf.clear();
        for batch in group.iter() {
            let mut batch_marks = Vec::with_capacity(batch.events.len());
            for (i, event) in batch.events.iter().enumerate() {
                let fp = fingerprint(&event.id);
                let mark = if self.seen.contains(fp) || in_group.contains(&fp) {
                    Mark::Duplicate
                } else if let Err(refused) = self.lookout.admit(event, wall_now) {
                    Mark::Refused(refused)
                } else {
                    in_group.insert(fp);
                    let day = self.days.of(event.ts);
                    match batch.lines.as_ref().and_then(|l| l.line(i)) {
                        Some(given) => buf.push(day, given),
                        None => {
                            line.clear();
                            // Serialising a struct of strings and numbers into memory cannot
                            // fail.
                            let _ = serde_json::to_writer(&mut line, event);
                            buf.push(day, &line);
                        }
                    }
                    Mark::New(fp, day)
                };
                batch_marks.push(mark);
            }
            marks.push(batch_marks);
        }

        let started = Instant::now();
        // The journal numbers the events it appends from here, in order.
        let mut seq = self.journal.next_seq();
        let written = self.journal.append(buf);
        self.telemetry
            .journal_seconds
            .observe(started.elapsed().as_secs_f64());
        if let Err(e) = written {
            // Nothing of the group was accepted: the clock it would have moved stays put.
            self.lookout = lookout_before;
            self.fail_group(group, &e);
            return;
        }

        // [accepted, duplicate, late, refused] per source.
        let mut by_source = SourceCounts::new();
        let mut replies = Vec::with_capacity(group.len());
        {
            let shared = self.floor.clone();
            let mut floor = floor::lock(&shared);
            for (batch, marks) in group.iter().zip(marks) {
                let mut recorded = Recorded::default();
                for (i, (event, mark)) in batch.events.iter().zip(marks).enumerate() {
                    let (fp, day) = match mark {
                        Mark::New(fp, day) => (fp, day),
                        Mark::Duplicate => {
                            recorded.duplicate += 1;
                            counts_of(&mut by_source, &event.source)[1] += 1;
                            continue;
                        }
                        Mark::Refused(why) => {
                            counts_of(&mut by_source, &event.source)[3] += 1;
                            tracing::debug!(source = %event.source, id = %event.id, ts = event.ts, "event refused: too far ahead");
                            recorded.refused.push((i, why));
                            continue;
                        }
                    };
                    self.seen.insert(day, fp);
                    // A long jump is caught up in steps, letting go of the lock between them:
                    // the publisher and the API read the floor meanwhile (the jump itself is
                    // bounded by the horizon, and a floor at rest skips to its next timer).
                    if !event.test
                        && event.ts - floor.now() > CATCH_UP_STEPS as i64 * EVALUATION_PERIOD_MS
                    {
                        while !floor.catch_up(event.ts, CATCH_UP_STEPS) {
                            // Readers see the floor between steps: the counts and the clock
                            // they read beside it must already say what it holds.
                            self.pulse.set_clock(floor.now());
                            self.count(&mut by_source);
                            drop(floor);
                            std::thread::yield_now();
                            floor = floor::lock(&shared);
                        }
                    }
                    // Alert changes are journaled once for the group, below (or by a catch-up
                    // step, which flushes), before the lock is let go.
                    let outcome = floor.apply_held(event);
                    floor.applied_journal_seq(seq);
                    seq += 1;
                    let counts = counts_of(&mut by_source, &event.source);
                    if outcome.applied == Applied::Duplicate {
                        // The engine knew the id although the journal did not (it cannot happen
                        // unless their notions of identity differ); it was not applied twice.
                        recorded.duplicate += 1;
                        counts[1] += 1;
                        continue;
                    }
                    recorded.accepted += 1;
                    counts[0] += 1;
                    if let Some(late_by) = outcome.late_by {
                        recorded.late += 1;
                        counts[2] += 1;
                        tracing::debug!(source = %event.source, id = %event.id, late_by_ms = late_by, "late event");
                    }
                }
                replies.push(recorded);
            }
            floor.flush();
            self.pulse.set_clock(floor.now());
            // Ids of days before the floor's yesterday are not kept (crate::seen_ids).
            self.seen.forget_before(self.days.yesterday_of(floor.now()));
            // Counted before anyone can read the floor: /healthz never lags what it shows.
            self.count(&mut by_source);
        }
        let accepted_at = Instant::now();
        let mut changed = false;
        for (batch, recorded) in group.drain(..).zip(replies) {
            if recorded.accepted > 0 {
                self.pulse.accepted(accepted_at);
                changed = true;
            }
            let _ = batch.reply.send(Ok(recorded));
        }
        if changed {
            self.pulse.changed.notify_one();
        }
    }

    /// Adds the counts of events recorded so far to the telemetry, per source and outcome
    /// (`[accepted, duplicate, late, refused]`), and empties them.
    fn count(&mut self, by_source: &mut SourceCounts) {
        let now = Instant::now();
        for (source, [accepted, duplicate, late, refused]) in by_source.drain(..) {
            self.telemetry
                .count_events(&source, EventOutcome::Accepted, accepted);
            self.telemetry
                .count_events(&source, EventOutcome::Duplicate, duplicate);
            self.telemetry
                .count_events(&source, EventOutcome::Late, late);
            self.telemetry
                .count_events(&source, EventOutcome::Rejected, refused);
            if late > 0 {
                self.warn_late(source, late, now);
            }
        }
    }

    fn warn_late(&mut self, source: String, late: u64, now: Instant) {
        let due = self
            .late_warned
            .get(&source)
            .is_none_or(|last| now.duration_since(*last).as_secs() >= 60);
        if due {
            tracing::warn!(
                %source,
                late,
                "events older than the floor's clock minus the lateness allowance: applied, \
                 counted as late (floorwatch_events_total{{outcome=\"late\"}})"
            );
            self.late_warned.insert(source, now);
        }
    }

    fn fail_group(&mut self, group: &mut Vec<Batch>, error: &JournalError) {
        tracing::error!(error = %error, "journal append failed; batches refused");
        for batch in group.drain(..) {
            let _ = batch
                .reply
                .send(Err(RecordError::Journal(error.to_string())));
        }
    }
}

/// The counts of `source` (`[accepted, duplicate, late, refused]`): a short list (a group
/// holds a source or a few), its name copied the first time it is seen in a group, not for
/// every event.
fn counts_of<'a>(by_source: &'a mut SourceCounts, source: &str) -> &'a mut [u64; 4] {
    let at = match by_source.iter().position(|(s, _)| s == source) {
        Some(at) => at,
        None => {
            by_source.push((source.to_string(), [0; 4]));
            by_source.len() - 1
        }
    };
    &mut by_source[at].1
}

/// `[accepted, duplicate, late, refused]` per source, while a group is recorded.
type SourceCounts = Vec<(String, [u64; 4])>;

/// The UTC date of the wall clock: with `--clock wall`, journal day files named after its
/// tomorrow are strays a start leaves alone.
pub(crate) fn utc_today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}
