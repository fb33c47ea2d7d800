//! The live push protocol of `/api/v1/live`, shared by the server and the wallboard (which
//! compiles this crate to wasm32).
//!
//! A client sends [`Subscribe`]; the server answers with a [`LiveFrame::Snapshot`], then
//! [`LiveFrame::Delta`]s carrying only what changed (coalesced), and a
//! [`LiveFrame::Heartbeat`] when nothing changed for a while. Every frame carries `seq`, one
//! more than the frame before on the same connection; a client that sees a gap sends its
//! subscription again and gets a fresh snapshot. Times that tick on screen (oldest waiting call,
//! time in state) travel as start timestamps, never as running durations.

use serde::{Deserialize, Serialize};

use crate::alerts::Alert;
use crate::event::Millis;
use crate::figures::{AgentView, Figures, QueueView};
use crate::scope::{Scope, Window};

/// The close code of a live socket whose sign-in ended (idle, shift end, signed out, user
/// disabled, token revoked): the last frame before it is a [`LiveFrame::Error`] `signed out:
/// WHY`, and the wallboard shows its sign-in page (docs/SECURITY.md).
pub const SIGNED_OUT_CLOSE: u16 = 4401;

/// What a client wants to see. Sending it again replaces the previous subscription and
/// triggers a fresh snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscribe {
    /// Figure scopes (`centre`, `queue:billing`, `team:t1`, ...) and agent lists
    /// (`agents:team:t1`, `agents:centre`).
    pub subscribe: Vec<Subscription>,
    /// Windows to send figures for; `today` when empty.
    #[serde(default)]
    pub windows: Vec<Window>,
}

/// One entry of a subscription.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subscription {
    /// The figures of a scope.
    Figures(Scope),
    /// The agent views of every agent inside a scope (`agents:team:t1`).
    Agents(Scope),
}

impl std::fmt::Display for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subscription::Figures(scope) => write!(f, "{scope}"),
            Subscription::Agents(scope) => write!(f, "agents:{scope}"),
        }
    }
}

impl std::str::FromStr for Subscription {
    type Err = crate::scope::ScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.strip_prefix("agents:") {
            Some(scope) => scope.parse().map(Subscription::Agents),
            None => s.parse().map(Subscription::Figures),
        }
    }
}

crate::serde_via_str!(Subscription);

/// Minutes of per-minute history a snapshot carries per figure scope (the sparklines show the
/// last hour): the server keeps this many and the wallboard draws this many, so they are one
/// number.
pub const HISTORY_MINUTES: usize = 60;

/// One frame from server to client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveFrame {
    /// Everything the subscription covers, as of `now`. Replaces all client state.
    Snapshot {
        /// The frame's number: each frame is one after the last.
        seq: u64,
        /// The server's clock, event time.
        now: Millis,
        /// Figures of every subscribed scope and window.
        figures: Vec<Figures>,
        /// Agents of the subscribed scopes.
        agents: Vec<AgentView>,
        /// Queues inside the user's subtree.
        queues: Vec<QueueView>,
        /// The configured names of the sites, groups and teams inside the user's subtree, as
        /// `[scope, name]` pairs: carried once per snapshot so every screen shows names, not
        /// ids, while deltas stay free of them (queues and agents carry their own names). Left
        /// out when none is configured.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        names: Vec<(Scope, String)>,
        /// Up to the last 60 minutes of per-minute points for each subscribed figure scope,
        /// for sparklines.
        history: Vec<ScopeHistory>,
        /// The alerts the subscription may see (docs/ALERTS.md, "Who sees an alert"): every
        /// open one and those changed in the last hour. Left out when there are none.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        alerts: Vec<Alert>,
        /// Cluster mode: the stream sequence the frame's figures reflect (docs/CLUSTER.md): two
        /// nodes at the same sequence show the same figures. Left out on a single node; the
        /// wallboard shows it in a tooltip at most.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stream_seq: Option<u64>,
    },
    /// Only what changed since the previous frame.
    Delta {
        /// The frame's number: each frame is one after the last.
        seq: u64,
        /// The server's clock, event time.
        now: Millis,
        /// Figures (scope, window) whose values changed.
        figures: Vec<Figures>,
        /// Agents whose view changed.
        agents: Vec<AgentView>,
        /// New per-minute points, appended to the scope's history.
        history: Vec<ScopeHistory>,
        /// Alerts raised or changed since the previous frame, whole: each replaces the alert of
        /// the same `id`. Left out when there are none.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        alerts: Vec<Alert>,
        /// Cluster mode: the stream sequence the frame's figures reflect (docs/CLUSTER.md): two
        /// nodes at the same sequence show the same figures. Left out on a single node; the
        /// wallboard shows it in a tooltip at most.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stream_seq: Option<u64>,
    },
    /// Nothing changed; the connection and the server's clock are alive.
    Heartbeat {
        /// The frame's number.
        seq: u64,
        /// The server's clock, event time.
        now: Millis,
    },
    /// The subscription was refused (unknown scope, not permitted, malformed).
    Error {
        /// The frame's number.
        seq: u64,
        /// What was refused, in plain words.
        message: String,
    },
}

impl LiveFrame {
    /// The frame's number, whatever its kind.
    pub fn seq(&self) -> u64 {
        match self {
            LiveFrame::Snapshot { seq, .. }
            | LiveFrame::Delta { seq, .. }
            | LiveFrame::Heartbeat { seq, .. }
            | LiveFrame::Error { seq, .. } => *seq,
        }
    }
}

/// Per-minute points of one scope, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopeHistory {
    /// The scope the points are for.
    pub scope: Scope,
    /// Oldest first, one a minute.
    pub points: Vec<MinutePoint>,
}

/// The state of a scope at the end of one minute.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MinutePoint {
    /// Start of the minute, UTC ms.
    pub minute: Millis,
    /// Rolling 15-minute service level at the end of the minute.
    pub service_level_pct: Option<f64>,
    /// Calls waiting at the end of the minute.
    pub waiting: u64,
}

/// The reply to an ingest request (`POST /api/v1/events`, or one frame on `/api/v1/ingest`).
/// Every event of the request is in exactly one of the three counts; an event is counted as
/// accepted only once it is journaled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestReply {
    /// Events recorded (journaled and applied).
    pub accepted: u64,
    /// Ids seen before: not applied again.
    pub duplicate: u64,
    /// Lines refused, each listed in `errors`.
    pub rejected: u64,
    /// One entry per rejected line, in line order.
    pub errors: Vec<IngestLineError>,
}

/// Why one line of an ingest request was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestLineError {
    /// 1-based line number in an NDJSON body, or 1-based position in a JSON array.
    pub line: u64,
    /// Why it was refused.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_round_trips() {
        let sub: Subscribe = serde_json::from_str(
            r#"{"subscribe":["centre","queue:billing","agents:team:t1"],"windows":["30m","today"]}"#,
        )
        .unwrap();
        assert_eq!(
            sub.subscribe,
            vec![
                Subscription::Figures(Scope::Centre),
                Subscription::Figures(Scope::Queue("billing".into())),
                Subscription::Agents(Scope::Team("t1".into())),
            ]
        );
        assert_eq!(sub.windows, vec![Window::Rolling30, Window::Today]);
        let back: Subscribe = serde_json::from_str(&serde_json::to_string(&sub).unwrap()).unwrap();
        assert_eq!(back, sub);
        assert!(serde_json::from_str::<Subscribe>(r#"{"subscribe":["floor"]}"#).is_err());
    }

    #[test]
    fn frames_are_tagged_by_type() {
        let f = LiveFrame::Heartbeat { seq: 7, now: 1 };
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"type":"heartbeat","seq":7,"now":1}"#
        );
        assert_eq!(f.seq(), 7);
    }
}
