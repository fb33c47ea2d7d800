//! The event journal: every accepted event, one NDJSON line each, appended before it is
//! acknowledged, in the order the floor applied them.
//!
//! Layout: `DATA_DIR/journal/YYYY-MM-DD.ndjson`, one segment per UTC day of writing. Segments
//! are read back in name order at start, which is the order they were written: a clock that
//! steps back keeps appending to the newest segment rather than reopening an older one.
//!
//! Only segments of the last [`REPLAY_DAYS`] days of writing are replayed: the engine's figures
//! reach back to the start of the centre's day at most (and it forgets event ids after two
//! days), so older segments are an archive, kept on disk for audits and re-imports, not state.
//!
//! Every segment opens with a header (its day, the sequence number of its first event) and
//! carries a checkpoint every 1,024 events (`marks`): replay counts the events lost to damage
//! exactly, names the damaged bytes, and notices a segment missing from the sequence. Replay
//! also skips an id journaled twice (a segment copied onto itself), in `crate::app`.
//! A segment named for a day after tomorrow is left alone: not replayed, never appended to.
//!
//! Only newline-terminated lines count. A process killed mid-write leaves a torn last line; it
//! was never acknowledged (acknowledgement waits for the whole batch to be written and, by
//! default, synced), so replay drops it, truncates the segment back to its last full line and
//! reports it. A bad line anywhere else means damage from outside: it is skipped and reported.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use floorwatch_core::Event;
use jiff::civil::Date;

mod marks;

pub(crate) use crate::ndjson_log::FsyncPolicy;
use crate::ndjson_log::{LogError, NdjsonLog};

pub(crate) use marks::Gap;
use marks::{Header, Tally};

#[derive(Debug, thiserror::Error)]
pub(crate) enum JournalError {
    #[error("journal {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl From<LogError> for JournalError {
    fn from(e: LogError) -> JournalError {
        JournalError::Io {
            path: e.path,
            source: e.source,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What replay found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ReplayReport {
    /// Segments replayed.
    pub(crate) segments: usize,
    /// Older segments left unread (see [`REPLAY_DAYS`]).
    pub(crate) archived_segments: usize,
    pub(crate) events: u64,
    /// A torn last line dropped from the newest segment: (segment, bytes dropped).
    pub(crate) torn_tail: Option<(PathBuf, u64)>,
    /// Lines that are not events, anywhere but the torn tail: (segment, 1-based line, reason).
    pub(crate) bad_lines: Vec<(PathBuf, u64, String)>,
    /// Where events were lost (damage, a deleted segment), with how many when the marks tell.
    pub(crate) gaps: Vec<Gap>,
    /// Segments named for a day after tomorrow (a clock far ahead, a stray file): not read,
    /// never appended to.
    pub(crate) future_segments: Vec<PathBuf>,
    /// Events a checkpoint held, left unread (see [`Journal::open`]'s `skip_before`).
    pub(crate) skipped_events: u64,
    /// The journal position of the checkpoint the start resumed from (the first event it does
    /// not hold); `None` after a full replay (docs/ARCHITECTURE.md, "Checkpoints").
    pub(crate) from_checkpoint: Option<u64>,
}

/// Events this close before a checkpoint's position are read and handed over all the same
/// (the caller drops those its seen ids know): damage can shift the count of events between
/// two marks, and an event must never be skipped for a count that is off.
const SKIP_MARGIN: u64 = 2 * marks::CHECKPOINT_EVERY;

impl ReplayReport {
    /// Events known lost, over every gap.
    pub(crate) fn lost_events(&self) -> u64 {
        self.gaps.iter().filter_map(|g| g.lost).sum()
    }
}

/// The open journal, appending to its newest segment.
pub(crate) struct Journal {
    dir: PathBuf,
    fsync: FsyncPolicy,
    current: Option<Segment>,
    /// The sequence number of the next event journaled (for the marks).
    next_seq: u64,
    /// The sequence number at the last mark written.
    last_mark: u64,
}

struct Segment {
    day: Date,
    log: NdjsonLog,
}

const SUFFIX: &str = ".ndjson";

/// Segments written on this many UTC days (today included) are replayed at start: enough for
/// any centre day in any time zone, plus the lateness allowance.
pub(crate) const REPLAY_DAYS: i16 = 3;

impl Journal {
    /// Replays the segments written on `replay_from` or later, in order, handing each event
    /// with its segment's day and its sequence number (when the segment's marks tell it) to
    /// `apply`, then opens the journal for appending. Creates `dir` if needed.
    ///
    /// Events numbered well before `skip_before` (a checkpoint's position; 0 replays all) are
    /// counted, not parsed, and whole segments of them not read: only the events from about
    /// `skip_before` on reach `apply` (those just before it too, see [`SKIP_MARGIN`]).
    pub(crate) fn open(
        dir: &Path,
        fsync: FsyncPolicy,
        replay_from: Date,
        skip_before: u64,
        mut apply: impl FnMut(Date, Option<u64>, Event),
    ) -> Result<(Journal, ReplayReport), JournalError> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let Listing { segments, future } = list_segments(dir)?;
        let mut report = ReplayReport {
            future_segments: future,
            ..ReplayReport::default()
        };
        let skip_to = skip_before.saturating_sub(SKIP_MARGIN);
        // A segment whose successor starts before `skip_to` holds nothing to replay.
        let firsts: Vec<Option<u64>> = if skip_to > 0 {
            segments.iter().map(|(_, p)| first_seq(p)).collect()
        } else {
            Vec::new()
        };
        let mut previous: Option<(PathBuf, marks::Finished)> = None;
        for (i, (day, path)) in segments.iter().enumerate() {
            let newest = i + 1 == segments.len();
            let covered = firsts
                .get(i + 1)
                .copied()
                .flatten()
                .is_some_and(|next| next <= skip_to);
            if covered && !newest {
                if *day >= replay_from {
                    report.segments += 1;
                } else {
                    report.archived_segments += 1;
                }
                previous = None;
                continue;
            }
            let replay = *day >= replay_from;
            if replay {
                report.segments += 1;
            } else {
                report.archived_segments += 1;
                if !newest {
                    previous = None;
                    continue;
                }
            }
            // The newest segment is always read, to cut off a torn tail before appending.
            let finished = replay_segment_as(
                path,
                (newest, newest, skip_to),
                &mut |_, seq, e| {
                    if replay {
                        apply(*day, seq, e)
                    }
                },
                &mut report,
            )?;
            link(&mut report, previous.take(), path, &finished);
            previous = Some((path.clone(), finished));
        }
        let next_seq = previous
            .as_ref()
            .and_then(|(_, finished)| finished.end)
            .unwrap_or(0);
        if let Some((_, finished)) = previous {
            report.gaps.extend(finished.gaps);
        }
        let current = match segments.last() {
            Some((day, path)) => Some(Segment {
                day: *day,
                log: NdjsonLog::open_append(path, fsync)?,
            }),
            None => None,
        };
        let journal = Journal {
            dir: dir.to_path_buf(),
            fsync,
            current,
            next_seq,
            last_mark: next_seq,
        };
        Ok((journal, report))
    }

    /// Appends `lines` (`events` whole NDJSON lines, each ending in `\n`) to the segment of
    /// `day`, starting a new segment when `day` is later than the current one; syncs per the
    /// policy. On failure the segment is cut back to where it was, so no partial batch stays
    /// behind.
    pub(crate) fn append(
        &mut self,
        lines: &[u8],
        events: u64,
        day: Date,
    ) -> Result<(), JournalError> {
        if lines.is_empty() {
            return Ok(());
        }
        let rotate = match &self.current {
            Some(segment) => day > segment.day,
            None => true,
        };
        if rotate {
            self.start_segment(day)?;
        }
        let Some(segment) = self.current.as_mut() else {
            return Ok(());
        };
        let checkpoint = (self.next_seq - self.last_mark >= marks::CHECKPOINT_EVERY)
            .then(|| marks::checkpoint_line(self.next_seq));
        match checkpoint.as_deref() {
            Some(line) => segment.log.append_all(&[line, lines])?,
            None => segment.log.append(lines)?,
        }
        if checkpoint.is_some() {
            self.last_mark = self.next_seq;
        }
        self.next_seq += events;
        Ok(())
    }

    /// Flushes everything written to disk (at shutdown, whatever the policy).
    /// The sequence number the next event appended will have (history's resume point).
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    pub(crate) fn sync(&mut self) -> Result<(), JournalError> {
        match &self.current {
            Some(segment) => Ok(segment.log.sync_all()?),
            None => Ok(()),
        }
    }

    #[cfg(test)]
    /// The segment being appended to.
    pub(crate) fn current_segment(&self) -> Option<&Path> {
        self.current.as_ref().map(|s| s.log.path())
    }

    fn start_segment(&mut self, day: Date) -> Result<(), JournalError> {
        if let Some(old) = &self.current {
            old.log.sync_all()?;
        }
        let path = self.dir.join(format!("{day}{SUFFIX}"));
        let mut log = NdjsonLog::open_append(&path, self.fsync)?;
        if log.len() == 0 {
            log.append(&Header::new(day, self.next_seq).line())?;
            log.sync_data()?;
            self.last_mark = self.next_seq;
        }
        // The new file's directory entry must be durable too, or a crash could lose the file.
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(&self.dir))?;
        tracing::info!(segment = %path.display(), "journal segment started");
        self.current = Some(Segment { day, log });
        Ok(())
    }
}

/// Reads every segment of the journal in `dir`, archived ones included, in order, handing
/// each event with its segment and 1-based line to `visit`; changes nothing on disk (a torn
/// tail is reported, not cut off). For `floorwatch journal check`.
pub(crate) fn read_all(
    dir: &Path,
    mut visit: impl FnMut(&Path, u64, Event),
) -> Result<ReplayReport, JournalError> {
    let Listing { segments, future } = list_segments(dir)?;
    let mut report = ReplayReport {
        future_segments: future,
        ..ReplayReport::default()
    };
    let mut previous: Option<(PathBuf, marks::Finished)> = None;
    for (_, path) in segments {
        report.segments += 1;
        let finished = replay_segment_as(
            &path,
            (true, false, 0),
            &mut |line, _, e| visit(&path, line, e),
            &mut report,
        )?;
        link(&mut report, previous.take(), &path, &finished);
        previous = Some((path, finished));
    }
    if let Some((_, finished)) = previous {
        report.gaps.extend(finished.gaps);
    }
    Ok(report)
}

/// Deletes the segments of days before `oldest`, never the newest one (appends go there);
/// returns how many (`floorwatch history prune`, `--journal-days`).
pub(crate) fn remove_before(dir: &Path, oldest: Date) -> Result<usize, JournalError> {
    if !dir.exists() {
        return Ok(0);
    }
    let Listing { segments, .. } = list_segments(dir)?;
    let mut removed = 0;
    for (day, path) in segments.iter().take(segments.len().saturating_sub(1)) {
        if *day < oldest {
            fs::remove_file(path).map_err(io_err(path))?;
            removed += 1;
        }
    }
    Ok(removed)
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

/// The segments of a journal directory, by day.
struct Listing {
    /// Oldest first.
    segments: Vec<(Date, PathBuf)>,
    /// Named for a day after tomorrow: left alone.
    future: Vec<PathBuf>,
}

/// Segments in `dir`, oldest first, and apart those named for a day after tomorrow; other files
/// are left alone.
fn list_segments(dir: &Path) -> Result<Listing, JournalError> {
    let latest = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::UTC)
        .date()
        .tomorrow()
        .unwrap_or(Date::MAX);
    let mut future = Vec::new();
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name();
        let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(SUFFIX)) else {
            continue;
        };
        if let Ok(day) = stem.parse::<Date>() {
            if day > latest {
                future.push(entry.path());
            } else {
                out.push((day, entry.path()));
            }
        }
    }
    out.sort();
    future.sort();
    Ok(Listing {
        segments: out,
        future,
    })
}

/// The sequence number of a segment's first event, from its header (`None`: no header).
fn first_seq(path: &Path) -> Option<u64> {
    let mut line = Vec::new();
    BufReader::new(File::open(path).ok()?)
        .take(4096)
        .read_until(b'\n', &mut line)
        .ok()?;
    match marks::read_mark(line.strip_suffix(b"\n")?)? {
        Ok(marks::Mark::Header(header)) => Some(header.first),
        _ => None,
    }
}

/// Reads one segment; an unterminated last line is a torn tail where `tail_may_tear` (the
/// newest segment), cut off where `cut_torn_tail` too; events numbered before `skip_to` are
/// counted, not parsed.
fn replay_segment_as(
    path: &Path,
    (tail_may_tear, cut_torn_tail, skip_to): (bool, bool, u64),
    apply: &mut impl FnMut(u64, Option<u64>, Event),
    report: &mut ReplayReport,
) -> Result<marks::Finished, JournalError> {
    let newest = tail_may_tear;
    let mut tally = Tally::default();
    let mut offset = 0u64;
    let file = File::open(path).map_err(io_err(path))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut line = Vec::with_capacity(512);
    let mut line_no = 0u64;
    let mut good_len = 0u64;
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
            if newest {
                report.torn_tail = Some((path.to_path_buf(), n as u64));
            } else {
                report.bad_lines.push((
                    path.to_path_buf(),
                    line_no,
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
                report.bad_lines.push((path.to_path_buf(), line_no, reason));
                continue;
            }
            None => {}
        }
        if tally.next_seq().is_some_and(|seq| seq < skip_to) && line.starts_with(b"{") {
            report.skipped_events += 1;
            tally.event();
            continue;
        }
        let text = match std::str::from_utf8(&line[..n - 1]) {
            Ok(text) => text.trim_end_matches('\r'),
            Err(_) => {
                tally.damaged(at, offset);
                report
                    .bad_lines
                    .push((path.to_path_buf(), line_no, "not UTF-8".into()));
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
                apply(line_no, seq, event);
            }
            Err(e) => {
                tally.damaged(at, offset);
                report
                    .bad_lines
                    .push((path.to_path_buf(), line_no, e.to_string()));
            }
        }
    }
    if cut_torn_tail && report.torn_tail.is_some() {
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io_err(path))?;
        file.set_len(good_len).map_err(io_err(path))?;
        file.sync_all().map_err(io_err(path))?;
    }
    Ok(tally.finish(path))
}

#[cfg(test)]
mod tests;
