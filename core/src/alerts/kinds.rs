//! What each kind of rule reads at a boundary, one [`Reading`] per condition, keyed by the
//! condition's key (`RULE/SCOPE`, or `RULE/centre/SOURCE`). Exact definitions are in
//! docs/ALERTS.md, "Built-in kinds"; metric rules read docs/METRICS.md figures from the engine.

use std::collections::{BTreeMap, HashMap};

use super::compiled::{Check, CompiledRule};
use super::condition::{Detail, Reading};
use super::keys::{Key, RuleKeys};
use super::observed::{Observations, PEAK_SPAN_MS};
use super::rule_scope::RuleScope;
use super::rules::{Comparison, Level};
use super::tree::OrgTree;
use crate::engine::{Engine, Needs};
use crate::event::{AgentState, Millis, NotReadyReason};
use crate::figures::Figures;
use crate::scope::{Scope, Window};

/// Everything a rule may look at during one evaluation, with the figures read so far (several
/// rules often read the same scope and window).
pub(crate) struct Look<'a> {
    pub engine: &'a Engine,
    pub at: Millis,
    pub tree: &'a OrgTree,
    pub observed: &'a Observations,
    /// Every scope on the floor now but the agents' (a rule reads teams, groups or sites), in the
    /// engine's tree order (read when a rule needs it).
    pub floor: Option<Vec<Scope>>,
    /// Every queue on the floor now, in id order (read when a rule needs it).
    pub queues: Option<Vec<Scope>>,
    /// The first boundary evaluated: a configured source never heard from is silent since.
    pub watching_since: Millis,
    pub figures: BTreeMap<(Scope, Window), Option<Figures>>,
    pub chains: HashMap<Scope, Vec<Scope>>,
    /// What every read of this look includes: what the rules' metrics name, and the agent
    /// counts when a `source_silent` rule asks whether anyone is signed in
    /// ([`super::Alerts::new`]). A read cached for one rule serves every other.
    pub needs: Needs,
}

impl Look<'_> {
    fn figures(&mut self, scope: &Scope, window: Window) -> Option<&Figures> {
        let (engine, needs) = (self.engine, self.needs);
        self.figures
            .entry((scope.clone(), window))
            .or_insert_with(|| engine.figures_with(scope, window, needs).ok())
            .as_ref()
    }

    /// The scopes a rule's scope stands for on the floor now.
    fn expand(&mut self, scope: &RuleScope) -> Vec<Scope> {
        let engine = self.engine;
        let kind = match scope {
            RuleScope::One(scope) => return vec![scope.clone()],
            RuleScope::EveryQueue => {
                return self
                    .queues
                    .get_or_insert_with(|| {
                        engine
                            .queues()
                            .into_iter()
                            .map(|q| Scope::Queue(q.id))
                            .collect()
                    })
                    .clone();
            }
            RuleScope::EveryTeam => "team",
            RuleScope::EveryGroup => "group",
            RuleScope::EverySite => "site",
        };
        self.floor
            .get_or_insert_with(|| engine.scopes_but_agents().cloned().collect())
            .iter()
            .filter(|s| s.kind() == kind)
            .cloned()
            .collect()
    }

    /// Nobody is signed in on the whole floor (silence is expected then).
    pub(crate) fn nobody_signed_in(&mut self) -> bool {
        self.figures(&Scope::Centre, Window::Rolling15)
            .is_none_or(|f| f.agents.logged_in == 0)
    }

    /// Whether `inner` counts in `outer` (the organisation chain of `inner` holds `outer`).
    fn inside(&mut self, inner: &Scope, outer: &Scope) -> bool {
        if inner == outer || *outer == Scope::Centre {
            return true;
        }
        let (tree, engine) = (self.tree, self.engine);
        self.chains
            .entry(inner.clone())
            .or_insert_with(|| tree.chain(inner, engine))
            .contains(outer)
    }
}

/// The rule's readings at this boundary, by condition key (`keys`: the rule's, formatted once).
pub(crate) fn read(
    rule: &CompiledRule,
    keys: &mut RuleKeys,
    look: &mut Look,
) -> BTreeMap<Key, Reading> {
    let scopes = look.expand(&rule.scope);
    match &rule.check {
        Check::Metric {
            metric,
            window,
            comparison,
            warning,
            critical,
            clear,
            min_offered,
        } => scopes
            .into_iter()
            .filter_map(|scope| {
                let at = look.at;
                let f = look.figures(&scope, *window)?;
                let target = f.service_level_target_pct;
                let value = if f.offered >= *min_offered {
                    metric.value(f, at)
                } else {
                    None
                };
                let reading = metric_reading(
                    scope.clone(),
                    value,
                    *comparison,
                    [*warning, *critical, Some(*clear)].map(|t| t.map(|t| t.resolve(target))),
                    Detail {
                        metric: metric.as_str(),
                        window: (!metric.is_live()).then_some(*window),
                        ..Detail::default()
                    },
                );
                Some((keys.scope(&rule.id, &scope), reading))
            })
            .collect(),
        Check::NotReadyOverrun { allowance, level } => {
            // Only the state, reason and since of each agent on a break: no view is built, and
            // the agent's name is read when an alert is raised (`super::raise`).
            let (engine, observed) = (look.engine, look.observed);
            let mut readings = BTreeMap::new();
            for id in observed.not_ready() {
                let Some((state, reason, since)) = engine.agent_state(id) else {
                    continue;
                };
                if state != AgentState::NotReady {
                    continue;
                }
                let reason = reason.unwrap_or(NotReadyReason::Other);
                let Some(&allowed) = allowance.get(&reason) else {
                    continue;
                };
                let scope = Scope::Agent(id.to_string());
                if !scopes.iter().any(|outer| look.inside(&scope, outer)) {
                    continue;
                }
                let spell = look.at - since;
                let key = keys.scope(&rule.id, &scope);
                let reading = over(
                    scope,
                    spell > allowed,
                    *level,
                    spell as f64 / 1000.0,
                    allowed as f64 / 1000.0,
                    Detail {
                        metric: "not_ready_s",
                        reason: Some(reason),
                        ..Detail::default()
                    },
                );
                readings.insert(key, reading);
            }
            readings
        }
        Check::SourceSilent {
            silent,
            sources,
            level,
        } => {
            let observed = look.observed;
            let names: Vec<&str> = match sources {
                Some(list) => list.iter().map(String::as_str).collect(),
                None => observed.sources().collect(),
            };
            names
                .into_iter()
                .map(|source| {
                    let last = observed.last_heard(source).unwrap_or(look.watching_since);
                    let quiet_for = (look.at - last).max(0);
                    let reading = over(
                        Scope::Centre,
                        quiet_for >= *silent,
                        *level,
                        quiet_for as f64 / 1000.0,
                        *silent as f64 / 1000.0,
                        Detail {
                            metric: "silence_s",
                            source: Some(source.to_string()),
                            ..Detail::default()
                        },
                    );
                    (keys.source(&rule.id, source), reading)
                })
                .collect()
        }
        Check::SuddenPeak {
            factor,
            min_arrivals,
            level,
        } => {
            let queues: Vec<String> = look
                .observed
                .queues_with_arrivals()
                .map(String::from)
                .collect();
            let tz = look.engine.calendar().time_zone().clone();
            scopes
                .into_iter()
                .filter_map(|scope| {
                    let mine: Vec<&str> = queues
                        .iter()
                        .filter(|q| look.inside(&Scope::Queue(q.to_string()), &scope))
                        .map(String::as_str)
                        .collect();
                    let usual = look.observed.usual(&mine, look.at, &tz)?;
                    let arrivals = look
                        .observed
                        .arrivals(&mine, look.at - PEAK_SPAN_MS, look.at);
                    let limit = factor * usual;
                    let reading = over(
                        scope.clone(),
                        arrivals >= *min_arrivals && arrivals as f64 > limit,
                        *level,
                        arrivals as f64,
                        limit,
                        Detail {
                            metric: "arrivals_5m",
                            usual: Some(usual),
                            ..Detail::default()
                        },
                    );
                    Some((keys.scope(&rule.id, &scope), reading))
                })
                .collect()
        }
        Check::DroppedCalls {
            short_talk,
            count,
            window,
            level,
        } => {
            let dropped: Vec<(Option<Scope>, Option<Scope>)> = look
                .observed
                .dropped(look.at - window, look.at)
                .filter(|d| d.talk < *short_talk)
                .map(|d| {
                    (
                        d.queue.clone().map(Scope::Queue),
                        d.agent.clone().map(Scope::Agent),
                    )
                })
                .collect();
            scopes
                .into_iter()
                .map(|scope| {
                    // A call counts in its queue's chain and its agent's, once (as handled
                    // calls do, docs/METRICS.md "Scopes").
                    let n = dropped
                        .iter()
                        .filter(|(queue, agent)| {
                            [queue, agent]
                                .into_iter()
                                .flatten()
                                .any(|inner| look.inside(inner, &scope))
                        })
                        .count() as u64;
                    let reading = over(
                        scope.clone(),
                        n >= *count,
                        *level,
                        n as f64,
                        *count as f64,
                        Detail {
                            metric: "dropped_calls",
                            ..Detail::default()
                        },
                    );
                    (keys.scope(&rule.id, &scope), reading)
                })
                .collect()
        }
    }
}

/// A metric reading: the level from the strict thresholds, recovery from the clear threshold;
/// a null figure is not met and lets an open alert clear.
fn metric_reading(
    scope: Scope,
    value: Option<f64>,
    comparison: Comparison,
    [warning, critical, clear]: [Option<f64>; 3],
    detail: Detail,
) -> Reading {
    let past = |t: Option<f64>| value.zip(t).is_some_and(|(v, t)| comparison.breaches(v, t));
    let level = if past(critical) {
        Some(Level::Critical)
    } else if past(warning) {
        Some(Level::Warning)
    } else {
        None
    };
    // Recovered: back on the good side of the clear threshold (or equal to it), and past no
    // alert threshold; a null figure has nothing left to alert about.
    let recovered = level.is_none()
        && value
            .zip(clear)
            .is_none_or(|(v, c)| !comparison.breaches(v, c));
    Reading {
        scope,
        level,
        recovered,
        value,
        warning,
        critical,
        detail,
    }
}

/// A built-in reading: one level, met or not, no hysteresis.
fn over(
    scope: Scope,
    met: bool,
    level: Level,
    value: f64,
    threshold: f64,
    detail: Detail,
) -> Reading {
    let (warning, critical) = match level {
        Level::Warning => (Some(threshold), None),
        Level::Critical => (None, Some(threshold)),
    };
    Reading {
        scope,
        level: met.then_some(level),
        recovered: !met,
        value: Some(value),
        warning,
        critical,
        detail,
    }
}
