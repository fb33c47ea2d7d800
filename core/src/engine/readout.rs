//! Reading a window: sum the scope's minutes (or its day), add what is still running (agent
//! states, handled calls awaiting after-call work), and derive every figure of docs/METRICS.md
//! from the sums. Percentages are computed here and nowhere else.

use hdrhistogram::Histogram;

use super::agents::{AgentRecord, Agents};
use super::clock::{Clock, minute_of};
use super::floor::{Floor, ScopeIdx, reason_index};
use super::tally::{MINUTE_MS, Tally, WindowSum};
use crate::calendar::CentreCalendar;
use crate::erlang::{self, Traffic};
use crate::event::{AgentState, Millis, NotReadyReason};
use crate::figures::{AgentStateCounts, AgentView, Figures, ServiceLevelVariants};
use crate::scope::{Scope, Window};
use crate::service_level::{ServiceLevelSettings, ServiceLevelVariant, pct};

/// What reading a window needs of the engine, lent for one read: the engine hands these over
/// rather than itself, so reading never reaches back into the engine's other state.
pub(super) struct Parts<'a> {
    pub(super) calendar: &'a CentreCalendar,
    pub(super) clock: &'a Clock,
    pub(super) floor: &'a Floor,
    pub(super) agents: &'a Agents,
    /// The engine's epoch (see [`ReadFrom`]).
    pub(super) epoch: u64,
}

/// The first instant of `window` at the engine's clock (docs/METRICS.md, "Windows").
pub(super) fn window_start(engine: &Parts<'_>, window: Window) -> Millis {
    let now = engine.clock.now;
    match window {
        Window::Rolling15 | Window::Rolling30 | Window::Rolling60 => {
            let minutes = window.minutes().unwrap_or(60);
            (minute_of(now) - (minutes - 1)) * MINUTE_MS
        }
        Window::Interval15 => engine.calendar.interval_start(now, 15),
        Window::Interval30 => engine.calendar.interval_start(now, 30),
        Window::Today => engine.clock.day_start,
    }
}

/// Which parts of a window's figures a reader needs, beyond the counts and sums every read
/// gives (offered, answered, service level, ASA, AHT and every other figure of the scope's own
/// tally, calls waiting and the longest wait): each part costs work proportional to something
/// other than the events counted (issue 15). A part not needed reads as null (`None`) or
/// zero, never as a wrong number; [`Needs::ALL`] is [`crate::Engine::figures`]. Alert rules
/// ask only for what their metrics name, sparklines for nothing (docs/METRICS.md defines
/// every figure the same either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Needs {
    /// Agent state time (occupancy, utilisation): every agent inside the scope.
    pub state_time: bool,
    /// The wait percentiles: a histogram of the window's waits.
    pub wait_percentiles: bool,
    /// The handle-time percentiles: a histogram of the window's handle times, with the
    /// handled calls still awaiting their after-call work (a look at every agent).
    pub handle_percentiles: bool,
    /// Logged-in agents by state and reason: every agent inside the scope.
    pub agents: bool,
    /// Erlang C agents needed (queues only): two more sums of the queue.
    pub agents_needed: bool,
}

impl Needs {
    /// Every figure.
    pub const ALL: Needs = Needs {
        state_time: true,
        wait_percentiles: true,
        handle_percentiles: true,
        agents: true,
        agents_needed: true,
    };
    /// The counts and sums only (and calls waiting): what a sparkline reads.
    pub const SUMS: Needs = Needs {
        state_time: false,
        wait_percentiles: false,
        handle_percentiles: false,
        agents: false,
        agents_needed: false,
    };

    /// What either needs.
    pub fn union(self, other: Needs) -> Needs {
        Needs {
            state_time: self.state_time || other.state_time,
            wait_percentiles: self.wait_percentiles || other.wait_percentiles,
            handle_percentiles: self.handle_percentiles || other.handle_percentiles,
            agents: self.agents || other.agents,
            agents_needed: self.agents_needed || other.agents_needed,
        }
    }

    /// Whether everything `other` needs is read.
    pub fn covers(self, other: Needs) -> bool {
        self.union(other) == self
    }
}

/// Sums `window` for scope `idx`, with running states (if `needs.state_time`) and percentile
/// samples, pending handle samples included (as `needs` asks).
fn sum(engine: &Parts<'_>, idx: ScopeIdx, window: Window, needs: Needs) -> (Millis, WindowSum) {
    let from = window_start(engine, window);
    let node = &engine.floor.nodes[idx];
    let mut out = WindowSum::default();
    let samples = (needs.wait_percentiles, needs.handle_percentiles);
    match window {
        Window::Today => node.tally.sum_day(samples, &mut out),
        _ => node.tally.sum_minutes(minute_of(from), samples, &mut out),
    }
    if needs.state_time {
        add_state_time(engine, idx, window, from, &mut out);
    }
    // A handled call still awaiting its after-call work counts in the queue's chain as well as
    // the agent's: only an agent's own scope can skip the other agents.
    if needs.handle_percentiles {
        let records = engine.agents.records();
        let agents = match node.scope {
            Scope::Agent(_) => records.get(idx..=idx).unwrap_or_default(),
            _ => records,
        };
        for agent in agents.iter().flatten() {
            if let Some(p) = &agent.pending
                && p.ended_at >= from
                && p.chain.contains(idx)
            {
                out.handles.push(super::tally::sample(p.handle_ms));
            }
        }
    }
    (from, out)
}

/// Adds the state time of the agents inside scope `idx` over `window` (from `from`) to `out`.
fn add_state_time(
    engine: &Parts<'_>,
    idx: ScopeIdx,
    window: Window,
    from: Millis,
    out: &mut WindowSum,
) {
    let now = engine.clock.now;
    // State time is kept by each agent: add up the agents inside the scope now (the scope's
    // own tally holds what agents who moved team left behind, see `AgentRecord::move_to`).
    let state_ms = &mut out.tally.state_ms;
    let mut inside = Vec::new();
    for agent in engine.agents.inside(engine.floor, idx) {
        inside.push(agent.no);
        if let Some(open) = agent.state {
            let running = now - open.since.max(from);
            if running > 0 {
                state_ms[open.state.index()] += running;
            }
        }
    }
    let times = &engine.agents.times;
    match window {
        Window::Today => times.add_days(&inside, state_ms),
        _ => times.window(minute_of(from)).add(&inside, state_ms),
    }
}

/// The figures of scope `idx` over `window`, the parts `needs` leaves out null or zero.
pub(super) fn figures(engine: &Parts<'_>, idx: ScopeIdx, window: Window, needs: Needs) -> Figures {
    let scope = engine.floor.nodes[idx].scope.clone();
    let (from, sum) = sum(engine, idx, window, needs);
    figures_of(engine, idx, window, needs, scope, from, &sum)
}

/// What the last read of one scope and window by a reader came from ([`figures_into`]): its
/// sums, service-level settings and what was asked for. A reader that keeps it beside the
/// figures gets them again without their being worked out again while the sums stand still
/// (an alert rule reads every queue at every boundary where anything moved; issue 15).
#[derive(Debug, Clone, Default)]
pub struct ReadFrom {
    sums: Option<(Tally, ServiceLevelSettings, Needs)>,
    /// Where `sums` were last known to be the window's ([`SumsMark`]).
    mark: Option<SumsMark>,
}

/// Where a scope's window sums were read: the engine's epoch, the scope's tally version and the
/// window's first minute (its first instant for today).
type SumsMark = (u64, u64, i64);

/// The mark of scope `idx`'s `window` sums now ([`SumsMark`]), and the window's start.
fn sums_mark(engine: &Parts<'_>, idx: ScopeIdx, window: Window) -> (SumsMark, Millis) {
    let from = window_start(engine, window);
    let first = match window {
        Window::Today => from,
        _ => minute_of(from),
    };
    let version = engine.floor.nodes[idx].tally.version();
    ((engine.epoch, version, first), from)
}

/// Whether scope `idx`'s window sums read at `was` are still those at `now` (both of
/// [`sums_mark`]): without state time (which runs on with the clock) the sums change only with
/// the scope's tally and the window's first minute, so they stand while neither moved past a
/// minute that saw anything.
fn sums_stand(
    engine: &Parts<'_>,
    idx: ScopeIdx,
    window: Window,
    was: SumsMark,
    now: SumsMark,
) -> bool {
    let (epoch, version, first) = was;
    epoch == now.0
        && version == now.1
        && match window {
            Window::Today => first == now.2,
            _ => first <= now.2 && !engine.floor.nodes[idx].tally.has_minutes_in(first, now.2),
        }
}

/// [`figures`] written over `out`, the figures of an earlier read (`kept` says what they came
/// from). Equal to [`figures`] in every field: every figure but the live ones is derived from
/// the window's sums (state time included), its percentile samples and the settings, so while
/// those are the same only the window's span, the calls waiting and the agent counts are read
/// again (percentile samples and Erlang C are not compared: a read that asks for them is worked
/// out in full). The scope is kept rather than copied when it is `idx`'s.
pub(super) fn figures_into(
    engine: &Parts<'_>,
    idx: ScopeIdx,
    window: Window,
    needs: Needs,
    out: &mut Figures,
    kept: &mut ReadFrom,
) {
    let node = &engine.floor.nodes[idx];
    let compared = !(needs.wait_percentiles || needs.handle_percentiles || needs.agents_needed);
    let same_read = compared && out.scope == node.scope && out.window == window;
    let refresh = |out: &mut Figures, from: Millis| {
        out.from = from;
        out.to = engine.clock.now;
        (out.waiting_now, out.oldest_waiting_since) = waiting(engine, idx);
        if needs.agents {
            out.agents = agent_counts(engine, idx);
        }
    };
    // Sums that stand are not summed again (`sums_stand`).
    let (mark, from) = sums_mark(engine, idx, window);
    if same_read
        && !needs.state_time
        && kept.sums.is_some_and(|(_, _, asked)| asked == needs)
        && kept
            .mark
            .is_some_and(|was| sums_stand(engine, idx, window, was, mark))
    {
        refresh(out, from);
        kept.mark = Some(mark);
        return;
    }
    let (from, sum) = sum(engine, idx, window, needs);
    let settings = settings_of(engine, idx).1;
    let read_from = (sum.tally, settings, needs);
    kept.mark = Some(mark);
    if same_read && kept.sums == Some(read_from) {
        refresh(out, from);
        return;
    }
    let scope = if out.scope == node.scope {
        std::mem::replace(&mut out.scope, Scope::Centre)
    } else {
        node.scope.clone()
    };
    *out = figures_of(engine, idx, window, needs, scope, from, &sum);
    kept.sums = compared.then_some(read_from);
}

/// What a sparkline point of one scope was last worked out from ([`point`]): where it was
/// read (the engine's epoch, the scope's place and tally version, the window's first minute)
/// and the service level then. A floor keeps one per scope it samples at every minute end.
#[derive(Debug, Clone, Default)]
pub struct PointFrom {
    mark: Option<(ScopeIdx, SumsMark)>,
    service_level_pct: Option<f64>,
}

/// The sparkline point of scope `idx` over `window`: its service level and calls waiting, as
/// [`figures`] with [`Needs::SUMS`] reads them (`service_level_pct`, `waiting_now`). A point
/// draws nothing else, so no other figure is derived; and while the scope's tally stood still
/// and the window's first minute moved past no minute that saw anything (the rule of
/// [`figures_into`]), the sums are not added up again either: most scopes at most minute
/// ends of a quiet floor (issue 15).
pub(super) fn point(
    engine: &Parts<'_>,
    idx: ScopeIdx,
    window: Window,
    kept: &mut PointFrom,
) -> (Option<f64>, u64) {
    let (mark, _) = sums_mark(engine, idx, window);
    let same = kept
        .mark
        .is_some_and(|(at, was)| at == idx && sums_stand(engine, idx, window, was, mark));
    if !same {
        let first = mark.2;
        let counts = match window {
            Window::Today => sum(engine, idx, window, Needs::SUMS)
                .1
                .tally
                .service_level_counts(),
            _ => engine.floor.nodes[idx].tally.service_level_from(first),
        };
        kept.service_level_pct = counts.pct(settings_of(engine, idx).1.variant);
    }
    kept.mark = Some((idx, mark));
    (kept.service_level_pct, waiting(engine, idx).0)
}

/// The queue scope `idx` is, if it is one, and the service-level settings its figures use.
fn settings_of<'a>(
    engine: &Parts<'a>,
    idx: ScopeIdx,
) -> (Option<&'a super::floor::QueueInfo>, ServiceLevelSettings) {
    let queue = match &engine.floor.nodes[idx].scope {
        Scope::Queue(id) => engine
            .floor
            .queue_ids
            .get(id)
            .map(|&q| &engine.floor.queues[q]),
        _ => None,
    };
    (
        queue,
        queue.map_or(engine.floor.default_settings, |q| q.settings),
    )
}

/// Calls waiting now in the queues counted in scope `idx`, and since when the oldest waits.
fn waiting(engine: &Parts<'_>, idx: ScopeIdx) -> (u64, Option<Millis>) {
    let (mut waiting_now, mut oldest) = (0u64, None::<Millis>);
    for q in &engine.floor.queues {
        if q.chain.contains(idx) {
            waiting_now += q.waiting.len() as u64;
            if let Some(&(entered, _)) = q.waiting.first() {
                oldest = Some(oldest.map_or(entered, |o| o.min(entered)));
            }
        }
    }
    (waiting_now, oldest)
}

/// [`figures`] from the window's sums (`from` its first instant), with `scope` (`idx`'s) given.
fn figures_of(
    engine: &Parts<'_>,
    idx: ScopeIdx,
    window: Window,
    needs: Needs,
    scope: Scope,
    from: Millis,
    sum: &WindowSum,
) -> Figures {
    let (queue, settings) = settings_of(engine, idx);
    let (waiting_now, oldest) = waiting(engine, idx);

    let histogram = |needed: bool, samples: &[u32]| needed.then(|| sample_histogram(samples));
    let waits = histogram(needs.wait_percentiles, &sum.waits);
    let handles = histogram(needs.handle_percentiles, &sum.handles);
    let sums = Sums {
        tally: &sum.tally,
        waits: waits.as_ref(),
        handles: handles.as_ref(),
    };
    let mut figures = Figures {
        waiting_now,
        oldest_waiting_since: oldest,
        agents: if needs.agents {
            agent_counts(engine, idx)
        } else {
            AgentStateCounts::default()
        },
        agents_needed: queue
            .filter(|_| needs.agents_needed)
            .and_then(|_| agents_needed(engine, idx, &settings)),
        ..from_sums(scope, window, (from, engine.clock.now), &sums, &settings)
    };
    if !needs.state_time {
        // The scope's own tally holds only the state time agents who moved team left behind.
        figures.occupancy_pct = None;
        figures.utilisation_pct = None;
    }
    figures
}

/// What a window's figures are derived from: its sums and counts and its percentile samples.
pub struct Sums<'a> {
    /// The span's counts and summed times.
    pub tally: &'a Tally,
    /// Queue-outcome waits, ms ([`sample_histogram`]); `None` for none.
    pub waits: Option<&'a Histogram<u64>>,
    /// Handled calls' handle times, ms; `None` for none.
    pub handles: Option<&'a Histogram<u64>>,
}

/// Every figure of docs/METRICS.md that sums alone determine (all but the live ones, which are
/// left empty): the live wall's windows and history's intervals (docs/HISTORY.md) both come
/// here, so a figure means the same on both.
pub fn from_sums(
    scope: Scope,
    window: Window,
    (from, to): (Millis, Millis),
    sums: &Sums<'_>,
    settings: &ServiceLevelSettings,
) -> Figures {
    let t = sums.tally;
    let sl = t.service_level_counts();
    let handled = t.handled;
    let (wait_p50, wait_p90, wait_p99) = percentiles(sums.waits);
    let (handle_p50, handle_p90, handle_p99) = percentiles(sums.handles);
    Figures {
        scope,
        window,
        from,
        to,
        offered: sl.offered,
        answered: t.answered,
        abandoned: t.abandoned,
        short_abandoned: t.short_abandoned,
        timed_out: t.timed_out,
        answered_within_threshold: t.answered_within,
        ivr_completed: t.ivr_completed,
        handled,
        service_level_pct: sl.pct(settings.variant),
        service_level_variant: settings.variant,
        service_level_target_pct: settings.target_pct,
        service_level_variants: ServiceLevelVariants {
            answered_over_offered: sl.pct(ServiceLevelVariant::AnsweredOverOffered),
            answered_over_answered: sl.pct(ServiceLevelVariant::AnsweredOverAnswered),
            removed_over_offered: sl.pct(ServiceLevelVariant::RemovedOverOffered),
            answered_over_offered_excl_abandoned_within: sl
                .pct(ServiceLevelVariant::AnsweredOverOfferedExclAbandonedWithin),
        },
        answer_rate_pct: pct(t.answered + t.ivr_completed, sl.offered + t.ivr_completed),
        abandon_rate_pct: pct(
            t.abandoned - t.short_abandoned,
            sl.offered - t.short_abandoned,
        ),
        asa_s: mean_s(t.answered_wait_ms, t.answered),
        max_wait_s: t.max_wait().map(|ms| ms as f64 / 1000.0),
        avg_talk_s: mean_s(t.talk_ms, handled),
        avg_hold_s: mean_s(t.hold_ms, t.held),
        avg_acw_s: mean_s(t.acw_ms, t.acw_calls),
        aht_s: mean_s(t.talk_ms + t.hold_ms + t.acw_ms, handled),
        occupancy_pct: occupancy(t),
        utilisation_pct: utilisation(t),
        wait_p50_s: wait_p50,
        wait_p90_s: wait_p90,
        wait_p99_s: wait_p99,
        handle_p50_s: handle_p50,
        handle_p90_s: handle_p90,
        handle_p99_s: handle_p99,
        waiting_now: 0,
        oldest_waiting_since: None,
        agents: AgentStateCounts::default(),
        agents_needed: None,
    }
}

/// Mean of a summed duration in seconds; `None` over no items.
fn mean_s(total_ms: i64, count: u64) -> Option<f64> {
    (count > 0).then(|| total_ms as f64 / count as f64 / 1000.0)
}

/// Handle time / (handle time + available time), from agent state time: on call, hold and
/// after-call work are handling; available and ringing are available.
fn occupancy(t: &Tally) -> Option<f64> {
    let handling = t.state(AgentState::OnCall)
        + t.state(AgentState::Hold)
        + t.state(AgentState::AfterCallWork);
    let available = t.state(AgentState::Available) + t.state(AgentState::Ringing);
    ratio_pct(handling, handling + available)
}

/// Talk time (on call, not hold) / logged-in time (every state).
fn utilisation(t: &Tally) -> Option<f64> {
    ratio_pct(t.state(AgentState::OnCall), t.state_ms.iter().sum())
}

fn ratio_pct(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| num as f64 * 100.0 / den as f64)
}

/// An empty histogram of percentile samples (ms): 1 ms to 49 days at 2 significant digits
/// (1 %). Every histogram of samples, live or stored, is this one, so they merge exactly.
pub fn empty_histogram() -> Histogram<u64> {
    // Constant bounds that hdrhistogram accepts (low >= 1, high >= 2 * low, 2 digits <= 5).
    Histogram::<u64>::new_with_bounds(1, u64::from(u32::MAX), 2).expect("valid constant bounds")
}

/// A histogram of `samples` ([`empty_histogram`]).
pub fn sample_histogram(samples: &[u32]) -> Histogram<u64> {
    let mut h = empty_histogram();
    for &s in samples {
        h.saturating_record(u64::from(s));
    }
    h
}

/// p50, p90 and p99 in seconds.
fn percentiles(h: Option<&Histogram<u64>>) -> (Option<f64>, Option<f64>, Option<f64>) {
    let Some(h) = h.filter(|h| !h.is_empty()) else {
        return (None, None, None);
    };
    let at = |q: f64| Some(h.value_at_quantile(q) as f64 / 1000.0);
    (at(0.5), at(0.9), at(0.99))
}

/// Logged-in agents inside the scope now, by state and not-ready reason.
fn agent_counts(engine: &Parts<'_>, idx: ScopeIdx) -> AgentStateCounts {
    let mut states = [0u32; 6];
    let mut reasons = [0u32; 7];
    for open in engine
        .agents
        .inside(engine.floor, idx)
        .filter_map(|a| a.state)
    {
        states[open.state.index()] += 1;
        if open.state == AgentState::NotReady {
            reasons[reason_index(open.reason)] += 1;
        }
    }
    let s = |state: AgentState| states[state.index()];
    let mut counts = AgentStateCounts {
        logged_in: states.iter().sum(),
        available: s(AgentState::Available),
        ringing: s(AgentState::Ringing),
        on_call: s(AgentState::OnCall),
        hold: s(AgentState::Hold),
        after_call_work: s(AgentState::AfterCallWork),
        not_ready: s(AgentState::NotReady),
        ..AgentStateCounts::default()
    };
    for (i, reason) in NotReadyReason::ALL.iter().enumerate() {
        if reasons[i] > 0 {
            counts
                .not_ready_by_reason
                .insert(reason.as_str().to_string(), reasons[i]);
        }
    }
    counts
}

/// Erlang C agents needed now: arrivals and AHT of the last 30 minutes (AHT of today when no
/// call was handled in them), against the queue's own threshold and target.
fn agents_needed(
    engine: &Parts<'_>,
    idx: ScopeIdx,
    settings: &ServiceLevelSettings,
) -> Option<u32> {
    // Arrivals and handle times are the queue's own counts: no state time, no samples.
    let (_, last30) = sum(engine, idx, Window::Rolling30, Needs::SUMS);
    let (_, today) = sum(engine, idx, Window::Today, Needs::SUMS);
    let arrivals = last30.tally.offered() as f64 / (30.0 * 60.0);
    let aht_of = |t: &Tally| mean_s(t.talk_ms + t.hold_ms + t.acw_ms, t.handled);
    let aht = aht_of(&last30.tally).or_else(|| aht_of(&today.tally))?;
    erlang::agents_needed(
        Traffic {
            arrivals_per_s: arrivals,
            aht_s: aht,
        },
        f64::from(settings.threshold_s),
        settings.target_pct,
    )
}

pub(super) fn agent_view(engine: &Parts<'_>, a: &AgentRecord) -> AgentView {
    let node = &engine.floor.nodes[a.idx];
    let day = node.tally.day();
    AgentView {
        id: a.id.clone(),
        name: node.name.clone(),
        team: a.team.clone(),
        state: a.state.map(|s| s.state),
        reason: a.state.and_then(|s| s.reason),
        state_since: a.state.map(|s| s.since),
        call: a.call_since.map(|_| a.call.clone()),
        call_since: a.call_since,
        handled_today: day.handled,
        aht_today_s: mean_s(day.talk_ms + day.hold_ms + day.acw_ms, day.handled),
    }
}
