//! Built-in kinds on agents and sources, and an alert's life: quiet hours, escalation,
//! acknowledgement, never deleted, restored from the journal (docs/ALERTS.md, "Lifecycle").

mod alerts_support;

use alerts_support::{AlertFloor, Script, config, org, org_in};
use floorwatch_core::alerts::{AlertChange, AlertError, Alerts, EscalationTier, Level, RuleKind};
use floorwatch_core::{AgentState, EventKind, NotReadyReason, Scope};

const BASE: &str = "2026-03-02T01:00:00Z"; // 09:00 in Shanghai

fn breaks_only() -> &'static str {
    r#"{"default_rules": false, "rules": [
        {"id": "breaks", "kind": "not_ready_overrun", "scope": "centre",
         "allowance_min": {"break": 15, "meal": 30}}
    ]}"#
}

#[test]
fn a_break_overrun_names_the_agent_and_the_reason_and_clears_on_return() {
    let mut day = Script::new(BASE);
    day.login(0.0, "a1");
    day.login(0.0, "a3");
    // a1 ("Li Na") on break from 60 s: more than 15 minutes from 960 s, so raised at the 970 s
    // boundary; back at 1205 s, cleared at the 1210 s boundary.
    day.not_ready(60.0, "a1", NotReadyReason::Break);
    day.state(1205.0, "a1", AgentState::Available);
    // a3 in a meeting for an hour: meetings have no allowance, nothing is raised.
    day.not_ready(60.0, "a3", NotReadyReason::Meeting);
    day.state(3660.0, "a3", AgentState::Available);
    let mut floor = AlertFloor::new(&org(), &config(breaks_only()));
    floor.apply_all(&day.sorted());
    floor.tick(day.at(4000.0));

    let id = format!("breaks/agent:a1@{}", day.at(970.0));
    assert_eq!(
        floor.timeline(day.base),
        vec![format!("raised@970 {id}"), format!("cleared@1210 {id}")]
    );
    let alert = floor.alerts.alert(&id).unwrap();
    assert_eq!(alert.kind, RuleKind::NotReadyOverrun);
    assert_eq!(alert.scope, Scope::Agent("a1".into()));
    assert_eq!(alert.agent_name.as_deref(), Some("Li Na"));
    assert_eq!(alert.reason, Some(NotReadyReason::Break));
    assert_eq!(alert.threshold, 900.0);
    assert_eq!(alert.cleared_at, Some(day.at(1210.0)));
    let summary = alert.summary();
    assert!(
        summary.contains("Li Na") && summary.contains("break"),
        "{summary}"
    );

    // A team lead sees their own team's agents: t1 and above, not t2.
    let engine = &floor.engine;
    for scope in ["agent:a1", "team:t1", "group:g1", "site:north", "centre"] {
        let scope = scope.parse().unwrap();
        assert!(floor.alerts.is_visible_in(alert, &scope, engine), "{scope}");
    }
    for scope in ["team:t2", "agent:a2", "queue:billing"] {
        let scope = scope.parse().unwrap();
        assert!(
            !floor.alerts.is_visible_in(alert, &scope, engine),
            "{scope}"
        );
    }
}

#[test]
fn a_silent_source_raises_a_system_alert_and_its_next_event_clears_it() {
    let rules = config(
        r#"{"default_rules": false, "rules": [
            {"id": "feed", "kind": "source_silent", "silent_s": 120}
        ]}"#,
    );
    let mut day = Script::new(BASE);
    let heartbeat = |agent: &str| EventKind::AgentState {
        agent: agent.into(),
        state: AgentState::Available,
        reason: None,
    };
    // pbx1 reports every 20 s throughout; pbx2 until 60 s, then again from 300 s.
    for s in (0..=600).step_by(20) {
        day.push_from("pbx1", f64::from(s), heartbeat("a1"));
        if !(61..300).contains(&s) {
            day.push_from("pbx2", f64::from(s), heartbeat("a3"));
        }
    }
    let mut floor = AlertFloor::new(&org(), &rules);
    floor.apply_all(&day.sorted());
    floor.tick(day.at(600.0));
    // Last heard at 60 s: silent for 120 s at the 180 s boundary. Heard again at 300 s:
    // cleared at the next boundary, 310 s.
    let id = format!("feed/centre/pbx2@{}", day.at(180.0));
    assert_eq!(
        floor.timeline(day.base),
        vec![format!("raised@180 {id}"), format!("cleared@310 {id}")]
    );
    let alert = floor.alerts.alert(&id).unwrap();
    assert_eq!(alert.kind, RuleKind::SourceSilent);
    assert_eq!(alert.level, Level::Critical);
    assert_eq!(alert.scope, Scope::Centre);
    assert_eq!(alert.source.as_deref(), Some("pbx2"));
    assert_eq!(alert.value, Some(10.0), "silent 10 s when cleared");
}

#[test]
fn quiet_hours_suppress_raising_until_they_end() {
    // Quiet 12:00-13:00 Shanghai (04:00-05:00 UTC). a1's break from 12:10 overruns at 12:25,
    // inside quiet hours: raised at 13:00:00, the first boundary after them. a2's break from
    // 11:40 overran at 11:55 and was raised then; a3's break overran from 12:20 to 12:40 only:
    // never raised.
    let rules = config(
        r#"{"default_rules": false, "rules": [
            {"id": "breaks", "kind": "not_ready_overrun",
             "allowance_min": {"break": 15},
             "quiet_hours": [{"from": "12:00", "to": "13:00"}]}
        ]}"#,
    );
    let mut day = Script::new("2026-03-02T03:00:00Z"); // 11:00 local
    for a in ["a1", "a2", "a3"] {
        day.login(0.0, a);
    }
    day.not_ready(40.0 * 60.0, "a2", NotReadyReason::Break);
    day.not_ready(70.0 * 60.0, "a1", NotReadyReason::Break);
    day.not_ready(65.0 * 60.0, "a3", NotReadyReason::Break);
    day.state(100.0 * 60.0, "a3", AgentState::Available);
    for s in (0..150 * 60).step_by(30) {
        day.push_from(
            "pbx2",
            f64::from(s),
            EventKind::AgentLogin {
                agent: "a4".into(),
                team: None,
            },
        );
    }
    let mut floor = AlertFloor::new(&org(), &rules);
    floor.apply_all(&day.sorted());
    floor.tick(day.at(150.0 * 60.0));
    let raised: Vec<(String, i64)> = floor
        .changes
        .iter()
        .filter_map(|c| match c {
            AlertChange::Raised { alert } => {
                Some((alert.scope.to_string(), (alert.raised_at - day.base) / 1000))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        raised,
        vec![
            ("agent:a2".to_string(), 55 * 60 + 10),
            ("agent:a1".to_string(), 120 * 60)
        ]
    );
}

#[test]
fn quiet_hours_follow_the_local_clock_across_a_dst_change() {
    // New York, 2026-03-08: clocks go from 02:00 EST to 03:00 EDT. Quiet 22:00-07:00 local.
    // a1's break from 05:00 EDT (09:00Z) overruns at 05:15; the quiet hours end at 07:00 EDT,
    // 11:00Z (an hour earlier in UTC than on the day before, at EST).
    let rules = config(
        r#"{"default_rules": false, "rules": [
            {"id": "breaks", "kind": "not_ready_overrun",
             "allowance_min": {"break": 15},
             "quiet_hours": [{"from": "22:00", "to": "07:00"}]}
        ]}"#,
    );
    let mut day = Script::new("2026-03-08T09:00:00Z");
    day.login(0.0, "a1");
    day.not_ready(0.0, "a1", NotReadyReason::Break);
    for s in (0..4 * 3600).step_by(60) {
        day.push_from(
            "pbx2",
            f64::from(s),
            EventKind::AgentLogin {
                agent: "a4".into(),
                team: None,
            },
        );
    }
    let mut floor = AlertFloor::new(&org_in("America/New_York"), &rules);
    floor.apply_all(&day.sorted());
    let raised: Vec<i64> = floor
        .changes
        .iter()
        .filter_map(|c| match c {
            AlertChange::Raised { alert } => Some(alert.raised_at),
            _ => None,
        })
        .collect();
    assert_eq!(raised, vec![alerts_support::ms("2026-03-08T11:00:00Z")]);
}

/// Two break overruns raised at 970 s (a1 and a2, both on break from 60 s), escalating
/// supervisor after 2 minutes and manager after 5.
fn escalating() -> (AlertFloor, Script) {
    let rules = config(
        r#"{"default_rules": false,
            "escalation": [{"role": "team_lead", "after_min": 0},
                           {"role": "supervisor", "after_min": 2},
                           {"role": "manager", "after_min": 5}],
            "rules": [{"id": "breaks", "kind": "not_ready_overrun",
                       "allowance_min": {"break": 15}}]}"#,
    );
    let mut day = Script::new(BASE);
    for a in ["a1", "a2"] {
        day.login(0.0, a);
        day.not_ready(60.0, a, NotReadyReason::Break);
    }
    for s in (0..3000).step_by(30) {
        day.push_from(
            "pbx2",
            f64::from(s),
            EventKind::AgentLogin {
                agent: "a4".into(),
                team: None,
            },
        );
    }
    (AlertFloor::new(&org(), &rules), day)
}

#[test]
fn escalation_steps_after_the_configured_minutes_until_acknowledged() {
    let (mut floor, day) = escalating();
    let events = day.sorted();
    let (before, after): (Vec<_>, Vec<_>) = events.iter().partition(|e| e.ts <= day.at(1030.0));
    for e in before {
        floor.apply(e);
    }
    let a1 = format!("breaks/agent:a1@{}", day.at(970.0));
    let a2 = format!("breaks/agent:a2@{}", day.at(970.0));
    // Li Na's lead acknowledges a1's alert at 1030 s (the floor's event-time clock).
    floor.tick(day.at(1030.0));
    let now = floor.engine.now();
    let change = floor
        .alerts
        .acknowledge(&a1, "lead-t1", "on the phone with HR", now)
        .unwrap();
    assert!(matches!(change, AlertChange::Acknowledged { .. }));
    assert_eq!(
        floor.alerts.acknowledge(&a1, "someone", "", now),
        Err(AlertError::AlreadyAcknowledged {
            id: a1.clone(),
            by: "lead-t1".into()
        })
    );
    assert_eq!(
        floor.alerts.acknowledge("nope", "lead-t1", "", now),
        Err(AlertError::Unknown("nope".into()))
    );
    assert!(
        floor.alerts.acknowledge(&a2, " ", "", now).is_err(),
        "who is required"
    );
    for e in after {
        floor.apply(e);
    }
    floor.tick(day.at(3000.0));

    // a2's alert, unacknowledged: supervisor at 970 + 120 = 1090 s, manager at 970 + 300.
    assert_eq!(
        floor.timeline(day.base),
        vec![
            format!("raised@970 {a1}"),
            format!("raised@970 {a2}"),
            format!("escalated@1090 {a2}"),
            format!("escalated@1270 {a2}"),
        ]
    );
    let alert = floor.alerts.alert(&a2).unwrap();
    assert_eq!(
        (alert.escalation_step, alert.escalated_to),
        (2, EscalationTier::Manager)
    );
    let acked = floor.alerts.alert(&a1).unwrap();
    let ack = acked.acknowledged.as_ref().unwrap();
    assert_eq!(
        (ack.by.as_str(), ack.at, ack.note.as_str()),
        ("lead-t1", day.at(1030.0), "on the phone with HR")
    );
    assert_eq!(
        (acked.escalation_step, acked.escalated_to),
        (0, EscalationTier::TeamLead)
    );
    // The acknowledgement went out in a notification batch too.
    assert!(
        floor
            .batches
            .iter()
            .flat_map(|b| &b.notices)
            .any(|n| n.alert.id == a1 && n.alert.acknowledged.is_some())
    );
}

#[test]
fn alerts_are_never_removed() {
    let mut day = Script::new(BASE);
    day.login(0.0, "a1");
    day.not_ready(60.0, "a1", NotReadyReason::Break);
    day.state(1205.0, "a1", AgentState::Available);
    day.not_ready(2000.0, "a1", NotReadyReason::Meal);
    day.state(4000.0, "a1", AgentState::Available);
    let mut floor = AlertFloor::new(&org(), &config(breaks_only()));
    floor.apply_all(&day.sorted());
    floor.tick(day.at(5000.0));
    // The break (970-1210 s) and the meal (from 2000 s, over 30 minutes at 3810 s, back at
    // 4000 s: cleared at 4010 s).
    let all = floor.alerts.alerts_since(0);
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|a| a.cleared_at.is_some()));
    assert_eq!(all[1].reason, Some(NotReadyReason::Meal));
    assert_eq!(all[1].raised_at, day.at(3810.0));
    // Since a time after the break cleared: the meal only; after everything: nothing changed,
    // nothing open, but the book still holds both.
    let since = floor.alerts.alerts_since(day.at(1300.0));
    assert_eq!(since.len(), 1);
    assert_eq!(since[0].reason, Some(NotReadyReason::Meal));
    assert!(floor.alerts.alerts_since(day.at(4500.0)).is_empty());
    assert_eq!(floor.alerts.book().len(), 2);
}

#[test]
fn a_restart_restores_the_book_from_the_journal_and_carries_on() {
    let (mut reference, day) = escalating();
    let mut events = day.sorted();
    // a2 comes back at 1500 s; a1 at 2500 s.
    let mut tail = Script::new(BASE);
    tail.state(1500.0, "a2", AgentState::Available);
    tail.state(2500.0, "a1", AgentState::Available);
    for (i, mut e) in tail.events.into_iter().enumerate() {
        e.id = format!("tail{i}");
        events.push(e);
    }
    events.sort_by_key(|e| e.ts);
    let restart = day.at(1200.0);
    let ack_at = day.at(1100.0);
    let a1 = format!("breaks/agent:a1@{}", day.at(970.0));

    // Applies events; the lead acknowledges a1's alert at 1100 s (a wall-clock tick then).
    let run = |floor: &mut AlertFloor, events: &[floorwatch_core::Event]| {
        for e in events {
            let acked = floor
                .alerts
                .alert(&a1)
                .is_some_and(|a| a.acknowledged.is_some());
            if e.ts > ack_at && !acked {
                floor.tick(ack_at);
                let change = floor
                    .alerts
                    .acknowledge(&a1, "lead-t1", "", ack_at)
                    .unwrap();
                floor.changes.push(change);
            }
            floor.apply(e);
        }
    };
    run(&mut reference, &events);
    reference.tick(day.at(3000.0));

    // The same day, interrupted at 1200 s: the journal of changes so far is all that survives
    // of the alerts; the events are replayed (observed, not evaluated) and the day goes on.
    let (mut first, _) = escalating();
    let (before, after): (Vec<_>, Vec<_>) = events.iter().cloned().partition(|e| e.ts <= restart);
    run(&mut first, &before);
    let journal: Vec<String> = first
        .changes
        .iter()
        .map(|c| serde_json::to_string(c).unwrap())
        .collect();

    let (mut second, _) = escalating();
    let restored = second.alerts.restore(
        journal
            .iter()
            .map(|line| serde_json::from_str(line).unwrap()),
    );
    assert_eq!(restored.skipped, 0);
    second.evaluating = false;
    second.apply_all(&before);
    second.evaluating = true;
    second.changes = first.changes.clone();
    run(&mut second, &after);
    second.tick(day.at(3000.0));

    assert_eq!(
        second.alerts.alerts_since(0),
        reference.alerts.alerts_since(0)
    );
    assert_eq!(second.changes, reference.changes);
    // Restoring the same journal twice changes nothing the second time.
    let again = second.alerts.restore(
        journal
            .iter()
            .map(|line| serde_json::from_str(line).unwrap()),
    );
    assert_eq!(again.applied, 0);
}

#[test]
fn rules_of_a_restored_alert_that_no_longer_exist_clear_it() {
    let (mut floor, day) = escalating();
    floor.apply_all(&day.sorted()[..]);
    let journal = floor.changes.clone();
    let open = floor.alerts.book().open_alerts().count();
    assert_eq!(open, 2);
    let mut alerts = Alerts::new(&config(r#"{"default_rules": false}"#), &org()).unwrap();
    alerts.restore(journal);
    let later = floor.engine.now() + 10_000;
    floor.engine.tick(later);
    let evaluation = alerts.evaluate(&floor.engine, later - later % 10_000);
    assert_eq!(evaluation.changes.len(), 2);
    assert!(
        evaluation
            .changes
            .iter()
            .all(|c| matches!(c, AlertChange::Cleared { .. }))
    );
    assert_eq!(alerts.alerts_since(0).len(), 2);
}

/// The orphans are looked for once, not at every boundary (issue 15): a journal restored after
/// boundaries were evaluated must be looked through again.
#[test]
fn a_journal_restored_after_evaluating_is_looked_through_for_orphans_again() {
    let (mut floor, day) = escalating();
    floor.apply_all(&day.sorted()[..]);
    let journal = floor.changes.clone();
    let mut alerts = Alerts::new(&config(r#"{"default_rules": false}"#), &org()).unwrap();
    let now = floor.engine.now();
    let first = now - now % 10_000 - 60_000;
    assert!(alerts.evaluate(&floor.engine, first).changes.is_empty());
    alerts.restore(journal);
    let later = now + 10_000;
    floor.engine.tick(later);
    let evaluation = alerts.evaluate(&floor.engine, later - later % 10_000);
    assert_eq!(evaluation.changes.len(), 2);
    assert!(
        evaluation
            .changes
            .iter()
            .all(|c| matches!(c, AlertChange::Cleared { .. }))
    );
}
