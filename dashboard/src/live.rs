//! The client side of the live protocol (core/src/wire.rs), free of the browser: frame order
//! and resync, reconnect back-off, the server's clock, and the books the frames fill.
//!
//! The browser glue (`app::connection`) feeds frames through [`FrameOrder`] and applies what it
//! lets through to the reactive store; everything that decides *what* to do lives here, where
//! host tests can reach it.

use std::collections::{BTreeMap, BTreeSet};

use floorwatch_core::alerts::{
    Acknowledgement, Alert, Comparison, EscalationTier, Level, RuleKind,
};
use floorwatch_core::time::MINUTE_MS;
use floorwatch_core::wire::{
    HISTORY_MINUTES, LiveFrame, MinutePoint, ScopeHistory, Subscribe, Subscription,
};
use floorwatch_core::{AgentView, Figures, Millis, NotReadyReason, QueueView, Scope, Window};
use serde::Deserialize;
use serde_json::Value;

use crate::route::View;

/// Reads one frame of `/api/v1/live`.
///
/// `LiveFrame` is an internally tagged enum; serde reads those by first buffering the whole
/// frame into a generic tree and then reading that tree again. For a thousand-agent delta that
/// doubles the parsing time and adds tens of kilobytes of wasm, so the dashboard reads every
/// frame in one pass into a flat struct with the tag as a field, then builds the enum. Alerts
/// are read from the generic tree ([`read_alert`]): a derived parser for the core's 22-field
/// `Alert` cost the bundle 5 KB gzipped (BENCHMARKS.md, "Bundle size").
pub fn parse_frame(text: &str) -> Result<LiveFrame, FrameError> {
    #[derive(Deserialize)]
    struct Flat {
        #[serde(rename = "type")]
        kind: FrameKind,
        seq: u64,
        now: Option<Millis>,
        #[serde(default)]
        figures: Vec<Figures>,
        #[serde(default)]
        agents: Vec<AgentView>,
        queues: Option<Vec<QueueView>>,
        #[serde(default)]
        history: Vec<ScopeHistory>,
        #[serde(default)]
        alerts: Vec<Value>,
        message: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum FrameKind {
        Snapshot,
        Delta,
        Heartbeat,
        Error,
    }
    let flat: Flat = serde_json::from_str(text).map_err(|e| FrameError(e.to_string()))?;
    let alerts = flat
        .alerts
        .iter()
        .map(read_alert)
        .collect::<Option<Vec<_>>>()
        .ok_or(FrameError(
            "an alert with a missing or unreadable field".into(),
        ))?;
    let now = || flat.now.ok_or(FrameError("missing field `now`".into()));
    Ok(match flat.kind {
        FrameKind::Snapshot => LiveFrame::Snapshot {
            seq: flat.seq,
            now: now()?,
            figures: flat.figures,
            agents: flat.agents,
            queues: flat
                .queues
                .ok_or(FrameError("missing field `queues`".into()))?,
            history: flat.history,
            alerts,
        },
        FrameKind::Delta => LiveFrame::Delta {
            seq: flat.seq,
            now: now()?,
            figures: flat.figures,
            agents: flat.agents,
            history: flat.history,
            alerts,
        },
        FrameKind::Heartbeat => LiveFrame::Heartbeat {
            seq: flat.seq,
            now: now()?,
        },
        FrameKind::Error => LiveFrame::Error {
            seq: flat.seq,
            message: flat.message.unwrap_or_default(),
        },
    })
}

/// One alert of a frame, as the core's `Alert` serialises it (core/src/alerts/book.rs): `None`
/// when a field it always writes is missing or of the wrong kind. Optional fields the server
/// leaves out read as `None`.
pub fn read_alert(v: &Value) -> Option<Alert> {
    let string = |name: &str| v[name].as_str().map(String::from);
    let millis = |name: &str| v[name].as_i64();
    Some(Alert {
        id: string("id")?,
        key: string("key")?,
        rule: string("rule")?,
        kind: named(&v["kind"], &RULE_KINDS, RuleKind::as_str)?,
        metric: string("metric")?,
        scope: v["scope"].as_str()?.parse().ok()?,
        window: v["window"].as_str().and_then(|w| w.parse().ok()),
        comparison: named(&v["comparison"], &COMPARISONS, Comparison::as_str)?,
        agent_name: string("agent_name"),
        reason: named(&v["reason"], &NotReadyReason::ALL, NotReadyReason::as_str),
        source: string("source"),
        usual: v["usual"].as_f64(),
        level: named(&v["level"], &LEVELS, Level::as_str)?,
        value: v["value"].as_f64(),
        threshold: v["threshold"].as_f64()?,
        raised_at: millis("raised_at")?,
        acknowledged: match &v["acknowledged"] {
            Value::Null => None,
            ack => Some(Acknowledgement {
                by: ack["by"].as_str()?.to_string(),
                at: ack["at"].as_i64()?,
                note: ack["note"].as_str().unwrap_or_default().to_string(),
            }),
        },
        cleared_at: millis("cleared_at"),
        escalation_step: usize::try_from(v["escalation_step"].as_u64()?).ok()?,
        escalated_to: named(&v["escalated_to"], &TIERS, EscalationTier::as_str)?,
        escalated_at: millis("escalated_at")?,
        updated_at: millis("updated_at")?,
    })
}

/// The variant of `all` whose name (`as_str`, as serde writes it) is the string `v`.
fn named<T: Copy>(v: &Value, all: &[T], name: fn(T) -> &'static str) -> Option<T> {
    let text = v.as_str()?;
    all.iter().copied().find(|&t| name(t) == text)
}

/// Every variant of the core's alert enums; the tests check that each reads back.
const RULE_KINDS: [RuleKind; 5] = [
    RuleKind::Metric,
    RuleKind::NotReadyOverrun,
    RuleKind::SourceSilent,
    RuleKind::SuddenPeak,
    RuleKind::DroppedCalls,
];
const COMPARISONS: [Comparison; 2] = [Comparison::Below, Comparison::Above];
const LEVELS: [Level; 2] = [Level::Warning, Level::Critical];
const TIERS: [EscalationTier; 3] = [
    EscalationTier::TeamLead,
    EscalationTier::Supervisor,
    EscalationTier::Manager,
];

/// A frame that is not a valid `LiveFrame`.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameError(pub String);

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unreadable live frame: {}", self.0)
    }
}

impl std::error::Error for FrameError {}

/// What to do with an incoming frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Apply,
    /// A frame sent before the snapshot we are waiting for: its contents are superseded.
    Ignore,
    /// A frame is missing: send the subscription again and wait for a fresh snapshot.
    Resync,
}

/// Checks that frames arrive one `seq` after another (wire.rs: "a client that sees a gap sends
/// its subscription again and gets a fresh snapshot").
#[derive(Debug, Clone, Default)]
pub struct FrameOrder {
    next: Option<u64>,
    awaiting_snapshot: bool,
}

impl FrameOrder {
    /// Called whenever a `Subscribe` goes out: only a snapshot is meaningful until it answers.
    pub fn subscribed(&mut self) {
        self.awaiting_snapshot = true;
    }

    pub fn check(&mut self, frame: &LiveFrame) -> Verdict {
        let seq = frame.seq();
        match frame {
            LiveFrame::Snapshot { .. } => {
                self.next = Some(seq.wrapping_add(1));
                self.awaiting_snapshot = false;
                Verdict::Apply
            }
            // A refusal is shown whatever came before it.
            LiveFrame::Error { .. } => {
                self.next = Some(seq.wrapping_add(1));
                Verdict::Apply
            }
            LiveFrame::Delta { .. } | LiveFrame::Heartbeat { .. } => {
                if self.awaiting_snapshot {
                    self.next = Some(seq.wrapping_add(1));
                    return Verdict::Ignore;
                }
                if self.next == Some(seq) {
                    self.next = Some(seq.wrapping_add(1));
                    Verdict::Apply
                } else {
                    self.awaiting_snapshot = true;
                    Verdict::Resync
                }
            }
        }
    }
}

/// Reconnect delays: 0.5 s doubling to 10 s, each spread ±25 % so that a room of TVs does not
/// reconnect in lock-step after a server restart.
#[derive(Debug, Clone, Copy, Default)]
pub struct Backoff {
    attempt: u32,
}

pub const BACKOFF_FIRST_MS: f64 = 500.0;
pub const BACKOFF_MAX_MS: f64 = 10_000.0;

impl Backoff {
    /// The delay before the next attempt; `jitter` is uniform in 0..1.
    pub fn next_delay_ms(&mut self, jitter: f64) -> f64 {
        let base = (BACKOFF_FIRST_MS * 2f64.powi(self.attempt.min(16) as i32)).min(BACKOFF_MAX_MS);
        self.attempt = self.attempt.saturating_add(1);
        base * (0.75 + 0.5 * jitter.clamp(0.0, 1.0))
    }

    /// After a snapshot: the connection works again.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// The server's clock as last reported, carried forward by the browser's clock, so that ticking
/// figures agree with the server even when it replays a day (`--clock events`) or the TV's clock
/// is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ServerClock {
    /// The `now` of the last frame, UTC ms.
    pub server_ms: i64,
    /// The browser's clock (`Date.now()`) when that frame arrived.
    pub local_ms: f64,
}

impl ServerClock {
    pub fn now(&self, local_now_ms: f64) -> i64 {
        if self.server_ms == 0 {
            return local_now_ms as i64;
        }
        self.server_ms + (local_now_ms - self.local_ms).max(0.0) as i64
    }
}

/// How the connection looks to the people in the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnStatus {
    /// Never connected yet.
    Connecting,
    /// Frames (heartbeats at least) arrive.
    Live,
    /// The socket is closed; a retry is scheduled.
    Reconnecting,
    /// The socket looks open but nothing arrived for [`STALE_AFTER_MS`].
    Stale,
}

/// Figures not refreshed for this long grey out (issue 5: 10 s); the server sends a heartbeat
/// every 5 s, so two missed heartbeats make the page stale.
pub const STALE_AFTER_MS: f64 = 10_000.0;
/// A socket silent for this long is closed and reopened: a half-open TCP connection never
/// reports its own death.
pub const DEAD_AFTER_MS: f64 = 15_000.0;

/// Whether figures last refreshed at `last_frame_ms` (browser clock) are too old to show as live.
pub fn is_stale(last_frame_ms: Option<f64>, now_ms: f64) -> bool {
    last_frame_ms.is_none_or(|t| now_ms - t > STALE_AFTER_MS)
}

pub fn status(open: bool, ever_live: bool, last_frame_ms: Option<f64>, now_ms: f64) -> ConnStatus {
    match (open, ever_live) {
        (true, _) if !is_stale(last_frame_ms, now_ms) => ConnStatus::Live,
        (true, true) => ConnStatus::Stale,
        (true, false) | (false, false) => ConnStatus::Connecting,
        (false, true) => ConnStatus::Reconnecting,
    }
}

/// The figures the client holds, by (scope, window).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FigureBook {
    figures: BTreeMap<(Scope, Window), Figures>,
}

impl FigureBook {
    /// A snapshot replaces everything.
    pub fn replace(&mut self, figures: Vec<Figures>) {
        self.figures.clear();
        self.update(figures);
    }

    /// A delta replaces the (scope, window) pairs it carries.
    pub fn update(&mut self, figures: Vec<Figures>) {
        for f in figures {
            self.figures.insert((f.scope.clone(), f.window), f);
        }
    }

    pub fn get(&self, scope: &Scope, window: Window) -> Option<&Figures> {
        // BTreeMap lookups need the owned key shape; scopes are short.
        self.figures.get(&(scope.clone(), window))
    }

    pub fn len(&self) -> usize {
        self.figures.len()
    }

    pub fn is_empty(&self) -> bool {
        self.figures.is_empty()
    }
}

/// Per-minute points by scope, for the sparklines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryBook {
    points: BTreeMap<Scope, Vec<MinutePoint>>,
}

impl HistoryBook {
    pub fn replace(&mut self, history: Vec<ScopeHistory>) {
        self.points.clear();
        self.append(history);
    }

    /// Appends new points; a point for a minute already held replaces it (the server may
    /// resend the current minute). Keeps the last [`HISTORY_MINUTES`] minutes.
    pub fn append(&mut self, history: Vec<ScopeHistory>) {
        for h in history {
            let points = self.points.entry(h.scope).or_default();
            for p in h.points {
                match points.binary_search_by_key(&p.minute, |q| q.minute) {
                    Ok(i) => points[i] = p,
                    Err(i) => points.insert(i, p),
                }
            }
            if let Some(last) = points.last().map(|p| p.minute) {
                let oldest = last - (HISTORY_MINUTES as i64 - 1) * MINUTE_MS;
                points.retain(|p| p.minute >= oldest);
            }
        }
    }

    pub fn get(&self, scope: &Scope) -> &[MinutePoint] {
        self.points.get(scope).map_or(&[], Vec::as_slice)
    }
}

/// What each view subscribes to. The wall never asks for agents: no per-agent data reaches the
/// TV at all. The supervisor view asks for every queue and team it has heard of, so the first
/// snapshot (which lists the queues and the agents, hence the teams) is followed by one wider
/// subscription. Everything starts from the root of the user's subtree: the server lists only
/// the queues and agents inside it, so nothing outside it is ever asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub view: View,
    pub window: Window,
    /// The root of the signed-in user's subtree (`SessionInfo::scope`).
    pub root: Scope,
    /// The wall's scope (the root by default).
    pub wall_scope: Scope,
    /// The wall rotates through the queues too.
    pub rotate: bool,
}

impl Plan {
    pub fn subscribe(&self, queues: &[QueueView], teams: &BTreeSet<String>) -> Subscribe {
        let mut subs: BTreeSet<Subscription> = BTreeSet::new();
        let queue_scopes = queues.iter().map(|q| Scope::Queue(q.id.clone()));
        match self.view {
            // An admin reading the audit trail or pairing screens keeps the wall's feed: no
            // agents.
            View::Wall | View::Audit | View::Devices => {
                subs.insert(Subscription::Figures(self.wall_scope.clone()));
                if self.rotate {
                    subs.insert(Subscription::Figures(self.root.clone()));
                    subs.extend(queue_scopes.map(Subscription::Figures));
                }
            }
            View::Supervisor => {
                subs.insert(Subscription::Figures(self.root.clone()));
                subs.extend(queue_scopes.map(Subscription::Figures));
                subs.extend(
                    teams
                        .iter()
                        .map(|t| Subscription::Figures(Scope::Team(t.clone())))
                        .filter(|s| *s != Subscription::Figures(self.root.clone())),
                );
                subs.insert(Subscription::Agents(self.root.clone()));
            }
        }
        let mut windows = vec![self.window];
        if self.window != Window::Today {
            windows.push(Window::Today);
        }
        Subscribe {
            subscribe: subs.into_iter().collect(),
            windows,
        }
    }
}

/// The teams the agents belong to.
pub fn teams_of<'a>(agents: impl IntoIterator<Item = &'a AgentView>) -> BTreeSet<String> {
    agents.into_iter().filter_map(|a| a.team.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use floorwatch_core::ServiceLevelSettings;

    /// An alert as the server holds it, every optional field set or none.
    fn alert(everything: bool) -> Alert {
        Alert {
            id: "not-ready-overrun/agent:a1@970000".into(),
            key: "not-ready-overrun/agent:a1".into(),
            rule: "not-ready-overrun".into(),
            kind: RuleKind::NotReadyOverrun,
            metric: "not_ready_s".into(),
            scope: Scope::Agent("a1".into()),
            window: everything.then_some(Window::Rolling30),
            comparison: Comparison::Above,
            agent_name: everything.then(|| "Li Na".into()),
            reason: everything.then_some(NotReadyReason::Break),
            source: everything.then(|| "pbx2".into()),
            usual: everything.then_some(12.5),
            level: Level::Warning,
            value: everything.then_some(910.0),
            threshold: 900.0,
            raised_at: 970_000,
            acknowledged: everything.then(|| Acknowledgement {
                by: "lead1".into(),
                at: 980_000,
                note: "she is with HR".into(),
            }),
            cleared_at: everything.then_some(990_000),
            escalation_step: 1,
            escalated_to: EscalationTier::Supervisor,
            escalated_at: 975_000,
            updated_at: 990_000,
        }
    }

    fn frame_with(alerts: &[Alert]) -> String {
        serde_json::json!({"type": "delta", "seq": 3, "now": 1, "alerts": alerts}).to_string()
    }

    #[test]
    fn alerts_read_back_as_the_core_writes_them() {
        let mut alerts = vec![alert(true), alert(false)];
        // Every variant of every enum an alert carries.
        for (n, kind) in RULE_KINDS.into_iter().enumerate() {
            let mut a = alert(n % 2 == 0);
            a.kind = kind;
            a.comparison = COMPARISONS[n % 2];
            a.level = LEVELS[n % 2];
            a.escalated_to = TIERS[n % 3];
            a.reason = NotReadyReason::ALL.get(n).copied();
            alerts.push(a);
        }
        for reason in NotReadyReason::ALL {
            let mut a = alert(true);
            a.reason = Some(reason);
            alerts.push(a);
        }
        let Ok(LiveFrame::Delta { alerts: read, .. }) = parse_frame(&frame_with(&alerts)) else {
            panic!("the frame did not read");
        };
        assert_eq!(read, alerts);
        // Each list names every variant: a new variant in core stops these matches compiling.
        let listed = |k: RuleKind, c: Comparison, l: Level, r: EscalationTier| {
            let kind = match k {
                RuleKind::Metric
                | RuleKind::NotReadyOverrun
                | RuleKind::SourceSilent
                | RuleKind::SuddenPeak
                | RuleKind::DroppedCalls => RULE_KINDS.contains(&k),
            };
            let comparison = match c {
                Comparison::Below | Comparison::Above => COMPARISONS.contains(&c),
            };
            let level = match l {
                Level::Warning | Level::Critical => LEVELS.contains(&l),
            };
            let role = match r {
                EscalationTier::TeamLead | EscalationTier::Supervisor | EscalationTier::Manager => {
                    TIERS.contains(&r)
                }
            };
            kind && comparison && level && role
        };
        assert!(listed(
            RuleKind::DroppedCalls,
            Comparison::Above,
            Level::Critical,
            EscalationTier::Manager
        ));
        assert_eq!(
            (
                RULE_KINDS.len(),
                COMPARISONS.len(),
                LEVELS.len(),
                TIERS.len()
            ),
            (5, 2, 2, 3)
        );
    }

    #[test]
    fn an_alert_missing_a_field_makes_the_frame_unreadable() {
        let mut value = serde_json::to_value(alert(false)).unwrap();
        value.as_object_mut().unwrap().remove("threshold");
        let text = serde_json::json!({"type": "delta", "seq": 3, "now": 1, "alerts": [value]});
        assert!(parse_frame(&text.to_string()).is_err());
        let mut value = serde_json::to_value(alert(true)).unwrap();
        value["level"] = "urgent".into();
        let text = serde_json::json!({"type": "delta", "seq": 3, "now": 1, "alerts": [value]});
        assert!(parse_frame(&text.to_string()).is_err());
    }

    fn snapshot(seq: u64) -> LiveFrame {
        LiveFrame::Snapshot {
            seq,
            now: 0,
            figures: vec![],
            agents: vec![],
            queues: vec![],
            history: vec![],
            alerts: vec![],
        }
    }
    fn heartbeat(seq: u64) -> LiveFrame {
        LiveFrame::Heartbeat { seq, now: 0 }
    }

    #[test]
    fn frames_parse_as_the_server_writes_them() {
        let agent = AgentView {
            id: "a1".into(),
            name: "Li Na".into(),
            team: Some("t1".into()),
            state: Some(floorwatch_core::AgentState::NotReady),
            reason: Some(floorwatch_core::NotReadyReason::Break),
            state_since: Some(5),
            call: None,
            call_since: None,
            handled_today: 3,
            aht_today_s: Some(200.5),
        };
        let frames = [
            LiveFrame::Snapshot {
                seq: 1,
                now: 10,
                figures: vec![],
                agents: vec![agent.clone()],
                queues: vec![queue("billing")],
                history: vec![ScopeHistory {
                    scope: Scope::Centre,
                    points: vec![point(1, 2)],
                }],
                alerts: vec![],
            },
            LiveFrame::Delta {
                seq: 2,
                now: 11,
                figures: vec![],
                agents: vec![agent],
                history: vec![],
                alerts: vec![],
            },
            heartbeat(3),
            LiveFrame::Error {
                seq: 4,
                message: "unknown scope `queue:x`".into(),
            },
        ];
        for frame in frames {
            let text = serde_json::to_string(&frame).unwrap();
            assert_eq!(parse_frame(&text).unwrap(), frame, "{text}");
        }
        for bad in [
            "",
            "{}",
            r#"{"type":"bogus","seq":1}"#,
            r#"{"type":"heartbeat","seq":1}"#,
            r#"{"type":"snapshot","seq":1,"now":1}"#,
            r#"{"type":"delta","seq":-1,"now":1}"#,
        ] {
            assert!(parse_frame(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn frames_in_order_apply_and_a_gap_resyncs() {
        let mut order = FrameOrder::default();
        order.subscribed();
        assert_eq!(order.check(&heartbeat(1)), Verdict::Ignore);
        assert_eq!(order.check(&snapshot(2)), Verdict::Apply);
        assert_eq!(order.check(&heartbeat(3)), Verdict::Apply);
        assert_eq!(order.check(&heartbeat(5)), Verdict::Resync);
        // Until the snapshot answers the resync, deltas are superseded, not gaps.
        assert_eq!(order.check(&heartbeat(6)), Verdict::Ignore);
        assert_eq!(order.check(&heartbeat(9)), Verdict::Ignore);
        assert_eq!(order.check(&snapshot(10)), Verdict::Apply);
        assert_eq!(order.check(&heartbeat(11)), Verdict::Apply);
        // A repeated frame is a gap too.
        assert_eq!(order.check(&heartbeat(11)), Verdict::Resync);
    }

    #[test]
    fn a_fresh_connection_waits_for_its_snapshot() {
        let mut order = FrameOrder::default();
        assert_eq!(order.check(&heartbeat(1)), Verdict::Resync);
        let mut order = FrameOrder::default();
        assert_eq!(order.check(&snapshot(1)), Verdict::Apply);
        let refused = LiveFrame::Error {
            seq: 2,
            message: "unknown scope".into(),
        };
        assert_eq!(order.check(&refused), Verdict::Apply);
        assert_eq!(order.check(&heartbeat(3)), Verdict::Apply);
    }

    #[test]
    fn backoff_doubles_to_a_cap_and_resets() {
        let mut b = Backoff::default();
        let delays: Vec<f64> = (0..8).map(|_| b.next_delay_ms(0.5)).collect();
        assert_eq!(
            delays,
            [
                500.0, 1000.0, 2000.0, 4000.0, 8000.0, 10_000.0, 10_000.0, 10_000.0
            ]
        );
        assert_eq!(b.next_delay_ms(0.0), 7_500.0);
        assert_eq!(b.next_delay_ms(1.0), 12_500.0);
        b.reset();
        assert_eq!(b.next_delay_ms(0.5), 500.0);
        for _ in 0..100 {
            b.next_delay_ms(0.5);
        }
        assert_eq!(b.next_delay_ms(0.5), BACKOFF_MAX_MS);
    }

    #[test]
    fn the_server_clock_runs_on_between_frames() {
        let clock = ServerClock {
            server_ms: 1_000_000,
            local_ms: 5_000.0,
        };
        assert_eq!(clock.now(5_000.0), 1_000_000);
        assert_eq!(clock.now(7_500.0), 1_002_500);
        // The browser clock stepping back never runs the server clock backwards.
        assert_eq!(clock.now(4_000.0), 1_000_000);
        assert_eq!(ServerClock::default().now(42.0), 42);
    }

    #[test]
    fn silence_makes_the_page_stale_then_reconnecting() {
        assert_eq!(status(false, false, None, 0.0), ConnStatus::Connecting);
        assert_eq!(status(true, false, None, 0.0), ConnStatus::Connecting);
        assert_eq!(status(true, true, Some(0.0), 10_000.0), ConnStatus::Live);
        assert_eq!(status(true, true, Some(0.0), 10_001.0), ConnStatus::Stale);
        assert_eq!(
            status(false, true, Some(0.0), 1.0),
            ConnStatus::Reconnecting
        );
        assert!(is_stale(None, 0.0));
        assert!(!is_stale(Some(0.0), STALE_AFTER_MS));
        assert!(is_stale(Some(0.0), STALE_AFTER_MS + 1.0));
    }

    fn point(minute: i64, waiting: u64) -> MinutePoint {
        MinutePoint {
            minute: minute * MINUTE_MS,
            service_level_pct: None,
            waiting,
        }
    }

    #[test]
    fn history_appends_replaces_the_same_minute_and_keeps_an_hour() {
        let mut book = HistoryBook::default();
        book.replace(vec![ScopeHistory {
            scope: Scope::Centre,
            points: (0..60).map(|m| point(m, 1)).collect(),
        }]);
        assert_eq!(book.get(&Scope::Centre).len(), 60);
        book.append(vec![ScopeHistory {
            scope: Scope::Centre,
            points: vec![point(59, 7), point(60, 8)],
        }]);
        let points = book.get(&Scope::Centre);
        assert_eq!(points.len(), 60);
        assert_eq!(points[0].minute, MINUTE_MS);
        assert_eq!(
            points[58..].iter().map(|p| p.waiting).collect::<Vec<_>>(),
            [7, 8]
        );
        assert!(book.get(&Scope::Queue("x".into())).is_empty());
    }

    fn queue(id: &str) -> QueueView {
        QueueView {
            id: id.into(),
            name: id.into(),
            owner: None,
            settings: ServiceLevelSettings::default(),
            unassigned: false,
        }
    }

    #[test]
    fn the_wall_never_subscribes_to_agents() {
        let plan = Plan {
            view: View::Wall,
            window: Window::Rolling30,
            root: Scope::Centre,
            wall_scope: Scope::Centre,
            rotate: true,
        };
        let teams = BTreeSet::from(["t1".to_string()]);
        let sub = plan.subscribe(&[queue("billing")], &teams);
        assert_eq!(
            sub.subscribe,
            [
                Subscription::Figures(Scope::Centre),
                Subscription::Figures(Scope::Queue("billing".into()))
            ]
        );
        assert_eq!(sub.windows, [Window::Rolling30, Window::Today]);
        assert!(
            !sub.subscribe
                .iter()
                .any(|s| matches!(s, Subscription::Agents(_)))
        );
        let fixed = Plan {
            rotate: false,
            wall_scope: Scope::Queue("vip".into()),
            window: Window::Today,
            ..plan
        };
        let sub = fixed.subscribe(&[queue("billing")], &teams);
        assert_eq!(
            sub.subscribe,
            [Subscription::Figures(Scope::Queue("vip".into()))]
        );
        assert_eq!(sub.windows, [Window::Today]);
    }

    #[test]
    fn the_supervisor_subscribes_to_every_queue_team_and_agent() {
        let plan = Plan {
            view: View::Supervisor,
            window: Window::Rolling15,
            root: Scope::Centre,
            wall_scope: Scope::Centre,
            rotate: false,
        };
        let teams = BTreeSet::from(["t1".to_string()]);
        let sub = plan.subscribe(&[queue("b"), queue("a")], &teams);
        let text = serde_json::to_string(&sub).unwrap();
        assert_eq!(
            text,
            r#"{"subscribe":["centre","team:t1","queue:a","queue:b","agents:centre"],"windows":["15m","today"]}"#
        );
        // A team lead's page asks for their team, its queues and its agents, never the centre.
        let lead = Plan {
            root: Scope::Team("t1".into()),
            wall_scope: Scope::Team("t1".into()),
            ..plan
        };
        let text = serde_json::to_string(&lead.subscribe(&[queue("a")], &teams)).unwrap();
        assert_eq!(
            text,
            r#"{"subscribe":["team:t1","queue:a","agents:team:t1"],"windows":["15m","today"]}"#
        );
    }
}
