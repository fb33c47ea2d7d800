//! A scenario laid out on one date: every local time turned into a UTC instant, every queue's
//! curve turned into expected calls per minute, every name into an index. The simulation runs
//! on this, never on the TOML types.

use floorwatch_core::{CentreCalendar, Direction, Millis, NotReadyReason};
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::clock::ClockTime;
use crate::distribution::Sampler;
use crate::scenario::{BreakPolicy, IncidentSpec, Scenario, agent_id, team_id};

pub(crate) use floorwatch_core::time::MINUTE_MS;

/// One queue, ready to simulate.
#[derive(Debug, Clone)]
pub(crate) struct QueueModel {
    pub id: String,
    pub priority: u8,
    pub direction: Direction,
    /// Expected arrivals in each minute of the day, from the day's start.
    pub per_minute: Vec<f64>,
    pub talk: Sampler,
    pub hold_share: f64,
    pub hold: Sampler,
    pub acw_share: f64,
    pub acw: Sampler,
    pub patience: Option<Sampler>,
    pub timeout_ms: Option<Millis>,
    pub overflow_to: Option<usize>,
    pub ivr_share: f64,
    pub ivr: Sampler,
    pub transfer_share: f64,
    pub transfer_to: Vec<usize>,
    pub test_share: f64,
    pub answer_share: f64,
    pub customer_ring: Sampler,
    pub no_answer_ms: Millis,
}

/// One agent's fixed facts: who, which team, which queues, which shift.
#[derive(Debug, Clone)]
pub(crate) struct AgentModel {
    pub id: String,
    pub team: String,
    pub skills: Vec<usize>,
    pub shift_start: Millis,
    pub shift_end: Millis,
}

/// The agents' habits as samplers.
#[derive(Debug, Clone)]
pub(crate) struct Habits {
    pub sign_in_mean_s: f64,
    pub sign_in_sd_s: f64,
    pub late_share: f64,
    pub early_logout_share: f64,
    pub login_not_ready_share: f64,
    pub ring: Sampler,
    pub ring_no_answer_share: f64,
    pub ring_timeout_ms: Millis,
    pub auto_pause: Sampler,
    pub not_ready_per_hour: f64,
}

/// A logout wave, as instants.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogoutWave {
    pub at: Millis,
    pub share: f64,
    pub back_after_ms: Option<Millis>,
}

/// A span of dropped calls.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DroppedCalls {
    pub from: Millis,
    pub to: Millis,
    pub share: f64,
}

/// The scenario on one date.
#[derive(Debug, Clone)]
pub(crate) struct DayModel {
    pub date: Date,
    pub day_start: Millis,
    pub day_end: Millis,
    pub queues: Vec<QueueModel>,
    pub agents: Vec<AgentModel>,
    pub habits: Habits,
    pub breaks: BreakPolicy,
    pub logout_waves: Vec<LogoutWave>,
    pub silent: Vec<(Millis, Millis)>,
    pub dropped: Vec<DroppedCalls>,
}

/// Unscheduled not-ready reasons: how often each comes up and its mean length in minutes.
pub(crate) const NOT_READY_MIX: [(NotReadyReason, f64, f64); 5] = [
    (NotReadyReason::Other, 0.45, 3.0),
    (NotReadyReason::Outbound, 0.15, 6.0),
    (NotReadyReason::Coaching, 0.15, 12.0),
    (NotReadyReason::Meeting, 0.10, 25.0),
    (NotReadyReason::Training, 0.15, 40.0),
];

impl DayModel {
    pub(crate) fn new(scenario: &Scenario, date: Date) -> DayModel {
        let calendar: CentreCalendar = scenario.calendar();
        let tz = calendar.time_zone().clone();
        let at = |t: ClockTime| t.on(date, &tz);
        let day_start = at(ClockTime::MIDNIGHT);
        let day_end = at(ClockTime::END_OF_DAY);
        let minutes = ((day_end - day_start) / MINUTE_MS).max(0) as usize;
        let index_of = |id: &str| scenario.queues.iter().position(|q| q.id == id);

        let mut queues: Vec<QueueModel> = scenario
            .queues
            .iter()
            .map(|q| QueueModel {
                id: q.id.clone(),
                priority: q.priority,
                direction: q.direction,
                per_minute: spread(q.calls_per_day, &q.curve(), day_start, minutes, &calendar),
                talk: q.talk_s.sampler(),
                hold_share: q.hold_share,
                hold: q.hold_s.sampler(),
                acw_share: q.acw_share,
                acw: q.acw_s.sampler(),
                patience: q.patience_s.map(|p| p.sampler()),
                timeout_ms: q.timeout_s.map(seconds_ms),
                overflow_to: q.overflow_to.as_deref().and_then(index_of),
                ivr_share: q.ivr_share,
                ivr: q.ivr_s.sampler(),
                transfer_share: q.transfer_share,
                transfer_to: q.transfer_to.iter().filter_map(|t| index_of(t)).collect(),
                test_share: q.test_share,
                answer_share: q.answer_share,
                customer_ring: q.customer_ring_s.sampler(),
                no_answer_ms: seconds_ms(q.no_answer_s),
            })
            .collect();

        let mut logout_waves = Vec::new();
        let mut silent = Vec::new();
        let mut dropped = Vec::new();
        for incident in &scenario.incidents {
            match incident {
                IncidentSpec::CallPeak {
                    start,
                    minutes: length,
                    factor,
                    queues: hit,
                } => {
                    let from = at(*start);
                    let to = from + minutes_ms(*length);
                    for q in queues
                        .iter_mut()
                        .filter(|q| hit.is_empty() || hit.contains(&q.id))
                    {
                        for (m, expected) in q.per_minute.iter_mut().enumerate() {
                            let t = day_start + m as Millis * MINUTE_MS;
                            if t >= from && t < to {
                                *expected *= factor;
                            }
                        }
                    }
                }
                IncidentSpec::LogoutWave {
                    start,
                    share,
                    back_after_minutes,
                } => logout_waves.push(LogoutWave {
                    at: at(*start),
                    share: *share,
                    back_after_ms: back_after_minutes.map(minutes_ms),
                }),
                IncidentSpec::FeedSilent {
                    start,
                    minutes: length,
                } => {
                    let from = at(*start);
                    silent.push((from, from + minutes_ms(*length)));
                }
                IncidentSpec::DroppedCalls {
                    start,
                    minutes: length,
                    share,
                } => {
                    let from = at(*start);
                    dropped.push(DroppedCalls {
                        from,
                        to: from + minutes_ms(*length),
                        share: *share,
                    });
                }
            }
        }

        DayModel {
            date,
            day_start,
            day_end,
            agents: agents(scenario, date, &tz),
            queues,
            habits: habits(scenario),
            breaks: scenario.breaks.clone(),
            logout_waves,
            silent,
            dropped,
        }
    }

    pub(crate) fn is_silent(&self, t: Millis) -> bool {
        self.silent.iter().any(|&(from, to)| t >= from && t < to)
    }

    /// The share of calls answered at `t` that drop (the largest if spans overlap).
    pub(crate) fn dropped_share(&self, t: Millis) -> f64 {
        self.dropped
            .iter()
            .filter(|d| t >= d.from && t < d.to)
            .map(|d| d.share)
            .fold(0.0, f64::max)
    }
}

/// Spreads a day's calls over its minutes by the curve, read at each minute's middle on the
/// centre's local clock (a 23- or 25-hour DST day keeps the same total).
fn spread(
    calls: f64,
    curve: &crate::curve::Curve,
    day_start: Millis,
    minutes: usize,
    calendar: &CentreCalendar,
) -> Vec<f64> {
    let weights: Vec<f64> = (0..minutes)
        .map(|m| {
            let t = day_start + m as Millis * MINUTE_MS + MINUTE_MS / 2;
            let local_ms = (t + calendar.offset_ms(t)).rem_euclid(floorwatch_core::time::DAY_MS);
            curve.weight((local_ms / floorwatch_core::time::SECOND_MS) as u32)
        })
        .collect();
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return vec![0.0; minutes];
    }
    weights.iter().map(|w| calls * w / total).collect()
}

fn agents(scenario: &Scenario, date: Date, tz: &TimeZone) -> Vec<AgentModel> {
    let queue_index = |id: &str| scenario.queues.iter().position(|q| q.id == id);
    let mut out = Vec::new();
    for group in scenario.sites.iter().flat_map(|s| &s.groups) {
        let skills: Vec<usize> = group.skills.iter().filter_map(|s| queue_index(s)).collect();
        let shifts: Vec<(Millis, Millis)> = group
            .shifts
            .iter()
            .filter_map(|id| scenario.shifts.iter().find(|s| &s.id == id))
            .map(|s| (s.start.on(date, tz), s.end.on(date, tz)))
            .collect();
        let mut in_group = 0usize;
        for t in 0..group.teams {
            let team = team_id(&group.id, t);
            for _ in 0..group.agents_per_team {
                // Spread the group's agents over its shifts in turn, so every shift of every
                // group is staffed alike whatever the team sizes.
                let (shift_start, shift_end) = shifts
                    .get(in_group % shifts.len().max(1))
                    .copied()
                    .unwrap_or((0, 0));
                out.push(AgentModel {
                    id: agent_id(out.len()),
                    team: team.clone(),
                    skills: skills.clone(),
                    shift_start,
                    shift_end,
                });
                in_group += 1;
            }
        }
    }
    out
}

fn habits(scenario: &Scenario) -> Habits {
    let a = &scenario.agents;
    Habits {
        sign_in_mean_s: a.sign_in_offset_s.mean,
        sign_in_sd_s: a.sign_in_offset_s.sd,
        late_share: a.late_share,
        early_logout_share: a.early_logout_share,
        login_not_ready_share: a.login_not_ready_share,
        ring: a.ring_s.sampler(),
        ring_no_answer_share: a.ring_no_answer_share,
        ring_timeout_ms: seconds_ms(a.ring_timeout_s),
        auto_pause: a.auto_pause_s.sampler(),
        not_ready_per_hour: a.not_ready_per_hour,
    }
}

pub(crate) fn seconds_ms(s: f64) -> Millis {
    crate::distribution::seconds_to_ms(s)
}

pub(crate) fn minutes_ms(m: f64) -> Millis {
    (m * MINUTE_MS as f64).round() as Millis
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dst_day_keeps_its_calls() {
        let text = r#"
name = "ny"
shifts = []
sites = []
[centre]
timezone = "America/New_York"
[[queues]]
id = "q"
calls_per_day = 1000
"#;
        let s = Scenario::from_toml_str(text).unwrap();
        for (date, hours) in [
            (jiff::civil::date(2026, 3, 8), 23),
            (jiff::civil::date(2026, 11, 1), 25),
            (jiff::civil::date(2026, 6, 1), 24),
        ] {
            let day = DayModel::new(&s, date);
            assert_eq!(day.day_end - day.day_start, hours * 3_600_000);
            assert_eq!(day.queues[0].per_minute.len(), hours as usize * 60);
            let total: f64 = day.queues[0].per_minute.iter().sum();
            assert!((total - 1000.0).abs() < 1e-6, "{date}: {total}");
        }
    }
}
