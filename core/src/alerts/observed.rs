//! What the evaluator learns from events directly, beside the engine's figures: when each
//! source last spoke, queue arrivals (for sudden peaks) and calls ended just after their answer
//! (dropped calls). Everything is filed by event time, so the order in which late events arrive
//! does not change what an evaluation boundary sees once they are in (docs/ALERTS.md,
//! "Built-in kinds").

use std::collections::BTreeMap;

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::event::{AgentState, Event, EventKind, Millis};
use crate::figures::Applied;

/// Arrivals are counted in slots of this length: the evaluation period, so "the last 5
/// minutes" at a boundary is exact.
const SLOT_MS: Millis = super::period::EVALUATION_PERIOD_MS;
use crate::time::MINUTE_MS;
/// The span compared by the sudden-peak kind.
pub(crate) const PEAK_SPAN_MS: Millis = 5 * MINUTE_MS;
/// Slots kept: the last 5 minutes and the 60 before them, with a minute to spare.
const SLOTS_KEPT_MS: Millis = 66 * MINUTE_MS;
/// Earlier days consulted for the usual volume of an interval.
pub(crate) const USUAL_DAYS: i64 = 7;
/// Per-minute arrivals kept: the earlier days and today.
const MINUTES_KEPT_MS: Millis = (USUAL_DAYS + 1) * 24 * 60 * MINUTE_MS;
/// Longest dropped-calls window (`window_min` at most 60).
const DROPPED_KEPT_MS: Millis = 60 * MINUTE_MS;
/// A call heard of but not ended for this long is forgotten (as the engine forgets a call that
/// waited six hours).
const CALL_KEPT_MS: Millis = 6 * 60 * MINUTE_MS;

/// A call that ended within the longest `short_talk_s` of any dropped-calls rule.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct DroppedCall {
    pub talk: Millis,
    pub queue: Option<String>,
    pub agent: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Arrivals {
    /// Arrivals per [`SLOT_MS`] slot (slot index = ts / SLOT_MS), recent only.
    slots: BTreeMap<i64, u32>,
    /// Arrivals per UTC minute, for the same interval on earlier days.
    minutes: BTreeMap<i64, u32>,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct CallSeen {
    queue: Option<String>,
    answered: Option<(Millis, String)>,
    last_at: Millis,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Observations {
    /// The earliest event time observed: history before it is unknown, not zero.
    first_at: Option<Millis>,
    /// The latest time of an event the engine applied: no window of the engine holds anything
    /// newer, which tells when the floor comes to rest (`super::rest`).
    last_at: Option<Millis>,
    /// The latest event time of each source (duplicates and test events count: the feed is
    /// alive).
    sources: BTreeMap<String, Millis>,
    /// Whether any sudden-peak rule needs arrivals.
    keep_arrivals: bool,
    arrivals: BTreeMap<String, Arrivals>,
    /// The longest `short_talk_s` of the dropped-calls rules, 0 when there are none.
    keep_short_talk: Millis,
    /// Calls in progress by id (FxHash: looked up at every call event of a replay).
    calls: FxHashMap<String, CallSeen>,
    /// Dropped calls by (end time, order observed).
    dropped: BTreeMap<(Millis, u64), DroppedCall>,
    dropped_seq: u64,
    /// Whether any not-ready-overrun rule needs [`Observations::not_ready`].
    keep_not_ready: bool,
    /// Agents whose latest applied `agent_state` event said `not_ready`: the only ones a
    /// not-ready overrun can be about (the engine, asked at each boundary, has the last word).
    /// Hashed: every agent touched since the last boundary is looked up here (a B-tree of
    /// strings compared a few hundred ids a boundary on the large day; issue 15); saved in id
    /// order, so a checkpoint's bytes do not depend on the hash.
    #[serde(serialize_with = "in_id_order")]
    not_ready: FxHashSet<String>,
    /// Agents named by an applied sign-in, sign-out, state or team event since the evaluator
    /// last took them ([`Observations::take_touched`]): the only agents whose state, reason,
    /// spell or team can have changed (`Engine::apply_new`), so the only ones a not-ready
    /// overrun's kept readings must look at again (`super::breaks`). Kept only with
    /// `keep_not_ready`; never saved (a restored evaluator rebuilds its readings whole).
    #[serde(skip)]
    touched: FxHashSet<String>,
    /// Change counters, one per part of the floor a rule reads (see [`Observations::seq`]):
    /// a rule whose inputs' counters stand still and whose next timer is not due is not read
    /// again (`super::wake`; issue 15). Never saved: a restored book reads every rule again.
    #[serde(skip)]
    seqs: Seqs,
}

/// Applied events counted by what they can change (see [`Observations::seq`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Seqs {
    /// Events that may change an agent's state or its spell (all but a call entering a queue
    /// or leaving the IVR, which no agent is part of yet).
    pub agents: u64,
    /// Calls entering a queue (arrivals).
    pub arrivals: u64,
    /// Sign-ins, sign-outs and team moves: what moves an agent in the organisation.
    pub moves: u64,
}

impl Observations {
    pub(super) fn new(
        keep_arrivals: bool,
        keep_short_talk: Millis,
        keep_not_ready: bool,
    ) -> Observations {
        Observations {
            keep_arrivals,
            keep_short_talk,
            keep_not_ready,
            ..Observations::default()
        }
    }

    /// Files one event the engine was given, with what the engine made of it.
    pub(super) fn observe(&mut self, event: &Event, applied: Applied) {
        let at = event.ts;
        // The source's name is copied only the first time it is heard (not per event).
        match self.sources.get_mut(&event.source) {
            Some(last) => *last = (*last).max(at),
            None => {
                self.sources.insert(event.source.clone(), at);
            }
        }
        if applied != Applied::Applied {
            // A duplicate was counted the first time; a test call never counts.
            return;
        }
        self.first_at = Some(self.first_at.map_or(at, |f| f.min(at)));
        self.last_at = Some(self.last_at.map_or(at, |l| l.max(at)));
        match &event.kind {
            EventKind::CallEnteredQueue { .. } => self.seqs.arrivals += 1,
            EventKind::CallIvrCompleted { .. } => {}
            EventKind::AgentLogin { .. }
            | EventKind::AgentLogout { .. }
            | EventKind::AgentTeam { .. } => {
                self.seqs.moves += 1;
                self.seqs.agents += 1;
            }
            _ => self.seqs.agents += 1,
        }
        if self.keep_not_ready
            && let EventKind::AgentLogin { agent, .. }
            | EventKind::AgentLogout { agent }
            | EventKind::AgentState { agent, .. }
            | EventKind::AgentTeam { agent, .. } = &event.kind
            && !self.touched.contains(agent.as_str())
        {
            self.touched.insert(agent.clone());
        }
        match &event.kind {
            EventKind::AgentState {
                agent,
                state: AgentState::NotReady,
                ..
            } if self.keep_not_ready && !self.not_ready.contains(agent.as_str()) => {
                // Copied only when not listed already (as the touched agents above).
                self.not_ready.insert(agent.clone());
            }
            EventKind::CallEnteredQueue { call, queue, .. } => {
                if self.keep_arrivals {
                    // The queue's name is copied only the first time it is heard: `entry`
                    // takes its key by value, and a copy made for every call entering a queue
                    // (and dropped at once) was an allocation per arrival on the recorder's
                    // thread (issue 15; BENCHMARKS.md, "Tenth pass: the recorder's per-event
                    // cost").
                    if !self.arrivals.contains_key(queue.as_str()) {
                        self.arrivals.insert(queue.clone(), Arrivals::default());
                    }
                    if let Some(arrivals) = self.arrivals.get_mut(queue.as_str()) {
                        *arrivals.slots.entry(at.div_euclid(SLOT_MS)).or_default() += 1;
                        *arrivals
                            .minutes
                            .entry(at.div_euclid(MINUTE_MS))
                            .or_default() += 1;
                    }
                }
                if self.keep_short_talk > 0 {
                    let seen = self.calls.entry(call.clone()).or_default();
                    seen.queue = Some(queue.clone());
                    seen.answered = None;
                    seen.last_at = seen.last_at.max(at);
                }
            }
            EventKind::CallAnswered {
                call, agent, queue, ..
            } if self.keep_short_talk > 0 => {
                // The call entered a queue first, as a rule: its id is copied only if not.
                if !self.calls.contains_key(call) {
                    self.calls.insert(call.clone(), CallSeen::default());
                }
                let Some(seen) = self.calls.get_mut(call) else {
                    return;
                };
                if queue.is_some() {
                    seen.queue.clone_from(queue);
                }
                seen.answered = Some((at, agent.clone()));
                seen.last_at = seen.last_at.max(at);
            }
            EventKind::CallEnded {
                call,
                queue,
                agent,
                talk_ms,
            } if self.keep_short_talk > 0 => {
                let seen = self.calls.remove(call).unwrap_or_default();
                // Talk as the switch measured it, else from the answer we saw; a call whose
                // answer is unknown is not judged.
                let talk = talk_ms.or(seen.answered.as_ref().map(|(answered, _)| at - answered));
                if let Some(talk) = talk.filter(|&t| t < self.keep_short_talk) {
                    self.dropped_seq += 1;
                    self.dropped.insert(
                        (at, self.dropped_seq),
                        DroppedCall {
                            talk: talk.max(0),
                            queue: queue.clone().or(seen.queue),
                            agent: agent.clone().or(seen.answered.map(|(_, agent)| agent)),
                        },
                    );
                }
            }
            EventKind::CallTransferred { call, .. } if self.keep_short_talk > 0 => {
                // The agent's part ended by a hand-over, not a drop; a new leg may follow.
                if let Some(seen) = self.calls.get_mut(call) {
                    seen.answered = None;
                    seen.last_at = seen.last_at.max(at);
                }
            }
            EventKind::CallAbandoned { call, .. } | EventKind::CallTimedOut { call, .. } => {
                self.calls.remove(call);
            }
            _ => {}
        }
    }

    /// Forgets what no rule can look at any more, once a minute of event time. Every query
    /// reads a range well inside what is kept, so when pruning happens changes no answer.
    pub(super) fn prune(&mut self, at: Millis) {
        if at.rem_euclid(MINUTE_MS) != 0 {
            return;
        }
        let oldest_slot = (at - SLOTS_KEPT_MS).div_euclid(SLOT_MS);
        let oldest_minute = (at - MINUTES_KEPT_MS).div_euclid(MINUTE_MS);
        // Split only what holds something to forget: a split builds a new tree each time, and
        // at most one minute's worth is older than the last prune (issue 15).
        for arrivals in self.arrivals.values_mut() {
            forget_before(&mut arrivals.slots, &oldest_slot);
            forget_before(&mut arrivals.minutes, &oldest_minute);
        }
        self.arrivals.retain(|_, a| !a.minutes.is_empty());
        forget_before(&mut self.dropped, &(at - DROPPED_KEPT_MS, 0));
        self.calls.retain(|_, c| c.last_at >= at - CALL_KEPT_MS);
    }

    /// How many applied events of each sort were observed (see [`Seqs`]).
    pub(super) fn seq(&self) -> Seqs {
        self.seqs
    }

    /// How many dropped calls were filed so far (only events file one).
    pub(super) fn dropped_seq(&self) -> u64 {
        self.dropped_seq
    }

    /// The earliest event time observed, if any.
    pub(super) fn first_at(&self) -> Option<Millis> {
        self.first_at
    }

    /// The first instant at which [`Observations::usual_known`] holds, with no earlier event.
    pub(super) fn usual_known_at(&self) -> Option<Millis> {
        self.first_at
            .map(|first| first.saturating_add(PEAK_SPAN_MS + 60 * MINUTE_MS))
    }

    /// Agents that may be not ready, in no particular order (every reader's outcome is
    /// independent of it: it files what it finds by key or takes the earliest time).
    pub(super) fn not_ready(&self) -> impl Iterator<Item = &str> {
        self.not_ready.iter().map(String::as_str)
    }

    /// Keeps only the agents for which `still` holds (asked of the engine at a boundary).
    pub(super) fn retain_not_ready(&mut self, mut still: impl FnMut(&str) -> bool) {
        self.not_ready.retain(|agent| still(agent));
    }

    /// Whether `agent` may be not ready (see [`Observations::not_ready`]).
    pub(super) fn may_be_not_ready(&self, agent: &str) -> bool {
        self.not_ready.contains(agent)
    }

    /// Forgets `agent` as maybe not ready (the engine says it is not).
    pub(super) fn not_ready_ended(&mut self, agent: &str) {
        self.not_ready.remove(agent);
    }

    /// Moves the agents touched since the last call into `into` (emptied first; swapped, so
    /// neither set's table is allocated again at every boundary).
    pub(super) fn take_touched(&mut self, into: &mut FxHashSet<String>) {
        into.clear();
        std::mem::swap(&mut self.touched, into);
    }

    /// Every source heard from, by name.
    pub(super) fn sources(&self) -> impl Iterator<Item = &str> {
        self.sources.keys().map(String::as_str)
    }

    /// The latest time of an applied event (late ones included), if any.
    pub(super) fn last_applied(&self) -> Option<Millis> {
        self.last_at
    }

    /// When `source` last sent an event.
    pub(super) fn last_heard(&self, source: &str) -> Option<Millis> {
        self.sources.get(source).copied()
    }

    /// Queues that had arrivals in the kept history.
    pub(super) fn queues_with_arrivals(&self) -> impl Iterator<Item = &str> {
        self.arrivals.keys().map(String::as_str)
    }

    /// Arrivals in `queues` with event time in `[from, to)` (both on slot boundaries).
    pub(super) fn arrivals(&self, queues: &[&str], from: Millis, to: Millis) -> u64 {
        let (from, to) = (from.div_euclid(SLOT_MS), to.div_euclid(SLOT_MS));
        queues
            .iter()
            .filter_map(|q| self.arrivals.get(*q))
            .flat_map(|a| a.slots.range(from..to).map(|(_, &n)| u64::from(n)))
            .sum()
    }

    /// Arrivals in `queues` in `[from, to)` from the per-minute counts, each minute's
    /// arrivals taken as spread evenly over it (a minute half inside counts half).
    fn spread_arrivals(&self, queues: &[&str], from: Millis, to: Millis) -> f64 {
        let (first, last) = (from.div_euclid(MINUTE_MS), (to - 1).div_euclid(MINUTE_MS));
        queues
            .iter()
            .filter_map(|q| self.arrivals.get(*q))
            .flat_map(|a| a.minutes.range(first..=last))
            .map(|(&minute, &n)| {
                let start = minute * MINUTE_MS;
                let inside = to.min(start + MINUTE_MS) - from.max(start);
                f64::from(n) * inside as f64 / MINUTE_MS as f64
            })
            .sum()
    }

    /// Whether events were observed from `t` on (so no arrivals means none, not unknown).
    fn known_from(&self, t: Millis) -> bool {
        self.first_at.is_some_and(|first| first <= t)
    }

    /// The usual 5-minute volume of `queues` at `at` (docs/ALERTS.md, "sudden_peak"): the mean
    /// over the earlier days known (up to [`USUAL_DAYS`]) of the arrivals in the same 5 minutes
    /// of local time, `[t − 5 min, t)` with `t` the same local time that day (from per-minute
    /// counts, spread evenly within each minute); with no earlier day known, the mean 5-minute
    /// volume of the 60 minutes before the last 5; `None` when even that is not known.
    pub(super) fn usual(&self, queues: &[&str], at: Millis, tz: &TimeZone) -> Option<f64> {
        // The local date and time of `at` are worked out once, not once per earlier day; an
        // earlier day before the first event observed is not looked up at all (issue 15).
        let (mut sum, mut known) = (0.0, 0_u32);
        let local = Timestamp::from_millisecond(at)
            .ok()
            .map(|ts| ts.to_zoned(tz.clone()).datetime());
        for d in 1..=USUAL_DAYS {
            let Some(then) = local.and_then(|local| same_local_time_days_before(local, d, tz))
            else {
                continue;
            };
            let start = then - PEAK_SPAN_MS;
            if self.known_from(start) && start >= at - MINUTES_KEPT_MS {
                sum += self.spread_arrivals(queues, start, then);
                known += 1;
            }
        }
        if known > 0 {
            return Some(sum / f64::from(known));
        }
        let start = at - PEAK_SPAN_MS - 60 * MINUTE_MS;
        self.known_from(start).then(|| {
            self.arrivals(queues, start, at - PEAK_SPAN_MS) as f64
                / (60 * MINUTE_MS / PEAK_SPAN_MS) as f64
        })
    }

    /// Whether [`Observations::usual`] has an answer at `at`, without working it out: it has
    /// one exactly when the 65 minutes before `at` were observed, since every earlier day it
    /// could consult lies before them (at least 23 hours back, DST included).
    pub(super) fn usual_known(&self, at: Millis) -> bool {
        self.known_from(at - PEAK_SPAN_MS - 60 * MINUTE_MS)
    }

    /// The end time and talk of each dropped call with end time in `[from, to)`, oldest first.
    pub(super) fn dropped_ends(
        &self,
        from: Millis,
        to: Millis,
    ) -> impl Iterator<Item = (Millis, Millis)> {
        self.dropped
            .range((from, 0)..(to, 0))
            .map(|(&(end, _), d)| (end, d.talk))
    }

    /// Dropped calls with end time in `[from, to)`.
    pub(super) fn dropped(&self, from: Millis, to: Millis) -> impl Iterator<Item = &DroppedCall> {
        self.dropped.range((from, 0)..(to, 0)).map(|(_, d)| d)
    }
}

/// Serialises a set of ids as a sequence in id order.
fn in_id_order<S: serde::Serializer>(set: &FxHashSet<String>, to: S) -> Result<S::Ok, S::Error> {
    let mut ids: Vec<&String> = set.iter().collect();
    ids.sort_unstable();
    serde::Serialize::serialize(&ids, to)
}

/// The instant with the same local wall-clock time as `at`, `days` local dates earlier; a time
/// inside a DST gap moves forward, one in a fold takes the earlier instant (jiff's compatible
/// rule, as for the daily reset).
fn same_local_time_days_before(local: DateTime, days: i64, tz: &TimeZone) -> Option<Millis> {
    let date = local.date().checked_sub(Span::new().days(days)).ok()?;
    let then = tz.to_ambiguous_timestamp(date.to_datetime(local.time()));
    Some(then.compatible().ok()?.as_millisecond())
}

/// Removes every entry of `map` before `oldest`, touching the tree only when its first entry is
/// that old.
fn forget_before<K: Ord, V>(map: &mut BTreeMap<K, V>, oldest: &K) {
    if map
        .first_key_value()
        .is_some_and(|(first, _)| first < oldest)
    {
        *map = map.split_off(oldest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> Millis {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn agents_maybe_not_ready_are_saved_in_id_order() {
        let mut observed = Observations::new(false, 0, true);
        for agent in ["a9", "a1", "a5", "a10", "a3"] {
            observed.not_ready.insert(agent.to_string());
        }
        let json = serde_json::to_value(&observed).unwrap();
        assert_eq!(
            json["not_ready"],
            serde_json::json!(["a1", "a10", "a3", "a5", "a9"])
        );
        let back: Observations = serde_json::from_value(json).unwrap();
        assert_eq!(back.not_ready, observed.not_ready);
    }

    #[test]
    fn forgetting_keeps_everything_from_the_oldest_on() {
        let mut map: BTreeMap<i64, u32> = (0..10).map(|k| (k, 1)).collect();
        forget_before(&mut map, &0);
        assert_eq!(map.len(), 10);
        forget_before(&mut map, &4);
        assert_eq!(
            map.keys().copied().collect::<Vec<_>>(),
            (4..10).collect::<Vec<_>>()
        );
        forget_before(&mut map, &20);
        assert!(map.is_empty());
        forget_before(&mut map, &30);
        assert!(map.is_empty());
    }

    #[test]
    fn same_local_time_survives_dst() {
        let ny = TimeZone::get("America/New_York").unwrap();
        // 2026-03-09 10:00 EDT is 14:00Z; a day earlier (the 23-hour day) 10:00 EDT is 14:00Z
        // too, and two days earlier 10:00 EST is 15:00Z.
        let at = ms("2026-03-09T14:00:00Z");
        let at = Timestamp::from_millisecond(at)
            .unwrap()
            .to_zoned(ny.clone())
            .datetime();
        assert_eq!(
            same_local_time_days_before(at, 1, &ny),
            Some(ms("2026-03-08T14:00:00Z"))
        );
        assert_eq!(
            same_local_time_days_before(at, 2, &ny),
            Some(ms("2026-03-07T15:00:00Z"))
        );
    }
}
