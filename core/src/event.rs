//! The canonical event: what every source (simulator, Asterisk AMI, queue_log) is turned into
//! before it reaches the engine. One JSON object per line on the wire (NDJSON), versioned by `v`.
//!
//! Every kind is documented with an example in `docs/EVENTS.md`; that file and this one change
//! together.

use crate::caller::CallerNumber;
use serde::{Deserialize, Serialize};

/// The only version of the event format this build reads and writes.
pub const EVENT_VERSION: u8 = 1;

/// Event time: UTC milliseconds since the Unix epoch. Event time, never the wall clock, drives
/// every figure (docs/METRICS.md, "Time").
pub type Millis = i64;

/// One thing that happened on the floor, as reported by one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Format version; always [`EVENT_VERSION`].
    pub v: u8,
    /// Unique id across all sources; an id seen twice is applied once.
    pub id: String,
    /// Which feed reported it (e.g. `sim`, `ami:pbx1`, `queue-log:/var/log/asterisk/queue_log`).
    pub source: String,
    /// The source's own sequence number, increasing per source.
    pub seq: u64,
    /// When it happened, UTC milliseconds.
    pub ts: Millis,
    /// A trainee's test call (测呼) or test agent: journaled, never counted in figures.
    #[serde(default, skip_serializing_if = "is_false")]
    pub test: bool,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// What happened. Serialised as the `type` field of the event, in snake case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum EventKind {
    /// An agent signed in; they are `available` from now on unless a state change follows.
    AgentLogin {
        /// The agent's id (the switch's member name or interface).
        agent: String,
        /// The team the agent signs in to, when the source knows it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        team: Option<String>,
    },
    /// An agent signed out; their state time stops counting.
    AgentLogout {
        /// The agent who signed out.
        agent: String,
    },
    /// An agent's state changed. `reason` is given for `not_ready` only.
    AgentState {
        /// The agent whose state changed.
        agent: String,
        /// The new state.
        state: AgentState,
        /// Why the agent is not ready (with `not_ready` only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<NotReadyReason>,
    },
    /// An agent moved to another team (team membership).
    AgentTeam {
        /// The agent who moved.
        agent: String,
        /// The team they belong to from now on.
        team: String,
    },
    /// A call entered a queue and now waits for an agent.
    CallEnteredQueue {
        /// The call's id, the same across all its events.
        call: String,
        /// The queue it entered.
        queue: String,
        /// The queue's priority for this call (higher is served first), as the switch reports it.
        #[serde(default)]
        priority: u8,
        /// The caller's number, unmasked as the switch sent it; masked before display (and in
        /// `Debug`, [`CallerNumber`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caller: Option<CallerNumber>,
        /// Inbound (a customer calling) or outbound (a dialled call queued to an agent).
        #[serde(default)]
        direction: Direction,
    },
    /// The call is ringing at an agent.
    CallOffered {
        /// The call ringing.
        call: String,
        /// The agent it rings at.
        agent: String,
    },
    /// The agent let it ring out; the call goes on waiting.
    CallRingNoAnswer {
        /// The call that rang out.
        call: String,
        /// The agent who did not answer.
        agent: String,
    },
    /// The agent answered: the queue wait ends, talk starts.
    CallAnswered {
        /// The call answered.
        call: String,
        /// The agent who answered it.
        agent: String,
        /// Context for sources that report each line on its own (queue_log): lets the engine
        /// count the call even when its earlier events fell before the replayed file began.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        queue: Option<String>,
        /// The switch's own measure of the queue wait (queue_log `holdtime` / `waittime`),
        /// preferred over `ts` minus the entry time.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wait_ms: Option<Millis>,
    },
    /// The agent put the caller on hold.
    CallHoldStarted {
        /// The call put on hold.
        call: String,
    },
    /// The caller is back from hold.
    CallHoldEnded {
        /// The call back from hold.
        call: String,
    },
    /// The agent handed the call on. The agent's talk ends here (their after-call work may
    /// follow); a transfer to a queue is followed by a new `call_entered_queue` of the same call.
    CallTransferred {
        /// The call handed on.
        call: String,
        /// Context for sources that report each line on its own (queue_log): lets the engine
        /// count the call even when its earlier events fell before the replayed file began.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        queue: Option<String>,
        /// The agent who transferred it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
        /// The switch's own measure of talk time (queue_log `calltime`), preferred over `ts`
        /// minus the answer time.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        talk_ms: Option<Millis>,
        /// The queue it was transferred to, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_queue: Option<String>,
        /// The agent it was transferred to, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_agent: Option<String>,
        /// The outside number it was transferred to, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_external: Option<String>,
    },
    /// The conversation ended (either side hung up); after-call work may follow.
    CallEnded {
        /// The call that ended.
        call: String,
        /// Context for sources that report each line on its own (queue_log): lets the engine
        /// count the call even when its earlier events fell before the replayed file began.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        queue: Option<String>,
        /// The agent who talked.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
        /// The switch's own measure of talk time (queue_log `calltime`), preferred over `ts`
        /// minus the answer time.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        talk_ms: Option<Millis>,
    },
    /// The agent finished the call's after-call work (话后整理).
    CallAfterCallWorkEnded {
        /// The call whose after-call work ended.
        call: String,
    },
    /// The caller hung up while waiting in the queue.
    CallAbandoned {
        /// The call abandoned.
        call: String,
        /// Context for sources that report each line on its own (queue_log): lets the engine
        /// count the call even when its earlier events fell before the replayed file began.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        queue: Option<String>,
        /// The switch's own measure of the queue wait (queue_log `holdtime` / `waittime`),
        /// preferred over `ts` minus the entry time.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wait_ms: Option<Millis>,
    },
    /// The call left the queue unanswered by the switch's rule (time-out, overflow, exit key,
    /// empty queue).
    CallTimedOut {
        /// The call that left its queue.
        call: String,
        /// Context for sources that report each line on its own (queue_log): lets the engine
        /// count the call even when its earlier events fell before the replayed file began.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        queue: Option<String>,
        /// The switch's own measure of the queue wait (queue_log `holdtime` / `waittime`),
        /// preferred over `ts` minus the entry time.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wait_ms: Option<Millis>,
        /// The queue the switch moved it to (overflow), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        overflow_to: Option<String>,
    },
    /// The caller finished in IVR self-service without queueing; counts for the answer rate.
    CallIvrCompleted {
        /// The call that finished in IVR.
        call: String,
        /// The queue the IVR belongs to, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        queue: Option<String>,
    },
}

/// The states an agent can be in while logged in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    /// 示闲: ready for the next call.
    Available,
    /// Ringing at the agent's phone.
    Ringing,
    /// Talking to a caller.
    OnCall,
    /// On a call with the caller on hold.
    Hold,
    /// 话后整理.
    AfterCallWork,
    /// 示忙, with a [`NotReadyReason`].
    NotReady,
}

impl AgentState {
    /// Every state, in [`AgentState::index`] order.
    pub const ALL: [AgentState; 6] = [
        AgentState::Available,
        AgentState::Ringing,
        AgentState::OnCall,
        AgentState::Hold,
        AgentState::AfterCallWork,
        AgentState::NotReady,
    ];

    /// Position in [`AgentState::ALL`], for per-state arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The state's name on the wire (`on_call`), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentState::Available => "available",
            AgentState::Ringing => "ringing",
            AgentState::OnCall => "on_call",
            AgentState::Hold => "hold",
            AgentState::AfterCallWork => "after_call_work",
            AgentState::NotReady => "not_ready",
        }
    }
}

/// Why an agent is not ready (示忙).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotReadyReason {
    /// 小休.
    Break,
    /// Meal break.
    Meal,
    /// In a meeting.
    Meeting,
    /// In training.
    Training,
    /// Being coached.
    Coaching,
    /// Making outbound calls.
    Outbound,
    /// Any other reason, or none given.
    Other,
}

impl NotReadyReason {
    /// Every reason, in [`NotReadyReason::index`] order.
    pub const ALL: [NotReadyReason; 7] = [
        NotReadyReason::Break,
        NotReadyReason::Meal,
        NotReadyReason::Meeting,
        NotReadyReason::Training,
        NotReadyReason::Coaching,
        NotReadyReason::Outbound,
        NotReadyReason::Other,
    ];

    /// Position in [`NotReadyReason::ALL`], for per-reason arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The reason's name on the wire (`meal`), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            NotReadyReason::Break => "break",
            NotReadyReason::Meal => "meal",
            NotReadyReason::Meeting => "meeting",
            NotReadyReason::Training => "training",
            NotReadyReason::Coaching => "coaching",
            NotReadyReason::Outbound => "outbound",
            NotReadyReason::Other => "other",
        }
    }
}

/// Who started a call: counted apart, so outbound work does not inflate the inbound figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// A customer called in.
    #[default]
    Inbound,
    /// An agent's call out, queued like an inbound one.
    Outbound,
}

/// Why an event was refused. Each names the field at fault, so a rejected line in an ingest
/// reply tells the sender what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Not JSON, or not the shape of an event.
    #[error("not valid JSON for an event: {0}")]
    Json(String),
    /// A version this build does not read.
    #[error("unsupported version v={0}; this server reads v=1")]
    Version(u8),
    /// A required field was empty.
    #[error("field `{0}` must not be empty")]
    Empty(&'static str),
    /// A field longer than its limit.
    #[error("field `{field}` is longer than {max} bytes")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its limit, bytes.
        max: usize,
    },
    /// An event time outside the plausible range.
    #[error("field `ts` = {0} is outside the years 2000..2100 (expected UTC milliseconds)")]
    Time(Millis),
    /// A duration field that is negative.
    #[error("field `{0}` must be a duration in milliseconds >= 0")]
    Duration(&'static str),
    /// A `reason` on a state other than `not_ready`.
    #[error("field `reason` is only allowed with state `not_ready`")]
    ReasonWithoutNotReady,
    /// A control character (a newline could forge a log line) or a text-direction override
    /// (which reorders what a team lead reads); `at` counts characters from 0.
    #[error("field `{field}` has a control or text-direction character at character {at}")]
    ControlCharacter {
        /// The field.
        field: &'static str,
        /// Where, in characters from 0.
        at: usize,
    },
}

/// Longest id, source, queue, agent or caller string accepted; keeps one hostile line from
/// costing megabytes of memory.
pub const MAX_FIELD_LEN: usize = 256;
/// The event times accepted: 2000-01-01T00:00:00Z up to (not including) 2100-01-01.
pub const PLAUSIBLE_TS: std::ops::Range<Millis> = 946_684_800_000..4_102_444_800_000;

impl Event {
    /// The event as one NDJSON line, without the trailing newline.
    pub fn to_json(&self) -> String {
        // Serialising a struct of strings and numbers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Checks what serde cannot: version, non-empty ids, lengths and a plausible time.
    pub fn validate(&self) -> Result<(), EventError> {
        if self.v != EVENT_VERSION {
            return Err(EventError::Version(self.v));
        }
        check_field("id", &self.id)?;
        check_field("source", &self.source)?;
        if !PLAUSIBLE_TS.contains(&self.ts) {
            return Err(EventError::Time(self.ts));
        }
        for (field, value) in self.kind.fields() {
            if let Some(value) = value {
                check_field(field, value)?;
            }
        }
        self.check_durations_and_reason()
    }

    /// [`Event::validate`] but for its string fields, which the canonical reader checked as it
    /// read them (`event_canonical::valid_time`).
    pub(crate) fn validate_except_strings(&self) -> Result<(), EventError> {
        if self.v != EVENT_VERSION {
            return Err(EventError::Version(self.v));
        }
        if !PLAUSIBLE_TS.contains(&self.ts) {
            return Err(EventError::Time(self.ts));
        }
        self.check_durations_and_reason()
    }

    /// The last checks of [`Event::validate`]: no negative duration, a reason only when not
    /// ready.
    fn check_durations_and_reason(&self) -> Result<(), EventError> {
        for (field, value) in self.kind.durations() {
            if value.is_some_and(|ms| ms < 0) {
                return Err(EventError::Duration(field));
            }
        }
        if let EventKind::AgentState {
            state,
            reason: Some(_),
            ..
        } = &self.kind
            && *state != AgentState::NotReady
        {
            return Err(EventError::ReasonWithoutNotReady);
        }
        Ok(())
    }
}

pub(crate) fn check_field(field: &'static str, value: &str) -> Result<(), EventError> {
    if value.is_empty() {
        return Err(EventError::Empty(field));
    }
    if value.len() > MAX_FIELD_LEN {
        return Err(EventError::TooLong {
            field,
            max: MAX_FIELD_LEN,
        });
    }
    if let Some(at) = control_character(value) {
        return Err(EventError::ControlCharacter { field, at });
    }
    Ok(())
}

/// The position (in characters) of the first character no id or name may hold: a control
/// character (C0, DEL, C1: a newline forges a log line, NUL truncates in C libraries) or an
/// invisible text-direction mark or override (U+061C, U+200E/F, U+202A-E, U+2066-9: "Trojan
/// source" reordering of what a person reads).
pub fn control_character(value: &str) -> Option<usize> {
    // Nearly every id and name is ASCII: one byte a character, and its only such characters
    // are C0 and DEL (the C1 controls and the marks are not ASCII). Checked for every event
    // received (issue 15, item 4).
    if value.is_ascii() {
        return value.bytes().position(|b| b < 0x20 || b == 0x7f);
    }
    value.chars().position(forbidden)
}

/// A control character or a text-direction mark or override ([`control_character`]).
fn forbidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

impl EventKind {
    /// The `type` tag as it appears on the wire.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::AgentLogin { .. } => "agent_login",
            EventKind::AgentLogout { .. } => "agent_logout",
            EventKind::AgentState { .. } => "agent_state",
            EventKind::AgentTeam { .. } => "agent_team",
            EventKind::CallEnteredQueue { .. } => "call_entered_queue",
            EventKind::CallOffered { .. } => "call_offered",
            EventKind::CallRingNoAnswer { .. } => "call_ring_no_answer",
            EventKind::CallAnswered { .. } => "call_answered",
            EventKind::CallHoldStarted { .. } => "call_hold_started",
            EventKind::CallHoldEnded { .. } => "call_hold_ended",
            EventKind::CallTransferred { .. } => "call_transferred",
            EventKind::CallEnded { .. } => "call_ended",
            EventKind::CallAfterCallWorkEnded { .. } => "call_after_call_work_ended",
            EventKind::CallAbandoned { .. } => "call_abandoned",
            EventKind::CallTimedOut { .. } => "call_timed_out",
            EventKind::CallIvrCompleted { .. } => "call_ivr_completed",
        }
    }

    /// The call this event is about, if it is a call event.
    pub fn call(&self) -> Option<&str> {
        match self {
            EventKind::CallEnteredQueue { call, .. }
            | EventKind::CallOffered { call, .. }
            | EventKind::CallRingNoAnswer { call, .. }
            | EventKind::CallAnswered { call, .. }
            | EventKind::CallHoldStarted { call }
            | EventKind::CallHoldEnded { call }
            | EventKind::CallTransferred { call, .. }
            | EventKind::CallEnded { call, .. }
            | EventKind::CallAfterCallWorkEnded { call }
            | EventKind::CallAbandoned { call, .. }
            | EventKind::CallTimedOut { call, .. }
            | EventKind::CallIvrCompleted { call, .. } => Some(call),
            _ => None,
        }
    }

    /// The agent this event names, if any.
    pub fn agent(&self) -> Option<&str> {
        match self {
            EventKind::AgentLogin { agent, .. }
            | EventKind::AgentLogout { agent }
            | EventKind::AgentState { agent, .. }
            | EventKind::AgentTeam { agent, .. }
            | EventKind::CallOffered { agent, .. }
            | EventKind::CallRingNoAnswer { agent, .. }
            | EventKind::CallAnswered { agent, .. } => Some(agent),
            EventKind::CallEnded { agent, .. } | EventKind::CallTransferred { agent, .. } => {
                agent.as_deref()
            }
            _ => None,
        }
    }

    /// The switch-reported durations, named, for validation.
    fn durations(&self) -> [(&'static str, Option<Millis>); 2] {
        match self {
            EventKind::CallAnswered { wait_ms, .. }
            | EventKind::CallAbandoned { wait_ms, .. }
            | EventKind::CallTimedOut { wait_ms, .. } => [("wait_ms", *wait_ms), ("talk_ms", None)],
            EventKind::CallEnded { talk_ms, .. } | EventKind::CallTransferred { talk_ms, .. } => {
                [("wait_ms", None), ("talk_ms", *talk_ms)]
            }
            _ => [("wait_ms", None), ("talk_ms", None)],
        }
    }

    /// Every string field, named, for validation.
    fn fields(&self) -> impl Iterator<Item = (&'static str, Option<&str>)> {
        // A fixed array, not a `Vec`: this runs for every event received (issue 15, item 4).
        // Unused places are `None`, which validation skips.
        const NONE: (&str, Option<&str>) = ("", None);
        let kind: [(&'static str, Option<&str>); 4] = match self {
            EventKind::AgentLogin { team, .. } => [("team", team.as_deref()), NONE, NONE, NONE],
            EventKind::AgentTeam { team, .. } => [("team", Some(team)), NONE, NONE, NONE],
            EventKind::CallEnteredQueue { queue, caller, .. } => [
                ("queue", Some(queue)),
                ("caller", caller.as_ref().map(CallerNumber::as_str)),
                NONE,
                NONE,
            ],
            EventKind::CallTransferred {
                queue,
                to_queue,
                to_agent,
                to_external,
                ..
            } => [
                ("queue", queue.as_deref()),
                ("to_queue", to_queue.as_deref()),
                ("to_agent", to_agent.as_deref()),
                ("to_external", to_external.as_deref()),
            ],
            EventKind::CallTimedOut {
                queue, overflow_to, ..
            } => [
                ("queue", queue.as_deref()),
                ("overflow_to", overflow_to.as_deref()),
                NONE,
                NONE,
            ],
            EventKind::CallAnswered { queue, .. }
            | EventKind::CallEnded { queue, .. }
            | EventKind::CallAbandoned { queue, .. }
            | EventKind::CallIvrCompleted { queue, .. } => {
                [("queue", queue.as_deref()), NONE, NONE, NONE]
            }
            _ => [NONE; 4],
        };
        [("call", self.call()), ("agent", self.agent())]
            .into_iter()
            .chain(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ascii_path_of_control_character_finds_what_the_character_path_finds() {
        for b in 0u8..0x80 {
            let value = format!("ab{}c", b as char);
            assert_eq!(
                control_character(&value),
                value.chars().position(forbidden),
                "byte {b:#x}"
            );
        }
        assert_eq!(control_character("é\u{0085}"), Some(1));
        assert_eq!(control_character("a\u{202E}b"), Some(1));
        assert_eq!(control_character("plain-id_7"), None);
    }

    fn event(kind: EventKind) -> Event {
        Event {
            v: 1,
            id: "e1".into(),
            source: "sim".into(),
            seq: 1,
            ts: 1_700_000_000_000,
            test: false,
            kind,
        }
    }

    #[test]
    fn round_trips_as_one_flat_json_line() {
        let e = event(EventKind::CallEnteredQueue {
            call: "c1".into(),
            queue: "billing".into(),
            priority: 2,
            caller: Some("13812341234".into()),
            direction: Direction::Inbound,
        });
        let line = e.to_json();
        assert!(!line.contains('\n'));
        assert!(line.contains(r#""type":"call_entered_queue""#), "{line}");
        assert_eq!(Event::from_json(&line).unwrap(), e);
    }

    #[test]
    fn rejections_name_the_field_at_fault() {
        let mut e = event(EventKind::AgentLogout { agent: "".into() });
        assert_eq!(e.validate(), Err(EventError::Empty("agent")));
        e.kind = EventKind::AgentLogout { agent: "a1".into() };
        e.v = 2;
        assert_eq!(e.validate(), Err(EventError::Version(2)));
        e.v = 1;
        e.ts = 1_700_000_000; // seconds, not milliseconds
        assert_eq!(e.validate(), Err(EventError::Time(1_700_000_000)));
        e.ts = 1_700_000_000_000;
        e.kind = EventKind::AgentState {
            agent: "a1".into(),
            state: AgentState::Available,
            reason: Some(NotReadyReason::Break),
        };
        assert_eq!(e.validate(), Err(EventError::ReasonWithoutNotReady));
        for bad in [
            "a1\nsigned in user=admin",
            "a\u{0}1",
            "a\u{202E}1",
            "\u{85}",
        ] {
            let mut e = event(EventKind::AgentLogout { agent: "a1".into() });
            e.id = bad.into();
            assert!(
                matches!(
                    e.validate(),
                    Err(EventError::ControlCharacter { field: "id", .. })
                ),
                "{bad:?}"
            );
        }
        let long = "x".repeat(MAX_FIELD_LEN + 1);
        e.kind = EventKind::CallEnded {
            call: long,
            queue: None,
            agent: None,
            talk_ms: None,
        };
        assert!(matches!(
            e.validate(),
            Err(EventError::TooLong { field: "call", .. })
        ));
    }

    #[test]
    fn unknown_type_and_unknown_fields_are_errors() {
        let bad = r#"{"v":1,"id":"e","source":"s","seq":1,"ts":1700000000000,"type":"call_exploded","call":"c"}"#;
        assert!(matches!(Event::from_json(bad), Err(EventError::Json(_))));
        let extra = r#"{"v":1,"id":"e","source":"s","seq":1,"ts":1700000000000,"type":"call_ended","call":"c","colour":"red"}"#;
        assert!(matches!(Event::from_json(extra), Err(EventError::Json(_))));
    }
}
