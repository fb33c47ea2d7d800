//! Live push on the websocket `/api/v1/live`, per the protocol of `floorwatch_core::wire`.
//!
//! Each connection is two halves. The reader takes [`Subscribe`] messages, checks them against
//! the client's [`Identity`] and the floor's scopes, and files the subscription in the
//! [`Clients`] registry. The writer sends what the publisher queued for it, numbering frames
//! with `seq`, plus a heartbeat when nothing was sent for a while.
//!
//! A slow client never slows anyone else: the publisher only ever `try_send`s into the
//! client's bounded queue. When it is full, the publisher drops the delta, bumps the client's
//! generation (so deltas already queued are dropped unsent as stale) and sends a fresh
//! snapshot as soon as there is room. A client that stays behind, or whose socket does not
//! take a frame, for the slow-client timeout is disconnected.

mod feed;
mod frame;
mod publisher;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::response::Response;
use dashmap::DashMap;
use floorwatch_core::Scope;
use floorwatch_core::wire::{Subscribe, Subscription};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{Notify, mpsc, watch};

use crate::app::AppState;
use crate::floor;
use crate::identity::Identity;
use crate::telemetry::DropReason;

pub use feed::FeedKey;
pub use publisher::Publisher;

use frame::Outgoing;

/// Largest subscription message accepted, bytes.
const MAX_SUBSCRIBE_BYTES: usize = 64 * 1024;
/// Read buffer of a live socket, bytes (grows for a larger message).
const READ_BUFFER_BYTES: usize = 4 * 1024;
/// Most entries in one subscription.
const MAX_SUBSCRIPTIONS: usize = 512;
/// How long a closing frame may take before the socket is simply dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Every connected live client, by id.
#[derive(Default)]
pub struct Clients {
    slots: DashMap<u64, ClientSlot>,
    next_id: AtomicU64,
}

/// The publisher's view of one client.
pub struct ClientSlot {
    /// What the client subscribed to; `None` before its first accepted subscription.
    pub feed: Option<Arc<FeedKey>>,
    tx: mpsc::Sender<Outgoing>,
    generation: Arc<AtomicU64>,
    /// Tells the writer to close the connection (the client was stuck too long).
    kick: Arc<Notify>,
    /// The next frame must be a snapshot (new subscription, or resync after dropped deltas).
    pub needs_snapshot: bool,
    /// Since when the client has been waiting for a resync it could not take.
    pub behind_since: Option<Instant>,
}

impl Clients {
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    fn join(&self, slot: ClientSlot) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.slots.insert(id, slot);
        id
    }

    fn leave(&self, id: u64) {
        self.slots.remove(&id);
    }

    /// Files a new subscription: stale frames are dropped and a snapshot follows.
    fn subscribe(&self, id: u64, key: Arc<FeedKey>) {
        if let Some(mut slot) = self.slots.get_mut(&id) {
            slot.generation.fetch_add(1, Ordering::Relaxed);
            slot.feed = Some(key);
            slot.needs_snapshot = true;
            slot.behind_since = None;
        }
    }

    /// The agent scopes anyone subscribes to (sampled for history while they do).
    fn agent_figure_scopes(&self) -> std::collections::BTreeSet<Scope> {
        self.slots
            .iter()
            .filter_map(|slot| slot.feed.clone())
            .flat_map(|key| key.figures.clone())
            .filter(|s| matches!(s, Scope::Agent(_)))
            .collect()
    }
}

/// `GET /api/v1/live` (websocket).
pub async fn live_socket(
    State(state): State<AppState>,
    identity: Identity,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .max_message_size(MAX_SUBSCRIBE_BYTES)
        // Clients only send subscriptions: a small read buffer saves the default 128 KiB per
        // connection (tungstenite zero-fills its whole read buffer), a thousand wallboards'
        // worth of memory.
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| connection(state, identity, socket))
}

async fn connection(state: AppState, identity: Identity, socket: WebSocket) {
    let (tx, rx) = mpsc::channel(state.settings.client_queue_frames);
    let generation = Arc::new(AtomicU64::new(0));
    let kick = Arc::new(Notify::new());
    let id = state.clients.join(ClientSlot {
        feed: None,
        tx: tx.clone(),
        generation: generation.clone(),
        kick: kick.clone(),
        needs_snapshot: false,
        behind_since: None,
    });
    state.telemetry.live_clients.inc();
    tracing::debug!(client = id, peer = %identity.peer, "live client connected");

    let (sink, stream) = socket.split();
    let writer = Writer {
        state: state.clone(),
        rx,
        generation,
        kick,
        shutdown: state.shutdown.clone(),
    };
    tokio::select! {
        () = writer.run(sink) => {}
        () = read_subscriptions(&state, &identity, id, stream, tx) => {}
    }

    state.clients.leave(id);
    state.telemetry.live_clients.dec();
    tracing::debug!(client = id, "live client gone");
}

/// Reads subscriptions until the client closes.
async fn read_subscriptions(
    state: &AppState,
    identity: &Identity,
    id: u64,
    mut stream: SplitStream<WebSocket>,
    tx: mpsc::Sender<Outgoing>,
) {
    while let Some(message) = stream.next().await {
        let text = match message {
            Ok(Message::Text(text)) => text,
            Ok(Message::Close(_)) | Err(_) => return,
            Ok(_) => continue,
        };
        match accept_subscription(state, identity, &text) {
            Ok(key) => state.clients.subscribe(id, Arc::new(key)),
            Err(message) => {
                if tx.send(Outgoing::Error { message }).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Parses and checks one subscription message. Refused as a whole (the previous subscription
/// stays) if malformed, too large, not permitted, or naming scopes the floor does not know.
fn accept_subscription(
    state: &AppState,
    identity: &Identity,
    text: &str,
) -> Result<FeedKey, String> {
    let subscribe: Subscribe = serde_json::from_str(text).map_err(|e| {
        format!(
            "malformed subscription ({e}); expected {{\"subscribe\": [\"centre\", \
             \"queue:ID\", \"agents:team:ID\", ...], \"windows\": [\"15m\", \"today\", ...]}}"
        )
    })?;
    if subscribe.subscribe.len() > MAX_SUBSCRIPTIONS {
        return Err(format!(
            "at most {MAX_SUBSCRIPTIONS} entries per subscription"
        ));
    }
    for entry in &subscribe.subscribe {
        identity
            .may_subscribe(entry)
            .map_err(|e| format!("`{entry}`: {e}"))?;
    }
    let known: std::collections::HashSet<Scope> =
        floor::lock(&state.floor).scopes().into_iter().collect();
    let unknown: Vec<String> = subscribe
        .subscribe
        .iter()
        .filter(|entry| match entry {
            Subscription::Figures(scope) => !known.contains(scope),
            Subscription::Agents(Scope::Queue(_)) => true,
            Subscription::Agents(scope) => *scope != Scope::Centre && !known.contains(scope),
        })
        .map(|entry| format!("`{entry}`"))
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "unknown scope(s) {} (agent lists are by centre, site, group, team or agent)",
            unknown.join(", ")
        ));
    }
    Ok(FeedKey::new(&subscribe))
}

struct Writer {
    state: AppState,
    rx: mpsc::Receiver<Outgoing>,
    generation: Arc<AtomicU64>,
    kick: Arc<Notify>,
    shutdown: watch::Receiver<bool>,
}

impl Writer {
    async fn run(mut self, mut sink: SplitSink<WebSocket, Message>) {
        let settings = &self.state.settings;
        let telemetry = &self.state.telemetry;
        let mut seq = 0u64;
        let mut last_sent = tokio::time::Instant::now();
        if *self.shutdown.borrow() {
            close(&mut sink, close_code::AWAY, "server shutting down").await;
            return;
        }
        loop {
            let text = tokio::select! {
                biased;
                _ = self.shutdown.changed() => {
                    close(&mut sink, close_code::AWAY, "server shutting down").await;
                    return;
                }
                () = self.kick.notified() => {
                    close(&mut sink, close_code::POLICY, "too slow: fell behind for too long").await;
                    return;
                }
                item = self.rx.recv() => match item {
                    None => return,
                    Some(Outgoing::Shared { generation, kind, body }) => {
                        if generation < self.generation.load(Ordering::Relaxed) {
                            telemetry.frame_dropped(DropReason::Stale);
                            continue;
                        }
                        seq += 1;
                        frame::render(kind, seq, &body)
                    }
                    Some(Outgoing::Error { message }) => {
                        seq += 1;
                        frame::error(seq, message)
                    }
                },
                () = tokio::time::sleep_until(last_sent + settings.heartbeat) => {
                    seq += 1;
                    frame::heartbeat(seq, self.state.pulse.clock())
                }
            };
            let sent = tokio::time::timeout(
                settings.slow_client_timeout,
                sink.send(Message::Text(text.into())),
            )
            .await;
            match sent {
                Ok(Ok(())) => {
                    telemetry.frame_sent();
                    last_sent = tokio::time::Instant::now();
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
}

async fn close(sink: &mut SplitSink<WebSocket, Message>, code: u16, reason: &'static str) {
    let frame = Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }));
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.send(frame)).await;
}
