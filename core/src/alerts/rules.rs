//! Alert rules: the `[alerts]` table of the server's config (`[[alerts.rules]]`), the defaults
//! every centre gets unless it says otherwise, and their validation into the checks the
//! evaluator runs (docs/ALERTS.md, "Rules").
//!
//! A rule is written flat in TOML, one table per rule, with the fields of its `kind`; validation
//! names the key at fault (`alerts.rules[2].metric: unknown metric "foo"`) and fills in every
//! default, so `GET /api/v1/alerts/rules` lists exactly what is evaluated.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::metric::Metric;
use crate::event::{Millis, NotReadyReason};
use crate::org::Organisation;
use crate::scope::{Scope, Window};
use crate::time::{MINUTE_MS, SECOND_MS};

/// The `[alerts]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// Evaluate the default rules ([`default_rules`]) as well as the configured ones. A
    /// configured rule with a default rule's id replaces it (`enabled = false` switches it off).
    #[serde(default = "yes")]
    pub default_rules: bool,
    /// The escalation chain of every rule that sets none.
    #[serde(default = "default_escalation")]
    pub escalation: Vec<EscalationStep>,
    /// Changes within this many seconds of the last notification batch wait for the next one,
    /// so a burst becomes one message (docs/ALERTS.md, "Notification batches").
    #[serde(default = "default_batch_s")]
    pub batch_s: u32,
    #[serde(default)]
    pub rules: Vec<AlertRule>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            default_rules: true,
            escalation: default_escalation(),
            batch_s: default_batch_s(),
            rules: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_batch_s() -> u32 {
    30
}

/// Team lead at once, the supervisor after 10 minutes unacknowledged, the manager after 30.
pub fn default_escalation() -> Vec<EscalationStep> {
    vec![
        EscalationStep {
            role: EscalationTier::TeamLead,
            after_min: 0,
        },
        EscalationStep {
            role: EscalationTier::Supervisor,
            after_min: 10,
        },
        EscalationStep {
            role: EscalationTier::Manager,
            after_min: 30,
        },
    ]
}

/// One `[[alerts.rules]]` table. Fields a kind does not use must be left out; fields left out
/// take the kind's defaults (docs/ALERTS.md lists them). [`super::Alerts::rules`] returns rules
/// with every default filled in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// Unique; letters, digits, `-`, `_` and `.`. Part of every alert id the rule raises.
    pub id: String,
    #[serde(default)]
    pub kind: RuleKind,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Where the rule looks: a scope (`queue:billing`, `team:t1`, `centre`) or every scope of a
    /// kind (`every_queue`, `every_team`, `every_group`, `every_site`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<RuleScope>,

    // kind = "metric"
    /// A figure of docs/METRICS.md by its field name (see [`Metric`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<Threshold>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critical: Option<Threshold>,
    /// An open alert clears once the value is back past this (hysteresis); defaults to the
    /// least severe threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear: Option<Threshold>,
    /// The condition counts only when the window has at least this many offered calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_offered: Option<u64>,

    // built-in kinds
    /// The level a built-in kind raises at (metric rules use `warning` / `critical`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// `not_ready_overrun`: minutes allowed per not-ready reason; reasons left out are not
    /// watched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowance_min: Option<BTreeMap<String, u32>>,
    /// `source_silent`: seconds without an event before a source counts as silent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silent_s: Option<u32>,
    /// `source_silent`: the sources to watch; every source ever observed when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<String>>,
    /// `sudden_peak`: arrivals must exceed this many times the usual volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
    /// `sudden_peak`: and be at least this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_arrivals: Option<u64>,
    /// `dropped_calls`: a call ended within this many seconds of its answer is dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_talk_s: Option<u32>,
    /// `dropped_calls`: this many dropped calls within `window_min` raise the alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// `dropped_calls`: the counting window, minutes (1 to 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_min: Option<u32>,

    // lifecycle
    /// How long the condition must hold, unbroken, before the alert is raised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_s: Option<u32>,
    /// After an alert clears, the same condition raises no new alert for this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_s: Option<u32>,
    /// Local times (the centre's zone) in which the rule raises and escalates nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<Vec<QuietHours>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<Vec<EscalationStep>>,
}

/// What a rule watches.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// A figure of docs/METRICS.md against thresholds.
    #[default]
    Metric,
    /// An agent not ready longer than the allowance of its reason.
    NotReadyOverrun,
    /// A source that sent nothing for `silent_s` (a system problem).
    SourceSilent,
    /// Arrivals in the last 5 minutes above `factor` times the usual volume.
    SuddenPeak,
    /// Calls ended within `short_talk_s` of their answer, `count` or more in `window_min`.
    DroppedCalls,
}

impl RuleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Metric => "metric",
            RuleKind::NotReadyOverrun => "not_ready_overrun",
            RuleKind::SourceSilent => "source_silent",
            RuleKind::SuddenPeak => "sudden_peak",
            RuleKind::DroppedCalls => "dropped_calls",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Warning,
    Critical,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Warning => "warning",
            Level::Critical => "critical",
        }
    }
}

/// Whether the alert is about a value too low or too high.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    Below,
    Above,
}

impl Comparison {
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::Below => "below",
            Comparison::Above => "above",
        }
    }

    /// Whether `value` is past `threshold` (strictly).
    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::Below => value < threshold,
            Comparison::Above => value > threshold,
        }
    }
}

/// Who an alert is escalated to: a tier of the escalation chain, named like the user roles it
/// reaches but not one ([`crate::Role`] is what a user may do; this is who is told when).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationTier {
    /// 组长.
    TeamLead,
    /// 值班长.
    Supervisor,
    /// 呼叫中心经理.
    Manager,
}

impl EscalationTier {
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationTier::TeamLead => "team_lead",
            EscalationTier::Supervisor => "supervisor",
            EscalationTier::Manager => "manager",
        }
    }
}

/// One step of an escalation chain: `role` is told once the alert has been unacknowledged for
/// `after_min` minutes since it was raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationStep {
    pub role: EscalationTier,
    pub after_min: u32,
}

/// A span of local time, `from` inclusive to `to` exclusive, `HH:MM`; wraps midnight when
/// `to` is earlier than `from` (`22:00` to `07:00`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    pub from: String,
    pub to: String,
}

/// Every scope of one kind, or one scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RuleScope {
    EveryQueue,
    EveryTeam,
    EveryGroup,
    EverySite,
    One(Scope),
}

impl RuleScope {
    fn as_str(&self) -> String {
        match self {
            RuleScope::EveryQueue => "every_queue".into(),
            RuleScope::EveryTeam => "every_team".into(),
            RuleScope::EveryGroup => "every_group".into(),
            RuleScope::EverySite => "every_site".into(),
            RuleScope::One(scope) => scope.to_string(),
        }
    }
}

impl fmt::Display for RuleScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl FromStr for RuleScope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "every_queue" => RuleScope::EveryQueue,
            "every_team" => RuleScope::EveryTeam,
            "every_group" => RuleScope::EveryGroup,
            "every_site" => RuleScope::EverySite,
            _ => RuleScope::One(s.parse().map_err(|_| {
                format!(
                    "unknown scope `{s}`: expected every_queue, every_team, every_group, \
                     every_site, centre, or site:ID, group:ID, team:ID, queue:ID, agent:ID"
                )
            })?),
        })
    }
}

crate::serde_via_str!(RuleScope);

/// A threshold: a number in the metric's unit, or relative to the scope's service-level target
/// (`"target"`, `"target-10"`, `"target+2"`: percentage points, for `service_level_pct` only).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    Value(f64),
    /// The scope's `service_level_target_pct` plus this many points, kept within 0..=100.
    Target(f64),
}

impl Threshold {
    /// The threshold for a scope whose service-level target is `target_pct`.
    pub fn resolve(self, target_pct: f64) -> f64 {
        match self {
            Threshold::Value(v) => v,
            Threshold::Target(offset) => (target_pct + offset).clamp(0.0, 100.0),
        }
    }

    fn relative(self) -> bool {
        matches!(self, Threshold::Target(_))
    }

    /// The number compared, for checks between thresholds of the same sort.
    fn number(self) -> f64 {
        match self {
            Threshold::Value(v) | Threshold::Target(v) => v,
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Threshold::Value(v) => write!(f, "{v}"),
            Threshold::Target(o) if *o == 0.0 => f.write_str("target"),
            Threshold::Target(o) => write!(f, "target{o:+}"),
        }
    }
}

impl FromStr for Threshold {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || format!("`{s}` is not a number, `target`, `target-N` or `target+N`");
        let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        if let Some(rest) = compact.strip_prefix("target") {
            if rest.is_empty() {
                return Ok(Threshold::Target(0.0));
            }
            if !rest.starts_with(['+', '-']) {
                return Err(err());
            }
            let offset: f64 = rest.parse().map_err(|_| err())?;
            return finite(offset).map(Threshold::Target).ok_or_else(err);
        }
        let value: f64 = compact.parse().map_err(|_| err())?;
        finite(value).map(Threshold::Value).ok_or_else(err)
    }
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

impl Serialize for Threshold {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Threshold::Value(v) => s.serialize_f64(*v),
            Threshold::Target(_) => s.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Threshold;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, or \"target\", \"target-N\", \"target+N\"")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Threshold, E> {
                finite(v)
                    .map(Threshold::Value)
                    .ok_or_else(|| E::custom("threshold must be finite"))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Threshold, E> {
                Ok(Threshold::Value(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Threshold, E> {
                Ok(Threshold::Value(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Threshold, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// A rule that does not make sense, naming its key in the config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("{key}: unknown metric \"{name}\" (expected one of: {expected})")]
    UnknownMetric {
        key: String,
        name: String,
        expected: String,
    },
    #[error("{key}: required for kind \"{kind}\"")]
    Required { key: String, kind: &'static str },
    #[error("{key}: not used by kind \"{kind}\"")]
    NotUsed { key: String, kind: &'static str },
    #[error("{key}: duplicate rule id \"{id}\"")]
    Duplicate { key: String, id: String },
    #[error("{key}: {problem}")]
    Invalid { key: String, problem: String },
}

fn invalid(key: String, problem: impl Into<String>) -> RuleError {
    RuleError::Invalid {
        key,
        problem: problem.into(),
    }
}

/// The built-in service-level rule's `min_offered`: below it the window has too few calls
/// for a percentage to mean anything (docs/ALERTS.md, "Defaults").
pub const DEFAULT_MIN_OFFERED: u64 = 5;

/// The rules every centre gets unless `default_rules = false` (docs/ALERTS.md, "Defaults").
pub fn default_rules() -> Vec<AlertRule> {
    vec![
        AlertRule {
            id: "service-level".into(),
            kind: RuleKind::Metric,
            scope: Some(RuleScope::EveryQueue),
            metric: Some("service_level_pct".into()),
            window: Some(Window::Rolling30),
            comparison: Some(Comparison::Below),
            warning: Some(Threshold::Target(0.0)),
            critical: Some(Threshold::Target(-10.0)),
            clear: Some(Threshold::Target(2.0)),
            hold_s: Some(300),
            // Service level on one or two calls is not a signal: "Technical support 0.0 %"
            // from a single call was the demo's loudest false alarm.
            min_offered: Some(DEFAULT_MIN_OFFERED),
            ..rule_defaults()
        },
        AlertRule {
            id: "not-ready-overrun".into(),
            kind: RuleKind::NotReadyOverrun,
            ..rule_defaults()
        },
        AlertRule {
            id: "source-silent".into(),
            kind: RuleKind::SourceSilent,
            ..rule_defaults()
        },
        AlertRule {
            id: "sudden-peak".into(),
            kind: RuleKind::SuddenPeak,
            ..rule_defaults()
        },
        AlertRule {
            id: "dropped-calls".into(),
            kind: RuleKind::DroppedCalls,
            ..rule_defaults()
        },
    ]
}

fn rule_defaults() -> AlertRule {
    AlertRule {
        enabled: true,
        ..AlertRule::default()
    }
}

/// A local time of day, seconds after local midnight.
pub(crate) type DaySecond = i32;

/// A validated rule, ready to evaluate.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    pub id: String,
    pub kind: RuleKind,
    pub scope: RuleScope,
    pub check: Check,
    pub hold: Millis,
    pub cooldown: Millis,
    pub quiet: Vec<(DaySecond, DaySecond)>,
    pub escalation: Vec<EscalationStep>,
}

impl CompiledRule {
    /// Whether local second-of-day `t` falls in the rule's quiet hours.
    pub fn quiet_at(&self, t: DaySecond) -> bool {
        self.quiet.iter().any(|&(from, to)| {
            if from < to {
                (from..to).contains(&t)
            } else {
                t >= from || t < to
            }
        })
    }
}

/// What a rule measures, with its kind's parameters.
#[derive(Debug, Clone)]
pub(crate) enum Check {
    Metric {
        metric: Metric,
        window: Window,
        comparison: Comparison,
        warning: Option<Threshold>,
        critical: Option<Threshold>,
        clear: Threshold,
        min_offered: u64,
    },
    NotReadyOverrun {
        /// Allowance per watched reason.
        allowance: BTreeMap<NotReadyReason, Millis>,
        level: Level,
    },
    SourceSilent {
        silent: Millis,
        sources: Option<Vec<String>>,
        level: Level,
    },
    SuddenPeak {
        factor: f64,
        min_arrivals: u64,
        level: Level,
    },
    DroppedCalls {
        short_talk: Millis,
        count: u64,
        window: Millis,
        level: Level,
    },
}

/// Longest hold, cool-down or silence accepted: a day.
const MAX_SECONDS: u32 = 86_400;

/// Checks `config` against `org` and returns the effective rules (every default filled in, in
/// evaluation order: configured rules, then the defaults not replaced) and their checks.
pub(crate) fn compile(
    config: &AlertsConfig,
    org: &Organisation,
) -> Result<(Vec<AlertRule>, Vec<CompiledRule>), RuleError> {
    if config.batch_s > MAX_SECONDS {
        return Err(invalid(
            "alerts.batch_s".into(),
            format!("must be at most {MAX_SECONDS}"),
        ));
    }
    check_escalation("alerts.escalation", &config.escalation)?;
    let mut ids = BTreeSet::new();
    let mut keyed: Vec<(String, &AlertRule)> = Vec::new();
    for (i, rule) in config.rules.iter().enumerate() {
        let key = format!("alerts.rules[{i}]");
        check_id(&format!("{key}.id"), &rule.id)?;
        if !ids.insert(rule.id.as_str()) {
            return Err(RuleError::Duplicate {
                key: format!("{key}.id"),
                id: rule.id.clone(),
            });
        }
        keyed.push((key, rule));
    }
    let defaults = if config.default_rules {
        default_rules()
    } else {
        Vec::new()
    };
    for rule in &defaults {
        if !ids.contains(rule.id.as_str()) {
            keyed.push((format!("default rule \"{}\"", rule.id), rule));
        }
    }
    let mut effective = Vec::new();
    let mut compiled = Vec::new();
    for (key, rule) in keyed {
        let (filled, check) = compile_rule(&key, rule, config, org)?;
        if filled.enabled {
            compiled.push(check);
        }
        effective.push(filled);
    }
    Ok((effective, compiled))
}

fn check_id(key: &str, id: &str) -> Result<(), RuleError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            key.into(),
            format!("\"{id}\" must be 1 to 64 letters, digits, `-`, `_` or `.`"),
        ))
    }
}

fn check_escalation(key: &str, steps: &[EscalationStep]) -> Result<(), RuleError> {
    let Some(first) = steps.first() else {
        return Err(invalid(key.into(), "needs at least one step"));
    };
    if first.after_min != 0 {
        return Err(invalid(
            format!("{key}[0].after_min"),
            "the first step is who is told when the alert is raised: must be 0",
        ));
    }
    for (i, pair) in steps.windows(2).enumerate() {
        if pair[1].after_min <= pair[0].after_min {
            return Err(invalid(
                format!("{key}[{}].after_min", i + 1),
                "must be later than the step before",
            ));
        }
    }
    Ok(())
}

fn parse_hhmm(key: &str, s: &str) -> Result<DaySecond, RuleError> {
    let bad = || invalid(key.into(), format!("\"{s}\" is not a local time HH:MM"));
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: i32 = h.parse().map_err(|_| bad())?;
    let m: i32 = m.parse().map_err(|_| bad())?;
    if !(0..24).contains(&h) || !(0..60).contains(&m) {
        return Err(bad());
    }
    Ok(h * 3600 + m * 60)
}

/// Fields that only some kinds use: (name, set?, kinds that use it).
fn kind_fields(rule: &AlertRule) -> [(&'static str, bool, &'static [RuleKind]); 16] {
    use RuleKind::*;
    [
        ("metric", rule.metric.is_some(), &[Metric]),
        ("window", rule.window.is_some(), &[Metric]),
        ("comparison", rule.comparison.is_some(), &[Metric]),
        ("warning", rule.warning.is_some(), &[Metric]),
        ("critical", rule.critical.is_some(), &[Metric]),
        ("clear", rule.clear.is_some(), &[Metric]),
        ("min_offered", rule.min_offered.is_some(), &[Metric]),
        (
            "level",
            rule.level.is_some(),
            &[NotReadyOverrun, SourceSilent, SuddenPeak, DroppedCalls],
        ),
        (
            "allowance_min",
            rule.allowance_min.is_some(),
            &[NotReadyOverrun],
        ),
        ("silent_s", rule.silent_s.is_some(), &[SourceSilent]),
        ("sources", rule.sources.is_some(), &[SourceSilent]),
        ("factor", rule.factor.is_some(), &[SuddenPeak]),
        ("min_arrivals", rule.min_arrivals.is_some(), &[SuddenPeak]),
        ("short_talk_s", rule.short_talk_s.is_some(), &[DroppedCalls]),
        ("count", rule.count.is_some(), &[DroppedCalls]),
        ("window_min", rule.window_min.is_some(), &[DroppedCalls]),
    ]
}

fn compile_rule(
    key: &str,
    rule: &AlertRule,
    config: &AlertsConfig,
    org: &Organisation,
) -> Result<(AlertRule, CompiledRule), RuleError> {
    let kind = rule.kind;
    let kind_name = kind.as_str();
    for (field, set, kinds) in kind_fields(rule) {
        if set && !kinds.contains(&kind) {
            return Err(RuleError::NotUsed {
                key: format!("{key}.{field}"),
                kind: kind_name,
            });
        }
    }
    let mut filled = rule.clone();
    let field = |name: &str| format!("{key}.{name}");

    // Scope: defaults and what each kind can look at.
    let scope = rule.scope.clone().unwrap_or(match kind {
        RuleKind::Metric | RuleKind::SuddenPeak | RuleKind::DroppedCalls => RuleScope::EveryQueue,
        RuleKind::NotReadyOverrun | RuleKind::SourceSilent => RuleScope::One(Scope::Centre),
    });
    check_scope(&field("scope"), &scope, kind, org)?;
    filled.scope = Some(scope.clone());

    let level = rule.level.unwrap_or(match kind {
        RuleKind::SourceSilent => Level::Critical,
        _ => Level::Warning,
    });
    let check = match kind {
        RuleKind::Metric => {
            let name = rule.metric.as_deref().ok_or_else(|| RuleError::Required {
                key: field("metric"),
                kind: kind_name,
            })?;
            let metric: Metric = name.parse().map_err(|_| RuleError::UnknownMetric {
                key: field("metric"),
                name: name.into(),
                expected: Metric::ALL.map(Metric::as_str).join(", "),
            })?;
            let comparison = rule.comparison.ok_or_else(|| RuleError::Required {
                key: field("comparison"),
                kind: kind_name,
            })?;
            let window = rule.window.unwrap_or(Window::Rolling30);
            let (warning, critical) = (rule.warning, rule.critical);
            let least = warning.or(critical).ok_or_else(|| RuleError::Required {
                key: field("warning"),
                kind: kind_name,
            })?;
            for (name, t) in [
                ("warning", warning),
                ("critical", critical),
                ("clear", rule.clear),
            ] {
                if t.is_some_and(Threshold::relative) && metric != Metric::ServiceLevelPct {
                    return Err(invalid(
                        field(name),
                        "`target` thresholds are for metric service_level_pct only",
                    ));
                }
            }
            let clear = rule.clear.unwrap_or(least);
            // Thresholds of the same sort must be in order; a mix of numbers and targets is
            // only known per scope, and evaluation copes (a value past a threshold is never
            // taken as recovered).
            let beyond = |a: Threshold, b: Threshold| {
                a.relative() == b.relative() && comparison.breaches(a.number(), b.number())
            };
            if let (Some(w), Some(c)) = (warning, critical)
                && (w.relative() == c.relative())
                && !beyond(c, w)
            {
                return Err(invalid(
                    field("critical"),
                    format!(
                        "must be {} warning ({w}) for comparison \"{}\"",
                        comparison.as_str(),
                        comparison.as_str()
                    ),
                ));
            }
            if beyond(clear, least) {
                return Err(invalid(
                    field("clear"),
                    format!(
                        "{clear} would leave an alert raised while the value is past it; \
                         must not be {} {least}",
                        comparison.as_str()
                    ),
                ));
            }
            filled.window = Some(window);
            filled.clear = Some(clear);
            filled.min_offered = Some(rule.min_offered.unwrap_or(0));
            Check::Metric {
                metric,
                window,
                comparison,
                warning,
                critical,
                clear,
                min_offered: rule.min_offered.unwrap_or(0),
            }
        }
        RuleKind::NotReadyOverrun => {
            let given = rule.allowance_min.clone().unwrap_or_else(|| {
                BTreeMap::from([("break".to_string(), 15), ("meal".to_string(), 30)])
            });
            let mut allowance = BTreeMap::new();
            for (name, &min) in &given {
                let key = field(&format!("allowance_min.{name}"));
                let reason = NotReadyReason::ALL
                    .into_iter()
                    .find(|r| r.as_str() == name)
                    .ok_or_else(|| {
                        invalid(
                            key.clone(),
                            format!(
                                "unknown reason \"{name}\" (expected one of: {})",
                                NotReadyReason::ALL.map(NotReadyReason::as_str).join(", ")
                            ),
                        )
                    })?;
                if min == 0 || min > MAX_SECONDS / 60 {
                    return Err(invalid(key, "must be 1 to 1440 minutes"));
                }
                allowance.insert(reason, Millis::from(min) * MINUTE_MS);
            }
            filled.allowance_min = Some(given);
            filled.level = Some(level);
            Check::NotReadyOverrun { allowance, level }
        }
        RuleKind::SourceSilent => {
            let silent_s = rule.silent_s.unwrap_or(300);
            seconds(&field("silent_s"), silent_s, 1)?;
            if let Some(i) = rule.sources.iter().flatten().position(String::is_empty) {
                return Err(invalid(
                    field(&format!("sources[{i}]")),
                    "must not be empty",
                ));
            }
            filled.silent_s = Some(silent_s);
            filled.level = Some(level);
            Check::SourceSilent {
                silent: Millis::from(silent_s) * SECOND_MS,
                sources: rule.sources.clone(),
                level,
            }
        }
        RuleKind::SuddenPeak => {
            let factor = rule.factor.unwrap_or(2.0);
            if !(factor.is_finite() && factor >= 1.0) {
                return Err(invalid(field("factor"), "must be a number of at least 1"));
            }
            let min_arrivals = rule.min_arrivals.unwrap_or(10);
            if min_arrivals == 0 {
                return Err(invalid(field("min_arrivals"), "must be at least 1"));
            }
            filled.factor = Some(factor);
            filled.min_arrivals = Some(min_arrivals);
            filled.level = Some(level);
            Check::SuddenPeak {
                factor,
                min_arrivals,
                level,
            }
        }
        RuleKind::DroppedCalls => {
            let short_talk_s = rule.short_talk_s.unwrap_or(10);
            seconds(&field("short_talk_s"), short_talk_s, 1)?;
            let count = rule.count.unwrap_or(5);
            if count == 0 {
                return Err(invalid(field("count"), "must be at least 1"));
            }
            let window_min = rule.window_min.unwrap_or(10);
            if !(1..=60).contains(&window_min) {
                return Err(invalid(field("window_min"), "must be 1 to 60 minutes"));
            }
            filled.short_talk_s = Some(short_talk_s);
            filled.count = Some(count);
            filled.window_min = Some(window_min);
            filled.level = Some(level);
            Check::DroppedCalls {
                short_talk: Millis::from(short_talk_s) * SECOND_MS,
                count,
                window: Millis::from(window_min) * MINUTE_MS,
                level,
            }
        }
    };

    let (hold_default, cooldown_default) = match kind {
        RuleKind::Metric => (300, 600),
        RuleKind::NotReadyOverrun | RuleKind::SourceSilent => (0, 0),
        RuleKind::SuddenPeak | RuleKind::DroppedCalls => (0, 900),
    };
    let hold_s = rule.hold_s.unwrap_or(hold_default);
    seconds(&field("hold_s"), hold_s, 0)?;
    let cooldown_s = rule.cooldown_s.unwrap_or(cooldown_default);
    seconds(&field("cooldown_s"), cooldown_s, 0)?;
    let mut quiet = Vec::new();
    for (i, q) in rule.quiet_hours.iter().flatten().enumerate() {
        let key = field(&format!("quiet_hours[{i}]"));
        let from = parse_hhmm(&format!("{key}.from"), &q.from)?;
        let to = parse_hhmm(&format!("{key}.to"), &q.to)?;
        if from == to {
            return Err(invalid(format!("{key}.to"), "must differ from `from`"));
        }
        quiet.push((from, to));
    }
    let escalation = rule
        .escalation
        .clone()
        .unwrap_or_else(|| config.escalation.clone());
    check_escalation(&field("escalation"), &escalation)?;
    filled.hold_s = Some(hold_s);
    filled.cooldown_s = Some(cooldown_s);
    filled.quiet_hours = Some(rule.quiet_hours.clone().unwrap_or_default());
    filled.escalation = Some(escalation.clone());
    Ok((
        filled,
        CompiledRule {
            id: rule.id.clone(),
            kind,
            scope,
            check,
            hold: Millis::from(hold_s) * SECOND_MS,
            cooldown: Millis::from(cooldown_s) * SECOND_MS,
            quiet,
            escalation,
        },
    ))
}

fn seconds(key: &str, value: u32, min: u32) -> Result<(), RuleError> {
    if (min..=MAX_SECONDS).contains(&value) {
        Ok(())
    } else {
        Err(invalid(
            key.into(),
            format!("must be {min} to {MAX_SECONDS} seconds"),
        ))
    }
}

/// A scope the kind can look at, and (for the configured tree) one that exists. Queues, teams
/// and agents may first appear in events, so only sites and groups must be configured.
fn check_scope(
    key: &str,
    scope: &RuleScope,
    kind: RuleKind,
    org: &Organisation,
) -> Result<(), RuleError> {
    let allowed = match kind {
        RuleKind::SourceSilent => matches!(scope, RuleScope::One(Scope::Centre)),
        RuleKind::NotReadyOverrun => !matches!(
            scope,
            RuleScope::EveryQueue | RuleScope::One(Scope::Queue(_))
        ),
        RuleKind::SuddenPeak => !matches!(scope, RuleScope::One(Scope::Agent(_))),
        RuleKind::Metric | RuleKind::DroppedCalls => true,
    };
    if !allowed {
        let what = match kind {
            RuleKind::SourceSilent => "must be centre (sources belong to the whole floor)",
            RuleKind::NotReadyOverrun => "agents are not members of queues: use a tree scope",
            _ => "a peak of arrivals is about queues: use a queue or tree scope",
        };
        return Err(invalid(
            key.into(),
            format!("\"{scope}\" {what} for kind \"{}\"", kind.as_str()),
        ));
    }
    let configured = match scope {
        RuleScope::One(Scope::Site(id)) => org.sites.iter().any(|s| s.id == *id),
        RuleScope::One(Scope::Group(id)) => org
            .sites
            .iter()
            .flat_map(|s| &s.groups)
            .any(|g| g.id == *id),
        _ => true,
    };
    if configured {
        Ok(())
    } else {
        Err(invalid(
            key.into(),
            format!("\"{scope}\" is not in the organisation"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_read_numbers_and_targets() {
        assert_eq!("80".parse::<Threshold>(), Ok(Threshold::Value(80.0)));
        assert_eq!("target".parse::<Threshold>(), Ok(Threshold::Target(0.0)));
        assert_eq!(
            "target - 10".parse::<Threshold>(),
            Ok(Threshold::Target(-10.0))
        );
        assert_eq!(
            "target+2.5".parse::<Threshold>(),
            Ok(Threshold::Target(2.5))
        );
        assert!("targetx".parse::<Threshold>().is_err());
        assert!("target10".parse::<Threshold>().is_err());
        assert_eq!(Threshold::Target(-10.0).to_string(), "target-10");
        assert_eq!(Threshold::Target(2.0).to_string(), "target+2");
        assert_eq!(Threshold::Target(25.0).resolve(80.0), 100.0);
    }

    #[test]
    fn quiet_hours_wrap_midnight() {
        let rule = CompiledRule {
            id: "r".into(),
            kind: RuleKind::Metric,
            scope: RuleScope::EveryQueue,
            check: Check::SuddenPeak {
                factor: 2.0,
                min_arrivals: 1,
                level: Level::Warning,
            },
            hold: 0,
            cooldown: 0,
            quiet: vec![(22 * 3600, 7 * 3600)],
            escalation: default_escalation(),
        };
        assert!(rule.quiet_at(23 * 3600));
        assert!(rule.quiet_at(0));
        assert!(rule.quiet_at(7 * 3600 - 1));
        assert!(!rule.quiet_at(7 * 3600));
        assert!(!rule.quiet_at(12 * 3600));
    }
}
