//! Webhook delivery: one background task per configured receiver POSTs the outbox's batches to
//! it, in order, each until it is taken (docs/ALERTS.md, "Webhooks").
//!
//! - The body is `alerts::webhook_body` of the receiver's format, `Content-Type:
//!   application/json`. Every request carries the batch's id twice: `X-Floorwatch-Batch:
//!   batch-AT`, and `Idempotency-Key: CENTRE:batch-AT`, so a receiver can drop a repeat (a
//!   request that timed out after the receiver took it is sent again).
//! - A 2xx answer delivers the batch; it is recorded in the outbox and never sent again, not even
//!   after a restart. A 4xx other than 408 and 429 means the receiver will never take this body:
//!   it is logged as an error, recorded as refused, and the next batch goes. Anything else (5xx,
//!   408, 429, no connection, a timeout) is retried after `retry_first_ms`, doubling up to
//!   `retry_max_s`, for as long as it takes: the batches behind it wait, so they arrive in order.
//! - The tasks never touch the floor: ingest and evaluation only append to the outbox.

use std::sync::Arc;
use std::time::Duration;

use floorwatch_core::CentreCalendar;
use floorwatch_core::alerts::{NotificationBatch, webhook_body};
use tokio::task::JoinHandle;

use super::outbox::{Finished, Outbox};
use super::settings::{WebhookConfig, extra_roots};
use crate::effects::{self, Effects, Turn};
use crate::shutdown::Shutdown;

/// Starts one delivery task per webhook of the outbox (`webhooks` in the same order), or says
/// which receiver's client cannot be built (its `ca_file` went missing since the config was
/// checked).
pub(crate) fn spawn_senders(
    outbox: &Arc<Outbox>,
    webhooks: &[WebhookConfig],
    calendar: &CentreCalendar,
    centre: &str,
    effects: Option<&Arc<Effects>>,
    shutdown: &Shutdown,
) -> Result<Vec<JoinHandle<()>>, String> {
    let clients = webhooks
        .iter()
        .map(client)
        .collect::<Result<Vec<_>, String>>()?;
    Ok(webhooks
        .iter()
        .zip(clients)
        .enumerate()
        .map(|(index, (config, client))| {
            let sender = Sender {
                outbox: outbox.clone(),
                index,
                config: config.clone(),
                calendar: calendar.clone(),
                centre: centre.to_string(),
                client,
                effects: effects.cloned(),
            };
            tokio::spawn(sender.run(shutdown.clone()))
        })
        .collect())
}

/// The HTTP client of one receiver: HTTPS through rustls on ring (the crypto the server's own
/// TLS uses; reqwest is built without a provider of its own), certificates checked against the
/// system's authorities plus the receiver's `ca_file`. The digest's robots use it too.
pub(crate) fn client(config: &WebhookConfig) -> Result<reqwest::Client, String> {
    // Idempotent: the first call installs ring for every rustls user in the process.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder();
    if config.url.starts_with("http://") {
        // No certificate is ever checked: the client needs no authorities, so a machine
        // without a CA store can still reach a plain-HTTP receiver.
        builder = builder.tls_certs_only([]);
    }
    if let Some(path) = &config.ca_file {
        for root in extra_roots(path)? {
            builder = builder.add_root_certificate(root);
        }
    }
    builder
        .build()
        .map_err(|e| format!("webhook {}: cannot build its HTTP client: {e}", config.url))
}

struct Sender {
    outbox: Arc<Outbox>,
    index: usize,
    config: WebhookConfig,
    calendar: CentreCalendar,
    centre: String,
    client: reqwest::Client,
    /// Cluster mode: the claims that make one node of the cluster send each batch
    /// (docs/CLUSTER.md, "Exactly once").
    effects: Option<Arc<Effects>>,
}

/// How one attempt went.
enum Attempt {
    Delivered,
    Refused(u16),
    Retry(String),
}

impl Sender {
    async fn run(self, mut shutdown: Shutdown) {
        let first = Duration::from_millis(self.config.retry_first_ms);
        let max = Duration::from_secs(self.config.retry_max_s);
        let mut delay = first;
        let mut failures = 0u32;
        loop {
            if shutdown.is_shutdown() {
                return;
            }
            let Some(batch) = self.outbox.next(self.index) else {
                tokio::select! {
                    () = self.outbox.wait(self.index) => continue,
                    () = shutdown.recv() => return,
                }
            };
            let claim = match &self.effects {
                None => None,
                Some(effects) => {
                    let key =
                        Effects::key("webhook", &self.config.url, &self.idempotency_key(&batch));
                    match effects::await_turn(effects, &key, &mut shutdown).await {
                        None => return,
                        Some(Turn::Mine(claim)) => Some(claim),
                        Some(_) => {
                            tracing::info!(webhook = %self.config.url, batch = %batch.id, "alert batch sent by another node");
                            if let Err(e) =
                                self.outbox
                                    .finish(self.index, &batch.id, Finished::Delivered)
                            {
                                tracing::error!(error = %e, "could not record a finished webhook delivery");
                            }
                            continue;
                        }
                    }
                }
            };
            let finished = match self.attempt(&batch).await {
                Attempt::Delivered => {
                    tracing::info!(
                        webhook = %self.config.url,
                        batch = %batch.id,
                        notices = batch.notices.len(),
                        retries = failures,
                        "alert batch delivered"
                    );
                    Finished::Delivered
                }
                Attempt::Refused(status) => {
                    tracing::error!(
                        webhook = %self.config.url,
                        batch = %batch.id,
                        status,
                        "the webhook refused an alert batch; it will not be sent again"
                    );
                    Finished::Refused(status)
                }
                Attempt::Retry(reason) => {
                    failures += 1;
                    tracing::warn!(
                        webhook = %self.config.url,
                        batch = %batch.id,
                        failures,
                        retry_in_ms = delay.as_millis() as u64,
                        %reason,
                        "alert batch not delivered; retrying"
                    );
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = shutdown.recv() => return,
                    }
                    delay = (delay * 2).min(max);
                    continue;
                }
            };
            delay = first;
            failures = 0;
            if let Some(effects) = &self.effects {
                effects::finish(effects, claim).await;
            }
            if let Err(e) = self.outbox.finish(self.index, &batch.id, finished) {
                tracing::error!(error = %e, "could not record a finished webhook delivery");
            }
        }
    }

    /// The batch's `Idempotency-Key`: the same on every node and every retry.
    fn idempotency_key(&self, batch: &NotificationBatch) -> String {
        format!("{}:{}", self.centre, batch.id)
    }

    async fn attempt(&self, batch: &NotificationBatch) -> Attempt {
        let body = webhook_body(self.config.format, batch, &self.calendar).to_string();
        let mut request = self
            .client
            .post(&self.config.url)
            .timeout(Duration::from_secs(self.config.timeout_s))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Floorwatch-Batch", &batch.id)
            .header("Idempotency-Key", self.idempotency_key(batch));
        if let Some(effects) = &self.effects {
            // Which node of the cluster sent it, for the receiver's log.
            request = request.header("X-Floorwatch-Node", effects.node());
        }
        let sent = request.body(body).send().await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => return Attempt::Retry(error_chain(&e)),
        };
        let status = response.status();
        if status.is_success() {
            Attempt::Delivered
        } else if status.is_client_error()
            && status != reqwest::StatusCode::REQUEST_TIMEOUT
            && status != reqwest::StatusCode::TOO_MANY_REQUESTS
        {
            Attempt::Refused(status.as_u16())
        } else {
            Attempt::Retry(format!("HTTP {status}"))
        }
    }
}

/// An error with its causes (reqwest's own message omits them).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
