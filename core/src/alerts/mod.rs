//! Alerts for team leads: rules over the engine's figures and a few built-in kinds, evaluated
//! on event time, kept in a book where nothing is ever deleted (docs/ALERTS.md).
//!
//! Pure and deterministic like the engine: no wall clock, no randomness. The server calls
//! [`Alerts::observe`] for every event it hands the engine and [`Alerts::evaluate`] at every
//! boundary of [`EVALUATION_PERIOD_MS`] that its clock crosses (see [`boundaries`]), whether time
//! moves by events or by the wall clock. So a day replayed at any speed raises the same alerts
//! at the same event times.
//!
//! Reading order: `rules` (the config; `rule_scope` and `threshold` for its string values,
//! `defaults` for the built-in rules), `compile` (checking each rule into a `compiled` check),
//! `kinds` (what each rule reads), `condition` (hold, hysteresis, cool-down, quiet hours,
//! escalation), `book` (alerts and their changes), `batch` and `webhook` (notifications).

mod batch;
mod book;
mod breaks;
mod compile;
mod compiled;
mod condition;
mod defaults;
mod keys;
mod kinds;
mod metric;
mod observed;
mod period;
mod rest;
mod rule_error;
mod rule_scope;
mod rules;
mod text;
mod threshold;
mod tree;
mod wake;
mod webhook;

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use batch::{Notice, NotificationBatch};
pub use book::{Acknowledgement, Alert, AlertBook, AlertChange, AlertError, ChangeKind};
pub use defaults::{DEFAULT_MIN_OFFERED, default_rules};
pub use metric::Metric;
pub use period::{EVALUATION_PERIOD_MS, boundaries};
pub use rule_error::RuleError;
pub use rule_scope::RuleScope;
pub use rules::{
    AlertRule, AlertsConfig, Comparison, EscalationStep, EscalationTier, Level, QuietHours,
    RuleKind, default_escalation,
};
pub use text::{batch_text, local_time};
pub use threshold::Threshold;
pub use webhook::{WebhookFormat, webhook_body};

use crate::calendar::CentreCalendar;
use crate::engine::{Engine, Needs};
use crate::event::{AgentState, Event, Millis};
use crate::figures::Applied;
use crate::opening_hours::OpeningHours;
use crate::org::Organisation;
use crate::scope::Scope;
use batch::Batcher;
use breaks::Breaks;
use compiled::{Check, CompiledRule};
use condition::{Reading, Run, Step};
use keys::{Key, RuleKeys};
use kinds::Look;
use observed::Observations;
use tree::OrgTree;
use wake::Settled;

/// Longest `by` accepted with an acknowledgement, bytes.
pub const MAX_ACK_BY: usize = 256;
/// Longest acknowledgement note accepted, bytes.
pub const MAX_ACK_NOTE: usize = 1000;

/// What one evaluation boundary changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The boundary evaluated, event time.
    pub at: Millis,
    /// In order; journal them, push them to the wallboard.
    pub changes: Vec<AlertChange>,
    /// The notification batch due at this boundary, for the webhooks.
    pub batch: Option<NotificationBatch>,
}

/// What [`Alerts::restore`] made of a journal of changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RestoreReport {
    /// Changes applied to the book.
    pub applied: u64,
    /// Changes that did not fit the book (a repeat, an unknown id): skipped.
    pub skipped: u64,
}

/// The alert rules of one centre, what they have observed and every alert they raised.
///
/// Serialisable for the server's checkpoints (docs/ARCHITECTURE.md, "Checkpoints"): what the
/// rules observed and raised; the rules themselves are configuration, compiled again
/// ([`AlertsSnapshot`]).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Alerts {
    #[serde(skip)]
    rules: Vec<AlertRule>,
    #[serde(skip)]
    compiled: Vec<CompiledRule>,
    #[serde(skip)]
    tree: OrgTree,
    #[serde(skip, default = "CentreCalendar::utc")]
    calendar: CentreCalendar,
    /// When the centre is open (`None`: always); outside, silence is expected.
    #[serde(skip)]
    opening: Option<OpeningHours>,
    observed: Observations,
    /// Per rule, the conditions being timed, by key.
    runs: BTreeMap<String, BTreeMap<Key, Run>>,
    /// Per compiled rule (same order), its condition keys, formatted once (a cache: never
    /// saved, rebuilt as conditions are read).
    #[serde(skip)]
    keys: Vec<RuleKeys>,
    book: AlertBook,
    batcher: Batcher,
    /// The latest boundary evaluated (or change restored): earlier ones are not evaluated again.
    evaluated_to: Option<Millis>,
    watching_since: Option<Millis>,
    /// Boundaries before this would decide nothing (the floor is at rest, see `rest`), unless
    /// an event is observed or an alert acknowledged first, which forgets it.
    rest_until: Option<Millis>,
    /// The last look found a call waiting (or someone signed in while a rule reads state time):
    /// no rest before the next event (only an event changes that), so the centre's figures are
    /// not read at every boundary.
    floor_busy: bool,
    /// What the rules read of the engine's figures ([`Metric::needs`]; the agent counts for
    /// `source_silent`): the rest is never computed (issue 15).
    needs: Needs,
    /// Every queue on the floor, in id order, read again from the engine only when it knows a
    /// new one (queues are only ever added): a cache, never saved.
    #[serde(skip)]
    queues: Vec<Scope>,
    /// Each queue's chain in the organisation (fixed by it): a cache, never saved.
    #[serde(skip)]
    queue_chains: FxHashMap<String, Vec<Scope>>,
    /// The figures read at the last boundary (see `kinds::Look::figures`), written over at
    /// the next: a cache, never saved.
    #[serde(skip)]
    figures: kinds::FigureCache,
    /// The condition keys one rule steps at a boundary, kept to reuse the allocation.
    #[serde(skip)]
    stepping: Vec<Key>,
    /// Step every condition read and work out every reading in full, as before the short
    /// cuts of issue 15 ([`Alerts::set_thorough`]): for the tests that prove them equivalent.
    #[serde(skip)]
    thorough: bool,
    /// Per compiled rule (same order): its inputs at its last reading and when the clock alone
    /// could next change its outcome (`wake`), else `None`. Never saved: a restored book reads
    /// every rule at its first boundary.
    #[serde(skip)]
    settled: Vec<Option<Settled>>,
    /// Events observed so far in this process (see [`Settled`]).
    #[serde(skip)]
    observations: u64,
    /// The start of the centre day after the last boundary evaluated (a cache: the daily reset
    /// is a timer of every rule).
    #[serde(skip)]
    next_day: Option<Millis>,
    /// The engine's revision when the agents on a break were last checked against it (they
    /// can only stop being not ready when it moves; thorough evaluations only, the others
    /// check the agents touched since the last boundary).
    #[serde(skip)]
    not_ready_checked: Option<u64>,
    /// The not-ready overrun rules' readings kept between boundaries (a cache, never saved:
    /// rebuilt whole at the first boundary after a restore).
    #[serde(skip)]
    breaks: Breaks,
    /// Rules read so far in this process (for tests and benchmarks: how much was skipped).
    #[serde(skip)]
    rules_read: u64,
    /// The book holds no open alert of a rule that is not compiled (see the end of
    /// [`Alerts::evaluate`]): false again after [`Alerts::restore`], and never saved, so a
    /// book resumed from a checkpoint is looked through once.
    #[serde(skip)]
    orphans_cleared: bool,
}

/// Alerts read back from a checkpoint: their observations, condition timers and book, not
/// usable until given their rules again ([`Alerts::resume_from`]).
#[derive(serde::Deserialize)]
#[serde(transparent)]
pub struct AlertsSnapshot(Alerts);

impl Alerts {
    /// Takes what `snapshot` observed, timed and raised, keeping these rules (made by
    /// [`Alerts::new`] from the configuration the checkpoint was taken under: the caller
    /// checks that).
    pub fn resume_from(&mut self, snapshot: AlertsSnapshot) {
        let fresh = std::mem::replace(self, snapshot.0);
        self.rules = fresh.rules;
        self.compiled = fresh.compiled;
        self.tree = fresh.tree;
        self.calendar = fresh.calendar;
        self.opening = fresh.opening;
        self.thorough = fresh.thorough;
    }
}

impl Alerts {
    /// The alerts of `config` for `org` (which the engine was made from); every rule is
    /// checked, and errors name the key at fault.
    pub fn new(config: &AlertsConfig, org: &Organisation) -> Result<Alerts, RuleError> {
        let calendar = org.calendar().map_err(|e| RuleError::Invalid {
            key: "centre".into(),
            problem: e.to_string(),
        })?;
        let opening = org.opening_hours().map_err(|e| RuleError::Invalid {
            key: "centre.opening_hours".into(),
            problem: e.to_string(),
        })?;
        let (rules, compiled) = compile::compile(config, org)?;
        let keep_arrivals = compiled
            .iter()
            .any(|r| matches!(r.check, Check::SuddenPeak { .. }));
        let keep_short_talk = compiled
            .iter()
            .filter_map(|r| match r.check {
                Check::DroppedCalls { short_talk, .. } => Some(short_talk),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        let keep_not_ready = compiled
            .iter()
            .any(|r| matches!(r.check, Check::NotReadyOverrun { .. }));
        let needs = compiled
            .iter()
            .map(|r| match &r.check {
                Check::Metric { metric, .. } => metric.needs(),
                Check::SourceSilent { .. } => Needs {
                    agents: true,
                    ..Needs::SUMS
                },
                _ => Needs::SUMS,
            })
            .fold(Needs::SUMS, Needs::union);
        let keys = std::iter::repeat_with(RuleKeys::default)
            .take(compiled.len())
            .collect();
        Ok(Alerts {
            keys,
            needs,
            rules,
            compiled,
            tree: OrgTree::new(org),
            calendar,
            opening,
            observed: Observations::new(keep_arrivals, keep_short_talk, keep_not_ready),
            runs: BTreeMap::new(),
            book: AlertBook::default(),
            batcher: Batcher::new(Millis::from(config.batch_s) * crate::time::SECOND_MS),
            evaluated_to: None,
            watching_since: None,
            rest_until: None,
            floor_busy: false,
            queues: Vec::new(),
            queue_chains: FxHashMap::default(),
            stepping: Vec::new(),
            figures: kinds::FigureCache::default(),
            thorough: false,
            settled: Vec::new(),
            observations: 0,
            next_day: None,
            not_ready_checked: None,
            breaks: Breaks::default(),
            rules_read: 0,
            orphans_cleared: false,
        })
    }

    /// With `true`, every condition a rule reads is stepped at every boundary and every
    /// reading is worked out in full (the sudden-peak usual volume below `min_arrivals`), as
    /// before issue 15's short cuts; the default, `false`, leaves out what cannot change a
    /// decision. Both raise exactly the same changes: `core/tests/alerts_thorough.rs` compares
    /// them over random days. Only the tests and benchmarks set it.
    pub fn set_thorough(&mut self, thorough: bool) {
        self.thorough = thorough;
    }

    /// The rules evaluated, with every default filled in (`GET /api/v1/alerts/rules`);
    /// disabled ones are listed with `enabled = false`.
    pub fn rules(&self) -> &[AlertRule] {
        &self.rules
    }

    /// Files an event the engine was given (call it with what `Engine::apply` answered, after
    /// the boundaries up to the event's time were evaluated). Duplicates and test events show
    /// that their source is alive and count for nothing else.
    pub fn observe(&mut self, event: &Event, applied: Applied) {
        self.observations += 1;
        self.rest_until = None;
        self.floor_busy = false;
        self.observed.observe(event, applied);
    }

    /// Whether evaluating boundary `at` could change anything. False only while the floor is
    /// at rest and no timer is due before `at` (docs/ALERTS.md, "Evaluation"): a caller may
    /// then skip the boundary, and a clock that jumps over a quiet night costs a handful of
    /// evaluations instead of thousands. Evaluating it anyway is harmless.
    pub fn is_due(&self, at: Millis) -> bool {
        self.rest_until.is_none_or(|until| at >= until)
    }

    /// The first boundary [`Alerts::is_due`] will answer true for, when the floor is at rest.
    pub fn rests_until(&self) -> Option<Millis> {
        self.rest_until
    }

    /// Evaluates every rule at boundary `at`. Tick the engine to `at` first: the figures read
    /// are the engine's at its clock. A boundary at or before the last one evaluated (or the
    /// last change restored) changes nothing, so a repeated call is harmless.
    pub fn evaluate(&mut self, engine: &Engine, at: Millis) -> Evaluation {
        if self.evaluated_to.is_some_and(|done| at <= done) {
            return Evaluation {
                at,
                ..Evaluation::default()
            };
        }
        self.evaluated_to = Some(at);
        // The key cache holds one entry per rule; one rebuilt empty (a checkpoint skips it)
        // fills again as conditions are read.
        self.keys
            .resize_with(self.compiled.len(), RuleKeys::default);
        self.settled.resize(self.compiled.len(), None);
        let watching_since = *self.watching_since.get_or_insert(at);
        self.observed.prune(at);
        // An agent stops being not ready only by an event naming it: once the kept readings
        // follow the floor, only the agents touched since the last boundary are asked about
        // (`breaks`); otherwise all of them, whenever the engine moved.
        self.observed.take_touched(self.breaks.touched_mut());
        let not_ready = |agent: &str| {
            engine
                .agent_state(agent)
                .is_some_and(|(state, _, _)| state == AgentState::NotReady)
        };
        if self.thorough {
            self.breaks.forget();
        }
        if self.breaks.is_synced() {
            for agent in self.breaks.touched() {
                if self.observed.may_be_not_ready(agent) && !not_ready(agent) {
                    self.observed.not_ready_ended(agent);
                }
            }
        } else {
            let revision = engine.revision();
            if self.not_ready_checked != Some(revision) {
                self.not_ready_checked = Some(revision);
                self.observed.retain_not_ready(not_ready);
            }
        }
        let next_day = match self.next_day {
            Some(day) if at < day => day,
            _ => self.calendar.next_day_start(at),
        };
        self.next_day = Some(next_day);
        // Local time only when some rule has quiet hours (time-zone arithmetic at every
        // boundary otherwise, for nothing).
        let local = if self.compiled.iter().any(|r| !r.quiet.is_empty()) {
            local_second(&self.calendar, at)
        } else {
            0
        };
        if self.queues.len() != engine.queue_count() {
            self.queues = engine
                .queues()
                .into_iter()
                .map(|q| Scope::Queue(q.id))
                .collect();
        }
        let mut look = Look {
            engine,
            at,
            tree: &self.tree,
            observed: &self.observed,
            floor: None,
            queues: &self.queues,
            watching_since,
            figures: &mut self.figures,
            queue_chains: &mut self.queue_chains,
            chains: FxHashMap::default(),
            needs: self.needs,
            thorough: self.thorough,
        };
        if !self.thorough {
            self.breaks.sync(&self.compiled, &mut self.keys, &mut look);
        }
        let mut stepping = std::mem::take(&mut self.stepping);
        let mut changes = Vec::new();
        for (index, ((rule, keys), settled)) in self
            .compiled
            .iter()
            .zip(self.keys.iter_mut())
            .zip(self.settled.iter_mut())
            .enumerate()
        {
            // Same inputs and no timer due: reading the rule would decide nothing (`wake`).
            // Unknown before a first reading: as if pending (the finer inputs).
            let pending = settled.is_none_or(|s| s.pending);
            let inputs = wake::inputs(
                rule,
                engine,
                look.observed,
                self.observations,
                look.queues.len(),
                pending,
            );
            if !self.thorough && settled.is_some_and(|s| s.holds(&inputs, at)) {
                continue;
            }
            self.rules_read += 1;
            let open = self.book.open_of(&rule.id).next().is_some();
            // A not-ready overrun reads its kept spells (`breaks`), unless thorough.
            let readings = match rule.check {
                Check::NotReadyOverrun { .. } if !self.thorough => {
                    self.breaks
                        .read(index, rule, at, self.runs.get(&rule.id), &self.book)
                }
                _ => {
                    let stepped = kinds::Stepped {
                        all: self.thorough,
                        open,
                        runs: self.runs.get(&rule.id),
                        book: &self.book,
                    };
                    kinds::read(rule, keys, &mut look, &stepped)
                }
            };
            *settled = None;
            if !self.runs.contains_key(&rule.id) {
                self.runs.insert(rule.id.clone(), BTreeMap::new());
            }
            let Some(runs) = self.runs.get_mut(&rule.id) else {
                continue;
            };
            // Every condition to step, in key order: those read now, those being timed and
            // those with an open alert. Keys are shared, not formatted, at every boundary (an
            // open alert neither read nor timed, after a restore, is the one copied). A
            // condition read but not met, neither timed nor with an open alert, is left out:
            // stepping it would start an idle run and drop it again, deciding nothing
            // (`condition::step` raises only what has held; issue 15).
            stepping.clear();
            let book = &self.book;
            stepping.extend(
                readings
                    .iter()
                    .filter(|(key, reading)| {
                        self.thorough
                            || reading.level.is_some()
                            || runs.contains_key(*key)
                            || book.open(key).is_some()
                    })
                    .map(|(key, _)| Key::clone(key)),
            );
            stepping.extend(runs.keys().cloned());
            stepping.extend(
                book.open_of(&rule.id)
                    .filter(|a| {
                        !readings.contains_key(a.key.as_str()) && !runs.contains_key(a.key.as_str())
                    })
                    .map(|a| Key::from(a.key.as_str())),
            );
            stepping.sort_unstable();
            stepping.dedup();
            // Quiet hours and expected silence matter only to a condition stepped or an alert
            // open (the centre's agent counts are read for `source_silent` otherwise).
            let quiet = (self.thorough || !stepping.is_empty() || open)
                && (rule.quiet_at(local)
                    || silence_expected(self.opening.as_ref(), rule, at, &mut look));
            for shared in stepping.drain(..) {
                let key: &str = &shared;
                let gone;
                let (change, idle) = {
                    let open = self.book.open(key);
                    let reading = match (readings.get(key), open) {
                        (Some(r), _) => r,
                        (None, Some(alert)) => {
                            gone = Reading::gone(alert.scope.clone());
                            &gone
                        }
                        (None, None) => {
                            runs.remove(key);
                            continue;
                        }
                    };
                    let run = runs.entry(Key::clone(&shared)).or_default();
                    let last_cleared = self.book.last_cleared(key);
                    let step = condition::step(run, reading, open, rule, at, quiet, last_cleared);
                    (
                        change_for(step, open, rule, key, reading, at, engine),
                        run.is_idle(),
                    )
                };
                if let Some(change) = change {
                    record(&mut self.book, &mut self.batcher, &mut changes, change);
                }
                if idle && self.book.open(key).is_none() {
                    runs.remove(key);
                }
            }
            let due: Vec<AlertChange> = self
                .book
                .open_of(&rule.id)
                .flat_map(|alert| {
                    condition::escalations_due(alert, rule, at, quiet)
                        .into_iter()
                        .map(|(step, role)| AlertChange::Escalated {
                            id: alert.id.clone(),
                            at,
                            step,
                            role,
                        })
                })
                .collect();
            for change in due {
                record(&mut self.book, &mut self.batcher, &mut changes, change);
            }
            if !self.thorough {
                let clock = wake::Clock {
                    engine,
                    observed: look.observed,
                    book: &self.book,
                    opening: self.opening.as_ref(),
                    watching_since,
                    next_day,
                    breaks_due: self.breaks.next_due(index, at),
                };
                let runs = self.runs.get(&rule.id);
                let wake = wake::after(rule, at, &readings, runs, &clock);
                // Whether a condition is timed or an alert open now (the inputs are the same
                // as before the reading, which changed neither the engine nor the
                // observations: only the part that depends on it is worked out again).
                let now_pending = matches!(rule.check, Check::SourceSilent { .. })
                    && (runs.is_some_and(|r| !r.is_empty())
                        || self.book.open_of(&rule.id).next().is_some());
                let inputs = if now_pending == pending {
                    inputs
                } else {
                    wake::inputs(
                        rule,
                        engine,
                        look.observed,
                        self.observations,
                        look.queues.len(),
                        now_pending,
                    )
                };
                *settled = Some(Settled {
                    inputs,
                    wake,
                    pending: now_pending,
                });
            }
        }
        self.stepping = stepping;
        // An alert whose rule was removed or disabled has nobody left to clear it. Only a
        // book restored (from the journal or a checkpoint) can hold one: the rules raise
        // alerts of their own alone, so once cleared there are none until the next restore.
        if self.thorough || !self.orphans_cleared {
            let orphans: Vec<AlertChange> = self
                .book
                .open_alerts()
                .filter(|a| !self.compiled.iter().any(|r| r.id == a.rule))
                .map(|a| AlertChange::Cleared {
                    id: a.id.clone(),
                    at,
                    value: None,
                })
                .collect();
            for change in orphans {
                record(&mut self.book, &mut self.batcher, &mut changes, change);
            }
            self.orphans_cleared = true;
        }
        let batch = self.batcher.close(at);
        self.rest_until = None;
        if !self.floor_busy {
            let timers = rest::Timers {
                compiled: &self.compiled,
                calendar: &self.calendar,
                opening: self.opening.as_ref(),
                observed: &self.observed,
                runs: &self.runs,
                book: &self.book,
                batcher: &self.batcher,
                watching_since: self.watching_since,
                rest_signed_in: !(self.needs.state_time || self.needs.agents_needed),
            };
            match timers.rest_after(engine, at) {
                rest::Rest::Until(until) => self.rest_until = Some(until),
                rest::Rest::Busy => self.floor_busy = true,
                rest::Rest::Due => {}
            }
        }
        Evaluation { at, changes, batch }
    }

    /// Records that `by` acknowledged alert `id` at `at` (the floor's event-time clock), with
    /// a note. Stops its escalation; an alert can be acknowledged once, open or cleared.
    pub fn acknowledge(
        &mut self,
        id: &str,
        by: &str,
        note: &str,
        at: Millis,
    ) -> Result<AlertChange, AlertError> {
        let field = |field, problem| Err(AlertError::Field { field, problem });
        if by.trim().is_empty() {
            return field("by", "must name who acknowledged");
        }
        if by.len() > MAX_ACK_BY {
            return field("by", "is longer than 256 bytes");
        }
        if note.len() > MAX_ACK_NOTE {
            return field("note", "is longer than 1000 bytes");
        }
        let alert = self
            .book
            .get(id)
            .ok_or_else(|| AlertError::Unknown(id.to_string()))?;
        let change = AlertChange::Acknowledged {
            id: id.to_string(),
            at: at.max(alert.raised_at),
            by: by.to_string(),
            note: note.to_string(),
        };
        self.book.apply(&change)?;
        // Its notice waits for a batch, and its escalation stops: the rest is not what it was.
        self.rest_until = None;
        self.settled.clear();
        if let Some(alert) = self.book.get(id) {
            self.batcher.push(Notice {
                change: change.kind(),
                at: change.at(),
                alert: alert.clone(),
            });
        }
        Ok(change)
    }

    /// Every alert changed at or after `since` (raised, level, escalation, acknowledgement,
    /// clear), and every alert still open, in the order raised (`GET /api/v1/alerts?since=`).
    /// Cleared alerts stay: nothing is ever deleted.
    pub fn alerts_since(&self, since: Millis) -> Vec<Alert> {
        self.book
            .all()
            .iter()
            .filter(|a| a.is_open() || a.updated_at >= since)
            .cloned()
            .collect()
    }

    /// The alert with this id, open or cleared.
    pub fn alert(&self, id: &str) -> Option<&Alert> {
        self.book.get(id)
    }

    /// Every alert raised, for listing.
    pub fn book(&self) -> &AlertBook {
        &self.book
    }

    /// Rebuilds the book from the journal of changes, in journal order, before any
    /// evaluation. Boundaries up to the last change restored are not evaluated again; open
    /// alerts carry on (they clear, change level and escalate as if never interrupted).
    pub fn restore(&mut self, changes: impl IntoIterator<Item = AlertChange>) -> RestoreReport {
        let mut report = RestoreReport::default();
        self.rest_until = None;
        self.settled.clear();
        self.orphans_cleared = false;
        for change in changes {
            match self.book.apply(&change) {
                Ok(_) => {
                    report.applied += 1;
                    let at = change.at();
                    self.evaluated_to = Some(self.evaluated_to.map_or(at, |t| t.max(at)));
                }
                Err(_) => report.skipped += 1,
            }
        }
        report
    }

    /// Forgets what only an unbroken run of evaluations knows: the conditions being timed,
    /// the notices waiting for their batch, the rest and when watching began. A restart from a
    /// checkpoint calls it, so that the alerts resume exactly as after replaying the whole
    /// journal (docs/ALERTS.md, "Changes and the journal"): conditions are timed again from
    /// the next boundary, and a notice sent after the checkpoint is not sent twice.
    pub fn forget_timers(&mut self) {
        self.runs.clear();
        self.settled.clear();
        self.batcher = Batcher::new(self.batcher.window());
        self.watching_since = None;
        self.rest_until = None;
        self.floor_busy = false;
    }

    /// How many times a rule was read in this process: the rules skipped at a boundary
    /// because nothing they read changed and no timer of theirs was due are not counted
    /// (docs/ALERTS.md, "Evaluation"). For tests and benchmarks.
    pub fn rules_read(&self) -> u64 {
        self.rules_read
    }

    /// The latest boundary evaluated (or change restored).
    pub fn evaluated_to(&self) -> Option<Millis> {
        self.evaluated_to
    }

    /// The scopes whose subscribers may see `alert`: its own scope and every scope above it
    /// (a queue's owner chain, an agent's team, group and site), ending with the centre. A
    /// team lead subscribed to `team:t1` sees the alerts of t1, its agents and the queues it
    /// owns, and nothing else.
    pub fn visible_in(&self, alert: &Alert, engine: &Engine) -> Vec<Scope> {
        self.tree.chain(&alert.scope, engine)
    }

    /// Whether a subscriber of `scope` may see `alert` (see [`Alerts::visible_in`]).
    pub fn is_visible_in(&self, alert: &Alert, scope: &Scope, engine: &Engine) -> bool {
        self.visible_in(alert, engine).contains(scope)
    }
}

/// Whether `rule` stays quiet at `at` because silence is expected there (docs/ALERTS.md,
/// "Expected silence"): outside the centre's opening hours (`opening`) for `source_silent` and
/// service-level rules, and while nobody is signed in for `source_silent`. Like quiet hours:
/// the condition keeps being timed, and raises at the first boundary after.
fn silence_expected(
    opening: Option<&OpeningHours>,
    rule: &CompiledRule,
    at: Millis,
    look: &mut Look,
) -> bool {
    let closed = || opening.is_some_and(|o| !o.is_open(at));
    match &rule.check {
        Check::SourceSilent { .. } => closed() || look.nobody_signed_in(),
        Check::Metric { metric, .. } => *metric == Metric::ServiceLevelPct && closed(),
        _ => false,
    }
}

/// Applies an evaluated change to the book and queues its notice.
fn record(
    book: &mut AlertBook,
    batcher: &mut Batcher,
    changes: &mut Vec<AlertChange>,
    change: AlertChange,
) {
    // Changes made here always fit the book (they are decided from it); one that did not
    // would be a bug, and is dropped rather than journaled.
    if let Ok(alert) = book.apply(&change) {
        batcher.push(Notice {
            change: change.kind(),
            at: change.at(),
            alert: alert.clone(),
        });
        changes.push(change);
    }
}

/// The change a lifecycle step makes, if any.
fn change_for(
    step: Step,
    open: Option<&Alert>,
    rule: &CompiledRule,
    key: &str,
    reading: &Reading,
    at: Millis,
    engine: &Engine,
) -> Option<AlertChange> {
    match (step, open) {
        (Step::Raise(level), _) => Some(AlertChange::Raised {
            alert: Box::new(raise(rule, key, reading, level, at, engine)),
        }),
        (Step::ChangeLevel(level), Some(alert)) => Some(AlertChange::LevelChanged {
            id: alert.id.clone(),
            at,
            level,
            value: reading.value,
            threshold: reading.threshold(level),
        }),
        (Step::Clear, Some(alert)) => Some(AlertChange::Cleared {
            id: alert.id.clone(),
            at,
            value: reading.value,
        }),
        _ => None,
    }
}

/// The alert a raise creates. An alert about an agent's not-ready spell names the agent, read
/// from the engine here, once, rather than with every reading.
fn raise(
    rule: &CompiledRule,
    key: &str,
    reading: &Reading,
    level: Level,
    at: Millis,
    engine: &Engine,
) -> Alert {
    let agent_name = match (&rule.check, &reading.scope) {
        (Check::NotReadyOverrun { .. }, Scope::Agent(id)) => {
            engine.agent_name(id).map(String::from)
        }
        _ => None,
    };
    let comparison = match &rule.check {
        Check::Metric { comparison, .. } => *comparison,
        _ => Comparison::Above,
    };
    let first = rule
        .escalation
        .first()
        .map_or(EscalationTier::TeamLead, |s| s.role);
    let detail = &reading.detail;
    Alert {
        id: format!("{key}@{at}"),
        key: key.to_string(),
        rule: rule.id.clone(),
        kind: rule.kind,
        metric: detail.metric.to_string(),
        scope: reading.scope.clone(),
        window: detail.window,
        comparison,
        agent_name,
        reason: detail.reason,
        source: detail.source.clone(),
        usual: detail.usual,
        level,
        value: reading.value,
        threshold: reading.threshold(level),
        raised_at: at,
        acknowledged: None,
        cleared_at: None,
        escalation_step: 0,
        escalated_to: first,
        escalated_at: at,
        updated_at: at,
    }
}

/// Seconds after local midnight at `at` on the centre's clock (quiet hours compare local wall
/// time, so they follow DST).
fn local_second(calendar: &CentreCalendar, at: Millis) -> i32 {
    Timestamp::from_millisecond(at)
        .map(|ts| {
            let t = ts.to_zoned(calendar.time_zone().clone()).time();
            i32::from(t.hour()) * 3600 + i32::from(t.minute()) * 60 + i32::from(t.second())
        })
        .unwrap_or(0)
}
