//! What the writer produces: AMI events with their class (for the session's event filters),
//! what one canonical event becomes, and how after-call work is shown.

use floorwatch_core::Millis;
use floorwatch_core::ami::AmiMessage;

/// A caller whose queue timed out hears a goodbye and is hung up this long after leaving the
/// queue: longer than the mapper's abandon grace (2 s), so the leg reads as timed out, not
/// abandoned.
pub const TIMEOUT_HANGUP_DELAY_MS: Millis = 5_000;

/// What the dialplan does with a caller after `Queue()` returns on a time-out (docs/CTI.md,
/// "The fake switch"). Asterisk raises QueueCallerAbandon for a time-out as for a hang-up;
/// what follows is the dialplan's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialplan {
    /// `Queue(q,,,,T)` then a goodbye or voicemail: the caller hangs up
    /// [`TIMEOUT_HANGUP_DELAY_MS`] later (a `HangupRequest`, then `Hangup`).
    #[default]
    Voicemail,
    /// `Queue(q,,,,T)` then `Hangup()`: the dialplan's soft hang-up, `Hangup` at the same
    /// instant as QueueCallerLeave and no `HangupRequest` (pbx_builtin_hangup calls
    /// ast_softhangup_nolock, which publishes none).
    Hangup,
}

impl std::str::FromStr for Dialplan {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "voicemail" => Ok(Dialplan::Voicemail),
            "hangup" => Ok(Dialplan::Hangup),
            _ => Err(format!("`{s}`: expected voicemail or hangup")),
        }
    }
}

/// How the switch shows after-call work, which AMI has no event for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AfterCallWork {
    /// The agent pauses with reason `ACW` when the call ends and unpauses when done: every
    /// after-call work keeps its exact length (the mapper reads a wrap-up pause as ACW).
    #[default]
    Pause,
    /// The queues' `wrapuptime` (the scenario's `wrap_up_s`, else its mean `acw_s`, whole
    /// seconds) is reported on every member; the switch says nothing when ACW ends, and the
    /// mapper infers it as exactly that long (shorter when the next call rings first).
    WrapUp,
}

impl std::str::FromStr for AfterCallWork {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "pause" => Ok(AfterCallWork::Pause),
            "wrap-up" | "wrapup" | "wrapuptime" => Ok(AfterCallWork::WrapUp),
            _ => Err(format!("`{s}`: expected pause or wrap-up")),
        }
    }
}

/// Asterisk's manager event classes (`Privilege:`), which a session's event mask selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventClass {
    /// `system` events (FullyBooted, Shutdown).
    System,
    /// `call` events (the callers' side: joins, leaves, hangups).
    Call,
    /// `agent` events (members, pauses, agent calls).
    Agent,
}

impl EventClass {
    /// Every class.
    pub const ALL: [EventClass; 3] = [EventClass::System, EventClass::Call, EventClass::Agent];

    /// The class's name in AMI's `Events:` and `Filter` actions.
    pub fn as_str(self) -> &'static str {
        match self {
            EventClass::System => "system",
            EventClass::Call => "call",
            EventClass::Agent => "agent",
        }
    }
}

/// One AMI event before the switch stamps it: `Event:` first, then its body.
#[derive(Debug, Clone, PartialEq)]
pub struct SwitchEvent {
    /// Which class it belongs to.
    pub class: EventClass,
    /// The message, without its `Event:` line.
    pub message: AmiMessage,
}

/// What one canonical event becomes.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// The AMI events, at the canonical event's time, in order.
    pub events: Vec<SwitchEvent>,
    /// A timed-out caller to hang up later: (when, call).
    pub hangup_later: Option<(Millis, String)>,
}

/// The pause reason of after-call work ([`AfterCallWork::Pause`]); the mapper reads it as
/// wrap-up.
pub const ACW_PAUSE: &str = "ACW";
