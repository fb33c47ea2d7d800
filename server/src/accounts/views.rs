//! Accounts as they are listed and asked for: users, tokens and paired screens without their
//! secrets, and the new user or screen a change is asked to add.

use super::role::Subtree;
use super::store::{ShiftEnd, StoredDevice, StoredToken};
use super::{Password, Role};

/// A paired screen as listed: everything but its credential's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeviceSummary {
    pub(crate) name: String,
    pub(crate) role: Role,
    pub(crate) subtree: Subtree,
    pub(crate) created: jiff::Timestamp,
    pub(crate) revoked: Option<jiff::Timestamp>,
}

impl From<&StoredDevice> for DeviceSummary {
    fn from(d: &StoredDevice) -> DeviceSummary {
        DeviceSummary {
            name: d.name.clone(),
            role: d.role,
            subtree: d.scope.clone(),
            created: d.created,
            revoked: d.revoked,
        }
    }
}

/// A screen to pair ([`Accounts::add_device`]).
#[derive(Debug, Clone)]
pub(crate) struct NewDevice {
    pub(crate) name: String,
    pub(crate) role: Role,
    /// `None`: the role's default ([`Role::default_subtree`]).
    pub(crate) subtree: Option<Subtree>,
}

/// Whether a screen may hold `role`: roles that read the floor, never one that administers,
/// audits or sends events. A device credential lives on an unattended screen for months, so
/// whatever its role, it only ever reads (see `Identity::require`).
pub(crate) fn device_role_allowed(role: Role) -> bool {
    matches!(
        role,
        Role::WallDisplay | Role::TeamLead | Role::Supervisor | Role::Manager
    )
}

/// A user as listed: everything but the password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserSummary {
    pub(crate) name: String,
    pub(crate) role: Role,
    pub(crate) subtree: Subtree,
    pub(crate) disabled: bool,
    pub(crate) has_password: bool,
    pub(crate) active_tokens: usize,
    pub(crate) created: jiff::Timestamp,
    /// When the user's sessions end each day, in the centre's time zone.
    pub(crate) shift_end: Option<ShiftEnd>,
}

/// A token as listed: everything but its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenSummary {
    pub(crate) id: String,
    pub(crate) user: String,
    pub(crate) label: String,
    pub(crate) created: jiff::Timestamp,
    pub(crate) revoked: Option<jiff::Timestamp>,
}

impl From<&StoredToken> for TokenSummary {
    fn from(t: &StoredToken) -> TokenSummary {
        TokenSummary {
            id: t.id.clone(),
            user: t.user.clone(),
            label: t.label.clone(),
            created: t.created,
            revoked: t.revoked,
        }
    }
}

/// A new account for [`Accounts::add_user`].
#[derive(Debug, Clone)]
pub(crate) struct NewUser {
    pub(crate) name: String,
    pub(crate) role: Role,
    /// `None`: the role's default ([`Role::default_subtree`]).
    pub(crate) subtree: Option<Subtree>,
    /// Required for every role but ingest, refused for ingest (tokens only).
    pub(crate) password: Option<Password>,
}
