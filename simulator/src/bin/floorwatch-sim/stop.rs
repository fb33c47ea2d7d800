//! Stopping a run with Ctrl-C: the batch in flight finishes and the summary is printed, instead
//! of the process dying mid-request. Shared by the pacing loop and the ingest client's waits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Set by Ctrl-C: the run stops after the batch in flight and prints its summary.
#[derive(Clone, Default)]
pub(crate) struct Stop {
    flag: Arc<AtomicBool>,
    notify: Arc<tokio::sync::Notify>,
}

impl Stop {
    pub(crate) fn watch_ctrl_c() -> Stop {
        let stop = Stop::default();
        let s = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                s.flag.store(true, Ordering::SeqCst);
                s.notify.notify_waiters();
            }
        });
        stop
    }

    pub(crate) fn requested(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Sleeps, waking early when a stop is requested.
    pub(crate) async fn sleep(&self, d: Duration) {
        if self.requested() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = self.notify.notified() => {}
        }
    }
}
