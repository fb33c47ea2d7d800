//! The interval ledger: what each event added to each scope's quarter-hour, kept apart from the
//! rolling windows so that history (docs/HISTORY.md) can be written at every interval end and
//! amended by late events of any age.
//!
//! Off unless [`crate::Engine::keep_intervals`] turns it on: the live wall needs none of it.
//!
//! Everything in a delta is a sum, a count, a maximum or a sample list, so deltas merge in any
//! order and any grouping: a history written at every interval end of a live day and one
//! rebuilt from the journal in one pass are the same sums. Call contributions land in the
//! quarter-hour of the minute the engine counts them in (docs/METRICS.md, "Calls"). Agent state
//! time lands in the chain the agent belongs to when it is credited, cut at quarter-hour
//! boundaries.
//!
//! State time needs care, because a state is still running when its interval closes. The
//! invariant: a closed state has been credited over its whole span; the running state of each
//! agent over `[since, max(since, closed_until))`. [`Ledger::close`] credits every running state
//! up to the boundary; a state change (which may be late: before `closed_until`) credits what is
//! missing or takes back what was credited too far, so the sums end up as if every state had
//! been credited once, when it ended.

use rustc_hash::FxHashMap;

use super::call_detail::CallDetail;
use super::chain::{Chain, ScopeIdx};
use super::ids::id_hash;
use super::open_state::OpenState;
use super::tally::{Contribution, MINUTE_MS, Tally};
use crate::event::{AgentState, Millis, NotReadyReason};

/// The history's interval: 15 minutes, aligned on UTC quarter-hours, which are the local ones in
/// every zone in use (all offsets are whole quarter-hours: +05:45 and +12:45 included).
pub const QUARTER_HOUR_MS: Millis = 15 * MINUTE_MS;

/// One scope's additions to one quarter-hour since the ledger was last closed.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IntervalSums {
    /// The calls' sums and counts and agents' state time (docs/METRICS.md).
    pub tally: Tally,
    /// Not-ready time by reason, indexed by [`NotReadyReason::index`].
    pub not_ready_ms: [i64; NotReadyReason::ALL.len()],
    /// Queue-outcome waits, ms (the wait percentiles' samples).
    pub waits: Vec<u32>,
    /// Handled calls' handle times, ms (the handle-time percentiles' samples).
    pub handles: Vec<u32>,
    /// The earliest sign-in in the quarter-hour (a state begun from signed out): an agent's
    /// first sign-in of a day is the earliest of its quarter-hours'.
    pub signed_in_at: Option<Millis>,
    /// The latest sign-out in the quarter-hour.
    pub signed_out_at: Option<Millis>,
}

impl IntervalSums {
    /// Adds another delta of the same scope and quarter-hour.
    pub fn merge(&mut self, other: &IntervalSums) {
        self.tally.add(&other.tally);
        for (mine, theirs) in self.not_ready_ms.iter_mut().zip(other.not_ready_ms) {
            *mine += theirs;
        }
        self.waits.extend_from_slice(&other.waits);
        self.handles.extend_from_slice(&other.handles);
        self.signed_in_at = earliest(self.signed_in_at, other.signed_in_at);
        self.signed_out_at = self.signed_out_at.max(other.signed_out_at);
    }

    fn count(&mut self, c: &Contribution) {
        self.tally.count(c);
        self.waits.extend(c.wait_sample());
        self.handles.extend(c.handle_sample());
    }
}

/// The earlier of two optional instants.
pub(crate) fn earliest(a: Option<Millis>, b: Option<Millis>) -> Option<Millis> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The additions to one scope's quarter-hour, the scope by its index (the engine names it when
/// it hands the deltas over as [`super::IntervalDelta`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndexedDelta {
    /// The quarter-hour's start, UTC ms (a multiple of 15 minutes).
    pub start: Millis,
    /// The scope's index in the engine's floor (resolved to a `Scope` by the engine).
    pub(crate) scope: ScopeIdx,
    pub sums: IntervalSums,
}

/// The deltas of every (quarter-hour, scope) touched since the last close.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Ledger {
    open: FxHashMap<(i64, ScopeIdx), IntervalSums>,
    /// Every running state has been credited up to here (see the module doc).
    closed_until: Millis,
    /// The latest record of every visit changed since the last close, by visit id: whole
    /// records, which the store puts in place of what it has (docs/HISTORY.md, "Calls").
    calls: Noted,
}

/// The visits' records noted since the last close: each in a place of its own, found by its
/// id or, by a call that noted it before, by its place ([`Ledger::noted_at`]). The id is not
/// kept a second time as a key (issue 15: copying it was one allocation per visit and close on
/// the recorder's thread). A checkpoint writes them as a map from id to record, as when they
/// were one.
#[derive(Debug, Clone, Default)]
pub(crate) struct Noted {
    /// Every record noted since the last close, in the order first noted; `None` once handed
    /// over ([`Ledger::take_calls`], which then empties the list).
    list: Vec<Option<CallDetail>>,
    /// Places in `list`, by the [`id_hash`] of the record's id: one place per id.
    by_id: hashbrown::HashTable<usize>,
}

impl Noted {
    /// The place of the record with id `id`.
    fn find(&self, id: &str) -> Option<usize> {
        let list = &self.list;
        self.by_id
            .find(id_hash(id), |&i| {
                list[i].as_ref().is_some_and(|d| d.id.as_str() == id)
            })
            .copied()
    }

    /// Puts `detail` in place of the record with its id, or in a new place; returns the place.
    fn put(&mut self, detail: CallDetail) -> usize {
        if let Some(at) = self.find(&detail.id) {
            self.list[at] = Some(detail);
            return at;
        }
        let Noted { list, by_id } = self;
        let at = list.len();
        by_id.insert_unique(id_hash(&detail.id), at, |&i| {
            list[i].as_ref().map_or(0, |d| id_hash(&d.id))
        });
        list.push(Some(detail));
        at
    }

    fn iter(&self) -> impl Iterator<Item = &CallDetail> {
        self.list.iter().flatten()
    }
}

impl serde::Serialize for Noted {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter().map(|d| (&d.id, d)))
    }
}

impl<'de> serde::Deserialize<'de> for Noted {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = <FxHashMap<String, CallDetail> as serde::Deserialize>::deserialize(d)?;
        let mut noted = Noted::default();
        for (_, detail) in map {
            noted.put(detail);
        }
        Ok(noted)
    }
}

impl Ledger {
    /// A ledger whose running states count as credited up to `closed_until`: the boundary of
    /// the last close whose deltas were stored (a restart resumes there).
    pub(crate) fn resuming_at(closed_until: Millis) -> Ledger {
        Ledger {
            open: FxHashMap::default(),
            closed_until,
            calls: Noted::default(),
        }
    }

    /// Notes a visit's record as it stands now (replacing what was noted since the last close);
    /// returns its place, for [`Ledger::noted_at`].
    pub(crate) fn note_call(&mut self, detail: CallDetail) -> usize {
        self.calls.put(detail)
    }

    /// The record of visit `id` noted since the last close, with its place, to be brought up to
    /// date in place (`engine::calls::note_visit`: a visit is noted at its outcome, its answer
    /// and its talk's end, and only the first since a close needs its strings built).
    pub(crate) fn noted_mut(&mut self, id: &str) -> Option<(usize, &mut CallDetail)> {
        let at = self.calls.find(id)?;
        self.calls.list[at].as_mut().map(|d| (at, d))
    }

    /// The record at place `at` (a place [`Ledger::note_call`] or [`Ledger::noted_mut`] gave,
    /// maybe before a close: the caller checks that the record there is the visit it means;
    /// each id has one place, so a record that is found there is the one its id finds).
    pub(crate) fn noted_at(&mut self, at: usize) -> Option<&mut CallDetail> {
        self.calls.list.get_mut(at).and_then(Option::as_mut)
    }

    /// Hands over the visits noted since the last close, oldest outcome first (then by id).
    pub(crate) fn take_calls(&mut self) -> Vec<CallDetail> {
        let noted = &mut self.calls.list;
        // Sorted by position, each record then moved once: sorting the records themselves
        // moved them (about 200 bytes each) at every step of the sort, a share of the
        // recorder's time at each close (issue 15). The ids are unique, so the order is total.
        let mut order: Vec<usize> = (0..noted.len()).collect();
        let key = |i: usize| noted[i].as_ref().map(|d| (d.outcome_ms, d.id.as_str()));
        order.sort_unstable_by(|&a, &b| key(a).cmp(&key(b)));
        let out = order.into_iter().filter_map(|i| noted[i].take()).collect();
        // Emptied, not dropped: the next close's records go in the same room.
        noted.clear();
        self.calls.by_id.clear();
        out
    }

    /// The visits noted since the last close, not handed over yet (in no particular order).
    pub(crate) fn open_calls(&self) -> impl Iterator<Item = &CallDetail> {
        self.calls.iter()
    }

    /// Counts a call contribution in the quarter-hour of `minute`, in every scope of `chain`.
    pub(crate) fn count(&mut self, chain: &Chain, minute: i64, c: &Contribution) {
        let quarter = (minute * MINUTE_MS).div_euclid(QUARTER_HOUR_MS);
        for idx in chain.iter() {
            self.open.entry((quarter, idx)).or_default().count(c);
        }
    }

    /// An agent's state changed at `at` from `prev` (credited to `prev_chain`) to `next`
    /// (credited to `next_chain`; the same chain unless the agent moved team).
    pub(crate) fn state_changed(
        &mut self,
        prev_chain: &Chain,
        prev: Option<OpenState>,
        next_chain: &Chain,
        next: Option<OpenState>,
        at: Millis,
    ) {
        let closed = self.closed_until;
        let quarter = at.div_euclid(QUARTER_HOUR_MS);
        match (prev, next) {
            (None, Some(_)) => {
                let sums = self
                    .open
                    .entry((quarter, next_chain.get(0).unwrap_or(0)))
                    .or_default();
                sums.signed_in_at = earliest(sums.signed_in_at, Some(at));
            }
            (Some(_), None) => {
                let sums = self
                    .open
                    .entry((quarter, prev_chain.get(0).unwrap_or(0)))
                    .or_default();
                sums.signed_out_at = sums.signed_out_at.max(Some(at));
            }
            _ => {}
        }
        if let Some(p) = prev {
            let credited_to = p.since.max(closed);
            let ended = at.max(p.since);
            if ended >= credited_to {
                self.credit(prev_chain, p, credited_to, ended, 1);
            } else {
                // Credited past its end at a close: take the excess back.
                self.credit(prev_chain, p, ended, credited_to, -1);
            }
        }
        if let Some(n) = next
            && closed > n.since
        {
            // A state that began before the last close counts as credited up to it.
            self.credit(next_chain, n, n.since, closed, 1);
        }
    }

    /// Credits every running state up to `until`, and hands over every delta since the last
    /// close, oldest quarter-hour first (then by scope index).
    pub(crate) fn close(
        &mut self,
        until: Millis,
        running: impl Iterator<Item = (Chain, OpenState)>,
    ) -> Vec<IndexedDelta> {
        if until > self.closed_until {
            let closed = self.closed_until;
            for (chain, open) in running {
                let from = open.since.max(closed);
                if until > from {
                    self.credit(&chain, open, from, until, 1);
                }
            }
            self.closed_until = until;
        }
        let mut out: Vec<IndexedDelta> = self
            .open
            .drain()
            .map(|((quarter, scope), sums)| IndexedDelta {
                start: quarter * QUARTER_HOUR_MS,
                scope,
                sums,
            })
            .collect();
        out.sort_by_key(|d| (d.start, d.scope));
        out
    }

    /// Adds `sign` × the part of `[from, to)` in each quarter-hour to `state`'s time.
    fn credit(&mut self, chain: &Chain, open: OpenState, from: Millis, to: Millis, sign: i64) {
        let s = open.state.index();
        let reason = (open.state == AgentState::NotReady)
            .then(|| open.reason.unwrap_or(NotReadyReason::Other).index());
        let mut at = from;
        while at < to {
            let quarter = at.div_euclid(QUARTER_HOUR_MS);
            let end = ((quarter + 1) * QUARTER_HOUR_MS).min(to);
            let ms = sign * (end - at);
            for idx in chain.iter() {
                let sums = self.open.entry((quarter, idx)).or_default();
                sums.tally.state_ms[s] += ms;
                if let Some(r) = reason {
                    sums.not_ready_ms[r] += ms;
                }
            }
            at = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: Millis = QUARTER_HOUR_MS;

    fn chain(ids: &[usize]) -> Chain {
        let mut c = Chain::default();
        for &i in ids {
            c.push(i);
        }
        c
    }

    fn open(state: AgentState, since: Millis) -> OpenState {
        OpenState {
            state,
            reason: None,
            since,
        }
    }

    fn state_ms(deltas: &[IndexedDelta], start: Millis, scope: usize, state: AgentState) -> i64 {
        deltas
            .iter()
            .filter(|d| d.start == start && d.scope == scope)
            .map(|d| d.sums.tally.state_ms[state.index()])
            .sum()
    }

    fn visit(id: &str, outcome_ms: Millis) -> CallDetail {
        CallDetail {
            id: id.to_string(),
            call: format!("call-{id}"),
            queue: "q1".to_string(),
            entered_ms: outcome_ms - 1000,
            wait_ms: 1000,
            outcome: super::super::call_detail::VisitOutcome::Answered,
            outcome_ms,
            within: true,
            short: false,
            agent: None,
            talk_ms: None,
            hold_ms: None,
            transferred: false,
            caller: None,
        }
    }

    #[test]
    fn noted_visits_keep_one_place_per_id_across_closes_and_checkpoints() {
        let mut ledger = Ledger::default();
        let a = ledger.note_call(visit("a", 3_000));
        let b = ledger.note_call(visit("b", 1_000));
        assert_ne!(a, b);
        // Noted again: the same place, the record replaced.
        let mut again = visit("a", 3_000);
        again.talk_ms = Some(5);
        assert_eq!(ledger.note_call(again), a);
        let (place, found) = ledger.noted_mut("a").unwrap();
        assert_eq!((place, found.talk_ms), (a, Some(5)));
        assert_eq!(
            ledger.noted_at(b).map(|d| d.id.clone()),
            Some("b".to_string())
        );
        // A checkpoint writes them as a map from id to record and reads them back.
        let json = serde_json::to_value(&ledger).unwrap();
        assert_eq!(json["calls"]["a"]["talk_ms"], 5);
        let mut restored: Ledger = serde_json::from_value(json).unwrap();
        assert_eq!(
            restored.noted_mut("b").map(|(_, d)| d.outcome_ms),
            Some(1_000)
        );
        // Handed over oldest outcome first; afterwards no place holds a record until noted.
        let ids: Vec<String> = ledger.take_calls().into_iter().map(|d| d.id).collect();
        assert_eq!(ids, ["b", "a"]);
        assert!(ledger.noted_at(a).is_none() && ledger.noted_at(b).is_none());
        assert!(ledger.noted_mut("a").is_none());
        let c = ledger.note_call(visit("c", 2_000));
        assert_eq!(
            ledger.noted_at(c).map(|d| d.id.clone()),
            Some("c".to_string())
        );
        assert!(ledger.noted_mut("a").is_none());
        assert_eq!(restored.take_calls().len(), 2);
    }

    #[test]
    fn a_running_state_is_credited_at_each_close_and_its_end_adds_the_rest() {
        let c = chain(&[5, 1, 0]);
        let mut ledger = Ledger::default();
        let avail = open(AgentState::Available, 100);
        ledger.state_changed(&c, None, &c, Some(avail), 100);
        let first = ledger.close(Q, [(c, avail)].into_iter());
        assert_eq!(state_ms(&first, 0, 0, AgentState::Available), Q - 100);
        ledger.state_changed(&c, Some(avail), &c, None, Q + 500);
        let second = ledger.close(2 * Q, std::iter::empty());
        assert_eq!(state_ms(&second, Q, 5, AgentState::Available), 500);
        assert_eq!(state_ms(&second, 0, 5, AgentState::Available), 0);
    }

    #[test]
    fn a_late_change_takes_back_what_a_close_credited_too_far() {
        let c = chain(&[5, 0]);
        // Closed at Q with the agent available since 0; a late event says not ready at Q - 60s.
        let mut live = Ledger::default();
        let avail = open(AgentState::Available, 0);
        live.state_changed(&c, None, &c, Some(avail), 0);
        let mut deltas = live.close(Q, [(c, avail)].into_iter());
        let nr = open(AgentState::NotReady, Q - 60_000);
        live.state_changed(&c, Some(avail), &c, Some(nr), Q - 60_000);
        live.state_changed(&c, Some(nr), &c, None, Q + 1000);
        deltas.extend(live.close(2 * Q, std::iter::empty()));
        // The same events, never closed in between.
        let mut once = Ledger::default();
        once.state_changed(&c, None, &c, Some(avail), 0);
        once.state_changed(&c, Some(avail), &c, Some(nr), Q - 60_000);
        once.state_changed(&c, Some(nr), &c, None, Q + 1000);
        let whole = once.close(2 * Q, std::iter::empty());
        for state in [AgentState::Available, AgentState::NotReady] {
            for start in [0, Q] {
                assert_eq!(
                    state_ms(&deltas, start, 0, state),
                    state_ms(&whole, start, 0, state),
                    "{state:?} at {start}"
                );
            }
        }
        assert_eq!(state_ms(&whole, 0, 5, AgentState::NotReady), 60_000);
        assert_eq!(state_ms(&whole, Q, 5, AgentState::NotReady), 1000);
    }

    #[test]
    fn a_move_of_team_takes_the_credited_time_along_when_it_is_late() {
        let (old, new) = (chain(&[5, 1, 0]), chain(&[5, 2, 0]));
        let mut ledger = Ledger::default();
        let avail = open(AgentState::Available, 0);
        ledger.state_changed(&old, None, &old, Some(avail), 0);
        let mut deltas = ledger.close(Q, [(old, avail)].into_iter());
        // Moved at Q/2, learnt after the close.
        let moved = OpenState {
            since: Q / 2,
            ..avail
        };
        ledger.state_changed(&old, Some(avail), &new, Some(moved), Q / 2);
        deltas.extend(ledger.close(Q, std::iter::empty()));
        assert_eq!(state_ms(&deltas, 0, 1, AgentState::Available), Q / 2);
        assert_eq!(state_ms(&deltas, 0, 2, AgentState::Available), Q / 2);
        assert_eq!(state_ms(&deltas, 0, 0, AgentState::Available), Q);
    }
}
