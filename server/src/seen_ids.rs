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
//! Ids are kept as 64-bit fingerprints (XXH3-64) in an open-addressing table sized for the
//! largest day seen and a sixteenth more (a new day's table is allocated once, not grown under
//! load; a day kept is refitted to its ids when the next starts): 8 bytes an id at a load of
//! 7/8 at most, about 27 MB for the large day's 2.78 M events, 54 MB for the two days kept (BENCHMARKS.md, "The journal and memory day over day"; 128-bit fingerprints
//! took twice that and held RSS over 250 MB). The set is rebuilt at every start from the
//! journal, or from a checkpoint and the journal after it, so it is exact across restarts. A
//! checkpoint carries fingerprints to disk, so it records [`fingerprint`] of a fixed probe and
//! is ignored by a build whose hash differs (`crate::checkpoint`).
//!
//! **Collisions** (docs/ARCHITECTURE.md, "The journal"): a new event whose fingerprint equals
//! one kept is taken for a duplicate and answered as one (`duplicate` in its batch's reply and
//! `/metrics`), not journaled. With `k` ids kept and `m` new ones arriving, the chance of any
//! such mistake is about `k·m/2⁶⁴`: for the large floor (2.78 M events a day, at most 5.6 M
//! kept) about 8·10⁻⁷ a day, one mistaken duplicate in some 3,000 years; for 8 M ids in a
//! two-day window (`n²/2⁶⁵`, every pair of the window) 1.7·10⁻⁶. The engine's own ids of two
//! days (`Engine::apply`) were 64-bit already.

use std::collections::VecDeque;

use jiff::civil::Date;

#[derive(Debug, Default)]
pub(crate) struct SeenIds {
    /// One set per centre day, oldest first.
    days: VecDeque<(Date, FingerprintSet)>,
    /// Days before this are forgotten; ids of such days go into the set of this one.
    oldest: Option<Date>,
}

/// An id's fingerprint (see the module doc for its collision odds).
pub(crate) type Fingerprint = u64;

/// An id's fingerprint: XXH3's 64-bit hash of its bytes, in one pass.
pub(crate) fn fingerprint(id: &str) -> Fingerprint {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes())
}

/// A table is sized for `n + n / HEADROOM` ids: a new day's for the largest day kept and a
/// little more, a finished day's for its ids and room for its late events. A table sized for
/// exactly yesterday's count filled up near the end of a day with 0.3 % more events and was
/// rebuilt at twice its size (25 MB more for two days: BENCHMARKS.md, "The journal and memory
/// day over day").
const HEADROOM: usize = 16;

/// Bytes of one fingerprint in [`SeenIds::to_bytes`].
const FP_BYTES: usize = std::mem::size_of::<Fingerprint>();

impl SeenIds {
    pub(crate) fn new() -> SeenIds {
        SeenIds::default()
    }

    pub(crate) fn contains(&self, fp: Fingerprint) -> bool {
        self.days.iter().any(|(_, set)| set.contains(fp))
    }

    /// Reads the first slot each of `fps` would probe in every day's set and throws the
    /// values away: their cache misses then overlap (the processor has many reads in flight at
    /// once) instead of coming one after another in [`SeenIds::contains`], one per event, on
    /// the recorder's thread (issue 15: a day's table is far larger than the cache, so every
    /// lookup of a new id missed it).
    pub(crate) fn warm(&self, fps: &[Fingerprint]) {
        let mut read = 0;
        for (_, set) in &self.days {
            for &fp in fps {
                read ^= set.slots[set.home(fp.max(1))];
            }
        }
        std::hint::black_box(read);
    }

    /// Records a fingerprint of an event of centre day `day`; false if it was known already.
    /// One probe of each day's set: the day's own set is probed by its insert alone.
    pub(crate) fn insert(&mut self, day: Date, fp: Fingerprint) -> bool {
        let day = self.oldest.map_or(day, |oldest| day.max(oldest));
        let found = self.days.binary_search_by_key(&day, |(d, _)| *d);
        let known_elsewhere = self
            .days
            .iter()
            .enumerate()
            .any(|(i, (_, set))| found != Ok(i) && set.contains(fp));
        if known_elsewhere {
            return false;
        }
        let at = match found {
            Ok(at) => at,
            Err(at) => {
                // Sized for the largest day kept: yesterday's size is today's best guess,
                // with room for a busier day (`HEADROOM`). The days already kept are done
                // growing but for late events: each is refitted to its ids, so a first day's
                // table, grown by steps without a guess, does not hold its slack for two days.
                let size = self.days.iter().map(|(_, s)| s.len()).max().unwrap_or(0);
                for (_, set) in &mut self.days {
                    set.refit();
                }
                self.days.insert(
                    at,
                    (day, FingerprintSet::with_capacity(size + size / HEADROOM)),
                );
                at
            }
        };
        self.days[at].1.insert(fp)
    }

    /// Takes `fps` out again (filed for a group that could not be made durable: its resend must
    /// be new). Each day's set holding any of them is rebuilt without them, at its size: a rare
    /// path (the journal failing), so no deletion is kept in the table's probing.
    pub(crate) fn forget_ids(&mut self, fps: impl IntoIterator<Item = Fingerprint>) {
        let gone: rustc_hash::FxHashSet<Fingerprint> =
            fps.into_iter().map(|fp| fp.max(1)).collect();
        if gone.is_empty() {
            return;
        }
        for (_, set) in &mut self.days {
            if set.iter().any(|fp| gone.contains(&fp)) {
                set.rebuild_without(set.len(), |fp| gone.contains(&fp));
            }
        }
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

    /// The horizon and every fingerprint, each day's as one run of 8-byte little-endian
    /// numbers: the compact form a checkpoint keeps (docs/ARCHITECTURE.md, "Checkpoints").
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let total: usize = self.days.iter().map(|(_, set)| set.len()).sum();
        let mut out = Vec::with_capacity(16 + self.days.len() * 16 + total * FP_BYTES);
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
            let raw = bytes.get(..len.checked_mul(FP_BYTES)?)?;
            bytes = &bytes[raw.len()..];
            let mut set = FingerprintSet::with_capacity(len);
            for chunk in raw.chunks_exact(FP_BYTES) {
                set.insert(Fingerprint::from_le_bytes(chunk.try_into().ok()?));
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
/// slot from a multiply-shift of the fingerprint), 0 meaning empty (a fingerprint 0 is kept
/// as 1: one more collision in 2⁶⁴).
#[derive(Debug)]
struct FingerprintSet {
    slots: Box<[Fingerprint]>,
    len: usize,
}

impl FingerprintSet {
    /// A set holding `n` fingerprints without growing.
    fn with_capacity(n: usize) -> FingerprintSet {
        FingerprintSet {
            slots: vec![0; (n + n / 7).max(64)].into_boxed_slice(),
            len: 0,
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// The slot `fp` is looked for first: a multiply-shift of the fingerprint.
    fn home(&self, fp: Fingerprint) -> usize {
        ((u128::from(fp) * self.slots.len() as u128) >> 64) as usize
    }

    /// The slot holding `fp`, or the empty slot where it would go.
    fn probe(&self, fp: Fingerprint) -> usize {
        let n = self.slots.len();
        let mut i = self.home(fp);
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

    fn contains(&self, fp: Fingerprint) -> bool {
        self.slots[self.probe(fp.max(1))] != 0
    }

    /// The same fingerprints in a table sized for `n` (at least `len`).
    fn rebuild(&mut self, n: usize) {
        self.rebuild_without(n, |_| false);
    }

    /// The fingerprints but those `gone` names, in a table sized for `n` (at least as many as
    /// are kept).
    fn rebuild_without(&mut self, n: usize, gone: impl Fn(Fingerprint) -> bool) {
        let mut other = FingerprintSet::with_capacity(n.max(self.len));
        for old in self.iter().filter(|&fp| !gone(fp)) {
            let i = other.probe(old);
            other.slots[i] = old;
            other.len += 1;
        }
        *self = other;
    }

    /// Resized to its ids and [`HEADROOM`] when it holds more than that (a table that grew by
    /// steps); a rebuild of a day's ids, once a day.
    fn refit(&mut self) {
        let fitted = self.len + self.len / HEADROOM;
        if FingerprintSet::with_capacity(fitted).slots.len() < self.slots.len() {
            self.rebuild(fitted);
        }
    }

    /// Every fingerprint held (0 as 1, as stored).
    fn iter(&self) -> impl Iterator<Item = Fingerprint> + '_ {
        self.slots.iter().copied().filter(|&s| s != 0)
    }

    /// False if it was there already.
    fn insert(&mut self, fp: Fingerprint) -> bool {
        let fp = fp.max(1);
        if (self.len + 1) * 8 > self.slots.len() * 7 {
            // Half as large again: a day with no guess (the first) grows by steps, each
            // a rebuild, and ends at most half again its need (refitted when the next day
            // starts).
            self.rebuild(self.len + self.len / 2);
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
    fn ids_taken_back_are_new_again_and_the_others_stay() {
        let mut seen = SeenIds::new();
        for i in 0..200 {
            assert!(seen.insert(day("2024-03-01"), fingerprint(&format!("e{i}"))));
        }
        assert!(seen.insert(day("2024-03-02"), 0));
        seen.forget_ids(
            (0..200)
                .step_by(3)
                .map(|i| fingerprint(&format!("e{i}")))
                .chain([0]),
        );
        for i in 0..200 {
            assert_eq!(
                seen.contains(fingerprint(&format!("e{i}"))),
                i % 3 != 0,
                "e{i}"
            );
        }
        assert!(!seen.contains(0));
        assert_eq!(seen.len(), 200 - 67);
        assert!(seen.insert(day("2024-03-01"), fingerprint("e0")));
        assert!(seen.insert(day("2024-03-02"), 0));
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
    fn a_resend_across_the_day_boundary_is_still_a_duplicate() {
        // An event of the evening before midnight, and its resend after the floor's clock
        // entered the next day (the recorder then forgets the days before yesterday only).
        let mut seen = SeenIds::new();
        assert!(seen.insert(day("2024-03-01"), fingerprint("late-evening")));
        seen.forget_before(day("2024-03-01"));
        assert!(!seen.insert(day("2024-03-02"), fingerprint("late-evening")));
        assert!(!seen.insert(day("2024-03-01"), fingerprint("late-evening")));
        // Ids of today and yesterday both held through a checkpoint's compact form.
        assert!(seen.insert(day("2024-03-02"), fingerprint("after-midnight")));
        let mut back = SeenIds::from_bytes(&seen.to_bytes()).unwrap();
        assert!(!back.insert(day("2024-03-02"), fingerprint("late-evening")));
        assert!(!back.insert(day("2024-03-02"), fingerprint("after-midnight")));
        // Two days on, yesterday's ids are gone, today's stay.
        back.forget_before(day("2024-03-02"));
        assert!(back.insert(day("2024-03-03"), fingerprint("late-evening")));
        assert!(!back.insert(day("2024-03-03"), fingerprint("after-midnight")));
    }

    #[test]
    fn the_compact_form_takes_eight_bytes_an_id() {
        let mut seen = SeenIds::new();
        for i in 0..1_000 {
            seen.insert(day("2024-03-01"), fingerprint(&format!("a{i}")));
            seen.insert(day("2024-03-02"), fingerprint(&format!("b{i}")));
        }
        // The horizon and the count of days, then per day its date, its count and its ids.
        assert_eq!(seen.to_bytes().len(), 16 + 2 * 16 + 2_000 * 8);
        // A day's table holds its ids at a load of 7/8 at most, in slots of 8 bytes.
        for (_, set) in &seen.days {
            assert!(set.slots.len() * 7 >= 1_000 * 8, "{}", set.slots.len());
            assert_eq!(std::mem::size_of_val(&*set.slots), set.slots.len() * 8);
        }
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
    fn warming_changes_nothing_held() {
        let mut seen = SeenIds::new();
        let fps: Vec<Fingerprint> = (0..100).map(|i| fingerprint(&format!("w{i}"))).collect();
        seen.warm(&fps);
        for &fp in &fps[..50] {
            assert!(seen.insert(day("2024-03-01"), fp));
        }
        seen.warm(&fps);
        assert_eq!(seen.len(), 50);
        assert!(fps[..50].iter().all(|&fp| seen.contains(fp)));
        assert!(!fps[50..].iter().any(|&fp| seen.contains(fp)));
        // A duplicate of another day's id is refused without opening a set for its own day.
        assert!(!seen.insert(day("2024-03-02"), fps[0]));
        assert_eq!(seen.days.len(), 1);
    }

    #[test]
    fn a_set_grows_past_its_size_and_keeps_everything() {
        let mut set = FingerprintSet::with_capacity(10);
        for i in 0..10_000u64 {
            assert!(set.insert(i.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
        }
        assert_eq!(set.len(), 10_000);
        for i in 0..10_000u64 {
            assert!(set.contains(i.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
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

    #[test]
    fn a_busier_day_fits_its_table_and_a_grown_day_is_refitted_when_the_next_starts() {
        let mut seen = SeenIds::new();
        // The first day has no guess: its table grows by steps, past its need.
        for i in 0..10_000 {
            seen.insert(day("2024-03-01"), fingerprint(&format!("a{i}")));
        }
        let grown = seen.days[0].1.slots.len();
        assert!(grown > 10_000 * 17 / 16 * 8 / 7 + 1, "{grown}");
        // A day with 3 % more events than the largest kept fits the table it starts with.
        for i in 0..10_300 {
            seen.insert(day("2024-03-02"), fingerprint(&format!("b{i}")));
        }
        let fitted = FingerprintSet::with_capacity(10_000 + 10_000 / HEADROOM)
            .slots
            .len();
        assert_eq!(seen.days[0].1.slots.len(), fitted, "the first day refitted");
        assert_eq!(
            seen.days[1].1.slots.len(),
            fitted,
            "the second day's table did not grow"
        );
        // Nothing was lost in the refit.
        for i in 0..10_000 {
            assert!(seen.contains(fingerprint(&format!("a{i}"))), "a{i}");
        }
        assert_eq!(seen.len(), 20_300);
    }
}
