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
    /// The scope the figures are for.
    pub scope: Scope,
    /// The window they cover.
    pub window: Window,
    /// Window start, UTC ms (inclusive).
    pub from: Millis,
    /// The engine's clock when computed, UTC ms.
    pub to: Millis,

    /// Calls that entered a queue (docs/METRICS.md, `offered`).
    pub offered: u64,
    /// Calls an agent answered.
    pub answered: u64,
    /// Calls the caller hung up on while waiting.
    pub abandoned: u64,
    /// Abandoned within the short-abandon time: not counted against the service level by some variants.
    pub short_abandoned: u64,
    /// Calls the switch took out of the queue unanswered (time-out, overflow).
    pub timed_out: u64,
    /// Calls answered within the service-level threshold.
    pub answered_within_threshold: u64,
    /// Calls finished in IVR self-service.
    pub ivr_completed: u64,
    /// Calls an agent finished (talk ended or transferred).
    pub handled: u64,

    /// Under the scope's own variant (a queue's setting; the centre default elsewhere).
    pub service_level_pct: Option<f64>,
    /// Which service-level formula `service_level_pct` uses.
    pub service_level_variant: ServiceLevelVariant,
    /// The scope's service-level target, percent.
    pub service_level_target_pct: f64,
    /// Every variant, for screens that compare them.
    pub service_level_variants: ServiceLevelVariants,
    /// Answered (and IVR-completed) over offered, percent.
    pub answer_rate_pct: Option<f64>,
    /// Abandoned over offered, percent.
    pub abandon_rate_pct: Option<f64>,
    /// Average speed of answer, seconds.
    pub asa_s: Option<f64>,
    /// Longest wait of an answered or abandoned call, seconds.
    pub max_wait_s: Option<f64>,
    /// Average talk time, seconds.
    pub avg_talk_s: Option<f64>,
    /// Average hold time, seconds.
    pub avg_hold_s: Option<f64>,
    /// Average after-call work, seconds.
    pub avg_acw_s: Option<f64>,
    /// Average handle time (talk + hold + after-call work), seconds.
    pub aht_s: Option<f64>,
    /// Time handling calls over time signed in and not on break, percent.
    pub occupancy_pct: Option<f64>,
    /// Time handling calls over time signed in, percent.
    pub utilisation_pct: Option<f64>,

    /// Median wait of answered calls, seconds.
    pub wait_p50_s: Option<f64>,
    /// 90th percentile wait, seconds.
    pub wait_p90_s: Option<f64>,
    /// 99th percentile wait, seconds.
    pub wait_p99_s: Option<f64>,
    /// Median handle time, seconds.
    pub handle_p50_s: Option<f64>,
    /// 90th percentile handle time, seconds.
    pub handle_p90_s: Option<f64>,
    /// 99th percentile handle time, seconds.
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

/// The service level under every variant (docs/METRICS.md, "Service level"), percent: one screen can compare them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceLevelVariants {
    /// Answered within the threshold over offered.
    pub answered_over_offered: Option<f64>,
    /// Answered within the threshold over answered.
    pub answered_over_answered: Option<f64>,
    /// Answered within the threshold over offered less abandoned (removed from the queue).
    pub removed_over_offered: Option<f64>,
    /// Answered within the threshold over offered less short abandons.
    pub answered_over_offered_excl_abandoned_within: Option<f64>,
}

/// Agents by state, live.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentStateCounts {
    /// Agents signed in.
    pub logged_in: u32,
    /// Available for the next call.
    pub available: u32,
    /// Ringing.
    pub ringing: u32,
    /// On a call.
    pub on_call: u32,
    /// On a call with the caller on hold.
    pub hold: u32,
    /// In after-call work.
    pub after_call_work: u32,
    /// Not ready, any reason.
    pub not_ready: u32,
    /// Not-ready agents by reason (`break`, `meal`, ...); agents with no reason under `other`.
    pub not_ready_by_reason: BTreeMap<String, u32>,
}

/// One agent as a team lead sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentView {
    /// The agent's id.
    pub id: String,
    /// The agent's display name (the id when none is configured).
    pub name: String,
    /// The agent's team, when known.
    pub team: Option<String>,
    /// `None` while logged out.
    pub state: Option<AgentState>,
    /// Why the agent is not ready (with `not_ready` only).
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
    /// The queue's id.
    pub id: String,
    /// Its display name (the id when none is configured).
    pub name: String,
    /// The group, team or site that owns it, if configured.
    pub owner: Option<String>,
    /// Its service-level settings.
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
