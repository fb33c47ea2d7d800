//! queue_log lines → canonical events, line by line, against the hand-written fixture
//! tests/fixtures/queue_log/every_event.log (every app_queue event, docs/CTI.md).

mod common;

use std::collections::HashSet;

use common::render;
use floorwatch_core::Event;
use floorwatch_core::queue_log::QueueLogReader;

const EVERY_EVENT: &str = include_str!("../../tests/fixtures/queue_log/every_event.log");

fn read_fixture(reader: &mut QueueLogReader) -> Vec<(u64, Event)> {
    let mut out = Vec::new();
    for (i, line) in EVERY_EVENT.lines().enumerate() {
        let line_no = i as u64 + 1;
        let events = reader
            .read_line(line_no, line)
            .unwrap_or_else(|e| panic!("{e}"));
        out.extend(events.into_iter().map(|e| (line_no, e)));
    }
    out
}

#[test]
fn every_app_queue_event_maps_as_documented() {
    let mut reader = QueueLogReader::new("queue-log:test");
    let got: Vec<(u64, String)> = read_fixture(&mut reader)
        .iter()
        .map(|(line, e)| (*line, render(e)))
        .collect();
    let expected: Vec<(u64, &str)> = vec![
        // 1 QUEUESTART: housekeeping, nothing.
        (2, "1700000001000 agent_login agent=SIP/1001"),
        // 3 ADDMEMBER to a second queue: already logged in.
        (4, "1700000003000 agent_login agent=Agent/3001"),
        // 5 DID: nothing.
        (
            6,
            "1700000010000 call_entered_queue call=1700000010.1 caller=13812341234 direction=inbound priority=0 queue=billing",
        ),
        // The agent was available and stays so: no state event.
        (
            7,
            "1700000015000 call_ring_no_answer agent=Agent/3001 call=1700000010.1",
        ),
        // 8 SYSCOMPAT, 9 AGENTDUMP: the caller goes on waiting, nothing.
        (
            10,
            "1700000022000 call_answered agent=SIP/1001 call=1700000010.1 queue=billing wait_ms=12000",
        ),
        (10, "1700000022000 agent_state agent=SIP/1001 state=on_call"),
        // 11 PAUSE during the call: applies when it ends.
        (
            12,
            "1700000100000 call_ended agent=SIP/1001 call=1700000010.1 queue=billing talk_ms=78000",
        ),
        (
            12,
            "1700000100000 agent_state agent=SIP/1001 reason=meal state=not_ready",
        ),
        (
            13,
            "1700000101000 agent_state agent=SIP/1001 state=available",
        ),
        // 14 UNPAUSE after UNPAUSEALL: no change.
        (
            15,
            "1700000110250 call_entered_queue call=1700000110.3 caller=13900000000 direction=inbound priority=0 queue=sales",
        ),
        // 16 INFO: nothing.
        (
            17,
            "1700000112500 call_abandoned call=1700000110.3 queue=sales wait_ms=2000",
        ),
        (
            18,
            "1700000120000 call_entered_queue call=1700000120.4 direction=inbound priority=0 queue=sales",
        ),
        (
            19,
            "1700000180000 call_timed_out call=1700000120.4 queue=sales wait_ms=60000",
        ),
        (
            20,
            "1700000200000 call_entered_queue call=1700000200.5 caller=13700000000 direction=inbound priority=0 queue=sales",
        ),
        (
            21,
            "1700000203000 call_timed_out call=1700000200.5 queue=sales wait_ms=3000",
        ),
        (
            22,
            "1700000210000 call_entered_queue call=1700000210.6 caller=13700000001 direction=inbound priority=0 queue=billing",
        ),
        (
            23,
            "1700000224000 call_timed_out call=1700000210.6 queue=billing wait_ms=14000",
        ),
        (
            24,
            "1700000300000 call_entered_queue call=1700000300.7 caller=13600000000 direction=inbound priority=0 queue=billing",
        ),
        // A static member (no ADDMEMBER line) is logged in when first seen working.
        (25, "1700000321000 agent_login agent=Local/2001@agents"),
        (
            25,
            "1700000321000 call_answered agent=Local/2001@agents call=1700000300.7 queue=billing wait_ms=21000",
        ),
        (
            25,
            "1700000321000 agent_state agent=Local/2001@agents state=on_call",
        ),
        (
            26,
            "1700000400000 call_ended agent=Local/2001@agents call=1700000300.7 queue=billing talk_ms=79000",
        ),
        (
            26,
            "1700000400000 agent_state agent=Local/2001@agents state=available",
        ),
        (
            27,
            "1700000500000 call_entered_queue call=1700000500.9 caller=13500000000 direction=inbound priority=0 queue=billing",
        ),
        (
            28,
            "1700000505000 call_answered agent=Agent/3001 call=1700000500.9 queue=billing wait_ms=5000",
        ),
        (
            28,
            "1700000505000 agent_state agent=Agent/3001 state=on_call",
        ),
        // `sales` is a queue seen before: a transfer to a queue.
        (
            29,
            "1700000565000 call_transferred agent=Agent/3001 call=1700000500.9 queue=billing talk_ms=60000 to_queue=sales",
        ),
        (
            29,
            "1700000565000 agent_state agent=Agent/3001 state=available",
        ),
        (
            30,
            "1700000565000 call_entered_queue call=1700000500.9 caller=13500000000 direction=inbound priority=0 queue=sales",
        ),
        (
            31,
            "1700000570000 call_answered agent=SIP/1001 call=1700000500.9 queue=sales wait_ms=5000",
        ),
        (31, "1700000570000 agent_state agent=SIP/1001 state=on_call"),
        (
            32,
            "1700000600000 call_transferred agent=SIP/1001 call=1700000500.9 queue=sales talk_ms=30000 to_external=8001@from-internal",
        ),
        (
            32,
            "1700000600000 agent_state agent=SIP/1001 state=available",
        ),
        (
            33,
            "1700000700000 call_entered_queue call=1700000700.12 caller=13400000000 direction=inbound priority=0 queue=billing",
        ),
        (
            34,
            "1700000708000 call_answered agent=Agent/3001 call=1700000700.12 queue=billing wait_ms=8000",
        ),
        (
            34,
            "1700000708000 agent_state agent=Agent/3001 state=on_call",
        ),
        // ATTENDEDTRANSFER: times counted from the end; a bridge target is not named.
        (
            35,
            "1700000790000 call_transferred agent=Agent/3001 call=1700000700.12 queue=billing talk_ms=82000",
        ),
        (
            35,
            "1700000790000 agent_state agent=Agent/3001 state=available",
        ),
        // One PAUSE line per queue: one state change.
        (
            36,
            "1700000800000 agent_state agent=SIP/1001 reason=training state=not_ready",
        ),
        (
            38,
            "1700000850000 agent_state agent=SIP/1001 state=available",
        ),
        // PAUSEALL (no reason) then the per-queue PAUSE with the reason.
        (
            40,
            "1700000860000 agent_state agent=SIP/1001 reason=other state=not_ready",
        ),
        (
            41,
            "1700000860000 agent_state agent=SIP/1001 reason=break state=not_ready",
        ),
        // 42 CONFIGRELOAD: nothing. 43 REMOVEMEMBER from one queue of two: still logged in.
        (44, "1700000951000 agent_logout agent=SIP/1001"),
        (45, "1700000960000 agent_logout agent=Agent/3001"),
    ];
    let expected: Vec<(u64, String)> = expected
        .into_iter()
        .map(|(l, s)| (l, s.to_string()))
        .collect();
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(g, e, "event {i}");
    }
    assert_eq!(got.len(), expected.len(), "{got:#?}");
}

#[test]
fn the_fixture_covers_every_event_of_the_domain_brief() {
    let events: HashSet<&str> = EVERY_EVENT
        .lines()
        .filter_map(|l| l.split('|').nth(4))
        .collect();
    for name in [
        "ENTERQUEUE",
        "CONNECT",
        "COMPLETECALLER",
        "COMPLETEAGENT",
        "ABANDON",
        "EXITWITHTIMEOUT",
        "EXITEMPTY",
        "EXITWITHKEY",
        "RINGNOANSWER",
        "TRANSFER",
        "ADDMEMBER",
        "REMOVEMEMBER",
        "PAUSE",
        "UNPAUSE",
        "PAUSEALL",
        "UNPAUSEALL",
        "AGENTLOGIN",
        "AGENTLOGOFF",
        "QUEUESTART",
        "CONFIGRELOAD",
        "DID",
        "INFO",
        "ATTENDEDTRANSFER",
        "BLINDTRANSFER",
        "SYSCOMPAT",
        "AGENTDUMP",
    ] {
        assert!(events.contains(name), "{name} missing from the fixture");
    }
}

#[test]
fn ids_are_unique_deterministic_and_valid() {
    let first = read_fixture(&mut QueueLogReader::new("queue-log:a"));
    let again = read_fixture(&mut QueueLogReader::new("queue-log:b"));
    let ids: Vec<&str> = first.iter().map(|(_, e)| e.id.as_str()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate ids");
    // The same file read again (under any source name) gives the same ids: the engine applies
    // a replayed day once.
    let ids_again: Vec<&str> = again.iter().map(|(_, e)| e.id.as_str()).collect();
    assert_eq!(ids, ids_again);
    let mut last_seq = 0;
    for (_, e) in &first {
        e.validate().unwrap();
        assert!(e.seq > last_seq, "seq must increase");
        last_seq = e.seq;
        assert_eq!(e.source, "queue-log:a");
        assert!(!e.test);
    }
}

#[test]
fn outcome_lines_stand_on_their_own() {
    // No ENTERQUEUE seen (the file began mid-call): outcomes still carry queue and wait.
    let mut reader = QueueLogReader::new("q");
    let events = reader
        .read_line(1, "1700000000|9.9|vip|NONE|ABANDON|3|3|17")
        .unwrap();
    assert_eq!(
        render(&events[0]),
        "1700000000000 call_abandoned call=9.9 queue=vip wait_ms=17000"
    );
    // Asterisk 1.4 wrote no waittime on EXITWITHTIMEOUT: the wait comes from the entry.
    let events = reader
        .read_line(2, "1700000000|9.8|vip|NONE|EXITWITHTIMEOUT|1")
        .unwrap();
    assert_eq!(
        render(&events[0]),
        "1700000000000 call_timed_out call=9.8 queue=vip"
    );
}

#[test]
fn read_text_collects_events_and_errors() {
    let outcome = QueueLogReader::new("q").read_text(EVERY_EVENT);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(outcome.lines, EVERY_EVENT.lines().count() as u64);
    let line_by_line = read_fixture(&mut QueueLogReader::new("q"));
    let events: Vec<_> = line_by_line.into_iter().map(|(_, e)| e).collect();
    assert_eq!(outcome.events, events);
}
