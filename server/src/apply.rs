//! Applying events to the floor: what the single-node recorder does after its journal write,
//! and what a cluster node does with each message of the stream (`crate::cluster`), one code
//! path for both so that a node's figures are the recorder's (docs/CLUSTER.md).
//!
//! Before anything is made durable each event gets a [`Mark`] (new, a duplicate, or refused for
//! its time), a new one's id filed in the seen ids as it is marked (and taken back if its group
//! cannot be made durable); [`Applier::apply`] then catches a long jump of the clock up in
//! steps (the floor's lock let go between them when someone waits for it), applies them in
//! order and numbers each with its position (the journal's sequence number, or a cluster
//! position), and counts them per source.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use floorwatch_core::alerts::EVALUATION_PERIOD_MS;
use floorwatch_core::{Applied, Event};

use crate::floor::{self, CATCH_UP_STEPS, LiveFloor, SharedFloor};
use crate::horizon::TooFarAhead;
use crate::journal::CentreDays;
use crate::pulse::Pulse;
use crate::seen_ids::{Fingerprint, SeenIds, fingerprint};
use crate::telemetry::{EventOutcome, Telemetry};

/// What one batch came to. Every event is accepted, a duplicate or refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Recorded {
    pub(crate) accepted: u64,
    pub(crate) duplicate: u64,
    /// Of the accepted ones, how many were late (see [`crate::floor::Outcome::late_by`]).
    pub(crate) late: u64,
    /// Events refused for their time (too far ahead, see [`crate::horizon`]): their index in
    /// the batch and why. Not journaled, not applied.
    pub(crate) refused: Vec<(usize, TooFarAhead)>,
}

/// What becomes of one event, decided before it is made durable.
pub(crate) enum Mark {
    /// New: made durable, then applied (the id's fingerprint and its centre day, under which
    /// it is filed in the seen ids).
    New(Fingerprint, jiff::civil::Date),
    Duplicate,
    Refused(TooFarAhead),
}

/// Marks `event`: a duplicate when its id is in `seen` (an earlier event of the same group
/// included: see below), refused when `admit` says it is too far ahead, new otherwise.
pub(crate) fn mark(
    seen: &mut SeenIds,
    days: &mut CentreDays,
    event: &Event,
    admit: impl FnOnce(&Event) -> Result<(), TooFarAhead>,
) -> Mark {
    mark_known(seen, days, (event, fingerprint(&event.id)), admit)
}

/// [`mark`] of an event whose id's fingerprint `fp` is already known (the recorder computes a
/// batch's first, to warm the seen ids with them: `SeenIds::warm`). A new event's id is filed
/// in `seen` here, under its centre day, while the slot its look-up just read is still in the
/// cache: filed when applied, it missed the cache again (issue 15: a day's table is far larger
/// than the cache), and a set of the group's own ids was kept beside it to find a duplicate
/// within the group. A caller that then fails to make the group durable takes the ids back
/// ([`SeenIds::forget_ids`]).
pub(crate) fn mark_known(
    seen: &mut SeenIds,
    days: &mut CentreDays,
    (event, fp): (&Event, Fingerprint),
    admit: impl FnOnce(&Event) -> Result<(), TooFarAhead>,
) -> Mark {
    if seen.contains(fp) {
        Mark::Duplicate
    } else if let Err(refused) = admit(event) {
        Mark::Refused(refused)
    } else {
        let day = days.of(event.ts);
        seen.insert(day, fp);
        Mark::New(fp, day)
    }
}

/// Applies marked events to the floor and counts them (see the module doc).
pub(crate) struct Applier {
    floor: SharedFloor,
    telemetry: Arc<Telemetry>,
    pulse: Arc<Pulse>,
    /// When each source was last warned about late events (one warning a minute at most).
    late_warned: HashMap<String, Instant>,
}

impl Applier {
    pub(crate) fn new(floor: SharedFloor, telemetry: Arc<Telemetry>, pulse: Arc<Pulse>) -> Applier {
        Applier {
            floor,
            telemetry,
            pulse,
            late_warned: HashMap::new(),
        }
    }

    /// The pulse the floor's clock is told by.
    pub(crate) fn pulse(&self) -> &Pulse {
        &self.pulse
    }

    /// The floor events are applied to.
    pub(crate) fn floor(&self) -> &SharedFloor {
        &self.floor
    }

    /// Applies each batch's new events in order, one [`Recorded`] per batch. `position` numbers
    /// each new event just before it is applied (it may hand history over, see
    /// `crate::start`); `done` runs under the same hold of the floor's lock once all are
    /// applied, so that what it records (a cluster node's stream position) is read with them.
    pub(crate) fn apply<'e>(
        &mut self,
        (seen, days): (&mut SeenIds, &mut CentreDays),
        batches: impl IntoIterator<Item = (&'e [Event], Vec<Mark>)>,
        mut position: impl FnMut(&mut LiveFloor) -> u64,
        done: impl FnOnce(&mut LiveFloor),
    ) -> Vec<Recorded> {
        // [accepted, duplicate, late, refused] per source.
        let mut by_source = SourceCounts::new();
        let mut replies = Vec::new();
        let shared = self.floor.clone();
        let mut floor = floor::lock(&shared);
        for (events, marks) in batches {
            let mut recorded = Recorded::default();
            for (i, (event, mark)) in events.iter().zip(marks).enumerate() {
                match mark {
                    // Its id was filed in the seen ids when it was marked (`mark_known`).
                    Mark::New(..) => {}
                    Mark::Duplicate => {
                        recorded.duplicate += 1;
                        counts_of(&mut by_source, &event.source)[1] += 1;
                        continue;
                    }
                    Mark::Refused(why) => {
                        counts_of(&mut by_source, &event.source)[3] += 1;
                        tracing::debug!(source = %event.source, id = %event.id, ts = event.ts, "event refused: too far ahead");
                        recorded.refused.push((i, why));
                        continue;
                    }
                }
                // A long jump is caught up in steps, letting go of the lock between them when
                // someone waits for it: the publisher and the API read the floor meanwhile (the
                // jump itself is bounded by the horizon, and a floor at rest skips to its next
                // timer).
                if !event.test
                    && event.ts - floor.now() > CATCH_UP_STEPS as i64 * EVALUATION_PERIOD_MS
                {
                    while !floor.catch_up_held(event.ts, CATCH_UP_STEPS) {
                        // `/healthz` (which never takes the lock) follows the jump.
                        self.pulse.set_clock(floor.now());
                        if !floor::someone_waits() {
                            // Nobody to let in: go on under the same hold, so the alert
                            // changes of the whole jump are journaled (and synced) once.
                            continue;
                        }
                        // What the steps changed is journaled before anyone can read it
                        // (docs/ALERTS.md, "Changes and the journal").
                        floor.flush();
                        // Readers see the floor between steps: the counts and the clock they
                        // read beside it must already say what it holds. A cluster node's floor
                        // is then between two stream positions, and says so by naming none
                        // (its figures equal another node's only at a position).
                        floor.leave_stream_position();
                        self.count(&mut by_source);
                        drop(floor);
                        std::thread::yield_now();
                        floor = floor::lock(&shared);
                    }
                }
                let at = position(&mut floor);
                // Alert changes are journaled once for the whole group, below (or before a
                // catch-up lets the lock go), before the lock is let go.
                let outcome = floor.apply_held(event);
                floor.applied_journal_seq(at);
                let counts = counts_of(&mut by_source, &event.source);
                if outcome.applied == Applied::Duplicate {
                    // The engine knew the id although the seen ids did not (it cannot happen
                    // unless their notions of identity differ); it was not applied twice.
                    recorded.duplicate += 1;
                    counts[1] += 1;
                    continue;
                }
                recorded.accepted += 1;
                counts[0] += 1;
                if let Some(late_by) = outcome.late_by {
                    recorded.late += 1;
                    counts[2] += 1;
                    tracing::debug!(source = %event.source, id = %event.id, late_by_ms = late_by, "late event");
                }
            }
            replies.push(recorded);
        }
        floor.flush();
        done(&mut floor);
        self.pulse.set_clock(floor.now());
        // Ids of days before the floor's yesterday are not kept (crate::seen_ids).
        seen.forget_before(days.yesterday_of(floor.now()));
        // Counted before anyone can read the floor: /healthz never lags what it shows.
        self.count(&mut by_source);
        drop(floor);
        replies
    }

    /// Tells the publisher that the floor changed, when any of `replies` accepted an event,
    /// and notes when (for the ingest-to-push histogram).
    pub(crate) fn announce(&self, replies: &[Recorded]) {
        let accepted_at = Instant::now();
        let mut changed = false;
        for recorded in replies {
            if recorded.accepted > 0 {
                self.pulse.accepted(accepted_at);
                changed = true;
            }
        }
        if changed {
            self.pulse.notify_changed();
        }
    }

    /// Adds the counts of events recorded so far to the telemetry, per source and outcome
    /// (`[accepted, duplicate, late, refused]`), and empties them.
    fn count(&mut self, by_source: &mut SourceCounts) {
        let now = Instant::now();
        for (source, [accepted, duplicate, late, refused]) in by_source.drain(..) {
            self.telemetry
                .count_events(&source, EventOutcome::Accepted, accepted);
            self.telemetry
                .count_events(&source, EventOutcome::Duplicate, duplicate);
            self.telemetry
                .count_events(&source, EventOutcome::Late, late);
            self.telemetry
                .count_events(&source, EventOutcome::Rejected, refused);
            if late > 0 {
                self.warn_late(source, late, now);
            }
        }
    }

    fn warn_late(&mut self, source: String, late: u64, now: Instant) {
        let due = self
            .late_warned
            .get(&source)
            .is_none_or(|last| now.duration_since(*last).as_secs() >= 60);
        if due {
            tracing::warn!(
                %source,
                late,
                "events older than the floor's clock minus the lateness allowance: applied, \
                 counted as late (floorwatch_events_total{{outcome=\"late\"}})"
            );
            self.late_warned.insert(source, now);
        }
    }
}

/// The counts of `source` (`[accepted, duplicate, late, refused]`): a short list (a group
/// holds a source or a few), its name copied the first time it is seen in a group, not for
/// every event.
fn counts_of<'a>(by_source: &'a mut SourceCounts, source: &str) -> &'a mut [u64; 4] {
    let at = match by_source.iter().position(|(s, _)| s == source) {
        Some(at) => at,
        None => {
            by_source.push((source.to_string(), [0; 4]));
            by_source.len() - 1
        }
    };
    &mut by_source[at].1
}

/// `[accepted, duplicate, late, refused]` per source, while a group is recorded.
type SourceCounts = Vec<(String, [u64; 4])>;
