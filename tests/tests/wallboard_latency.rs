//! What a supervisor waits for, in a real browser (issue 15 item 5): an event on a quiet floor
//! until its figure changes on the wall, and signing in or loading the wall until the first
//! figures show, with a cold and a warm cache, and the bytes the page downloads.
//!
//! The test checks that every event reaches the wall and that the page reports when it first
//! showed figures; it prints the timings, which BENCHMARKS.md ("Event to pixel") records. They
//! are not asserted: a loaded CI machine is not a benchmark. For the benchmark run, ask for
//! more events: `FW_LATENCY_EVENTS=60 cargo test --release -p floorwatch-tests --test
//! wallboard_latency -- --nocapture`.

mod wallboard_support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use floorwatch_tests::{HARNESS_PASSWORD, HARNESS_USER};
use serde_json::{Value, json};
use wallboard_support::{Browser, DAY_START, Feed, one_browser_at_a_time, wall_server};

/// Events posted one a second in the default (test) run.
const EVENTS: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_the_wall_and_the_first_figures_follow_the_load() {
    let _one = one_browser_at_a_time().await;
    let events: usize = std::env::var("FW_LATENCY_EVENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(EVENTS);
    let server = wall_server(None);
    let mut feed = Feed::new(DAY_START);
    feed.login("agent-1", "team-1");
    server.post_events(&feed.take());

    // Signing in through the page: from the click to the first figures drawn.
    let browser = Browser::open(1920, 1080, "en-US").await;
    browser.goto(&format!("{}/#/wall", server.url())).await;
    browser
        .wait_for(
            "the sign-in form",
            "return !!document.querySelector('[data-form=signin] [data-control=user]');",
            vec![],
        )
        .await;
    browser
        .js(
            "const form = document.querySelector('[data-form=signin]');
             form.querySelector('[data-control=user]').value = arguments[0];
             form.querySelector('[data-control=password]').value = arguments[1];
             document.body.dataset.clickedAt = performance.now();
             document.querySelector('[data-control=sign-in]').click();",
            vec![json!(HARNESS_USER), json!(HARNESS_PASSWORD)],
        )
        .await;
    let after_sign_in = first_figures(&browser).await;
    let clicked: f64 = browser
        .js("return Number(document.body.dataset.clickedAt);", vec![])
        .await
        .as_f64()
        .expect("the click's time");
    println!(
        "sign-in click to first figures: {:.1} ms",
        after_sign_in.first_frame_at - clicked
    );

    // Event to pixel: each call that joins the queue raises "calls waiting" on the wall by one.
    browser
        .wait_for(
            "the wall's calls-waiting tile",
            "return !!document.querySelector('.tiles [data-figure=waiting_now]');",
            vec![],
        )
        .await;
    browser
        .js(
            "window.__seen = [];
             new MutationObserver(() => {
                 const tile = document.querySelector('.tiles [data-figure=waiting_now]');
                 if (tile) window.__seen.push([Number(tile.dataset.value),
                                               performance.timeOrigin + performance.now()]);
             }).observe(document.body, {subtree: true, attributes: true,
                                        attributeFilter: ['data-value']});",
            vec![],
        )
        .await;
    let mut posted = Vec::with_capacity(events);
    for i in 0..events {
        feed.wait(1.0).event(
            "call_entered_queue",
            json!({ "call": format!("call-{i}"), "queue": "billing" }),
        );
        let body = feed.take();
        posted.push(epoch_ms());
        server.post_events(&body);
        tokio::time::sleep(Duration::from_millis(1_000)).await;
    }
    browser
        .wait_for(
            "the wall to count every call waiting",
            "return window.__seen.some(([v]) => v === arguments[0]);",
            vec![json!(events)],
        )
        .await;
    let seen: Vec<(f64, f64)> =
        serde_json::from_value(browser.js("return window.__seen;", vec![]).await)
            .expect("the observed changes");
    let mut latencies: Vec<f64> = posted
        .iter()
        .enumerate()
        .map(|(i, at)| {
            let count = (i + 1) as f64;
            let shown = seen
                .iter()
                .find(|(v, _)| *v == count)
                .unwrap_or_else(|| panic!("the wall never showed {count} calls waiting: {seen:?}"));
            shown.1 - at
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    println!(
        "event to pixel, {events} events one a second: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        quantile(&latencies, 0.50),
        quantile(&latencies, 0.95),
        quantile(&latencies, 0.99),
        quantile(&latencies, 1.0),
    );
    browser.close().await;

    // A wall that loads signed in: a fresh profile (cold cache) with the session cookie, then
    // a reload (warm cache: only the page is fetched again).
    let cookie = {
        let body = json!({"user": HARNESS_USER, "password": HARNESS_PASSWORD}).to_string();
        let reply = server.request(
            "POST",
            "/api/v1/session",
            Some(&body),
            &[("Content-Type", "application/json")],
        );
        reply.session_cookie().expect("a session cookie")
    };
    let browser = Browser::open(1920, 1080, "en-US").await;
    browser.goto(&format!("{}/healthz", server.url())).await;
    browser
        .js(
            "document.cookie = 'fw_session=' + arguments[0] + '; path=/';",
            vec![json!(cookie)],
        )
        .await;
    browser.goto(&format!("{}/#/wall", server.url())).await;
    let cold = first_figures(&browser).await;
    browser.js("location.reload();", vec![]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let warm = first_figures(&browser).await;
    for (name, load) in [("cold", &cold), ("warm", &warm)] {
        println!(
            "{name} load to first figures: {:.1} ms ({} bytes over the wire, {} of them the wasm)",
            load.first_frame_at, load.transferred, load.wasm_transferred
        );
    }
    assert!(
        cold.wasm_transferred > 0,
        "a cold cache downloads the wasm: {cold:?}"
    );
    browser.close().await;
}

/// When a page first showed figures and what it downloaded meanwhile.
#[derive(Debug)]
struct FirstFigures {
    /// `performance.now()` when the first frame was drawn (`<body data-first-frame-at>`).
    first_frame_at: f64,
    /// Bytes of the page and every resource as sent (compressed), `transferSize`.
    transferred: u64,
    wasm_transferred: u64,
}

async fn first_figures(browser: &Browser) -> FirstFigures {
    let value: Value = browser
        .wait_for(
            "the first figures",
            "const at = document.body && document.body.dataset.firstFrameAt;
             if (!at || !document.querySelector('.tiles [data-figure]')) return null;
             const entries = performance.getEntriesByType('navigation')
                 .concat(performance.getEntriesByType('resource'));
             const sum = (list) => list.reduce((n, e) => n + (e.transferSize || 0), 0);
             return [Number(at), sum(entries),
                     sum(entries.filter(e => e.name.endsWith('.wasm')))];",
            vec![],
        )
        .await;
    let (first_frame_at, transferred, wasm_transferred): (f64, u64, u64) =
        serde_json::from_value(value).expect("the first figures' timings");
    FirstFigures {
        first_frame_at,
        transferred,
        wasm_transferred,
    }
}

fn epoch_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1_000.0)
}

/// The `q` quantile of sorted `values` (nearest rank).
fn quantile(values: &[f64], q: f64) -> f64 {
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}
