//! docs/EVENTS.md must match the code: every JSON example in it parses and validates, and every
//! event kind has at least one example.

use std::collections::BTreeSet;

use floorwatch_core::Event;

#[test]
fn every_example_parses_and_every_kind_is_documented() {
    let doc = include_str!("../../docs/EVENTS.md");
    let mut kinds = BTreeSet::new();
    let mut in_json = false;
    for line in doc.lines() {
        match line.trim() {
            "```json" => in_json = true,
            "```" => in_json = false,
            json if in_json => {
                let event = Event::from_json(json).unwrap_or_else(|e| {
                    panic!("docs/EVENTS.md example does not parse: {e}\n{json}")
                });
                assert_eq!(Event::from_json(&event.to_json()).unwrap(), event);
                kinds.insert(event.kind.type_name());
            }
            _ => {}
        }
    }
    let all = [
        "agent_login",
        "agent_logout",
        "agent_state",
        "agent_team",
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
    ];
    let missing: Vec<_> = all.iter().filter(|k| !kinds.contains(*k)).collect();
    assert!(
        missing.is_empty(),
        "kinds without an example in docs/EVENTS.md: {missing:?}"
    );
}
