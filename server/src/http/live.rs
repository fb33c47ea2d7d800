//! The live websocket `/api/v1/live`: who may connect, and what each may subscribe to. The
//! push itself (registry, publisher, writer) is [`crate::live`]'s.
//!
//! Only a signed-in user may connect (session cookie or API token; anything else is refused
//! before the upgrade, 401 or 403), and a browser's cookie only from the server's own pages
//! (a cross-site `Origin` is refused with 403, so another site cannot open a socket with the
//! user's cookie).
//!
//! Each connection is two halves. The reader takes [`Subscribe`] messages, checks every entry
//! against the client's [`Identity`] ([`Identity::require`]: `ReadFigures` for figures,
//! `ReadAgents` for an agent's figures and agent lists) and the floor's scopes, and files the
//! subscription in the [`crate::live::Clients`] registry: a refused entry gets an error frame naming it and
//! nothing of it is ever sent. The writer sends what the publisher queued for it, numbering
//! frames with `seq`, plus a heartbeat when nothing was sent for a while.
//!
//! The credential is checked again whenever a session ends and on every session sweep
//! ([`super::session::sweep`]): once the session ended (idle, shift end, signed out, user
//! disabled), the API token or the paired screen was revoked, or the role or scope changed, the writer
//! sends `{"type":"error","message":"signed out: WHY"}` and closes with code 4401.

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};
use axum::response::{IntoResponse, Response};
use floorwatch_core::Scope;
use floorwatch_core::wire::{Subscribe, Subscription};
use futures_util::StreamExt;
use futures_util::stream::SplitStream;
use tokio::sync::mpsc;

use super::error::ApiError;
use super::identity::{Identity, Proof};
use super::session;
use super::state::AppState;
use crate::accounts::session::Closed;
use crate::floor;
use crate::live::{FeedKey, Outgoing, Writer};
use crate::permission::Permission;

/// Largest subscription message accepted, bytes.
const MAX_SUBSCRIBE_BYTES: usize = 64 * 1024;
/// Read buffer of a live socket, bytes (grows for a larger message).
const READ_BUFFER_BYTES: usize = 4 * 1024;
/// Most entries in one subscription.
const MAX_SUBSCRIPTIONS: usize = 512;

/// `GET /api/v1/live` (websocket), for signed-in users only.
pub(crate) async fn live_socket(
    State(state): State<AppState>,
    identity: Identity,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Err(refused) = identity.require_user() {
        return refused.into_response();
    }
    if matches!(
        identity.proof,
        Proof::Session { .. } | Proof::Device { cookie: true, .. }
    ) && let Err(refused) = same_origin(&headers)
    {
        return refused.into_response();
    }
    upgrade
        .max_message_size(MAX_SUBSCRIBE_BYTES)
        // Clients only send subscriptions: a small read buffer saves the default 128 KiB per
        // connection (tungstenite zero-fills its whole read buffer), a thousand wallboards'
        // worth of memory.
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| connection(state, identity, socket))
}

/// A browser sends `Origin` with every websocket upgrade: with a cookie, it must name this
/// server (the `Host` the browser connected to), or another site's page is using the user's
/// cookie. Clients that send no `Origin` are not browsers.
fn same_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default();
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest.trim_end_matches('/'))
        .unwrap_or_default();
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if !origin_host.is_empty() && origin_host.eq_ignore_ascii_case(host) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "a live connection with a session cookie must come from this server's own pages; \
             Origin `{origin}` is not `{host}`"
        )))
    }
}

async fn connection(state: AppState, identity: Identity, socket: WebSocket) {
    let settings = state.settings();
    let joined = state.clients().join(settings.client_queue_frames);
    let id = joined.id;
    state.telemetry().live_clients.inc();
    tracing::debug!(client = id, peer = %identity.peer, "live client connected");

    let (sink, stream) = socket.split();
    let writer = Writer::new(
        joined.writer_parts,
        state.shutdown(),
        state.telemetry().clone(),
        state.pulse().clone(),
        settings.heartbeat,
        settings.slow_client_timeout,
    );
    tokio::select! {
        () = writer.run(sink, signed_out(&state, &identity)) => {}
        () = read_subscriptions(&state, &identity, id, stream, joined.tx) => {}
    }

    state.clients().leave(id);
    state.telemetry().live_clients.dec();
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
        let (accepted, refused) = match accept_subscription(state, identity, &text) {
            Ok((key, refused)) => (Some(key), refused),
            Err(message) => (None, vec![message]),
        };
        for message in refused {
            if tx.send(Outgoing::Error { message }).await.is_err() {
                return;
            }
        }
        if let Some(key) = accepted {
            state.clients().subscribe(id, key);
        }
    }
}

/// Parses and checks one subscription message. Refused as a whole (the previous subscription
/// stays) if malformed, too large, or naming scopes the floor does not know. Entries the
/// identity may not see are left out, each with a message naming it; the rest is accepted.
fn accept_subscription(
    state: &AppState,
    identity: &Identity,
    text: &str,
) -> Result<(FeedKey, Vec<String>), String> {
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
    let floor = floor::lock(state.floor());
    let mut refused = Vec::new();
    let mut permitted = Subscribe {
        subscribe: Vec::with_capacity(subscribe.subscribe.len()),
        windows: subscribe.windows.clone(),
    };
    for entry in subscribe.subscribe {
        let checked = match &entry {
            Subscription::Figures(scope) => {
                identity.require(Identity::read_permission(scope), scope, &floor)
            }
            Subscription::Agents(scope) => identity.require(Permission::ReadAgents, scope, &floor),
        };
        match checked {
            Ok(()) => permitted.subscribe.push(entry),
            Err(e) => refused.push(format!("`{entry}` refused: {e}")),
        }
    }
    let subscribe = permitted;
    let known: std::collections::HashSet<Scope> = floor.scopes().into_iter().collect();
    // Need to know: the queue list (names, service-level settings) goes only to those who may
    // read figures in their subtree.
    let home = identity.home();
    let within = identity
        .require(Permission::ReadFigures, &home, &floor)
        .is_ok()
        .then_some(home);
    drop(floor);
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
    Ok((FeedKey::new(&subscribe, within), refused))
}

/// Resolves, with the reason, once the identity's session or API token no longer works or
/// its user's role or scope changed; checked whenever a session ends and on every sweep.
async fn signed_out(state: &AppState, identity: &Identity) -> String {
    let mut changes = state.sign_outs();
    loop {
        if changes.changed().await.is_err() {
            return std::future::pending().await;
        }
        if let Some(why) = credential_ended(state, identity).await {
            return why;
        }
    }
}

/// Why the identity's credential stopped working, if it did.
async fn credential_ended(state: &AppState, identity: &Identity) -> Option<String> {
    let now = jiff::Timestamp::now();
    let current = match &identity.proof {
        Proof::Session { digest, .. } => {
            let checked = state.sessions().check_digest(digest, now);
            match checked {
                Ok(session) => state.accounts().principal(&session.user),
                Err(Closed { why, ended }) => {
                    if let Some(session) = ended {
                        session::session_ended(state, &session, why).await;
                    }
                    return Some(why.to_string());
                }
            }
        }
        Proof::Token(token) => state.accounts().authenticate_token(token.expose()),
        Proof::Device { credential, .. } => {
            state.accounts().authenticate_device(credential.expose())
        }
        Proof::None | Proof::IngestToken => return None,
    };
    match current {
        // Unchanged but for how the user proved it (the same credential).
        Ok(Some(user))
            if identity.user().is_some_and(|was| {
                was.user == user.user && was.role == user.role && was.subtree == user.subtree
            }) =>
        {
            None
        }
        Ok(Some(_)) => Some("the account's role or scope changed".into()),
        Ok(None) => Some(match identity.proof {
            Proof::Token(_) => "the API token was revoked or its user disabled".into(),
            Proof::Device { .. } => "the screen's pairing was revoked".into(),
            _ => "the account was disabled".into(),
        }),
        Err(e) => {
            tracing::warn!(error = %e, "live: the accounts could not be read; the client stays");
            None
        }
    }
}
