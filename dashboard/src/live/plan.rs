//! What each view subscribes to, widened as the first snapshot names queues and teams.

use std::collections::BTreeSet;

use floorwatch_core::wire::{Subscribe, Subscription};
use floorwatch_core::{AgentView, QueueView, Scope, Window};

use crate::route::View;

/// What each view subscribes to. The wall never asks for agents: no per-agent data reaches the
/// TV at all. The supervisor view asks for every queue and team it has heard of, so the first
/// snapshot (which lists the queues and the agents, hence the teams) is followed by one wider
/// subscription. Everything starts from the root of the user's subtree: the server lists only
/// the queues and agents inside it, so nothing outside it is ever asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The view shown.
    pub view: View,
    /// The window chosen.
    pub window: Window,
    /// The root of the signed-in user's subtree (`SessionInfo::scope`).
    pub root: Scope,
    /// The wall's scope (the root by default).
    pub wall_scope: Scope,
    /// The wall shows every queue too: it rotates through them, or lays them all out
    /// (`layout=queues`).
    pub every_queue: bool,
}

impl Plan {
    /// The subscription for the queues and teams heard of so far.
    pub fn subscribe(&self, queues: &[QueueView], teams: &BTreeSet<String>) -> Subscribe {
        let mut subs: BTreeSet<Subscription> = BTreeSet::new();
        let queue_scopes = queues.iter().map(|q| Scope::Queue(q.id.clone()));
        match self.view {
            // An admin reading the audit trail or pairing screens keeps the wall's feed: no
            // agents.
            View::Wall | View::Audit | View::Devices => {
                subs.insert(Subscription::Figures(self.wall_scope.clone()));
                if self.every_queue {
                    subs.insert(Subscription::Figures(self.root.clone()));
                    subs.extend(queue_scopes.map(Subscription::Figures));
                }
            }
            View::Supervisor => {
                subs.insert(Subscription::Figures(self.root.clone()));
                subs.extend(queue_scopes.map(Subscription::Figures));
                subs.extend(
                    teams
                        .iter()
                        .map(|t| Subscription::Figures(Scope::Team(t.clone())))
                        .filter(|s| *s != Subscription::Figures(self.root.clone())),
                );
                subs.insert(Subscription::Agents(self.root.clone()));
            }
        }
        let mut windows = vec![self.window];
        if self.window != Window::Today {
            windows.push(Window::Today);
        }
        Subscribe {
            subscribe: subs.into_iter().collect(),
            windows,
        }
    }
}

/// The teams the agents belong to.
pub fn teams_of<'a>(agents: impl IntoIterator<Item = &'a AgentView>) -> BTreeSet<String> {
    agents.into_iter().filter_map(|a| a.team.clone()).collect()
}
