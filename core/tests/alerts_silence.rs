//! Expected silence (docs/ALERTS.md): outside the centre's opening hours, and while nobody is
//! signed in, a quiet feed is no alarm; the condition is still timed and raises at the first
//! boundary after, if it still holds.

mod alerts_support;

use alerts_support::{AlertFloor, Script, config, org_in};
use floorwatch_core::AgentState;

/// Only a 5-minute silence rule.
const SILENT: &str = r#"{"default_rules": false, "rules": [
    {"id": "silent", "kind": "source_silent", "silent_s": 300}]}"#;

fn silences(floor: &AlertFloor, base: i64) -> Vec<String> {
    floor
        .timeline(base)
        .into_iter()
        .filter(|line| line.starts_with("raised"))
        .collect()
}

#[test]
fn a_feed_silent_while_nobody_is_signed_in_raises_nothing() {
    // 2026-03-02T01:00Z is 09:00 in Shanghai. One call enters at 0 s, then nothing for an
    // hour; nobody ever signs in.
    let org = org_in("Asia/Shanghai");
    let mut day = Script::new("2026-03-02T01:00:00Z");
    day.enter(0.0, "c1", "billing");
    day.abandon(20.0, "c1");
    let mut floor = AlertFloor::new(&org, &config(SILENT));
    floor.apply_all(&day.sorted());
    floor.tick(day.at(3_600.0));
    assert_eq!(silences(&floor, day.base), Vec::<String>::new());

    // With an agent signed in, the same silence is a system problem: raised at 320 s.
    let mut day = Script::new("2026-03-02T01:00:00Z");
    day.login(0.0, "a1");
    day.state(1.0, "a1", AgentState::Available);
    day.enter(10.0, "c1", "billing");
    day.abandon(20.0, "c1");
    let mut floor = AlertFloor::new(&org, &config(SILENT));
    floor.apply_all(&day.sorted());
    floor.tick(day.at(3_600.0));
    assert_eq!(
        silences(&floor, day.base),
        vec![format!("raised@320 silent/centre/pbx1@{}", day.at(320.0))]
    );
}

#[test]
fn outside_opening_hours_silence_waits_for_the_opening() {
    // Open 09:30 to 18:00 (Shanghai). An agent signs in at 09:00 and the feed falls silent at
    // 09:00:10: no alert before 09:30, raised at the opening (the silence held all along).
    let mut org = org_in("Asia/Shanghai");
    org.centre.opening_hours = Some(serde_json::from_str(r#"{"mon": ["09:30-18:00"]}"#).unwrap());
    let mut day = Script::new("2026-03-02T01:00:00Z");
    day.login(0.0, "a1");
    day.state(10.0, "a1", AgentState::Available);
    let mut floor = AlertFloor::new(&org, &config(SILENT));
    floor.skipping = true;
    floor.apply_all(&day.sorted());
    floor.tick(day.at(3_600.0));
    assert_eq!(
        silences(&floor, day.base),
        vec![format!(
            "raised@1800 silent/centre/pbx1@{}",
            day.at(1_800.0)
        )]
    );
}

#[test]
fn the_service_level_rule_is_quiet_while_the_centre_is_closed() {
    // Closed on Mondays: ten slow answers in billing raise nothing; the same on an open day
    // raise the default service-level alert.
    let slow_morning = || {
        let mut day = Script::new("2026-03-02T01:00:00Z");
        day.login(0.0, "a1");
        for i in 0..10 {
            let s = 60.0 * f64::from(i);
            day.enter(s, &format!("c{i}"), "billing");
            day.answer(s + 60.0, &format!("c{i}"), "a1");
        }
        day
    };
    let service_level = |floor: &AlertFloor, base: i64| -> Vec<String> {
        silences(floor, base)
            .into_iter()
            .filter(|l| l.contains("service-level/"))
            .collect()
    };
    let open = org_in("Asia/Shanghai");
    let mut closed = org_in("Asia/Shanghai");
    closed.centre.opening_hours =
        Some(serde_json::from_str(r#"{"tue": ["00:00-24:00"]}"#).unwrap());
    for (org, raises) in [(open, true), (closed, false)] {
        let day = slow_morning();
        let mut floor = AlertFloor::new(&org, &Default::default());
        floor.apply_all(&day.sorted());
        floor.tick(day.at(1_800.0));
        assert_eq!(
            !service_level(&floor, day.base).is_empty(),
            raises,
            "{:?}",
            floor.timeline(day.base)
        );
    }
}
