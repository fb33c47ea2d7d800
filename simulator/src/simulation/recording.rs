//! Recording: what a switch would report, written through the recorder (hidden calls and
//! the span before a mid-day start left out), the floor's snapshot at a mid-day start, and
//! the close of the day.

use floorwatch_core::{AgentState, NotReadyReason};

use super::state::{Activity, CallPhase, Simulation};
use crate::record::{Raw, RawKind};

impl Simulation {
    /// Closes the books a millisecond before midnight, so a recorded day is exactly one centre
    /// day (docs/METRICS.md, "today"): calls still waiting leave their queue, calls still
    /// talked end, after-call work ends, everyone signs out, and nothing happens after. A
    /// 24-hour centre's next day starts afresh with [`Simulation::new`] of the next date.
    pub(super) fn close_day(&mut self) {
        for call in 0..self.calls.len() {
            match self.calls[call].phase {
                CallPhase::Ivr => {
                    let queue = self.calls[call].queue;
                    self.record_call(call, RawKind::IvrCompleted { call, queue });
                }
                CallPhase::Waiting | CallPhase::Ringing { .. } => {
                    self.leave_queue(call);
                    let (queue, wait_ms) = self.wait_of(call);
                    self.record_call(
                        call,
                        RawKind::TimedOut {
                            call,
                            queue,
                            wait_ms,
                            overflow_to: None,
                        },
                    );
                }
                CallPhase::Talking { agent } => {
                    if let Activity::Talking { held: true, .. } = self.agents[agent].activity {
                        self.record_call(call, RawKind::HoldEnded { call });
                        self.record_state(agent, AgentState::OnCall, None);
                    }
                    let c = &self.calls[call];
                    let (queue, talk_ms) = (c.queue, self.clock - c.answered_at);
                    self.record_call(
                        call,
                        RawKind::Ended {
                            call,
                            queue,
                            agent,
                            talk_ms,
                        },
                    );
                }
                CallPhase::Done => {}
            }
            self.calls[call].phase = CallPhase::Done;
        }
        for agent in 0..self.agents.len() {
            if let Activity::AfterCallWork { call } = self.agents[agent].activity {
                self.record_call(call, RawKind::AfterCallWorkEnded { call });
            }
            if self.agents[agent].activity != Activity::LoggedOut {
                self.sign_out(agent);
            }
        }
        self.agenda.clear();
    }

    pub(super) fn record(&mut self, kind: RawKind, test: bool) {
        if self.clock < self.visible_from || self.day.is_silent(self.clock) {
            return;
        }
        self.recorded.push_back(Raw {
            ts: self.clock,
            test,
            kind,
        });
    }

    /// Records an event of a call, flagged when it is a test call, unless the call is hidden.
    pub(super) fn record_call(&mut self, call: usize, kind: RawKind) {
        let c = &self.calls[call];
        if !c.hidden {
            let test = c.test;
            self.record(kind, test);
        }
    }

    pub(super) fn record_state(
        &mut self,
        agent: usize,
        state: AgentState,
        reason: Option<NotReadyReason>,
    ) {
        self.record(
            RawKind::State {
                agent,
                state,
                reason,
            },
            false,
        );
    }

    /// Records the floor as it stands at `visible_from`, for a start mid-day.
    pub(super) fn snapshot(&mut self) {
        self.snapshot_due = false;
        self.clock = self.clock.max(self.visible_from);
        for agent in 0..self.agents.len() {
            if self.agents[agent].activity != Activity::LoggedOut {
                self.record(RawKind::Login { agent }, false);
            }
        }
        for call in 0..self.calls.len() {
            let phase = self.calls[call].phase;
            match phase {
                CallPhase::Waiting | CallPhase::Ringing { .. } => {
                    let c = &mut self.calls[call];
                    c.entered_at = self.clock;
                    let (queue, caller, direction) = (c.queue, c.caller, c.direction);
                    self.record_call(
                        call,
                        RawKind::Entered {
                            call,
                            queue,
                            caller,
                            direction,
                        },
                    );
                    if let CallPhase::Ringing { agent } = phase {
                        self.record_call(call, RawKind::Offered { call, agent });
                    }
                }
                CallPhase::Talking { .. } => self.calls[call].hidden = true,
                CallPhase::Ivr | CallPhase::Done => {}
            }
        }
        for agent in 0..self.agents.len() {
            let (state, reason) = match self.agents[agent].activity {
                Activity::LoggedOut | Activity::Available => continue,
                Activity::Ringing { .. } => (AgentState::Ringing, None),
                Activity::Talking { held: false, .. } => (AgentState::OnCall, None),
                Activity::Talking { held: true, .. } => (AgentState::Hold, None),
                Activity::AfterCallWork { call } => {
                    self.calls[call].hidden = true;
                    (AgentState::AfterCallWork, None)
                }
                Activity::NotReady { reason } => (AgentState::NotReady, Some(reason)),
            };
            self.record_state(agent, state, reason);
        }
    }
}
