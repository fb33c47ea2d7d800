//! The hash chain, as pure functions: how a record is sealed onto the one before it and how
//! a line is checked.
//!
//! `hash = SHA-256(prev ‖ canonical)`, where `prev` is the previous record's hash as 64 ASCII
//! hex digits (64 zeros before the first) and `canonical` is the compact JSON object of the
//! record's own fields in this order: `seq`, `time`, `actor`, `action`, `target`, `detail`.
//! Anyone can recompute it with `sha256sum` and `jq -cj '{seq,time,actor,action,target,detail}'`.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Action, Entry, Record};

/// The `prev` of the first record.
pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Longest actor kept, in characters; longer ones are cut (an audit write never fails on size).
pub(crate) const MAX_ACTOR_CHARS: usize = 128;
/// Longest target kept, in characters.
pub(crate) const MAX_TARGET_CHARS: usize = 256;
/// Longest detail kept, in characters.
pub(crate) const MAX_DETAIL_CHARS: usize = 2048;

#[derive(Serialize)]
struct Canonical<'a> {
    seq: u64,
    time: &'a str,
    actor: &'a str,
    action: Action,
    target: &'a str,
    detail: &'a str,
}

/// The record's hash given the previous one (see the module doc for the exact bytes).
pub(crate) fn hash(
    prev: &str,
    seq: u64,
    time: &str,
    actor: &str,
    action: Action,
    target: &str,
    detail: &str,
) -> String {
    let canonical = Canonical {
        seq,
        time,
        actor,
        action,
        target,
        detail,
    };
    // Serialising strings, an integer and a unit enum cannot fail.
    let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(prev.as_bytes());
    hasher.update(&bytes);
    format!("{:x}", hasher.finalize())
}

/// The record that follows `prev` (the previous record's seq and hash, or `None` for the
/// first) for `entry` at `time`.
pub(crate) fn seal(prev: Option<(u64, &str)>, time: jiff::Timestamp, entry: Entry) -> Record {
    let (seq, prev) = match prev {
        Some((seq, hash)) => (seq + 1, hash.to_string()),
        None => (1, GENESIS.to_string()),
    };
    let time = jiff::Timestamp::from_millisecond(time.as_millisecond())
        .unwrap_or(time)
        .to_string();
    let actor = cut(entry.actor, MAX_ACTOR_CHARS);
    let target = cut(entry.target, MAX_TARGET_CHARS);
    let detail = cut(entry.detail, MAX_DETAIL_CHARS);
    let hash = hash(&prev, seq, &time, &actor, entry.action, &target, &detail);
    Record {
        seq,
        time,
        actor,
        action: entry.action,
        target,
        detail,
        prev,
        hash,
    }
}

/// Checks that `record` follows the record with `prev` (seq and hash; `None` before the
/// first) and that its own hash is right. The error says what is wrong, for `audit verify`.
pub(crate) fn check(prev: Option<(u64, &str)>, record: &Record) -> Result<(), String> {
    let (want_seq, want_prev) = match prev {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS),
    };
    if record.seq != want_seq {
        return Err(format!(
            "seq is {} where {want_seq} was due (a record was removed, inserted or renumbered)",
            record.seq
        ));
    }
    if record.prev != want_prev {
        return Err(
            "prev does not match the previous record's hash (a record before it was changed, \
             removed or inserted)"
                .into(),
        );
    }
    let recomputed = hash(
        &record.prev,
        record.seq,
        &record.time,
        &record.actor,
        record.action,
        &record.target,
        &record.detail,
    );
    if record.hash != recomputed {
        return Err("the record's content does not match its hash (it was edited)".into());
    }
    Ok(())
}

fn cut(text: String, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text,
        Some((at, _)) => format!("{}…", &text[..at]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(ms).unwrap()
    }

    fn entry(detail: &str) -> Entry {
        Entry::new("cli:root", Action::UserAdd, "user:alice", detail)
    }

    #[test]
    fn records_chain_from_the_genesis() {
        let first = seal(None, at(1_700_000_000_123), entry("role=admin"));
        assert_eq!(first.seq, 1);
        assert_eq!(first.prev, GENESIS);
        assert_eq!(first.time, "2023-11-14T22:13:20.123Z");
        assert_eq!(first.hash.len(), 64);
        check(None, &first).unwrap();
        let second = seal(
            Some((first.seq, &first.hash)),
            at(1_700_000_001_000),
            entry(""),
        );
        assert_eq!(second.seq, 2);
        assert_eq!(second.prev, first.hash);
        check(Some((1, &first.hash)), &second).unwrap();
    }

    #[test]
    fn the_hash_is_sha256_of_prev_and_the_compact_json() {
        let record = seal(None, at(0), entry("x"));
        let canonical = r#"{"seq":1,"time":"1970-01-01T00:00:00Z","actor":"cli:root","action":"user_add","target":"user:alice","detail":"x"}"#;
        let mut hasher = Sha256::new();
        hasher.update(GENESIS.as_bytes());
        hasher.update(canonical.as_bytes());
        assert_eq!(record.hash, format!("{:x}", hasher.finalize()));
    }

    #[test]
    fn any_edit_is_caught() {
        let first = seal(None, at(0), entry("role=team_lead"));
        let mut edited = first.clone();
        edited.detail = "role=admin".into();
        assert!(check(None, &edited).unwrap_err().contains("edited"));
        let mut renumbered = first.clone();
        renumbered.seq = 2;
        assert!(check(None, &renumbered).unwrap_err().contains("seq"));
        let second = seal(Some((1, &first.hash)), at(1), entry(""));
        // Dropping the first record: the second no longer follows the genesis.
        let err = check(None, &second).unwrap_err();
        assert!(err.contains("seq"), "{err}");
        let err = check(Some((1, GENESIS)), &second).unwrap_err();
        assert!(err.contains("prev"), "{err}");
    }

    #[test]
    fn long_fields_are_cut_not_refused() {
        let record = seal(None, at(0), entry(&"值".repeat(MAX_DETAIL_CHARS + 10)));
        assert_eq!(record.detail.chars().count(), MAX_DETAIL_CHARS + 1);
        assert!(record.detail.ends_with('…'));
        check(None, &record).unwrap();
    }
}
