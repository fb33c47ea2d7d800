//! The history thread: merges each close of the ledger into the store, off the floor's lock and
//! off the recorder's thread, so a slow disk delays history, never ingest (docs/ARCHITECTURE.md,
//! invariants).
//!
//! A close that cannot be written (a full disk, a locked file) is kept and retried with the next
//! one, merged into a single pending close: its memory is bounded by the scopes and
//! quarter-hours touched, not by how long the disk stays full. Nothing is lost while the server
//! runs; if it stops meanwhile, the resume point in the store is still the last close written,
//! and the restart replays the journal from there.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use floorwatch_core::history::CallDetail;

use super::closed::ClosedIntervals;
use super::store::Store;

/// How often a failing store is reported in the log.
const WARN_EVERY: Duration = Duration::from_secs(60);
/// No close for this long: the writer is idle and gives its page cache back.
const IDLE: Duration = Duration::from_secs(1);
/// Rows a batch of queued closes stops at: ten closes of the large floor, thousands of the
/// small one. The batch holds the closes as they were queued (no copy: what they take in memory
/// is what the queue took), and each close it gathers saves a commit and a write of every day
/// row it names (BENCHMARKS.md, "Sixth pass: history"; the fifth pass stopped at 12,000 rows,
/// two or three large closes, when the batch was one copy of them all).
const GATHER_ROWS: usize = 50_000;
/// A close whose boundary is this far behind the wall clock is a replay's or a start's
/// catch-up (closes back to back): the writer waits for the next one ([`LINGER`]) before it
/// writes, so that one transaction holds many (BENCHMARKS.md, "Seventh pass: history"). A
/// live close (at its boundary, give or take the lateness allowed) is written as it comes.
const PAST_MS: floorwatch_core::Millis = 15 * 60 * 1000;
/// Rows past which a batch stops waiting for more closes (it still takes those queued, up to
/// [`GATHER_ROWS`]): thousands of closes of the small floor, five or six of the large one.
/// Each close a batch gathers saves a commit (the write-ahead log gets every page the batch
/// dirtied once, and a close of the large floor dirties a leaf page per scope), a write of
/// every day row, and a write of the visits and rows it shares with the others
/// (BENCHMARKS.md, "Eighth pass: history"). Waiting holds the closes in memory: a 10,000-row
/// cap (two large closes) held 15-25 MB less right after each large day than no cap
/// ("Seventh pass: history"); 5 s later, once written, the difference is gone.
const LINGER_ROWS: usize = 25_000;
/// How long the writer waits for a replay's next close before writing what it gathered.
const LINGER: Duration = Duration::from_millis(500);
/// How long a replay's close waits in a batch at most (closes that keep coming are written
/// at least this often).
const HOLD: Duration = Duration::from_secs(2);
/// How long a reader waits for the history thread to write what was queued before it
/// ([`HistorySender::flush`]) before it reads the store as it is.
const FLUSH_WAIT: Duration = Duration::from_secs(30);

/// What the floor and the readers send the history thread.
enum Message {
    /// A close of the ledger, to store.
    Close(ClosedIntervals),
    /// A reader's request: answered once every close queued before it is written (or could
    /// not be: the store failing), so that the read finds them.
    Flush(mpsc::SyncSender<()>),
}

/// Where the floor sends each close of the ledger; cheap to clone, never blocks.
#[derive(Debug, Clone)]
pub(crate) struct HistorySender {
    tx: mpsc::Sender<Message>,
    unwritten: Unwritten,
}

/// The call records of every close sent and not yet written, one entry a close, oldest first:
/// a drill-down reads them from the floor before it reads the store, so it reaches the floor's
/// "now" while closes wait in the queue to be written (docs/HISTORY.md, "Calls").
type Unwritten = Arc<Mutex<VecDeque<Arc<Vec<CallDetail>>>>>;

impl HistorySender {
    /// Queues a close for the store. False if the history thread is gone (it logged why).
    pub(crate) fn send(&self, closed: ClosedIntervals) -> bool {
        // Noted and queued under one lock: the list's order is the channel's, which the
        // writer counts closes off by.
        let mut unwritten = self
            .unwritten
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // The records themselves are shared with the close, not copied.
        unwritten.push_back(Arc::clone(&closed.calls));
        if self.tx.send(Message::Close(closed)).is_ok() {
            true
        } else {
            unwritten.clear();
            false
        }
    }

    /// Waits until every close sent before this call is written (the history thread gathers a
    /// replay's closes for up to [`HOLD`] before it writes them): what a report or an export
    /// runs before it reads the store, so that it finds every close the floor made. False if
    /// the history thread is gone or took longer than [`FLUSH_WAIT`] (the read goes on with
    /// the store as it is). Blocks: call it off the async runtime.
    pub(crate) fn flush(&self) -> bool {
        let (reply, written) = mpsc::sync_channel(1);
        if self.tx.send(Message::Flush(reply)).is_err() {
            return false;
        }
        written.recv_timeout(FLUSH_WAIT).is_ok()
    }

    /// The call records of the closes not written yet, a visit's latest record once, oldest
    /// close first.
    pub(crate) fn calls_not_written(&self) -> Vec<CallDetail> {
        let unwritten = self
            .unwritten
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut at: HashMap<&str, usize> = HashMap::new();
        let mut out: Vec<CallDetail> = Vec::new();
        for call in unwritten.iter().flat_map(|calls| calls.iter()) {
            match at.get(call.id.as_str()) {
                Some(&i) => out[i] = call.clone(),
                None => {
                    at.insert(&call.id, out.len());
                    out.push(call.clone());
                }
            }
        }
        out
    }
}

/// Starts the history thread on `store`, keeping `history_days` of rows. It stops when every
/// sender is dropped, after writing what was queued.
pub(crate) fn spawn(
    store: Store,
    history_days: u32,
) -> std::io::Result<(HistorySender, JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel();
    let unwritten = Unwritten::default();
    let written = Arc::clone(&unwritten);
    let thread = std::thread::Builder::new()
        .name("history".into())
        .spawn(move || {
            // Behind the recorder when they compete for a core (crate::priority says why).
            crate::priority::lower_this_thread("history");
            run(store, history_days, rx, &written)
        })?;
    Ok((HistorySender { tx, unwritten }, thread))
}

fn run(
    mut store: Store,
    history_days: u32,
    rx: mpsc::Receiver<Message>,
    unwritten: &Mutex<VecDeque<Arc<Vec<CallDetail>>>>,
) {
    // A close that could not be written, and how many closes it holds.
    let mut pending: Option<(ClosedIntervals, usize)> = None;
    let mut warned: Option<Instant> = None;
    // Rows past retention go at start and then once a UTC day: deleting them scans the store,
    // which is this thread's time, never the start-up's nor ingest's.
    let mut pruned_on = prune(&mut store, history_days);
    let mut cache_held = false;
    loop {
        let closed = match rx.recv_timeout(IDLE) {
            Ok(Message::Close(closed)) => closed,
            Ok(Message::Flush(reply)) => {
                // Nothing gathered: every close before it is written (or pending, which a
                // later close retries).
                let _ = reply.send(());
                continue;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // Closes come back to back only in a replay or a start-up's catch-up: once
                // they stop, the store's page cache goes back.
                if std::mem::take(&mut cache_held) {
                    store.release_cache();
                    // The replay or catch-up that queued them is over too: what it freed
                    // goes back now, not at the next periodic trim (server/src/heap.rs).
                    let rss_bytes = crate::heap::give_back();
                    tracing::debug!(rss_bytes, "history caught up; freed memory given back");
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        cache_held = true;
        if today() != pruned_on {
            pruned_on = prune(&mut store, history_days);
        }
        let (mut batch, mut closes) = match pending.take() {
            Some((earlier, closes)) => (vec![earlier, closed], closes + 1),
            None => (vec![closed], 1),
        };
        // Whatever queued meanwhile goes in the same transaction (and, in a replay, what
        // comes soon after).
        let gathered = gather(&rx, &mut batch);
        closes += gathered.closes;
        match store.merge_all(&batch) {
            Ok(()) => {
                let mut unwritten = unwritten.lock().unwrap_or_else(PoisonError::into_inner);
                let written = closes.min(unwritten.len());
                unwritten.drain(..written);
                drop(unwritten);
                if warned.take().is_some() {
                    tracing::info!("history store written again; nothing was lost");
                }
            }
            Err(e) => {
                if warned.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
                    let rows: usize = batch.iter().map(|c| c.deltas.len()).sum();
                    tracing::error!(error = %e, rows, "history store could not be written; kept in memory and retried with the next interval");
                    warned = Some(Instant::now());
                }
                // Gathered closes may name a row twice: one row each keeps the pending
                // close bounded by the scopes and quarter-hours touched.
                let mut compact = ClosedIntervals::default();
                for closed in batch {
                    compact.absorb(closed);
                }
                pending = Some((compact, closes));
            }
        }
        if let Some(reply) = gathered.flush {
            let _ = reply.send(());
        }
        if !gathered.open {
            break;
        }
    }
    if let Some((batch, _)) = pending
        && let Err(e) = store.merge(&batch)
    {
        tracing::error!(error = %e, "history store could not be written at shutdown; the restart replays the journal from the last interval stored");
    }
}

/// What [`gather`] added to a batch.
struct Gathered {
    /// Closes appended.
    closes: usize,
    /// False when every sender is gone (the floor stopped: write and stop).
    open: bool,
    /// A reader waiting for the batch to be written.
    flush: Option<mpsc::SyncSender<()>>,
}

/// Appends to `batch` the closes queued behind it, up to [`GATHER_ROWS`] rows. A live close
/// is written with what was queued, without waiting; a replay's (its boundary more than
/// [`PAST_MS`] behind the wall clock) waits up to [`LINGER`] for the next close, and [`HOLD`]
/// in all, while the batch has fewer than [`LINGER_ROWS`] rows. A reader's flush ends the
/// batch: it is answered once the batch is written (`wallboard_reports.rs` reads a report
/// right after its replay, and must find every close; the fifth pass waited without a flush
/// and read the day before it was written: BENCHMARKS.md, "Fifth pass: history").
fn gather(rx: &mpsc::Receiver<Message>, batch: &mut Vec<ClosedIntervals>) -> Gathered {
    let started = Instant::now();
    let mut gathered = Gathered {
        closes: 0,
        open: true,
        flush: None,
    };
    let mut rows: usize = batch.iter().map(|c| c.deltas.len()).sum();
    while rows < GATHER_ROWS {
        let message = match rx.try_recv() {
            Ok(message) => message,
            Err(mpsc::TryRecvError::Disconnected) => {
                gathered.open = false;
                break;
            }
            Err(mpsc::TryRecvError::Empty) => {
                let left = HOLD.saturating_sub(started.elapsed());
                if left.is_zero() || rows >= LINGER_ROWS || !batch.last().is_some_and(replayed) {
                    break;
                }
                match rx.recv_timeout(LINGER.min(left)) {
                    Ok(message) => message,
                    Err(mpsc::RecvTimeoutError::Timeout) => break,
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        gathered.open = false;
                        break;
                    }
                }
            }
        };
        match message {
            Message::Close(more) => {
                rows += more.deltas.len();
                batch.push(more);
                gathered.closes += 1;
            }
            Message::Flush(reply) => {
                gathered.flush = Some(reply);
                break;
            }
        }
    }
    gathered
}

/// Whether `closed` is a replay's or a catch-up's: its boundary more than [`PAST_MS`] behind
/// the wall clock.
fn replayed(closed: &ClosedIntervals) -> bool {
    closed.until < jiff::Timestamp::now().as_millisecond() - PAST_MS
}

/// The wall clock's UTC date: retention counts days of the wall clock.
fn today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

/// Deletes rows older than `history_days`; returns the day it did so (a failure is logged and
/// retried the next day: the rows stay, nothing is lost).
fn prune(store: &mut Store, history_days: u32) -> jiff::civil::Date {
    let now = jiff::Timestamp::now().as_millisecond();
    let before = now - i64::from(history_days) * floorwatch_core::time::DAY_MS;
    match store.prune(before) {
        Ok(0) => {}
        Ok(rows) => tracing::info!(
            history_rows = rows,
            history_days,
            "history rows past retention deleted"
        ),
        Err(e) => tracing::error!(error = %e, "history rows past retention could not be deleted"),
    }
    today()
}

#[cfg(test)]
mod tests {
    use floorwatch_core::Scope;
    use floorwatch_core::calendar::CentreCalendar;
    use floorwatch_core::history::{IntervalSums, QUARTER_HOUR_MS};

    use super::*;
    use crate::history::store::ResumePoint;

    /// A replay's close waits in the writer for more ([`LINGER`]), but a reader's flush
    /// returns only once it is written (the store read right after finds it), and a live
    /// close (at the wall clock) is written without one; the thread goes on after both.
    #[test]
    fn a_flush_returns_once_the_closes_before_it_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &CentreCalendar::utc()).unwrap();
        let (sender, thread) = spawn(store, super::super::HISTORY_DAYS).unwrap();
        let queue = Scope::Queue("sales".into());
        let close = |start: i64, seq: u64| {
            let mut s = IntervalSums::default();
            s.tally.answered = 1;
            ClosedIntervals {
                until: start + QUARTER_HOUR_MS,
                through_seq: Some(seq),
                deltas: vec![(queue.clone(), s, start)],
                calls: Default::default(),
            }
        };
        let reader = Store::open_read_only(dir.path()).unwrap();
        // 2026-03-08 00:00Z: a replay's.
        let day = 1_772_928_000_000;
        assert!(replayed(&close(day, 1)));
        assert!(sender.send(close(day, 1)));
        assert!(sender.flush());
        assert_eq!(reader.rows("queue:sales", (day, day + 1)).unwrap().len(), 1);
        // A live close: written without a flush.
        let now = jiff::Timestamp::now().as_millisecond();
        let live = now - now % QUARTER_HOUR_MS - QUARTER_HOUR_MS;
        assert!(!replayed(&close(live, 2)));
        assert!(sender.send(close(live, 2)));
        let started = Instant::now();
        while reader
            .rows("queue:sales", (live, live + 1))
            .unwrap()
            .is_empty()
        {
            assert!(
                started.elapsed() < FLUSH_WAIT,
                "the live close was not written"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        // Nothing queued: a flush returns at once.
        assert!(sender.flush());
        drop(sender);
        thread.join().unwrap();
    }

    /// A replayed day's closes (long before the wall clock) sent back to back, as a replay at
    /// full speed does: all are written, those queued together in one transaction, a row named by every
    /// one of them adds up to all their additions, and the resume point is the last close's,
    /// also when the floor stops right after sending them.
    #[test]
    fn a_replays_closes_are_gathered_and_all_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &CentreCalendar::utc()).unwrap();
        let (sender, thread) = spawn(store, super::super::HISTORY_DAYS).unwrap();
        // 2026-03-08 00:00Z.
        let day = 1_772_928_000_000;
        let queue = Scope::Queue("sales".into());
        let one = || {
            let mut s = IntervalSums::default();
            s.tally.answered = 1;
            s
        };
        let closes = 50;
        for i in 0..closes {
            let start = day + i * QUARTER_HOUR_MS;
            assert!(sender.send(ClosedIntervals {
                until: start + QUARTER_HOUR_MS,
                through_seq: Some(i as u64),
                // This quarter-hour, and a late amendment of the day's first.
                deltas: vec![(queue.clone(), one(), start), (queue.clone(), one(), day)],
                calls: Default::default(),
            }));
        }
        drop(sender);
        thread.join().unwrap();
        let store = Store::open(dir.path(), &CentreCalendar::utc()).unwrap();
        let rows = store
            .rows("queue:sales", (day, day + closes * QUARTER_HOUR_MS))
            .unwrap();
        let answered: Vec<u64> = rows.iter().map(|(_, r)| r.tally.answered).collect();
        let mut expected = vec![1; closes as usize];
        expected[0] = 1 + closes as u64;
        assert_eq!(answered, expected);
        assert_eq!(
            store.resume_point().unwrap(),
            Some(ResumePoint {
                closed_until: day + closes * QUARTER_HOUR_MS,
                through_seq: Some(closes as u64 - 1),
            })
        );
    }
}
