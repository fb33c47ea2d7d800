//! Shared by the alerts tests: a floor that steps evaluation boundaries exactly as the server
//! does (tick the engine to each boundary crossed, then evaluate), and a small language for
//! writing event sequences with times in seconds after a base instant.

#![allow(dead_code)]

use floorwatch_core::alerts::{
    AlertChange, Alerts, AlertsConfig, EVALUATION_PERIOD_MS, Evaluation, NotificationBatch,
    boundaries,
};
use floorwatch_core::org::{AgentConfig, Group, QueueConfig, Site, Team};
use floorwatch_core::{AgentState, Engine, Event, EventKind, Millis, NotReadyReason, Organisation};

/// Before this the engine's clock has not been set by an event (as in the server).
const CLOCK_UNSET_BEFORE: Millis = 946_684_800_000;

pub(crate) fn ms(rfc3339: &str) -> Millis {
    rfc3339
        .parse::<jiff::Timestamp>()
        .expect("valid timestamp in test")
        .as_millisecond()
}

/// Shanghai centre (UTC+8, no DST): site north, group g1, team t1 (a1 "Li Na", a2) and t2
/// (a3, a4); queue `billing` owned by team t1, queue `sales` owned by site north.
pub(crate) fn org() -> Organisation {
    org_in("Asia/Shanghai")
}

pub(crate) fn org_in(zone: &str) -> Organisation {
    let mut org = Organisation {
        sites: vec![Site {
            id: "north".into(),
            name: "North".into(),
            groups: vec![Group {
                id: "g1".into(),
                name: String::new(),
                teams: vec![
                    Team {
                        id: "t1".into(),
                        name: String::new(),
                        agents: vec![
                            AgentConfig::Named {
                                id: "a1".into(),
                                name: "Li Na".into(),
                            },
                            AgentConfig::Id("a2".into()),
                        ],
                    },
                    Team {
                        id: "t2".into(),
                        name: String::new(),
                        agents: vec![AgentConfig::Id("a3".into()), AgentConfig::Id("a4".into())],
                    },
                ],
            }],
        }],
        queues: vec![
            QueueConfig {
                id: "billing".into(),
                owner: Some("team:t1".into()),
                ..QueueConfig::default()
            },
            QueueConfig {
                id: "sales".into(),
                owner: Some("site:north".into()),
                ..QueueConfig::default()
            },
        ],
        ..Organisation::default()
    };
    org.centre.timezone = zone.into();
    org
}

/// A config from JSON (the same shape as the `[alerts]` TOML table).
pub(crate) fn config(json: &str) -> AlertsConfig {
    serde_json::from_str(json).expect("valid alerts config in test")
}

/// The engine and the alerts, stepped like the server's floor.
pub(crate) struct AlertFloor {
    pub engine: Engine,
    pub alerts: Alerts,
    pub changes: Vec<AlertChange>,
    pub batches: Vec<NotificationBatch>,
    pub evaluations: u64,
    /// Evaluate boundaries (false while replaying a journal at start-up).
    pub evaluating: bool,
    /// Skip the boundaries the alerts say cannot change anything ([`Alerts::is_due`]), as the
    /// server does.
    pub skipping: bool,
}

impl AlertFloor {
    pub(crate) fn new(org: &Organisation, config: &AlertsConfig) -> AlertFloor {
        AlertFloor {
            engine: Engine::new(org).expect("valid org"),
            alerts: Alerts::new(config, org).expect("valid rules"),
            changes: Vec::new(),
            batches: Vec::new(),
            evaluations: 0,
            evaluating: true,
            skipping: false,
        }
    }

    /// Steps the boundaries up to the event's time, then applies and observes it.
    pub(crate) fn apply(&mut self, event: &Event) {
        self.advance_to(event.ts);
        let applied = self.engine.apply(event);
        self.alerts.observe(event, applied);
    }

    pub(crate) fn apply_all(&mut self, events: &[Event]) {
        for e in events {
            self.apply(e);
        }
    }

    /// A wall-clock tick.
    /// A lead acknowledges the oldest open alert nobody has acknowledged yet, if any (what
    /// the long-run tests do now and then, so acknowledged alerts are among those compared).
    pub(crate) fn acknowledge_oldest(&mut self) {
        let oldest = self
            .alerts
            .book()
            .open_alerts()
            .filter(|a| a.acknowledged.is_none())
            .map(|a| a.id.clone())
            .min();
        if let Some(id) = oldest {
            let now = self.engine.now();
            self.alerts
                .acknowledge(&id, "lead", "seen", now)
                .expect("an open alert can be acknowledged");
        }
    }

    pub(crate) fn tick(&mut self, now: Millis) {
        self.advance_to(now);
        self.engine.tick(now);
    }

    fn advance_to(&mut self, t: Millis) {
        let now = self.engine.now();
        if t <= now || now < CLOCK_UNSET_BEFORE {
            return;
        }
        let mut next = boundaries(now, t).next();
        while let Some(boundary) = next.filter(|&b| b <= t) {
            next = Some(boundary + EVALUATION_PERIOD_MS);
            if self.skipping && !self.alerts.is_due(boundary) {
                next = self.alerts.rests_until();
                continue;
            }
            self.engine.tick(boundary);
            if self.evaluating {
                let Evaluation { changes, batch, .. } =
                    self.alerts.evaluate(&self.engine, boundary);
                self.evaluations += 1;
                self.changes.extend(changes);
                self.batches.extend(batch);
            }
        }
    }

    /// The changes as compact lines `CHANGE@SECONDS id`, seconds after `base`.
    pub(crate) fn timeline(&self, base: Millis) -> Vec<String> {
        self.changes
            .iter()
            .map(|c| {
                format!(
                    "{}@{} {}",
                    serde_json::to_value(c.kind())
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default(),
                    (c.at() - base) / 1000,
                    c.id()
                )
            })
            .collect()
    }
}

/// Events written in seconds after a base instant, numbered in the order written.
pub(crate) struct Script {
    pub base: Millis,
    pub events: Vec<Event>,
    pub source: String,
}

impl Script {
    pub(crate) fn new(base: &str) -> Script {
        Script {
            base: ms(base),
            events: Vec::new(),
            source: "pbx1".into(),
        }
    }

    pub(crate) fn at(&self, s: f64) -> Millis {
        self.base + (s * 1000.0).round() as Millis
    }

    pub(crate) fn push_from(&mut self, source: &str, s: f64, kind: EventKind) {
        let n = self.events.len() + 1;
        self.events.push(Event {
            v: 1,
            id: format!("e{n}"),
            source: source.into(),
            seq: n as u64,
            ts: self.at(s),
            test: false,
            kind,
        });
    }

    pub(crate) fn push(&mut self, s: f64, kind: EventKind) {
        let source = self.source.clone();
        self.push_from(&source, s, kind);
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

    pub(crate) fn login(&mut self, s: f64, agent: &str) {
        self.push(
            s,
            EventKind::AgentLogin {
                agent: agent.into(),
                team: None,
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

    /// The events in time order (stable: same-time events keep the order written).
    pub(crate) fn sorted(&self) -> Vec<Event> {
        let mut events = self.events.clone();
        events.sort_by_key(|e| e.ts);
        events
    }
}

/// A deterministic pseudo-random sequence (a 64-bit LCG): tests need varied days, never
/// randomness.
pub(crate) struct Lcg(pub u64);

impl Lcg {
    pub(crate) fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

/// Three busy hours from `base`: calls to billing and sales every 10-30 s, answered after
/// 0-90 s or abandoned, a fifth of answered calls cut off after 3 s; a burst of 30 calls at
/// minute 120; a2's break from minute 30 to 50 (an overrun), a3's meal from 60 to 80 (within
/// its allowance); source pbx2 reports a4's state every 30 s until minute 90, then falls silent.
pub(crate) fn busy_day(base: &str) -> Script {
    let mut day = Script::new(base);
    let mut rng = Lcg(7);
    for a in ["a1", "a2", "a3"] {
        day.login(0.0, a);
    }
    day.not_ready(1800.0, "a2", NotReadyReason::Break);
    day.state(3000.0, "a2", AgentState::Available);
    day.not_ready(3600.0, "a3", NotReadyReason::Meal);
    day.state(4800.0, "a3", AgentState::Available);
    let mut t = 1.0;
    let mut n = 0;
    let call = |day: &mut Script, rng: &mut Lcg, t: f64, n: &mut u32| {
        *n += 1;
        let id = format!("c{n}");
        let queue = if rng.next(3) == 0 { "sales" } else { "billing" };
        day.enter(t, &id, queue);
        let wait = rng.next(90) as f64;
        if rng.next(10) < 7 {
            let agent = ["a1", "a2", "a3"][(*n % 3) as usize];
            day.answer(t + wait, &id, agent);
            let talk = if rng.next(5) == 0 {
                3.0
            } else {
                60.0 + rng.next(240) as f64
            };
            day.end(t + wait + talk, &id);
        } else {
            day.abandon(t + wait, &id);
        }
    };
    while t < 3.0 * 3600.0 {
        call(&mut day, &mut rng, t, &mut n);
        t += 10.0 + rng.next(20) as f64;
    }
    for i in 0..30 {
        call(&mut day, &mut rng, 7200.0 + 2.0 * f64::from(i), &mut n);
    }
    let mut s = 5.0;
    while s < 5400.0 {
        day.push_from(
            "pbx2",
            s,
            EventKind::AgentState {
                agent: "a4".into(),
                state: AgentState::Available,
                reason: None,
            },
        );
        s += 30.0;
    }
    day
}
