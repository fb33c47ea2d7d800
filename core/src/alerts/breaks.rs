//! The not-ready overrun rules' readings kept between boundaries (docs/ALERTS.md,
//! "Evaluation"; issue 15).
//!
//! A not-ready overrun reads every agent on a break in its scope. Read whole at a boundary,
//! that is work for each of them (their state asked of the engine, a scope and key made, a
//! reading built and filed) although, on a 5,000-agent floor where some break starts or ends
//! at nearly every boundary, almost none of them changed since the last one. Here each rule
//! keeps, per agent on a watched break inside its scope, the spell (since when, for what
//! reason, how long it is allowed), and the times at which the spells pass their allowance in
//! order. Between boundaries only the agents named by a sign-in, sign-out, state or team event
//! can have changed (the engine changes an agent's state, reason, `since` and team for those
//! alone, `Engine::apply_new`): they are looked at again ([`Breaks::sync`]). A boundary then
//! builds readings only for the conditions that are stepped (`super::Alerts::evaluate`): the
//! spells past their allowance, and the agents whose condition is timed or has an open alert;
//! a spell under its allowance, neither timed nor alerted, would be read not met and left out.
//!
//! A cache: it holds nothing the floor does not determine, so it is never saved; a restored
//! evaluator (or one just made) rebuilds it whole at its first boundary, from the agents that
//! may be not ready, exactly as the full reading (`super::kinds::read`) finds them.
//! `core/tests/alerts_thorough.rs` compares this against reading every agent at every
//! boundary.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap, FxHashSet};

use super::book::AlertBook;
use super::compiled::{Check, CompiledRule};
use super::condition::{Reading, Run};
use super::keys::{Key, RuleKeys};
use super::kinds::{Look, not_ready_reading};
use super::rule_scope::RuleScope;
use super::rules::Level;
use crate::event::{AgentState, Millis, NotReadyReason};
use crate::scope::Scope;

/// The kept readings of every not-ready overrun rule.
#[derive(Debug, Default)]
pub(super) struct Breaks {
    /// Per compiled rule (same order): what a not-ready overrun rule keeps, `None` for others.
    watches: Vec<Option<Watch>>,
    /// Whether `watches` follows the floor (false until the first sync, and after a restore).
    synced: bool,
    /// The agents touched since the last sync (`Observations::take_touched`), kept here so the
    /// set's table is reused.
    touched: FxHashSet<String>,
}

/// One rule's agents on a watched break inside its scope.
#[derive(Debug, Default)]
struct Watch {
    /// What the rule's scope stood for at the last sync (the floor's teams, groups or sites
    /// for `every_team` and the like): the readings are rebuilt whole when it changes.
    outer: Vec<Scope>,
    /// Each spell by its condition's key.
    spells: FxHashMap<Key, Spell>,
    /// The key of each agent with a spell.
    agents: FxHashMap<String, Key>,
    /// When each spell passes its allowance ([`Spell::due`]), in order.
    due: BTreeSet<(Millis, Key)>,
}

/// An agent's current break, as the full reading would find it.
#[derive(Debug, Clone, PartialEq)]
struct Spell {
    scope: Scope,
    reason: NotReadyReason,
    since: Millis,
    allowed: Millis,
}

impl Spell {
    /// The first boundary at which the spell is past its allowance (strictly longer than it,
    /// whole milliseconds): the reading is met from then on.
    fn due(&self) -> Millis {
        self.since.saturating_add(self.allowed).saturating_add(1)
    }
}

impl Breaks {
    /// Whether the readings follow the floor; false makes the next sync rebuild them whole.
    pub(super) fn is_synced(&self) -> bool {
        self.synced
    }

    /// Forgets the readings: the next sync rebuilds them (a thorough evaluation does not keep
    /// them up to date).
    pub(super) fn forget(&mut self) {
        self.synced = false;
        self.watches.clear();
    }

    /// The set that receives the agents touched since the last sync (see
    /// [`Breaks::sync`]).
    pub(super) fn touched_mut(&mut self) -> &mut FxHashSet<String> {
        &mut self.touched
    }

    /// The agents touched since the last sync.
    pub(super) fn touched(&self) -> &FxHashSet<String> {
        &self.touched
    }

    /// Brings every rule's readings up to the floor at this boundary: the touched agents are
    /// looked at again (after the agents no longer not ready were forgotten by the
    /// observations), or everything is rebuilt when not synced or when a rule's scope stands
    /// for other scopes than at the last sync.
    pub(super) fn sync(
        &mut self,
        compiled: &[CompiledRule],
        keys: &mut [RuleKeys],
        look: &mut Look,
    ) {
        let rebuild_all = !self.synced || self.watches.len() != compiled.len();
        if rebuild_all {
            self.watches = compiled
                .iter()
                .map(|r| matches!(r.check, Check::NotReadyOverrun { .. }).then(Watch::default))
                .collect();
        }
        for ((rule, keys), watch) in compiled.iter().zip(keys.iter_mut()).zip(&mut self.watches) {
            let (Some(watch), Check::NotReadyOverrun { allowance, .. }) = (watch, &rule.check)
            else {
                continue;
            };
            let outer = look.expand(&rule.scope);
            let moved = !matches!(rule.scope, RuleScope::One(_)) && watch.outer[..] != outer[..];
            if rebuild_all || moved {
                *watch = Watch {
                    outer: match rule.scope {
                        RuleScope::One(_) => Vec::new(),
                        _ => outer.to_vec(),
                    },
                    ..Watch::default()
                };
                let observed = look.observed;
                for agent in observed.not_ready() {
                    let spell = spell_of(look, allowance, &outer, agent);
                    watch.update(agent, spell, &rule.id, keys);
                }
            } else {
                for agent in &self.touched {
                    let spell = spell_of(look, allowance, &outer, agent);
                    watch.update(agent, spell, &rule.id, keys);
                }
            }
        }
        self.touched.clear();
        self.synced = true;
    }

    /// Rule `index`'s readings at boundary `at` that stepping it needs: every spell past its
    /// allowance, and those of the conditions being timed (`runs`) or with an open alert. The
    /// full reading would also hold the spells under their allowance, neither timed nor
    /// alerted: read not met, and left out of the stepping (`super::Alerts::evaluate`).
    pub(super) fn read(
        &self,
        index: usize,
        rule: &CompiledRule,
        at: Millis,
        runs: Option<&BTreeMap<Key, Run>>,
        book: &AlertBook,
    ) -> BTreeMap<Key, Reading> {
        let mut readings = BTreeMap::new();
        let (Some(Some(watch)), Check::NotReadyOverrun { level, .. }) =
            (self.watches.get(index), &rule.check)
        else {
            return readings;
        };
        let mut add = |key: &Key, spell: &Spell| {
            if !readings.contains_key(key) {
                readings.insert(Key::clone(key), reading(spell, at, *level));
            }
        };
        for (due, key) in &watch.due {
            if *due > at {
                break;
            }
            if let Some(spell) = watch.spells.get(key) {
                add(key, spell);
            }
        }
        for key in runs.into_iter().flat_map(BTreeMap::keys) {
            if let Some((key, spell)) = watch.spells.get_key_value(&**key) {
                add(key, spell);
            }
        }
        for alert in book.open_of(&rule.id) {
            if let Some((key, spell)) = watch.spells.get_key_value(alert.key.as_str()) {
                add(key, spell);
            }
        }
        readings
    }

    /// The first instant after `at` at which a spell of rule `index` passes its allowance (a
    /// timer of the rule, `super::wake::after`).
    pub(super) fn next_due(&self, index: usize, at: Millis) -> Option<Millis> {
        let watch = self.watches.get(index)?.as_ref()?;
        watch.due.iter().map(|(due, _)| *due).find(|&due| due > at)
    }
}

impl Watch {
    /// Files `agent`'s spell now (`None`: no reading of it).
    fn update(&mut self, agent: &str, spell: Option<Spell>, rule: &str, keys: &mut RuleKeys) {
        let kept = self.agents.get(agent).and_then(|key| self.spells.get(key));
        match (kept, &spell) {
            (None, None) => return,
            (Some(kept), Some(spell)) if kept == spell => return,
            _ => {}
        }
        if let Some(key) = self.agents.remove(agent)
            && let Some(kept) = self.spells.remove(&key)
        {
            self.due.remove(&(kept.due(), key));
        }
        if let Some(spell) = spell {
            let key = keys.scope(rule, &spell.scope);
            self.due.insert((spell.due(), Key::clone(&key)));
            self.agents.insert(agent.to_string(), Key::clone(&key));
            self.spells.insert(key, spell);
        }
    }
}

/// `agent`'s spell as the full reading finds it (`super::kinds::read`): an agent that may be
/// not ready, not ready in the engine, for a reason the rule watches, inside one of `outer`.
fn spell_of(
    look: &mut Look,
    allowance: &BTreeMap<NotReadyReason, Millis>,
    outer: &[Scope],
    agent: &str,
) -> Option<Spell> {
    if !look.observed.may_be_not_ready(agent) {
        return None;
    }
    let (state, reason, since) = look.engine.agent_state(agent)?;
    if state != AgentState::NotReady {
        return None;
    }
    let reason = reason.unwrap_or(NotReadyReason::Other);
    let allowed = *allowance.get(&reason)?;
    let scope = Scope::Agent(agent.to_string());
    if !outer.iter().any(|o| look.inside(&scope, o)) {
        return None;
    }
    Some(Spell {
        scope,
        reason,
        since,
        allowed,
    })
}

fn reading(spell: &Spell, at: Millis, level: Level) -> Reading {
    not_ready_reading(
        spell.scope.clone(),
        at - spell.since,
        spell.allowed,
        spell.reason,
        level,
    )
}
