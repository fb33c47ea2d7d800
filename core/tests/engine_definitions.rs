//! One hand-computed scenario per definition of docs/METRICS.md. The expected numbers are
//! worked out in the comments, from the events, without the engine.

mod common;

use common::{Day, approx, ms};
use floorwatch_core::org::{AgentConfig, Group, QueueConfig, Site, Team};
use floorwatch_core::{
    AgentState, Applied, Engine, Figures, NotReadyReason, Organisation, Scope, ServiceLevelVariant,
    Window,
};

/// Shanghai centre; queue `billing` (owned by site north), 80/20 with 5 s short abandons;
/// queue `sales` with T = 30 s; agents a1, a2 in team t1, a3 in team t2.
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
            name: "North".into(),
            groups: vec![Group {
                id: "g1".into(),
                name: String::new(),
                teams: vec![team("t1", &["a1", "a2"]), team("t2", &["a3"])],
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
                ..QueueConfig::default()
            },
        ],
        ..Organisation::default()
    };
    org.centre.timezone = "Asia/Shanghai".into();
    org
}

fn run(day: &Day, until: f64) -> Engine {
    let mut engine = Engine::new(&org()).unwrap();
    for e in &day.events {
        engine.apply(e);
    }
    engine.tick(day.at(until));
    engine
}

fn fig(engine: &Engine, scope: &str, window: Window) -> Figures {
    engine.figures(&scope.parse().unwrap(), window).unwrap()
}

/// 10:00 in Shanghai.
const BASE: &str = "2026-03-09T02:00:00Z";

/// The mixed queue of the definitions:
///   c1 waits 10 s (answered within 20), talks 100 s, 20 s ACW
///   c2 waits 25 s (answered, not within), 60 s connected of which 10 s hold, no ACW
///   c3 abandons after 3 s (short), c4 after 30 s, c5 after 15 s (within T, not short)
///   c6 times out after 30 s, c7 after 15 s (within T)
///   two IVR completions in billing
fn mixed_day() -> Day {
    let mut d = Day::new(BASE);
    d.login(0.0, "a1", None);
    d.login(0.0, "a2", None);
    d.enter(0.0, "c1", "billing");
    d.enter(0.0, "c2", "billing");
    d.enter(5.0, "c3", "billing");
    d.enter(5.0, "c4", "billing");
    d.enter(10.0, "c5", "billing");
    d.enter(10.0, "c6", "billing");
    d.enter(10.0, "c7", "billing");
    d.abandon(8.0, "c3");
    d.answer(10.0, "c1", "a1");
    d.answer(25.0, "c2", "a2");
    d.abandon(25.0, "c5");
    d.time_out(25.0, "c7");
    d.abandon(35.0, "c4");
    d.hold(35.0, 45.0, "c2");
    d.time_out(40.0, "c6");
    d.end(85.0, "c2");
    d.end(110.0, "c1");
    d.acw_end(130.0, "c1");
    d.ivr(50.0, "i1", Some("billing"));
    d.ivr(60.0, "i2", Some("billing"));
    d
}

#[test]
fn counts_of_a_mixed_queue() {
    let e = run(&mixed_day(), 200.0);
    let f = fig(&e, "queue:billing", Window::Today);
    // offered = answered + abandoned + timed_out = 2 + 3 + 2
    assert_eq!(
        (
            f.offered,
            f.answered,
            f.abandoned,
            f.short_abandoned,
            f.timed_out
        ),
        (7, 2, 3, 1, 2)
    );
    assert_eq!(
        (f.answered_within_threshold, f.ivr_completed, f.handled),
        (1, 2, 2)
    );
}

#[test]
fn service_level_in_each_variant() {
    let e = run(&mixed_day(), 200.0);
    let f = fig(&e, "queue:billing", Window::Today);
    // answered_over_offered: 1 / (7 − 1 short)
    approx(
        f.service_level_variants.answered_over_offered,
        Some(100.0 / 6.0),
    );
    // answered_over_answered: 1 / 2
    approx(f.service_level_variants.answered_over_answered, Some(50.0));
    // removed_over_offered: (1 answered + c3, c5 abandoned within 20 s + c7 timed out within) / 7
    approx(
        f.service_level_variants.removed_over_offered,
        Some(400.0 / 7.0),
    );
    // excl_abandoned_within: 1 / (7 − 2 abandoned within 20 s)
    approx(
        f.service_level_variants
            .answered_over_offered_excl_abandoned_within,
        Some(20.0),
    );
    // The queue's own variant is the default.
    assert_eq!(
        f.service_level_variant,
        ServiceLevelVariant::AnsweredOverOffered
    );
    approx(f.service_level_pct, Some(100.0 / 6.0));
    assert_eq!(f.service_level_target_pct, 80.0);
}

#[test]
fn rates_and_waits() {
    let e = run(&mixed_day(), 200.0);
    let f = fig(&e, "queue:billing", Window::Today);
    // abandon rate: (3 − 1 short) / (7 − 1 short)
    approx(f.abandon_rate_pct, Some(100.0 / 3.0));
    // answer rate: (2 answered + 2 IVR) / (7 offered + 2 IVR)
    approx(f.answer_rate_pct, Some(400.0 / 9.0));
    // ASA: (10 + 25) / 2; max wait: c4 and c6 waited 30 s
    approx(f.asa_s, Some(17.5));
    approx(f.max_wait_s, Some(30.0));
}

#[test]
fn talk_hold_after_call_work_and_handle_time() {
    let e = run(&mixed_day(), 200.0);
    let f = fig(&e, "queue:billing", Window::Today);
    // talk: c1 100 s, c2 60 − 10 hold = 50 s; hold: only c2 was held, 10 s; ACW: only c1, 20 s
    approx(f.avg_talk_s, Some(75.0));
    approx(f.avg_hold_s, Some(10.0));
    approx(f.avg_acw_s, Some(20.0));
    // AHT: (150 talk + 10 hold + 20 ACW) / 2 handled
    approx(f.aht_s, Some(90.0));
    // Handle times 120 s (c1) and 60 s (c2): p50 is c2's, p99 c1's (HDR, 1 %).
    let p50 = f.handle_p50_s.unwrap();
    let p99 = f.handle_p99_s.unwrap();
    assert!((p50 - 60.0).abs() <= 0.6, "{p50}");
    assert!((p99 - 120.0).abs() <= 1.2, "{p99}");
    // Agents: a1 handled c1 (120 s), a2 handled c2.
    let a1 = e.agent_view("a1").unwrap();
    assert_eq!(a1.handled_today, 1);
    approx(a1.aht_today_s, Some(120.0));
    assert_eq!(fig(&e, "agent:a2", Window::Today).handled, 1);
    // Team t1 holds both agents; site north owns billing and holds both too, counted once.
    assert_eq!(fig(&e, "team:t1", Window::Today).handled, 2);
    assert_eq!(fig(&e, "site:north", Window::Today).handled, 2);
    assert_eq!(fig(&e, "centre", Window::Today).handled, 2);
}

#[test]
fn wait_percentiles_cover_every_outcome() {
    let e = run(&mixed_day(), 200.0);
    let f = fig(&e, "queue:billing", Window::Today);
    // Waits: 3, 10, 15, 15, 25, 30, 30 s.
    let p50 = f.wait_p50_s.unwrap();
    assert!((p50 - 15.0).abs() <= 0.15, "{p50}");
    let p99 = f.wait_p99_s.unwrap();
    assert!((p99 - 30.0).abs() <= 0.3, "{p99}");
}

#[test]
fn empty_windows_have_no_figures_only_zero_counts() {
    let e = run(&Day::new(BASE), 0.0);
    let f = fig(&e, "queue:billing", Window::Rolling15);
    assert_eq!((f.offered, f.handled, f.waiting_now), (0, 0, 0));
    for v in [
        f.service_level_pct,
        f.answer_rate_pct,
        f.abandon_rate_pct,
        f.asa_s,
        f.max_wait_s,
        f.avg_talk_s,
        f.avg_hold_s,
        f.avg_acw_s,
        f.aht_s,
        f.occupancy_pct,
        f.utilisation_pct,
        f.wait_p50_s,
        f.handle_p99_s,
    ] {
        assert_eq!(v, None);
    }
    assert_eq!(f.agents_needed, None);
    assert!(
        e.figures(&Scope::Queue("nope".into()), Window::Today)
            .is_err()
    );
}

#[test]
fn only_short_abandons_leave_no_service_level_or_abandon_rate() {
    let mut d = Day::new(BASE);
    d.enter(0.0, "c1", "billing");
    d.abandon(2.0, "c1");
    let f = fig(&run(&d, 10.0), "queue:billing", Window::Today);
    assert_eq!((f.offered, f.short_abandoned), (1, 1));
    assert_eq!(f.service_level_pct, None); // 0 / (1 − 1)
    assert_eq!(f.abandon_rate_pct, None);
    approx(f.service_level_variants.removed_over_offered, Some(100.0));
}

#[test]
fn a_wait_of_exactly_t_is_within_and_exactly_s_is_not_short() {
    let mut d = Day::new(BASE);
    d.answered_call(0.0, "c1", "billing", "a1", 20.0, 30.0);
    d.answered_call(0.0, "c2", "billing", "a2", 20.001, 30.0);
    d.enter(0.0, "c3", "billing");
    d.abandon(5.0, "c3");
    d.enter(0.0, "c4", "billing");
    d.abandon(4.999, "c4");
    let f = fig(&run(&d, 100.0), "queue:billing", Window::Today);
    assert_eq!(f.answered_within_threshold, 1);
    assert_eq!(f.short_abandoned, 1);
}

#[test]
fn each_queue_judges_by_its_own_threshold_and_roll_ups_recompute() {
    let mut d = Day::new(BASE);
    // billing (T 20): c1 within, c2 not → 50 %
    d.answered_call(0.0, "c1", "billing", "a1", 10.0, 60.0);
    d.answered_call(0.0, "c2", "billing", "a2", 25.0, 60.0);
    // sales (T 30): three calls waiting 25 s, all within → 100 %
    for c in ["s1", "s2", "s3"] {
        d.answered_call(0.0, c, "sales", "a3", 25.0, 10.0);
    }
    let e = run(&d, 300.0);
    approx(
        fig(&e, "queue:billing", Window::Today).service_level_pct,
        Some(50.0),
    );
    approx(
        fig(&e, "queue:sales", Window::Today).service_level_pct,
        Some(100.0),
    );
    // The centre sums counts: 4 within / 5 offered = 80 %, not the 75 % an average gives.
    let centre = fig(&e, "centre", Window::Today);
    assert_eq!((centre.offered, centre.answered_within_threshold), (5, 4));
    approx(centre.service_level_pct, Some(80.0));
    // site north owns billing only.
    assert_eq!(fig(&e, "site:north", Window::Today).offered, 2);
}

#[test]
fn rolling_windows_and_intervals_cut_at_minutes() {
    let mut d = Day::new(BASE); // 10:00:00 local
    // Outcomes at 10:01:30, 10:14:30, 10:20:30 and 10:31:10.
    for (i, s) in [90.0, 870.0, 1230.0, 1870.0].into_iter().enumerate() {
        let c = format!("c{i}");
        d.enter(s - 5.0, &c, "billing");
        d.abandon(s, &c);
    }
    // At 10:31:40: rolling 15 covers the minutes 10:17..10:31; rolling 30 covers 10:02..10:31;
    // rolling 60 everything; interval 15 started 10:30, interval 30 at 10:30.
    let e = run(&d, 1900.0);
    let count = |w| fig(&e, "queue:billing", w).offered;
    assert_eq!(count(Window::Rolling15), 2);
    assert_eq!(count(Window::Rolling30), 3);
    assert_eq!(count(Window::Rolling60), 4);
    assert_eq!(count(Window::Interval15), 1);
    assert_eq!(count(Window::Interval30), 1);
    assert_eq!(count(Window::Today), 4);
    let f = fig(&e, "queue:billing", Window::Rolling15);
    assert_eq!(f.from, ms("2026-03-09T02:17:00Z"));
    assert_eq!(f.to, ms("2026-03-09T02:31:40Z"));
    // A late event lands in its own minute.
    let mut e = e;
    let mut late = Day::new(BASE);
    late.enter(1000.0, "late", "billing");
    late.abandon(1020.0, "late"); // 10:17:00
    for ev in &mut late.events {
        ev.id = format!("late-{}", ev.id);
        e.apply(ev);
    }
    assert_eq!(fig(&e, "queue:billing", Window::Rolling15).offered, 3);
    assert_eq!(fig(&e, "queue:billing", Window::Interval15).offered, 1);
}

#[test]
fn midnight_resets_today_in_asia_shanghai() {
    // 23:59:30 local on 9 March is 15:59:30Z.
    let mut d = Day::new("2026-03-09T15:59:00Z");
    d.answered_call(0.0, "before", "billing", "a1", 10.0, 30.0); // answered 23:59:10
    d.answered_call(55.0, "after", "billing", "a1", 10.0, 30.0); // answered 00:00:05
    let e = run(&d, 120.0);
    let today = fig(&e, "queue:billing", Window::Today);
    assert_eq!(today.from, ms("2026-03-09T16:00:00Z"));
    assert_eq!(today.answered, 1);
    // "before" ended at 23:59:50: its talk belongs to 9 March; "after" ended 00:00:45.
    assert_eq!(today.handled, 1);
    // The rolling window is not reset by midnight.
    assert_eq!(fig(&e, "queue:billing", Window::Rolling15).answered, 2);
    // Agent state time is cut at midnight too: a1 logged in at... never; log in at 23:59:00.
    let mut d2 = Day::new("2026-03-09T15:59:00Z");
    d2.login(0.0, "a9", None);
    let e2 = run(&d2, 120.0);
    let f = fig(&e2, "agent:a9", Window::Today);
    approx(f.occupancy_pct, Some(0.0));
    // Logged in 60 s of today, all available: utilisation 0 of 60 s.
    approx(f.utilisation_pct, Some(0.0));
}

#[test]
fn dst_day_in_america_new_york_is_25_hours() {
    let mut org = org();
    org.centre.timezone = "America/New_York".into();
    let mut e = Engine::new(&org).unwrap();
    // 1 November 2026: clocks fall back at 02:00 EDT. Calls at 00:30 EDT (04:30Z), at 01:30
    // EDT (05:30Z) and at 01:30 EST (06:30Z) are all on the same local day.
    let mut d = Day::new("2026-11-01T04:30:00Z");
    d.answered_call(0.0, "c1", "billing", "a1", 5.0, 10.0);
    d.answered_call(3600.0, "c2", "billing", "a1", 5.0, 10.0);
    d.answered_call(7200.0, "c3", "billing", "a1", 5.0, 10.0);
    for ev in &d.events {
        e.apply(ev);
    }
    let f = fig(&e, "queue:billing", Window::Today);
    assert_eq!(f.from, ms("2026-11-01T04:00:00Z"));
    assert_eq!(f.answered, 3);
    // 25 hours after midnight EDT it is midnight EST of 2 November: a new day.
    e.tick(ms("2026-11-02T05:00:00Z"));
    let f = fig(&e, "queue:billing", Window::Today);
    assert_eq!(f.from, ms("2026-11-02T05:00:00Z"));
    assert_eq!(f.answered, 0);
    // Spring forward, 8 March 2026: the day starts at 05:00Z and the next at 04:00Z.
    e.tick(ms("2026-03-08T12:00:00Z")); // the clock never goes back
    assert_eq!(
        fig(&e, "centre", Window::Today).from,
        ms("2026-11-02T05:00:00Z")
    );
}

#[test]
fn occupancy_and_utilisation_from_state_time_cut_at_the_window() {
    let mut d = Day::new(BASE);
    // a1: available 0–60, on call 60–180, ACW 180–240, available 240–300, break 300–.
    d.login(0.0, "a1", None);
    d.state(60.0, "a1", AgentState::OnCall);
    d.state(180.0, "a1", AgentState::AfterCallWork);
    d.state(240.0, "a1", AgentState::Available);
    d.not_ready(300.0, "a1", NotReadyReason::Break);
    let e = run(&d, 360.0);
    let f = fig(&e, "agent:a1", Window::Today);
    // handling 120 + 60, available 60 + 60: 180 / 300
    approx(f.occupancy_pct, Some(60.0));
    // on call 120 of 360 logged in
    approx(f.utilisation_pct, Some(100.0 / 3.0));
    assert_eq!(f.agents.logged_in, 1);
    assert_eq!(f.agents.not_ready, 1);
    assert_eq!(f.agents.not_ready_by_reason.get("break"), Some(&1));
    // Rolling 15 at 10:06:00 starts 09:52: same as today.
    approx(
        fig(&e, "agent:a1", Window::Rolling15).occupancy_pct,
        Some(60.0),
    );
    // Team and centre sum state time of their agents.
    approx(fig(&e, "team:t1", Window::Today).occupancy_pct, Some(60.0));
    let view = e.agent_view("a1").unwrap();
    assert_eq!(view.state, Some(AgentState::NotReady));
    assert_eq!(view.reason, Some(NotReadyReason::Break));
    assert_eq!(view.state_since, Some(d.at(300.0)));

    // The interval window cuts a state interval at its start: at 10:16:00, interval 15
    // began 10:15; a1 has been on break since 10:05, so 60 s of break, no handling.
    let e = run(&d, 960.0);
    let f = fig(&e, "agent:a1", Window::Interval15);
    assert_eq!(f.occupancy_pct, None);
    approx(f.utilisation_pct, Some(0.0));
}

#[test]
fn live_waiting_calls_and_the_oldest_start() {
    let mut d = Day::new(BASE);
    d.enter(0.0, "c1", "billing");
    d.enter(10.0, "c2", "sales");
    d.enter(20.0, "c3", "billing");
    d.answer(30.0, "c1", "a1");
    let e = run(&d, 40.0);
    let billing = fig(&e, "queue:billing", Window::Rolling15);
    assert_eq!(billing.waiting_now, 1);
    assert_eq!(billing.oldest_waiting_since, Some(d.at(20.0)));
    let centre = fig(&e, "centre", Window::Rolling15);
    assert_eq!(centre.waiting_now, 2);
    assert_eq!(centre.oldest_waiting_since, Some(d.at(10.0)));
    assert_eq!(fig(&e, "site:north", Window::Today).waiting_now, 1);
}

#[test]
fn test_calls_never_count_and_duplicates_count_once() {
    let mut d = mixed_day();
    let n = d.events.len();
    // A trainee's test call, flagged.
    d.enter(1.0, "t1", "billing");
    d.abandon(50.0, "t1");
    for ev in &mut d.events[n..] {
        ev.test = true;
    }
    let mut e = run(&d, 200.0);
    assert_eq!(fig(&e, "queue:billing", Window::Today).offered, 7);
    // Every event again: all duplicates.
    for ev in &d.events {
        assert_eq!(e.apply(ev), Applied::Duplicate);
    }
    assert_eq!(fig(&e, "queue:billing", Window::Today).offered, 7);
    assert_eq!(e.counters().test, 2);
}

#[test]
fn a_waiting_call_reported_again_keeps_its_wait() {
    let mut d = Day::new(BASE);
    d.enter(0.0, "c1", "billing");
    d.enter(30.0, "c1", "billing"); // a resync re-reports it
    d.answer(40.0, "c1", "a1");
    let f = fig(&run(&d, 60.0), "queue:billing", Window::Today);
    assert_eq!((f.offered, f.answered, f.waiting_now), (1, 1, 0));
    approx(f.asa_s, Some(40.0));
}

#[test]
fn out_of_order_events_of_one_call() {
    let mut d = Day::new(BASE);
    d.answer(30.0, "c1", "a1"); // arrives before its entry
    d.enter(12.0, "c1", "billing");
    d.end(90.0, "c1");
    let f = fig(&run(&d, 100.0), "queue:billing", Window::Today);
    assert_eq!(
        (f.answered, f.answered_within_threshold, f.waiting_now),
        (1, 1, 0)
    );
    approx(f.asa_s, Some(18.0));
    approx(f.avg_talk_s, Some(60.0));
}

#[test]
fn switch_reported_waits_count_calls_whose_entry_was_never_seen() {
    use floorwatch_core::EventKind;
    let mut d = Day::new(BASE);
    d.push(
        10.0,
        EventKind::CallAbandoned {
            call: "x".into(),
            queue: Some("billing".into()),
            wait_ms: Some(42_000),
        },
    );
    d.push(
        20.0,
        EventKind::CallEnded {
            call: "y".into(),
            queue: Some("billing".into()),
            agent: Some("a1".into()),
            talk_ms: Some(95_000),
        },
    );
    // Reported wait wins over timestamps: entered at 0, answered at 30, switch says 29 s.
    d.enter(0.0, "z", "billing");
    d.push(
        30.0,
        EventKind::CallAnswered {
            call: "z".into(),
            agent: "a2".into(),
            queue: Some("billing".into()),
            wait_ms: Some(29_000),
        },
    );
    let f = fig(&run(&d, 100.0), "queue:billing", Window::Today);
    assert_eq!((f.abandoned, f.answered, f.handled), (1, 1, 1));
    approx(f.max_wait_s, Some(42.0));
    approx(f.asa_s, Some(29.0));
    approx(f.avg_talk_s, Some(95.0));
    assert_eq!(f.avg_hold_s, None); // no hold reported: no hold figure, not zero
    assert_eq!(f.avg_acw_s, None);
}

#[test]
fn ivr_without_a_queue_counts_for_the_centre_only() {
    let mut d = Day::new(BASE);
    d.ivr(1.0, "i1", None);
    d.answered_call(0.0, "c1", "sales", "a1", 5.0, 10.0);
    let e = run(&d, 60.0);
    assert_eq!(fig(&e, "centre", Window::Today).ivr_completed, 1);
    assert_eq!(fig(&e, "queue:sales", Window::Today).ivr_completed, 0);
    // (1 answered + 1 IVR) / (1 offered + 1 IVR)
    approx(
        fig(&e, "centre", Window::Today).answer_rate_pct,
        Some(100.0),
    );
}

#[test]
fn agents_needed_from_the_last_half_hour() {
    // 100 calls in 30 minutes at 180 s AHT is 10 Erlangs: 14 agents for 80/20 (Erlang C).
    // Outcomes at 10:01:00 + 18 s·i; the calls that have ended by 10:30:59 talked 180 s.
    let mut d = Day::new(BASE);
    for i in 0..100 {
        let s = 60.0 + 18.0 * f64::from(i);
        let c = format!("c{i}");
        d.enter(s - 1.0, &c, "billing");
        d.answer(s, &c, &format!("x{}", i % 20));
    }
    for i in 0..100 {
        let s = 60.0 + 18.0 * f64::from(i);
        if s + 180.0 <= 1859.0 {
            d.end(s + 180.0, &format!("c{i}"));
        }
    }
    // At 10:30:59 the rolling 30 window covers 10:01..10:30: every outcome.
    let e = run(&d, 1859.0);
    let f = fig(&e, "queue:billing", Window::Rolling30);
    assert_eq!(f.offered, 100);
    assert_eq!(f.agents_needed, Some(14));
    assert_eq!(fig(&e, "centre", Window::Rolling30).agents_needed, None);
}

#[test]
fn unknown_agents_and_queues_appear_when_seen() {
    let mut d = Day::new(BASE);
    d.login(0.0, "z9", Some("t-new"));
    d.answered_call(0.0, "c1", "support", "z9", 3.0, 10.0);
    let e = run(&d, 60.0);
    assert!(e.queues().iter().any(|q| q.id == "support"));
    assert_eq!(
        e.queues()
            .iter()
            .find(|q| q.id == "support")
            .unwrap()
            .settings
            .threshold_s,
        20
    );
    assert_eq!(fig(&e, "team:t-new", Window::Today).handled, 1);
    assert_eq!(e.agent_view("z9").unwrap().team.as_deref(), Some("t-new"));
    assert!(e.scopes().contains(&Scope::Agent("z9".into())));
}

#[test]
fn a_subtree_contains_its_nodes_queues_and_current_agents() {
    let mut d = Day::new(BASE);
    d.login(0.0, "a1", None);
    d.login(0.0, "z9", Some("t-new"));
    let e = run(&d, 10.0);
    let inside =
        |outer: &str, inner: &str| e.contains(&outer.parse().unwrap(), &inner.parse().unwrap());
    assert_eq!(inside("team:t1", "agent:a1"), Some(true));
    assert_eq!(inside("team:t2", "agent:a1"), Some(false));
    assert_eq!(inside("site:north", "team:t2"), Some(true));
    assert_eq!(inside("site:north", "queue:billing"), Some(true));
    assert_eq!(inside("site:north", "queue:sales"), Some(false));
    assert_eq!(inside("team:t1", "queue:billing"), Some(false));
    assert_eq!(inside("team:t1", "site:north"), Some(false));
    assert_eq!(inside("site:north", "agent:z9"), Some(false));
    assert_eq!(inside("centre", "agent:z9"), Some(true));
    assert_eq!(inside("team:t1", "team:t1"), Some(true));
    assert_eq!(inside("team:nope", "agent:a1"), None);
    assert_eq!(inside("team:t1", "agent:nobody"), None);
}

#[test]
fn agents_in_a_scope_follow_the_tree() {
    let mut d = Day::new(BASE);
    for a in ["a1", "a2", "a3"] {
        d.login(0.0, a, None);
    }
    d.login(0.0, "z9", Some("t-new"));
    let e = run(&d, 10.0);
    let ids = |scope: &str| -> Vec<String> {
        e.agents_in(&scope.parse().unwrap())
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect()
    };
    assert_eq!(ids("team:t1"), ["a1", "a2"]);
    assert_eq!(ids("site:north"), ["a1", "a2", "a3"]);
    assert_eq!(ids("centre"), ["a1", "a2", "a3", "z9"]);
    assert_eq!(ids("team:t-new"), ["z9"]);
    assert!(ids("queue:billing").is_empty());
    assert!(e.agents_in(&Scope::Team("nope".into())).is_err());
    // Configured agents are there, logged out, before their first event.
    let fresh = run(&Day::new(BASE), 0.0);
    let views = fresh.agents();
    assert_eq!(views.len(), 3);
    assert!(views.iter().all(|a| a.state.is_none()));
    assert_eq!(views[2].team.as_deref(), Some("t2"));
}

#[test]
fn a_team_move_keeps_earlier_state_time_with_the_old_team() {
    let mut d = Day::new(BASE);
    let move_to = |d: &mut Day, s: f64, team: &str| {
        d.push(
            s,
            floorwatch_core::EventKind::AgentTeam {
                agent: "a1".into(),
                team: team.into(),
            },
        );
    };
    // a1: available 0–60, on call 60–180, ACW 180–240, available 240–360. It moves from t1 to
    // t2 (same group) at 120, in the middle of the call, and to t-new (not configured: under
    // the centre, outside group g1 and site north) at 300.
    d.login(0.0, "a1", None);
    d.state(60.0, "a1", AgentState::OnCall);
    move_to(&mut d, 120.0, "t2");
    d.state(180.0, "a1", AgentState::AfterCallWork);
    d.state(240.0, "a1", AgentState::Available);
    move_to(&mut d, 300.0, "t-new");
    let e = run(&d, 360.0);
    for window in [Window::Today, Window::Rolling15, Window::Rolling60] {
        // t1 (0–120): available 60, on call 60.
        let t1 = fig(&e, "team:t1", window);
        approx(t1.occupancy_pct, Some(50.0));
        approx(t1.utilisation_pct, Some(50.0));
        // t2 (120–300): on call 60, ACW 60, available 60.
        let t2 = fig(&e, "team:t2", window);
        approx(t2.occupancy_pct, Some(200.0 / 3.0));
        approx(t2.utilisation_pct, Some(100.0 / 3.0));
        // t-new (300–360): available 60.
        let new = fig(&e, "team:t-new", window);
        approx(new.occupancy_pct, Some(0.0));
        approx(new.utilisation_pct, Some(0.0));
        // g1 and north (0–300): available 120, on call 120, ACW 60.
        for scope in ["group:g1", "site:north"] {
            let f = fig(&e, scope, window);
            approx(f.occupancy_pct, Some(60.0));
            approx(f.utilisation_pct, Some(40.0));
        }
        // The centre and the agent (0–360): available 180, on call 120, ACW 60.
        for scope in ["centre", "agent:a1"] {
            let f = fig(&e, scope, window);
            approx(f.occupancy_pct, Some(50.0));
            approx(f.utilisation_pct, Some(100.0 / 3.0));
        }
    }
    // Live states follow the agent.
    assert_eq!(fig(&e, "team:t1", Window::Today).agents.logged_in, 0);
    assert_eq!(fig(&e, "group:g1", Window::Today).agents.logged_in, 0);
    assert_eq!(fig(&e, "team:t-new", Window::Today).agents.available, 1);
    assert_eq!(fig(&e, "centre", Window::Today).agents.logged_in, 1);

    // An hour later the moves' minutes have left the rolling windows; the day keeps them.
    let e = run(&d, 360.0 + 3600.0);
    let t1 = fig(&e, "team:t1", Window::Rolling60);
    assert_eq!(t1.occupancy_pct, None);
    assert_eq!(t1.utilisation_pct, None);
    approx(
        fig(&e, "team:t1", Window::Today).utilisation_pct,
        Some(50.0),
    );
    // t-new: available 60 + 3600 s, all after the move.
    approx(
        fig(&e, "team:t-new", Window::Rolling60).occupancy_pct,
        Some(0.0),
    );
    approx(fig(&e, "group:g1", Window::Today).occupancy_pct, Some(60.0));
}
