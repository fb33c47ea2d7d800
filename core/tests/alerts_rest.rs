//! Skipping the boundaries of a floor at rest (`Alerts::is_due`, docs/ALERTS.md "Evaluation")
//! changes nothing: days of busy hours, long silences (minutes to days), a DST change, quiet
//! hours, cool-downs, escalations and acknowledgements give the same changes and notification
//! batches whether every boundary is evaluated or only the due ones, and a quiet night costs a
//! handful of evaluations instead of thousands.

mod alerts_support;

use alerts_support::{AlertFloor, Lcg, Script, config, org_in};
use floorwatch_core::alerts::AlertsConfig;
use floorwatch_core::{AgentState, Millis, NotReadyReason};

/// Every kind, with holds, cool-downs, quiet hours (one wrapping midnight, one inside a DST
/// gap), short escalations and each window a metric rule can read.
const RULES: &str = r#"{"batch_s": 30, "escalation": [
    {"role": "team_lead", "after_min": 0}, {"role": "supervisor", "after_min": 20},
    {"role": "manager", "after_min": 300}], "rules": [
    {"id": "sl15", "kind": "metric", "scope": "every_queue", "metric": "service_level_pct",
     "window": "15m", "comparison": "below", "warning": 80, "critical": 60, "hold_s": 60},
    {"id": "sl-today", "kind": "metric", "scope": "centre", "metric": "service_level_pct",
     "window": "today", "comparison": "below", "warning": 95, "cooldown_s": 900,
     "quiet_hours": [{"from": "22:00", "to": "07:00"}]},
    {"id": "abandons60", "kind": "metric", "scope": "every_team", "metric": "abandoned",
     "window": "60m", "comparison": "above", "warning": 2, "critical": 5, "hold_s": 120,
     "quiet_hours": [{"from": "02:30", "to": "03:15"}]},
    {"id": "offered-i30", "kind": "metric", "scope": "every_site", "metric": "offered",
     "window": "interval30", "comparison": "above", "warning": 3},
    {"id": "offered-i15", "kind": "metric", "scope": "centre", "metric": "offered",
     "window": "interval15", "comparison": "below", "warning": 1, "hold_s": 600},
    {"id": "occupancy", "kind": "metric", "scope": "centre", "metric": "occupancy_pct",
     "window": "today", "comparison": "above", "warning": 10},
    {"id": "breaks", "kind": "not_ready_overrun", "allowance_min": {"break": 5}},
    {"id": "silent", "kind": "source_silent", "silent_s": 300},
    {"id": "silent-pbx9", "kind": "source_silent", "silent_s": 7200, "sources": ["pbx9", "pbx1"],
     "quiet_hours": [{"from": "12:00", "to": "13:00"}]},
    {"id": "peak", "kind": "sudden_peak", "min_arrivals": 3, "factor": 1.5},
    {"id": "dropped", "kind": "dropped_calls", "count": 2, "window_min": 10}
]}"#;

/// [`RULES`] without the one rule that reads state time (occupancy), and with a break
/// allowance longer than the settling hour: the floor can then rest with agents signed in, and
/// an agent's break passing its allowance is a timer (docs/ALERTS.md, "Evaluation").
fn rules_signed_in() -> String {
    let occupancy = r#"    {"id": "occupancy", "kind": "metric", "scope": "centre", "metric": "occupancy_pct",
     "window": "today", "comparison": "above", "warning": 10},
"#;
    assert!(RULES.contains(occupancy));
    RULES.replace(
        occupancy,
        r#"    {"id": "long-breaks", "kind": "not_ready_overrun", "allowance_min": {"break": 180}},
"#,
    )
}

/// A few days of episodes: agents sign in, take calls (some abandoned, some cut short), go on
/// break, and mostly sign out again; then a silence of a few minutes to two days. Some
/// silences start with an agent still signed in or a call still waiting (no rest at all).
fn days(seed: u64, base: &str) -> Script {
    let mut script = Script::new(base);
    let mut rng = Lcg(seed);
    let mut t = 60.0;
    let mut n = 0;
    for _episode in 0..4 {
        let agents = ["a1", "a2", "a3", "a4"];
        for a in agents {
            script.login(t, a);
        }
        let length = 600.0 + rng.next(5400) as f64;
        let end = t + length;
        let mut s = t + 5.0;
        while s < end {
            n += 1;
            let id = format!("c{n}");
            let queue = if rng.next(2) == 0 { "billing" } else { "sales" };
            script.enter(s, &id, queue);
            let wait = rng.next(60) as f64;
            if rng.next(4) == 0 {
                script.abandon(s + wait, &id);
            } else {
                let agent = agents[rng.next(4) as usize];
                script.answer(s + wait, &id, agent);
                let talk = if rng.next(4) == 0 {
                    2.0
                } else {
                    30.0 + rng.next(200) as f64
                };
                script.end(s + wait + talk.min(end - s - wait - 1.0).max(1.0), &id);
            }
            s += 20.0 + rng.next(120) as f64;
        }
        if rng.next(2) == 0 {
            script.not_ready(t + length / 2.0, "a2", NotReadyReason::Break);
            script.state(t + length / 2.0 + 400.0, "a2", AgentState::Available);
        }
        let mut still_in = None;
        match rng.next(5) {
            0 => still_in = Some("a3"),
            1 => {
                n += 1;
                script.enter(end + 1.0, &format!("c{n}"), "billing");
                script.abandon(end + 1.0 + 20_000.0, &format!("c{n}"));
            }
            _ => {}
        }
        for a in agents {
            if Some(a) != still_in {
                script.push(
                    end + 2.0,
                    floorwatch_core::EventKind::AgentLogout { agent: a.into() },
                );
            }
        }
        // A few minutes to two days of silence.
        let silence = match rng.next(3) {
            0 => 60.0 * (1 + rng.next(30)) as f64,
            1 => 3600.0 * (1 + rng.next(20)) as f64,
            _ => 3600.0 * (24 + rng.next(24)) as f64,
        };
        t = end + silence;
    }
    script
}

/// Runs `events`, acknowledging the oldest unacknowledged open alert after every `ack_every`th
/// event, then ticks to `end`.
fn run(
    org: &floorwatch_core::Organisation,
    rules: &AlertsConfig,
    events: &[floorwatch_core::Event],
    end: Millis,
    skipping: bool,
) -> AlertFloor {
    let mut floor = AlertFloor::new(org, rules);
    floor.skipping = skipping;
    for (i, event) in events.iter().enumerate() {
        floor.apply(event);
        if i % 97 == 0 {
            floor.acknowledge_oldest();
        }
    }
    floor.tick(end);
    floor
}

fn same_with_and_without_skipping(zone: &str, base: &str, seed: u64) {
    same_with_and_without_skipping_under(RULES, zone, base, seed);
}

fn same_with_and_without_skipping_under(rules: &str, zone: &str, base: &str, seed: u64) {
    let mut org = org_in(zone);
    if seed.is_multiple_of(2) {
        // Expected silence outside opening hours (docs/ALERTS.md): its edges are timers too.
        org.centre.opening_hours = Some(
            serde_json::from_str(
                r#"{"mon": ["08:00-20:00"], "tue": ["08:00-20:00"], "wed": ["08:00-12:00", "13:00-20:00"],
                    "thu": ["08:00-20:00"], "fri": ["08:00-20:00"], "sat": ["10:00-16:00"],
                    "exceptions": [{"date": "2026-03-04", "hours": []}]}"#,
            )
            .unwrap(),
        );
    }
    let rules = config(rules);
    let script = days(seed, base);
    let events = script.sorted();
    let end = events.last().map_or(script.base, |e| e.ts) + 2 * 86_400_000;
    let every = run(&org, &rules, &events, end, false);
    let skipping = run(&org, &rules, &events, end, true);
    assert!(
        !every.changes.is_empty(),
        "seed {seed}: a day that raises nothing proves nothing"
    );
    assert_eq!(
        serde_json::to_string(&every.changes).unwrap(),
        serde_json::to_string(&skipping.changes).unwrap(),
        "seed {seed} in {zone}: the changes differ"
    );
    assert_eq!(
        serde_json::to_string(&every.batches).unwrap(),
        serde_json::to_string(&skipping.batches).unwrap(),
        "seed {seed} in {zone}: the notification batches differ"
    );
    // Some silences begin with an agent signed in or a call waiting: those are not at rest.
    assert!(
        skipping.evaluations * 2 < every.evaluations,
        "seed {seed}: {} evaluations with skipping, {} without",
        skipping.evaluations,
        every.evaluations
    );
}

#[test]
fn skipping_changes_nothing_in_shanghai() {
    for seed in [1, 2] {
        same_with_and_without_skipping("Asia/Shanghai", "2026-03-02T00:30:00Z", seed);
    }
}

#[test]
fn skipping_changes_nothing_across_new_york_dst() {
    // New York springs forward on 2026-03-08 and the quiet hours 02:30-03:15 start in the gap.
    for seed in [4, 5] {
        same_with_and_without_skipping("America/New_York", "2026-03-06T12:00:00Z", seed);
    }
}

#[test]
fn skipping_with_agents_signed_in_changes_nothing() {
    let rules = rules_signed_in();
    for seed in [1, 2, 3] {
        same_with_and_without_skipping_under(&rules, "Asia/Shanghai", "2026-03-02T00:30:00Z", seed);
    }
    for seed in [4, 5] {
        same_with_and_without_skipping_under(
            &rules,
            "America/New_York",
            "2026-03-06T12:00:00Z",
            seed,
        );
    }
}

#[test]
fn a_night_with_an_agent_on_a_break_rests_until_the_allowance() {
    // No rule reads state time: an agent signed in all night does not keep the floor busy,
    // and the break passing its 180-minute allowance is a timer, raised at the same boundary
    // as when every boundary is evaluated.
    let org = org_in("Asia/Shanghai");
    let rules = config(&rules_signed_in());
    let mut script = Script::new("2026-03-02T01:00:00Z");
    script.login(0.0, "a1");
    script.login(0.0, "a2");
    script.enter(10.0, "c1", "billing");
    script.answer(20.0, "c1", "a1");
    script.end(200.0, "c1");
    script.not_ready(300.0, "a2", NotReadyReason::Break);
    // The next event, two days later.
    script.state(2.0 * 86_400.0, "a2", AgentState::Available);
    let events = script.sorted();
    let mut floor = AlertFloor::new(&org, &rules);
    floor.skipping = true;
    floor.apply_all(&events);
    let every = {
        let mut floor = AlertFloor::new(&org, &rules);
        floor.apply_all(&events);
        floor
    };
    assert_eq!(
        serde_json::to_string(&every.changes).unwrap(),
        serde_json::to_string(&floor.changes).unwrap()
    );
    let raised = serde_json::to_string(&every.changes).unwrap();
    assert!(
        raised.contains("long-breaks/agent:a2"),
        "the long break is raised: {raised}"
    );
    assert!(
        floor.evaluations * 10 < every.evaluations,
        "{} evaluations with skipping, {} without",
        floor.evaluations,
        every.evaluations
    );
}

#[test]
fn a_quiet_night_costs_a_handful_of_evaluations() {
    let org = org_in("Asia/Shanghai");
    let rules = config(RULES);
    let mut script = Script::new("2026-03-02T01:00:00Z");
    script.login(0.0, "a1");
    script.enter(10.0, "c1", "billing");
    script.answer(20.0, "c1", "a1");
    script.end(200.0, "c1");
    script.push(
        300.0,
        floorwatch_core::EventKind::AgentLogout { agent: "a1".into() },
    );
    // The next event, a week later.
    script.login(7.0 * 86_400.0, "a1");
    let events = script.sorted();
    let mut floor = AlertFloor::new(&org, &rules);
    floor.skipping = true;
    floor.apply_all(&events);
    // The first 62 minutes after the last event are evaluated one by one (the rolling windows
    // still move); the rest of the week costs the timers: a day start, silences, quiet-hour
    // edges and escalations each day.
    let settle = 62 * 6;
    assert!(
        floor.evaluations < settle + 7 * 16,
        "{} evaluations for a silent week",
        floor.evaluations
    );
    let every = {
        let mut floor = AlertFloor::new(&org, &rules);
        floor.apply_all(&events);
        floor
    };
    assert_eq!(every.evaluations, 7 * 8640);
    assert_eq!(
        serde_json::to_string(&every.changes).unwrap(),
        serde_json::to_string(&floor.changes).unwrap()
    );
}
