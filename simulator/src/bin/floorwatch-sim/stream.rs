//! `run` and `replay`: events, from a simulation or a recorded file, paced and batched into a
//! server (see `pacing` for the spacing and `ingest` for delivery).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use floorwatch_core::Millis;
use floorwatch_sim::Simulation;
use floorwatch_sim::clock::ClockTime;
use jiff::tz::TimeZone;

use crate::args::{ReplayArgs, RunArgs, SendArgs};
use crate::format::RecordedDay;
use crate::ingest::{Acknowledged, Batch, IngestClient};
use crate::ingest_socket::SocketSender;
use crate::pacing::{LINGER, MAX_HOLD, Pacer};
use crate::progress::{Progress, Span, Summary, local_clock, local_time, rate};
use crate::stop::Stop;

/// Where events come from, and how far along it is (for the progress bar).
trait Source {
    /// The next event's time, its NDJSON line appended to `out`.
    fn next_event(&mut self, out: &mut String) -> Option<Result<Millis>>;
    fn position(&self, last_ts: Millis) -> u64;
}

struct Simulated {
    sim: Simulation,
    from: Millis,
}

impl Source for Simulated {
    fn next_event(&mut self, out: &mut String) -> Option<Result<Millis>> {
        self.sim.next().map(|e| {
            out.push_str(&e.to_json());
            Ok(e.ts)
        })
    }
    fn position(&self, last_ts: Millis) -> u64 {
        ((last_ts - self.from).max(0) / 1000) as u64
    }
}

impl Source for RecordedDay {
    fn next_event(&mut self, out: &mut String) -> Option<Result<Millis>> {
        self.next_line(out)
            .map(|r| r.context("cannot read the recorded day"))
    }
    fn position(&self, _: Millis) -> u64 {
        self.bytes_read
    }
}

/// What a run delivered.
struct Delivery {
    read: u64,
    acknowledged: Acknowledged,
    first_ts: Option<Millis>,
    last_ts: Option<Millis>,
    elapsed: Duration,
    interrupted: bool,
    url: String,
}

pub(crate) async fn run(args: &RunArgs) -> Result<()> {
    let scenario = args.day.scenario()?;
    let tz = scenario.calendar().time_zone().clone();
    let seed = args.day.seed;
    let sim = match args.start.as_deref() {
        None => Simulation::new(&scenario, args.day.date(&scenario), seed),
        Some("now") => {
            if args.day.date.is_some() {
                bail!("--start now runs today; leave out --date or give --start HH:MM");
            }
            Simulation::starting_at(&scenario, jiff::Timestamp::now().as_millisecond(), seed)
        }
        Some(time) => {
            let time: ClockTime = time.parse().context("--start")?;
            let start = time.on(args.day.date(&scenario), &tz);
            Simulation::starting_at(&scenario, start, seed)
        }
    };
    let from = sim.recorded_from();
    let span = Span::SimTime {
        from,
        to: sim.day_end(),
    };
    let mut source = Simulated { sim, from };
    let delivery = deliver(&mut source, &args.send, &span, &tz).await?;
    let mut summary = summary(
        format!(
            "ran {} (seed {seed}) at {} into {}",
            scenario.name(),
            args.send.speed,
            delivery.url
        ),
        &delivery,
        &tz,
    );
    summary.row("agents", scenario.agent_count());
    summary.print();
    finish(&delivery)
}

pub(crate) async fn replay(args: &ReplayArgs) -> Result<()> {
    let mut day = RecordedDay::open(&args.file, args.format)?;
    let span = day.bytes_total.map(Span::Bytes).unwrap_or(Span::Unknown);
    // A replay shows event times on the clock of the machine's zone: the file does not say
    // which centre it came from.
    let tz = TimeZone::system();
    let delivery = deliver(&mut day, &args.send, &span, &tz).await?;
    let mut summary = summary(
        format!(
            "replayed {} at {} into {}",
            args.file.display(),
            args.send.speed,
            delivery.url
        ),
        &delivery,
        &tz,
    );
    summary.row(
        "lines skipped",
        if day.skipped_count == 0 {
            "0".to_string()
        } else {
            let first = &day.skipped[0];
            format!(
                "{} (first: line {}: {})",
                day.skipped_count, first.line, first.reason
            )
        },
    );
    summary.print();
    finish(&delivery)
}

/// Reads, paces, batches and sends every event of `source`.
async fn deliver(
    source: &mut dyn Source,
    send: &SendArgs,
    span: &Span,
    tz: &TimeZone,
) -> Result<Delivery> {
    let stop = Stop::watch_ctrl_c();
    let mut client = Sender::new(send)?;
    let mut progress = Progress::new(span, "sending");
    let mut pacer = Pacer::new(send.speed);
    let started = Instant::now();
    let batch_max = send.batch as usize;
    // Room for a batch of lines of a typical size (160 bytes), grown as needed.
    let batch_bytes = batch_max.min(10_000) * 160;
    let mut batch = Batch::with_capacity(batch_bytes);
    let mut batch_since: Option<Instant> = None;
    let (mut read, mut first_ts, mut last_ts) = (0u64, None, None);
    // The line read, before it joins the batch: pacing may send the batch without it first.
    let mut line = String::new();
    loop {
        line.clear();
        let Some(item) = source.next_event(&mut line) else {
            break;
        };
        let ts = item?;
        if !pacer.is_max() {
            let due = started + pacer.due(ts);
            let now = Instant::now();
            if due > now {
                let held_too_long =
                    batch_since.is_some_and(|since| due.duration_since(since) > MAX_HOLD);
                if !batch.is_empty() && (due - now > LINGER || held_too_long) {
                    client.send(std::mem::take(&mut batch), &stop).await?;
                    batch_since = None;
                }
                stop.sleep(due.saturating_duration_since(Instant::now()))
                    .await;
            }
        }
        if stop.requested() {
            break;
        }
        read += 1;
        first_ts.get_or_insert(ts);
        last_ts = Some(ts);
        batch.push(&line);
        batch_since.get_or_insert_with(Instant::now);
        if batch.events >= batch_max {
            let next = Batch::with_capacity(batch.body.capacity());
            client
                .send(std::mem::replace(&mut batch, next), &stop)
                .await?;
            batch_since = None;
        }
        progress.update(source.position(ts), read, || Some(local_clock(ts, tz)));
    }
    if !batch.is_empty() {
        client.send(batch, &stop).await?;
    }
    let (url, acknowledged) = client.finish(&stop).await?;
    progress.finish();
    Ok(Delivery {
        read,
        url,
        acknowledged,
        first_ts,
        last_ts,
        elapsed: started.elapsed(),
        interrupted: stop.requested(),
    })
}

/// How batches reach the server: over its ingest websocket with `--in-flight` batches ahead of
/// their acknowledgements (http://), or one `POST` at a time.
enum Sender {
    Socket(Box<SocketSender>),
    Posts(InFlight),
}

impl Sender {
    fn new(send: &SendArgs) -> Result<Sender> {
        let retry_for = Duration::from_secs(send.retry_for);
        if send.in_flight > 1 && send.to.starts_with("http://") {
            return Ok(Sender::Socket(Box::new(SocketSender::new(
                &send.to,
                send.token.clone(),
                retry_for,
                send.in_flight as usize,
            )?)));
        }
        Ok(Sender::Posts(InFlight::new(IngestClient::new(
            &send.to,
            send.token.clone(),
            retry_for,
        )?)))
    }

    async fn send(&mut self, batch: Batch, stop: &Stop) -> Result<()> {
        match self {
            Sender::Socket(socket) => socket.send(batch, stop).await,
            Sender::Posts(posts) => posts.send(batch, stop).await,
        }
    }

    /// Waits for every batch's acknowledgement: the URL sent to and what it acknowledged.
    async fn finish(self, stop: &Stop) -> Result<(String, Acknowledged)> {
        match self {
            Sender::Socket(mut socket) => {
                socket.finish(stop).await?;
                Ok((socket.url().to_string(), socket.acknowledged))
            }
            Sender::Posts(posts) => {
                let client = posts.finish().await?;
                Ok((client.url().to_string(), client.acknowledged))
            }
        }
    }
}

/// One batch in flight at most: [`InFlight::send`] waits for the batch before (its reply, or
/// its error) and then sends this one on the runtime's worker, so the caller reads and parses
/// the next batch meanwhile. Batches still reach the server one after another, in order, each
/// acknowledged before the next is sent (`ingest`: resent until acknowledged).
struct InFlight {
    idle: Option<IngestClient>,
    busy: Option<tokio::task::JoinHandle<(IngestClient, Result<()>)>>,
}

impl InFlight {
    fn new(client: IngestClient) -> InFlight {
        InFlight {
            idle: Some(client),
            busy: None,
        }
    }

    /// Waits for the batch in flight, then sends `batch` without waiting for it.
    async fn send(&mut self, batch: Batch, stop: &Stop) -> Result<()> {
        let mut client = self.wait().await?;
        let stop = stop.clone();
        self.busy = Some(tokio::spawn(async move {
            let sent = client.send(batch, &stop).await.map(drop);
            (client, sent)
        }));
        Ok(())
    }

    /// The client once nothing is in flight; the error of the last batch, if it failed.
    async fn wait(&mut self) -> Result<IngestClient> {
        if let Some(busy) = self.busy.take() {
            let (client, sent) = busy.await.context("the sending task failed")?;
            sent?;
            return Ok(client);
        }
        self.idle
            .take()
            .context("the ingest client was lost after a failed send")
    }

    /// Waits for the last batch; the client with what the server acknowledged.
    async fn finish(mut self) -> Result<IngestClient> {
        self.wait().await
    }
}

fn summary(title: String, d: &Delivery, tz: &TimeZone) -> Summary {
    let a = &d.acknowledged;
    let mut s = Summary::new(format!("{title} in {:.2} s", d.elapsed.as_secs_f64()));
    s.row("events sent", d.read)
        .row(
            "acknowledged",
            format!(
                "{} (accepted {}, duplicate {}, rejected {})",
                a.events, a.accepted, a.duplicate, a.rejected
            ),
        )
        .row("events/s", rate(a.events, d.elapsed))
        .row("requests", format!("{} ({} retried)", a.batches, a.retries));
    if let (Some(first), Some(last)) = (d.first_ts, d.last_ts) {
        s.row(
            "event time",
            format!("{} .. {}", local_time(first, tz), local_clock(last, tz)),
        );
    }
    if let Some(first) = a.rejections.first() {
        s.row("first rejection", first);
    }
    if d.interrupted {
        s.row("interrupted", "yes (Ctrl-C): the rest was not sent");
    }
    s
}

fn finish(d: &Delivery) -> Result<()> {
    if d.interrupted {
        bail!("interrupted");
    }
    Ok(())
}
