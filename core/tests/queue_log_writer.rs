//! `QueueLogWriter`: canonical events → queue_log lines as app_queue writes them, and the round
//! trip canonical → writer → reader → engine, which must keep every figure queue_log can carry.

use floorwatch_core::event::EVENT_VERSION;
use floorwatch_core::queue_log::{QueueLogReader, QueueLogWriter};
use floorwatch_core::{
    AgentState, Direction, Engine, Event, EventKind, Figures, Millis, NotReadyReason, Organisation,
    Scope, Window,
};
use proptest::prelude::*;

const T0: Millis = 1_700_000_000_000;

fn event(n: u64, ts: Millis, kind: EventKind) -> Event {
    Event {
        v: EVENT_VERSION,
        id: format!("e{n}"),
        source: "sim".into(),
        seq: n,
        ts,
        test: false,
        kind,
    }
}

fn write_all(events: &[Event]) -> Vec<String> {
    let mut writer = QueueLogWriter::new();
    events.iter().flat_map(|e| writer.write(e)).collect()
}

#[test]
fn a_call_writes_the_lines_app_queue_would() {
    let s = |ms: Millis| T0 + ms;
    let events = vec![
        event(
            1,
            s(0),
            EventKind::AgentLogin {
                agent: "a1".into(),
                team: None,
            },
        ),
        event(
            2,
            s(1_000),
            EventKind::CallEnteredQueue {
                call: "c1".into(),
                queue: "billing".into(),
                priority: 0,
                caller: Some("13812341234".into()),
                direction: Direction::Inbound,
            },
        ),
        event(
            3,
            s(4_000),
            EventKind::CallOffered {
                call: "c1".into(),
                agent: "a1".into(),
            },
        ),
        event(
            4,
            s(6_000),
            EventKind::CallAnswered {
                call: "c1".into(),
                agent: "a1".into(),
                queue: None,
                wait_ms: None,
            },
        ),
        event(
            5,
            s(6_000),
            EventKind::AgentState {
                agent: "a1".into(),
                state: AgentState::OnCall,
                reason: None,
            },
        ),
        event(
            6,
            s(10_000),
            EventKind::CallHoldStarted { call: "c1".into() },
        ),
        event(
            7,
            s(96_500),
            EventKind::CallEnded {
                call: "c1".into(),
                queue: None,
                agent: None,
                talk_ms: None,
            },
        ),
        event(
            8,
            s(97_000),
            EventKind::AgentState {
                agent: "a1".into(),
                state: AgentState::NotReady,
                reason: Some(NotReadyReason::Meal),
            },
        ),
        event(
            9,
            s(200_000),
            EventKind::AgentState {
                agent: "a1".into(),
                state: AgentState::Available,
                reason: None,
            },
        ),
        event(
            10,
            s(300_000),
            EventKind::AgentLogout { agent: "a1".into() },
        ),
    ];
    assert_eq!(
        write_all(&events),
        [
            "1700000000|NONE|NONE|a1|AGENTLOGIN|a1",
            "1700000001|c1|billing|NONE|ENTERQUEUE||13812341234|1",
            "1700000006|c1|billing|a1|CONNECT|5||2",
            "1700000096.500|c1|billing|a1|COMPLETECALLER|5|90|1",
            "1700000097|NONE|NONE|a1|PAUSE|meal",
            "1700000200|NONE|NONE|a1|UNPAUSE|",
            "1700000300|NONE|NONE|a1|AGENTLOGOFF|a1|300",
        ]
    );
}

#[test]
fn unanswered_calls_carry_positions_and_waits() {
    let enter = |n, ts, call: &str| {
        event(
            n,
            ts,
            EventKind::CallEnteredQueue {
                call: call.into(),
                queue: "q".into(),
                priority: 0,
                caller: None,
                direction: Direction::Inbound,
            },
        )
    };
    let events = vec![
        enter(1, T0, "c1"),
        enter(2, T0 + 1_000, "c2"),
        enter(3, T0 + 2_000, "c3"),
        event(
            4,
            T0 + 9_000,
            EventKind::CallAbandoned {
                call: "c2".into(),
                queue: None,
                wait_ms: None,
            },
        ),
        event(
            5,
            T0 + 60_000,
            EventKind::CallTimedOut {
                call: "c1".into(),
                queue: None,
                wait_ms: None,
                overflow_to: None,
            },
        ),
        // A test call never reaches queue_log.
        Event {
            test: true,
            ..enter(6, T0 + 61_000, "t1")
        },
    ];
    assert_eq!(
        write_all(&events),
        [
            "1700000000|c1|q|NONE|ENTERQUEUE|||1",
            "1700000001|c2|q|NONE|ENTERQUEUE|||2",
            "1700000002|c3|q|NONE|ENTERQUEUE|||3",
            "1700000009|c2|q|NONE|ABANDON|2|2|8",
            "1700000060|c1|q|NONE|EXITWITHTIMEOUT|1|1|60",
        ]
    );
}

/// One generated call: queue, entry (s after T0), outcome, wait (s), talk (s), agent.
#[derive(Debug, Clone)]
struct CallSpec {
    queue: usize,
    entry_s: i64,
    outcome: u8,
    wait_s: i64,
    talk_s: i64,
    agent: usize,
    transfer: bool,
}

fn call_spec() -> impl Strategy<Value = CallSpec> {
    (
        0..2usize,
        0..20_000i64,
        0..3u8,
        0..90i64,
        1..900i64,
        0..4usize,
        any::<bool>(),
    )
        .prop_map(
            |(queue, entry_s, outcome, wait_s, talk_s, agent, transfer)| CallSpec {
                queue,
                entry_s,
                outcome,
                wait_s,
                talk_s,
                agent,
                transfer,
            },
        )
}

/// Canonical events of a day of calls on whole seconds, in time order.
fn day(calls: &[CallSpec]) -> Vec<Event> {
    let queues = ["billing", "sales"];
    let mut timed: Vec<(Millis, u64, EventKind)> = Vec::new();
    let mut order = 0u64;
    let mut push = |ts: Millis, kind: EventKind| {
        order += 1;
        timed.push((ts, order, kind));
    };
    for (i, c) in calls.iter().enumerate() {
        let call = format!("c{i}");
        let queue = queues[c.queue].to_string();
        let agent = format!("a{}", c.agent);
        let entered = T0 + c.entry_s * 1000;
        let outcome_at = entered + c.wait_s * 1000;
        push(
            entered,
            EventKind::CallEnteredQueue {
                call: call.clone(),
                queue: queue.clone(),
                priority: 0,
                caller: None,
                direction: Direction::Inbound,
            },
        );
        match c.outcome {
            0 => {
                push(
                    outcome_at,
                    EventKind::CallOffered {
                        call: call.clone(),
                        agent: agent.clone(),
                    },
                );
                push(
                    outcome_at,
                    EventKind::CallAnswered {
                        call: call.clone(),
                        agent: agent.clone(),
                        queue: None,
                        wait_ms: None,
                    },
                );
                let end = outcome_at + c.talk_s * 1000;
                if c.transfer {
                    push(
                        end,
                        EventKind::CallTransferred {
                            call: call.clone(),
                            queue: None,
                            agent: None,
                            talk_ms: None,
                            to_queue: None,
                            to_agent: None,
                            to_external: Some("8001@ext".into()),
                        },
                    );
                } else {
                    push(
                        end,
                        EventKind::CallEnded {
                            call: call.clone(),
                            queue: None,
                            agent: None,
                            talk_ms: None,
                        },
                    );
                }
                push(
                    end + 15_000,
                    EventKind::CallAfterCallWorkEnded { call: call.clone() },
                );
            }
            1 => push(
                outcome_at,
                EventKind::CallAbandoned {
                    call: call.clone(),
                    queue: None,
                    wait_ms: None,
                },
            ),
            _ => push(
                outcome_at,
                EventKind::CallTimedOut {
                    call: call.clone(),
                    queue: None,
                    wait_ms: None,
                    overflow_to: None,
                },
            ),
        }
    }
    timed.sort_by_key(|(ts, order, _)| (*ts, *order));
    timed
        .into_iter()
        .enumerate()
        .map(|(n, (ts, _, kind))| event(n as u64 + 1, ts, kind))
        .collect()
}

fn engine_of(events: &[Event]) -> Engine {
    let org = Organisation {
        centre: floorwatch_core::org::Centre {
            timezone: "Asia/Shanghai".into(),
            ..Default::default()
        },
        ..Organisation::default()
    };
    let mut engine = Engine::new(&org).expect("valid organisation");
    for e in events {
        engine.apply(e);
    }
    engine
}

/// The figures queue_log can carry.
fn carried(f: &Figures) -> (Vec<u64>, Vec<Option<f64>>) {
    (
        vec![
            f.offered,
            f.answered,
            f.abandoned,
            f.short_abandoned,
            f.timed_out,
            f.answered_within_threshold,
            f.handled,
            f.waiting_now,
        ],
        vec![
            f.service_level_pct,
            f.abandon_rate_pct,
            f.asa_s,
            f.max_wait_s,
            f.avg_talk_s,
        ],
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_round_trip_keeps_every_figure_queue_log_carries(calls in prop::collection::vec(call_spec(), 1..40)) {
        let original = day(&calls);
        let lines = write_all(&original);
        let read = QueueLogReader::new("queue-log:rt").read_text(&lines.join("\n"));
        prop_assert!(read.errors.is_empty(), "{:?}", read.errors);
        let a = engine_of(&original);
        let mut b = engine_of(&read.events);
        b.tick(a.now());
        let scopes = [Scope::Centre, Scope::Queue("billing".into()), Scope::Queue("sales".into())];
        for scope in &scopes {
            for window in [Window::Today, Window::Rolling60, Window::Interval15] {
                let (fa, fb) = match (a.figures(scope, window), b.figures(scope, window)) {
                    (Ok(fa), Ok(fb)) => (fa, fb),
                    // A queue no call used is unknown to both.
                    (Err(_), Err(_)) => continue,
                    other => panic!("{scope}: {other:?}"),
                };
                prop_assert_eq!(carried(&fa), carried(&fb), "{} {}", scope, window);
            }
        }
    }
}
