//! Abandoned or timed out, on every dialplan (docs/CTI.md, "Abandoned or timed out"), against
//! the hand-written sessions tests/fixtures/ami/dialplans_asterisk{16,18,20}.txt: the header
//! layouts of Asterisk 16, 18 and 20 with `timestampevents = yes` and manager `debug = on`
//! (`SequenceNumber` from 0, `File`, `Line`, `Func`; `SystemName` and `Tenantid` where set).
//! Each holds the same seven callers: answered; hung up while waiting; timed out then
//! voicemail; timed out then an immediate `Hangup()`; leave-when-empty (EXITEMPTY) then
//! `Hangup()`; exit with a key (EXITWITHKEY); hung up one second before the time-out.

use floorwatch_core::ami::{AmiDecoder, AmiMapper, AmiMessage};
use floorwatch_core::{Event, EventKind, Organisation};

const SESSIONS: [(&str, &str); 3] = [
    (
        "16",
        include_str!("../../tests/fixtures/ami/dialplans_asterisk16.txt"),
    ),
    (
        "18",
        include_str!("../../tests/fixtures/ami/dialplans_asterisk18.txt"),
    ),
    (
        "20",
        include_str!("../../tests/fixtures/ami/dialplans_asterisk20.txt"),
    ),
];

/// Every caller's outcome: (call, outcome, time of leaving, wait in ms).
const OUTCOMES: [(&str, &str, i64, i64); 7] = [
    ("1700000010.1", "answered", 1_700_000_015_500, 5_000),
    ("1700000100.3", "abandoned", 1_700_000_112_400, 12_000),
    ("1700000200.4", "timed_out", 1_700_000_230_000, 30_000),
    ("1700000300.5", "timed_out", 1_700_000_330_000, 30_000),
    ("1700000400.6", "timed_out", 1_700_000_407_000, 7_000),
    ("1700000500.7", "timed_out", 1_700_000_509_000, 9_000),
    ("1700000600.8", "abandoned", 1_700_000_629_000, 29_000),
];

fn decode(text: &str) -> (Option<String>, Vec<AmiMessage>) {
    let mut decoder = AmiDecoder::new();
    decoder.feed(text.as_bytes());
    let mut out = Vec::new();
    while let Some(message) = decoder.next_message() {
        out.push(message.expect("the fixture decodes"));
    }
    (decoder.banner().map(str::to_string), out)
}

/// Maps the messages one by one (the received time is far off: every message carries its
/// `Timestamp:`), without ticking in between, then ticks far ahead.
fn map(mapper: &mut AmiMapper, messages: &[AmiMessage]) -> Vec<Event> {
    let mut events = Vec::new();
    for m in messages {
        events.extend(mapper.map(m, 1_600_000_000_000));
    }
    events.extend(mapper.tick(1_800_000_000_000));
    events
}

fn outcomes(events: &[Event]) -> Vec<(String, &'static str, i64, i64)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::CallAnswered { call, wait_ms, .. } => {
                Some((call.clone(), "answered", e.ts, wait_ms.unwrap_or(-1)))
            }
            EventKind::CallAbandoned { call, wait_ms, .. } => {
                Some((call.clone(), "abandoned", e.ts, wait_ms.unwrap_or(-1)))
            }
            EventKind::CallTimedOut { call, wait_ms, .. } => {
                Some((call.clone(), "timed_out", e.ts, wait_ms.unwrap_or(-1)))
            }
            _ => None,
        })
        .collect()
}

fn expected() -> Vec<(String, &'static str, i64, i64)> {
    OUTCOMES
        .iter()
        .map(|(c, o, ts, w)| (c.to_string(), *o, *ts, *w))
        .collect()
}

#[test]
fn time_outs_are_time_outs_and_abandons_abandons_on_every_dialplan_and_version() {
    for (version, text) in SESSIONS {
        let (banner, messages) = decode(text);
        let mut mapper = AmiMapper::new("ami:pbx", &Organisation::default());
        mapper.switch_banner(banner.as_deref().expect("a banner"));
        let events = map(&mut mapper, &messages);
        assert_eq!(outcomes(&events), expected(), "Asterisk {version}");
        assert_eq!(mapper.duplicates(), 0, "Asterisk {version}");
        assert_eq!(mapper.rejected(), 0, "Asterisk {version}");
        assert!(mapper.waiting_calls().is_empty());
        for e in &events {
            e.validate().unwrap_or_else(|err| panic!("{err}: {e:?}"));
        }
    }
}

/// The outcome is known when QueueCallerAbandon arrives: no tick and no later message is
/// needed, so a time-out followed at once by the dialplan's Hangup is never mistaken for a
/// caller who gave up, however the grace is set.
#[test]
fn the_outcome_is_decided_at_queue_caller_abandon_whatever_the_grace() {
    let (banner, messages) = decode(SESSIONS[2].1);
    for grace in [0, 2_000, 600_000] {
        let mut mapper =
            AmiMapper::new("ami:pbx", &Organisation::default()).with_abandon_grace(grace);
        mapper.switch_banner(banner.as_deref().unwrap());
        let mut events = Vec::new();
        for m in &messages {
            events.extend(mapper.map(m, 0));
        }
        // No tick at all: every outcome was emitted by the messages themselves.
        assert_eq!(outcomes(&events), expected(), "grace {grace}");
    }
}

/// A switch whose banner was not seen (or a mapper created mid-session) learns from the first
/// HangupRequest that the switch reports them; from then on the dialplans are told apart.
#[test]
fn without_the_banner_the_first_hangup_request_teaches_the_mapper() {
    for (version, text) in SESSIONS {
        let (_, messages) = decode(text);
        let mut mapper = AmiMapper::new("ami:pbx", &Organisation::default());
        let events = map(&mut mapper, &messages);
        assert_eq!(outcomes(&events), expected(), "Asterisk {version}");
    }
}

/// Asterisk 11 and older (AMI 1.x) have no HangupRequest: the abandon grace decides, and a
/// time-out followed at once by `Hangup()` reads as an abandon. That is the documented limit
/// of those switches, kept here so a change of rule shows.
#[test]
fn on_a_switch_without_hangup_request_the_grace_decides() {
    let (_, messages) = decode(SESSIONS[0].1);
    let without: Vec<AmiMessage> = messages
        .into_iter()
        .filter(|m| m.event() != Some("HangupRequest"))
        .collect();
    let mut mapper = AmiMapper::new("ami:old", &Organisation::default());
    mapper.switch_banner("Asterisk Call Manager/1.3");
    let got = outcomes(&map(&mut mapper, &without));
    let kinds: Vec<(&str, &str)> = got.iter().map(|(c, o, _, _)| (c.as_str(), *o)).collect();
    assert_eq!(
        kinds,
        [
            ("1700000010.1", "answered"),
            ("1700000100.3", "abandoned"),
            ("1700000200.4", "timed_out"),
            // Hangup() right after the time-out and leave-when-empty: inside the grace.
            ("1700000300.5", "abandoned"),
            ("1700000400.6", "abandoned"),
            ("1700000500.7", "timed_out"),
            ("1700000600.8", "abandoned"),
        ]
    );
}

/// A SoftHangupRequest (an operator's `Hangup` action, a shutdown) is not the caller giving
/// up: the leg it ends was let go by the switch.
#[test]
fn a_soft_hangup_request_is_not_the_caller_giving_up() {
    let (banner, messages) = decode(SESSIONS[2].1);
    let renamed: Vec<AmiMessage> = messages
        .iter()
        .map(|m| {
            if m.event() == Some("HangupRequest") {
                m.fields()
                    .iter()
                    .map(|(k, v)| {
                        if k == "Event" {
                            (k.as_str(), "SoftHangupRequest")
                        } else {
                            (k.as_str(), v.as_str())
                        }
                    })
                    .collect()
            } else {
                m.clone()
            }
        })
        .collect();
    let mut mapper = AmiMapper::new("ami:pbx", &Organisation::default());
    mapper.switch_banner(banner.as_deref().unwrap());
    let got = outcomes(&map(&mut mapper, &renamed));
    assert!(got.iter().all(|(_, o, _, _)| *o != "abandoned"), "{got:?}");
}
