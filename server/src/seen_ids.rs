//! Event ids already journaled, so a duplicate never reaches the journal (the floor's engine
//! does not keep ids of its own: `Engine::apply_new`).
//!
//! Ids are grouped by the **centre day of the event's time** (`crate::journal::CentreDays`,
//! the day its journal file is named by), and the days before the floor's yesterday are
//! dropped as the floor's clock moves on ([`SeenIds::forget_before`]): the engine's own rule
//! (ids of two centre days), so a replayed past day or a late event neither lands in today's
//! set nor stays for good, and memory holds two days of ids whatever the uptime (issue 15:
//! three replayed days used to pile into one set of the day of writing). An event of a day
//! already dropped is remembered with the oldest day kept; a resend of an event older than the
//! floor's yesterday is not recognised (nor would the engine recognise it).
//!
//! Ids are kept as 128-bit fingerprints in an open-addressing table sized for the largest day
//! seen (a new day's table is allocated once, never doubled under load): 16 bytes an id at a
//! load of 7/8 at most, about 51 MB for the large day's 2.78 M events (BENCHMARKS.md). The set
//! is rebuilt from the journal at every start, so it is exact across restarts; fingerprints
//! never leave memory, so the hash need not be stable across builds. Two distinct ids collide
//! with probability about n²/2¹²⁹: nil for any real day.

use std::collections::VecDeque;

use jiff::civil::Date;

#[derive(Debug, Default)]
pub(crate) struct SeenIds {
    /// One set per centre day, oldest first.
    days: VecDeque<(Date, FingerprintSet)>,
    /// Days before this are forgotten; ids of such days go into the set of this one.
    oldest: Option<Date>,
}

/// An id's fingerprint: XXH3's 128-bit hash of its bytes, in one pass.
pub(crate) fn fingerprint(id: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(id.as_bytes())
}

impl SeenIds {
    pub(crate) fn new() -> SeenIds {
        SeenIds::default()
    }

    pub(crate) fn contains(&self, fp: u128) -> bool {
        self.days.iter().any(|(_, set)| set.contains(fp))
    }

    /// Records a fingerprint of an event of centre day `day`; false if it was known already.
    pub(crate) fn insert(&mut self, day: Date, fp: u128) -> bool {
        if self.contains(fp) {
            return false;
        }
        let day = self.oldest.map_or(day, |oldest| day.max(oldest));
        let at = match self.days.binary_search_by_key(&day, |(d, _)| *d) {
            Ok(at) => at,
            Err(at) => {
                // Sized for the largest day kept: yesterday's size is today's best guess.
                let size = self.days.iter().map(|(_, s)| s.len()).max().unwrap_or(0);
                self.days
                    .insert(at, (day, FingerprintSet::with_capacity(size)));
                at
            }
        };
        self.days[at].1.insert(fp)
    }

    /// Forgets the ids of days before `oldest` (the floor's yesterday, as its clock moves on).
    pub(crate) fn forget_before(&mut self, oldest: Date) {
        if self.oldest.is_some_and(|o| o >= oldest) {
            return;
        }
        self.oldest = Some(oldest);
        while self.days.front().is_some_and(|(d, _)| *d < oldest) {
            self.days.pop_front();
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.days.iter().map(|(_, set)| set.len()).sum()
    }
}

/// A set of fingerprints: open addressing with linear probing over a table of any size (the
/// slot from a multiply-shift of the fingerprint's low half), 0 meaning empty.
#[derive(Debug)]
struct FingerprintSet {
    slots: Box<[u128]>,
    len: usize,
}

impl FingerprintSet {
    /// A set holding `n` fingerprints without growing.
    fn with_capacity(n: usize) -> FingerprintSet {
        FingerprintSet {
            slots: vec![0u128; (n + n / 7).max(64)].into_boxed_slice(),
            len: 0,
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// The slot holding `fp`, or the empty slot where it would go.
    fn probe(&self, fp: u128) -> usize {
        let n = self.slots.len();
        let mut i = ((u128::from(fp as u64) * n as u128) >> 64) as usize;
        loop {
            let slot = self.slots[i];
            if slot == fp || slot == 0 {
                return i;
            }
            i += 1;
            if i == n {
                i = 0;
            }
        }
    }

    fn contains(&self, fp: u128) -> bool {
        self.slots[self.probe(fp.max(1))] != 0
    }

    /// False if it was there already.
    fn insert(&mut self, fp: u128) -> bool {
        let fp = fp.max(1);
        if (self.len + 1) * 8 > self.slots.len() * 7 {
            let mut bigger = FingerprintSet::with_capacity(self.slots.len() * 2);
            for &old in self.slots.iter().filter(|&&s| s != 0) {
                let i = bigger.probe(old);
                bigger.slots[i] = old;
            }
            bigger.len = self.len;
            *self = bigger;
        }
        let i = self.probe(fp);
        if self.slots[i] != 0 {
            return false;
        }
        self.slots[i] = fp;
        self.len += 1;
        true
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
        let mut seen = SeenIds::new();
        assert!(seen.insert(day("2024-03-01"), fingerprint("e1")));
        assert!(!seen.insert(day("2024-03-02"), fingerprint("e1")));
        assert!(seen.contains(fingerprint("e1")));
        assert!(!seen.contains(fingerprint("e2")));
        assert_eq!(fingerprint("ab"), fingerprint("ab"));
        assert_ne!(fingerprint("ab"), fingerprint("ba"));
        // Zero is a fingerprint like any other.
        assert!(seen.insert(day("2024-03-01"), 0));
        assert!(!seen.insert(day("2024-03-01"), 0));
    }

    #[test]
    fn ids_are_kept_by_event_day_and_forgotten_before_the_horizon() {
        let mut seen = SeenIds::new();
        // A replayed past day and today's events, interleaved: each goes to its own day.
        seen.insert(day("2024-03-01"), fingerprint("old"));
        seen.insert(day("2024-03-03"), fingerprint("new"));
        seen.insert(day("2024-03-02"), fingerprint("mid"));
        seen.forget_before(day("2024-03-02"));
        assert!(!seen.contains(fingerprint("old")));
        for id in ["mid", "new"] {
            assert!(seen.contains(fingerprint(id)), "{id}");
        }
        // A late event of a forgotten day is remembered with the oldest day kept.
        assert!(seen.insert(day("2024-02-01"), fingerprint("late")));
        assert!(!seen.insert(day("2024-02-01"), fingerprint("late")));
        seen.forget_before(day("2024-03-03"));
        assert_eq!(seen.len(), 1);
        assert!(seen.contains(fingerprint("new")));
        // The horizon never moves back.
        seen.forget_before(day("2024-03-01"));
        assert!(seen.insert(day("2024-03-01"), fingerprint("x")));
        assert_eq!(seen.days.len(), 1);
    }

    #[test]
    fn a_set_grows_past_its_size_and_keeps_everything() {
        let mut set = FingerprintSet::with_capacity(10);
        for i in 0..10_000u128 {
            assert!(set.insert(i.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)));
        }
        assert_eq!(set.len(), 10_000);
        for i in 0..10_000u128 {
            assert!(set.contains(i.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)));
        }
        assert!(!set.contains(12_345));
        // A new day's set is sized for the largest kept: it does not grow.
        let mut seen = SeenIds::new();
        for i in 0..1_000 {
            seen.insert(day("2024-03-01"), fingerprint(&format!("a{i}")));
        }
        seen.insert(day("2024-03-02"), fingerprint("b"));
        assert!(seen.days[1].1.slots.len() >= 1_000 * 8 / 7);
    }
}
