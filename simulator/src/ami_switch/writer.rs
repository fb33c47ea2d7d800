//! Canonical events → the AMI events an Asterisk switch raises for the same happenings, the
//! inverse of `floorwatch_core::ami::AmiMapper` (docs/CTI.md, "The fake switch").
//!
//! | canonical event | AMI events |
//! |---|---|
//! | `agent_login` / `agent_logout` | QueueMemberAdded / QueueMemberRemoved, one per queue of the agent's skills |
//! | `agent_state not_ready` | QueueMemberPause `Paused: 1`, `PausedReason` the reason (`Auto-Pause` right after a ring no answer) |
//! | `agent_state after_call_work` | QueueMemberPause `Paused: 1`, `PausedReason: ACW` ([`AfterCallWork::Pause`]); nothing with [`AfterCallWork::WrapUp`], where the queues' `Wrapuptime` stands for it |
//! | `agent_state available` (or ringing, on call, hold) after a pause | QueueMemberPause `Paused: 0` |
//! | `call_entered_queue` | QueueCallerJoin |
//! | `call_offered` | AgentCalled; QueueMemberStatus ringing |
//! | `call_ring_no_answer` | AgentRingNoAnswer; QueueMemberStatus not in use |
//! | `call_answered` | QueueCallerLeave, AgentConnect; QueueMemberStatus in use |
//! | `call_hold_started` / `call_hold_ended` | Hold / Unhold on the caller's channel |
//! | `call_ended` | AgentComplete `Reason: caller`; QueueMemberStatus; Hangup of the caller |
//! | `call_transferred` | BlindTransfer (Extension = the queue, or the outside number), AgentComplete `Reason: transfer`; QueueMemberStatus |
//! | `call_abandoned` | QueueCallerAbandon, QueueCallerLeave, Hangup, at the same instant |
//! | `call_timed_out` | QueueCallerAbandon, QueueCallerLeave; the caller's Hangup [`TIMEOUT_HANGUP_DELAY_MS`] later, unless it overflows into another queue (its QueueCallerJoin follows at once) |
//! | `call_after_call_work_ended`, `agent_team`, `call_ivr_completed` | nothing: the agent's next state says the first; AMI has no teams; an IVR call never reaches a queue |
//!
//! Durations on AMI (HoldTime, TalkTime, RingTime, Wait) are whole seconds, truncated as
//! Asterisk's `time(NULL) - start` is; times (`Timestamp:`) keep the millisecond. A test call
//! (`test: true`) is served as the ordinary queue call the switch sees: AMI cannot mark it.

use std::collections::{BTreeSet, HashMap, HashSet};

use floorwatch_core::ami::AmiMessage;
use floorwatch_core::{AgentState, Event, EventKind, Millis, NotReadyReason};

use super::floor::{
    AgentLeg, Caller, DeviceStatus, Member, MemberSpelling, QueueLine, SwitchFloor, member_fields,
};
use crate::scenario::{Scenario, agent_id};

/// A caller whose queue timed out hears a goodbye and is hung up this long after leaving the
/// queue: longer than the mapper's abandon grace (2 s), so the leg reads as timed out, not
/// abandoned.
pub const TIMEOUT_HANGUP_DELAY_MS: Millis = 5_000;

/// How the switch shows after-call work, which AMI has no event for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AfterCallWork {
    /// The agent pauses with reason `ACW` when the call ends and unpauses when done: every
    /// after-call work keeps its exact length (the mapper reads a wrap-up pause as ACW).
    #[default]
    Pause,
    /// The queues' `wrapuptime` (the scenario's `wrap_up_s`, else its mean `acw_s`, whole
    /// seconds) is reported on every member; the switch says nothing when ACW ends, and the
    /// mapper infers it as exactly that long (shorter when the next call rings first).
    WrapUp,
}

impl std::str::FromStr for AfterCallWork {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "pause" => Ok(AfterCallWork::Pause),
            "wrap-up" | "wrapup" | "wrapuptime" => Ok(AfterCallWork::WrapUp),
            _ => Err(format!("`{s}`: expected pause or wrap-up")),
        }
    }
}

/// Asterisk's manager event classes (`Privilege:`), which a session's event mask selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventClass {
    System,
    Call,
    Agent,
}

impl EventClass {
    pub const ALL: [EventClass; 3] = [EventClass::System, EventClass::Call, EventClass::Agent];

    pub fn as_str(self) -> &'static str {
        match self {
            EventClass::System => "system",
            EventClass::Call => "call",
            EventClass::Agent => "agent",
        }
    }
}

/// One AMI event before the switch stamps it: `Event:` first, then its body.
#[derive(Debug, Clone, PartialEq)]
pub struct SwitchEvent {
    pub class: EventClass,
    pub message: AmiMessage,
}

/// What one canonical event becomes.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// The AMI events, at the canonical event's time, in order.
    pub events: Vec<SwitchEvent>,
    /// A timed-out caller to hang up later: (when, call).
    pub hangup_later: Option<(Millis, String)>,
}

/// Writes canonical events as AMI events, keeping the [`SwitchFloor`] they describe.
#[derive(Debug, Clone)]
pub struct AmiWriter {
    floor: SwitchFloor,
    /// Each agent's queues (the skills of their group).
    memberships: HashMap<String, Vec<String>>,
    after_call_work: AfterCallWork,
    /// Agents whose last event was a ring no answer: their pause is Asterisk's autopause.
    rang_out: HashSet<String>,
    /// Channels opened, for channel names and agent-side uniqueids.
    channels: u64,
}

/// Who ended a connected call.
enum Completion<'a> {
    Ended,
    Transferred {
        to_queue: Option<&'a str>,
        to_external: Option<&'a str>,
    },
}

/// How a caller left a queue unanswered.
#[derive(Clone, Copy, PartialEq)]
enum Leaving {
    HungUp,
    TimedOut { overflows: bool },
}

impl AmiWriter {
    /// A switch configured with the scenario's queues and agents.
    pub fn new(scenario: &Scenario, after_call_work: AfterCallWork) -> AmiWriter {
        let default_service_level = scenario.centre.service_level.threshold_s;
        let mut floor = SwitchFloor::default();
        for q in &scenario.queues {
            let wrap_up_s = match (q.wrap_up_s, after_call_work) {
                (Some(w), _) => w,
                (None, AfterCallWork::Pause) => 0,
                (None, AfterCallWork::WrapUp) if q.acw_share > 0.0 => q.acw_s.mean.round() as u32,
                (None, AfterCallWork::WrapUp) => 0,
            };
            floor.queues.insert(
                q.id.clone(),
                QueueLine::new(
                    &q.id,
                    q.priority,
                    q.threshold_s.unwrap_or(default_service_level),
                    wrap_up_s,
                ),
            );
        }
        let mut memberships = HashMap::new();
        let mut index = 0;
        for group in scenario.sites.iter().flat_map(|s| &s.groups) {
            let queues: Vec<String> = group
                .skills
                .iter()
                .filter(|s| floor.queues.contains_key(*s))
                .cloned()
                .collect();
            for _ in 0..u64::from(group.teams) * u64::from(group.agents_per_team) {
                memberships.insert(agent_id(index), queues.clone());
                index += 1;
            }
        }
        AmiWriter {
            floor,
            memberships,
            after_call_work,
            rang_out: HashSet::new(),
            channels: 0,
        }
    }

    /// The switch's state after the events written so far.
    pub fn floor(&self) -> &SwitchFloor {
        &self.floor
    }

    /// The AMI events of one canonical event.
    pub fn write(&mut self, event: &Event) -> Written {
        let ts = event.ts;
        let mut written = Written::default();
        let out = &mut written.events;
        if let Some(agent) = event.kind.agent()
            && !matches!(
                event.kind,
                EventKind::AgentState { .. } | EventKind::CallRingNoAnswer { .. }
            )
        {
            self.rang_out.remove(agent);
        }
        match &event.kind {
            EventKind::AgentLogin { agent, .. } => self.login(agent, ts, out),
            EventKind::AgentLogout { agent } => self.logout(agent, out),
            EventKind::AgentState {
                agent,
                state,
                reason,
            } => self.agent_state(agent, *state, *reason, ts, out),
            EventKind::CallEnteredQueue {
                call,
                queue,
                caller,
                ..
            } => self.join(
                call,
                queue,
                caller
                    .as_ref()
                    .map(floorwatch_core::caller::CallerNumber::as_str),
                ts,
                out,
            ),
            EventKind::CallOffered { call, agent } => self.called(call, agent, ts, out),
            EventKind::CallRingNoAnswer { call, agent } => {
                self.ring_no_answer(call, agent, ts, out)
            }
            EventKind::CallAnswered {
                call,
                agent,
                queue,
                wait_ms,
            } => self.connect(call, agent, queue.as_deref(), *wait_ms, ts, out),
            EventKind::CallHoldStarted { call } => self.hold(call, true, out),
            EventKind::CallHoldEnded { call } => self.hold(call, false, out),
            EventKind::CallEnded {
                call,
                agent,
                talk_ms,
                ..
            } => self.complete(call, agent.as_deref(), *talk_ms, Completion::Ended, ts, out),
            EventKind::CallTransferred {
                call,
                agent,
                talk_ms,
                to_queue,
                to_agent,
                to_external,
                ..
            } => {
                let completion = Completion::Transferred {
                    to_queue: to_queue.as_deref(),
                    to_external: to_external.as_deref().or(to_agent.as_deref()),
                };
                self.complete(call, agent.as_deref(), *talk_ms, completion, ts, out)
            }
            EventKind::CallAbandoned {
                call,
                queue,
                wait_ms,
            } => {
                self.left_queue(call, queue.as_deref(), *wait_ms, Leaving::HungUp, ts, out);
            }
            EventKind::CallTimedOut {
                call,
                queue,
                wait_ms,
                overflow_to,
            } => {
                let how = Leaving::TimedOut {
                    overflows: overflow_to.is_some(),
                };
                written.hangup_later =
                    self.left_queue(call, queue.as_deref(), *wait_ms, how, ts, out);
            }
            EventKind::AgentTeam { .. }
            | EventKind::CallAfterCallWorkEnded { .. }
            | EventKind::CallIvrCompleted { .. } => {}
        }
        written
    }

    /// The Hangup of a caller that timed out earlier, unless it has since joined a queue again
    /// or was answered.
    pub fn hangup_if_parked(&mut self, call: &str) -> Option<SwitchEvent> {
        let caller = self.floor.callers.get(call)?;
        if caller.queue.is_some() || caller.connected.is_some() || caller.ringing.is_some() {
            return None;
        }
        let caller = self.floor.callers.remove(call)?;
        Some(hangup(&caller))
    }

    // ---- agents --------------------------------------------------------------------------

    fn login(&mut self, agent: &str, ts: Millis, out: &mut Vec<SwitchEvent>) {
        if self.floor.members.contains_key(agent) {
            return;
        }
        let queues: BTreeSet<String> = self
            .memberships
            .get(agent)
            .map(|q| q.iter().cloned().collect())
            .unwrap_or_default();
        self.floor.members.insert(
            agent.to_string(),
            Member {
                name: agent.to_string(),
                interface: format!("PJSIP/{agent}"),
                queues,
                paused: None,
                status: DeviceStatus::NotInUse,
                in_call: false,
                calls_taken: 0,
                last_call_s: 0,
                last_pause_s: 0,
                login_s: ts.div_euclid(1000),
            },
        );
        self.member_events("QueueMemberAdded", agent, out);
    }

    fn logout(&mut self, agent: &str, out: &mut Vec<SwitchEvent>) {
        self.member_events("QueueMemberRemoved", agent, out);
        self.floor.members.remove(agent);
    }

    /// Pauses and unpauses: the only agent states AMI carries on their own (ringing, talking
    /// and holding follow from the call events).
    fn agent_state(
        &mut self,
        agent: &str,
        state: AgentState,
        reason: Option<NotReadyReason>,
        ts: Millis,
        out: &mut Vec<SwitchEvent>,
    ) {
        let rang_out = self.rang_out.remove(agent);
        let wanted = match (state, self.after_call_work) {
            (AgentState::NotReady, _) => Some(pause_text(reason, rang_out).to_string()),
            (AgentState::AfterCallWork, AfterCallWork::Pause) => Some(ACW_PAUSE.to_string()),
            // The switch's wrap-up time stands for it; nothing is said.
            (AgentState::AfterCallWork, AfterCallWork::WrapUp) => return,
            (
                AgentState::Available | AgentState::Ringing | AgentState::OnCall | AgentState::Hold,
                _,
            ) => None,
        };
        let Some(member) = self.floor.members.get_mut(agent) else {
            return;
        };
        if member.paused == wanted {
            return;
        }
        if wanted.is_some() {
            member.last_pause_s = ts.div_euclid(1000);
        }
        member.paused = wanted;
        self.member_events("QueueMemberPause", agent, out);
    }

    /// The member's device status changed: one QueueMemberStatus per queue, as Asterisk sends.
    fn device(&mut self, agent: &str, status: DeviceStatus, out: &mut Vec<SwitchEvent>) {
        if let Some(member) = self.floor.members.get_mut(agent) {
            member.status = status;
            self.member_events("QueueMemberStatus", agent, out);
        }
    }

    /// `name` for each queue of the member (QueueMemberAdded, Removed, Pause, Status).
    fn member_events(&self, name: &str, agent: &str, out: &mut Vec<SwitchEvent>) {
        let Some(member) = self.floor.members.get(agent) else {
            return;
        };
        for queue in member
            .queues
            .iter()
            .filter_map(|q| self.floor.queues.get(q))
        {
            out.push(SwitchEvent {
                class: EventClass::Agent,
                message: member_fields(event(name), queue, member, MemberSpelling::Event),
            });
        }
    }

    // ---- callers -------------------------------------------------------------------------

    fn new_channel(&mut self, device: &str) -> String {
        self.channels += 1;
        format!("{device}-{:08x}", self.channels)
    }

    /// The queue's line, added with the centre's defaults if the scenario did not name it.
    fn queue_line(&mut self, queue: &str) -> &mut QueueLine {
        self.floor
            .queues
            .entry(queue.to_string())
            .or_insert_with(|| QueueLine::new(queue, 0, 20, 0))
    }

    /// The caller's channel, opened now if the switch has not seen it (a call that joined
    /// before the day's record began).
    fn caller(&mut self, call: &str, queue: Option<&str>) -> &mut Caller {
        let channels = &mut self.channels;
        self.floor
            .callers
            .entry(call.to_string())
            .or_insert_with(|| {
                *channels += 1;
                Caller {
                    uniqueid: call.to_string(),
                    channel: format!("PJSIP/trunk-{:08x}", *channels),
                    caller_id: None,
                    queue: None,
                    last_queue: queue.unwrap_or("default").to_string(),
                    entered: None,
                    original_position: 1,
                    ringing: None,
                    connected: None,
                    hold_s: 0,
                }
            })
    }

    fn join(
        &mut self,
        call: &str,
        queue: &str,
        caller_id: Option<&str>,
        ts: Millis,
        out: &mut Vec<SwitchEvent>,
    ) {
        let line = self.queue_line(queue);
        line.waiting.push(call.to_string());
        let position = line.waiting.len();
        let caller = self.caller(call, Some(queue));
        caller.queue = Some(queue.to_string());
        caller.last_queue = queue.to_string();
        caller.entered = Some(ts);
        caller.original_position = position;
        caller.ringing = None;
        caller.connected = None;
        caller.hold_s = 0;
        if let Some(id) = caller_id {
            caller.caller_id = Some(id.to_string());
        }
        let message = caller_fields(event("QueueCallerJoin"), caller)
            .with("Queue", queue)
            .with("Position", position.to_string())
            .with("Count", position.to_string());
        out.push(agent_class(message));
    }

    fn called(&mut self, call: &str, agent: &str, ts: Millis, out: &mut Vec<SwitchEvent>) {
        if !self.floor.callers.contains_key(call) || !self.floor.members.contains_key(agent) {
            return;
        }
        let channel = self.new_channel(&format!("PJSIP/{agent}"));
        let uniqueid = format!("{call}.{}", self.channels);
        let caller = self.caller(call, None);
        let leg = AgentLeg {
            agent: agent.to_string(),
            channel,
            uniqueid,
            since: ts,
        };
        caller.ringing = Some(leg.clone());
        let message = agent_call_fields(event("AgentCalled"), caller, &leg, true);
        out.push(agent_class(self.with_member(message, agent)));
        self.device(agent, DeviceStatus::Ringing, out);
    }

    fn ring_no_answer(&mut self, call: &str, agent: &str, ts: Millis, out: &mut Vec<SwitchEvent>) {
        let Some(caller) = self.floor.callers.get_mut(call) else {
            return;
        };
        let Some(leg) = caller.ringing.take_if(|leg| leg.agent == agent) else {
            return;
        };
        let caller = caller.clone();
        let message = agent_call_fields(event("AgentRingNoAnswer"), &caller, &leg, true);
        let message = self
            .with_member(message, agent)
            .with("RingTime", whole_seconds(ts - leg.since).to_string());
        out.push(agent_class(message));
        self.device(agent, DeviceStatus::NotInUse, out);
        self.rang_out.insert(agent.to_string());
    }

    fn connect(
        &mut self,
        call: &str,
        agent: &str,
        queue_hint: Option<&str>,
        wait_ms: Option<Millis>,
        ts: Millis,
        out: &mut Vec<SwitchEvent>,
    ) {
        let channel = self.new_channel(&format!("PJSIP/{agent}"));
        let uniqueid = format!("{call}.{}", self.channels);
        let caller = self.caller(call, queue_hint);
        let queue = caller
            .queue
            .take()
            .or(queue_hint.map(str::to_string))
            .unwrap_or_else(|| caller.last_queue.clone());
        caller.last_queue = queue.clone();
        let hold_s = match caller.entered {
            Some(entered) => whole_seconds(ts - entered),
            None => whole_seconds(wait_ms.unwrap_or(0)),
        };
        let ring = caller.ringing.take().filter(|leg| leg.agent == agent);
        let ring_s = ring.as_ref().map_or(0, |leg| whole_seconds(ts - leg.since));
        let leg = AgentLeg {
            since: ts,
            ..ring.unwrap_or(AgentLeg {
                agent: agent.to_string(),
                channel,
                uniqueid,
                since: ts,
            })
        };
        caller.connected = Some(leg.clone());
        caller.hold_s = hold_s;
        let caller = caller.clone();
        let line = self.queue_line(&queue);
        let position = line.remove(call).unwrap_or(1);
        let count = line.waiting.len();
        line.count_answered(hold_s);
        let leave = caller_fields(event("QueueCallerLeave"), &caller)
            .with("Queue", queue.as_str())
            .with("Count", count.to_string())
            .with("Position", position.to_string());
        out.push(agent_class(leave));
        let message = agent_call_fields(event("AgentConnect"), &caller, &leg, false);
        let message = self
            .with_member(message, agent)
            .with("HoldTime", hold_s.to_string())
            .with("RingTime", ring_s.to_string());
        out.push(agent_class(message));
        if let Some(member) = self.floor.members.get_mut(agent) {
            member.in_call = true;
        }
        self.device(agent, DeviceStatus::InUse, out);
    }

    fn hold(&mut self, call: &str, on: bool, out: &mut Vec<SwitchEvent>) {
        let Some(caller) = self
            .floor
            .callers
            .get(call)
            .filter(|c| c.connected.is_some())
        else {
            return;
        };
        let message = if on {
            caller_fields(event("Hold"), caller).with("MusicClass", "default")
        } else {
            caller_fields(event("Unhold"), caller)
        };
        out.push(SwitchEvent {
            class: EventClass::Call,
            message,
        });
    }

    fn complete(
        &mut self,
        call: &str,
        agent: Option<&str>,
        talk_ms: Option<Millis>,
        completion: Completion,
        ts: Millis,
        out: &mut Vec<SwitchEvent>,
    ) {
        let Some(caller) = self.floor.callers.get_mut(call) else {
            return;
        };
        let Some(leg) = caller
            .connected
            .take()
            .filter(|leg| agent.is_none_or(|a| a == leg.agent))
        else {
            return;
        };
        let caller = caller.clone();
        let agent = leg.agent.clone();
        let talk_s = whole_seconds(talk_ms.unwrap_or(ts - leg.since));
        let reason = match completion {
            Completion::Ended => "caller",
            Completion::Transferred {
                to_queue,
                to_external,
            } => {
                let (extension, context, external) = match (to_queue, to_external) {
                    (Some(queue), _) => (queue, "queues", "No"),
                    (None, Some(number)) => (number, "from-internal", "Yes"),
                    (None, None) => ("s", "from-internal", "Yes"),
                };
                let message = event("BlindTransfer").with("Result", "Success");
                let message = channel_fields(message, "Transferer", &agent_channel(&leg, &caller));
                let message = channel_fields(message, "Transferee", &caller_channel(&caller));
                let message = message
                    .with("IsExternal", external)
                    .with("Context", context)
                    .with("Extension", extension);
                out.push(SwitchEvent {
                    class: EventClass::Call,
                    message,
                });
                "transfer"
            }
        };
        let message = agent_call_fields(event("AgentComplete"), &caller, &leg, false);
        let message = self
            .with_member(message, &agent)
            .with("HoldTime", caller.hold_s.to_string())
            .with("TalkTime", talk_s.to_string())
            .with("Reason", reason);
        out.push(agent_class(message));
        self.queue_line(&caller.last_queue).count_completed(talk_s);
        if let Some(member) = self.floor.members.get_mut(&agent) {
            member.in_call = false;
            member.calls_taken += 1;
            member.last_call_s = ts.div_euclid(1000);
        }
        self.device(&agent, DeviceStatus::NotInUse, out);
        match completion {
            Completion::Ended => {
                self.floor.callers.remove(call);
                out.push(hangup(&caller));
            }
            // To an outside number: the caller leaves the switch's queues for good.
            Completion::Transferred { to_queue: None, .. } => {
                self.floor.callers.remove(call);
            }
            // Into a queue: its QueueCallerJoin follows.
            Completion::Transferred { .. } => {}
        }
    }

    /// QueueCallerAbandon and QueueCallerLeave (Asterisk raises both for a hang-up and for a
    /// time-out); a hang-up's Hangup at once; a time-out's caller hangs up later, unless it
    /// overflows. Returns that later Hangup.
    fn left_queue(
        &mut self,
        call: &str,
        queue_hint: Option<&str>,
        wait_ms: Option<Millis>,
        how: Leaving,
        ts: Millis,
        out: &mut Vec<SwitchEvent>,
    ) -> Option<(Millis, String)> {
        let caller = self.caller(call, queue_hint);
        let queue = caller
            .queue
            .take()
            .or(queue_hint.map(str::to_string))
            .unwrap_or_else(|| caller.last_queue.clone());
        let hold_s = match caller.entered {
            Some(entered) => whole_seconds(ts - entered),
            None => whole_seconds(wait_ms.unwrap_or(0)),
        };
        let ringing = caller.ringing.take();
        let caller = caller.clone();
        let line = self.queue_line(&queue);
        let position = line.remove(call).unwrap_or(1);
        let count = line.waiting.len();
        line.abandoned += 1;
        let abandon = caller_fields(event("QueueCallerAbandon"), &caller)
            .with("Queue", queue.as_str())
            .with("Position", position.to_string())
            .with("OriginalPosition", caller.original_position.to_string())
            .with("HoldTime", hold_s.to_string());
        let leave = caller_fields(event("QueueCallerLeave"), &caller)
            .with("Queue", queue.as_str())
            .with("Count", count.to_string())
            .with("Position", position.to_string());
        out.push(agent_class(abandon));
        out.push(agent_class(leave));
        let later = match how {
            Leaving::HungUp => {
                self.floor.callers.remove(call);
                out.push(hangup(&caller));
                None
            }
            Leaving::TimedOut { overflows: true } => None,
            Leaving::TimedOut { overflows: false } => {
                Some((ts + TIMEOUT_HANGUP_DELAY_MS, call.to_string()))
            }
        };
        if let Some(leg) = ringing {
            self.device(&leg.agent, DeviceStatus::NotInUse, out);
        }
        later
    }

    /// Appends the member's queue headers (`MemberName`, `Interface`) to an agent event.
    fn with_member(&self, message: AmiMessage, agent: &str) -> AmiMessage {
        let interface = self
            .floor
            .members
            .get(agent)
            .map_or_else(|| format!("PJSIP/{agent}"), |m| m.interface.clone());
        message
            .with("MemberName", agent)
            .with("Interface", interface)
    }
}

/// The pause reason for AMI; it reads back as the same [`NotReadyReason`] through
/// `floorwatch_core::queue_log::pause_reason`.
fn pause_text(reason: Option<NotReadyReason>, rang_out: bool) -> &'static str {
    match reason {
        Some(NotReadyReason::Other) | None if rang_out => "Auto-Pause",
        Some(NotReadyReason::Break) => "Break",
        Some(NotReadyReason::Meal) => "Meal",
        Some(NotReadyReason::Meeting) => "Meeting",
        Some(NotReadyReason::Training) => "Training",
        Some(NotReadyReason::Coaching) => "Coaching",
        Some(NotReadyReason::Outbound) => "Outbound calls",
        Some(NotReadyReason::Other) | None => "Other",
    }
}

/// The pause reason of after-call work ([`AfterCallWork::Pause`]); the mapper reads it as
/// wrap-up.
pub const ACW_PAUSE: &str = "ACW";

fn whole_seconds(ms: Millis) -> i64 {
    ms.max(0) / 1000
}

fn event(name: &str) -> AmiMessage {
    AmiMessage::new().with("Event", name)
}

fn agent_class(message: AmiMessage) -> SwitchEvent {
    SwitchEvent {
        class: EventClass::Agent,
        message,
    }
}

fn hangup(caller: &Caller) -> SwitchEvent {
    SwitchEvent {
        class: EventClass::Call,
        message: caller_fields(event("Hangup"), caller)
            .with("Cause", "16")
            .with("Cause-txt", "Normal Clearing"),
    }
}

/// A channel as Asterisk describes it in events, under a header prefix (``, `Dest`,
/// `Transferer`, `Transferee`).
struct ChannelView<'a> {
    channel: &'a str,
    up: bool,
    caller_id: &'a str,
    connected_line: &'a str,
    exten: &'a str,
    uniqueid: &'a str,
    linkedid: &'a str,
}

fn caller_channel(caller: &Caller) -> ChannelView<'_> {
    ChannelView {
        channel: &caller.channel,
        up: true,
        caller_id: caller.caller_id.as_deref().unwrap_or("<unknown>"),
        connected_line: "<unknown>",
        exten: &caller.last_queue,
        uniqueid: &caller.uniqueid,
        linkedid: &caller.uniqueid,
    }
}

fn agent_channel<'a>(leg: &'a AgentLeg, caller: &'a Caller) -> ChannelView<'a> {
    ChannelView {
        channel: &leg.channel,
        up: true,
        caller_id: &leg.agent,
        connected_line: caller.caller_id.as_deref().unwrap_or("<unknown>"),
        exten: &caller.last_queue,
        uniqueid: &leg.uniqueid,
        linkedid: &caller.uniqueid,
    }
}

fn channel_fields(message: AmiMessage, prefix: &str, view: &ChannelView) -> AmiMessage {
    let key = |name: &str| format!("{prefix}{name}");
    let (state, state_desc) = if view.up {
        ("6", "Up")
    } else {
        ("5", "Ringing")
    };
    message
        .with(key("Channel"), view.channel)
        .with(key("ChannelState"), state)
        .with(key("ChannelStateDesc"), state_desc)
        .with(key("CallerIDNum"), view.caller_id)
        .with(key("CallerIDName"), "<unknown>")
        .with(key("ConnectedLineNum"), view.connected_line)
        .with(key("ConnectedLineName"), "<unknown>")
        .with(key("Language"), "en")
        .with(key("AccountCode"), "")
        .with(key("Context"), "queues")
        .with(key("Exten"), view.exten)
        .with(key("Priority"), "1")
        .with(key("Uniqueid"), view.uniqueid)
        .with(key("Linkedid"), view.linkedid)
}

fn caller_fields(message: AmiMessage, caller: &Caller) -> AmiMessage {
    channel_fields(message, "", &caller_channel(caller))
}

/// The caller's channel, the agent's channel (`Dest…`) and the queue: the head of AgentCalled,
/// AgentRingNoAnswer, AgentConnect and AgentComplete.
fn agent_call_fields(
    message: AmiMessage,
    caller: &Caller,
    leg: &AgentLeg,
    ringing: bool,
) -> AmiMessage {
    let message = caller_fields(message, caller);
    let view = ChannelView {
        up: !ringing,
        ..agent_channel(leg, caller)
    };
    channel_fields(message, "Dest", &view).with("Queue", caller.last_queue.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use floorwatch_core::queue_log::pause_reason;

    #[test]
    fn every_pause_reason_reads_back_as_itself() {
        for reason in NotReadyReason::ALL {
            assert_eq!(pause_reason(pause_text(Some(reason), false)), reason);
        }
        assert_eq!(
            pause_reason(pause_text(Some(NotReadyReason::Other), true)),
            NotReadyReason::Other
        );
    }
}
