//! `floorwatch-sim ami-server` over real TCP: the protocol as Asterisk speaks it, a whole day
//! mapped by `AmiMapper` into an engine (the same figures as the canonical day, for what AMI
//! carries), and dropped links followed by reconnect + QueueStatus resync.

mod ami_switch_support;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use ami_switch_support::{
    Client, DATE, Received, Switch, as_ami_carries, assert_same_figures, canonical_engine, org,
    parse_timestamp, sequence,
};
use floorwatch_core::ami::{AmiMapper, AmiMessage, action};
use floorwatch_core::{Engine, Event, EventKind, Millis, Scope, Window};
use floorwatch_sim::ami_switch::{AfterCallWork, AmiDay, TIMEOUT_HANGUP_DELAY_MS};
use floorwatch_sim::{Scenario, Simulation};

fn date() -> jiff::civil::Date {
    DATE.parse().unwrap()
}

fn small() -> Scenario {
    Scenario::preset("small").unwrap()
}

/// How many events the switch raises in the day (the last SequenceNumber).
fn day_length(scenario: &Scenario, seed: u64) -> u64 {
    let mut day = AmiDay::new(
        scenario,
        Simulation::new(scenario, date(), seed),
        AfterCallWork::Pause,
    );
    std::iter::from_fn(|| day.release())
        .map(|m| m.events.len() as u64)
        .sum()
}

#[tokio::test]
async fn the_switch_speaks_ami_as_asterisk_does() {
    let switch = Switch::start(7, &[]);
    let mut c = Client::connect(&switch.addr).await;

    // Nothing before Login; a wrong secret is refused.
    let id = c.action_id("qs");
    c.send(&action::queue_status(&id)).await;
    let (reply, _) = c.reply_to(&id).await;
    assert_eq!(reply.get("Message"), Some("Permission denied"));
    assert!(
        c.banner()
            .unwrap()
            .starts_with("Asterisk Call Manager/5.0.")
    );
    let (reply, _) = c.login("wrong", "on").await;
    assert_eq!(reply.response(), Some("Error"));
    assert_eq!(reply.get("Message"), Some("Authentication failed"));

    let (reply, _) = c.login("s3cret", "on").await;
    assert_eq!(reply.get("Message"), Some("Authentication accepted"));
    let booted = c.expect_message().await;
    assert_eq!(booted.event(), Some("FullyBooted"));
    let day_start = Simulation::new(&small(), date(), 7).day_start();
    let (clock, _) = c.ping().await;
    assert_eq!(
        clock, day_start,
        "at max speed the day waits for QueueStatus"
    );

    let id = c.action_id("filter");
    c.send(&action::filter_add(
        "Event: (QueueCallerJoin|AgentConnect)",
        &id,
    ))
    .await;
    let (reply, _) = c.reply_to(&id).await;
    assert_eq!(reply.get("Message"), Some("Filter Added Successfully"));

    // The first QueueStatus: the four queues, no one in them yet.
    let (list, _) = c.queue_status().await;
    let names: Vec<&str> = list.iter().filter_map(|m| m.event()).collect();
    assert_eq!(
        names,
        [
            "QueueParams",
            "QueueParams",
            "QueueParams",
            "QueueParams",
            "QueueStatusComplete"
        ]
    );
    assert_eq!(list[4].get("ListItems"), Some("4"));
    let queues: Vec<&str> = list.iter().filter_map(|m| m.get("Queue")).collect();
    assert_eq!(queues, ["billing", "callback", "support", "vip"]);

    // Now the day runs: only the filtered events come, stamped and numbered.
    let mut last_seq = 0;
    let mut last_ts = 0;
    let mut joins = 0;
    while joins < 50 {
        let m = c.expect_message().await;
        let name = m.event().unwrap();
        assert!(name == "QueueCallerJoin" || name == "AgentConnect", "{m:?}");
        assert_eq!(m.get("Privilege"), Some("agent,all"));
        let (seq, ts) = (
            sequence(&m).unwrap(),
            parse_timestamp(m.get("Timestamp").unwrap()).unwrap(),
        );
        assert!(seq > last_seq && ts >= last_ts && ts >= day_start);
        (last_seq, last_ts) = (seq, ts);
        joins += usize::from(name == "QueueCallerJoin");
    }

    // Mid-morning of the night shift: members with their state, and callers waiting.
    let (list, _) = c.queue_status().await;
    let id = list[0].action_id().unwrap().to_string();
    assert!(list.iter().all(|m| m.action_id() == Some(id.as_str())));
    let members: Vec<&AmiMessage> = list
        .iter()
        .filter(|m| m.event() == Some("QueueMember"))
        .collect();
    assert!(!members.is_empty(), "{list:?}");
    for m in &members {
        for key in [
            "Queue", "Name", "Location", "InCall", "Status", "Paused", "LastCall",
        ] {
            assert!(m.get(key).is_some(), "{key} in {m:?}");
        }
    }
    let complete = list.last().unwrap();
    assert_eq!(complete.event(), Some("QueueStatusComplete"));
    assert_eq!(
        complete.get("ListItems"),
        Some((list.len() - 1).to_string().as_str())
    );

    let id = c.action_id("bye");
    c.send(&action::logoff(&id)).await;
    let (reply, _) = c.reply_to(&id).await;
    assert_eq!(reply.response(), Some("Goodbye"));
    loop {
        match c.next().await {
            Received::Closed => break,
            Received::Message(m) => assert!(m.event().is_some(), "{m:?}"),
        }
    }
}

/// A client as the server's source is: one mapper across reconnects; on every connect Login,
/// the event filter, Ping for the switch's clock and QueueStatus for `resync`; every other
/// event mapped. Runs until the day's last event.
struct Feed {
    engine: Engine,
    mapper: AmiMapper,
    /// Per connection: (Timestamp of its last event, Timestamp of its first event).
    connections: Vec<(Option<Millis>, Option<Millis>)>,
    /// SequenceNumbers received.
    received: u64,
}

impl Feed {
    fn new(scenario: &Scenario) -> Feed {
        let org = org(scenario);
        Feed {
            engine: Engine::new(&org).unwrap(),
            mapper: AmiMapper::new("ami:switch", &org),
            connections: Vec::new(),
            received: 0,
        }
    }

    fn apply(&mut self, events: Vec<Event>) {
        for event in events {
            self.engine.apply(&event);
        }
    }

    fn map(&mut self, message: &AmiMessage, at: Millis) {
        let events = self.mapper.map(message, at);
        self.apply(events);
    }

    async fn run(&mut self, addr: &str, last_event: u64) {
        let mut last_seq = 0;
        let mut last_ts = 0;
        'connections: loop {
            let mut c = Client::connect(addr).await;
            let (reply, _) = c.login("s3cret", "agent,call").await;
            assert_eq!(reply.response(), Some("Success"));
            let id = c.action_id("filter");
            c.send(&action::filter_mapped_events(&id)).await;
            let (reply, early) = c.reply_to(&id).await;
            assert_eq!(reply.response(), Some("Success"));
            let (clock, more) = c.ping().await;
            let (list, before) = c.queue_status().await;
            let mut first = None;
            let mut last = None;
            for m in early.iter().chain(&more).chain(&before) {
                self.take(m, &mut last_seq, &mut last_ts, &mut first, &mut last);
            }
            let events = self.mapper.resync(&list, clock.max(last_ts));
            self.apply(events);
            loop {
                match c.next().await {
                    Received::Message(m) => {
                        self.take(&m, &mut last_seq, &mut last_ts, &mut first, &mut last);
                        if last_seq == last_event {
                            self.connections.push((last, first));
                            break 'connections;
                        }
                    }
                    Received::Closed => {
                        self.connections.push((last, first));
                        continue 'connections;
                    }
                }
            }
        }
        let events = self.mapper.tick(last_ts + TIMEOUT_HANGUP_DELAY_MS);
        self.apply(events);
    }

    fn take(
        &mut self,
        m: &AmiMessage,
        last_seq: &mut u64,
        last_ts: &mut Millis,
        first: &mut Option<Millis>,
        last: &mut Option<Millis>,
    ) {
        let (Some(seq), Some(ts)) = (sequence(m), m.get("Timestamp").and_then(parse_timestamp))
        else {
            return;
        };
        assert!(seq > *last_seq, "sequence {seq} after {last_seq}");
        (*last_seq, *last_ts) = (seq, ts);
        first.get_or_insert(ts);
        *last = Some(ts);
        self.received += 1;
        self.map(m, ts);
    }
}

#[tokio::test]
async fn a_whole_day_over_tcp_gives_the_canonical_figures() {
    let scenario = small();
    let seed = 3;
    let total = day_length(&scenario, seed);
    let switch = Switch::start(seed, &[]);
    let mut feed = Feed::new(&scenario);
    feed.run(&switch.addr, total).await;
    assert_eq!(feed.received, total, "every event, none twice");
    assert_eq!(feed.connections.len(), 1);

    let canonical = Simulation::new(&scenario, date(), seed);
    let reference = canonical_engine(&scenario, canonical.filter_map(|e| as_ami_carries(&e)));
    for scope in reference.scopes() {
        assert_same_figures(&reference, &feed.engine, &scope, "uninterrupted");
    }
}

#[tokio::test]
async fn drops_with_the_day_paused_lose_nothing_after_resync() {
    let scenario = small();
    let seed = 3;
    let total = day_length(&scenario, seed);
    let switch = Switch::start(
        seed,
        &[
            "--drop-at",
            "3000,20000",
            "--drop-random",
            "0.0003",
            "--drop-seed",
            "9",
        ],
    );
    let mut feed = Feed::new(&scenario);
    feed.run(&switch.addr, total).await;
    assert!(
        feed.connections.len() >= 4,
        "{} connections",
        feed.connections.len()
    );
    assert_eq!(feed.received, total, "a drop loses no event at max speed");

    let canonical = Simulation::new(&scenario, date(), seed);
    let reference = canonical_engine(&scenario, canonical.filter_map(|e| as_ami_carries(&e)));
    for scope in reference.scopes() {
        assert_same_figures(&reference, &feed.engine, &scope, "dropped and resynced");
    }
}

/// A queued leg of the canonical day, as AMI carries it.
#[derive(Debug)]
struct Leg {
    queue: String,
    entered: Millis,
    outcome: Option<(Outcome, Millis, Millis)>,
    /// When its agent's talk ended (answered legs).
    completed: Option<Millis>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Answered,
    Abandoned,
    TimedOut,
}

fn legs(events: &[Event]) -> Vec<Leg> {
    let mut legs: Vec<Leg> = Vec::new();
    let mut open: HashMap<String, usize> = HashMap::new();
    let mut talking: HashMap<String, usize> = HashMap::new();
    for e in events {
        let outcome = match &e.kind {
            EventKind::CallEnteredQueue { call, queue, .. } => {
                open.insert(call.clone(), legs.len());
                legs.push(Leg {
                    queue: queue.clone(),
                    entered: e.ts,
                    outcome: None,
                    completed: None,
                });
                continue;
            }
            EventKind::CallEnded { call, .. } | EventKind::CallTransferred { call, .. } => {
                if let Some(i) = talking.remove(call) {
                    legs[i].completed = Some(e.ts);
                }
                continue;
            }
            EventKind::CallAnswered { call, wait_ms, .. } => (call, Outcome::Answered, wait_ms),
            EventKind::CallAbandoned { call, wait_ms, .. } => (call, Outcome::Abandoned, wait_ms),
            EventKind::CallTimedOut { call, wait_ms, .. } => (call, Outcome::TimedOut, wait_ms),
            _ => continue,
        };
        let (call, kind, wait_ms) = outcome;
        let i = open.remove(call).unwrap();
        legs[i].outcome = Some((kind, e.ts, wait_ms.unwrap()));
        if kind == Outcome::Answered {
            talking.insert(call.clone(), i);
        }
    }
    legs
}

/// The counts a client must end with when the events of moments strictly between `t1` (the
/// last moment it got before the drop) and `t2` (the first after reconnecting) were lost, and
/// it resynced with QueueStatus in between (docs/CTI.md, "The fake switch": what survives a
/// drop).
fn expected_after_outage(legs: &[Leg], t1: Millis, t2: Millis) -> Vec<(String, Outcome, Millis)> {
    let lost = |t: Millis| t1 < t && t < t2;
    legs.iter()
        .filter_map(|leg| {
            let (kind, at, wait) = leg.outcome.unwrap();
            let counted = if !lost(at) {
                Some((kind, wait))
            } else if leg.entered <= t1 {
                // Believed waiting; QueueStatus no longer lists it: timed out at the resync.
                Some((Outcome::TimedOut, Millis::MAX))
            } else if kind == Outcome::Answered && leg.completed.is_some_and(|c| c >= t2) {
                // Joined and answered unseen: AgentComplete carries its queue and wait.
                Some((kind, wait))
            } else {
                None // joined and left unseen
            };
            counted.map(|(kind, wait)| (leg.queue.clone(), kind, wait))
        })
        .collect()
}

#[tokio::test]
async fn an_outage_loses_only_the_calls_that_came_and_went_unseen() {
    let scenario = small();
    let seed = 3;
    let total = day_length(&scenario, seed);
    // Midday, at an instant with callers waiting (the guard at the end checks it); 20 minutes
    // of the day pass with no client.
    let switch = Switch::start(seed, &["--drop-at", "8600", "--outage", "1200"]);
    let mut feed = Feed::new(&scenario);
    feed.run(&switch.addr, total).await;
    assert_eq!(feed.connections.len(), 2);
    let (t1, t2) = (
        feed.connections[0].0.unwrap(),
        feed.connections[1].1.unwrap(),
    );
    assert!(t2 - t1 >= 1_200_000, "{t1} {t2}");
    assert!(feed.received < total);

    let canonical: Vec<Event> = Simulation::new(&scenario, date(), seed)
        .filter_map(|e| as_ami_carries(&e))
        .collect();
    let legs = legs(&canonical);
    let expected = expected_after_outage(&legs, t1, t2);
    let org = org(&scenario);
    let settings: BTreeMap<String, (u32, u32)> = org
        .queues
        .iter()
        .map(|q| {
            let sl = &org.centre.service_level;
            (
                q.id.clone(),
                (
                    q.threshold_s.unwrap_or(sl.threshold_s),
                    q.short_abandon_s.unwrap_or(sl.short_abandon_s),
                ),
            )
        })
        .collect();
    let mut changed = 0;
    for scope in [
        Scope::Centre,
        Scope::Queue("billing".into()),
        Scope::Queue("support".into()),
        Scope::Queue("vip".into()),
        Scope::Queue("callback".into()),
    ] {
        let mine = |q: &str| match &scope {
            Scope::Queue(id) => id == q,
            _ => true,
        };
        let count = |kind: Outcome| {
            expected
                .iter()
                .filter(|(q, k, _)| mine(q) && *k == kind)
                .count() as u64
        };
        let within = expected
            .iter()
            .filter(|(q, k, w)| {
                mine(q) && *k == Outcome::Answered && *w <= i64::from(settings[q].0) * 1000
            })
            .count() as u64;
        let short = expected
            .iter()
            .filter(|(q, k, w)| {
                mine(q) && *k == Outcome::Abandoned && *w < i64::from(settings[q].1) * 1000
            })
            .count() as u64;
        let got = feed.engine.figures(&scope, Window::Today).unwrap();
        let want = (
            count(Outcome::Answered) + count(Outcome::Abandoned) + count(Outcome::TimedOut),
            count(Outcome::Answered),
            count(Outcome::Abandoned),
            count(Outcome::TimedOut),
            within,
            short,
        );
        assert_eq!(
            (
                got.offered,
                got.answered,
                got.abandoned,
                got.timed_out,
                got.answered_within_threshold,
                got.short_abandoned
            ),
            want,
            "{scope}"
        );
        if scope == Scope::Centre {
            changed = legs.len() as u64 - got.offered;
        }
    }
    // The outage really cost something, or the test proves nothing.
    let unseen = expected
        .iter()
        .filter(|(_, k, w)| *k == Outcome::TimedOut && *w == Millis::MAX)
        .count();
    assert!(
        changed > 0 && unseen > 0,
        "lost {changed}, resync timed out {unseen}"
    );
    assert!(
        feed.engine
            .figures(&Scope::Centre, Window::Today)
            .unwrap()
            .waiting_now
            == 0
    );
}

#[cfg(unix)]
#[tokio::test]
async fn sigusr1_drops_the_link_and_the_day_goes_on_for_the_next_client() {
    let switch = Switch::start(4, &[]);
    let mut c = Client::connect(&switch.addr).await;
    c.login("s3cret", "on").await;
    c.queue_status().await;
    let mut last = 0;
    while last < 100 {
        if let Some(seq) = sequence(&c.expect_message().await) {
            last = seq;
        }
    }
    let status = std::process::Command::new("kill")
        .args(["-USR1", &switch.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    loop {
        match c.next().await {
            Received::Closed => break,
            Received::Message(m) => last = sequence(&m).unwrap_or(last),
        }
    }
    let mut c = Client::connect(&switch.addr).await;
    c.login("s3cret", "on").await;
    c.queue_status().await;
    loop {
        if let Some(seq) = sequence(&c.expect_message().await) {
            assert!(seq > last, "{seq} after {last}: nothing is replayed");
            break;
        }
    }
}

#[tokio::test]
async fn at_a_speed_factor_the_switch_clock_follows_the_wall_clock() {
    let switch = Switch::start(2, &["--speed", "3600"]);
    let mut c = Client::connect(&switch.addr).await;
    c.login("s3cret", "off").await;
    let s0 = Instant::now();
    let (t0, _) = c.ping().await;
    let r0 = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let s1 = Instant::now();
    let (t1, _) = c.ping().await;
    let r1 = Instant::now();
    // Each Ping was answered between its send and its reply, at 3600 times real time.
    let simulated_s = (t1 - t0) as f64 / 1000.0 / 3600.0;
    let (low, high) = (
        s1.duration_since(r0).as_secs_f64(),
        r1.duration_since(s0).as_secs_f64(),
    );
    assert!(
        simulated_s >= low - 0.005 && simulated_s <= high + 0.005,
        "{simulated_s} s not in [{low}, {high}]"
    );
}
