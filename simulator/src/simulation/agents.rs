//! Agents: each agent's shift planned at the start (sign-in, breaks, not-ready time, the
//! sign-out), and the changes of state as they sign in, take calls and go not ready.

use floorwatch_core::{AgentState, Millis, NotReadyReason};
use rand::RngExt;
use rand_distr::{Distribution, Exp1};

use super::agenda::Action;
use super::state::{Activity, Simulation};
use crate::distribution::{DurationSpec, normal_ms};
use crate::model::{MINUTE_MS, NOT_READY_MIX, minutes_ms};
use crate::record::RawKind;
use crate::scenario::BreakPolicy;

impl Simulation {
    /// Draws an agent's day: when they sign in and out, their breaks and meal, their other
    /// not-ready spells.
    pub(super) fn plan_agent(&mut self, agent: usize) {
        let model = &self.day.agents[agent];
        let (shift_start, shift_end) = (model.shift_start, model.shift_end);
        if shift_end <= shift_start {
            return;
        }
        let habits = self.day.habits.clone();
        let mut sign_in =
            shift_start + normal_ms(&mut self.rng, habits.sign_in_mean_s, habits.sign_in_sd_s);
        if self.rng.random_bool(habits.late_share) {
            sign_in = shift_start + self.rng.random_range(3 * MINUTE_MS..=15 * MINUTE_MS);
        }
        let mut end = shift_end;
        if self.rng.random_bool(habits.early_logout_share) {
            end -= self.rng.random_range(5 * MINUTE_MS..=20 * MINUTE_MS);
        }
        let sign_in = sign_in.max(self.day.day_start);
        if sign_in >= end {
            return;
        }
        if self.rng.random_bool(habits.login_not_ready_share) {
            self.agents[agent].settle = Some(self.rng.random_range(MINUTE_MS..=3 * MINUTE_MS));
        }
        self.agents[agent].shift_end = end;
        self.schedule(sign_in, Action::SignIn { agent });
        self.schedule(end, Action::ShiftEnd { agent });

        let breaks = self.day.breaks.clone();
        let stagger = minutes_ms(breaks.stagger_minutes);
        for (offset, reason, planned) in break_plan(&breaks, shift_end - shift_start) {
            let shift = if stagger > 0 {
                self.rng.random_range(-stagger..=stagger)
            } else {
                0
            };
            // Agents who keep to their allowance are back on time or a little early (85 to
            // 100 % of it); only the `overrun_share` overrun it, by minutes. A break drawn a few
            // seconds past the allowance would be an overrun alert nobody would act on.
            let mut length = (planned as f64 * self.rng.random_range(0.85..1.0)) as Millis;
            if self.rng.random_bool(breaks.overrun_share) {
                length = planned + self.rng.random_range(3 * MINUTE_MS..=12 * MINUTE_MS);
            }
            let at = shift_start + offset + shift;
            if at > sign_in && at < end {
                self.schedule(
                    at,
                    Action::NotReadyDue {
                        agent,
                        reason,
                        length,
                    },
                );
            }
        }

        if habits.not_ready_per_hour > 0.0 {
            let mean_gap_ms = floorwatch_core::time::HOUR_MS as f64 / habits.not_ready_per_hour;
            let mut t = sign_in as f64;
            loop {
                let gap: f64 = Exp1.sample(&mut self.rng);
                t += gap * mean_gap_ms;
                if t >= end as f64 {
                    break;
                }
                let (reason, mean_minutes) = pick_not_ready(self.rng.random_range(0.0..1.0));
                let length = DurationSpec::log_normal(mean_minutes * 60.0, 0.5)
                    .sampler()
                    .ms(&mut self.rng);
                self.schedule(
                    t as Millis,
                    Action::NotReadyDue {
                        agent,
                        reason,
                        length,
                    },
                );
            }
        }
    }

    /// Whether an action scheduled at `turn` still applies to the agent.
    pub(super) fn current(&self, agent: usize, turn: u32) -> bool {
        self.agents[agent].turn == turn
    }

    /// Available or not ready: free to sign out at once.
    pub(super) fn is_idle(&self, agent: usize) -> bool {
        matches!(
            self.agents[agent].activity,
            Activity::Available | Activity::NotReady { .. }
        )
    }

    pub(super) fn sign_in(&mut self, agent: usize) {
        let a = &mut self.agents[agent];
        if a.activity != Activity::LoggedOut || self.clock >= a.shift_end {
            return;
        }
        a.leaving = false;
        let settle = a.settle.take();
        self.record(RawKind::Login { agent }, false);
        for &q in &self.day.agents[agent].skills {
            self.queues[q].signed_in += 1;
        }
        match settle {
            Some(length) => self.start_not_ready(agent, NotReadyReason::Other, length),
            None => {
                // Signing in makes the agent available; no state event needed.
                self.make_available(agent);
                self.serve_agent(agent);
            }
        }
    }

    pub(super) fn sign_out(&mut self, agent: usize) {
        self.leave_available(agent);
        let a = &mut self.agents[agent];
        a.activity = Activity::LoggedOut;
        a.turn += 1;
        a.pending.clear();
        a.leaving = false;
        self.record(RawKind::Logout { agent }, false);
        let mut emptied = Vec::new();
        for &q in &self.day.agents[agent].skills {
            let queue = &mut self.queues[q];
            queue.signed_in = queue.signed_in.saturating_sub(1);
            if queue.signed_in == 0 {
                emptied.push(q);
            }
        }
        for q in emptied {
            let waiting: Vec<usize> = self.queues[q].waiting.iter().map(|&(_, c)| c).collect();
            for call in waiting {
                self.time_out(call);
            }
        }
    }

    /// The agent is done with what they were doing: they sign out if leaving, take due
    /// not-ready time, or become available and get the next call.
    pub(super) fn free(&mut self, agent: usize) {
        if self.agents[agent].leaving {
            self.sign_out(agent);
        } else if let Some((reason, length)) = self.agents[agent].pending.pop_front() {
            self.start_not_ready(agent, reason, length);
        } else {
            self.make_available(agent);
            self.record_state(agent, AgentState::Available, None);
            self.serve_agent(agent);
        }
    }

    pub(super) fn make_available(&mut self, agent: usize) {
        let now = self.clock;
        let a = &mut self.agents[agent];
        a.activity = Activity::Available;
        a.turn += 1;
        a.idle_since = now;
        for &q in &self.day.agents[agent].skills {
            self.queues[q].available.insert((now, agent));
        }
    }

    pub(super) fn leave_available(&mut self, agent: usize) {
        let a = &self.agents[agent];
        if a.activity == Activity::Available {
            for &q in &self.day.agents[agent].skills {
                self.queues[q].available.remove(&(a.idle_since, agent));
            }
        }
    }

    pub(super) fn start_not_ready(&mut self, agent: usize, reason: NotReadyReason, length: Millis) {
        self.leave_available(agent);
        let a = &mut self.agents[agent];
        a.activity = Activity::NotReady { reason };
        a.turn += 1;
        let turn = a.turn;
        self.record_state(agent, AgentState::NotReady, Some(reason));
        self.schedule(self.clock + length, Action::NotReadyEnd { agent, turn });
    }

    pub(super) fn logout_wave(&mut self, wave: usize) {
        let wave = self.day.logout_waves[wave];
        for agent in 0..self.agents.len() {
            let a = &self.agents[agent];
            if a.activity == Activity::LoggedOut || a.leaving {
                continue;
            }
            if !self.rng.random_bool(wave.share) {
                continue;
            }
            self.agents[agent].leaving = true;
            if self.is_idle(agent) {
                self.sign_out(agent);
            }
            if let Some(back) = wave.back_after_ms {
                let at = self.clock + back + self.rng.random_range(0..2 * MINUTE_MS);
                self.schedule(at, Action::ComeBack { agent });
            }
        }
    }
}

/// The scheduled breaks of a shift `shift_ms` long, as (offset from shift start, reason,
/// length): a meal mid-shift if the shift is long enough, and a short break after every
/// `every_hours`, except near the meal or the end of the shift.
pub(super) fn break_plan(
    policy: &BreakPolicy,
    shift_ms: Millis,
) -> Vec<(Millis, NotReadyReason, Millis)> {
    let hour = 60 * MINUTE_MS;
    let mut plan = Vec::new();
    let meal_len = minutes_ms(policy.meal_minutes);
    let meal_at = (meal_len > 0 && shift_ms as f64 >= policy.meal_min_shift_hours * hour as f64)
        .then(|| shift_ms / 2 - meal_len / 2);
    if let Some(at) = meal_at {
        plan.push((at, NotReadyReason::Meal, meal_len));
    }
    let every = minutes_ms(policy.every_hours * 60.0);
    let break_len = minutes_ms(policy.break_minutes);
    if every > 0 && break_len > 0 {
        let mut at = every;
        while at + break_len <= shift_ms - 30 * MINUTE_MS {
            if meal_at.is_none_or(|m| (at - m).abs() >= hour) {
                plan.push((at, NotReadyReason::Break, break_len));
            }
            at += every;
        }
    }
    plan.sort_by_key(|&(at, _, _)| at);
    plan
}

/// An unscheduled not-ready reason and its mean length in minutes, from a uniform draw.
pub(super) fn pick_not_ready(u: f64) -> (NotReadyReason, f64) {
    let mut acc = 0.0;
    for (reason, share, minutes) in NOT_READY_MIX {
        acc += share;
        if u < acc {
            return (reason, minutes);
        }
    }
    (NotReadyReason::Other, NOT_READY_MIX[0].2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_eight_and_a_half_hour_shift_gets_two_breaks_and_a_meal() {
        let policy = BreakPolicy {
            break_minutes: 15.0,
            every_hours: 2.0,
            meal_minutes: 30.0,
            meal_min_shift_hours: 6.0,
            stagger_minutes: 0.0,
            overrun_share: 0.0,
        };
        let h = 60 * MINUTE_MS;
        let plan = break_plan(&policy, 8 * h + h / 2);
        let kinds: Vec<_> = plan.iter().map(|&(at, r, len)| (at, r, len)).collect();
        assert_eq!(
            kinds,
            vec![
                (2 * h, NotReadyReason::Break, 15 * MINUTE_MS),
                (4 * h, NotReadyReason::Meal, 30 * MINUTE_MS),
                (6 * h, NotReadyReason::Break, 15 * MINUTE_MS),
            ]
        );
        // A four-hour shift: one break, no meal.
        assert_eq!(break_plan(&policy, 4 * h).len(), 1);
    }

    #[test]
    fn the_not_ready_mix_covers_every_draw() {
        let total: f64 = NOT_READY_MIX.iter().map(|m| m.1).sum();
        assert!((total - 1.0).abs() < 1e-9);
        assert_eq!(pick_not_ready(0.0).0, NotReadyReason::Other);
        assert_eq!(pick_not_ready(0.999).0, NotReadyReason::Training);
    }
}
