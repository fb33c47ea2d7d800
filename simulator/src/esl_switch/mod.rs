//! A fake FreeSWITCH with mod_callcenter, without the sockets: the simulated day as the
//! `callcenter::info` and channel events the switch would fire, and the switch's tables that
//! answer `callcenter_config queue list ...`. `floorwatch-sim esl-server` puts a listener,
//! the event socket protocol and a clock around it (docs/CTI.md, "FreeSWITCH", "The fake
//! FreeSWITCH").
//!
//! | canonical event | events fired |
//! |---|---|
//! | `agent_login` / `agent_logout` | agent-status-change `Available` / `Logged Out` |
//! | `agent_state not_ready` | agent-status-change `On Break` (mod_callcenter has no reasons) |
//! | `agent_state after_call_work` | agent-state-change `Idle` (as mod_callcenter does for `Available (On Demand)`) |
//! | `agent_state available` | agent-state-change `Waiting` after `Idle`; agent-status-change `Available` after `On Break` |
//! | `call_entered_queue` | member-queue-start |
//! | `call_offered` | agent-state-change `Receiving`, agent-offering |
//! | `call_ring_no_answer` | bridge-agent-fail (`NO_ANSWER`), agent-state-change `Waiting` |
//! | `call_answered` | agent-state-change `In a queue call`, bridge-agent-start |
//! | `call_hold_started` / `call_hold_ended` | CHANNEL_HOLD / CHANNEL_UNHOLD of the caller's channel |
//! | `call_ended` / `call_transferred` | CHANNEL_HANGUP_COMPLETE of the agent's channel (`NORMAL_CLEARING` / `BLIND_TRANSFER`), bridge-agent-end, member-queue-end `Terminated`, agent-state-change `Waiting` |
//! | `call_abandoned` | member-queue-end `Cancel` / `BREAK_OUT`, the caller's channel down (`Answer-State: hangup`) |
//! | `call_timed_out` | member-queue-end `Cancel` / `TIMEOUT`, the caller's channel up |
//! | `call_after_call_work_ended`, `agent_team`, `call_ivr_completed` | nothing |
//!
//! What a client of the switch cannot recover: IVR completions, the `test` flag, teams,
//! priority and direction (as with AMI), not-ready reasons (every not-ready reads `other`)
//! and where a transfer went.

mod tables;

use std::collections::{BTreeMap, HashMap};
use std::iter::Peekable;

use floorwatch_core::esl::EslHeaders;
use floorwatch_core::{AgentState, Event, EventKind, Millis};

use crate::Simulation;
use crate::scenario::{Scenario, agent_id};

/// The switch's `Core-UUID`.
pub const CORE_UUID: &str = "6f3c2a1e-0b7d-4c55-9a1f-floorwatch00";

/// The simulated day as FreeSWITCH fires it, moment by moment.
pub struct EslDay {
    events: Peekable<Simulation>,
    writer: EslWriter,
    clock: Millis,
}

/// The events of one instant.
#[derive(Debug, Clone)]
pub struct EslMoment {
    /// When they fire, event time.
    pub at: Millis,
    /// The events, in order, each with its `Event-Sequence`.
    pub events: Vec<EslHeaders>,
}

impl EslDay {
    /// The day of `scenario` as a switch fires it.
    pub fn new(scenario: &Scenario, simulation: Simulation) -> EslDay {
        let clock = simulation.recorded_from();
        EslDay {
            events: simulation.peekable(),
            writer: EslWriter::new(scenario),
            clock,
        }
    }

    /// The time of the next moment; `None` when the day is over.
    pub fn next_time(&mut self) -> Option<Millis> {
        self.events.peek().map(|e| e.ts)
    }

    /// Every event of the next moment, the switch's tables moved past it.
    pub fn release(&mut self) -> Option<EslMoment> {
        let at = self.next_time()?;
        let mut events = Vec::new();
        while let Some(event) = self.events.next_if(|e| e.ts <= at) {
            events.extend(self.writer.write(&event));
        }
        self.clock = at;
        Some(EslMoment { at, events })
    }

    /// The switch's tables now.
    pub fn writer(&self) -> &EslWriter {
        &self.writer
    }

    /// The time of the last moment released.
    pub fn clock(&self) -> Millis {
        self.clock
    }

    /// Events fired so far: the last `Event-Sequence`.
    pub fn released(&self) -> u64 {
        self.writer.sequence
    }
}

/// One agent as mod_callcenter's `agents` table holds it.
#[derive(Debug, Clone)]
pub struct FsAgent {
    /// `status`: `Logged Out`, `Available`, `On Break`.
    pub status: &'static str,
    /// `state`: `Waiting`, `Receiving`, `In a queue call`, `Idle`.
    pub state: &'static str,
    /// The queues of the agent's tiers.
    pub queues: Vec<String>,
    /// `last_bridge_end`, Unix seconds.
    pub last_bridge_end_s: i64,
    /// `last_bridge_start`, Unix seconds.
    pub last_bridge_start_s: i64,
    /// `calls_answered`.
    pub calls_answered: u64,
    /// The agent's channel uuid while bridged.
    pub uuid: String,
}

/// One row of mod_callcenter's `members` table: a caller in a queue.
#[derive(Debug, Clone)]
pub struct FsMember {
    /// The queue.
    pub queue: String,
    /// `uuid`: the member row's own id.
    pub uuid: String,
    /// `session_uuid`: the caller's channel, the call id.
    pub session_uuid: String,
    /// `cid_number`.
    pub cid_number: String,
    /// When the caller joined (ms; `joined_epoch` is its seconds).
    pub joined: Millis,
    /// `state`: `Waiting`, `Trying`, `Answered`.
    pub state: &'static str,
    /// `serving_agent` once answered.
    pub serving_agent: String,
    /// `bridge_epoch` once answered, Unix seconds.
    pub bridge_s: i64,
    /// The agent it is offered to now.
    pub offered_to: Option<String>,
}

/// Writes canonical events as mod_callcenter events, keeping the tables they describe.
#[derive(Debug, Clone)]
pub struct EslWriter {
    /// Every agent of the scenario, by name.
    pub agents: BTreeMap<String, FsAgent>,
    /// Members in the switch, by the caller's channel uuid.
    pub members: HashMap<String, FsMember>,
    /// Every queue, in order.
    pub queues: Vec<String>,
    sequence: u64,
    channels: u64,
}

fn seconds(ts: Millis) -> String {
    ts.div_euclid(1000).to_string()
}

impl EslWriter {
    /// A switch configured with the scenario's queues, agents and tiers (agents logged out).
    pub fn new(scenario: &Scenario) -> EslWriter {
        let queues: Vec<String> = scenario.queues.iter().map(|q| q.id.clone()).collect();
        let mut agents = BTreeMap::new();
        let mut index = 0;
        for group in scenario.sites.iter().flat_map(|s| &s.groups) {
            let tiers: Vec<String> = group
                .skills
                .iter()
                .filter(|s| queues.contains(s))
                .cloned()
                .collect();
            for _ in 0..u64::from(group.teams) * u64::from(group.agents_per_team) {
                agents.insert(
                    agent_id(index),
                    FsAgent {
                        status: "Logged Out",
                        state: "Waiting",
                        queues: tiers.clone(),
                        last_bridge_end_s: 0,
                        last_bridge_start_s: 0,
                        calls_answered: 0,
                        uuid: String::new(),
                    },
                );
                index += 1;
            }
        }
        EslWriter {
            agents,
            members: HashMap::new(),
            queues,
            sequence: 0,
            channels: 0,
        }
    }

    /// The head every event has (src/switch_event.c, `switch_event_prep_for_delivery`).
    fn head(&mut self, name: &str, ts: Millis) -> EslHeaders {
        self.sequence += 1;
        EslHeaders::new()
            .with("Event-Name", name)
            .with("Core-UUID", CORE_UUID)
            .with("FreeSWITCH-Hostname", "fs-sim")
            .with("Event-Date-Timestamp", (ts * 1000).to_string())
            .with("Event-Calling-File", "mod_callcenter.c")
            .with("Event-Sequence", self.sequence.to_string())
    }

    fn callcenter(&mut self, action: &str, ts: Millis) -> EslHeaders {
        self.head("CUSTOM", ts)
            .with("Event-Subclass", "callcenter::info")
            .with("CC-Action", action)
    }

    /// The caller's channel data (`switch_channel_event_set_data`).
    fn member_channel(&self, h: EslHeaders, call: &str, up: bool) -> EslHeaders {
        let cid = self
            .members
            .get(call)
            .map(|m| m.cid_number.clone())
            .unwrap_or_default();
        let h = h
            .with("Channel-State", if up { "CS_EXECUTE" } else { "CS_HANGUP" })
            .with("Unique-ID", call)
            .with("Answer-State", if up { "answered" } else { "hangup" })
            .with("Caller-Caller-ID-Number", cid.as_str());
        if up {
            h
        } else {
            h.with("Hangup-Cause", "NORMAL_CLEARING")
        }
    }

    fn agent_status(
        &mut self,
        agent: &str,
        status: &'static str,
        ts: Millis,
        out: &mut Vec<EslHeaders>,
    ) {
        let Some(a) = self.agents.get_mut(agent) else {
            return;
        };
        if a.status == status {
            return;
        }
        a.status = status;
        let h = self
            .callcenter("agent-status-change", ts)
            .with("CC-Agent", agent)
            .with("CC-Agent-Status", status);
        out.push(h);
    }

    fn agent_state(
        &mut self,
        agent: &str,
        state: &'static str,
        ts: Millis,
        out: &mut Vec<EslHeaders>,
    ) {
        let Some(a) = self.agents.get_mut(agent) else {
            return;
        };
        if a.state == state {
            return;
        }
        a.state = state;
        let h = self
            .callcenter("agent-state-change", ts)
            .with("CC-Agent", agent)
            .with("CC-Agent-State", state);
        out.push(h);
    }

    /// The member headers of a call event.
    fn member_fields(&self, h: EslHeaders, call: &str) -> EslHeaders {
        let (uuid, cid, queue, joined) = match self.members.get(call) {
            Some(m) => (
                m.uuid.clone(),
                m.cid_number.clone(),
                m.queue.clone(),
                m.joined,
            ),
            None => (String::new(), String::new(), String::new(), 0),
        };
        h.with("CC-Queue", queue)
            .with("CC-Member-UUID", uuid)
            .with("CC-Member-Session-UUID", call)
            .with("CC-Member-CID-Name", "")
            .with("CC-Member-CID-Number", cid)
            .with("CC-Member-Joined-Time", seconds(joined))
    }

    /// The events of one canonical event.
    pub fn write(&mut self, event: &Event) -> Vec<EslHeaders> {
        let ts = event.ts;
        let mut out = Vec::new();
        match &event.kind {
            EventKind::AgentLogin { agent, .. } => {
                self.agent_state(agent, "Waiting", ts, &mut out);
                self.agent_status(agent, "Available", ts, &mut out);
            }
            EventKind::AgentLogout { agent } => {
                self.agent_status(agent, "Logged Out", ts, &mut out)
            }
            EventKind::AgentState { agent, state, .. } => match state {
                AgentState::Available => {
                    if self.agents.get(agent).is_some_and(|a| a.state == "Idle") {
                        self.agent_state(agent, "Waiting", ts, &mut out);
                    }
                    self.agent_status(agent, "Available", ts, &mut out);
                }
                AgentState::NotReady => self.agent_status(agent, "On Break", ts, &mut out),
                AgentState::AfterCallWork => self.agent_state(agent, "Idle", ts, &mut out),
                AgentState::Ringing | AgentState::OnCall | AgentState::Hold => {}
            },
            EventKind::CallEnteredQueue {
                call,
                queue,
                caller,
                ..
            } => {
                self.channels += 1;
                self.members.insert(
                    call.clone(),
                    FsMember {
                        queue: queue.clone(),
                        uuid: format!("member-{:08x}", self.channels),
                        session_uuid: call.clone(),
                        cid_number: caller
                            .as_ref()
                            .map(|c| c.as_str().to_string())
                            .unwrap_or_default(),
                        joined: ts,
                        state: "Waiting",
                        serving_agent: String::new(),
                        bridge_s: 0,
                        offered_to: None,
                    },
                );
                let h = self.callcenter("member-queue-start", ts);
                let h = self.member_channel(h, call, true);
                let h = self.member_fields(h, call);
                out.push(h);
            }
            EventKind::CallOffered { call, agent } => {
                if let Some(m) = self.members.get_mut(call) {
                    m.state = "Trying";
                    m.offered_to = Some(agent.clone());
                }
                self.agent_state(agent, "Receiving", ts, &mut out);
                let h = self
                    .callcenter("agent-offering", ts)
                    .with("CC-Agent", agent.as_str());
                let h = self.member_fields(h, call);
                out.push(self.member_channel(h, call, true));
            }
            EventKind::CallRingNoAnswer { call, agent } => {
                if let Some(m) = self.members.get_mut(call) {
                    m.state = "Waiting";
                    m.offered_to = None;
                }
                let h = self
                    .callcenter("bridge-agent-fail", ts)
                    .with("CC-Hangup-Cause", "NO_ANSWER")
                    .with("CC-Agent", agent.as_str());
                let h = self.member_fields(h, call);
                out.push(self.member_channel(h, call, true));
                self.agent_state(agent, "Waiting", ts, &mut out);
            }
            EventKind::CallAnswered {
                call, agent, queue, ..
            } => {
                self.channels += 1;
                let agent_uuid = format!("agent-leg-{:08x}", self.channels);
                if !self.members.contains_key(call) {
                    self.members.insert(
                        call.clone(),
                        FsMember {
                            queue: queue.clone().unwrap_or_default(),
                            uuid: format!("member-{:08x}", self.channels),
                            session_uuid: call.clone(),
                            cid_number: String::new(),
                            joined: ts,
                            state: "Waiting",
                            serving_agent: String::new(),
                            bridge_s: 0,
                            offered_to: None,
                        },
                    );
                }
                if let Some(m) = self.members.get_mut(call) {
                    m.offered_to = None;
                    m.state = "Answered";
                    m.serving_agent = agent.clone();
                    m.bridge_s = ts.div_euclid(1000);
                }
                if let Some(a) = self.agents.get_mut(agent) {
                    a.uuid = agent_uuid.clone();
                    a.last_bridge_start_s = ts.div_euclid(1000);
                    a.calls_answered += 1;
                }
                self.agent_state(agent, "In a queue call", ts, &mut out);
                let h = self
                    .callcenter("bridge-agent-start", ts)
                    .with("CC-Agent", agent.as_str())
                    .with("CC-Agent-UUID", agent_uuid)
                    .with("CC-Agent-Answered-Time", seconds(ts));
                let h = self.member_fields(h, call);
                out.push(self.member_channel(h, call, true));
            }
            EventKind::CallHoldStarted { call } | EventKind::CallHoldEnded { call } => {
                let name = if matches!(event.kind, EventKind::CallHoldStarted { .. }) {
                    "CHANNEL_HOLD"
                } else {
                    "CHANNEL_UNHOLD"
                };
                let h = self.head(name, ts);
                out.push(self.member_channel(h, call, true));
            }
            EventKind::CallEnded { call, agent, .. }
            | EventKind::CallTransferred { call, agent, .. } => {
                let transfer = matches!(event.kind, EventKind::CallTransferred { .. });
                self.bridge_end(call, agent.as_deref(), transfer, ts, &mut out);
            }
            EventKind::CallAbandoned { call, .. } => {
                self.left(call, "BREAK_OUT", false, ts, &mut out)
            }
            EventKind::CallTimedOut { call, .. } => self.left(call, "TIMEOUT", true, ts, &mut out),
            EventKind::AgentTeam { .. }
            | EventKind::CallAfterCallWorkEnded { .. }
            | EventKind::CallIvrCompleted { .. } => {}
        }
        out
    }

    fn bridge_end(
        &mut self,
        call: &str,
        agent: Option<&str>,
        transfer: bool,
        ts: Millis,
        out: &mut Vec<EslHeaders>,
    ) {
        let Some(agent) = agent
            .map(str::to_string)
            .or_else(|| self.members.get(call).map(|m| m.serving_agent.clone()))
        else {
            return;
        };
        let agent_uuid = self
            .agents
            .get(&agent)
            .map(|a| a.uuid.clone())
            .unwrap_or_default();
        let cause = if transfer {
            "BLIND_TRANSFER"
        } else {
            "NORMAL_CLEARING"
        };
        let hangup = self
            .head("CHANNEL_HANGUP_COMPLETE", ts)
            .with("Channel-State", "CS_REPORTING")
            .with("Unique-ID", agent_uuid.as_str())
            .with("Answer-State", "hangup")
            .with("Hangup-Cause", cause);
        out.push(hangup);
        let h = self
            .callcenter("bridge-agent-end", ts)
            .with("CC-Hangup-Cause", "NONE")
            .with("CC-Agent", agent.as_str())
            .with("CC-Agent-UUID", agent_uuid.as_str())
            .with("CC-Agent-Bridged", "true")
            .with("CC-Bridge-Terminated-Time", seconds(ts));
        let h = self.member_fields(h, call);
        out.push(self.member_channel(h, call, transfer));
        let h = self
            .callcenter("member-queue-end", ts)
            .with("CC-Hangup-Cause", "NORMAL_CLEARING")
            .with("CC-Cause", "Terminated")
            .with("CC-Agent", agent.as_str())
            .with("CC-Member-Leaving-Time", seconds(ts));
        let h = self.member_fields(h, call);
        out.push(self.member_channel(h, call, transfer));
        self.members.remove(call);
        if let Some(a) = self.agents.get_mut(&agent) {
            a.uuid.clear();
            a.last_bridge_end_s = ts.div_euclid(1000);
        }
        self.agent_state(&agent, "Waiting", ts, out);
    }

    fn left(&mut self, call: &str, reason: &str, up: bool, ts: Millis, out: &mut Vec<EslHeaders>) {
        let h = self
            .callcenter("member-queue-end", ts)
            .with("CC-Member-Leaving-Time", seconds(ts))
            .with("CC-Cause", "Cancel")
            .with("CC-Cancel-Reason", reason);
        let h = self.member_fields(h, call);
        out.push(self.member_channel(h, call, up));
        // mod_callcenter cancels the offer: the agent it rang is Waiting again.
        if let Some(agent) = self.members.remove(call).and_then(|m| m.offered_to) {
            self.agent_state(&agent, "Waiting", ts, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use floorwatch_core::esl::{ApiTable, EslMapper};
    use floorwatch_core::{Engine, NotReadyReason, Window};

    /// The canonical event as mod_callcenter carries it (docs/CTI.md, "FreeSWITCH").
    fn as_esl_carries(event: &Event) -> Option<Event> {
        let mut e = event.clone();
        e.test = false;
        match &mut e.kind {
            EventKind::CallIvrCompleted { .. } => return None,
            EventKind::AgentState {
                state: AgentState::NotReady,
                reason,
                ..
            } => *reason = Some(NotReadyReason::Other),
            _ => {}
        }
        Some(e)
    }

    #[test]
    fn a_day_through_the_mapper_gives_the_canonical_figures_with_resyncs() {
        let scenario = Scenario::preset("small").unwrap();
        let date = jiff::civil::date(2026, 3, 9);
        let org = scenario.organisation();
        let mut expected = Engine::new(&org).unwrap();
        for e in Simulation::new(&scenario, date, 3).filter_map(|e| as_esl_carries(&e)) {
            expected.apply(&e);
        }
        let mut day = EslDay::new(&scenario, Simulation::new(&scenario, date, 3));
        let mut mapper = EslMapper::new("esl:sim", &org);
        let mut got = Engine::new(&org).unwrap();
        let mut moments = 0u64;
        while let Some(moment) = day.release() {
            for h in &moment.events {
                for e in mapper.map(h, moment.at) {
                    got.apply(&e);
                }
            }
            moments += 1;
            if moments.is_multiple_of(500) {
                // A reconnect: the resync must change nothing when nothing was lost.
                let w = day.writer();
                let now = day.clock();
                let tiers: Vec<ApiTable> = w
                    .queues
                    .iter()
                    .map(|q| {
                        ApiTable::parse(
                            &w.api(&format!("callcenter_config queue list tiers {q}"), now)
                                .unwrap(),
                        )
                    })
                    .collect();
                let agents: Vec<ApiTable> = w
                    .queues
                    .iter()
                    .map(|q| {
                        ApiTable::parse(
                            &w.api(&format!("callcenter_config queue list agents {q}"), now)
                                .unwrap(),
                        )
                    })
                    .collect();
                let members =
                    ApiTable::parse(&w.api("callcenter_config queue list members", now).unwrap());
                let mut changed = mapper.resync_agents(&tiers, &agents, now);
                changed.extend(mapper.resync_members(&members, now));
                assert!(changed.is_empty(), "resync at {now} changed {changed:?}");
            }
        }
        let centre = expected
            .figures(&floorwatch_core::Scope::Centre, Window::Today)
            .unwrap();
        assert!(centre.offered > 800 && centre.abandoned > 0 && centre.timed_out > 0);
        assert!(expected.scopes().len() > 20);
        for scope in expected.scopes() {
            assert_eq!(
                got.figures(&scope, Window::Today).unwrap(),
                expected.figures(&scope, Window::Today).unwrap(),
                "{scope}"
            );
        }
    }
}
