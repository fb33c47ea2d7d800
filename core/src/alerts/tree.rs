//! Where a scope hangs in the organisation, for two questions: which subscribers may see an
//! alert (a team lead sees their team's alerts only: the alert's scope and its ancestors), and
//! which queues and agents count in a scope for the built-in kinds (docs/METRICS.md, "Scopes":
//! a queue counts in its owner's chain, an agent in its team's).
//!
//! The configured tree comes from the [`Organisation`]; an agent's team is the one the engine
//! knows now (configured, or seen in `agent_login` / `agent_team`); teams and queues first seen
//! in events hang directly under the centre, as in the engine.

use std::collections::HashMap;

use crate::engine::Engine;
use crate::org::Organisation;
use crate::scope::Scope;

#[derive(Debug, Clone, Default)]
pub(crate) struct OrgTree {
    team_group: HashMap<String, String>,
    group_site: HashMap<String, String>,
    queue_owner: HashMap<String, Scope>,
}

impl OrgTree {
    pub(super) fn new(org: &Organisation) -> OrgTree {
        let mut tree = OrgTree::default();
        for site in &org.sites {
            for group in &site.groups {
                tree.group_site.insert(group.id.clone(), site.id.clone());
                for team in &group.teams {
                    tree.team_group.insert(team.id.clone(), group.id.clone());
                }
            }
        }
        for queue in &org.queues {
            if let Some(owner) = queue.owner.as_ref().and_then(|o| o.parse().ok()) {
                tree.queue_owner.insert(queue.id.clone(), owner);
            }
        }
        tree
    }

    /// `scope` and every scope above it, nearest first, ending with the centre.
    pub(super) fn chain(&self, scope: &Scope, engine: &Engine) -> Vec<Scope> {
        let mut chain = vec![scope.clone()];
        let mut at = self.parent(scope, engine);
        while let Some(parent) = at {
            at = self.parent(&parent, engine);
            chain.push(parent);
        }
        chain
    }

    fn parent(&self, scope: &Scope, engine: &Engine) -> Option<Scope> {
        let up = match scope {
            Scope::Centre => return None,
            Scope::Site(_) => None,
            Scope::Group(id) => self.group_site.get(id).cloned().map(Scope::Site),
            Scope::Team(id) => self.team_group.get(id).cloned().map(Scope::Group),
            Scope::Queue(id) => self.queue_owner.get(id).cloned(),
            Scope::Agent(id) => engine.agent_view(id).and_then(|a| a.team).map(Scope::Team),
        };
        Some(up.unwrap_or(Scope::Centre))
    }
}
