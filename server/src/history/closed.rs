//! [`ClosedIntervals`]: what one close of the engine's ledger hands from the floor to the
//! history thread and on into the store.

use std::sync::Arc;

use floorwatch_core::history::{CallDetail, IntervalSums};
use floorwatch_core::{Millis, Scope};

/// One close of the engine's ledger: what every event since the last close added to each
/// scope's quarter-hours, and how far it reaches.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClosedIntervals {
    /// Every running agent state is credited up to here (a quarter-hour boundary).
    pub(crate) until: Millis,
    /// The journal sequence number of the last event the deltas include: a restart replays
    /// the events after it into the ledger, and no earlier one.
    pub(crate) through_seq: Option<u64>,
    /// (scope, additions, quarter-hour start), oldest quarter-hour first.
    pub(crate) deltas: Vec<(Scope, IntervalSums, Millis)>,
    /// The whole record of every visit changed since the last close (docs/HISTORY.md,
    /// "Calls"), oldest outcome first: stored in place of what the store has. Shared with
    /// the sender's list of closes not yet written (`writer::HistorySender`), which a
    /// drill-down reads meanwhile: one copy of the records, not two (issue 15: copying them
    /// at every close was a share of the recorder thread's allocations).
    pub(crate) calls: Arc<Vec<CallDetail>>,
}

impl ClosedIntervals {
    /// Adds a later close to this one (a store that could not be written keeps one pending
    /// close, not one per quarter-hour).
    pub(crate) fn absorb(&mut self, later: ClosedIntervals) {
        use std::collections::HashMap;
        let mut at: HashMap<(Scope, Millis), usize> = self
            .deltas
            .iter()
            .enumerate()
            .map(|(i, (scope, _, start))| ((scope.clone(), *start), i))
            .collect();
        for (scope, sums, start) in later.deltas {
            match at.get(&(scope.clone(), start)) {
                Some(&i) => self.deltas[i].1.merge(&sums),
                None => {
                    at.insert((scope.clone(), start), self.deltas.len());
                    self.deltas.push((scope, sums, start));
                }
            }
        }
        // A visit's later record replaces its earlier one. (Copied only when the sender's
        // list still shares them: a close that could not be written, a rare path.)
        let mine = Arc::make_mut(&mut self.calls);
        let mut calls: HashMap<String, usize> = mine
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        let later_calls = Arc::try_unwrap(later.calls).unwrap_or_else(|shared| (*shared).clone());
        for call in later_calls {
            match calls.get(&call.id) {
                Some(&i) => mine[i] = call,
                None => {
                    calls.insert(call.id.clone(), mine.len());
                    mine.push(call);
                }
            }
        }
        self.until = self.until.max(later.until);
        self.through_seq = later.through_seq.or(self.through_seq);
    }
}
