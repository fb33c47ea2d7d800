//! The history thread: merges each close of the ledger into the store, off the floor's lock and
//! off the recorder's thread, so a slow disk delays history, never ingest (docs/ARCHITECTURE.md,
//! invariants).
//!
//! A close that cannot be written (a full disk, a locked file) is kept and retried with the next
//! one, merged into a single pending close: its memory is bounded by the scopes and
//! quarter-hours touched, not by how long the disk stays full. Nothing is lost while the server
//! runs; if it stops meanwhile, the resume point in the store is still the last close written,
//! and the restart replays the journal from there.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::closed::ClosedIntervals;
use super::store::Store;

/// How often a failing store is reported in the log.
const WARN_EVERY: Duration = Duration::from_secs(60);
/// No close for this long: the writer is idle and gives its page cache back.
const IDLE: Duration = Duration::from_secs(1);

/// Where the floor sends each close of the ledger; cheap to clone, never blocks.
#[derive(Debug, Clone)]
pub(crate) struct HistorySender {
    tx: mpsc::Sender<ClosedIntervals>,
}

impl HistorySender {
    /// Queues a close for the store. False if the history thread is gone (it logged why).
    pub(crate) fn send(&self, closed: ClosedIntervals) -> bool {
        self.tx.send(closed).is_ok()
    }
}

/// Starts the history thread on `store`, keeping `history_days` of rows. It stops when every
/// sender is dropped, after writing what was queued.
pub(crate) fn spawn(
    store: Store,
    history_days: u32,
) -> std::io::Result<(HistorySender, JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("history".into())
        .spawn(move || run(store, history_days, rx))?;
    Ok((HistorySender { tx }, thread))
}

fn run(mut store: Store, history_days: u32, rx: mpsc::Receiver<ClosedIntervals>) {
    let mut pending: Option<ClosedIntervals> = None;
    let mut warned: Option<Instant> = None;
    // Rows past retention go at start and then once a UTC day: deleting them scans the store,
    // which is this thread's time, never the start-up's nor ingest's.
    let mut pruned_on = prune(&mut store, history_days);
    let mut cache_held = false;
    loop {
        let closed = match rx.recv_timeout(IDLE) {
            Ok(closed) => closed,
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
        let mut batch = match pending.take() {
            Some(mut earlier) => {
                earlier.absorb(closed);
                earlier
            }
            None => closed,
        };
        // Whatever queued meanwhile goes in the same transaction.
        while let Ok(more) = rx.try_recv() {
            batch.absorb(more);
        }
        match store.merge(&batch) {
            Ok(()) => {
                if warned.take().is_some() {
                    tracing::info!("history store written again; nothing was lost");
                }
            }
            Err(e) => {
                if warned.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
                    tracing::error!(error = %e, rows = batch.deltas.len(), "history store could not be written; kept in memory and retried with the next interval");
                    warned = Some(Instant::now());
                }
                pending = Some(batch);
            }
        }
    }
    if let Some(batch) = pending
        && let Err(e) = store.merge(&batch)
    {
        tracing::error!(error = %e, "history store could not be written at shutdown; the restart replays the journal from the last interval stored");
    }
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
