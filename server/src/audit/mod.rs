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
mod entry;
mod error;
mod shared;
mod trail;
mod writer;

pub(crate) use entry::{Action, Entry, Record};
pub(crate) use error::AuditError;
pub(crate) use shared::SharedTrail;
pub(crate) use trail::{AuditTrail, Filter, Verdict, Written};
pub(crate) use writer::{NotRecorded, record, record_blocking};

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
