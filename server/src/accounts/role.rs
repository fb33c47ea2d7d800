//! Roles and the subtree of the organisation each one is granted: "a permission is a function
//! on a subtree" (docs/SECURITY.md). The role says what a user may do; the subtree says where.

use std::fmt;
use std::str::FromStr;

use floorwatch_core::Scope;
use floorwatch_core::org::Organisation;

pub(crate) use floorwatch_core::role::Role;

/// The server's side of a role: which subtrees it may be granted and how it signs in (the list
/// of roles itself is in core, shared with the wallboard).
pub(crate) trait RoleSubtrees {
    /// The subtree a new user of this role gets when none is given; `None` when the role
    /// needs one named (a team lead leads one particular team).
    fn default_subtree(self) -> Option<Subtree>;
    /// Whether this role may be granted `subtree`.
    fn admits(self, subtree: &Subtree) -> Result<(), String>;
    /// Whether users of this role sign in with a password (everyone but ingest accounts,
    /// which use API tokens only).
    fn signs_in_with_password(self) -> bool;
}

impl RoleSubtrees for Role {
    fn default_subtree(self) -> Option<Subtree> {
        match self {
            Role::TeamLead => None,
            _ => Some(Subtree::Centre),
        }
    }

    /// Whether this role may be granted `subtree`: admins, security officers and ingest
    /// accounts act for the whole centre; a manager holds a site or the centre; a team lead
    /// holds one team; a supervisor or a wall display may hold any subtree.
    fn admits(self, subtree: &Subtree) -> Result<(), String> {
        let ok = match self {
            Role::Admin | Role::SecurityOfficer | Role::Ingest => {
                matches!(subtree, Subtree::Centre)
            }
            Role::Manager => matches!(subtree, Subtree::Centre | Subtree::Site(_)),
            Role::TeamLead => matches!(subtree, Subtree::Team(_)),
            Role::Supervisor | Role::WallDisplay => true,
        };
        if ok {
            Ok(())
        } else {
            let allowed = match self {
                Role::Admin | Role::SecurityOfficer | Role::Ingest => "centre",
                Role::Manager => "centre or site:ID",
                Role::TeamLead => "team:ID",
                Role::Supervisor | Role::WallDisplay => "any subtree",
            };
            Err(format!("a {self} may hold {allowed}, not `{subtree}`"))
        }
    }

    fn signs_in_with_password(self) -> bool {
        self != Role::Ingest
    }
}

/// A subtree of the organisation: the centre, or a site, group or team with everything below
/// it. Queues and agents are not subtrees: they are reached through the node that owns them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Subtree {
    Centre,
    Site(String),
    Group(String),
    Team(String),
}

impl Subtree {
    /// The scope of the subtree's root, as figures and subscriptions name it.
    pub(crate) fn root(&self) -> Scope {
        match self {
            Subtree::Centre => Scope::Centre,
            Subtree::Site(id) => Scope::Site(id.clone()),
            Subtree::Group(id) => Scope::Group(id.clone()),
            Subtree::Team(id) => Scope::Team(id.clone()),
        }
    }

    /// Whether the node exists in `org` (the `--config` file's tree).
    pub(crate) fn exists_in(&self, org: &Organisation) -> bool {
        let groups = || org.sites.iter().flat_map(|s| &s.groups);
        match self {
            Subtree::Centre => true,
            Subtree::Site(id) => org.sites.iter().any(|s| &s.id == id),
            Subtree::Group(id) => groups().any(|g| &g.id == id),
            Subtree::Team(id) => groups().flat_map(|g| &g.teams).any(|t| &t.id == id),
        }
    }
}

impl fmt::Display for Subtree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.root().fmt(f)
    }
}

impl FromStr for Subtree {
    type Err = String;

    fn from_str(s: &str) -> Result<Subtree, String> {
        let scope: Scope = s.trim().parse().map_err(|_| {
            format!("unknown scope `{s}`: expected centre, site:ID, group:ID or team:ID")
        })?;
        match scope {
            Scope::Centre => Ok(Subtree::Centre),
            Scope::Site(id) => Ok(Subtree::Site(id)),
            Scope::Group(id) => Ok(Subtree::Group(id)),
            Scope::Team(id) => Ok(Subtree::Team(id)),
            Scope::Queue(_) | Scope::Agent(_) => Err(format!(
                "`{s}` is not a subtree of the organisation: grant the centre, a site, a \
                 group or a team (queues and agents are reached through their owner)"
            )),
        }
    }
}

floorwatch_core::serde_via_str!(Subtree);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtrees_are_tree_nodes_only() {
        assert_eq!("centre".parse::<Subtree>(), Ok(Subtree::Centre));
        assert_eq!("team:t1".parse::<Subtree>(), Ok(Subtree::Team("t1".into())));
        assert_eq!(Subtree::Site("north".into()).to_string(), "site:north");
        assert!(
            "queue:billing"
                .parse::<Subtree>()
                .unwrap_err()
                .contains("not a subtree")
        );
        assert!("agent:a1".parse::<Subtree>().is_err());
        assert!("site:".parse::<Subtree>().is_err());
    }

    #[test]
    fn each_role_holds_only_the_subtrees_it_may() {
        let site = Subtree::Site("north".into());
        let team = Subtree::Team("t1".into());
        assert!(Role::Admin.admits(&Subtree::Centre).is_ok());
        assert!(Role::Admin.admits(&site).is_err());
        assert!(Role::Manager.admits(&site).is_ok());
        assert!(Role::Manager.admits(&team).is_err());
        assert!(Role::TeamLead.admits(&team).is_ok());
        let err = Role::TeamLead.admits(&Subtree::Centre).unwrap_err();
        assert!(err.contains("team:ID"), "{err}");
        assert!(
            Role::Supervisor
                .admits(&Subtree::Group("g1".into()))
                .is_ok()
        );
        assert!(Role::WallDisplay.admits(&site).is_ok());
        assert!(Role::SecurityOfficer.admits(&site).is_err());
        assert_eq!(Role::TeamLead.default_subtree(), None);
        assert_eq!(Role::Manager.default_subtree(), Some(Subtree::Centre));
        assert!(!Role::Ingest.signs_in_with_password());
    }

    #[test]
    fn subtrees_are_checked_against_the_configured_tree() {
        let org: Organisation = toml::from_str(
            r#"
            [[sites]]
            id = "north"
            [[sites.groups]]
            id = "g1"
            [[sites.groups.teams]]
            id = "t1"
            "#,
        )
        .unwrap();
        for known in ["centre", "site:north", "group:g1", "team:t1"] {
            assert!(known.parse::<Subtree>().unwrap().exists_in(&org), "{known}");
        }
        for unknown in ["site:south", "group:g9", "team:t9"] {
            assert!(
                !unknown.parse::<Subtree>().unwrap().exists_in(&org),
                "{unknown}"
            );
        }
    }
}
