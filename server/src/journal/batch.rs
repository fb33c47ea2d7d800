//! [`JournalBatch`]: the events of one append, as NDJSON lines with the centre day of each, in
//! the order the floor applies them.
//!
//! It takes each event's bytes as they are to be journaled (`Event::to_json`'s; HTTP and
//! websocket ingest hand over the received line when it is already that,
//! `crate::event_lines::EventLines`), and groups consecutive
//! events of one day into runs: one frame each in that day's file.

use jiff::civil::Date;

/// Most NDJSON bytes in one frame: a replay's group of batches is split, so that reading a
/// frame back never needs more than this (and a damaged frame loses no more than this).
pub(crate) const FRAME_BYTES: usize = 1 << 20;

/// NDJSON lines of one append, in runs of one day each.
#[derive(Debug, Default)]
pub(crate) struct JournalBatch {
    lines: Vec<u8>,
    /// (day, end of the run in `lines`, events); each run starts where the one before ended.
    runs: Vec<(Date, usize, u32)>,
}

impl JournalBatch {
    /// Empties the batch, keeping its memory.
    pub(crate) fn clear(&mut self) {
        self.lines.clear();
        self.runs.clear();
    }

    /// Adds one event's JSON line, without its newline, of centre day `day`.
    pub(crate) fn push(&mut self, day: Date, line: &[u8]) {
        let start = run_start(&self.runs);
        let extend = matches!(self.runs.last(),
            Some(&(d, end, _)) if d == day && end - start + line.len() < FRAME_BYTES);
        self.lines.extend_from_slice(line);
        self.lines.push(b'\n');
        let end = self.lines.len();
        match self.runs.last_mut() {
            Some(run) if extend => {
                run.1 = end;
                run.2 += 1;
            }
            _ => self.runs.push((day, end, 1)),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    #[cfg(test)]
    /// Events in the batch.
    pub(crate) fn events(&self) -> u64 {
        self.runs.iter().map(|r| u64::from(r.2)).sum()
    }

    /// The runs, in order: (day, lines, events).
    pub(crate) fn runs(&self) -> impl Iterator<Item = (Date, &[u8], u32)> + '_ {
        let mut start = 0;
        self.runs.iter().map(move |&(day, end, events)| {
            let lines = &self.lines[start..end];
            start = end;
            (day, lines, events)
        })
    }
}

/// Where the last run starts.
fn run_start(runs: &[(Date, usize, u32)]) -> usize {
    match runs.len() {
        0 | 1 => 0,
        n => runs[n - 2].1,
    }
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
                (d1, &b"a\nb\n"[..], 2),
                (d2, &b"c\n"[..], 1),
                (d1, &b"d\n"[..], 1)
            ]
        );
        assert_eq!(batch.events(), 4);
        // A run stops growing at the frame size.
        batch.clear();
        let line = vec![b'x'; FRAME_BYTES / 3];
        for _ in 0..4 {
            batch.push(d1, &line);
        }
        let sizes: Vec<u32> = batch.runs().map(|r| r.2).collect();
        assert_eq!(sizes, vec![2, 2]);
    }
}
