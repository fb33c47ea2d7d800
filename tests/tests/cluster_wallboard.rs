//! A wallboard moves between the nodes of a cluster (issue 16 item 5, docs/CLUSTER.md "Clients
//! move"): three JetStream servers, nodes A and B, and Debian's haproxy in front of them as a
//! wall of TVs would have it, sending everything to B while B answers.
//!
//! Chromium opens the wall through the balancer, signs in once and shows B's figures. B is
//! SIGKILLed; more calls arrive through A. The page reconnects through the balancer, lands on
//! A, is still signed in (the session lives in the cluster, not in B) and shows A's figures,
//! the calls that arrived after the kill included: a fresh snapshot, not B's last frame.

mod cluster_support;
mod wallboard_support;

use std::time::{Duration, Instant};

use cluster_support::{node_dir, start_node};
use floorwatch_tests::Server;
use floorwatch_tests::balancer::Balancer;
use floorwatch_tests::nats::NatsCluster;
use serde_json::{Value, json};
use wallboard_support::{
    Browser, DAY_START, Feed, assert_wall_matches_api, assets_args, one_browser_at_a_time,
    wait_for_connection,
};

/// How long the nodes may take to reach the same stream position (debug builds, two cores).
const SETTLE: Duration = Duration::from_secs(60);

/// Waits until every node has applied the whole stream.
fn wait_until_caught_up(nodes: &[&Server]) {
    let deadline = Instant::now() + SETTLE;
    loop {
        let positions: Vec<(u64, u64)> = nodes
            .iter()
            .map(|n| {
                let health: Value = n.get_json("/healthz");
                (
                    health["cluster"]["position"].as_u64().unwrap_or(0),
                    health["cluster"]["stream_last"]
                        .as_u64()
                        .unwrap_or(u64::MAX),
                )
            })
            .collect();
        if positions.iter().all(|(at, last)| at == last)
            && positions.windows(2).all(|w| w[0] == w[1])
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the nodes did not catch up: {positions:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The node named in the page's own `/healthz`, fetched by the page through the balancer.
async fn node_behind_the_page(browser: &Browser) -> Value {
    browser
        .js_async(
            "const done = arguments[arguments.length - 1];
             fetch('/healthz').then(r => r.json()).then(h => done(h.cluster.node), () => done(null));",
            vec![],
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wall_on_a_killed_node_moves_to_another_and_stays_signed_in() {
    let _one = one_browser_at_a_time().await;
    let nats = NatsCluster::start(3);
    let urls = nats.urls();
    let root = tempfile::tempdir().unwrap();
    let mut token = None;
    let dir_b = node_dir(root.path(), "b", &urls, &mut token);
    let dir_a = node_dir(root.path(), "a", &urls, &mut token);
    let assets = assets_args();
    let assets: Vec<&str> = assets.iter().map(String::as_str).collect();
    let mut b = start_node(&dir_b, &urls, "b", &assets);
    let a = start_node(&dir_a, &urls, "a", &assets);
    let balancer = Balancer::start(&[b.url(), a.url()]);

    let mut feed = Feed::new(DAY_START);
    feed.login("a1", "north").login("a2", "south");
    let mut at = DAY_START + 1_000;
    feed.billing_calls(("before", 5), "a1", &mut at, 8.0);
    a.post_events(&feed.take());
    wait_until_caught_up(&[&a, &b]);

    let browser = Browser::open(1920, 1080, "en-US").await;
    browser
        .goto(&format!("{}/#/wall?window=today", balancer.url()))
        .await;
    wallboard_support::sign_in_as_admin(&browser).await;
    wait_for_connection(&browser, "live").await;
    assert_eq!(
        node_behind_the_page(&browser).await,
        json!("b"),
        "the balancer serves B first"
    );
    assert_wall_matches_api(&browser, &b, "centre", "today").await;
    assert_eq!(b.figures("centre", "today").answered, 5);

    b.kill_hard();
    feed.billing_calls(("after", 3), "a2", &mut at, 30.0);
    a.post_events(&feed.take());
    // The answer means stored in the stream; A applies it from there a moment later.
    wait_until_caught_up(&[&a]);
    assert_eq!(a.figures("centre", "today").answered, 8);

    // The page notices the lost socket, reconnects through the balancer (now to A) with the
    // cookie it has, and resyncs from A's snapshot.
    assert_wall_matches_api(&browser, &a, "centre", "today").await;
    wait_for_connection(&browser, "live").await;
    assert_eq!(
        node_behind_the_page(&browser).await,
        json!("a"),
        "the page moved to A"
    );
    assert_eq!(
        browser
            .js(
                "return document.querySelector('[data-form=signin]') === null",
                vec![]
            )
            .await,
        json!(true),
        "asked to sign in again on another node"
    );
    browser.screenshot("cluster-wall-moved.png").await;
    browser.close().await;
}
