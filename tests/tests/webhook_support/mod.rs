//! A webhook receiver for tests: an axum server in the test process on 127.0.0.1:0 (plain HTTP,
//! or HTTPS with a certificate made at start) that logs every request (batch, Idempotency-Key,
//! the cluster node that sent it, body) and answers as told: 200, a planned status, 503 while
//! "down", or never (a held request: its sender hangs between claim and delivery, as a node
//! killed mid-send does).
//!
//! Shared by the alert webhook tests and the cluster tests (one receiver, not three copies).

#![allow(dead_code)] // Each test file uses its own part of the kit.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post as post_route;
use serde_json::Value;

/// What [`Request::status`] says of a request held without an answer.
pub const HELD: u16 = 0;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Request {
    /// `X-Floorwatch-Batch`.
    pub batch: String,
    /// `Idempotency-Key`.
    pub idempotency_key: String,
    /// `X-Floorwatch-Node` (cluster mode: who sent it).
    pub node: String,
    pub content_type: String,
    pub body: Value,
    /// What the receiver answered; [`HELD`]: nothing (held until its sender went away).
    pub status: u16,
}

/// Which requests are held without an answer.
#[derive(Debug, Clone, Default)]
pub enum Hold {
    /// None.
    #[default]
    Nothing,
    /// The first request of all.
    First,
    /// The first request from a node other than this one (its `X-Floorwatch-Node`).
    FirstNotFrom(String),
}

#[derive(Default)]
struct Log {
    requests: Vec<Request>,
    /// Statuses to answer next, in order; 200 once empty (unless `down`).
    plan: VecDeque<u16>,
    /// Answer 503 to everything.
    down: bool,
    hold: Hold,
}

/// A webhook receiver; stops when dropped.
pub struct Receiver {
    /// Where to POST: `http(s)://127.0.0.1:PORT/hook`.
    pub url: String,
    log: Arc<Mutex<Log>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// A plain-HTTP receiver answering `plan`'s statuses first, then 200. Runs on the current
    /// tokio runtime (from synchronous code: `runtime.block_on(Receiver::start(..))` on a
    /// multi-threaded runtime that outlives it).
    pub async fn start(plan: &[u16]) -> Receiver {
        let log = Arc::new(Mutex::new(Log {
            plan: plan.iter().copied().collect(),
            ..Log::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = app(&log);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { url, log, task }
    }

    /// A receiver speaking HTTPS with a self-signed certificate for 127.0.0.1 made now; the
    /// certificate's PEM file is written to `dir` (what a `ca_file` names). Handshakes the
    /// client gave up on are counted.
    pub async fn start_tls(dir: &Path) -> (Receiver, PathBuf, Arc<AtomicUsize>) {
        let (ca, config) = floorwatch_tests::tls::self_signed(dir, "receiver-ca.pem");
        let log = Arc::new(Mutex::new(Log::default()));
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}/hook", tcp.local_addr().unwrap());
        let refused = Arc::new(AtomicUsize::new(0));
        let listener = TlsListener {
            tcp,
            acceptor: tokio_rustls::TlsAcceptor::from(config),
            refused: refused.clone(),
        };
        let app = app(&log);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (Receiver { url, log, task }, ca, refused)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().requests.clone()
    }

    /// The requests answered 2xx (taken), in order.
    pub fn taken(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .collect()
    }

    /// The batch ids taken, in order.
    pub fn taken_batches(&self) -> Vec<String> {
        self.taken().into_iter().map(|r| r.batch).collect()
    }

    /// The Idempotency-Keys taken, in order.
    pub fn taken_keys(&self) -> Vec<String> {
        self.taken()
            .into_iter()
            .map(|r| r.idempotency_key)
            .collect()
    }

    /// The request held without an answer, if one is.
    pub fn held(&self) -> Option<Request> {
        self.requests().into_iter().find(|r| r.status == HELD)
    }

    /// While `down`, everything is answered 503.
    pub fn set_down(&self, down: bool) {
        self.log.lock().unwrap().down = down;
    }

    /// From now on, holds the requests `hold` names.
    pub fn set_hold(&self, hold: Hold) {
        self.log.lock().unwrap().hold = hold;
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn app(log: &Arc<Mutex<Log>>) -> Router {
    Router::new()
        .route("/hook", post_route(take))
        .with_state(log.clone())
}

/// Accepts TCP connections and completes the TLS handshake before axum sees them.
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    refused: Arc<AtomicUsize>,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, peer)) = self.tcp.accept().await else {
                continue;
            };
            match self.acceptor.accept(stream).await {
                Ok(tls) => return (tls, peer),
                Err(_) => {
                    self.refused.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

async fn take(State(log): State<Arc<Mutex<Log>>>, headers: HeaderMap, body: String) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let node = header("x-floorwatch-node");
    let status = {
        let mut log = log.lock().unwrap();
        let hold = match &log.hold {
            Hold::Nothing => false,
            Hold::First => true,
            Hold::FirstNotFrom(spared) => *spared != node,
        };
        let status = if hold {
            log.hold = Hold::Nothing;
            HELD
        } else if log.down {
            503
        } else {
            log.plan.pop_front().unwrap_or(200)
        };
        log.requests.push(Request {
            batch: header("x-floorwatch-batch"),
            idempotency_key: header("idempotency-key"),
            node,
            content_type: header("content-type"),
            body: serde_json::from_str(&body).unwrap_or(Value::Null),
            status,
        });
        status
    };
    if status == HELD {
        std::future::pending::<()>().await;
    }
    StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
}
