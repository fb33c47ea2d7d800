//! The actions Floorwatch sends to the switch. Each returns an [`AmiMessage`]; send
//! [`AmiMessage::encode`]. Replies echo the `ActionID`, which is how a client pairs the
//! QueueStatus list events with its request.

use super::message::AmiMessage;

/// The events [`super::AmiMapper`] reads, for an event filter: everything else is noise to us.
pub const MAPPED_EVENTS: [&str; 24] = [
    "QueueCallerJoin",
    "QueueCallerLeave",
    "QueueCallerAbandon",
    "AgentCalled",
    "AgentRingNoAnswer",
    "AgentConnect",
    "AgentComplete",
    "QueueMemberStatus",
    "QueueMemberPause",
    "QueueMemberAdded",
    "QueueMemberRemoved",
    "Hangup",
    // A caller's hang-up (channel driver) and an operator's (`ast_softhangup`), which tell an
    // abandon from a time-out (docs/CTI.md, "Abandoned or timed out").
    "HangupRequest",
    "SoftHangupRequest",
    "Hold",
    "Unhold",
    "BlindTransfer",
    "AttendedTransfer",
    "AgentLogin",
    "AgentLogoff",
    // Asterisk 1.8 / 11 names of the same happenings.
    "Join",
    "Leave",
    "QueueMemberPaused",
    "FullyBooted",
];

/// `Action: Login`. `events` is the event mask for this session (`agent,call`), or `off`.
pub fn login(username: &str, secret: &str, events: &str, action_id: &str) -> AmiMessage {
    AmiMessage::action("Login", action_id)
        .with("Username", username)
        .with("Secret", secret)
        .with("Events", events)
}

/// `Action: Events`: changes the session's event mask (`agent,call`, `on`, `off`).
pub fn events(mask: &str, action_id: &str) -> AmiMessage {
    AmiMessage::action("Events", action_id).with("EventMask", mask)
}

/// `Action: Filter` adding one filter (Asterisk 13+): a regular expression matched against each
/// event; a leading `!` excludes. With any include filter set, only matching events are sent.
pub fn filter_add(expression: &str, action_id: &str) -> AmiMessage {
    AmiMessage::action("Filter", action_id)
        .with("Operation", "Add")
        .with("Filter", expression)
}

/// The include filter for the [`MAPPED_EVENTS`] (QueueStatus list replies are not events and
/// are never filtered). Asterisk matches it against the whole event text without line anchors,
/// so it is left unanchored: the few extra events a prefix lets through are skipped by the
/// mapper.
pub fn filter_mapped_events(action_id: &str) -> AmiMessage {
    filter_add(&format!("Event: ({})", MAPPED_EVENTS.join("|")), action_id)
}

/// `Action: QueueStatus`: the switch answers with QueueParams, QueueMember and QueueEntry events
/// and a closing QueueStatusComplete, all carrying `action_id`; hand them to
/// [`super::AmiMapper::resync`].
pub fn queue_status(action_id: &str) -> AmiMessage {
    AmiMessage::action("QueueStatus", action_id)
}

/// `Action: Ping`: a keep-alive; the switch answers `Response: Success` / `Ping: Pong`.
pub fn ping(action_id: &str) -> AmiMessage {
    AmiMessage::action("Ping", action_id)
}

/// `Action: Logoff`: the switch answers `Response: Goodbye` and closes the connection.
pub fn logoff(action_id: &str) -> AmiMessage {
    AmiMessage::action("Logoff", action_id)
}

/// Whether `message` is the end of an action's event list (`QueueStatusComplete`, or any
/// `EventList: Complete`).
pub fn is_list_complete(message: &AmiMessage) -> bool {
    message
        .event()
        .is_some_and(|e| e.eq_ignore_ascii_case("QueueStatusComplete"))
        || message
            .get("EventList")
            .is_some_and(|v| v.eq_ignore_ascii_case("Complete"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_encode_as_asterisk_expects() {
        assert_eq!(
            login("floorwatch", "s3cret", "agent,call", "1").encode(),
            "Action: Login\r\nActionID: 1\r\nUsername: floorwatch\r\nSecret: s3cret\r\nEvents: agent,call\r\n\r\n"
        );
        assert_eq!(
            queue_status("qs-2").encode(),
            "Action: QueueStatus\r\nActionID: qs-2\r\n\r\n"
        );
        let filter = filter_mapped_events("3");
        let expr = filter.get("Filter").unwrap();
        assert!(expr.starts_with("Event: (QueueCallerJoin|"), "{expr}");
        assert!(expr.ends_with("|FullyBooted)"), "{expr}");
    }
}
