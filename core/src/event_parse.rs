//! The fast path of [`Event::from_json`] (issue 15, item 4): one pass over the line into a
//! flat struct whose strings borrow from it, then the event built from its fields.
//!
//! `Event`'s derived `Deserialize` (a flattened, internally tagged enum) first copies the whole
//! object into serde's buffer of owned keys and values, then reads the event from that: about
//! twice the work and an allocation per field. Here every field is read once and only the
//! event's own strings are allocated.
//!
//! Only acceptance takes this path: a line it does not take in full (an unknown field, a field
//! the event's type does not have, a missing one, a null where a value is required, anything
//! odd) goes to the derived `Deserialize`, which decides and words the error exactly as before.
//! So the fast path can only agree with the slow one; core/tests/event_parse.rs checks that it
//! does, for generated events and mangled lines.

use serde::{Deserialize, Deserializer};

use crate::caller::CallerNumber;
use crate::event::{AgentState, Direction, Event, EventError, EventKind, Millis, NotReadyReason};
use crate::event_canonical::canonical;

// Here rather than in `event.rs`, so that the fast path depends on the event model and not the
// other way round (`cargo xtask check-imports`).
impl Event {
    /// Parses one NDJSON line and validates it.
    pub fn from_json(line: &str) -> Result<Event, EventError> {
        Event::from_json_canonical(line).map(|(event, _)| event)
    }

    /// The time of the event `line` holds, or why it holds none: exactly
    /// `Event::from_json(line).map(|e| e.ts)`, without copying the line's strings into an
    /// event when the line is what [`Event::to_json`] writes (nearly every line of a recorded
    /// day). What a replay reads each line for before it sends the line as it is (issue 15,
    /// item 1: building and dropping the event was a fifth of the client's CPU).
    pub fn time_of_json(line: &str) -> Result<Millis, EventError> {
        match crate::event_canonical::valid_time(line) {
            Some(ts) => Ok(ts),
            None => Event::from_json(line).map(|event| event.ts),
        }
    }

    /// As [`Event::from_json`], and whether `line` is known to be exactly what
    /// [`Event::to_json`] writes of the event: then the line itself can be journaled without
    /// serialising the event again to compare (issue 15, item 4). `false` only means "not
    /// known": a canonical line with an escaped character in a string reads as `false`.
    pub fn from_json_canonical(line: &str) -> Result<(Event, bool), EventError> {
        // The canonical reader takes what `to_json` wrote, the fast path a well-formed line in
        // one pass; anything else is decided (and its error worded) by the derived
        // `Deserialize` (issue 15).
        let (event, canonical) = match canonical(line) {
            Some(event) => (event, true),
            None => match fast(line) {
                Some(event) => (event, false),
                None => (
                    serde_json::from_str(line).map_err(|e| EventError::Json(e.to_string()))?,
                    false,
                ),
            },
        };
        event.validate()?;
        Ok((event, canonical))
    }
}

/// Every field any event may have, borrowed from the line. A string with an escape cannot be
/// borrowed: it fails here and goes to the slow path (ids and names rarely have any).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "'de: 'a"))]
struct Wire<'a> {
    #[serde(default, deserialize_with = "given")]
    v: Given<u8>,
    #[serde(default, deserialize_with = "given")]
    id: Given<&'a str>,
    #[serde(default, deserialize_with = "given")]
    source: Given<&'a str>,
    #[serde(default, deserialize_with = "given")]
    seq: Given<u64>,
    #[serde(default, deserialize_with = "given")]
    ts: Given<Millis>,
    #[serde(default, deserialize_with = "given")]
    test: Given<bool>,
    #[serde(rename = "type", default, deserialize_with = "given")]
    kind: Given<&'a str>,
    #[serde(default, deserialize_with = "given")]
    agent: Given<&'a str>,
    #[serde(default, deserialize_with = "given")]
    call: Given<&'a str>,
    #[serde(default, deserialize_with = "given")]
    queue: Given<&'a str>,
    #[serde(default, deserialize_with = "given")]
    team: Given<&'a str>,
    #[serde(default, deserialize_with = "given")]
    state: Given<AgentState>,
    #[serde(default, deserialize_with = "given")]
    priority: Given<u8>,
    #[serde(default, deserialize_with = "given")]
    direction: Given<Direction>,
    #[serde(default, deserialize_with = "given")]
    reason: Given<NotReadyReason>,
    #[serde(default, deserialize_with = "given")]
    caller: Given<CallerNumber>,
    #[serde(default, deserialize_with = "given")]
    wait_ms: Given<Millis>,
    #[serde(default, deserialize_with = "given")]
    talk_ms: Given<Millis>,
    #[serde(default, deserialize_with = "given")]
    to_queue: Given<&'a str>,
    #[serde(default, deserialize_with = "given")]
    to_agent: Given<&'a str>,
    #[serde(default, deserialize_with = "given")]
    to_external: Given<&'a str>,
    #[serde(default, deserialize_with = "given")]
    overflow_to: Given<&'a str>,
}

/// A field as the line has it: absent (`None`), null (`Some(None)`) or a value.
type Given<T> = Option<Option<T>>;

/// Reads a field that is there, null or not (absent is `None` by `default`).
fn given<'de, D, T>(d: D) -> Result<Given<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A field every event of its type has: a value, not null, not absent.
fn required<T: Clone>(field: &Given<T>) -> Option<T> {
    field.clone().flatten()
}

/// A field its type may leave out: absent or null are none.
fn optional<T: Clone>(field: &Given<T>) -> Option<T> {
    field.clone().flatten()
}

/// A field its type defaults when absent, but which must not be null.
fn defaulted<T: Clone + Default>(field: &Given<T>) -> Option<T> {
    match field {
        None => Some(T::default()),
        Some(value) => value.clone(),
    }
}

/// The event `line` holds if the fast path takes it whole; `None` sends it to the slow path.
pub(crate) fn fast(line: &str) -> Option<Event> {
    let w: Wire<'_> = serde_json::from_str(line).ok()?;
    let kind = kind(&w)?;
    Some(Event {
        v: required(&w.v)?,
        id: required(&w.id)?.to_string(),
        source: required(&w.source)?.to_string(),
        seq: required(&w.seq)?,
        ts: required(&w.ts)?,
        test: defaulted(&w.test)?,
        kind,
    })
}

/// The kind-specific fields `w` carries (null or not), as a bit set in the order of
/// [`FIELDS`].
fn carried(w: &Wire<'_>) -> u32 {
    let bits = [
        w.agent.is_some(),
        w.call.is_some(),
        w.queue.is_some(),
        w.team.is_some(),
        w.state.is_some(),
        w.priority.is_some(),
        w.direction.is_some(),
        w.reason.is_some(),
        w.caller.is_some(),
        w.wait_ms.is_some(),
        w.talk_ms.is_some(),
        w.to_queue.is_some(),
        w.to_agent.is_some(),
        w.to_external.is_some(),
        w.overflow_to.is_some(),
    ];
    bits.iter()
        .enumerate()
        .fold(0, |acc, (i, &b)| acc | (u32::from(b) << i))
}

/// The kind-specific fields, in the order of the bits of [`given`].
const FIELDS: [&str; 15] = [
    "agent",
    "call",
    "queue",
    "team",
    "state",
    "priority",
    "direction",
    "reason",
    "caller",
    "wait_ms",
    "talk_ms",
    "to_queue",
    "to_agent",
    "to_external",
    "overflow_to",
];

/// The bits of `names` in [`FIELDS`].
fn allowed(names: &[&str]) -> u32 {
    FIELDS
        .iter()
        .enumerate()
        .filter(|(_, f)| names.contains(f))
        .fold(0, |acc, (i, _)| acc | (1 << i))
}

/// The event's kind, if every field the line carries belongs to its type (even as null: the
/// derived `Deserialize` refuses a field its type lacks whatever its value).
fn kind(w: &Wire<'_>) -> Option<EventKind> {
    let owned = |s: &Given<&str>| optional(s).map(str::to_string);
    let needed = |s: &Given<&str>| required(s).map(str::to_string);
    let fits = |names: &[&str]| carried(w) & !allowed(names) == 0;
    let kind = match required(&w.kind)? {
        "agent_login" if fits(&["agent", "team"]) => EventKind::AgentLogin {
            agent: needed(&w.agent)?,
            team: owned(&w.team),
        },
        "agent_logout" if fits(&["agent"]) => EventKind::AgentLogout {
            agent: needed(&w.agent)?,
        },
        "agent_state" if fits(&["agent", "state", "reason"]) => EventKind::AgentState {
            agent: needed(&w.agent)?,
            state: required(&w.state)?,
            reason: optional(&w.reason),
        },
        "agent_team" if fits(&["agent", "team"]) => EventKind::AgentTeam {
            agent: needed(&w.agent)?,
            team: needed(&w.team)?,
        },
        "call_entered_queue" if fits(&["call", "queue", "priority", "caller", "direction"]) => {
            EventKind::CallEnteredQueue {
                call: needed(&w.call)?,
                queue: needed(&w.queue)?,
                priority: defaulted(&w.priority)?,
                caller: optional(&w.caller),
                direction: defaulted(&w.direction)?,
            }
        }
        "call_offered" if fits(&["call", "agent"]) => EventKind::CallOffered {
            call: needed(&w.call)?,
            agent: needed(&w.agent)?,
        },
        "call_ring_no_answer" if fits(&["call", "agent"]) => EventKind::CallRingNoAnswer {
            call: needed(&w.call)?,
            agent: needed(&w.agent)?,
        },
        "call_answered" if fits(&["call", "agent", "queue", "wait_ms"]) => {
            EventKind::CallAnswered {
                call: needed(&w.call)?,
                agent: needed(&w.agent)?,
                queue: owned(&w.queue),
                wait_ms: optional(&w.wait_ms),
            }
        }
        "call_hold_started" if fits(&["call"]) => EventKind::CallHoldStarted {
            call: needed(&w.call)?,
        },
        "call_hold_ended" if fits(&["call"]) => EventKind::CallHoldEnded {
            call: needed(&w.call)?,
        },
        "call_transferred"
            if fits(&[
                "call",
                "queue",
                "agent",
                "talk_ms",
                "to_queue",
                "to_agent",
                "to_external",
            ]) =>
        {
            EventKind::CallTransferred {
                call: needed(&w.call)?,
                queue: owned(&w.queue),
                agent: owned(&w.agent),
                talk_ms: optional(&w.talk_ms),
                to_queue: owned(&w.to_queue),
                to_agent: owned(&w.to_agent),
                to_external: owned(&w.to_external),
            }
        }
        "call_ended" if fits(&["call", "queue", "agent", "talk_ms"]) => EventKind::CallEnded {
            call: needed(&w.call)?,
            queue: owned(&w.queue),
            agent: owned(&w.agent),
            talk_ms: optional(&w.talk_ms),
        },
        "call_after_call_work_ended" if fits(&["call"]) => EventKind::CallAfterCallWorkEnded {
            call: needed(&w.call)?,
        },
        "call_abandoned" if fits(&["call", "queue", "wait_ms"]) => EventKind::CallAbandoned {
            call: needed(&w.call)?,
            queue: owned(&w.queue),
            wait_ms: optional(&w.wait_ms),
        },
        "call_timed_out" if fits(&["call", "queue", "wait_ms", "overflow_to"]) => {
            EventKind::CallTimedOut {
                call: needed(&w.call)?,
                queue: owned(&w.queue),
                wait_ms: optional(&w.wait_ms),
                overflow_to: owned(&w.overflow_to),
            }
        }
        "call_ivr_completed" if fits(&["call", "queue"]) => EventKind::CallIvrCompleted {
            call: needed(&w.call)?,
            queue: owned(&w.queue),
        },
        _ => return None,
    };
    Some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The slow path alone: what `Event::from_json` decided before the fast path.
    fn slow(line: &str) -> Option<Event> {
        serde_json::from_str::<Event>(line).ok()
    }

    const TYPES: [&str; 18] = [
        "agent_login",
        "agent_logout",
        "agent_state",
        "agent_team",
        "call_entered_queue",
        "call_offered",
        "call_ring_no_answer",
        "call_answered",
        "call_hold_started",
        "call_hold_ended",
        "call_transferred",
        "call_ended",
        "call_after_call_work_ended",
        "call_abandoned",
        "call_timed_out",
        "call_ivr_completed",
        "AgentLogin",
        "bogus",
    ];

    /// A value a field may hold: right, wrong type, null, escaped, out of range.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("null".to_string()),
            Just("\"a1\"".to_string()),
            Just("\"q\\u0031\"".to_string()),
            Just("\"on_call\"".to_string()),
            Just("\"not_ready\"".to_string()),
            Just("\"break\"".to_string()),
            Just("\"outbound\"".to_string()),
            Just("\"13812341234\"".to_string()),
            Just("1".to_string()),
            Just("0".to_string()),
            Just("-5".to_string()),
            Just("300".to_string()),
            Just("1700000000000".to_string()),
            Just("1.5".to_string()),
            Just("true".to_string()),
            Just("[]".to_string()),
            Just("{}".to_string()),
        ]
    }

    /// Field names: every real one, a few twice, and one no event has.
    fn field() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            proptest::sample::select(FIELDS.to_vec()),
            proptest::sample::select(vec!["v", "id", "source", "seq", "ts", "test", "junk"]),
        ]
    }

    fn line() -> impl Strategy<Value = String> {
        (
            proptest::sample::select(TYPES.to_vec()),
            proptest::option::of(value()),
            proptest::collection::vec((field(), value()), 0..6),
            proptest::bool::weighted(0.8),
        )
            .prop_map(|(kind, test, fields, common)| {
                let mut parts = vec![format!("\"type\":\"{kind}\"")];
                if common {
                    parts.push(
                        r#""v":1,"id":"e1","source":"sim","seq":3,"ts":1700000000000"#.into(),
                    );
                }
                if let Some(t) = test {
                    parts.push(format!("\"test\":{t}"));
                }
                for (f, v) in fields {
                    parts.push(format!("\"{f}\":{v}"));
                }
                format!("{{{}}}", parts.join(","))
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// Whatever the fast path takes, the slow path takes the same way.
        #[test]
        fn the_fast_path_only_ever_agrees(line in line()) {
            if let Some(event) = fast(&line) {
                prop_assert_eq!(Some(event), slow(&line), "{}", line);
            }
            // And every event the slow path takes comes back through the fast path as written.
            if let Some(event) = slow(&line) {
                prop_assert_eq!(fast(&event.to_json()), Some(event));
            }
        }
    }

    /// A string field: plain, non-ASCII, and ones `to_json` must escape (a quote, a
    /// backslash, a control character) or need not (DEL, a slash).
    fn text() -> impl Strategy<Value = String> {
        proptest::sample::select(vec![
            "a1", "q-7", "é中", "x\"y", "b\\s", "t\u{7f}", "n\nl", "/s", "0",
        ])
        .prop_map(String::from)
    }

    fn opt_text() -> impl Strategy<Value = Option<String>> {
        proptest::option::of(text())
    }

    fn millis() -> impl Strategy<Value = Option<Millis>> {
        proptest::option::of(proptest::sample::select(vec![
            0,
            -1,
            7,
            10,
            i64::MIN,
            i64::MAX,
            1_700_000_000_000,
        ]))
    }

    /// Any event, of every kind, with every optional field there or not.
    fn event() -> impl Strategy<Value = Event> {
        use proptest::strategy::Union;
        let states = proptest::sample::select(AgentState::ALL.to_vec());
        let reasons = proptest::option::of(proptest::sample::select(NotReadyReason::ALL.to_vec()));
        let kind = Union::new([
            (text(), opt_text())
                .prop_map(|(agent, team)| EventKind::AgentLogin { agent, team })
                .boxed(),
            text()
                .prop_map(|agent| EventKind::AgentLogout { agent })
                .boxed(),
            (text(), states, reasons)
                .prop_map(|(agent, state, reason)| EventKind::AgentState {
                    agent,
                    state,
                    reason,
                })
                .boxed(),
            (text(), text())
                .prop_map(|(agent, team)| EventKind::AgentTeam { agent, team })
                .boxed(),
            (text(), text(), any::<u8>(), opt_text(), any::<bool>())
                .prop_map(
                    |(call, queue, priority, caller, out)| EventKind::CallEnteredQueue {
                        call,
                        queue,
                        priority,
                        caller: caller.map(CallerNumber::new),
                        direction: if out {
                            Direction::Outbound
                        } else {
                            Direction::Inbound
                        },
                    },
                )
                .boxed(),
            (text(), text())
                .prop_map(|(call, agent)| EventKind::CallOffered { call, agent })
                .boxed(),
            (text(), text())
                .prop_map(|(call, agent)| EventKind::CallRingNoAnswer { call, agent })
                .boxed(),
            (text(), text(), opt_text(), millis())
                .prop_map(|(call, agent, queue, wait_ms)| EventKind::CallAnswered {
                    call,
                    agent,
                    queue,
                    wait_ms,
                })
                .boxed(),
            text()
                .prop_map(|call| EventKind::CallHoldStarted { call })
                .boxed(),
            text()
                .prop_map(|call| EventKind::CallHoldEnded { call })
                .boxed(),
            (
                text(),
                opt_text(),
                opt_text(),
                millis(),
                opt_text(),
                opt_text(),
                opt_text(),
            )
                .prop_map(
                    |(call, queue, agent, talk_ms, to_queue, to_agent, to_external)| {
                        EventKind::CallTransferred {
                            call,
                            queue,
                            agent,
                            talk_ms,
                            to_queue,
                            to_agent,
                            to_external,
                        }
                    },
                )
                .boxed(),
            (text(), opt_text(), opt_text(), millis())
                .prop_map(|(call, queue, agent, talk_ms)| EventKind::CallEnded {
                    call,
                    queue,
                    agent,
                    talk_ms,
                })
                .boxed(),
            text()
                .prop_map(|call| EventKind::CallAfterCallWorkEnded { call })
                .boxed(),
            (text(), opt_text(), millis())
                .prop_map(|(call, queue, wait_ms)| EventKind::CallAbandoned {
                    call,
                    queue,
                    wait_ms,
                })
                .boxed(),
            (text(), opt_text(), millis(), opt_text())
                .prop_map(
                    |(call, queue, wait_ms, overflow_to)| EventKind::CallTimedOut {
                        call,
                        queue,
                        wait_ms,
                        overflow_to,
                    },
                )
                .boxed(),
            (text(), opt_text())
                .prop_map(|(call, queue)| EventKind::CallIvrCompleted { call, queue })
                .boxed(),
        ]);
        (
            any::<u8>(),
            text(),
            text(),
            any::<u64>(),
            millis(),
            any::<bool>(),
            kind,
        )
            .prop_map(|(v, id, source, seq, ts, test, kind)| Event {
                v,
                id,
                source,
                seq,
                ts: ts.unwrap_or(1_700_000_000_000),
                test,
                kind,
            })
    }

    /// `line` with one change: a character removed, replaced or put in, from those that
    /// matter to JSON (a space, a sign, a digit, a quote, a backslash, a comma, a brace, `n`).
    fn mutated(line: &str, at: usize, op: u8, with: char) -> String {
        let chars: Vec<char> = line.chars().collect();
        let at = at % (chars.len() + 1);
        let mut out: Vec<char> = chars.clone();
        match op % 3 {
            0 if at < chars.len() => {
                out.remove(at);
            }
            1 if at < chars.len() => out[at] = with,
            _ => out.insert(at, with),
        }
        out.into_iter().collect()
    }

    /// What the canonical reader takes must be what the slow path takes, and written back by
    /// `to_json` byte for byte.
    fn canonical_agrees(line: &str) -> Result<(), TestCaseError> {
        if let Some(event) = canonical(line) {
            prop_assert_eq!(Some(event.clone()), slow(line), "{}", line);
            prop_assert_eq!(event.to_json(), line);
        }
        if let Ok((event, true)) = Event::from_json_canonical(line) {
            prop_assert_eq!(event.to_json(), line);
        }
        // The replay's reading: the time `from_json` reads or its very error, and the
        // checked reader takes only what `from_json` takes, at the same time.
        let read = Event::from_json(line);
        prop_assert_eq!(
            Event::time_of_json(line),
            read.clone().map(|event| event.ts),
            "{}",
            line
        );
        if let Some(ts) = crate::event_canonical::valid_time(line) {
            prop_assert_eq!(read.map(|event| event.ts).ok(), Some(ts), "{}", line);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// Every event `to_json` writes without an escape is read back by the canonical
        /// reader; one with an escape goes to the other paths (and still reads back).
        #[test]
        fn the_canonical_reader_takes_what_to_json_writes(event in event()) {
            let line = event.to_json();
            if line.contains('\\') {
                prop_assert_eq!(canonical(&line), None);
            } else {
                prop_assert_eq!(canonical(&line), Some(event.clone()), "{}", line);
                // A valid event's line is read for its time without the fallback.
                prop_assert_eq!(
                    crate::event_canonical::valid_time(&line),
                    event.validate().is_ok().then_some(event.ts),
                    "{}",
                    line
                );
            }
            prop_assert_eq!(slow(&line), Some(event));
            canonical_agrees(&line)?;
        }

        /// One character changed anywhere in a canonical line: whatever the canonical reader
        /// still takes, the slow path takes the same way and it is the line `to_json` writes.
        #[test]
        fn the_canonical_reader_never_takes_what_the_slow_path_reads_otherwise(
            event in event(),
            at in any::<usize>(),
            op in any::<u8>(),
            with in proptest::sample::select(vec![' ', '-', '0', '1', '9', '"', '\\', ',', '}', 'n', 'e', '.']),
        ) {
            canonical_agrees(&mutated(&event.to_json(), at, op, with))?;
        }

        /// The field order, spacing and nulls of hand-written lines.
        #[test]
        fn the_canonical_reader_agrees_on_any_line(line in line()) {
            canonical_agrees(&line)?;
        }
    }

    #[test]
    fn canonical_reader_edges() {
        let base = r#"{"v":1,"id":"e1","source":"sim","seq":1,"ts":1700000000000,"type":"call_answered","call":"c1","agent":"a1","wait_ms":5}"#;
        let event = canonical(base).expect("canonical");
        assert_eq!(Some(event.clone()), slow(base));
        assert_eq!(event.to_json(), base);
        // Taken by the other paths, not by this one: a leading zero, `-0`, a space, a null,
        // `"test":false`, a trailing newline, another field order, an escape.
        for line in [
            base.replace("\"seq\":1", "\"seq\":01"),
            base.replace(":5}", ":-0}"),
            base.replace(",\"call\"", ", \"call\""),
            base.replace(",\"wait_ms\":5", ",\"queue\":null,\"wait_ms\":5"),
            base.replace(",\"type\"", ",\"test\":false,\"type\""),
            format!("{base}\n"),
            base.replace(
                "\"call\":\"c1\",\"agent\":\"a1\"",
                "\"agent\":\"a1\",\"call\":\"c1\"",
            ),
            base.replace("\"c1\"", "\"c\\u0031\""),
        ] {
            assert_eq!(canonical(&line), None, "{line}");
            assert_eq!(
                Event::from_json_canonical(&line).map(|(_, c)| c).ok(),
                slow(&line).map(|_| false)
            );
        }
        // Out of range: refused here, and by serde too.
        for line in [
            base.replace("\"v\":1", "\"v\":256"),
            base.replace(":5}", ":-9223372036854775809}"),
            base.replace("\"seq\":1", "\"seq\":18446744073709551616"),
        ] {
            assert_eq!(canonical(&line), None, "{line}");
            assert_eq!(slow(&line), None, "{line}");
        }
        let min = base.replace(":5}", ":-9223372036854775808}");
        assert_eq!(canonical(&min), slow(&min));
        assert!(canonical(&min).is_some());
    }

    #[test]
    fn canonical_lines_of_every_type_take_the_fast_path() {
        let lines = [
            r#"{"v":1,"id":"e1","source":"sim","seq":1,"ts":1700000000000,"type":"agent_login","agent":"a1","team":"t1"}"#,
            r#"{"v":1,"id":"e2","source":"sim","seq":2,"ts":1700000000000,"test":true,"type":"agent_state","agent":"a1","state":"not_ready","reason":"break"}"#,
            r#"{"v":1,"id":"e3","source":"sim","seq":3,"ts":1700000000000,"type":"call_entered_queue","call":"c1","queue":"q","priority":2,"caller":"13812341234","direction":"outbound"}"#,
            r#"{"v":1,"id":"e4","source":"sim","seq":4,"ts":1700000000000,"type":"call_transferred","call":"c1","queue":"q","agent":"a1","talk_ms":5,"to_queue":"r","to_agent":"a2","to_external":"x"}"#,
            r#"{"v":1,"id":"e5","source":"sim","seq":5,"ts":1700000000000,"type":"call_timed_out","call":"c1","queue":"q","wait_ms":5,"overflow_to":"r"}"#,
        ];
        for line in lines {
            let event = fast(line).expect(line);
            assert_eq!(Some(event), slow(line));
        }
        // A field the type lacks, even null, is the slow path's to refuse.
        let extra = r#"{"v":1,"id":"e1","source":"sim","seq":1,"ts":1,"type":"agent_logout","agent":"a1","team":null}"#;
        assert_eq!(fast(extra), None);
        assert_eq!(slow(extra), None);
    }
}
