//! The `asterisk-ami` source: a client of the Asterisk Manager Interface (docs/CTI.md, "AMI"
//! and "Sources").
//!
//! On every (re)connect: Login (the secret is sent, never logged), the event filter of the
//! events the mapper reads, a Ping for the switch's clock, and QueueStatus, whose reply goes to
//! [`AmiMapper::resync`] so no call stays "waiting" and no agent stays in a state it left while
//! the link was down. Then every event goes to [`AmiMapper::map`], and [`AmiMapper::tick`] runs
//! about once a second. One mapper lives across reconnects. A lost link is retried with
//! exponential back-off; a Ping every `ping_interval_s` notices a link that died silently.
//!
//! **Time.** The mapper times events by their `Timestamp:` headers, the switch's clock. The
//! source keeps an estimate of that clock, the latest `Timestamp:` seen (from events and Ping
//! replies) plus the wall time since it arrived, and gives it to `tick`, to `resync` and as the
//! receive time of events without a `Timestamp:`; so a day replayed fast by a test switch is
//! timed as the switch says, not by this machine's clock.

use std::time::{Duration, Instant};

use floorwatch_core::ami::{AmiDecoder, AmiError, AmiMapper, AmiMessage, action};
use floorwatch_core::{Event, Millis};

use super::context::{SourceContext, record};
use super::switch_link::{
    self, Backoff, Ended, Malformed, SwitchClock, SwitchSession, keep_connected, lost, run_number,
};
use crate::secret::Secret;

/// A switch's manager interface, from a `[[sources]]` table of kind `asterisk-ami`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AmiConfig {
    pub(crate) name: String,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) username: String,
    pub(crate) secret: Secret,
    /// The event mask asked for at Login (`agent,call`).
    pub(crate) events: String,
    pub(crate) reconnect_min: Duration,
    pub(crate) reconnect_max: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) ping_interval: Duration,
    pub(crate) abandon_grace_ms: Millis,
}

impl AmiConfig {
    pub(crate) fn source(&self) -> String {
        format!("ami:{}", self.name)
    }
}

/// How long the switch may take to answer Login, Filter, Ping or QueueStatus.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the source until shutdown.
pub(crate) async fn run(config: AmiConfig, mut context: SourceContext) {
    let source = config.source();
    let mapper = AmiMapper::new(&source, &context.organisation)
        .with_abandon_grace(config.abandon_grace_ms)
        .with_run(run_number());
    let backoff = Backoff {
        min: config.reconnect_min,
        max: config.reconnect_max,
    };
    let mut link = Link {
        source,
        config,
        mapper,
        clock: SwitchClock::default(),
        next_action: 0,
        malformed: Malformed::default(),
    };
    keep_connected(&mut link, "AMI", backoff, &mut context).await;
}

/// `Timestamp: 1700000000.123456` as UTC ms; anything else is no time.
fn parse_timestamp(text: &str) -> Option<Millis> {
    let text = text.trim();
    let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
    if secs.is_empty() || secs.len() > 11 || !secs.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let millis = format!("{frac:0<3}");
    let millis: i64 = millis.get(..3)?.parse().ok()?;
    secs.parse::<i64>()
        .ok()?
        .checked_mul(1000)?
        .checked_add(millis)
}

/// What lives across reconnects.
struct Link {
    source: String,
    config: AmiConfig,
    mapper: AmiMapper,
    clock: SwitchClock,
    next_action: u64,
    malformed: Malformed,
}

/// One TCP connection to the switch.
type Connection = switch_link::Connection<AmiDecoder>;

/// Sends one action.
async fn send(conn: &mut Connection, message: &AmiMessage) -> Result<(), Ended> {
    conn.send(message.encode().as_bytes()).await
}

impl SwitchSession for Link {
    fn source(&self) -> &str {
        &self.source
    }

    async fn session(&mut self, context: &mut SourceContext) -> Ended {
        let config = self.config.clone();
        let address = format!("{}:{}", config.host, config.port);
        let mut conn =
            match Connection::open(&address, config.connect_timeout, AmiDecoder::new()).await {
                Ok(conn) => conn,
                Err(ended) => return ended,
            };
        self.malformed.reset();
        if let Err(ended) = self.handshake(&config, &mut conn, context).await {
            return ended;
        }
        match self.stream(&config, &mut conn, context).await {
            Ended::Lost { reason, .. } => Ended::Lost {
                reason,
                synced: true,
            },
            Ended::Shutdown => {
                let id = self.action_id("logoff");
                let _ = tokio::time::timeout(
                    Duration::from_secs(1),
                    send(&mut conn, &action::logoff(&id)),
                )
                .await;
                Ended::Shutdown
            }
        }
    }
}

impl Link {
    /// A `Timestamp:` header is the switch's clock.
    fn saw_time(&mut self, message: &AmiMessage) {
        if let Some(ts) = message.get("Timestamp").and_then(parse_timestamp) {
            self.clock.saw(ts);
        }
    }

    fn action_id(&mut self, what: &str) -> String {
        self.next_action += 1;
        format!("floorwatch-{what}-{}", self.next_action)
    }

    /// Login, filter, Ping, QueueStatus and the resync.
    async fn handshake(
        &mut self,
        config: &AmiConfig,
        conn: &mut Connection,
        context: &mut SourceContext,
    ) -> Result<(), Ended> {
        let id = self.action_id("login");
        let login = action::login(
            &config.username,
            config.secret.expose(),
            &config.events,
            &id,
        );
        send(conn, &login).await?;
        let reply = self.reply(conn, context, &id).await?;
        if reply.response() != Some("Success") {
            let why = reply.get("Message").unwrap_or("refused").to_string();
            tracing::error!(
                source = %self.source,
                username = %config.username,
                reason = %why,
                "AMI login refused"
            );
            return Err(lost(format!("login refused: {why}")));
        }
        tracing::info!(
            source = %self.source,
            banner = conn.decoder.banner().unwrap_or("(none)"),
            "AMI logged in"
        );
        // AMI 2.0+ reports HangupRequest, which tells abandons from time-outs on any dialplan.
        if let Some(banner) = conn.decoder.banner() {
            self.mapper.switch_banner(banner);
        }

        let id = self.action_id("filter");
        send(conn, &action::filter_mapped_events(&id)).await?;
        let reply = self.reply(conn, context, &id).await?;
        if reply.response() != Some("Success") {
            // Asterisk before 13 has no Filter action: every event comes, the mapper skips
            // the ones it does not read.
            tracing::info!(source = %self.source, "the switch sets no event filter; all events come");
        }

        let id = self.action_id("ping");
        send(conn, &action::ping(&id)).await?;
        let reply = self.reply(conn, context, &id).await?;
        self.saw_time(&reply);

        let id = self.action_id("queuestatus");
        send(conn, &action::queue_status(&id)).await?;
        let reply = self.reply(conn, context, &id).await?;
        if reply.response() != Some("Success") {
            return Err(lost(format!(
                "QueueStatus refused: {}",
                reply.get("Message").unwrap_or("no reason")
            )));
        }
        let list = self.list(conn, context, &id).await?;
        let at = self.clock.now();
        let events = self.mapper.resync(&list, at);
        tracing::info!(
            source = %self.source,
            rows = list.len(),
            events = events.len(),
            "AMI resynced from QueueStatus"
        );
        if !record(context, &self.source, events).await {
            return Err(Ended::Shutdown);
        }
        Ok(())
    }

    /// Reads up to the response carrying `id`; events before it are mapped and recorded.
    async fn reply(
        &mut self,
        conn: &mut Connection,
        context: &mut SourceContext,
        id: &str,
    ) -> Result<AmiMessage, Ended> {
        let mut found = None;
        self.read_until(conn, context, |m| {
            if m.response().is_some() && m.action_id() == Some(id) {
                found = Some(m.clone());
                true
            } else {
                false
            }
        })
        .await?;
        found.ok_or_else(|| lost("no reply"))
    }

    /// The list events carrying `id`, up to the one that completes it.
    async fn list(
        &mut self,
        conn: &mut Connection,
        context: &mut SourceContext,
        id: &str,
    ) -> Result<Vec<AmiMessage>, Ended> {
        let mut list = Vec::new();
        self.read_until(conn, context, |m| {
            if m.event().is_some() && m.action_id() == Some(id) {
                list.push(m.clone());
                action::is_list_complete(m)
            } else {
                false
            }
        })
        .await?;
        Ok(list)
    }

    /// Reads and maps until `wanted` takes a message (which is not mapped), within
    /// [`REPLY_TIMEOUT`]. Messages after it in the same read are kept for the next reader.
    async fn read_until(
        &mut self,
        conn: &mut Connection,
        context: &mut SourceContext,
        mut wanted: impl FnMut(&AmiMessage) -> bool,
    ) -> Result<(), Ended> {
        let deadline = tokio::time::Instant::now() + REPLY_TIMEOUT;
        let mut done = false;
        while !done {
            let read = tokio::select! {
                read = tokio::time::timeout_at(deadline, conn.read()) => read,
                () = context.shutdown.recv() => return Err(Ended::Shutdown),
            };
            let messages = read.map_err(|_| lost("the switch did not answer in time"))??;
            let mut events = Vec::new();
            let mut messages = messages.into_iter();
            for message in messages.by_ref() {
                match message {
                    Ok(m) if wanted(&m) => {
                        done = true;
                        break;
                    }
                    other => self.take(other, context, &mut events),
                }
            }
            conn.pending.extend(messages);
            if !record(context, &self.source, events).await {
                return Err(Ended::Shutdown);
            }
        }
        Ok(())
    }

    /// Streams events until the link or the server goes.
    async fn stream(
        &mut self,
        config: &AmiConfig,
        conn: &mut Connection,
        context: &mut SourceContext,
    ) -> Ended {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut ping = tokio::time::interval(config.ping_interval);
        ping.reset();
        let mut heard = Instant::now();
        loop {
            tokio::select! {
                biased;
                () = context.shutdown.recv() => return Ended::Shutdown,
                read = conn.read() => {
                    let messages = match read {
                        Ok(messages) => messages,
                        Err(ended) => return ended,
                    };
                    heard = Instant::now();
                    let mut events = Vec::new();
                    for message in messages {
                        self.take(message, context, &mut events);
                    }
                    if !record(context, &self.source, events).await {
                        return Ended::Shutdown;
                    }
                }
                _ = tick.tick() => {
                    let events = self.mapper.tick(self.clock.now());
                    if !record(context, &self.source, events).await {
                        return Ended::Shutdown;
                    }
                }
                _ = ping.tick() => {
                    if heard.elapsed() > config.ping_interval * 2 {
                        return lost("no answer to Ping");
                    }
                    let id = self.action_id("ping");
                    if let Err(ended) = send(conn, &action::ping(&id)).await {
                        return ended;
                    }
                }
            }
        }
    }

    /// One message from the switch: events are mapped into `out`, replies update the clock, a
    /// malformed block is reported and skipped.
    fn take(
        &mut self,
        message: Result<AmiMessage, AmiError>,
        context: &SourceContext,
        out: &mut Vec<Event>,
    ) {
        match message {
            Ok(m) => {
                self.saw_time(&m);
                if m.event().is_some() {
                    out.extend(self.mapper.map(&m, self.clock.now()));
                }
            }
            Err(error) => self.malformed.skipped(&self.source, context, &error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_to_the_millisecond() {
        assert_eq!(
            parse_timestamp("1773000000.123456"),
            Some(1_773_000_000_123)
        );
        assert_eq!(parse_timestamp("1773000000.5"), Some(1_773_000_000_500));
        assert_eq!(parse_timestamp("1773000000"), Some(1_773_000_000_000));
        for bad in [
            "",
            ".5",
            "17x.1",
            "1.2.3",
            "99999999999999.0",
            "1.1234567890",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }
}
