//! Checks shared by the simulator's integration tests: the contract every simulated day keeps.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet};

use floorwatch_core::{AgentState, Event, EventKind, Millis};

/// What a call is doing, as its events tell it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Call {
    Waiting {
        entered: Millis,
    },
    Ringing {
        entered: Millis,
        agent: usize,
    },
    Talking {
        answered: Millis,
        agent: usize,
        held: bool,
    },
    /// Talk over; after-call work may still end.
    Ended,
    /// Left its queue (timed out or transferred): a new leg may enter.
    BetweenLegs,
}

/// Counts from a checked day.
#[derive(Debug, Default, Clone)]
pub(crate) struct Tally {
    pub events: usize,
    pub legs: usize,
    pub answered: usize,
    pub abandoned: usize,
    pub timed_out: usize,
    pub ivr: usize,
    pub transfers: usize,
    pub test_events: usize,
    pub not_ready_reasons: HashSet<String>,
}

/// Options for [`check_day`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Rules {
    /// A mid-day start: agents may be on a call the stream never showed.
    pub mid_day: bool,
}

/// Checks a whole recorded span against the event contract (core/src/event.rs) and the
/// simulator's promises:
/// - every event validates, round-trips through JSON, has source `sim`, a unique id and an
///   increasing `seq`, and `ts` never goes back;
/// - every queued leg ends in exactly one of answered / abandoned / timed out, and nothing is
///   left waiting, ringing or talking at the end;
/// - `wait_ms` and `talk_ms` equal what the timestamps say;
/// - call events and agent states agree: an offer is followed by the agent ringing, an answer by
///   on call, a hold by hold, an end by after-call work, available or not ready; agents sign in
///   only when signed out and out only when idle;
/// - a test call is flagged on every one of its events.
pub(crate) fn check_day(events: &[Event], rules: Rules) -> Tally {
    let mut tally = Tally::default();
    let mut ids = HashSet::new();
    let mut last_ts = Millis::MIN;
    let mut last_seq = 0;
    let mut calls: HashMap<String, Call> = HashMap::new();
    let mut test_calls: HashMap<String, bool> = HashMap::new();
    let mut agents: HashMap<String, Option<AgentState>> = HashMap::new();
    // The state each agent's next `agent_state` must report, set by call events.
    let mut expect: HashMap<String, Vec<AgentState>> = HashMap::new();
    let mut agent_index: HashMap<String, usize> = HashMap::new();

    for (i, e) in events.iter().enumerate() {
        let at = format!("event {i} ({})", e.to_json());
        tally.events += 1;
        e.validate()
            .unwrap_or_else(|err| panic!("{at}: invalid: {err}"));
        assert_eq!(
            Event::from_json(&e.to_json()).as_ref(),
            Ok(e),
            "{at}: JSON round trip"
        );
        assert_eq!(e.source, "sim", "{at}");
        assert!(ids.insert(e.id.clone()), "{at}: duplicate id");
        assert!(e.seq > last_seq, "{at}: seq not increasing");
        last_seq = e.seq;
        assert!(e.ts >= last_ts, "{at}: ts went back");
        last_ts = e.ts;
        if e.test {
            tally.test_events += 1;
        }
        if let Some(call) = e.kind.call() {
            let flagged = *test_calls.entry(call.to_string()).or_insert(e.test);
            assert_eq!(flagged, e.test, "{at}: test flag differs within a call");
        }
        let mut index = |agent: &str| {
            let n = agent_index.len();
            *agent_index.entry(agent.to_string()).or_insert(n)
        };

        match &e.kind {
            EventKind::AgentLogin { agent, team } => {
                assert!(team.is_some(), "{at}: login without team");
                let state = agents.entry(agent.clone()).or_insert(None);
                assert_eq!(*state, None, "{at}: signed in twice");
                *state = Some(AgentState::Available);
            }
            EventKind::AgentLogout { agent } => {
                // An agent signs out when idle, or straight after their call or its after-call
                // work ended (no `available` in between: signing out ends every state).
                let state = agents.get(agent).copied().flatten();
                let owed = expect.get(agent).cloned().unwrap_or_default();
                let call_just_ended = owed.contains(&AgentState::Available);
                assert!(
                    call_just_ended
                        || matches!(
                            state,
                            Some(
                                AgentState::Available
                                    | AgentState::NotReady
                                    | AgentState::AfterCallWork
                            )
                        ),
                    "{at}: signed out while {state:?}"
                );
                assert!(
                    owed.is_empty() || call_just_ended || owed.contains(&AgentState::NotReady),
                    "{at}: signed out while {owed:?} was owed"
                );
                expect.remove(agent);
                agents.insert(agent.clone(), None);
            }
            EventKind::AgentState {
                agent,
                state,
                reason,
            } => {
                let current = agents.get(agent).copied().flatten();
                assert!(current.is_some(), "{at}: state of an agent not signed in");
                assert_eq!(
                    reason.is_some(),
                    *state == AgentState::NotReady,
                    "{at}: reason"
                );
                if let Some(r) = reason {
                    tally.not_ready_reasons.insert(r.as_str().to_string());
                }
                if let Some(owed) = expect.remove(agent)
                    && !owed.is_empty()
                {
                    assert!(owed.contains(state), "{at}: expected one of {owed:?}");
                }
                if matches!(
                    state,
                    AgentState::Ringing | AgentState::OnCall | AgentState::Hold
                ) {
                    let me = index(agent);
                    let busy = calls.values().any(|c| match c {
                        Call::Ringing { agent, .. } => {
                            *agent == me && *state == AgentState::Ringing
                        }
                        Call::Talking { agent, held, .. } => {
                            *agent == me
                                && (*state == AgentState::OnCall && !held
                                    || *state == AgentState::Hold && *held)
                        }
                        _ => false,
                    });
                    assert!(
                        busy || rules.mid_day,
                        "{at}: no call matches the agent's state"
                    );
                }
                agents.insert(agent.clone(), Some(*state));
            }
            EventKind::AgentTeam { .. } => {}
            EventKind::CallEnteredQueue { call, .. } => {
                let before = calls.get(call).copied();
                assert!(
                    matches!(before, None | Some(Call::BetweenLegs)),
                    "{at}: entered while {before:?}"
                );
                tally.legs += 1;
                calls.insert(call.clone(), Call::Waiting { entered: e.ts });
            }
            EventKind::CallOffered { call, agent } => {
                let Some(Call::Waiting { entered }) = calls.get(call).copied() else {
                    panic!("{at}: offered while {:?}", calls.get(call));
                };
                assert_eq!(
                    agents.get(agent).copied().flatten(),
                    Some(AgentState::Available),
                    "{at}: offered to an agent who is not available"
                );
                let me = index(agent);
                calls.insert(call.clone(), Call::Ringing { entered, agent: me });
                expect.insert(agent.clone(), vec![AgentState::Ringing]);
            }
            EventKind::CallRingNoAnswer { call, agent } => {
                let Some(Call::Ringing { entered, agent: a }) = calls.get(call).copied() else {
                    panic!("{at}: ring-no-answer while {:?}", calls.get(call));
                };
                assert_eq!(a, index(agent), "{at}");
                calls.insert(call.clone(), Call::Waiting { entered });
                expect.insert(agent.clone(), vec![AgentState::NotReady]);
            }
            EventKind::CallAnswered {
                call,
                agent,
                wait_ms,
                queue,
            } => {
                let Some(Call::Ringing { entered, agent: a }) = calls.get(call).copied() else {
                    panic!("{at}: answered while {:?}", calls.get(call));
                };
                assert_eq!(a, index(agent), "{at}: answered by another agent");
                assert_eq!(*wait_ms, Some(e.ts - entered), "{at}: wait_ms");
                assert!(queue.is_some(), "{at}");
                tally.answered += 1;
                calls.insert(
                    call.clone(),
                    Call::Talking {
                        answered: e.ts,
                        agent: a,
                        held: false,
                    },
                );
                expect.insert(agent.clone(), vec![AgentState::OnCall]);
            }
            EventKind::CallHoldStarted { call } | EventKind::CallHoldEnded { call } => {
                let starting = matches!(e.kind, EventKind::CallHoldStarted { .. });
                let Some(Call::Talking {
                    answered,
                    agent,
                    held,
                }) = calls.get(call).copied()
                else {
                    panic!("{at}: hold while {:?}", calls.get(call));
                };
                assert_eq!(held, !starting, "{at}");
                calls.insert(
                    call.clone(),
                    Call::Talking {
                        answered,
                        agent,
                        held: starting,
                    },
                );
                let name = agent_name(&agent_index, agent);
                expect.insert(
                    name,
                    vec![if starting {
                        AgentState::Hold
                    } else {
                        AgentState::OnCall
                    }],
                );
            }
            EventKind::CallEnded {
                call,
                agent,
                talk_ms,
                ..
            }
            | EventKind::CallTransferred {
                call,
                agent,
                talk_ms,
                ..
            } => {
                let Some(Call::Talking {
                    answered,
                    agent: a,
                    held,
                }) = calls.get(call).copied()
                else {
                    panic!("{at}: ended while {:?}", calls.get(call));
                };
                assert!(!held, "{at}: ended on hold");
                let agent = agent.as_deref().unwrap_or_else(|| panic!("{at}: no agent"));
                assert_eq!(a, index(agent), "{at}");
                assert_eq!(*talk_ms, Some(e.ts - answered), "{at}: talk_ms");
                let transferred_to_queue = matches!(
                    &e.kind,
                    EventKind::CallTransferred {
                        to_queue: Some(_),
                        ..
                    }
                );
                if matches!(e.kind, EventKind::CallTransferred { .. }) {
                    tally.transfers += 1;
                }
                calls.insert(
                    call.clone(),
                    if transferred_to_queue {
                        Call::BetweenLegs
                    } else {
                        Call::Ended
                    },
                );
                expect.insert(
                    agent.to_string(),
                    vec![
                        AgentState::AfterCallWork,
                        AgentState::Available,
                        AgentState::NotReady,
                    ],
                );
            }
            EventKind::CallAfterCallWorkEnded { call } => {
                assert!(
                    matches!(calls.get(call), Some(Call::Ended)),
                    "{at}: after-call work ended while {:?}",
                    calls.get(call)
                );
            }
            EventKind::CallAbandoned { call, wait_ms, .. }
            | EventKind::CallTimedOut { call, wait_ms, .. } => {
                let (entered, ringing) = match calls.get(call).copied() {
                    Some(Call::Waiting { entered }) => (entered, None),
                    Some(Call::Ringing { entered, agent }) => (entered, Some(agent)),
                    other => panic!("{at}: left the queue while {other:?}"),
                };
                assert_eq!(*wait_ms, Some(e.ts - entered), "{at}: wait_ms");
                if let Some(agent) = ringing {
                    expect.insert(
                        agent_name(&agent_index, agent),
                        vec![AgentState::Available, AgentState::NotReady],
                    );
                }
                if matches!(e.kind, EventKind::CallAbandoned { .. }) {
                    tally.abandoned += 1;
                    calls.insert(call.clone(), Call::Ended);
                } else {
                    tally.timed_out += 1;
                    calls.insert(call.clone(), Call::BetweenLegs);
                }
            }
            EventKind::CallIvrCompleted { call, .. } => {
                assert!(
                    !calls.contains_key(call),
                    "{at}: IVR completion of a queued call"
                );
                tally.ivr += 1;
                calls.insert(call.clone(), Call::Ended);
            }
        }
    }
    for (call, state) in &calls {
        assert!(
            matches!(state, Call::Ended | Call::BetweenLegs),
            "call {call} left {state:?} at the end"
        );
    }
    assert_eq!(
        tally.legs,
        tally.answered + tally.abandoned + tally.timed_out,
        "every queued leg has exactly one outcome"
    );
    tally
}

fn agent_name(index: &HashMap<String, usize>, agent: usize) -> String {
    index
        .iter()
        .find(|(_, i)| **i == agent)
        .map(|(name, _)| name.clone())
        .unwrap_or_default()
}
