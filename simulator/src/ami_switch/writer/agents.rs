//! The agents' side of the switch: queue membership at sign-in and sign-out, pauses for
//! not-ready time and after-call work, and each member's device status.

use std::collections::BTreeSet;

use floorwatch_core::{AgentState, Millis, NotReadyReason};

use super::messages::{event, pause_text};
use super::output::{ACW_PAUSE, AfterCallWork, EventClass, SwitchEvent};
use super::state::AmiWriter;
use crate::ami_switch::floor::{DeviceStatus, Member, MemberSpelling, member_fields};

impl AmiWriter {
    pub(super) fn login(&mut self, agent: &str, ts: Millis, out: &mut Vec<SwitchEvent>) {
        if self.floor.members.contains_key(agent) {
            return;
        }
        let queues: BTreeSet<String> = self
            .memberships
            .get(agent)
            .map(|q| q.iter().cloned().collect())
            .unwrap_or_default();
        self.floor.members.insert(
            agent.to_string(),
            Member {
                name: agent.to_string(),
                interface: format!("PJSIP/{agent}"),
                queues,
                paused: None,
                status: DeviceStatus::NotInUse,
                in_call: false,
                calls_taken: 0,
                last_call_s: 0,
                last_pause_s: 0,
                login_s: ts.div_euclid(1000),
            },
        );
        self.member_events("QueueMemberAdded", agent, out);
    }

    pub(super) fn logout(&mut self, agent: &str, out: &mut Vec<SwitchEvent>) {
        self.member_events("QueueMemberRemoved", agent, out);
        self.floor.members.remove(agent);
    }

    /// Pauses and unpauses: the only agent states AMI carries on their own (ringing, talking
    /// and holding follow from the call events).
    pub(super) fn agent_state(
        &mut self,
        agent: &str,
        state: AgentState,
        reason: Option<NotReadyReason>,
        ts: Millis,
        out: &mut Vec<SwitchEvent>,
    ) {
        let rang_out = self.rang_out.remove(agent);
        let wanted = match (state, self.after_call_work) {
            (AgentState::NotReady, _) => Some(pause_text(reason, rang_out).to_string()),
            (AgentState::AfterCallWork, AfterCallWork::Pause) => Some(ACW_PAUSE.to_string()),
            // The switch's wrap-up time stands for it; nothing is said.
            (AgentState::AfterCallWork, AfterCallWork::WrapUp) => return,
            (
                AgentState::Available | AgentState::Ringing | AgentState::OnCall | AgentState::Hold,
                _,
            ) => None,
        };
        let Some(member) = self.floor.members.get_mut(agent) else {
            return;
        };
        if member.paused == wanted {
            return;
        }
        if wanted.is_some() {
            member.last_pause_s = ts.div_euclid(1000);
        }
        member.paused = wanted;
        self.member_events("QueueMemberPause", agent, out);
    }

    /// The member's device status changed: one QueueMemberStatus per queue, as Asterisk sends.
    pub(super) fn device(&mut self, agent: &str, status: DeviceStatus, out: &mut Vec<SwitchEvent>) {
        if let Some(member) = self.floor.members.get_mut(agent) {
            member.status = status;
            self.member_events("QueueMemberStatus", agent, out);
        }
    }

    /// `name` for each queue of the member (QueueMemberAdded, Removed, Pause, Status).
    pub(super) fn member_events(&self, name: &str, agent: &str, out: &mut Vec<SwitchEvent>) {
        let Some(member) = self.floor.members.get(agent) else {
            return;
        };
        for queue in member
            .queues
            .iter()
            .filter_map(|q| self.floor.queues.get(q))
        {
            out.push(SwitchEvent {
                class: EventClass::Agent,
                message: member_fields(event(name), queue, member, MemberSpelling::Event),
            });
        }
    }
}
