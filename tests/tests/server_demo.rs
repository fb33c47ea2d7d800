//! `--demo`: the embedded simulator feeds a live floor at once, through the journal.

use std::time::{Duration, Instant};

use floorwatch_core::{AgentView, Scope};
use floorwatch_tests::{Board, LiveClient, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_shows_a_live_floor_at_once() {
    let server = Server::start(&["--demo", "--demo-seed", "7", "--push-interval-ms", "100"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let signed_in = loop {
        let agents: Vec<AgentView> =
            tokio::task::block_in_place(|| server.get_json("/api/v1/agents"));
        let signed_in = agents.iter().filter(|a| a.state.is_some()).count();
        if signed_in > 0 {
            break signed_in;
        }
        assert!(Instant::now() < deadline, "no agent signed in: {agents:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(signed_in <= 20, "the small preset has 20 agents");

    // The events went through the journal like any source's, as `sim`.
    let health: serde_json::Value = tokio::task::block_in_place(|| server.get_json("/healthz"));
    assert!(
        health["events"]["accepted"].as_u64().unwrap() > 0,
        "{health}"
    );
    let metrics = tokio::task::block_in_place(|| server.get("/metrics").body);
    assert!(
        metrics.contains(r#"source="sim",outcome="accepted""#),
        "{metrics}"
    );

    // The organisation is the scenario's: its teams are scopes from the start.
    let mut live = LiveClient::connect(&server).await;
    live.subscribe(&["centre", "agents:centre"], &["today"])
        .await;
    let mut board = Board::default();
    live.until(&mut board, Duration::from_secs(10), |b| b.snapshots == 1)
        .await;
    let centre = board.get("centre", "today").unwrap();
    assert_eq!(
        centre.agents.logged_in as usize,
        board.agents.values().filter(|a| a.state.is_some()).count()
    );
    assert!(centre.agents.logged_in > 0);

    // The day up to now was recorded before the wall clock moved the floor on: none of it
    // counts as late, and its minutes are in the sparklines from the first snapshot.
    assert_eq!(health["events"]["late"], 0, "{health}");
    if centre.offered > 0 {
        let points = board.history.get(&Scope::Centre).map_or(0, Vec::len);
        assert!(points > 0, "calls today but no sparkline points");
    }
}
