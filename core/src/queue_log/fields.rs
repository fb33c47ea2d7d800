//! The fields every queue_log line shares, read the same by the reader, the writer and the AMI
//! mapper: the time, the line-length limit, the id hash and the pause reason.

use crate::event::{Millis, NotReadyReason};

/// Longest line accepted. Real lines are under 300 bytes; a longer one is garbage or hostile.
pub const MAX_LINE_LEN: usize = 4096;

/// The not-ready reason a free-text pause reason names (`PAUSE|Lunch`, AMI `PausedReason: 小休`).
///
/// Asterisk's pause reason is whatever the agent's phone or the dialplan sent, so it is matched
/// loosely: case-insensitive substrings in English and Chinese, the more specific first
/// ("lunch break" is a meal). Anything else is `other`.
pub fn pause_reason(text: &str) -> NotReadyReason {
    const RULES: [(NotReadyReason, &[&str]); 6] = [
        (
            NotReadyReason::Meal,
            &[
                "meal",
                "lunch",
                "dinner",
                "breakfast",
                "用餐",
                "午餐",
                "晚餐",
                "吃饭",
                "就餐",
            ],
        ),
        (NotReadyReason::Meeting, &["meeting", "会议", "开会"]),
        (NotReadyReason::Training, &["training", "培训"]),
        (NotReadyReason::Coaching, &["coach", "辅导"]),
        (NotReadyReason::Outbound, &["outbound", "外呼"]),
        (NotReadyReason::Break, &["break", "rest", "小休", "休息"]),
    ];
    let lower = text.to_lowercase();
    RULES
        .iter()
        .find(|(_, words)| words.iter().any(|w| lower.contains(w)))
        .map(|(reason, _)| *reason)
        .unwrap_or(NotReadyReason::Other)
}

/// Unix seconds, optionally with a fraction (`1700000000.123`), as milliseconds: the time format
/// of queue_log lines and of AMI's `Timestamp:` header.
pub(crate) fn parse_time(field: &str) -> Option<Millis> {
    let field = field.trim();
    let (secs, frac) = field.split_once('.').unwrap_or((field, ""));
    if secs.is_empty() || secs.len() > 11 || !secs.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 9 {
        return None;
    }
    let mut millis: i64 = 0;
    for (i, b) in frac.bytes().take(3).enumerate() {
        millis += i64::from(b - b'0') * [100, 10, 1][i];
    }
    secs.parse::<i64>()
        .ok()?
        .checked_mul(crate::time::SECOND_MS)?
        .checked_add(millis)
}

/// FNV-1a, 64 bits: a stable content hash for event ids (std's hasher may change between
/// releases; ids must not).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_accept_fractions_and_refuse_garbage() {
        assert_eq!(parse_time("1700000000"), Some(1_700_000_000_000));
        assert_eq!(parse_time("1700000000.1"), Some(1_700_000_000_100));
        assert_eq!(parse_time("1700000000.123456"), Some(1_700_000_000_123));
        for bad in [
            "",
            ".5",
            "17e9",
            "-1",
            "1700000000.x",
            "99999999999999",
            "1 7",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn pause_reasons_are_matched_loosely() {
        assert_eq!(pause_reason("Lunch break"), NotReadyReason::Meal);
        assert_eq!(pause_reason("BREAK"), NotReadyReason::Break);
        assert_eq!(pause_reason("小休"), NotReadyReason::Break);
        assert_eq!(pause_reason("team meeting"), NotReadyReason::Meeting);
        assert_eq!(pause_reason("培训"), NotReadyReason::Training);
        assert_eq!(pause_reason("coaching"), NotReadyReason::Coaching);
        assert_eq!(pause_reason("outbound campaign"), NotReadyReason::Outbound);
        assert_eq!(pause_reason(""), NotReadyReason::Other);
        assert_eq!(pause_reason("auto-pause"), NotReadyReason::Other);
    }
}
