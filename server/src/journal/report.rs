//! What reading the journal found ([`ReplayReport`]), where an event is ([`At`]), and the
//! journal's error: shared by the writer and both readers (`super::index`, `super::legacy`).

use std::path::{Path, PathBuf};

use super::marks::Gap;

/// A journal file that could not be read or written, named (the start fails with it: events
/// cannot be accepted without a journal).
#[derive(Debug, thiserror::Error)]
pub(crate) enum JournalError {
    #[error("journal {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Names the file an I/O error happened on.
pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Where an event is in the journal, as `floorwatch journal check` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum At {
    /// A line of an old-format segment (1-based).
    Line(u64),
    /// The `index`th event (1-based; 0: the frame itself) of the frame at byte `offset`.
    Frame { offset: u64, index: u32 },
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Line(line) => write!(f, "{line}"),
            At::Frame { offset, index } => write!(f, "{offset}#{index}"),
        }
    }
}

/// What replay found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ReplayReport {
    /// Files replayed (day files and old segments).
    pub(crate) segments: usize,
    /// Older files left unread (see `super::REPLAY_DAYS`).
    pub(crate) archived_segments: usize,
    pub(crate) events: u64,
    /// Incomplete writes at the end of a file, cut off: (file, bytes dropped).
    pub(crate) torn_tails: Vec<(PathBuf, u64)>,
    /// Lines that are not events: (file, where, reason).
    pub(crate) bad_lines: Vec<(PathBuf, At, String)>,
    /// Where events were lost (damage, a deleted file), with how many when the numbers tell.
    pub(crate) gaps: Vec<Gap>,
    /// Files named for a day after tomorrow (a clock far ahead, a stray file): not read, never
    /// appended to.
    pub(crate) future_segments: Vec<PathBuf>,
    /// The checkpoint position the replay started from (`Opening::from_seq`); `None` after a
    /// replay of the whole journal window (`/healthz`'s `journal.from_checkpoint`).
    pub(crate) from_checkpoint: Option<u64>,
}

impl ReplayReport {
    /// Events known lost, over every gap.
    pub(crate) fn lost_events(&self) -> u64 {
        self.gaps.iter().filter_map(|g| g.lost).sum()
    }

    /// Bytes of torn writes cut off, if any.
    pub(crate) fn torn_tail_bytes(&self) -> Option<u64> {
        (!self.torn_tails.is_empty()).then(|| self.torn_tails.iter().map(|(_, n)| n).sum())
    }
}
