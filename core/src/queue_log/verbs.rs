//! The queue_log lines of today's Asterisk and of QueueMetrics-format installations beyond the
//! classic set (docs/CTI.md, "queue_log", "Current Asterisk and QueueMetrics lines"): each is
//! mapped or deliberately skipped here, so a current file replays with no line refused.

use super::reader::{AgentMemory, Interpreted, Line, LineError, QueueLogReader};
use crate::event::{AgentState, EventKind};

/// The pause reason app_queue writes on the UNPAUSE it logs before a reason change when
/// `log_unpause_on_reason_change` is set (app_queue.c, set_queue_member_pause).
const AUTO_UNPAUSE: &str = "Auto-Unpause";

impl QueueLogReader {
    /// The line's meaning if its verb is one of the newer ones, `None` for the classic set.
    pub(super) fn newer_verb(&self, line: &Line<'_>) -> Option<Result<Interpreted, LineError>> {
        let meaning = match line.event {
            // WITHDRAW(pos|origpos|waittime|info), Asterisk 16.30+/18/20: QueueWithdrawCaller
            // took the caller out of the queue; app_queue counts it abandoned, but the caller
            // did not hang up: the queue let go of the call, so it timed out.
            "WITHDRAW" => self.withdrawn(line),
            // `log_unpause_on_reason_change`: UNPAUSE|Auto-Unpause, then at once the PAUSE with
            // the new reason. The agent never became available: nothing.
            "UNPAUSE" if line.data(1).is_some_and(|d| d.trim() == AUTO_UNPAUSE) => {
                Ok((Vec::new(), None))
            }
            // QueueMetrics: the code of the pause under way.
            "PAUSEREASON" => self.pause_reason(line),
            // QueueMetrics (Uniloader): the caller put on hold and taken off it by the agent.
            "CALLERONHOLD" => self.caller_hold(line, true),
            "CALLEROFFHOLD" => self.caller_hold(line, false),
            // RINGCANCELED(ms): the ring stopped as someone else answered or the caller left.
            // RINGINUSE(0|1): a member's ringinuse setting changed (it names the interface).
            // OUTCALL(status|talktime|params), QueueUpdate: an outbound call made outside the
            // queue; the canonical model has no outbound figures and counting it would change
            // the queue's inbound ones. CALLSTATUS: QueueMetrics' call outcome code.
            // HEARTBEAT: a QueueMetrics loader's keep-alive.
            "RINGCANCELED" | "RINGINUSE" | "OUTCALL" | "CALLSTATUS" | "HEARTBEAT" => {
                Ok((Vec::new(), None))
            }
            _ => return None,
        };
        Some(meaning)
    }

    fn withdrawn(&self, line: &Line<'_>) -> Result<Interpreted, LineError> {
        let (call, queue) = (line.call()?, line.queue()?);
        let wait_ms = line.seconds(3, "waittime")?;
        let out = vec![EventKind::CallTimedOut {
            call: call.to_string(),
            queue: Some(queue.to_string()),
            wait_ms: Some(wait_ms),
            overflow_to: None,
        }];
        Ok((out, None))
    }

    /// PAUSEREASON(code) changes the reason of an agent's pause under way; for an agent not
    /// known to be paused it says nothing (the PAUSE line carries its own reason).
    fn pause_reason(&self, line: &Line<'_>) -> Result<Interpreted, LineError> {
        let agent = line.agent()?;
        let code = line.data(1).unwrap_or("").trim();
        let mut out = Vec::new();
        let Some(mut memory) = self.agent(agent).filter(|m| m.pause.is_some()) else {
            return Ok((out, None));
        };
        if code.is_empty() {
            return Ok((out, None));
        }
        memory.pause(agent, code, &mut out);
        Ok((out, Some((agent.to_string(), memory))))
    }

    /// CALLERONHOLD / CALLEROFFHOLD: the call's hold, and its agent's state when the reader
    /// knows who has the call (the line's agent, else the agent connected to it).
    fn caller_hold(&self, line: &Line<'_>, on: bool) -> Result<Interpreted, LineError> {
        let call = line.call()?;
        let agent = line
            .agent()
            .ok()
            .filter(|a| self.agent(a).is_some_and(|m| m.has_call(call)))
            .map(str::to_string)
            .or_else(|| self.agent_with_call(call));
        let mut out = vec![if on {
            EventKind::CallHoldStarted {
                call: call.to_string(),
            }
        } else {
            EventKind::CallHoldEnded {
                call: call.to_string(),
            }
        }];
        let Some(agent) = agent else {
            return Ok((out, None));
        };
        let Some(mut memory) = self.agent(&agent) else {
            return Ok((out, None));
        };
        let state = if on {
            AgentState::Hold
        } else {
            AgentState::OnCall
        };
        memory.set_state(&agent, state, None, &mut out);
        Ok((out, Some((agent, memory))))
    }
}

impl AgentMemory {
    fn has_call(&self, call: &str) -> bool {
        self.calls.iter().any(|c| c == call)
    }
}
