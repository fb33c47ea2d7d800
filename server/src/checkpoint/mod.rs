//! Checkpoints of the floor (docs/ARCHITECTURE.md, "Checkpoints"): the live floor's state
//! (`crate::floor::snapshot::FloorState`), the recorder's seen ids and its lookout, with the journal
//! position they reflect, so that a start replays only the journal after it.
//!
//! `DATA_DIR/checkpoints/floor-NEXTSEQ.ckpt` (`NEXTSEQ`: the first journal event it does not
//! hold, 20 digits, so names sort in journal order); the newest [`KEEP`] are kept. A file is
//!
//! ```text
//! "FWFLOOR\n" | header length (u32 LE) | header (MessagePack) | zstd frame with checksum of:
//!     header length (u32 LE) | header again | floor state | seen ids
//! ```
//!
//! The outer header says what the file is before anything is decompressed; the inner one, under the frame's checksum, must equal it, so damage anywhere is noticed. A
//! checkpoint of another format, taken under another organisation or alert configuration, or
//! by a build whose id fingerprints differ, is ignored, and so is a damaged one: the start
//! takes the next newest, or replays the whole journal. Nothing accepted is lost either way.

use std::io::Write;
use std::path::{Path, PathBuf};

use floorwatch_core::alerts::AlertsConfig;
use floorwatch_core::{Millis, Organisation};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::atomic_file::{self, Access};
use crate::floor::snapshot::FloorState;
use crate::seen_ids::{SeenIds, fingerprint};

pub(crate) mod schedule;
#[cfg(test)]
mod tests;

/// The directory of checkpoints inside the data dir.
pub(crate) const DIR: &str = "checkpoints";
/// Checkpoints kept: the newest, and the one before in case the newest is damaged.
pub(crate) const KEEP: usize = 2;
/// The layout of the header and of the state after it; bumped whenever either changes (a field
/// of the engine, the alerts or the floor included), so an older file is ignored, never misread.
/// 2: seen ids as 64-bit fingerprints (`crate::seen_ids`; 1 had 128-bit ones).
pub(crate) const FORMAT: u32 = 2;
const MAGIC: &[u8; 8] = b"FWFLOOR\n";
const SUFFIX: &str = ".ckpt";
/// zstd level: the fastest of the usual ones, the write competes with ingest for the cores.
const LEVEL: i32 = 1;
/// Hashed with [`fingerprint`] into every header: a build whose hash differs cannot use the
/// seen ids of a checkpoint (`std`'s hasher is not promised stable across releases).
const PROBE: &str = "floorwatch checkpoint probe";

/// What a checkpoint says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Header {
    pub(crate) format: u32,
    /// [`config_fingerprint`] of the configuration it was taken under.
    pub(crate) config: String,
    pub(crate) probe: String,
    /// The first journal event it does not hold (every event numbered before it is in it).
    pub(crate) next_seq: u64,
    /// The UTC day it was taken on (the day the journal was being written).
    pub(crate) day: Date,
    /// When it was taken, wall clock UTC ms.
    pub(crate) taken_at_ms: Millis,
    /// The latest accepted event time, for the recorder's lookout (`crate::horizon`).
    pub(crate) lookout: Option<Millis>,
    /// Bytes of the floor's state; the seen ids follow.
    pub(crate) floor_bytes: u64,
}

/// A checkpoint taken (under the floor's lock and on the recorder's thread), to be written.
pub(crate) struct Taken {
    pub(crate) header: Header,
    pub(crate) floor: Vec<u8>,
    pub(crate) seen: Vec<u8>,
    /// How long the floor's lock was held to encode it, and the recorder's thread busy (for
    /// the log).
    pub(crate) locked_ms: u64,
    pub(crate) taken_ms: u64,
}

/// A checkpoint read back and checked, ready for the start.
pub(crate) struct Loaded {
    pub(crate) path: PathBuf,
    pub(crate) header: Header,
    pub(crate) floor: FloorState,
    pub(crate) seen: SeenIds,
}

/// Why a checkpoint was not used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CheckpointError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a floorwatch checkpoint")]
    NotACheckpoint,
    #[error("format {found}, this build reads format {FORMAT}")]
    Format { found: u32 },
    #[error("taken under another organisation or alert configuration")]
    Config,
    #[error("taken by a build whose event id fingerprints differ")]
    Probe,
    #[error("damaged: {0}")]
    Damaged(String),
}

/// What a checkpoint must match to be used: the configuration now.
pub(crate) struct Expect {
    pub(crate) config: String,
}

/// A digest of what the floor's state depends on besides the events: the organisation and the
/// alert rules. A checkpoint taken under others would not equal a replay under these.
pub(crate) fn config_fingerprint(org: &Organisation, alerts: &AlertsConfig) -> String {
    let mut hasher = Sha256::new();
    hasher.update(serde_json::to_vec(org).unwrap_or_default());
    hasher.update(b"\n");
    hasher.update(serde_json::to_vec(alerts).unwrap_or_default());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// [`fingerprint`] of [`PROBE`], as text.
fn probe() -> String {
    format!("{:016x}", fingerprint(PROBE))
}

impl Header {
    /// A header for a checkpoint taken now at journal position `next_seq`.
    pub(crate) fn new(config: String, next_seq: u64, lookout: Option<Millis>) -> Header {
        let now = jiff::Timestamp::now();
        Header {
            format: FORMAT,
            config,
            probe: probe(),
            next_seq,
            day: now.to_zoned(jiff::tz::TimeZone::UTC).date(),
            taken_at_ms: now.as_millisecond(),
            lookout,
            floor_bytes: 0,
        }
    }

    fn check(&self, expect: &Expect) -> Result<(), CheckpointError> {
        if self.format != FORMAT {
            return Err(CheckpointError::Format { found: self.format });
        }
        if self.config != expect.config {
            return Err(CheckpointError::Config);
        }
        if self.probe != probe() {
            return Err(CheckpointError::Probe);
        }
        Ok(())
    }
}

/// Compresses and writes `taken` into `dir` (atomically: a crash leaves the old files), then
/// deletes all but the newest [`KEEP`]. Returns the file written and its size. The compressed
/// bytes stream into the file: no copy of the checkpoint is held in memory beside `taken`,
/// which is dropped before the old files are deleted (BENCHMARKS.md, "The journal and memory
/// day over day").
pub(crate) fn write(dir: &Path, mut taken: Taken) -> Result<(PathBuf, u64), CheckpointError> {
    std::fs::create_dir_all(dir)?;
    taken.header.floor_bytes = taken.floor.len() as u64;
    let header = rmp_serde::to_vec_named(&taken.header)
        .map_err(|e| CheckpointError::Damaged(e.to_string()))?;
    let header_len = u32::try_from(header.len())
        .map_err(|_| CheckpointError::Damaged("header too long".into()))?
        .to_le_bytes();
    let path = dir.join(format!("floor-{:020}{SUFFIX}", taken.header.next_seq));
    atomic_file::replace_with(&path, Access::Private, |file| {
        file.write_all(MAGIC)?;
        file.write_all(&header_len)?;
        file.write_all(&header)?;
        let mut encoder = zstd::stream::Encoder::new(file, LEVEL)?;
        encoder.include_checksum(true)?;
        encoder.write_all(&header_len)?;
        encoder.write_all(&header)?;
        encoder.write_all(&taken.floor)?;
        encoder.write_all(&taken.seen)?;
        encoder.finish()?;
        Ok(())
    })?;
    drop(taken);
    let size = std::fs::metadata(&path)?.len();
    for old in list(dir).into_iter().skip(KEEP) {
        if let Err(e) = std::fs::remove_file(&old) {
            tracing::warn!(file = %old.display(), error = %e, "an old checkpoint could not be deleted");
        }
    }
    Ok((path, size))
}

/// The checkpoints in `dir`, newest (furthest in the journal) first.
pub(crate) fn list(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("floor-") && n.ends_with(SUFFIX))
        })
        .collect();
    out.sort();
    out.reverse();
    out
}

/// The outer header and the compressed rest.
fn split(bytes: &[u8]) -> Result<(Header, &[u8]), CheckpointError> {
    let rest = bytes
        .strip_prefix(MAGIC)
        .ok_or(CheckpointError::NotACheckpoint)?;
    let (len, rest) = rest
        .split_first_chunk::<4>()
        .ok_or(CheckpointError::NotACheckpoint)?;
    let len = u32::from_le_bytes(*len) as usize;
    let raw = rest
        .get(..len)
        .ok_or_else(|| CheckpointError::Damaged("cut short in its header".into()))?;
    let header: Header =
        rmp_serde::from_slice(raw).map_err(|e| CheckpointError::Damaged(format!("header: {e}")))?;
    Ok((header, &rest[len..]))
}

/// Reads and checks one checkpoint: its header against `expect`, its frame's checksum, its
/// inner header against the outer one, and its state.
pub(crate) fn read(path: &Path, expect: &Expect) -> Result<Loaded, CheckpointError> {
    let bytes = std::fs::read(path)?;
    let (header, frame) = split(&bytes)?;
    if header.format != FORMAT {
        return Err(CheckpointError::Format {
            found: header.format,
        });
    }
    let body = zstd::stream::decode_all(frame)
        .map_err(|e| CheckpointError::Damaged(format!("compressed state: {e}")))?;
    let damaged = |what: &str| CheckpointError::Damaged(what.to_string());
    let (len, rest) = body
        .split_first_chunk::<4>()
        .ok_or_else(|| damaged("empty state"))?;
    let len = u32::from_le_bytes(*len) as usize;
    let inner = rest.get(..len).ok_or_else(|| damaged("state cut short"))?;
    if rmp_serde::from_slice::<Header>(inner).ok().as_ref() != Some(&header) {
        return Err(damaged("the header does not match the state's"));
    }
    header.check(expect)?;
    let rest = &rest[len..];
    let floor_len = usize::try_from(header.floor_bytes).map_err(|_| damaged("floor length"))?;
    let floor = rest
        .get(..floor_len)
        .ok_or_else(|| damaged("floor cut short"))?;
    let floor = FloorState::from_bytes(floor)
        .map_err(|e| CheckpointError::Damaged(format!("floor state: {e}")))?;
    let seen = SeenIds::from_bytes(&rest[floor_len..]).ok_or_else(|| damaged("seen ids"))?;
    Ok(Loaded {
        path: path.to_path_buf(),
        header,
        floor,
        seen,
    })
}
