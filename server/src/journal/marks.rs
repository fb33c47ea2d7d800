//! The old-format journal's own lines beside the events (`super::legacy`, read only now): a
//! header opening every segment and a checkpoint every 1,024 events, each carrying the journal sequence number (the count of
//! events journaled before it, across segments), so that damage can be counted, not guessed.
//!
//! ```text
//! {"floorwatch_journal":1,"day":"2026-12-06","first":48213}
//! {"v":1,"id":"...",...}                              <- event 48213
//! ...
//! {"floorwatch_journal_seq":49152}                    <- the next event is number 49152
//! ```
//!
//! Reading a segment, [`Tally`] compares each mark with the events read since the one before:
//! fewer means events were lost in between (zeros or garbage written over them, lines cut
//! out), and the lost count is exact; the byte ranges of the damaged stretches say where. The
//! next segment's header against where this one ended tells a segment deleted from the
//! sequence. Segments written before marks existed (no header) are read as before, unchecked.

use std::path::{Path, PathBuf};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Every mark line starts with this (an event line starts with `{"v":`).
const MARK_PREFIX: &[u8] = b"{\"floorwatch_journal";
#[cfg(test)]
/// The journal format the header names.
const FORMAT: u8 = 1;

/// The first line of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Header {
    floorwatch_journal: u8,
    /// The UTC day the segment was started (its name).
    pub(crate) day: Date,
    /// The journal sequence number of its first event.
    pub(crate) first: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Checkpoint {
    floorwatch_journal_seq: u64,
}

/// A mark line, read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    Header(Header),
    /// The next event's sequence number.
    Checkpoint(u64),
}

#[cfg(test)]
impl Header {
    /// A header as the old writer wrote it (tests write old-format journals).
    pub(crate) fn new(day: Date, first: u64) -> Header {
        Header {
            floorwatch_journal: FORMAT,
            day,
            first,
        }
    }

    /// The header line, newline included.
    pub(crate) fn line(&self) -> Vec<u8> {
        let mut line = serde_json::to_vec(self).unwrap_or_default();
        line.push(b'\n');
        line
    }
}

#[cfg(test)]
/// A checkpoint line saying the next event is number `seq`, newline included.
pub(crate) fn checkpoint_line(seq: u64) -> Vec<u8> {
    let mut line = serde_json::to_vec(&Checkpoint {
        floorwatch_journal_seq: seq,
    })
    .unwrap_or_default();
    line.push(b'\n');
    line
}

/// `Some` for a mark line (`Err` when it looks like one but does not read as one), `None` for
/// anything else.
pub(crate) fn read_mark(line: &[u8]) -> Option<Result<Mark, String>> {
    if !line.starts_with(MARK_PREFIX) {
        return None;
    }
    if let Ok(header) = serde_json::from_slice::<Header>(line) {
        return Some(Ok(Mark::Header(header)));
    }
    Some(
        serde_json::from_slice::<Checkpoint>(line)
            .map(|c| Mark::Checkpoint(c.floorwatch_journal_seq))
            .map_err(|e| format!("a damaged journal mark: {e}")),
    )
}

/// Where events were lost: a damaged stretch of a segment, or a whole stretch of the
/// sequence (a segment deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Gap {
    pub(crate) segment: PathBuf,
    /// The damaged bytes (`None`: nothing on disk shows where, as for a deleted segment).
    pub(crate) bytes: Option<(u64, u64)>,
    /// Events gone, when the marks around the gap tell (they do except after the last mark
    /// of the newest segment).
    pub(crate) lost: Option<u64>,
    pub(crate) what: String,
}

/// Counts one segment's events between its marks.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// The sequence number of the next event, as far as the marks tell.
    next: Option<u64>,
    header: Option<Header>,
    /// Damaged stretches since the last mark: (first byte, end byte).
    damage: Vec<(u64, u64)>,
    pub(crate) gaps: Vec<Gap>,
}

impl Tally {
    /// A mark read at byte `at` of `segment`.
    pub(crate) fn mark(&mut self, mark: Mark, segment: &Path, at: u64) {
        let seq = match mark {
            Mark::Header(header) => {
                self.header.get_or_insert(header);
                header.first
            }
            Mark::Checkpoint(seq) => seq,
        };
        match self.next {
            Some(next) if seq > next => self.lost(segment, seq - next, at),
            _ => self.damage.clear(),
        }
        self.next = Some(seq);
    }

    /// An event read.
    /// The sequence number of the event about to be counted, if the marks tell it.
    pub(crate) fn next_seq(&self) -> Option<u64> {
        self.next
    }

    pub(crate) fn event(&mut self) {
        if let Some(next) = &mut self.next {
            *next += 1;
        }
    }

    /// A damaged line read: bytes `from..to`.
    pub(crate) fn damaged(&mut self, from: u64, to: u64) {
        match self.damage.last_mut() {
            Some(last) if last.1 == from => last.1 = to,
            _ => self.damage.push((from, to)),
        }
    }

    fn lost(&mut self, segment: &Path, lost: u64, at: u64) {
        let bytes = match (self.damage.first(), self.damage.last()) {
            (Some(first), Some(last)) => Some((first.0, last.1)),
            _ => None,
        };
        let what = if bytes.is_some() {
            "events overwritten (damaged bytes)".to_string()
        } else {
            format!("events missing before byte {at} with no damaged bytes (lines cut out?)")
        };
        self.gaps.push(Gap {
            segment: segment.to_path_buf(),
            bytes,
            lost: Some(lost),
            what,
        });
        self.damage.clear();
    }

    /// At the end of the segment: damage after its last mark (counted only at the next
    /// segment's header, if any), and the segment's header and end.
    pub(crate) fn finish(mut self, segment: &Path) -> Finished {
        for &(from, to) in &self.damage {
            self.gaps.push(Gap {
                segment: segment.to_path_buf(),
                bytes: Some((from, to)),
                lost: None,
                what: "damaged bytes after the segment's last checkpoint".into(),
            });
        }
        Finished {
            header: self.header,
            end: self.next,
            gaps: self.gaps,
        }
    }
}

/// What a segment's marks told.
#[derive(Debug, Default)]
pub(crate) struct Finished {
    pub(crate) header: Option<Header>,
    /// The sequence number its next event would have had (`None`: a segment without marks).
    pub(crate) end: Option<u64>,
    pub(crate) gaps: Vec<Gap>,
}

/// The gap between a segment that ended at `end` and the next one, which starts at `first`.
pub(crate) fn between(previous: &Path, end: u64, next: &Path, first: u64) -> Option<Gap> {
    (first > end).then(|| Gap {
        segment: next.to_path_buf(),
        bytes: None,
        lost: Some(first - end),
        what: format!(
            "events {end} to {} are in no segment: one was deleted between {} and {}",
            first - 1,
            previous.display(),
            next.display()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_read_back_and_events_do_not_look_like_marks() {
        let header = Header::new(jiff::civil::date(2026, 12, 6), 48_213);
        let line = header.line();
        assert_eq!(
            read_mark(&line[..line.len() - 1]),
            Some(Ok(Mark::Header(header)))
        );
        let line = checkpoint_line(49_152);
        assert_eq!(
            read_mark(&line[..line.len() - 1]),
            Some(Ok(Mark::Checkpoint(49_152)))
        );
        assert_eq!(read_mark(br#"{"v":1,"id":"floorwatch_journal"}"#), None);
        assert!(matches!(
            read_mark(br#"{"floorwatch_journal_seq":"x"}"#),
            Some(Err(_))
        ));
    }

    #[test]
    fn lost_events_are_counted_between_marks_and_located_by_the_damage() {
        let seg = Path::new("seg");
        let mut tally = Tally::default();
        tally.mark(
            Mark::Header(Header::new(jiff::civil::date(2026, 1, 1), 100)),
            seg,
            0,
        );
        for _ in 0..10 {
            tally.event();
        }
        tally.damaged(2_000, 2_500);
        tally.damaged(2_500, 6_000);
        for _ in 0..5 {
            tally.event();
        }
        // 100 + 10 + 27 lost + 5 = 142.
        tally.mark(Mark::Checkpoint(142), seg, 7_000);
        tally.event();
        let finished = tally.finish(seg);
        assert_eq!(finished.end, Some(143));
        assert_eq!(
            finished.gaps,
            vec![Gap {
                segment: seg.into(),
                bytes: Some((2_000, 6_000)),
                lost: Some(27),
                what: "events overwritten (damaged bytes)".into()
            }]
        );
        let gap = between(seg, 143, Path::new("next"), 200).unwrap();
        assert_eq!(gap.lost, Some(57));
    }
}
