//! A live client's writer: sends what the publisher queued for it, numbering frames with
//! `seq`, plus a heartbeat when nothing was sent for a while; closes the socket on shutdown,
//! when the publisher kicks the client out, or once its credential stopped working.
//!
//! Invariant: a frame made stale by a resync is never sent; a socket that takes no frame for
//! the slow-client timeout is dropped.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use tokio::sync::{Notify, mpsc};

use super::client::Generation;
use super::frame::{self, Outgoing};
use crate::recorder::Pulse;
use crate::shutdown::Shutdown;
use crate::telemetry::{DropReason, Telemetry};

/// How long a closing frame may take before the socket is simply dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
/// The close code when the client's session or token stopped working (an application code:
/// 4000-4999; "401" as in HTTP).
const SIGNED_OUT: u16 = floorwatch_core::wire::SIGNED_OUT_CLOSE;
/// Most frames written together when several are queued: a snapshot and the delta behind it
/// go out in one write, and a long queue still yields to other clients between writes.
const BATCH_FRAMES: usize = 8;

/// What a client's [`Writer`] shares with the publisher.
pub(crate) struct WriterParts {
    rx: mpsc::Receiver<Outgoing>,
    generation: Generation,
    kick: Arc<Notify>,
}

impl WriterParts {
    pub(super) fn new(
        rx: mpsc::Receiver<Outgoing>,
        generation: Generation,
        kick: Arc<Notify>,
    ) -> WriterParts {
        WriterParts {
            rx,
            generation,
            kick,
        }
    }
}

/// The writing half of one live connection.
pub(crate) struct Writer {
    parts: WriterParts,
    shutdown: Shutdown,
    telemetry: Arc<Telemetry>,
    pulse: Arc<Pulse>,
    heartbeat: Duration,
    slow_client_timeout: Duration,
}

impl Writer {
    /// A writer for the client `parts` came from; it sends a heartbeat after `heartbeat`
    /// without a frame and gives up on a socket that takes none for `slow_client_timeout`.
    pub(crate) fn new(
        parts: WriterParts,
        shutdown: Shutdown,
        telemetry: Arc<Telemetry>,
        pulse: Arc<Pulse>,
        heartbeat: Duration,
        slow_client_timeout: Duration,
    ) -> Writer {
        Writer {
            parts,
            shutdown,
            telemetry,
            pulse,
            heartbeat,
            slow_client_timeout,
        }
    }

    /// Writes until the socket, the queue or the server ends, or `signed_out` resolves (with
    /// the reason sent to the client before it is closed with 4401).
    pub(crate) async fn run(
        mut self,
        mut sink: SplitSink<WebSocket, Message>,
        signed_out: impl std::future::Future<Output = String>,
    ) {
        tokio::pin!(signed_out);
        let telemetry = self.telemetry.clone();
        let mut seq = 0u64;
        // One timer for the heartbeat, moved on after each send (not a new one a frame).
        let heartbeat = tokio::time::sleep(self.heartbeat);
        tokio::pin!(heartbeat);
        if self.shutdown.is_shutdown() {
            close(&mut sink, close_code::AWAY, "server shutting down").await;
            return;
        }
        let mut texts: Vec<String> = Vec::new();
        loop {
            texts.clear();
            tokio::select! {
                biased;
                () = self.shutdown.recv() => {
                    close(&mut sink, close_code::AWAY, "server shutting down").await;
                    return;
                }
                () = self.parts.kick.notified() => {
                    close(&mut sink, close_code::POLICY, "too slow: fell behind for too long").await;
                    return;
                }
                why = &mut signed_out => {
                    seq += 1;
                    let text = frame::error(seq, format!("signed out: {why}"));
                    let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.send(Message::Text(text.into()))).await;
                    tracing::debug!(reason = %why, "live client signed out");
                    close(&mut sink, SIGNED_OUT, "signed out").await;
                    return;
                }
                item = self.parts.rx.recv() => match item {
                    None => return,
                    Some(item) => {
                        texts.extend(self.render(item, &mut seq));
                        // Whatever else is queued goes out in the same write.
                        while texts.len() < BATCH_FRAMES
                            && let Ok(item) = self.parts.rx.try_recv()
                        {
                            texts.extend(self.render(item, &mut seq));
                        }
                    }
                },
                () = &mut heartbeat => {
                    seq += 1;
                    texts.push(frame::heartbeat(seq, self.pulse.clock()));
                }
            };
            if texts.is_empty() {
                continue;
            }
            let frames = texts.len();
            let sent = tokio::time::timeout(self.slow_client_timeout, async {
                for text in texts.drain(..) {
                    sink.feed(Message::Text(text.into())).await?;
                }
                sink.flush().await
            })
            .await;
            match sent {
                Ok(Ok(())) => {
                    for _ in 0..frames {
                        telemetry.frame_sent();
                    }
                    heartbeat
                        .as_mut()
                        .reset(tokio::time::Instant::now() + self.heartbeat);
                }
                Ok(Err(_)) => return,
                Err(_) => {
                    telemetry.slow_clients_disconnected.inc();
                    tracing::info!(
                        "live client disconnected: its socket took no frame for the slow-client timeout"
                    );
                    return;
                }
            }
        }
    }

    /// The text of a queued frame, numbered; `None` for a frame made stale by a resync (it is
    /// dropped unsent and takes no `seq`).
    fn render(&self, item: Outgoing, seq: &mut u64) -> Option<String> {
        match item {
            Outgoing::Shared {
                generation,
                kind,
                body,
            } => {
                if self.parts.generation.is_stale(generation) {
                    self.telemetry.frame_dropped(DropReason::Stale);
                    return None;
                }
                *seq += 1;
                Some(frame::render(kind, *seq, &body))
            }
            Outgoing::Error { message } => {
                *seq += 1;
                Some(frame::error(*seq, message))
            }
        }
    }
}

async fn close(sink: &mut SplitSink<WebSocket, Message>, code: u16, reason: &'static str) {
    let frame = Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }));
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.send(frame)).await;
}
