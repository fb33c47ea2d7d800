//! Posting batches of events to a server's `POST /api/v1/events`, retrying with back-off while
//! it is unavailable.
//!
//! "No loss, no duplicates": a batch is resent until the server acknowledges it with an ingest
//! reply, and only then does the sender move on. Resending is safe because the server applies
//! an event id once (a resent event it had already journaled counts as `duplicate`), so a
//! reply lost in a crash costs nothing. Connection failures, time-outs, 5xx, 408 and 429 are
//! retried; any other refusal (bad token, body too large, malformed) is an error at once,
//! since sending the same bytes again cannot help.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use floorwatch_core::wire::IngestReply;

/// First pause after a failure; doubled up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// One request may take this long (a large batch into a busy server) before it is retried.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Rejected lines kept for the summary.
const REJECTIONS_KEPT: usize = 10;

/// What the server said, summed over a run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Acknowledged {
    pub batches: u64,
    pub events: u64,
    pub accepted: u64,
    pub duplicate: u64,
    pub rejected: u64,
    /// Requests sent again after a failure.
    pub retries: u64,
    /// The first few rejected lines' reasons.
    pub rejections: Vec<String>,
}

impl Acknowledged {
    /// Adds the server's reply to a batch of `sent` events.
    pub(crate) fn count(&mut self, reply: &IngestReply, sent: usize) {
        self.batches += 1;
        self.events += sent as u64;
        self.accepted += reply.accepted;
        self.duplicate += reply.duplicate;
        self.rejected += reply.rejected;
        let counted = reply.accepted + reply.duplicate + reply.rejected;
        if counted != sent as u64 {
            tracing::warn!(
                sent,
                counted,
                "the server counted another number of events than were sent"
            );
        }
        for error in &reply.errors {
            if self.rejections.len() < REJECTIONS_KEPT {
                tracing::warn!(reason = %error.reason, "event rejected");
                self.rejections.push(error.reason.clone());
            }
        }
    }
}

/// A batch as it is sent: its NDJSON lines one after another (each ending in `\n`), built as
/// they are read, with no `String` per line (issue 15: the replay client's CPU).
#[derive(Default)]
pub(crate) struct Batch {
    pub(crate) body: String,
    pub(crate) events: usize,
}

impl Batch {
    pub(crate) fn with_capacity(bytes: usize) -> Batch {
        Batch {
            body: String::with_capacity(bytes),
            events: 0,
        }
    }

    pub(crate) fn push(&mut self, line: &str) {
        self.body.push_str(line);
        self.body.push('\n');
        self.events += 1;
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.events == 0
    }
}

pub(crate) struct IngestClient {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
    retry_for: Duration,
    pub acknowledged: Acknowledged,
}

impl IngestClient {
    /// A client for the server at `base` (`http://HOST:PORT`).
    pub(crate) fn new(
        base: &str,
        token: Option<String>,
        retry_for: Duration,
    ) -> Result<IngestClient> {
        let url = format!("{}/api/v1/events", base.trim_end_matches('/'));
        let parsed = match reqwest::Url::parse(&url) {
            Ok(parsed) => parsed,
            Err(e) => bail!("--to {base} is not a URL ({e}); expected e.g. http://127.0.0.1:8080"),
        };
        let mut http = reqwest::Client::builder().timeout(REQUEST_TIMEOUT);
        if parsed.scheme() == "http" {
            // Plain HTTP checks no certificate: no CA store is needed on this machine.
            http = http.tls_certs_only([]);
        }
        let http = http
            .build()
            .map_err(|e| anyhow::anyhow!("cannot build the HTTP client: {}", chain(&e)))?;
        Ok(IngestClient {
            http,
            url,
            token: token.filter(|t| !t.is_empty()),
            retry_for,
            acknowledged: Acknowledged::default(),
        })
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Sends one batch of NDJSON lines and waits for the server to acknowledge it, retrying
    /// while it is unavailable; `stop` ends the wait early (Ctrl-C) with an error.
    pub(crate) async fn send(
        &mut self,
        batch: Batch,
        stop: &crate::stop::Stop,
    ) -> Result<IngestReply> {
        let Batch { body, events } = batch;
        let mut retrying = Retrying::new(self.retry_for);
        loop {
            let mut request = self
                .http
                .post(&self.url)
                .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
                .body(body.clone());
            if let Some(token) = &self.token {
                request = request.bearer_auth(token);
            }
            let failure = match request.send().await {
                Err(e) => chain(&e),
                Ok(response) => {
                    let status = response.status();
                    match response.text().await {
                        Err(e) => format!("reading the reply: {}", chain(&e)),
                        Ok(text) if status.is_success() => {
                            let reply: IngestReply = serde_json::from_str(&text).map_err(|e| {
                                anyhow::anyhow!(
                                    "{}: the reply is not an ingest reply ({e}): {}",
                                    self.url,
                                    excerpt(&text)
                                )
                            })?;
                            self.acknowledged.count(&reply, events);
                            return Ok(reply);
                        }
                        Ok(text)
                            if status.is_server_error()
                                || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                                || status == reqwest::StatusCode::REQUEST_TIMEOUT =>
                        {
                            format!("{status}: {}", excerpt(&text))
                        }
                        Ok(text) => bail!(
                            "{} refused the batch: {status}: {}",
                            self.url,
                            excerpt(&text)
                        ),
                    }
                }
            };
            retrying
                .after(&self.url, &failure, stop, &mut self.acknowledged)
                .await?;
        }
    }
}

/// Waiting between attempts while the server is unavailable: a back-off from
/// [`FIRST_BACKOFF`] doubling to [`MAX_BACKOFF`], given up after `--retry-for`.
pub(crate) struct Retrying {
    retry_for: Duration,
    backoff: Duration,
    failing_since: Option<Instant>,
}

impl Retrying {
    pub(crate) fn new(retry_for: Duration) -> Retrying {
        Retrying {
            retry_for,
            backoff: FIRST_BACKOFF,
            failing_since: None,
        }
    }

    /// After a failed attempt at `url`: an error once it has been unavailable for
    /// `--retry-for` or on Ctrl-C; otherwise counts a retry and sleeps the back-off.
    pub(crate) async fn after(
        &mut self,
        url: &str,
        failure: &str,
        stop: &crate::stop::Stop,
        acknowledged: &mut Acknowledged,
    ) -> Result<()> {
        let since = *self.failing_since.get_or_insert_with(Instant::now);
        if since.elapsed() >= self.retry_for {
            bail!(
                "{url} has been unavailable for {} s (--retry-for); last error: {failure}",
                self.retry_for.as_secs()
            );
        }
        if stop.requested() {
            bail!("interrupted while {url} was unavailable");
        }
        tracing::warn!(url, error = %failure, retry_in = ?self.backoff, "server unavailable; retrying");
        acknowledged.retries += 1;
        stop.sleep(self.backoff).await;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        Ok(())
    }
}

/// An error with its causes (reqwest's own message omits them: "error sending request").
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

pub(crate) fn excerpt(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(300) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}
