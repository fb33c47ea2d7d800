//! Agents: who is logged in, in which state since when, and their state time (occupancy and
//! utilisation, docs/METRICS.md).
//!
//! A state's time is credited to the agent when the state ends, cut at minute boundaries; the
//! state still running is added when a figure is read, cut at the window's start. So a window
//! holds exactly the part of each state interval that lies inside it. The agent's team, group,
//! site and centre add up their agents' time when read (see `state_time`).

use super::clock::Clock;
use super::floor::{CENTRE, Chain, Floor, ScopeIdx};
use super::state_time::{AgentNo, StateTimes};
use crate::event::Millis;
use crate::scope::Scope;

pub(super) use super::open_state::OpenState;

/// A handled call whose after-call work may still follow: its handle-time sample waits until
/// the work ends or the agent moves on (docs/METRICS.md, "Percentiles").
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct PendingHandle {
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
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Agents {
    by_scope: Vec<Option<AgentRecord>>,
    /// The agents inside each team, group and site now, by the scope's index (empty for the
    /// centre, queues and agents): a read of a team sums its own agents rather than filtering
    /// every agent on the floor (issue 15). Plain data, rebuilt from the records' chains by
    /// [`Agents::insert`] and kept by [`Agents::rejoin`] when an agent moves team.
    members: Vec<Vec<ScopeIdx>>,
    /// Every agent's state time, by [`AgentRecord::no`].
    pub times: StateTimes,
}

impl Agents {
    pub(super) fn get(&self, idx: ScopeIdx) -> Option<&AgentRecord> {
        self.by_scope.get(idx).and_then(Option::as_ref)
    }

    pub(super) fn get_mut(&mut self, idx: ScopeIdx) -> Option<&mut AgentRecord> {
        self.by_scope.get_mut(idx).and_then(Option::as_mut)
    }

    /// The agent's record with the state-time table, to credit a state's time.
    pub(super) fn with_times(
        &mut self,
        idx: ScopeIdx,
    ) -> Option<(&mut AgentRecord, &mut StateTimes)> {
        let record = self.by_scope.get_mut(idx).and_then(Option::as_mut)?;
        Some((record, &mut self.times))
    }

    pub(super) fn insert(&mut self, mut record: AgentRecord) {
        record.no = self.times.add_agent();
        let idx = record.idx;
        let chain = record.chain;
        if self.by_scope.len() <= idx {
            self.by_scope.resize_with(idx + 1, || None);
        }
        self.by_scope[idx] = Some(record);
        self.join(idx, chain.iter());
    }

    /// Lists agent `idx` in the member lists of the scopes of `scopes` above it (not itself,
    /// not the centre: the centre holds every agent).
    fn join(&mut self, idx: ScopeIdx, scopes: impl Iterator<Item = ScopeIdx>) {
        for scope in scopes.filter(|&s| s != idx && s != CENTRE) {
            if self.members.len() <= scope {
                self.members.resize_with(scope + 1, Vec::new);
            }
            if !self.members[scope].contains(&idx) {
                self.members[scope].push(idx);
            }
        }
    }

    /// Agent `idx` moved team: it leaves the member lists of the scopes of `old` its chain no
    /// longer holds and joins those of its new chain.
    pub(super) fn rejoin(&mut self, idx: ScopeIdx, old: &Chain) {
        let Some(new) = self.get(idx).map(|a| a.chain) else {
            return;
        };
        for scope in old.iter().filter(|&s| !new.contains(s)) {
            if let Some(list) = self.members.get_mut(scope) {
                list.retain(|&m| m != idx);
            }
        }
        self.join(idx, new.iter());
    }

    /// Every record slot, by scope index (`None` for scopes that are not agents).
    pub(super) fn records(&self) -> &[Option<AgentRecord>] {
        &self.by_scope
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &AgentRecord> {
        self.by_scope.iter().flatten()
    }

    /// The agents inside scope `idx` now: the agent itself for an agent's scope, none for a
    /// queue (agents are not members of queues), every agent for the centre, and a team's,
    /// group's or site's member list otherwise (in no particular order: readers sum or sort).
    pub(super) fn inside<'a>(
        &'a self,
        floor: &'a Floor,
        idx: ScopeIdx,
    ) -> impl Iterator<Item = &'a AgentRecord> + 'a {
        let none: &[ScopeIdx] = &[];
        let (records, members) = match floor.nodes[idx].scope {
            Scope::Agent(_) => (self.by_scope.get(idx..=idx).unwrap_or_default(), none),
            Scope::Queue(_) => (&[][..], none),
            _ if idx == CENTRE => (&self.by_scope[..], none),
            _ => (&[][..], self.members.get(idx).map_or(none, Vec::as_slice)),
        };
        records
            .iter()
            .flatten()
            .chain(members.iter().filter_map(|&m| self.get(m)))
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct AgentRecord {
    pub id: String,
    pub idx: ScopeIdx,
    /// The agent, its team and the team's ancestors, the centre.
    pub chain: Chain,
    pub team: Option<String>,
    /// `None` while logged out.
    pub state: Option<OpenState>,
    /// The id of the call being handled, if `call_since` is set (the buffer is reused from
    /// call to call: no allocation per answered call).
    pub call: String,
    /// When the call being handled was answered; `None` when no call is.
    pub call_since: Option<Millis>,
    pub pending: Option<PendingHandle>,
    /// The agent's rows in [`Agents::times`].
    pub no: AgentNo,
}

impl AgentRecord {
    pub(super) fn new(id: &str, idx: ScopeIdx, floor: &Floor) -> AgentRecord {
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
            call: String::new(),
            call_since: None,
            pending: None,
            no: 0,
        }
    }

    /// The agent answered `call` at `at`.
    pub(super) fn take_call(&mut self, call: &str, at: Millis) {
        self.call.clear();
        self.call.push_str(call);
        self.call_since = Some(at);
    }

    /// Ends the current state at `at` (crediting its time) and enters `next` (logged out when
    /// `None`).
    pub(super) fn change_state(
        &mut self,
        times: &mut StateTimes,
        clock: &Clock,
        at: Millis,
        next: Option<OpenState>,
    ) {
        if let Some(open) = self.state.take() {
            times.credit(self.no, open.state, open.since, at, clock);
        }
        self.state = next;
    }

    /// Moves the agent to `team` at `at`: the running state is credited up to `at`, and the time
    /// credited so far stays with the old team and its ancestors (docs/METRICS.md, "Scopes").
    /// Readers add up the agents inside a scope now, so the scopes the agent leaves keep a
    /// copy of that time in their own tallies, and those it joins get it subtracted there;
    /// scopes in both chains (the group, in a move within it; the centre) need nothing. Moves
    /// are rare: this is the slow path.
    pub(super) fn move_to(
        &mut self,
        times: &mut StateTimes,
        floor: &mut Floor,
        clock: &Clock,
        team: ScopeIdx,
        at: Millis,
    ) {
        let open = self.state;
        if let Some(open) = open {
            times.credit(self.no, open.state, open.since, at, clock);
        }
        let old = self.chain;
        floor.nodes[self.idx].parent = Some(team);
        self.chain = floor.chain(self.idx);
        self.team = floor.nodes[team].scope.id().map(str::to_string);
        let (minutes, day) = times.kept(self.no, clock.oldest_minute);
        let left = old.iter().skip(1).filter(|&i| !self.chain.contains(i));
        let joined = self.chain.iter().skip(1).filter(|&i| !old.contains(i));
        let moves = left.map(|i| (i, 1)).chain(joined.map(|i| (i, -1)));
        for (idx, sign) in moves {
            let tally = &mut floor.nodes[idx].tally;
            for (minute, ms) in &minutes {
                tally.add_state_minute(*minute, clock.oldest_minute, &ms.map(|ms| sign * ms));
            }
            tally.add_state_day(&day.map(|ms| sign * ms));
        }
        if let Some(open) = open {
            self.state = Some(OpenState {
                since: at.max(open.since),
                ..open
            });
        }
    }
}
