//! The audit trail: who signed in (or failed to), who changed a threshold or the configuration,
//! who acknowledged an alert, unmasked a caller number, exported figures, or changed an account
//! or token. A security officer (保密员) reads it; `floorwatch audit verify` proves it was not
//! edited.
//!
//! It is one append-only file in the data dir, `audit.log`, one JSON [`Record`] per line. Each
//! record carries the hash of the one before it (`prev`) and its own `hash`, the SHA-256 of
//! `prev` and the record's canonical bytes ([`chain`]), so changing, inserting or deleting any
//! record breaks the chain from that line on. The server and the command line both append; a
//! lock on the file keeps their records in one chain. What a chain cannot show by itself is a
//! cut-off tail: `audit verify` prints the count and the last hash (the head) so an operator
//! can note them elsewhere and compare later (docs/SECURITY.md).

pub(crate) mod chain;
mod trail;
mod writer;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub(crate) use trail::{AuditError, AuditTrail, Filter, Verdict, Written};
pub(crate) use writer::{NotRecorded, record, record_blocking};

/// The file of the trail inside the data dir.
pub(crate) const AUDIT_FILE: &str = "audit.log";

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
}

/// Every action, in the order help texts list them.
pub(crate) const ACTIONS: [Action; 20] = [
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
        }
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
    /// SHA-256 of `prev` and this record's canonical bytes, lowercase hex ([`chain::hash`]).
    pub(crate) hash: String,
}

impl Record {
    /// The record's time, if it reads as a timestamp.
    pub(crate) fn timestamp(&self) -> Option<jiff::Timestamp> {
        self.time.parse().ok()
    }
}

/// The actor name of a change made on the command line: `cli:` and the operating-system
/// user running it (from `$USER` or `$LOGNAME`, else `uid=N`). Whoever can run the command
/// can write the data dir, so this says who, as far as the machine knows.
pub(crate) fn cli_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_default();
    if !user.is_empty() {
        return format!("cli:{user}");
    }
    // /proc/self belongs to the process's effective user.
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata("/proc/self") {
        return format!("cli:uid={}", std::os::unix::fs::MetadataExt::uid(&meta));
    }
    "cli".into()
}

/// `--since`: an RFC 3339 time, a UTC date, or `N` and `m`, `h` or `d` back from `now`.
pub(crate) fn parse_since(text: &str, now: jiff::Timestamp) -> Result<jiff::Timestamp, String> {
    let text = text.trim();
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    if let Ok(date) = text.parse::<jiff::civil::Date>() {
        return date
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string());
    }
    let unit_at = text.len().saturating_sub(1);
    let (number, unit) = text.split_at(unit_at);
    let seconds = match unit {
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    match number.parse::<i64>() {
        Ok(n) if seconds > 0 && n >= 0 => now
            .checked_sub(jiff::SignedDuration::from_secs(n.saturating_mul(seconds)))
            .map_err(|e| e.to_string()),
        _ => Err(format!(
            "`{text}` is not a time: give 2025-03-01T08:00:00+08:00, 2025-03-01 (UTC) or a \
             span back from now such as 90m, 12h, 7d"
        )),
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
