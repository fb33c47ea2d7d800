//! The floor as the engine sees it: every scope (centre, sites, groups, teams, queues, agents)
//! as a dense index with its parent and its tallies.
//!
//! A call's queue outcome counts in its queue's chain (queue → owning node → … → centre); an
//! agent's handled calls count in the agent's chain (agent → team → group → site → centre).
//! Chains are short, so each call event touches a handful of tallies and nothing is ever rolled
//! up by averaging (docs/METRICS.md, "Scopes" and "Roll-ups"). Agent state time and live states
//! are the agent's alone, added up over the agents inside a scope when it is read (`readout`).

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;

use super::ids::IdMap;
use super::ledger::Ledger;
use super::tally::{Contribution, ScopeTally};
use crate::event::{Millis, NotReadyReason};
use crate::org::Organisation;
use crate::scope::Scope;
use crate::service_level::ServiceLevelSettings;

pub(super) use super::chain::{Chain, ScopeIdx};

/// Position of a queue in [`Floor::queues`].
pub(super) type QueueNo = usize;
pub(super) const CENTRE: ScopeIdx = 0;

/// One scope: where it hangs in the tree and what has been counted in it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct ScopeNode {
    pub scope: Scope,
    pub name: String,
    pub parent: Option<ScopeIdx>,
    pub tally: ScopeTally,
}

/// A queue's settings and the calls waiting in it now.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct QueueInfo {
    pub id: String,
    pub idx: ScopeIdx,
    pub owner: Option<String>,
    pub settings: ServiceLevelSettings,
    /// First named by an event although the organisation is configured ([`QueueView`]).
    pub unassigned: bool,
    /// The queue's chain: itself, its owning node and that node's ancestors, the centre.
    pub chain: Chain,
    /// (entered at, call key): the first entry is the oldest waiting call.
    pub waiting: BTreeSet<(Millis, u64)>,
}

/// The organisation, indexed.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct Floor {
    pub nodes: Vec<ScopeNode>,
    pub sites: FxHashMap<String, ScopeIdx>,
    pub groups: FxHashMap<String, ScopeIdx>,
    pub teams: IdMap<ScopeIdx>,
    pub agents: IdMap<ScopeIdx>,
    /// Queues in the order first configured or seen; [`QueueNo`] indexes this.
    pub queues: Vec<QueueInfo>,
    pub queue_ids: IdMap<QueueNo>,
    /// Settings for queues that are seen in events but not configured.
    pub default_settings: ServiceLevelSettings,
    /// Whether the organisation names any site or queue: then a queue first named by an
    /// event is unassigned.
    pub configured: bool,
    /// Configured agent display names.
    pub agent_names: FxHashMap<String, String>,
    /// Configured team of each agent.
    pub agent_teams: FxHashMap<String, String>,
    /// What each event added to each quarter-hour, while history is kept
    /// ([`super::Engine::keep_intervals`]).
    pub ledger: Option<Ledger>,
}

impl Floor {
    pub(super) fn new(org: &Organisation) -> Floor {
        let mut floor = Floor {
            nodes: vec![node(Scope::Centre, &org.centre.name, None)],
            sites: FxHashMap::default(),
            groups: FxHashMap::default(),
            teams: IdMap::default(),
            agents: IdMap::default(),
            queues: Vec::new(),
            queue_ids: IdMap::default(),
            default_settings: org.centre.service_level,
            configured: !org.sites.is_empty() || !org.queues.is_empty(),
            agent_names: FxHashMap::default(),
            agent_teams: FxHashMap::default(),
            ledger: None,
        };
        for site in &org.sites {
            let s = floor.push(Scope::Site(site.id.clone()), &site.name, Some(CENTRE));
            floor.sites.insert(site.id.clone(), s);
            for group in &site.groups {
                let g = floor.push(Scope::Group(group.id.clone()), &group.name, Some(s));
                floor.groups.insert(group.id.clone(), g);
                for team in &group.teams {
                    let t = floor.push(Scope::Team(team.id.clone()), &team.name, Some(g));
                    floor.teams.insert(&team.id, t);
                    for agent in &team.agents {
                        floor
                            .agent_names
                            .insert(agent.id().to_string(), agent.name().to_string());
                        floor
                            .agent_teams
                            .insert(agent.id().to_string(), team.id.clone());
                    }
                }
            }
        }
        for queue in &org.queues {
            let owner = queue.owner.as_ref().and_then(|o| o.parse::<Scope>().ok());
            let owner_idx = owner.and_then(|o| floor.index(&o));
            floor.add_queue(
                &queue.id,
                &queue.name,
                queue.owner.clone(),
                owner_idx,
                queue.service_level(&org.centre.service_level),
            );
        }
        floor
    }

    fn push(&mut self, scope: Scope, name: &str, parent: Option<ScopeIdx>) -> ScopeIdx {
        self.nodes.push(node(scope, name, parent));
        self.nodes.len() - 1
    }

    fn add_queue(
        &mut self,
        id: &str,
        name: &str,
        owner: Option<String>,
        owner_idx: Option<ScopeIdx>,
        settings: ServiceLevelSettings,
    ) -> QueueNo {
        let idx = self.push(
            Scope::Queue(id.to_string()),
            name,
            owner_idx.or(Some(CENTRE)),
        );
        let chain = self.chain(idx);
        self.queues.push(QueueInfo {
            id: id.to_string(),
            idx,
            owner,
            settings,
            unassigned: false,
            chain,
            waiting: BTreeSet::new(),
        });
        let no = self.queues.len() - 1;
        self.queue_ids.insert(id, no);
        no
    }

    /// The queue by id, added with the centre's default settings when first seen.
    pub(super) fn queue(&mut self, id: &str) -> QueueNo {
        match self.queue_ids.get(id) {
            Some(&no) => no,
            None => {
                let settings = self.default_settings;
                let no = self.add_queue(id, id, None, None, settings);
                // With no organisation configured (the quick start, a switch's files replayed)
                // every queue comes from events and is the floor's own.
                self.queues[no].unassigned = self.configured;
                no
            }
        }
    }

    /// The team's index, added under the centre when first seen.
    pub(super) fn team(&mut self, id: &str) -> ScopeIdx {
        if let Some(&t) = self.teams.get(id) {
            return t;
        }
        let t = self.push(Scope::Team(id.to_string()), id, Some(CENTRE));
        self.teams.insert(id, t);
        t
    }

    /// The agent's index, added when first seen (under its configured team, if any).
    /// Returns the index and whether it was new.
    pub(super) fn agent(&mut self, id: &str) -> (ScopeIdx, bool) {
        if let Some(&a) = self.agents.get(id) {
            return (a, false);
        }
        let team = self.agent_teams.get(id).cloned().map(|t| self.team(&t));
        let name = self
            .agent_names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string());
        let a = self.push(Scope::Agent(id.to_string()), &name, team.or(Some(CENTRE)));
        self.agents.insert(id, a);
        (a, true)
    }

    /// The scope and all its ancestors, nearest first; always ends with the centre.
    pub(super) fn chain(&self, idx: ScopeIdx) -> Chain {
        let mut chain = Chain::default();
        chain.push(idx);
        let mut at = idx;
        while let Some(parent) = self.nodes[at].parent {
            chain.push(parent);
            at = parent;
        }
        chain
    }

    /// Whether `inner` lies inside `outer` (or is it).
    pub(super) fn contains(&self, outer: ScopeIdx, inner: ScopeIdx) -> bool {
        let mut at = Some(inner);
        while let Some(i) = at {
            if i == outer {
                return true;
            }
            at = self.nodes[i].parent;
        }
        false
    }

    pub(super) fn index(&self, scope: &Scope) -> Option<ScopeIdx> {
        match scope {
            Scope::Centre => Some(CENTRE),
            Scope::Site(id) => self.sites.get(id).copied(),
            Scope::Group(id) => self.groups.get(id).copied(),
            Scope::Team(id) => self.teams.get(id).copied(),
            Scope::Queue(id) => self.queue_ids.get(id).map(|&q| self.queues[q].idx),
            Scope::Agent(id) => self.agents.get(id).copied(),
        }
    }

    /// Adds `c` to every scope of `chain`.
    pub(super) fn add(
        &mut self,
        chain: &Chain,
        minute: i64,
        oldest_minute: i64,
        in_day: bool,
        c: &Contribution,
    ) {
        for idx in chain.iter() {
            self.nodes[idx].tally.add(minute, oldest_minute, in_day, c);
        }
        if let Some(ledger) = &mut self.ledger {
            ledger.count(chain, minute, c);
        }
    }
}

fn node(scope: Scope, name: &str, parent: Option<ScopeIdx>) -> ScopeNode {
    ScopeNode {
        name: if name.is_empty() {
            scope.id().unwrap_or("centre").to_string()
        } else {
            name.to_string()
        },
        scope,
        parent,
        tally: ScopeTally::default(),
    }
}

/// Index into [`NotReadyReason::ALL`]; no reason counts as `other`.
pub(super) fn reason_index(reason: Option<NotReadyReason>) -> usize {
    let reason = reason.unwrap_or(NotReadyReason::Other);
    reason.index()
}
