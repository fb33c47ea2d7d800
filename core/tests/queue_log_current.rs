//! The queue_log lines of current Asterisk (16, 18, 20) and of QueueMetrics-format
//! installations, one hand-written fixture each under tests/fixtures/queue_log/current/, and
//! a file mixing them all (tests/fixtures/queue_log/current_asterisk_mixed.log): each mapped or
//! deliberately skipped as docs/CTI.md says, no line refused.

mod common;

use common::render;
use floorwatch_core::queue_log::QueueLogReader;
use floorwatch_core::{Engine, Organisation, Scope, Window};

/// Every event the text gives, rendered; panics on a refused line.
fn read(text: &str) -> Vec<String> {
    let outcome = QueueLogReader::new("queue-log:test").read_text(text);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    outcome.events.iter().map(render).collect()
}

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../tests/fixtures/queue_log/current/", $name))
    };
}

#[test]
fn withdraw_is_a_time_out_with_the_switch_wait() {
    assert_eq!(
        read(fixture!("withdraw.log")),
        [
            "1700000000000 call_entered_queue call=1700000000.1 caller=13800000001 direction=inbound priority=0 queue=sales",
            "1700000045000 call_timed_out call=1700000000.1 queue=sales wait_ms=45000",
        ]
    );
}

#[test]
fn enterqueue_with_the_caller_name_keeps_the_number_only() {
    assert_eq!(
        read(fixture!("enterqueue_caller_name.log")),
        [
            "1700000000000 call_entered_queue call=1700000000.2 caller=13800000002 direction=inbound priority=0 queue=sales"
        ]
    );
}

#[test]
fn ringcanceled_ringinuse_outcall_callstatus_info_did_heartbeat_give_nothing() {
    let got = read(fixture!("ringcanceled.log"));
    assert_eq!(got.len(), 4, "{got:#?}"); // entry, login, answer, on call
    assert!(got.iter().all(|e| !e.contains("PJSIP/1001")), "{got:#?}");
    for text in [
        fixture!("ringinuse.log"),
        fixture!("outcall.log"),
        fixture!("callstatus.log"),
        fixture!("info_ivrstart.log"),
        fixture!("did.log"),
        fixture!("heartbeat.log"),
    ] {
        assert_eq!(read(text), Vec::<String>::new(), "{text}");
    }
}

#[test]
fn an_unpause_on_a_reason_change_is_no_moment_of_availability() {
    assert_eq!(
        read(fixture!("unpause_reason_change.log")),
        [
            "1700000000000 agent_login agent=PJSIP/1001",
            "1700000010000 agent_state agent=PJSIP/1001 reason=break state=not_ready",
            "1700000600000 agent_state agent=PJSIP/1001 reason=meal state=not_ready",
            "1700002400000 agent_state agent=PJSIP/1001 state=available",
        ]
    );
}

#[test]
fn pausereason_names_the_reason_of_the_pause_under_way() {
    assert_eq!(
        read(fixture!("pausereason.log")),
        [
            "1700000000000 agent_login agent=PJSIP/1001",
            "1700000010000 agent_state agent=PJSIP/1001 reason=other state=not_ready",
            "1700000010000 agent_state agent=PJSIP/1001 reason=training state=not_ready",
        ]
    );
    // For an agent not paused it says nothing.
    assert_eq!(
        read("1700000010|1.1|NONE|PJSIP/9|PAUSEREASON|Training"),
        Vec::<String>::new()
    );
}

#[test]
fn caller_on_and_off_hold_give_hold_time() {
    let text = fixture!("caller_hold.log");
    assert_eq!(
        read(text),
        [
            "1700000000000 call_entered_queue call=1700000000.6 caller=13800000006 direction=inbound priority=0 queue=sales",
            "1700000005000 agent_login agent=PJSIP/1001",
            "1700000005000 call_answered agent=PJSIP/1001 call=1700000000.6 queue=sales wait_ms=5000",
            "1700000005000 agent_state agent=PJSIP/1001 state=on_call",
            "1700000030000 call_hold_started call=1700000000.6",
            "1700000030000 agent_state agent=PJSIP/1001 state=hold",
            "1700000050000 call_hold_ended call=1700000000.6",
            "1700000050000 agent_state agent=PJSIP/1001 state=on_call",
            "1700000095000 call_ended agent=PJSIP/1001 call=1700000000.6 queue=sales talk_ms=90000",
            "1700000095000 agent_state agent=PJSIP/1001 state=available",
        ]
    );
    // In the figures (docs/METRICS.md): 20 s of hold, talk = calltime - hold.
    let mut engine = Engine::new(&Organisation::default()).unwrap();
    for e in QueueLogReader::new("q").read_text(text).events {
        engine.apply(&e);
    }
    let f = engine.figures(&Scope::Centre, Window::Today).unwrap();
    assert_eq!(f.avg_hold_s, Some(20.0));
    assert_eq!(f.avg_talk_s, Some(70.0));
}

#[test]
fn a_file_mixing_every_current_line_replays_with_no_line_refused() {
    let text = include_str!("../../tests/fixtures/queue_log/current_asterisk_mixed.log");
    let outcome = QueueLogReader::new("queue-log:mixed").read_text(text);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(outcome.lines, 23);
    let got: Vec<String> = outcome.events.iter().map(render).collect();
    for want in [
        "1700000155000 call_timed_out call=1700000110.10 queue=sales wait_ms=45000",
        "1700000030000 call_hold_started call=1700000000.8",
        "1700000160000 agent_state agent=PJSIP/1002 reason=meeting state=not_ready",
        "1700000700000 agent_state agent=PJSIP/1002 reason=meal state=not_ready",
    ] {
        assert!(
            got.iter().any(|g| g == want),
            "{want} missing from {got:#?}"
        );
    }
    assert!(
        !got.iter()
            .any(|g| g.contains("agent=PJSIP/1002 state=available") && g.starts_with("1700000700")),
        "{got:#?}"
    );
}
