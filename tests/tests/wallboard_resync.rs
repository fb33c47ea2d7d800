//! The wallboard survives a server restart (issue 5, "Done when"): while the server is down the
//! page says so and greys its figures out after 10 s; when it is back the page reconnects by
//! itself, asks to sign in again (sessions live in the server's memory) and resyncs from a
//! fresh snapshot, including what happened while it was away.
//!
//! The page is opened through a front door on a fixed port that forwards to whichever server
//! runs, as a load balancer would: the restarted server listens on a new port.

mod wallboard_support;

use floorwatch_tests::Server;
use wallboard_support::{
    Browser, DAY_START, Feed, FrontDoor, assert_wall_matches_api, assets_args,
    one_browser_at_a_time, wait_for_connection,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_recovers_and_resyncs_after_a_server_restart() {
    let _one = one_browser_at_a_time().await;
    let mut args = vec!["--clock".to_string(), "events".to_string()];
    args.extend(assets_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut server = Server::start(&args);
    let door = FrontDoor::open(server.url()).await;

    let mut feed = Feed::new(DAY_START);
    feed.login("a1", "north").login("a2", "south");
    let mut at = DAY_START + 1_000;
    feed.billing_calls(("before", 5), "a1", &mut at, 8.0);
    server.post_events(&feed.take());

    let browser = Browser::open(1920, 1080, "en-US").await;
    browser
        .goto(&format!("{}/#/wall?window=today", door.url()))
        .await;
    wallboard_support::sign_in_as_admin(&browser).await;
    wait_for_connection(&browser, "live").await;
    assert_wall_matches_api(&browser, &server, "centre", "today").await;

    server.kill_hard();
    wait_for_connection(&browser, "reconnecting").await;
    browser
        .wait_for(
            "the figures to grey out after 10 s without updates",
            "return document.querySelectorAll('.tile.stale').length === 12",
            vec![],
        )
        .await;

    // Back on the same data dir (the journal brings the morning back), and more calls arrive
    // before the page has reconnected: only a fresh snapshot can show them.
    server.restart();
    door.point_to(server.url());
    feed.billing_calls(("after", 3), "a2", &mut at, 30.0);
    server.post_events(&feed.take());
    assert_eq!(server.figures("centre", "today").answered, 8);

    // Sessions are kept in the data dir: the page reconnects by itself, signed in as before.
    wait_for_connection(&browser, "live").await;
    assert_eq!(
        browser
            .js(
                "return document.querySelector('[data-form=signin]') === null",
                vec![]
            )
            .await,
        serde_json::json!(true),
        "asked to sign in again after a restart"
    );
    assert_wall_matches_api(&browser, &server, "centre", "today").await;
    browser
        .wait_for(
            "the figures to be live again",
            "return document.querySelectorAll('.tile.stale').length === 0",
            vec![],
        )
        .await;
    browser.close().await;
}
