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
//! is rebuilt at every start from the journal, or from a checkpoint and the journal after it,
//! so it is exact across restarts. A checkpoint carries fingerprints to disk, so it records
//! [`fingerprint`] of a fixed probe and is ignored by a build whose hash differs
//! (`crate::checkpoint`). Two distinct ids collide
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

    /// The horizon and every fingerprint, each day's as one run of 16-byte little-endian
    /// numbers: the compact form a checkpoint keeps (docs/ARCHITECTURE.md, "Checkpoints").
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let total: usize = self.days.iter().map(|(_, set)| set.len()).sum();
        let mut out = Vec::with_capacity(16 + self.days.len() * 16 + total * 16);
        out.extend_from_slice(&self.oldest.map_or(0, ymd).to_le_bytes());
        out.extend_from_slice(&(self.days.len() as u64).to_le_bytes());
        for (day, set) in &self.days {
            out.extend_from_slice(&ymd(*day).to_le_bytes());
            out.extend_from_slice(&(set.len() as u64).to_le_bytes());
            for fp in set.iter() {
                out.extend_from_slice(&fp.to_le_bytes());
            }
        }
        out
    }

    /// Reads [`SeenIds::to_bytes`] back; `None` when the bytes are not that form.
    pub(crate) fn from_bytes(mut bytes: &[u8]) -> Option<SeenIds> {
        fn take<const N: usize>(bytes: &mut &[u8]) -> Option<[u8; N]> {
            let (head, rest) = bytes.split_first_chunk::<N>()?;
            *bytes = rest;
            Some(*head)
        }
        let oldest = match i64::from_le_bytes(take(&mut bytes)?) {
            0 => None,
            n => Some(from_ymd(n)?),
        };
        let days = u64::from_le_bytes(take(&mut bytes)?);
        let mut seen = SeenIds {
            days: VecDeque::new(),
            oldest,
        };
        for _ in 0..days {
            let day = from_ymd(i64::from_le_bytes(take(&mut bytes)?))?;
            let len = usize::try_from(u64::from_le_bytes(take(&mut bytes)?)).ok()?;
            let raw = bytes.get(..len.checked_mul(16)?)?;
            bytes = &bytes[raw.len()..];
            let mut set = FingerprintSet::with_capacity(len);
            for chunk in raw.chunks_exact(16) {
                set.insert(u128::from_le_bytes(chunk.try_into().ok()?));
            }
            seen.days.push_back((day, set));
        }
        bytes.is_empty().then_some(seen)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.days.iter().map(|(_, set)| set.len()).sum()
    }
}

/// `YYYYMMDD` as a number, for [`SeenIds::to_bytes`].
fn ymd(day: Date) -> i64 {
    i64::from(day.year()) * 10_000 + i64::from(day.month()) * 100 + i64::from(day.day())
}

fn from_ymd(n: i64) -> Option<Date> {
    Date::new(
        i16::try_from(n / 10_000).ok()?,
        i8::try_from(n / 100 % 100).ok()?,
        i8::try_from(n % 100).ok()?,
    )
    .ok()
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

    /// Every fingerprint held (0 as 1, as stored).
    fn iter(&self) -> impl Iterator<Item = u128> + '_ {
        self.slots.iter().copied().filter(|&s| s != 0)
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
    fn the_compact_form_reads_back_the_same_days_and_ids() {
        let mut seen = SeenIds::new();
        seen.insert(day("2024-03-01"), fingerprint("a"));
        seen.insert(day("2024-03-02"), fingerprint("b"));
        seen.insert(day("2024-03-02"), fingerprint("c"));
        seen.forget_before(day("2024-02-28"));
        let bytes = seen.to_bytes();
        let back = SeenIds::from_bytes(&bytes).unwrap();
        assert_eq!(back.len(), seen.len());
        assert_eq!(back.oldest, seen.oldest);
        for id in ["a", "b", "c"] {
            assert!(back.contains(fingerprint(id)), "{id}");
        }
        assert!(SeenIds::from_bytes(&bytes[..bytes.len() - 1]).is_none());
        let mut back = back;
        back.forget_before(day("2024-03-02"));
        assert!(!back.contains(fingerprint("a")));
        assert!(back.contains(fingerprint("c")));
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
