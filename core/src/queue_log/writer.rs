//! Writing canonical events as queue_log lines, as app_queue would have: the inverse of the
//! reader, used by the simulator's `generate --format queue-log`.
//!
//! queue_log carries less than the canonical model: no ringing, hold, after-call work, IVR
//! self-service, team or test calls. Events with no queue_log counterpart write nothing (see
//! docs/CTI.md, "Writing"). Durations are whole seconds, as Asterisk writes them (truncated), so
//! a day whose events fall on whole seconds reads back to the same queue figures.

use std::collections::HashMap;

use crate::event::{AgentState, Event, EventKind, Millis};

/// Turns canonical events into queue_log lines (without line endings).
///
/// Stateful: it remembers each call's queue, entry time, position, answer time and agent until
/// the call ends, so that it can fill in holdtime, calltime, waittime and positions.
#[derive(Debug, Clone, Default)]
pub struct QueueLogWriter {
    calls: HashMap<String, CallMemory>,
    /// Calls waiting, in order of entry, per queue: their index gives the position.
    waiting: HashMap<String, Vec<String>>,
    agents: HashMap<String, AgentMemory>,
}

#[derive(Debug, Clone, Default)]
struct CallMemory {
    queue: Option<String>,
    entered: Option<Millis>,
    original_position: usize,
    /// When each agent it rang started ringing.
    offered: Vec<(String, Millis)>,
    answered: Option<Millis>,
    wait_ms: Option<Millis>,
    agent: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct AgentMemory {
    login_at: Option<Millis>,
    paused: bool,
}

impl QueueLogWriter {
    /// A writer with no line written yet.
    pub fn new() -> QueueLogWriter {
        QueueLogWriter::default()
    }

    /// The queue_log lines `event` stands for; none when queue_log cannot carry it.
    pub fn write(&mut self, event: &Event) -> Vec<String> {
        if event.test {
            // queue_log has no test flag; test calls never count, so they are left out.
            return Vec::new();
        }
        let ts = event.ts;
        let line = |call: &str, queue: &str, agent: &str, name: &str, data: &[String]| {
            let mut line = format!(
                "{}|{}|{}|{}|{name}",
                format_time(ts),
                field(call),
                field(queue),
                field(agent)
            );
            for d in data {
                line.push('|');
                line.push_str(&field(d));
            }
            line
        };
        match &event.kind {
            EventKind::AgentLogin { agent, .. } => {
                self.agents.entry(agent.clone()).or_default().login_at = Some(ts);
                vec![line(
                    "NONE",
                    "NONE",
                    agent,
                    "AGENTLOGIN",
                    std::slice::from_ref(agent),
                )]
            }
            EventKind::AgentLogout { agent } => {
                let memory = self.agents.remove(agent).unwrap_or_default();
                let logged_in_s = memory.login_at.map(|at| seconds(ts - at)).unwrap_or(0);
                vec![line(
                    "NONE",
                    "NONE",
                    agent,
                    "AGENTLOGOFF",
                    &[agent.clone(), logged_in_s.to_string()],
                )]
            }
            EventKind::AgentState {
                agent,
                state,
                reason,
            } => {
                let memory = self.agents.entry(agent.clone()).or_default();
                match state {
                    AgentState::NotReady => {
                        memory.paused = true;
                        let reason = reason.map(|r| r.as_str()).unwrap_or("other");
                        vec![line("NONE", "NONE", agent, "PAUSE", &[reason.to_string()])]
                    }
                    AgentState::Available if memory.paused => {
                        memory.paused = false;
                        vec![line("NONE", "NONE", agent, "UNPAUSE", &[String::new()])]
                    }
                    // Ringing, on call, hold and after-call work have no queue_log line; the
                    // reader derives on call and available from the call lines.
                    _ => Vec::new(),
                }
            }
            EventKind::CallEnteredQueue {
                call,
                queue,
                caller,
                ..
            } => {
                let waiting = self.waiting.entry(queue.clone()).or_default();
                waiting.retain(|c| c != call);
                waiting.push(call.clone());
                let position = waiting.len();
                self.calls.insert(
                    call.clone(),
                    CallMemory {
                        queue: Some(queue.clone()),
                        entered: Some(ts),
                        original_position: position,
                        ..CallMemory::default()
                    },
                );
                vec![line(
                    call,
                    queue,
                    "NONE",
                    "ENTERQUEUE",
                    &[
                        String::new(),
                        caller
                            .as_ref()
                            .map_or_else(String::new, |c| c.as_str().to_string()),
                        position.to_string(),
                    ],
                )]
            }
            EventKind::CallOffered { call, agent } => {
                let memory = self.calls.entry(call.clone()).or_default();
                memory.offered.retain(|(a, _)| a != agent);
                memory.offered.push((agent.clone(), ts));
                Vec::new()
            }
            EventKind::CallRingNoAnswer { call, agent } => {
                let memory = self.calls.entry(call.clone()).or_default();
                let rang_ms = take_offer(memory, agent).map(|at| (ts - at).max(0));
                match memory.queue.clone() {
                    Some(queue) => vec![line(
                        call,
                        &queue,
                        agent,
                        "RINGNOANSWER",
                        &[rang_ms.unwrap_or(0).to_string()],
                    )],
                    None => Vec::new(),
                }
            }
            EventKind::CallAnswered {
                call,
                agent,
                queue,
                wait_ms,
            } => {
                let memory = self.calls.entry(call.clone()).or_default();
                let queue = queue.clone().or_else(|| memory.queue.clone());
                let wait_ms = wait_ms.or_else(|| memory.entered.map(|at| ts - at));
                let ring_s = take_offer(memory, agent).map(|at| seconds(ts - at));
                memory.queue = queue.clone();
                memory.answered = Some(ts);
                memory.wait_ms = wait_ms;
                memory.agent = Some(agent.clone());
                let (Some(queue), Some(wait_ms)) = (queue, wait_ms) else {
                    return Vec::new();
                };
                self.leave_queue(&queue, call);
                vec![line(
                    call,
                    &queue,
                    agent,
                    "CONNECT",
                    &[
                        seconds(wait_ms).to_string(),
                        String::new(),
                        ring_s.unwrap_or(0).to_string(),
                    ],
                )]
            }
            EventKind::CallEnded {
                call,
                queue,
                agent,
                talk_ms,
            } => {
                let memory = self.calls.remove(call).unwrap_or_default();
                let Some((queue, agent, talk_ms)) = finished(&memory, queue, agent, *talk_ms, ts)
                else {
                    return Vec::new();
                };
                vec![line(
                    call,
                    &queue,
                    &agent,
                    "COMPLETECALLER",
                    &[
                        seconds(memory.wait_ms.unwrap_or(0)).to_string(),
                        seconds(talk_ms).to_string(),
                        memory.original_position.max(1).to_string(),
                    ],
                )]
            }
            EventKind::CallTransferred {
                call,
                queue,
                agent,
                talk_ms,
                to_queue,
                to_agent,
                to_external,
            } => {
                let memory = self.calls.remove(call).unwrap_or_default();
                let Some((queue, agent, talk_ms)) = finished(&memory, queue, agent, *talk_ms, ts)
                else {
                    return Vec::new();
                };
                let (exten, context) = match (to_queue, to_agent, to_external) {
                    (Some(q), _, _) => (q.clone(), "queues".to_string()),
                    (_, Some(a), _) => (a.clone(), "agents".to_string()),
                    (_, _, Some(x)) => match x.split_once('@') {
                        Some((e, c)) => (e.to_string(), c.to_string()),
                        None => (x.clone(), "default".to_string()),
                    },
                    _ => ("s".to_string(), "default".to_string()),
                };
                vec![line(
                    call,
                    &queue,
                    &agent,
                    "TRANSFER",
                    &[
                        exten,
                        context,
                        seconds(memory.wait_ms.unwrap_or(0)).to_string(),
                        seconds(talk_ms).to_string(),
                        memory.original_position.max(1).to_string(),
                    ],
                )]
            }
            EventKind::CallAbandoned {
                call,
                queue,
                wait_ms,
            } => self.left_unanswered(call, queue, *wait_ms, ts, "ABANDON", line),
            EventKind::CallTimedOut {
                call,
                queue,
                wait_ms,
                ..
            } => self.left_unanswered(call, queue, *wait_ms, ts, "EXITWITHTIMEOUT", line),
            EventKind::AgentTeam { .. }
            | EventKind::CallHoldStarted { .. }
            | EventKind::CallHoldEnded { .. }
            | EventKind::CallAfterCallWorkEnded { .. }
            | EventKind::CallIvrCompleted { .. } => Vec::new(),
        }
    }

    /// ABANDON / EXITWITHTIMEOUT (position|origposition|waittime).
    fn left_unanswered(
        &mut self,
        call: &str,
        queue: &Option<String>,
        wait_ms: Option<Millis>,
        ts: Millis,
        name: &str,
        line: impl Fn(&str, &str, &str, &str, &[String]) -> String,
    ) -> Vec<String> {
        let memory = self.calls.remove(call).unwrap_or_default();
        let queue = queue.clone().or(memory.queue.clone());
        let wait_ms = wait_ms.or_else(|| memory.entered.map(|at| ts - at));
        let (Some(queue), Some(wait_ms)) = (queue, wait_ms) else {
            return Vec::new();
        };
        let position = self.leave_queue(&queue, call).unwrap_or(1);
        vec![line(
            call,
            &queue,
            "NONE",
            name,
            &[
                position.to_string(),
                memory.original_position.max(position).to_string(),
                seconds(wait_ms).to_string(),
            ],
        )]
    }

    /// Takes `call` out of its queue's waiting list; its position (1-based) if it was there.
    fn leave_queue(&mut self, queue: &str, call: &str) -> Option<usize> {
        let waiting = self.waiting.get_mut(queue)?;
        let index = waiting.iter().position(|c| c == call)?;
        waiting.remove(index);
        if waiting.is_empty() {
            self.waiting.remove(queue);
        }
        Some(index + 1)
    }
}

/// Queue, agent and talk time of a call whose agent part ended; `None` when queue_log could not
/// say which queue or agent it was.
fn finished(
    memory: &CallMemory,
    queue: &Option<String>,
    agent: &Option<String>,
    talk_ms: Option<Millis>,
    ts: Millis,
) -> Option<(String, String, Millis)> {
    let queue = queue.clone().or(memory.queue.clone())?;
    let agent = agent.clone().or(memory.agent.clone())?;
    let talk_ms = talk_ms.or_else(|| memory.answered.map(|at| ts - at))?;
    Some((queue, agent, talk_ms))
}

fn take_offer(memory: &mut CallMemory, agent: &str) -> Option<Millis> {
    let index = memory.offered.iter().position(|(a, _)| a == agent)?;
    Some(memory.offered.remove(index).1)
}

/// Whole seconds, truncated as Asterisk's `time(NULL) - start` is; never negative.
fn seconds(ms: Millis) -> i64 {
    ms.max(0) / crate::time::SECOND_MS
}

/// Unix seconds, with milliseconds only when there are some (`1700000000.250`).
fn format_time(ts: Millis) -> String {
    let (secs, ms) = (
        ts.div_euclid(crate::time::SECOND_MS),
        ts.rem_euclid(crate::time::SECOND_MS),
    );
    if ms == 0 {
        secs.to_string()
    } else {
        format!("{secs}.{ms:03}")
    }
}

/// A value made safe for a `|`-separated line.
fn field(value: &str) -> String {
    value.replace(['|', '\r', '\n'], "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_keep_milliseconds_only_when_present() {
        assert_eq!(format_time(1_700_000_000_000), "1700000000");
        assert_eq!(format_time(1_700_000_000_050), "1700000000.050");
        assert_eq!(field("a|b\nc"), "a_b_c");
    }
}
