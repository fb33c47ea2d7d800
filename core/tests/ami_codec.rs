//! The AMI codec: decoding real and broken byte streams (tests/fixtures/ami) in bounded memory,
//! and encoding the actions Floorwatch sends.

use floorwatch_core::ami::{
    AmiDecoder, AmiError, AmiMessage, MAX_LINE_LEN, MAX_MESSAGE_LEN, action,
};

fn decode_all(bytes: &[u8], chunk: usize) -> (Vec<Result<AmiMessage, AmiError>>, AmiDecoder) {
    let mut decoder = AmiDecoder::new();
    let mut out = Vec::new();
    for part in bytes.chunks(chunk.max(1)) {
        decoder.feed(part);
        while let Some(m) = decoder.next_message() {
            out.push(m);
        }
    }
    (out, decoder)
}

#[test]
fn a_whole_session_decodes_with_its_banner() {
    let text = include_str!("../../tests/fixtures/ami/every_event.txt");
    let (messages, decoder) = decode_all(text.as_bytes(), 4096);
    assert_eq!(decoder.banner(), Some("Asterisk Call Manager/5.0.1"));
    assert!(messages.iter().all(Result::is_ok));
    let messages: Vec<AmiMessage> = messages.into_iter().flatten().collect();
    // The login reply, FullyBooted and 44 events.
    assert_eq!(messages.len(), 46);
    assert_eq!(messages[0].response(), Some("Success"));
    assert_eq!(messages[0].action_id(), Some("login-1"));
    let join = &messages[5];
    assert_eq!(join.event(), Some("QueueCallerJoin"));
    assert_eq!(join.get("uniqueid"), Some("1700000010.1"));
    assert_eq!(join.get("CallerIDNum"), Some("13812341234"));
    // Order and repeated keys are kept.
    assert_eq!(
        join.fields()[0],
        ("Event".to_string(), "QueueCallerJoin".to_string())
    );
    // An empty value stays empty.
    assert_eq!(messages[2].get("PausedReason"), Some(""));
}

#[test]
fn broken_blocks_are_reported_once_and_skipped() {
    let text = include_str!("../../tests/fixtures/ami/malformed.txt");
    for chunk in [1, 5, 4096] {
        let (got, decoder) = decode_all(text.as_bytes(), chunk);
        assert_eq!(decoder.banner(), Some("Asterisk Call Manager/5.0.1"));
        let summary: Vec<Result<Option<String>, AmiError>> = got
            .into_iter()
            .map(|r| r.map(|m| m.event().or(m.response()).map(str::to_string)))
            .collect();
        assert_eq!(
            summary,
            vec![
                Ok(Some("Ping".into())),
                Err(AmiError::Malformed("this line has no colon".into())),
                Err(AmiError::Malformed("Queue billing".into())),
                Err(AmiError::Malformed(": empty key".into())),
                Ok(Some("Follows".into())),
                Ok(Some("QueueCallerJoin".into())),
            ],
            "chunk {chunk}"
        );
        // The file ends inside the QueueCallerAbandon block: not yet a message.
        assert!(decoder.buffered() > 0);
    }
}

#[test]
fn command_output_is_kept_as_output_lines() {
    let text = b"Response: Follows\r\nPrivilege: Command\r\nName/username   Host  Dyn\r\n1001/1001   10.0.0.5:5060  D\r\n--END COMMAND--\r\n\r\n";
    let (got, _) = decode_all(text, 4096);
    let m = got[0].as_ref().unwrap();
    let outputs: Vec<&str> = m
        .fields()
        .iter()
        .filter(|(k, _)| k == "Output")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        outputs,
        [
            "Name/username   Host  Dyn",
            "1001/1001   10.0.0.5:5060  D",
            "--END COMMAND--"
        ]
    );
}

#[test]
fn oversized_messages_are_skipped_in_bounded_memory() {
    let mut stream = b"Asterisk Call Manager/5.0.1\r\n".to_vec();
    stream.extend_from_slice(b"Event: Flood\r\n");
    for i in 0..5000 {
        stream.extend_from_slice(format!("Variable{i}: {}\r\n", "v".repeat(40)).as_bytes());
    }
    stream.extend_from_slice(b"\r\nEvent: After\r\n\r\n");
    let mut decoder = AmiDecoder::new();
    let mut got = Vec::new();
    let mut peak = 0;
    for part in stream.chunks(1500) {
        decoder.feed(part);
        while let Some(m) = decoder.next_message() {
            got.push(m);
        }
        peak = peak.max(decoder.buffered());
    }
    assert_eq!(got.len(), 2);
    assert_eq!(got[0], Err(AmiError::TooLarge));
    assert_eq!(got[1].as_ref().unwrap().event(), Some("After"));
    assert!(peak <= MAX_MESSAGE_LEN + MAX_LINE_LEN + 1500, "peak {peak}");
}

#[test]
fn invalid_utf8_and_nul_bytes_do_not_break_decoding() {
    let stream =
        b"Event: QueueCallerJoin\r\nCallerIDName: \xe5\xbc\xa0\xff\x00\r\nQueue: q\r\n\r\n";
    let (got, _) = decode_all(stream, 2);
    let m = got[0].as_ref().unwrap();
    assert_eq!(m.get("Queue"), Some("q"));
    assert!(m.get("CallerIDName").unwrap().starts_with('张'));
}

#[test]
fn actions_encode_for_the_wire_and_decode_back() {
    let login = action::login("floorwatch", "s3cret", "agent,call", "a1");
    let wire = login.encode();
    assert_eq!(
        wire,
        "Action: Login\r\nActionID: a1\r\nUsername: floorwatch\r\nSecret: s3cret\r\nEvents: agent,call\r\n\r\n"
    );
    let mut all = String::new();
    for m in [
        login,
        action::events("agent,call", "a2"),
        action::filter_mapped_events("a3"),
        action::queue_status("a4"),
        action::ping("a5"),
        action::logoff("a6"),
    ] {
        all.push_str(&m.encode());
    }
    let (got, _) = decode_all(all.as_bytes(), 9);
    let names: Vec<&str> = got
        .iter()
        .map(|m| m.as_ref().unwrap().get("Action").unwrap())
        .collect();
    assert_eq!(
        names,
        ["Login", "Events", "Filter", "QueueStatus", "Ping", "Logoff"]
    );
    assert!(action::is_list_complete(
        &AmiMessage::new().with("Event", "QueueStatusComplete")
    ));
    assert!(!action::is_list_complete(
        &AmiMessage::new().with("Event", "QueueMember")
    ));
}
