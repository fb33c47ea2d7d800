//! `AmiMapper::resync`: after a reconnect, the QueueStatus reply
//! (tests/fixtures/ami/queue_status.txt) brings waiting calls and agents to the switch's state.

mod common;

use common::render;
use floorwatch_core::Organisation;
use floorwatch_core::ami::{AmiDecoder, AmiMapper, AmiMessage, action};
use floorwatch_core::org::QueueConfig;

fn message(pairs: &[(&str, &str)]) -> AmiMessage {
    pairs.iter().map(|(k, v)| (*k, *v)).collect()
}

fn at(s: i64) -> String {
    format!("{s}.000000")
}

/// The QueueStatus reply as a client collects it: up to QueueStatusComplete.
fn status_reply() -> Vec<AmiMessage> {
    let mut decoder = AmiDecoder::new();
    decoder.feed(include_str!("../../tests/fixtures/ami/queue_status.txt").as_bytes());
    let mut out = Vec::new();
    while let Some(m) = decoder.next_message() {
        let m = m.expect("the fixture decodes");
        let done = action::is_list_complete(&m);
        assert_eq!(m.action_id(), Some("qs-1"));
        out.push(m);
        if done {
            break;
        }
    }
    out
}

/// What the mapper saw before the link dropped.
fn before_the_drop(mapper: &mut AmiMapper) {
    let member = |name: &str, seq: &str, ts: i64| {
        message(&[
            ("Event", "QueueMemberAdded"),
            ("SequenceNumber", seq),
            ("Timestamp", &at(ts)),
            ("Queue", "billing"),
            ("MemberName", name),
            ("Paused", "0"),
        ])
    };
    let join = |call: &str, seq: &str, ts: i64| {
        message(&[
            ("Event", "QueueCallerJoin"),
            ("SequenceNumber", seq),
            ("Timestamp", &at(ts)),
            ("Queue", "billing"),
            ("Uniqueid", call),
        ])
    };
    let before = [
        member("Alice", "1", 1_700_000_001),
        member("Bob", "2", 1_700_000_002),
        join("1700000800.19", "3", 1_700_000_800),
        join("1700000900.20", "4", 1_700_000_900),
        message(&[
            ("Event", "AgentCalled"),
            ("SequenceNumber", "5"),
            ("Timestamp", &at(1_700_000_905)),
            ("Queue", "billing"),
            ("Uniqueid", "1700000800.19"),
            ("MemberName", "Alice"),
        ]),
        message(&[
            ("Event", "AgentConnect"),
            ("SequenceNumber", "6"),
            ("Timestamp", &at(1_700_000_910)),
            ("Queue", "billing"),
            ("Uniqueid", "1700000800.19"),
            ("MemberName", "Alice"),
            ("HoldTime", "110"),
        ]),
        join("1700000950.22", "7", 1_700_000_950),
    ];
    for m in &before {
        mapper.map(m, 0);
    }
}

#[test]
fn a_reconnect_brings_calls_and_agents_to_the_switch_state() {
    let org = Organisation {
        queues: vec![QueueConfig {
            id: "billing".into(),
            wrap_up_s: Some(30),
            ..QueueConfig::default()
        }],
        ..Organisation::default()
    };
    let mut mapper = AmiMapper::new("ami:pbx1", &org);
    before_the_drop(&mut mapper);
    assert_eq!(mapper.waiting_calls(), ["1700000900.20", "1700000950.22"]);
    let events: Vec<String> = mapper
        .resync(&status_reply(), 1_700_001_050_000)
        .iter()
        .map(render)
        .collect();
    assert_eq!(
        events,
        [
            // Alice's call ended while the link was down, at her LastCall time; then the
            // queue's 30 s wrap-up, over by the time of the resync.
            "1700001000000 call_ended agent=Alice call=1700000800.19 queue=billing talk_ms=90000",
            "1700001000000 agent_state agent=Alice state=after_call_work",
            // A call that joined during the outage, at its true entry time.
            "1700001020000 call_entered_queue call=1700001020.21 caller=13800000021 direction=inbound priority=0 queue=billing",
            "1700001030000 call_after_call_work_ended call=1700000800.19",
            "1700001030000 agent_state agent=Alice state=available",
            // A call no longer listed left during the outage, how is unknown: timed out.
            "1700001050000 call_timed_out call=1700000950.22 queue=billing wait_ms=100000",
            // Bob is no member anywhere now.
            "1700001050000 agent_logout agent=Bob",
            // Carol joined, paused for a meeting; Dave joined and is on a queue call.
            "1700001050000 agent_login agent=Carol",
            "1700001050000 agent_state agent=Carol reason=meeting state=not_ready",
            "1700001050000 agent_login agent=Dave",
            "1700001050000 agent_state agent=Dave state=on_call",
        ]
    );
    // Nothing stays stuck: the switch's two waiting calls are the mapper's.
    assert_eq!(mapper.waiting_calls(), ["1700000900.20", "1700001020.21"]);
    // A second resync with the same reply changes nothing.
    assert!(mapper.resync(&status_reply(), 1_700_001_051_000).is_empty());
}

#[test]
fn sequence_numbers_start_afresh_after_a_resync() {
    let mut mapper = AmiMapper::new("ami:pbx1", &Organisation::default());
    let join = |call: &str| {
        message(&[
            ("Event", "QueueCallerJoin"),
            ("SequenceNumber", "7"),
            ("Queue", "q"),
            ("Uniqueid", call),
        ])
    };
    assert_eq!(mapper.map(&join("a"), 1_700_000_000_000).len(), 1);
    assert!(
        mapper.map(&join("b"), 1_700_000_001_000).is_empty(),
        "a duplicate"
    );
    // The switch restarted: its numbers begin again.
    mapper.resync(&[], 1_700_000_002_000);
    let after = mapper.map(&join("c"), 1_700_000_003_000);
    assert_eq!(after.len(), 1);
}
