//! Histograms in the stored V2 form written and merged straight from their few non-zero counts,
//! byte for byte what hdrhistogram's `V2Serializer` writes for the same samples, without
//! building a full histogram (docs/HISTORY.md, "The store").
//!
//! Why: a delta holds one or two samples, yet encoding it through [`Samples`] allocated and
//! zeroed a 26 KB histogram (the counts of `floorwatch_core`'s `empty_histogram`) and
//! serialised it, and merging it into a stored row decoded two such histograms and encoded a
//! third: about a third of the history thread's time in a replay of the 30-day queue_log
//! (BENCHMARKS.md, "Sixth pass: history"). The V2 form is the counts array up to the highest
//! non-zero one, each count a zig-zag varint and each run of zeros longer than one a negative
//! count, behind a 40-byte header; both are rebuilt here from (index, count) pairs. A histogram
//! whose header is not the common bounds' (a store written with other bounds) goes the full
//! way, re-recorded into the common bounds as before.

use std::sync::LazyLock;

use floorwatch_core::history::Samples;
use hdrhistogram::serialization::{Serializer, V2Serializer};

/// The V2 header's length.
const HEADER: usize = 40;

/// How the common bounds lay values out in the counts array, taken from hdrhistogram itself.
struct Layout {
    /// The lowest value each index of the counts array counts, ascending (index 0 counts 0).
    lowest: Vec<u64>,
    /// The V2 header of a histogram with the common bounds, its payload length (bytes 4..8)
    /// zeroed.
    header: [u8; HEADER],
}

/// `None` if hdrhistogram would not serialise a sample (it always does: then every histogram
/// goes the full way).
static LAYOUT: LazyLock<Option<Layout>> = LazyLock::new(|| {
    let mut one = Samples::default();
    one.record(1);
    let h = one.histogram()?;
    let mut bytes = Vec::new();
    V2Serializer::new().serialize(h, &mut bytes).ok()?;
    let mut header = [0u8; HEADER];
    header.copy_from_slice(bytes.get(..HEADER)?);
    header[4..8].fill(0);
    // Index by index: each one counts the values from its lowest up to the next's.
    let top = u64::from(u32::MAX);
    let mut lowest = Vec::new();
    let mut value = 0u64;
    while value <= top {
        lowest.push(value);
        value = h.next_non_equivalent(value);
    }
    Some(Layout { lowest, header })
});

/// A histogram as its non-zero counts: (index in the counts array, count), by index.
pub(super) type Counts = Vec<(u32, u64)>;

/// The counts of `samples` (ms), recorded as [`Samples::record`] records them.
pub(super) fn counts_of(samples: &[u32]) -> Option<Counts> {
    let layout = LAYOUT.as_ref()?;
    let mut indices: Vec<u32> = samples
        .iter()
        .map(|&ms| {
            let at = layout.lowest.partition_point(|&low| low <= u64::from(ms));
            // `lowest[0]` is 0, so every value has an index: `at` is at least 1.
            (at - 1) as u32
        })
        .collect();
    indices.sort_unstable();
    let mut out: Counts = Vec::with_capacity(indices.len());
    for i in indices {
        match out.last_mut() {
            Some((last, n)) if *last == i => *n += 1,
            _ => out.push((i, 1)),
        }
    }
    Some(out)
}

/// The V2 bytes of a histogram of the common bounds holding `counts`; `None` (SQL NULL) when
/// it holds none, as [`super::rows::encode_histogram`].
pub(super) fn encode(counts: &[(u32, u64)]) -> Option<Vec<u8>> {
    let layout = LAYOUT.as_ref()?;
    if counts.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(HEADER + counts.len() * 4);
    out.extend_from_slice(&layout.header);
    let mut next = 0u32;
    for &(i, n) in counts {
        // A single zero is written as a count of 0, a longer run as minus its length.
        match i - next {
            0 => {}
            1 => varint(&mut out, 0),
            gap => varint(&mut out, zig_zag(-i64::from(gap))),
        }
        // A count above i64::MAX cannot be written: the serializer fails, which left the
        // samples out; so does this.
        varint(&mut out, zig_zag(i64::try_from(n).ok()?));
        next = i + 1;
    }
    let payload = u32::try_from(out.len() - HEADER).ok()?;
    out[4..8].copy_from_slice(&payload.to_be_bytes());
    Some(out)
}

/// The counts of stored V2 bytes if they have the common bounds' header and decode cleanly;
/// `None` sends them the full way (which also names a damaged one).
pub(super) fn decode(bytes: &[u8]) -> Option<Counts> {
    let layout = LAYOUT.as_ref()?;
    let header = bytes.get(..HEADER)?;
    if header[..4] != layout.header[..4] || header[8..] != layout.header[8..] {
        return None;
    }
    let payload = u32::from_be_bytes(header[4..8].try_into().ok()?) as usize;
    let mut rest = bytes.get(HEADER..)?;
    if rest.len() != payload {
        return None;
    }
    let mut out = Counts::new();
    let mut index: u64 = 0;
    while !rest.is_empty() {
        let n = un_zig_zag(read_varint(&mut rest)?);
        if n < 0 {
            index = index.checked_add(n.unsigned_abs())?;
        } else {
            if index >= layout.lowest.len() as u64 {
                return None;
            }
            if n > 0 {
                out.push((index as u32, n as u64));
            }
            index += 1;
        }
    }
    Some(out)
}

/// Both histograms' counts together (a stored row's and a delta's), as `Histogram::add` adds
/// counts of the same bounds (saturating).
pub(super) fn merge(a: &[(u32, u64)], b: &[(u32, u64)]) -> Counts {
    let mut out = Counts::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let ((ia, na), (ib, nb)) = (a[i], b[j]);
        if ia == ib {
            out.push((ia, na.saturating_add(nb)));
            i += 1;
            j += 1;
        } else if ia < ib {
            out.push((ia, na));
            i += 1;
        } else {
            out.push((ib, nb));
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

fn zig_zag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn un_zig_zag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

/// hdrhistogram's LEB128-64b9B: seven bits a byte, low first, the ninth byte whole.
fn varint(out: &mut Vec<u8>, mut n: u64) {
    for _ in 0..8 {
        if n < 0x80 {
            out.push(n as u8);
            return;
        }
        out.push((n as u8 & 0x7F) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn read_varint(rest: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for k in 0..9 {
        let (&b, tail) = rest.split_first()?;
        *rest = tail;
        if k == 8 {
            return Some(value | (u64::from(b) << 56));
        }
        value |= u64::from(b & 0x7F) << (7 * k);
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::super::rows::{encode_histogram, merge_histograms_full};
    use super::super::test_rng::Rng;
    use super::*;

    /// A sample as the floor records them: mostly seconds to minutes, some at the edges.
    fn sample(rng: &mut Rng) -> u32 {
        match rng.next() % 8 {
            0 => (rng.next() % 300) as u32,
            1 => u32::MAX - (rng.next() % 3) as u32,
            2 => rng.next() as u32,
            _ => (rng.next() % 3_600_000) as u32,
        }
    }

    fn samples(rng: &mut Rng) -> Vec<u32> {
        let n = rng.next() % 6;
        (0..n).map(|_| sample(rng)).collect()
    }

    fn full(samples: &[u32]) -> Option<Vec<u8>> {
        let mut s = Samples::default();
        for &ms in samples {
            s.record(ms);
        }
        encode_histogram(&s)
    }

    /// The bytes are hdrhistogram's for the same samples, and merging two stored histograms
    /// gives the bytes the full decode, add and encode gave, over random samples (zeros, runs
    /// of one zero, the top of the range, repeated values).
    #[test]
    fn sparse_bytes_are_hdrhistograms() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for case in 0..3_000 {
            let (a, b) = (samples(&mut rng), samples(&mut rng));
            let ca = counts_of(&a).unwrap();
            let cb = counts_of(&b).unwrap();
            assert_eq!(encode(&ca), full(&a), "case {case}: {a:?}");
            let (Some(ba), Some(bb)) = (full(&a), full(&b)) else {
                continue;
            };
            assert_eq!(decode(&ba).unwrap(), ca, "case {case}");
            let merged = encode(&merge(&ca, &cb));
            assert_eq!(
                merged,
                merge_histograms_full(&ba, &bb).unwrap(),
                "case {case}"
            );
        }
        // Adjacent indices, a single zero between two counts, and index 0.
        for a in [vec![0, 1], vec![0, 2], vec![5, 5, 7], vec![255, 256, 258]] {
            assert_eq!(encode(&counts_of(&a).unwrap()), full(&a), "{a:?}");
        }
    }

    /// Bytes that are not the common bounds' go the full way.
    #[test]
    fn other_bounds_are_not_decoded_here() {
        let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 1_000_000, 3).unwrap();
        h.record(1_000).unwrap();
        let mut bytes = Vec::new();
        V2Serializer::new().serialize(&h, &mut bytes).unwrap();
        assert_eq!(decode(&bytes), None);
        let mut ours = full(&[1_000]).unwrap();
        assert!(decode(&ours).is_some());
        ours.push(0);
        assert_eq!(decode(&ours), None);
    }
}
