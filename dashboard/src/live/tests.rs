//! Host tests of the live protocol's client side.

use std::collections::BTreeSet;

use floorwatch_core::ServiceLevelSettings;
use floorwatch_core::alerts::{
    Acknowledgement, Alert, Comparison, EscalationTier, Level, RuleKind,
};
use floorwatch_core::time::MINUTE_MS;
use floorwatch_core::wire::{LiveFrame, MinutePoint, ScopeHistory, Subscription};
use floorwatch_core::{AgentView, NotReadyReason, QueueView, Scope, Window};

use super::frame::{COMPARISONS, LEVELS, RULE_KINDS, TIERS};
use super::*;
use crate::route::View;

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
        names: vec![],
        history: vec![],
        alerts: vec![],
        stream_seq: None,
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
            names: vec![(Scope::Team("t1".into()), "Billing team 1".into())],
            history: vec![ScopeHistory {
                scope: Scope::Centre,
                points: vec![point(1, 2)],
            }],
            alerts: vec![],
            stream_seq: Some(41),
        },
        LiveFrame::Delta {
            seq: 2,
            now: 11,
            figures: vec![],
            agents: vec![agent],
            history: vec![],
            alerts: vec![],
            stream_seq: None,
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
        every_queue: true,
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
        every_queue: false,
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
        every_queue: false,
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
