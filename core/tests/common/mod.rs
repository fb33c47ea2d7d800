//! A small language for writing call days in tests: times are seconds after a base instant.

#![allow(dead_code)]

use floorwatch_core::{AgentState, Event, EventKind, Millis, NotReadyReason};

pub(crate) fn ms(rfc3339: &str) -> Millis {
    rfc3339
        .parse::<jiff::Timestamp>()
        .expect("valid timestamp in test")
        .as_millisecond()
}

/// Events of one test day, numbered in the order written.
pub(crate) struct Day {
    pub base: Millis,
    pub events: Vec<Event>,
}

impl Day {
    pub(crate) fn new(base: &str) -> Day {
        Day {
            base: ms(base),
            events: Vec::new(),
        }
    }

    pub(crate) fn at(&self, s: f64) -> Millis {
        self.base + (s * 1000.0).round() as Millis
    }

    pub(crate) fn push(&mut self, s: f64, kind: EventKind) -> &mut Event {
        let n = self.events.len() + 1;
        self.events.push(Event {
            v: 1,
            id: format!("e{n}"),
            source: "test".into(),
            seq: n as u64,
            ts: self.at(s),
            test: false,
            kind,
        });
        self.events.last_mut().expect("just pushed")
    }

    pub(crate) fn enter(&mut self, s: f64, call: &str, queue: &str) {
        self.push(
            s,
            EventKind::CallEnteredQueue {
                call: call.into(),
                queue: queue.into(),
                priority: 0,
                caller: None,
                direction: Default::default(),
            },
        );
    }

    pub(crate) fn answer(&mut self, s: f64, call: &str, agent: &str) {
        self.push(
            s,
            EventKind::CallAnswered {
                call: call.into(),
                agent: agent.into(),
                queue: None,
                wait_ms: None,
            },
        );
    }

    pub(crate) fn end(&mut self, s: f64, call: &str) {
        self.push(
            s,
            EventKind::CallEnded {
                call: call.into(),
                queue: None,
                agent: None,
                talk_ms: None,
            },
        );
    }

    pub(crate) fn acw_end(&mut self, s: f64, call: &str) {
        self.push(s, EventKind::CallAfterCallWorkEnded { call: call.into() });
    }

    pub(crate) fn hold(&mut self, from: f64, to: f64, call: &str) {
        self.push(from, EventKind::CallHoldStarted { call: call.into() });
        self.push(to, EventKind::CallHoldEnded { call: call.into() });
    }

    pub(crate) fn abandon(&mut self, s: f64, call: &str) {
        self.push(
            s,
            EventKind::CallAbandoned {
                call: call.into(),
                queue: None,
                wait_ms: None,
            },
        );
    }

    pub(crate) fn time_out(&mut self, s: f64, call: &str) {
        self.push(
            s,
            EventKind::CallTimedOut {
                call: call.into(),
                queue: None,
                wait_ms: None,
                overflow_to: None,
            },
        );
    }

    pub(crate) fn ivr(&mut self, s: f64, call: &str, queue: Option<&str>) {
        self.push(
            s,
            EventKind::CallIvrCompleted {
                call: call.into(),
                queue: queue.map(str::to_string),
            },
        );
    }

    pub(crate) fn login(&mut self, s: f64, agent: &str, team: Option<&str>) {
        self.push(
            s,
            EventKind::AgentLogin {
                agent: agent.into(),
                team: team.map(str::to_string),
            },
        );
    }

    pub(crate) fn state(&mut self, s: f64, agent: &str, state: AgentState) {
        self.push(
            s,
            EventKind::AgentState {
                agent: agent.into(),
                state,
                reason: None,
            },
        );
    }

    pub(crate) fn not_ready(&mut self, s: f64, agent: &str, reason: NotReadyReason) {
        self.push(
            s,
            EventKind::AgentState {
                agent: agent.into(),
                state: AgentState::NotReady,
                reason: Some(reason),
            },
        );
    }

    /// A queued call answered after `wait` seconds with `talk` seconds of talk and no ACW.
    pub(crate) fn answered_call(
        &mut self,
        s: f64,
        call: &str,
        queue: &str,
        agent: &str,
        wait: f64,
        talk: f64,
    ) {
        self.enter(s, call, queue);
        self.answer(s + wait, call, agent);
        self.end(s + wait + talk, call);
    }
}

/// Asserts two optional floats agree to 1e-9.
#[track_caller]
pub(crate) fn approx(got: Option<f64>, want: Option<f64>) {
    match (got, want) {
        (Some(g), Some(w)) => assert!((g - w).abs() < 1e-9, "got {g}, want {w}"),
        (g, w) => assert_eq!(g, w),
    }
}

/// `ts type key=value...`: an event's kind and fields in name order, without the envelope, for
/// comparing a parser's output with the expected events line by line.
pub(crate) fn render(event: &Event) -> String {
    let value = serde_json::to_value(event).expect("events serialise");
    let map = value.as_object().expect("an event is an object");
    let mut fields: Vec<String> = map
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "v" | "id" | "source" | "seq" | "ts" | "test" | "type"
            )
        })
        .map(|(k, v)| match v.as_str() {
            Some(s) => format!("{k}={s}"),
            None => format!("{k}={v}"),
        })
        .collect();
    fields.sort();
    let kind = map["type"].as_str().unwrap_or("?");
    format!("{} {kind} {}", event.ts, fields.join(" "))
        .trim_end()
        .to_string()
}
