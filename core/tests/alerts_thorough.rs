//! The short cuts of issue 15 change nothing: a rule is not read again until something it
//! reads changed (the engine's revision, the events of the sorts it reads) or one of its
//! timers is due (a break passing its allowance, a source's silence reaching `silent_s`, a
//! dropped call or arrival leaving its window, a hold, a cool-down, an escalation, quiet hours,
//! a new minute or day), a condition not met and not timed is not stepped, and the sudden-peak
//! usual volume is worked out only at `min_arrivals` (docs/ALERTS.md, "Evaluation"). Random days run through two floors, one with the short cuts and one
//! thorough (`Alerts::set_thorough`), both skipping a floor at rest as the server does, and
//! every alert change, notification batch and the book must be the same after every event.

mod alerts_support;

use alerts_support::{AlertFloor, Lcg, Script, config, org_in};
use floorwatch_core::alerts::{Alerts, AlertsConfig, AlertsSnapshot};
use floorwatch_core::{AgentState, EventKind, Millis, NotReadyReason};
use proptest::prelude::*;

/// Every kind, on each sort of scope, with metrics that move with events only, with whole
/// minutes (rolling and interval windows) and with the clock (the longest wait now, state
/// time), holds, cool-downs, quiet hours and short escalations.
const RULES: &str = r#"{"batch_s": 30, "escalation": [
    {"role": "team_lead", "after_min": 0}, {"role": "supervisor", "after_min": 5},
    {"role": "manager", "after_min": 40}], "rules": [
    {"id": "sl", "kind": "metric", "scope": "every_queue", "metric": "service_level_pct",
     "window": "15m", "comparison": "below", "warning": 80, "critical": 60, "hold_s": 60,
     "min_offered": 2},
    {"id": "sl-team", "kind": "metric", "scope": "every_team", "metric": "service_level_pct",
     "window": "30m", "comparison": "below", "warning": 90, "cooldown_s": 300},
    {"id": "abandons", "kind": "metric", "scope": "centre", "metric": "abandoned",
     "window": "interval15", "comparison": "above", "warning": 1, "critical": 3},
    {"id": "offered", "kind": "metric", "scope": "every_site", "metric": "offered",
     "window": "today", "comparison": "above", "warning": 25,
     "quiet_hours": [{"from": "12:00", "to": "12:30"}]},
    {"id": "waits", "kind": "metric", "scope": "every_queue", "metric": "longest_waiting_s",
     "comparison": "above", "warning": 30, "critical": 75},
    {"id": "waiting", "kind": "metric", "scope": "every_group", "metric": "waiting_now",
     "comparison": "above", "warning": 1, "hold_s": 20},
    {"id": "occupancy", "kind": "metric", "scope": "centre", "metric": "occupancy_pct",
     "window": "15m", "comparison": "above", "warning": 40},
    {"id": "p90", "kind": "metric", "scope": "every_queue", "metric": "wait_p90_s",
     "window": "60m", "comparison": "above", "warning": 40},
    {"id": "breaks", "kind": "not_ready_overrun", "allowance_min": {"break": 3}},
    {"id": "breaks-team", "kind": "not_ready_overrun", "scope": "every_team", "hold_s": 30,
     "allowance_min": {"break": 2, "meal": 4}, "cooldown_s": 90,
     "quiet_hours": [{"from": "11:00", "to": "11:40"}]},
    {"id": "silent", "kind": "source_silent", "silent_s": 600},
    {"id": "silent-pbx2", "kind": "source_silent", "silent_s": 300, "sources": ["pbx2"],
     "hold_s": 40, "quiet_hours": [{"from": "10:00", "to": "10:30"}]},
    {"id": "peak", "kind": "sudden_peak", "min_arrivals": 3, "factor": 1.5},
    {"id": "peak-site", "kind": "sudden_peak", "scope": "every_site", "min_arrivals": 5,
     "factor": 2, "hold_s": 30},
    {"id": "dropped", "kind": "dropped_calls", "count": 2, "window_min": 5},
    {"id": "dropped-team", "kind": "dropped_calls", "scope": "every_team", "count": 1,
     "window_min": 2, "cooldown_s": 120, "quiet_hours": [{"from": "13:00", "to": "13:20"}]}
]}"#;

/// Episodes of calls over a day or two: steady traffic, bursts (sudden peaks), calls cut
/// short (dropped calls), long waits and abandons, breaks past their allowance, a second
/// source, late events, and silences from seconds to hours between episodes.
fn day(seed: u64) -> Script {
    let mut script = Script::new("2026-03-09T00:30:00Z");
    let mut rng = Lcg(seed);
    // The breaks' twists below draw from their own sequence, so the days drawn before them
    // (and the fixed day's alerts of every kind) stay as they were.
    let mut twist = Lcg(seed ^ 0x5eed_b4ea);
    let agents = ["a1", "a2", "a3", "a4"];
    let mut t = 30.0;
    let mut n = 0;
    for _episode in 0..(3 + rng.next(4)) {
        for a in agents {
            script.login(t, a);
        }
        let end = t + 300.0 + rng.next(4800) as f64;
        let mut s = t + 2.0;
        while s < end {
            n += 1;
            let id = format!("c{n}");
            let queue = if rng.next(3) == 0 { "sales" } else { "billing" };
            // A late event now and then: filed at its own time, after later ones.
            let at = if rng.next(25) == 0 { s - 40.0 } else { s };
            script.enter(at, &id, queue);
            let wait = rng.next(100) as f64;
            match rng.next(6) {
                0 => script.abandon(s + wait, &id),
                _ => {
                    let agent = agents[rng.next(4) as usize];
                    script.answer(s + wait, &id, agent);
                    let talk = if rng.next(3) == 0 {
                        1.0 + rng.next(8) as f64
                    } else {
                        20.0 + rng.next(300) as f64
                    };
                    script.end(s + wait + talk, &id);
                }
            }
            s += match rng.next(10) {
                0 => 1.0,
                1..=3 => 5.0 + rng.next(20) as f64,
                _ => 30.0 + rng.next(150) as f64,
            };
        }
        if rng.next(2) == 0 {
            let at = t + rng.next(600) as f64;
            script.not_ready(at, "a2", NotReadyReason::Break);
            let back = at + 60.0 + rng.next(400) as f64;
            // Late in a long break (past the 3-minute allowance of `breaks`, so the fixed
            // day still raises it): the reason changes (a new spell, another allowance), or
            // the agent signs out and back in, on the same team or on t2 (a move by sign-in).
            let mid = at + 200.0 + twist.next((back - at - 200.0).max(1.0) as u64) as f64;
            match if back - at > 230.0 { twist.next(5) } else { 4 } {
                0 => script.not_ready(mid, "a2", NotReadyReason::Meal),
                1 => script.not_ready(mid, "a2", NotReadyReason::Break),
                2 => {
                    script.push(mid, EventKind::AgentLogout { agent: "a2".into() });
                    let team = (twist.next(2) == 0).then(|| "t2".to_string());
                    script.push(
                        mid + 1.0,
                        EventKind::AgentLogin {
                            agent: "a2".into(),
                            team,
                        },
                    );
                    script.not_ready(mid + 1.0, "a2", NotReadyReason::Meal);
                }
                _ => {}
            }
            script.state(back, "a2", AgentState::Available);
        }
        if rng.next(2) == 0 {
            // A meal break on the other team, moved to the first team half-way through now
            // and then (its spell then counts for another team scope).
            let at = t + rng.next(900) as f64;
            script.not_ready(at, "a3", NotReadyReason::Meal);
            if rng.next(2) == 0 {
                script.push(
                    at + rng.next(400) as f64,
                    EventKind::AgentTeam {
                        agent: "a3".into(),
                        team: "t1".into(),
                    },
                );
            }
            script.state(
                at + 100.0 + rng.next(600) as f64,
                "a3",
                AgentState::Available,
            );
        }
        if rng.next(3) == 0 {
            script.push_from(
                "pbx2",
                t + rng.next(300) as f64,
                EventKind::AgentState {
                    agent: "a4".into(),
                    state: AgentState::Available,
                    reason: None,
                },
            );
        }
        if rng.next(2) == 0 {
            for a in agents {
                script.push(end + 5.0, EventKind::AgentLogout { agent: a.into() });
            }
        }
        t = end
            + match rng.next(4) {
                0 => rng.next(120) as f64,
                1 => 600.0 + rng.next(3000) as f64,
                2 => 3600.0 * (1 + rng.next(6)) as f64,
                _ => 3600.0 * (12 + rng.next(14)) as f64,
            };
    }
    script
}

/// Runs `events` through a floor, acknowledging the oldest unacknowledged open alert after
/// every `ack_every`th event, and calls `each` after every event and after the final tick.
/// Without `thorough`, the alerts also go through a checkpoint (written and read back as the
/// server does, into alerts made afresh) after every `ack_every / 3`th event: what they keep
/// between boundaries and never save must come back the same.
fn run(
    rules: &AlertsConfig,
    events: &[floorwatch_core::Event],
    end: Millis,
    thorough: bool,
    ack_every: usize,
    mut each: impl FnMut(&AlertFloor),
) -> AlertFloor {
    let org = org_in("America/New_York");
    let mut floor = AlertFloor::new(&org, rules);
    floor.skipping = true;
    floor.alerts.set_thorough(thorough);
    for (i, event) in events.iter().enumerate() {
        floor.apply(event);
        if i % ack_every == 0 {
            floor.acknowledge_oldest();
        }
        if !thorough && i % (ack_every / 3) == 1 {
            let written = rmp_serde::to_vec_named(&floor.alerts).expect("alerts serialise");
            let snapshot: AlertsSnapshot = rmp_serde::from_slice(&written).expect("read back");
            let mut alerts = Alerts::new(rules, &org).expect("valid rules");
            alerts.resume_from(snapshot);
            floor.alerts = alerts;
        }
        each(&floor);
    }
    floor.tick(end);
    each(&floor);
    floor
}

/// What a floor has said so far (its changes, batches and book), as a count of changes and a
/// hash of the whole.
fn said(floor: &AlertFloor) -> (usize, u64) {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    format!(
        "{:?}\n{:?}\n{:?}",
        floor.changes,
        floor.batches,
        floor.alerts.alerts_since(0)
    )
    .hash(&mut hasher);
    (floor.changes.len(), hasher.finish())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn the_short_cuts_raise_exactly_what_reading_everything_raises(
        seed in any::<u64>(),
        ack_every in 40_usize..400,
    ) {
        let rules = config(RULES);
        let script = day(seed);
        let events = script.sorted();
        let end = events.last().map_or(script.base, |e| e.ts) + 2 * 3600 * 1000;
        let mut thorough = Vec::new();
        let full = run(&rules, &events, end, true, ack_every, |f| thorough.push(said(f)));
        let mut point = 0;
        let quick = run(&rules, &events, end, false, ack_every, |f| {
            assert_eq!(said(f), thorough[point], "after event {point}");
            point += 1;
        });
        prop_assert_eq!(point, thorough.len());
        prop_assert_eq!(&quick.changes, &full.changes);
        // The days must exercise the rules, or the comparison proves nothing.
        prop_assert!(!full.changes.is_empty());
    }
}

/// One fixed day, checked to raise alerts of every kind, so the comparison above is not
/// between two floors that never raise anything; and the short cuts read fewer rules.
#[test]
fn a_fixed_day_raises_every_kind_the_same_way() {
    let rules = config(RULES);
    let script = day(11);
    let events = script.sorted();
    let end = events.last().map_or(script.base, |e| e.ts) + 2 * 3600 * 1000;
    let full = run(&rules, &events, end, true, 50, |_| {});
    let quick = run(&rules, &events, end, false, 50, |_| {});
    assert_eq!(quick.changes, full.changes);
    assert_eq!(quick.batches, full.batches);
    // The short cuts must skip most readings, or they are not the short cuts.
    assert!(
        quick.alerts.rules_read() * 3 < full.alerts.rules_read(),
        "{} rules read with the short cuts, {} without",
        quick.alerts.rules_read(),
        full.alerts.rules_read()
    );
    let raised: std::collections::BTreeSet<&str> = full
        .alerts
        .book()
        .all()
        .iter()
        .map(|a| a.rule.as_str())
        .collect();
    for rule in [
        "sl",
        "abandons",
        "breaks",
        "peak",
        "peak-site",
        "dropped",
        "waiting",
        "breaks-team",
        "silent-pbx2",
    ] {
        assert!(raised.contains(rule), "{rule} raised nothing: {raised:?}");
    }
}
