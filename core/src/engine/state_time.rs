//! Agents' time in each state: per minute for the last hour (rolling windows and intervals) and
//! for the current centre day (today), docs/METRICS.md, "Agents".
//!
//! State time is credited to the agent alone, not to its team, group, site and centre: every
//! state change would otherwise write the sums of five scopes. A bigger scope adds up the
//! agents inside it when it is read (`readout`), and keeps in its own tally only what an agent
//! who moved team left behind (`AgentRecord::move_to`).
//!
//! The table is dense: one row per agent (by [`AgentNo`]) for each minute of a fixed ring and
//! for the day. Nearly every state change lands in the current minute, so the rows being
//! written are those of one minute and the day, 48 bytes an agent each: at 5,000 agents they
//! stay in the processor's cache, where one ring per agent would miss it on every event.

use super::clock::Clock;
use super::tally::{MINUTE_MS, RING_MINUTES};
use crate::event::{AgentState, Millis};

/// An agent's row in the table: agents are numbered densely as they become known.
pub(super) type AgentNo = usize;

/// Milliseconds by state, indexed by [`AgentState::index`].
pub(super) type ByState = [i64; 6];

/// One minute of the ring.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct MinuteRows {
    /// The minute the rows hold (slot = minute mod [`RING_MINUTES`]); a slot holding a minute
    /// older than the clock's oldest kept minute is stale and reads as empty.
    minute: i64,
    rows: Vec<ByState>,
}

/// Every agent's state time.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct StateTimes {
    minutes: Vec<MinuteRows>,
    /// Since the start of the current centre day.
    day: Vec<ByState>,
}

impl Default for StateTimes {
    fn default() -> Self {
        let empty = MinuteRows {
            minute: i64::MIN,
            rows: Vec::new(),
        };
        StateTimes {
            minutes: vec![empty; RING_MINUTES as usize],
            day: Vec::new(),
        }
    }
}

impl StateTimes {
    /// Adds an agent's (empty) rows; returns its number.
    pub(super) fn add_agent(&mut self) -> AgentNo {
        for slot in &mut self.minutes {
            slot.rows.push([0; 6]);
        }
        self.day.push([0; 6]);
        self.day.len() - 1
    }

    /// Credits agent `no` with `[from, to)` in `state`: each minute still kept, and the day for
    /// the part after the day's start.
    pub(super) fn credit(
        &mut self,
        no: AgentNo,
        state: AgentState,
        from: Millis,
        to: Millis,
        clock: &Clock,
    ) {
        if to <= from {
            return;
        }
        let s = state.index();
        let day_part = to - from.max(clock.day_start);
        if day_part > 0 {
            self.day[no][s] += day_part;
        }
        let mut at = from.max(clock.oldest_minute * MINUTE_MS);
        while at < to {
            let minute = at.div_euclid(MINUTE_MS);
            let end = ((minute + 1) * MINUTE_MS).min(to);
            self.slot(minute).rows[no][s] += end - at;
            at = end;
        }
    }

    /// The rows of `minute`, emptied first if the slot held an older minute. Credited minutes
    /// lie between the clock's oldest kept minute and its current one, 61 consecutive minutes,
    /// so two of them never share a slot.
    fn slot(&mut self, minute: i64) -> &mut MinuteRows {
        let slot = &mut self.minutes[minute.rem_euclid(RING_MINUTES) as usize];
        if slot.minute != minute {
            slot.minute = minute;
            slot.rows.fill([0; 6]);
        }
        slot
    }

    /// A reader of the minutes from `first_minute` on (no older than the oldest kept).
    pub(super) fn window(&self, first_minute: i64) -> WindowRows<'_> {
        WindowRows {
            slots: self
                .minutes
                .iter()
                .filter(|slot| slot.minute >= first_minute)
                .collect(),
        }
    }

    /// Adds the days of agents `nos` to `out`.
    pub(super) fn add_days(&self, nos: &[AgentNo], out: &mut ByState) {
        for &no in nos {
            add(out, &self.day[no]);
        }
    }

    /// Agent `no`'s kept minutes with their sums, and its day: what a team keeps when the
    /// agent moves away.
    pub(super) fn kept(&self, no: AgentNo, oldest_minute: i64) -> (Vec<(i64, ByState)>, ByState) {
        let minutes = self
            .minutes
            .iter()
            .filter(|slot| slot.minute >= oldest_minute)
            .map(|slot| (slot.minute, slot.rows[no]))
            .collect();
        (minutes, self.day[no])
    }

    /// Starts a new centre day.
    pub(super) fn reset_day(&mut self) {
        self.day.fill([0; 6]);
    }
}

/// The minutes of one window, found once per read and then summed per agent.
pub(super) struct WindowRows<'a> {
    slots: Vec<&'a MinuteRows>,
}

impl WindowRows<'_> {
    /// Adds the minutes of agents `nos` (in increasing order: each minute's rows are read
    /// front to back) to `out`.
    pub(super) fn add(&self, nos: &[AgentNo], out: &mut ByState) {
        for slot in &self.slots {
            for &no in nos {
                add(out, &slot.rows[no]);
            }
        }
    }
}

fn add(out: &mut ByState, ms: &ByState) {
    for (sum, ms) in out.iter_mut().zip(ms) {
        *sum += ms;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(now_minute: i64, day_start: Millis) -> Clock {
        Clock {
            now: now_minute * MINUTE_MS,
            day_start,
            next_day_start: day_start + crate::time::DAY_MS,
            oldest_minute: now_minute - (RING_MINUTES - 1),
        }
    }

    fn window(t: &StateTimes, no: AgentNo, first_minute: i64) -> ByState {
        let mut sum = [0; 6];
        t.window(first_minute).add(&[no], &mut sum);
        sum
    }

    #[test]
    fn credit_cuts_at_minutes_and_the_day_start() {
        let mut t = StateTimes::default();
        let (a, b) = (t.add_agent(), t.add_agent());
        // 100.5 → 102.25 minutes, day starting at minute 101.
        let c = clock(103, 101 * MINUTE_MS);
        let on_call = AgentState::OnCall.index();
        t.credit(
            b,
            AgentState::OnCall,
            100 * MINUTE_MS + 30_000,
            102 * MINUTE_MS + 15_000,
            &c,
        );
        assert_eq!(window(&t, b, 101)[on_call], 75_000);
        assert_eq!(window(&t, b, 100)[on_call], 105_000);
        assert_eq!(window(&t, a, 100), [0; 6]);
        let mut day = [0; 6];
        t.add_days(&[a, b], &mut day);
        assert_eq!(day[on_call], 75_000);
        let mut both = [0; 6];
        t.window(100).add(&[a, b], &mut both);
        assert_eq!(both[on_call], 105_000);
    }

    #[test]
    fn a_slot_reused_an_hour_later_starts_empty() {
        let mut t = StateTimes::default();
        let a = t.add_agent();
        let c = clock(10, 0);
        t.credit(a, AgentState::Available, 5 * MINUTE_MS, 6 * MINUTE_MS, &c);
        let later = clock(5 + RING_MINUTES, 0);
        let from = (5 + RING_MINUTES) * MINUTE_MS;
        t.credit(a, AgentState::Hold, from, from + 1_000, &later);
        let sum = window(&t, a, later.oldest_minute);
        assert_eq!(sum[AgentState::Available.index()], 0);
        assert_eq!(sum[AgentState::Hold.index()], 1_000);
        // The stale minute is not kept either.
        let (kept, day) = t.kept(a, later.oldest_minute);
        assert_eq!(kept.len(), 1);
        assert_eq!(day[AgentState::Available.index()], 60_000);
    }
}
