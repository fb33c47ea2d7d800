//! After every (re)connect: `callcenter_config queue list tiers|agents QUEUE` and `queue list
//! members` bring the mapper, and through the events it emits the engine, to the switch's
//! state (docs/CTI.md, "FreeSWITCH", "Resync").

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::{EslMapper, Out, Status, end_after_call_work};
use crate::esl::ApiTable;
use crate::event::{Event, MAX_FIELD_LEN, Millis, PLAUSIBLE_TS};

/// What the agents and tiers tables say of one agent.
struct Listed<'a> {
    status: Option<Status>,
    state: Option<&'a str>,
    last_bridge_end: Option<Millis>,
    queues: BTreeSet<String>,
}

fn seconds(value: Option<&str>) -> Option<Millis> {
    let v = value?;
    if v.len() > 12 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<i64>()
        .ok()
        .map(|s| s * 1000)
        .filter(|ms| PLAUSIBLE_TS.contains(ms))
}

impl EslMapper {
    /// Brings agents to the switch's state, read at `at`, from each queue's `queue list
    /// tiers` and `queue list agents` tables:
    ///
    /// - an agent the mapper has logged in that no table lists, or listed `Logged Out`,
    ///   logs out; a listed agent `Available` or `On Break` is logged in with that status;
    /// - an agent believed on a call whose state is no longer `In a queue call` ended it, at
    ///   its `last_bridge_end` when plausible, else at `at`; one believed ringing is released;
    /// - state `Idle` right after a call is its after-call work, `Waiting` ends it.
    pub fn resync_agents(
        &mut self,
        tiers: &[ApiTable],
        agents: &[ApiTable],
        at: Millis,
    ) -> Vec<Event> {
        let mut listed: BTreeMap<String, Listed> = BTreeMap::new();
        for row in agents.iter().flat_map(ApiTable::rows) {
            let Some(name) = row.get("name").filter(|n| n.len() <= MAX_FIELD_LEN) else {
                continue;
            };
            listed.entry(name.to_string()).or_insert_with(|| Listed {
                status: row.get("status").and_then(Status::parse),
                state: row.get("state"),
                last_bridge_end: seconds(row.get("last_bridge_end")),
                queues: BTreeSet::new(),
            });
        }
        for row in tiers.iter().flat_map(ApiTable::rows) {
            if let (Some(agent), Some(queue)) = (row.get("agent"), row.get("queue"))
                && let Some(entry) = listed.get_mut(agent)
                && queue.len() <= MAX_FIELD_LEN
            {
                entry.queues.insert(queue.to_string());
            }
        }
        let mut out = Out::new();
        let gone: Vec<String> = self
            .agents
            .iter()
            .filter(|(name, a)| a.emitted.is_some() && !listed.contains_key(*name))
            .map(|(name, _)| name.clone())
            .collect();
        for name in gone {
            if let Some(memory) = self.agents.get_mut(&name) {
                memory.status = Status::LoggedOut;
            }
            self.settle(&name, at, &mut out);
        }
        for (name, row) in &listed {
            self.resync_agent(name, row, at, &mut out);
        }
        self.emit(out)
    }

    fn resync_agent(&mut self, agent: &str, row: &Listed, at: Millis, out: &mut Out) {
        let on_call = row.state == Some("In a queue call");
        let offered = row.state == Some("Receiving");
        let memory = self.agents.entry(agent.to_string()).or_default();
        if !row.queues.is_empty() {
            memory.queues = row.queues.clone();
        }
        if let Some(call) = memory.call.clone()
            && !on_call
        {
            match self.segments.get(&call) {
                Some(segment) if segment.agent == agent => {
                    let answered = segment.answered;
                    let ended = row
                        .last_bridge_end
                        .filter(|t| (answered..=at).contains(t))
                        .unwrap_or(at);
                    self.end_segment(&call, agent, ended, out);
                }
                _ if !offered => {
                    if let Some(leg) = self.legs.get_mut(&call) {
                        leg.ringing.retain(|a| a != agent);
                    }
                    self.release(agent, &call, at, out);
                }
                _ => {}
            }
        }
        let Some(memory) = self.agents.get_mut(agent) else {
            return;
        };
        match row.state {
            Some("Idle") if memory.acw.is_none() => match memory.last_call.take() {
                Some(call) => memory.acw = Some(call),
                None => memory.idle = true,
            },
            Some("Waiting") => {
                memory.idle = false;
                end_after_call_work(memory, at, out);
            }
            _ => {}
        }
        if let Some(status) = row.status {
            memory.status = status;
            if status == Status::OnBreak {
                end_after_call_work(memory, at, out);
            }
        }
        self.settle(agent, at, out);
    }

    /// Brings waiting calls to the switch's `queue list members` table, read at `at`: a call
    /// believed waiting that the switch no longer lists as `Waiting` or `Trying` left while
    /// the link was down, how is unknown, and is counted as timed out at `at`; a listed call
    /// the mapper does not know enters its queue at its `joined_epoch`.
    pub fn resync_members(&mut self, members: &ApiTable, at: Millis) -> Vec<Event> {
        let mut out = Out::new();
        let waiting: Vec<(&str, &str, Option<Millis>, Option<&str>)> = members
            .rows()
            .filter(|r| matches!(r.get("state"), Some("Waiting" | "Trying")))
            .filter_map(|r| {
                let call = r.get("session_uuid").filter(|c| c.len() <= MAX_FIELD_LEN)?;
                let queue = r.get("queue").filter(|q| q.len() <= MAX_FIELD_LEN)?;
                Some((
                    call,
                    queue,
                    seconds(r.get("joined_epoch")),
                    r.get("cid_number"),
                ))
            })
            .collect();
        let listed: HashSet<&str> = waiting.iter().map(|(c, ..)| *c).collect();
        let mut gone: Vec<(String, Option<Millis>)> = self
            .legs
            .iter()
            .filter(|(id, _)| !listed.contains(id.as_str()))
            .map(|(id, leg)| (id.clone(), leg.entered.map(|e| at - e)))
            .collect();
        gone.sort();
        for (call, wait_ms) in gone {
            self.close_unanswered(&call, false, at, wait_ms, &mut out);
        }
        for (call, queue, joined, cid) in waiting {
            if self.legs.contains_key(call) || self.segments.contains_key(call) {
                continue;
            }
            let entered = joined.filter(|j| *j <= at).unwrap_or(at);
            let caller = cid
                .filter(|c| c.len() <= MAX_FIELD_LEN)
                .map(crate::caller::CallerNumber::from);
            self.open_leg(call, queue, entered, caller, &mut out);
        }
        self.emit(out)
    }
}
