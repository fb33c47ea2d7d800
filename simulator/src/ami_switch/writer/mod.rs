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
//! | `call_abandoned` | HangupRequest (the channel driver's), QueueCallerAbandon, QueueCallerLeave, Hangup, at the same instant |
//! | `call_timed_out` | QueueCallerAbandon, QueueCallerLeave; with [`Dialplan::Voicemail`] the caller's HangupRequest and Hangup [`TIMEOUT_HANGUP_DELAY_MS`] later, with [`Dialplan::Hangup`] a Hangup at once (no HangupRequest); nothing more when it overflows into another queue (its QueueCallerJoin follows at once) |
//! | `call_after_call_work_ended`, `agent_team`, `call_ivr_completed` | nothing: the agent's next state says the first; AMI has no teams; an IVR call never reaches a queue |
//!
//! Durations on AMI (HoldTime, TalkTime, RingTime, Wait) are whole seconds, truncated as
//! Asterisk's `time(NULL) - start` is; times (`Timestamp:`) keep the millisecond. A test call
//! (`test: true`) is served as the ordinary queue call the switch sees: AMI cannot mark it.

mod agents;
mod calls;
mod messages;
mod output;
mod state;

use std::collections::{HashMap, HashSet};

use floorwatch_core::ami::AmiMessage;
use floorwatch_core::{Event, EventKind};

use crate::ami_switch::floor::{Caller, QueueLine, SwitchFloor};
use crate::scenario::{Scenario, agent_id};
use messages::{hangup, hangup_request};
pub use output::{
    ACW_PAUSE, AfterCallWork, Dialplan, EventClass, SwitchEvent, TIMEOUT_HANGUP_DELAY_MS, Written,
};
pub use state::AmiWriter;
use state::{Completion, Leaving};

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
            dialplan: Dialplan::default(),
            rang_out: HashSet::new(),
            channels: 0,
        }
    }

    /// The same switch with `dialplan` after a queue time-out.
    pub fn with_dialplan(mut self, dialplan: Dialplan) -> AmiWriter {
        self.dialplan = dialplan;
        self
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

    /// The caller who timed out earlier hangs up (HangupRequest, then Hangup), unless it has
    /// since joined a queue again or was answered.
    pub fn hangup_if_parked(&mut self, call: &str) -> Vec<SwitchEvent> {
        let Some(caller) = self.floor.callers.get(call) else {
            return Vec::new();
        };
        if caller.queue.is_some() || caller.connected.is_some() || caller.ringing.is_some() {
            return Vec::new();
        }
        match self.floor.callers.remove(call) {
            Some(caller) => vec![hangup_request(&caller), hangup(&caller)],
            None => Vec::new(),
        }
    }

    pub(super) fn new_channel(&mut self, device: &str) -> String {
        self.channels += 1;
        format!("{device}-{:08x}", self.channels)
    }

    /// The queue's line, added with the centre's defaults if the scenario did not name it.
    pub(super) fn queue_line(&mut self, queue: &str) -> &mut QueueLine {
        self.floor
            .queues
            .entry(queue.to_string())
            .or_insert_with(|| QueueLine::new(queue, 0, 20, 0))
    }

    /// The caller's channel, opened now if the switch has not seen it (a call that joined
    /// before the day's record began).
    pub(super) fn caller(&mut self, call: &str, queue: Option<&str>) -> &mut Caller {
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

    /// Appends the member's queue headers (`MemberName`, `Interface`) to an agent event.
    pub(super) fn with_member(&self, message: AmiMessage, agent: &str) -> AmiMessage {
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
