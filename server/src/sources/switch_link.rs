//! What the two phone-switch sources (`asterisk-ami`, `freeswitch-esl`) share: a TCP link kept
//! up with exponential back-off, a connection that decodes what it reads and keeps what came
//! after an awaited reply, an estimate of the switch's clock, and malformed input counted and
//! reported without flooding the log. Each source keeps only its protocol: the handshake, the
//! resync and how a message maps to events (docs/CTI.md, "Sources").

use std::time::{Duration, Instant};

use floorwatch_core::Millis;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::context::SourceContext;
use crate::telemetry::EventOutcome;

/// Malformed messages reported at `warn` per connection; the rest at `debug`, so a switch
/// that sends garbage cannot flood the log.
const MALFORMED_WARNINGS: u64 = 20;
/// Bytes read from the socket at once.
const READ_BUFFER: usize = 64 * 1024;

/// How a session with the switch ended.
pub(super) enum Ended {
    Shutdown,
    Lost {
        reason: String,
        /// It got as far as the resync (the back-off starts afresh).
        synced: bool,
    },
}

/// A session lost before its resync.
pub(super) fn lost(reason: impl Into<String>) -> Ended {
    Ended::Lost {
        reason: reason.into(),
        synced: false,
    }
}

/// This run of the server's number: its start time in ms. Each run numbers its events anew;
/// the number keeps them apart from the journal's (the mappers' `with_run`).
pub(super) fn run_number() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// One protocol's session with the switch: connect, handshake and resync, then stream until
/// the link or the server goes.
pub(super) trait SwitchSession {
    /// The source's name in logs and counters (`ami:NAME`, `esl:NAME`).
    fn source(&self) -> &str;
    async fn session(&mut self, context: &mut SourceContext) -> Ended;
}

/// When to try again after a lost link: `min` at first and after a session that got as far as
/// its resync, doubling up to `max` while the switch stays away.
#[derive(Debug, Clone, Copy)]
pub(super) struct Backoff {
    pub(super) min: Duration,
    pub(super) max: Duration,
}

/// Runs `link`'s sessions until shutdown, reconnecting with `backoff`. `protocol` names the
/// link in the log (`AMI`, `ESL`).
pub(super) async fn keep_connected(
    link: &mut impl SwitchSession,
    protocol: &'static str,
    backoff: Backoff,
    context: &mut SourceContext,
) {
    let mut delay = backoff.min;
    loop {
        match link.session(context).await {
            Ended::Shutdown => return,
            Ended::Lost { reason, synced } => {
                if synced {
                    delay = backoff.min;
                }
                tracing::warn!(
                    source = %link.source(),
                    protocol,
                    %reason,
                    retry_in_ms = delay.as_millis() as u64,
                    "switch link down; reconnecting"
                );
            }
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = context.shutdown.recv() => return,
        }
        delay = (delay * 2).min(backoff.max);
    }
}

/// A protocol's incremental decoder: bytes in, messages (or one message's error) out.
pub(super) trait Decoder {
    type Message;
    type Error;
    fn feed(&mut self, bytes: &[u8]);
    fn next(&mut self) -> Option<Result<Self::Message, Self::Error>>;
}

impl Decoder for floorwatch_core::ami::AmiDecoder {
    type Message = floorwatch_core::ami::AmiMessage;
    type Error = floorwatch_core::ami::AmiError;
    fn feed(&mut self, bytes: &[u8]) {
        floorwatch_core::ami::AmiDecoder::feed(self, bytes);
    }
    fn next(&mut self) -> Option<Result<Self::Message, Self::Error>> {
        self.next_message()
    }
}

impl Decoder for floorwatch_core::esl::EslDecoder {
    type Message = floorwatch_core::esl::EslFrame;
    type Error = floorwatch_core::esl::EslError;
    fn feed(&mut self, bytes: &[u8]) {
        floorwatch_core::esl::EslDecoder::feed(self, bytes);
    }
    fn next(&mut self) -> Option<Result<Self::Message, Self::Error>> {
        self.next_frame()
    }
}

/// What one read of the connection decoded.
pub(super) type Decoded<D> = Vec<Result<<D as Decoder>::Message, <D as Decoder>::Error>>;

/// One TCP connection to the switch.
pub(super) struct Connection<D: Decoder> {
    stream: TcpStream,
    pub(super) decoder: D,
    buf: Vec<u8>,
    /// Decoded but not handled yet (what came after an awaited reply in the same read).
    pub(super) pending: Decoded<D>,
}

impl<D: Decoder> Connection<D> {
    /// Connects to `address` within `timeout`.
    pub(super) async fn open(
        address: &str,
        timeout: Duration,
        decoder: D,
    ) -> Result<Connection<D>, Ended> {
        let stream = match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => return Err(lost(format!("cannot connect to {address}: {e}"))),
            Err(_) => return Err(lost(format!("connecting to {address} timed out"))),
        };
        // Small commands and replies: no reason to wait for Nagle.
        let _ = stream.set_nodelay(true);
        Ok(Connection {
            stream,
            decoder,
            buf: vec![0; READ_BUFFER],
            pending: Vec::new(),
        })
    }

    pub(super) async fn send(&mut self, bytes: &[u8]) -> Result<(), Ended> {
        self.stream
            .write_all(bytes)
            .await
            .map_err(|e| lost(format!("write failed: {e}")))
    }

    /// The messages left from the last read, else reads once: the decoded messages (or
    /// messages' errors). `Err` when the switch closed. Cancel-safe: nothing is lost if the
    /// future is dropped while it waits.
    pub(super) async fn read(&mut self) -> Result<Decoded<D>, Ended> {
        if !self.pending.is_empty() {
            return Ok(std::mem::take(&mut self.pending));
        }
        let n = self
            .stream
            .read(&mut self.buf)
            .await
            .map_err(|e| lost(format!("read failed: {e}")))?;
        if n == 0 {
            return Err(lost("the switch closed the connection"));
        }
        self.decoder.feed(&self.buf[..n]);
        Ok(std::iter::from_fn(|| self.decoder.next()).collect())
    }
}

/// The estimate of the switch's clock: the latest time it reported, plus the wall time since;
/// this machine's clock until it reports one. So a day replayed fast by a test switch is timed
/// as the switch says.
#[derive(Debug, Default)]
pub(super) struct SwitchClock {
    last: Option<(Millis, Instant)>,
}

impl SwitchClock {
    /// The switch reported `ts`; an earlier time than one already seen is kept out.
    pub(super) fn saw(&mut self, ts: Millis) {
        if self.last.is_none_or(|(t, _)| ts >= t) {
            self.last = Some((ts, Instant::now()));
        }
    }

    pub(super) fn now(&self) -> Millis {
        match self.last {
            Some((ts, at)) => ts + at.elapsed().as_millis() as Millis,
            None => jiff::Timestamp::now().as_millisecond(),
        }
    }
}

/// Malformed messages of one connection: each is counted as a rejected event and logged, the
/// first [`MALFORMED_WARNINGS`] at `warn`.
#[derive(Debug, Default)]
pub(super) struct Malformed {
    count: u64,
}

impl Malformed {
    /// A new connection starts counting again.
    pub(super) fn reset(&mut self) {
        self.count = 0;
    }

    pub(super) fn skipped(
        &mut self,
        source: &str,
        context: &SourceContext,
        error: &dyn std::fmt::Display,
    ) {
        self.count += 1;
        context
            .telemetry
            .count_events(source, EventOutcome::Rejected, 1);
        if self.count <= MALFORMED_WARNINGS {
            tracing::warn!(%source, %error, "skipped a malformed message from the switch");
        } else {
            tracing::debug!(%source, %error, "skipped a malformed message from the switch");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switch_clock_runs_on_from_the_last_time_reported() {
        let mut clock = SwitchClock::default();
        let wall = jiff::Timestamp::now().as_millisecond();
        assert!(
            (clock.now() - wall).abs() < 5_000,
            "wall time until a timestamp"
        );
        clock.saw(1_773_000_000_000);
        clock.saw(1_772_000_000_000); // older: kept out
        let now = clock.now();
        assert!(
            (1_773_000_000_000..1_773_000_005_000).contains(&now),
            "{now}"
        );
    }
}
