//! The discrete-event simulation of a centre's day.
//!
//! An agenda of timed actions (a call arrives, a ring ends, a break is due, a shift ends) is
//! worked through in time order; each action changes the floor (agents, calls, queues) and
//! records what a switch would report. Ties at the same millisecond keep the order in which
//! they were scheduled, and every random draw comes from one ChaCha8 stream seeded by the
//! caller, so a seed gives the same day, event for event, every time.
//!
//! The floor follows the rules of an Asterisk-like switch: a queue serves its calls first come,
//! first served, a higher-priority queue before a lower one; a call goes to the agent who has
//! been available longest (fair rotation); a call stays in its queue while it rings, so the
//! caller can still hang up; a call joining or left in a queue with no agent signed in leaves
//! it at once (Asterisk's `joinempty` / `leavewhenempty`), which is how calls of a closed
//! queue end. Agents take breaks and other not-ready time when they are free, never mid-call.
//!
//! What is recorded (core/src/event.rs): every agent state change as an explicit `agent_state`
//! (a sign-in alone means available; a sign-out ends every state, so an agent who leaves after
//! a call signs out without an `available` first); every queued leg ends in exactly one of
//! `call_answered`, `call_abandoned` or `call_timed_out`, each with its queue and `wait_ms`; an
//! answered call ends with `call_ended` or `call_transferred` with `talk_ms` (hold included),
//! then `call_after_call_work_ended` if there was after-call work (never after a transfer to a
//! queue, where the call is someone else's). The optional durations always equal what the
//! timestamps give. A test call carries `test: true` on each of its call events; the agent
//! states it causes are not flagged, since the agent really is busy.

mod agenda;
mod agents;
mod calls;
mod recording;
mod state;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use floorwatch_core::{AgentState, Event, Millis};
use jiff::Timestamp;
use jiff::civil::Date;
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;

use crate::model::DayModel;
use crate::record::{RawKind, Recorder};
use crate::scenario::Scenario;
use agenda::{Action, Entry};
pub use state::Simulation;
use state::{Activity, AgentFloor, ArrivalClock, CallPhase, QueueFloor};

impl Simulation {
    /// One whole day, local midnight to midnight in the scenario centre's time zone.
    pub fn new(scenario: &Scenario, date: Date, seed: u64) -> Simulation {
        let origin = date.strftime("%Y%m%d").to_string();
        Simulation::build(scenario, date, seed, &origin, None)
    }

    /// The rest of the day from `start`. The day is simulated from midnight, unrecorded, so
    /// at `start` the floor is the one that day would have: agents whose shift covers `start`
    /// are signed in, on calls, in after-call work or on break, and calls wait. That floor is
    /// recorded at `start` (sign-ins, waiting and ringing calls, agents' states); calls already
    /// being talked are not (their agents show on call), and from then on everything is.
    pub fn starting_at(scenario: &Scenario, start: Millis, seed: u64) -> Simulation {
        let tz = scenario.calendar().time_zone().clone();
        let date = Timestamp::from_millisecond(start)
            .map(|t| t.to_zoned(tz).date())
            .unwrap_or(jiff::civil::date(2026, 1, 1));
        Simulation::build(scenario, date, seed, &start.to_string(), Some(start))
    }

    fn build(
        scenario: &Scenario,
        date: Date,
        seed: u64,
        origin: &str,
        visible_from: Option<Millis>,
    ) -> Simulation {
        let day = DayModel::new(scenario, date);
        let recorder = Recorder::new(seed, origin, &day);
        let mut sim = Simulation {
            rng: ChaCha8Rng::seed_from_u64(seed),
            clock: day.day_start,
            agenda: BinaryHeap::new(),
            next_entry: 0,
            agents: day
                .agents
                .iter()
                .map(|a| AgentFloor {
                    activity: Activity::LoggedOut,
                    turn: 0,
                    idle_since: 0,
                    pending: VecDeque::new(),
                    leaving: false,
                    shift_end: a.shift_end,
                    settle: None,
                })
                .collect(),
            calls: Vec::new(),
            queues: vec![QueueFloor::default(); day.queues.len()],
            arrivals: vec![ArrivalClock { minute: 0, at: 0.0 }; day.queues.len()],
            recorded: VecDeque::new(),
            recorder,
            visible_from: visible_from.unwrap_or(Millis::MIN),
            snapshot_due: visible_from.is_some(),
            day,
        };
        for agent in 0..sim.agents.len() {
            sim.plan_agent(agent);
        }
        for queue in 0..sim.queues.len() {
            if let Some(at) = sim.next_arrival(queue) {
                sim.schedule(at, Action::Arrival { queue });
            }
        }
        for wave in 0..sim.day.logout_waves.len() {
            sim.schedule(sim.day.logout_waves[wave].at, Action::LogoutWave { wave });
        }
        sim.schedule(sim.day.day_end - 1, Action::CloseDay);
        sim
    }

    /// Start of the simulated day (local midnight), UTC ms.
    pub fn day_start(&self) -> Millis {
        self.day.day_start
    }

    /// End of the simulated day (the next local midnight), UTC ms, exclusive: the books close
    /// a millisecond before it, and no event is at or after it.
    pub fn day_end(&self) -> Millis {
        self.day.day_end
    }

    /// The first instant recorded: the day's start, or `start` for [`Simulation::starting_at`].
    pub fn recorded_from(&self) -> Millis {
        self.visible_from.max(self.day.day_start)
    }

    /// The simulated time reached so far.
    pub fn clock(&self) -> Millis {
        self.clock
    }

    /// Events handed out so far.
    pub fn events_recorded(&self) -> u64 {
        self.recorder.count()
    }

    fn schedule(&mut self, at: Millis, action: Action) {
        self.next_entry += 1;
        self.agenda.push(Reverse(Entry {
            at,
            order: self.next_entry,
            action,
        }));
    }

    /// Works through the next action; false when the day is over.
    fn step(&mut self) -> bool {
        let Some(Reverse(entry)) = self.agenda.pop() else {
            if self.snapshot_due {
                self.snapshot();
                return true;
            }
            return false;
        };
        if self.snapshot_due && entry.at >= self.visible_from {
            self.snapshot();
        }
        self.clock = self.clock.max(entry.at);
        self.perform(entry.action);
        true
    }

    fn perform(&mut self, action: Action) {
        match action {
            Action::Arrival { queue } => self.arrival(queue),
            Action::IvrDone { call } => {
                let queue = self.calls[call].queue;
                self.record_call(call, RawKind::IvrCompleted { call, queue });
                self.calls[call].phase = CallPhase::Done;
            }
            Action::SignIn { agent } => self.sign_in(agent),
            Action::ShiftEnd { agent } => {
                self.agents[agent].leaving = true;
                if self.is_idle(agent) {
                    self.sign_out(agent);
                }
            }
            Action::NotReadyDue {
                agent,
                reason,
                length,
            } => {
                let a = &mut self.agents[agent];
                match a.activity {
                    Activity::LoggedOut => {}
                    _ if a.leaving => {}
                    Activity::Available => self.start_not_ready(agent, reason, length),
                    _ => a.pending.push_back((reason, length)),
                }
            }
            Action::NotReadyEnd { agent, turn } => {
                if self.current(agent, turn)
                    && matches!(self.agents[agent].activity, Activity::NotReady { .. })
                {
                    self.free(agent);
                }
            }
            Action::RingEnd { agent, turn } => {
                if let (true, Activity::Ringing { call }) =
                    (self.current(agent, turn), self.agents[agent].activity)
                {
                    self.ring_end(agent, call);
                }
            }
            Action::HoldStart { agent, turn } => {
                if let (true, Activity::Talking { call, held: false }) =
                    (self.current(agent, turn), self.agents[agent].activity)
                {
                    self.agents[agent].activity = Activity::Talking { call, held: true };
                    self.record_call(call, RawKind::HoldStarted { call });
                    self.record_state(agent, AgentState::Hold, None);
                }
            }
            Action::HoldEnd { agent, turn } => {
                if let (true, Activity::Talking { call, held: true }) =
                    (self.current(agent, turn), self.agents[agent].activity)
                {
                    self.agents[agent].activity = Activity::Talking { call, held: false };
                    self.record_call(call, RawKind::HoldEnded { call });
                    self.record_state(agent, AgentState::OnCall, None);
                }
            }
            Action::TalkEnd { agent, turn } => {
                if let (true, Activity::Talking { call, .. }) =
                    (self.current(agent, turn), self.agents[agent].activity)
                {
                    self.talk_end(agent, call);
                }
            }
            Action::AfterCallWorkEnd { agent, turn } => {
                if let (true, Activity::AfterCallWork { call }) =
                    (self.current(agent, turn), self.agents[agent].activity)
                {
                    self.record_call(call, RawKind::AfterCallWorkEnded { call });
                    self.free(agent);
                }
            }
            Action::Abandon { call, leg } => {
                if self.in_queue(call, leg) {
                    let agent = self.leave_queue(call);
                    let (queue, wait_ms) = self.wait_of(call);
                    self.record_call(
                        call,
                        RawKind::Abandoned {
                            call,
                            queue,
                            wait_ms,
                        },
                    );
                    self.calls[call].phase = CallPhase::Done;
                    if let Some(agent) = agent {
                        self.free(agent);
                    }
                }
            }
            Action::TimeOut { call, leg } => {
                if self.in_queue(call, leg) {
                    self.time_out(call);
                }
            }
            Action::LogoutWave { wave } => self.logout_wave(wave),
            Action::CloseDay => self.close_day(),
            Action::ComeBack { agent } => {
                let a = &mut self.agents[agent];
                if self.clock < a.shift_end {
                    if a.activity == Activity::LoggedOut {
                        self.sign_in(agent);
                    } else {
                        // Still finishing a call: stays after all.
                        a.leaving = false;
                    }
                }
            }
        }
    }
}

impl Iterator for Simulation {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(raw) = self.recorded.pop_front() {
                return Some(self.recorder.event(raw, &self.day));
            }
            if !self.step() {
                return None;
            }
        }
    }
}
