//! The recorder: the one place events enter the floor. Batches from every source (HTTP, the
//! ingest websocket, the demo simulator) queue here; a dedicated thread drops ids it has seen,
//! appends the rest to the journal (synced per the policy), applies them to the floor in
//! journal order, and only then answers each batch.
//!
//! Batches that arrive while the disk is busy are written together (group commit): one sync
//! covers them all, which is what lets a synced journal keep up with tens of thousands of
//! events per second.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use floorwatch_core::Event;
use tokio::sync::{mpsc, oneshot};

use crate::apply::{Applier, Mark, mark};
use crate::checkpoint::schedule::Checkpointer;
use crate::event_lines::EventLines;
use crate::floor::SharedFloor;
use crate::horizon::Lookout;
use crate::journal::{CentreDays, Journal, JournalBatch, JournalError};
use crate::seen_ids::SeenIds;
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
}

/// One batch of events handed to the recorder (or a cluster node's publisher), with where its
/// answer goes.
pub(crate) struct Batch {
    pub(crate) events: Vec<Event>,
    /// Each event's journal line, when the source already has it (HTTP and websocket ingest);
    /// `None`: the recorder serialises each event itself. A cluster node's publisher makes its
    /// own messages and leaves them.
    pub(crate) lines: Option<EventLines>,
    pub(crate) reply: oneshot::Sender<Result<Recorded, RecordError>>,
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
        let lines = lines.filter(|l| l.len() == events.len());
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
        let mut stopping = false;
        while !stopping {
            let Some(first) = rx.blocking_recv() else {
                break;
            };
            stopping = gather(first, &mut rx, &mut group);
            if !group.is_empty() {
                self.record_group(&mut group, &mut buf);
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
                let lookout = &mut self.lookout;
                let mark = mark(&self.seen, &mut in_group, &mut self.days, event, |e| {
                    lookout.admit(e, wall_now)
                });
                if let Mark::New(_, day) = mark {
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
        for (batch, recorded) in group.drain(..).zip(replies) {
            let _ = batch.reply.send(Ok(recorded));
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
