//! The switch's own state, as Asterisk's app_queue keeps it: the callers waiting in each queue
//! (ringing ones included: a caller stays in the queue until an agent answers), the members of
//! each queue with their pause, device status and call counts, and the queue's own statistics.
//!
//! [`super::AmiWriter`] changes it as it writes each event, so at any moment it is exactly what
//! the events released so far say; [`SwitchFloor::queue_status`] answers the QueueStatus action
//! from it, which is what a client resyncs from after a reconnect.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use floorwatch_core::Millis;
use floorwatch_core::ami::AmiMessage;

/// Asterisk's device states, as QueueMember / QueueMemberStatus `Status:` numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Idle: no call (Asterisk's `AST_DEVICE_NOT_INUSE`).
    NotInUse = 1,
    /// On a call (`AST_DEVICE_INUSE`).
    InUse = 2,
    /// Ringing (`AST_DEVICE_RINGING`).
    Ringing = 6,
}

/// One queue as configured on the switch, with what it has counted today.
#[derive(Debug, Clone)]
pub struct QueueLine {
    /// The queue's name, as in AMI's `Queue:` header.
    pub id: String,
    /// `weight` in queues.conf: a heavier queue's callers are served first.
    pub weight: u8,
    /// `servicelevel` in queues.conf, seconds.
    pub service_level_s: u32,
    /// `wrapuptime` in queues.conf, seconds (0: none).
    pub wrap_up_s: u32,
    /// Callers in the queue, in arrival order: waiting or ringing an agent.
    pub waiting: Vec<String>,
    /// Calls answered and finished, as `QueueSummary` and `QueueParams` report.
    pub completed: u64,
    /// Callers who hung up while waiting.
    pub abandoned: u64,
    /// Calls answered within the service-level time.
    pub completed_within_service_level: u64,
    hold_total_s: i64,
    talk_total_s: i64,
}

impl QueueLine {
    /// An empty queue with these parameters.
    pub fn new(id: &str, weight: u8, service_level_s: u32, wrap_up_s: u32) -> QueueLine {
        QueueLine {
            id: id.to_string(),
            weight,
            service_level_s,
            wrap_up_s,
            waiting: Vec::new(),
            completed: 0,
            abandoned: 0,
            completed_within_service_level: 0,
            hold_total_s: 0,
            talk_total_s: 0,
        }
    }

    /// A caller was connected after waiting `hold_s`.
    pub fn count_answered(&mut self, hold_s: i64) {
        self.hold_total_s += hold_s;
        if hold_s <= i64::from(self.service_level_s) {
            self.completed_within_service_level += 1;
        }
    }

    /// A connected caller's talk ended.
    pub fn count_completed(&mut self, talk_s: i64) {
        self.completed += 1;
        self.talk_total_s += talk_s;
    }

    /// Removes `call` from the queue; its 1-based position before leaving.
    pub fn remove(&mut self, call: &str) -> Option<usize> {
        let at = self.waiting.iter().position(|c| c == call)?;
        self.waiting.remove(at);
        Some(at + 1)
    }
}

/// A queue member: an agent logged in to the queues of their skills.
#[derive(Debug, Clone)]
pub struct Member {
    /// The member name (AMI's `MemberName`, the agent's id).
    pub name: String,
    /// The device: `PJSIP/<agent>`.
    pub interface: String,
    /// The queues the member belongs to.
    pub queues: BTreeSet<String>,
    /// The pause reason while paused (`""` for a pause without reason).
    pub paused: Option<String>,
    /// The device state Asterisk reports.
    pub status: DeviceStatus,
    /// On a queue call (talking or holding).
    pub in_call: bool,
    /// Queue calls answered since login.
    pub calls_taken: u64,
    /// Unix seconds of the end of the last queue call; 0: none yet.
    pub last_call_s: i64,
    /// Unix seconds of the last pause; 0: none yet.
    pub last_pause_s: i64,
    /// When the member logged in, Unix seconds.
    pub login_s: i64,
}

/// A caller's channel while the switch follows it.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Asterisk's unique id of the caller's channel.
    pub uniqueid: String,
    /// The caller's channel name.
    pub channel: String,
    /// The caller's number, when known.
    pub caller_id: Option<String>,
    /// The queue the caller is in now (`None` once answered, or between legs).
    pub queue: Option<String>,
    /// The queue of the caller's current or last leg, for the agent events of a connected call.
    pub last_queue: String,
    /// When the caller joined the current queue (`None`: joined before the switch said so).
    pub entered: Option<Millis>,
    /// Position when the caller joined, for `QueueCallerLeave`.
    pub original_position: usize,
    /// Whom the caller's queue call rings now, and since when.
    pub ringing: Option<AgentLeg>,
    /// The agent the caller talks to.
    pub connected: Option<AgentLeg>,
    /// The leg's wait, whole seconds, once answered.
    pub hold_s: i64,
}

/// The agent's side of a queue call: their channel while it rings or talks.
#[derive(Debug, Clone)]
pub struct AgentLeg {
    /// The agent's member name.
    pub agent: String,
    /// The agent's channel name.
    pub channel: String,
    /// Asterisk's unique id of the agent's channel.
    pub uniqueid: String,
    /// When it started ringing, or was answered.
    pub since: Millis,
}

/// Everything the switch knows now.
#[derive(Debug, Clone, Default)]
pub struct SwitchFloor {
    /// Every queue, by name.
    pub queues: BTreeMap<String, QueueLine>,
    /// Every member, by name.
    pub members: BTreeMap<String, Member>,
    /// Every caller in the switch, by call id.
    pub callers: HashMap<String, Caller>,
}

/// `Key: Value` pairs of one member in one queue, as QueueMember (`Name`, `Location`) or the
/// QueueMember* events (`MemberName`, `Interface`) spell them.
pub(super) fn member_fields(
    message: AmiMessage,
    queue: &QueueLine,
    member: &Member,
    spelling: MemberSpelling,
) -> AmiMessage {
    let (name_key, interface_key) = match spelling {
        MemberSpelling::Event => ("MemberName", "Interface"),
        MemberSpelling::List => ("Name", "Location"),
    };
    let message = message
        .with("Queue", queue.id.as_str())
        .with(name_key, member.name.as_str())
        .with(interface_key, member.interface.as_str())
        .with("StateInterface", member.interface.as_str())
        .with("Membership", "dynamic")
        .with("Penalty", "0")
        .with("CallsTaken", member.calls_taken.to_string())
        .with("LastCall", member.last_call_s.to_string())
        .with("LastPause", member.last_pause_s.to_string())
        .with("LoginTime", member.login_s.to_string())
        .with("InCall", flag(member.in_call))
        .with("Status", (member.status as u8).to_string())
        .with("Paused", flag(member.paused.is_some()))
        .with("PausedReason", member.paused.as_deref().unwrap_or(""));
    let message = match spelling {
        MemberSpelling::Event => message.with("Ringinuse", "0"),
        MemberSpelling::List => message,
    };
    message.with("Wrapuptime", queue.wrap_up_s.to_string())
}

/// Which header names a member's fields use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MemberSpelling {
    /// QueueMemberAdded / Removed / Pause / Status.
    Event,
    /// The QueueMember rows of a QueueStatus reply.
    List,
}

fn flag(on: bool) -> &'static str {
    if on { "1" } else { "0" }
}

impl SwitchFloor {
    /// The reply to `Action: QueueStatus` at switch time `now`: the response, a QueueParams
    /// per queue followed by its QueueMember and QueueEntry rows, and QueueStatusComplete, all
    /// carrying the request's ActionID. `Queue:` and `Member:` in the request narrow the list,
    /// as in Asterisk.
    pub fn queue_status(&self, request: &AmiMessage, now: Millis) -> Vec<AmiMessage> {
        let action_id = request.action_id();
        let with_id = |m: AmiMessage| match action_id {
            Some(id) => m.with("ActionID", id),
            None => m,
        };
        let only_queue = request.first_of(&["Queue"]);
        let only_member = request.first_of(&["Member"]);
        let mut out = vec![
            with_id(AmiMessage::new().with("Response", "Success"))
                .with("EventList", "start")
                .with("Message", "Queue status will follow"),
        ];
        let mut items = 0usize;
        for queue in self
            .queues
            .values()
            .filter(|q| only_queue.is_none_or(|only| only == q.id))
        {
            out.push(with_id(self.queue_params(queue)));
            items += 1;
            for member in self.members.values().filter(|m| {
                m.queues.contains(&queue.id)
                    && only_member.is_none_or(|only| only == m.name || only == m.interface)
            }) {
                let row = member_fields(
                    AmiMessage::new().with("Event", "QueueMember"),
                    queue,
                    member,
                    MemberSpelling::List,
                );
                out.push(with_id(row));
                items += 1;
            }
            for (index, call) in queue.waiting.iter().enumerate() {
                if let Some(caller) = self.callers.get(call) {
                    out.push(with_id(queue_entry(queue, caller, index + 1, now)));
                    items += 1;
                }
            }
        }
        out.push(
            with_id(AmiMessage::new().with("Event", "QueueStatusComplete"))
                .with("EventList", "Complete")
                .with("ListItems", items.to_string()),
        );
        out
    }

    fn queue_params(&self, queue: &QueueLine) -> AmiMessage {
        let average = |total: i64, n: u64| if n == 0 { 0 } else { total / n as i64 };
        let answered = queue.completed + self.connected_in(&queue.id);
        let perf = if answered == 0 {
            0.0
        } else {
            100.0 * queue.completed_within_service_level as f64 / answered as f64
        };
        let perf2 = if answered + queue.abandoned == 0 {
            0.0
        } else {
            100.0 * queue.completed_within_service_level as f64
                / (answered + queue.abandoned) as f64
        };
        AmiMessage::new()
            .with("Event", "QueueParams")
            .with("Queue", queue.id.as_str())
            .with("Max", "0")
            .with("Strategy", "leastrecent")
            .with("Calls", queue.waiting.len().to_string())
            .with(
                "Holdtime",
                average(queue.hold_total_s, answered).to_string(),
            )
            .with(
                "TalkTime",
                average(queue.talk_total_s, queue.completed).to_string(),
            )
            .with("Completed", queue.completed.to_string())
            .with("Abandoned", queue.abandoned.to_string())
            .with("ServiceLevel", queue.service_level_s.to_string())
            .with("ServicelevelPerf", format!("{perf:.1}"))
            .with("ServicelevelPerf2", format!("{perf2:.1}"))
            .with("Weight", queue.weight.to_string())
    }

    /// Callers of `queue` talking to an agent now.
    fn connected_in(&self, queue: &str) -> u64 {
        self.callers
            .values()
            .filter(|c| c.connected.is_some() && c.last_queue == queue)
            .count() as u64
    }
}

/// A QueueEntry row: one caller in a queue, with how long it has waited (whole seconds).
fn queue_entry(queue: &QueueLine, caller: &Caller, position: usize, now: Millis) -> AmiMessage {
    let wait_s = caller.entered.map_or(0, |e| (now - e).max(0) / 1000);
    AmiMessage::new()
        .with("Event", "QueueEntry")
        .with("Queue", queue.id.as_str())
        .with("Position", position.to_string())
        .with("Channel", caller.channel.as_str())
        .with("Uniqueid", caller.uniqueid.as_str())
        .with(
            "CallerIDNum",
            caller.caller_id.as_deref().unwrap_or("<unknown>"),
        )
        .with("CallerIDName", "<unknown>")
        .with("ConnectedLineNum", "<unknown>")
        .with("ConnectedLineName", "<unknown>")
        .with("Wait", wait_s.to_string())
        .with("Priority", queue.weight.to_string())
}
