//! What each kind of rule reads at a boundary, one [`Reading`] per condition, keyed by the
//! condition's key (`RULE/SCOPE`, or `RULE/centre/SOURCE`). Exact definitions are in
//! docs/ALERTS.md, "Built-in kinds"; metric rules read docs/METRICS.md figures from the engine.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::book::AlertBook;
use super::compiled::{Check, CompiledRule};
use super::condition::{Detail, Reading, Run};
use super::keys::{Key, RuleKeys};
use super::observed::{DroppedCall, Observations, PEAK_SPAN_MS};
use super::rule_scope::RuleScope;
use super::rules::{Comparison, Level};
use super::tree::OrgTree;
use crate::engine::{Engine, Needs, ReadFrom};
use crate::event::{AgentState, Millis, NotReadyReason};
use crate::figures::Figures;
use crate::scope::{Scope, Window};

/// The figures the rules read, by window and scope, kept between boundaries (a cache, never
/// saved): a boundary's read writes over the last one's, so the scope is not copied, no entry
/// is made and no `Figures` is moved into a table at every boundary (issue 15).
#[derive(Debug, Default)]
pub(crate) struct FigureCache {
    by_window: FxHashMap<Window, FxHashMap<Scope, CachedRead>>,
}

/// One scope and window's figures in a [`FigureCache`].
#[derive(Debug, Default)]
struct CachedRead {
    /// The boundary and the engine's revision they were read at: current only at both.
    stamp: Option<(Millis, u64)>,
    figures: Option<Figures>,
    /// What `figures` came from (see [`crate::engine::ReadFrom`]).
    from: ReadFrom,
}

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
    /// The figures read, by window and scope (see [`FigureCache`]).
    pub figures: &'a mut FigureCache,
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
    /// The figures of `scope` over `window` at this boundary (read once, however many rules
    /// ask), `None` for a scope the engine does not know.
    fn figures(&mut self, scope: &Scope, window: Window) -> Option<&Figures> {
        let (engine, needs) = (self.engine, self.needs);
        let stamp = (self.at, engine.revision());
        let by_scope = self.figures.by_window.entry(window).or_default();
        if !by_scope.contains_key(scope) {
            by_scope.insert(scope.clone(), CachedRead::default());
        }
        let read = by_scope.get_mut(scope)?;
        if read.stamp != Some(stamp) {
            read.stamp = Some(stamp);
            // Thorough evaluation reads afresh: what the reads written over are compared with.
            let fresh = match &mut read.figures {
                Some(figures) if !self.thorough => engine
                    .figures_into(scope, window, needs, figures, &mut read.from)
                    .is_ok(),
                _ => {
                    read.figures = engine.figures_with(scope, window, needs).ok();
                    read.from = ReadFrom::default();
                    read.figures.is_some()
                }
            };
            if !fresh {
                read.figures = None;
                read.from = ReadFrom::default();
            }
        }
        read.figures.as_ref()
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

/// What the evaluator steps of one rule at a boundary besides the conditions met: those
/// being timed and those with an open alert (`super::Alerts::evaluate`). A condition neither
/// met, nor timed, nor alerted is never stepped, so the metric, source-silent and
/// dropped-calls kinds leave its reading out rather than build it (nothing else looks at
/// those kinds' readings: `super::wake` reads only the sudden peak's); most conditions are
/// such at most boundaries (issue 15). Thorough evaluation keeps every reading.
pub(crate) struct Stepped<'a> {
    /// Keep every reading ([`super::Alerts::set_thorough`]).
    pub all: bool,
    /// Whether the rule has an open alert.
    pub open: bool,
    /// The rule's conditions being timed.
    pub runs: Option<&'a BTreeMap<Key, Run>>,
    pub book: &'a AlertBook,
}

impl Stepped<'_> {
    /// Whether some condition of the rule may be stepped though not met (else an unmet
    /// reading is left out without its key being looked up).
    fn any(&self) -> bool {
        self.all || self.open || self.runs.is_some_and(|runs| !runs.is_empty())
    }

    /// Whether condition `key` is stepped though not met.
    fn keeps(&self, key: &str) -> bool {
        self.all
            || self.runs.is_some_and(|runs| runs.contains_key(key))
            || self.book.open(key).is_some()
    }
}

/// The rule's readings at this boundary, by condition key (`keys`: the rule's, formatted once),
/// less the unmet ones `stepped` says are never stepped (see [`Stepped`]).
pub(crate) fn read(
    rule: &CompiledRule,
    keys: &mut RuleKeys,
    look: &mut Look,
    stepped: &Stepped,
) -> BTreeMap<Key, Reading> {
    let scopes = look.expand(&rule.scope);
    // An unmet condition's key, if it is stepped.
    let unmet_key = |keys: &mut RuleKeys, scope: &Scope| {
        if !stepped.any() {
            return None;
        }
        let key = keys.scope(&rule.id, scope);
        stepped.keeps(&key).then_some(key)
    };
    match &rule.check {
        Check::Metric {
            metric,
            window,
            comparison,
            warning,
            critical,
            clear,
            min_offered,
        } => {
            let mut readings = BTreeMap::new();
            for scope in scopes.iter() {
                let at = look.at;
                let Some(f) = look.figures(scope, *window) else {
                    continue;
                };
                let target = f.service_level_target_pct;
                let value = if f.offered >= *min_offered {
                    metric.value(f, at)
                } else {
                    None
                };
                let thresholds =
                    [*warning, *critical, Some(*clear)].map(|t| t.map(|t| t.resolve(target)));
                let key = if metric_level(value, *comparison, thresholds).is_some() {
                    keys.scope(&rule.id, scope)
                } else {
                    match unmet_key(keys, scope) {
                        Some(key) => key,
                        None => continue,
                    }
                };
                let reading = metric_reading(
                    scope.clone(),
                    value,
                    *comparison,
                    thresholds,
                    Detail {
                        metric: metric.as_str(),
                        window: (!metric.is_live()).then_some(*window),
                        ..Detail::default()
                    },
                );
                readings.insert(key, reading);
            }
            readings
        }
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
            let mut readings = BTreeMap::new();
            for source in names {
                let last = observed.last_heard(source).unwrap_or(look.watching_since);
                let quiet_for = (look.at - last).max(0);
                let met = quiet_for >= *silent;
                let key = if met || stepped.any() {
                    keys.source(&rule.id, source)
                } else {
                    continue;
                };
                if !met && !stepped.keeps(&key) {
                    continue;
                }
                let reading = over(
                    Scope::Centre,
                    met,
                    *level,
                    quiet_for as f64 / 1000.0,
                    *silent as f64 / 1000.0,
                    Detail {
                        metric: "silence_s",
                        source: Some(source.to_string()),
                        ..Detail::default()
                    },
                );
                readings.insert(key, reading);
            }
            readings
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
            let mut readings = BTreeMap::new();
            for scope in scopes.iter() {
                // A call counts in its queue's chain and its agent's, once (as handled calls
                // do, docs/METRICS.md "Scopes").
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
                let met = n >= *count;
                let key = if met {
                    keys.scope(&rule.id, scope)
                } else {
                    match unmet_key(keys, scope) {
                        Some(key) => key,
                        None => continue,
                    }
                };
                let reading = over(
                    scope.clone(),
                    met,
                    *level,
                    n as f64,
                    *count as f64,
                    Detail {
                        metric: "dropped_calls",
                        ..Detail::default()
                    },
                );
                readings.insert(key, reading);
            }
            readings
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

/// The level a metric's `value` is at: past its critical threshold, else its warning one
/// (strictly), else none.
fn metric_level(
    value: Option<f64>,
    comparison: Comparison,
    [warning, critical, _]: [Option<f64>; 3],
) -> Option<Level> {
    let past = |t: Option<f64>| value.zip(t).is_some_and(|(v, t)| comparison.breaches(v, t));
    if past(critical) {
        Some(Level::Critical)
    } else if past(warning) {
        Some(Level::Warning)
    } else {
        None
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
    let level = metric_level(value, comparison, [warning, critical, clear]);
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
