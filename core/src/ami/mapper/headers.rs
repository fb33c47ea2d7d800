//! Reading the headers of AMI events, across Asterisk versions (1.8 / 11 names and 12+ names).

use crate::ami::AmiMessage;
use crate::caller::CallerNumber;
use crate::event::{MAX_FIELD_LEN, Millis, PLAUSIBLE_TS};

/// The longest duration (wait, talk, wrap-up) believed from a header: a week.
const MAX_DURATION_MS: Millis = 7 * crate::time::DAY_MS;

/// The member an agent event names: its member name, else its interface. Member names are what
/// queue_log writes in its agent field, so both feeds name an agent alike.
pub(super) fn member(message: &AmiMessage) -> Option<&str> {
    message.first_of(&[
        "MemberName",
        "Name",
        "AgentName",
        "Interface",
        "Location",
        "Member",
        "AgentCalled",
    ])
}

/// The caller channel's `Uniqueid`: the canonical call id.
pub(super) fn call(message: &AmiMessage) -> Option<&str> {
    message.first_of(&["Uniqueid"])
}

pub(super) fn queue(message: &AmiMessage) -> Option<&str> {
    message.first_of(&["Queue"])
}

/// Whole seconds in a header, as milliseconds.
fn whole_seconds(message: &AmiMessage, key: &str) -> Option<Millis> {
    let value = message.get(key)?.trim();
    if value.is_empty() || value.len() > 12 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value
        .parse::<i64>()
        .ok()
        .map(|s| s * crate::time::SECOND_MS)
}

/// A duration in whole seconds (`HoldTime`, `TalkTime`, `Wait`, `Wrapuptime`), as
/// milliseconds; an implausible one is ignored.
pub(super) fn seconds(message: &AmiMessage, key: &str) -> Option<Millis> {
    whole_seconds(message, key).filter(|ms| *ms <= MAX_DURATION_MS)
}

/// A Unix time in whole seconds (`LastCall`), as milliseconds, if plausible.
pub(super) fn unix_time(message: &AmiMessage, key: &str) -> Option<Millis> {
    whole_seconds(message, key).filter(|ms| PLAUSIBLE_TS.contains(ms))
}

/// `Paused: 1` and the like.
pub(super) fn flag(message: &AmiMessage, key: &str) -> Option<bool> {
    match message.get(key)?.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "on" => Some(true),
        "0" | "no" | "false" | "off" => Some(false),
        _ => None,
    }
}

/// The pause reason (`PausedReason` since Asterisk 12, `Reason` before).
pub(super) fn pause_text(message: &AmiMessage) -> &str {
    message.first_of(&["PausedReason", "Reason"]).unwrap_or("")
}

/// A member's wrap-up time in whole seconds (`Wrapuptime`, Asterisk 16+).
pub(super) fn wrap_up_s(message: &AmiMessage) -> Option<u32> {
    seconds(message, "Wrapuptime").map(|ms| (ms / crate::time::SECOND_MS) as u32)
}

/// A caller number worth keeping (Asterisk writes `<unknown>` for none).
pub(super) fn caller(message: &AmiMessage) -> Option<CallerNumber> {
    message
        .first_of(&["CallerIDNum", "CallerID"])
        .filter(|c| !c.eq_ignore_ascii_case("<unknown>") && c.len() <= MAX_FIELD_LEN)
        .map(CallerNumber::from)
}

/// Every value an id is taken from must fit an event field; a message with a longer one is
/// noise and skipped whole.
pub(super) fn fits(message: &AmiMessage) -> bool {
    message.fields().iter().all(|(key, value)| {
        let key = key.to_ascii_lowercase();
        let names_something = key.ends_with("uniqueid")
            || matches!(
                key.as_str(),
                "queue"
                    | "membername"
                    | "name"
                    | "interface"
                    | "location"
                    | "member"
                    | "agentname"
                    | "agentcalled"
                    | "agent"
            );
        !names_something || value.len() <= MAX_FIELD_LEN
    })
}
