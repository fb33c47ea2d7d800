//! `floorwatch-load`: drives a running server with ingest and N live websocket clients at once,
//! and reports sustained ingest events/s, ingest-to-client latency p50/p99, frames received and
//! dropped, and the server's RSS.
//!
//! The server must run with `--clock events`: every batch gets an event time later than the
//! one before, and a frame whose `now` has reached a batch's time reflects it (one ingest
//! connection, batches applied in order). Latency is measured per client and per batch, from
//! the acknowledgement of the batch (its acceptance; 0 if the frame beat the reply) to the
//! first frame that reflects it; the same from the moment the batch was sent is reported too.
//!
//! Every client connects from this machine's address, so the server's per-address connection
//! cap (64 by default) must be lifted for more clients than that.
//!
//! ```text
//! floorwatch --clock events --data-dir /tmp/fw-load --max-connections-per-address 0 &
//! floorwatch-load --url http://127.0.0.1:8080 --clients 1000 --rate 20000 --duration 30
//! ```
//!
//! Against a cluster (docs/CLUSTER.md), `--also URL` names each other node: ingest goes to
//! `--url`, the clients are spread over all nodes, and the API token must be valid on every
//! node (the cluster shares its accounts).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use floorwatch_core::wire::IngestReply;
use floorwatch_core::{Event, EventKind};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

#[derive(Debug, Parser)]
#[command(name = "floorwatch-load", version, about)]
struct Args {
    /// Base URL of a server started with `--clock events`: ingest goes here.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Other nodes of the same cluster (docs/CLUSTER.md), each `http://HOST:PORT`: the live
    /// clients are spread over `--url` and these in turn, so a frame's latency includes the
    /// way through the cluster's stream to another node. Repeat for each node.
    #[arg(long = "also", value_name = "URL")]
    also: Vec<String>,
    /// The server's ingest token (or an ingest account's API token), if it needs one.
    #[arg(long, env = "FLOORWATCH_INGEST_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// An API token to read with (`floorwatch token create USER`): the live clients and
    /// `/metrics` need one; a centre-wide user's (admin, manager, supervisor), as the team-lead
    /// clients subscribe to agents.
    #[arg(long, env = "FLOORWATCH_API_TOKEN", hide_env_values = true)]
    api_token: String,
    /// Live websocket clients.
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// Target ingest rate, events per second.
    #[arg(long, default_value_t = 20_000)]
    rate: u64,
    /// Events per ingest batch (one websocket message).
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Agents on the simulated floor.
    #[arg(long, default_value_t = 1_000)]
    agents: usize,
    /// Queues on the simulated floor.
    #[arg(long, default_value_t = 10)]
    queues: usize,
    /// Every Nth client is a team lead that also subscribes to its team's agents; the others
    /// are wall displays (centre and every queue, 15m and today).
    #[arg(long, default_value_t = 10)]
    team_lead_every: usize,
}

/// One ingest batch, as the clients need it.
struct Mark {
    ts: i64,
    sent: Instant,
    acked: Option<Instant>,
}

type Marks = Arc<Mutex<Vec<Mark>>>;

/// What one client saw.
struct ClientReport {
    from_ack: Histogram<u64>,
    from_send: Histogram<u64>,
    frames: u64,
    snapshots: u64,
    seq_gaps: u64,
    before_ack: u64,
    closed_early: bool,
    /// The first error frame, if the subscription was refused.
    error: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let base = args.url.trim_end_matches('/').to_string();
    let authority = base
        .strip_prefix("http://")
        .context("--url must be http://HOST:PORT")?
        .to_string();
    let health = http_get_json(&authority, "/healthz").await?;
    if health["clock"] != "events" {
        bail!(
            "the server must run with --clock events (it runs with {})",
            health["clock"]
        );
    }
    let wall = jiff::Timestamp::now().as_millisecond();
    let server_now = health["now"].as_i64().unwrap_or(0);
    let t0 = wall.max(server_now) + 1_000;
    let run = format!("load{wall}");

    let mut live_authorities = vec![authority.clone()];
    for url in &args.also {
        let other = url
            .trim_end_matches('/')
            .strip_prefix("http://")
            .with_context(|| format!("--also {url} must be http://HOST:PORT"))?;
        live_authorities.push(other.to_string());
    }

    let mut floor = Floor::new(&run, args.agents, args.queues);
    let mut ingest = connect(
        &format!("ws://{authority}/api/v1/ingest"),
        args.token.as_deref(),
    )
    .await
    .context("connecting the ingest websocket")?;
    let logins = floor.logins(t0);
    send_batch(&mut ingest, &logins).await?;
    // Stagger the agents' calls, so that every batch has calls entering, ringing, answered,
    // ended and wrapped up (every batch changes the figures: each is seen in a delta), and
    // every queue has had a call (so it is a scope clients may subscribe to).
    let warm_up = floor.stagger(t0);
    send_batch(&mut ingest, &warm_up).await?;

    let marks: Marks = Arc::new(Mutex::new(Vec::new()));
    // Microseconds, up to two minutes, three significant digits.
    let histogram = Histogram::<u64>::new_with_bounds(1, 120_000_000, 3)?;
    let (stop_tx, stop) = watch::channel(false);
    eprintln!(
        "connecting {} live clients to {} node(s)...",
        args.clients,
        live_authorities.len()
    );
    let mut clients = Vec::with_capacity(args.clients);
    // In waves of 50, each waiting for its snapshots, so 1,000 handshakes do not all land at
    // once.
    let mut waiting = Vec::new();
    for i in 0..args.clients {
        let subscribe = subscription(i, &args);
        let url = format!(
            "ws://{}/api/v1/live",
            live_authorities[i % live_authorities.len()]
        );
        let (ready_tx, ready) = tokio::sync::oneshot::channel();
        clients.push(tokio::spawn(live_client(
            url,
            args.api_token.clone(),
            subscribe,
            marks.clone(),
            stop.clone(),
            ready_tx,
            histogram.clone(),
        )));
        waiting.push(ready);
        if waiting.len() == 50 || i + 1 == args.clients {
            for ready in waiting.drain(..) {
                let _ = tokio::time::timeout(Duration::from_secs(10), ready).await;
            }
        }
    }

    eprintln!(
        "ingesting {} events/s in batches of {} for {} s...",
        args.rate, args.batch, args.duration
    );
    let rss_peak = Arc::new(Mutex::new(0u64));
    let sampler = tokio::spawn(sample_rss(
        live_authorities.clone(),
        rss_peak.clone(),
        stop.clone(),
    ));
    let interval = Duration::from_secs_f64(args.batch as f64 / args.rate as f64);
    let event_step = (interval.as_millis() as i64).max(1);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.duration);
    let mut sent_events = 0u64;
    let mut accepted = 0u64;
    let mut k = 0u64;
    while Instant::now() < deadline {
        let due = started + interval.mul_f64(k as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            tokio::time::sleep(wait).await;
        }
        k += 1;
        let ts = t0 + 1_000 + k as i64 * event_step;
        let events = floor.batch(args.batch, ts);
        let index = {
            let mut marks = marks.lock().unwrap_or_else(|p| p.into_inner());
            marks.push(Mark {
                ts,
                sent: Instant::now(),
                acked: None,
            });
            marks.len() - 1
        };
        let reply = send_batch(&mut ingest, &events).await?;
        if let Some(mark) = marks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(index)
        {
            mark.acked = Some(Instant::now());
        }
        sent_events += events.len() as u64;
        accepted += reply.accepted;
    }
    let elapsed = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = stop_tx.send(true);
    let _ = sampler.await;

    let mut from_ack = histogram.clone();
    let mut from_send = histogram;
    let (mut frames, mut snapshots, mut gaps, mut before_ack, mut closed) = (0, 0, 0, 0, 0);
    let mut refused = 0;
    for client in clients {
        let Ok(report) = client.await else { continue };
        from_ack.add(&report.from_ack)?;
        from_send.add(&report.from_send)?;
        frames += report.frames;
        snapshots += report.snapshots;
        gaps += report.seq_gaps;
        before_ack += report.before_ack;
        closed += u64::from(report.closed_early);
        if let Some(error) = report.error {
            if refused == 0 {
                eprintln!("a subscription was refused: {error}");
            }
            refused += 1;
        }
    }
    let (mut dropped, mut disconnected) = (0, 0);
    for authority in &live_authorities {
        let metrics = http_get(authority, "/metrics", Some(&args.api_token))
            .await
            .unwrap_or_default();
        dropped += sum_metric(&metrics, "floorwatch_live_frames_dropped_total");
        disconnected += sum_metric(&metrics, "floorwatch_live_slow_clients_disconnected_total");
    }
    let rss = *rss_peak.lock().unwrap_or_else(|p| p.into_inner());
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;

    println!("clients                 {}", args.clients);
    println!(
        "ingest                  {accepted} of {sent_events} events accepted in {:.1} s: {:.0} events/s sustained (target {})",
        elapsed.as_secs_f64(),
        accepted as f64 / elapsed.as_secs_f64(),
        args.rate
    );
    println!(
        "latency from ack        p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms  ({} samples, {} frames before the ack)",
        ms(&from_ack, 0.5),
        ms(&from_ack, 0.99),
        from_ack.max() as f64 / 1000.0,
        from_ack.len(),
        before_ack
    );
    println!(
        "latency from send       p50 {:.1} ms  p99 {:.1} ms",
        ms(&from_send, 0.5),
        ms(&from_send, 0.99)
    );
    println!(
        "frames                  {frames} received, {snapshots} snapshots, {gaps} seq gaps, {dropped} dropped by the server, {disconnected} slow clients disconnected, {closed} clients closed early, {refused} subscriptions refused"
    );
    println!(
        "server RSS peak         {:.1} MB (the largest node)",
        rss as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}

fn subscription(i: usize, args: &Args) -> String {
    let mut scopes = vec!["\"centre\"".to_string()];
    let lead = args.team_lead_every > 0 && i.is_multiple_of(args.team_lead_every);
    if lead {
        let teams = Floor::teams(args.agents);
        scopes.push(format!("\"queue:q{}\"", i % args.queues.max(1)));
        scopes.push(format!("\"agents:team:t{}\"", i % teams));
    } else {
        scopes.extend((0..args.queues).map(|q| format!("\"queue:q{q}\"")));
    }
    format!(
        r#"{{"subscribe":[{}],"windows":["15m","today"]}}"#,
        scopes.join(",")
    )
}

/// Read buffer of each websocket (see `connect`).
const READ_BUFFER_BYTES: usize = 32 * 1024;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str, token: Option<&str>) -> anyhow::Result<Socket> {
    let mut request = url.into_client_request()?;
    if let Some(token) = token {
        request
            .headers_mut()
            .insert("Authorization", format!("Bearer {token}").parse()?);
    }
    // tungstenite zero-fills its whole read buffer before every read (128 KiB by default):
    // with 10,000 clients that memset was a quarter of the tool's CPU on the server's cores
    // (issue 15's fan-out run). 32 KiB still takes most deltas in one read.
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
    let (socket, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), false).await?;
    Ok(socket)
}

async fn send_batch(socket: &mut Socket, events: &[Event]) -> anyhow::Result<IngestReply> {
    let mut body = String::with_capacity(events.len() * 160);
    for e in events {
        body.push_str(&e.to_json());
        body.push('\n');
    }
    socket.send(Message::text(body)).await?;
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => {
                let reply: IngestReply = serde_json::from_str(text.as_str())
                    .with_context(|| format!("ingest answered: {text}"))?;
                if reply.rejected > 0 {
                    bail!("the server rejected events: {:?}", reply.errors.first());
                }
                return Ok(reply);
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
            None => bail!("the ingest socket closed"),
        }
    }
}

async fn live_client(
    url: String,
    token: String,
    subscribe: String,
    marks: Marks,
    mut stop: watch::Receiver<bool>,
    ready: tokio::sync::oneshot::Sender<()>,
    histogram: Histogram<u64>,
) -> ClientReport {
    let mut report = ClientReport {
        from_ack: histogram.clone(),
        from_send: histogram,
        frames: 0,
        snapshots: 0,
        seq_gaps: 0,
        before_ack: 0,
        closed_early: true,
        error: None,
    };
    let Ok(mut socket) = connect(&url, Some(&token)).await else {
        return report;
    };
    if socket.send(Message::text(subscribe)).await.is_err() {
        return report;
    }
    let mut ready = Some(ready);
    let mut next_mark = usize::MAX;
    let mut last_seq = 0u64;
    loop {
        let message = tokio::select! {
            m = socket.next() => m,
            _ = stop.changed() => { report.closed_early = false; break; }
        };
        let received = Instant::now();
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(_)) => continue,
            _ => break,
        };
        let Some((kind, seq, now)) = frame_head(text.as_str()) else {
            continue;
        };
        report.frames += 1;
        if seq != last_seq + 1 {
            report.seq_gaps += 1;
        }
        last_seq = seq;
        if kind == "error" && report.error.is_none() {
            report.error = Some(text.to_string());
        }
        if kind == "snapshot" {
            report.snapshots += 1;
            if let Some(ready) = ready.take() {
                let _ = ready.send(());
            }
        }
        let marks = marks.lock().unwrap_or_else(|p| p.into_inner());
        if next_mark == usize::MAX {
            // Measure only batches sent after this client's first snapshot.
            next_mark = marks.len();
        }
        while let Some(mark) = marks.get(next_mark) {
            if mark.ts > now {
                break;
            }
            let since_send = received.saturating_duration_since(mark.sent);
            let since_ack = match mark.acked {
                Some(acked) => received.saturating_duration_since(acked),
                None => {
                    report.before_ack += 1;
                    Duration::ZERO
                }
            };
            let _ = report.from_ack.record(since_ack.as_micros().max(1) as u64);
            let _ = report
                .from_send
                .record(since_send.as_micros().max(1) as u64);
            next_mark += 1;
        }
    }
    report
}

/// `type`, `seq` and `now` from the head of a frame: the server writes them first, so the
/// megabytes of figures behind them need not be parsed.
fn frame_head(text: &str) -> Option<(&str, u64, i64)> {
    let head = &text[..text.len().min(120)];
    let kind = head.strip_prefix("{\"type\":\"")?.split('"').next()?;
    let number = |field: &str| -> Option<i64> {
        let start = head.find(field)? + field.len();
        let digits: String = head[start..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '-')
            .collect();
        digits.parse().ok()
    };
    let seq = number("\"seq\":")?;
    let now = number("\"now\":").unwrap_or(i64::MIN);
    Some((kind, u64::try_from(seq).ok()?, now))
}

/// The largest RSS any one node reached (each node is its own process: the peak of one is
/// what a machine must have per node).
async fn sample_rss(
    authorities: Vec<String>,
    peak: Arc<Mutex<u64>>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        for authority in &authorities {
            if let Ok(health) = http_get_json(authority, "/healthz").await
                && let Some(rss) = health["rss_bytes"].as_u64()
            {
                let mut peak = peak.lock().unwrap_or_else(|p| p.into_inner());
                *peak = (*peak).max(rss);
            }
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => return,
        }
    }
}

fn sum_metric(text: &str, name: &str) -> u64 {
    text.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.split_whitespace().last()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// A minimal HTTP/1.1 GET (the load tool needs two endpoints and no client library).
async fn http_get(authority: &str, path: &str, token: Option<&str>) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect(authority).await?;
    let authorization = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\n{authorization}Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let text = String::from_utf8_lossy(&response);
    let (_, body) = text
        .split_once("\r\n\r\n")
        .context("malformed HTTP response")?;
    Ok(body.to_string())
}

async fn http_get_json(authority: &str, path: &str) -> anyhow::Result<serde_json::Value> {
    let body = http_get(authority, path, None).await?;
    serde_json::from_str(&body).with_context(|| format!("GET {path}: {body}"))
}

/// Steps of one call: entered, offered, answered, ended, after-call work ended.
const STEPS: u8 = 5;

/// The simulated floor: agents cycling through calls, one step per visit.
struct Floor {
    run: String,
    agents: Vec<AgentCycle>,
    next_agent: usize,
    seq: u64,
}

struct AgentCycle {
    id: String,
    team: String,
    queue: String,
    call: u64,
    step: u8,
}

impl Floor {
    fn teams(agents: usize) -> usize {
        agents.div_ceil(20).max(1)
    }

    fn new(run: &str, agents: usize, queues: usize) -> Floor {
        let queues = queues.max(1);
        Floor {
            run: run.to_string(),
            agents: (0..agents.max(1))
                .map(|a| AgentCycle {
                    id: format!("a{a}"),
                    team: format!("t{}", a / 20),
                    queue: format!("q{}", (a / STEPS as usize) % queues),
                    call: 0,
                    step: 0,
                })
                .collect(),
            next_agent: 0,
            seq: 0,
        }
    }

    fn event(&mut self, ts: i64, kind: EventKind) -> Event {
        self.seq += 1;
        Event {
            v: 1,
            id: format!("{}-{}", self.run, self.seq),
            source: "load".into(),
            seq: self.seq,
            ts,
            test: false,
            kind,
        }
    }

    fn logins(&mut self, ts: i64) -> Vec<Event> {
        let kinds: Vec<EventKind> = self
            .agents
            .iter()
            .map(|a| EventKind::AgentLogin {
                agent: a.id.clone(),
                team: Some(a.team.clone()),
            })
            .collect();
        kinds.into_iter().map(|k| self.event(ts, k)).collect()
    }

    /// Moves agent `a` through the first `a % STEPS` steps of a call, at `ts`.
    fn stagger(&mut self, ts: i64) -> Vec<Event> {
        let mut out = Vec::new();
        for i in 0..self.agents.len() {
            for _ in 0..i % STEPS as usize {
                out.push(self.step(i, ts));
            }
        }
        out
    }

    /// `n` events at `ts`: each visit moves one agent's call a step on (enter the queue,
    /// ring, answer, hang up, finish after-call work).
    fn batch(&mut self, n: usize, ts: i64) -> Vec<Event> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let i = self.next_agent;
            self.next_agent = (self.next_agent + 1) % self.agents.len();
            out.push(self.step(i, ts));
        }
        out
    }

    fn step(&mut self, i: usize, ts: i64) -> Event {
        let a = &mut self.agents[i];
        let call = format!("{}-{}-{}", self.run, a.id, a.call);
        let agent = a.id.clone();
        let kind = match a.step {
            0 => EventKind::CallEnteredQueue {
                call,
                queue: a.queue.clone(),
                priority: 0,
                caller: None,
                direction: floorwatch_core::Direction::Inbound,
            },
            1 => EventKind::CallOffered { call, agent },
            2 => EventKind::CallAnswered {
                call,
                agent,
                queue: None,
                wait_ms: None,
            },
            3 => EventKind::CallEnded {
                call,
                queue: None,
                agent: Some(agent),
                talk_ms: None,
            },
            _ => EventKind::CallAfterCallWorkEnded { call },
        };
        a.step = (a.step + 1) % STEPS;
        if a.step == 0 {
            a.call += 1;
        }
        self.event(ts, kind)
    }
}
