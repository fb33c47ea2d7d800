//! What the simulation records, and how it becomes canonical events.
//!
//! The simulation notes what happened with indices ([`Raw`]), cheap to make and to throw away
//! (a demo that starts mid-afternoon simulates the morning without recording it); the
//! [`Recorder`] names them as core/src/event.rs documents: ids, sequence numbers, call ids,
//! agent and queue ids.

use floorwatch_core::event::EVENT_VERSION;
use floorwatch_core::{AgentState, Direction, Event, EventKind, Millis, NotReadyReason};

use crate::model::DayModel;

/// The source name every simulated event carries.
pub const SOURCE: &str = "sim";

/// Something that happened, by index.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Raw {
    pub ts: Millis,
    pub test: bool,
    pub kind: RawKind,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawKind {
    Login {
        agent: usize,
    },
    Logout {
        agent: usize,
    },
    State {
        agent: usize,
        state: AgentState,
        reason: Option<NotReadyReason>,
    },
    Entered {
        call: usize,
        queue: usize,
        caller: u64,
        direction: Direction,
    },
    Offered {
        call: usize,
        agent: usize,
    },
    RingNoAnswer {
        call: usize,
        agent: usize,
    },
    Answered {
        call: usize,
        agent: usize,
        queue: usize,
        wait_ms: Millis,
    },
    HoldStarted {
        call: usize,
    },
    HoldEnded {
        call: usize,
    },
    Transferred {
        call: usize,
        queue: usize,
        agent: usize,
        talk_ms: Millis,
        to: TransferTo,
    },
    Ended {
        call: usize,
        queue: usize,
        agent: usize,
        talk_ms: Millis,
    },
    AfterCallWorkEnded {
        call: usize,
    },
    Abandoned {
        call: usize,
        queue: usize,
        wait_ms: Millis,
    },
    TimedOut {
        call: usize,
        queue: usize,
        wait_ms: Millis,
        overflow_to: Option<usize>,
    },
    IvrCompleted {
        call: usize,
        queue: usize,
    },
}

/// Where a transferred call went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum TransferTo {
    Queue(usize),
    /// An outside number.
    External(u64),
}

/// Names raw records as canonical events, numbering them.
#[derive(Debug, Clone)]
pub(crate) struct Recorder {
    /// `sim-<seed>-<origin>-`: unique per seed and per simulated span, so two days, or two demo
    /// starts, replayed into one server never collide (an id seen twice is applied once).
    event_prefix: String,
    /// `<date>-s<seed>-c`: a call keeps its id across its legs.
    call_prefix: String,
    seq: u64,
}

impl Recorder {
    pub(crate) fn new(seed: u64, origin: &str, day: &DayModel) -> Recorder {
        let date = day.date.strftime("%Y%m%d").to_string();
        Recorder {
            event_prefix: format!("{SOURCE}-{seed}-{origin}-"),
            call_prefix: format!("{date}-s{seed}-c"),
            seq: 0,
        }
    }

    /// How many events were recorded so far.
    pub(crate) fn count(&self) -> u64 {
        self.seq
    }

    pub(crate) fn event(&mut self, raw: Raw, day: &DayModel) -> Event {
        self.seq += 1;
        let agent = |a: usize| day.agents[a].id.clone();
        let queue = |q: usize| day.queues[q].id.clone();
        let call = |c: usize| format!("{}{}", self.call_prefix, c + 1);
        let kind = match raw.kind {
            RawKind::Login { agent: a } => EventKind::AgentLogin {
                agent: agent(a),
                team: Some(day.agents[a].team.clone()),
            },
            RawKind::Logout { agent: a } => EventKind::AgentLogout { agent: agent(a) },
            RawKind::State {
                agent: a,
                state,
                reason,
            } => EventKind::AgentState {
                agent: agent(a),
                state,
                reason,
            },
            RawKind::Entered {
                call: c,
                queue: q,
                caller,
                direction,
            } => EventKind::CallEnteredQueue {
                call: call(c),
                queue: queue(q),
                priority: day.queues[q].priority,
                caller: Some(caller.to_string().into()),
                direction,
            },
            RawKind::Offered { call: c, agent: a } => EventKind::CallOffered {
                call: call(c),
                agent: agent(a),
            },
            RawKind::RingNoAnswer { call: c, agent: a } => EventKind::CallRingNoAnswer {
                call: call(c),
                agent: agent(a),
            },
            RawKind::Answered {
                call: c,
                agent: a,
                queue: q,
                wait_ms,
            } => EventKind::CallAnswered {
                call: call(c),
                agent: agent(a),
                queue: Some(queue(q)),
                wait_ms: Some(wait_ms),
            },
            RawKind::HoldStarted { call: c } => EventKind::CallHoldStarted { call: call(c) },
            RawKind::HoldEnded { call: c } => EventKind::CallHoldEnded { call: call(c) },
            RawKind::Transferred {
                call: c,
                queue: q,
                agent: a,
                talk_ms,
                to,
            } => {
                let (to_queue, to_external) = match to {
                    TransferTo::Queue(t) => (Some(queue(t)), None),
                    TransferTo::External(number) => (None, Some(number.to_string())),
                };
                EventKind::CallTransferred {
                    call: call(c),
                    queue: Some(queue(q)),
                    agent: Some(agent(a)),
                    talk_ms: Some(talk_ms),
                    to_queue,
                    to_agent: None,
                    to_external,
                }
            }
            RawKind::Ended {
                call: c,
                queue: q,
                agent: a,
                talk_ms,
            } => EventKind::CallEnded {
                call: call(c),
                queue: Some(queue(q)),
                agent: Some(agent(a)),
                talk_ms: Some(talk_ms),
            },
            RawKind::AfterCallWorkEnded { call: c } => {
                EventKind::CallAfterCallWorkEnded { call: call(c) }
            }
            RawKind::Abandoned {
                call: c,
                queue: q,
                wait_ms,
            } => EventKind::CallAbandoned {
                call: call(c),
                queue: Some(queue(q)),
                wait_ms: Some(wait_ms),
            },
            RawKind::TimedOut {
                call: c,
                queue: q,
                wait_ms,
                overflow_to,
            } => EventKind::CallTimedOut {
                call: call(c),
                queue: Some(queue(q)),
                wait_ms: Some(wait_ms),
                overflow_to: overflow_to.map(queue),
            },
            RawKind::IvrCompleted { call: c, queue: q } => EventKind::CallIvrCompleted {
                call: call(c),
                queue: Some(queue(q)),
            },
        };
        Event {
            v: EVENT_VERSION,
            id: format!("{}{}", self.event_prefix, self.seq),
            source: SOURCE.to_string(),
            seq: self.seq,
            ts: raw.ts,
            test: raw.test,
            kind,
        }
    }
}
