//! Accounts: who may sign in, with which [`Role`] over which [`Subtree`] of the organisation,
//! and the API tokens that act for them (docs/SECURITY.md).
//!
//! [`Accounts`] is the one door to `accounts.json`: it answers "who is this?" for a password
//! ([`Accounts::authenticate_password`]), a bearer token ([`Accounts::authenticate_token`]) or
//! a session's user name ([`Accounts::principal`]), re-reading the file when the command line
//! changed it; and it makes every change (user add, passwd, disable, enable, shift end, token
//! create, revoke, device pair and revoke) together with its audit record, so no change goes
//! unrecorded.
//!
//! The login policy ([`login`]: lock-out, per-address rate limit), sessions ([`session`]:
//! idle time-out, shift end) and caller-number masking ([`caller`]) are pure, clock-injected
//! types the server holds in memory.

mod cache;
pub(crate) mod caller;
mod changes;
mod error;
pub(crate) mod login;
pub(crate) mod pairing;
pub(crate) mod password;
mod principal;
mod reads;
pub(crate) mod role;
pub(crate) mod session;
pub(crate) mod session_file;
pub(crate) mod shared;
pub(crate) mod store;
pub(crate) mod token;
mod views;

pub(crate) use caller::{CallerNumber, mask_caller};
pub(crate) use login::{LoginGuard, LoginPolicy, Refusal};
pub(crate) use password::Password;
pub(crate) use role::{Role, RoleSubtrees, Subtree};
pub(crate) use session::{SessionPolicy, Sessions};
pub(crate) use token::Secret;

pub(crate) use cache::Accounts;
pub(crate) use changes::check_new_user;
pub(crate) use error::{AccountsError, LoginError, LoginRefusal};
pub(crate) use principal::{Credential, Principal};
pub(crate) use shared::SharedBook;
pub(crate) use store::ShiftEnd;
pub(crate) use views::{
    DeviceSummary, NewDevice, NewUser, TokenSummary, UserSummary, device_role_allowed,
};

#[cfg(test)]
mod tests;
