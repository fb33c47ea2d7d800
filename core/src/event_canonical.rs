//! The canonical reader: an event line taken only when it is exactly what [`Event::to_json`]
//! writes (issue 15, item 4).
//!
//! Nearly every line a server receives was written by `to_json` (the simulator, the AMI and
//! queue_log bridges, a replayed file or journal), and the journal keeps that very line. Read in
//! the one order serde writes the fields, with no whitespace, no escapes, no nulls and integers
//! as `itoa` writes them, such a line is parsed and known to be canonical in one pass, with no
//! field-name lookup and no second serialisation to compare against. Anything else (another
//! field order, a space, an escape, a null, a field that is not there) is `None` here and goes
//! to [`super::event_parse`]'s paths, which decide and word the error exactly as before. So
//! this reader can only agree with them: the tests in `event_parse` check that whatever it
//! takes, the derived `Deserialize` takes the same way and `to_json` writes back byte for byte.

use crate::caller::CallerNumber;
use crate::event::{AgentState, Direction, Event, EventKind, Millis, NotReadyReason, check_field};

/// The event `line` holds if it is exactly `to_json` of it; `None` otherwise (not an error:
/// the line may still be a valid event in another form).
pub(crate) fn canonical(line: &str) -> Option<Event> {
    read(line, false)
}

/// The time of the event `line` holds if it is exactly `to_json` of it and the event is
/// valid ([`Event::validate`]); `None` otherwise (the line may still be valid in another
/// form, or invalid: [`Event::time_of_json`] asks [`Event::from_json`] then).
///
/// The same reader as [`canonical`], but each string is checked where it lies in the line and
/// never copied: what a replay's client reads a line for is its time and whether it is an
/// event at all, and copying every id and name into an `Event` only to drop it was a fifth
/// of the client's CPU (issue 15, item 1; BENCHMARKS.md, "Ninth pass: ingest and the replay
/// client").
pub(crate) fn valid_time(line: &str) -> Option<Millis> {
    let event = read(line, true)?;
    event.validate_except_strings().ok()?;
    Some(event.ts)
}

/// [`canonical`], or with `checked` [`valid_time`]'s reading: every string field checked as
/// [`Event::validate`] checks it and left empty in the event.
fn read(line: &str, checked: bool) -> Option<Event> {
    let mut r = Reader {
        line,
        at: 0,
        checked,
    };
    r.lit(b"{\"v\":")?;
    let v = u8::try_from(r.unsigned()?).ok()?;
    r.lit(b",\"id\":")?;
    let id = r.string()?;
    let id = r.own("id", id)?;
    r.lit(b",\"source\":")?;
    let source = r.string()?;
    let source = r.own("source", source)?;
    r.lit(b",\"seq\":")?;
    let seq = r.unsigned()?;
    r.lit(b",\"ts\":")?;
    let ts = r.signed()?;
    // `test` is written only when true (`skip_serializing_if = "is_false"`).
    let test = r.lit(b",\"test\":true").is_some();
    r.lit(b",\"type\":")?;
    let kind = r.kind()?;
    r.lit(b"}")?;
    (r.at == line.len()).then_some(Event {
        v,
        id,
        source,
        seq,
        ts,
        test,
        kind,
    })
}

struct Reader<'a> {
    line: &'a str,
    at: usize,
    /// [`valid_time`]'s reading: strings checked, not copied.
    checked: bool,
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a [u8] {
        self.line.as_bytes().get(self.at..).unwrap_or_default()
    }

    /// Takes `lit` if the line goes on with it.
    fn lit(&mut self, lit: &[u8]) -> Option<()> {
        self.rest().starts_with(lit).then(|| self.at += lit.len())
    }

    /// A string as serde_json writes one that needs no escape: quotes around bytes that are
    /// none of `"`, `\` and the control characters below U+0020 (the bytes it escapes).
    fn string(&mut self) -> Option<&'a str> {
        let rest = self.rest();
        if rest.first() != Some(&b'"') {
            return None;
        }
        let len = rest[1..]
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest[1 + len] != b'"' {
            return None;
        }
        // Both ends are ASCII quotes, so the slice is on character boundaries.
        let text = self.line.get(self.at + 1..self.at + 1 + len)?;
        self.at += len + 2;
        Some(text)
    }

    /// A non-negative integer as `itoa` writes it: digits, no leading zero, no sign.
    fn unsigned(&mut self) -> Option<u64> {
        let rest = self.rest();
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || (digits > 1 && rest[0] == b'0') {
            return None;
        }
        let mut n: u64 = 0;
        for &b in &rest[..digits] {
            n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        }
        self.at += digits;
        Some(n)
    }

    /// An integer as `itoa` writes it: an optional `-` (never on zero), then [`Self::unsigned`].
    fn signed(&mut self) -> Option<Millis> {
        if self.lit(b"-").is_some() {
            let magnitude = self.unsigned()?;
            if magnitude == 0 {
                return None;
            }
            // i64::MIN's magnitude is one more than i64::MAX.
            return 0i64.checked_sub_unsigned(magnitude);
        }
        Millis::try_from(self.unsigned()?).ok()
    }

    /// The field `name`'s value `text` as the event holds it: a copy, or (checked reading)
    /// nothing once it passes [`Event::validate`]'s check of that field.
    fn own(&self, name: &'static str, text: &str) -> Option<String> {
        if self.checked {
            check_field(name, text).ok()?;
            return Some(String::new());
        }
        Some(text.to_string())
    }

    /// `,"name":` and a string.
    fn field(&mut self, name: &'static str) -> Option<String> {
        self.name(name.as_bytes())?;
        let text = self.string()?;
        self.own(name, text)
    }

    /// `,"name":` and a string if the line goes on with that field (an absent `Option`).
    fn optional(&mut self, name: &'static str) -> Option<Option<String>> {
        if self.name(name.as_bytes()).is_none() {
            return Some(None);
        }
        let text = self.string()?;
        self.own(name, text).map(Some)
    }

    /// `,"name":` and an integer if the line goes on with that field.
    fn optional_millis(&mut self, name: &[u8]) -> Option<Option<Millis>> {
        if self.name(name).is_none() {
            return Some(None);
        }
        self.signed().map(Some)
    }

    /// Takes `,"name":`.
    fn name(&mut self, name: &[u8]) -> Option<()> {
        let rest = self.rest();
        let n = name.len();
        let fits = rest.len() >= n + 4
            && rest[0] == b','
            && rest[1] == b'"'
            && &rest[2..2 + n] == name
            && rest[2 + n] == b'"'
            && rest[3 + n] == b':';
        fits.then(|| self.at += n + 4)
    }

    /// The `type` (its value: the name was read) and the fields of its kind, in the order of
    /// their declaration in [`EventKind`], which is the order serde writes them in.
    fn kind(&mut self) -> Option<EventKind> {
        let kind = match self.string()? {
            "agent_login" => EventKind::AgentLogin {
                agent: self.field("agent")?,
                team: self.optional("team")?,
            },
            "agent_logout" => EventKind::AgentLogout {
                agent: self.field("agent")?,
            },
            "agent_state" => EventKind::AgentState {
                agent: self.field("agent")?,
                state: {
                    self.name(b"state")?;
                    let name = self.string()?;
                    *AgentState::ALL.iter().find(|s| s.as_str() == name)?
                },
                reason: if self.name(b"reason").is_some() {
                    let name = self.string()?;
                    Some(*NotReadyReason::ALL.iter().find(|r| r.as_str() == name)?)
                } else {
                    None
                },
            },
            "agent_team" => EventKind::AgentTeam {
                agent: self.field("agent")?,
                team: self.field("team")?,
            },
            "call_entered_queue" => EventKind::CallEnteredQueue {
                call: self.field("call")?,
                queue: self.field("queue")?,
                // `priority` and `direction` are defaulted when read, always written.
                priority: {
                    self.name(b"priority")?;
                    u8::try_from(self.unsigned()?).ok()?
                },
                caller: self.optional("caller")?.map(CallerNumber::new),
                direction: {
                    self.name(b"direction")?;
                    match self.string()? {
                        "inbound" => Direction::Inbound,
                        "outbound" => Direction::Outbound,
                        _ => return None,
                    }
                },
            },
            "call_offered" => EventKind::CallOffered {
                call: self.field("call")?,
                agent: self.field("agent")?,
            },
            "call_ring_no_answer" => EventKind::CallRingNoAnswer {
                call: self.field("call")?,
                agent: self.field("agent")?,
            },
            "call_answered" => EventKind::CallAnswered {
                call: self.field("call")?,
                agent: self.field("agent")?,
                queue: self.optional("queue")?,
                wait_ms: self.optional_millis(b"wait_ms")?,
            },
            "call_hold_started" => EventKind::CallHoldStarted {
                call: self.field("call")?,
            },
            "call_hold_ended" => EventKind::CallHoldEnded {
                call: self.field("call")?,
            },
            "call_transferred" => EventKind::CallTransferred {
                call: self.field("call")?,
                queue: self.optional("queue")?,
                agent: self.optional("agent")?,
                talk_ms: self.optional_millis(b"talk_ms")?,
                to_queue: self.optional("to_queue")?,
                to_agent: self.optional("to_agent")?,
                to_external: self.optional("to_external")?,
            },
            "call_ended" => EventKind::CallEnded {
                call: self.field("call")?,
                queue: self.optional("queue")?,
                agent: self.optional("agent")?,
                talk_ms: self.optional_millis(b"talk_ms")?,
            },
            "call_after_call_work_ended" => EventKind::CallAfterCallWorkEnded {
                call: self.field("call")?,
            },
            "call_abandoned" => EventKind::CallAbandoned {
                call: self.field("call")?,
                queue: self.optional("queue")?,
                wait_ms: self.optional_millis(b"wait_ms")?,
            },
            "call_timed_out" => EventKind::CallTimedOut {
                call: self.field("call")?,
                queue: self.optional("queue")?,
                wait_ms: self.optional_millis(b"wait_ms")?,
                overflow_to: self.optional("overflow_to")?,
            },
            "call_ivr_completed" => EventKind::CallIvrCompleted {
                call: self.field("call")?,
                queue: self.optional("queue")?,
            },
            _ => return None,
        };
        Some(kind)
    }
}
