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

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeSet, BinaryHeap, VecDeque};

use floorwatch_core::{AgentState, Direction, Event, Millis, NotReadyReason};
use jiff::Timestamp;
use jiff::civil::Date;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Exp1};

use crate::distribution::{DurationSpec, normal_ms};
use crate::model::{DayModel, MINUTE_MS, NOT_READY_MIX, minutes_ms};
use crate::record::{Raw, RawKind, Recorder, TransferTo};
use crate::scenario::{BreakPolicy, Scenario};

/// A call may move between queues (overflow, transfer) at most this many times; it keeps two
/// queues that overflow into each other while both are empty from passing a call back and forth
/// forever.
const MAX_LEGS: u32 = 4;

/// One simulated span of a day, as canonical events in non-decreasing `ts`.
pub struct Simulation {
    day: DayModel,
    rng: ChaCha8Rng,
    /// The simulated time reached.
    clock: Millis,
    agenda: BinaryHeap<Reverse<Entry>>,
    next_entry: u64,
    agents: Vec<AgentFloor>,
    calls: Vec<CallFloor>,
    queues: Vec<QueueFloor>,
    arrivals: Vec<ArrivalClock>,
    recorded: VecDeque<Raw>,
    recorder: Recorder,
    /// Nothing before this instant is recorded (a demo starting mid-day).
    visible_from: Millis,
    /// The floor as it stands at `visible_from` is still to be recorded.
    snapshot_due: bool,
}

/// An action on the agenda. Entries compare by time, then by the order they were scheduled in.
#[derive(Debug, Clone, Copy)]
struct Entry {
    at: Millis,
    order: u64,
    action: Action,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.order).cmp(&(other.at, other.order))
    }
}

/// Things that happen at a time. Actions about an agent's current activity carry the agent's
/// `turn` when they were scheduled; one whose turn has passed (the caller hung up while it
/// rang, say) is dropped.
#[derive(Debug, Clone, Copy)]
enum Action {
    Arrival {
        queue: usize,
    },
    IvrDone {
        call: usize,
    },
    SignIn {
        agent: usize,
    },
    ShiftEnd {
        agent: usize,
    },
    NotReadyDue {
        agent: usize,
        reason: NotReadyReason,
        length: Millis,
    },
    NotReadyEnd {
        agent: usize,
        turn: u32,
    },
    RingEnd {
        agent: usize,
        turn: u32,
    },
    HoldStart {
        agent: usize,
        turn: u32,
    },
    HoldEnd {
        agent: usize,
        turn: u32,
    },
    TalkEnd {
        agent: usize,
        turn: u32,
    },
    AfterCallWorkEnd {
        agent: usize,
        turn: u32,
    },
    Abandon {
        call: usize,
        leg: u32,
    },
    TimeOut {
        call: usize,
        leg: u32,
    },
    LogoutWave {
        wave: usize,
    },
    ComeBack {
        agent: usize,
    },
    CloseDay,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Activity {
    LoggedOut,
    Available,
    Ringing { call: usize },
    Talking { call: usize, held: bool },
    AfterCallWork { call: usize },
    NotReady { reason: NotReadyReason },
}

#[derive(Debug, Clone)]
struct AgentFloor {
    activity: Activity,
    turn: u32,
    /// Since when the agent is available: the longest-idle agent gets the next call.
    idle_since: Millis,
    /// Not-ready time that fell due while the agent was busy, taken when free.
    pending: VecDeque<(NotReadyReason, Millis)>,
    /// Signs out as soon as free (end of shift, logout wave).
    leaving: bool,
    shift_end: Millis,
    /// Not ready for this long right after the first sign-in (settling in).
    settle: Option<Millis>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CallPhase {
    Ivr,
    Waiting,
    Ringing { agent: usize },
    Talking { agent: usize },
    Done,
}

/// How the current ring ends, decided when it starts.
#[derive(Debug, Clone, Copy, PartialEq)]
enum RingOutcome {
    Answer,
    /// The agent lets it ring out; the call goes on waiting.
    RingNoAnswer,
    /// An outbound dial nobody picks up.
    NoAnswer,
}

#[derive(Debug, Clone)]
struct CallFloor {
    queue: usize,
    /// How many queues the call has entered.
    leg: u32,
    phase: CallPhase,
    /// When the call entered its queue, as recorded: the wait is measured from here.
    entered_at: Millis,
    /// Its place in the queue (the true entry time).
    order: Millis,
    answered_at: Millis,
    test: bool,
    /// Its events are not recorded (it was already talking when a mid-day start began).
    hidden: bool,
    transferred: bool,
    dropped: bool,
    caller: u64,
    direction: Direction,
    ring: RingOutcome,
}

#[derive(Debug, Clone, Default)]
struct QueueFloor {
    /// Calls waiting (not ringing), by (entry time, call).
    waiting: BTreeSet<(Millis, usize)>,
    /// Agents available with this skill, by (idle since, agent).
    available: BTreeSet<(Millis, usize)>,
    /// Agents signed in with this skill, whatever their state.
    signed_in: u32,
}

/// Where a queue's arrival process stands: the minute of the day and the time within the day
/// (fractional milliseconds, so the process loses nothing to rounding).
#[derive(Debug, Clone, Copy)]
struct ArrivalClock {
    minute: usize,
    at: f64,
}

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

    // ---- planning ------------------------------------------------------------------------

    /// Draws an agent's day: when they sign in and out, their breaks and meal, their other
    /// not-ready spells.
    fn plan_agent(&mut self, agent: usize) {
        let model = &self.day.agents[agent];
        let (shift_start, shift_end) = (model.shift_start, model.shift_end);
        if shift_end <= shift_start {
            return;
        }
        let habits = self.day.habits.clone();
        let mut sign_in =
            shift_start + normal_ms(&mut self.rng, habits.sign_in_mean_s, habits.sign_in_sd_s);
        if self.rng.random_bool(habits.late_share) {
            sign_in = shift_start + self.rng.random_range(3 * MINUTE_MS..=15 * MINUTE_MS);
        }
        let mut end = shift_end;
        if self.rng.random_bool(habits.early_logout_share) {
            end -= self.rng.random_range(5 * MINUTE_MS..=20 * MINUTE_MS);
        }
        let sign_in = sign_in.max(self.day.day_start);
        if sign_in >= end {
            return;
        }
        if self.rng.random_bool(habits.login_not_ready_share) {
            self.agents[agent].settle = Some(self.rng.random_range(MINUTE_MS..=3 * MINUTE_MS));
        }
        self.agents[agent].shift_end = end;
        self.schedule(sign_in, Action::SignIn { agent });
        self.schedule(end, Action::ShiftEnd { agent });

        let breaks = self.day.breaks.clone();
        let stagger = minutes_ms(breaks.stagger_minutes);
        for (offset, reason, planned) in break_plan(&breaks, shift_end - shift_start) {
            let shift = if stagger > 0 {
                self.rng.random_range(-stagger..=stagger)
            } else {
                0
            };
            let mut length = (planned as f64 * self.rng.random_range(0.95..1.10)) as Millis;
            if self.rng.random_bool(breaks.overrun_share) {
                length += self.rng.random_range(3 * MINUTE_MS..=12 * MINUTE_MS);
            }
            let at = shift_start + offset + shift;
            if at > sign_in && at < end {
                self.schedule(
                    at,
                    Action::NotReadyDue {
                        agent,
                        reason,
                        length,
                    },
                );
            }
        }

        if habits.not_ready_per_hour > 0.0 {
            let mean_gap_ms = floorwatch_core::time::HOUR_MS as f64 / habits.not_ready_per_hour;
            let mut t = sign_in as f64;
            loop {
                let gap: f64 = Exp1.sample(&mut self.rng);
                t += gap * mean_gap_ms;
                if t >= end as f64 {
                    break;
                }
                let (reason, mean_minutes) = pick_not_ready(self.rng.random_range(0.0..1.0));
                let length = DurationSpec::log_normal(mean_minutes * 60.0, 0.5)
                    .sampler()
                    .ms(&mut self.rng);
                self.schedule(
                    t as Millis,
                    Action::NotReadyDue {
                        agent,
                        reason,
                        length,
                    },
                );
            }
        }
    }

    /// The next arrival of a queue's non-homogeneous Poisson process: exponential gaps at
    /// each minute's rate; a gap that runs past the minute's end restarts at the next minute
    /// with its rate, which is exact because the exponential has no memory.
    fn next_arrival(&mut self, queue: usize) -> Option<Millis> {
        let per_minute = &self.day.queues[queue].per_minute;
        let clock = &mut self.arrivals[queue];
        let minute_ms = MINUTE_MS as f64;
        while clock.minute < per_minute.len() {
            let minute_end = (clock.minute + 1) as f64 * minute_ms;
            let rate = per_minute[clock.minute] / minute_ms;
            if rate > 0.0 {
                let gap: f64 = Exp1.sample(&mut self.rng);
                let at = clock.at + gap / rate;
                if at < minute_end {
                    clock.at = at;
                    return Some(self.day.day_start + at as Millis);
                }
            }
            clock.at = minute_end;
            clock.minute += 1;
        }
        None
    }

    fn schedule(&mut self, at: Millis, action: Action) {
        self.next_entry += 1;
        self.agenda.push(Reverse(Entry {
            at,
            order: self.next_entry,
            action,
        }));
    }

    // ---- the loop ------------------------------------------------------------------------

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

    // ---- calls ---------------------------------------------------------------------------

    fn arrival(&mut self, queue: usize) {
        if let Some(at) = self.next_arrival(queue) {
            self.schedule(at, Action::Arrival { queue });
        }
        let q = &self.day.queues[queue];
        let (test_share, ivr_share, direction) = (q.test_share, q.ivr_share, q.direction);
        let ivr = q.ivr;
        let call = self.calls.len();
        let test = self.rng.random_bool(test_share);
        let caller = 13_000_000_000 + self.rng.random_range(0..1_000_000_000u64);
        self.calls.push(CallFloor {
            queue,
            leg: 0,
            phase: CallPhase::Ivr,
            entered_at: self.clock,
            order: self.clock,
            answered_at: 0,
            test,
            hidden: false,
            transferred: false,
            dropped: false,
            caller,
            direction,
            ring: RingOutcome::Answer,
        });
        if direction == Direction::Inbound && self.rng.random_bool(ivr_share) {
            let done = self.clock + ivr.ms(&mut self.rng);
            self.schedule(done, Action::IvrDone { call });
        } else {
            self.enter_queue(call, queue);
        }
    }

    fn enter_queue(&mut self, call: usize, queue: usize) {
        let now = self.clock;
        let c = &mut self.calls[call];
        c.queue = queue;
        c.leg += 1;
        c.entered_at = now;
        c.order = now;
        c.phase = CallPhase::Waiting;
        c.hidden = false;
        let (leg, caller, direction) = (c.leg, c.caller, c.direction);
        self.record_call(
            call,
            RawKind::Entered {
                call,
                queue,
                caller,
                direction,
            },
        );
        if self.queues[queue].signed_in == 0 {
            self.time_out(call);
            return;
        }
        let q = &self.day.queues[queue];
        let (patience, timeout) = (q.patience, q.timeout_ms);
        if let Some(patience) = patience {
            let at = now + patience.ms(&mut self.rng);
            self.schedule(at, Action::Abandon { call, leg });
        }
        if let Some(timeout) = timeout {
            self.schedule(now + timeout, Action::TimeOut { call, leg });
        }
        self.queues[queue].waiting.insert((now, call));
        self.serve_call(call);
    }

    /// Whether the call is still in the queue leg `leg` (waiting or ringing).
    fn in_queue(&self, call: usize, leg: u32) -> bool {
        let c = &self.calls[call];
        c.leg == leg && matches!(c.phase, CallPhase::Waiting | CallPhase::Ringing { .. })
    }

    /// Takes a waiting or ringing call out of its queue; returns the agent it was ringing at.
    fn leave_queue(&mut self, call: usize) -> Option<usize> {
        let c = &self.calls[call];
        match c.phase {
            CallPhase::Waiting => {
                self.queues[c.queue].waiting.remove(&(c.order, call));
                None
            }
            CallPhase::Ringing { agent } => Some(agent),
            _ => None,
        }
    }

    fn wait_of(&self, call: usize) -> (usize, Millis) {
        let c = &self.calls[call];
        (c.queue, self.clock - c.entered_at)
    }

    /// The call leaves its queue by the switch's rule (time-out, or no agent signed in) and
    /// overflows to the next queue if one is set.
    fn time_out(&mut self, call: usize) {
        let agent = self.leave_queue(call);
        let (queue, wait_ms) = self.wait_of(call);
        let overflow_to = self.day.queues[queue]
            .overflow_to
            .filter(|_| self.calls[call].leg < MAX_LEGS);
        self.record_call(
            call,
            RawKind::TimedOut {
                call,
                queue,
                wait_ms,
                overflow_to,
            },
        );
        self.calls[call].phase = CallPhase::Done;
        if let Some(agent) = agent {
            self.free(agent);
        }
        if let Some(next) = overflow_to {
            self.enter_queue(call, next);
        }
    }

    /// Offers a waiting call to the longest-idle available agent with its skill.
    fn serve_call(&mut self, call: usize) {
        let queue = self.calls[call].queue;
        if let Some(&(_, agent)) = self.queues[queue].available.first() {
            self.offer(call, agent);
        }
    }

    /// Gives a just-available agent the best waiting call of their queues: higher queue
    /// priority first, then the longest waiting.
    fn serve_agent(&mut self, agent: usize) {
        let best = self.day.agents[agent]
            .skills
            .iter()
            .filter_map(|&q| {
                self.queues[q]
                    .waiting
                    .first()
                    .map(|&(order, call)| (Reverse(self.day.queues[q].priority), order, call))
            })
            .min();
        if let Some((_, _, call)) = best {
            self.offer(call, agent);
        }
    }

    fn offer(&mut self, call: usize, agent: usize) {
        let (queue, order, direction) = {
            let c = &self.calls[call];
            (c.queue, c.order, c.direction)
        };
        self.queues[queue].waiting.remove(&(order, call));
        self.leave_available(agent);
        let a = &mut self.agents[agent];
        a.activity = Activity::Ringing { call };
        a.turn += 1;
        let turn = a.turn;
        let q = &self.day.queues[queue];
        let habits = &self.day.habits;
        let (outcome, ring_ms) = if direction == Direction::Outbound {
            let (answer_share, ring, no_answer) = (q.answer_share, q.customer_ring, q.no_answer_ms);
            if self.rng.random_bool(answer_share) {
                (RingOutcome::Answer, ring.ms(&mut self.rng).min(no_answer))
            } else {
                (RingOutcome::NoAnswer, no_answer)
            }
        } else {
            let (rna_share, ring, timeout) = (
                habits.ring_no_answer_share,
                habits.ring,
                habits.ring_timeout_ms,
            );
            if self.rng.random_bool(rna_share) {
                (RingOutcome::RingNoAnswer, timeout)
            } else {
                (RingOutcome::Answer, ring.ms(&mut self.rng).min(timeout))
            }
        };
        let c = &mut self.calls[call];
        c.phase = CallPhase::Ringing { agent };
        c.ring = outcome;
        self.record_call(call, RawKind::Offered { call, agent });
        self.record_state(agent, AgentState::Ringing, None);
        self.schedule(self.clock + ring_ms, Action::RingEnd { agent, turn });
    }

    fn ring_end(&mut self, agent: usize, call: usize) {
        match self.calls[call].ring {
            RingOutcome::Answer => self.answer(agent, call),
            RingOutcome::RingNoAnswer => {
                self.record_call(call, RawKind::RingNoAnswer { call, agent });
                let c = &mut self.calls[call];
                c.phase = CallPhase::Waiting;
                self.queues[c.queue].waiting.insert((c.order, call));
                if self.agents[agent].leaving {
                    self.sign_out(agent);
                } else {
                    // The switch pauses an agent who let a call ring out (autopause).
                    let pause = self.day.habits.auto_pause.ms(&mut self.rng);
                    self.start_not_ready(agent, NotReadyReason::Other, pause);
                }
                self.serve_call(call);
            }
            RingOutcome::NoAnswer => {
                let (queue, wait_ms) = self.wait_of(call);
                self.record_call(
                    call,
                    RawKind::TimedOut {
                        call,
                        queue,
                        wait_ms,
                        overflow_to: None,
                    },
                );
                self.calls[call].phase = CallPhase::Done;
                self.free(agent);
            }
        }
    }

    fn answer(&mut self, agent: usize, call: usize) {
        let now = self.clock;
        let (queue, wait_ms) = self.wait_of(call);
        let c = &mut self.calls[call];
        c.phase = CallPhase::Talking { agent };
        c.answered_at = now;
        self.agents[agent].activity = Activity::Talking { call, held: false };
        let turn = self.agents[agent].turn;
        self.record_call(
            call,
            RawKind::Answered {
                call,
                agent,
                queue,
                wait_ms,
            },
        );
        self.record_state(agent, AgentState::OnCall, None);

        let dropped_share = self.day.dropped_share(now);
        let dropped = dropped_share > 0.0 && self.rng.random_bool(dropped_share);
        self.calls[call].dropped = dropped;
        let q = &self.day.queues[queue];
        let (talk, hold_share, hold) = (q.talk, q.hold_share, q.hold);
        let talk_ms = if dropped {
            self.rng.random_range(2_000..=15_000)
        } else {
            talk.ms(&mut self.rng)
        };
        let mut hold_ms = 0;
        if !dropped && self.rng.random_bool(hold_share) {
            let hold_at = now + (talk_ms as f64 * self.rng.random_range(0.2..0.7)) as Millis;
            hold_ms = hold.ms(&mut self.rng);
            self.schedule(hold_at, Action::HoldStart { agent, turn });
            self.schedule(hold_at + hold_ms, Action::HoldEnd { agent, turn });
        }
        self.schedule(now + talk_ms + hold_ms, Action::TalkEnd { agent, turn });
    }

    fn talk_end(&mut self, agent: usize, call: usize) {
        let c = &self.calls[call];
        let (queue, talk_ms, dropped) = (c.queue, self.clock - c.answered_at, c.dropped);
        let q = &self.day.queues[queue];
        let (transfer_share, acw_share, acw) = (q.transfer_share, q.acw_share, q.acw);
        let transfer =
            !dropped && !c.transferred && c.leg < MAX_LEGS && self.rng.random_bool(transfer_share);
        let mut next_queue = None;
        if transfer {
            let targets = &self.day.queues[queue].transfer_to;
            let to = if targets.is_empty() {
                TransferTo::External(4_000_000_000 + self.rng.random_range(0..1_000_000u64))
            } else {
                let pick = targets[self.rng.random_range(0..targets.len())];
                next_queue = Some(pick);
                TransferTo::Queue(pick)
            };
            self.record_call(
                call,
                RawKind::Transferred {
                    call,
                    queue,
                    agent,
                    talk_ms,
                    to,
                },
            );
            self.calls[call].transferred = true;
        } else {
            self.record_call(
                call,
                RawKind::Ended {
                    call,
                    queue,
                    agent,
                    talk_ms,
                },
            );
        }
        self.calls[call].phase = CallPhase::Done;
        // No after-call work after a transfer to a queue: the call is someone else's now, and
        // a later `call_after_call_work_ended` of it would be ambiguous.
        if !dropped && next_queue.is_none() && self.rng.random_bool(acw_share) {
            let a = &mut self.agents[agent];
            a.activity = Activity::AfterCallWork { call };
            a.turn += 1;
            let turn = a.turn;
            self.record_state(agent, AgentState::AfterCallWork, None);
            let done = self.clock + acw.ms(&mut self.rng);
            self.schedule(done, Action::AfterCallWorkEnd { agent, turn });
        } else {
            self.free(agent);
        }
        if let Some(next) = next_queue {
            self.enter_queue(call, next);
        }
    }

    // ---- agents --------------------------------------------------------------------------

    /// Whether an action scheduled at `turn` still applies to the agent.
    fn current(&self, agent: usize, turn: u32) -> bool {
        self.agents[agent].turn == turn
    }

    /// Available or not ready: free to sign out at once.
    fn is_idle(&self, agent: usize) -> bool {
        matches!(
            self.agents[agent].activity,
            Activity::Available | Activity::NotReady { .. }
        )
    }

    fn sign_in(&mut self, agent: usize) {
        let a = &mut self.agents[agent];
        if a.activity != Activity::LoggedOut || self.clock >= a.shift_end {
            return;
        }
        a.leaving = false;
        let settle = a.settle.take();
        self.record(RawKind::Login { agent }, false);
        for &q in &self.day.agents[agent].skills {
            self.queues[q].signed_in += 1;
        }
        match settle {
            Some(length) => self.start_not_ready(agent, NotReadyReason::Other, length),
            None => {
                // Signing in makes the agent available; no state event needed.
                self.make_available(agent);
                self.serve_agent(agent);
            }
        }
    }

    fn sign_out(&mut self, agent: usize) {
        self.leave_available(agent);
        let a = &mut self.agents[agent];
        a.activity = Activity::LoggedOut;
        a.turn += 1;
        a.pending.clear();
        a.leaving = false;
        self.record(RawKind::Logout { agent }, false);
        let mut emptied = Vec::new();
        for &q in &self.day.agents[agent].skills {
            let queue = &mut self.queues[q];
            queue.signed_in = queue.signed_in.saturating_sub(1);
            if queue.signed_in == 0 {
                emptied.push(q);
            }
        }
        for q in emptied {
            let waiting: Vec<usize> = self.queues[q].waiting.iter().map(|&(_, c)| c).collect();
            for call in waiting {
                self.time_out(call);
            }
        }
    }

    /// The agent is done with what they were doing: they sign out if leaving, take due
    /// not-ready time, or become available and get the next call.
    fn free(&mut self, agent: usize) {
        if self.agents[agent].leaving {
            self.sign_out(agent);
        } else if let Some((reason, length)) = self.agents[agent].pending.pop_front() {
            self.start_not_ready(agent, reason, length);
        } else {
            self.make_available(agent);
            self.record_state(agent, AgentState::Available, None);
            self.serve_agent(agent);
        }
    }

    fn make_available(&mut self, agent: usize) {
        let now = self.clock;
        let a = &mut self.agents[agent];
        a.activity = Activity::Available;
        a.turn += 1;
        a.idle_since = now;
        for &q in &self.day.agents[agent].skills {
            self.queues[q].available.insert((now, agent));
        }
    }

    fn leave_available(&mut self, agent: usize) {
        let a = &self.agents[agent];
        if a.activity == Activity::Available {
            for &q in &self.day.agents[agent].skills {
                self.queues[q].available.remove(&(a.idle_since, agent));
            }
        }
    }

    fn start_not_ready(&mut self, agent: usize, reason: NotReadyReason, length: Millis) {
        self.leave_available(agent);
        let a = &mut self.agents[agent];
        a.activity = Activity::NotReady { reason };
        a.turn += 1;
        let turn = a.turn;
        self.record_state(agent, AgentState::NotReady, Some(reason));
        self.schedule(self.clock + length, Action::NotReadyEnd { agent, turn });
    }

    fn logout_wave(&mut self, wave: usize) {
        let wave = self.day.logout_waves[wave];
        for agent in 0..self.agents.len() {
            let a = &self.agents[agent];
            if a.activity == Activity::LoggedOut || a.leaving {
                continue;
            }
            if !self.rng.random_bool(wave.share) {
                continue;
            }
            self.agents[agent].leaving = true;
            if self.is_idle(agent) {
                self.sign_out(agent);
            }
            if let Some(back) = wave.back_after_ms {
                let at = self.clock + back + self.rng.random_range(0..2 * MINUTE_MS);
                self.schedule(at, Action::ComeBack { agent });
            }
        }
    }

    /// Closes the books a millisecond before midnight, so a recorded day is exactly one centre
    /// day (docs/METRICS.md, "today"): calls still waiting leave their queue, calls still
    /// talked end, after-call work ends, everyone signs out, and nothing happens after. A
    /// 24-hour centre's next day starts afresh with [`Simulation::new`] of the next date.
    fn close_day(&mut self) {
        for call in 0..self.calls.len() {
            match self.calls[call].phase {
                CallPhase::Ivr => {
                    let queue = self.calls[call].queue;
                    self.record_call(call, RawKind::IvrCompleted { call, queue });
                }
                CallPhase::Waiting | CallPhase::Ringing { .. } => {
                    self.leave_queue(call);
                    let (queue, wait_ms) = self.wait_of(call);
                    self.record_call(
                        call,
                        RawKind::TimedOut {
                            call,
                            queue,
                            wait_ms,
                            overflow_to: None,
                        },
                    );
                }
                CallPhase::Talking { agent } => {
                    if let Activity::Talking { held: true, .. } = self.agents[agent].activity {
                        self.record_call(call, RawKind::HoldEnded { call });
                        self.record_state(agent, AgentState::OnCall, None);
                    }
                    let c = &self.calls[call];
                    let (queue, talk_ms) = (c.queue, self.clock - c.answered_at);
                    self.record_call(
                        call,
                        RawKind::Ended {
                            call,
                            queue,
                            agent,
                            talk_ms,
                        },
                    );
                }
                CallPhase::Done => {}
            }
            self.calls[call].phase = CallPhase::Done;
        }
        for agent in 0..self.agents.len() {
            if let Activity::AfterCallWork { call } = self.agents[agent].activity {
                self.record_call(call, RawKind::AfterCallWorkEnded { call });
            }
            if self.agents[agent].activity != Activity::LoggedOut {
                self.sign_out(agent);
            }
        }
        self.agenda.clear();
    }

    // ---- recording -----------------------------------------------------------------------

    fn record(&mut self, kind: RawKind, test: bool) {
        if self.clock < self.visible_from || self.day.is_silent(self.clock) {
            return;
        }
        self.recorded.push_back(Raw {
            ts: self.clock,
            test,
            kind,
        });
    }

    /// Records an event of a call, flagged when it is a test call, unless the call is hidden.
    fn record_call(&mut self, call: usize, kind: RawKind) {
        let c = &self.calls[call];
        if !c.hidden {
            let test = c.test;
            self.record(kind, test);
        }
    }

    fn record_state(&mut self, agent: usize, state: AgentState, reason: Option<NotReadyReason>) {
        self.record(
            RawKind::State {
                agent,
                state,
                reason,
            },
            false,
        );
    }

    /// Records the floor as it stands at `visible_from`, for a start mid-day.
    fn snapshot(&mut self) {
        self.snapshot_due = false;
        self.clock = self.clock.max(self.visible_from);
        for agent in 0..self.agents.len() {
            if self.agents[agent].activity != Activity::LoggedOut {
                self.record(RawKind::Login { agent }, false);
            }
        }
        for call in 0..self.calls.len() {
            let phase = self.calls[call].phase;
            match phase {
                CallPhase::Waiting | CallPhase::Ringing { .. } => {
                    let c = &mut self.calls[call];
                    c.entered_at = self.clock;
                    let (queue, caller, direction) = (c.queue, c.caller, c.direction);
                    self.record_call(
                        call,
                        RawKind::Entered {
                            call,
                            queue,
                            caller,
                            direction,
                        },
                    );
                    if let CallPhase::Ringing { agent } = phase {
                        self.record_call(call, RawKind::Offered { call, agent });
                    }
                }
                CallPhase::Talking { .. } => self.calls[call].hidden = true,
                CallPhase::Ivr | CallPhase::Done => {}
            }
        }
        for agent in 0..self.agents.len() {
            let (state, reason) = match self.agents[agent].activity {
                Activity::LoggedOut | Activity::Available => continue,
                Activity::Ringing { .. } => (AgentState::Ringing, None),
                Activity::Talking { held: false, .. } => (AgentState::OnCall, None),
                Activity::Talking { held: true, .. } => (AgentState::Hold, None),
                Activity::AfterCallWork { call } => {
                    self.calls[call].hidden = true;
                    (AgentState::AfterCallWork, None)
                }
                Activity::NotReady { reason } => (AgentState::NotReady, Some(reason)),
            };
            self.record_state(agent, state, reason);
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

/// The scheduled breaks of a shift `shift_ms` long, as (offset from shift start, reason,
/// length): a meal mid-shift if the shift is long enough, and a short break after every
/// `every_hours`, except near the meal or the end of the shift.
fn break_plan(policy: &BreakPolicy, shift_ms: Millis) -> Vec<(Millis, NotReadyReason, Millis)> {
    let hour = 60 * MINUTE_MS;
    let mut plan = Vec::new();
    let meal_len = minutes_ms(policy.meal_minutes);
    let meal_at = (meal_len > 0 && shift_ms as f64 >= policy.meal_min_shift_hours * hour as f64)
        .then(|| shift_ms / 2 - meal_len / 2);
    if let Some(at) = meal_at {
        plan.push((at, NotReadyReason::Meal, meal_len));
    }
    let every = minutes_ms(policy.every_hours * 60.0);
    let break_len = minutes_ms(policy.break_minutes);
    if every > 0 && break_len > 0 {
        let mut at = every;
        while at + break_len <= shift_ms - 30 * MINUTE_MS {
            if meal_at.is_none_or(|m| (at - m).abs() >= hour) {
                plan.push((at, NotReadyReason::Break, break_len));
            }
            at += every;
        }
    }
    plan.sort_by_key(|&(at, _, _)| at);
    plan
}

/// An unscheduled not-ready reason and its mean length in minutes, from a uniform draw.
fn pick_not_ready(u: f64) -> (NotReadyReason, f64) {
    let mut acc = 0.0;
    for (reason, share, minutes) in NOT_READY_MIX {
        acc += share;
        if u < acc {
            return (reason, minutes);
        }
    }
    (NotReadyReason::Other, NOT_READY_MIX[0].2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_eight_and_a_half_hour_shift_gets_two_breaks_and_a_meal() {
        let policy = BreakPolicy {
            break_minutes: 15.0,
            every_hours: 2.0,
            meal_minutes: 30.0,
            meal_min_shift_hours: 6.0,
            stagger_minutes: 0.0,
            overrun_share: 0.0,
        };
        let h = 60 * MINUTE_MS;
        let plan = break_plan(&policy, 8 * h + h / 2);
        let kinds: Vec<_> = plan.iter().map(|&(at, r, len)| (at, r, len)).collect();
        assert_eq!(
            kinds,
            vec![
                (2 * h, NotReadyReason::Break, 15 * MINUTE_MS),
                (4 * h, NotReadyReason::Meal, 30 * MINUTE_MS),
                (6 * h, NotReadyReason::Break, 15 * MINUTE_MS),
            ]
        );
        // A four-hour shift: one break, no meal.
        assert_eq!(break_plan(&policy, 4 * h).len(), 1);
    }

    #[test]
    fn the_not_ready_mix_covers_every_draw() {
        let total: f64 = NOT_READY_MIX.iter().map(|m| m.1).sum();
        assert!((total - 1.0).abs() < 1e-9);
        assert_eq!(pick_not_ready(0.0).0, NotReadyReason::Other);
        assert_eq!(pick_not_ready(0.999).0, NotReadyReason::Training);
    }
}
