//! The state an agent is in now: what the agents keep per agent and what the interval ledger
//! credits when it ends.

use crate::event::{AgentState, Millis, NotReadyReason};

/// The state an agent is in now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct OpenState {
    pub state: AgentState,
    pub reason: Option<NotReadyReason>,
    pub since: Millis,
}
