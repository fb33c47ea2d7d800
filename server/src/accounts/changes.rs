//! The audited changes of accounts: users added, passwords set, users disabled and enabled,
//! shift ends, tokens created and revoked, screens paired and revoked. Each goes through
//! [`Accounts::change`] with its audit record.

use super::cache::{Accounts, Audited};
use super::error::MAX_NAME_CHARS;
use super::role::RoleSubtrees;
use super::store::{ShiftEnd, StoredDevice, StoredToken, User};
use super::{
    AccountsError, DeviceSummary, NewDevice, NewUser, Password, Role, Secret, Subtree,
    TokenSummary, UserSummary, password, token,
};
use crate::audit::{Action, Entry};

impl Accounts {
    /// Adds a user; audited as `user_add` by `actor`. Hashes the password (CPU-bound).
    pub(crate) fn add_user(
        &self,
        actor: &str,
        new: NewUser,
        now: jiff::Timestamp,
    ) -> Result<UserSummary, AccountsError> {
        self.add_user_with_shift(actor, new, None, now)
    }

    /// [`Accounts::add_user`] with a shift end: the user's sessions end at that time of day.
    pub(crate) fn add_user_with_shift(
        &self,
        actor: &str,
        new: NewUser,
        shift_end: Option<ShiftEnd>,
        now: jiff::Timestamp,
    ) -> Result<UserSummary, AccountsError> {
        let subtree = check_new_user(&new.name, new.role, new.subtree)?;
        let phc = match (&new.password, new.role.signs_in_with_password()) {
            (Some(pw), true) => Some(password::hash(pw)?),
            (None, false) => None,
            (Some(_), false) => return Err(AccountsError::TokenOnly(new.role)),
            (None, true) => return Err(AccountsError::NeedsPassword(new.role)),
        };
        let name = new.name;
        self.change(now, |book| {
            if book.user(&name).is_some() {
                return Err(AccountsError::UserExists(name.clone()));
            }
            let user = User {
                name: name.clone(),
                role: new.role,
                scope: subtree.clone(),
                password: phc,
                disabled: false,
                shift_end,
                created: now,
                changed: now,
            };
            let at = book.users.partition_point(|u| u.name < name);
            book.users.insert(at, user);
            let summary = UserSummary {
                name: name.clone(),
                role: new.role,
                subtree: subtree.clone(),
                disabled: false,
                has_password: new.password.is_some(),
                active_tokens: 0,
                created: now,
                shift_end,
            };
            let mut detail = format!("role={} scope={subtree}", new.role);
            if let Some(end) = shift_end {
                detail.push_str(&format!(" shift_end={end}"));
            }
            let entry = Entry::new(actor, Action::UserAdd, format!("user:{name}"), detail);
            Ok((summary, entry))
        })
    }

    /// Sets a new password; audited as `user_passwd`.
    pub(crate) fn set_password(
        &self,
        actor: &str,
        name: &str,
        password: &Password,
        now: jiff::Timestamp,
    ) -> Result<(), AccountsError> {
        let role = self
            .book()?
            .user(name)
            .map(|u| u.role)
            .ok_or_else(|| AccountsError::UnknownUser(name.into()))?;
        if !role.signs_in_with_password() {
            return Err(AccountsError::TokenOnly(role));
        }
        let phc = password::hash(password)?;
        self.change(now, |book| {
            let user = book
                .user_mut(name)
                .ok_or_else(|| AccountsError::UnknownUser(name.into()))?;
            user.password = Some(phc);
            user.changed = now;
            Ok((
                (),
                Entry::new(actor, Action::UserPasswd, format!("user:{name}"), ""),
            ))
        })
    }

    /// Disables a user: their password, sessions and tokens stop working (tokens stay listed
    /// and come back if the user is enabled again, [`Accounts::enable`]). Audited as
    /// `user_disable`.
    pub(crate) fn disable(
        &self,
        actor: &str,
        name: &str,
        now: jiff::Timestamp,
    ) -> Result<(), AccountsError> {
        self.change_as(Audited::LockOut, now, |book| {
            let tokens = book
                .tokens
                .iter()
                .filter(|t| t.user == name && t.revoked.is_none())
                .count();
            let user = book
                .user_mut(name)
                .ok_or_else(|| AccountsError::UnknownUser(name.into()))?;
            if user.disabled {
                return Err(AccountsError::Disabled(name.into()));
            }
            user.disabled = true;
            user.changed = now;
            Ok((
                (),
                Entry::new(
                    actor,
                    Action::UserDisable,
                    format!("user:{name}"),
                    format!("active_tokens={tokens}"),
                ),
            ))
        })
    }

    /// Enables a disabled user again: their password and their tokens (those not revoked) work
    /// again. Audited as `user_enable`.
    pub(crate) fn enable(
        &self,
        actor: &str,
        name: &str,
        now: jiff::Timestamp,
    ) -> Result<(), AccountsError> {
        self.change(now, |book| {
            let user = book
                .user_mut(name)
                .ok_or_else(|| AccountsError::UnknownUser(name.into()))?;
            if !user.disabled {
                return Err(AccountsError::NotDisabled(name.into()));
            }
            user.disabled = false;
            user.changed = now;
            Ok((
                (),
                Entry::new(actor, Action::UserEnable, format!("user:{name}"), ""),
            ))
        })
    }

    /// Sets (or with `None` clears) the time of day at which the user's sessions end. Audited as
    /// `user_shift`, detail `shift_end=17:30 (was none)`.
    pub(crate) fn set_shift_end(
        &self,
        actor: &str,
        name: &str,
        shift_end: Option<ShiftEnd>,
        now: jiff::Timestamp,
    ) -> Result<(), AccountsError> {
        self.change(now, |book| {
            let user = book
                .user_mut(name)
                .ok_or_else(|| AccountsError::UnknownUser(name.into()))?;
            let before = user.shift_end;
            user.shift_end = shift_end;
            user.changed = now;
            let shown = |s: Option<ShiftEnd>| s.map_or("none".to_string(), |s| s.to_string());
            Ok((
                (),
                Entry::new(
                    actor,
                    Action::UserShift,
                    format!("user:{name}"),
                    format!("shift_end={} (was {})", shown(shift_end), shown(before)),
                ),
            ))
        })
    }

    /// Creates an API token for `user`; audited as `token_create`. The returned secret is the
    /// only copy: show it once, never log it.
    pub(crate) fn create_token(
        &self,
        actor: &str,
        user: &str,
        label: &str,
        now: jiff::Timestamp,
    ) -> Result<(TokenSummary, Secret), AccountsError> {
        let secret = token::new_api_token()?;
        let digest = secret.digest();
        let mut id = token::new_token_id()?;
        let summary = self.change(now, |book| {
            let owner = book
                .user(user)
                .ok_or_else(|| AccountsError::UnknownUser(user.into()))?;
            if owner.disabled {
                return Err(AccountsError::Disabled(user.into()));
            }
            while book.tokens.iter().any(|t| t.id == id) {
                id = token::new_token_id()?;
            }
            let stored = StoredToken {
                id: id.clone(),
                user: user.into(),
                label: label.trim().into(),
                sha256: digest,
                created: now,
                revoked: None,
            };
            let summary = TokenSummary::from(&stored);
            book.tokens.push(stored);
            let entry = Entry::new(
                actor,
                Action::TokenCreate,
                format!("token:{}", summary.id),
                format!("user={user} label={}", summary.label),
            );
            Ok((summary, entry))
        })?;
        Ok((summary, secret))
    }

    /// Revokes a token by id; audited as `token_revoke`.
    pub(crate) fn revoke_token(
        &self,
        actor: &str,
        id: &str,
        now: jiff::Timestamp,
    ) -> Result<TokenSummary, AccountsError> {
        self.change_as(Audited::LockOut, now, |book| {
            let stored = book
                .tokens
                .iter_mut()
                .find(|t| t.id == id)
                .ok_or_else(|| AccountsError::UnknownToken(id.into()))?;
            if stored.revoked.is_some() {
                return Err(AccountsError::AlreadyRevoked(id.into()));
            }
            stored.revoked = Some(now);
            let summary = TokenSummary::from(&*stored);
            let entry = Entry::new(
                actor,
                Action::TokenRevoke,
                format!("token:{id}"),
                format!("user={}", summary.user),
            );
            Ok((summary, entry))
        })
    }

    /// Pairs a screen: a new device credential, of which only the SHA-256 is kept; audited as
    /// `device_pair` by `actor`, detail the role, the scope and `how` (the pairing code's
    /// requester, or the command line). The returned secret is the only copy.
    pub(crate) fn add_device(
        &self,
        actor: &str,
        new: NewDevice,
        how: &str,
        now: jiff::Timestamp,
    ) -> Result<(DeviceSummary, Secret), AccountsError> {
        let subtree = self.check_new_device(&new)?;
        let secret = token::new_device_credential()?;
        let digest = secret.digest();
        let summary = self.change(now, |book| {
            if book.active_device(&new.name).is_some() {
                return Err(AccountsError::DeviceExists(new.name.clone()));
            }
            let stored = StoredDevice {
                name: new.name.clone(),
                role: new.role,
                scope: subtree.clone(),
                sha256: digest,
                created: now,
                revoked: None,
            };
            let summary = DeviceSummary::from(&stored);
            book.devices.push(stored);
            let mut detail = format!("role={} scope={subtree}", new.role);
            if !how.is_empty() {
                detail.push(' ');
                detail.push_str(how);
            }
            let entry = Entry::new(
                actor,
                Action::DevicePair,
                format!("device:{}", new.name),
                detail,
            );
            Ok((summary, entry))
        })?;
        Ok((summary, secret))
    }

    /// Revokes the active screen of that name: its credential stops working at the next
    /// request (a running server also closes its live sockets). Audited as `device_revoke`.
    pub(crate) fn revoke_device(
        &self,
        actor: &str,
        name: &str,
        detail: &str,
        now: jiff::Timestamp,
    ) -> Result<DeviceSummary, AccountsError> {
        self.change_as(Audited::LockOut, now, |book| {
            let stored = book
                .devices
                .iter_mut()
                .find(|d| d.name == name && d.revoked.is_none())
                .ok_or_else(|| AccountsError::UnknownDevice(name.into()))?;
            stored.revoked = Some(now);
            let summary = DeviceSummary::from(&*stored);
            let entry = Entry::new(
                actor,
                Action::DeviceRevoke,
                format!("device:{name}"),
                detail,
            );
            Ok((summary, entry))
        })
    }
}

/// Checks a new user's name, and the subtree for the role (the role's default when none is
/// given); returns the subtree. What [`Accounts::add_user`] checks before anything else, for
/// callers that want to check before asking for a password.
pub(crate) fn check_new_user(
    name: &str,
    role: Role,
    subtree: Option<Subtree>,
) -> Result<Subtree, AccountsError> {
    check_name(name)?;
    let subtree = match subtree {
        Some(subtree) => subtree,
        None => role.default_subtree().ok_or_else(|| {
            AccountsError::BadScope(format!(
                "a {role} needs --scope team:ID (the team they lead)"
            ))
        })?,
    };
    role.admits(&subtree).map_err(AccountsError::BadScope)?;
    Ok(subtree)
}

/// User names: lowercase so that `Alice` and `alice` cannot be two people, and plain enough to
/// appear in audit records and URLs unescaped.
fn check_name(name: &str) -> Result<(), AccountsError> {
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.chars().count() <= MAX_NAME_CHARS
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(AccountsError::BadName(name.into()))
    }
}
