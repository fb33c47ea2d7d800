//! What each role may do, and where: "a permission is a function on a subtree of the
//! organisation" (shared/DOMAIN.md, docs/SECURITY.md "Roles and scopes").
//!
//! [`Permission`] names the functions; [`Role::grants`] is the table of which role holds
//! which; [`check`] adds the subtree: the scope asked about must lie inside the user's
//! subtree, as the engine sees the floor now (an agent belongs to the team it is in now, a
//! queue to its owner, [`floorwatch_core::Engine::contains`]). Every HTTP endpoint and every
//! live subscription goes through [`check`] (via [`crate::http::identity::Identity::require`]), so
//! this file is the whole authorisation policy.

use floorwatch_core::Scope;

use crate::accounts::{Role, Subtree};

/// A function a user may be granted, always over a subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Permission {
    /// Floor figures of a scope: counts, service level, waits, agents by state (no names).
    ReadFigures,
    /// Per-agent data: agent lists and states, an agent's own figures. Not for the wall:
    /// "agent-level figures are for team leads, not for the public wall" (shared/DOMAIN.md).
    ReadAgents,
    /// History's reports of the scope (docs/HISTORY.md): past days, for the people who run the
    /// floor. Not for the wall, which shows the floor as it is now.
    ReadReports,
    /// Sign off a day of history for a site or the centre, and amend a signed-off day
    /// (docs/HISTORY.md, "Sign-off"): a manager's act.
    SignOff,
    /// Acknowledge an alert about the scope.
    AcknowledgeAlerts,
    /// Calls of a queue with their caller numbers masked (`accounts::mask_caller`).
    ReadCallers,
    /// One call's full caller number, with a stated reason; audited.
    Unmask,
    /// Download figures as a file; audited. Separate from reading ("no export without a
    /// separate permission", shared/DOMAIN.md).
    Export,
    /// The audit trail.
    ReadAudit,
    /// Send events (API tokens of ingest accounts only).
    Ingest,
}

#[cfg(test)]
/// Every permission, for tables and tests.
pub(crate) const PERMISSIONS: [Permission; 10] = [
    Permission::ReadFigures,
    Permission::ReadAgents,
    Permission::ReadReports,
    Permission::SignOff,
    Permission::AcknowledgeAlerts,
    Permission::ReadCallers,
    Permission::Unmask,
    Permission::Export,
    Permission::ReadAudit,
    Permission::Ingest,
];

impl Permission {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Permission::ReadFigures => "read figures",
            Permission::ReadAgents => "read agent data",
            Permission::ReadReports => "read reports",
            Permission::SignOff => "sign off days",
            Permission::AcknowledgeAlerts => "acknowledge alerts",
            Permission::ReadCallers => "read calls",
            Permission::Unmask => "unmask caller numbers",
            Permission::Export => "export",
            Permission::ReadAudit => "read the audit trail",
            Permission::Ingest => "send events",
        }
    }
}

/// What a role may do: the table of docs/SECURITY.md ("What each role may do").
pub(crate) trait Grants {
    fn grants(self, permission: Permission) -> bool;
}

impl Grants for Role {
    /// Admins operate everything but ingest (a switch gets its own account); a security
    /// officer reads the audit trail and operates nothing; a wall display reads floor figures
    /// and nothing personal.
    fn grants(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => permission != Ingest,
            Role::Manager => matches!(
                permission,
                ReadFigures
                    | ReadAgents
                    | ReadReports
                    | SignOff
                    | AcknowledgeAlerts
                    | ReadCallers
                    | Unmask
                    | Export
            ),
            Role::Supervisor => matches!(
                permission,
                ReadFigures | ReadAgents | ReadReports | AcknowledgeAlerts | ReadCallers | Unmask
            ),
            Role::TeamLead => matches!(
                permission,
                ReadFigures | ReadAgents | ReadReports | AcknowledgeAlerts | ReadCallers
            ),
            Role::WallDisplay => permission == ReadFigures,
            Role::SecurityOfficer => permission == ReadAudit,
            Role::Ingest => permission == Ingest,
        }
    }
}

/// Why a permission was refused. The text is the HTTP error body: it names what was asked and
/// why, but never what lies outside the user's subtree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Denied {
    #[error("a {role} may not {permission}")]
    Role {
        role: Role,
        permission: &'static str,
    },
    #[error("`{scope}` is outside your scope `{subtree}`")]
    OutsideSubtree { scope: Scope, subtree: Subtree },
}

/// Whether a user of `role` over `subtree` may use `permission` at `scope`. `contains` answers
/// whether a scope lies inside another (`Engine::contains`: `None` when either is unknown).
///
/// A scope the engine does not know is refused for everyone below the centre, with the same
/// words as a known scope outside the subtree, so a team lead cannot probe which teams exist.
/// For a centre-wide user it is allowed here, and the endpoint answers 404.
pub(crate) fn check(
    role: Role,
    subtree: &Subtree,
    permission: Permission,
    scope: &Scope,
    contains: impl FnOnce(&Scope, &Scope) -> Option<bool>,
) -> Result<(), Denied> {
    if !role.grants(permission) {
        return Err(Denied::Role {
            role,
            permission: permission.as_str(),
        });
    }
    let inside = match subtree {
        Subtree::Centre => true,
        _ => contains(&subtree.root(), scope) == Some(true),
    };
    if inside {
        Ok(())
    } else {
        Err(Denied::OutsideSubtree {
            scope: scope.clone(),
            subtree: subtree.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use floorwatch_core::role::ROLES;

    /// A tiny floor: site north > group g1 > team t1 (agent a1) and team t2 (agent a2); queue
    /// billing owned by team t1, queue sales owned by nobody (the centre).
    fn contains(outer: &Scope, inner: &Scope) -> Option<bool> {
        let parent = |s: &Scope| -> Option<Scope> {
            Some(match s {
                Scope::Centre => return None,
                Scope::Site(_) => Scope::Centre,
                Scope::Group(_) => Scope::Site("north".into()),
                Scope::Team(_) => Scope::Group("g1".into()),
                Scope::Agent(a) if a == "a1" => Scope::Team("t1".into()),
                Scope::Agent(_) => Scope::Team("t2".into()),
                Scope::Queue(q) if q == "billing" => Scope::Team("t1".into()),
                Scope::Queue(_) => Scope::Centre,
            })
        };
        let known = |s: &Scope| match s {
            Scope::Centre => true,
            Scope::Site(id) => id == "north",
            Scope::Group(id) => id == "g1",
            Scope::Team(id) => id == "t1" || id == "t2",
            Scope::Agent(id) => id == "a1" || id == "a2",
            Scope::Queue(id) => id == "billing" || id == "sales",
        };
        if !known(outer) || !known(inner) {
            return None;
        }
        let mut at = Some(inner.clone());
        while let Some(s) = at {
            if &s == outer {
                return Some(true);
            }
            at = parent(&s);
        }
        Some(false)
    }

    fn scope(s: &str) -> Scope {
        s.parse().unwrap()
    }

    #[test]
    fn a_team_lead_reads_their_team_its_agents_and_queues_only() {
        let t1 = Subtree::Team("t1".into());
        let ok = |p, s: &str| check(Role::TeamLead, &t1, p, &scope(s), contains).is_ok();
        assert!(ok(Permission::ReadFigures, "team:t1"));
        assert!(ok(Permission::ReadAgents, "agent:a1"));
        assert!(ok(Permission::ReadFigures, "queue:billing"));
        assert!(!ok(Permission::ReadFigures, "team:t2"));
        assert!(!ok(Permission::ReadAgents, "agent:a2"));
        assert!(!ok(Permission::ReadFigures, "queue:sales"));
        assert!(!ok(Permission::ReadFigures, "group:g1"));
        assert!(!ok(Permission::ReadFigures, "centre"));
        assert!(!ok(Permission::Unmask, "queue:billing"));
        let unknown = check(
            Role::TeamLead,
            &t1,
            Permission::ReadFigures,
            &scope("team:nope"),
            contains,
        )
        .unwrap_err();
        let outside = check(
            Role::TeamLead,
            &t1,
            Permission::ReadFigures,
            &scope("team:t2"),
            contains,
        )
        .unwrap_err();
        assert_eq!(
            unknown.to_string().replace("nope", "X"),
            outside.to_string().replace("t2", "X")
        );
    }

    #[test]
    fn a_wall_display_reads_floor_figures_and_nothing_personal() {
        let centre = Subtree::Centre;
        for p in PERMISSIONS {
            let allowed = check(Role::WallDisplay, &centre, p, &Scope::Centre, contains).is_ok();
            assert_eq!(allowed, p == Permission::ReadFigures, "{p:?}");
        }
    }

    #[test]
    fn only_admins_and_security_officers_read_the_audit_trail_and_only_ingest_sends() {
        for role in ROLES {
            let audit = role.grants(Permission::ReadAudit);
            assert_eq!(
                audit,
                matches!(role, Role::Admin | Role::SecurityOfficer),
                "{role}"
            );
            assert_eq!(
                role.grants(Permission::Ingest),
                role == Role::Ingest,
                "{role}"
            );
        }
        assert!(!Role::SecurityOfficer.grants(Permission::ReadFigures));
    }

    #[test]
    fn export_is_separate_from_reading() {
        for role in [Role::Supervisor, Role::TeamLead] {
            assert!(role.grants(Permission::ReadAgents));
            assert!(!role.grants(Permission::Export), "{role}");
        }
        assert!(Role::Manager.grants(Permission::Export));
    }

    #[test]
    fn a_site_manager_sees_inside_the_site_and_a_centre_user_is_left_to_the_endpoint() {
        let north = Subtree::Site("north".into());
        let ok = |s: &str| {
            check(
                Role::Manager,
                &north,
                Permission::ReadFigures,
                &scope(s),
                contains,
            )
            .is_ok()
        };
        assert!(ok("site:north") && ok("team:t2") && ok("agent:a2"));
        assert!(!ok("centre") && !ok("queue:sales") && !ok("site:south"));
        assert!(
            check(
                Role::Admin,
                &Subtree::Centre,
                Permission::ReadFigures,
                &scope("team:nope"),
                contains
            )
            .is_ok()
        );
    }
}
