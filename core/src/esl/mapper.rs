//! Mapping mod_callcenter's `callcenter::info` events (and three channel events) to canonical
//! events. The table, with the mod_callcenter.c lines each row relies on, is in docs/CTI.md,
//! "FreeSWITCH".
//!
//! The mapper is pure: each event's time is its `Event-Date-Timestamp` (microseconds, set by
//! the switch when the event is created), else the `received_at` the caller passes. Unlike
//! AMI, mod_callcenter says how a caller left a queue: `member-queue-end` with `CC-Cause:
//! Cancel` carries `CC-Cancel-Reason` (`TIMEOUT`, `NO_AGENT_TIMEOUT`, `EXIT_WITH_KEY`: the
//! queue let go, a time-out; `BREAK_OUT` with the caller's channel down, `Answer-State:
//! hangup`: the caller gave up, abandoned), so no grace period and no clock are needed.
//!
//! A call is its caller's channel (`CC-Member-Session-UUID`), followed as a **leg** in a queue
//! (waiting, offered to agents, then answered, abandoned or timed out) and an agent's
//! **segment** (from `bridge-agent-start` to `bridge-agent-end`). After-call work is the agent
//! state `Idle` right after a call (what mod_callcenter itself sets for an agent `Available (On
//! Demand)`), ended by `Waiting`, `On Break`, a new offer or logging out. Each agent's canonical
//! state is derived from what the mapper knows (call, after-call work, status, state) and
//! emitted only when it changes.

mod resync;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use super::headers::EslHeaders;
use crate::caller::CallerNumber;
use crate::event::{
    AgentState, Direction, EVENT_VERSION, Event, EventKind, MAX_FIELD_LEN, Millis, NotReadyReason,
    PLAUSIBLE_TS,
};
use crate::org::Organisation;
use crate::queue_log::fnv1a;

/// How many recent event sequence numbers and closed legs are remembered.
const RECENT: usize = 4096;
/// The longest duration believed from a header: a week.
const MAX_DURATION_MS: Millis = 7 * crate::time::DAY_MS;

/// Canonical events produced, with their times, before ids are given.
type Out = Vec<(Millis, EventKind)>;

/// Turns one FreeSWITCH's mod_callcenter events into canonical events.
#[derive(Debug, Clone)]
pub struct EslMapper {
    source: String,
    tag: u32,
    run: u64,
    produced: u64,
    duplicates: u64,
    rejected: u64,
    sequence: RecentSet<u64>,
    /// Calls waiting in a queue, by the caller's channel uuid.
    legs: HashMap<String, Leg>,
    /// Agents talking to callers, by the caller's channel uuid.
    segments: HashMap<String, Segment>,
    /// The agent's channel uuid (`CC-Agent-UUID`) → the caller's, for the agent leg's hang-up.
    agent_legs: HashMap<String, String>,
    /// Legs whose outcome was emitted.
    closed: RecentSet<String>,
    agents: BTreeMap<String, Agent>,
}

#[derive(Debug, Clone)]
struct Leg {
    queue: String,
    entered: Option<Millis>,
    /// Agents it is offered to now.
    ringing: Vec<String>,
}

#[derive(Debug, Clone)]
struct Segment {
    agent: String,
    queue: String,
    answered: Millis,
    on_hold: bool,
    /// The agent's leg hung up with a transfer cause.
    transferred: bool,
}

/// mod_callcenter's agent status (`CC-Agent-Status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Status {
    #[default]
    LoggedOut,
    Available,
    OnBreak,
}

impl Status {
    /// The names of mod_callcenter.c's `AGENT_STATUS_CHART`.
    fn parse(text: &str) -> Option<Status> {
        match text.trim() {
            "Logged Out" => Some(Status::LoggedOut),
            "Available" | "Available (On Demand)" => Some(Status::Available),
            "On Break" => Some(Status::OnBreak),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Agent {
    status: Status,
    /// The agent state `Idle` with no call to wrap up: not ready.
    idle: bool,
    /// The call ringing at or connected to the agent.
    call: Option<String>,
    /// The call whose after-call work is running.
    acw: Option<String>,
    /// The call that just ended, whose after-call work an `Idle` would start.
    last_call: Option<String>,
    /// The queues the agent serves (tiers), for the resync.
    queues: BTreeSet<String>,
    /// The state last emitted; `None` while logged out.
    emitted: Option<(AgentState, Option<NotReadyReason>)>,
}

/// A bounded memory of recent keys.
#[derive(Debug, Clone)]
struct RecentSet<T> {
    order: VecDeque<T>,
    seen: HashSet<T>,
}

impl<T> Default for RecentSet<T> {
    fn default() -> Self {
        RecentSet {
            order: VecDeque::new(),
            seen: HashSet::new(),
        }
    }
}

impl<T: std::hash::Hash + Eq + Clone> RecentSet<T> {
    /// Records `key`; false if it was there already.
    fn insert(&mut self, key: T) -> bool {
        if !self.seen.insert(key.clone()) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > RECENT
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        true
    }

    fn contains(&self, key: &T) -> bool {
        self.seen.contains(key)
    }

    fn remove(&mut self, key: &T) {
        if self.seen.remove(key) {
            self.order.retain(|k| k != key);
        }
    }
}

/// A header naming something (a queue, an agent, a channel): present and short enough for an
/// event field.
fn name<'a>(h: &'a EslHeaders, key: &str) -> Option<&'a str> {
    h.get(key).filter(|v| v.len() <= MAX_FIELD_LEN)
}

/// A Unix time in whole seconds (`CC-Member-Joined-Time`), as milliseconds, if plausible.
fn epoch_s(h: &EslHeaders, key: &str) -> Option<Millis> {
    let v = h.get(key)?;
    if v.len() > 12 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<i64>()
        .ok()
        .map(|s| s * 1000)
        .filter(|ms| PLAUSIBLE_TS.contains(ms))
}

/// `Event-Date-Timestamp`: microseconds since the epoch, as milliseconds, if plausible.
fn event_time(h: &EslHeaders) -> Option<Millis> {
    let v = h.get("Event-Date-Timestamp")?;
    if v.len() > 20 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<i64>()
        .ok()
        .map(|us| us.div_euclid(1000))
        .filter(|ms| PLAUSIBLE_TS.contains(ms))
}

/// A duration between two plausible times, if it is one.
fn between(from: Option<Millis>, to: Option<Millis>) -> Option<Millis> {
    let d = to? - from?;
    (0..=MAX_DURATION_MS).contains(&d).then_some(d)
}

impl EslMapper {
    /// A mapper for the switch named `source` (e.g. `esl:fs1`).
    pub fn new(source: &str, _org: &Organisation) -> EslMapper {
        EslMapper {
            source: source.to_string(),
            tag: fnv1a(source.as_bytes()) as u32,
            run: 0,
            produced: 0,
            duplicates: 0,
            rejected: 0,
            sequence: RecentSet::default(),
            legs: HashMap::new(),
            segments: HashMap::new(),
            agent_legs: HashMap::new(),
            closed: RecentSet::default(),
            agents: BTreeMap::new(),
        }
    }

    /// Numbers this mapper's events apart from an earlier run's (see
    /// `crate::ami::AmiMapper::with_run`): the caller passes something unique per run.
    pub fn with_run(mut self, run: u64) -> EslMapper {
        self.run = run;
        self
    }

    /// The `source` the mapper gives its events.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Events dropped because their `Event-Sequence` was seen already.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Events dropped because they would not validate.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// Calls waiting in a queue, as the mapper believes, in id order.
    pub fn waiting_calls(&self) -> Vec<String> {
        let mut calls: Vec<String> = self.legs.keys().cloned().collect();
        calls.sort();
        calls
    }

    /// Maps one event (the headers of a `text/event-plain` frame). Events the mapper does not
    /// read give nothing.
    pub fn map(&mut self, h: &EslHeaders, received_at: Millis) -> Vec<Event> {
        let ts = event_time(h).unwrap_or(received_at);
        if let Some(seq) = h.get("Event-Sequence").and_then(|s| s.parse::<u64>().ok())
            && !self.sequence.insert(seq)
        {
            self.duplicates += 1;
            return Vec::new();
        }
        let mut out = Out::new();
        match h.get("Event-Name").unwrap_or("") {
            "CUSTOM" if h.get("Event-Subclass") == Some("callcenter::info") => {
                self.callcenter(h, ts, &mut out)
            }
            "CHANNEL_HOLD" => self.hold(h, ts, true, &mut out),
            "CHANNEL_UNHOLD" => self.hold(h, ts, false, &mut out),
            "CHANNEL_HANGUP_COMPLETE" => self.agent_leg_hung_up(h),
            _ => {}
        }
        self.emit(out)
    }

    fn callcenter(&mut self, h: &EslHeaders, ts: Millis, out: &mut Out) {
        match h.get("CC-Action").unwrap_or("") {
            "agent-status-change" => self.status_changed(h, ts, out),
            "agent-state-change" => self.state_changed(h, ts, out),
            "member-queue-start" | "member-queue-resume" => self.member_joined(h, ts, out),
            "agent-offering" => self.offering(h, ts, out),
            "bridge-agent-fail" => self.bridge_failed(h, ts, out),
            "bridge-agent-start" => self.bridged(h, ts, out),
            "bridge-agent-end" => self.bridge_ended(h, ts, out),
            "member-queue-end" => self.member_left(h, ts, out),
            _ => {}
        }
    }

    fn status_changed(&mut self, h: &EslHeaders, ts: Millis, out: &mut Out) {
        let (Some(agent), Some(status)) = (
            name(h, "CC-Agent"),
            h.get("CC-Agent-Status").and_then(Status::parse),
        ) else {
            return;
        };
        let memory = self.agents.entry(agent.to_string()).or_default();
        memory.status = status;
        if status == Status::OnBreak {
            end_after_call_work(memory, ts, out);
        }
        self.settle(agent, ts, out);
    }

    /// `Idle` right after a call is its after-call work; `Waiting` ends it. `Receiving`, `In a
    /// queue call` and `Reserved` are told better by the call events.
    fn state_changed(&mut self, h: &EslHeaders, ts: Millis, out: &mut Out) {
        let (Some(agent), Some(state)) = (name(h, "CC-Agent"), h.get("CC-Agent-State")) else {
            return;
        };
        let Some(memory) = self.agents.get_mut(agent) else {
            return;
        };
        match state {
            "Idle" => match memory.last_call.take() {
                Some(call) if memory.acw.is_none() => memory.acw = Some(call),
                _ => memory.idle = true,
            },
            "Waiting" => {
                memory.idle = false;
                end_after_call_work(memory, ts, out);
            }
            _ => return,
        }
        self.settle(agent, ts, out);
    }

    fn member_joined(&mut self, h: &EslHeaders, ts: Millis, out: &mut Out) {
        let (Some(call), Some(queue)) = (name(h, "CC-Member-Session-UUID"), name(h, "CC-Queue"))
        else {
            return;
        };
        if self.legs.contains_key(call) {
            return;
        }
        self.open_leg(call, queue, ts, caller(h), out);
    }

    fn open_leg(
        &mut self,
        call: &str,
        queue: &str,
        entered: Millis,
        caller: Option<CallerNumber>,
        out: &mut Out,
    ) {
        self.closed.remove(&call.to_string());
        out.push((
            entered,
            EventKind::CallEnteredQueue {
                call: call.to_string(),
                queue: queue.to_string(),
                priority: 0,
                caller,
                direction: Direction::Inbound,
            },
        ));
        self.legs.insert(
            call.to_string(),
            Leg {
                queue: queue.to_string(),
                entered: Some(entered),
                ringing: Vec::new(),
            },
        );
    }

    fn offering(&mut self, h: &EslHeaders, ts: Millis, out: &mut Out) {
        let (Some(call), Some(agent), Some(queue)) = (
            name(h, "CC-Member-Session-UUID"),
            name(h, "CC-Agent"),
            name(h, "CC-Queue"),
        ) else {
            return;
        };
        if !self.legs.contains_key(call) {
            if self.closed.contains(&call.to_string()) || self.segments.contains_key(call) {
                return;
            }
            // Joined while the link was down and the resync has not told yet.
            self.open_leg(call, queue, ts, caller(h), out);
        }
        if let Some(leg) = self.legs.get_mut(call)
            && !leg.ringing.iter().any(|a| a == agent)
        {
            leg.ringing.push(agent.to_string());
        }
        self.agent_seen(agent, Some(queue), ts, out);
        out.push((
            ts,
            EventKind::CallOffered {
                call: call.to_string(),
                agent: agent.to_string(),
            },
        ));
        if let Some(memory) = self.agents.get_mut(agent)
            && memory.call.is_none()
        {
            end_after_call_work(memory, ts, out);
            memory.last_call = None;
            memory.call = Some(call.to_string());
        }
        self.settle(agent, ts, out);
    }

    fn bridge_failed(&mut self, h: &EslHeaders, ts: Millis, out: &mut Out) {
        let (Some(call), Some(agent)) = (name(h, "CC-Member-Session-UUID"), name(h, "CC-Agent"))
        else {
            return;
        };
        if let Some(leg) = self.legs.get_mut(call)
            && leg.ringing.iter().any(|a| a == agent)
        {
            leg.ringing.retain(|a| a != agent);
            out.push((
                ts,
                EventKind::CallRingNoAnswer {
                    call: call.to_string(),
                    agent: agent.to_string(),
                },
            ));
        }
        self.release(agent, call, ts, out);
    }

    fn bridged(&mut self, h: &EslHeaders, ts: Millis, out: &mut Out) {
        let (Some(call), Some(agent), Some(queue)) = (
            name(h, "CC-Member-Session-UUID"),
            name(h, "CC-Agent"),
            name(h, "CC-Queue"),
        ) else {
            return;
        };
        if self.segments.get(call).is_some_and(|s| s.agent == agent) {
            return;
        }
        let leg = self.legs.remove(call);
        let wait_ms = match leg.as_ref().and_then(|l| l.entered) {
            Some(entered) => Some(ts - entered),
            None => between(
                epoch_s(h, "CC-Member-Joined-Time"),
                epoch_s(h, "CC-Agent-Answered-Time"),
            ),
        };
        self.agent_seen(agent, Some(queue), ts, out);
        // Sent even for a leg a resync closed: the engine counts one outcome per leg and
        // starts the agent's segment here.
        out.push((
            ts,
            EventKind::CallAnswered {
                call: call.to_string(),
                agent: agent.to_string(),
                queue: Some(queue.to_string()),
                wait_ms,
            },
        ));
        self.closed.insert(call.to_string());
        self.segments.insert(
            call.to_string(),
            Segment {
                agent: agent.to_string(),
                queue: queue.to_string(),
                answered: ts,
                on_hold: false,
                transferred: false,
            },
        );
        if let Some(agent_leg) = name(h, "CC-Agent-UUID") {
            self.agent_legs
                .insert(agent_leg.to_string(), call.to_string());
        }
        for other in leg.iter().flat_map(|l| &l.ringing) {
            if other != agent {
                self.release(other, call, ts, out);
            }
        }
        if let Some(memory) = self.agents.get_mut(agent) {
            end_after_call_work(memory, ts, out);
            memory.last_call = None;
            memory.call = Some(call.to_string());
        }
        self.settle(agent, ts, out);
    }

    /// The agent's channel hung up: `BLIND_TRANSFER` / `ATTENDED_TRANSFER` (src/switch_ivr.c
    /// hangs the other leg up with `SWITCH_CAUSE_BLIND_TRANSFER`) means the call was handed on.
    fn agent_leg_hung_up(&mut self, h: &EslHeaders) {
        let Some(channel) = h.get("Unique-ID") else {
            return;
        };
        let transfer = matches!(
            h.get("Hangup-Cause"),
            Some("BLIND_TRANSFER" | "ATTENDED_TRANSFER")
        );
        if let Some(call) = self.agent_legs.get(channel)
            && let Some(segment) = self.segments.get_mut(call)
            && transfer
        {
            segment.transferred = true;
        }
    }

    fn bridge_ended(&mut self, h: &EslHeaders, ts: Millis, out: &mut Out) {
        let (Some(call), Some(agent)) = (name(h, "CC-Member-Session-UUID"), name(h, "CC-Agent"))
        else {
            return;
        };
        self.end_segment(call, agent, ts, out);
    }

    /// The agent's talk on `call` ended at `ts`.
    fn end_segment(&mut self, call: &str, agent: &str, ts: Millis, out: &mut Out) {
        let Some(segment) = self.segments.remove(call) else {
            return;
        };
        if segment.agent != agent {
            self.segments.insert(call.to_string(), segment);
            return;
        }
        let talk_ms = Some(ts - segment.answered);
        let kind = if segment.transferred {
            EventKind::CallTransferred {
                call: call.to_string(),
                queue: Some(segment.queue),
                agent: Some(agent.to_string()),
                talk_ms,
                to_queue: None,
                to_agent: None,
                to_external: None,
            }
        } else {
            EventKind::CallEnded {
                call: call.to_string(),
                queue: Some(segment.queue),
                agent: Some(agent.to_string()),
                talk_ms,
            }
        };
        out.push((ts, kind));
        self.agent_legs.retain(|_, c| c != call);
        if let Some(memory) = self.agents.get_mut(agent)
            && memory.call.as_deref() == Some(call)
        {
            memory.call = None;
            memory.last_call = Some(call.to_string());
        }
        self.settle(agent, ts, out);
    }

    /// `member-queue-end`: `CC-Cause: Terminated` after a bridge (the segment ends if
    /// `bridge-agent-end` was missed), `CC-Cause: Cancel` when the leg left unanswered.
    fn member_left(&mut self, h: &EslHeaders, ts: Millis, out: &mut Out) {
        let Some(call) = name(h, "CC-Member-Session-UUID") else {
            return;
        };
        if h.get("CC-Cause") == Some("Terminated") {
            if let Some(agent) = name(h, "CC-Agent") {
                self.end_segment(call, agent, ts, out);
            }
            return;
        }
        let Some(leg) = self.legs.get(call) else {
            return;
        };
        let wait_ms = match leg.entered {
            Some(entered) => Some(ts - entered),
            None => between(
                epoch_s(h, "CC-Member-Joined-Time"),
                epoch_s(h, "CC-Member-Leaving-Time"),
            ),
        };
        self.close_unanswered(call, abandoned(h), ts, wait_ms, out);
    }

    /// The leg left its queue unanswered at `at`.
    fn close_unanswered(
        &mut self,
        call: &str,
        abandoned: bool,
        at: Millis,
        wait_ms: Option<Millis>,
        out: &mut Out,
    ) {
        let Some(leg) = self.legs.remove(call) else {
            return;
        };
        let queue = Some(leg.queue);
        let kind = if abandoned {
            EventKind::CallAbandoned {
                call: call.to_string(),
                queue,
                wait_ms,
            }
        } else {
            EventKind::CallTimedOut {
                call: call.to_string(),
                queue,
                wait_ms,
                overflow_to: None,
            }
        };
        out.push((at, kind));
        self.closed.insert(call.to_string());
        for agent in &leg.ringing {
            self.release(agent, call, at, out);
        }
    }

    fn hold(&mut self, h: &EslHeaders, ts: Millis, start: bool, out: &mut Out) {
        let Some(channel) = h.get("Unique-ID") else {
            return;
        };
        let call = if self.segments.contains_key(channel) {
            channel.to_string()
        } else {
            match self.agent_legs.get(channel) {
                Some(call) => call.clone(),
                None => return,
            }
        };
        let Some(segment) = self.segments.get_mut(&call) else {
            return;
        };
        if segment.on_hold == start {
            return;
        }
        segment.on_hold = start;
        let agent = segment.agent.clone();
        out.push((
            ts,
            if start {
                EventKind::CallHoldStarted { call }
            } else {
                EventKind::CallHoldEnded { call }
            },
        ));
        self.settle(&agent, ts, out);
    }

    /// An agent seen working is logged in, whatever the last status said.
    fn agent_seen(&mut self, agent: &str, queue: Option<&str>, ts: Millis, out: &mut Out) {
        let memory = self.agents.entry(agent.to_string()).or_default();
        if let Some(queue) = queue {
            memory.queues.insert(queue.to_string());
        }
        if memory.status == Status::LoggedOut {
            memory.status = Status::Available;
        }
        self.settle(agent, ts, out);
    }

    /// `call` no longer rings at or talks to `agent`.
    fn release(&mut self, agent: &str, call: &str, ts: Millis, out: &mut Out) {
        if let Some(memory) = self.agents.get_mut(agent)
            && memory.call.as_deref() == Some(call)
        {
            memory.call = None;
            self.settle(agent, ts, out);
        }
    }

    /// Emits what changed in the agent's canonical state: login, logout, or the state
    /// derived from call > after-call work > On Break > Idle > available.
    fn settle(&mut self, agent: &str, ts: Millis, out: &mut Out) {
        let Some(memory) = self.agents.get(agent) else {
            return;
        };
        let derived = match (&memory.call, memory.status) {
            (_, Status::LoggedOut) => None,
            (Some(call), _) => Some(match self.segments.get(call) {
                Some(s) if s.agent == agent && s.on_hold => (AgentState::Hold, None),
                Some(s) if s.agent == agent => (AgentState::OnCall, None),
                _ => (AgentState::Ringing, None),
            }),
            (None, _) if memory.acw.is_some() => Some((AgentState::AfterCallWork, None)),
            (None, Status::OnBreak) => Some((AgentState::NotReady, Some(NotReadyReason::Other))),
            (None, _) if memory.idle => Some((AgentState::NotReady, Some(NotReadyReason::Other))),
            (None, Status::Available) => Some((AgentState::Available, None)),
        };
        let Some(memory) = self.agents.get_mut(agent) else {
            return;
        };
        match (memory.emitted, derived) {
            (Some(_), None) => {
                end_after_call_work(memory, ts, out);
                out.push((
                    ts,
                    EventKind::AgentLogout {
                        agent: agent.to_string(),
                    },
                ));
                memory.emitted = None;
                memory.call = None;
                memory.idle = false;
                memory.last_call = None;
            }
            (None, Some(state)) => {
                out.push((
                    ts,
                    EventKind::AgentLogin {
                        agent: agent.to_string(),
                        team: None,
                    },
                ));
                memory.emitted = Some((AgentState::Available, None));
                set_state(agent, memory, state, ts, out);
            }
            (Some(_), Some(state)) => set_state(agent, memory, state, ts, out),
            (None, None) => {}
        }
    }

    /// Gives ids, sequence numbers and times to what one event produced, oldest first.
    fn emit(&mut self, mut out: Out) -> Vec<Event> {
        out.sort_by_key(|(ts, _)| *ts);
        let mut events = Vec::with_capacity(out.len());
        for (ts, kind) in out {
            let event = Event {
                v: EVENT_VERSION,
                id: format!(
                    "esl-{:08x}-{:x}-{ts}-{}",
                    self.tag,
                    self.run,
                    self.produced + 1
                ),
                source: self.source.clone(),
                seq: self.produced + 1,
                ts,
                test: false,
                kind,
            };
            if event.validate().is_ok() {
                self.produced += 1;
                events.push(event);
            } else {
                self.rejected += 1;
            }
        }
        events
    }
}

fn set_state(
    agent: &str,
    memory: &mut Agent,
    (state, reason): (AgentState, Option<NotReadyReason>),
    ts: Millis,
    out: &mut Out,
) {
    if memory.emitted != Some((state, reason)) {
        memory.emitted = Some((state, reason));
        out.push((
            ts,
            EventKind::AgentState {
                agent: agent.to_string(),
                state,
                reason,
            },
        ));
    }
}

fn end_after_call_work(memory: &mut Agent, ts: Millis, out: &mut Out) {
    if let Some(call) = memory.acw.take() {
        out.push((ts, EventKind::CallAfterCallWorkEnded { call }));
    }
}

/// The caller's number (`CC-Member-CID-Number`), if worth keeping.
fn caller(h: &EslHeaders) -> Option<CallerNumber> {
    name(h, "CC-Member-CID-Number")
        .filter(|c| !c.eq_ignore_ascii_case("unknown") && *c != "_undef_")
        .map(CallerNumber::from)
}

/// Whether a `CC-Cause: Cancel` means the caller gave up. mod_callcenter sets
/// `BREAK_OUT` when the member's wait loop ended without a reason of its own, which is what
/// a caller hanging up causes; `TIMEOUT`, `NO_AGENT_TIMEOUT` and `EXIT_WITH_KEY` are the
/// queue's rules. A `BREAK_OUT` whose channel is still up (`Answer-State` other than
/// `hangup`: a `uuid_transfer` or `callcenter_break` took the caller out) is not a give-up.
fn abandoned(h: &EslHeaders) -> bool {
    match h.get("CC-Cancel-Reason") {
        Some("TIMEOUT" | "NO_AGENT_TIMEOUT" | "EXIT_WITH_KEY") => false,
        _ => h.get("Answer-State").is_none_or(|s| s == "hangup"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::esl::{ApiTable, EslDecoder};

    fn frames(text: &str) -> Vec<super::super::EslFrame> {
        let mut d = EslDecoder::new();
        d.feed(text.as_bytes());
        std::iter::from_fn(|| d.next_frame())
            .map(Result::unwrap)
            .collect()
    }

    fn kinds(events: &[Event]) -> Vec<String> {
        events
            .iter()
            .map(|e| {
                serde_json::to_value(&e.kind).unwrap()["type"]
                    .as_str()
                    .unwrap_or("?")
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn the_fixture_day_maps_answered_abandoned_timed_out_and_after_call_work() {
        let text = include_str!("../../../tests/fixtures/esl/day_sample.txt");
        let mut m = EslMapper::new("esl:fs", &Organisation::default());
        let mut events = Vec::new();
        for frame in frames(text).iter().filter(|f| f.is_event()) {
            events.extend(m.map(&frame.event().unwrap(), 0));
        }
        assert_eq!(m.duplicates(), 1);
        let find = |kind: &str| {
            events
                .iter()
                .find(|e| kinds(std::slice::from_ref(e))[0] == kind)
                .unwrap()
        };
        let EventKind::CallAnswered { wait_ms, .. } = &find("call_answered").kind else {
            panic!()
        };
        assert_eq!(*wait_ms, Some(5_000));
        let EventKind::CallAbandoned { call, wait_ms, .. } = &find("call_abandoned").kind else {
            panic!()
        };
        assert_eq!((call.as_str(), *wait_ms), ("call-b", Some(2_000)));
        let EventKind::CallTimedOut { call, wait_ms, .. } = &find("call_timed_out").kind else {
            panic!()
        };
        assert_eq!((call.as_str(), *wait_ms), ("call-c", Some(60_000)));
        let EventKind::CallEnded { talk_ms, .. } = &find("call_ended").kind else {
            panic!()
        };
        assert_eq!(*talk_ms, Some(90_000));
        let acw = find("call_after_call_work_ended");
        assert_eq!(acw.ts, 1_773_050_526_000);
        let states: Vec<AgentState> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::AgentState { state, .. } => Some(*state),
                _ => None,
            })
            .collect();
        assert_eq!(
            states,
            [
                AgentState::Ringing,
                AgentState::OnCall,
                AgentState::Available,
                AgentState::AfterCallWork,
                AgentState::Available
            ]
        );
        assert!(m.waiting_calls().is_empty());
        // A resync listing a call the mapper never saw enters it at its joined_epoch.
        let api = frames(include_str!("../../../tests/fixtures/esl/api_members.txt"));
        let table = ApiTable::parse(&api[0].body);
        let joined = m.resync_members(&table, 1_773_050_500_000);
        assert_eq!(kinds(&joined), ["call_entered_queue"]);
        assert_eq!(joined[0].ts, 1_773_050_400_000);
        // And one it no longer lists left, timed out at the resync.
        let gone = m.resync_members(&ApiTable::default(), 1_773_050_600_000);
        assert_eq!(kinds(&gone), ["call_timed_out"]);
    }

    #[test]
    fn a_break_out_with_the_caller_still_up_is_not_an_abandon() {
        let h = |reason: &str, answer: &str| {
            EslHeaders::new()
                .with("CC-Cancel-Reason", reason)
                .with("Answer-State", answer)
        };
        assert!(abandoned(&h("BREAK_OUT", "hangup")));
        assert!(!abandoned(&h("BREAK_OUT", "answered")));
        for reason in ["TIMEOUT", "NO_AGENT_TIMEOUT", "EXIT_WITH_KEY"] {
            assert!(!abandoned(&h(reason, "hangup")), "{reason}");
        }
    }
}
