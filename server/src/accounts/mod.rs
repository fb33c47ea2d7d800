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

pub(crate) mod caller;
pub(crate) mod command;
pub(crate) mod login;
pub(crate) mod pairing;
pub(crate) mod password;
pub(crate) mod role;
pub(crate) mod session;
pub(crate) mod store;
pub(crate) mod token;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub(crate) use caller::{CallerNumber, mask_caller};
pub(crate) use login::{LoginGuard, LoginPolicy, Refusal};
pub(crate) use password::Password;
pub(crate) use role::{Role, RoleSubtrees, Subtree};
pub(crate) use session::{SessionPolicy, Sessions};
pub(crate) use token::Secret;

use crate::audit::{Action, AuditError, AuditTrail, Entry};
pub(crate) use store::ShiftEnd;
use store::{AccountBook, StoreError, StoredDevice, StoredToken, User};

/// Longest user name, in characters.
pub(crate) const MAX_NAME_CHARS: usize = 64;

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

/// The accounts of one data dir. Share one behind an `Arc`: it caches the file and re-reads it
/// only when it changed on disk.
#[derive(Debug)]
pub(crate) struct Accounts {
    data_dir: PathBuf,
    path: PathBuf,
    audit: AuditTrail,
    cache: Mutex<Option<Cached>>,
}

#[derive(Debug)]
struct Cached {
    stamp: Stamp,
    book: Arc<AccountBook>,
}

/// What tells a changed file apart: a rename gives it a new inode; size and mtime catch the
/// rest.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

impl Accounts {
    /// The accounts in `data_dir` (`accounts.json`) and its audit trail. Reads nothing yet.
    pub(crate) fn open(data_dir: &Path) -> Accounts {
        Accounts {
            data_dir: data_dir.to_path_buf(),
            path: data_dir.join(store::ACCOUNTS_FILE),
            audit: AuditTrail::open(data_dir),
            cache: Mutex::new(None),
        }
    }

    /// The audit trail changes are written to (the same data dir).
    pub(crate) fn audit(&self) -> &AuditTrail {
        &self.audit
    }

    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The book as on disk now, from the cache when the file did not change.
    fn book(&self) -> Result<Arc<AccountBook>, AccountsError> {
        let stamp = stamp(&self.path).map_err(|source| StoreError::Io {
            path: self.path.clone(),
            source,
        })?;
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let (Some(cached), Some(stamp)) = (cache.as_ref(), stamp.as_ref())
            && cached.stamp == *stamp
        {
            return Ok(cached.book.clone());
        }
        let book = Arc::new(store::load(&self.path)?);
        *cache = stamp.map(|stamp| Cached {
            stamp,
            book: book.clone(),
        });
        Ok(book)
    }

    /// Whether no user exists yet (the server's first start creates the demo accounts).
    pub(crate) fn is_empty(&self) -> Result<bool, AccountsError> {
        Ok(self.book()?.users.is_empty())
    }

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

    /// Reads the book under the writers' lock, applies `edit`, writes the result and its audit
    /// record. If the audit record cannot be written, the previous book is put back: a change
    /// is kept only together with its record.
    fn change<T>(
        &self,
        now: jiff::Timestamp,
        edit: impl FnOnce(&mut AccountBook) -> Result<(T, Entry), AccountsError>,
    ) -> Result<T, AccountsError> {
        self.change_as(Audited::Required, now, edit)
    }

    fn change_as<T>(
        &self,
        audited: Audited,
        now: jiff::Timestamp,
        edit: impl FnOnce(&mut AccountBook) -> Result<(T, Entry), AccountsError>,
    ) -> Result<T, AccountsError> {
        let _lock = store::lock(&self.data_dir)?;
        let before = store::load(&self.path)?;
        let mut after = before.clone();
        let (out, entry) = edit(&mut after)?;
        after.format = store::format_for(&after);
        store::save(&self.path, &after)?;
        if audited == Audited::LockOut {
            // Locking someone out never waits for a healthy trail: the record is queued
            // durably when the trail cannot take it, and goes in first once it can.
            return match self.audit.append_or_queue(entry, now) {
                Ok(crate::audit::Written::Trail(_)) => Ok(out),
                Ok(crate::audit::Written::Queued(why)) => {
                    tracing::warn!(reason = %why, "audit trail not writable: the lock-out is done and its record queued");
                    Ok(out)
                }
                Err(audit) => {
                    tracing::error!(error = %audit, "neither the audit trail nor its queue could be written; the lock-out is done all the same");
                    Ok(out)
                }
            };
        }
        if let Err(audit) = self.audit.append(entry, now) {
            return match store::save(&self.path, &before) {
                Ok(()) => Err(AccountsError::Audit(audit)),
                Err(restore) => Err(AccountsError::Unrestored { audit, restore }),
            };
        }
        Ok(out)
    }
}

/// How a change must be recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audited {
    /// In the trail, or the change is undone.
    Required,
    /// A lock-out (disabling a user, revoking a token or a device): in the trail, else queued
    /// beside it, else logged; the change stands in every case.
    LockOut,
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

fn principal(user: &User, credential: Credential) -> Principal {
    Principal {
        user: user.name.clone(),
        role: user.role,
        subtree: user.scope.clone(),
        credential,
    }
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

fn stamp(path: &Path) -> std::io::Result<Option<Stamp>> {
    match std::fs::metadata(path) {
        Ok(meta) => {
            #[cfg(unix)]
            let inode = std::os::unix::fs::MetadataExt::ino(&meta);
            #[cfg(not(unix))]
            let inode = 0;
            Ok(Some(Stamp {
                len: meta.len(),
                modified: meta.modified().ok(),
                inode,
            }))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Compares without returning early, so the time taken says nothing about the digest (or the
/// pairing code).
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Verdict;

    fn now() -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_700_000_000).unwrap()
    }

    fn pw(text: &str) -> Option<Password> {
        Some(Password::given(text))
    }

    fn with_users() -> (tempfile::TempDir, Accounts) {
        let dir = tempfile::tempdir().unwrap();
        let accounts = Accounts::open(dir.path());
        accounts
            .add_user(
                "cli:root",
                NewUser {
                    name: "admin".into(),
                    role: Role::Admin,
                    subtree: None,
                    password: pw("admin password 1"),
                },
                now(),
            )
            .unwrap();
        accounts
            .add_user(
                "admin",
                NewUser {
                    name: "lead1".into(),
                    role: Role::TeamLead,
                    subtree: Some(Subtree::Team("t1".into())),
                    password: pw("lead one password"),
                },
                now(),
            )
            .unwrap();
        (dir, accounts)
    }

    #[test]
    fn users_sign_in_with_their_password_only() {
        let (_dir, accounts) = with_users();
        let p = accounts
            .authenticate_password("Lead1", &Password::given("lead one password"))
            .unwrap();
        assert_eq!(p.user, "lead1");
        assert_eq!(p.role, Role::TeamLead);
        assert_eq!(p.subtree, Subtree::Team("t1".into()));
        assert_eq!(p.credential, Credential::Password);
        let refused = |name: &str, password: &str| match accounts
            .authenticate_password(name, &Password::given(password))
        {
            Err(LoginError::Refused(why)) => why,
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(
            refused("lead1", "admin password 1"),
            LoginRefusal::WrongPassword
        );
        assert_eq!(
            refused("nobody", "lead one password"),
            LoginRefusal::UnknownUser
        );
    }

    #[test]
    fn new_users_are_checked_before_anything_is_written() {
        let (_dir, accounts) = with_users();
        let add = |name: &str, role, subtree: Option<&str>, password: Option<Password>| {
            accounts.add_user(
                "admin",
                NewUser {
                    name: name.into(),
                    role,
                    subtree: subtree.map(|s| s.parse().unwrap()),
                    password,
                },
                now(),
            )
        };
        let long = "a".repeat(65);
        for bad in ["", "Alice", "-x", "a b", "ali/ce", long.as_str()] {
            assert!(
                matches!(
                    add(bad, Role::Manager, None, pw("long enough pw")),
                    Err(AccountsError::BadName(_))
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            add("lead1", Role::Manager, None, pw("long enough pw")),
            Err(AccountsError::UserExists(_))
        ));
        let err = add("lead2", Role::TeamLead, None, pw("long enough pw")).unwrap_err();
        assert!(err.to_string().contains("--scope team:ID"), "{err}");
        assert!(matches!(
            add("m", Role::Manager, Some("team:t1"), pw("long enough pw")),
            Err(AccountsError::BadScope(_))
        ));
        assert!(matches!(
            add("feed", Role::Ingest, None, pw("long enough pw")),
            Err(AccountsError::TokenOnly(_))
        ));
        assert!(matches!(
            add("m", Role::Manager, None, None),
            Err(AccountsError::NeedsPassword(_))
        ));
        assert_eq!(accounts.users().unwrap().len(), 2, "nothing was added");
        let feed = add("feed", Role::Ingest, None, None).unwrap();
        assert!(!feed.has_password);
    }

    #[test]
    fn every_change_is_audited_and_the_chain_holds() {
        let (_dir, accounts) = with_users();
        accounts
            .set_password(
                "admin",
                "lead1",
                &Password::given("another long one"),
                now(),
            )
            .unwrap();
        let (token, _) = accounts
            .create_token("admin", "lead1", "script", now())
            .unwrap();
        accounts.revoke_token("admin", &token.id, now()).unwrap();
        accounts.disable("admin", "lead1", now()).unwrap();
        let records = accounts.audit().records(&Default::default()).unwrap();
        let actions: Vec<_> = records.iter().map(|r| r.action).collect();
        assert_eq!(
            actions,
            vec![
                Action::UserAdd,
                Action::UserAdd,
                Action::UserPasswd,
                Action::TokenCreate,
                Action::TokenRevoke,
                Action::UserDisable
            ]
        );
        assert_eq!(records[1].actor, "admin");
        assert_eq!(records[1].target, "user:lead1");
        assert_eq!(records[1].detail, "role=team_lead scope=team:t1");
        assert_eq!(records[3].target, format!("token:{}", token.id));
        assert!(matches!(
            accounts.audit().verify().unwrap(),
            Verdict::Intact { records: 6, .. }
        ));
        let text = std::fs::read_to_string(accounts.audit().path()).unwrap();
        assert!(
            !text.contains("password"),
            "no secrets in the trail: {text}"
        );
    }

    #[test]
    fn a_new_password_replaces_the_old_one() {
        let (_dir, accounts) = with_users();
        accounts
            .set_password(
                "admin",
                "lead1",
                &Password::given("another long one"),
                now(),
            )
            .unwrap();
        assert!(
            accounts
                .authenticate_password("lead1", &Password::given("another long one"))
                .is_ok()
        );
        assert!(
            accounts
                .authenticate_password("lead1", &Password::given("lead one password"))
                .is_err()
        );
        assert!(matches!(
            accounts.set_password(
                "admin",
                "ghost",
                &Password::given("another long one"),
                now()
            ),
            Err(AccountsError::UnknownUser(_))
        ));
    }

    #[test]
    fn tokens_act_as_their_user_until_revoked() {
        let (_dir, accounts) = with_users();
        let (summary, secret) = accounts
            .create_token("admin", "lead1", " wall tv ", now())
            .unwrap();
        assert_eq!(summary.label, "wall tv");
        let p = accounts
            .authenticate_token(secret.expose())
            .unwrap()
            .unwrap();
        assert_eq!(p.user, "lead1");
        assert_eq!(p.subtree, Subtree::Team("t1".into()));
        assert_eq!(
            p.credential,
            Credential::Token {
                id: summary.id.clone()
            }
        );
        assert_eq!(p.actor(), format!("token:{} (lead1)", summary.id));
        assert_eq!(accounts.authenticate_token("fw_guess").unwrap(), None);
        assert_eq!(accounts.users().unwrap()[1].active_tokens, 1);
        accounts.revoke_token("admin", &summary.id, now()).unwrap();
        assert_eq!(accounts.authenticate_token(secret.expose()).unwrap(), None);
        assert!(matches!(
            accounts.revoke_token("admin", &summary.id, now()),
            Err(AccountsError::AlreadyRevoked(_))
        ));
        assert!(matches!(
            accounts.revoke_token("admin", "tok_nothere", now()),
            Err(AccountsError::UnknownToken(_))
        ));
        let listed = accounts.tokens().unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].revoked.is_some());
        let stored = std::fs::read_to_string(accounts.path()).unwrap();
        assert!(!stored.contains(secret.expose()), "only the hash is stored");
    }

    #[test]
    fn disabling_stops_password_tokens_and_sessions() {
        let (_dir, accounts) = with_users();
        let (_, secret) = accounts.create_token("admin", "lead1", "", now()).unwrap();
        assert!(accounts.principal("lead1").unwrap().is_some());
        accounts.disable("admin", "lead1", now()).unwrap();
        assert!(matches!(
            accounts.authenticate_password("lead1", &Password::given("lead one password")),
            Err(LoginError::Refused(LoginRefusal::Disabled))
        ));
        assert_eq!(accounts.authenticate_token(secret.expose()).unwrap(), None);
        assert_eq!(accounts.principal("lead1").unwrap(), None);
        assert!(matches!(
            accounts.disable("admin", "lead1", now()),
            Err(AccountsError::Disabled(_))
        ));
        assert!(matches!(
            accounts.create_token("admin", "lead1", "", now()),
            Err(AccountsError::Disabled(_))
        ));
    }

    #[test]
    fn enabling_brings_password_and_tokens_back_and_is_audited() {
        let (_dir, accounts) = with_users();
        let (_, secret) = accounts.create_token("admin", "lead1", "", now()).unwrap();
        assert!(matches!(
            accounts.enable("admin", "lead1", now()),
            Err(AccountsError::NotDisabled(_))
        ));
        accounts.disable("admin", "lead1", now()).unwrap();
        accounts.enable("admin", "lead1", now()).unwrap();
        assert!(
            accounts
                .authenticate_password("lead1", &Password::given("lead one password"))
                .is_ok()
        );
        assert!(
            accounts
                .authenticate_token(secret.expose())
                .unwrap()
                .is_some()
        );
        let last = accounts.audit().records(&Default::default()).unwrap();
        let last = last.last().unwrap();
        assert_eq!(
            (last.action, last.actor.as_str(), last.target.as_str()),
            (Action::UserEnable, "admin", "user:lead1")
        );
        assert!(matches!(
            accounts.enable("admin", "ghost", now()),
            Err(AccountsError::UnknownUser(_))
        ));
    }

    #[test]
    fn a_shift_end_is_set_audited_and_placed_after_now() {
        let (dir, accounts) = with_users();
        let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
        // now() is 2023-11-14T22:13:20Z, 06:13 in Shanghai.
        assert_eq!(accounts.shift_end_after("lead1", now(), &tz).unwrap(), None);
        let end: ShiftEnd = "17:30".parse().unwrap();
        accounts
            .set_shift_end("admin", "lead1", Some(end), now())
            .unwrap();
        assert_eq!(
            accounts.shift_end_after("lead1", now(), &tz).unwrap(),
            Some("2023-11-15T09:30:00Z".parse().unwrap())
        );
        assert_eq!(accounts.users().unwrap()[1].shift_end, Some(end));
        let stored = std::fs::read_to_string(accounts.path()).unwrap();
        assert!(stored.contains("\"format\": 2"), "{stored}");
        accounts
            .set_shift_end("admin", "lead1", None, now())
            .unwrap();
        assert_eq!(accounts.shift_end_after("lead1", now(), &tz).unwrap(), None);
        let stored = std::fs::read_to_string(accounts.path()).unwrap();
        assert!(stored.contains("\"format\": 1"), "{stored}");
        let shifts: Vec<String> = accounts
            .audit()
            .records(&crate::audit::Filter {
                action: Some(Action::UserShift),
                ..Default::default()
            })
            .unwrap()
            .into_iter()
            .map(|r| r.detail)
            .collect();
        assert_eq!(
            shifts,
            vec!["shift_end=17:30 (was none)", "shift_end=none (was 17:30)"]
        );
        assert!(matches!(
            accounts.shift_end_after("ghost", now(), &tz),
            Err(AccountsError::UnknownUser(_))
        ));
        // Added with a shift end: one record says so.
        accounts
            .add_user_with_shift(
                "admin",
                NewUser {
                    name: "night".into(),
                    role: Role::Supervisor,
                    subtree: None,
                    password: pw("night shift password"),
                },
                Some("06:00".parse().unwrap()),
                now(),
            )
            .unwrap();
        let added = Accounts::open(dir.path())
            .audit()
            .records(&Default::default())
            .unwrap();
        assert_eq!(
            added.last().unwrap().detail,
            "role=supervisor scope=centre shift_end=06:00"
        );
        assert_eq!(
            accounts.shift_end_after("night", now(), &tz).unwrap(),
            Some("2023-11-15T22:00:00Z".parse().unwrap()),
            "06:00 in Shanghai was 13 minutes ago: the next one"
        );
    }

    #[test]
    fn ingest_accounts_use_tokens_never_passwords() {
        let (_dir, accounts) = with_users();
        accounts
            .add_user(
                "admin",
                NewUser {
                    name: "switch".into(),
                    role: Role::Ingest,
                    subtree: None,
                    password: None,
                },
                now(),
            )
            .unwrap();
        assert!(matches!(
            accounts.authenticate_password("switch", &Password::given("anything at all")),
            Err(LoginError::Refused(LoginRefusal::TokenOnly))
        ));
        assert!(matches!(
            accounts.set_password(
                "admin",
                "switch",
                &Password::given("anything at all"),
                now()
            ),
            Err(AccountsError::TokenOnly(Role::Ingest))
        ));
        let (_, secret) = accounts.create_token("admin", "switch", "", now()).unwrap();
        let p = accounts
            .authenticate_token(secret.expose())
            .unwrap()
            .unwrap();
        assert_eq!(p.role, Role::Ingest);
    }

    #[test]
    fn a_change_made_elsewhere_is_seen_at_once() {
        let (dir, accounts) = with_users();
        assert!(accounts.principal("late").unwrap().is_none());
        // Another process (the command line) adds a user while this handle has a cache.
        Accounts::open(dir.path())
            .add_user(
                "cli:root",
                NewUser {
                    name: "late".into(),
                    role: Role::WallDisplay,
                    subtree: Some(Subtree::Site("north".into())),
                    password: pw("wall display pw"),
                },
                now(),
            )
            .unwrap();
        let p = accounts.principal("late").unwrap().unwrap();
        assert_eq!(p.subtree, Subtree::Site("north".into()));
        assert_eq!(p.credential, Credential::Session);
    }

    #[test]
    fn a_paired_screen_reads_as_its_role_until_revoked_and_only_its_hash_is_kept() {
        let (dir, accounts) = with_users();
        let tv = |name: &str, role, subtree: Option<&str>| NewDevice {
            name: name.into(),
            role,
            subtree: subtree.map(|s| s.parse().unwrap()),
        };
        let (summary, secret) = accounts
            .add_device(
                "admin",
                tv("lobby-tv", Role::WallDisplay, Some("site:north")),
                "code from peer=10.0.0.9",
                now(),
            )
            .unwrap();
        assert_eq!(summary.subtree, Subtree::Site("north".into()));
        assert!(secret.expose().starts_with(token::DEVICE_PREFIX));
        assert_eq!(secret.expose().len(), token::DEVICE_PREFIX.len() + 64);
        let p = accounts
            .authenticate_device(secret.expose())
            .unwrap()
            .unwrap();
        assert_eq!(
            (p.user.as_str(), p.role, p.actor().as_str(), p.is_device()),
            ("lobby-tv", Role::WallDisplay, "device:lobby-tv", true)
        );
        // Not a user: no session, no password, no API token acts as it.
        assert_eq!(accounts.principal("lobby-tv").unwrap(), None);
        assert_eq!(accounts.authenticate_token(secret.expose()).unwrap(), None);
        assert_eq!(accounts.authenticate_device("fwd_guess").unwrap(), None);
        // Names are unique among active screens; roles are those that read.
        assert!(matches!(
            accounts.add_device("admin", tv("lobby-tv", Role::WallDisplay, None), "", now()),
            Err(AccountsError::DeviceExists(_))
        ));
        for role in [Role::Admin, Role::SecurityOfficer, Role::Ingest] {
            assert!(matches!(
                accounts.add_device("admin", tv("tv2", role, None), "", now()),
                Err(AccountsError::DeviceRole(_))
            ));
        }
        assert!(matches!(
            accounts.add_device("admin", tv("Bad Name", Role::WallDisplay, None), "", now()),
            Err(AccountsError::BadName(_))
        ));
        let stored = std::fs::read_to_string(accounts.path()).unwrap();
        assert!(!stored.contains(secret.expose()), "only the hash is stored");
        assert!(stored.contains(&secret.digest()));
        assert!(stored.contains("\"format\": 3"), "{stored}");

        accounts
            .revoke_device("admin", "lobby-tv", "", now())
            .unwrap();
        assert_eq!(accounts.authenticate_device(secret.expose()).unwrap(), None);
        assert!(matches!(
            accounts.revoke_device("admin", "lobby-tv", "", now()),
            Err(AccountsError::UnknownDevice(_))
        ));
        // The name may be paired again; both stay listed.
        accounts
            .add_device("admin", tv("lobby-tv", Role::WallDisplay, None), "", now())
            .unwrap();
        let listed = Accounts::open(dir.path()).devices().unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed[0].revoked.is_some() && listed[1].revoked.is_none());
        let records = accounts.audit().records(&Default::default()).unwrap();
        let tail: Vec<_> = records
            .iter()
            .rev()
            .take(3)
            .map(|r| (r.action, r.target.as_str(), r.detail.as_str()))
            .collect();
        assert_eq!(
            tail,
            vec![
                (
                    Action::DevicePair,
                    "device:lobby-tv",
                    "role=wall_display scope=centre"
                ),
                (Action::DeviceRevoke, "device:lobby-tv", ""),
                (
                    Action::DevicePair,
                    "device:lobby-tv",
                    "role=wall_display scope=site:north code from peer=10.0.0.9"
                ),
            ]
        );
    }

    /// A crash mid-write: the audit trail's last line is torn.
    fn tear(accounts: &Accounts) {
        std::fs::OpenOptions::new()
            .append(true)
            .open(accounts.audit().path())
            .and_then(|mut f| std::io::Write::write_all(&mut f, b"{\"seq\":"))
            .unwrap();
    }

    #[test]
    fn a_change_that_cannot_be_audited_is_undone() {
        let (_dir, accounts) = with_users();
        // A torn audit tail refuses appends.
        tear(&accounts);
        let err = accounts
            .set_password(
                "admin",
                "lead1",
                &Password::given("a new password 2"),
                now(),
            )
            .unwrap_err();
        assert!(
            matches!(err, AccountsError::Audit(AuditError::TornTail { .. })),
            "{err}"
        );
        assert!(
            accounts
                .authenticate_password("lead1", &Password::given("lead one password"))
                .is_ok(),
            "the old password still works"
        );
    }

    #[test]
    fn a_lock_out_never_waits_for_a_healthy_trail() {
        let (_dir, accounts) = with_users();
        tear(&accounts);
        accounts.disable("admin", "lead1", now()).unwrap();
        assert!(
            accounts.principal("lead1").unwrap().is_none(),
            "disabled although the trail is torn"
        );
        assert_eq!(accounts.audit().pending().unwrap(), 1);
        accounts.audit().repair("cli:root", now()).unwrap();
        let last = accounts.audit().records(&Default::default()).unwrap();
        let actions: Vec<Action> = last.iter().rev().take(2).map(|r| r.action).collect();
        assert_eq!(actions, vec![Action::AuditRepair, Action::UserDisable]);
    }
}
