//! Every simulated day keeps the event contract: valid events, one outcome per queued leg,
//! agent states that agree with the calls (see `common::check_day`).

mod common;

use common::{Rules, check_day};
use floorwatch_core::{Event, EventKind};
use floorwatch_sim::{Scenario, Simulation};
use jiff::civil::date;

fn day(scenario: &Scenario, seed: u64) -> Vec<Event> {
    Simulation::new(scenario, date(2026, 3, 9), seed).collect()
}

#[test]
fn a_small_day_keeps_the_contract_and_shows_every_kind_of_event() {
    let scenario = Scenario::preset("small").unwrap();
    for seed in [1, 2] {
        let events = day(&scenario, seed);
        let tally = check_day(&events, Rules::default());
        assert!(tally.legs > 800, "seed {seed}: {tally:?}");
        assert!(
            tally.abandoned > 0 && tally.timed_out > 0 && tally.ivr > 0,
            "{tally:?}"
        );
        assert!(tally.transfers > 0 && tally.test_events > 0, "{tally:?}");
        for reason in ["break", "meal", "other"] {
            assert!(
                tally.not_ready_reasons.contains(reason),
                "{reason}: {tally:?}"
            );
        }
        let kinds: std::collections::HashSet<&str> =
            events.iter().map(|e| e.kind.type_name()).collect();
        for kind in [
            "agent_login",
            "agent_logout",
            "agent_state",
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
        ] {
            assert!(kinds.contains(kind), "seed {seed}: no {kind}");
        }
        // The whole day falls on the day (the centre closes its books before midnight: the
        // books close a millisecond before midnight).
        let sim = Simulation::new(&scenario, date(2026, 3, 9), seed);
        let (start, end) = (sim.day_start(), sim.day_end());
        assert!(events.iter().all(|e| e.ts >= start && e.ts < end));
    }
}

#[test]
fn agents_and_queues_are_those_of_the_organisation() {
    let scenario = Scenario::preset("small").unwrap();
    let org = scenario.organisation();
    let teams: std::collections::HashMap<&str, &str> = org
        .sites
        .iter()
        .flat_map(|s| &s.groups)
        .flat_map(|g| &g.teams)
        .flat_map(|t| t.agents.iter().map(move |a| (a.id(), t.id.as_str())))
        .collect();
    let queues: Vec<&str> = org.queues.iter().map(|q| q.id.as_str()).collect();
    for e in day(&scenario, 3) {
        match &e.kind {
            EventKind::AgentLogin { agent, team } => {
                assert_eq!(
                    team.as_deref(),
                    teams.get(agent.as_str()).copied(),
                    "{agent}"
                );
            }
            EventKind::CallEnteredQueue { queue, .. } => assert!(queues.contains(&queue.as_str())),
            _ => {}
        }
        if let Some(agent) = e.kind.agent() {
            assert!(teams.contains_key(agent), "unknown agent {agent}");
        }
    }
}

#[test]
fn a_mid_day_start_shows_a_live_floor_at_once() {
    let scenario = Scenario::preset("small").unwrap();
    // 10:30 in Shanghai: morning peak, the early and mid shifts signed in.
    let start = "2026-03-09T02:30:00Z"
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_millisecond();
    let events: Vec<Event> = Simulation::starting_at(&scenario, start, 5).collect();
    check_day(&events, Rules { mid_day: true });
    assert!(events.iter().all(|e| e.ts >= start));
    let at_start: Vec<&Event> = events.iter().take_while(|e| e.ts == start).collect();
    let logins = at_start
        .iter()
        .filter(|e| e.kind.type_name() == "agent_login")
        .count();
    assert!(logins >= 8, "{logins} agents signed in at the start");
    let busy = at_start
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::AgentState {
                    state: floorwatch_core::AgentState::OnCall
                        | floorwatch_core::AgentState::AfterCallWork
                        | floorwatch_core::AgentState::NotReady,
                    ..
                }
            )
        })
        .count();
    assert!(busy >= 3, "{busy} agents busy at the start: {at_start:#?}");
    // The rest of the day is the same day a whole-day run plays: the same calls arrive.
    let whole: Vec<Event> = day(&scenario, 5);
    let later = |events: &[Event]| -> Vec<(i64, String)> {
        events
            .iter()
            .filter(|e| e.ts > start + 3_600_000)
            .filter_map(|e| match &e.kind {
                EventKind::CallEnteredQueue { call, .. } => Some((e.ts, call.clone())),
                _ => None,
            })
            .collect()
    };
    assert_eq!(later(&events), later(&whole));
    // Its ids do not collide with the whole day's.
    let ids: std::collections::HashSet<&str> = whole.iter().map(|e| e.id.as_str()).collect();
    assert!(events.iter().all(|e| !ids.contains(e.id.as_str())));
}

/// Peak, logout wave and dropped calls keep the contract; a silent feed records nothing in its
/// span.
#[test]
fn incidents_happen_and_keep_the_contract() {
    let base = include_str!("../scenarios/small.toml");
    let quiet = day(&Scenario::from_toml_str(base).unwrap(), 9);
    let text = format!(
        "{base}
[[incidents]]
kind = \"call_peak\"
start = \"11:00\"
minutes = 30
factor = 4.0

[[incidents]]
kind = \"logout_wave\"
start = \"15:00\"
share = 0.5
back_after_minutes = 20

[[incidents]]
kind = \"dropped_calls\"
start = \"17:00\"
minutes = 60
share = 0.5
"
    );
    let events = day(&Scenario::from_toml_str(&text).unwrap(), 9);
    check_day(&events, Rules::default());
    let hour = |h: i64, m: i64| {
        "2026-03-08T16:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond()
            + h * 3_600_000
            + m * 60_000
    };
    let count = |events: &[Event], from: i64, to: i64, pred: &dyn Fn(&Event) -> bool| {
        events
            .iter()
            .filter(|e| e.ts >= from && e.ts < to && pred(e))
            .count()
    };
    let entered = |e: &Event| matches!(e.kind, EventKind::CallEnteredQueue { .. });
    let peak = count(&events, hour(11, 0), hour(11, 30), &entered);
    let normal = count(&quiet, hour(11, 0), hour(11, 30), &entered);
    assert!(peak > 3 * normal, "peak {peak} vs {normal}");
    let logout = |e: &Event| matches!(e.kind, EventKind::AgentLogout { .. });
    assert!(count(&events, hour(15, 0), hour(15, 20), &logout) >= 4);
    let short_talk =
        |e: &Event| matches!(e.kind, EventKind::CallEnded { talk_ms: Some(t), .. } if t <= 15_000);
    let dropped = count(&events, hour(17, 0), hour(18, 0), &short_talk);
    let usual = count(&quiet, hour(17, 0), hour(18, 0), &short_talk);
    assert!(dropped > usual + 10, "dropped {dropped} vs {usual}");

    let silent = format!(
        "{base}
[[incidents]]
kind = \"feed_silent\"
start = \"10:00\"
minutes = 15
"
    );
    let events = day(&Scenario::from_toml_str(&silent).unwrap(), 9);
    assert_eq!(count(&events, hour(10, 0), hour(10, 15), &|_| true), 0);
    assert!(count(&events, hour(10, 15), hour(10, 20), &|_| true) > 0);
}
