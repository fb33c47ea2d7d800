//! The metric engine: fed canonical events in order of arrival, clocked by event time and
//! explicit ticks only, answering every figure of docs/METRICS.md for every scope and window.
//!
//! Start reading at [`Engine::apply`]. Calls are in `calls`, agents in `agents`, the scope tree
//! in `floor`, the per-minute and per-day sums in `tally`, and the reading of a window into
//! [`Figures`] in `readout`.

mod agents;
pub mod call_detail;
mod calls;
mod chain;
mod clock;
mod floor;
mod ids;
mod ledger;
mod open_state;
mod readout;
mod state_time;
mod tally;

use rustc_hash::FxHashSet;

use crate::calendar::CentreCalendar;
use crate::event::{AgentState, Event, EventKind, Millis, NotReadyReason};
use crate::figures::{AgentView, Applied, Figures, QueueView};
use crate::org::{OrgError, Organisation};
use crate::scope::{Scope, Window};

use agents::{AgentRecord, Agents, OpenState};
use calls::{Calls, Ctx, Outcome};
use clock::{Clock, minute_of};
use floor::{Floor, ScopeIdx};
use ids::id_hash;

pub(crate) use ledger::earliest;
pub use ledger::{IntervalSums, QUARTER_HOUR_MS};

/// What one close of the ledger added to one scope's quarter-hour: the scope, the additions,
/// the quarter-hour's start (UTC ms).
pub type IntervalDelta = (Scope, IntervalSums, Millis);
pub use readout::{Needs, PointFrom, ReadFrom, Sums, empty_histogram, from_sums, sample_histogram};
pub use tally::Tally;

/// Borrows the parts of the engine the call table works on.
macro_rules! ctx {
    ($engine:ident) => {
        Ctx {
            floor: &mut $engine.floor,
            agents: &mut $engine.agents,
            clock: &$engine.clock,
        }
    };
}

/// A question the engine cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// No such scope in the organisation or in the events seen.
    #[error("unknown scope `{0}`")]
    UnknownScope(Scope),
}

/// Counters of what the engine did with the events it was given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EngineCounters {
    /// Events applied.
    pub applied: u64,
    /// Events whose id was seen before: ignored.
    pub duplicates: u64,
    /// Test events (`test: true`): journaled, never counted.
    pub test: u64,
    /// Agent-state events older than the state they would replace: the live state is kept.
    pub stale_agent_states: u64,
}

/// Deterministic in-memory figures for one centre.
///
/// Serialisable for the server's checkpoints (docs/ARCHITECTURE.md, "Checkpoints"): every
/// field but the calendar, which comes from the organisation again ([`EngineSnapshot`]).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Engine {
    #[serde(skip, default = "CentreCalendar::utc")]
    calendar: CentreCalendar,
    clock: Clock,
    floor: Floor,
    agents: Agents,
    calls: Calls,
    /// Hashes of event ids seen in the current and the previous centre day.
    seen_today: FxHashSet<u64>,
    seen_yesterday: FxHashSet<u64>,
    counters: EngineCounters,
    /// Bumped by every event given and by every tick into a new minute (a daily reset, a sweep
    /// of forgotten calls): while it stands, every figure but the clock-driven ones (state time,
    /// a live wait's age) reads the same ([`Engine::revision`]). Not saved: it starts again at
    /// zero in each process.
    #[serde(skip)]
    revision: u64,
    /// This engine, among every engine of the process (made or read back): what readers that
    /// keep a scope's version between reads ([`ReadFrom`]) compare first. Not saved.
    #[serde(skip, default = "next_epoch")]
    epoch: u64,
}

/// A number no other engine of this process has ([`Engine`]'s `epoch`).
fn next_epoch() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// An engine read back from a checkpoint, not usable until it is given its organisation's
/// calendar again ([`EngineSnapshot::into_engine`]): the calendar is configuration, not state.
#[derive(serde::Deserialize)]
#[serde(transparent)]
pub struct EngineSnapshot(Engine);

impl EngineSnapshot {
    /// The engine, with the calendar of `org` (the organisation it was checkpointed under:
    /// the caller checks that, e.g. by a fingerprint of the configuration).
    pub fn into_engine(self, org: &Organisation) -> Result<Engine, OrgError> {
        let mut engine = self.0;
        engine.calendar = org.calendar()?;
        Ok(engine)
    }
}

impl Engine {
    /// What reading a window needs, lent to `readout`.
    fn parts(&self) -> readout::Parts<'_> {
        readout::Parts {
            calendar: &self.calendar,
            clock: &self.clock,
            floor: &self.floor,
            agents: &self.agents,
            epoch: self.epoch,
        }
    }

    /// An engine for `org`, which must validate.
    pub fn new(org: &Organisation) -> Result<Engine, OrgError> {
        org.validate()?;
        let calendar = org.calendar()?;
        let clock = Clock::at(0, &calendar);
        let mut engine = Engine {
            calendar,
            clock,
            floor: Floor::new(org),
            agents: Agents::default(),
            calls: Calls::default(),
            seen_today: FxHashSet::default(),
            seen_yesterday: FxHashSet::default(),
            counters: EngineCounters::default(),
            revision: 0,
            epoch: next_epoch(),
        };
        // Configured agents are on the floor (logged out) before their first event.
        for site in &org.sites {
            for group in &site.groups {
                for team in &group.teams {
                    for agent in &team.agents {
                        engine.agent(agent.id());
                    }
                }
            }
        }
        Ok(engine)
    }

    /// Applies one event; its time advances the clock if it is the latest seen. Events older
    /// than the clock land in the minutes and the day they belong to.
    pub fn apply(&mut self, event: &Event) -> Applied {
        self.revision += 1;
        let id = id_hash(&event.id);
        let new = if self.seen_yesterday.contains(&id) {
            false
        } else if event.test || event.ts < self.clock.next_day_start {
            // No tick before the insert can rotate the sets: one probe of today's set answers
            // and records.
            self.seen_today.insert(id)
        } else if self.seen_today.contains(&id) {
            false
        } else {
            // Tick first: crossing the daily reset rotates the sets of seen ids.
            self.tick(event.ts);
            self.seen_today.insert(id)
        };
        if !new {
            self.counters.duplicates += 1;
            return Applied::Duplicate;
        }
        self.apply_new(event)
    }

    /// Applies an event whose id the caller has already checked is new (the server does, before
    /// journaling), skipping the engine's own record of ids: at 5,000 agents that record is
    /// about 75 MB a day and a quarter of the engine's time.
    pub fn apply_new(&mut self, event: &Event) -> Applied {
        self.revision += 1;
        if event.test {
            self.counters.test += 1;
            return Applied::Test;
        }
        self.tick(event.ts);
        self.counters.applied += 1;
        let at = event.ts;
        match &event.kind {
            EventKind::AgentLogin { agent, team } => {
                if let Some(team) = team {
                    self.move_agent(agent, team, at);
                }
                self.set_state(agent, at, Some(crate::event::AgentState::Available), None);
            }
            EventKind::AgentLogout { agent } => {
                self.flush_pending(agent);
                self.set_state(agent, at, None, None);
            }
            EventKind::AgentState {
                agent,
                state,
                reason,
            } => self.set_state(agent, at, Some(*state), *reason),
            EventKind::AgentTeam { agent, team } => self.move_agent(agent, team, at),
            EventKind::CallEnteredQueue {
                call,
                queue,
                caller,
                ..
            } => self.calls.entered(
                &mut ctx!(self),
                call,
                queue,
                at,
                caller.as_ref().map(crate::caller::CallerNumber::as_str),
            ),
            EventKind::CallOffered { call, agent }
            | EventKind::CallRingNoAnswer { call, agent } => {
                self.agent(agent);
                self.calls.touch(call, at);
            }
            EventKind::CallAnswered {
                call,
                agent,
                queue,
                wait_ms,
            } => {
                let agent = self.agent(agent);
                self.calls.answered(
                    &mut ctx!(self),
                    call,
                    (agent, at),
                    queue.as_deref(),
                    *wait_ms,
                );
            }
            EventKind::CallHoldStarted { call } => self.calls.hold_started(call, at),
            EventKind::CallHoldEnded { call } => self.calls.hold_ended(call, at),
            EventKind::CallTransferred {
                call,
                queue,
                agent,
                talk_ms,
                ..
            }
            | EventKind::CallEnded {
                call,
                queue,
                agent,
                talk_ms,
            } => {
                let transferred = matches!(event.kind, EventKind::CallTransferred { .. });
                let agent = agent.as_deref().map(|a| self.agent(a));
                self.calls.talk_ended(
                    &mut ctx!(self),
                    call,
                    at,
                    (queue.as_deref(), agent, *talk_ms),
                    transferred,
                );
            }
            EventKind::CallAfterCallWorkEnded { call } => {
                self.calls.after_call_work_ended(&mut ctx!(self), call, at)
            }
            EventKind::CallAbandoned {
                call,
                queue,
                wait_ms,
            } => self.calls.outcome(
                &mut ctx!(self),
                call,
                Outcome::Abandoned,
                at,
                queue.as_deref(),
                *wait_ms,
            ),
            EventKind::CallTimedOut {
                call,
                queue,
                wait_ms,
                ..
            } => self.calls.outcome(
                &mut ctx!(self),
                call,
                Outcome::TimedOut,
                at,
                queue.as_deref(),
                *wait_ms,
            ),
            EventKind::CallIvrCompleted { queue, .. } => {
                calls::ivr_completed(&mut self.floor, &self.clock, queue.as_deref(), at)
            }
        }
        Applied::Applied
    }

    /// Advances the clock to `now` (never backwards). Minutes that left the longest rolling
    /// window are no longer read (each scope drops them when it next starts a minute);
    /// crossing the centre's daily reset starts a new day.
    pub fn tick(&mut self, now: Millis) {
        if now <= self.clock.now {
            return;
        }
        let before = self.clock;
        if now >= before.next_day_start || minute_of(now) != minute_of(before.now) {
            self.revision += 1;
        }
        if now >= before.next_day_start {
            // Day boundaries come from the calendar (time zone rules) once a day, not per event.
            self.clock = Clock::at(now, &self.calendar);
            for node in &mut self.floor.nodes {
                node.tally.reset_day();
            }
            self.agents.times.reset_day();
            self.seen_yesterday = std::mem::take(&mut self.seen_today);
            if now >= self.calendar.next_day_start(before.next_day_start) {
                // More than a whole day passed: yesterday's ids are two days old.
                self.seen_yesterday.clear();
            }
        } else {
            self.clock.advance(now);
        }
        let (old, new) = (minute_of(before.now), minute_of(now));
        if new != old {
            // Sweep every ten minutes, on the boundary's time, so that tick cadence cannot
            // change what is forgotten.
            let boundary = new - new.rem_euclid(10);
            if boundary > old {
                self.calls
                    .sweep(&mut self.floor, boundary * tally::MINUTE_MS);
            }
        }
    }

    /// A count that changes whenever the engine's state may have changed other than by its
    /// clock moving within a minute: an event given (applied or not), a tick into a new minute
    /// (windows move by whole minutes, the daily reset and the sweep of forgotten calls happen
    /// there). While it stands, every window's figures read the same but the clock-driven
    /// parts (state time, the age of the longest wait now): the alert rules skip reading
    /// figures that cannot have changed (docs/ALERTS.md, "Evaluation"; issue 15).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// A count that moves whenever some queue's sums may have changed: the sum of the queues'
    /// tally versions (`tally::ScopeTally`, bumped by every change to a scope's minutes or
    /// day). Events that count in no queue's sums (agent states, a call entering a queue or
    /// ringing) leave it, and so do ticks: while it and the queues known stand, every queue's
    /// window sums read the same but for the window's first minute moving
    /// ([`Self::queue_window_moves_at`]). An alert rule on a queue's service level reads the
    /// queues again only when it moves (docs/ALERTS.md, "Evaluation"; issue 15).
    pub fn queue_sums_version(&self) -> u64 {
        self.floor
            .queues
            .iter()
            .map(|q| self.floor.nodes[q.idx].tally.version())
            .fold(0, u64::wrapping_add)
    }

    /// For a rolling window: the first instant after the clock at which some queue's window
    /// sums change with the clock alone, as the oldest minute in the window that saw anything
    /// leaves it; `None` for other windows, or while no queue's window holds such a minute
    /// (their sums then stand still until [`Self::queue_sums_version`] moves).
    pub fn queue_window_moves_at(&self, window: Window) -> Option<Millis> {
        let minutes = match window {
            Window::Rolling15 | Window::Rolling30 | Window::Rolling60 => window.minutes()?,
            _ => return None,
        };
        let first = minute_of(self.clock.now) - (minutes - 1);
        self.floor
            .queues
            .iter()
            .filter_map(|q| self.floor.nodes[q.idx].tally.first_minute_from(first))
            .min()
            .map(|oldest| (oldest + minutes) * tally::MINUTE_MS)
    }

    /// The engine's clock: the latest event time or tick seen.
    pub fn now(&self) -> Millis {
        self.clock.now
    }

    /// The centre's calendar: its zone and when its day starts.
    pub fn calendar(&self) -> &CentreCalendar {
        &self.calendar
    }

    /// How many events were applied, ignored as duplicates or test.
    pub fn counters(&self) -> EngineCounters {
        self.counters
    }

    /// Calls heard of in the last hour of event time (memory accounting).
    pub fn calls_in_memory(&self) -> usize {
        self.calls.len()
    }

    /// Every figure for `scope` over `window` at the engine's clock.
    pub fn figures(&self, scope: &Scope, window: Window) -> Result<Figures, EngineError> {
        let idx = self
            .floor
            .index(scope)
            .ok_or_else(|| EngineError::UnknownScope(scope.clone()))?;
        Ok(readout::figures(&self.parts(), idx, window, Needs::ALL))
    }

    /// The figures for `scope` over `window` that `needs` asks for, the rest null or zero
    /// ([`Needs`]): equal to [`Engine::figures`] in every figure asked for, at a cost that does
    /// not grow with the floor for what is not (alert rules, sparklines; issue 15).
    pub fn figures_with(
        &self,
        scope: &Scope,
        window: Window,
        needs: Needs,
    ) -> Result<Figures, EngineError> {
        let idx = self
            .floor
            .index(scope)
            .ok_or_else(|| EngineError::UnknownScope(scope.clone()))?;
        Ok(readout::figures(&self.parts(), idx, window, needs))
    }

    /// [`Engine::figures_with`] written over `out`, the figures of an earlier read (of any
    /// scope and window) with `kept`, what they came from ([`ReadFrom`], default for none):
    /// afterwards equal to what `figures_with` returns. A reader that reads the same scopes
    /// again and again (the alert rules, at every boundary) gets figures whose sums stood still
    /// without their being worked out again, and keeps their scope rather than copying it
    /// (issue 15). On an error `out` and `kept` are left as they were.
    pub fn figures_into(
        &self,
        scope: &Scope,
        window: Window,
        needs: Needs,
        out: &mut Figures,
        kept: &mut ReadFrom,
    ) -> Result<(), EngineError> {
        let idx = self
            .floor
            .index(scope)
            .ok_or_else(|| EngineError::UnknownScope(scope.clone()))?;
        readout::figures_into(&self.parts(), idx, window, needs, out, kept);
        Ok(())
    }

    /// Every agent known, configured or seen, in id order.
    pub fn agents(&self) -> Vec<AgentView> {
        let mut all: Vec<&AgentRecord> = self.agents.iter().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all.into_iter()
            .map(|a| readout::agent_view(&self.parts(), a))
            .collect()
    }

    /// The agents inside `scope` (its subtree; for a queue, none: agents are not members of
    /// queues), in id order. This is what an `agents:SCOPE` subscription shows.
    pub fn agents_in(&self, scope: &Scope) -> Result<Vec<AgentView>, EngineError> {
        let idx = self
            .floor
            .index(scope)
            .ok_or_else(|| EngineError::UnknownScope(scope.clone()))?;
        let mut inside: Vec<&AgentRecord> = self.agents.inside(&self.floor, idx).collect();
        inside.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(inside
            .into_iter()
            .map(|a| readout::agent_view(&self.parts(), a))
            .collect())
    }

    /// Whether `inner` lies inside the subtree of `outer` (or is it): a queue inside its
    /// owner's chain, an agent inside the team it belongs to now (docs/METRICS.md, "Scopes").
    /// `None` when either scope is unknown to the engine. This is the question every access
    /// check asks: a permission is a function on a subtree (docs/SECURITY.md).
    pub fn contains(&self, outer: &Scope, inner: &Scope) -> Option<bool> {
        let outer = self.floor.index(outer)?;
        let inner = self.floor.index(inner)?;
        Some(self.floor.contains(outer, inner))
    }

    /// An agent's current state, not-ready reason and the time the state began, when the agent
    /// is known and signed in: what the not-ready-overrun alert reads at every evaluation
    /// boundary (docs/ALERTS.md), without building a whole [`AgentView`] (name, team, call and
    /// day tallies) for every agent on a break (issue 15).
    pub fn agent_state(&self, id: &str) -> Option<(AgentState, Option<NotReadyReason>, Millis)> {
        let idx = self.floor.agents.get(id)?;
        let state = self.agents.get(*idx)?.state?;
        Some((state.state, state.reason, state.since))
    }

    /// An agent's display name (the id when none is configured), when the agent is known:
    /// read when an alert about the agent is raised, not at every boundary.
    pub fn agent_name(&self, id: &str) -> Option<&str> {
        let idx = self.floor.agents.get(id)?;
        let agent = self.agents.get(*idx)?;
        Some(self.floor.nodes[agent.idx].name.as_str())
    }

    /// One agent's view, if the agent is known.
    pub fn agent_view(&self, id: &str) -> Option<AgentView> {
        let idx = self.floor.agents.get(id)?;
        self.agents
            .get(*idx)
            .map(|a| readout::agent_view(&self.parts(), a))
    }

    /// How many queues the engine knows (configured or seen in events). Queues are only ever
    /// added, so a caller that keeps [`Engine::queues`] reads them again only when this grows.
    pub fn queue_count(&self) -> usize {
        self.floor.queues.len()
    }

    /// Every queue known, configured or seen, in id order.
    pub fn queues(&self) -> Vec<QueueView> {
        let mut queues: Vec<QueueView> = self
            .floor
            .queues
            .iter()
            .map(|q| QueueView {
                id: q.id.clone(),
                name: self.floor.nodes[q.idx].name.clone(),
                owner: q.owner.clone(),
                settings: q.settings,
                unassigned: q.unassigned,
            })
            .collect();
        queues.sort_by(|a, b| a.id.cmp(&b.id));
        queues
    }

    /// The name a screen shows for `scope`: the configured one, else its id; `None` when the
    /// scope is unknown.
    pub fn name_of(&self, scope: &Scope) -> Option<&str> {
        let idx = self.floor.index(scope)?;
        Some(self.floor.nodes[idx].name.as_str())
    }

    /// The configured names of the sites, groups and teams (those whose name is not just their
    /// id), in tree order: what screens show instead of ids ([`crate::wire::LiveFrame`]).
    pub fn tree_names(&self) -> Vec<(Scope, String)> {
        self.floor
            .nodes
            .iter()
            .filter(|n| matches!(n.scope, Scope::Site(_) | Scope::Group(_) | Scope::Team(_)))
            .filter(|n| n.scope.id() != Some(n.name.as_str()))
            .map(|n| (n.scope.clone(), n.name.clone()))
            .collect()
    }

    /// Starts keeping what every event adds to each quarter-hour of each scope, for history
    /// (docs/HISTORY.md): [`Engine::close_intervals`] hands it over. Running agent states count
    /// as credited up to `closed_until`, the boundary of the last close already stored (a
    /// restart replays the events stored before it with the ledger off, then resumes there).
    pub fn keep_intervals(&mut self, closed_until: Millis) {
        self.revision += 1;
        self.floor.ledger = Some(ledger::Ledger::resuming_at(closed_until));
    }

    /// Stops keeping interval deltas and drops those not handed over: a checkpoint restored
    /// where history is off, or where the store has gone past it, counts again from the
    /// store's resume point (docs/HISTORY.md, "Restarts").
    pub fn forget_intervals(&mut self) {
        self.revision += 1;
        self.floor.ledger = None;
    }

    /// Whether the engine keeps interval deltas ([`Engine::keep_intervals`]).
    pub fn keeps_intervals(&self) -> bool {
        self.floor.ledger.is_some()
    }

    /// Credits every running agent state up to `until` (a quarter-hour boundary) and hands over
    /// what every event added to each scope's quarter-hours since the last close, oldest first.
    /// Empty when intervals are not kept. The deltas are sums: merged into stored rows in any
    /// grouping they give the same rows (docs/HISTORY.md, "Rebuild").
    pub fn close_intervals(&mut self, until: Millis) -> Vec<IntervalDelta> {
        self.revision += 1;
        let Some(ledger) = &mut self.floor.ledger else {
            return Vec::new();
        };
        let running = self
            .agents
            .iter()
            .filter_map(|a| a.state.map(|open| (a.chain, open)));
        ledger
            .close(until, running)
            .into_iter()
            .map(|d| (self.floor.nodes[d.scope].scope.clone(), d.sums, d.start))
            .collect()
    }

    /// Hands over the call detail record of every visit changed since the last hand-over,
    /// oldest outcome first (docs/HISTORY.md, "Calls"); the live floor and a rebuild take them
    /// right after each close, so they are stored with the close's rows and resume point. Empty
    /// when intervals are not kept. Records are whole: the latest replaces what was stored.
    pub fn close_calls(&mut self) -> Vec<call_detail::CallDetail> {
        self.revision += 1;
        self.floor
            .ledger
            .as_mut()
            .map(ledger::Ledger::take_calls)
            .unwrap_or_default()
    }

    /// The records of the visits changed since the last close, not handed over yet: what a
    /// drill-down adds to the store to reach the floor's "now" (unordered).
    pub fn open_calls(&self) -> Vec<call_detail::CallDetail> {
        self.floor
            .ledger
            .as_ref()
            .map(|l| l.open_calls().cloned().collect())
            .unwrap_or_default()
    }

    /// Closes the ledger at the start of the quarter-hour containing `t` when the clock has not
    /// reached it yet, that is when an event or tick at `t` is about to cross it (called before
    /// applying it); returns that boundary and the deltas. `None` when nothing is crossed, and
    /// before the first event (no clock yet). The live floor and a rebuild both close here, so
    /// they close at the same boundaries.
    pub fn close_intervals_crossing(&mut self, t: Millis) -> Option<(Millis, Vec<IntervalDelta>)> {
        self.revision += 1;
        let boundary = t.div_euclid(QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
        let now = self.now();
        (now > 0 && now < boundary).then(|| (boundary, self.close_intervals(boundary)))
    }

    /// Every scope the engine can answer for, in tree order (centre first).
    pub fn scopes(&self) -> Vec<Scope> {
        self.floor.nodes.iter().map(|n| n.scope.clone()).collect()
    }

    /// [`Self::scopes`] but the agents': the tree's and the queues', borrowed. A floor samples
    /// these at every minute end for the sparklines (issue 15: copying 5,000 agent scopes
    /// there, to drop them, was most of a sample's cost).
    pub fn scopes_but_agents(&self) -> impl Iterator<Item = &Scope> + '_ {
        self.floor
            .nodes
            .iter()
            .map(|n| &n.scope)
            .filter(|s| !matches!(s, Scope::Agent(_)))
    }

    /// [`Self::figures_with`] of each scope of [`Self::scopes_but_agents`], in that order, each
    /// read by its place in the tree rather than looked up by its id: a floor samples them all
    /// at every minute end (issue 15: the look-ups were a share of a sample's cost).
    pub fn figures_but_agents(
        &self,
        window: Window,
        needs: Needs,
    ) -> impl Iterator<Item = (&Scope, Figures)> + '_ {
        let parts = self.parts();
        self.tree_nodes()
            .map(move |(idx, scope)| (scope, readout::figures(&parts, idx, window, needs)))
    }

    /// The place and scope of each scope of [`Self::scopes_but_agents`], in that order.
    fn tree_nodes(&self) -> impl Iterator<Item = (ScopeIdx, &Scope)> + '_ {
        self.floor
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| !matches!(n.scope, Scope::Agent(_)))
            .map(|(idx, n)| (idx, &n.scope))
    }

    /// The sparkline point (service level, calls waiting) over `window` of each scope of
    /// [`Self::scopes_but_agents`], in that order, as [`Self::figures_with`] with
    /// [`Needs::SUMS`] reads them; `kept` holds what each was worked out from, by place (grown
    /// or cut to the scopes), so a scope whose sums stood still since its last point is not
    /// summed again and no other figure is derived (a floor samples them all at every minute
    /// end: issue 15).
    pub fn points_but_agents<'a>(
        &'a self,
        window: Window,
        kept: &'a mut Vec<PointFrom>,
    ) -> impl Iterator<Item = (&'a Scope, Option<f64>, u64)> + 'a {
        let count = self.scopes_but_agents().count();
        kept.resize_with(count, PointFrom::default);
        let parts = self.parts();
        self.tree_nodes()
            .zip(kept.iter_mut())
            .map(move |((idx, scope), kept)| {
                let (pct, waiting) = readout::point(&parts, idx, window, kept);
                (scope, pct, waiting)
            })
    }

    /// Creates the agent's record (and scope) when first seen.
    fn agent(&mut self, id: &str) -> ScopeIdx {
        let (idx, new) = self.floor.agent(id);
        if new {
            let record = AgentRecord::new(id, idx, &self.floor);
            self.agents.insert(record);
        }
        idx
    }

    fn set_state(
        &mut self,
        agent: &str,
        at: Millis,
        state: Option<crate::event::AgentState>,
        reason: Option<crate::event::NotReadyReason>,
    ) {
        let idx = self.agent(agent);
        let Some((rec, times)) = self.agents.with_times(idx) else {
            return;
        };
        if rec.state.is_some_and(|open| at < open.since) {
            self.counters.stale_agent_states += 1;
            return;
        }
        let next = state.map(|state| OpenState {
            state,
            reason: reason.filter(|_| state == crate::event::AgentState::NotReady),
            since: at,
        });
        let (prev, chain) = (rec.state, rec.chain);
        rec.change_state(times, &self.clock, at, next);
        if let Some(ledger) = &mut self.floor.ledger {
            ledger.state_changed(&chain, prev, &chain, next, at);
        }
    }

    fn move_agent(&mut self, agent: &str, team: &str, at: Millis) {
        let team_idx = self.floor.team(team);
        let idx = self.agent(agent);
        let mut moved = None;
        if let Some((rec, times)) = self.agents.with_times(idx)
            && rec.team.as_deref() != Some(team)
        {
            let (prev, old_chain) = (rec.state, rec.chain);
            rec.move_to(times, &mut self.floor, &self.clock, team_idx, at);
            if let Some(ledger) = &mut self.floor.ledger {
                ledger.state_changed(&old_chain, prev, &rec.chain, rec.state, at);
            }
            moved = Some(old_chain);
        }
        if let Some(old_chain) = moved {
            self.agents.rejoin(idx, &old_chain);
        }
    }

    /// The agent's last handled call gets no after-call work after all: record its sample.
    fn flush_pending(&mut self, agent: &str) {
        let idx = self.agent(agent);
        if let Some(p) = self.agents.get_mut(idx).and_then(|a| a.pending.take()) {
            calls::flush_handle(&mut self.floor, &self.clock, p, 0);
        }
    }
}
