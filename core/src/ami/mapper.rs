//! Mapping AMI events to canonical events (the full table is in docs/CTI.md, "AMI").
//!
//! The mapper is pure: it never reads a clock. Each message's time is its `Timestamp:` header
//! (Asterisk's `timestampevents = yes`), or else the `received_at` the caller passes. What only
//! the passing of time decides is released by the next message or by [`AmiMapper::tick`]:
//!
//! - **After-call work.** AMI has no ACW event. On AgentComplete the agent goes to
//!   `after_call_work` when the member's `Wrapuptime` or the queue's configured `wrap_up_s` is
//!   set, and `call_after_call_work_ended` is emitted at exactly complete + wrap-up (its `ts`),
//!   once a later message or tick shows that time has passed; earlier if the switch offers the
//!   agent a new call or the agent pauses. A pause whose reason reads as wrap-up (`ACW`, `wrap`,
//!   `话后`, `整理`) is after-call work too, ending at the unpause.
//! - **Abandoned or timed out.** Asterisk raises QueueCallerAbandon both when the caller hangs
//!   up and when the queue's timeout, leave-when-empty rule or a withdrawal removes the call
//!   (docs/CTI.md, "Abandoned or timed out", cites the lines of app_queue.c). A caller who hangs
//!   up makes the channel driver publish `HangupRequest` *before* app_queue sees the hang-up; a
//!   dialplan `Hangup()` after a time-out publishes none. So on a switch that reports
//!   HangupRequest (AMI 2.0 and later, Asterisk 12+, or any seen), a leg is abandoned exactly
//!   when the caller's HangupRequest came while it waited, and timed out when
//!   QueueCallerAbandon came without one, whatever the dialplan does next. On older switches
//!   the abandon grace decides: a Hangup of the caller within 2 s of QueueCallerAbandon is an
//!   abandon. A QueueCallerLeave with no AgentConnect right after it (exit key) is a time-out
//!   too, and so is a leg whose caller joins another queue (overflow). The outcome event
//!   carries the time of leaving and the switch's own wait.
//!
//! A call is followed as two things: its **leg** in a queue (waiting, then answered, abandoned
//! or timed out) and the agent's **segment** (talking, on hold, until AgentComplete). A transfer
//! back into a queue starts a new leg while the old segment ends.
//!
//! Duplicate `SequenceNumber`s (a replayed buffer) are dropped; an out-of-order one is applied
//! with its own timestamp, and a late QueueCallerJoin or AgentConnect for a leg already closed is
//! ignored. [`AmiMapper::resync`] brings agents and waiting calls to the switch's state after
//! every (re)connect.

mod agent;
mod headers;
mod out;
mod resync;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use super::message::AmiMessage;
use crate::event::{AgentState, Direction, EVENT_VERSION, Event, EventKind, MAX_FIELD_LEN, Millis};
use crate::org::Organisation;
use crate::queue_log::{fnv1a, parse_time};
use agent::Agent;
use headers::{call, caller, fits, flag, member, pause_text, queue, seconds, wrap_up_s};
use out::Out;

/// How long after QueueCallerAbandon a Hangup of the caller still means the caller gave up.
pub const DEFAULT_ABANDON_GRACE_MS: Millis = 2_000;

/// How many recent sequence numbers and closed legs are remembered.
const RECENT: usize = 4096;

// A `Timestamp:` outside the event times `Event::validate` accepts is ignored for the receive
// time.
use crate::event::PLAUSIBLE_TS;

/// Whether a banner `Asterisk Call Manager/X.Y.Z` names AMI 2.0 or later: Asterisk 12 brought
/// both AMI 2.0.0 and the `HangupRequest` event (include/asterisk/manager.h `AMI_VERSION`:
/// 1.3 in 11.0.0, 2.0.0 in 12.0.0, 5.0.5 in 16.30.1, 7.0.3 in 18.26.4, 9.0.0 in 20.20.1).
fn reports_hangup_requests(banner: &str) -> bool {
    banner
        .trim()
        .strip_prefix("Asterisk Call Manager/")
        .and_then(|v| v.split('.').next())
        .and_then(|major| major.trim().parse::<u32>().ok())
        .is_some_and(|major| major >= 2)
}

/// Turns one switch's AMI events into canonical events.
#[derive(Debug, Clone)]
pub struct AmiMapper {
    source: String,
    /// A short stable tag of the source for event ids.
    tag: u32,
    /// Which run of the mapper this is (see [`AmiMapper::with_run`]), part of every event id.
    run: u64,
    /// Events produced so far; numbers each event's id and `seq`.
    produced: u64,
    duplicates: u64,
    rejected: u64,
    queue_wrap_up_s: HashMap<String, u32>,
    abandon_grace_ms: Millis,
    sequence: RecentSequence,
    /// Queue legs not decided yet, by the caller's uniqueid.
    legs: HashMap<String, Leg>,
    /// Agents talking to callers, by the caller's uniqueid.
    segments: HashMap<String, Segment>,
    /// Legs whose outcome was emitted, so late or repeated messages cannot count them twice.
    closed: RecentSet,
    /// Agent-side channel uniqueid → the caller's uniqueid, for hold and transfers reported on
    /// the agent's channel.
    agent_channels: HashMap<String, String>,
    agents: BTreeMap<String, Agent>,
    queues: BTreeSet<String>,
    /// The switch publishes `HangupRequest` (Asterisk 12+): a caller's hang-up shows before
    /// QueueCallerAbandon, so the abandon grace is not needed (docs/CTI.md).
    hangup_requests: bool,
}

/// A call waiting in one queue.
#[derive(Debug, Clone)]
struct Leg {
    queue: String,
    entered: Option<Millis>,
    /// Agents it is ringing now.
    ringing: Vec<String>,
    /// Left the queue without an answer yet: the outcome waits for the next clue.
    left: Option<Left>,
    /// The caller's own `HangupRequest` came while the leg waited: the caller gave up.
    caller_hung_up: bool,
}

#[derive(Debug, Clone, Copy)]
struct Left {
    at: Millis,
    /// QueueCallerAbandon was seen.
    abandon: bool,
    /// The switch's wait (HoldTime), else leaving − entry.
    wait_ms: Option<Millis>,
}

/// An agent talking to a caller.
#[derive(Debug, Clone)]
struct Segment {
    agent: String,
    queue: String,
    answered: Millis,
    on_hold: bool,
    transfer_to: Option<Target>,
}

#[derive(Debug, Clone)]
enum Target {
    Queue(String),
    External(String),
}

/// A bounded memory of the sequence numbers seen lately.
#[derive(Debug, Clone, Default)]
struct RecentSequence {
    order: VecDeque<u64>,
    seen: HashSet<u64>,
    max: Option<u64>,
}

impl RecentSequence {
    /// Records `seq`; false if it was seen already.
    fn insert(&mut self, seq: u64) -> bool {
        if !self.seen.insert(seq) {
            return false;
        }
        self.order.push_back(seq);
        if self.order.len() > RECENT
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        self.max = Some(self.max.map_or(seq, |m| m.max(seq)));
        true
    }

    fn is_late(&self, seq: u64) -> bool {
        self.max.is_some_and(|m| seq < m)
    }
}

/// A bounded set of recent ids.
#[derive(Debug, Clone, Default)]
struct RecentSet {
    order: VecDeque<String>,
    seen: HashSet<String>,
}

impl RecentSet {
    fn insert(&mut self, id: &str) {
        if self.seen.insert(id.to_string()) {
            self.order.push_back(id.to_string());
            if self.order.len() > RECENT
                && let Some(old) = self.order.pop_front()
            {
                self.seen.remove(&old);
            }
        }
    }

    fn contains(&self, id: &str) -> bool {
        self.seen.contains(id)
    }

    fn remove(&mut self, id: &str) {
        if self.seen.remove(id) {
            self.order.retain(|x| x != id);
        }
    }
}

impl AmiMapper {
    /// A mapper for the switch named `source` (e.g. `ami:pbx1`); `org` gives the queues'
    /// wrap-up times.
    pub fn new(source: &str, org: &Organisation) -> AmiMapper {
        AmiMapper {
            source: source.to_string(),
            tag: fnv1a(source.as_bytes()) as u32,
            run: 0,
            produced: 0,
            duplicates: 0,
            rejected: 0,
            queue_wrap_up_s: org
                .queues
                .iter()
                .filter_map(|q| q.wrap_up_s.map(|w| (q.id.clone(), w)))
                .collect(),
            abandon_grace_ms: DEFAULT_ABANDON_GRACE_MS,
            sequence: RecentSequence::default(),
            legs: HashMap::new(),
            segments: HashMap::new(),
            closed: RecentSet::default(),
            agent_channels: HashMap::new(),
            agents: BTreeMap::new(),
            queues: BTreeSet::new(),
            hangup_requests: false,
        }
    }

    /// Tells the mapper the switch's banner (`Asterisk Call Manager/5.0.2`, from
    /// [`super::AmiDecoder::banner`]) on every connect. AMI 2.0 and later (Asterisk 12+)
    /// publish `HangupRequest`, which tells a caller's hang-up from the queue letting go
    /// (docs/CTI.md, "Abandoned or timed out"); older banners leave the abandon grace in
    /// charge, unless a HangupRequest is seen.
    pub fn switch_banner(&mut self, banner: &str) {
        if reports_hangup_requests(banner) {
            self.hangup_requests = true;
        }
    }

    /// Numbers this mapper's events apart from an earlier run's: ids count from one in every
    /// process, so a server restarted on the same journal would otherwise take a new event for
    /// a duplicate of an old one with the same time and number. The caller passes something
    /// unique per run (the server: its start time); the mapper itself reads no clock.
    pub fn with_run(mut self, run: u64) -> AmiMapper {
        self.run = run;
        self
    }

    /// Changes how long after QueueCallerAbandon a caller's Hangup still means abandoned.
    pub fn with_abandon_grace(mut self, grace_ms: Millis) -> AmiMapper {
        self.abandon_grace_ms = grace_ms.max(0);
        self
    }

    /// The `source` the mapper gives its events.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Messages dropped because their `SequenceNumber` was seen already.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Events dropped because they would not validate (see [`crate::Event::validate`]).
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// Calls waiting in a queue, as the mapper believes, in id order.
    pub fn waiting_calls(&self) -> Vec<String> {
        let mut calls: Vec<String> = self
            .legs
            .iter()
            .filter(|(_, leg)| leg.left.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        calls.sort();
        calls
    }

    /// Maps one message from the switch. Replies to actions, QueueStatus list events (those go
    /// to [`AmiMapper::resync`]) and events the mapper does not read give nothing.
    pub fn map(&mut self, message: &AmiMessage, received_at: Millis) -> Vec<Event> {
        let Some(name) = message.event() else {
            return Vec::new();
        };
        let ts = message
            .get("Timestamp")
            .and_then(parse_time)
            .filter(|ts| PLAUSIBLE_TS.contains(ts))
            .unwrap_or(received_at);
        let mut late = false;
        if let Some(seq) = message
            .get("SequenceNumber")
            .and_then(|s| s.trim().parse::<u64>().ok())
        {
            if !self.sequence.insert(seq) {
                self.duplicates += 1;
                return Vec::new();
            }
            late = self.sequence.is_late(seq);
        }
        let mut out = Out::new();
        self.expire(ts, &mut out);
        if fits(message) {
            self.apply(&name.to_ascii_lowercase(), message, ts, late, &mut out);
        }
        self.emit(out)
    }

    /// Releases what time alone decides, up to `now`: after-call work whose wrap-up ran out,
    /// and legs that left their queue unanswered whose abandon grace passed. The server calls
    /// it about once a second with its clock; the events carry their own times, not `now`.
    pub fn tick(&mut self, now: Millis) -> Vec<Event> {
        let mut out = Out::new();
        self.expire(now, &mut out);
        self.emit(out)
    }

    fn apply(&mut self, name: &str, m: &AmiMessage, ts: Millis, late: bool, out: &mut Out) {
        if let Some(q) = queue(m)
            && !self.queues.contains(q)
        {
            self.queues.insert(q.to_string());
        }
        match name {
            "queuecallerjoin" | "join" => self.caller_joined(m, ts, late, out),
            "queuecallerabandon" => self.caller_left(m, ts, true, out),
            "queuecallerleave" | "leave" => self.caller_left(m, ts, false, out),
            "agentcalled" => self.agent_called(m, ts, out),
            "agentringnoanswer" => self.agent_ring_no_answer(m, ts, out),
            "agentconnect" => self.agent_connected(m, ts, late, out),
            "agentcomplete" => self.agent_completed(m, ts, out),
            "hangup" => self.hung_up(m, ts, out),
            "hanguprequest" => self.hangup_requested(m, true),
            // An operator's or the system's hang-up (`ast_softhangup`), not the caller's.
            "softhanguprequest" => self.hangup_requested(m, false),
            // Asterisk 11 reports both ends of a hold as `Hold` with `Status: On|Off`.
            "hold" => {
                let off = m
                    .get("Status")
                    .is_some_and(|s| s.eq_ignore_ascii_case("off"));
                self.hold(m, ts, !off, out)
            }
            "unhold" => self.hold(m, ts, false, out),
            "blindtransfer" | "attendedtransfer" => self.transfer_target(name, m),
            "queuememberadded" => self.member_added(m, ts, out),
            "queuememberremoved" => self.member_removed(m, ts, out),
            "queuememberpause" | "queuememberpaused" | "queuememberstatus" => {
                self.member_status(m, ts, out)
            }
            "agentlogin" | "agentlogoff" => self.agent_session(name == "agentlogin", m, ts, out),
            _ => {}
        }
    }

    fn caller_joined(&mut self, m: &AmiMessage, ts: Millis, late: bool, out: &mut Out) {
        let (Some(call), Some(queue)) = (call(m), queue(m)) else {
            return;
        };
        if late && self.closed.contains(call) && !self.legs.contains_key(call) {
            return;
        }
        if let Some(previous) = self.legs.get(call) {
            if previous.left.is_none() && previous.queue == queue {
                return; // the same join again
            }
            // Queueing again elsewhere (overflow): the previous leg ended, and not because the
            // caller hung up.
            let (at, wait_ms) = match previous.left {
                Some(left) => (left.at, left.wait_ms),
                None => (ts, previous.entered.map(|e| ts - e)),
            };
            self.close_unanswered(call, false, at, wait_ms, out);
        }
        self.closed.remove(call);
        out.push((
            ts,
            EventKind::CallEnteredQueue {
                call: call.to_string(),
                queue: queue.to_string(),
                priority: 0,
                caller: caller(m),
                direction: Direction::Inbound,
            },
        ));
        self.legs.insert(
            call.to_string(),
            Leg {
                queue: queue.to_string(),
                entered: Some(ts),
                ringing: Vec::new(),
                left: None,
                caller_hung_up: false,
            },
        );
    }

    /// QueueCallerAbandon (`abandon`) or QueueCallerLeave. Where the switch reports
    /// HangupRequest the outcome is known now: abandoned if the caller's HangupRequest came
    /// while the leg waited, timed out on a QueueCallerAbandon without one (the queue let go).
    /// A bare QueueCallerLeave may still be answered (AgentConnect follows it), and on a switch
    /// without HangupRequest the next clue decides (docs/CTI.md, "Abandoned or timed out").
    fn caller_left(&mut self, m: &AmiMessage, ts: Millis, abandon: bool, out: &mut Out) {
        self.note_leaving(m, ts, abandon);
        let Some(call) = call(m) else {
            return;
        };
        let Some(leg) = self.legs.get(call) else {
            return;
        };
        let Some(left) = leg.left else {
            return;
        };
        if leg.caller_hung_up {
            self.close_unanswered(call, true, left.at, left.wait_ms, out);
        } else if self.hangup_requests && left.abandon {
            self.close_unanswered(call, false, left.at, left.wait_ms, out);
        }
    }

    /// Records that the leg left its queue (its time and the switch's wait).
    fn note_leaving(&mut self, m: &AmiMessage, ts: Millis, abandon: bool) {
        let Some(call) = call(m) else {
            return;
        };
        let hold_ms = seconds(m, "HoldTime");
        match self.legs.get_mut(call) {
            Some(leg) => match &mut leg.left {
                None => {
                    leg.left = Some(Left {
                        at: ts,
                        abandon,
                        wait_ms: hold_ms.or_else(|| leg.entered.map(|e| ts - e)),
                    })
                }
                // QueueCallerAbandon and QueueCallerLeave come in either order.
                Some(left) => {
                    left.abandon |= abandon;
                    if abandon && hold_ms.is_some() {
                        left.wait_ms = hold_ms;
                    }
                }
            },
            None if !self.closed.contains(call) => {
                // Joined before we connected: the outcome still counts, with the switch's wait.
                let Some(queue) = queue(m) else {
                    return;
                };
                self.legs.insert(
                    call.to_string(),
                    Leg {
                        queue: queue.to_string(),
                        entered: None,
                        ringing: Vec::new(),
                        left: Some(Left {
                            at: ts,
                            abandon,
                            wait_ms: hold_ms,
                        }),
                        caller_hung_up: false,
                    },
                );
            }
            None => {}
        }
    }

    fn agent_called(&mut self, m: &AmiMessage, ts: Millis, out: &mut Out) {
        let (Some(call), Some(agent), Some(queue)) = (call(m), member(m), queue(m)) else {
            return;
        };
        match self.legs.get_mut(call) {
            Some(leg) => {
                if !leg.ringing.iter().any(|a| a == agent) {
                    leg.ringing.push(agent.to_string());
                }
            }
            None if self.closed.contains(call) => return,
            None => {
                self.legs.insert(
                    call.to_string(),
                    Leg {
                        queue: queue.to_string(),
                        entered: None,
                        ringing: vec![agent.to_string()],
                        left: None,
                        caller_hung_up: false,
                    },
                );
            }
        }
        let memory = self.agent_seen(agent, Some(queue), ts, out);
        out.push((
            ts,
            EventKind::CallOffered {
                call: call.to_string(),
                agent: agent.to_string(),
            },
        ));
        // An agent already talking (ringinuse) keeps their state.
        if !matches!(
            memory.state,
            Some((AgentState::OnCall | AgentState::Hold, _))
        ) {
            memory.take_call(call, ts, out);
            memory.set_state(agent, ts, AgentState::Ringing, None, out);
        }
    }

    fn agent_ring_no_answer(&mut self, m: &AmiMessage, ts: Millis, out: &mut Out) {
        let (Some(call), Some(agent)) = (call(m), member(m)) else {
            return;
        };
        if let Some(leg) = self.legs.get_mut(call) {
            leg.ringing.retain(|a| a != agent);
        }
        let memory = self.agent_seen(agent, queue(m), ts, out);
        out.push((
            ts,
            EventKind::CallRingNoAnswer {
                call: call.to_string(),
                agent: agent.to_string(),
            },
        ));
        memory.release(agent, call, ts, out);
    }

    fn agent_connected(&mut self, m: &AmiMessage, ts: Millis, late: bool, out: &mut Out) {
        let (Some(call), Some(agent), Some(queue)) = (call(m), member(m), queue(m)) else {
            return;
        };
        if self.segments.get(call).is_some_and(|s| s.agent == agent) {
            return; // the same connect again
        }
        if late && self.closed.contains(call) && !self.legs.contains_key(call) {
            return;
        }
        let leg = self.legs.remove(call);
        let wait_ms =
            seconds(m, "HoldTime").or_else(|| leg.as_ref().and_then(|l| l.entered).map(|e| ts - e));
        self.agent_seen(agent, Some(queue), ts, out);
        // Sent even for a leg already closed (by a resync): the engine counts one outcome per
        // leg, and starts the agent's segment here.
        out.push((
            ts,
            EventKind::CallAnswered {
                call: call.to_string(),
                agent: agent.to_string(),
                queue: Some(queue.to_string()),
                wait_ms,
            },
        ));
        self.closed.insert(call);
        self.segments.insert(
            call.to_string(),
            Segment {
                agent: agent.to_string(),
                queue: queue.to_string(),
                answered: ts,
                on_hold: false,
                transfer_to: None,
            },
        );
        if let Some(channel) = m.first_of(&["DestUniqueid"]) {
            self.agent_channels
                .insert(channel.to_string(), call.to_string());
        }
        // Everyone else it rang stops ringing.
        for other in leg.iter().flat_map(|l| &l.ringing) {
            if other != agent {
                self.release_ringing(other, call, ts, out);
            }
        }
        if let Some(memory) = self.agents.get_mut(agent) {
            memory.take_call(call, ts, out);
            memory.set_state(agent, ts, AgentState::OnCall, None, out);
        }
    }

    fn agent_completed(&mut self, m: &AmiMessage, ts: Millis, out: &mut Out) {
        let (Some(call), Some(agent), Some(queue)) = (call(m), member(m), queue(m)) else {
            return;
        };
        let talk_ms = seconds(m, "TalkTime");
        self.agent_seen(agent, Some(queue), ts, out);
        let segment = self.segments.remove(call);
        if segment.is_none() && !self.closed.contains(call) {
            // The AgentConnect was missed: the switch's hold and talk times still place the
            // answer.
            let leg = self.legs.remove(call);
            out.push((
                ts - talk_ms.unwrap_or(0),
                EventKind::CallAnswered {
                    call: call.to_string(),
                    agent: agent.to_string(),
                    queue: Some(queue.to_string()),
                    wait_ms: seconds(m, "HoldTime"),
                },
            ));
            self.closed.insert(call);
            for other in leg.iter().flat_map(|l| &l.ringing) {
                if other != agent {
                    self.release_ringing(other, call, ts, out);
                }
            }
        }
        let talk_ms = talk_ms.or(segment.as_ref().map(|s| ts - s.answered));
        let transferred = m
            .get("Reason")
            .is_some_and(|r| r.trim().eq_ignore_ascii_case("transfer"));
        if transferred {
            let (to_queue, to_external) = match segment.and_then(|s| s.transfer_to) {
                Some(Target::Queue(q)) => (Some(q), None),
                Some(Target::External(x)) => (None, Some(x)),
                None => (None, None),
            };
            out.push((
                ts,
                EventKind::CallTransferred {
                    call: call.to_string(),
                    queue: Some(queue.to_string()),
                    agent: Some(agent.to_string()),
                    talk_ms,
                    to_queue,
                    to_agent: None,
                    to_external,
                },
            ));
        } else {
            out.push((
                ts,
                EventKind::CallEnded {
                    call: call.to_string(),
                    queue: Some(queue.to_string()),
                    agent: Some(agent.to_string()),
                    talk_ms,
                },
            ));
        }
        self.agent_channels.retain(|_, c| c != call);
        let queue_wrap_up_s = self.queue_wrap_up_s.get(queue).copied().unwrap_or(0);
        if let Some(memory) = self.agents.get_mut(agent) {
            memory.after_call(agent, call, ts, queue_wrap_up_s, out);
        }
    }

    fn hung_up(&mut self, m: &AmiMessage, ts: Millis, out: &mut Out) {
        let Some(call) = call(m) else {
            return;
        };
        let Some(leg) = self.legs.get(call) else {
            // AgentComplete ends a connected call.
            return;
        };
        match leg.left {
            // Without HangupRequest from the switch: the caller hung up right after
            // QueueCallerAbandon, so abandoned. With it, a caller who gave up was decided at
            // QueueCallerAbandon already; this Hangup is the dialplan's after the queue let go.
            Some(left) => {
                let abandoned = leg.caller_hung_up
                    || (!self.hangup_requests
                        && left.abandon
                        && ts <= left.at + self.abandon_grace_ms);
                self.close_unanswered(call, abandoned, left.at, left.wait_ms, out);
            }
            // Hung up while waiting with no QueueCallerAbandon seen: abandoned all the same.
            None => {
                let wait_ms = leg.entered.map(|e| ts - e);
                self.close_unanswered(call, true, ts, wait_ms, out);
            }
        }
    }

    /// `HangupRequest` (`caller`: from the channel driver, the far end hung up) or
    /// `SoftHangupRequest` (someone on the switch hung the channel up). Either shows the switch
    /// reports hang-up requests. Only the caller's own request while its leg waits marks the
    /// leg as given up; one after the leg left (the caller hangs up in voicemail) changes
    /// nothing.
    fn hangup_requested(&mut self, m: &AmiMessage, caller: bool) {
        self.hangup_requests = true;
        if !caller {
            return;
        }
        if let Some(leg) = call(m).and_then(|c| self.legs.get_mut(c))
            && leg.left.is_none()
        {
            leg.caller_hung_up = true;
        }
    }

    fn hold(&mut self, m: &AmiMessage, ts: Millis, start: bool, out: &mut Out) {
        let Some(channel) = call(m) else {
            return;
        };
        let call = self
            .agent_channels
            .get(channel)
            .cloned()
            .unwrap_or_else(|| channel.to_string());
        let Some(segment) = self.segments.get_mut(&call) else {
            return;
        };
        if segment.on_hold == start {
            return;
        }
        segment.on_hold = start;
        let agent = segment.agent.clone();
        let (kind, state) = if start {
            (EventKind::CallHoldStarted { call }, AgentState::Hold)
        } else {
            (EventKind::CallHoldEnded { call }, AgentState::OnCall)
        };
        out.push((ts, kind));
        if let Some(memory) = self.agents.get_mut(&agent) {
            memory.set_state(&agent, ts, state, None, out);
        }
    }

    /// BlindTransfer / AttendedTransfer only say where the call went; the AgentComplete with
    /// `Reason: transfer` that follows ends the agent's segment and carries the talk time.
    fn transfer_target(&mut self, name: &str, m: &AmiMessage) {
        if m.get("Result")
            .is_some_and(|r| !r.eq_ignore_ascii_case("Success"))
        {
            return;
        }
        let call = m
            .fields()
            .iter()
            .filter(|(k, _)| k.to_ascii_lowercase().ends_with("uniqueid"))
            .find_map(|(_, v)| {
                let v = v.trim();
                if self.segments.contains_key(v) {
                    Some(v.to_string())
                } else {
                    self.agent_channels.get(v).cloned()
                }
            });
        let Some(call) = call else {
            return;
        };
        let target = if name == "blindtransfer" {
            m.first_of(&["Extension"]).map(|exten| {
                if self.queues.contains(exten) {
                    Target::Queue(exten.to_string())
                } else {
                    match m.first_of(&["Context"]) {
                        Some(context) => Target::External(format!("{exten}@{context}")),
                        None => Target::External(exten.to_string()),
                    }
                }
            })
        } else {
            m.first_of(&["SecondTransfererConnectedLineNum", "DestApp"])
                .filter(|t| !t.eq_ignore_ascii_case("<unknown>"))
                .map(|t| Target::External(t.to_string()))
        };
        let fits = |t: &Target| match t {
            Target::Queue(s) | Target::External(s) => s.len() <= MAX_FIELD_LEN,
        };
        if let (Some(segment), Some(target)) = (self.segments.get_mut(&call), target)
            && fits(&target)
        {
            segment.transfer_to = Some(target);
        }
    }

    fn member_added(&mut self, m: &AmiMessage, ts: Millis, out: &mut Out) {
        let (Some(agent), Some(queue)) = (member(m), queue(m)) else {
            return;
        };
        let memory = self.agents.entry(agent.to_string()).or_default();
        memory.queues.insert(queue.to_string());
        if let Some(w) = wrap_up_s(m) {
            memory.wrap_up_s = Some(w);
        }
        memory.login(agent, ts, out);
        if flag(m, "Paused") == Some(true) {
            memory.pause(agent, pause_text(m), ts, out);
        }
    }

    fn member_removed(&mut self, m: &AmiMessage, ts: Millis, out: &mut Out) {
        let (Some(agent), Some(queue)) = (member(m), queue(m)) else {
            return;
        };
        let Some(memory) = self.agents.get_mut(agent) else {
            return;
        };
        memory.queues.remove(queue);
        if memory.queues.is_empty() && !memory.session {
            memory.logout(agent, ts, out);
        }
    }

    /// QueueMemberStatus and QueueMemberPause(d): membership, the member's wrap-up time and
    /// pause. The device status is left alone: the queue events say better when a queue call
    /// rings, starts and ends.
    fn member_status(&mut self, m: &AmiMessage, ts: Millis, out: &mut Out) {
        let Some(agent) = member(m) else {
            return;
        };
        let paused = flag(m, "Paused");
        let text = pause_text(m);
        let memory = self.agent_seen(agent, queue(m), ts, out);
        if let Some(w) = wrap_up_s(m) {
            memory.wrap_up_s = Some(w);
        }
        match paused {
            Some(true) => memory.pause_if_changed(agent, text, ts, out),
            Some(false) => memory.unpause(agent, ts, out),
            None => {}
        }
    }

    /// app_agent_pool's AgentLogin / AgentLogoff (`Agent: 1001` is member `Agent/1001`).
    fn agent_session(&mut self, login: bool, m: &AmiMessage, ts: Millis, out: &mut Out) {
        let Some(id) = m.first_of(&["Agent"]) else {
            return;
        };
        let agent = format!("Agent/{id}");
        let memory = self.agents.entry(agent.clone()).or_default();
        memory.session = login;
        if login {
            memory.login(&agent, ts, out);
        } else if memory.queues.is_empty() {
            memory.logout(&agent, ts, out);
        }
    }

    /// The agent's memory, logging them in if they were not: a static member writes no
    /// QueueMemberAdded, so an agent seen working is a member.
    fn agent_seen(
        &mut self,
        agent: &str,
        queue: Option<&str>,
        ts: Millis,
        out: &mut Out,
    ) -> &mut Agent {
        let memory = self.agents.entry(agent.to_string()).or_default();
        if let Some(queue) = queue {
            memory.queues.insert(queue.to_string());
        }
        memory.login(agent, ts, out);
        memory
    }

    /// `agent` stops ringing for `call` (someone else answered, or the call left).
    fn release_ringing(&mut self, agent: &str, call: &str, ts: Millis, out: &mut Out) {
        if let Some(memory) = self.agents.get_mut(agent) {
            memory.release(agent, call, ts, out);
        }
    }

    /// The leg left its queue unanswered at `at`: abandoned or timed out.
    fn close_unanswered(
        &mut self,
        call: &str,
        abandoned: bool,
        at: Millis,
        wait_ms: Option<Millis>,
        out: &mut Out,
    ) {
        let Some(leg) = self.legs.remove(call) else {
            return;
        };
        let queue = Some(leg.queue);
        let kind = if abandoned {
            EventKind::CallAbandoned {
                call: call.to_string(),
                queue,
                wait_ms,
            }
        } else {
            EventKind::CallTimedOut {
                call: call.to_string(),
                queue,
                wait_ms,
                overflow_to: None,
            }
        };
        out.push((at, kind));
        self.closed.insert(call);
        for agent in &leg.ringing {
            self.release_ringing(agent, call, at, out);
        }
    }

    /// Outcomes whose grace passed and after-call work whose wrap-up ran out, by `now`.
    fn expire(&mut self, now: Millis, out: &mut Out) {
        let mut due: Vec<(Millis, String, Option<Millis>)> = self
            .legs
            .iter()
            .filter_map(|(id, leg)| {
                let left = leg.left?;
                (left.at + self.abandon_grace_ms < now).then(|| (left.at, id.clone(), left.wait_ms))
            })
            .collect();
        due.sort();
        for (at, call, wait_ms) in due {
            // The caller outlived the grace: the switch's rule removed the call.
            self.close_unanswered(&call, false, at, wait_ms, out);
        }
        for (name, agent) in self.agents.iter_mut() {
            agent.expire(name, now, out);
        }
    }

    /// Gives ids, sequence numbers and times to what a message produced, oldest first. An
    /// event that would not validate (a time pushed out of range by a hostile duration) is
    /// dropped and counted in [`AmiMapper::rejected`].
    fn emit(&mut self, mut out: Out) -> Vec<Event> {
        out.sort_by_key(|(ts, _)| *ts);
        let mut events = Vec::with_capacity(out.len());
        for (ts, kind) in out {
            let event = Event {
                v: EVENT_VERSION,
                id: format!(
                    "ami-{:08x}-{:x}-{ts}-{}",
                    self.tag,
                    self.run,
                    self.produced + 1
                ),
                source: self.source.clone(),
                seq: self.produced + 1,
                ts,
                test: false,
                kind,
            };
            if event.validate().is_ok() {
                self.produced += 1;
                events.push(event);
            } else {
                self.rejected += 1;
            }
        }
        events
    }
}
