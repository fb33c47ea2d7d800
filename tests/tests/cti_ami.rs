//! The server's `asterisk-ami` source against the fake switch (`floorwatch-sim ami-server`,
//! docs/CTI.md, "The fake switch" and "Sources"):
//!
//! - an uninterrupted day gives exactly the figures of the canonical day reduced to what AMI
//!   carries (worked out here with the core engine from the simulator's own events);
//! - the same day with the link dropped mid-day (planned and random drops, the switch's day
//!   paused while no client is synchronised) ends at the same figures, every scope, every
//!   figure: the source reconnects and resyncs with QueueStatus;
//! - with a 20-minute outage the counts are those of a classification of the canonical legs
//!   (seen outcomes exact, outcomes lost in the outage timed out at the resync, calls that came
//!   and went unseen missing): the figures that can survive an outage.
//!
//! Servers run with `--clock events` and the scenario's organisation, as a tester would.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use floorwatch_core::{Engine, Event, EventKind, Figures, Millis, Scope, Window};
use floorwatch_sim::ami_switch::{AfterCallWork, AmiDay};
use floorwatch_sim::{Scenario, Simulation};
use floorwatch_tests::{FakeSwitch, Server, binary};

const SCENARIO: &str = "small";
const DATE: &str = "2026-03-09";
const SEED: u64 = 3;

fn date() -> jiff::civil::Date {
    DATE.parse().unwrap()
}

/// The scenario's organisation (`floorwatch-sim organisation`) and a `[[sources]]` table
/// pointing at `switch`.
fn config(dir: &Path, switch: &FakeSwitch) -> PathBuf {
    let org = Command::new(binary("floorwatch-sim"))
        .args(["organisation", "--scenario", SCENARIO])
        .output()
        .unwrap();
    assert!(org.status.success());
    let mut text = String::from_utf8(org.stdout).unwrap();
    text.push_str(&format!(
        "\n[[sources]]\nkind = \"asterisk-ami\"\nname = \"pbx\"\nhost = \"127.0.0.1\"\n\
         port = {}\nusername = \"floorwatch\"\nsecret = \"s3cret\"\nreconnect_min_ms = 100\n",
        switch.port()
    ));
    let path = dir.join("floorwatch.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn switch(extra: &[&str]) -> FakeSwitch {
    let seed = SEED.to_string();
    let mut args = vec![
        "--scenario",
        SCENARIO,
        "--date",
        DATE,
        "--seed",
        &seed,
        "--speed",
        "max",
        "--username",
        "floorwatch",
        "--secret",
        "s3cret",
    ];
    args.extend_from_slice(extra);
    FakeSwitch::start(&args)
}

/// The canonical event as AMI carries it: no IVR completions, no test flag, whole-second
/// waits and talk (docs/CTI.md, "What AMI cannot carry").
fn as_ami_carries(event: &Event) -> Option<Event> {
    let whole = |ms: &mut Option<Millis>| *ms = ms.map(|ms| ms / 1000 * 1000);
    let mut e = event.clone();
    e.test = false;
    match &mut e.kind {
        EventKind::CallIvrCompleted { .. } => return None,
        EventKind::CallAnswered { wait_ms, .. }
        | EventKind::CallAbandoned { wait_ms, .. }
        | EventKind::CallTimedOut { wait_ms, .. } => whole(wait_ms),
        EventKind::CallEnded { talk_ms, .. } | EventKind::CallTransferred { talk_ms, .. } => {
            whole(talk_ms)
        }
        _ => {}
    }
    Some(e)
}

fn canonical(scenario: &Scenario) -> Vec<Event> {
    Simulation::new(scenario, date(), SEED)
        .filter_map(|e| as_ami_carries(&e))
        .collect()
}

/// Figures as a client of the API reads them: through JSON (serde_json's default float parser
/// may differ from the engine's value in the last bit, on both sides alike).
fn as_read(figures: Figures) -> Figures {
    serde_json::from_str(&serde_json::to_string(&figures).unwrap()).unwrap()
}

fn reference(scenario: &Scenario) -> Engine {
    let mut engine = Engine::new(&scenario.organisation()).unwrap();
    for event in canonical(scenario) {
        engine.apply(&event);
    }
    engine
}

/// Polls the centre's figures until `done` says the day is in, within a minute.
fn wait_for(server: &Server, what: &str, done: impl Fn(&Figures) -> bool) -> Figures {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let centre = server.figures("centre", "today");
        if done(&centre) {
            return centre;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the day did not come in; last centre figures {centre:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn assert_every_scope(server: &Server, expected: &Engine, what: &str) {
    let scopes = expected.scopes();
    assert!(scopes.len() > 20, "{scopes:?}");
    for scope in scopes {
        let want = as_read(expected.figures(&scope, Window::Today).unwrap());
        let got = server.figures(&scope.to_string(), "today");
        assert_eq!(got, want, "{what}: {scope}");
    }
}

#[test]
fn a_day_from_the_switch_gives_the_same_figures_with_or_without_drops() {
    let scenario = Scenario::preset(SCENARIO).unwrap();
    let expected = reference(&scenario);
    let centre = as_read(expected.figures(&Scope::Centre, Window::Today).unwrap());
    assert!(centre.offered > 800 && centre.abandoned > 0 && centre.timed_out > 0);

    for (what, drops) in [
        ("uninterrupted", vec![]),
        (
            "dropped",
            vec![
                "--drop-at",
                "3000,12000",
                "--drop-random",
                "0.0003",
                "--drop-seed",
                "9",
            ],
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let switch = switch(&drops);
        let cfg = config(dir.path(), &switch);
        let server = Server::start(&["--config", cfg.to_str().unwrap(), "--clock", "events"]);
        wait_for(&server, what, |f| *f == centre);
        assert_every_scope(&server, &expected, what);
        let logs = server.logs();
        let resyncs = logs.matches("AMI resynced from QueueStatus").count();
        if drops.is_empty() {
            assert_eq!(resyncs, 1, "{logs}");
        } else {
            assert!(resyncs >= 4, "{resyncs} resyncs:\n{logs}");
            assert!(
                logs.contains("switch link down") && logs.contains("protocol=\"AMI\""),
                "{logs}"
            );
        }
        assert!(!logs.contains("s3cret"), "the secret is never logged");
    }
}

/// A dialplan that hangs up at once after a queue time-out (`Queue(q,,,,T)` then `Hangup()`,
/// `floorwatch-sim ami-server --dialplan hangup`): every time-out's Hangup comes in the same
/// instant as its QueueCallerAbandon, with no HangupRequest. The source tells time-outs from
/// abandons by the HangupRequest a caller who hangs up makes the channel driver raise
/// (docs/CTI.md, "Abandoned or timed out"), so the day still ends at the canonical figures,
/// every scope; going by the Hangup's timing alone, every time-out would count as abandoned.
#[test]
fn a_dialplan_that_hangs_up_after_the_time_out_still_counts_time_outs() {
    let scenario = Scenario::preset(SCENARIO).unwrap();
    let expected = reference(&scenario);
    let centre = as_read(expected.figures(&Scope::Centre, Window::Today).unwrap());
    assert!(centre.timed_out > 0 && centre.abandoned > 0, "{centre:?}");
    let dir = tempfile::tempdir().unwrap();
    let switch = switch(&["--dialplan", "hangup"]);
    let cfg = config(dir.path(), &switch);
    let server = Server::start(&["--config", cfg.to_str().unwrap(), "--clock", "events"]);
    // The whole day is in once the clock has reached its end and its last sign-outs are
    // counted; offered and handled alone match while the day's tail is still coming in.
    let got = wait_for(&server, "dialplan hangup", |f| {
        *f == centre
            || (f.offered == centre.offered
                && f.handled == centre.handled
                && f.to == centre.to
                && f.agents == centre.agents)
    });
    assert_eq!(
        (got.abandoned, got.timed_out),
        (centre.abandoned, centre.timed_out),
        "time-outs counted as abandons"
    );
    assert_every_scope(&server, &expected, "dialplan hangup");
}

/// A queued leg of the canonical day.
struct Leg {
    queue: String,
    entered: Millis,
    outcome: (Outcome, Millis, Millis),
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
    let mut open: HashMap<String, (String, Millis)> = HashMap::new();
    let mut legs: Vec<Leg> = Vec::new();
    let mut talking: HashMap<String, usize> = HashMap::new();
    for e in events {
        let (call, kind, wait_ms) = match &e.kind {
            EventKind::CallEnteredQueue { call, queue, .. } => {
                open.insert(call.clone(), (queue.clone(), e.ts));
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
        let (queue, entered) = open.remove(call).unwrap();
        if kind == Outcome::Answered {
            talking.insert(call.clone(), legs.len());
        }
        legs.push(Leg {
            queue,
            entered,
            outcome: (kind, e.ts, wait_ms.unwrap()),
            completed: None,
        });
    }
    legs
}

/// What a client counts when the instants strictly between `t1` (the last before the drop) and
/// `t2` (the first after the reconnect) were lost and it resynced in between: `(queue,
/// outcome, wait)`, `None` wait for a leg timed out by the resync.
fn after_outage(legs: &[Leg], t1: Millis, t2: Millis) -> Vec<(String, Outcome, Option<Millis>)> {
    let lost = |t: Millis| t1 < t && t < t2;
    legs.iter()
        .filter_map(|leg| {
            let (kind, at, wait) = leg.outcome;
            let counted = if !lost(at) {
                Some((kind, Some(wait)))
            } else if leg.entered <= t1 {
                Some((Outcome::TimedOut, None))
            } else if kind == Outcome::Answered && leg.completed.is_some_and(|c| c >= t2) {
                Some((kind, Some(wait)))
            } else {
                None
            };
            counted.map(|(kind, wait)| (leg.queue.clone(), kind, wait))
        })
        .collect()
}

/// The instant the switch drops after (the one holding event `drop_at`) and the first one
/// after `outage_ms` more, from the switch's own day.
fn outage_bounds(scenario: &Scenario, drop_at: u64, outage_ms: Millis) -> (Millis, Millis) {
    let simulation = Simulation::new(scenario, date(), SEED);
    let mut day = AmiDay::new(scenario, simulation, AfterCallWork::Pause);
    let mut t1 = None;
    while let Some(moment) = day.release() {
        match t1 {
            None if day.released() >= drop_at => t1 = Some(moment.at),
            Some(t1) if moment.at >= t1 + outage_ms => return (t1, moment.at),
            _ => {}
        }
    }
    panic!("the day has no instant {outage_ms} ms after event {drop_at}");
}

#[test]
fn an_outage_costs_only_what_no_resync_can_bring_back() {
    let scenario = Scenario::preset(SCENARIO).unwrap();
    // Midday, at an instant with callers waiting (the fake switch raises HangupRequests too,
    // which moved the day's event numbers).
    let (drop_at, outage_s) = (8_600, 1_200);
    let (t1, t2) = outage_bounds(&scenario, drop_at, outage_s * 1000);
    let legs = legs(&canonical(&scenario));
    let counted = after_outage(&legs, t1, t2);
    let resync_timed_out = counted.iter().filter(|(_, _, w)| w.is_none()).count();
    assert!(
        counted.len() < legs.len() && resync_timed_out > 0,
        "the outage must cost something for the test to mean anything"
    );

    let org = scenario.organisation();
    let settings: BTreeMap<String, (i64, i64)> = org
        .queues
        .iter()
        .map(|q| {
            let sl = &org.centre.service_level;
            let t = q.threshold_s.unwrap_or(sl.threshold_s);
            let s = q.short_abandon_s.unwrap_or(sl.short_abandon_s);
            (q.id.clone(), (i64::from(t) * 1000, i64::from(s) * 1000))
        })
        .collect();
    let expect = |queue: Option<&str>| {
        let mine: Vec<&(String, Outcome, Option<Millis>)> = counted
            .iter()
            .filter(|(q, _, _)| queue.is_none_or(|only| only == q))
            .collect();
        let n = |kind: Outcome| mine.iter().filter(|(_, k, _)| *k == kind).count() as u64;
        let within = mine
            .iter()
            .filter(|(q, k, w)| *k == Outcome::Answered && w.is_some_and(|w| w <= settings[q].0))
            .count() as u64;
        let short = mine
            .iter()
            .filter(|(q, k, w)| *k == Outcome::Abandoned && w.is_some_and(|w| w < settings[q].1))
            .count() as u64;
        (
            mine.len() as u64,
            n(Outcome::Answered),
            n(Outcome::Abandoned),
            n(Outcome::TimedOut),
            within,
            short,
        )
    };
    let got = |f: &Figures| {
        (
            f.offered,
            f.answered,
            f.abandoned,
            f.timed_out,
            f.answered_within_threshold,
            f.short_abandoned,
        )
    };

    let dir = tempfile::tempdir().unwrap();
    let drop_at = drop_at.to_string();
    let outage = outage_s.to_string();
    let switch = switch(&["--drop-at", &drop_at, "--outage", &outage]);
    let cfg = config(dir.path(), &switch);
    let server = Server::start(&["--config", cfg.to_str().unwrap(), "--clock", "events"]);
    let centre = expect(None);
    wait_for(&server, "outage", |f| {
        got(f) == centre && f.waiting_now == 0
    });
    for queue in ["billing", "support", "vip", "callback"] {
        let figures = server.figures(&format!("queue:{queue}"), "today");
        assert_eq!(got(&figures), expect(Some(queue)), "queue:{queue}");
    }
    assert_eq!(
        server
            .logs()
            .matches("AMI resynced from QueueStatus")
            .count(),
        2
    );
}
