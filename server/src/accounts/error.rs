//! Why an accounts operation or a password login was refused.

use super::store::StoreError;
use super::{Role, password, token};
use crate::audit::AuditError;

/// Longest user name, in characters.
pub(crate) const MAX_NAME_CHARS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub(crate) enum AccountsError {
    #[error("accounts: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Audit(#[from] AuditError),
    #[error(
        "the change was undone because it could not be written to the audit trail ({audit}); \
         restoring the previous accounts also failed: {restore}"
    )]
    Unrestored {
        audit: AuditError,
        restore: StoreError,
    },
    #[error("{0}")]
    Hash(#[from] password::HashError),
    #[error("{0}")]
    Random(#[from] token::RandomError),
    #[error(
        "`{0}` is not a valid user name: use 1 to {MAX_NAME_CHARS} lowercase letters, digits \
         and . _ - @, starting with a letter or digit"
    )]
    BadName(String),
    #[error("there is already a user `{0}`")]
    UserExists(String),
    #[error("no user `{0}` (see `floorwatch user list`)")]
    UnknownUser(String),
    #[error("user `{0}` is disabled")]
    Disabled(String),
    #[error("user `{0}` is not disabled")]
    NotDisabled(String),
    #[error("the shift end of `{name}` cannot be placed in time: {reason}")]
    ShiftTime { name: String, reason: String },
    #[error("{0}")]
    BadScope(String),
    #[error("a {0} account signs in with API tokens only: give it no password")]
    TokenOnly(Role),
    #[error("a {0} account needs a password")]
    NeedsPassword(Role),
    #[error("no token `{0}` (see `floorwatch token list`)")]
    UnknownToken(String),
    #[error("token `{0}` was already revoked")]
    AlreadyRevoked(String),
    #[error("a screen may be paired as wall_display, team_lead, supervisor or manager, not {0}")]
    DeviceRole(Role),
    #[error("there is already a paired screen `{0}` (revoke it first, or choose another name)")]
    DeviceExists(String),
    #[error("no paired screen `{0}` (see `floorwatch device list`)")]
    UnknownDevice(String),
}

/// Why a password login was refused. The client is told only "wrong name or password"; the
/// reason goes to the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LoginRefusal {
    #[error("unknown user")]
    UnknownUser,
    #[error("wrong password")]
    WrongPassword,
    #[error("account disabled")]
    Disabled,
    #[error("the account signs in with tokens only")]
    TokenOnly,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum LoginError {
    #[error("{0}")]
    Refused(LoginRefusal),
    #[error("{0}")]
    Accounts(#[from] AccountsError),
}
