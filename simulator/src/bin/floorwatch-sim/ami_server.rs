//! `ami-server`: a fake Asterisk switch for tests. It listens on 127.0.0.1, speaks the Asterisk
//! Manager Interface (banner, Login, Events, Filter, Ping, Logoff, QueueStatus) and streams a
//! simulated day as AMI events, from `floorwatch_sim::ami_switch`.
//!
//! **Time.** The day starts at the first login. At a speed factor it then runs on the wall
//! clock, clients or not, as a real switch does: events raised while nobody is connected are
//! gone (a reconnecting client resyncs with QueueStatus). At `--speed max` the day runs only
//! while a logged-in client is *synchronised* (it has asked QueueStatus, or logged in three
//! seconds ago), as fast as that client reads; so the same flags give the same stream, the same drops
//! and the same QueueStatus replies on every run.
//!
//! **Drops.** `--drop-at N,M` / `--drop-every N` / `--drop-random P` (seeded by `--drop-seed`)
//! close every connection at the end of the moment holding that event number, and SIGUSR1
//! closes them at once. At `--speed max` the day then runs on for `--outage` seconds of
//! simulated time with no client (those events are lost to everyone), and waits for the next
//! synchronised client.
//!
//! The first line on standard output is `ami-server listening on ADDRESS`; logs go to
//! standard error. The switch keeps serving (QueueStatus, Ping) after the day's last event,
//! until it is stopped (Ctrl-C or SIGTERM).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use floorwatch_core::Millis;
use floorwatch_core::ami::{AmiDecoder, AmiError, AmiMessage};
use floorwatch_sim::ami_switch::{
    AfterCallWork, AmiDay, BANNER, Credentials, Dialplan, DropPlan, EventClass, Session, SwitchNow,
};
use floorwatch_sim::clock::ClockTime;
use floorwatch_sim::{Scenario, Simulation};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::args::DayArgs;
use crate::pacing::Speed;

/// At `--speed max`, a client that logged in but has not asked QueueStatus gets the day
/// running after this long anyway.
const SYNC_WAIT: Duration = Duration::from_secs(3);
/// A client that takes longer than this to accept one write is disconnected (Asterisk's
/// `writetimeout`, generous here so a busy test machine never trips it).
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, clap::Args)]
pub(crate) struct AmiServerArgs {
    #[command(flatten)]
    day: DayArgs,
    /// Start mid-day: a local time HH:MM on --date, or `now`. Calls already being talked then
    /// are not served (their agents look free until those calls end).
    #[arg(long)]
    start: Option<String>,
    /// 1 (real time), 10, 60, any positive factor, or max: as fast as the clients read, the
    /// day paused while no synchronised client is logged in.
    #[arg(long, default_value = "1")]
    speed: Speed,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// The port (5038 is Asterisk's); 0 picks a free one, printed on the first line.
    #[arg(long, default_value_t = 5038)]
    port: u16,
    /// The manager user clients must log in as.
    #[arg(long, default_value = "floorwatch")]
    username: String,
    /// Its secret.
    #[arg(
        long,
        env = "FLOORWATCH_AMI_SECRET",
        hide_env_values = true,
        default_value = "floorwatch",
        hide_default_value = true
    )]
    secret: String,
    /// How after-call work is shown: `pause` (a pause with reason ACW, exact) or `wrap-up`
    /// (the queues' Wrapuptime; the client infers it).
    #[arg(long, default_value = "pause")]
    after_call_work: AfterCallWork,
    /// What the dialplan does after a queue time-out: `voicemail` (the caller hangs up 5 s
    /// later) or `hangup` (`Hangup()` at once, no HangupRequest: the dialplan that reads as
    /// abandons to a client that goes by the Hangup's timing alone).
    #[arg(long, default_value = "voicemail")]
    dialplan: Dialplan,
    /// Drop every connection after these event numbers (SequenceNumber), comma-separated.
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

pub(crate) async fn serve(args: &AmiServerArgs) -> Result<()> {
    if let Some(p) = args.drop_random
        && !(0.0..=1.0).contains(&p)
    {
        bail!("--drop-random {p}: expected a probability between 0 and 1");
    }
    if !(args.outage.is_finite() && args.outage >= 0.0) {
        bail!("--outage {}: expected seconds >= 0", args.outage);
    }
    let scenario = args.day.scenario()?;
    let simulation = simulation(args, &scenario)?;
    let day = AmiDay::new(&scenario, simulation, args.after_call_work).with_dialplan(args.dialplan);
    let listener = TcpListener::bind((args.host, args.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
    let addr = listener.local_addr().context("no local address")?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "ami-server listening on {addr}")
        .and_then(|()| stdout.flush())
        .context("cannot write to standard output")?;
    tracing::info!(
        scenario = scenario.name(),
        seed = args.day.seed,
        speed = %args.speed,
        "serving a simulated day as AMI; it starts at the first login"
    );
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
        credentials: Credentials {
            username: args.username.clone(),
            secret: args.secret.clone(),
        },
        connections: BTreeMap::new(),
        drops,
        speed: args.speed,
        outage_ms: (args.outage * 1000.0) as Millis,
        clock: DayClock::default(),
        up_since: Instant::now(),
        tx,
        next_connection: 0,
        day_over_told: false,
    };
    switch.run(rx).await;
    Ok(())
}

fn simulation(args: &AmiServerArgs, scenario: &Scenario) -> Result<Simulation> {
    let seed = args.day.seed;
    Ok(match args.start.as_deref() {
        None => Simulation::new(scenario, args.day.date(scenario), seed),
        Some("now") => {
            if args.day.date.is_some() {
                bail!("--start now serves today; leave out --date or give --start HH:MM");
            }
            Simulation::starting_at(scenario, jiff::Timestamp::now().as_millisecond(), seed)
        }
        Some(time) => {
            let time: ClockTime = time.parse().context("--start")?;
            let tz = scenario.calendar().time_zone().clone();
            Simulation::starting_at(scenario, time.on(args.day.date(scenario), &tz), seed)
        }
    })
}

/// What reaches the switch's loop.
enum Incoming {
    Connected(TcpStream, SocketAddr),
    Action {
        id: u64,
        message: Result<AmiMessage, AmiError>,
    },
    Closed {
        id: u64,
    },
    /// SIGUSR1.
    DropLinks,
    /// Ctrl-C or SIGTERM.
    Stop,
}

struct Connection {
    peer: SocketAddr,
    session: Session,
    writer: OwnedWriteHalf,
    reader: JoinHandle<()>,
    /// At `--speed max`, the day runs for this client (it asked QueueStatus, or waited
    /// [`SYNC_WAIT`] since its login).
    synced: bool,
    sync_by: Option<Instant>,
}

/// The wall-clock pacing of a day at a speed factor, from the first login.
#[derive(Debug, Clone, Copy, Default)]
struct DayClock {
    /// (wall time, simulated time) at the start.
    origin: Option<(Instant, Millis)>,
}

impl DayClock {
    fn start(&mut self, wall: Instant, at: Millis) {
        self.origin.get_or_insert((wall, at));
    }

    /// When the moment at `at` is due at `factor` times real time; `None` before the start.
    fn due(&self, at: Millis, factor: f64) -> Option<Instant> {
        let (wall, origin) = self.origin?;
        let secs = (at - origin).max(0) as f64 / 1000.0 / factor;
        Some(wall + Duration::from_secs_f64(secs))
    }

    /// The simulated time at wall time `wall`.
    fn now(&self, wall: Instant, factor: f64) -> Option<Millis> {
        let (start, origin) = self.origin?;
        let elapsed_ms = wall.saturating_duration_since(start).as_secs_f64() * 1000.0;
        Some(origin + (elapsed_ms * factor) as Millis)
    }
}

/// When the next moment goes.
#[derive(Clone, Copy)]
enum Due {
    Now,
    At(Instant),
}

struct Switch {
    day: AmiDay,
    credentials: Credentials,
    connections: BTreeMap<u64, Connection>,
    drops: DropPlan,
    speed: Speed,
    outage_ms: Millis,
    clock: DayClock,
    up_since: Instant,
    /// For the connections' reader tasks.
    tx: mpsc::Sender<Incoming>,
    next_connection: u64,
    day_over_told: bool,
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
                () = wait(due), if due.is_some() => {
                    self.release().await;
                    // At max speed every moment is ready at once: let the accept and reader
                    // tasks run between them.
                    tokio::task::consume_budget().await;
                }
            }
        }
        tracing::info!("stopping");
        self.close_all();
    }

    /// When the next moment is due, if the day runs now.
    fn due(&mut self) -> Option<Due> {
        let Some(next) = self.day.next_time() else {
            if !self.day_over_told {
                self.day_over_told = true;
                tracing::info!(
                    events = self.day.released(),
                    "the day is over; still answering QueueStatus and Ping"
                );
            }
            return None;
        };
        match self.speed {
            Speed::Max => self
                .connections
                .values()
                .any(|c| c.synced && c.session.is_logged_in())
                .then_some(Due::Now),
            Speed::Factor(f) => self.clock.due(next, f).map(Due::At),
        }
    }

    /// The simulated time now, as Ping and QueueStatus tell it.
    fn switch_clock(&self) -> Millis {
        match self.speed {
            Speed::Max => self.day.clock(),
            Speed::Factor(f) => self
                .clock
                .now(Instant::now(), f)
                .map_or(self.day.clock(), |t| t.max(self.day.clock())),
        }
    }

    async fn incoming(&mut self, event: Incoming) {
        match event {
            Incoming::Connected(stream, peer) => self.connected(stream, peer).await,
            Incoming::Action {
                id,
                message: Ok(message),
            } => self.act(id, &message).await,
            Incoming::Action {
                id,
                message: Err(error),
            } => tracing::warn!(connection = id, "skipped a block: {error}"),
            Incoming::Closed { id } => self.close(id, "the client left"),
            Incoming::DropLinks => self.drop_links("SIGUSR1"),
            // Ends the loop in `run` before it gets here.
            Incoming::Stop => {}
        }
    }

    async fn connected(&mut self, stream: TcpStream, peer: SocketAddr) {
        let _ = stream.set_nodelay(true);
        let (read, mut writer) = stream.into_split();
        self.next_connection += 1;
        let id = self.next_connection;
        let banner = format!("{BANNER}\r\n");
        if write(&mut writer, banner.as_bytes()).await.is_err() {
            return;
        }
        let reader = tokio::spawn(read_actions(id, read, self.tx.clone()));
        tracing::info!(connection = id, %peer, "connected");
        self.connections.insert(
            id,
            Connection {
                peer,
                session: Session::new(),
                writer,
                reader,
                synced: false,
                sync_by: None,
            },
        );
    }

    async fn act(&mut self, id: u64, action: &AmiMessage) {
        let clock = self.switch_clock();
        let uptime_s = self.up_since.elapsed().as_secs();
        let Some(conn) = self.connections.get_mut(&id) else {
            return; // dropped while its action was on the way
        };
        let now = SwitchNow {
            floor: self.day.floor(),
            clock,
            uptime_s,
        };
        let acted = conn.session.act(action, &self.credentials, now);
        let is_login = action
            .get("Action")
            .is_some_and(|a| a.eq_ignore_ascii_case("login"));
        if acted.logged_in {
            tracing::info!(connection = id, peer = %conn.peer, "logged in");
            conn.sync_by = Some(Instant::now() + SYNC_WAIT);
            self.clock.start(Instant::now(), self.day.clock());
        } else if is_login {
            // The username is logged, never the secret.
            tracing::warn!(
                connection = id,
                username = action.get("Username").unwrap_or(""),
                "failed to authenticate"
            );
        }
        if acted.queue_status {
            conn.synced = true;
            conn.sync_by = None;
        }
        let bytes: String = acted.replies.iter().map(AmiMessage::encode).collect();
        if write(&mut conn.writer, bytes.as_bytes()).await.is_err() {
            self.close(id, "write failed");
        } else if acted.close {
            self.close(id, "logged off");
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

    /// Sends the next moment to every logged-in client that wants its events, then drops the
    /// links if the plan says so.
    async fn release(&mut self) {
        let before = self.day.released();
        let Some(moment) = self.day.release() else {
            return;
        };
        let texts: Vec<(EventClass, String)> = moment
            .events
            .iter()
            .map(|e| (e.class, e.message.encode()))
            .collect();
        let mut failed = Vec::new();
        for (id, conn) in self.connections.iter_mut() {
            if !conn.session.is_logged_in() {
                continue;
            }
            let bytes: String = texts
                .iter()
                .filter(|(class, text)| conn.session.wants(*class, text))
                .map(|(_, text)| text.as_str())
                .collect();
            if !bytes.is_empty() && write(&mut conn.writer, bytes.as_bytes()).await.is_err() {
                failed.push(*id);
            }
        }
        for id in failed {
            self.close(id, "write failed");
        }
        let upto = self.day.released();
        if self.drops.after_moment(before, upto) {
            self.drop_links(&format!("planned, after event {upto}"));
        }
    }

    /// Closes every connection; at max speed the day then runs on unseen for the outage.
    fn drop_links(&mut self, why: &str) {
        if self.connections.is_empty() {
            return;
        }
        tracing::info!(
            connections = self.connections.len(),
            after_event = self.day.released(),
            "dropping the links: {why}"
        );
        self.close_all();
        if self.speed == Speed::Max && self.outage_ms > 0 {
            self.run_unseen();
        }
    }

    /// At `--speed max` after a drop: the day runs on for the outage with no client, all at
    /// once, so whoever reconnects finds it over (the same events lost on every run).
    fn run_unseen(&mut self) {
        let until = self.day.clock() + self.outage_ms;
        while self.day.next_time().is_some_and(|next| next < until) {
            let before = self.day.released();
            if self.day.release().is_none() {
                break;
            }
            // Planned drops in the outage find no one, but random ones keep their draws.
            self.drops.after_moment(before, self.day.released());
        }
        tracing::info!(
            after_event = self.day.released(),
            "the outage is over; waiting for a client"
        );
    }

    fn close(&mut self, id: u64, why: &str) {
        if let Some(conn) = self.connections.remove(&id) {
            tracing::info!(connection = id, peer = %conn.peer, "closed: {why}");
            conn.reader.abort();
        }
    }

    fn close_all(&mut self) {
        for (_, conn) in std::mem::take(&mut self.connections) {
            conn.reader.abort();
        }
    }
}

async fn wait(due: Option<Due>) {
    match due {
        Some(Due::At(at)) => tokio::time::sleep_until(at).await,
        Some(Due::Now) | None => {}
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

/// Reads a client's actions; each decoded block (or the error of a bad one) goes to the loop.
async fn read_actions(id: u64, mut read: OwnedReadHalf, tx: mpsc::Sender<Incoming>) {
    let mut decoder = AmiDecoder::new();
    let mut buf = vec![0u8; 8 * 1024];
    loop {
        let n = match read.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        decoder.feed(&buf[..n]);
        while let Some(message) = decoder.next_message() {
            if tx.send(Incoming::Action { id, message }).await.is_err() {
                return;
            }
        }
    }
    let _ = tx.send(Incoming::Closed { id }).await;
}

/// SIGUSR1 drops the links; SIGTERM and Ctrl-C stop the switch.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_clock_keeps_the_spacing_scaled_from_the_first_login() {
        let mut clock = DayClock::default();
        assert!(clock.due(5_000, 60.0).is_none(), "not before the start");
        let wall = Instant::now();
        let day_start = 1_773_000_000_000;
        clock.start(wall, day_start);
        clock.start(wall + Duration::from_secs(9), day_start + 1); // only the first counts
        assert_eq!(
            clock.due(day_start + 3_600_000, 60.0),
            Some(wall + Duration::from_secs(60))
        );
        assert_eq!(clock.due(day_start - 10, 60.0), Some(wall));
        assert_eq!(
            clock.now(wall + Duration::from_secs(2), 10.0),
            Some(day_start + 20_000)
        );
    }
}
