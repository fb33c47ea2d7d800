//! `esl-server`: a fake FreeSWITCH with mod_callcenter for tests. It listens on 127.0.0.1,
//! speaks the inbound event socket (`auth/request`, `auth`, `event plain`, `api`, `exit`) and
//! fires a simulated day as `callcenter::info` and channel events, from
//! `floorwatch_sim::esl_switch`. Its flags mirror `ami-server`'s.
//!
//! **Time.** As `ami-server`: the day starts at the first authenticated client; at a speed
//! factor it then runs on the wall clock, clients or not. At `--speed max` the day runs only
//! while an authenticated client is *synchronised* (it has asked `callcenter_config queue list
//! members`, the last step of a resync, or authenticated three seconds ago), as fast as that
//! client reads.
//!
//! **Drops.** `--drop-at N,M` / `--drop-every N` / `--drop-random P` (seeded by `--drop-seed`)
//! close every connection at the end of the moment holding that event number
//! (`Event-Sequence`), and SIGUSR1 closes them at once. `--outage` as with `ami-server`.
//!
//! The first line on standard output is `esl-server listening on ADDRESS`.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use floorwatch_core::Millis;
use floorwatch_core::esl::EslHeaders;
use floorwatch_sim::Simulation;
use floorwatch_sim::ami_switch::DropPlan;
use floorwatch_sim::esl_switch::EslDay;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::args::DayArgs;
use crate::pacing::Speed;

const SYNC_WAIT: Duration = Duration::from_secs(3);
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest command block read from a client.
const MAX_COMMAND: usize = 64 * 1024;

#[derive(Debug, clap::Args)]
pub(crate) struct EslServerArgs {
    #[command(flatten)]
    day: DayArgs,
    /// 1 (real time), 10, 60, any positive factor, or max: as fast as the clients read, the
    /// day paused while no synchronised client is connected.
    #[arg(long, default_value = "1")]
    speed: Speed,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// The port (8021 is FreeSWITCH's); 0 picks a free one, printed on the first line.
    #[arg(long, default_value_t = 8021)]
    port: u16,
    /// The event socket password clients must `auth` with.
    #[arg(
        long,
        env = "FLOORWATCH_ESL_PASSWORD",
        hide_env_values = true,
        default_value = "ClueCon",
        hide_default_value = true
    )]
    password: String,
    /// Drop every connection after these event numbers (Event-Sequence), comma-separated.
    #[arg(long, value_delimiter = ',')]
    drop_at: Vec<u64>,
    /// Drop every connection after every N events.
    #[arg(long)]
    drop_every: Option<u64>,
    /// Drop every connection after each event with this probability (0..1).
    #[arg(long)]
    drop_random: Option<f64>,
    /// The seed of --drop-random [default: --seed].
    #[arg(long)]
    drop_seed: Option<u64>,
    /// At --speed max, after a drop the day runs on for this many seconds of simulated time
    /// with no client before it waits for the next one.
    #[arg(long, default_value_t = 0.0)]
    outage: f64,
}

pub(crate) async fn serve(args: &EslServerArgs) -> Result<()> {
    if let Some(p) = args.drop_random
        && !(0.0..=1.0).contains(&p)
    {
        bail!("--drop-random {p}: expected a probability between 0 and 1");
    }
    if !(args.outage.is_finite() && args.outage >= 0.0) {
        bail!("--outage {}: expected seconds >= 0", args.outage);
    }
    let scenario = args.day.scenario()?;
    let simulation = Simulation::new(&scenario, args.day.date(&scenario), args.day.seed);
    let day = EslDay::new(&scenario, simulation);
    let listener = TcpListener::bind((args.host, args.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
    let addr = listener.local_addr().context("no local address")?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "esl-server listening on {addr}")
        .and_then(|()| stdout.flush())
        .context("cannot write to standard output")?;
    tracing::info!(scenario = scenario.name(), seed = args.day.seed, speed = %args.speed, "serving a simulated day over ESL; it starts at the first auth");
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(accept(listener, tx.clone()));
    watch_signals(&tx)?;
    let drops = DropPlan::new(
        args.drop_at.clone(),
        args.drop_every,
        args.drop_random
            .map(|p| (p, args.drop_seed.unwrap_or(args.day.seed))),
    );
    let switch = Switch {
        day,
        password: args.password.clone(),
        connections: BTreeMap::new(),
        drops,
        speed: args.speed,
        outage_ms: (args.outage * 1000.0) as Millis,
        origin: None,
        tx,
        next_connection: 0,
    };
    switch.run(rx).await;
    Ok(())
}

enum Incoming {
    Connected(TcpStream, SocketAddr),
    Command { id: u64, line: String },
    Closed { id: u64 },
    DropLinks,
    Stop,
}

/// Which events a connection asked for with `event plain ...`.
#[derive(Default)]
struct Subscription {
    all: bool,
    names: HashSet<String>,
    subclasses: HashSet<String>,
}

impl Subscription {
    fn add(&mut self, words: &[&str]) {
        let mut custom = false;
        for word in words {
            match *word {
                "ALL" => self.all = true,
                "CUSTOM" => custom = true,
                w if custom => {
                    self.subclasses.insert(w.to_string());
                }
                w => {
                    self.names.insert(w.to_string());
                }
            }
        }
    }

    fn wants(&self, h: &EslHeaders) -> bool {
        let name = h.get("Event-Name").unwrap_or("");
        self.all
            || self.names.contains(name)
            || (name == "CUSTOM"
                && h.get("Event-Subclass")
                    .is_some_and(|s| self.subclasses.contains(s)))
    }
}

struct Connection {
    peer: SocketAddr,
    authed: bool,
    events: Subscription,
    writer: OwnedWriteHalf,
    reader: JoinHandle<()>,
    synced: bool,
    sync_by: Option<Instant>,
}

struct Switch {
    day: EslDay,
    password: String,
    connections: BTreeMap<u64, Connection>,
    drops: DropPlan,
    speed: Speed,
    outage_ms: Millis,
    /// (wall time, simulated time) at the first auth.
    origin: Option<(Instant, Millis)>,
    tx: mpsc::Sender<Incoming>,
    next_connection: u64,
}

fn reply(text: &str) -> String {
    format!("Content-Type: command/reply\nReply-Text: {text}\n\n")
}

impl Switch {
    async fn run(mut self, mut incoming: mpsc::Receiver<Incoming>) {
        loop {
            let due = self.due();
            let sync_by = self.connections.values().filter_map(|c| c.sync_by).min();
            tokio::select! {
                biased;
                event = incoming.recv() => match event {
                    Some(Incoming::Stop) | None => break,
                    Some(event) => self.incoming(event).await,
                },
                () = wait_until(sync_by), if sync_by.is_some() => self.sync_due(),
                () = wait_until(due.flatten()), if due.is_some() => {
                    self.release().await;
                    tokio::task::consume_budget().await;
                }
            }
        }
        tracing::info!("stopping");
        for (_, conn) in std::mem::take(&mut self.connections) {
            conn.reader.abort();
        }
    }

    /// `Some(None)`: the next moment is due now; `Some(Some(t))`: at `t`; `None`: not running.
    fn due(&mut self) -> Option<Option<Instant>> {
        let next = self.day.next_time()?;
        match self.speed {
            Speed::Max => self
                .connections
                .values()
                .any(|c| c.synced && c.authed)
                .then_some(None),
            Speed::Factor(f) => {
                let (wall, origin) = self.origin?;
                let secs = (next - origin).max(0) as f64 / 1000.0 / f;
                Some(Some(wall + Duration::from_secs_f64(secs)))
            }
        }
    }

    async fn incoming(&mut self, event: Incoming) {
        match event {
            Incoming::Connected(stream, peer) => self.connected(stream, peer).await,
            Incoming::Command { id, line } => self.command(id, &line).await,
            Incoming::Closed { id } => self.close(id, "the client left"),
            Incoming::DropLinks => self.drop_links("SIGUSR1"),
            Incoming::Stop => {}
        }
    }

    async fn connected(&mut self, stream: TcpStream, peer: SocketAddr) {
        let _ = stream.set_nodelay(true);
        let (read, mut writer) = stream.into_split();
        self.next_connection += 1;
        let id = self.next_connection;
        if write(&mut writer, b"Content-Type: auth/request\n\n")
            .await
            .is_err()
        {
            return;
        }
        let reader = tokio::spawn(read_commands(id, read, self.tx.clone()));
        tracing::info!(connection = id, %peer, "connected");
        self.connections.insert(
            id,
            Connection {
                peer,
                authed: false,
                events: Subscription::default(),
                writer,
                reader,
                synced: false,
                sync_by: None,
            },
        );
    }

    /// One command, answered as mod_event_socket does.
    async fn command(&mut self, id: u64, line: &str) {
        let now = self.day.clock();
        let Some(conn) = self.connections.get_mut(&id) else {
            return;
        };
        let mut close = false;
        let text = if line.starts_with("exit") {
            close = true;
            reply("+OK bye")
        } else if !conn.authed {
            match line.strip_prefix("auth ") {
                Some(password) if password == self.password => {
                    conn.authed = true;
                    conn.sync_by = Some(Instant::now() + SYNC_WAIT);
                    self.origin
                        .get_or_insert((Instant::now(), self.day.clock()));
                    tracing::info!(connection = id, peer = %conn.peer, "authenticated");
                    reply("+OK accepted")
                }
                _ => {
                    tracing::warn!(connection = id, "failed to authenticate");
                    close = true;
                    reply("-ERR invalid")
                }
            }
        } else if let Some(rest) = line.strip_prefix("event ") {
            let words: Vec<&str> = rest.split_whitespace().collect();
            match words.split_first() {
                Some((&"plain", names)) => {
                    conn.events.add(names);
                    reply("+OK event listener enabled plain")
                }
                _ => reply("-ERR invalid format"),
            }
        } else if let Some(api) = line.strip_prefix("api ") {
            if api.trim() == "callcenter_config queue list members" {
                conn.synced = true;
                conn.sync_by = None;
            }
            let body = self.day.writer().api(api, now).unwrap_or_else(|| {
                format!(
                    "-ERR {} Command not found!\n",
                    api.split_whitespace().next().unwrap_or("")
                )
            });
            format!(
                "Content-Type: api/response\nContent-Length: {}\n\n{body}",
                body.len()
            )
        } else {
            reply("-ERR command not found")
        };
        if write(&mut conn.writer, text.as_bytes()).await.is_err() {
            self.close(id, "write failed");
        } else if close {
            self.close(id, "exit");
        }
    }

    fn sync_due(&mut self) {
        let now = Instant::now();
        for conn in self.connections.values_mut() {
            if conn.sync_by.is_some_and(|by| by <= now) {
                conn.synced = true;
                conn.sync_by = None;
            }
        }
    }

    async fn release(&mut self) {
        let before = self.day.released();
        let Some(moment) = self.day.release() else {
            return;
        };
        let mut failed = Vec::new();
        for (id, conn) in self.connections.iter_mut() {
            if !conn.authed {
                continue;
            }
            let bytes: String = moment
                .events
                .iter()
                .filter(|h| conn.events.wants(h))
                .map(|h| {
                    let body = h.encode_event();
                    format!(
                        "Content-Length: {}\nContent-Type: text/event-plain\n\n{body}",
                        body.len()
                    )
                })
                .collect();
            if !bytes.is_empty() && write(&mut conn.writer, bytes.as_bytes()).await.is_err() {
                failed.push(*id);
            }
        }
        for id in failed {
            self.close(id, "write failed");
        }
        if self.drops.after_moment(before, self.day.released()) {
            self.drop_links(&format!("planned, after event {}", self.day.released()));
        }
    }

    fn drop_links(&mut self, why: &str) {
        if self.connections.is_empty() {
            return;
        }
        tracing::info!(
            connections = self.connections.len(),
            after_event = self.day.released(),
            "dropping the links: {why}"
        );
        for (_, conn) in std::mem::take(&mut self.connections) {
            conn.reader.abort();
        }
        if self.speed == Speed::Max && self.outage_ms > 0 {
            let until = self.day.clock() + self.outage_ms;
            while self.day.next_time().is_some_and(|next| next < until) {
                let before = self.day.released();
                if self.day.release().is_none() {
                    break;
                }
                self.drops.after_moment(before, self.day.released());
            }
        }
    }

    fn close(&mut self, id: u64, why: &str) {
        if let Some(conn) = self.connections.remove(&id) {
            tracing::info!(connection = id, peer = %conn.peer, "closed: {why}");
            conn.reader.abort();
        }
    }
}

async fn wait_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

async fn write(writer: &mut OwnedWriteHalf, bytes: &[u8]) -> Result<(), ()> {
    match tokio::time::timeout(WRITE_TIMEOUT, writer.write_all(bytes)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

async fn accept(listener: TcpListener, tx: mpsc::Sender<Incoming>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                if tx.send(Incoming::Connected(stream, peer)).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Reads a client's commands: blocks ending in a blank line, the first line of each is the
/// command (mod_event_socket.c, `read_packet`).
async fn read_commands(id: u64, mut read: OwnedReadHalf, tx: mpsc::Sender<Incoming>) {
    let mut pending = String::new();
    let mut buf = vec![0u8; 8 * 1024];
    loop {
        let n = match read.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        pending.push_str(&String::from_utf8_lossy(&buf[..n]).replace('\r', ""));
        while let Some(end) = pending.find("\n\n") {
            let block: String = pending.drain(..end + 2).collect();
            let line = block.lines().next().unwrap_or("").trim().to_string();
            if !line.is_empty() && tx.send(Incoming::Command { id, line }).await.is_err() {
                return;
            }
        }
        if pending.len() > MAX_COMMAND {
            break;
        }
    }
    let _ = tx.send(Incoming::Closed { id }).await;
}

fn watch_signals(tx: &mpsc::Sender<Incoming>) -> Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut usr1 = signal(SignalKind::user_defined1()).context("cannot watch SIGUSR1")?;
        let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
        let drops = tx.clone();
        tokio::spawn(async move {
            while usr1.recv().await.is_some() {
                if drops.send(Incoming::DropLinks).await.is_err() {
                    return;
                }
            }
        });
        let stop = tx.clone();
        tokio::spawn(async move {
            if term.recv().await.is_some() {
                let _ = stop.send(Incoming::Stop).await;
            }
        });
    }
    let stop = tx.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = stop.send(Incoming::Stop).await;
        }
    });
    Ok(())
}
