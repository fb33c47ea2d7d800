//! A node's floor at start (docs/CLUSTER.md, "A node's start"): the newest usable snapshot on
//! its own disk (the single node's checkpoints, `crate::checkpoint`, positioned in the stream),
//! from which the node consumes the stream; without one, the whole stream from its first
//! message. Either way the node evaluates the alert rules at every boundary it crosses, as
//! every live node did, so its alert book comes out the same; no alert journal is restored.

use std::path::Path;
use std::thread::JoinHandle;

use crate::alerts::AlertDesk;
use crate::checkpoint::{self, Expect, schedule::Checkpointer};
use crate::config::Settings;
use crate::floor::LiveFloor;
use crate::history::HistoryResume;
use crate::horizon::Lookout;
use crate::journal::{CentreDays, REPLAY_DAYS};
use crate::recorder::utc_today;
use crate::seen_ids::SeenIds;
use crate::start::{Timers, open_history, resume};

use super::stream::{INDEX_BITS, seq_of};

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

/// Builds the node's floor from its newest usable snapshot (see the module doc); the stream
/// ends at `stream_last` now.
pub(crate) fn floor(
    settings: &Settings,
    data_dir: &Path,
    desk: AlertDesk,
    (wall_now, stream_last): (i64, u64),
) -> anyhow::Result<NodeStart> {
    let lateness_ms = i64::try_from(settings.lateness.as_millis()).unwrap_or(i64::MAX);
    let mut floor = LiveFloor::new(&settings.organisation, lateness_ms, desk)?;
    let (mut history, history_thread) = open_history(settings, data_dir, wall_now);
    let config = checkpoint::config_fingerprint(&settings.organisation, &settings.alerts.rules);
    let dir = data_dir.join(SNAPSHOT_DIR);
    set_aside_beyond(&dir, stream_last);
    let replay_from = utc_today()
        .checked_sub(jiff::Span::new().days(i64::from(REPLAY_DAYS) - 1))
        .unwrap_or_else(|_| utc_today());
    let resumed = if settings.checkpoint_every.is_zero() {
        None
    } else {
        let expect = Expect {
            config: config.clone(),
        };
        // No alert journal: the snapshot's book is where the node's alerts stand.
        resume(
            settings,
            &mut floor,
            (&dir, &expect),
            &[],
            &mut history,
            (replay_from, Timers::Kept),
        )
    };
    let (seen, lookout, next) = match resumed {
        Some((header, seen, _)) => (
            seen,
            Lookout::new(settings.horizon, header.lookout),
            Some(header.next_seq),
        ),
        None => (SeenIds::new(), Lookout::new(settings.horizon, None), None),
    };
    let from_seq = next.map_or(1, seq_of).max(1);
    if from_seq > 1 {
        floor.set_stream_position(from_seq - 1);
    }
    let checkpoints = (!settings.checkpoint_every.is_zero()).then(|| {
        Checkpointer::new(dir, config, settings.checkpoint_every, next)
            .with_position_shift(INDEX_BITS)
    });
    Ok(NodeStart {
        floor,
        seen,
        days: CentreDays::new(settings.organisation.calendar()?),
        lookout,
        history,
        history_thread,
        checkpoints,
        from_seq,
        resumed: next.is_some(),
    })
}

/// Moves aside the snapshots that lie past the stream's end: the stream was made again (a new
/// NATS cluster), and what they hold is not in it.
fn set_aside_beyond(dir: &Path, stream_last: u64) {
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
