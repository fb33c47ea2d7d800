//! Which parts of the configured organisation a digest recipient's scope covers: the sites and
//! queues whose figures its digest carries, and nothing outside them (docs/SECURITY.md, "The
//! morning digest").
//!
//! A queue belongs to the node its `owner` names (docs/METRICS.md, "Scopes"), exactly as the
//! engine's access checks place it; a queue without an owner counts for the centre only, so
//! only a centre recipient sees it.

use floorwatch_core::{Organisation, Scope};

/// A row of a digest: a scope and its display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) scope: Scope,
    pub(crate) name: String,
}

/// Whether `scope` names the centre or a configured site, group, team or queue.
pub(crate) fn known(org: &Organisation, scope: &Scope) -> bool {
    match scope {
        Scope::Centre => true,
        Scope::Queue(id) => org.queues.iter().any(|q| &q.id == id),
        Scope::Agent(_) => false,
        node => !nodes_under(org, node).is_empty(),
    }
}

/// The rows of `scope`'s digest: the scope itself, then each site inside it (a centre
/// recipient's), then each queue inside it, in configuration order.
pub(crate) fn parts(org: &Organisation, scope: &Scope) -> Vec<Part> {
    let named = |scope: Scope, name: &str| {
        let name = if name.is_empty() {
            scope.id().unwrap_or("centre").to_string()
        } else {
            name.to_string()
        };
        Part { scope, name }
    };
    let mut out = Vec::new();
    match scope {
        Scope::Centre => {
            let name = if org.centre.name.is_empty() {
                "Centre"
            } else {
                &org.centre.name
            };
            out.push(named(Scope::Centre, name));
            for site in &org.sites {
                out.push(named(Scope::Site(site.id.clone()), &site.name));
            }
        }
        Scope::Queue(_) => {}
        node => {
            let name = node_name(org, node).unwrap_or_default();
            out.push(named(node.clone(), &name));
        }
    }
    let nodes = nodes_under(org, scope);
    for queue in &org.queues {
        let inside = match scope {
            Scope::Centre => true,
            Scope::Queue(id) => &queue.id == id,
            _ => queue
                .owner
                .as_deref()
                .and_then(|o| o.parse::<Scope>().ok())
                .is_some_and(|owner| nodes.contains(&owner)),
        };
        if inside {
            out.push(named(Scope::Queue(queue.id.clone()), &queue.name));
        }
    }
    out
}

/// The tree nodes at or below `node` (empty when it is not configured).
fn nodes_under(org: &Organisation, node: &Scope) -> Vec<Scope> {
    let mut out = Vec::new();
    for site in &org.sites {
        let site_in = matches!(node, Scope::Site(id) if *id == site.id);
        if site_in {
            out.push(Scope::Site(site.id.clone()));
        }
        for group in &site.groups {
            let group_in = site_in || matches!(node, Scope::Group(id) if *id == group.id);
            if group_in {
                out.push(Scope::Group(group.id.clone()));
            }
            for team in &group.teams {
                if group_in || matches!(node, Scope::Team(id) if *id == team.id) {
                    out.push(Scope::Team(team.id.clone()));
                }
            }
        }
    }
    out
}

fn node_name(org: &Organisation, node: &Scope) -> Option<String> {
    for site in &org.sites {
        if matches!(node, Scope::Site(id) if *id == site.id) {
            return Some(site.name.clone());
        }
        for group in &site.groups {
            if matches!(node, Scope::Group(id) if *id == group.id) {
                return Some(group.name.clone());
            }
            for team in &group.teams {
                if matches!(node, Scope::Team(id) if *id == team.id) {
                    return Some(team.name.clone());
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_sees_its_own_queues_and_no_other_site() {
        let org: Organisation = toml::from_str(
            r#"
            [[sites]]
            id = "north"
            name = "North"
            [[sites.groups]]
            id = "ng"
            [[sites.groups.teams]]
            id = "nt"
            [[sites]]
            id = "south"
            [[queues]]
            id = "nq"
            owner = "team:nt"
            [[queues]]
            id = "sq"
            owner = "site:south"
            [[queues]]
            id = "central"
            "#,
        )
        .unwrap();
        let scopes = |s: &str| -> Vec<String> {
            parts(&org, &s.parse().unwrap())
                .into_iter()
                .map(|p| p.scope.to_string())
                .collect()
        };
        assert_eq!(scopes("site:north"), ["site:north", "queue:nq"]);
        assert_eq!(scopes("site:south"), ["site:south", "queue:sq"]);
        assert_eq!(scopes("team:nt"), ["team:nt", "queue:nq"]);
        assert_eq!(scopes("queue:sq"), ["queue:sq"]);
        assert_eq!(
            scopes("centre"),
            [
                "centre",
                "site:north",
                "site:south",
                "queue:nq",
                "queue:sq",
                "queue:central"
            ]
        );
        assert_eq!(parts(&org, &"site:north".parse().unwrap())[0].name, "North");
        assert!(known(&org, &"group:ng".parse().unwrap()));
        assert!(!known(&org, &"site:west".parse().unwrap()));
        assert!(!known(&org, &"queue:west".parse().unwrap()));
    }
}
