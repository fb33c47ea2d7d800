//! Building AMI messages: the fields of a channel, a caller and an agent's call, the pause
//! reason text, and whole seconds as Asterisk counts them.

use floorwatch_core::ami::AmiMessage;
use floorwatch_core::{Millis, NotReadyReason};

use super::output::{EventClass, SwitchEvent};
use crate::ami_switch::floor::{AgentLeg, Caller};

/// The pause reason for AMI; it reads back as the same [`NotReadyReason`] through
/// `floorwatch_core::queue_log::pause_reason`.
pub(super) fn pause_text(reason: Option<NotReadyReason>, rang_out: bool) -> &'static str {
    match reason {
        Some(NotReadyReason::Other) | None if rang_out => "Auto-Pause",
        Some(NotReadyReason::Break) => "Break",
        Some(NotReadyReason::Meal) => "Meal",
        Some(NotReadyReason::Meeting) => "Meeting",
        Some(NotReadyReason::Training) => "Training",
        Some(NotReadyReason::Coaching) => "Coaching",
        Some(NotReadyReason::Outbound) => "Outbound calls",
        Some(NotReadyReason::Other) | None => "Other",
    }
}

pub(super) fn whole_seconds(ms: Millis) -> i64 {
    ms.max(0) / 1000
}

pub(super) fn event(name: &str) -> AmiMessage {
    AmiMessage::new().with("Event", name)
}

pub(super) fn agent_class(message: AmiMessage) -> SwitchEvent {
    SwitchEvent {
        class: EventClass::Agent,
        message,
    }
}

/// The channel driver's report that the far end hung up (`ast_queue_hangup`, e.g. chan_pjsip on
/// a BYE): raised before app_queue sees the hang-up.
pub(super) fn hangup_request(caller: &Caller) -> SwitchEvent {
    SwitchEvent {
        class: EventClass::Call,
        message: caller_fields(event("HangupRequest"), caller).with("Cause", "16"),
    }
}

pub(super) fn hangup(caller: &Caller) -> SwitchEvent {
    SwitchEvent {
        class: EventClass::Call,
        message: caller_fields(event("Hangup"), caller)
            .with("Cause", "16")
            .with("Cause-txt", "Normal Clearing"),
    }
}

/// A channel as Asterisk describes it in events, under a header prefix (``, `Dest`,
/// `Transferer`, `Transferee`).
pub(super) struct ChannelView<'a> {
    channel: &'a str,
    up: bool,
    caller_id: &'a str,
    connected_line: &'a str,
    exten: &'a str,
    uniqueid: &'a str,
    linkedid: &'a str,
}

pub(super) fn caller_channel(caller: &Caller) -> ChannelView<'_> {
    ChannelView {
        channel: &caller.channel,
        up: true,
        caller_id: caller.caller_id.as_deref().unwrap_or("<unknown>"),
        connected_line: "<unknown>",
        exten: &caller.last_queue,
        uniqueid: &caller.uniqueid,
        linkedid: &caller.uniqueid,
    }
}

pub(super) fn agent_channel<'a>(leg: &'a AgentLeg, caller: &'a Caller) -> ChannelView<'a> {
    ChannelView {
        channel: &leg.channel,
        up: true,
        caller_id: &leg.agent,
        connected_line: caller.caller_id.as_deref().unwrap_or("<unknown>"),
        exten: &caller.last_queue,
        uniqueid: &leg.uniqueid,
        linkedid: &caller.uniqueid,
    }
}

pub(super) fn channel_fields(message: AmiMessage, prefix: &str, view: &ChannelView) -> AmiMessage {
    let key = |name: &str| format!("{prefix}{name}");
    let (state, state_desc) = if view.up {
        ("6", "Up")
    } else {
        ("5", "Ringing")
    };
    message
        .with(key("Channel"), view.channel)
        .with(key("ChannelState"), state)
        .with(key("ChannelStateDesc"), state_desc)
        .with(key("CallerIDNum"), view.caller_id)
        .with(key("CallerIDName"), "<unknown>")
        .with(key("ConnectedLineNum"), view.connected_line)
        .with(key("ConnectedLineName"), "<unknown>")
        .with(key("Language"), "en")
        .with(key("AccountCode"), "")
        .with(key("Context"), "queues")
        .with(key("Exten"), view.exten)
        .with(key("Priority"), "1")
        .with(key("Uniqueid"), view.uniqueid)
        .with(key("Linkedid"), view.linkedid)
}

pub(super) fn caller_fields(message: AmiMessage, caller: &Caller) -> AmiMessage {
    channel_fields(message, "", &caller_channel(caller))
}

/// The caller's channel, the agent's channel (`Dest…`) and the queue: the head of AgentCalled,
/// AgentRingNoAnswer, AgentConnect and AgentComplete.
pub(super) fn agent_call_fields(
    message: AmiMessage,
    caller: &Caller,
    leg: &AgentLeg,
    ringing: bool,
) -> AmiMessage {
    let message = caller_fields(message, caller);
    let view = ChannelView {
        up: !ringing,
        ..agent_channel(leg, caller)
    };
    channel_fields(message, "Dest", &view).with("Queue", caller.last_queue.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use floorwatch_core::queue_log::pause_reason;

    #[test]
    fn every_pause_reason_reads_back_as_itself() {
        for reason in NotReadyReason::ALL {
            assert_eq!(pause_reason(pause_text(Some(reason), false)), reason);
        }
        assert_eq!(
            pause_reason(pause_text(Some(NotReadyReason::Other), true)),
            NotReadyReason::Other
        );
    }
}
