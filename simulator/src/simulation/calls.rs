//! Calls: arrivals, queueing (first come, first served, by queue priority), offering to the
//! longest-idle agent, ringing, answering, talk and after-call work, transfers and overflow.

use std::cmp::Reverse;

use floorwatch_core::{AgentState, Direction, Millis, NotReadyReason};
use rand::RngExt;
use rand_distr::{Distribution, Exp1};

use super::agenda::Action;
use super::state::{Activity, CallFloor, CallPhase, RingOutcome, Simulation};
use crate::model::MINUTE_MS;
use crate::record::{RawKind, TransferTo};

/// A call may move between queues (overflow, transfer) at most this many times; it keeps two
/// queues that overflow into each other while both are empty from passing a call back and forth
/// forever.
const MAX_LEGS: u32 = 4;

impl Simulation {
    /// The next arrival of a queue's non-homogeneous Poisson process: exponential gaps at
    /// each minute's rate; a gap that runs past the minute's end restarts at the next minute
    /// with its rate, which is exact because the exponential has no memory.
    pub(super) fn next_arrival(&mut self, queue: usize) -> Option<Millis> {
        let per_minute = &self.day.queues[queue].per_minute;
        let clock = &mut self.arrivals[queue];
        let minute_ms = MINUTE_MS as f64;
        while clock.minute < per_minute.len() {
            let minute_end = (clock.minute + 1) as f64 * minute_ms;
            let rate = per_minute[clock.minute] / minute_ms;
            if rate > 0.0 {
                let gap: f64 = Exp1.sample(&mut self.rng);
                let at = clock.at + gap / rate;
                if at < minute_end {
                    clock.at = at;
                    return Some(self.day.day_start + at as Millis);
                }
            }
            clock.at = minute_end;
            clock.minute += 1;
        }
        None
    }

    pub(super) fn arrival(&mut self, queue: usize) {
        if let Some(at) = self.next_arrival(queue) {
            self.schedule(at, Action::Arrival { queue });
        }
        let q = &self.day.queues[queue];
        let (test_share, ivr_share, direction) = (q.test_share, q.ivr_share, q.direction);
        let ivr = q.ivr;
        let call = self.calls.len();
        let test = self.rng.random_bool(test_share);
        let caller = 13_000_000_000 + self.rng.random_range(0..1_000_000_000u64);
        self.calls.push(CallFloor {
            queue,
            leg: 0,
            phase: CallPhase::Ivr,
            entered_at: self.clock,
            order: self.clock,
            answered_at: 0,
            test,
            hidden: false,
            transferred: false,
            dropped: false,
            caller,
            direction,
            ring: RingOutcome::Answer,
        });
        if direction == Direction::Inbound && self.rng.random_bool(ivr_share) {
            let done = self.clock + ivr.ms(&mut self.rng);
            self.schedule(done, Action::IvrDone { call });
        } else {
            self.enter_queue(call, queue);
        }
    }

    pub(super) fn enter_queue(&mut self, call: usize, queue: usize) {
        let now = self.clock;
        let c = &mut self.calls[call];
        c.queue = queue;
        c.leg += 1;
        c.entered_at = now;
        c.order = now;
        c.phase = CallPhase::Waiting;
        c.hidden = false;
        let (leg, caller, direction) = (c.leg, c.caller, c.direction);
        self.record_call(
            call,
            RawKind::Entered {
                call,
                queue,
                caller,
                direction,
            },
        );
        if self.queues[queue].signed_in == 0 {
            self.time_out(call);
            return;
        }
        let q = &self.day.queues[queue];
        let (patience, timeout) = (q.patience, q.timeout_ms);
        if let Some(patience) = patience {
            let at = now + patience.ms(&mut self.rng);
            self.schedule(at, Action::Abandon { call, leg });
        }
        if let Some(timeout) = timeout {
            self.schedule(now + timeout, Action::TimeOut { call, leg });
        }
        self.queues[queue].waiting.insert((now, call));
        self.serve_call(call);
    }

    /// Whether the call is still in the queue leg `leg` (waiting or ringing).
    pub(super) fn in_queue(&self, call: usize, leg: u32) -> bool {
        let c = &self.calls[call];
        c.leg == leg && matches!(c.phase, CallPhase::Waiting | CallPhase::Ringing { .. })
    }

    /// Takes a waiting or ringing call out of its queue; returns the agent it was ringing at.
    pub(super) fn leave_queue(&mut self, call: usize) -> Option<usize> {
        let c = &self.calls[call];
        match c.phase {
            CallPhase::Waiting => {
                self.queues[c.queue].waiting.remove(&(c.order, call));
                None
            }
            CallPhase::Ringing { agent } => Some(agent),
            _ => None,
        }
    }

    pub(super) fn wait_of(&self, call: usize) -> (usize, Millis) {
        let c = &self.calls[call];
        (c.queue, self.clock - c.entered_at)
    }

    /// The call leaves its queue by the switch's rule (time-out, or no agent signed in) and
    /// overflows to the next queue if one is set.
    pub(super) fn time_out(&mut self, call: usize) {
        let agent = self.leave_queue(call);
        let (queue, wait_ms) = self.wait_of(call);
        let overflow_to = self.day.queues[queue]
            .overflow_to
            .filter(|_| self.calls[call].leg < MAX_LEGS);
        self.record_call(
            call,
            RawKind::TimedOut {
                call,
                queue,
                wait_ms,
                overflow_to,
            },
        );
        self.calls[call].phase = CallPhase::Done;
        if let Some(agent) = agent {
            self.free(agent);
        }
        if let Some(next) = overflow_to {
            self.enter_queue(call, next);
        }
    }

    /// Offers a waiting call to the longest-idle available agent with its skill.
    pub(super) fn serve_call(&mut self, call: usize) {
        let queue = self.calls[call].queue;
        if let Some(&(_, agent)) = self.queues[queue].available.first() {
            self.offer(call, agent);
        }
    }

    /// Gives a just-available agent the best waiting call of their queues: higher queue
    /// priority first, then the longest waiting.
    pub(super) fn serve_agent(&mut self, agent: usize) {
        let best = self.day.agents[agent]
            .skills
            .iter()
            .filter_map(|&q| {
                self.queues[q]
                    .waiting
                    .first()
                    .map(|&(order, call)| (Reverse(self.day.queues[q].priority), order, call))
            })
            .min();
        if let Some((_, _, call)) = best {
            self.offer(call, agent);
        }
    }

    pub(super) fn offer(&mut self, call: usize, agent: usize) {
        let (queue, order, direction) = {
            let c = &self.calls[call];
            (c.queue, c.order, c.direction)
        };
        self.queues[queue].waiting.remove(&(order, call));
        self.leave_available(agent);
        let a = &mut self.agents[agent];
        a.activity = Activity::Ringing { call };
        a.turn += 1;
        let turn = a.turn;
        let q = &self.day.queues[queue];
        let habits = &self.day.habits;
        let (outcome, ring_ms) = if direction == Direction::Outbound {
            let (answer_share, ring, no_answer) = (q.answer_share, q.customer_ring, q.no_answer_ms);
            if self.rng.random_bool(answer_share) {
                (RingOutcome::Answer, ring.ms(&mut self.rng).min(no_answer))
            } else {
                (RingOutcome::NoAnswer, no_answer)
            }
        } else {
            let (rna_share, ring, timeout) = (
                habits.ring_no_answer_share,
                habits.ring,
                habits.ring_timeout_ms,
            );
            if self.rng.random_bool(rna_share) {
                (RingOutcome::RingNoAnswer, timeout)
            } else {
                (RingOutcome::Answer, ring.ms(&mut self.rng).min(timeout))
            }
        };
        let c = &mut self.calls[call];
        c.phase = CallPhase::Ringing { agent };
        c.ring = outcome;
        self.record_call(call, RawKind::Offered { call, agent });
        self.record_state(agent, AgentState::Ringing, None);
        self.schedule(self.clock + ring_ms, Action::RingEnd { agent, turn });
    }

    pub(super) fn ring_end(&mut self, agent: usize, call: usize) {
        match self.calls[call].ring {
            RingOutcome::Answer => self.answer(agent, call),
            RingOutcome::RingNoAnswer => {
                self.record_call(call, RawKind::RingNoAnswer { call, agent });
                let c = &mut self.calls[call];
                c.phase = CallPhase::Waiting;
                self.queues[c.queue].waiting.insert((c.order, call));
                if self.agents[agent].leaving {
                    self.sign_out(agent);
                } else {
                    // The switch pauses an agent who let a call ring out (autopause).
                    let pause = self.day.habits.auto_pause.ms(&mut self.rng);
                    self.start_not_ready(agent, NotReadyReason::Other, pause);
                }
                self.serve_call(call);
            }
            RingOutcome::NoAnswer => {
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
                self.calls[call].phase = CallPhase::Done;
                self.free(agent);
            }
        }
    }

    pub(super) fn answer(&mut self, agent: usize, call: usize) {
        let now = self.clock;
        let (queue, wait_ms) = self.wait_of(call);
        let c = &mut self.calls[call];
        c.phase = CallPhase::Talking { agent };
        c.answered_at = now;
        self.agents[agent].activity = Activity::Talking { call, held: false };
        let turn = self.agents[agent].turn;
        self.record_call(
            call,
            RawKind::Answered {
                call,
                agent,
                queue,
                wait_ms,
            },
        );
        self.record_state(agent, AgentState::OnCall, None);

        let dropped_share = self.day.dropped_share(now);
        let dropped = dropped_share > 0.0 && self.rng.random_bool(dropped_share);
        self.calls[call].dropped = dropped;
        let q = &self.day.queues[queue];
        let (talk, hold_share, hold) = (q.talk, q.hold_share, q.hold);
        let talk_ms = if dropped {
            self.rng.random_range(2_000..=15_000)
        } else {
            talk.ms(&mut self.rng)
        };
        let mut hold_ms = 0;
        if !dropped && self.rng.random_bool(hold_share) {
            let hold_at = now + (talk_ms as f64 * self.rng.random_range(0.2..0.7)) as Millis;
            hold_ms = hold.ms(&mut self.rng);
            self.schedule(hold_at, Action::HoldStart { agent, turn });
            self.schedule(hold_at + hold_ms, Action::HoldEnd { agent, turn });
        }
        self.schedule(now + talk_ms + hold_ms, Action::TalkEnd { agent, turn });
    }

    pub(super) fn talk_end(&mut self, agent: usize, call: usize) {
        let c = &self.calls[call];
        let (queue, talk_ms, dropped) = (c.queue, self.clock - c.answered_at, c.dropped);
        let q = &self.day.queues[queue];
        let (transfer_share, acw_share, acw) = (q.transfer_share, q.acw_share, q.acw);
        let transfer =
            !dropped && !c.transferred && c.leg < MAX_LEGS && self.rng.random_bool(transfer_share);
        let mut next_queue = None;
        if transfer {
            let targets = &self.day.queues[queue].transfer_to;
            let to = if targets.is_empty() {
                TransferTo::External(4_000_000_000 + self.rng.random_range(0..1_000_000u64))
            } else {
                let pick = targets[self.rng.random_range(0..targets.len())];
                next_queue = Some(pick);
                TransferTo::Queue(pick)
            };
            self.record_call(
                call,
                RawKind::Transferred {
                    call,
                    queue,
                    agent,
                    talk_ms,
                    to,
                },
            );
            self.calls[call].transferred = true;
        } else {
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
        self.calls[call].phase = CallPhase::Done;
        // No after-call work after a transfer to a queue: the call is someone else's now, and
        // a later `call_after_call_work_ended` of it would be ambiguous.
        if !dropped && next_queue.is_none() && self.rng.random_bool(acw_share) {
            let a = &mut self.agents[agent];
            a.activity = Activity::AfterCallWork { call };
            a.turn += 1;
            let turn = a.turn;
            self.record_state(agent, AgentState::AfterCallWork, None);
            let done = self.clock + acw.ms(&mut self.rng);
            self.schedule(done, Action::AfterCallWorkEnd { agent, turn });
        } else {
            self.free(agent);
        }
        if let Some(next) = next_queue {
            self.enter_queue(call, next);
        }
    }
}
