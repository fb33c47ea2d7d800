//! The recorder: the one place events enter the floor. Batches from every source (HTTP, the
//! ingest websocket, the demo simulator) queue here; a dedicated thread drops ids it has seen,
//! appends the rest to the journal (synced per the policy), applies them to the floor in
//! journal order, and only then answers each batch.
//!
//! Batches that arrive while the disk is busy are written together (group commit): one sync
//! covers them all, which is what lets a synced journal keep up with tens of thousands of
//! events per second.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Instant;

use floorwatch_core::Event;
use tokio::sync::{mpsc, oneshot};

use crate::apply::{Applier, Mark, mark_known};
use crate::checkpoint::schedule::Checkpointer;
use crate::event_lines::EventLines;
use crate::floor::SharedFloor;
use crate::horizon::Lookout;
use crate::journal::{CentreDays, Journal, JournalBatch, JournalError, PackedLines, pack};
use crate::seen_ids::{SeenIds, fingerprint};
use crate::telemetry::Telemetry;

pub(crate) use crate::apply::Recorded;
pub(crate) use crate::pulse::Pulse;

/// Batches waiting for the recorder before senders wait too (back-pressure on ingest).
const QUEUE_BATCHES: usize = 1024;
/// Most batches in one group: written under one sync, or (a cluster node) published before
/// their acknowledgements are awaited.
pub(crate) const GROUP_BATCHES: usize = 256;
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum RecordError {
    #[error("the journal could not be written, nothing in this request was accepted: {0}")]
    Journal(String),
    /// Cluster mode: the stream did not acknowledge the batch (docs/CLUSTER.md, "Failure
    /// modes"). Nothing of it was acknowledged, so the sender retries; a retry is stored once.
    #[error(
        "the cluster's event log did not confirm that it stored this request ({0}); nothing in it          is acknowledged: send it again (events already stored are recognised by their ids and          never counted twice)"
    )]
    Cluster(String),
    #[error("the server is shutting down")]
    Stopped,
    /// A batch sent earlier on the same [`Lane`] was not recorded, so this one was not either:
    /// recording it would put its events before the earlier batch's.
    #[error(
        "a batch sent before this one on the same connection was not recorded, so this one was not either; nothing in it is acknowledged: connect again and send again from the first batch that was not recorded"
    )]
    AfterRefused,
}

/// The order of one sender's batches when it has several in flight at once (the ingest
/// websocket, docs/ARCHITECTURE.md step 2): once the recorder refuses one of them, it refuses
/// every later batch of the lane too. The sender resends from the refused batch, and its
/// events are still recorded in the order it sent them, as with one batch at a time.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lane(Arc<AtomicBool>);

impl Lane {
    /// True once a batch of this lane was refused.
    fn is_broken(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn break_off(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// One batch of events handed to the recorder (or a cluster node's publisher), with where its
/// answer goes.
pub(crate) struct Batch {
    pub(crate) events: Vec<Event>,
    /// Each event's journal line, when the source already has it (HTTP and websocket ingest);
    /// `None`: the recorder serialises each event itself. A cluster node's publisher makes its
    /// own messages and leaves them.
    pub(crate) lines: Option<EventLines>,
    /// `lines` compressed into one journal frame's body on the sender's task (see
    /// `crate::journal::pack`): written as it is when every event is new and of one day.
    pub(crate) packed: Option<PackedLines>,
    /// The sender's lane, when it has several batches in flight; `None`: one at a time.
    pub(crate) lane: Option<Lane>,
    pub(crate) reply: oneshot::Sender<Result<Recorded, RecordError>>,
}

/// A batch handed to the recorder, its answer still to come.
pub(crate) struct Pending(Option<oneshot::Receiver<Result<Recorded, RecordError>>>);

impl Pending {
    /// The batch's answer, once it is durable per the fsync policy and applied.
    pub(crate) async fn answer(self) -> Result<Recorded, RecordError> {
        match self.0 {
            None => Ok(Recorded::default()),
            Some(answer) => answer.await.map_err(|_| RecordError::Stopped)?,
        }
    }
}

/// What ingest sends down [`RecorderHandle`]'s channel.
pub(crate) enum Command {
    Record(Batch),
    /// Record what is queued, sync the journal and stop.
    Stop,
}

/// A handle and the receiving end it feeds: the recorder's thread in single-node mode, the
/// stream publisher in cluster mode (`crate::cluster`). Ingest does not know which.
pub(crate) fn channel() -> (RecorderHandle, mpsc::Receiver<Command>) {
    let (tx, rx) = mpsc::channel(QUEUE_BATCHES);
    (RecorderHandle { tx }, rx)
}

/// The sending side, cloned into every ingest path.
#[derive(Clone)]
pub(crate) struct RecorderHandle {
    tx: mpsc::Sender<Command>,
}

impl RecorderHandle {
    /// Journals and applies `events`; resolves once they are durable per the fsync policy.
    pub(crate) async fn record(&self, events: Vec<Event>) -> Result<Recorded, RecordError> {
        self.submit(events, None, None).await?.answer().await
    }

    /// Queues a batch behind every batch submitted before it and returns without waiting for
    /// its answer, so a sender can have several in flight; `lane` keeps them in order when
    /// one is refused (see [`Lane`]). Waits only while the queue is full.
    pub(crate) async fn submit(
        &self,
        events: Vec<Event>,
        lines: Option<EventLines>,
        lane: Option<Lane>,
    ) -> Result<Pending, RecordError> {
        if events.is_empty() {
            return Ok(Pending(None));
        }
        // Lines out of step with the events are not used (the recorder serialises instead).
        let lines = lines.filter(|l| l.len() == events.len());
        // Compressed here, on the sender's task, beside the recorder's thread (issue 15).
        let packed = lines
            .as_ref()
            .and_then(|l| pack((0..l.len()).map_while(|i| l.line(i))))
            .filter(|p| p.events() as usize == events.len());
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Command::Record(Batch {
                events,
                lines,
                packed,
                lane,
                reply,
            }))
            .await
            .map_err(|_| RecordError::Stopped)?;
        Ok(Pending(Some(answer)))
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
    /// Applies what is journaled to the floor (the code a cluster node applies with too).
    applier: Applier,
    telemetry: Arc<Telemetry>,
    /// Refuses events too far ahead of the clock before they are journaled.
    lookout: Lookout,
    /// Checkpoints of the floor, when they are on (`crate::checkpoint`).
    checkpoints: Option<Checkpointer>,
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
            applier: Applier::new(floor, telemetry.clone(), pulse),
            telemetry,
            lookout,
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
        let (handle, rx) = channel();
        let thread = std::thread::Builder::new()
            .name("recorder".into())
            .spawn(move || self.run(rx))?;
        Ok((handle, thread))
    }

    fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        let mut group = Vec::with_capacity(GROUP_BATCHES);
        let mut buf = JournalBatch::default();
        let litter = Litter::spawn();
        let mut stopping = false;
        while !stopping {
            let Some(first) = rx.blocking_recv() else {
                break;
            };
            stopping = gather(first, &mut rx, &mut group);
            if !group.is_empty() {
                self.record_group(&mut group, &mut buf);
                litter.drop_later(&mut group);
                if let Some(c) = &mut self.checkpoints {
                    let next_seq = self.journal.next_seq();
                    c.after_group(
                        self.applier.floor(),
                        &self.seen,
                        self.lookout.latest(),
                        next_seq,
                    );
                }
            }
        }
        match self.journal.sync() {
            Ok(()) => tracing::info!("journal synced; recorder stopped"),
            Err(e) => tracing::error!(error = %e, "journal sync at shutdown failed"),
        }
        if let Some(c) = &mut self.checkpoints {
            let next_seq = self.journal.next_seq();
            c.at_stop(
                self.applier.floor(),
                &self.seen,
                self.lookout.latest(),
                next_seq,
            );
        }
    }

    fn record_group(&mut self, group: &mut Vec<Batch>, buf: &mut JournalBatch) {
        refuse_after_refused(group);
        if group.is_empty() {
            return;
        }
        // What becomes of each event: new (not journaled before, not earlier in this group,
        // not too far ahead), a duplicate, or refused.
        let mut marks: Vec<Vec<Mark>> = Vec::with_capacity(group.len());
        let mut fps = Vec::new();
        // One event's line, reused: serialised straight into it, no string per event.
        let mut line = Vec::with_capacity(512);
        let lookout_before = self.lookout.clone();
        let wall_now = jiff::Timestamp::now().as_millisecond();
        buf.clear();
        for batch in group.iter_mut() {
            fps.clear();
            fps.extend(batch.events.iter().map(|e| fingerprint(&e.id)));
            self.seen.warm(&fps);
            let mut batch_marks = Vec::with_capacity(batch.events.len());
            for (event, &fp) in batch.events.iter().zip(&fps) {
                let lookout = &mut self.lookout;
                batch_marks.push(mark_known(
                    &mut self.seen,
                    &mut self.days,
                    (event, fp),
                    |e| lookout.admit(e, wall_now),
                ));
            }
            // All new and of one day: the frame the sender compressed is written as it is.
            if let (Some(day), Some(packed)) = (one_new_day(&batch_marks), batch.packed.take()) {
                buf.push_packed(day, packed);
                marks.push(batch_marks);
                continue;
            }
            for (i, (event, mark)) in batch.events.iter().zip(&batch_marks).enumerate() {
                if let Mark::New(_, day) = *mark {
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
                }
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
            // Nothing of the group was accepted: the clock it would have moved stays put, and
            // the ids filed as they were marked are taken back (a resend is new again).
            self.lookout = lookout_before;
            self.seen
                .forget_ids(marks.iter().flatten().filter_map(|m| match m {
                    Mark::New(fp, _) => Some(*fp),
                    _ => None,
                }));
            self.fail_group(group, &e);
            return;
        }

        let replies = self.applier.apply(
            (&mut self.seen, &mut self.days),
            group.iter().map(|b| b.events.as_slice()).zip(marks),
            |_| {
                seq += 1;
                seq - 1
            },
            |_| {},
        );
        self.applier.announce(&replies);
        // Answered, then kept in `group` for the caller to drop (see [`Litter`]).
        for (batch, recorded) in group.iter_mut().zip(replies) {
            let (answered, _) = oneshot::channel();
            let _ = std::mem::replace(&mut batch.reply, answered).send(Ok(recorded));
        }
    }

    fn fail_group(&mut self, group: &mut Vec<Batch>, error: &JournalError) {
        tracing::error!(error = %error, "journal append failed; batches refused");
        refuse(group, &RecordError::Journal(error.to_string()));
    }
}

/// Drops answered batches on a thread of its own: their events were allocated by the ingest
/// tasks, and freeing some ten strings an event took the recorder's thread about as long as
/// applying them (issue 15: `free` and its arena bookkeeping were a tenth of a replay's
/// recorder samples). At most [`LITTER_GROUPS`] groups wait; beyond that (or when the thread
/// could not be started) the recorder drops them itself.
struct Litter(Option<std::sync::mpsc::SyncSender<Vec<Batch>>>);

/// Groups of answered batches waiting to be dropped before the recorder drops its own.
const LITTER_GROUPS: usize = 8;

impl Litter {
    fn spawn() -> Litter {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Batch>>(LITTER_GROUPS);
        let started = std::thread::Builder::new()
            .name("recorder-drop".into())
            .spawn(move || rx.into_iter().for_each(drop));
        Litter(started.ok().map(|_| tx))
    }

    /// Hands the batches of `group` (answered) over to be dropped, leaving it empty.
    fn drop_later(&self, group: &mut Vec<Batch>) {
        if group.is_empty() {
            return;
        }
        let batches = std::mem::replace(group, Vec::with_capacity(GROUP_BATCHES));
        if let Some(tx) = &self.0 {
            // Refused (full, or the thread is gone): the batches come back and drop here.
            let _ = tx.try_send(batches);
        }
    }
}

/// The centre day of `marks` when every one is new and of that one day.
fn one_new_day(marks: &[Mark]) -> Option<jiff::civil::Date> {
    let mut one = None;
    for mark in marks {
        match (mark, one) {
            (Mark::New(_, day), None) => one = Some(*day),
            (Mark::New(_, day), Some(first)) if *day == first => {}
            _ => return None,
        }
    }
    one
}

/// Answers every batch of `group` with `error`; their lanes refuse what follows them.
fn refuse(group: &mut Vec<Batch>, error: &RecordError) {
    for batch in group.drain(..) {
        if let Some(lane) = &batch.lane {
            lane.break_off();
        }
        let _ = batch.reply.send(Err(error.clone()));
    }
}

/// Takes out of `group` the batches of lanes that had a batch refused, answering each
/// [`RecordError::AfterRefused`].
fn refuse_after_refused(group: &mut Vec<Batch>) {
    if !group
        .iter()
        .any(|b| b.lane.as_ref().is_some_and(Lane::is_broken))
    {
        return;
    }
    let (mut refused, kept): (Vec<Batch>, Vec<Batch>) = group
        .drain(..)
        .partition(|b| b.lane.as_ref().is_some_and(Lane::is_broken));
    *group = kept;
    refuse(&mut refused, &RecordError::AfterRefused);
}

/// The UTC date of the wall clock: with `--clock wall`, journal day files named after its
/// tomorrow are strays a start leaves alone.
pub(crate) fn utc_today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

/// Gathers a group after its `first` command: the batches queued behind it (up to
/// [`GROUP_BATCHES`], so one group's sync or publish covers them all), and, once a stop is
/// among them, everything still queued with the channel closed. True when the group ends with
/// a stop. Shared by the recorder's thread and a cluster node's publisher.
pub(crate) fn gather(
    first: Command,
    rx: &mut mpsc::Receiver<Command>,
    group: &mut Vec<Batch>,
) -> bool {
    let mut stopping = false;
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
    stopping
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(lane: &Lane) -> (Batch, oneshot::Receiver<Result<Recorded, RecordError>>) {
        let (reply, answer) = oneshot::channel();
        let event = Event::from_json(
            r#"{"v":1,"id":"e1","source":"sim","seq":1,"ts":1700000000000,"type":"agent_login","agent":"a1"}"#,
        )
        .unwrap();
        let batch = Batch {
            events: vec![event],
            lines: None,
            packed: None,
            lane: Some(lane.clone()),
            reply,
        };
        (batch, answer)
    }

    #[test]
    fn a_refused_batch_refuses_the_later_batches_of_its_lane_only() {
        let (broken, other) = (Lane::default(), Lane::default());
        let (first, mut first_answer) = batch(&broken);
        refuse(
            &mut vec![first],
            &RecordError::Journal("disk full".to_string()),
        );
        assert!(matches!(
            first_answer.try_recv(),
            Ok(Err(RecordError::Journal(_)))
        ));
        assert!(broken.is_broken() && !other.is_broken());

        let (later, mut later_answer) = batch(&broken);
        let (others, mut others_answer) = batch(&other);
        let mut group = vec![later, others];
        refuse_after_refused(&mut group);
        assert_eq!(group.len(), 1, "the other lane's batch is kept");
        assert!(matches!(
            later_answer.try_recv(),
            Ok(Err(RecordError::AfterRefused))
        ));
        assert!(others_answer.try_recv().is_err(), "not answered yet");
    }
}
