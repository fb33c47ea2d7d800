//! What the trail holds: the [`Action`]s it names, the [`Entry`] a caller asks to be written and
//! the [`Record`] each line of `audit.log` is.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What happened. The names are the ones the issue and the security officer's page use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Action {
    Login,
    LoginFailed,
    Logout,
    ConfigChange,
    ThresholdChange,
    AlertAck,
    Unmask,
    Export,
    UserAdd,
    UserPasswd,
    UserDisable,
    UserEnable,
    /// A user's shift end set or cleared (their sessions end then).
    UserShift,
    TokenCreate,
    TokenRevoke,
    /// A torn last line (a crash mid-write) cut off by `floorwatch audit repair`.
    AuditRepair,
    /// A screen paired as a device (by a pairing code or `floorwatch device add`).
    DevicePair,
    /// A paired screen's credential revoked.
    DeviceRevoke,
    /// A day's history signed off for a site or the centre: its rows sealed by a hash
    /// (docs/HISTORY.md, "Sign-off").
    SignOff,
    /// Events that arrived after a sign-off applied to the day, with a reason and each figure
    /// before and after.
    Amendment,
    /// A morning digest sent to a recipient (docs/HISTORY.md, "The morning digest").
    Digest,
    /// An abandoned caller marked called back on the callback worklist (docs/HISTORY.md,
    /// "Calls").
    Callback,
}

/// Every action, in the order help texts list them.
pub(crate) const ACTIONS: [Action; 22] = [
    Action::Login,
    Action::LoginFailed,
    Action::Logout,
    Action::ConfigChange,
    Action::ThresholdChange,
    Action::AlertAck,
    Action::Unmask,
    Action::Export,
    Action::UserAdd,
    Action::UserPasswd,
    Action::UserDisable,
    Action::UserEnable,
    Action::UserShift,
    Action::TokenCreate,
    Action::TokenRevoke,
    Action::AuditRepair,
    Action::DevicePair,
    Action::DeviceRevoke,
    Action::SignOff,
    Action::Amendment,
    Action::Digest,
    Action::Callback,
];

impl Action {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::LoginFailed => "login_failed",
            Action::Logout => "logout",
            Action::ConfigChange => "config_change",
            Action::ThresholdChange => "threshold_change",
            Action::AlertAck => "alert_ack",
            Action::Unmask => "unmask",
            Action::Export => "export",
            Action::UserAdd => "user_add",
            Action::UserPasswd => "user_passwd",
            Action::UserDisable => "user_disable",
            Action::UserEnable => "user_enable",
            Action::UserShift => "user_shift",
            Action::TokenCreate => "token_create",
            Action::TokenRevoke => "token_revoke",
            Action::AuditRepair => "audit_repair",
            Action::DevicePair => "device_pair",
            Action::DeviceRevoke => "device_revoke",
            Action::SignOff => "sign_off",
            Action::Amendment => "amendment",
            Action::Digest => "digest",
            Action::Callback => "callback",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = String;

    fn from_str(s: &str) -> Result<Action, String> {
        let wanted = s.trim().replace('-', "_");
        ACTIONS
            .into_iter()
            .find(|a| a.as_str() == wanted)
            .ok_or_else(|| {
                let names: Vec<_> = ACTIONS.iter().map(|a| a.as_str()).collect();
                format!("unknown action `{s}`: expected one of {}", names.join(", "))
            })
    }
}

/// What a caller asks to be written; the trail adds the number, time and hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    /// Who did it: a user name, `token:ID`, or `cli:OSUSER` for the command line.
    pub(crate) actor: String,
    pub(crate) action: Action,
    /// What it was done to: `user:NAME`, `token:ID`, `queue:billing`, `call:ID`, ...
    pub(crate) target: String,
    /// Free text: the stated reason of an unmask, old and new values of a change, the peer
    /// address of a login. Never a password or a token.
    pub(crate) detail: String,
    /// What makes this record the same event wherever it is noticed: in a cluster, several
    /// nodes may notice one session time out; the cluster's trail keeps one record per key
    /// (within its two-minute duplicate window). Not part of the record; a lone node ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) once: Option<String>,
}

impl Entry {
    pub(crate) fn new(
        actor: impl Into<String>,
        action: Action,
        target: impl Into<String>,
        detail: impl Into<String>,
    ) -> Entry {
        Entry {
            actor: actor.into(),
            action,
            target: target.into(),
            detail: detail.into(),
            once: None,
        }
    }

    /// The entry, recorded once per cluster under `key` ([`Entry::once`]).
    pub(crate) fn once(mut self, key: impl Into<String>) -> Entry {
        self.once = Some(key.into());
        self
    }
}

/// One line of `audit.log`, field order as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Record {
    /// 1 for the first record, one more for each after it.
    pub(crate) seq: u64,
    /// UTC, RFC 3339 with milliseconds, as written (kept as text so the hash covers exactly it).
    pub(crate) time: String,
    pub(crate) actor: String,
    pub(crate) action: Action,
    pub(crate) target: String,
    pub(crate) detail: String,
    /// The previous record's `hash`; 64 zeros for the first.
    pub(crate) prev: String,
    /// SHA-256 of `prev` and this record's canonical bytes, lowercase hex ([`super::chain::hash`]).
    pub(crate) hash: String,
}

impl Record {
    /// The record's time, if it reads as a timestamp.
    pub(crate) fn timestamp(&self) -> Option<jiff::Timestamp> {
        self.time.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_read_and_print_with_their_issue_names() {
        for action in ACTIONS {
            assert_eq!(action.as_str().parse::<Action>(), Ok(action));
            assert_eq!(
                serde_json::to_string(&action).unwrap(),
                format!("\"{action}\"")
            );
        }
        assert_eq!("alert-ack".parse::<Action>(), Ok(Action::AlertAck));
        assert!("delete".parse::<Action>().unwrap_err().contains("unmask"));
    }
}
