//! After every (re)connect: the QueueStatus reply brings the mapper, and through the events it
//! emits the engine, to the switch's state, so no call stays "waiting" and no agent stays in a
//! state it left while the link was down (docs/CTI.md, "Resync").

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::headers::{
    call, caller, fits, flag, member, pause_text, queue, seconds, unix_time, wrap_up_s,
};
use super::out::Out;
use super::{AmiMapper, Leg, RecentSequence};
use crate::ami::AmiMessage;
use crate::event::{AgentState, Direction, Event, EventKind, MAX_FIELD_LEN, Millis};

impl AmiMapper {
    /// Brings the floor to the switch's state from the replies to the QueueStatus action
    /// (QueueParams, QueueMember, QueueEntry; other messages are ignored), read at `at`:
    ///
    /// - a call the switch lists as waiting but the mapper does not know enters its queue at
    ///   `at` minus its `Wait`;
    /// - a call the mapper believed waiting that the switch no longer lists left while the link
    ///   was down, and how is unknown: it is counted as timed out at `at`;
    /// - an agent believed connected to a call whose member says `InCall: 0` ended that call,
    ///   at its `LastCall` time when that is plausible, else at `at`;
    /// - agents no longer members anywhere log out; new members log in; pause states follow
    ///   the switch's; a member `InCall: 1` on a call the mapper never saw is on a call.
    ///
    /// Sequence numbers start afresh (Asterisk restarts them).
    pub fn resync(&mut self, status: &[AmiMessage], at: Millis) -> Vec<Event> {
        let mut out = Out::new();
        self.expire(at, &mut out);
        self.sequence = RecentSequence::default();
        let is = |m: &AmiMessage, name: &str| {
            m.event().is_some_and(|e| e.eq_ignore_ascii_case(name)) && fits(m)
        };
        for q in status
            .iter()
            .filter(|m| is(m, "QueueParams"))
            .filter_map(|m| queue(m))
        {
            if q.len() <= MAX_FIELD_LEN {
                self.queues.insert(q.to_string());
            }
        }
        let entries: Vec<&AmiMessage> = status.iter().filter(|m| is(m, "QueueEntry")).collect();
        self.resync_waiting(&entries, at, &mut out);

        let mut members: BTreeMap<String, Vec<&AmiMessage>> = BTreeMap::new();
        for m in status.iter().filter(|m| is(m, "QueueMember")) {
            if let Some(agent) = member(m) {
                members.entry(agent.to_string()).or_default().push(m);
            }
        }
        let gone: Vec<String> = self
            .agents
            .iter()
            .filter(|(name, a)| a.state.is_some() && !a.session && !members.contains_key(*name))
            .map(|(name, _)| name.clone())
            .collect();
        for name in gone {
            if let Some(memory) = self.agents.get_mut(&name) {
                memory.logout(&name, at, &mut out);
            }
        }
        for (agent, rows) in &members {
            self.resync_agent(agent, rows, at, &mut out);
        }
        // The wrap-up of a call that ended during the outage may be over already.
        self.expire(at, &mut out);
        self.emit(out)
    }

    fn resync_waiting(&mut self, entries: &[&AmiMessage], at: Millis, out: &mut Out) {
        let listed: HashSet<&str> = entries.iter().filter_map(|m| call(m)).collect();
        let mut gone: Vec<(String, Option<Millis>)> = self
            .legs
            .iter()
            .filter(|(id, leg)| leg.left.is_none() && !listed.contains(id.as_str()))
            .map(|(id, leg)| (id.clone(), leg.entered.map(|e| at - e)))
            .collect();
        gone.sort();
        for (call, wait_ms) in gone {
            self.close_unanswered(&call, false, at, wait_ms, out);
        }
        for m in entries {
            let (Some(call), Some(queue)) = (call(m), queue(m)) else {
                continue;
            };
            if self.legs.contains_key(call) {
                continue;
            }
            let entered = at - seconds(m, "Wait").unwrap_or(0);
            self.closed.remove(call);
            out.push((
                entered,
                EventKind::CallEnteredQueue {
                    call: call.to_string(),
                    queue: queue.to_string(),
                    priority: 0,
                    caller: caller(m),
                    direction: Direction::Inbound,
                },
            ));
            self.legs.insert(
                call.to_string(),
                Leg {
                    queue: queue.to_string(),
                    entered: Some(entered),
                    ringing: Vec::new(),
                    left: None,
                    caller_hung_up: false,
                },
            );
        }
    }

    /// One member, from its QueueMember rows (one per queue).
    fn resync_agent(&mut self, agent: &str, rows: &[&AmiMessage], at: Millis, out: &mut Out) {
        let queues: BTreeSet<String> = rows
            .iter()
            .filter_map(|m| queue(m))
            .map(str::to_string)
            .collect();
        let in_call = rows.iter().any(|m| flag(m, "InCall") == Some(true));
        let in_call_known = rows.iter().any(|m| flag(m, "InCall").is_some());
        // Before Asterisk 12 there is no InCall: the device status says in use, busy, ringing
        // or on hold.
        let busy = rows.iter().any(|m| {
            matches!(
                m.get("Status").map(str::trim),
                Some("2" | "3" | "6" | "7" | "8")
            )
        });
        let still_on_call = if in_call_known { in_call } else { busy };
        let paused = rows.iter().find(|m| flag(m, "Paused") == Some(true));
        let last_call = rows.iter().filter_map(|m| unix_time(m, "LastCall")).max();
        let wrap_up = rows.iter().filter_map(|m| wrap_up_s(m)).max();

        let memory = self.agents.entry(agent.to_string()).or_default();
        memory.queues = queues;
        if wrap_up.is_some() {
            memory.wrap_up_s = wrap_up;
        }
        memory.login(agent, at, out);
        let holding = memory.call.clone();

        // The call the agent was on, if it ended while the link was down.
        if let Some(call) = holding.filter(|_| !still_on_call) {
            match self.segments.remove(&call) {
                Some(segment) if segment.agent == agent => {
                    let ended = last_call
                        .filter(|t| (segment.answered..=at).contains(t))
                        .unwrap_or(at);
                    out.push((
                        ended,
                        EventKind::CallEnded {
                            call: call.clone(),
                            queue: Some(segment.queue.clone()),
                            agent: Some(agent.to_string()),
                            talk_ms: Some(ended - segment.answered),
                        },
                    ));
                    self.agent_channels.retain(|_, c| *c != call);
                    let queue_wrap_up_s = self
                        .queue_wrap_up_s
                        .get(&segment.queue)
                        .copied()
                        .unwrap_or(0);
                    if let Some(memory) = self.agents.get_mut(agent) {
                        memory.after_call(agent, &call, ended, queue_wrap_up_s, out);
                    }
                }
                other => {
                    // Someone else's segment, or the call was only ringing here.
                    if let Some(segment) = other {
                        self.segments.insert(call.clone(), segment);
                    }
                    if let Some(leg) = self.legs.get_mut(&call) {
                        leg.ringing.retain(|a| a != agent);
                    }
                    self.release_ringing(agent, &call, at, out);
                }
            }
        }

        let Some(memory) = self.agents.get_mut(agent) else {
            return;
        };
        match paused {
            Some(m) => memory.pause_if_changed(agent, pause_text(m), at, out),
            None => memory.unpause(agent, at, out),
        }
        if memory.call.is_none() && in_call {
            // On a queue call we never saw (answered while the link was down); its
            // AgentComplete will free the agent.
            memory.set_state(agent, at, AgentState::OnCall, None, out);
        }
    }
}
