//! The call register: the calls of each queue a supervisor may look at, with their caller
//! numbers (docs/SECURITY.md, "Caller numbers").
//!
//! It holds every queue visit that is waiting now, and every visit whose queue outcome
//! (answered, abandoned, timed out, transferred away) fell in the last [`RECENT_MS`] of the
//! floor's clock: event time, never the wall clock, so a replayed day shows the same register
//! as the live one did. [`crate::floor::LiveFloor::apply`] feeds it every event, so replaying the
//! journal at start rebuilds it; test calls (测呼) are never registered.
//!
//! A caller number leaves the register only through [`CallEntry::masked_caller`]
//! ([`crate::accounts::mask_caller`]) or [`CallEntry::full_caller`], which only the audited
//! unmask endpoint (`crate::http::calls::unmask`) calls. `Debug` shows the masked number, so an entry in a
//! log line shows no more than the wallboard does.
//!
//! One call may visit several queues (a transfer to a queue, an overflow after a time-out):
//! each visit is its own entry, shown in its own queue; events about the call after its entry
//! apply to its latest visit, and unmask names the call and reveals its latest visit's number.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use floorwatch_core::time::HOUR_MS;
use floorwatch_core::{Direction, Event, EventKind, Millis};
use serde::Serialize;

use crate::accounts::{CallerNumber, mask_caller};

/// How long a visit stays listed after its queue outcome: the last hour of the floor's clock,
/// the span a supervisor looks back over when a caller rings again or complains.
pub(crate) const RECENT_MS: Millis = HOUR_MS;

/// A visit still waiting after this long lost its outcome in the feed; it is forgotten, as the
/// engine takes it out of its waiting figures after the same time (core/src/engine/calls.rs,
/// `Calls::sweep`).
pub(crate) const STUCK_MS: Millis = 6 * HOUR_MS;

/// At most this many visits are held. The largest centres we build for answer about 12,000
/// calls in their busiest hour (1,000 agents at 5 minutes a call), so the register holds a
/// busy hour with room to spare. An entry holds five strings of at most 256 bytes each (the
/// event fields' limit, `floorwatch_core::event::MAX_FIELD_LEN`), typically about 200 bytes in
/// all: 20,000 entries stay below 5 MB as usually filled and below 30 MB however a hostile feed
/// fills them. Beyond the bound the visit whose outcome is oldest goes first, then the waiting
/// visit that entered first (a feed that loses outcomes).
pub(crate) const MAX_CALLS: usize = 20_000;

/// Where a queue visit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CallState {
    /// In the queue now.
    Waiting,
    /// An agent answered it (`agent` says who).
    Answered,
    /// The caller hung up while waiting.
    Abandoned,
    /// It left the queue by the switch's rule (time-out, overflow, exit key, empty queue).
    TimedOut,
    /// It was moved on while waiting: transferred, or entered another queue.
    Transferred,
}

impl CallState {
    #[cfg(test)]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CallState::Waiting => "waiting",
            CallState::Answered => "answered",
            CallState::Abandoned => "abandoned",
            CallState::TimedOut => "timed_out",
            CallState::Transferred => "transferred",
        }
    }
}

/// One visit of a call to a queue (in checkpoints too, caller number included: the journal
/// beside them holds it as well, docs/SECURITY.md).
#[derive(Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub(crate) struct CallEntry {
    /// Shared with the register's index of each call's latest visit.
    pub(crate) call: Arc<str>,
    /// Shared by every visit of the queue ([`Names`]).
    pub(crate) queue: Arc<str>,
    /// As the switch sent it; `None` when it sent none. Private: see [`CallEntry::full_caller`].
    caller: Option<String>,
    pub(crate) direction: Direction,
    pub(crate) priority: u8,
    /// When the visit began, UTC ms.
    pub(crate) entered: Millis,
    pub(crate) state: CallState,
    /// The agent who answered (shared by the agent's visits, [`Names`]).
    pub(crate) agent: Option<Arc<str>>,
    /// When the queue outcome came, UTC ms; `None` while waiting.
    pub(crate) left: Option<Millis>,
}

impl CallEntry {
    /// The caller number as anyone sees it ([`mask_caller`]).
    pub(crate) fn masked_caller(&self) -> Option<String> {
        self.caller.as_deref().map(mask_caller)
    }

    /// The caller number as the switch sent it. Only for the unmask endpoint, which checks the
    /// permission and writes the audit record first.
    pub(crate) fn full_caller(&self) -> Option<&str> {
        self.caller.as_deref()
    }

    /// The entry as the calls endpoint shows it: the number masked.
    pub(crate) fn view(&self) -> CallView {
        CallView {
            call: self.call.to_string(),
            queue: self.queue.to_string(),
            caller: self.masked_caller(),
            direction: self.direction,
            priority: self.priority,
            entered: self.entered,
            state: self.state,
            agent: self.agent.as_deref().map(str::to_string),
            left: self.left,
        }
    }
}

impl fmt::Debug for CallEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallEntry")
            .field("call", &self.call)
            .field("queue", &self.queue)
            .field("caller", &self.masked_caller())
            .field("direction", &self.direction)
            .field("priority", &self.priority)
            .field("entered", &self.entered)
            .field("state", &self.state)
            .field("agent", &self.agent)
            .field("left", &self.left)
            .finish()
    }
}

/// One visit as `GET /api/v1/calls` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CallView {
    pub(crate) call: String,
    pub(crate) queue: String,
    /// Masked ([`mask_caller`]); `null` when the switch sent no number.
    pub(crate) caller: Option<String>,
    pub(crate) direction: Direction,
    pub(crate) priority: u8,
    /// UTC ms.
    pub(crate) entered: Millis,
    pub(crate) state: CallState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) agent: Option<String>,
    /// When the queue outcome came, UTC ms; absent while waiting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) left: Option<Millis>,
}

/// The register. Lives in the [`crate::floor::LiveFloor`], under its lock, and in its
/// checkpoints.
#[derive(Debug, Default, Serialize, serde::Deserialize)]
pub(crate) struct CallRegister {
    /// Every visit held, by serial (the order visits began in).
    entries: BTreeMap<u64, CallEntry>,
    /// The latest visit of each call (FxHash: the register is fed only what the recorder
    /// journaled, and SipHash of each call id was a noticeable share of its work, issue 15),
    /// keyed by the entry's own copy of the call id.
    latest: rustc_hash::FxHashMap<Arc<str>, u64>,
    /// Visits still waiting, by entry time.
    waiting: BTreeSet<(Millis, u64)>,
    /// Visits with an outcome, by outcome time.
    finished: BTreeSet<(Millis, u64)>,
    next_serial: u64,
    /// The queue and agent ids the entries name, one copy each (not in checkpoints: a
    /// restored register copies its own again).
    #[serde(skip)]
    names: Names,
}

/// One shared copy of each queue and agent id the register's entries name: a visit takes a
/// reference, not a copy of its own (issue 15: the copies were a share of the recorder's
/// allocations, a few per call). Ids no entry names any more are let go once there are
/// [`MAX_NAMES`] of them, so a feed naming ever new ids cannot grow it without bound.
#[derive(Debug, Default)]
struct Names(rustc_hash::FxHashSet<Arc<str>>);

/// Twice what the entries can name (a queue and an agent each, [`MAX_CALLS`] entries): after a
/// clear-out at least half of it is free again, so clear-outs stay rare however a feed names
/// ids, and it holds at most about 20 MB of ids of the longest length.
const MAX_NAMES: usize = 4 * MAX_CALLS;

impl Names {
    fn get(&mut self, id: &str) -> Arc<str> {
        if let Some(name) = self.0.get(id) {
            return name.clone();
        }
        if self.0.len() >= MAX_NAMES {
            self.0.retain(|name| Arc::strong_count(name) > 1);
        }
        let name: Arc<str> = Arc::from(id);
        self.0.insert(name.clone());
        name
    }
}

impl CallRegister {
    pub(crate) fn new() -> CallRegister {
        CallRegister::default()
    }

    #[cfg(test)]
    /// Visits held (waiting or recent), for tests and telemetry.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Takes one event into account. Test calls are left out.
    pub(crate) fn observe(&mut self, event: &Event) {
        if event.test {
            return;
        }
        let at = event.ts;
        match &event.kind {
            EventKind::CallEnteredQueue {
                call,
                queue,
                priority,
                caller,
                direction,
            } => self.entered(
                call,
                queue,
                *priority,
                caller.as_ref().map(CallerNumber::as_str),
                *direction,
                at,
            ),
            EventKind::CallAnswered {
                call,
                agent,
                queue,
                wait_ms,
            } => self.outcome(
                call,
                CallState::Answered,
                Some(agent),
                queue.as_deref(),
                *wait_ms,
                at,
            ),
            EventKind::CallAbandoned {
                call,
                queue,
                wait_ms,
            } => self.outcome(
                call,
                CallState::Abandoned,
                None,
                queue.as_deref(),
                *wait_ms,
                at,
            ),
            EventKind::CallTimedOut {
                call,
                queue,
                wait_ms,
                ..
            } => self.outcome(
                call,
                CallState::TimedOut,
                None,
                queue.as_deref(),
                *wait_ms,
                at,
            ),
            EventKind::CallTransferred { call, .. } => {
                // Only a visit still waiting is moved on; an answered call keeps its outcome.
                if let Some(serial) = self.latest_waiting(call) {
                    self.finish(serial, CallState::Transferred, None, at);
                }
            }
            _ => {}
        }
        self.bound();
    }

    /// Forgets visits whose outcome is older than [`RECENT_MS`] before `now`, and visits that
    /// have waited longer than [`STUCK_MS`].
    pub(crate) fn forget_before(&mut self, now: Millis) {
        let recent_from = now.saturating_sub(RECENT_MS);
        while let Some(&(left, serial)) = self.finished.first() {
            if left >= recent_from {
                break;
            }
            self.remove(serial);
        }
        let stuck_from = now.saturating_sub(STUCK_MS);
        while let Some(&(entered, serial)) = self.waiting.first() {
            if entered >= stuck_from {
                break;
            }
            self.remove(serial);
        }
    }

    /// The visits of `queue` (every queue when `None`) that are waiting, or whose outcome fell
    /// in the [`RECENT_MS`] before `now`; newest first.
    pub(crate) fn calls<'a>(
        &'a self,
        queue: Option<&'a str>,
        now: Millis,
    ) -> impl Iterator<Item = &'a CallEntry> + 'a {
        let recent_from = now.saturating_sub(RECENT_MS);
        self.entries.values().rev().filter(move |e| {
            queue.is_none_or(|q| *e.queue == *q) && e.left.is_none_or(|left| left >= recent_from)
        })
    }

    /// The latest visit of `call`, if it is still listed at `now`.
    pub(crate) fn call(&self, call: &str, now: Millis) -> Option<&CallEntry> {
        let recent_from = now.saturating_sub(RECENT_MS);
        self.latest
            .get(call)
            .and_then(|serial| self.entries.get(serial))
            .filter(|e| e.left.is_none_or(|left| left >= recent_from))
    }

    fn entered(
        &mut self,
        call: &str,
        queue: &str,
        priority: u8,
        caller: Option<&str>,
        direction: Direction,
        at: Millis,
    ) {
        // One look-up of the call's latest visit for both questions below.
        let latest = self.latest.get(call).copied();
        if let Some(serial) = latest
            && let Some(entry) = self.entries.get_mut(&serial)
            && *entry.queue == *queue
            && (entry.state == CallState::Waiting || entry.left.is_some_and(|left| left >= at))
        {
            // The same visit again: reported twice, or its entry arrived after its outcome
            // (late, within the server's lateness). Fill in what the entry knows.
            if caller.is_some() {
                entry.caller = caller.map(str::to_string);
            }
            entry.priority = priority;
            entry.direction = direction;
            if at < entry.entered {
                if entry.state == CallState::Waiting {
                    self.waiting.remove(&(entry.entered, serial));
                    self.waiting.insert((at, serial));
                }
                entry.entered = at;
            }
            return;
        }
        // A new visit. A call entering another queue while still waiting in one was moved on;
        // the number travels with the call when the switch does not repeat it.
        let mut carried = None;
        if let Some(serial) = latest {
            if self.entries.get(&serial).map(|e| e.state) == Some(CallState::Waiting) {
                self.finish(serial, CallState::Transferred, None, at);
            }
            carried = self.entries.get(&serial).and_then(|e| e.caller.clone());
        }
        let queue = self.names.get(queue);
        self.insert(CallEntry {
            call: Arc::from(call),
            queue,
            caller: caller.map(str::to_string).or(carried),
            direction,
            priority,
            entered: at,
            state: CallState::Waiting,
            agent: None,
            left: None,
        });
    }

    /// An outcome of the call's waiting visit. An outcome without a visit (its entry fell
    /// before the replayed file began, or is yet to come) opens one when the event names the
    /// queue, so the call is listed all the same, without a number.
    fn outcome(
        &mut self,
        call: &str,
        state: CallState,
        agent: Option<&str>,
        queue: Option<&str>,
        wait_ms: Option<Millis>,
        at: Millis,
    ) {
        if let Some(serial) = self.latest_waiting(call) {
            self.finish(serial, state, agent, at);
            return;
        }
        let known = self
            .latest
            .get(call)
            .and_then(|serial| self.entries.get(serial));
        let same_visit = known.is_some_and(|e| queue.is_none_or(|q| *q == *e.queue));
        let Some(queue) = queue else { return };
        if same_visit {
            // Reported twice: the first outcome stands.
            return;
        }
        let carried = known.and_then(|e| e.caller.clone());
        let queue = self.names.get(queue);
        let serial = self.insert(CallEntry {
            call: Arc::from(call),
            queue,
            caller: carried,
            direction: Direction::Inbound,
            priority: 0,
            entered: at - wait_ms.unwrap_or(0),
            state: CallState::Waiting,
            agent: None,
            left: None,
        });
        self.finish(serial, state, agent, at);
    }

    fn latest_waiting(&self, call: &str) -> Option<u64> {
        let serial = *self.latest.get(call)?;
        (self.entries.get(&serial)?.state == CallState::Waiting).then_some(serial)
    }

    fn insert(&mut self, entry: CallEntry) -> u64 {
        self.next_serial += 1;
        let serial = self.next_serial;
        self.waiting.insert((entry.entered, serial));
        self.latest.insert(entry.call.clone(), serial);
        self.entries.insert(serial, entry);
        serial
    }

    fn finish(&mut self, serial: u64, state: CallState, agent: Option<&str>, at: Millis) {
        let Some(entry) = self.entries.get_mut(&serial) else {
            return;
        };
        self.waiting.remove(&(entry.entered, serial));
        entry.state = state;
        entry.agent = agent.map(|a| self.names.get(a));
        entry.left = Some(at);
        self.finished.insert((at, serial));
    }

    fn remove(&mut self, serial: u64) {
        let Some(entry) = self.entries.remove(&serial) else {
            return;
        };
        match entry.left {
            Some(left) => self.finished.remove(&(left, serial)),
            None => self.waiting.remove(&(entry.entered, serial)),
        };
        // One look-up: the entry's own copy of the call id is the key to look by.
        if let std::collections::hash_map::Entry::Occupied(latest) = self.latest.entry(entry.call)
            && *latest.get() == serial
        {
            latest.remove();
        }
    }

    /// Keeps at most [`MAX_CALLS`] visits: the oldest outcome goes first, then the oldest
    /// waiting visit.
    fn bound(&mut self) {
        while self.entries.len() > MAX_CALLS {
            let oldest = self
                .finished
                .first()
                .or_else(|| self.waiting.first())
                .map(|&(_, serial)| serial);
            match oldest {
                Some(serial) => self.remove(serial),
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests;
