//! Sending: one task per recipient takes its messages from the digest outbox, oldest first,
//! and sends each until it is taken: by e-mail through the SMTP relay (`lettre`, STARTTLS
//! required unless configured off) or by POST to a work-chat robot (the alert webhooks' client).
//!
//! - Taken (SMTP 2xx, HTTP 2xx): written to the audit trail, then recorded `sent` in the outbox.
//!   A crash between the two sends it again at the next start, with the same Message-ID (and
//!   `Idempotency-Key`), and audits it again, so the trail never misses a digest sent.
//! - Refused for good (an SMTP 5xx, an HTTP 4xx other than 408 and 429, a message that cannot
//!   be built): logged as an error, counted, recorded `refused`; never sent again.
//! - Anything else (no connection, a timeout, a 4xx SMTP reply, an HTTP 5xx) is retried after
//!   `retry_first_ms`, doubling up to `retry_max_s`, as long as it takes. Every failure is logged
//!   and counted in `/metrics` (`floorwatch_digest_messages_total`). The tasks never touch the
//!   floor nor ingest.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::Body;
use lettre::message::Mailbox;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::outbox::{DigestOutbox, Finished, Message};
use super::settings::SmtpConfig;
use crate::audit::{self, Action, AuditTrail, Entry};
use crate::effects::{self, Effects, Turn};
use crate::shutdown::Shutdown;
use crate::telemetry::Telemetry;

/// Where one recipient's messages go.
pub(crate) enum Channel {
    Email {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
        to: Vec<Mailbox>,
    },
    Webhook {
        client: reqwest::Client,
        url: String,
        timeout: Duration,
        /// The centre's id, in the `Idempotency-Key`.
        centre: String,
    },
}

impl Channel {
    fn name(&self) -> &'static str {
        match self {
            Channel::Email { .. } => "email",
            Channel::Webhook { .. } => "webhook",
        }
    }

    /// Who it reached, for the log and the audit trail: the addresses, or the robot's URL
    /// without its query (which often holds the robot's key).
    fn shown(&self) -> String {
        match self {
            Channel::Email { to, .. } => to
                .iter()
                .map(|m| m.email.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            Channel::Webhook { url, .. } => url.split('?').next().unwrap_or_default().to_string(),
        }
    }
}

/// The relay's transport: STARTTLS required unless `starttls = false`, certificates checked by
/// the OS verifier plus the configured `ca_file`.
pub(crate) fn transport(smtp: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let failed = |e: lettre::transport::smtp::Error| format!("digest.smtp: {e}");
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str())
        .port(smtp.port)
        .timeout(Some(Duration::from_secs(smtp.timeout_s)));
    if smtp.starttls {
        let mut tls = TlsParameters::builder(smtp.host.clone());
        if let Some(path) = &smtp.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| format!("digest.smtp.ca_file: cannot read {}: {e}", path.display()))?;
            tls = tls.add_root_certificate(Certificate::from_pem(&pem).map_err(failed)?);
        }
        builder = builder.tls(Tls::Required(tls.build_rustls().map_err(failed)?));
    } else {
        builder = builder.tls(Tls::None);
    }
    if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
        builder = builder.credentials(Credentials::new(
            user.clone(),
            password.expose().to_string(),
        ));
    }
    Ok(builder.build())
}

/// One recipient's sending task.
pub(crate) struct Sender {
    pub(crate) outbox: Arc<DigestOutbox>,
    pub(crate) index: usize,
    pub(crate) channel: Channel,
    pub(crate) retry_first: Duration,
    pub(crate) retry_max: Duration,
    pub(crate) telemetry: Arc<Telemetry>,
    /// Where a digest sent is recorded.
    pub(crate) audit: AuditTrail,
    /// Cluster mode: the claims that make one node of the cluster send each message
    /// (docs/CLUSTER.md, "Exactly once").
    pub(crate) effects: Option<Arc<Effects>>,
}

/// How one attempt went.
enum Attempt {
    Sent,
    Refused(String),
    Retry(String),
}

impl Sender {
    pub(crate) async fn run(self, mut shutdown: Shutdown) {
        let mut delay = self.retry_first;
        let mut failures = 0u32;
        let channel = self.channel.name();
        loop {
            if shutdown.is_shutdown() {
                return;
            }
            self.telemetry.digest_pending(self.outbox.pending());
            let Some((day, message)) = self.outbox.next(self.index) else {
                tokio::select! {
                    () = self.outbox.wait(self.index) => continue,
                    () = shutdown.recv() => return,
                }
            };
            let claim = match &self.effects {
                None => None,
                Some(effects) => {
                    let key = Effects::key("digest", &self.channel.shown(), &message.message_id);
                    match effects::await_turn(effects, &key, &mut shutdown).await {
                        None => return,
                        Some(Turn::Mine(claim)) => Some(claim),
                        Some(_) => {
                            tracing::info!(%day, channel, message_id = %message.message_id, "digest sent by another node");
                            if let Err(e) = self.outbox.finish(self.index, &day, Finished::Sent) {
                                tracing::error!(error = %e, %day, "could not record a digest as sent");
                            }
                            continue;
                        }
                    }
                }
            };
            let attempt = tokio::select! {
                attempt = self.attempt(&message) => attempt,
                () = shutdown.recv() => return,
            };
            let finished = match attempt {
                Attempt::Sent => {
                    self.telemetry.digest_message(channel, "sent");
                    tracing::info!(%day, channel, to = %self.channel.shown(), scope = %message.digest.scope, message_id = %message.message_id, retries = failures, "digest sent");
                    self.audit(&day, &message).await;
                    Finished::Sent
                }
                Attempt::Refused(reason) => {
                    self.telemetry.digest_message(channel, "refused");
                    tracing::error!(%day, channel, to = %self.channel.shown(), %reason, "the digest was refused; it will not be sent again");
                    Finished::Refused(reason)
                }
                Attempt::Retry(reason) => {
                    failures += 1;
                    self.telemetry.digest_message(channel, "failed");
                    tracing::warn!(%day, channel, to = %self.channel.shown(), failures, retry_in_ms = delay.as_millis() as u64, %reason, "digest not sent; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = shutdown.recv() => return,
                    }
                    delay = (delay * 2).min(self.retry_max);
                    continue;
                }
            };
            delay = self.retry_first;
            failures = 0;
            if let Some(effects) = &self.effects {
                effects::finish(effects, claim).await;
            }
            if let Err(e) = self.outbox.finish(self.index, &day, finished) {
                tracing::error!(error = %e, %day, "could not record a digest as sent; it may be sent again at the next start, with the same Message-ID");
            }
            self.telemetry.digest_pending(self.outbox.pending());
        }
    }

    async fn attempt(&self, message: &Message) -> Attempt {
        match &self.channel {
            Channel::Email {
                transport,
                from,
                to,
            } => {
                let mut builder = lettre::Message::builder()
                    .from(from.clone())
                    .subject(message.subject.clone())
                    .message_id(Some(message.message_id.clone()))
                    .header(ContentType::TEXT_PLAIN);
                for mailbox in to {
                    builder = builder.to(mailbox.clone());
                }
                // Quoted-printable: the text stays readable in any relay's logs, and its
                // figures' dashes and names in any script survive 7-bit hops.
                let body = Body::new_with_encoding(
                    message.body.clone(),
                    ContentTransferEncoding::QuotedPrintable,
                )
                .unwrap_or_else(Body::new);
                let email = match builder.body(body) {
                    Ok(email) => email,
                    Err(e) => return Attempt::Refused(format!("the message cannot be built: {e}")),
                };
                match transport.send(email).await {
                    Ok(_) => Attempt::Sent,
                    Err(e) if e.is_permanent() => Attempt::Refused(e.to_string()),
                    Err(e) => Attempt::Retry(error_chain(&e)),
                }
            }
            Channel::Webhook {
                client,
                url,
                timeout,
                centre,
            } => {
                let sent = client
                    .post(url)
                    .timeout(*timeout)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(
                        "Idempotency-Key",
                        format!("{centre}:{}", message.message_id),
                    )
                    .body(message.body.clone())
                    .send()
                    .await;
                let status = match sent {
                    Ok(response) => response.status(),
                    Err(e) => return Attempt::Retry(error_chain(&e)),
                };
                if status.is_success() {
                    Attempt::Sent
                } else if status.is_client_error()
                    && status != reqwest::StatusCode::REQUEST_TIMEOUT
                    && status != reqwest::StatusCode::TOO_MANY_REQUESTS
                {
                    Attempt::Refused(format!("HTTP {status}"))
                } else {
                    Attempt::Retry(format!("HTTP {status}"))
                }
            }
        }
    }

    /// The audit record of a digest sent (through the one audit writer). It cannot undo the
    /// sending: a failure is logged there.
    async fn audit(&self, day: &str, message: &Message) {
        let provisional = if message.digest.signed_off {
            "signed off"
        } else {
            "provisional: not signed off"
        };
        let detail = format!(
            "{} of {} by {} to {}; {}; Message-ID {}",
            day,
            message.digest.scope,
            self.channel.name(),
            self.channel.shown(),
            provisional,
            message.message_id
        );
        let entry = Entry::new(
            "floorwatch:digest",
            Action::Digest,
            format!("scope:{}", message.digest.scope),
            detail,
        );
        let _ = audit::record(&self.audit, entry).await;
    }
}

/// An error with its causes.
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
