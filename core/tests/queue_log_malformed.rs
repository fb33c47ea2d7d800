//! Malformed and truncated queue_log lines are errors naming the line and the reason, never
//! panics, and never disturb the lines around them (tests/fixtures/queue_log/malformed.log).

use floorwatch_core::EventError;
use floorwatch_core::queue_log::{LineError, QueueLogReader};

const MALFORMED: &str = include_str!("../../tests/fixtures/queue_log/malformed.log");

#[test]
fn each_bad_line_is_reported_with_its_number_and_reason() {
    let outcome = QueueLogReader::new("q").read_text(MALFORMED);
    let errors: Vec<(u64, LineError)> = outcome
        .errors
        .iter()
        .map(|e| (e.line, e.reason.clone()))
        .collect();
    let missing = |event: &str, field: &'static str| LineError::Missing {
        event: event.into(),
        field,
    };
    let number = |event: &str, field: &'static str, value: &str| LineError::Number {
        event: event.into(),
        field,
        value: value.into(),
        unit: "seconds",
    };
    assert_eq!(
        errors,
        vec![
            (2, LineError::TooFewFields(1)),
            (3, LineError::TooFewFields(3)),
            (4, LineError::Time("17000000x0".into())),
            (5, missing("CONNECT", "holdtime")),
            (6, number("CONNECT", "holdtime", "abc")),
            (7, missing("CONNECT", "agent")),
            (8, missing("ABANDON", "callid")),
            (9, missing("ABANDON", "queue")),
            (10, missing("COMPLETECALLER", "calltime")),
            (11, LineError::UnknownEvent("FROBNICATE".into())),
            (12, number("ABANDON", "waittime", "-5")),
            (14, LineError::Invalid(EventError::Time(0))),
            (16, missing("TRANSFER", "extension")),
            // The file ends mid-line.
            (17, LineError::UnknownEvent("ENTERQ".into())),
        ]
    );
    // Line 1 and line 15 (CRLF-terminated) are good; the blank line 13 is nothing.
    let kinds: Vec<&str> = outcome.events.iter().map(|e| e.kind.type_name()).collect();
    assert_eq!(kinds, ["call_entered_queue", "call_abandoned"]);
    assert_eq!(outcome.events[1].ts, 1_700_000_010_000);
}

#[test]
fn messages_say_what_is_wrong() {
    let err = QueueLogReader::new("q")
        .read_line(7, "1700000002|1.1|billing|SIP/1001|CONNECT")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "queue_log line 7: CONNECT: missing holdtime"
    );
}

#[test]
fn a_refused_line_leaves_the_reader_as_it_was() {
    let mut reader = QueueLogReader::new("q");
    // An agent name too long for an event: refused before any state changes.
    let long = "x".repeat(300);
    let line = format!("1700000000|1.1|billing|{long}|CONNECT|5|x|1");
    assert!(reader.read_line(1, &line).is_err());
    // So the same agent's first good line still logs them in.
    let events = reader
        .read_line(2, "1700000001|1.1|billing|SIP/1|CONNECT|5|x|1")
        .unwrap();
    assert_eq!(events[0].kind.type_name(), "agent_login");
}

#[test]
fn hostile_lines_are_refused_cheaply() {
    let mut reader = QueueLogReader::new("q");
    let huge = format!("1700000000|1.1|q|NONE|INFO|{}", "x".repeat(10_000));
    assert!(matches!(
        reader.read_line(1, &huge).unwrap_err().reason,
        LineError::TooLong(_)
    ));
    for junk in [
        "|||||",
        "\u{0}|\u{0}|\u{0}|\u{0}|\u{0}",
        "99999999999999999999|a|b|c|ABANDON|1|1|1",
    ] {
        assert!(reader.read_line(2, junk).is_err(), "{junk}");
    }
}
