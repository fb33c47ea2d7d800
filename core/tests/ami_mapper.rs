//! AMI events → canonical events, against the hand-written session
//! tests/fixtures/ami/every_event.txt (every event the mapper reads, docs/CTI.md).

mod common;

use common::render;
use floorwatch_core::ami::{AmiDecoder, AmiMapper, AmiMessage};
use floorwatch_core::org::QueueConfig;
use floorwatch_core::{Event, Organisation};

const SESSION: &str = include_str!("../../tests/fixtures/ami/every_event.txt");

fn decode(text: &str, chunk: usize) -> Vec<AmiMessage> {
    let mut decoder = AmiDecoder::new();
    let mut out = Vec::new();
    for part in text.as_bytes().chunks(chunk) {
        decoder.feed(part);
        while let Some(message) = decoder.next_message() {
            out.push(message.expect("the fixture decodes"));
        }
    }
    out
}

fn org() -> Organisation {
    Organisation {
        queues: vec![QueueConfig {
            id: "billing".into(),
            wrap_up_s: Some(30),
            ..QueueConfig::default()
        }],
        ..Organisation::default()
    }
}

/// Maps every message at `received_at` = the index (seconds after 1700000000), then ticks far
/// ahead so nothing is left pending.
fn map_all(mapper: &mut AmiMapper, messages: &[AmiMessage]) -> Vec<Event> {
    let mut events = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        events.extend(mapper.map(m, 1_700_000_000_000 + i as i64 * 1000));
    }
    events.extend(mapper.tick(1_800_000_000_000));
    events
}

#[test]
fn every_mapped_event_gives_the_documented_canonical_events() {
    let mut mapper = AmiMapper::new("ami:pbx1", &org());
    let events = map_all(&mut mapper, &decode(SESSION, 4096));
    let got: Vec<String> = events.iter().map(render).collect();
    let expected = [
        "1700000001000 agent_login agent=Alice",
        "1700000002000 agent_login agent=Bob",
        // QueueMemberStatus with nothing new: nothing.
        "1700000010000 call_entered_queue call=1700000010.1 caller=13812341234 direction=inbound priority=0 queue=billing",
        "1700000012000 call_offered agent=Alice call=1700000010.1",
        "1700000012000 agent_state agent=Alice state=ringing",
        "1700000027000 call_ring_no_answer agent=Alice call=1700000010.1",
        "1700000027000 agent_state agent=Alice state=available",
        // autopause
        "1700000027000 agent_state agent=Alice reason=other state=not_ready",
        "1700000027500 call_offered agent=Bob call=1700000010.1",
        "1700000027500 agent_state agent=Bob state=ringing",
        // QueueCallerLeave then AgentConnect: answered, with the switch's HoldTime.
        "1700000030000 call_answered agent=Bob call=1700000010.1 queue=billing wait_ms=20000",
        "1700000030000 agent_state agent=Bob state=on_call",
        // Hold / Unhold on the agent's channel.
        "1700000040000 call_hold_started call=1700000010.1",
        "1700000040000 agent_state agent=Bob state=hold",
        "1700000050000 call_hold_ended call=1700000010.1",
        "1700000050000 agent_state agent=Bob state=on_call",
        // billing has wrap_up_s = 30: after-call work until 150.
        "1700000120000 call_ended agent=Bob call=1700000010.1 queue=billing talk_ms=90000",
        "1700000120000 agent_state agent=Bob state=after_call_work",
        // The repeated SequenceNumber 114 is dropped.
        "1700000125000 agent_state agent=Alice state=available",
        "1700000130000 call_entered_queue call=1700000130.4 caller=13900000000 direction=inbound priority=0 queue=sales",
        // QueueCallerAbandon + Hangup 0.2 s later: abandoned, at the abandon's time.
        "1700000134000 call_abandoned call=1700000130.4 queue=sales wait_ms=4000",
        // Released by the next message (at 160), at its own time.
        "1700000150000 call_after_call_work_ended call=1700000010.1",
        "1700000150000 agent_state agent=Bob state=available",
        "1700000160000 call_entered_queue call=1700000160.5 caller=13700000000 direction=inbound priority=0 queue=billing",
        // QueueCallerAbandon with the caller still in the dialplan after the grace: timed out.
        "1700000220000 call_timed_out call=1700000160.5 queue=billing wait_ms=60000",
        "1700000230000 call_entered_queue call=1700000230.6 caller=13600000000 direction=inbound priority=0 queue=billing",
        "1700000232000 call_offered agent=Alice call=1700000230.6",
        "1700000232000 agent_state agent=Alice state=ringing",
        "1700000235000 call_answered agent=Alice call=1700000230.6 queue=billing wait_ms=5000",
        "1700000235000 agent_state agent=Alice state=on_call",
        // BlindTransfer names the target; AgentComplete (Reason: transfer) ends the talk.
        "1700000300000 call_transferred agent=Alice call=1700000230.6 queue=billing talk_ms=65000 to_external=5000@from-internal",
        "1700000300000 agent_state agent=Alice state=after_call_work",
        // A pause reading "ACW" holds the after-call work until the unpause.
        "1700000400000 call_after_call_work_ended call=1700000230.6",
        "1700000400000 agent_state agent=Alice state=available",
        "1700000410000 call_entered_queue call=1700000410.8 caller=13500000000 direction=inbound priority=0 queue=sales",
        "1700000415000 call_answered agent=Bob call=1700000410.8 queue=sales wait_ms=5000",
        "1700000415000 agent_state agent=Bob state=on_call",
        // sales has no wrap-up: straight back to available.
        "1700000500000 call_transferred agent=Bob call=1700000410.8 queue=sales talk_ms=85000 to_external=6001",
        "1700000500000 agent_state agent=Bob state=available",
        "1700000510000 call_entered_queue call=1700000510.11 caller=13400000000 direction=inbound priority=0 queue=sales",
        // QueueCallerLeave with no AgentConnect (exit key): timed out, wait from the entry.
        "1700000512000 call_timed_out call=1700000510.11 queue=sales wait_ms=2000",
        "1700000530000 call_entered_queue call=1700000530.12 caller=13300000000 direction=inbound priority=0 queue=billing",
        // A Hangup while waiting: abandoned even without QueueCallerAbandon.
        "1700000533000 call_abandoned call=1700000530.12 queue=billing wait_ms=3000",
        "1700000540000 agent_state agent=Bob reason=training state=not_ready",
        // Removed from billing, still in sales (seen working there); then from sales: logout.
        "1700000601000 agent_logout agent=Bob",
        // The late AgentConnect (SequenceNumber 100) for the abandoned call 1700000130.4: ignored.
    ];
    for (i, (g, e)) in got.iter().zip(expected.iter()).enumerate() {
        assert_eq!(g, e, "event {i}");
    }
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    assert_eq!(mapper.duplicates(), 1);
    assert!(mapper.waiting_calls().is_empty());
}

#[test]
fn line_endings_and_chunking_do_not_change_the_events() {
    let reference: Vec<String> = map_all(
        &mut AmiMapper::new("ami:pbx1", &org()),
        &decode(SESSION, 4096),
    )
    .iter()
    .map(render)
    .collect();
    let crlf = SESSION.replace('\n', "\r\n");
    for (text, chunk) in [
        (SESSION, 1),
        (SESSION, 7),
        (crlf.as_str(), 3),
        (crlf.as_str(), 1000),
    ] {
        let events: Vec<String> = map_all(
            &mut AmiMapper::new("ami:pbx1", &org()),
            &decode(text, chunk),
        )
        .iter()
        .map(render)
        .collect();
        assert_eq!(events, reference, "chunk {chunk}");
    }
}

#[test]
fn ids_are_unique_and_every_event_validates() {
    let events = map_all(
        &mut AmiMapper::new("ami:pbx1", &org()),
        &decode(SESSION, 4096),
    );
    let ids: std::collections::HashSet<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), events.len());
    let mut last = 0;
    for e in &events {
        e.validate().unwrap_or_else(|err| panic!("{err}: {e:?}"));
        assert_eq!(e.source, "ami:pbx1");
        assert!(e.seq > last);
        last = e.seq;
    }
}

#[test]
fn asterisk_11_names_and_received_times_are_understood() {
    let messages = decode(include_str!("../../tests/fixtures/ami/asterisk11.txt"), 64);
    let mut mapper = AmiMapper::new("ami:old", &Organisation::default());
    let got: Vec<String> = map_all(&mut mapper, &messages).iter().map(render).collect();
    // No Timestamp header: each message is timed by its receive time (its index, here).
    assert_eq!(
        got,
        [
            "1700000000000 agent_login agent=Carol",
            "1700000001000 call_entered_queue call=1400000000.10 caller=13700000000 direction=inbound priority=0 queue=support",
            "1700000002000 call_offered agent=Carol call=1400000000.10",
            "1700000002000 agent_state agent=Carol state=ringing",
            "1700000004000 call_answered agent=Carol call=1400000000.10 queue=support wait_ms=7000",
            "1700000004000 agent_state agent=Carol state=on_call",
            "1700000005000 call_hold_started call=1400000000.10",
            "1700000005000 agent_state agent=Carol state=hold",
            "1700000006000 call_hold_ended call=1400000000.10",
            "1700000006000 agent_state agent=Carol state=on_call",
            "1700000007000 call_ended agent=Carol call=1400000000.10 queue=support talk_ms=33000",
            "1700000007000 agent_state agent=Carol state=available",
            "1700000008000 agent_state agent=Carol reason=meal state=not_ready",
            "1700000009000 agent_logout agent=Carol",
        ]
    );
}

fn message(pairs: &[(&str, &str)]) -> AmiMessage {
    pairs.iter().map(|(k, v)| (*k, *v)).collect()
}

#[test]
fn wrap_up_ends_exactly_on_time_when_ticked() {
    let mut mapper = AmiMapper::new("ami:pbx1", &org());
    let t = 1_700_000_000_000;
    let complete = message(&[
        ("Event", "AgentComplete"),
        ("Queue", "billing"),
        ("Uniqueid", "c1"),
        ("MemberName", "Alice"),
        ("HoldTime", "3"),
        ("TalkTime", "40"),
        ("Reason", "agent"),
    ]);
    let events: Vec<String> = mapper.map(&complete, t).iter().map(render).collect();
    // The AgentConnect was missed: HoldTime and TalkTime place the answer 40 s back.
    assert_eq!(
        events,
        [
            "1699999960000 call_answered agent=Alice call=c1 queue=billing wait_ms=3000",
            "1700000000000 agent_login agent=Alice",
            "1700000000000 call_ended agent=Alice call=c1 queue=billing talk_ms=40000",
            "1700000000000 agent_state agent=Alice state=after_call_work",
        ]
    );
    assert!(mapper.tick(t + 29_999).is_empty());
    let ended: Vec<String> = mapper.tick(t + 31_000).iter().map(render).collect();
    assert_eq!(
        ended,
        [
            "1700000030000 call_after_call_work_ended call=c1",
            "1700000030000 agent_state agent=Alice state=available",
        ]
    );
}

#[test]
fn an_abandon_without_hangup_is_a_time_out_once_the_grace_passes() {
    let mut mapper = AmiMapper::new("ami:pbx1", &Organisation::default()).with_abandon_grace(1_000);
    let t = 1_700_000_000_000;
    let join = message(&[
        ("Event", "QueueCallerJoin"),
        ("Queue", "q"),
        ("Uniqueid", "c1"),
    ]);
    let abandon = message(&[
        ("Event", "QueueCallerAbandon"),
        ("Queue", "q"),
        ("Uniqueid", "c1"),
        ("HoldTime", "30"),
    ]);
    mapper.map(&join, t);
    assert!(mapper.map(&abandon, t + 30_000).is_empty());
    assert!(mapper.tick(t + 31_000).is_empty(), "within the grace");
    let out: Vec<String> = mapper.tick(t + 31_001).iter().map(render).collect();
    assert_eq!(
        out,
        ["1700000030000 call_timed_out call=c1 queue=q wait_ms=30000"]
    );
    // A Hangup much later changes nothing.
    let hangup = message(&[("Event", "Hangup"), ("Uniqueid", "c1")]);
    assert!(mapper.map(&hangup, t + 90_000).is_empty());
}

#[test]
fn a_call_joined_before_the_mapper_started_still_gets_its_outcome() {
    let mut mapper = AmiMapper::new("ami:pbx1", &Organisation::default());
    let t = 1_700_000_000_000;
    let abandon = message(&[
        ("Event", "QueueCallerAbandon"),
        ("Queue", "q"),
        ("Uniqueid", "c9"),
        ("HoldTime", "12"),
    ]);
    let hangup = message(&[("Event", "Hangup"), ("Uniqueid", "c9")]);
    mapper.map(&abandon, t);
    let out: Vec<String> = mapper.map(&hangup, t + 100).iter().map(render).collect();
    assert_eq!(
        out,
        ["1700000000000 call_abandoned call=c9 queue=q wait_ms=12000"]
    );
}

#[test]
fn noise_and_oversized_identifiers_are_skipped() {
    let mut mapper = AmiMapper::new("ami:pbx1", &Organisation::default());
    let t = 1_700_000_000_000;
    for m in [
        message(&[("Response", "Success"), ("Ping", "Pong")]),
        message(&[("Event", "Newchannel"), ("Uniqueid", "x")]),
        message(&[("Event", "QueueCallerJoin"), ("Queue", "q")]),
        message(&[("Event", "AgentConnect"), ("Uniqueid", "x")]),
        message(&[
            ("Event", "QueueCallerJoin"),
            ("Queue", &"q".repeat(300)),
            ("Uniqueid", "y"),
        ]),
        message(&[
            ("Event", "QueueCallerJoin"),
            ("Queue", "q"),
            ("Uniqueid", "z"),
            ("Timestamp", "garbage"),
        ]),
    ] {
        for e in mapper.map(&m, t) {
            // Only the last one maps, timed by its receive time.
            assert_eq!(
                render(&e),
                "1700000000000 call_entered_queue call=z direction=inbound priority=0 queue=q"
            );
        }
    }
}

fn stamped(pairs: &[(&str, &str)], seconds: f64) -> AmiMessage {
    let mut m = message(pairs);
    m.push("Timestamp", format!("{seconds:.6}"));
    m
}

#[test]
fn an_overflow_to_another_queue_ends_the_first_leg_as_timed_out() {
    let mut mapper = AmiMapper::new("ami:pbx1", &Organisation::default());
    let t = 1_700_000_000.0;
    let messages = [
        stamped(
            &[
                ("Event", "QueueCallerJoin"),
                ("Queue", "a"),
                ("Uniqueid", "c1"),
            ],
            t,
        ),
        stamped(
            &[
                ("Event", "QueueCallerAbandon"),
                ("Queue", "a"),
                ("Uniqueid", "c1"),
                ("HoldTime", "60"),
            ],
            t + 60.0,
        ),
        stamped(
            &[
                ("Event", "QueueCallerLeave"),
                ("Queue", "a"),
                ("Uniqueid", "c1"),
            ],
            t + 60.0,
        ),
        // The dialplan sends the caller straight on to queue b.
        stamped(
            &[
                ("Event", "QueueCallerJoin"),
                ("Queue", "b"),
                ("Uniqueid", "c1"),
            ],
            t + 60.1,
        ),
        stamped(
            &[
                ("Event", "AgentConnect"),
                ("Queue", "b"),
                ("Uniqueid", "c1"),
                ("MemberName", "A"),
                ("HoldTime", "9"),
            ],
            t + 69.0,
        ),
    ];
    let got: Vec<String> = messages
        .iter()
        .flat_map(|m| mapper.map(m, 0))
        .map(|e| render(&e))
        .collect();
    assert_eq!(
        got,
        [
            "1700000000000 call_entered_queue call=c1 direction=inbound priority=0 queue=a",
            "1700000060000 call_timed_out call=c1 queue=a wait_ms=60000",
            "1700000060100 call_entered_queue call=c1 direction=inbound priority=0 queue=b",
            "1700000069000 agent_login agent=A",
            "1700000069000 call_answered agent=A call=c1 queue=b wait_ms=9000",
            "1700000069000 agent_state agent=A state=on_call",
        ]
    );
}

#[test]
fn a_transfer_into_a_queue_ends_the_segment_and_starts_a_new_leg_in_either_order() {
    let t = 1_700_000_000.0;
    let connect = stamped(
        &[
            ("Event", "AgentConnect"),
            ("Queue", "a"),
            ("Uniqueid", "c1"),
            ("MemberName", "A"),
            ("HoldTime", "5"),
            ("DestUniqueid", "ag1"),
        ],
        t,
    );
    let transfer = stamped(
        &[
            ("Event", "BlindTransfer"),
            ("Result", "Success"),
            ("TransfererUniqueid", "ag1"),
            ("TransfereeUniqueid", "c1"),
            ("Context", "queues"),
            ("Extension", "b"),
        ],
        t + 30.0,
    );
    let complete = stamped(
        &[
            ("Event", "AgentComplete"),
            ("Queue", "a"),
            ("Uniqueid", "c1"),
            ("MemberName", "A"),
            ("HoldTime", "5"),
            ("TalkTime", "30"),
            ("Reason", "transfer"),
        ],
        t + 30.0,
    );
    let join_b = stamped(
        &[
            ("Event", "QueueCallerJoin"),
            ("Queue", "b"),
            ("Uniqueid", "c1"),
        ],
        t + 30.0,
    );
    let params = message(&[("Event", "QueueParams"), ("Queue", "b")]);
    for order in [
        [&connect, &transfer, &complete, &join_b],
        [&connect, &transfer, &join_b, &complete],
    ] {
        let mut mapper = AmiMapper::new("ami:pbx1", &Organisation::default());
        // Queue b is known from a QueueStatus reply.
        mapper.resync(std::slice::from_ref(&params), 1_699_999_999_000);
        let mut got: Vec<String> = order
            .iter()
            .flat_map(|m| mapper.map(m, 0))
            .map(|e| render(&e))
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                "1700000000000 agent_login agent=A",
                "1700000000000 agent_state agent=A state=on_call",
                "1700000000000 call_answered agent=A call=c1 queue=a wait_ms=5000",
                "1700000030000 agent_state agent=A state=available",
                "1700000030000 call_entered_queue call=c1 direction=inbound priority=0 queue=b",
                "1700000030000 call_transferred agent=A call=c1 queue=a talk_ms=30000 to_queue=b",
            ]
        );
        assert_eq!(mapper.waiting_calls(), ["c1"]);
    }
}

#[test]
fn the_session_gives_the_figures_worked_out_by_hand() {
    use floorwatch_core::{Engine, Scope, Window};
    // billing: call 1 answered (wait 20, within), call 3 timed out (60), call 4 answered (5),
    //   call 7 abandoned (3, short) → offered 4, SL = 2 / (4 − 1) = 66.67 %;
    //   talk: call 1 90 s − 10 s hold = 80, call 4 65 → 72.5 s; hold 10 s over 1 held call;
    //   after-call work: call 1 30 s (wrap-up), call 4 100 s (ACW pause) → 65 s.
    // sales: call 2 abandoned (4, short), call 5 answered (5), call 6 timed out (2)
    //   → offered 3, SL = 1 / (3 − 1) = 50 %; talk 85 s; no hold, no after-call work.
    let mut engine = Engine::new(&org()).unwrap();
    for e in map_all(
        &mut AmiMapper::new("ami:pbx1", &org()),
        &decode(SESSION, 4096),
    ) {
        engine.apply(&e);
    }
    let billing = engine
        .figures(&Scope::Queue("billing".into()), Window::Today)
        .unwrap();
    assert_eq!(
        (
            billing.offered,
            billing.answered,
            billing.abandoned,
            billing.short_abandoned,
            billing.timed_out,
            billing.answered_within_threshold,
            billing.handled
        ),
        (4, 2, 1, 1, 1, 2, 2)
    );
    let pct = billing.service_level_pct.unwrap();
    assert!((pct - 200.0 / 3.0).abs() < 1e-9, "{pct}");
    assert_eq!(billing.avg_talk_s, Some(72.5));
    assert_eq!(billing.avg_hold_s, Some(10.0));
    assert_eq!(billing.avg_acw_s, Some(65.0));
    assert_eq!(billing.max_wait_s, Some(60.0));
    let sales = engine
        .figures(&Scope::Queue("sales".into()), Window::Today)
        .unwrap();
    assert_eq!(
        (
            sales.offered,
            sales.answered,
            sales.abandoned,
            sales.short_abandoned,
            sales.timed_out,
            sales.handled
        ),
        (3, 1, 1, 1, 1, 1)
    );
    assert_eq!(sales.service_level_pct, Some(50.0));
    assert_eq!(sales.avg_talk_s, Some(85.0));
    assert_eq!(sales.avg_hold_s, None);
    assert_eq!(sales.avg_acw_s, None);
    assert_eq!(billing.waiting_now + sales.waiting_now, 0);
}
