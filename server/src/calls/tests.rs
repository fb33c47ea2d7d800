//! Tests of `calls`.

use super::*;

const T0: Millis = 1_700_000_000_000;

fn event(ts: Millis, kind: EventKind) -> Event {
    Event {
        v: 1,
        id: format!("e{ts}"),
        source: "test".into(),
        seq: 1,
        ts,
        test: false,
        kind,
    }
}

fn enters(call: &str, queue: &str, caller: Option<&str>, ts: Millis) -> Event {
    event(
        ts,
        EventKind::CallEnteredQueue {
            call: call.into(),
            queue: queue.into(),
            priority: 1,
            caller: caller.map(CallerNumber::from),
            direction: Direction::Inbound,
        },
    )
}

fn answered(call: &str, agent: &str, ts: Millis) -> Event {
    event(
        ts,
        EventKind::CallAnswered {
            call: call.into(),
            agent: agent.into(),
            queue: None,
            wait_ms: None,
        },
    )
}

fn abandoned(call: &str, queue: Option<&str>, ts: Millis) -> Event {
    event(
        ts,
        EventKind::CallAbandoned {
            call: call.into(),
            queue: queue.map(str::to_string),
            wait_ms: Some(4_000),
        },
    )
}

fn states(register: &CallRegister, queue: Option<&str>, now: Millis) -> Vec<(String, String)> {
    register
        .calls(queue, now)
        .map(|e| (e.call.to_string(), e.state.as_str().to_string()))
        .collect()
}

#[test]
fn visits_are_listed_waiting_then_with_their_outcome_newest_first() {
    let mut register = CallRegister::new();
    register.observe(&enters("c1", "billing", Some("13812341234"), T0));
    register.observe(&enters("c2", "billing", None, T0 + 1_000));
    register.observe(&enters("c3", "sales", Some("87654321"), T0 + 2_000));
    register.observe(&answered("c1", "a7", T0 + 9_000));
    register.observe(&abandoned("c2", None, T0 + 10_000));
    assert_eq!(
        states(&register, Some("billing"), T0 + 10_000),
        vec![
            ("c2".into(), "abandoned".into()),
            ("c1".into(), "answered".into())
        ]
    );
    let c1 = register.call("c1", T0 + 10_000).unwrap().view();
    assert_eq!(c1.caller.as_deref(), Some("138****1234"));
    assert_eq!(c1.agent.as_deref(), Some("a7"));
    assert_eq!((c1.entered, c1.left), (T0, Some(T0 + 9_000)));
    assert_eq!(c1.priority, 1);
    let c3 = register.call("c3", T0 + 10_000).unwrap();
    assert_eq!(c3.full_caller(), Some("87654321"));
    assert_eq!(c3.view().caller.as_deref(), Some("******21"));
    assert_eq!(c3.state, CallState::Waiting);
}

#[test]
fn outcomes_older_than_an_hour_of_event_time_are_forgotten_waiting_calls_are_not() {
    let mut register = CallRegister::new();
    register.observe(&enters("c1", "billing", Some("13812341234"), T0));
    register.observe(&enters("c2", "billing", Some("13812349999"), T0 + 1_000));
    register.observe(&answered("c1", "a7", T0 + 5_000));
    // Listed up to exactly an hour after the outcome, gone after.
    let hour_later = T0 + 5_000 + RECENT_MS;
    assert_eq!(register.calls(None, hour_later).count(), 2);
    assert!(register.call("c1", hour_later + 1).is_none());
    assert_eq!(
        states(&register, None, hour_later + 1),
        vec![("c2".into(), "waiting".into())]
    );
    register.forget_before(hour_later + 1);
    assert_eq!(register.len(), 1, "the memory goes too");
    // A call waiting for six hours lost its outcome in the feed.
    register.forget_before(T0 + 1_000 + STUCK_MS + 1);
    assert!(register.is_empty());
}

#[test]
fn test_calls_are_never_registered() {
    let mut register = CallRegister::new();
    let mut test_call = enters("t1", "billing", Some("13812341234"), T0);
    test_call.test = true;
    register.observe(&test_call);
    assert!(register.is_empty());
}

#[test]
fn a_call_moved_to_another_queue_is_a_new_visit_that_keeps_its_number() {
    let mut register = CallRegister::new();
    register.observe(&enters("c1", "billing", Some("13812341234"), T0));
    register.observe(&event(
        T0 + 30_000,
        EventKind::CallTimedOut {
            call: "c1".into(),
            queue: None,
            wait_ms: None,
            overflow_to: Some("sales".into()),
        },
    ));
    register.observe(&enters("c1", "sales", None, T0 + 30_000));
    register.observe(&answered("c1", "a2", T0 + 40_000));
    let now = T0 + 40_000;
    assert_eq!(
        states(&register, Some("billing"), now),
        vec![("c1".into(), "timed_out".into())]
    );
    assert_eq!(
        states(&register, Some("sales"), now),
        vec![("c1".into(), "answered".into())]
    );
    let latest = register.call("c1", now).unwrap();
    assert_eq!(&*latest.queue, "sales");
    assert_eq!(latest.full_caller(), Some("13812341234"));

    // Re-entering elsewhere while still waiting ends the first visit as transferred.
    register.observe(&enters("c9", "billing", Some("13800000000"), now));
    register.observe(&enters("c9", "vip", None, now + 1_000));
    assert_eq!(
        states(&register, Some("billing"), now + 1_000)[0],
        ("c9".into(), "transferred".into())
    );
}

#[test]
fn an_entry_after_its_outcome_fills_in_the_same_visit() {
    let mut register = CallRegister::new();
    register.observe(&abandoned("c1", Some("billing"), T0 + 4_000));
    register.observe(&enters("c1", "billing", Some("13812341234"), T0));
    let listed: Vec<_> = register.calls(None, T0 + 4_000).collect();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].state, CallState::Abandoned);
    assert_eq!(listed[0].entered, T0);
    assert_eq!(listed[0].full_caller(), Some("13812341234"));
    // An outcome without the queue and without a visit tells nothing to list.
    register.observe(&answered("ghost", "a1", T0));
    assert!(register.call("ghost", T0).is_none());
    // A second outcome does not overwrite the first.
    register.observe(&answered("c1", "a1", T0 + 5_000));
    assert_eq!(
        register.call("c1", T0 + 5_000).unwrap().state,
        CallState::Abandoned
    );
}

#[test]
fn the_register_is_bounded_and_drops_the_oldest_outcome_first() {
    let mut register = CallRegister::new();
    register.observe(&enters("first", "q", Some("13812341234"), T0));
    for i in 0..MAX_CALLS as i64 {
        let call = format!("c{i}");
        register.observe(&enters(&call, "q", None, T0 + i));
        register.observe(&answered(&call, "a", T0 + i + 1));
    }
    assert_eq!(register.len(), MAX_CALLS);
    assert!(
        register.call("first", T0 + 1).is_some(),
        "a waiting call outlives finished ones"
    );
    assert!(
        register.call("c0", T0 + 1).is_none(),
        "the oldest outcome went"
    );
    assert!(register.call("c1", T0 + 1).is_some());
}

#[test]
fn debug_output_shows_the_masked_number_only() {
    let mut register = CallRegister::new();
    register.observe(&enters("c1", "billing", Some("13812341234"), T0));
    let text = format!("{register:?}");
    assert!(!text.contains("13812341234"), "{text}");
    assert!(text.contains("138****1234"), "{text}");
}

#[test]
fn ids_are_shared_and_those_no_entry_names_are_let_go() {
    let mut names = Names::default();
    let kept = names.get("billing");
    assert!(std::sync::Arc::ptr_eq(&kept, &names.get("billing")));
    for i in 0..MAX_NAMES {
        names.get(&format!("a{i}"));
    }
    // The clear-out at MAX_NAMES let go of every id but the one still held.
    assert!(names.0.len() < MAX_NAMES / 2);
    assert!(std::sync::Arc::ptr_eq(&kept, &names.get("billing")));
    assert_eq!(&*names.get("a7"), "a7");
}
