//! The event journal: every accepted event, appended before it is acknowledged, numbered in
//! the order the floor applied them (the journal sequence number).
//!
//! Layout: `DATA_DIR/journal/YYYY-MM-DD.fwj`, one **day file per centre day of the events'
//! time** (`days::CentreDays`: the centre's local day from its reset time, what "today" means on
//! the floor), so a replayed or late past day lands in its own file, not in the day it was
//! written. A day file is a run of frames (`frames`): zstd-compressed NDJSON lines behind a
//! header naming the first event's sequence number and the count. One frame per day touched by
//! each group of batches the recorder writes (at most `batch::FRAME_BYTES`, 1 MiB, of NDJSON each), written
//! and synced per `--fsync` before any batch of the group is acknowledged; an ingest batch whose
//! events are all new and of one day is its own frame, compressed on the request's task before
//! the recorder takes it (`batch::pack`; issue 15: compression off the recorder's one thread).
//!
//! Journal order across the files: every frame holds a stretch of the one sequence, so replay
//! reads all the frame headers first (`index`), then decodes the frames in sequence order,
//! whatever file they are in. A start replays the suffix of the sequence from the first frame
//! of the day files of the last [`REPLAY_DAYS`] centre days (the newest day file's and the two
//! before; the engine's figures reach back to the start of the centre's day at most and it
//! forgets event ids after two), late events written into older files since then included;
//! older frames are an archive, kept on disk for audits and re-imports, not state. "Replay
//! events numbered N and later" is the same walk from N: frames wholly before N are skipped by
//! their header without being decompressed.
//!
//! Damage is counted, not guessed: the frames of all files must cover the sequence without a
//! hole; a hole is events lost, counted exactly and placed on the damaged bytes hiding them (or
//! on a deleted file), and a frame whose body fails zstd's checksum loses exactly its events.
//! An incomplete frame at the end of a file is a torn write, never acknowledged: cut off at
//! start and reported. A day file named for a day after tomorrow (wall clock) is left alone
//! with `--clock wall`: not replayed, never appended to.
//!
//! Journals written before the day files (`YYYY-MM-DD.ndjson`, NDJSON per UTC day of writing,
//! `legacy`) are still replayed, first: the day files continue their sequence numbers.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use floorwatch_core::Event;
use jiff::civil::Date;

mod batch;
mod days;
mod frames;
mod index;
mod legacy;
mod marks;
mod report;

pub(crate) use crate::ndjson_log::FsyncPolicy;
use batch::RunBody;
pub(crate) use batch::{JournalBatch, pack};
pub(crate) use days::CentreDays;
pub(crate) use frames::PackedLines;
use report::io_err;
pub(crate) use report::{At, JournalError, ReplayReport};

use frames::Encoder;
use index::DayIndex;

/// The suffix of a day file.
const SUFFIX: &str = ".fwj";
/// Day files kept open for appending (today's, yesterday's, a late day or two).
const OPEN_FILES: usize = 4;

/// Day files of centre days this many days back from the newest (included) are replayed at
/// start: today, yesterday (the engine's ids reach back two days) and one more for a
/// late-starting floor.
pub(crate) const REPLAY_DAYS: i16 = 3;

/// How a start reads the journal.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Opening {
    pub(crate) fsync: FsyncPolicy,
    /// Day files named after this day are left alone (`--clock wall`: the wall clock's
    /// tomorrow); `None` with `--clock events`, where a replayed day may lie anywhere.
    pub(crate) latest_day: Option<Date>,
    /// Replay events numbered this or later only (a checkpoint's position); `None`: the last
    /// [`REPLAY_DAYS`] days.
    pub(crate) from_seq: Option<u64>,
}

/// The open journal, appending to the day files of the events' days.
pub(crate) struct Journal {
    dir: PathBuf,
    fsync: FsyncPolicy,
    /// Open day files, most recently appended to last.
    open: Vec<DayFile>,
    latest_day: Option<Date>,
    encoder: Encoder,
    /// Frames waiting to be written, per day file.
    pending: HashMap<Date, Vec<u8>>,
    /// The sequence number of the next event journaled.
    next_seq: u64,
}

struct DayFile {
    day: Date,
    path: PathBuf,
    file: File,
    len: u64,
}

impl Journal {
    /// Replays the journal in `dir` (see the module doc), handing each event with its sequence
    /// number (when known: old segments without marks do not tell) to `apply`, in journal
    /// order; cuts torn writes off; then opens it for appending. Creates `dir` if needed.
    pub(crate) fn open(
        dir: &Path,
        opening: Opening,
        mut apply: impl FnMut(Option<u64>, Event),
    ) -> Result<(Journal, ReplayReport), JournalError> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let listing = list(dir, opening.latest_day)?;
        let mut report = ReplayReport {
            future_segments: listing.future.clone(),
            ..ReplayReport::default()
        };
        let legacy_from = wall_today()
            .checked_sub(jiff::Span::new().days(i64::from(REPLAY_DAYS) - 1))
            .unwrap_or(Date::MIN);
        let skip_legacy = opening.from_seq.is_some();
        let legacy_end = legacy::read(
            &listing.legacy,
            &legacy::Reading {
                from: if skip_legacy { Date::MAX } else { legacy_from },
                cut_torn_tail: true,
            },
            &mut |_, _, seq, _, event| {
                if seq.is_none_or(|s| opening.from_seq.is_none_or(|from| s >= from)) {
                    apply(seq, event)
                }
            },
            &mut report,
        )?;
        let legacy_replayed = report.segments > 0;
        let days = scan_all(&listing.days)?;
        for day in &days {
            day.cut_torn_tail()?;
            if let Some((_, bytes)) = day.torn {
                report.torn_tails.push((day.path.clone(), bytes));
            }
        }
        let from = match opening.from_seq {
            Some(from) => from,
            None => replay_start(&days, legacy_replayed.then_some(legacy_end.unwrap_or(0))),
        };
        for day in &days {
            if day.end().is_some_and(|end| end > from) {
                report.segments += 1;
            } else {
                report.archived_segments += 1;
            }
        }
        let mut bad = Vec::new();
        let mut events = 0u64;
        index::read_in_order(
            &days,
            from,
            &mut |path, at, seq, line| match parse(line) {
                Ok(event) => {
                    events += 1;
                    apply(Some(seq), event)
                }
                Err(reason) => bad.push((path.to_path_buf(), at, reason)),
            },
            &mut report,
        )?;
        report.events += events;
        report.bad_lines.extend(bad);
        let next_seq = days
            .iter()
            .filter_map(DayIndex::end)
            .chain(legacy_end)
            .max()
            .unwrap_or(0);
        let journal = Journal {
            dir: dir.to_path_buf(),
            fsync: opening.fsync,
            open: Vec::new(),
            latest_day: opening.latest_day,
            encoder: Encoder::new().map_err(io_err(dir))?,
            pending: HashMap::new(),
            next_seq,
        };
        Ok((journal, report))
    }

    /// Appends `batch` (its events numbered from [`Journal::next_seq`] in its order) to the day
    /// files of its days, syncing per the policy. On failure every file is cut back to where it
    /// was, so no part of the batch stays behind, and the numbers are not used.
    pub(crate) fn append(&mut self, batch: &JournalBatch) -> Result<(), JournalError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut seq = self.next_seq;
        for frames in self.pending.values_mut() {
            frames.clear();
        }
        for (day, run) in batch.runs() {
            let out = self.pending.entry(day).or_default();
            let events = run.events();
            match run {
                RunBody::Lines(lines, _) => self.encoder.frame(lines, events, seq, out),
                RunBody::Packed(packed) => packed.write_frame(seq, out),
            }
            .map_err(io_err(&self.dir))?;
            seq += u64::from(events);
        }
        let days: Vec<Date> = self
            .pending
            .iter()
            .filter(|(_, frames)| !frames.is_empty())
            .map(|(day, _)| *day)
            .collect();
        let mut written: Vec<(usize, u64)> = Vec::with_capacity(days.len());
        let mut outcome = Ok(());
        for day in days {
            let slot = match self.file_of(day) {
                Ok(slot) => slot,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            };
            let file = &mut self.open[slot];
            let frames = &self.pending[&day];
            written.push((slot, file.len));
            if let Err(source) = file.file.write_all(frames) {
                outcome = Err(JournalError::Io {
                    path: file.path.clone(),
                    source,
                });
                break;
            }
            file.len += frames.len() as u64;
        }
        if outcome.is_ok() && self.fsync == FsyncPolicy::Batch {
            for &(slot, _) in &written {
                let file = &self.open[slot];
                if let Err(e) = file.file.sync_data().map_err(io_err(&file.path)) {
                    outcome = Err(e);
                    break;
                }
            }
        }
        if outcome.is_err() {
            // Best effort: a half-written frame must not stay behind as damage.
            for &(slot, len) in &written {
                let file = &mut self.open[slot];
                let _ = file.file.set_len(len);
                file.len = len;
            }
            return outcome;
        }
        self.next_seq = seq;
        Ok(())
    }

    /// The sequence number the next event appended will have (history's resume point).
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Flushes everything written to disk (at shutdown, whatever the policy).
    pub(crate) fn sync(&mut self) -> Result<(), JournalError> {
        for file in &self.open {
            file.file.sync_all().map_err(io_err(&file.path))?;
        }
        Ok(())
    }

    /// The index in `open` of `day`'s file, opened (created) if needed; the least recently
    /// used file is closed beyond [`OPEN_FILES`].
    fn file_of(&mut self, day: Date) -> Result<usize, JournalError> {
        if let Some(i) = self.open.iter().position(|f| f.day == day) {
            let file = self.open.remove(i);
            self.open.push(file);
            return Ok(self.open.len() - 1);
        }
        if self.latest_day.is_some_and(|latest| day > latest) {
            // The horizon refuses such events first; a file for them would be left alone.
            tracing::warn!(%day, "journal: an event of a day after tomorrow is written to a day file a start leaves alone");
        }
        let path = self.dir.join(format!("{day}{SUFFIX}"));
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        let len = file.metadata().map_err(io_err(&path))?.len();
        if len == 0 {
            // The new file's directory entry must be durable too, or a crash could lose it.
            File::open(&self.dir)
                .and_then(|d| d.sync_all())
                .map_err(io_err(&self.dir))?;
            tracing::info!(segment = %path.display(), "journal day file started");
        }
        if self.open.len() >= OPEN_FILES {
            let old = self.open.remove(0);
            old.file.sync_all().map_err(io_err(&old.path))?;
        }
        self.open.push(DayFile {
            day,
            path,
            file,
            len,
        });
        Ok(self.open.len() - 1)
    }
}

fn parse(line: &[u8]) -> Result<Event, String> {
    let text = std::str::from_utf8(line).map_err(|_| "not UTF-8".to_string())?;
    Event::from_json(text).map_err(|e| e.to_string())
}

/// The first sequence number a start replays: the first frame of the day files of the last
/// [`REPLAY_DAYS`] days (and every event after the old segments replayed, if any).
fn replay_start(days: &[DayIndex], legacy_end: Option<u64>) -> u64 {
    let newest = days.iter().map(|d| d.day).max();
    let window = newest.map(|newest| {
        newest
            .checked_sub(jiff::Span::new().days(i64::from(REPLAY_DAYS) - 1))
            .unwrap_or(Date::MIN)
    });
    let start = days
        .iter()
        .filter(|d| window.is_some_and(|w| d.day >= w))
        .filter_map(|d| d.frames.first().map(|(_, h)| h.first))
        .min();
    match (start, legacy_end) {
        (Some(s), Some(l)) => s.min(l),
        (Some(s), None) => s,
        (None, Some(l)) => l,
        (None, None) => u64::MAX,
    }
}

fn scan_all(days: &[(Date, PathBuf)]) -> Result<Vec<DayIndex>, JournalError> {
    days.iter()
        .map(|(day, path)| DayIndex::scan(*day, path))
        .collect()
}

/// What to read of the journal, for the commands that read it whole.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Range {
    /// Day files (and old segments) of days before this are not read.
    pub(crate) from: Option<Date>,
    /// ... nor after this.
    pub(crate) to: Option<Date>,
}

/// Reads the journal in `dir` in journal order (old segments first), archived files
/// included, handing each event line (without its newline) with its file and place to
/// `visit`; changes nothing on disk (a torn write is reported, not cut off). For `floorwatch
/// journal check` and `cat` and history's rebuild.
pub(crate) fn read_lines(
    dir: &Path,
    range: Range,
    mut visit: impl FnMut(&Path, At, &[u8]),
) -> Result<ReplayReport, JournalError> {
    let listing = list(dir, Some(wall_today().tomorrow().unwrap_or(Date::MAX)))?;
    let within =
        |day: &Date| range.from.is_none_or(|f| *day >= f) && range.to.is_none_or(|t| *day <= t);
    let mut report = ReplayReport {
        future_segments: listing.future.clone(),
        ..ReplayReport::default()
    };
    let legacy: Vec<_> = listing
        .legacy
        .iter()
        .filter(|(d, _)| within(d))
        .cloned()
        .collect();
    legacy::read(
        &legacy,
        &legacy::Reading {
            from: Date::MIN,
            cut_torn_tail: false,
        },
        &mut |path, at, _, text, _| visit(path, at, text),
        &mut report,
    )?;
    let selected: Vec<_> = listing
        .days
        .iter()
        .filter(|(d, _)| within(d))
        .cloned()
        .collect();
    let days = scan_all(&selected)?;
    for day in &days {
        report.segments += 1;
        if let Some((_, bytes)) = day.torn {
            report.torn_tails.push((day.path.clone(), bytes));
        }
    }
    let mut events = 0u64;
    index::read_in_order(
        &days,
        0,
        &mut |path, at, _, line| {
            events += 1;
            visit(path, at, line)
        },
        &mut report,
    )?;
    report.events += events;
    Ok(report)
}

/// [`read_lines`], with each line read as an event (a line that is not one is reported as
/// damaged).
pub(crate) fn read_all(
    dir: &Path,
    mut visit: impl FnMut(&Path, At, Event),
) -> Result<ReplayReport, JournalError> {
    let mut bad = Vec::new();
    let mut report = read_lines(dir, Range::default(), |path, at, line| match parse(line) {
        Ok(event) => visit(path, at, event),
        Err(reason) => bad.push((path.to_path_buf(), at, reason)),
    })?;
    report.events -= bad
        .iter()
        .filter(|(_, at, _)| matches!(at, At::Frame { .. }))
        .count() as u64;
    report.bad_lines.extend(bad);
    Ok(report)
}

/// Deletes the day files and old segments of days before `oldest`; returns how many
/// (`floorwatch history prune`, `--journal-days`). Days count back from the newest file when
/// that is earlier than `today` (a tester's replayed days are not pruned for being old).
pub(crate) fn remove_before(dir: &Path, oldest: Date, today: Date) -> Result<usize, JournalError> {
    if !dir.exists() {
        return Ok(0);
    }
    let listing = list(dir, None)?;
    let newest = listing
        .days
        .iter()
        .chain(&listing.legacy)
        .map(|(day, _)| *day)
        .max()
        .unwrap_or(today);
    let behind = today.since(newest.min(today)).unwrap_or_default();
    let oldest = oldest.checked_sub(behind).unwrap_or(Date::MIN);
    let mut removed = 0;
    let newest_legacy = listing.legacy.last().map(|(_, p)| p.clone());
    for (day, path) in listing.days.iter().chain(&listing.legacy) {
        // The newest old segment holds the sequence number the day files continue from.
        if *day < oldest && Some(path) != newest_legacy.as_ref() {
            fs::remove_file(path).map_err(io_err(path))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// The files of a journal directory.
struct Listing {
    /// Old-format segments, oldest first.
    legacy: Vec<(Date, PathBuf)>,
    /// Day files, oldest first.
    days: Vec<(Date, PathBuf)>,
    /// Named after the latest day: left alone.
    future: Vec<PathBuf>,
}

/// The files in `dir` by kind, leaving apart those named after `latest`; other files are left
/// alone. Old segments are always judged by the wall clock (they are named by the day of
/// writing).
fn list(dir: &Path, latest: Option<Date>) -> Result<Listing, JournalError> {
    let tomorrow = wall_today().tomorrow().unwrap_or(Date::MAX);
    let mut listing = Listing {
        legacy: Vec::new(),
        days: Vec::new(),
        future: Vec::new(),
    };
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let (stem, latest, into) = if let Some(stem) = name.strip_suffix(SUFFIX) {
            (stem, latest, &mut listing.days)
        } else if let Some(stem) = name.strip_suffix(legacy::SUFFIX) {
            (stem, Some(tomorrow), &mut listing.legacy)
        } else {
            continue;
        };
        let Ok(day) = stem.parse::<Date>() else {
            continue;
        };
        if latest.is_some_and(|latest| day > latest) {
            listing.future.push(entry.path());
        } else {
            into.push((day, entry.path()));
        }
    }
    listing.legacy.sort();
    listing.days.sort();
    listing.future.sort();
    Ok(listing)
}

/// The UTC date of the wall clock (old segments are named by it).
fn wall_today() -> Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

#[cfg(test)]
mod tests;
