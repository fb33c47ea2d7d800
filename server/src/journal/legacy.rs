//! Journals written before the day files: `YYYY-MM-DD.ndjson`, one NDJSON segment per UTC day
//! of writing, with a header and a checkpoint every 1,024 events (`super::marks`). They are
//! read, never appended to: a start replays those of the last [`super::REPLAY_DAYS`] days of
//! writing before the day files, which continue their sequence numbers.
//!
//! Only newline-terminated lines count. A torn last line of the newest segment was never
//! acknowledged: replay drops it, cuts the segment back to its last full line and reports it. A
//! bad line anywhere else means damage from outside: it is skipped and reported.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use floorwatch_core::Event;
use jiff::civil::Date;

use super::marks::{self, Tally};
use super::report::{At, JournalError, ReplayReport, io_err};

/// The suffix of a segment of the old format.
pub(crate) const SUFFIX: &str = ".ndjson";

/// How to read the old segments.
pub(crate) struct Reading {
    /// Segments of days before this are counted as archived and not read (the newest is read
    /// anyway when `cut_torn_tail`, to cut its tail).
    pub(crate) from: Date,
    /// Cut a torn tail off the newest segment (a start), or only report it (`journal check`).
    pub(crate) cut_torn_tail: bool,
}

/// What reading hands over for each event: its segment, line, sequence number (when the marks
/// tell), text and the event.
pub(crate) type ApplyEvent<'a> = dyn FnMut(&Path, At, Option<u64>, &[u8], Event) + 'a;
/// [`ApplyEvent`] within one segment.
type ApplyLine<'a> = dyn FnMut(u64, Option<u64>, &[u8], Event) + 'a;

/// Reads `segments` (oldest first) per `reading`, handing each event with its line and its
/// sequence number (when the marks tell) to `apply`; returns the sequence number after the
/// last event, when the marks tell.
pub(crate) fn read(
    segments: &[(Date, PathBuf)],
    reading: &Reading,
    apply: &mut ApplyEvent<'_>,
    report: &mut ReplayReport,
) -> Result<Option<u64>, JournalError> {
    let mut previous: Option<(PathBuf, marks::Finished)> = None;
    for (i, (day, path)) in segments.iter().enumerate() {
        let newest = i + 1 == segments.len();
        let replay = *day >= reading.from;
        if replay {
            report.segments += 1;
        } else {
            report.archived_segments += 1;
            if !(newest && reading.cut_torn_tail) {
                previous = None;
                continue;
            }
        }
        let finished = read_segment(
            path,
            newest,
            newest && reading.cut_torn_tail,
            &mut |line, seq, text, e| {
                if replay {
                    apply(path, At::Line(line), seq, text, e)
                }
            },
            report,
        )?;
        link(report, previous.take(), path, &finished);
        previous = Some((path.clone(), finished));
    }
    let end = previous.as_ref().and_then(|(_, finished)| finished.end);
    if let Some((_, finished)) = previous {
        report.gaps.extend(finished.gaps);
    }
    Ok(end)
}

/// Files the gaps of the segment read before `path` (now that the next header tells how many
/// events its undamaged end held) and the gap between the two, if any.
fn link(
    report: &mut ReplayReport,
    previous: Option<(PathBuf, marks::Finished)>,
    path: &Path,
    finished: &marks::Finished,
) {
    let Some((previous_path, mut previous)) = previous else {
        return;
    };
    if let (Some(end), Some(header)) = (previous.end, finished.header)
        && let Some(gap) = marks::between(&previous_path, end, path, header.first)
    {
        // Damage after the previous segment's last checkpoint accounts for the missing events
        // when there is some; only otherwise was a segment deleted.
        match previous.gaps.iter_mut().rev().find(|g| g.lost.is_none()) {
            Some(damage) => damage.lost = gap.lost,
            None => report.gaps.push(gap),
        }
    }
    report.gaps.extend(previous.gaps);
}

/// Reads one segment; an unterminated last line is a torn tail where `tail_may_tear` (the
/// newest segment), cut off where `cut_torn_tail` too.
fn read_segment(
    path: &Path,
    tail_may_tear: bool,
    cut_torn_tail: bool,
    apply: &mut ApplyLine<'_>,
    report: &mut ReplayReport,
) -> Result<marks::Finished, JournalError> {
    let mut tally = Tally::default();
    let mut offset = 0u64;
    let file = File::open(path).map_err(io_err(path))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut line = Vec::with_capacity(512);
    let mut line_no = 0u64;
    let mut good_len = 0u64;
    let mut torn = false;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let at = offset;
        offset += n as u64;
        if line.last() != Some(&b'\n') {
            // An unterminated last line: torn by a kill mid-write.
            if tail_may_tear {
                torn = true;
                report.torn_tails.push((path.to_path_buf(), n as u64));
            } else {
                report.bad_lines.push((
                    path.to_path_buf(),
                    At::Line(line_no),
                    "unterminated line at the end of an older segment".into(),
                ));
            }
            break;
        }
        good_len += n as u64;
        match marks::read_mark(&line[..n - 1]) {
            Some(Ok(mark)) => {
                tally.mark(mark, path, at);
                continue;
            }
            Some(Err(reason)) => {
                tally.damaged(at, offset);
                report
                    .bad_lines
                    .push((path.to_path_buf(), At::Line(line_no), reason));
                continue;
            }
            None => {}
        }
        let text = match std::str::from_utf8(&line[..n - 1]) {
            Ok(text) => text.trim_end_matches('\r'),
            Err(_) => {
                tally.damaged(at, offset);
                report
                    .bad_lines
                    .push((path.to_path_buf(), At::Line(line_no), "not UTF-8".into()));
                continue;
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        match Event::from_json(text) {
            Ok(event) => {
                report.events += 1;
                let seq = tally.next_seq();
                tally.event();
                apply(line_no, seq, text.as_bytes(), event);
            }
            Err(e) => {
                tally.damaged(at, offset);
                report
                    .bad_lines
                    .push((path.to_path_buf(), At::Line(line_no), e.to_string()));
            }
        }
    }
    if cut_torn_tail && torn {
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io_err(path))?;
        file.set_len(good_len).map_err(io_err(path))?;
        file.sync_all().map_err(io_err(path))?;
    }
    Ok(tally.finish(path))
}
