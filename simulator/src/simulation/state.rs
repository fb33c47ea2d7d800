//! What the simulation holds: the agenda, the floor (agents, calls, queues) and the arrival
//! processes. Behaviour lives beside it: `agents`, `calls`, `recording`, and the event loop in
//! the module root.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, VecDeque};

use floorwatch_core::{Direction, Millis, NotReadyReason};
use rand::rngs::ChaCha8Rng;

use super::agenda::Entry;
use crate::model::DayModel;
use crate::record::{Raw, Recorder};

/// One simulated span of a day, as canonical events in non-decreasing `ts`.
pub struct Simulation {
    pub(super) day: DayModel,
    pub(super) rng: ChaCha8Rng,
    /// The simulated time reached.
    pub(super) clock: Millis,
    pub(super) agenda: BinaryHeap<Reverse<Entry>>,
    pub(super) next_entry: u64,
    pub(super) agents: Vec<AgentFloor>,
    pub(super) calls: Vec<CallFloor>,
    pub(super) queues: Vec<QueueFloor>,
    pub(super) arrivals: Vec<ArrivalClock>,
    pub(super) recorded: VecDeque<Raw>,
    pub(super) recorder: Recorder,
    /// Nothing before this instant is recorded (a demo starting mid-day).
    pub(super) visible_from: Millis,
    /// The floor as it stands at `visible_from` is still to be recorded.
    pub(super) snapshot_due: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Activity {
    LoggedOut,
    Available,
    Ringing { call: usize },
    Talking { call: usize, held: bool },
    AfterCallWork { call: usize },
    NotReady { reason: NotReadyReason },
}

#[derive(Debug, Clone)]
pub(super) struct AgentFloor {
    pub(super) activity: Activity,
    pub(super) turn: u32,
    /// Since when the agent is available: the longest-idle agent gets the next call.
    pub(super) idle_since: Millis,
    /// Not-ready time that fell due while the agent was busy, taken when free.
    pub(super) pending: VecDeque<(NotReadyReason, Millis)>,
    /// Signs out as soon as free (end of shift, logout wave).
    pub(super) leaving: bool,
    pub(super) shift_end: Millis,
    /// Not ready for this long right after the first sign-in (settling in).
    pub(super) settle: Option<Millis>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum CallPhase {
    Ivr,
    Waiting,
    Ringing { agent: usize },
    Talking { agent: usize },
    Done,
}

/// How the current ring ends, decided when it starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum RingOutcome {
    Answer,
    /// The agent lets it ring out; the call goes on waiting.
    RingNoAnswer,
    /// An outbound dial nobody picks up.
    NoAnswer,
}

#[derive(Debug, Clone)]
pub(super) struct CallFloor {
    pub(super) queue: usize,
    /// How many queues the call has entered.
    pub(super) leg: u32,
    pub(super) phase: CallPhase,
    /// When the call entered its queue, as recorded: the wait is measured from here.
    pub(super) entered_at: Millis,
    /// Its place in the queue (the true entry time).
    pub(super) order: Millis,
    pub(super) answered_at: Millis,
    pub(super) test: bool,
    /// Its events are not recorded (it was already talking when a mid-day start began).
    pub(super) hidden: bool,
    pub(super) transferred: bool,
    pub(super) dropped: bool,
    pub(super) caller: u64,
    pub(super) direction: Direction,
    pub(super) ring: RingOutcome,
}

#[derive(Debug, Clone, Default)]
pub(super) struct QueueFloor {
    /// Calls waiting (not ringing), by (entry time, call).
    pub(super) waiting: BTreeSet<(Millis, usize)>,
    /// Agents available with this skill, by (idle since, agent).
    pub(super) available: BTreeSet<(Millis, usize)>,
    /// Agents signed in with this skill, whatever their state.
    pub(super) signed_in: u32,
}

/// Where a queue's arrival process stands: the minute of the day and the time within the day
/// (fractional milliseconds, so the process loses nothing to rounding).
#[derive(Debug, Clone, Copy)]
pub(super) struct ArrivalClock {
    pub(super) minute: usize,
    pub(super) at: f64,
}
