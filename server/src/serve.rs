//! The HTTP server's own accept loop, in place of `axum::serve`, which has no header read
//! timeout: one client holding a thousand half-sent requests (slowloris) would otherwise hold
//! a thousand file descriptors until the process runs out (docs/SECURITY.md, "Connections").
//!
//! Each accepted connection runs in its own task: the TLS handshake (bounded by
//! [`crate::tls::HANDSHAKE_TIMEOUT`], never on the accept loop, so a slow handshake cannot hold
//! up the next accept), then hyper's HTTP/1.1 with upgrades (websockets) serving the router.
//! What the connection may do is bounded by [`Limits`]:
//!
//! - **idle**: waiting for the first byte of a request (a new connection, or a kept-alive one
//!   between requests) with nothing sent either way for `idle` closes the connection;
//! - **header**: from the first byte of a request head to its end, at most `header`;
//! - **body**: a request body must have arrived `body` after its head ([`DeadlineBody`]; the
//!   handler that reads it answers 408);
//! - **per address**: at most `per_address` connections at once from one client address (an
//!   IPv6 client counts as its /64); one more is closed at once. An upgraded websocket counts
//!   for as long as it is open.
//!
//! A request being handled is never timed out here: its handler bounds its own work.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::ConnectInfo;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Sleep;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::tls::{Connection, HANDSHAKE_TIMEOUT};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long connections may take, and how many one address may hold (`--header-timeout-ms`,
/// `--body-timeout-ms`, `--idle-connection-timeout-ms`, `--max-connections-per-address`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) header: Duration,
    pub(crate) body: Duration,
    pub(crate) idle: Duration,
    /// 0: no cap (behind a reverse proxy every client has the proxy's address).
    pub(crate) per_address: usize,
}

/// After shutdown starts, connections still busy get this long to finish their requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// After an accept error that is not about one connection (out of file descriptors), the loop
/// waits this long before trying again, rather than spinning on the error.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// Refused connections and accept errors are logged at `warn` at most this often (each at
/// `debug`), so a flood cannot flood the log too.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` (with TLS when `tls` is given) until `shutdown` completes;
/// then stops accepting, lets each connection finish its request in flight (a graceful
/// HTTP/1.1 close) and returns once they are done or [`SHUTDOWN_GRACE`] has passed. Upgraded
/// websockets are not waited for: they watch the server's shutdown channel themselves.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let peers = Arc::new(PeerCounts::new(limits.per_address));
    let mut accept_warnings = RateLimitedWarning::default();
    // Each connection task holds a sender; when all are gone, `recv` answers `None`.
    let (alive, mut all_done) = mpsc::channel::<()>(1);
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    tracing::debug!(error = %e, "accepting a connection failed");
                    if let Some(count) = accept_warnings.due() {
                        tracing::warn!(error = %e, failures = count, "accepting connections fails; retrying");
                    }
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = peers.admit(peer.ip()) else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(
            stream,
            peer,
            slot,
            tls.clone(),
            router.clone(),
            limits,
            stopping.clone(),
            alive.clone(),
        ));
    }
    drop(listener);
    let _ = stop.send(true);
    drop(alive);
    if tokio::time::timeout(SHUTDOWN_GRACE, all_done.recv())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_s = SHUTDOWN_GRACE.as_secs(),
            "connections still busy after the shutdown grace; closing them"
        );
    }
}

/// Errors about one connection (it went away while being accepted): nothing to wait for.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// One connection, from its TLS handshake to its close (or its upgrade).
#[allow(clippy::too_many_arguments)]
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    slot: Slot,
    tls: Option<TlsAcceptor>,
    router: Router,
    limits: Limits,
    mut stopping: watch::Receiver<bool>,
    _alive: mpsc::Sender<()>,
) {
    let io = match tls {
        None => Connection::Plain(stream),
        Some(acceptor) => {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => Connection::Tls(Box::new(tls)),
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            }
        }
    };
    let activity = Arc::new(Activity::new());
    let io = Watched {
        inner: io,
        activity: activity.clone(),
        _slot: slot,
    };
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let in_flight = activity.request_started();
            let (mut parts, body) = request.into_parts();
            parts.extensions.insert(ConnectInfo(peer));
            let body = axum::body::Body::new(DeadlineBody::new(body, limits.body));
            let request = hyper::Request::from_parts(parts, body);
            let router = router.clone();
            async move {
                let response = router.oneshot(request).await;
                drop(in_flight);
                response
            }
        })
    };
    let conn = http1::Builder::new()
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(conn);
    let mut shutting_down = false;
    loop {
        let wake = match activity.check(&limits) {
            Ok(wake) => wake,
            Err(expired) => {
                tracing::debug!(%peer, reason = expired.as_str(), "connection closed");
                return;
            }
        };
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            () = tokio::time::sleep_until(wake.into()) => {}
            () = activity.changed.notified() => {}
            _ = stopping.changed(), if !shutting_down => {
                shutting_down = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Why a connection was closed by its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expired {
    Header,
    Idle,
}

impl Expired {
    fn as_str(self) -> &'static str {
        match self {
            Expired::Header => "the request head took longer than the header timeout",
            Expired::Idle => "idle for longer than the idle connection timeout",
        }
    }
}

/// What a connection has been doing, shared by its socket ([`Watched`]) and its requests.
/// Times are milliseconds since `epoch`.
struct Activity {
    epoch: Instant,
    /// The last byte read or written.
    last_io: AtomicU64,
    /// 1 + the time the first byte of a request head arrived; 0 while none is arriving.
    head_since: AtomicU64,
    /// Requests handed to the router and not yet answered.
    in_flight: AtomicU32,
    /// Wakes the connection's watchdog when its deadline moves closer (a head started, a
    /// request was answered).
    changed: Notify,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            epoch: Instant::now(),
            last_io: AtomicU64::new(0),
            head_since: AtomicU64::new(0),
            in_flight: AtomicU32::new(0),
            changed: Notify::new(),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn read(&self) {
        let now = self.now();
        self.last_io.store(now, Ordering::Relaxed);
        if self.in_flight.load(Ordering::Acquire) == 0 {
            // Bytes while no request is in flight start the next request's head.
            let started = self.head_since.compare_exchange(
                0,
                now.saturating_add(1),
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
            if started.is_ok() {
                self.changed.notify_one();
            }
        }
    }

    fn wrote(&self) {
        self.last_io.store(self.now(), Ordering::Relaxed);
    }

    /// The head is complete: the router has the request until the guard is dropped.
    fn request_started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_since.store(0, Ordering::Release);
        InFlight(self.clone())
    }

    /// When to look again, or why the connection must close now.
    fn check(&self, limits: &Limits) -> Result<Instant, Expired> {
        let now = self.now();
        let at = |ms: u64| self.epoch + Duration::from_millis(ms);
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Ok(at(now) + limits.idle.min(limits.header));
        }
        let head = self.head_since.load(Ordering::Acquire);
        let (since, limit, expired) = if head > 0 {
            (head - 1, limits.header, Expired::Header)
        } else {
            (
                self.last_io.load(Ordering::Relaxed),
                limits.idle,
                Expired::Idle,
            )
        };
        let limit = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
        let deadline = since.saturating_add(limit);
        if now >= deadline {
            Err(expired)
        } else {
            Ok(at(deadline))
        }
    }
}

/// A request the router is handling; dropped when it answered.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.wrote();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.0.changed.notify_one();
    }
}

/// The client's socket, noting each read and write in its [`Activity`] and holding its place
/// in the per-address count until it closes (after an upgrade too).
struct Watched {
    inner: Connection,
    activity: Arc<Activity>,
    _slot: Slot,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.read();
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.wrote();
        }
        poll
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.wrote();
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// A request body that must have arrived by a deadline set when its head did: a client
/// sending its body a byte at a time holds nothing for long.
pub(crate) struct DeadlineBody<B> {
    inner: B,
    deadline: tokio::time::Instant,
    limit: Duration,
    /// Made only once the body is waited for: most requests have none.
    sleep: Option<Pin<Box<Sleep>>>,
}

impl<B> DeadlineBody<B> {
    pub(crate) fn new(inner: B, limit: Duration) -> DeadlineBody<B> {
        DeadlineBody {
            inner,
            deadline: tokio::time::Instant::now() + limit,
            limit,
            sleep: None,
        }
    }
}

/// The body did not arrive within the body timeout ([`crate::http::error::ApiError::from_body_rejection`]
/// answers 408 for it).
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {} ms (--body-timeout-ms)", .0.as_millis())]
pub(crate) struct BodyTimeout(pub Duration);

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimeout(this.limit))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Open connections per client address.
struct PeerCounts {
    cap: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
    warnings: Mutex<RateLimitedWarning>,
}

/// A connection's place in [`PeerCounts`], given back when dropped.
struct Slot {
    peers: Arc<PeerCounts>,
    key: IpAddr,
}

impl PeerCounts {
    fn new(cap: usize) -> PeerCounts {
        PeerCounts {
            cap,
            open: Mutex::new(HashMap::new()),
            warnings: Mutex::new(RateLimitedWarning::default()),
        }
    }

    /// A place for one more connection from `ip`, or `None` (logged) when it holds the cap.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let key = crate::accounts::login::client_network(ip);
        {
            let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
            let count = open.entry(key).or_insert(0);
            if self.cap == 0 || *count < self.cap {
                *count += 1;
                return Some(Slot {
                    peers: self.clone(),
                    key,
                });
            }
        }
        tracing::debug!(peer = %ip, cap = self.cap, "connection refused: the address holds the most connections allowed");
        let due = self
            .warnings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .due();
        if let Some(refused) = due {
            tracing::warn!(
                peer = %ip,
                cap = self.cap,
                refused,
                "connections refused: an address holds the most connections allowed \
                 (--max-connections-per-address)"
            );
        }
        None
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.peers.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// Counts occurrences and says when a warning about them is due (at most every
/// [`WARN_EVERY`]), with how many there were since the last one.
#[derive(Debug, Default)]
struct RateLimitedWarning {
    last: Option<Instant>,
    count: u64,
}

impl RateLimitedWarning {
    fn due(&mut self) -> Option<u64> {
        self.count += 1;
        let now = Instant::now();
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < WARN_EVERY)
        {
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.count))
    }
}

#[cfg(test)]
mod tests;
