//! One agent as the mapper follows them: logged in or not, paused, the queue call holding them,
//! and the after-call work inferred for the last call (docs/CTI.md, "After-call work").
//!
//! Every change goes through [`Agent::set_state`], which emits `agent_state` only when the state
//! or reason actually changes: Asterisk repeats a member's status once per queue.

use super::out::Out;
use crate::event::{AgentState, EventKind, Millis, NotReadyReason};
use crate::queue_log::pause_reason;

#[derive(Debug, Clone, Default)]
pub(super) struct Agent {
    /// Queues the agent is a member of.
    pub queues: std::collections::BTreeSet<String>,
    /// Logged in through app_agent_pool (AgentLogin), memberships aside.
    pub session: bool,
    pub pause: Option<Pause>,
    /// The state last emitted; `None` while logged out.
    pub state: Option<(AgentState, Option<NotReadyReason>)>,
    /// The queue call ringing at or connected to the agent.
    pub call: Option<String>,
    pub acw: Option<AfterCallWork>,
    /// The last call ended without after-call work yet: a wrap-up pause right after it is its
    /// after-call work.
    pub last_call: Option<String>,
    /// The member's own wrap-up time (`Wrapuptime:`, Asterisk 16+), which overrides the queue's.
    pub wrap_up_s: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Pause {
    pub reason: NotReadyReason,
    /// The pause reason reads as wrap-up: the pause is after-call work.
    pub wrap_up: bool,
}

#[derive(Debug, Clone)]
pub(super) struct AfterCallWork {
    pub call: String,
    /// When the wrap-up time runs out; `None` while a wrap-up pause holds it.
    pub until: Option<Millis>,
}

/// Whether a pause reason says the agent is wrapping up the last call.
pub(super) fn is_wrap_up(text: &str) -> bool {
    let lower = text.to_lowercase();
    ["acw", "wrap", "after call", "after-call", "话后", "整理"]
        .iter()
        .any(|w| lower.contains(w))
}

impl Agent {
    pub(super) fn login(&mut self, name: &str, ts: Millis, out: &mut Out) {
        if self.state.is_none() {
            out.push((
                ts,
                EventKind::AgentLogin {
                    agent: name.to_string(),
                    team: None,
                },
            ));
            self.state = Some((AgentState::Available, None));
        }
    }

    pub(super) fn logout(&mut self, name: &str, ts: Millis, out: &mut Out) {
        self.end_after_call_work(ts, out);
        if self.state.is_some() {
            out.push((
                ts,
                EventKind::AgentLogout {
                    agent: name.to_string(),
                },
            ));
        }
        *self = Agent {
            wrap_up_s: self.wrap_up_s,
            ..Agent::default()
        };
    }

    pub(super) fn set_state(
        &mut self,
        name: &str,
        ts: Millis,
        state: AgentState,
        reason: Option<NotReadyReason>,
        out: &mut Out,
    ) {
        if self.state != Some((state, reason)) {
            self.state = Some((state, reason));
            out.push((
                ts,
                EventKind::AgentState {
                    agent: name.to_string(),
                    state,
                    reason,
                },
            ));
        }
    }

    /// The state the agent is in when no call holds them: after-call work, else not ready if
    /// paused, else available.
    pub(super) fn settle(&mut self, name: &str, ts: Millis, out: &mut Out) {
        if self.call.is_some() || self.state.is_none() {
            return;
        }
        if self.acw.is_some() {
            self.set_state(name, ts, AgentState::AfterCallWork, None, out);
            return;
        }
        match self.pause {
            Some(pause) => self.set_state(name, ts, AgentState::NotReady, Some(pause.reason), out),
            None => self.set_state(name, ts, AgentState::Available, None, out),
        }
    }

    pub(super) fn end_after_call_work(&mut self, ts: Millis, out: &mut Out) {
        if let Some(acw) = self.acw.take() {
            out.push((ts, EventKind::CallAfterCallWorkEnded { call: acw.call }));
        }
    }

    /// The switch offers the agent a call or connects one: whatever wrap-up was running is over.
    pub(super) fn take_call(&mut self, call: &str, ts: Millis, out: &mut Out) {
        self.end_after_call_work(ts, out);
        self.last_call = None;
        self.call = Some(call.to_string());
    }

    /// `call` no longer rings at or talks to the agent.
    pub(super) fn release(&mut self, name: &str, call: &str, ts: Millis, out: &mut Out) {
        if self.call.as_deref() == Some(call) {
            self.call = None;
            self.settle(name, ts, out);
        }
    }

    /// Paused with a free-text reason. During a call it applies when the call ends; a wrap-up
    /// reason turns the pause into the last call's after-call work.
    pub(super) fn pause(&mut self, name: &str, text: &str, ts: Millis, out: &mut Out) {
        let pause = if text.trim().is_empty() && self.pause.is_some() {
            self.pause
        } else {
            Some(Pause {
                reason: pause_reason(text),
                wrap_up: is_wrap_up(text),
            })
        };
        self.pause = pause;
        if self.call.is_some() {
            return;
        }
        let wrap_up = pause.is_some_and(|p| p.wrap_up);
        match (&mut self.acw, wrap_up) {
            (Some(acw), true) => acw.until = None,
            (Some(_), false) => self.end_after_call_work(ts, out),
            (None, true) => {
                if let Some(call) = self.last_call.take() {
                    self.acw = Some(AfterCallWork { call, until: None });
                }
            }
            (None, false) => {}
        }
        self.settle(name, ts, out);
    }

    /// [`Agent::pause`] unless already paused for the same reason: a member's status repeats
    /// once per queue, and an empty reason means "still paused".
    pub(super) fn pause_if_changed(&mut self, name: &str, text: &str, ts: Millis, out: &mut Out) {
        let same = self.pause.is_some_and(|p| {
            text.trim().is_empty()
                || (p.reason == pause_reason(text) && p.wrap_up == is_wrap_up(text))
        });
        if !same {
            self.pause(name, text, ts, out);
        }
    }

    pub(super) fn unpause(&mut self, name: &str, ts: Millis, out: &mut Out) {
        if self.pause.take().is_none() || self.call.is_some() {
            return;
        }
        if self.acw.as_ref().is_some_and(|acw| acw.until.is_none()) {
            self.end_after_call_work(ts, out);
        }
        self.settle(name, ts, out);
    }

    /// The agent's part of `call` ended at `ts`: after-call work if a wrap-up pause or wrap-up
    /// time says so, else ready (or not ready, if paused during the call).
    pub(super) fn after_call(
        &mut self,
        name: &str,
        call: &str,
        ts: Millis,
        queue_wrap_up_s: u32,
        out: &mut Out,
    ) {
        if self.call.as_deref() == Some(call) || self.call.is_none() {
            self.call = None;
        }
        self.last_call = None;
        match self.pause {
            Some(pause) if pause.wrap_up => {
                self.acw = Some(AfterCallWork {
                    call: call.to_string(),
                    until: None,
                });
            }
            Some(_) => {}
            None => {
                let wrap_up_s = self.wrap_up_s.filter(|w| *w > 0).unwrap_or(queue_wrap_up_s);
                if wrap_up_s > 0 {
                    self.acw = Some(AfterCallWork {
                        call: call.to_string(),
                        until: Some(ts + i64::from(wrap_up_s) * crate::time::SECOND_MS),
                    });
                } else {
                    self.last_call = Some(call.to_string());
                }
            }
        }
        self.settle(name, ts, out);
    }

    /// Ends after-call work whose wrap-up time ran out by `now`, at the time it ran out.
    pub(super) fn expire(&mut self, name: &str, now: Millis, out: &mut Out) {
        if let Some(until) = self.acw.as_ref().and_then(|a| a.until)
            && until <= now
        {
            self.end_after_call_work(until, out);
            self.settle(name, until, out);
        }
    }
}
