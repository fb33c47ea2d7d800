//! Calls: each queue leg's outcome (answered, abandoned, timed out) and each agent's handling
//! segment (talk, hold, after-call work), counted in the minute and the day they fall in
//! (docs/METRICS.md, "Calls").
//!
//! Events of one call may arrive out of order within the server's lateness: an outcome seen
//! before its entry waits for it, a late entry of a leg already decided is recognised as such.
//! Switches that report their own wait and talk times (queue_log) are believed over our
//! subtraction of timestamps, and let a call count even when its entry fell before the replay.

use rustc_hash::FxHashMap;

use super::agents::{Agents, PendingHandle};
use super::call_detail::{CallDetail, VisitId, VisitOutcome};
use super::clock::{Clock, minute_of};
use super::floor::{CENTRE, Chain, Floor, QueueNo, ScopeIdx, ScopeNode};
use super::ids::id_hash;
use super::tally::{Contribution, MINUTE_MS};
use crate::event::Millis;

/// How a queue leg ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) enum Outcome {
    Answered,
    Abandoned,
    TimedOut,
}

impl Outcome {
    fn visit(self) -> VisitOutcome {
        match self {
            Outcome::Answered => VisitOutcome::Answered,
            Outcome::Abandoned => VisitOutcome::Abandoned,
            Outcome::TimedOut => VisitOutcome::TimedOut,
        }
    }
}

/// A leg's outcome as it was counted, for its call detail record (docs/HISTORY.md, "Calls").
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
struct Counted {
    outcome: VisitOutcome,
    wait: Millis,
    within: bool,
    short: bool,
}

/// An outcome whose entry has not been seen yet.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct PendingOutcome {
    outcome: Outcome,
    at: Millis,
    wait_ms: Option<Millis>,
}

/// One call, as far as we have heard of it.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct CallRecord {
    /// Unique per record, for the waiting sets.
    serial: u64,
    queue: Option<QueueNo>,
    entered_at: Option<Millis>,
    waiting: bool,
    /// When the current leg's outcome was counted.
    outcome_at: Option<Millis>,
    pending: Option<PendingOutcome>,
    /// The handling agent's scope.
    agent: Option<ScopeIdx>,
    answered_at: Option<Millis>,
    hold_since: Option<Millis>,
    hold_ms: i64,
    ended_at: Option<Millis>,
    acw_done: bool,
    last_seen: Millis,
    /// The caller number of the current leg, carried to the next leg when the switch does not
    /// repeat it (history's call records; never counted in any figure).
    caller: Option<Box<str>>,
    /// The current leg's outcome as counted.
    counted: Option<Counted>,
    /// Where a visit of this call was last noted in the ledger ([`note_visit`]): a hint, used
    /// when the record there is the visit noted now. Not saved: after a restore the visit is
    /// found by its id.
    #[serde(skip)]
    noted: Option<usize>,
    /// Talk time of the handled segment, once its talk ended.
    talk_ms: Option<Millis>,
    /// The talk ended in a transfer.
    transferred: bool,
}

/// Every call heard of in the last hour of event time, keyed by the 64-bit hash of its id (no
/// allocation per event; a collision among the calls of one hour is a 1-in-10^9 event).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Calls {
    records: FxHashMap<u64, CallRecord>,
    next_serial: u64,
}

/// What the call events need besides the call table.
pub(super) struct Ctx<'a> {
    pub floor: &'a mut Floor,
    pub agents: &'a mut Agents,
    pub clock: &'a Clock,
}

impl Calls {
    fn record(&mut self, call: &str, at: Millis) -> &mut CallRecord {
        let next_serial = &mut self.next_serial;
        let rec = self.records.entry(id_hash(call)).or_insert_with(|| {
            *next_serial += 1;
            CallRecord {
                serial: *next_serial,
                ..CallRecord::default()
            }
        });
        rec.last_seen = rec.last_seen.max(at);
        rec
    }

    /// Notes activity on a call (ringing, ring-no-answer) so it is not forgotten early.
    pub(super) fn touch(&mut self, call: &str, at: Millis) {
        self.record(call, at);
    }

    pub(super) fn len(&self) -> usize {
        self.records.len()
    }

    /// A call entered `queue` at `at`, from `caller` when the switch says.
    pub(super) fn entered(
        &mut self,
        ctx: &mut Ctx,
        call: &str,
        queue: &str,
        at: Millis,
        caller: Option<&str>,
    ) {
        let q = ctx.floor.queue(queue);
        let rec = self.record(call, at);
        if let Some(decided) = rec.outcome_at {
            if at < decided || (at == decided && rec.queue == Some(q)) {
                // The late entry of a leg already counted from the switch's own wait. (An
                // entry into another queue at the very moment the leg ended is an overflow:
                // queue_log has whole seconds only.) Its number completes the record.
                if rec.caller.is_none() && caller.is_some() {
                    rec.caller = caller.map(Box::from);
                    note(ctx.floor, call, rec);
                }
                return;
            }
            // A new leg (a transfer back into a queue): the previous one is finished.
            *rec = CallRecord {
                serial: rec.serial,
                last_seen: rec.last_seen,
                caller: rec.caller.take(),
                ..CallRecord::default()
            };
        }
        if let Some(number) = caller {
            rec.caller = Some(number.into());
        }
        if rec.waiting {
            if rec.queue == Some(q) {
                // The same leg reported again (a resync after a reconnect or restart): it keeps
                // its earliest entry, so its wait does not start over.
                if let Some(entered) = rec.entered_at.filter(|&e| at < e) {
                    let waiting = &mut ctx.floor.queues[q].waiting;
                    waiting.remove(&(entered, rec.serial));
                    waiting.insert((at, rec.serial));
                    rec.entered_at = Some(at);
                }
                return;
            }
            ctx.floor.queues[rec.queue.unwrap_or(q)]
                .waiting
                .remove(&(rec.entered_at.unwrap_or(at), rec.serial));
            // Moved on while waiting: that visit ends here, with no queue outcome counted.
            if let (Some(left), Some(entered)) = (rec.queue, rec.entered_at) {
                let moved = Counted {
                    outcome: VisitOutcome::Transferred,
                    wait: (at - entered).max(0),
                    within: false,
                    short: false,
                };
                note_visit(ctx.floor, call, rec, (left, at, moved));
            }
        }
        rec.queue = Some(q);
        rec.entered_at = Some(at);
        match rec.pending.take() {
            Some(p) => {
                let wait = p.wait_ms.unwrap_or(p.at - at).max(0);
                rec.counted = Some(count_outcome(ctx, q, p.outcome, p.at, wait));
                rec.outcome_at = Some(p.at);
                rec.waiting = false;
                note(ctx.floor, call, rec);
            }
            None => {
                ctx.floor.queues[q].waiting.insert((at, rec.serial));
                rec.waiting = true;
            }
        }
    }

    /// The leg's queue outcome at `at`. `queue` and `wait_ms` are the switch's own report.
    pub(super) fn outcome(
        &mut self,
        ctx: &mut Ctx,
        call: &str,
        outcome: Outcome,
        at: Millis,
        queue: Option<&str>,
        wait_ms: Option<Millis>,
    ) {
        let hinted_queue = queue.map(|q| ctx.floor.queue(q));
        let rec = self.record(call, at);
        if count_leg(ctx, rec, outcome, at, (hinted_queue, wait_ms)) {
            note(ctx.floor, call, rec);
        }
    }

    /// `agent` answered at `at`: the leg's outcome ([`Calls::outcome`], `queue` and `wait_ms`
    /// the switch's own report) and the start of the handling segment, with one look-up of
    /// the call and one note of its visit for both (issue 15: the visit was noted twice, its id
    /// built and looked up each time). The record noted is the same: a note sets every field
    /// from the call as it then stands.
    pub(super) fn answered(
        &mut self,
        ctx: &mut Ctx,
        call: &str,
        (agent, at): (ScopeIdx, Millis),
        queue: Option<&str>,
        wait_ms: Option<Millis>,
    ) {
        let hinted_queue = queue.map(|q| ctx.floor.queue(q));
        let rec = self.record(call, at);
        count_leg(ctx, rec, Outcome::Answered, at, (hinted_queue, wait_ms));
        rec.agent = Some(agent);
        rec.answered_at = Some(at);
        rec.hold_since = None;
        rec.hold_ms = 0;
        rec.ended_at = None;
        rec.acw_done = false;
        rec.talk_ms = None;
        rec.transferred = false;
        note(ctx.floor, call, rec);
        if let Some(a) = ctx.agents.get_mut(agent) {
            if let Some(p) = a.pending.take() {
                flush_handle(ctx.floor, ctx.clock, p, 0);
            }
            a.take_call(call, at);
        }
    }

    pub(super) fn hold_started(&mut self, call: &str, at: Millis) {
        let rec = self.record(call, at);
        if rec.answered_at.is_some() && rec.ended_at.is_none() && rec.hold_since.is_none() {
            rec.hold_since = Some(at);
        }
    }

    pub(super) fn hold_ended(&mut self, call: &str, at: Millis) {
        let rec = self.record(call, at);
        if let Some(since) = rec.hold_since.take() {
            rec.hold_ms += (at - since).max(0);
        }
    }

    /// The agent's talk ended (hang-up, or a transfer when `transferred`): the segment counts
    /// as handled. `queue`, `agent` and `talk_ms` are the switch's own report.
    pub(super) fn talk_ended(
        &mut self,
        ctx: &mut Ctx,
        call: &str,
        at: Millis,
        (queue, agent, talk_ms): (Option<&str>, Option<ScopeIdx>, Option<Millis>),
        transferred: bool,
    ) {
        let hinted_queue = queue.map(|q| ctx.floor.queue(q));
        let rec = self.record(call, at);
        if rec.ended_at.is_some() {
            return;
        }
        if let Some(since) = rec.hold_since.take() {
            rec.hold_ms += (at - since).max(0);
        }
        let connected = match (talk_ms, rec.answered_at) {
            (Some(t), _) => t,
            (None, Some(answered)) => at - answered,
            (None, None) => return, // never answered: nothing was handled
        };
        let Some(agent) = rec.agent.or(agent) else {
            return;
        };
        let q = rec.queue.or(hinted_queue);
        let talk = (connected - rec.hold_ms).max(0);
        let hold = rec.hold_ms;
        let chain = handling_chain(ctx, agent, q);
        let c = Contribution::Handled {
            talk_ms: talk,
            hold_ms: hold,
        };
        ctx.floor.add(
            &chain,
            minute_of(at),
            ctx.clock.oldest_minute,
            ctx.clock.in_day(at),
            &c,
        );
        rec.agent = Some(agent);
        rec.queue = q;
        rec.ended_at = Some(at);
        rec.talk_ms = Some(talk);
        rec.transferred = transferred;
        note(ctx.floor, call, rec);
        if let Some(a) = ctx.agents.get_mut(agent) {
            if a.call_since.is_some() && a.call == call {
                a.call_since = None;
            }
            if let Some(p) = a.pending.take() {
                flush_handle(ctx.floor, ctx.clock, p, 0);
            }
            a.pending = Some(PendingHandle {
                call: id_hash(call),
                ended_at: at,
                handle_ms: talk + hold,
                chain,
            });
        }
    }

    /// The after-call work of the call's last handled segment ended at `at`.
    pub(super) fn after_call_work_ended(&mut self, ctx: &mut Ctx, call: &str, at: Millis) {
        let rec = self.record(call, at);
        let Some(ended) = rec.ended_at else { return };
        if rec.acw_done {
            return;
        }
        rec.acw_done = true;
        let acw = (at - ended).max(0);
        // Everything about a handled call counts in the minute its talk ended.
        let (agent, queue) = (rec.agent, rec.queue);
        let Some(agent) = agent else { return };
        let chain = handling_chain(ctx, agent, queue);
        let key = id_hash(call);
        let pending = ctx
            .agents
            .get_mut(agent)
            .filter(|a| a.pending.as_ref().is_some_and(|p| p.call == key))
            .and_then(|a| a.pending.take());
        let (c, sample) = match pending {
            // The usual case: the work and the handle-time sample go to the same scopes and
            // minute, in one pass.
            Some(p) if p.chain == chain && p.ended_at == ended => (
                Contribution::AfterCallWorkEnded {
                    acw_ms: acw,
                    handle_ms: p.handle_ms + acw,
                },
                None,
            ),
            // The agent moved team since the talk ended: the sample stays where the call
            // counted.
            p => (Contribution::AfterCallWork { acw_ms: acw }, p),
        };
        ctx.floor.add(
            &chain,
            minute_of(ended),
            ctx.clock.oldest_minute,
            ctx.clock.in_day(ended),
            &c,
        );
        if let Some(p) = sample {
            flush_handle(ctx.floor, ctx.clock, p, acw);
        }
    }

    /// Forgets calls not heard of for an hour of event time, and takes calls that have waited
    /// six hours out of the waiting sets (a feed that lost their outcome).
    pub(super) fn sweep(&mut self, floor: &mut Floor, now: Millis) {
        const IDLE_MS: Millis = 60 * MINUTE_MS;
        const STUCK_MS: Millis = 6 * 60 * MINUTE_MS;
        self.records.retain(|_, rec| {
            let keep = if rec.waiting {
                rec.entered_at.is_some_and(|e| e > now - STUCK_MS)
            } else {
                rec.last_seen > now - IDLE_MS
            };
            if !keep
                && rec.waiting
                && let (Some(q), Some(e)) = (rec.queue, rec.entered_at)
            {
                floor.queues[q].waiting.remove(&(e, rec.serial));
            }
            keep
        });
    }
}

/// Counts the queue outcome of `rec`'s current leg at `at` (`hinted`: the queue and wait the
/// switch reported), or keeps it pending until the leg's entry is seen; one outcome per leg.
/// True when it was counted now: the visit's record is then due to be noted.
fn count_leg(
    ctx: &mut Ctx,
    rec: &mut CallRecord,
    outcome: Outcome,
    at: Millis,
    (hinted_queue, wait_ms): (Option<QueueNo>, Option<Millis>),
) -> bool {
    if rec.outcome_at.is_some() || rec.pending.is_some() {
        return false; // one outcome per leg
    }
    let q = rec.queue.or(hinted_queue);
    let wait = wait_ms.or(rec.entered_at.map(|e| at - e));
    match (q, wait) {
        (Some(q), Some(wait)) => {
            if rec.waiting {
                if let Some(entered) = rec.entered_at {
                    ctx.floor.queues[q].waiting.remove(&(entered, rec.serial));
                }
                rec.waiting = false;
            }
            rec.queue = Some(q);
            rec.counted = Some(count_outcome(ctx, q, outcome, at, wait.max(0)));
            rec.outcome_at = Some(at);
            true
        }
        _ => {
            rec.pending = Some(PendingOutcome {
                outcome,
                at,
                wait_ms,
            });
            false
        }
    }
}

/// Where a handled call counts: its agent's chain and its queue's chain, each scope once. (The
/// agent's record keeps its chain: walking the tree from the agent's node costs a cache miss.)
fn handling_chain(ctx: &Ctx, agent: ScopeIdx, queue: Option<QueueNo>) -> Chain {
    let mut chain = ctx
        .agents
        .get(agent)
        .map_or_else(|| ctx.floor.chain(agent), |a| a.chain);
    if let Some(q) = queue {
        chain = chain.union(&ctx.floor.queues[q].chain);
    }
    chain
}

/// The record of the leg `rec` holds, if its outcome is counted, for history's store (while
/// history is kept).
fn note(floor: &mut Floor, call: &str, rec: &mut CallRecord) {
    if floor.ledger.is_none() {
        return;
    }
    let (Some(q), Some(at), Some(counted)) = (rec.queue, rec.outcome_at, rec.counted) else {
        return;
    };
    note_visit(floor, call, rec, (q, at, counted));
}

/// Notes the record of a visit of `call` to queue `q` that ended at `at` as `counted` in the
/// ledger (while history is kept). A visit noted since the last close (at its outcome, then its
/// answer, then its talk's end) is brought up to date in place: the same record as a new one
/// built by [`detail`] (its id, call and queue are what it was found by; [`fill`] sets the
/// rest), without building its strings again (issue 15: the recorder's allocations).
fn note_visit(
    floor: &mut Floor,
    call: &str,
    rec: &mut CallRecord,
    visit: (QueueNo, Millis, Counted),
) {
    let Floor {
        ledger,
        queues,
        nodes,
        ..
    } = floor;
    let Some(ledger) = ledger else {
        return;
    };
    let (q, at, counted) = visit;
    let queue = queues[q].id.as_str();
    let this_visit = |d: &CallDetail| d.call == call && d.queue == queue && d.outcome_ms == at;
    // Where the call noted a visit last, if that is this visit: then it is the record its id
    // finds (an id has one place), without the id built and looked up (issue 15).
    if let Some(noted) = rec
        .noted
        .and_then(|place| ledger.noted_at(place))
        .filter(|d| this_visit(d))
    {
        fill(noted, nodes, rec, counted);
        return;
    }
    let id = VisitId::new(call, queue, at);
    let place = match ledger.noted_mut(id.as_str()).filter(|(_, d)| this_visit(d)) {
        Some((place, noted)) => {
            fill(noted, nodes, rec, counted);
            place
        }
        None => ledger.note_call(detail((queue, nodes), call, rec, (at, counted))),
    };
    rec.noted = Some(place);
}

/// The record of a visit of `call` to `queue` that ended at `at` as `counted`, with what `rec`
/// knows of its handling and caller (`nodes`: the floor's, naming its agent).
fn detail(
    (queue, nodes): (&str, &[ScopeNode]),
    call: &str,
    rec: &CallRecord,
    (at, counted): (Millis, Counted),
) -> CallDetail {
    let mut detail = CallDetail {
        id: VisitId::new(call, queue, at).as_str().to_string(),
        call: call.to_string(),
        queue: queue.to_string(),
        entered_ms: 0,
        wait_ms: 0,
        outcome: counted.outcome,
        outcome_ms: at,
        within: false,
        short: false,
        agent: None,
        talk_ms: None,
        hold_ms: None,
        transferred: false,
        caller: None,
    };
    fill(&mut detail, nodes, rec, counted);
    detail
}

/// Sets every field of `detail` but its id, call, queue and outcome time (what identifies the
/// visit) from `counted` and what `rec` knows of its handling and caller; a string is copied
/// only when it differs from what `detail` holds.
fn fill(detail: &mut CallDetail, nodes: &[ScopeNode], rec: &CallRecord, counted: Counted) {
    let answered = counted.outcome == VisitOutcome::Answered;
    detail.entered_ms = detail.outcome_ms - counted.wait;
    detail.wait_ms = counted.wait;
    detail.outcome = counted.outcome;
    detail.within = counted.within;
    detail.short = counted.short;
    let agent = rec
        .agent
        .filter(|_| answered)
        .and_then(|a| nodes[a].scope.id());
    set_str(&mut detail.agent, agent);
    detail.talk_ms = rec.talk_ms.filter(|_| answered);
    detail.hold_ms = rec.talk_ms.filter(|_| answered).map(|_| rec.hold_ms);
    detail.transferred = answered && rec.transferred;
    set_str(&mut detail.caller, rec.caller.as_deref());
}

/// Makes `to` hold `from`, copying the string only when it differs.
fn set_str(to: &mut Option<String>, from: Option<&str>) {
    if to.as_deref() != from {
        *to = from.map(str::to_string);
    }
}

/// Counts a queue outcome in the queue's chain (docs/METRICS.md, "Calls"); returns it as
/// counted.
fn count_outcome(ctx: &mut Ctx, q: QueueNo, outcome: Outcome, at: Millis, wait: Millis) -> Counted {
    let queue = &ctx.floor.queues[q];
    let settings = queue.settings;
    let within = wait <= settings.threshold_ms();
    let short = outcome == Outcome::Abandoned && wait < settings.short_abandon_ms();
    let c = match outcome {
        Outcome::Answered => Contribution::Answered {
            wait_ms: wait,
            within,
        },
        Outcome::Abandoned => Contribution::Abandoned {
            wait_ms: wait,
            within,
            short,
        },
        Outcome::TimedOut => Contribution::TimedOut {
            wait_ms: wait,
            within,
        },
    };
    let chain = queue.chain;
    ctx.floor.add(
        &chain,
        minute_of(at),
        ctx.clock.oldest_minute,
        ctx.clock.in_day(at),
        &c,
    );
    Counted {
        outcome: outcome.visit(),
        wait,
        within,
        short,
    }
}

/// Records a handled call's handle-time sample (talk + hold + after-call work) in the minute
/// its talk ended.
pub(super) fn flush_handle(floor: &mut Floor, clock: &Clock, p: PendingHandle, acw_ms: i64) {
    let c = Contribution::HandleSample {
        handle_ms: p.handle_ms + acw_ms,
    };
    floor.add(
        &p.chain,
        minute_of(p.ended_at),
        clock.oldest_minute,
        clock.in_day(p.ended_at),
        &c,
    );
}

/// IVR self-service completion: counts for the answer rate in the queue's chain, or the
/// centre's alone when no queue is named.
pub(super) fn ivr_completed(floor: &mut Floor, clock: &Clock, queue: Option<&str>, at: Millis) {
    let chain = match queue {
        Some(q) => {
            let q = floor.queue(q);
            floor.queues[q].chain
        }
        None => floor.chain(CENTRE),
    };
    let c = Contribution::IvrCompleted;
    floor.add(
        &chain,
        minute_of(at),
        clock.oldest_minute,
        clock.in_day(at),
        &c,
    );
}
