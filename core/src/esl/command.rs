//! The commands Floorwatch sends over the event socket, as mod_event_socket reads them: one
//! line, then a blank line (src/mod/event_handlers/mod_event_socket/mod_event_socket.c,
//! `parse_command`).

/// The channel events the mapper reads besides `CUSTOM callcenter::info`: hold on the
/// caller's channel, and the agent leg's hang-up cause that tells a transfer.
pub const CHANNEL_EVENTS: [&str; 3] = ["CHANNEL_HOLD", "CHANNEL_UNHOLD", "CHANNEL_HANGUP_COMPLETE"];

/// mod_callcenter's event subclass (`CALLCENTER_EVENT` in mod_callcenter.c).
pub const CALLCENTER_SUBCLASS: &str = "callcenter::info";

/// `callcenter_config queue list`: one row per queue (`name|strategy|...`).
pub const QUEUE_LIST: &str = "callcenter_config queue list";

/// `auth PASSWORD`. Line breaks in the password become spaces, so it cannot inject a command.
pub fn auth(password: &str) -> String {
    format!("auth {}\n\n", one_line(password))
}

/// `event plain CHANNEL_HOLD CHANNEL_UNHOLD CHANNEL_HANGUP_COMPLETE CUSTOM callcenter::info`:
/// every event the mapper reads and nothing else.
pub fn subscribe() -> String {
    format!(
        "event plain {} CUSTOM {CALLCENTER_SUBCLASS}\n\n",
        CHANNEL_EVENTS.join(" ")
    )
}

/// `api COMMAND`: the switch answers an `api/response` whose body is the command's output.
pub fn api(command: &str) -> String {
    format!("api {}\n\n", one_line(command))
}

/// `callcenter_config queue list tiers QUEUE`.
pub fn queue_tiers(queue: &str) -> String {
    format!("callcenter_config queue list tiers {queue}")
}

/// `callcenter_config queue list agents QUEUE`.
pub fn queue_agents(queue: &str) -> String {
    format!("callcenter_config queue list agents {queue}")
}

/// `callcenter_config queue list members`: every member of every queue.
pub fn all_members() -> String {
    "callcenter_config queue list members".to_string()
}

/// `exit`: the switch answers `+OK bye` and closes.
pub fn exit() -> String {
    "exit\n\n".to_string()
}

fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_one_line_each() {
        assert_eq!(auth("Clue\r\n\r\napi x"), "auth Clue    api x\n\n");
        assert_eq!(
            subscribe(),
            "event plain CHANNEL_HOLD CHANNEL_UNHOLD CHANNEL_HANGUP_COMPLETE CUSTOM callcenter::info\n\n"
        );
        assert_eq!(
            api(&queue_agents("support")),
            "api callcenter_config queue list agents support\n\n"
        );
    }
}
