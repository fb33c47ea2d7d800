//! The live socket against a real server: subscribe → snapshot; posted events → a delta with
//! the expected figures; refused subscriptions; heartbeats; graceful shutdown closes clients.

use std::time::Duration;

use floorwatch_core::wire::LiveFrame;
use floorwatch_tests::{Board, LiveClient, Received, Server};

const T0: i64 = 1_700_000_000_000;

fn line(id: &str, ts: i64, kind: &str) -> String {
    format!(r#"{{"v":1,"id":"{id}","source":"test","seq":1,"ts":{ts},{kind}}}"#)
}

fn login(agent: &str, team: &str, ts: i64) -> String {
    line(
        &format!("login-{agent}-{ts}"),
        ts,
        &format!(r#""type":"agent_login","agent":"{agent}","team":"{team}""#),
    )
}

/// A call answered after `wait_s` seconds by `agent`.
fn answered_call(n: u64, start: i64, wait_s: i64, agent: &str) -> String {
    let c = format!("c{n}");
    [
        line(
            &format!("{c}-q"),
            start,
            &format!(r#""type":"call_entered_queue","call":"{c}","queue":"billing""#),
        ),
        line(
            &format!("{c}-a"),
            start + wait_s * 1000,
            &format!(r#""type":"call_answered","call":"{c}","agent":"{agent}""#),
        ),
    ]
    .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_gets_a_snapshot_then_deltas_with_the_expected_figures() {
    let server = Server::start(&["--clock", "events", "--push-interval-ms", "50"]);
    server.post_events(&format!(
        "{}\n{}",
        login("a1", "t1", T0),
        answered_call(1, T0, 5, "a1")
    ));

    let mut live = LiveClient::connect(&server).await;
    live.subscribe(
        &["centre", "queue:billing", "agents:team:t1"],
        &["today", "15m"],
    )
    .await;
    let mut board = Board::default();
    let first = live.next_frame().await;
    assert!(
        matches!(first, LiveFrame::Snapshot { seq: 1, .. }),
        "{first:?}"
    );
    board.apply(&first);
    assert_eq!(board.figures.len(), 4, "two scopes by two windows");
    assert_eq!(board.get("queue:billing", "today").unwrap().answered, 1);
    assert_eq!(board.agents["a1"].call.as_deref(), Some("c1"));
    let LiveFrame::Snapshot { queues, .. } = &first else {
        unreachable!()
    };
    assert!(queues.iter().any(|q| q.id == "billing"));

    // A second call, answered after 30 s (outside the 20 s threshold).
    server.post_events(&format!(
        "{}\n{}",
        login("a2", "t1", T0 + 10_000),
        answered_call(2, T0 + 10_000, 30, "a2")
    ));
    let deltas_before = board.deltas;
    live.until(&mut board, Duration::from_secs(10), |b| {
        b.get("queue:billing", "today")
            .is_some_and(|f| f.answered == 2)
    })
    .await;
    assert!(board.deltas > deltas_before, "the change came as a delta");
    let billing = board.get("queue:billing", "today").unwrap().clone();
    assert_eq!((billing.offered, billing.answered_within_threshold), (2, 1));
    assert_eq!(billing.service_level_pct, Some(50.0));
    assert_eq!(board.agents["a2"].call.as_deref(), Some("c2"));
    // The board equals what the HTTP API says.
    let http = tokio::task::block_in_place(|| server.figures("queue:billing", "today"));
    assert_eq!(billing, http);
    assert_eq!(board.snapshots, 1, "no resync was needed");
}

/// With a push interval of a minute (the longest allowed), far beyond the harness's wait for a frame, a new
/// subscription still gets its snapshot, and a change on a quiet floor still comes at once:
/// neither waits for the publisher's tick (issue 15, item 5).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_floor_pushes_a_snapshot_and_a_change_without_waiting_for_the_tick() {
    let server = Server::start(&["--clock", "events", "--push-interval-ms", "60000"]);
    server.post_events(&login("a1", "t1", T0));
    // The first read after start happens at once; let it pass, so the tick is a minute away.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut live = LiveClient::connect(&server).await;
    live.subscribe(&["centre"], &["today"]).await;
    let mut board = Board::default();
    let first = live.next_frame().await;
    assert!(matches!(first, LiveFrame::Snapshot { .. }), "{first:?}");
    board.apply(&first);

    server.post_events(&answered_call(1, T0 + 1_000, 5, "a1"));
    live.until(&mut board, Duration::from_secs(10), |b| {
        b.get("centre", "today").is_some_and(|f| f.answered == 1)
    })
    .await;
    // (The call's queue is new to the floor, so the change may come as a fresh snapshot.)
    assert_eq!(
        board.snapshots + board.deltas,
        2,
        "one frame at subscribing, one for the change"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_subscriptions_get_an_error_frame_and_keep_the_old_one() {
    let server = Server::start(&["--clock", "events", "--push-interval-ms", "50"]);
    server.post_events(&answered_call(1, T0, 5, "a1"));
    let mut live = LiveClient::connect(&server).await;
    let mut board = Board::default();

    live.send_text(r#"{"subscribe":["floor"]}"#).await;
    board.apply(&live.next_frame().await);
    assert!(
        board.errors[0].contains("malformed subscription"),
        "{:?}",
        board.errors
    );

    live.subscribe(&["queue:nope"], &[]).await;
    board.apply(&live.next_frame().await);
    assert!(board.errors[1].contains("queue:nope"), "{:?}", board.errors);

    live.subscribe(&["centre"], &[]).await;
    let frame = live.next_frame().await;
    assert!(matches!(frame, LiveFrame::Snapshot { .. }), "{frame:?}");
    board.apply(&frame);
    assert_eq!(board.get("centre", "today").unwrap().offered, 1);

    // Subscribing again gets a fresh snapshot.
    live.subscribe(&["queue:billing"], &["30m"]).await;
    let frame = live.next_frame().await;
    board.apply(&frame);
    assert!(matches!(frame, LiveFrame::Snapshot { .. }), "{frame:?}");
    assert!(board.get("queue:billing", "30m").is_some());
    assert!(
        board.get("centre", "today").is_none(),
        "a snapshot replaces all state"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_floor_sends_heartbeats() {
    let server = Server::start(&["--clock", "events", "--heartbeat-ms", "200"]);
    server.post_events(&answered_call(1, T0, 5, "a1"));
    let mut live = LiveClient::connect(&server).await;
    live.subscribe(&["centre"], &[]).await;
    let mut board = Board::default();
    live.until(&mut board, Duration::from_secs(10), |b| b.heartbeats >= 2)
        .await;
    assert_eq!(board.snapshots, 1);
    assert_eq!(board.now, T0 + 5_000, "heartbeats carry the floor's clock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_live_clients_with_a_close_frame() {
    let mut server = Server::start(&["--clock", "events"]);
    let mut live = LiveClient::connect(&server).await;
    live.subscribe(&["centre"], &[]).await;
    let _ = live.next_frame().await;
    let status = tokio::task::block_in_place(|| server.terminate(Duration::from_secs(10)));
    assert!(status.is_some_and(|s| s.success()), "exit: {status:?}");
    loop {
        match live.receive(Duration::from_secs(10)).await {
            Received::Frame(_) => continue,
            Received::Closed(close) => {
                let close = close.expect("a close frame");
                assert_eq!(u16::from(close.code), 1001);
                break;
            }
        }
    }
}
