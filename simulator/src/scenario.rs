//! A scenario: the centre a simulation plays, written as TOML.
//!
//! It names the centre (time zone, service-level defaults), the shifts, the organisation tree
//! with how many agents each group staffs and which queues (skills) they serve, the queues with
//! their day's volume, intraday curve and duration distributions, the agents' habits (late
//! sign-ins, breaks, not-ready time, ring-no-answer) and the incidents a tester switches on.
//!
//! Every knob defaults to the plain queueing model (no abandons, no breaks, no noise), so a
//! scenario says explicitly which realism it wants; the presets `small`, `medium` and `large`
//! (simulator/scenarios/*.toml) turn it all on. A mistake is reported with the key at fault,
//! e.g. `queues[1].talk_s.mean: must be a number of seconds > 0, not -3`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use floorwatch_core::org::{AgentConfig, Centre, Group, QueueConfig, Site, Team};
use floorwatch_core::{CentreCalendar, Direction, Organisation, ServiceLevelVariant};
use serde::{Deserialize, Serialize};

use crate::clock::ClockTime;
use crate::curve::{Curve, CurveShape};
use crate::distribution::DurationSpec;

/// The presets shipped in the binary, by name.
const PRESETS: [(&str, &str); 3] = [
    ("small", include_str!("../scenarios/small.toml")),
    ("medium", include_str!("../scenarios/medium.toml")),
    ("large", include_str!("../scenarios/large.toml")),
];

/// Most agents a scenario may staff; far above the largest preset, low enough that a typo
/// (`agents_per_team = 100000`) is caught instead of eating the machine's memory.
const MAX_AGENTS: u64 = 200_000;

/// Why a scenario was refused. Each names where it came from and the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("unknown scenario preset `{0}` (expected small, medium or large, or a .toml file)")]
    UnknownPreset(String),
    #[error("cannot read scenario {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Not valid TOML, or a value of the wrong type or an unknown key.
    #[error("{origin}: {}{message}{}", key_prefix(key), line_suffix(*line))]
    Toml {
        origin: String,
        key: String,
        message: String,
        line: Option<usize>,
    },
    /// Well-formed TOML whose values do not make a centre.
    #[error("{origin}: {key}: {problem}")]
    Invalid {
        origin: String,
        key: String,
        problem: String,
    },
}

fn key_prefix(key: &str) -> String {
    if key.is_empty() || key == "." {
        String::new()
    } else {
        format!("{key}: ")
    }
}

fn line_suffix(line: Option<usize>) -> String {
    line.map(|l| format!(" (line {l})")).unwrap_or_default()
}

impl ScenarioError {
    /// The key at fault, when there is one (`queues[1].talk_s.mean`).
    pub fn key(&self) -> Option<&str> {
        match self {
            ScenarioError::Toml { key, .. } | ScenarioError::Invalid { key, .. }
                if !key.is_empty() =>
            {
                Some(key)
            }
            _ => None,
        }
    }
}

/// A problem found while checking a parsed scenario: the key and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub key: String,
    pub problem: String,
}

impl Invalid {
    pub(crate) fn new(key: impl Into<String>, problem: impl Into<String>) -> Self {
        Invalid {
            key: key.into(),
            problem: problem.into(),
        }
    }
}

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
    pub mean: f64,
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
    /// Share of breaks that overrun their allowance by 3 to 12 minutes.
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
    pub id: String,
    pub start: ClockTime,
    pub end: ClockTime,
}

/// A site (`[[sites]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSpec {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub groups: Vec<GroupSpec>,
}

/// A group of identical teams (`[[sites.groups]]`): its teams are named `<group>-t01`, ...
/// and its agents, numbered across the whole scenario, `a0001`, ...
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default = "one")]
    pub teams: u32,
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
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// Tree node whose figures include this queue (`site:ID`, `group:ID`, `team:ID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Calls of a higher-priority queue are served first.
    #[serde(default)]
    pub priority: u8,
    #[serde(default)]
    pub direction: Direction,
    /// Expected calls in the day (inbound), or dials (outbound).
    pub calls_per_day: f64,
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
    #[serde(default = "default_talk")]
    pub talk_s: DurationSpec,
    /// Share of answered calls the agent puts on hold once.
    #[serde(default)]
    pub hold_share: f64,
    #[serde(default = "default_hold")]
    pub hold_s: DurationSpec,
    /// Share of calls followed by after-call work.
    #[serde(default)]
    pub acw_share: f64,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_s: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<ServiceLevelVariant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_abandon_s: Option<u32>,
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
        start: ClockTime,
        minutes: f64,
        factor: f64,
        /// Queues hit; empty: all.
        #[serde(default)]
        queues: Vec<String>,
    },
    /// A wave of agents logging out: `share` of those signed in leave once their current call
    /// is done, and come back after `back_after_minutes` if set.
    LogoutWave {
        start: ClockTime,
        share: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        back_after_minutes: Option<f64>,
    },
    /// The feed goes silent: events in the span are lost, as when the switch's link is down.
    FeedSilent { start: ClockTime, minutes: f64 },
    /// Frequent dropped calls: `share` of the calls answered in the span drop after a few
    /// seconds of talk.
    DroppedCalls {
        start: ClockTime,
        minutes: f64,
        share: f64,
    },
}

impl Scenario {
    /// A preset by name: `small` (20 agents), `medium` (300) or `large` (5,000).
    pub fn preset(name: &str) -> Result<Scenario, ScenarioError> {
        let (_, text) = PRESETS
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| ScenarioError::UnknownPreset(name.to_string()))?;
        Scenario::parse(text, &format!("preset {name}"))
    }

    /// The names of the presets.
    pub fn preset_names() -> impl Iterator<Item = &'static str> {
        PRESETS.iter().map(|(n, _)| *n)
    }

    /// A scenario from a TOML file.
    pub fn from_file(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Scenario::parse(&text, &path.display().to_string())
    }

    /// A scenario from TOML text.
    pub fn from_toml_str(text: &str) -> Result<Scenario, ScenarioError> {
        Scenario::parse(text, "scenario")
    }

    /// A preset name or, failing that, a path to a TOML file.
    pub fn load(name_or_path: &str) -> Result<Scenario, ScenarioError> {
        match Scenario::preset(name_or_path) {
            Err(ScenarioError::UnknownPreset(_)) if Path::new(name_or_path).exists() => {
                Scenario::from_file(Path::new(name_or_path))
            }
            other => other,
        }
    }

    fn parse(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let toml_error = |key: String, e: &toml::de::Error| ScenarioError::Toml {
            origin: origin.to_string(),
            key,
            message: e.message().to_string(),
            line: e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1),
        };
        let de = toml::Deserializer::parse(text).map_err(|e| toml_error(String::new(), &e))?;
        let scenario: Scenario = serde_path_to_error::deserialize(de)
            .map_err(|e| toml_error(e.path().to_string(), e.inner()))?;
        scenario
            .check()
            .map_err(|Invalid { key, problem }| ScenarioError::Invalid {
                origin: origin.to_string(),
                key,
                problem,
            })?;
        Ok(scenario)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    /// The centre's calendar (its time zone and daily reset).
    pub fn calendar(&self) -> CentreCalendar {
        self.organisation_calendar()
    }

    /// How many agents the scenario staffs.
    pub fn agent_count(&self) -> u64 {
        self.sites
            .iter()
            .flat_map(|s| &s.groups)
            .map(|g| u64::from(g.teams) * u64::from(g.agents_per_team))
            .sum()
    }

    /// The centre, sites, groups, teams, agents and queues this scenario simulates, with the ids
    /// its events use. Ids are stable for a given scenario.
    pub fn organisation(&self) -> Organisation {
        let mut next_agent = 0usize;
        let sites = self
            .sites
            .iter()
            .map(|site| Site {
                id: site.id.clone(),
                name: site.name.clone(),
                groups: site
                    .groups
                    .iter()
                    .map(|group| Group {
                        id: group.id.clone(),
                        name: group.name.clone(),
                        teams: (0..group.teams)
                            .map(|t| Team {
                                id: team_id(&group.id, t),
                                name: format!("{} team {}", display(&group.name, &group.id), t + 1),
                                agents: (0..group.agents_per_team)
                                    .map(|_| {
                                        next_agent += 1;
                                        AgentConfig::Named {
                                            id: agent_id(next_agent - 1),
                                            name: agent_name(next_agent - 1),
                                        }
                                    })
                                    .collect(),
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        let queues = self
            .queues
            .iter()
            .map(|q| QueueConfig {
                id: q.id.clone(),
                name: q.name.clone(),
                owner: q.owner.clone(),
                threshold_s: q.threshold_s,
                target_pct: q.target_pct,
                variant: q.variant,
                short_abandon_s: q.short_abandon_s,
                wrap_up_s: q.wrap_up_s,
            })
            .collect();
        let mut centre = self.centre.clone();
        if centre.opening_hours.is_none() {
            centre.opening_hours = self.opening_hours();
        }
        Organisation {
            centre,
            sites,
            queues,
        }
    }

    /// The centre's opening hours when the scenario names none: from the earliest queue's
    /// opening to the latest one's close, every day (`None` for a centre open around the
    /// clock). Outside them silence is expected (docs/ALERTS.md, "Expected silence"), so the
    /// demo's night raises no alarm.
    fn opening_hours(&self) -> Option<floorwatch_core::opening_hours::OpeningHoursConfig> {
        let open = self.queues.iter().map(|q| q.open.seconds()).min()?;
        let close = self.queues.iter().map(|q| q.close.seconds()).max()?;
        if open == 0 && close >= crate::clock::DAY_SECONDS {
            return None;
        }
        let hhmm = |s: u32| format!("{:02}:{:02}", s / 3600, (s / 60) % 60);
        let day = Some(vec![format!(
            "{}-{}",
            hhmm(open),
            hhmm(close.div_ceil(60) * 60)
        )]);
        Some(floorwatch_core::opening_hours::OpeningHoursConfig {
            mon: day.clone(),
            tue: day.clone(),
            wed: day.clone(),
            thu: day.clone(),
            fri: day.clone(),
            sat: day.clone(),
            sun: day,
            exceptions: Vec::new(),
        })
    }

    fn organisation_calendar(&self) -> CentreCalendar {
        CentreCalendar::new(&self.centre.timezone, &self.centre.reset_time)
            .unwrap_or_else(|_| CentreCalendar::utc())
    }

    /// Checks what the types cannot: references between sections, ranges and the organisation.
    fn check(&self) -> Result<(), Invalid> {
        if self.name.trim().is_empty() {
            return Err(Invalid::new("name", "must not be empty"));
        }
        self.check_agents()?;
        self.check_breaks()?;
        let shifts = self.check_shifts()?;
        let queues: HashSet<&str> = self.queues.iter().map(|q| q.id.as_str()).collect();
        let mut agents = 0u64;
        for (si, site) in self.sites.iter().enumerate() {
            for (gi, group) in site.groups.iter().enumerate() {
                let key = format!("sites[{si}].groups[{gi}]");
                agents += u64::from(group.teams) * u64::from(group.agents_per_team);
                if agents > MAX_AGENTS {
                    return Err(Invalid::new(
                        format!("{key}.agents_per_team"),
                        format!("the scenario would staff more than {MAX_AGENTS} agents"),
                    ));
                }
                for (i, skill) in group.skills.iter().enumerate() {
                    if !queues.contains(skill.as_str()) {
                        return Err(Invalid::new(
                            format!("{key}.skills[{i}]"),
                            format!("`{skill}` is not a queue of this scenario"),
                        ));
                    }
                }
                for (i, shift) in group.shifts.iter().enumerate() {
                    if !shifts.contains(shift.as_str()) {
                        return Err(Invalid::new(
                            format!("{key}.shifts[{i}]"),
                            format!("`{shift}` is not a shift of this scenario"),
                        ));
                    }
                }
                if group.shifts.is_empty() && group.teams > 0 && group.agents_per_team > 0 {
                    return Err(Invalid::new(
                        format!("{key}.shifts"),
                        "a group with agents needs at least one shift",
                    ));
                }
            }
        }
        for (qi, queue) in self.queues.iter().enumerate() {
            check_queue(&format!("queues[{qi}]"), queue, &queues)?;
        }
        for (ii, incident) in self.incidents.iter().enumerate() {
            check_incident(&format!("incidents[{ii}]"), incident, &queues)?;
        }
        self.organisation().validate().map_err(|e| {
            let text = e.to_string();
            match text.split_once(": ") {
                Some((key, problem)) => Invalid::new(key, problem),
                None => Invalid::new("centre", text),
            }
        })
    }

    fn check_agents(&self) -> Result<(), Invalid> {
        let a = &self.agents;
        for (key, share) in [
            ("agents.late_share", a.late_share),
            ("agents.early_logout_share", a.early_logout_share),
            ("agents.login_not_ready_share", a.login_not_ready_share),
            ("agents.ring_no_answer_share", a.ring_no_answer_share),
        ] {
            check_share(key, share)?;
        }
        check_finite("agents.sign_in_offset_s.mean", a.sign_in_offset_s.mean)?;
        check_non_negative("agents.sign_in_offset_s.sd", a.sign_in_offset_s.sd)?;
        check_non_negative("agents.ring_timeout_s", a.ring_timeout_s)?;
        check_non_negative("agents.not_ready_per_hour", a.not_ready_per_hour)?;
        a.ring_s.check("agents.ring_s")?;
        a.auto_pause_s.check("agents.auto_pause_s")
    }

    fn check_breaks(&self) -> Result<(), Invalid> {
        let b = &self.breaks;
        check_non_negative("breaks.break_minutes", b.break_minutes)?;
        check_non_negative("breaks.every_hours", b.every_hours)?;
        if b.every_hours > 0.0 && b.every_hours < 0.5 {
            return Err(Invalid::new(
                "breaks.every_hours",
                "must be 0 (no breaks) or at least 0.5",
            ));
        }
        check_non_negative("breaks.meal_minutes", b.meal_minutes)?;
        check_non_negative("breaks.meal_min_shift_hours", b.meal_min_shift_hours)?;
        check_non_negative("breaks.stagger_minutes", b.stagger_minutes)?;
        check_share("breaks.overrun_share", b.overrun_share)
    }

    fn check_shifts(&self) -> Result<HashSet<&str>, Invalid> {
        let mut ids = HashSet::new();
        for (i, shift) in self.shifts.iter().enumerate() {
            let key = format!("shifts[{i}]");
            if shift.id.is_empty() {
                return Err(Invalid::new(format!("{key}.id"), "must not be empty"));
            }
            if !ids.insert(shift.id.as_str()) {
                return Err(Invalid::new(
                    format!("{key}.id"),
                    format!("duplicate shift id `{}`", shift.id),
                ));
            }
            if shift.end <= shift.start {
                return Err(Invalid::new(
                    format!("{key}.end"),
                    format!(
                        "{} is not after start {} (shifts do not cross midnight)",
                        shift.end, shift.start
                    ),
                ));
            }
        }
        Ok(ids)
    }
}

fn check_queue(key: &str, q: &QueueSpec, queues: &HashSet<&str>) -> Result<(), Invalid> {
    if !(q.calls_per_day.is_finite() && q.calls_per_day >= 0.0) {
        return Err(Invalid::new(
            format!("{key}.calls_per_day"),
            format!("must be a number >= 0, not {}", q.calls_per_day),
        ));
    }
    if let Some(hourly) = &q.hourly {
        if hourly.len() != 24 {
            return Err(Invalid::new(
                format!("{key}.hourly"),
                format!("needs 24 weights, one per hour, not {}", hourly.len()),
            ));
        }
        if let Some(i) = hourly.iter().position(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err(Invalid::new(
                format!("{key}.hourly[{i}]"),
                "must be a weight >= 0",
            ));
        }
    }
    if q.close <= q.open {
        return Err(Invalid::new(
            format!("{key}.close"),
            format!("{} is not after open {}", q.close, q.open),
        ));
    }
    for (name, share) in [
        ("hold_share", q.hold_share),
        ("acw_share", q.acw_share),
        ("ivr_share", q.ivr_share),
        ("transfer_share", q.transfer_share),
        ("test_share", q.test_share),
        ("answer_share", q.answer_share),
    ] {
        check_share(&format!("{key}.{name}"), share)?;
    }
    q.talk_s.check(&format!("{key}.talk_s"))?;
    q.hold_s.check(&format!("{key}.hold_s"))?;
    q.acw_s.check(&format!("{key}.acw_s"))?;
    q.ivr_s.check(&format!("{key}.ivr_s"))?;
    q.customer_ring_s.check(&format!("{key}.customer_ring_s"))?;
    if let Some(p) = &q.patience_s {
        p.check(&format!("{key}.patience_s"))?;
    }
    if let Some(t) = q.timeout_s
        && !(t.is_finite() && t > 0.0)
    {
        return Err(Invalid::new(
            format!("{key}.timeout_s"),
            format!("must be a number of seconds > 0, not {t}"),
        ));
    }
    check_non_negative(&format!("{key}.no_answer_s"), q.no_answer_s)?;
    if let Some(to) = &q.overflow_to
        && (!queues.contains(to.as_str()) || *to == q.id)
    {
        return Err(Invalid::new(
            format!("{key}.overflow_to"),
            format!("`{to}` is not another queue of this scenario"),
        ));
    }
    for (i, to) in q.transfer_to.iter().enumerate() {
        if !queues.contains(to.as_str()) {
            return Err(Invalid::new(
                format!("{key}.transfer_to[{i}]"),
                format!("`{to}` is not a queue of this scenario"),
            ));
        }
    }
    Ok(())
}

fn check_incident(
    key: &str,
    incident: &IncidentSpec,
    queues: &HashSet<&str>,
) -> Result<(), Invalid> {
    match incident {
        IncidentSpec::CallPeak {
            minutes,
            factor,
            queues: hit,
            ..
        } => {
            check_positive(&format!("{key}.minutes"), *minutes)?;
            check_positive(&format!("{key}.factor"), *factor)?;
            for (i, q) in hit.iter().enumerate() {
                if !queues.contains(q.as_str()) {
                    return Err(Invalid::new(
                        format!("{key}.queues[{i}]"),
                        format!("`{q}` is not a queue of this scenario"),
                    ));
                }
            }
            Ok(())
        }
        IncidentSpec::LogoutWave {
            share,
            back_after_minutes,
            ..
        } => {
            check_share(&format!("{key}.share"), *share)?;
            if let Some(m) = back_after_minutes {
                check_positive(&format!("{key}.back_after_minutes"), *m)?;
            }
            Ok(())
        }
        IncidentSpec::FeedSilent { minutes, .. } => {
            check_positive(&format!("{key}.minutes"), *minutes)
        }
        IncidentSpec::DroppedCalls { minutes, share, .. } => {
            check_positive(&format!("{key}.minutes"), *minutes)?;
            check_share(&format!("{key}.share"), *share)
        }
    }
}

fn check_share(key: &str, v: f64) -> Result<(), Invalid> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(Invalid::new(
            key,
            format!("must be a share between 0 and 1, not {v}"),
        ))
    }
}

fn check_finite(key: &str, v: f64) -> Result<(), Invalid> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Invalid::new(key, "must be a finite number"))
    }
}

fn check_non_negative(key: &str, v: f64) -> Result<(), Invalid> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(Invalid::new(key, format!("must be a number >= 0, not {v}")))
    }
}

fn check_positive(key: &str, v: f64) -> Result<(), Invalid> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Invalid::new(key, format!("must be a number > 0, not {v}")))
    }
}

fn display<'a>(name: &'a str, id: &'a str) -> &'a str {
    if name.is_empty() { id } else { name }
}

/// The id of a group's `index`-th team (0-based): `<group>-t01`.
pub(crate) fn team_id(group: &str, index: u32) -> String {
    format!("{group}-t{:02}", index + 1)
}

/// The id of the scenario's `index`-th agent (0-based): `a0001`.
pub(crate) fn agent_id(index: usize) -> String {
    format!("a{:04}", index + 1)
}

/// A stable, readable display name for the `index`-th agent, so a wallboard shows people
/// rather than numbers.
pub(crate) fn agent_name(index: usize) -> String {
    const FAMILY: [&str; 20] = [
        "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun",
        "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Gao", "Luo",
    ];
    const GIVEN: [&str; 23] = [
        "Wei", "Fang", "Na", "Min", "Jing", "Lei", "Qiang", "Jun", "Yan", "Jie", "Tao", "Ming",
        "Xia", "Hui", "Ping", "Gang", "Hong", "Ying", "Bin", "Lan", "Dan", "Peng", "Yu",
    ];
    // 20 and 23 are coprime, so the first 460 agents all get different names.
    format!(
        "{} {}",
        FAMILY[index % FAMILY.len()],
        GIVEN[index % GIVEN.len()]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "tiny"
[centre]
timezone = "Asia/Shanghai"
[[shifts]]
id = "day"
start = "08:00"
end = "17:00"
[[sites]]
id = "s"
[[sites.groups]]
id = "g"
teams = 2
agents_per_team = 3
skills = ["billing"]
shifts = ["day"]
[[queues]]
id = "billing"
calls_per_day = 100
"#;

    fn error(text: &str) -> ScenarioError {
        Scenario::from_toml_str(text).unwrap_err()
    }

    #[test]
    fn a_centre_whose_queues_close_is_open_from_the_first_opening_to_the_last_close() {
        let hours = |text: &str| {
            let org = Scenario::from_toml_str(text).unwrap().organisation();
            org.validate().unwrap();
            org.centre.opening_hours.map(|h| h.mon)
        };
        // Around the clock (the default): always open, no table.
        assert_eq!(hours(MINIMAL), None);
        let closing = MINIMAL.replace(
            "calls_per_day = 100",
            "calls_per_day = 100\nopen = \"08:30\"\nclose = \"19:45\"",
        );
        assert_eq!(hours(&closing), Some(Some(vec!["08:30-19:45".to_string()])));
    }

    #[test]
    fn presets_load_with_the_agents_the_issue_asks_for() {
        for (name, agents) in [("small", 20), ("medium", 300), ("large", 5000)] {
            let s = Scenario::preset(name).unwrap();
            assert_eq!(s.agent_count(), agents, "{name}");
            let org = s.organisation();
            org.validate().unwrap();
            let in_tree: usize = org
                .sites
                .iter()
                .flat_map(|s| &s.groups)
                .flat_map(|g| &g.teams)
                .map(|t| t.agents.len())
                .sum();
            assert_eq!(in_tree as u64, agents);
        }
        assert!(matches!(
            Scenario::preset("huge"),
            Err(ScenarioError::UnknownPreset(_))
        ));
    }

    #[test]
    fn organisation_ids_are_stable_and_numbered_across_groups() {
        let s = Scenario::from_toml_str(MINIMAL).unwrap();
        let org = s.organisation();
        assert_eq!(org, s.organisation());
        let teams = &org.sites[0].groups[0].teams;
        assert_eq!(teams[0].id, "g-t01");
        assert_eq!(teams[1].agents[0].id(), "a0004");
        assert_eq!(org.centre.timezone, "Asia/Shanghai");
        assert_eq!(org.queues[0].id, "billing");
    }

    #[test]
    fn type_errors_and_unknown_keys_name_the_key() {
        let e = error(&MINIMAL.replace("calls_per_day = 100", "calls_per_day = \"many\""));
        assert_eq!(e.key(), Some("queues[0].calls_per_day"), "{e}");
        assert!(e.to_string().contains("line 19"), "{e}");
        let e = error(&format!("{MINIMAL}tlak_s = {{ mean = 3 }}\n"));
        assert_eq!(e.key(), Some("queues[0].tlak_s"), "{e}");
        assert!(e.to_string().contains("tlak_s"), "{e}");
        let e = error(&MINIMAL.replace("start = \"08:00\"", "start = \"8am\""));
        assert_eq!(e.key(), Some("shifts[0].start"), "{e}");
        let e = error(&format!(
            "{MINIMAL}[[incidents]]\nkind = \"meteor\"\nstart = \"10:00\"\n"
        ));
        assert_eq!(e.key(), Some("incidents[0].kind"), "{e}");
        let e = error("name = \"x\"\nshifts = [\n");
        assert!(matches!(e, ScenarioError::Toml { .. }), "{e}");
    }

    #[test]
    fn inconsistent_values_name_the_key() {
        let cases = [
            (
                MINIMAL.replace(
                    "skills = [\"billing\"]",
                    "skills = [\"billing\", \"sales\"]",
                ),
                "sites[0].groups[0].skills[1]",
            ),
            (
                MINIMAL.replace("shifts = [\"day\"]", "shifts = [\"night\"]"),
                "sites[0].groups[0].shifts[0]",
            ),
            (
                MINIMAL.replace("end = \"17:00\"", "end = \"07:00\""),
                "shifts[0].end",
            ),
            (
                format!("{MINIMAL}talk_s = {{ mean = -3 }}\n"),
                "queues[0].talk_s.mean",
            ),
            (format!("{MINIMAL}acw_share = 1.5\n"), "queues[0].acw_share"),
            (
                format!("{MINIMAL}overflow_to = \"billing\"\n"),
                "queues[0].overflow_to",
            ),
            (format!("{MINIMAL}hourly = [1, 2]\n"), "queues[0].hourly"),
            (
                MINIMAL.replace("Asia/Shanghai", "Mars/Olympus"),
                "centre.timezone",
            ),
            (
                format!(
                    "{MINIMAL}[[incidents]]\nkind = \"call_peak\"\nstart = \"10:00\"\nminutes = 30\nfactor = 0\n"
                ),
                "incidents[0].factor",
            ),
            (
                format!("{MINIMAL}[agents]\nlate_share = 2\n"),
                "agents.late_share",
            ),
        ];
        for (text, key) in cases {
            let e = error(&text);
            assert_eq!(e.key(), Some(key), "{e}");
            assert!(e.to_string().contains(key), "{e}");
        }
    }

    #[test]
    fn a_missing_file_says_which() {
        let e = Scenario::from_file(Path::new("/nonexistent/day.toml")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/day.toml"), "{e}");
    }
}
