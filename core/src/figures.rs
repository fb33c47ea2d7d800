//! What the engine answers: the figures of one scope over one window, and the live views of
//! agents and queues. Field names are the contract of docs/METRICS.md and of the HTTP API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::{AgentState, Millis, NotReadyReason};
use crate::scope::{Scope, Window};
use crate::service_level::{ServiceLevelSettings, ServiceLevelVariant};

/// Every figure of docs/METRICS.md for one scope and window. A figure whose denominator is zero
/// is `None` (JSON `null`, shown as "—").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub scope: Scope,
    pub window: Window,
    /// Window start, UTC ms (inclusive).
    pub from: Millis,
    /// The engine's clock when computed, UTC ms.
    pub to: Millis,

    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub short_abandoned: u64,
    pub timed_out: u64,
    pub answered_within_threshold: u64,
    pub ivr_completed: u64,
    pub handled: u64,

    /// Under the scope's own variant (a queue's setting; the centre default elsewhere).
    pub service_level_pct: Option<f64>,
    pub service_level_variant: ServiceLevelVariant,
    pub service_level_target_pct: f64,
    /// Every variant, for screens that compare them.
    pub service_level_variants: ServiceLevelVariants,
    pub answer_rate_pct: Option<f64>,
    pub abandon_rate_pct: Option<f64>,
    pub asa_s: Option<f64>,
    pub max_wait_s: Option<f64>,
    pub avg_talk_s: Option<f64>,
    pub avg_hold_s: Option<f64>,
    pub avg_acw_s: Option<f64>,
    pub aht_s: Option<f64>,
    pub occupancy_pct: Option<f64>,
    pub utilisation_pct: Option<f64>,

    pub wait_p50_s: Option<f64>,
    pub wait_p90_s: Option<f64>,
    pub wait_p99_s: Option<f64>,
    pub handle_p50_s: Option<f64>,
    pub handle_p90_s: Option<f64>,
    pub handle_p99_s: Option<f64>,

    /// Live: calls waiting in the scope's queues now.
    pub waiting_now: u64,
    /// Live: when the oldest call still waiting entered its queue (let the screen tick).
    pub oldest_waiting_since: Option<Millis>,
    /// Live: agents in the scope by state.
    pub agents: AgentStateCounts,
    /// Erlang C agents needed now to meet the target (queues only).
    pub agents_needed: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceLevelVariants {
    pub answered_over_offered: Option<f64>,
    pub answered_over_answered: Option<f64>,
    pub removed_over_offered: Option<f64>,
    pub answered_over_offered_excl_abandoned_within: Option<f64>,
}

/// Agents by state, live.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentStateCounts {
    pub logged_in: u32,
    pub available: u32,
    pub ringing: u32,
    pub on_call: u32,
    pub hold: u32,
    pub after_call_work: u32,
    pub not_ready: u32,
    /// Not-ready agents by reason (`break`, `meal`, ...); agents with no reason under `other`.
    pub not_ready_by_reason: BTreeMap<String, u32>,
}

/// One agent as a team lead sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentView {
    pub id: String,
    pub name: String,
    pub team: Option<String>,
    /// `None` while logged out.
    pub state: Option<AgentState>,
    pub reason: Option<NotReadyReason>,
    /// When the current state began (let the screen tick).
    pub state_since: Option<Millis>,
    /// The call the agent is handling, if any.
    pub call: Option<String>,
    /// When the agent answered that call.
    pub call_since: Option<Millis>,
    /// Calls handled today (docs/METRICS.md, `handled`).
    pub handled_today: u64,
    /// Average handle time today, seconds.
    pub aht_today_s: Option<f64>,
}

/// A queue and its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueView {
    pub id: String,
    pub name: String,
    pub owner: Option<String>,
    pub settings: ServiceLevelSettings,
    /// Named by events but not in the configured organisation (a typo in a dialplan, a
    /// queue nobody set up): its calls count in the centre as any other's, but it is kept off
    /// the wall and listed for admins only, so a sender cannot put queues on the wall.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unassigned: bool,
}

/// What became of one event handed to the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Applied {
    /// Counted.
    Applied,
    /// Its id was seen before; applied once already.
    Duplicate,
    /// A test call or test agent: kept out of every figure.
    Test,
}
