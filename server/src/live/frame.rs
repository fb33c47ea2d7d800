//! Live frames as they go out on the socket.
//!
//! A snapshot or delta is the same for every client of a feed except for `seq`, which counts
//! per connection. So the publisher serialises a frame's body once and each client's writer
//! splices its own `seq` in front: `{"type":"delta","seq":7,` + body. The result is exactly
//! what serde would write for the [`LiveFrame`] (field order included), as the tests check.

use std::sync::Arc;

use floorwatch_core::wire::LiveFrame;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameKind {
    Snapshot,
    Delta,
}

impl FrameKind {
    fn tag(self) -> &'static str {
        match self {
            FrameKind::Snapshot => "snapshot",
            FrameKind::Delta => "delta",
        }
    }
}

/// What a client's writer is handed.
#[derive(Debug, Clone)]
pub(crate) enum Outgoing {
    /// A frame shared by the clients of a feed. Frames of an older `generation` than the
    /// client's current one were made stale by a resync and are dropped unsent.
    Shared {
        generation: u64,
        kind: FrameKind,
        body: Arc<str>,
    },
    /// The subscription was refused.
    Error { message: String },
}

/// The body of a frame: its fields after `seq` as a JSON object without the opening brace.
/// `fields` must serialise as a non-empty JSON object.
pub(crate) fn body<T: Serialize>(fields: &T) -> Arc<str> {
    let json = serde_json::to_string(fields).unwrap_or_else(|_| "{}".into());
    match json.strip_prefix('{') {
        Some(rest) => Arc::from(rest),
        None => Arc::from("}"),
    }
}

/// The full text of a shared frame for one client.
pub(crate) fn render(kind: FrameKind, seq: u64, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 40);
    out.push_str("{\"type\":\"");
    out.push_str(kind.tag());
    out.push_str("\",\"seq\":");
    out.push_str(&seq.to_string());
    if body != "}" {
        out.push(',');
    }
    out.push_str(body);
    out
}

pub(crate) fn heartbeat(seq: u64, now: i64) -> String {
    serde_json::to_string(&LiveFrame::Heartbeat { seq, now }).unwrap_or_default()
}

pub(crate) fn error(seq: u64, message: String) -> String {
    serde_json::to_string(&LiveFrame::Error { seq, message }).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use floorwatch_core::Scope;
    use floorwatch_core::wire::{MinutePoint, ScopeHistory};

    #[derive(Serialize)]
    struct DeltaFields<'a> {
        now: i64,
        figures: &'a [floorwatch_core::Figures],
        agents: &'a [floorwatch_core::AgentView],
        history: &'a [ScopeHistory],
    }

    #[test]
    fn a_spliced_frame_is_the_frame_serde_would_write() {
        let history = vec![ScopeHistory {
            scope: Scope::Queue("billing".into()),
            points: vec![MinutePoint {
                minute: 60_000,
                service_level_pct: Some(80.5),
                waiting: 3,
            }],
        }];
        let fields = DeltaFields {
            now: 123,
            figures: &[],
            agents: &[],
            history: &history,
        };
        let text = render(FrameKind::Delta, 7, &body(&fields));
        let expected = LiveFrame::Delta {
            seq: 7,
            now: 123,
            figures: vec![],
            agents: vec![],
            history,
            alerts: vec![],
            stream_seq: None,
        };
        assert_eq!(text, serde_json::to_string(&expected).unwrap());
        let parsed: LiveFrame = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed, expected);
    }

    #[test]
    fn heartbeats_and_errors_carry_seq() {
        let hb: LiveFrame = serde_json::from_str(&heartbeat(3, 99)).unwrap();
        assert_eq!(hb, LiveFrame::Heartbeat { seq: 3, now: 99 });
        let err: LiveFrame = serde_json::from_str(&error(4, "no".into())).unwrap();
        assert_eq!(err.seq(), 4);
    }
}
