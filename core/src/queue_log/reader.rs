//! Reading queue_log lines into canonical events (the mapping table is in docs/CTI.md).
//!
//! The reader is stateful only where queue_log itself is: it remembers each agent's queue
//! memberships (an agent in three queues logs in once and out when the last membership goes),
//! pause and current calls (an agent paused during a call becomes not ready when the call ends),
//! and the queue names seen (a transfer to one of them is a transfer to a queue). It never needs
//! to have seen a call's entry line: every outcome event carries the queue and the switch's own
//! wait or talk time.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::{MAX_LINE_LEN, fnv1a, parse_time, pause_reason};
use crate::caller::CallerNumber;
use crate::event::{
    AgentState, Direction, EVENT_VERSION, Event, EventError, EventKind, MAX_FIELD_LEN, Millis,
    NotReadyReason,
};

/// Why one line could not be used. The caller reports it with the line number and goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// Longer than [`MAX_LINE_LEN`]: garbage or hostile.
    #[error("line is {0} bytes long; at most {MAX_LINE_LEN} are accepted")]
    TooLong(usize),
    #[error(
        "expected at least 5 `|`-separated fields (unixtime|callid|queue|agent|EVENT), found {0}"
    )]
    /// Fewer than the five fields every line has.
    TooFewFields(usize),
    /// A time that is not Unix seconds.
    #[error("time `{0}` is not Unix seconds (e.g. 1700000000 or 1700000000.123)")]
    Time(String),
    /// A field the event needs is missing.
    #[error("{event}: missing {field}")]
    Missing {
        /// The queue_log event.
        event: String,
        /// The missing field.
        field: &'static str,
    },
    /// A field that must be a whole number is not.
    #[error("{event}: {field} = `{value}` is not a whole number of {unit}")]
    Number {
        /// The queue_log event.
        event: String,
        /// The field.
        field: &'static str,
        /// What it holds.
        value: String,
        /// The unit expected.
        unit: &'static str,
    },
    /// An event name this reader does not know.
    #[error("unknown event `{0}`")]
    UnknownEvent(String),
    /// The canonical event the line made is not valid.
    #[error("{0}")]
    Invalid(#[from] EventError),
}

/// A line the reader could not use: which one and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("queue_log line {line}: {reason}")]
pub struct QueueLogError {
    /// The line number, from 1.
    pub line: u64,
    /// Why it was not used.
    pub reason: LineError,
}

/// Everything read from a whole text at once (see [`QueueLogReader::read_text`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadOutcome {
    /// The canonical events read, in line order.
    pub events: Vec<Event>,
    /// The lines that could not be used.
    pub errors: Vec<QueueLogError>,
    /// Lines seen, blank ones included.
    pub lines: u64,
}

/// Turns queue_log lines into canonical events, one line at a time.
#[derive(Debug, Clone)]
pub struct QueueLogReader {
    source: String,
    seq: u64,
    queues: HashSet<String>,
    agents: HashMap<String, AgentMemory>,
}

/// A line's canonical events and the agent memory it leaves behind.
pub(super) type Interpreted = (Vec<EventKind>, Option<(String, AgentMemory)>);

/// What the reader knows of one agent.
#[derive(Debug, Clone, Default)]
pub(super) struct AgentMemory {
    /// Queues the agent was added to (ADDMEMBER) and not removed from.
    queues: BTreeSet<String>,
    /// Logged in through AGENTLOGIN (chan_agent / app_agent_pool).
    session: bool,
    /// Seen working without any login line: a static member of queues.conf, which writes none.
    implicit: bool,
    /// Paused, with the reason; applies once no call holds the agent.
    pub(super) pause: Option<NotReadyReason>,
    /// Calls connected to the agent now.
    pub(super) calls: Vec<String>,
    /// The state last emitted; `None` while logged out.
    state: Option<(AgentState, Option<NotReadyReason>)>,
}

impl AgentMemory {
    fn logged_in(&self) -> bool {
        !self.queues.is_empty() || self.session || self.implicit
    }

    fn login_if_needed(&mut self, agent: &str, out: &mut Vec<EventKind>) {
        if self.state.is_none() {
            out.push(EventKind::AgentLogin {
                agent: agent.to_string(),
                team: None,
            });
            self.state = Some((AgentState::Available, None));
        }
    }

    /// An agent seen working without a login line is a static member: log them in implicitly.
    fn ensure_logged_in(&mut self, agent: &str, out: &mut Vec<EventKind>) {
        if !self.logged_in() {
            self.implicit = true;
        }
        self.login_if_needed(agent, out);
    }

    fn logout_if_gone(&mut self, agent: &str, out: &mut Vec<EventKind>) {
        if !self.queues.is_empty() || self.session {
            return;
        }
        self.implicit = false;
        self.pause = None;
        self.calls.clear();
        self.state = None;
        out.push(EventKind::AgentLogout {
            agent: agent.to_string(),
        });
    }

    pub(super) fn set_state(
        &mut self,
        agent: &str,
        state: AgentState,
        reason: Option<NotReadyReason>,
        out: &mut Vec<EventKind>,
    ) {
        if self.state != Some((state, reason)) {
            self.state = Some((state, reason));
            out.push(EventKind::AgentState {
                agent: agent.to_string(),
                state,
                reason,
            });
        }
    }

    /// The state an agent returns to once no call holds them: not ready if paused, else
    /// available. queue_log has no after-call work, so none is invented.
    fn settle(&mut self, agent: &str, out: &mut Vec<EventKind>) {
        if !self.calls.is_empty() {
            return;
        }
        match self.pause {
            Some(reason) => self.set_state(agent, AgentState::NotReady, Some(reason), out),
            None => self.set_state(agent, AgentState::Available, None, out),
        }
    }

    pub(super) fn pause(&mut self, agent: &str, text: &str, out: &mut Vec<EventKind>) {
        // Asterisk writes PAUSEALL (no reason) before the per-queue PAUSE lines (with the
        // reason): an empty reason keeps the one already known.
        self.pause = match (text.trim().is_empty(), self.pause) {
            (true, Some(known)) => Some(known),
            _ => Some(pause_reason(text)),
        };
        self.settle(agent, out);
    }

    fn unpause(&mut self, agent: &str, out: &mut Vec<EventKind>) {
        self.pause = None;
        self.settle(agent, out);
    }

    fn take_call(&mut self, call: &str) {
        if !self.calls.iter().any(|c| c == call) {
            self.calls.push(call.to_string());
        }
    }

    fn drop_call(&mut self, call: &str) {
        self.calls.retain(|c| c != call);
    }
}

/// One line split into its fields.
pub(super) struct Line<'a> {
    ts: Millis,
    call: &'a str,
    queue: &'a str,
    agent: &'a str,
    pub(super) event: &'a str,
    data: Vec<&'a str>,
}

impl<'a> Line<'a> {
    fn parse(text: &'a str) -> Result<Line<'a>, LineError> {
        if text.len() > MAX_LINE_LEN {
            return Err(LineError::TooLong(text.len()));
        }
        let fields: Vec<&str> = text.split('|').collect();
        if fields.len() < 5 {
            return Err(LineError::TooFewFields(fields.len()));
        }
        let ts = parse_time(fields[0]).ok_or_else(|| LineError::Time(clip(fields[0])))?;
        Ok(Line {
            ts,
            call: fields[1].trim(),
            queue: fields[2].trim(),
            agent: fields[3].trim(),
            event: fields[4].trim(),
            data: fields[5..].to_vec(),
        })
    }

    /// Data field `i` (1-based, as Asterisk's docs number them), if present.
    pub(super) fn data(&self, i: usize) -> Option<&'a str> {
        self.data.get(i - 1).copied()
    }

    fn missing(&self, field: &'static str) -> LineError {
        LineError::Missing {
            event: clip(self.event),
            field,
        }
    }

    pub(super) fn call(&self) -> Result<&'a str, LineError> {
        named(self.call).ok_or_else(|| self.missing("callid"))
    }

    pub(super) fn queue(&self) -> Result<&'a str, LineError> {
        named(self.queue).ok_or_else(|| self.missing("queue"))
    }

    pub(super) fn agent(&self) -> Result<&'a str, LineError> {
        named(self.agent).ok_or_else(|| self.missing("agent"))
    }

    /// A required duration in whole seconds, as milliseconds.
    pub(super) fn seconds(&self, i: usize, field: &'static str) -> Result<Millis, LineError> {
        let value = self.data(i).ok_or_else(|| self.missing(field))?;
        self.number(value, field, "seconds")
            .map(|s| s * crate::time::SECOND_MS)
    }

    /// A duration older Asterisk versions do not write: absent is `None`, present must parse.
    fn optional_seconds(&self, i: usize, field: &'static str) -> Result<Option<Millis>, LineError> {
        match self.data(i) {
            None => Ok(None),
            Some(value) => self
                .number(value, field, "seconds")
                .map(|s| Some(s * crate::time::SECOND_MS)),
        }
    }

    fn number(
        &self,
        value: &str,
        field: &'static str,
        unit: &'static str,
    ) -> Result<i64, LineError> {
        let trimmed = value.trim();
        let ok = !trimmed.is_empty()
            && trimmed.len() <= 9
            && trimmed.bytes().all(|b| b.is_ascii_digit());
        match trimmed.parse::<i64>() {
            Ok(n) if ok => Ok(n),
            _ => Err(LineError::Number {
                event: clip(self.event),
                field,
                value: clip(value),
                unit,
            }),
        }
    }
}

/// A field that names something: not empty and not Asterisk's `NONE` placeholder.
fn named(field: &str) -> Option<&str> {
    (!field.is_empty() && field != "NONE").then_some(field)
}

/// At most 64 characters of a hostile value, for an error message.
fn clip(value: &str) -> String {
    value.chars().take(64).collect()
}

/// Checks a name before it goes into events, so a line is refused before the reader's memory
/// changes.
fn check_len(field: &'static str, value: &str) -> Result<(), LineError> {
    if value.len() > MAX_FIELD_LEN {
        return Err(EventError::TooLong {
            field,
            max: MAX_FIELD_LEN,
        }
        .into());
    }
    Ok(())
}

impl QueueLogReader {
    /// A reader whose events name `source` (e.g. `queue-log:/var/log/asterisk/queue_log`).
    pub fn new(source: &str) -> QueueLogReader {
        QueueLogReader {
            source: source.to_string(),
            seq: 0,
            queues: HashSet::new(),
            agents: HashMap::new(),
        }
    }

    /// The `source` the reader gives its events.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// A copy of what the reader knows of `agent`, to change and hand back with the line.
    pub(super) fn agent(&self, agent: &str) -> Option<AgentMemory> {
        self.agents.get(agent).cloned()
    }

    /// The agent the reader believes connected to `call`.
    pub(super) fn agent_with_call(&self, call: &str) -> Option<String> {
        let mut agents: Vec<&String> = self
            .agents
            .iter()
            .filter(|(_, m)| m.calls.iter().any(|c| c == call))
            .map(|(name, _)| name)
            .collect();
        agents.sort();
        agents.first().map(|a| a.to_string())
    }

    /// Reads one line (without or with its line ending). A blank line gives no events; a line
    /// that cannot be used gives an error naming `line_no` and leaves the reader as it was.
    pub fn read_line(&mut self, line_no: u64, line: &str) -> Result<Vec<Event>, QueueLogError> {
        self.read(line).map_err(|reason| QueueLogError {
            line: line_no,
            reason,
        })
    }

    /// Reads a whole text, numbering lines from 1; errors are collected, never fatal.
    pub fn read_text(&mut self, text: &str) -> ReadOutcome {
        let mut outcome = ReadOutcome::default();
        for (i, line) in text.lines().enumerate() {
            let line_no = i as u64 + 1;
            outcome.lines = line_no;
            match self.read_line(line_no, line) {
                Ok(events) => outcome.events.extend(events),
                Err(error) => outcome.errors.push(error),
            }
        }
        outcome
    }

    fn read(&mut self, raw: &str) -> Result<Vec<Event>, LineError> {
        let text = raw.trim_end_matches(['\r', '\n']);
        if text.trim().is_empty() {
            return Ok(Vec::new());
        }
        let line = Line::parse(text)?;
        check_len("call", line.call)?;
        check_len("queue", line.queue)?;
        check_len("agent", line.agent)?;
        let (kinds, agent) = self.interpret(&line)?;
        let id_base = format!("ql-{}-{:016x}", line.ts, fnv1a(text.as_bytes()));
        let events: Vec<Event> = kinds
            .into_iter()
            .enumerate()
            .map(|(n, kind)| Event {
                v: EVENT_VERSION,
                id: format!("{id_base}-{n}"),
                source: self.source.clone(),
                seq: self.seq + n as u64 + 1,
                ts: line.ts,
                test: false,
                kind,
            })
            .collect();
        for event in &events {
            event.validate()?;
        }
        // Only now, with the line accepted, does the reader's memory change.
        self.seq += events.len() as u64;
        if let Some(queue) = named(line.queue)
            && !self.queues.contains(queue)
        {
            self.queues.insert(queue.to_string());
        }
        if let Some((name, memory)) = agent {
            self.agents.insert(name, memory);
        }
        Ok(events)
    }

    /// The events a line means, and the agent memory it leaves behind; pure, so a refused line
    /// changes nothing.
    fn interpret(&self, line: &Line<'_>) -> Result<Interpreted, LineError> {
        if let Some(meaning) = self.newer_verb(line) {
            return meaning;
        }
        let mut out = Vec::new();
        let memory_of = |agent: &str| self.agents.get(agent).cloned().unwrap_or_default();
        match line.event {
            "ENTERQUEUE" => {
                let caller = line.data(2).map(str::trim).filter(|c| !c.is_empty());
                if let Some(caller) = caller {
                    check_len("caller", caller)?;
                }
                out.push(EventKind::CallEnteredQueue {
                    call: line.call()?.to_string(),
                    queue: line.queue()?.to_string(),
                    priority: 0,
                    caller: caller.map(CallerNumber::from),
                    direction: Direction::Inbound,
                });
                Ok((out, None))
            }
            "ABANDON" => {
                let (call, queue) = (line.call()?, line.queue()?);
                let wait_ms = line.seconds(3, "waittime")?;
                out.push(EventKind::CallAbandoned {
                    call: call.to_string(),
                    queue: Some(queue.to_string()),
                    wait_ms: Some(wait_ms),
                });
                Ok((out, None))
            }
            "EXITWITHTIMEOUT" | "EXITEMPTY" | "EXITWITHKEY" => {
                let (call, queue) = (line.call()?, line.queue()?);
                // EXITWITHKEY puts the key first; Asterisk before 1.6 wrote no waittime.
                let at = if line.event == "EXITWITHKEY" { 4 } else { 3 };
                let wait_ms = line.optional_seconds(at, "waittime")?;
                out.push(EventKind::CallTimedOut {
                    call: call.to_string(),
                    queue: Some(queue.to_string()),
                    wait_ms,
                    overflow_to: None,
                });
                Ok((out, None))
            }
            "CONNECT" => {
                let (call, queue, agent) = (line.call()?, line.queue()?, line.agent()?);
                let wait_ms = line.seconds(1, "holdtime")?;
                let mut memory = memory_of(agent);
                memory.ensure_logged_in(agent, &mut out);
                out.push(EventKind::CallAnswered {
                    call: call.to_string(),
                    agent: agent.to_string(),
                    queue: Some(queue.to_string()),
                    wait_ms: Some(wait_ms),
                });
                memory.take_call(call);
                memory.set_state(agent, AgentState::OnCall, None, &mut out);
                Ok((out, Some((agent.to_string(), memory))))
            }
            "COMPLETECALLER" | "COMPLETEAGENT" => {
                let (call, queue, agent) = (line.call()?, line.queue()?, line.agent()?);
                line.seconds(1, "holdtime")?;
                let talk_ms = line.seconds(2, "calltime")?;
                let mut memory = memory_of(agent);
                memory.ensure_logged_in(agent, &mut out);
                out.push(EventKind::CallEnded {
                    call: call.to_string(),
                    queue: Some(queue.to_string()),
                    agent: Some(agent.to_string()),
                    talk_ms: Some(talk_ms),
                });
                memory.drop_call(call);
                memory.settle(agent, &mut out);
                Ok((out, Some((agent.to_string(), memory))))
            }
            "TRANSFER" | "BLINDTRANSFER" | "ATTENDEDTRANSFER" => self.transfer(line),
            "RINGNOANSWER" => {
                let (call, agent) = (line.call()?, line.agent()?);
                line.queue()?;
                let mut memory = memory_of(agent);
                memory.ensure_logged_in(agent, &mut out);
                out.push(EventKind::CallRingNoAnswer {
                    call: call.to_string(),
                    agent: agent.to_string(),
                });
                memory.settle(agent, &mut out);
                Ok((out, Some((agent.to_string(), memory))))
            }
            "ADDMEMBER" => {
                let (queue, agent) = (line.queue()?, line.agent()?);
                let mut memory = memory_of(agent);
                memory.queues.insert(queue.to_string());
                memory.login_if_needed(agent, &mut out);
                if line.data(1).is_some_and(|d| d.trim() == "PAUSED") {
                    memory.pause(agent, "", &mut out);
                }
                Ok((out, Some((agent.to_string(), memory))))
            }
            "REMOVEMEMBER" => {
                let (queue, agent) = (line.queue()?, line.agent()?);
                let mut memory = memory_of(agent);
                memory.queues.remove(queue);
                memory.logout_if_gone(agent, &mut out);
                Ok((out, Some((agent.to_string(), memory))))
            }
            "AGENTLOGIN" | "AGENTCALLBACKLOGIN" => {
                let agent = line.agent()?;
                let mut memory = memory_of(agent);
                memory.session = true;
                memory.login_if_needed(agent, &mut out);
                Ok((out, Some((agent.to_string(), memory))))
            }
            "AGENTLOGOFF" | "AGENTCALLBACKLOGOFF" => {
                let agent = line.agent()?;
                let mut memory = memory_of(agent);
                memory.session = false;
                memory.logout_if_gone(agent, &mut out);
                Ok((out, Some((agent.to_string(), memory))))
            }
            "PAUSE" | "UNPAUSE" | "PAUSEALL" | "UNPAUSEALL" => {
                let agent = line.agent()?;
                // PAUSEALL names the member's interface, which may differ from the member name
                // the per-queue PAUSE lines that follow it use: it never creates an agent.
                let all = line.event.ends_with("ALL");
                if all && self.agents.get(agent).is_none_or(|m| m.state.is_none()) {
                    return Ok((out, None));
                }
                let mut memory = memory_of(agent);
                memory.ensure_logged_in(agent, &mut out);
                if line.event.starts_with("UN") {
                    memory.unpause(agent, &mut out);
                } else {
                    memory.pause(agent, line.data(1).unwrap_or(""), &mut out);
                }
                Ok((out, Some((agent.to_string(), memory))))
            }
            // Housekeeping and call details no figure uses (docs/CTI.md, "Skipped"); the
            // newer verbs are in verbs.rs.
            "QUEUESTART" | "CONFIGRELOAD" | "DID" | "INFO" | "SYSCOMPAT" | "AGENTDUMP"
            | "PENALTY" => Ok((out, None)),
            other => Err(LineError::UnknownEvent(clip(other))),
        }
    }

    /// TRANSFER / BLINDTRANSFER (exten|context|holdtime|calltime|origposition) and
    /// ATTENDEDTRANSFER (method|details...|holdtime|calltime|origposition): the agent's part of
    /// the call ends here.
    fn transfer(&self, line: &Line<'_>) -> Result<Interpreted, LineError> {
        let (call, queue, agent) = (line.call()?, line.queue()?, line.agent()?);
        let (to_queue, to_external, talk_ms) = if line.event == "ATTENDEDTRANSFER" {
            let n = line.data.len();
            if n < 4 {
                return Err(line.missing("holdtime|calltime|origposition"));
            }
            // Counted from the end: the method decides how many detail fields come first.
            let talk_ms = line.seconds(n - 1, "calltime")?;
            let target = match line.data(1).map(str::trim) {
                Some("APP") => line.data(2).map(str::trim).filter(|t| !t.is_empty()),
                _ => None,
            };
            (None, target.map(str::to_string), Some(talk_ms))
        } else {
            let exten = line.data(1).map(str::trim).unwrap_or("");
            let context = line.data(2).map(str::trim).unwrap_or("");
            if exten.is_empty() {
                return Err(line.missing("extension"));
            }
            // Asterisk before 1.6 wrote only exten|context.
            let talk_ms = line.optional_seconds(4, "calltime")?;
            if self.queues.contains(exten) {
                (Some(exten.to_string()), None, talk_ms)
            } else if context.is_empty() {
                (None, Some(exten.to_string()), talk_ms)
            } else {
                (None, Some(format!("{exten}@{context}")), talk_ms)
            }
        };
        if let Some(target) = &to_external {
            check_len("to_external", target)?;
        }
        let mut out = Vec::new();
        let mut memory = self.agents.get(agent).cloned().unwrap_or_default();
        memory.ensure_logged_in(agent, &mut out);
        out.push(EventKind::CallTransferred {
            call: call.to_string(),
            queue: Some(queue.to_string()),
            agent: Some(agent.to_string()),
            talk_ms,
            to_queue,
            to_agent: None,
            to_external,
        });
        memory.drop_call(call);
        memory.settle(agent, &mut out);
        Ok((out, Some((agent.to_string(), memory))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_across_readers() {
        let line = "1700000000|1.1|q|NONE|ENTERQUEUE||1381234|1";
        let a = QueueLogReader::new("a").read_line(1, line).unwrap();
        let b = QueueLogReader::new("b").read_line(9, line).unwrap();
        assert_eq!(a[0].id, b[0].id);
        assert!(a[0].id.starts_with("ql-1700000000000-"), "{}", a[0].id);
    }
}
