//! The callers' side of the switch: joining a queue, ringing agents, connecting, hold, the
//! end of a connected call and leaving a queue unanswered.

use floorwatch_core::Millis;

use super::messages::{
    agent_call_fields, agent_channel, agent_class, caller_channel, caller_fields, channel_fields,
    event, hangup, hangup_request, whole_seconds,
};
use super::output::{Dialplan, EventClass, SwitchEvent, TIMEOUT_HANGUP_DELAY_MS};
use super::state::{AmiWriter, Completion, Leaving};
use crate::ami_switch::floor::{AgentLeg, DeviceStatus};

impl AmiWriter {
    pub(super) fn join(
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

    pub(super) fn called(
        &mut self,
        call: &str,
        agent: &str,
        ts: Millis,
        out: &mut Vec<SwitchEvent>,
    ) {
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

    pub(super) fn ring_no_answer(
        &mut self,
        call: &str,
        agent: &str,
        ts: Millis,
        out: &mut Vec<SwitchEvent>,
    ) {
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

    pub(super) fn connect(
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

    pub(super) fn hold(&mut self, call: &str, on: bool, out: &mut Vec<SwitchEvent>) {
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

    pub(super) fn complete(
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
    /// time-out); a hang-up's HangupRequest before them and its Hangup at once; a time-out's
    /// caller hangs up later (or the dialplan's `Hangup()` at once), unless it overflows.
    /// Returns that later hang-up.
    pub(super) fn left_queue(
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
        if how == Leaving::HungUp {
            out.push(hangup_request(&caller));
        }
        out.push(agent_class(abandon));
        out.push(agent_class(leave));
        let later = match how {
            Leaving::HungUp => {
                self.floor.callers.remove(call);
                out.push(hangup(&caller));
                None
            }
            Leaving::TimedOut { overflows: true } => None,
            Leaving::TimedOut { overflows: false } if self.dialplan == Dialplan::Hangup => {
                self.floor.callers.remove(call);
                out.push(hangup(&caller));
                None
            }
            Leaving::TimedOut { overflows: false } => {
                Some((ts + TIMEOUT_HANGUP_DELAY_MS, call.to_string()))
            }
        };
        if let Some(leg) = ringing {
            self.device(&leg.agent, DeviceStatus::NotInUse, out);
        }
        later
    }
}
