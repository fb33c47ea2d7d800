//! Graceful shutdown, one way for every task (as in tokio's mini-redis, `shutdown.rs`): the
//! start-up code holds the [`Trigger`]; every task that must stop holds its own [`Shutdown`]
//! and selects on [`Shutdown::recv`] next to its work.
//!
//! Invariant: once [`Trigger::fire`] was called (or the trigger dropped), every
//! [`Shutdown::recv`] returns at once, however late the task asks, and keeps returning.

use tokio::sync::watch;

/// The one that starts the shutdown (the server's `run`, on SIGTERM or Ctrl-C).
#[derive(Debug)]
pub(crate) struct Trigger(watch::Sender<bool>);

impl Trigger {
    /// A trigger nobody has fired yet.
    pub(crate) fn new() -> Trigger {
        Trigger(watch::Sender::new(false))
    }

    /// A listener for a task.
    pub(crate) fn subscribe(&self) -> Shutdown {
        Shutdown {
            is_shutdown: *self.0.borrow(),
            notify: self.0.subscribe(),
        }
    }

    /// Tells every listener to stop.
    pub(crate) fn fire(&self) {
        self.0.send_replace(true);
    }
}

/// A task's view of the shutdown: [`recv`](Shutdown::recv) completes once it began.
#[derive(Debug, Clone)]
pub(crate) struct Shutdown {
    is_shutdown: bool,
    notify: watch::Receiver<bool>,
}

impl Shutdown {
    /// Whether the shutdown began (without waiting).
    pub(crate) fn is_shutdown(&self) -> bool {
        self.is_shutdown || *self.notify.borrow()
    }

    /// Waits until the shutdown began (at once if it already did). Cancel-safe: fit for a
    /// `select!` arm in a loop.
    pub(crate) async fn recv(&mut self) {
        if self.is_shutdown {
            return;
        }
        // An error means the trigger is gone: nobody is left to say stop, so stop.
        let _ = self.notify.wait_for(|stop| *stop).await;
        self.is_shutdown = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_listener_stops_however_late_it_asks() {
        let trigger = Trigger::new();
        let mut early = trigger.subscribe();
        assert!(!early.is_shutdown());
        trigger.fire();
        early.recv().await;
        early.recv().await;
        let mut late = trigger.subscribe();
        assert!(late.is_shutdown());
        late.recv().await;
        drop(trigger);
        early.recv().await;
    }

    #[tokio::test]
    async fn a_dropped_trigger_stops_everyone() {
        let trigger = Trigger::new();
        let mut listener = trigger.subscribe();
        drop(trigger);
        listener.recv().await;
        assert!(listener.is_shutdown());
    }
}
