//! What the accounts answer: the users, tokens and screens listed, and who a password, token,
//! session user or device credential is.

use super::cache::Accounts;
use super::principal::principal;
use super::role::Subtree;
use super::token::constant_time_eq;
use super::{
    AccountsError, Credential, DeviceSummary, LoginError, LoginRefusal, NewDevice, Password,
    Principal, TokenSummary, UserSummary, token,
};
use super::{check_new_user, device_role_allowed, password};

impl Accounts {
    /// Every user, by name, without password hashes.
    pub(crate) fn users(&self) -> Result<Vec<UserSummary>, AccountsError> {
        let book = self.book()?;
        Ok(book
            .users
            .iter()
            .map(|u| UserSummary {
                name: u.name.clone(),
                role: u.role,
                subtree: u.scope.clone(),
                disabled: u.disabled,
                has_password: u.password.is_some(),
                active_tokens: book
                    .tokens
                    .iter()
                    .filter(|t| t.user == u.name && t.revoked.is_none())
                    .count(),
                created: u.created,
                shift_end: u.shift_end,
            })
            .collect())
    }

    /// Every token ever created, revoked ones included, without hashes.
    pub(crate) fn tokens(&self) -> Result<Vec<TokenSummary>, AccountsError> {
        Ok(self.book()?.tokens.iter().map(TokenSummary::from).collect())
    }

    /// The principal of an enabled user, by name: what a session re-reads on each request, so
    /// that disabling a user or changing their role takes effect at once.
    pub(crate) fn principal(&self, name: &str) -> Result<Option<Principal>, AccountsError> {
        let book = self.book()?;
        Ok(book
            .user(name)
            .filter(|u| !u.disabled)
            .map(|u| principal(u, Credential::Session)))
    }

    /// Checks a name and password. Costs one Argon2 verification whatever the outcome
    /// (unknown names are checked against a decoy), so the time taken does not say which names
    /// exist. CPU-bound: call it from `spawn_blocking`. The lock-out and rate limit
    /// ([`LoginGuard`]) are the caller's, around this call.
    pub(crate) fn authenticate_password(
        &self,
        name: &str,
        password: &Password,
    ) -> Result<Principal, LoginError> {
        let book = self.book()?;
        let name = name.trim().to_lowercase();
        let Some(user) = book.user(&name) else {
            password::verify_decoy(password);
            return Err(LoginError::Refused(LoginRefusal::UnknownUser));
        };
        let Some(phc) = &user.password else {
            password::verify_decoy(password);
            return Err(LoginError::Refused(LoginRefusal::TokenOnly));
        };
        if !password::verify(password, phc) {
            return Err(LoginError::Refused(LoginRefusal::WrongPassword));
        }
        if user.disabled {
            return Err(LoginError::Refused(LoginRefusal::Disabled));
        }
        Ok(principal(user, Credential::Password))
    }

    /// The principal a bearer token acts as: `None` for a token that is unknown, revoked, or
    /// whose user is disabled. One SHA-256 and a lookup: cheap enough for every request.
    pub(crate) fn authenticate_token(
        &self,
        presented: &str,
    ) -> Result<Option<Principal>, AccountsError> {
        let digest = token::digest(presented.trim());
        let book = self.book()?;
        let Some(stored) = book
            .tokens
            .iter()
            .find(|t| t.revoked.is_none() && constant_time_eq(&t.sha256, &digest))
        else {
            return Ok(None);
        };
        Ok(book.user(&stored.user).filter(|u| !u.disabled).map(|u| {
            principal(
                u,
                Credential::Token {
                    id: stored.id.clone(),
                },
            )
        }))
    }

    /// When a session of `name` opened at `now` must end for the user's shift: the next
    /// occurrence after `now` of their shift end in the centre's time zone `tz`; `None` when
    /// they have no shift end. What the sign-in passes to `Sessions::create`.
    pub(crate) fn shift_end_after(
        &self,
        name: &str,
        now: jiff::Timestamp,
        tz: &jiff::tz::TimeZone,
    ) -> Result<Option<jiff::Timestamp>, AccountsError> {
        let book = self.book()?;
        let user = book
            .user(name)
            .ok_or_else(|| AccountsError::UnknownUser(name.into()))?;
        user.shift_end
            .map(|end| {
                end.next_after(now, tz)
                    .map_err(|e| AccountsError::ShiftTime {
                        name: name.into(),
                        reason: e.to_string(),
                    })
            })
            .transpose()
    }

    /// Every screen ever paired, revoked ones included, without hashes.
    pub(crate) fn devices(&self) -> Result<Vec<DeviceSummary>, AccountsError> {
        Ok(self
            .book()?
            .devices
            .iter()
            .map(DeviceSummary::from)
            .collect())
    }

    /// Checks a screen to pair before anything is written: its name, a role a screen may
    /// hold, a subtree the role admits, and no active device of that name.
    pub(crate) fn check_new_device(&self, new: &NewDevice) -> Result<Subtree, AccountsError> {
        if !device_role_allowed(new.role) {
            return Err(AccountsError::DeviceRole(new.role));
        }
        let subtree = check_new_user(&new.name, new.role, new.subtree.clone())?;
        if self.book()?.active_device(&new.name).is_some() {
            return Err(AccountsError::DeviceExists(new.name.clone()));
        }
        Ok(subtree)
    }

    /// The principal a device credential acts as: `None` for one unknown or revoked. One
    /// SHA-256 and a lookup, like an API token.
    pub(crate) fn authenticate_device(
        &self,
        presented: &str,
    ) -> Result<Option<Principal>, AccountsError> {
        let digest = token::digest(presented.trim());
        let book = self.book()?;
        Ok(book
            .devices
            .iter()
            .find(|d| d.revoked.is_none() && constant_time_eq(&d.sha256, &digest))
            .map(|d| Principal {
                user: d.name.clone(),
                role: d.role,
                subtree: d.scope.clone(),
                credential: Credential::Device,
            }))
    }
}
