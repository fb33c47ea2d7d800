//! Checking the configured rules against the organisation and compiling each into the check
//! the evaluator runs: the fields every kind shares here, one function per kind for the rest.
//! Every error names the key at fault; every default is filled in, so `GET /api/v1/alerts/rules`
//! lists exactly what is evaluated.

use std::collections::{BTreeMap, BTreeSet};

use super::compiled::{Check, CompiledRule, DaySecond};
use super::defaults::default_rules;
use super::metric::Metric;
use super::rule_error::{RuleError, invalid};
use super::rule_scope::RuleScope;
use super::rules::{AlertRule, AlertsConfig, EscalationStep, Level, RuleKind};
use super::threshold::Threshold;
use crate::event::{Millis, NotReadyReason};
use crate::org::Organisation;
use crate::scope::{Scope, Window};
use crate::time::{MINUTE_MS, SECOND_MS};

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

/// One rule, checked and with its defaults filled in: the fields every kind shares here, the
/// kind's own in its function below.
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
        RuleKind::Metric => metric_check(key, rule, &mut filled)?,
        RuleKind::NotReadyOverrun => not_ready_overrun_check(key, rule, &mut filled, level)?,
        RuleKind::SourceSilent => source_silent_check(key, rule, &mut filled, level)?,
        RuleKind::SuddenPeak => sudden_peak_check(key, rule, &mut filled, level)?,
        RuleKind::DroppedCalls => dropped_calls_check(key, rule, &mut filled, level)?,
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

/// A `metric` rule: a figure of a window past its thresholds, with hysteresis (`clear`).
fn metric_check(key: &str, rule: &AlertRule, filled: &mut AlertRule) -> Result<Check, RuleError> {
    let kind_name = rule.kind.as_str();
    let field = |name: &str| format!("{key}.{name}");
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
    Ok(Check::Metric {
        metric,
        window,
        comparison,
        warning,
        critical,
        clear,
        min_offered: rule.min_offered.unwrap_or(0),
    })
}

/// A `not_ready_overrun` rule: an agent not ready for longer than the reason allows.
fn not_ready_overrun_check(
    key: &str,
    rule: &AlertRule,
    filled: &mut AlertRule,
    level: Level,
) -> Result<Check, RuleError> {
    let field = |name: &str| format!("{key}.{name}");
    let given = rule
        .allowance_min
        .clone()
        .unwrap_or_else(|| BTreeMap::from([("break".to_string(), 15), ("meal".to_string(), 30)]));
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
    Ok(Check::NotReadyOverrun { allowance, level })
}

/// A `source_silent` rule: no event from a source for `silent_s`.
fn source_silent_check(
    key: &str,
    rule: &AlertRule,
    filled: &mut AlertRule,
    level: Level,
) -> Result<Check, RuleError> {
    let field = |name: &str| format!("{key}.{name}");
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
    Ok(Check::SourceSilent {
        silent: Millis::from(silent_s) * SECOND_MS,
        sources: rule.sources.clone(),
        level,
    })
}

/// A `sudden_peak` rule: arrivals of the last minutes `factor` times the usual.
fn sudden_peak_check(
    key: &str,
    rule: &AlertRule,
    filled: &mut AlertRule,
    level: Level,
) -> Result<Check, RuleError> {
    let field = |name: &str| format!("{key}.{name}");
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
    Ok(Check::SuddenPeak {
        factor,
        min_arrivals,
        level,
    })
}

/// A `dropped_calls` rule: `count` calls shorter than `short_talk_s` within `window_min`.
fn dropped_calls_check(
    key: &str,
    rule: &AlertRule,
    filled: &mut AlertRule,
    level: Level,
) -> Result<Check, RuleError> {
    let field = |name: &str| format!("{key}.{name}");
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
    Ok(Check::DroppedCalls {
        short_talk: Millis::from(short_talk_s) * SECOND_MS,
        count,
        window: Millis::from(window_min) * MINUTE_MS,
        level,
    })
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
