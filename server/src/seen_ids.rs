//! Event ids already journaled, so a duplicate never reaches the journal (the engine would
//! ignore it too, but the journal would grow with every resend).
//!
//! Ids are remembered for the days whose journal segments are replayed at start
//! ([`crate::journal::REPLAY_DAYS`]), grouped by the day they were written, so the set is the
//! same after a restart as before it, and memory stays bounded on a server that runs for
//! months. (The engine itself forgets ids after two centre days.)
//!
//! Ids are kept as 128-bit fingerprints, not strings: a day of a busy centre is millions of
//! events, and 16 bytes each keep that to tens of megabytes. The set is rebuilt from the
//! journal at every start, so it is exact across restarts; fingerprints never leave memory,
//! so the hash need not be stable across builds. Two distinct ids collide with probability
//! about n²/2¹²⁹ (XXH3-128 is built to spread like that): nil for any real day.

use std::collections::{HashSet, VecDeque};

use rustc_hash::FxBuildHasher;

use jiff::civil::Date;

#[derive(Debug)]
pub(crate) struct SeenIds {
    /// One set per day of writing, oldest first.
    days: VecDeque<(Date, FingerprintSet)>,
    keep_days: usize,
}

/// A set of fingerprints: they are uniformly spread already, so a multiply-rotate hash
/// (rustc-hash) places them as well as SipHash would, at a fraction of the cost.
pub(crate) type FingerprintSet = HashSet<u128, FxBuildHasher>;

/// An id's fingerprint: XXH3's 128-bit hash of its bytes, in one pass.
pub(crate) fn fingerprint(id: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(id.as_bytes())
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
            self.days.push_back((day, FingerprintSet::default()));
            while self.days.len() > self.keep_days {
                self.days.pop_front();
            }
        }
        match self.days.back_mut() {
            Some((_, set)) => set.insert(fp),
            None => false,
        }
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
