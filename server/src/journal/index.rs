//! Reading the day files back in journal order: every file's frame headers are read first
//! (36 bytes each, the bodies skipped by their length), then the frames wanted are decoded in
//! the order of their sequence numbers, whatever day file they are in.
//!
//! Because every frame says which stretch of the sequence it holds, the frames of all day
//! files together must cover the sequence without a hole: a hole is events lost, counted
//! exactly, and placed at the damaged bytes that hide them (a header that no longer reads) or,
//! when no file shows damage there, on a day file deleted.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use jiff::civil::Date;

use super::frames::{self, Decoder, FrameHeader, HEADER_LEN};
use super::marks::Gap;
use super::report::{At, JournalError, ReplayReport, io_err};

/// One day file's frames, as its headers tell.
#[derive(Debug)]
pub(crate) struct DayIndex {
    pub(crate) day: Date,
    pub(crate) path: PathBuf,
    /// Readable frames in file order: (offset, header).
    pub(crate) frames: Vec<(u64, FrameHeader)>,
    /// Byte ranges where no header reads, with the sequence numbers around them: (from, to,
    /// end of the frame before, first of the frame after).
    damaged: Vec<(u64, u64, Option<u64>, Option<u64>)>,
    /// An incomplete frame at the end (a write torn by a kill): (offset, bytes).
    pub(crate) torn: Option<(u64, u64)>,
}

impl DayIndex {
    /// Reads the headers of the day file at `path`.
    pub(crate) fn scan(day: Date, path: &Path) -> Result<DayIndex, JournalError> {
        let file = File::open(path).map_err(io_err(path))?;
        let len = file.metadata().map_err(io_err(path))?.len();
        let mut index = DayIndex {
            day,
            path: path.to_path_buf(),
            frames: Vec::new(),
            damaged: Vec::new(),
            torn: None,
        };
        let mut at = 0u64;
        let mut header = [0u8; HEADER_LEN];
        while at < len {
            let left = len - at;
            if left < HEADER_LEN as u64 {
                let mut tail = vec![0u8; left as usize];
                file.read_exact_at(&mut tail, at).map_err(io_err(path))?;
                if frames::could_start_header(&tail) {
                    index.torn = Some((at, left));
                } else {
                    index.damage(at, len, None);
                }
                break;
            }
            file.read_exact_at(&mut header, at).map_err(io_err(path))?;
            match FrameHeader::decode(&header) {
                Some(h) if at + h.frame_len() > len => {
                    index.torn = Some((at, left));
                    break;
                }
                Some(h) => {
                    index.frames.push((at, h));
                    at += h.frame_len();
                }
                None => {
                    // Damage: find the next header that reads (rare, so the rest is read whole).
                    let mut rest = vec![0u8; left as usize];
                    file.read_exact_at(&mut rest, at).map_err(io_err(path))?;
                    match frames::find_header(&rest, 1) {
                        Some(next) => {
                            let next_at = at + next as u64;
                            let first = FrameHeader::decode(&rest[next..]).map(|h| h.first);
                            index.damage(at, next_at, first);
                            at = next_at;
                        }
                        None => {
                            index.damage(at, len, None);
                            break;
                        }
                    }
                }
            }
        }
        Ok(index)
    }

    fn damage(&mut self, from: u64, to: u64, next_first: Option<u64>) {
        let before = self.frames.last().map(|(_, h)| h.end());
        self.damaged.push((from, to, before, next_first));
    }

    /// The sequence number after its last readable frame.
    pub(crate) fn end(&self) -> Option<u64> {
        self.frames.iter().map(|(_, h)| h.end()).max()
    }

    /// Cuts a torn tail off (a start, before appending).
    pub(crate) fn cut_torn_tail(&self) -> Result<(), JournalError> {
        if let Some((at, _)) = self.torn {
            let file = OpenOptions::new()
                .write(true)
                .open(&self.path)
                .map_err(io_err(&self.path))?;
            file.set_len(at).map_err(io_err(&self.path))?;
            file.sync_all().map_err(io_err(&self.path))?;
        }
        Ok(())
    }
}

/// What reading hands over for each event line: its file, place, sequence number and bytes.
pub(crate) type VisitLine<'a> = dyn FnMut(&Path, At, u64, &[u8]) + 'a;

/// Reads the frames of `days` holding events numbered `from` or later, in sequence order,
/// handing each event line (without its newline) with its place and number to `visit`; files
/// what was lost in `report`.
pub(crate) fn read_in_order(
    days: &[DayIndex],
    from: u64,
    visit: &mut VisitLine<'_>,
    report: &mut ReplayReport,
) -> Result<(), JournalError> {
    let mut order: Vec<(u64, usize, u64, FrameHeader)> = days
        .iter()
        .enumerate()
        .flat_map(|(file, day)| {
            day.frames
                .iter()
                .filter(|(_, h)| h.end() > from)
                .map(move |&(offset, h)| (h.first, file, offset, h))
        })
        .collect();
    order.sort_unstable_by_key(|&(first, file, offset, _)| (first, file, offset));
    let mut decoder = Decoder::new().map_err(|source| JournalError::Io {
        path: PathBuf::new(),
        source,
    })?;
    let mut open: Vec<Option<File>> = days.iter().map(|_| None).collect();
    let mut expected = order.first().map_or(from, |&(first, ..)| first.max(from));
    let mut claimed = vec![false; days.iter().map(|d| d.damaged.len()).sum()];
    for &(first, file, offset, header) in &order {
        let day = &days[file];
        if first > expected {
            report
                .gaps
                .push(hole(days, &mut claimed, expected, first, &day.path));
        }
        expected = expected.max(header.end());
        let handle = match &mut open[file] {
            Some(handle) => handle,
            slot => slot.insert(File::open(&day.path).map_err(io_err(&day.path))?),
        };
        let read = decoder
            .read(handle, offset, &header)
            .map_err(io_err(&day.path))?;
        if let Err(reason) = read {
            report.gaps.push(Gap {
                segment: day.path.clone(),
                bytes: Some((offset, offset + header.frame_len())),
                lost: Some(u64::from(header.events)),
                what: format!("a damaged frame: {reason}"),
            });
            continue;
        }
        let mut seq = first;
        for (i, line) in decoder.lines.split_inclusive(|&b| b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            if seq >= from {
                let at = At::Frame {
                    offset,
                    index: i as u32 + 1,
                };
                visit(&day.path, at, seq, line);
            }
            seq += 1;
        }
        if seq != header.end() {
            report.bad_lines.push((
                day.path.clone(),
                At::Frame { offset, index: 0 },
                format!(
                    "the frame holds {} lines, its header says {}",
                    seq - first,
                    header.events
                ),
            ));
        }
    }
    // Damage no hole accounts for: after the last readable frame, so how many is unknown.
    let mut k = 0;
    for day in days {
        for &(from_byte, to_byte, before, after) in &day.damaged {
            if !claimed[k] && after.is_none_or(|f| f > from) && before.is_none_or(|e| e >= from) {
                report.gaps.push(Gap {
                    segment: day.path.clone(),
                    bytes: Some((from_byte, to_byte)),
                    lost: None,
                    what: "damaged bytes after the day file's last readable frame".into(),
                });
            }
            k += 1;
        }
    }
    Ok(())
}

/// The gap of events `from..to` found missing before a frame of `next`: placed on damaged bytes
/// that can hide them, else on a deleted day file.
fn hole(days: &[DayIndex], claimed: &mut [bool], from: u64, to: u64, next: &Path) -> Gap {
    let mut k = 0;
    for day in days {
        for &(from_byte, to_byte, before, after) in &day.damaged {
            let fits = before.is_none_or(|end| end <= from) && after.is_none_or(|f| f >= to);
            if fits && !claimed[k] {
                claimed[k] = true;
                return Gap {
                    segment: day.path.clone(),
                    bytes: Some((from_byte, to_byte)),
                    lost: Some(to - from),
                    what: "events overwritten (damaged bytes)".into(),
                };
            }
            k += 1;
        }
    }
    Gap {
        segment: next.to_path_buf(),
        bytes: None,
        lost: Some(to - from),
        what: format!(
            "events {from} to {} are in no day file: one was deleted before {}",
            to - 1,
            next.display()
        ),
    }
}
