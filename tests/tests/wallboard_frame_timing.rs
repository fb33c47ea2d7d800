//! A push frame that updates 1,000 agents, applied in a real browser (issue 5: under 16 ms).
//!
//! The supervisor view shows 1,000 agents from a real server; the test then hands the page
//! deltas in which every agent changes (state, time in state, calls handled) through
//! `window.__floorwatch_apply_frame`, timing each with `performance.now()`: the synchronous
//! part (parse, store, every row's DOM update), then a forced layout, then the next task. It
//! checks that every row changed and prints the timings; BENCHMARKS.md ("## Wallboard") records
//! them. Timings are not asserted: a loaded CI machine is not a benchmark.

mod wallboard_support;

use floorwatch_core::wire::LiveFrame;
use floorwatch_core::{AgentState, AgentView, NotReadyReason};
use floorwatch_tests::Server;
use serde_json::json;
use wallboard_support::{
    Browser, DAY_START, Feed, assets_args, one_browser_at_a_time, wait_for_connection,
};

const AGENTS: usize = 1_000;
const RUNS: usize = 12;
const WARM_UP: usize = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_updating_1000_agents_updates_every_row() {
    let _one = one_browser_at_a_time().await;
    let mut args = vec!["--clock".to_string(), "events".to_string()];
    args.extend(assets_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start(&args);
    let mut feed = Feed::new(DAY_START);
    for i in 0..AGENTS {
        feed.login(&format!("agent-{i:04}"), &format!("team-{:02}", i % 20));
    }
    server.post_events(&feed.take());
    let mut agents: Vec<AgentView> = server.get_json("/api/v1/agents");
    assert_eq!(agents.len(), AGENTS);

    let browser = Browser::open(1920, 1080, "en-US").await;
    browser
        .goto(&format!("{}/#/supervisor", server.url()))
        .await;
    wallboard_support::sign_in_as_admin(&browser).await;
    wait_for_connection(&browser, "live").await;
    browser
        .wait_for(
            "the grid to show 1,000 agents and the team table its 20 teams",
            // The teams come with the second snapshot (the subscription widens to them); a
            // frame applied before it would be overwritten by it.
            "return document.querySelectorAll('[data-agent].state-available').length === 1000 &&
                 document.querySelectorAll('[data-table=teams] td[data-figure=agents_logged_in]')
                     .length === 20 &&
                 Array.from(document.querySelectorAll('[data-table=teams] td[data-figure=agents_logged_in]'))
                     .every(c => c.dataset.value === '50')",
            vec![],
        )
        .await;

    let states = [
        (AgentState::OnCall, None, "on_call"),
        (AgentState::AfterCallWork, None, "after_call_work"),
        (
            AgentState::NotReady,
            Some(NotReadyReason::Break),
            "not_ready",
        ),
        (AgentState::Available, None, "available"),
    ];
    let mut timings: Vec<[f64; 4]> = Vec::new();
    for run in 0..RUNS {
        let (state, reason, class) = states[run % states.len()];
        let now = DAY_START + (run as i64 + 1) * 1_000;
        for a in &mut agents {
            a.state = Some(state);
            a.reason = reason;
            a.state_since = Some(now);
            a.handled_today += 1;
            a.aht_today_s = Some(200.0 + run as f64);
        }
        let frame = LiveFrame::Delta {
            seq: 0,
            now,
            figures: vec![],
            agents: agents.clone(),
            history: vec![],
            alerts: vec![],
            stream_seq: None,
        };
        let json = serde_json::to_string(&frame).unwrap();
        let t = browser
            .js_async(
                "const done = arguments[arguments.length - 1];
                 const t0 = performance.now();
                 const hook = window.__floorwatch_apply_frame(arguments[0]);
                 const t1 = performance.now();
                 void document.body.offsetHeight;
                 const t2 = performance.now();
                 setTimeout(() => done([hook, t1 - t0, t2 - t0, performance.now() - t0]), 0);",
                vec![json!(json)],
            )
            .await;
        let t: Vec<f64> = serde_json::from_value(t).unwrap();
        timings.push([t[0], t[1], t[2], t[3]]);
        let updated = browser
            .js(
                "return document.querySelectorAll('[data-agent].state-' + arguments[0]).length",
                vec![json!(class)],
            )
            .await;
        assert_eq!(updated, json!(AGENTS), "run {run}: rows in state {class}");
        let handled = browser
            .js(
                "return document.querySelector('[data-agent=\"agent-0999\"] span:nth-child(7)').textContent",
                vec![],
            )
            .await;
        assert_eq!(
            handled,
            json!((run + 1).to_string()),
            "run {run}: calls handled"
        );
    }

    let column = |i: usize| {
        let mut v: Vec<f64> = timings[WARM_UP..].iter().map(|t| t[i]).collect();
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[v.len() - 1])
    };
    let (apply, apply_max) = column(1);
    let (layout, layout_max) = column(2);
    let (task, task_max) = column(3);
    println!(
        "wallboard frame timing: {AGENTS} agents changed per frame, {} runs after {WARM_UP} \
         warm-up: parse+apply+DOM median {apply:.1} ms (max {apply_max:.1}); with forced layout \
         median {layout:.1} ms (max {layout_max:.1}); to the next task median {task:.1} ms \
         (max {task_max:.1})",
        RUNS - WARM_UP
    );
    browser.close().await;
}
