//! The `freeswitch-esl` source: an inbound client of FreeSWITCH's event socket, reading
//! mod_callcenter (docs/CTI.md, "FreeSWITCH" and "Sources").
//!
//! On every (re)connect: `auth` (the password is sent, never logged), `event plain` for
//! `CUSTOM callcenter::info` and the three channel events the mapper reads, then the resync
//! over the same socket: `api callcenter_config queue list`, each queue's `tiers` and `agents`
//! (to [`EslMapper::resync_agents`]), then every member (to [`EslMapper::resync_members`]), so
//! no call stays "waiting" and no agent stays in a state it left while the link was down.
//! Events arriving meanwhile are mapped in order. One mapper lives across reconnects; a lost
//! link is retried with exponential back-off; an `api status` every `ping_interval_s` notices
//! a link that died silently. Events are recorded (journaled before they count) exactly as the
//! `asterisk-ami` source's are.
//!
//! **Time.** Events carry `Event-Date-Timestamp`, the switch's clock; the source estimates
//! that clock as the latest one seen plus the wall time since, for the resync.

use std::time::{Duration, Instant};

use floorwatch_core::Event;
use floorwatch_core::esl::{ApiTable, EslDecoder, EslError, EslFrame, EslMapper, command};

use super::context::{SourceContext, record};
use super::switch_link::{
    self, Backoff, Ended, Malformed, SwitchClock, SwitchSession, keep_connected, lost, run_number,
};
use crate::secret::Secret;

/// A switch's event socket, from a `[[sources]]` table of kind `freeswitch-esl`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EslConfig {
    pub(crate) name: String,
    pub(crate) host: String,
    pub(crate) port: u16,
    /// event_socket.conf.xml's `password`.
    pub(crate) password: Secret,
    pub(crate) reconnect_min: Duration,
    pub(crate) reconnect_max: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) ping_interval: Duration,
}

impl EslConfig {
    pub(crate) fn source(&self) -> String {
        format!("esl:{}", self.name)
    }
}

/// How long the switch may take to answer a command.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the source until shutdown.
pub(crate) async fn run(config: EslConfig, mut context: SourceContext) {
    let source = config.source();
    let mapper = EslMapper::new(&source, &context.organisation).with_run(run_number());
    let backoff = Backoff {
        min: config.reconnect_min,
        max: config.reconnect_max,
    };
    let mut link = Link {
        source,
        config,
        mapper,
        clock: SwitchClock::default(),
        malformed: Malformed::default(),
    };
    keep_connected(&mut link, "ESL", backoff, &mut context).await;
}

/// What lives across reconnects.
struct Link {
    source: String,
    config: EslConfig,
    mapper: EslMapper,
    /// The switch's clock, from `Event-Date-Timestamp`.
    clock: SwitchClock,
    malformed: Malformed,
}

/// One TCP connection to the switch.
type Connection = switch_link::Connection<EslDecoder>;

impl SwitchSession for Link {
    fn source(&self) -> &str {
        &self.source
    }

    async fn session(&mut self, context: &mut SourceContext) -> Ended {
        let config = self.config.clone();
        let address = format!("{}:{}", config.host, config.port);
        let mut conn =
            match Connection::open(&address, config.connect_timeout, EslDecoder::new()).await {
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
                let _ = tokio::time::timeout(
                    Duration::from_secs(1),
                    conn.send(command::exit().as_bytes()),
                )
                .await;
                Ended::Shutdown
            }
        }
    }
}

fn is_type(frame: &EslFrame, wanted: &str) -> bool {
    frame
        .content_type()
        .is_some_and(|t| t.eq_ignore_ascii_case(wanted))
}

impl Link {
    /// auth, the event subscription and the resync.
    async fn handshake(
        &mut self,
        config: &EslConfig,
        conn: &mut Connection,
        context: &mut SourceContext,
    ) -> Result<(), Ended> {
        self.expect(conn, context, "auth/request").await?;
        conn.send(command::auth(config.password.expose()).as_bytes())
            .await?;
        let reply = self.expect(conn, context, "command/reply").await?;
        if !reply.reply_text().is_some_and(|r| r.starts_with("+OK")) {
            let why = reply.reply_text().unwrap_or("refused").to_string();
            tracing::error!(source = %self.source, reason = %why, "ESL auth refused");
            return Err(lost(format!("auth refused: {why}")));
        }
        conn.send(command::subscribe().as_bytes()).await?;
        let reply = self.expect(conn, context, "command/reply").await?;
        if !reply.reply_text().is_some_and(|r| r.starts_with("+OK")) {
            return Err(lost(format!(
                "event subscription refused: {}",
                reply.reply_text().unwrap_or("no reason")
            )));
        }
        tracing::info!(source = %self.source, "ESL authenticated and subscribed");

        let queues = self.api(conn, context, command::QUEUE_LIST).await?;
        let names: Vec<String> = queues
            .rows()
            .filter_map(|r| r.get("name").map(str::to_string))
            .collect();
        let mut tiers = Vec::with_capacity(names.len());
        let mut agents = Vec::with_capacity(names.len());
        for queue in &names {
            tiers.push(
                self.api(conn, context, &command::queue_tiers(queue))
                    .await?,
            );
            agents.push(
                self.api(conn, context, &command::queue_agents(queue))
                    .await?,
            );
        }
        let events = self.mapper.resync_agents(&tiers, &agents, self.clock.now());
        let agent_events = events.len();
        if !record(context, &self.source, events).await {
            return Err(Ended::Shutdown);
        }
        let members = self.api(conn, context, &command::all_members()).await?;
        let events = self.mapper.resync_members(&members, self.clock.now());
        tracing::info!(
            source = %self.source,
            queues = names.len(),
            members = members.len(),
            events = agent_events + events.len(),
            "ESL resynced from callcenter_config"
        );
        if !record(context, &self.source, events).await {
            return Err(Ended::Shutdown);
        }
        Ok(())
    }

    /// `api COMMAND` and its table.
    async fn api(
        &mut self,
        conn: &mut Connection,
        context: &mut SourceContext,
        what: &str,
    ) -> Result<ApiTable, Ended> {
        conn.send(command::api(what).as_bytes()).await?;
        let reply = self.expect(conn, context, "api/response").await?;
        if reply.body.starts_with("-ERR") {
            return Err(lost(format!("`{what}` refused: {}", reply.body.trim())));
        }
        Ok(ApiTable::parse(&reply.body))
    }

    /// Reads up to the first frame of `content_type`; events before it are mapped and
    /// recorded. Frames after it in the same read are kept for the next reader.
    async fn expect(
        &mut self,
        conn: &mut Connection,
        context: &mut SourceContext,
        content_type: &str,
    ) -> Result<EslFrame, Ended> {
        let deadline = tokio::time::Instant::now() + REPLY_TIMEOUT;
        loop {
            let read = tokio::select! {
                read = tokio::time::timeout_at(deadline, conn.read()) => read,
                () = context.shutdown.recv() => return Err(Ended::Shutdown),
            };
            let frames = read.map_err(|_| lost("the switch did not answer in time"))??;
            let mut events = Vec::new();
            let mut found = None;
            let mut frames = frames.into_iter();
            for frame in frames.by_ref() {
                match frame {
                    Ok(f) if is_type(&f, content_type) => {
                        found = Some(f);
                        break;
                    }
                    Ok(f) if is_type(&f, "text/disconnect-notice") => {
                        return Err(lost("the switch sent a disconnect notice"));
                    }
                    other => self.take(other, context, &mut events),
                }
            }
            conn.pending.extend(frames);
            if !record(context, &self.source, events).await {
                return Err(Ended::Shutdown);
            }
            if let Some(frame) = found {
                return Ok(frame);
            }
        }
    }

    /// Streams events until the link or the server goes.
    async fn stream(
        &mut self,
        config: &EslConfig,
        conn: &mut Connection,
        context: &mut SourceContext,
    ) -> Ended {
        let mut ping = tokio::time::interval(config.ping_interval);
        ping.reset();
        let mut heard = Instant::now();
        loop {
            tokio::select! {
                biased;
                () = context.shutdown.recv() => return Ended::Shutdown,
                read = conn.read() => {
                    let frames = match read {
                        Ok(frames) => frames,
                        Err(ended) => return ended,
                    };
                    heard = Instant::now();
                    let mut events = Vec::new();
                    for frame in frames {
                        if matches!(&frame, Ok(f) if is_type(f, "text/disconnect-notice")) {
                            let _ = record(context, &self.source, events).await;
                            return lost("the switch sent a disconnect notice");
                        }
                        self.take(frame, context, &mut events);
                    }
                    if !record(context, &self.source, events).await {
                        return Ended::Shutdown;
                    }
                }
                _ = ping.tick() => {
                    if heard.elapsed() > config.ping_interval * 2 {
                        return lost("no answer to api status");
                    }
                    if let Err(ended) = conn.send(command::api("status").as_bytes()).await {
                        return ended;
                    }
                }
            }
        }
    }

    /// One frame: an event is mapped into `out`, a malformed frame is counted and skipped,
    /// anything else (a late reply) is ignored.
    fn take(
        &mut self,
        frame: Result<EslFrame, EslError>,
        context: &SourceContext,
        out: &mut Vec<Event>,
    ) {
        let event = frame.and_then(|f| {
            if f.is_event() {
                f.event().map(Some)
            } else {
                Ok(None)
            }
        });
        match event {
            Ok(Some(headers)) => {
                if let Some(ts) = headers
                    .get("Event-Date-Timestamp")
                    .and_then(|v| v.parse::<i64>().ok())
                    .map(|us| us.div_euclid(1000))
                    .filter(|ts| floorwatch_core::event::PLAUSIBLE_TS.contains(ts))
                {
                    self.clock.saw(ts);
                }
                let now = self.clock.now();
                out.extend(self.mapper.map(&headers, now));
            }
            Ok(None) => {}
            Err(error) => self.malformed.skipped(&self.source, context, &error),
        }
    }
}
