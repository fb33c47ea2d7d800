//! What each kind of rule reads at a boundary, one [`Reading`] per condition, keyed by the
//! condition's key (`RULE/SCOPE`, or `RULE/centre/SOURCE`). Exact definitions are in
//! docs/ALERTS.md, "Built-in kinds"; metric rules read docs/METRICS.md figures from the engine.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::compiled::{Check, CompiledRule};
use super::condition::{Detail, Reading};
use super::keys::{Key, RuleKeys};
use super::observed::{DroppedCall, Observations, PEAK_SPAN_MS};
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
    /// Every queue on the floor now, in id order (kept between boundaries by
    /// [`super::Alerts`], read again only when the engine knows a new queue).
    pub queues: &'a [Scope],
    /// The first boundary evaluated: a configured source never heard from is silent since.
    pub watching_since: Millis,
    /// The figures read at this boundary, by scope and window: emptied at each boundary but
    /// kept by [`super::Alerts`] so its table is not allocated again (a B-tree of whole
    /// `Figures` moved them about at every insert; issue 15).
    pub figures: &'a mut FxHashMap<(Scope, Window), Option<Figures>>,
    /// The chain of each queue: fixed by the organisation ([`OrgTree`]), so kept between
    /// boundaries, and looked up by the queue's id without making a scope (issue 15).
    pub queue_chains: &'a mut FxHashMap<String, Vec<Scope>>,
    /// The chains of other scopes read at this boundary (an agent's moves with its team).
    pub chains: FxHashMap<Scope, Vec<Scope>>,
    /// What every read of this look includes: what the rules' metrics name, and the agent
    /// counts when a `source_silent` rule asks whether anyone is signed in
    /// ([`super::Alerts::new`]). A read cached for one rule serves every other.
    pub needs: Needs,
    /// Work out every reading in full, even the parts no decision can use (the sudden-peak
    /// usual volume below `min_arrivals`): what the short cuts are tested against
    /// ([`super::Alerts::set_thorough`]).
    pub thorough: bool,
}

impl<'a> Look<'a> {
    fn figures(&mut self, scope: &Scope, window: Window) -> Option<&Figures> {
        let (engine, needs) = (self.engine, self.needs);
        self.figures
            .entry((scope.clone(), window))
            .or_insert_with(|| engine.figures_with(scope, window, needs).ok())
            .as_ref()
    }

    /// The scopes a rule's scope stands for on the floor now (the queues lent, not copied).
    pub(super) fn expand<'r>(&mut self, scope: &'r RuleScope) -> Cow<'r, [Scope]>
    where
        'a: 'r,
    {
        let engine = self.engine;
        let kind = match scope {
            RuleScope::One(scope) => return Cow::Borrowed(std::slice::from_ref(scope)),
            RuleScope::EveryQueue => return Cow::Borrowed(self.queues),
            RuleScope::EveryTeam => "team",
            RuleScope::EveryGroup => "group",
            RuleScope::EverySite => "site",
        };
        Cow::Owned(
            self.floor
                .get_or_insert_with(|| engine.scopes_but_agents().cloned().collect())
                .iter()
                .filter(|s| s.kind() == kind)
                .cloned()
                .collect(),
        )
    }

    /// Nobody is signed in on the whole floor (silence is expected then).
    pub(crate) fn nobody_signed_in(&mut self) -> bool {
        self.figures(&Scope::Centre, Window::Rolling15)
            .is_none_or(|f| f.agents.logged_in == 0)
    }

    /// Whether `inner` counts in `outer` (the organisation chain of `inner` holds `outer`).
    pub(super) fn inside(&mut self, inner: &Scope, outer: &Scope) -> bool {
        if let Scope::Queue(queue) = inner {
            return self.inside_queue(queue, outer);
        }
        if inner == outer || *outer == Scope::Centre {
            return true;
        }
        let (tree, engine) = (self.tree, self.engine);
        self.chains
            .entry(inner.clone())
            .or_insert_with(|| tree.chain(inner, engine))
            .contains(outer)
    }

    /// Whether queue `queue` counts in `outer` (see [`Look::inside`]).
    fn inside_queue(&mut self, queue: &str, outer: &Scope) -> bool {
        if *outer == Scope::Centre || matches!(outer, Scope::Queue(id) if id == queue) {
            return true;
        }
        if let Some(chain) = self.queue_chains.get(queue) {
            return chain.contains(outer);
        }
        let chain = self
            .tree
            .chain(&Scope::Queue(queue.to_string()), self.engine);
        let inside = chain.contains(outer);
        self.queue_chains.insert(queue.to_string(), chain);
        inside
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
            .iter()
            .filter_map(|scope| {
                let at = look.at;
                let f = look.figures(scope, *window)?;
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
                Some((keys.scope(&rule.id, scope), reading))
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
                let key = keys.scope(&rule.id, &scope);
                let reading = not_ready_reading(scope, look.at - since, allowed, reason, *level);
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
            // The usual volume (zone arithmetic over seven earlier days) is worked out only
            // when the arrivals reach `min_arrivals`: below, the condition is not met whatever
            // it is, and an open alert clears on the arrivals alone (`condition::step`). Whether
            // there is a usual volume at all (no reading without one) needs no arithmetic
            // ([`Observations::usual_known`]).
            let (observed, at) = (look.observed, look.at);
            let tz = look.engine.calendar().time_zone();
            let known = observed.usual_known(at);
            let mut readings = BTreeMap::new();
            let mut mine: Vec<&str> = Vec::new();
            for scope in scopes.iter() {
                mine.clear();
                for queue in observed.queues_with_arrivals() {
                    if look.inside_queue(queue, scope) {
                        mine.push(queue);
                    }
                }
                if !(known || look.thorough) {
                    continue;
                }
                let arrivals = observed.arrivals(&mine, at - PEAK_SPAN_MS, at);
                let reached = arrivals >= *min_arrivals;
                let usual = if reached || look.thorough {
                    // No usual volume: no reading (`known` said so already, unless thorough).
                    let Some(usual) = observed.usual(&mine, at, tz) else {
                        continue;
                    };
                    Some(usual)
                } else {
                    None
                };
                // Below `min_arrivals` without the usual volume, the limit is unknown (NaN):
                // never a threshold of a change, since such a reading is not met.
                let limit = usual.map_or(f64::NAN, |usual| factor * usual);
                let reading = over(
                    scope.clone(),
                    reached && arrivals as f64 > limit,
                    *level,
                    arrivals as f64,
                    limit,
                    Detail {
                        metric: "arrivals_5m",
                        usual,
                        ..Detail::default()
                    },
                );
                readings.insert(keys.scope(&rule.id, scope), reading);
            }
            readings
        }
        Check::DroppedCalls {
            short_talk,
            count,
            window,
            level,
        } => {
            let observed = look.observed;
            let dropped: Vec<&DroppedCall> = observed
                .dropped(look.at - window, look.at)
                .filter(|d| d.talk < *short_talk)
                .collect();
            scopes
                .iter()
                .map(|scope| {
                    // A call counts in its queue's chain and its agent's, once (as handled
                    // calls do, docs/METRICS.md "Scopes").
                    let n = dropped
                        .iter()
                        .filter(|d| {
                            d.queue
                                .as_deref()
                                .is_some_and(|queue| look.inside_queue(queue, scope))
                                || d.agent.as_ref().is_some_and(|agent| {
                                    look.inside(&Scope::Agent(agent.clone()), scope)
                                })
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
                    (keys.scope(&rule.id, scope), reading)
                })
                .collect()
        }
    }
}

/// A not-ready overrun's reading of an agent on a break for `spell` ms of its `allowed` ms
/// for `reason`: met strictly past the allowance (docs/ALERTS.md, "Built-in kinds"). Shared by
/// the reading of every agent at a boundary (above) and the readings kept between boundaries
/// (`super::breaks`), so both read the same.
pub(super) fn not_ready_reading(
    scope: Scope,
    spell: Millis,
    allowed: Millis,
    reason: NotReadyReason,
    level: Level,
) -> Reading {
    over(
        scope,
        spell > allowed,
        level,
        spell as f64 / 1000.0,
        allowed as f64 / 1000.0,
        Detail {
            metric: "not_ready_s",
            reason: Some(reason),
            ..Detail::default()
        },
    )
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
