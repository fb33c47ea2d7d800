//! Sending batches over the server's ingest websocket (`/api/v1/ingest`) with several in
//! flight: the server parses and queues the next batches while it records the first, so a
//! replay at `--speed max` keeps the server's cores busy instead of waiting a round trip per
//! batch (issue 15; docs/ARCHITECTURE.md, step 2).
//!
//! "No loss, no duplicates", as for `POST` (`ingest`): a batch is kept until its reply. On a
//! failure (a refused batch answered 5xx, the connection lost, no reply in time) the sender
//! connects again and resends every batch not yet answered, in the order sent. The server
//! refuses every batch behind a refused one on the same connection, so the events still reach
//! it in order; a batch it had recorded before the failure counts as `duplicate`.

use std::collections::VecDeque;
use std::time::Duration;

use anyhow::{Result, bail};
use floorwatch_core::wire::IngestReply;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::ingest::{Acknowledged, Batch, REQUEST_TIMEOUT, Retrying, chain, excerpt};
use crate::stop::Stop;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A batch sent and not yet answered.
struct Unanswered {
    /// Shared, not copied, when sent again.
    body: Utf8Bytes,
    events: usize,
}

/// Why a connection is given up and opened again.
enum Failure {
    /// Worth retrying: the connection, a time-out, a 5xx, 408 or 429.
    Retry(String),
    /// Sending the same bytes again cannot help (bad token, a body refused as malformed).
    Fatal(anyhow::Error),
}

pub(crate) struct SocketSender {
    url: String,
    token: Option<String>,
    retry_for: Duration,
    /// Most batches sent ahead of their replies.
    window: usize,
    socket: Option<Socket>,
    /// Sent on the current connection (or waiting for the next one), oldest first.
    unanswered: VecDeque<Unanswered>,
    pub(crate) acknowledged: Acknowledged,
}

impl SocketSender {
    /// A sender to the server at `base` (`http://HOST:PORT`), `window` batches in flight.
    pub(crate) fn new(
        base: &str,
        token: Option<String>,
        retry_for: Duration,
        window: usize,
    ) -> Result<SocketSender> {
        let Some(rest) = base.trim_end_matches('/').strip_prefix("http://") else {
            bail!("--to {base}: the ingest websocket is used for http:// URLs only");
        };
        Ok(SocketSender {
            url: format!("ws://{rest}/api/v1/ingest"),
            token: token.filter(|t| !t.is_empty()),
            retry_for,
            window: window.max(1),
            socket: None,
            unanswered: VecDeque::new(),
            acknowledged: Acknowledged::default(),
        })
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Sends one batch of NDJSON lines, first waiting for replies while `window` batches are
    /// in flight; `stop` ends a wait for an unavailable server early (Ctrl-C) with an error.
    pub(crate) async fn send(&mut self, batch: Batch, stop: &Stop) -> Result<()> {
        self.unanswered.push_back(Unanswered {
            body: batch.body.into(),
            events: batch.events,
        });
        self.deliver(stop, true).await?;
        while self.unanswered.len() >= self.window {
            self.deliver(stop, false).await?;
        }
        Ok(())
    }

    /// Waits until every batch sent is answered.
    pub(crate) async fn finish(&mut self, stop: &Stop) -> Result<()> {
        while !self.unanswered.is_empty() {
            self.deliver(stop, false).await?;
        }
        Ok(())
    }

    /// Sends the newest batch (`send_newest`) or takes one reply, reconnecting and resending
    /// everything unanswered after a failure until the server has been unavailable for
    /// `--retry-for`.
    async fn deliver(&mut self, stop: &Stop, send_newest: bool) -> Result<()> {
        let mut retrying = Retrying::new(self.retry_for);
        loop {
            let step = if self.socket.is_none() {
                self.reconnect().await
            } else if send_newest {
                self.send_newest().await
            } else {
                self.take_reply().await
            };
            let failure = match step {
                Ok(true) => return Ok(()),
                // Connected again, every unanswered batch resent (the newest among them).
                Ok(false) if send_newest => return Ok(()),
                Ok(false) => continue,
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Retry(why)) => why,
            };
            self.socket = None;
            retrying
                .after(&self.url, &failure, stop, &mut self.acknowledged)
                .await?;
        }
    }

    /// Opens the connection and sends every unanswered batch on it, in order. `Ok(false)`:
    /// connected (nothing was answered yet).
    async fn reconnect(&mut self) -> Result<bool, Failure> {
        let mut request = self
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| Failure::Fatal(anyhow::anyhow!("{}: {e}", self.url)))?;
        if let Some(token) = &self.token {
            let value = format!("Bearer {token}")
                .parse()
                .map_err(|_| Failure::Fatal(anyhow::anyhow!("the token is not a header value")))?;
            request.headers_mut().insert("Authorization", value);
        }
        let connected =
            tokio::time::timeout(REQUEST_TIMEOUT, tokio_tungstenite::connect_async(request)).await;
        let mut socket = match connected {
            Err(_) => return Err(Failure::Retry("no connection in time".to_string())),
            Ok(Err(tokio_tungstenite::tungstenite::Error::Http(response))) => {
                let status = response.status();
                let text = response
                    .body()
                    .as_deref()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default();
                return Err(by_status(&self.url, status.as_u16(), &text));
            }
            Ok(Err(e)) => return Err(Failure::Retry(chain(&e))),
            Ok(Ok((socket, _))) => socket,
        };
        for batch in &self.unanswered {
            socket
                .send(Message::Text(batch.body.clone()))
                .await
                .map_err(|e| Failure::Retry(chain(&e)))?;
        }
        self.socket = Some(socket);
        Ok(false)
    }

    /// Sends the newest batch on the open connection.
    async fn send_newest(&mut self) -> Result<bool, Failure> {
        let (Some(socket), Some(batch)) = (self.socket.as_mut(), self.unanswered.back()) else {
            return Err(Failure::Retry("no connection".to_string()));
        };
        socket
            .send(Message::Text(batch.body.clone()))
            .await
            .map_err(|e| Failure::Retry(chain(&e)))?;
        Ok(true)
    }

    /// Reads the reply to the oldest unanswered batch and counts it.
    async fn take_reply(&mut self) -> Result<bool, Failure> {
        let Some(socket) = self.socket.as_mut() else {
            return Err(Failure::Retry("no connection".to_string()));
        };
        let text = loop {
            match tokio::time::timeout(REQUEST_TIMEOUT, socket.next()).await {
                Err(_) => return Err(Failure::Retry("no reply in time".to_string())),
                Ok(None) => return Err(Failure::Retry("the server closed the connection".into())),
                Ok(Some(Err(e))) => return Err(Failure::Retry(chain(&e))),
                Ok(Some(Ok(Message::Text(text)))) => break text,
                Ok(Some(Ok(Message::Close(frame)))) => {
                    let why = frame.map(|f| f.reason.to_string()).unwrap_or_default();
                    return Err(Failure::Retry(format!(
                        "the server closed the connection: {why}"
                    )));
                }
                Ok(Some(Ok(_))) => continue,
            }
        };
        if let Ok(reply) = serde_json::from_str::<IngestReply>(text.as_str()) {
            if let Some(batch) = self.unanswered.pop_front() {
                self.acknowledged.count(&reply, batch.events);
            }
            return Ok(true);
        }
        #[derive(serde::Deserialize)]
        struct Refusal {
            error: String,
            #[serde(default)]
            status: u16,
        }
        match serde_json::from_str::<Refusal>(text.as_str()) {
            Ok(refusal) => Err(by_status(&self.url, refusal.status, &refusal.error)),
            Err(e) => Err(Failure::Fatal(anyhow::anyhow!(
                "{}: the reply is not an ingest reply ({e}): {}",
                self.url,
                excerpt(text.as_str())
            ))),
        }
    }
}

/// 5xx, 408 and 429 are retried; anything else refused the batch for good.
fn by_status(url: &str, status: u16, text: &str) -> Failure {
    if status >= 500 || status == 408 || status == 429 {
        Failure::Retry(format!("{status}: {}", excerpt(text)))
    } else {
        Failure::Fatal(anyhow::anyhow!(
            "{url} refused the batch: {status}: {}",
            excerpt(text)
        ))
    }
}
