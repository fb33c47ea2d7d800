//! [`Principal`]: who is asking, once a password, token, session or device credential was
//! accepted, as the accounts say now.

use super::Role;
use super::role::Subtree;
use super::store::User;

/// Who is asking, once a password, token or session was accepted: the user, what they may do
/// and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Principal {
    pub(crate) user: String,
    pub(crate) role: Role,
    pub(crate) subtree: Subtree,
    pub(crate) credential: Credential,
}

/// How the principal proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Credential {
    Password,
    /// An API token, by its public id.
    Token {
        id: String,
    },
    /// Looked up by name for a session that was opened with a password earlier.
    Session,
    /// A paired screen's device credential; the principal's `user` is the device's name.
    Device,
}

impl Principal {
    /// The actor name for audit records: the user, `token:ID (user)` for a token, or
    /// `device:NAME` for a paired screen (device names are not user names).
    pub(crate) fn actor(&self) -> String {
        match &self.credential {
            Credential::Token { id } => format!("token:{id} ({})", self.user),
            Credential::Device => format!("device:{}", self.user),
            Credential::Password | Credential::Session => self.user.clone(),
        }
    }

    /// Whether this is a paired screen rather than a person or a script.
    pub(crate) fn is_device(&self) -> bool {
        self.credential == Credential::Device
    }
}

pub(super) fn principal(user: &User, credential: Credential) -> Principal {
    Principal {
        user: user.name.clone(),
        role: user.role,
        subtree: user.scope.clone(),
        credential,
    }
}
