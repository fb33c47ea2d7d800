//! [`JournalBatch`]: the events of one append, as NDJSON lines with the centre day of each, in
//! the order the floor applies them.
//!
//! It takes each event's bytes as they are to be journaled (`Event::to_json`'s; HTTP and
//! websocket ingest hand over the received line when it is already that,
//! `crate::event_lines::EventLines`), and groups consecutive
//! events of one day into runs: one frame each in that day's file.

use std::cell::RefCell;

use jiff::civil::Date;

use super::frames::{Encoder, PackedLines};

/// Most NDJSON bytes in one frame: a replay's group of batches is split, so that reading a
/// frame back never needs more than this (and a damaged frame loses no more than this).
pub(crate) const FRAME_BYTES: usize = 1 << 20;

/// NDJSON lines of one append, in runs of one day each.
#[derive(Debug, Default)]
pub(crate) struct JournalBatch {
    lines: Vec<u8>,
    /// (day, start and end of the run in `lines`, events), in order.
    runs: Vec<(Date, Run)>,
}

/// One run of a [`JournalBatch`]: lines still to compress, or a body compressed already.
#[derive(Debug)]
enum Run {
    /// `lines[start..end]`, `events` lines.
    Lines {
        start: usize,
        end: usize,
        events: u32,
    },
    Packed(PackedLines),
}

/// One run as [`JournalBatch::runs`] hands it out: one frame each.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RunBody<'a> {
    /// NDJSON lines (each ending in `\n`) and how many.
    Lines(&'a [u8], u32),
    /// Compressed already, on the source's own task ([`pack`]).
    Packed(&'a PackedLines),
}

impl JournalBatch {
    /// Empties the batch, keeping its memory.
    pub(crate) fn clear(&mut self) {
        self.lines.clear();
        self.runs.clear();
    }

    /// Adds one event's JSON line, without its newline, of centre day `day`.
    pub(crate) fn push(&mut self, day: Date, line: &[u8]) {
        let start = self.lines.len();
        self.lines.extend_from_slice(line);
        self.lines.push(b'\n');
        let end = self.lines.len();
        match self.runs.last_mut() {
            Some((
                d,
                Run::Lines {
                    start: run_start,
                    end: run_end,
                    events,
                },
            )) if *d == day && end - *run_start <= FRAME_BYTES => {
                *run_end = end;
                *events += 1;
            }
            _ => self.runs.push((
                day,
                Run::Lines {
                    start,
                    end,
                    events: 1,
                },
            )),
        }
    }

    /// Adds the lines of a whole source batch of centre day `day`, compressed already by
    /// [`pack`]: one frame of its own.
    pub(crate) fn push_packed(&mut self, day: Date, packed: PackedLines) {
        self.runs.push((day, Run::Packed(packed)));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    #[cfg(test)]
    /// Events in the batch.
    pub(crate) fn events(&self) -> u64 {
        self.runs().map(|(_, run)| u64::from(run.events())).sum()
    }

    /// The runs, in order: (day, lines or body).
    pub(crate) fn runs(&self) -> impl Iterator<Item = (Date, RunBody<'_>)> + '_ {
        self.runs.iter().map(move |(day, run)| {
            let body = match run {
                Run::Lines { start, end, events } => {
                    RunBody::Lines(&self.lines[*start..*end], *events)
                }
                Run::Packed(packed) => RunBody::Packed(packed),
            };
            (*day, body)
        })
    }
}

impl RunBody<'_> {
    /// Events in the run.
    pub(crate) fn events(&self) -> u32 {
        match self {
            RunBody::Lines(_, events) => *events,
            RunBody::Packed(packed) => packed.events(),
        }
    }
}

thread_local! {
    /// Each thread's compressor for [`pack`] (zstd's context is reused between batches).
    static PACKER: RefCell<Option<(Encoder, Vec<u8>)>> = const { RefCell::new(None) };
}

/// The frame body of a source batch's `lines` (each without its newline), compressed on the
/// calling thread: an ingest request's own task, which runs beside the recorder's thread, so
/// that the recorder only writes it ([`JournalBatch::push_packed`]; issue 15). `None` when the
/// lines are more than one frame holds ([`FRAME_BYTES`]) or zstd fails: the recorder then
/// compresses them itself, as it does for a batch that is not all new.
pub(crate) fn pack<'a>(lines: impl Iterator<Item = &'a [u8]>) -> Option<PackedLines> {
    PACKER.with(|packer| {
        let mut packer = packer.try_borrow_mut().ok()?;
        if packer.is_none() {
            *packer = Some((Encoder::new().ok()?, Vec::new()));
        }
        let (encoder, joined) = packer.as_mut()?;
        joined.clear();
        let mut events = 0u32;
        for line in lines {
            joined.extend_from_slice(line);
            joined.push(b'\n');
            events += 1;
            if joined.len() > FRAME_BYTES {
                return None;
            }
        }
        encoder.pack(joined, events).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_events_of_a_day_make_one_run() {
        let d1: Date = "2026-12-05".parse().unwrap();
        let d2: Date = "2026-12-06".parse().unwrap();
        let mut batch = JournalBatch::default();
        batch.push(d1, b"a");
        batch.push(d1, b"b");
        batch.push(d2, b"c");
        batch.push(d1, b"d");
        let runs: Vec<_> = batch.runs().collect();
        assert_eq!(
            runs,
            vec![
                (d1, RunBody::Lines(&b"a\nb\n"[..], 2)),
                (d2, RunBody::Lines(&b"c\n"[..], 1)),
                (d1, RunBody::Lines(&b"d\n"[..], 1))
            ]
        );
        assert_eq!(batch.events(), 4);
        // A run stops growing at the frame size.
        batch.clear();
        let line = vec![b'x'; FRAME_BYTES / 3];
        for _ in 0..4 {
            batch.push(d1, &line);
        }
        let sizes: Vec<u32> = batch.runs().map(|(_, r)| r.events()).collect();
        assert_eq!(sizes, vec![2, 2]);
    }

    #[test]
    fn a_packed_batch_is_a_run_of_its_own_and_lines_after_it_start_another() {
        let d1: Date = "2026-12-05".parse().unwrap();
        let lines: [&[u8]; 2] = [b"a", b"b"];
        let packed = pack(lines.into_iter()).unwrap();
        assert_eq!((packed.events(), packed.raw_len()), (2, 4));
        let mut batch = JournalBatch::default();
        batch.push(d1, b"x");
        batch.push_packed(d1, packed.clone());
        batch.push(d1, b"y");
        let runs: Vec<_> = batch.runs().collect();
        assert_eq!(
            runs,
            vec![
                (d1, RunBody::Lines(&b"x\n"[..], 1)),
                (d1, RunBody::Packed(&packed)),
                (d1, RunBody::Lines(&b"y\n"[..], 1))
            ]
        );
        assert_eq!(batch.events(), 4);
        // More than a frame holds is left to the recorder.
        let long = vec![b'x'; FRAME_BYTES];
        assert!(pack([&long[..]].into_iter()).is_none());
    }
}
