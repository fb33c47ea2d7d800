//! The scenario's TOML schema: every section and knob, with its default (the plain queueing
//! model: no abandons, no breaks, no noise, unless the scenario asks for them).

use floorwatch_core::org::Centre;
use floorwatch_core::{Direction, ServiceLevelVariant};
use serde::{Deserialize, Serialize};

use crate::clock::ClockTime;
use crate::curve::{Curve, CurveShape};
use crate::distribution::DurationSpec;

/// A centre to simulate. Build one with [`Scenario::preset`], [`Scenario::from_file`] or
/// [`Scenario::from_toml_str`]; all three check it, so a `Scenario` always makes a valid
/// organisation and a runnable simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) centre: Centre,
    #[serde(default)]
    pub(crate) agents: AgentHabits,
    #[serde(default)]
    pub(crate) breaks: BreakPolicy,
    pub(crate) shifts: Vec<ShiftSpec>,
    pub(crate) sites: Vec<SiteSpec>,
    pub(crate) queues: Vec<QueueSpec>,
    #[serde(default)]
    pub(crate) incidents: Vec<IncidentSpec>,
}

/// How agents behave, for every agent of the scenario (`[agents]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentHabits {
    /// Sign-in time relative to shift start, seconds: normal with this mean and deviation
    /// (negative mean: agents tend to sign in early).
    pub sign_in_offset_s: NormalSpec,
    /// Share of agents who sign in 3 to 15 minutes late.
    pub late_share: f64,
    /// Share of agents who leave 5 to 20 minutes before their shift ends.
    pub early_logout_share: f64,
    /// Share of agents who start their shift not ready (settling in) for one to three minutes.
    pub login_not_ready_share: f64,
    /// How long a call rings at an agent before they answer.
    pub ring_s: DurationSpec,
    /// Share of offers the agent lets ring out (ring-no-answer).
    pub ring_no_answer_share: f64,
    /// How long an unanswered offer rings before the switch gives up on that agent.
    pub ring_timeout_s: f64,
    /// After a ring-no-answer the switch pauses the agent (Asterisk's autopause) this long.
    pub auto_pause_s: DurationSpec,
    /// Unscheduled not-ready spells (other, outbound work, coaching, meeting, training) per
    /// agent per hour of shift.
    pub not_ready_per_hour: f64,
}

impl Default for AgentHabits {
    fn default() -> Self {
        AgentHabits {
            sign_in_offset_s: NormalSpec { mean: 0.0, sd: 0.0 },
            late_share: 0.0,
            early_logout_share: 0.0,
            login_not_ready_share: 0.0,
            ring_s: DurationSpec::constant(0.0),
            ring_no_answer_share: 0.0,
            ring_timeout_s: 15.0,
            auto_pause_s: DurationSpec::constant(60.0),
            not_ready_per_hour: 0.0,
        }
    }
}

/// A normal distribution in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalSpec {
    /// The mean.
    pub mean: f64,
    /// The standard deviation (0: always the mean).
    #[serde(default)]
    pub sd: f64,
}

/// Scheduled breaks and meals (`[breaks]`); none unless set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakPolicy {
    /// Length of a short break (小休), minutes.
    pub break_minutes: f64,
    /// A short break after every this many hours of shift; 0 for none.
    pub every_hours: f64,
    /// Length of the meal, taken mid-shift, minutes; 0 for none.
    pub meal_minutes: f64,
    /// Shifts shorter than this many hours get no meal.
    pub meal_min_shift_hours: f64,
    /// Breaks are spread over plus or minus this many minutes around their planned time, so
    /// a team does not leave the floor all at once.
    pub stagger_minutes: f64,
    /// Share of breaks that overrun their allowance by 3 to 12 minutes; the others last 85 to
    /// 100 % of it (an agent back a few seconds late is no overrun worth an alert).
    pub overrun_share: f64,
}

impl Default for BreakPolicy {
    fn default() -> Self {
        BreakPolicy {
            break_minutes: 15.0,
            every_hours: 0.0,
            meal_minutes: 0.0,
            meal_min_shift_hours: 6.0,
            stagger_minutes: 0.0,
            overrun_share: 0.0,
        }
    }
}

/// A shift pattern (`[[shifts]]`). Shifts do not cross midnight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftSpec {
    /// The shift's id, which groups name.
    pub id: String,
    /// Start, local time.
    pub start: ClockTime,
    /// End, local time (24:00 for midnight).
    pub end: ClockTime,
}

/// A site (`[[sites]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSpec {
    /// The site's id, as in `site:ID`.
    pub id: String,
    /// Its display name.
    #[serde(default)]
    pub name: String,
    /// Its groups.
    pub groups: Vec<GroupSpec>,
}

/// A group of identical teams (`[[sites.groups]]`): its teams are named `<group>-t01`, ...
/// and its agents, numbered across the whole scenario, `a0001`, ...
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// The group's id, as in `group:ID`.
    pub id: String,
    /// Its display name.
    #[serde(default)]
    pub name: String,
    /// How many teams the group has (1 unless set).
    #[serde(default = "one")]
    pub teams: u32,
    /// Agents in each team.
    pub agents_per_team: u32,
    /// Queue ids the agents serve.
    pub skills: Vec<String>,
    /// Shift ids; the group's agents are spread over them in turn.
    pub shifts: Vec<String>,
}

fn one() -> u32 {
    1
}

/// A queue (`[[queues]]`): its traffic and how its calls go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    /// The queue's id, as in `queue:ID`.
    pub id: String,
    /// Its display name.
    #[serde(default)]
    pub name: String,
    /// Tree node whose figures include this queue (`site:ID`, `group:ID`, `team:ID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Calls of a higher-priority queue are served first.
    #[serde(default)]
    pub priority: u8,
    /// Inbound calls, or outbound calls queued to agents.
    #[serde(default)]
    pub direction: Direction,
    /// Expected calls in the day (inbound), or dials (outbound).
    pub calls_per_day: f64,
    /// How the day's volume spreads over the hours.
    #[serde(default)]
    pub curve: CurveShape,
    /// 24 weights, one per local hour, replacing `curve`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hourly: Option<Vec<f64>>,
    /// Calls arrive from this local time...
    #[serde(default = "midnight")]
    pub open: ClockTime,
    /// ... until this one.
    #[serde(default = "end_of_day")]
    pub close: ClockTime,
    /// Talk time, seconds.
    #[serde(default = "default_talk")]
    pub talk_s: DurationSpec,
    /// Share of answered calls the agent puts on hold once.
    #[serde(default)]
    pub hold_share: f64,
    /// Hold time within the talk, seconds.
    #[serde(default = "default_hold")]
    pub hold_s: DurationSpec,
    /// Share of calls followed by after-call work.
    #[serde(default)]
    pub acw_share: f64,
    /// After-call work, seconds.
    #[serde(default = "default_acw")]
    pub acw_s: DurationSpec,
    /// How long callers are willing to wait; unset: they never hang up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patience_s: Option<DurationSpec>,
    /// The queue's time-out, seconds; unset: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_s: Option<f64>,
    /// Where timed-out calls go next (a queue id); unset: they leave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overflow_to: Option<String>,
    /// Share of the calls that finish in IVR self-service without queueing.
    #[serde(default)]
    pub ivr_share: f64,
    /// Time in IVR before the queue, seconds.
    #[serde(default = "default_ivr")]
    pub ivr_s: DurationSpec,
    /// Share of answered calls the agent transfers.
    #[serde(default)]
    pub transfer_share: f64,
    /// Queues a transfer goes to (picked evenly); empty: an outside number.
    #[serde(default)]
    pub transfer_to: Vec<String>,
    /// Share of calls that are trainees' test calls (测呼).
    #[serde(default)]
    pub test_share: f64,
    /// Outbound only: share of dials the customer answers.
    #[serde(default = "one_f")]
    pub answer_share: f64,
    /// Outbound only: how long the customer's phone rings before they answer.
    #[serde(default = "default_customer_ring")]
    pub customer_ring_s: DurationSpec,
    /// Outbound only: how long an unanswered dial rings before it is given up.
    #[serde(default = "default_no_answer")]
    pub no_answer_s: f64,
    // Service-level settings, passed to the organisation as they are.
    /// Service-level threshold, seconds; the centre's when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_s: Option<u32>,
    /// Service-level target, percent; the centre's when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_pct: Option<f64>,
    /// Service-level formula; the centre's when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<ServiceLevelVariant>,
    /// Short-abandon time, seconds; the centre's when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_abandon_s: Option<u32>,
    /// After-call work the switch grants after each call (Asterisk's `wrapuptime`), seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrap_up_s: Option<u32>,
}

fn midnight() -> ClockTime {
    ClockTime::MIDNIGHT
}
fn end_of_day() -> ClockTime {
    ClockTime::END_OF_DAY
}
fn default_talk() -> DurationSpec {
    DurationSpec::log_normal(180.0, 0.6)
}
fn default_hold() -> DurationSpec {
    DurationSpec::log_normal(40.0, 0.8)
}
fn default_acw() -> DurationSpec {
    DurationSpec::log_normal(30.0, 0.6)
}
fn default_ivr() -> DurationSpec {
    DurationSpec::log_normal(60.0, 0.5)
}
fn default_customer_ring() -> DurationSpec {
    DurationSpec::log_normal(12.0, 0.5)
}
fn default_no_answer() -> f64 {
    30.0
}
fn one_f() -> f64 {
    1.0
}

impl QueueSpec {
    pub(crate) fn curve(&self) -> Curve {
        Curve::new(self.curve, self.hourly.as_deref(), self.open, self.close)
    }
}

/// An incident a tester switches on (`[[incidents]]`, by `kind`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum IncidentSpec {
    /// A sudden call peak (突发话务高峰): arrivals multiplied by `factor`.
    CallPeak {
        /// When it starts, local time.
        start: ClockTime,
        /// How long it lasts, minutes.
        minutes: f64,
        /// Arrivals are this many times the usual.
        factor: f64,
        /// Queues hit; empty: all.
        #[serde(default)]
        queues: Vec<String>,
    },
    /// A wave of agents logging out: `share` of those signed in leave once their current call
    /// is done, and come back after `back_after_minutes` if set.
    LogoutWave {
        /// When it happens, local time.
        start: ClockTime,
        /// Share of the signed-in agents who sign out.
        share: f64,
        /// When they come back, minutes later; never when unset.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        back_after_minutes: Option<f64>,
    },
    /// The feed goes silent: events in the span are lost, as when the switch's link is down.
    FeedSilent {
        /// When it starts, local time.
        start: ClockTime,
        /// How long it lasts, minutes.
        minutes: f64,
    },
    /// Frequent dropped calls: `share` of the calls answered in the span drop after a few
    /// seconds of talk.
    DroppedCalls {
        /// When it starts, local time.
        start: ClockTime,
        /// How long it lasts, minutes.
        minutes: f64,
        /// Share of answered calls that drop after a few seconds.
        share: f64,
    },
}
