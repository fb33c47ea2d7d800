//! Agents: who is logged in, in which state since when, and how their state time is credited to
//! the minutes and the day of every scope they belong to (occupancy and utilisation,
//! docs/METRICS.md).
//!
//! A state's time is credited when the state ends, cut at minute boundaries; the state still
//! running is added when a figure is read, cut at the window's start. So a window holds exactly
//! the part of each state interval that lies inside it.

use super::clock::Clock;
use super::floor::{Chain, Floor, ScopeIdx};
use super::tally::MINUTE_MS;
use crate::event::{AgentState, Millis, NotReadyReason};

/// The state an agent is in now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenState {
    pub state: AgentState,
    pub reason: Option<NotReadyReason>,
    pub since: Millis,
}

/// A handled call whose after-call work may still follow: its handle-time sample waits until
/// the work ends or the agent moves on (docs/METRICS.md, "Percentiles").
#[derive(Debug, Clone)]
pub struct PendingHandle {
    /// The call's id hash.
    pub call: u64,
    /// Minute of the call's end: the sample lands there, whenever it is known.
    pub ended_at: Millis,
    /// Talk plus hold.
    pub handle_ms: i64,
    /// The scopes the handled call counted in.
    pub chain: Chain,
}

/// Every agent's record, indexed by the agent's scope: one string lookup per event (the id to
/// its scope, in [`Floor`]), then plain indexing.
#[derive(Debug, Default)]
pub struct Agents {
    by_scope: Vec<Option<AgentRecord>>,
}

impl Agents {
    pub fn get(&self, idx: ScopeIdx) -> Option<&AgentRecord> {
        self.by_scope.get(idx).and_then(Option::as_ref)
    }

    pub fn get_mut(&mut self, idx: ScopeIdx) -> Option<&mut AgentRecord> {
        self.by_scope.get_mut(idx).and_then(Option::as_mut)
    }

    pub fn insert(&mut self, record: AgentRecord) {
        let idx = record.idx;
        if self.by_scope.len() <= idx {
            self.by_scope.resize_with(idx + 1, || None);
        }
        self.by_scope[idx] = Some(record);
    }

    pub fn iter(&self) -> impl Iterator<Item = &AgentRecord> {
        self.by_scope.iter().flatten()
    }
}

#[derive(Debug, Clone)]
pub struct AgentRecord {
    pub id: String,
    pub idx: ScopeIdx,
    /// The agent, its team and the team's ancestors, the centre.
    pub chain: Chain,
    pub team: Option<String>,
    /// `None` while logged out.
    pub state: Option<OpenState>,
    /// The call being handled and when it was answered.
    pub call: Option<(String, Millis)>,
    pub pending: Option<PendingHandle>,
}

impl AgentRecord {
    pub fn new(id: &str, idx: ScopeIdx, floor: &Floor) -> AgentRecord {
        let chain = floor.chain(idx);
        let team = chain
            .get(1)
            .and_then(|t| floor.nodes[t].scope.id().map(str::to_string))
            .filter(|_| chain.len() > 2);
        AgentRecord {
            id: id.to_string(),
            idx,
            chain,
            team,
            state: None,
            call: None,
            pending: None,
        }
    }

    /// Ends the current state at `at` (crediting its time) and enters `next` (logged out when
    /// `None`).
    pub fn change_state(
        &mut self,
        floor: &mut Floor,
        clock: &Clock,
        at: Millis,
        next: Option<OpenState>,
    ) {
        if let Some(open) = self.state.take() {
            credit(floor, &self.chain, open.state, open.since, at, clock);
            floor.count_state(&self.chain, open.state, open.reason, -1);
        }
        if let Some(open) = next {
            floor.count_state(&self.chain, open.state, open.reason, 1);
        }
        self.state = next;
    }

    /// Moves the agent to `team` at `at`: the running state is credited to the old team up to
    /// `at` and to the new team from then on.
    pub fn move_to(&mut self, floor: &mut Floor, clock: &Clock, team: ScopeIdx, at: Millis) {
        let open = self.state;
        if let Some(open) = open {
            credit(floor, &self.chain, open.state, open.since, at, clock);
            floor.count_state(&self.chain, open.state, open.reason, -1);
        }
        floor.nodes[self.idx].parent = Some(team);
        self.chain = floor.chain(self.idx);
        self.team = floor.nodes[team].scope.id().map(str::to_string);
        if let Some(open) = open {
            floor.count_state(&self.chain, open.state, open.reason, 1);
            self.state = Some(OpenState {
                since: at.max(open.since),
                ..open
            });
        }
    }
}

/// Credits `[from, to)` in `state` to every scope of `chain`: to each minute still in the ring,
/// and to the day for the part after the day's start.
pub fn credit(
    floor: &mut Floor,
    chain: &Chain,
    state: AgentState,
    from: Millis,
    to: Millis,
    clock: &Clock,
) {
    if to <= from {
        return;
    }
    let day_part = to - from.max(clock.day_start);
    if day_part > 0 {
        for idx in chain.iter() {
            floor.nodes[idx].tally.add_state_day(state, day_part);
        }
    }
    let ring_start = clock.oldest_minute * MINUTE_MS;
    let mut at = from.max(ring_start);
    while at < to {
        let minute = at.div_euclid(MINUTE_MS);
        let end = ((minute + 1) * MINUTE_MS).min(to);
        for idx in chain.iter() {
            floor.nodes[idx]
                .tally
                .add_state_minute(minute, state, end - at);
        }
        at = end;
    }
}
