//! The roles of the people and devices that use Floorwatch (docs/SECURITY.md, "Roles and
//! scopes"). One list for both ends: the server decides what each role may do over its subtree
//! (`server/src/permission.rs`), the wallboard shows each role the views it may open.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a user may do; where is their subtree of the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including accounts; the whole centre.
    Admin,
    /// A site or the whole centre: every figure, agent and queue in it.
    Manager,
    /// The duty lead of a site, group or the centre.
    Supervisor,
    /// One team: its agents and the queues it owns.
    TeamLead,
    /// A read-only device account (the TV on the wall): floor figures only, no per-agent or
    /// caller data.
    WallDisplay,
    /// Reads the audit trail, operates nothing.
    SecurityOfficer,
    /// Sends events; signs in with API tokens only, never with a password.
    Ingest,
}

/// Every role, in the order `--help` and errors list them.
pub const ROLES: [Role; 7] = [
    Role::Admin,
    Role::Manager,
    Role::Supervisor,
    Role::TeamLead,
    Role::WallDisplay,
    Role::SecurityOfficer,
    Role::Ingest,
];

impl Role {
    /// The name stored in `accounts.json` and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Supervisor => "supervisor",
            Role::TeamLead => "team_lead",
            Role::WallDisplay => "wall_display",
            Role::SecurityOfficer => "security_officer",
            Role::Ingest => "ingest",
        }
    }

    /// The role named `name`; `team-lead` reads as `team_lead`.
    pub fn parse(name: &str) -> Option<Role> {
        let wanted = name.trim().replace('-', "_");
        ROLES.into_iter().find(|r| r.as_str() == wanted)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        Role::parse(s).ok_or_else(|| {
            let names: Vec<_> = ROLES.iter().map(|r| r.as_str()).collect();
            format!("unknown role `{s}`: expected one of {}", names.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_with_underscores_or_dashes_and_print_as_stored() {
        for role in ROLES {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(
                serde_json::to_string(&role).unwrap(),
                format!("\"{}\"", role.as_str())
            );
        }
        assert_eq!("team-lead".parse::<Role>(), Ok(Role::TeamLead));
        let err = "boss".parse::<Role>().unwrap_err();
        assert!(err.contains("security_officer"), "{err}");
    }
}
