//! Properties the engine must keep for any call day: the figures do not depend on how events
//! are batched or how often the clock ticks; a centre's counts are the sums of its queues';
//! percentages stay within 0..=100; history's quarter-hours do not depend on when they were
//! closed, and add up to the day.

mod common;

use common::Day;
use floorwatch_core::history::{IntervalRow, QUARTER_HOUR_MS};
use floorwatch_core::org::{AgentConfig, Group, QueueConfig, Site, Team};
use floorwatch_core::{
    AgentState, Engine, Event, Figures, Needs, NotReadyReason, Organisation, Scope,
    ServiceLevelVariant, Window,
};
use proptest::prelude::*;
use std::collections::BTreeMap;

const QUEUES: [&str; 3] = ["billing", "sales", "support"];
const AGENTS: [&str; 6] = ["a1", "a2", "a3", "a4", "a5", "a6"];

fn org() -> Organisation {
    let team = |id: &str, agents: &[&str]| Team {
        id: id.into(),
        name: String::new(),
        agents: agents
            .iter()
            .map(|a| AgentConfig::Id(a.to_string()))
            .collect(),
    };
    let mut org = Organisation {
        sites: vec![Site {
            id: "north".into(),
            name: String::new(),
            groups: vec![Group {
                id: "g1".into(),
                name: String::new(),
                teams: vec![team("t1", &AGENTS[..3]), team("t2", &AGENTS[3..])],
            }],
        }],
        queues: vec![
            QueueConfig {
                id: "billing".into(),
                owner: Some("site:north".into()),
                ..QueueConfig::default()
            },
            QueueConfig {
                id: "sales".into(),
                threshold_s: Some(30),
                short_abandon_s: Some(10),
                variant: Some(ServiceLevelVariant::RemovedOverOffered),
                ..QueueConfig::default()
            },
        ],
        ..Organisation::default()
    };
    org.centre.timezone = "Asia/Shanghai".into();
    org
}

/// One call of a generated day.
#[derive(Debug, Clone)]
struct CallSpec {
    queue: usize,
    entry_s: u32,
    outcome: u8,
    wait_s: u32,
    talk_s: u32,
    hold_s: Option<u32>,
    acw_s: Option<u32>,
    agent: usize,
    test: bool,
}

fn call_spec() -> impl Strategy<Value = CallSpec> {
    (
        0..QUEUES.len(),
        0u32..5400,
        0u8..4,
        0u32..90,
        1u32..600,
        proptest::option::of(1u32..60),
        proptest::option::of(0u32..120),
        0..AGENTS.len(),
        proptest::bool::weighted(0.05),
    )
        .prop_map(
            |(queue, entry_s, outcome, wait_s, talk_s, hold_s, acw_s, agent, test)| CallSpec {
                queue,
                entry_s,
                outcome,
                wait_s,
                talk_s,
                hold_s,
                acw_s,
                agent,
                test,
            },
        )
}

/// Agent state changes: (agent, at, state index).
fn state_spec() -> impl Strategy<Value = (usize, u32, usize)> {
    (0..AGENTS.len(), 0u32..5400, 0usize..7)
}

/// A day from 23:30 Shanghai time, so it crosses the midnight reset.
fn build_day(calls: &[CallSpec], states: &[(usize, u32, usize)]) -> Vec<Event> {
    let mut d = Day::new("2026-03-09T15:30:00Z");
    for (i, c) in calls.iter().enumerate() {
        let id = format!("c{i}");
        let first = d.events.len();
        let t0 = f64::from(c.entry_s);
        let t1 = t0 + f64::from(c.wait_s);
        d.enter(t0, &id, QUEUES[c.queue]);
        match c.outcome {
            0 => d.abandon(t1, &id),
            1 => d.time_out(t1, &id),
            _ => {
                d.answer(t1, &id, AGENTS[c.agent]);
                let end = t1 + f64::from(c.talk_s);
                if let Some(h) = c.hold_s {
                    let h0 = t1 + f64::from(c.talk_s) / 3.0;
                    d.hold(h0, (h0 + f64::from(h)).min(end), &id);
                }
                d.end(end, &id);
                if let Some(acw) = c.acw_s {
                    d.acw_end(end + f64::from(acw), &id);
                }
            }
        }
        if i % 7 == 3 {
            d.ivr(t0, &format!("ivr{i}"), Some(QUEUES[c.queue]));
        }
        for e in &mut d.events[first..] {
            e.test = c.test;
        }
    }
    for &(agent, at, state) in states {
        let at = f64::from(at);
        match state {
            6 => d.login(at, AGENTS[agent], None),
            5 => d.not_ready(at, AGENTS[agent], NotReadyReason::Break),
            s => d.state(at, AGENTS[agent], AgentState::ALL[s]),
        }
    }
    // Events of one call keep their order; across calls, time order (as a switch sends them).
    let mut events = d.events;
    events.sort_by_key(|e| e.ts);
    events
}

fn all_figures(engine: &Engine) -> Vec<Figures> {
    let mut out = Vec::new();
    for scope in engine.scopes() {
        for window in Window::ALL {
            out.push(engine.figures(&scope, window).expect("known scope"));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn figures_do_not_depend_on_batching_or_tick_cadence(
        calls in proptest::collection::vec(call_spec(), 1..40),
        states in proptest::collection::vec(state_spec(), 0..30),
        cuts in proptest::collection::vec((0usize..200, 0.0f64..1.0), 0..30),
        jitter in proptest::collection::vec(-20_000i64..20_000, 200),
    ) {
        // Delivered up to 20 s out of order, as feeds within the lateness do.
        let mut events = build_day(&calls, &states);
        let mut keyed: Vec<(i64, Event)> = events
            .drain(..)
            .enumerate()
            .map(|(i, e)| (e.ts + jitter[i % jitter.len()], e))
            .collect();
        keyed.sort_by_key(|(k, _)| *k);
        let events: Vec<Event> = keyed.into_iter().map(|(_, e)| e).collect();
        let end = events.iter().map(|e| e.ts).max().unwrap_or(0) + 1_000;

        let mut one_by_one = Engine::new(&org()).unwrap();
        for e in &events {
            one_by_one.apply(e);
        }
        one_by_one.tick(end);

        // The same events in batches, with ticks between batches at any time up to the
        // next event's.
        let mut ticked = Engine::new(&org()).unwrap();
        let mut cut_at: Vec<(usize, f64)> = cuts
            .into_iter()
            .map(|(i, f)| (i % events.len(), f))
            .collect();
        cut_at.sort_by_key(|&(i, _)| i);
        let mut next_cut = cut_at.iter().peekable();
        for (i, e) in events.iter().enumerate() {
            while let Some(&&(at, f)) = next_cut.peek() {
                if at != i {
                    break;
                }
                let prev = ticked.now().max(events[0].ts);
                ticked.tick(prev + ((e.ts - prev) as f64 * f) as i64);
                next_cut.next();
            }
            ticked.apply(e);
        }
        ticked.tick(end);

        prop_assert_eq!(all_figures(&one_by_one), all_figures(&ticked));
    }

    #[test]
    fn a_centre_counts_the_sum_of_its_queues(
        calls in proptest::collection::vec(call_spec(), 1..60),
    ) {
        let events = build_day(&calls, &[]);
        let mut engine = Engine::new(&org()).unwrap();
        for e in &events {
            engine.apply(e);
        }
        for window in Window::ALL {
            let centre = engine.figures(&Scope::Centre, window).unwrap();
            let mut sum = [0u64; 9];
            for q in engine.queues() {
                let f = engine.figures(&Scope::Queue(q.id), window).unwrap();
                for (s, v) in sum.iter_mut().zip(counts(&f)) {
                    *s += v;
                }
            }
            prop_assert_eq!(counts(&centre).to_vec(), sum.to_vec(), "window {}", window);
            prop_assert_eq!(centre.offered, centre.answered + centre.abandoned + centre.timed_out);
        }
    }

    #[test]
    fn percentages_stay_within_0_and_100(
        calls in proptest::collection::vec(call_spec(), 1..40),
        states in proptest::collection::vec(state_spec(), 0..30),
    ) {
        let events = build_day(&calls, &states);
        let mut engine = Engine::new(&org()).unwrap();
        for e in &events {
            engine.apply(e);
        }
        for f in all_figures(&engine) {
            let v = f.service_level_variants;
            for p in [
                f.service_level_pct,
                v.answered_over_offered,
                v.answered_over_answered,
                v.removed_over_offered,
                v.answered_over_offered_excl_abandoned_within,
                f.answer_rate_pct,
                f.abandon_rate_pct,
                f.occupancy_pct,
                f.utilisation_pct,
            ]
            .into_iter()
            .flatten()
            {
                prop_assert!((0.0..=100.0).contains(&p), "{} {}: {}", f.scope, f.window, p);
            }
        }
    }
}

/// Every stored row, by scope and quarter-hour, as a history store merges them.
type Rows = BTreeMap<(String, i64), IntervalRow>;

fn close_into(engine: &mut Engine, until: i64, rows: &mut Rows) {
    for (scope, sums, start) in engine.close_intervals(until) {
        rows.entry((scope.to_string(), start))
            .or_default()
            .add(&sums);
    }
    rows.retain(|_, row| !row.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn quarter_hours_do_not_depend_on_when_they_were_closed_and_add_up_to_the_day(
        calls in proptest::collection::vec(call_spec(), 1..40),
        states in proptest::collection::vec(state_spec(), 0..30),
        jitter in proptest::collection::vec(-20_000i64..20_000, 200),
        late in proptest::collection::vec(0usize..200, 0..4),
    ) {
        // Delivered out of order, some events very late (after their quarter-hour closed).
        let mut events = build_day(&calls, &states);
        let n = events.len();
        let mut keyed: Vec<(i64, Event)> = events
            .drain(..)
            .enumerate()
            .map(|(i, e)| {
                let delay = if late.contains(&(i % n.max(1))) { 3_600_000 } else { 0 };
                (e.ts + jitter[i % jitter.len()] + delay, e)
            })
            .collect();
        keyed.sort_by_key(|(k, _)| *k);
        let mut events: Vec<Event> = keyed.into_iter().map(|(_, e)| e).collect();
        let end = events.iter().map(|e| e.ts).max().unwrap_or(0) + 1_000;
        // Everyone signs out at the end: no handle time is left waiting for its work.
        for (i, agent) in AGENTS.iter().enumerate() {
            let mut out = events[0].clone();
            out.id = format!("out{i}");
            out.ts = end;
            out.test = false;
            out.kind = floorwatch_core::EventKind::AgentLogout { agent: agent.to_string() };
            events.push(out);
        }

        // Closed at every quarter-hour the clock crosses, as the server does.
        let mut live = Engine::new(&org()).unwrap();
        live.keep_intervals(0);
        let mut live_rows = Rows::new();
        for e in &events {
            let boundary = e.ts.div_euclid(QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
            if !e.test && live.now() > 0 && live.now() < boundary {
                close_into(&mut live, boundary, &mut live_rows);
            }
            live.apply(e);
        }
        close_into(&mut live, end + 1, &mut live_rows);
        // Closed once, at the end, as a rebuild in one pass would.
        let mut once = Engine::new(&org()).unwrap();
        once.keep_intervals(0);
        for e in &events {
            once.apply(e);
        }
        let mut once_rows = Rows::new();
        close_into(&mut once, end + 1, &mut once_rows);
        prop_assert!(live_rows == once_rows);

        // The quarter-hours of today add up to today's figures, percentiles included.
        once.tick(end + 1);
        let day_start = once.calendar().day_start(end);
        for scope in once.scopes() {
            let mut day = IntervalRow::default();
            for ((s, start), row) in &once_rows {
                if *s == scope.to_string() && *start >= day_start {
                    day.merge(row);
                }
            }
            let today = once.figures(&scope, Window::Today).unwrap();
            let settings = match &scope {
                Scope::Queue(q) => once.queues().into_iter().find(|v| &v.id == q).unwrap().settings,
                _ => org().centre.service_level,
            };
            let sums = day.figures(scope.clone(), (day_start, end + 1), &settings);
            prop_assert_eq!(
                (sums.offered, sums.answered, sums.abandoned, sums.handled, sums.ivr_completed),
                (today.offered, today.answered, today.abandoned, today.handled, today.ivr_completed),
                "{}", scope
            );
            prop_assert_eq!(sums.service_level_pct, today.service_level_pct, "{}", scope);
            prop_assert_eq!(sums.aht_s, today.aht_s, "{}", scope);
            prop_assert_eq!(sums.wait_p90_s, today.wait_p90_s, "{}", scope);
            prop_assert_eq!(sums.handle_p50_s, today.handle_p50_s, "{}", scope);
            prop_assert_eq!(sums.occupancy_pct, today.occupancy_pct, "{}", scope);
            prop_assert_eq!(sums.utilisation_pct, today.utilisation_pct, "{}", scope);
        }
    }
}

fn counts(f: &Figures) -> [u64; 9] {
    [
        f.offered,
        f.answered,
        f.abandoned,
        f.short_abandoned,
        f.timed_out,
        f.answered_within_threshold,
        f.ivr_completed,
        f.handled,
        f.waiting_now,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A visit noted again since the last close (at its answer, its talk's end, a late entry
    /// with the caller number) is brought up to date in place; handed over after every event,
    /// each note builds a new record. The records a store ends with are the same either way.
    #[test]
    fn call_records_do_not_depend_on_when_they_were_handed_over(
        calls in proptest::collection::vec(call_spec(), 1..40),
        states in proptest::collection::vec(state_spec(), 0..30),
        jitter in proptest::collection::vec(-20_000i64..20_000, 200),
        numbered in proptest::collection::vec(proptest::bool::ANY, 40),
    ) {
        let mut events = build_day(&calls, &states);
        // Out of order within the lateness, so some entries come after their outcomes and
        // bring the caller number late; some calls have a number, some not.
        for (i, e) in events.iter_mut().enumerate() {
            e.ts += jitter[i % jitter.len()];
            if let floorwatch_core::EventKind::CallEnteredQueue { call, caller, .. } = &mut e.kind {
                let n: usize = call.trim_start_matches(|c: char| !c.is_ascii_digit()).parse().unwrap_or(0);
                if numbered[n % numbered.len()] {
                    *caller = Some(format!("1380000{n:04}").into());
                }
            }
        }
        // Every record handed over, the latest of each visit kept, as the store keeps them.
        let store = |every_event: bool| {
            let mut engine = Engine::new(&org()).unwrap();
            engine.keep_intervals(0);
            let mut kept = BTreeMap::new();
            for e in &events {
                engine.apply(e);
                if every_event {
                    kept.extend(engine.close_calls().into_iter().map(|c| (c.id.clone(), c)));
                }
            }
            // The floor's minute samples read the tree's and queues' scopes by place; the
            // same figures as each read by its id.
            for window in Window::ALL {
                let by_place: Vec<(Scope, Figures)> = engine
                    .figures_but_agents(window, Needs::SUMS)
                    .map(|(s, f)| (s.clone(), f))
                    .collect();
                let by_id: Vec<(Scope, Figures)> = engine
                    .scopes_but_agents()
                    .map(|s| (s.clone(), engine.figures_with(s, window, Needs::SUMS).unwrap()))
                    .collect();
                assert_eq!(by_place, by_id);
            }
            let last = engine.close_calls();
            // Handed over oldest outcome first, then by id.
            let order: Vec<(i64, String)> = last.iter().map(|c| (c.outcome_ms, c.id.clone())).collect();
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(order, sorted);
            kept.extend(last.into_iter().map(|c| (c.id.clone(), c)));
            kept
        };
        let in_place = store(false);
        prop_assert!(!in_place.is_empty());
        prop_assert_eq!(in_place, store(true));
    }
}
