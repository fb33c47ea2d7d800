//! Event ids already journaled, so a duplicate never reaches the journal (the engine would
//! ignore it too, but the journal would grow with every resend).
//!
//! Ids are remembered for the days whose journal segments are replayed at start
//! ([`crate::journal::REPLAY_DAYS`]), grouped by the day they were written, so the set is the
//! same after a restart as before it, and memory stays bounded on a server that runs for
//! months. (The engine itself forgets ids after two centre days.)
//!
//! Ids are kept as 128-bit fingerprints, not strings: a day of a busy centre is millions of
//! events, and 16 bytes each keep that to tens of megabytes. The set is rebuilt at every start
//! from the journal, or from a checkpoint and the journal after it, so it is exact across
//! restarts. A checkpoint carries fingerprints to disk, so it records [`fingerprint`] of a
//! fixed probe and is ignored by a build whose hash differs (`crate::checkpoint`). Two distinct ids collide with probability
//! about n²/2¹²⁹: nil for any real day.

use std::collections::{HashSet, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};

use jiff::civil::Date;

#[derive(Debug)]
pub(crate) struct SeenIds {
    /// One set per day of writing, oldest first.
    days: VecDeque<(Date, HashSet<u128>)>,
    keep_days: usize,
}

/// An id's fingerprint: two independent 64-bit SipHashes side by side.
pub(crate) fn fingerprint(id: &str) -> u128 {
    let half = |salt: u8| {
        let mut h = DefaultHasher::new();
        salt.hash(&mut h);
        id.hash(&mut h);
        h.finish()
    };
    (u128::from(half(1)) << 64) | u128::from(half(2))
}

impl SeenIds {
    /// Remembers ids for `keep_days` days of writing.
    pub(crate) fn new(keep_days: usize) -> SeenIds {
        SeenIds {
            days: VecDeque::new(),
            keep_days: keep_days.max(1),
        }
    }

    pub(crate) fn contains(&self, fp: u128) -> bool {
        self.days.iter().any(|(_, set)| set.contains(&fp))
    }

    /// Records a fingerprint written on `day`; false if it was known already. A day later than
    /// the newest starts a new set and forgets the sets beyond `keep_days`; an earlier day (a
    /// clock stepping back) goes into the newest set.
    pub(crate) fn insert(&mut self, day: Date, fp: u128) -> bool {
        if self.contains(fp) {
            return false;
        }
        if self.days.back().is_none_or(|(newest, _)| day > *newest) {
            self.days.push_back((day, HashSet::new()));
            while self.days.len() > self.keep_days {
                self.days.pop_front();
            }
        }
        match self.days.back_mut() {
            Some((_, set)) => set.insert(fp),
            None => false,
        }
    }

    /// Forgets the days of writing before `oldest` (a checkpoint restored on a later day keeps
    /// what a replay of the days from `oldest` would have remembered).
    pub(crate) fn forget_before(&mut self, oldest: Date) {
        self.days.retain(|(day, _)| *day >= oldest);
    }

    /// Every fingerprint, each day's as one run of 16-byte little-endian numbers: the compact
    /// form a checkpoint keeps (docs/ARCHITECTURE.md, "Checkpoints").
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let total: usize = self.days.iter().map(|(_, set)| set.len()).sum();
        let mut out = Vec::with_capacity(8 + self.days.len() * 16 + total * 16);
        out.extend_from_slice(&(self.days.len() as u64).to_le_bytes());
        for (day, set) in &self.days {
            let ymd = i64::from(day.year()) * 10_000
                + i64::from(day.month()) * 100
                + i64::from(day.day());
            out.extend_from_slice(&ymd.to_le_bytes());
            out.extend_from_slice(&(set.len() as u64).to_le_bytes());
            for fp in set {
                out.extend_from_slice(&fp.to_le_bytes());
            }
        }
        out
    }

    /// Reads [`SeenIds::to_bytes`] back; `None` when the bytes are not that form.
    pub(crate) fn from_bytes(mut bytes: &[u8], keep_days: usize) -> Option<SeenIds> {
        fn take<const N: usize>(bytes: &mut &[u8]) -> Option<[u8; N]> {
            let (head, rest) = bytes.split_first_chunk::<N>()?;
            *bytes = rest;
            Some(*head)
        }
        let days = u64::from_le_bytes(take(&mut bytes)?);
        let mut seen = SeenIds::new(keep_days);
        for _ in 0..days {
            let ymd = i64::from_le_bytes(take(&mut bytes)?);
            let day = Date::new(
                i16::try_from(ymd / 10_000).ok()?,
                i8::try_from(ymd / 100 % 100).ok()?,
                i8::try_from(ymd % 100).ok()?,
            )
            .ok()?;
            let len = usize::try_from(u64::from_le_bytes(take(&mut bytes)?)).ok()?;
            let raw = bytes.get(..len.checked_mul(16)?)?;
            bytes = &bytes[raw.len()..];
            let mut set = HashSet::with_capacity(len);
            set.extend(
                raw.chunks_exact(16)
                    .filter_map(|c| c.try_into().ok().map(u128::from_le_bytes)),
            );
            seen.days.push_back((day, set));
        }
        bytes.is_empty().then_some(seen)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.days.iter().map(|(_, set)| set.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn an_id_is_seen_once() {
        let mut seen = SeenIds::new(3);
        assert!(seen.insert(day("2024-03-01"), fingerprint("e1")));
        assert!(!seen.insert(day("2024-03-02"), fingerprint("e1")));
        assert!(seen.contains(fingerprint("e1")));
        assert!(!seen.contains(fingerprint("e2")));
        assert_eq!(fingerprint("ab"), fingerprint("ab"));
        assert_ne!(fingerprint("ab"), fingerprint("ba"));
    }

    #[test]
    fn the_compact_form_reads_back_the_same_days_and_ids() {
        let mut seen = SeenIds::new(3);
        seen.insert(day("2024-03-01"), fingerprint("a"));
        seen.insert(day("2024-03-02"), fingerprint("b"));
        seen.insert(day("2024-03-02"), fingerprint("c"));
        let bytes = seen.to_bytes();
        let back = SeenIds::from_bytes(&bytes, 3).unwrap();
        assert_eq!(back.days, seen.days);
        assert!(SeenIds::from_bytes(&bytes[..bytes.len() - 1], 3).is_none());
        let mut back = back;
        back.forget_before(day("2024-03-02"));
        assert!(!back.contains(fingerprint("a")));
        assert!(back.contains(fingerprint("c")));
    }

    #[test]
    fn ids_are_forgotten_after_the_kept_days() {
        let mut seen = SeenIds::new(2);
        seen.insert(day("2024-03-01"), fingerprint("old"));
        seen.insert(day("2024-03-02"), fingerprint("mid"));
        // A clock stepping back lands in the newest day.
        seen.insert(day("2024-02-01"), fingerprint("back"));
        seen.insert(day("2024-03-03"), fingerprint("new"));
        assert!(!seen.contains(fingerprint("old")));
        for id in ["mid", "back", "new"] {
            assert!(seen.contains(fingerprint(id)), "{id}");
        }
        assert_eq!(seen.len(), 3);
    }
}
