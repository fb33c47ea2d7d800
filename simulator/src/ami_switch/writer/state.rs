//! The writer's state: the switch floor it describes and what it remembers between events.

use std::collections::{HashMap, HashSet};

use super::output::{AfterCallWork, Dialplan};
use crate::ami_switch::floor::SwitchFloor;

/// Writes canonical events as AMI events, keeping the [`SwitchFloor`] they describe.
#[derive(Debug, Clone)]
pub struct AmiWriter {
    pub(super) floor: SwitchFloor,
    /// Each agent's queues (the skills of their group).
    pub(super) memberships: HashMap<String, Vec<String>>,
    pub(super) after_call_work: AfterCallWork,
    /// What follows a time-out in the dialplan.
    pub(super) dialplan: Dialplan,
    /// Agents whose last event was a ring no answer: their pause is Asterisk's autopause.
    pub(super) rang_out: HashSet<String>,
    /// Channels opened, for channel names and agent-side uniqueids.
    pub(super) channels: u64,
}

/// Who ended a connected call.
pub(super) enum Completion<'a> {
    Ended,
    Transferred {
        to_queue: Option<&'a str>,
        to_external: Option<&'a str>,
    },
}

/// How a caller left a queue unanswered.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Leaving {
    HungUp,
    TimedOut { overflows: bool },
}
