//! What a node starts from (docs/CLUSTER.md, "A node's start"): the floor of its newest usable
//! snapshot on its own disk (the single node's checkpoints, `crate::checkpoint`, positioned in
//! the stream), from which the node consumes the stream; without one, an empty floor and the
//! whole stream. `crate::start::node_floor` builds it (beside the single node's start, with the
//! same checkpoint and history code); here are its shape and the snapshots' directory.

use std::path::Path;
use std::thread::JoinHandle;

use crate::checkpoint::{self, schedule::Checkpointer};
use crate::floor::LiveFloor;
use crate::history::HistoryResume;
use crate::horizon::Lookout;
use crate::journal::CentreDays;
use crate::seen_ids::SeenIds;

use super::stream::seq_of;

/// The node's snapshots inside its data dir (apart from a single node's checkpoints: their
/// positions count journal events, these count stream messages).
pub(crate) const SNAPSHOT_DIR: &str = "cluster-snapshots";

/// The floor as the start leaves it, with what the node's applier takes over.
pub(crate) struct NodeStart {
    pub(crate) floor: LiveFloor,
    pub(crate) seen: SeenIds,
    pub(crate) days: CentreDays,
    pub(crate) lookout: Lookout,
    /// History's store, until the floor reaches its resume point in the stream.
    pub(crate) history: Option<HistoryResume>,
    pub(crate) history_thread: Option<JoinHandle<()>>,
    pub(crate) checkpoints: Option<Checkpointer>,
    /// The first stream sequence the snapshot does not hold (1 without a snapshot).
    pub(crate) from_seq: u64,
    /// Whether a snapshot was loaded.
    pub(crate) resumed: bool,
}

/// Moves aside the snapshots that lie past the stream's end: the stream was made again (a new
/// NATS cluster), and what they hold is not in it.
pub(crate) fn set_aside_beyond(dir: &Path, stream_last: u64) {
    for path in checkpoint::list(dir) {
        let Some(next) = position_of(&path) else {
            continue;
        };
        if seq_of(next) > stream_last + 1 {
            let aside = path.with_extension("beyond-stream");
            tracing::warn!(
                file = %path.display(),
                snapshot_next_seq = seq_of(next),
                stream_last,
                "snapshot past the stream's end (was the stream made again?): set aside, not used"
            );
            if let Err(e) = std::fs::rename(&path, &aside) {
                tracing::error!(file = %path.display(), error = %e, "could not set a snapshot aside");
            }
        }
    }
}

/// The position in a snapshot's file name (`floor-NEXTSEQ.ckpt`).
fn position_of(path: &Path) -> Option<u64> {
    path.file_stem()?
        .to_str()?
        .strip_prefix("floor-")?
        .parse()
        .ok()
}
