//! Start-up of the floor: the alert book from its journal, history at its resume point, the
//! newest usable checkpoint (`crate::checkpoint`), then the journal's events after it, or all
//! of them when no checkpoint can be used (docs/ARCHITECTURE.md, "Checkpoints").

use std::path::Path;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use floorwatch_core::alerts::{AlertChange, RestoreReport};

use crate::alerts::{self, AlertDesk, AlertJournal};
use crate::checkpoint::{self, Expect, Header, Loaded, schedule::Checkpointer};
use crate::cluster;
use crate::config::Settings;
use crate::floor::LiveFloor;
use crate::history::{self, HistoryResume};
use crate::horizon::ClockMode;
use crate::horizon::Lookout;
use crate::journal::{CentreDays, Journal, Opening, REPLAY_DAYS, ReplayReport};
use crate::recorder::utc_today;
use crate::seen_ids::{SeenIds, fingerprint};

/// The floor as the start leaves it, with what the recorder takes over.
pub(crate) struct Started {
    pub(crate) floor: LiveFloor,
    pub(crate) journal: Journal,
    pub(crate) seen: SeenIds,
    /// The centre day of an event's time, for the recorder's seen ids and day files.
    pub(crate) days: CentreDays,
    pub(crate) lookout: Lookout,
    pub(crate) replay: ReplayReport,
    pub(crate) history_thread: Option<JoinHandle<()>>,
    pub(crate) checkpoints: Option<Checkpointer>,
}

/// Builds the floor from the data dir: see the module doc. `desk`: the alert rules configured.
pub(crate) fn floor(
    settings: &Settings,
    data_dir: &Path,
    desk: AlertDesk,
    wall_now: i64,
) -> anyhow::Result<Started> {
    let lateness_ms = i64::try_from(settings.lateness.as_millis()).unwrap_or(i64::MAX);
    let mut floor = LiveFloor::new(&settings.organisation, lateness_ms, desk)?;
    let (alert_journal, changes, alert_report) =
        AlertJournal::open(&data_dir.join("alerts"), settings.fsync)?;
    let (mut history, history_thread) = open_history(settings, data_dir, wall_now);
    let replay_from = utc_today()
        .checked_sub(jiff::Span::new().days(i64::from(REPLAY_DAYS) - 1))
        .unwrap_or_else(|_| utc_today());
    let config = checkpoint::config_fingerprint(&settings.organisation, &settings.alerts.rules);
    let dir = data_dir.join(checkpoint::DIR);
    let resumed = if settings.checkpoint_every.is_zero() {
        None
    } else {
        let expect = Expect {
            config: config.clone(),
        };
        resume(
            settings,
            &mut floor,
            (&dir, &expect),
            &changes,
            &mut history,
            (replay_from, Timers::AsReplayed),
        )
    };
    // An event too far ahead (journaled before the horizon was checked) is set aside, not
    // applied: it would move the clock for good (docs/EVENTS.md, "Time"). The lookout
    // remembers the latest event accepted, the checkpoint's to begin with.
    let (mut seen, mut lookout, skip_before) = match resumed {
        Some((header, seen, restored)) => {
            report_alert_journal(&alert_report, restored);
            let lookout = Lookout::new(settings.horizon, header.lookout);
            (seen, lookout, Some(header.next_seq))
        }
        None => {
            // The events replayed below are observed by the alert rules but not evaluated:
            // what they raised is in the alert journal, restored into the book here
            // (docs/ALERTS.md, "Changes and the journal"). Evaluation goes on from the next
            // boundary. (A checkpoint's book took the changes after it the same way.)
            let restored = floor.restore_alerts(changes);
            report_alert_journal(&alert_report, restored);
            let seen = SeenIds::new();
            (seen, Lookout::new(settings.horizon, None), None)
        }
    };
    floor.set_evaluating(false);
    let started = Instant::now();
    let mut set_aside = 0u64;
    let mut journaled_twice = 0u64;
    // Ids go by the centre day of the events' time (docs/ARCHITECTURE.md, "The journal"); ids
    // of days before the floor's yesterday are dropped as its clock moves on.
    let mut days = CentreDays::new(settings.organisation.calendar()?);
    let opening = Opening {
        fsync: settings.fsync,
        // With the wall clock, a day file after tomorrow is a stray: left alone.
        latest_day: (settings.clock == ClockMode::Wall)
            .then(|| utc_today().tomorrow().unwrap_or(jiff::civil::Date::MAX)),
        // A checkpoint holds every event numbered before its position: only those after it.
        from_seq: skip_before,
    };
    let (journal, mut replay) = Journal::open(&data_dir.join("journal"), opening, |seq, event| {
        if let Some(resume) = history.take_if(|h| h.due_before(seq)) {
            floor.resume_history(resume, seq);
        }
        if let Err(why) = lookout.admit(&event, wall_now) {
            set_aside += 1;
            if set_aside <= 10 {
                tracing::warn!(id = %event.id, source = %event.source, reason = %why, "journaled event set aside: too far ahead (see `floorwatch journal check`)");
            }
            return;
        }
        if !seen.insert(days.of(event.ts), fingerprint(&event.id)) {
            // Journaled twice (a file copied onto itself, or into another): applied once.
            journaled_twice += 1;
            return;
        }
        floor.apply(&event);
        if let Some(seq) = seq {
            floor.applied_journal_seq(seq);
        }
        seen.forget_before(days.yesterday_of(floor.now()));
    })?;
    if let Some(resume) = history {
        floor.resume_history(resume, None);
    }
    replay.from_checkpoint = skip_before;
    report_replay(&replay, started.elapsed());
    if journaled_twice > 0 {
        tracing::warn!(
            journaled_twice,
            "journal events found twice (a segment copied?) were applied once"
        );
    }
    if set_aside > 0 {
        tracing::warn!(
            set_aside,
            "journaled events too far ahead of the clock were set aside, not applied; \
             `floorwatch journal check` lists them"
        );
    }
    floor.set_evaluating(true);
    floor.attach_alert_journal(alert_journal);
    // The checkpoint read and the replay's buffers are freed: back to the system (crate::heap).
    let rss_bytes = crate::heap::give_back();
    tracing::debug!(rss_bytes, "memory after the start");
    let checkpoints = (!settings.checkpoint_every.is_zero())
        .then(|| Checkpointer::new(dir, config, settings.checkpoint_every, skip_before));
    Ok(Started {
        floor,
        journal,
        seen,
        days,
        lookout,
        replay,
        history_thread,
        checkpoints,
    })
}

/// History's store at its resume point and its thread (docs/HISTORY.md, "Restarts"); none
/// while history is off.
pub(crate) fn open_history(
    settings: &Settings,
    data_dir: &Path,
    wall_now: i64,
) -> (Option<HistoryResume>, Option<JoinHandle<()>>) {
    // History resumes where its store ends: the events replayed up to its resume point are
    // in it already (docs/HISTORY.md, "Restarts").
    // A store that cannot be opened (a full disk) leaves history off for this run, never the
    // floor: the journal keeps every event, and `floorwatch history rebuild` fills the days.
    let opened = settings
        .organisation
        .calendar()
        .map_err(history::OpenError::from)
        .and_then(|calendar| {
            history::open(
                data_dir,
                &calendar,
                (settings.history_days, settings.journal_days),
                wall_now,
            )
        })
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "history is off for this run: its store could not be opened; `floorwatch history rebuild` recomputes the days from the journal once it can");
            None
        });
    match opened {
        Some((resume, thread)) => (Some(resume), Some(thread)),
        None => (None, None),
    }
}

/// What a restored floor keeps of the alerts' condition timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timers {
    /// Forgotten, as a replay of the journal (which does not evaluate) would have none: a
    /// single node.
    AsReplayed,
    /// Kept: a cluster node evaluates every boundary of the stream, at start too, so a
    /// snapshot's timers are what every live node holds at its position.
    Kept,
}

/// Cluster mode: builds a node's floor from its newest usable snapshot (docs/CLUSTER.md, "A
/// node's start"; `crate::cluster::start`); the stream ends at `stream_last` now. The node
/// evaluates the alert rules at every boundary it crosses, at start too, as every live node
/// did, so its alert book comes out the same: no alert journal is restored, and the snapshot's
/// condition timers are kept.
pub(crate) fn node_floor(
    settings: &Settings,
    data_dir: &Path,
    desk: AlertDesk,
    (wall_now, stream_last): (i64, u64),
) -> anyhow::Result<cluster::start::NodeStart> {
    let lateness_ms = i64::try_from(settings.lateness.as_millis()).unwrap_or(i64::MAX);
    let mut floor = LiveFloor::new(&settings.organisation, lateness_ms, desk)?;
    let (mut history, history_thread) = open_history(settings, data_dir, wall_now);
    let config = checkpoint::config_fingerprint(&settings.organisation, &settings.alerts.rules);
    let dir = data_dir.join(cluster::start::SNAPSHOT_DIR);
    cluster::start::set_aside_beyond(&dir, stream_last);
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
    let from_seq = next.map_or(1, cluster::stream::seq_of).max(1);
    if from_seq > 1 {
        floor.set_stream_position(from_seq - 1);
    }
    let checkpoints = (!settings.checkpoint_every.is_zero()).then(|| {
        Checkpointer::new(dir, config, settings.checkpoint_every, next)
            .with_position_shift(cluster::stream::INDEX_BITS)
    });
    Ok(cluster::start::NodeStart {
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

/// Takes the newest checkpoint that can be used into `floor`, and says why each newer one
/// could not. `None`: no checkpoint (the caller replays the whole journal, or the stream).
pub(crate) fn resume(
    settings: &Settings,
    floor: &mut LiveFloor,
    (dir, expect): (&Path, &Expect),
    changes: &[AlertChange],
    history: &mut Option<HistoryResume>,
    (replay_from, timers): (jiff::civil::Date, Timers),
) -> Option<(Header, SeenIds, RestoreReport)> {
    for path in checkpoint::list(dir) {
        let started = Instant::now();
        let loaded = match checkpoint::read(&path, expect) {
            Ok(loaded) => loaded,
            Err(e) => {
                tracing::warn!(file = %path.display(), reason = %e, "checkpoint ignored");
                continue;
            }
        };
        match usable(&loaded, changes, history.as_ref(), replay_from) {
            Err(reason) => {
                tracing::warn!(file = %path.display(), reason, "checkpoint ignored");
            }
            Ok(keep_ledger) => {
                let sender = keep_ledger
                    .then(|| history.take().map(|h| h.resume(None).0))
                    .flatten();
                let next_seq = loaded.header.next_seq;
                let Loaded {
                    path,
                    header,
                    floor: state,
                    seen,
                } = loaded;
                match floor.resume_from(&settings.organisation, state, changes, sender) {
                    Ok(restored) => {
                        if timers == Timers::AsReplayed {
                            floor.forget_alert_timers();
                        }
                        tracing::info!(
                            file = %path.display(),
                            next_seq,
                            taken_at_ms = header.taken_at_ms,
                            took_ms = started.elapsed().as_millis() as u64,
                            "checkpoint loaded: replaying the journal after it"
                        );
                        return Some((header, seen, restored));
                    }
                    Err(e) => {
                        tracing::error!(file = %path.display(), reason = %e, "checkpoint ignored");
                        return None;
                    }
                }
            }
        }
    }
    None
}

/// Whether a checkpoint read back can be used now, and whether its interval ledger goes on
/// (`true`) or starts again at the store's resume point (`false`, as in a full replay).
fn usable(
    loaded: &Loaded,
    changes: &[AlertChange],
    history: Option<&HistoryResume>,
    replay_from: jiff::civil::Date,
) -> Result<bool, &'static str> {
    if loaded.header.day < replay_from {
        return Err("taken before the days the journal replays");
    }
    if !loaded.floor.alerts_fit(changes) {
        return Err("the alert journal does not continue the one it was taken beside");
    }
    let Some(history) = history else {
        return Ok(false);
    };
    let store = history.position();
    let next = loaded.header.next_seq;
    if next == 0 || store.through_seq.is_some_and(|t| t + 1 >= next) {
        return Ok(false);
    }
    if loaded.floor.ledger_from == Some(store) {
        return Ok(true);
    }
    Err("the history store does not end where its interval ledger begins")
}

fn report_alert_journal(
    report: &alerts::journal::AlertJournalReport,
    restored: floorwatch_core::alerts::RestoreReport,
) {
    tracing::info!(
        changes = report.changes,
        applied = restored.applied,
        skipped = restored.skipped,
        "alert journal restored"
    );
    if let Some(bytes) = report.torn_tail {
        tracing::warn!(
            bytes,
            "the alert journal's last line was torn (the server was killed mid-write); cut off"
        );
    }
    for (line, reason) in report.bad_lines.iter().take(10) {
        tracing::error!(line, %reason, "damaged alert journal line skipped");
    }
}

fn report_replay(replay: &ReplayReport, took: Duration) {
    tracing::info!(
        events = replay.events,
        segments = replay.segments,
        archived_segments = replay.archived_segments,
        from_checkpoint = replay.from_checkpoint,
        took_ms = took.as_millis() as u64,
        "journal replayed"
    );
    for (segment, bytes) in &replay.torn_tails {
        tracing::warn!(
            segment = %segment.display(),
            bytes,
            "the journal's last write was torn (the server was killed mid-write); it was never \
             acknowledged and has been cut off"
        );
    }
    for gap in &replay.gaps {
        let (from_byte, to_byte) = gap.bytes.unzip();
        tracing::error!(
            segment = %gap.segment.display(),
            from_byte,
            to_byte,
            lost_events = gap.lost,
            what = %gap.what,
            "journal damage: events lost"
        );
    }
    for segment in &replay.future_segments {
        tracing::error!(
            segment = %segment.display(),
            "journal segment named for a day after tomorrow: not replayed, never appended to; \
             move it out of the journal directory"
        );
    }
    for (segment, at, reason) in replay.bad_lines.iter().take(10) {
        tracing::error!(segment = %segment.display(), at = %at, %reason, "damaged journal line skipped");
    }
    if replay.bad_lines.len() > 10 {
        tracing::error!(
            more = replay.bad_lines.len() - 10,
            "more damaged journal lines skipped"
        );
    }
}
