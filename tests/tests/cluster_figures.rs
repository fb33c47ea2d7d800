//! Cluster mode with real processes (issue 16, items 1, 2 and 4; docs/CLUSTER.md): three
//! JetStream servers and three `floorwatch --cluster` nodes on 127.0.0.1.
//!
//! A simulated day is posted into node A in chunks. Mid-day node B is SIGKILLed and one NATS
//! server is SIGKILLed too: ingest into A goes on (a batch the stream could not confirm while
//! it elected a new leader is answered 503 and sent again, as any sender would), B restarts
//! from its snapshot and replays only the stream's tail. At the end all three nodes stand at
//! the same stream sequence and give identical `today` figures for every scope and identical
//! alert lists; A and C applied every acknowledged event exactly once.

mod cluster_support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use cluster_support::{node_dir, start_node};
use floorwatch_core::{Engine, Event, Scope};
use floorwatch_sim::Scenario;
use floorwatch_tests::nats::NatsCluster;
use floorwatch_tests::{Server, simulate_days};
use serde_json::Value;

/// How long the nodes may take to agree (generous: two shared cores, debug builds).
const SETTLE: Duration = Duration::from_secs(60);
/// The day is posted in this many chunks.
const CHUNKS: usize = 16;

/// Node `name`, its data dir under `root`; the harness admin lives in the cluster's accounts
/// (made once, its token in `token`).
fn node(
    nats: &NatsCluster,
    (root, name): (&Path, &str),
    config: &Path,
    token: &mut Option<String>,
) -> Server {
    let urls = nats.urls();
    let dir = node_dir(root, name, &urls, token);
    start_node(
        &dir,
        &urls,
        name,
        &[
            "--config",
            config.to_str().unwrap(),
            "--checkpoint-every-s",
            "1",
        ],
    )
}

/// `/healthz`'s cluster section.
fn cluster_health(server: &Server) -> Value {
    let health: Value = server.get_json("/healthz");
    health["cluster"].clone()
}

/// Posts `body` into `server` until the stream confirms it; a 503 (the stream without a
/// leader for a moment) is sent again. Returns accepted + duplicate.
fn post_until_stored(server: &Server, body: &str) -> u64 {
    let deadline = Instant::now() + SETTLE;
    loop {
        let reply = server.post_with("/api/v1/events", body, &[]);
        if reply.status == 200 {
            let v: Value = reply.json();
            assert_eq!(v["rejected"], 0, "{}", reply.body);
            return v["accepted"].as_u64().unwrap() + v["duplicate"].as_u64().unwrap();
        }
        assert_eq!(reply.status, 503, "{}", reply.body);
        assert!(
            reply.body.contains("event log"),
            "a 503 names the stream: {}",
            reply.body
        );
        assert!(
            Instant::now() < deadline,
            "the stream never stored the batch: {}",
            reply.body
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits until every node has applied the stream up to its end, the same sequence on all.
fn wait_until_equal(nodes: &[&Server]) -> u64 {
    let deadline = Instant::now() + SETTLE;
    loop {
        let positions: Vec<(u64, u64)> = nodes
            .iter()
            .map(|n| {
                let c = cluster_health(n);
                (
                    c["position"].as_u64().unwrap_or(0),
                    c["stream_last"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        let first = positions[0].0;
        if first > 0
            && positions
                .iter()
                .all(|&(p, last)| p == first && last == first)
        {
            return first;
        }
        assert!(
            Instant::now() < deadline,
            "the nodes never reached the same stream position: {positions:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every scope of the day: the organisation's tree and queues, and every agent seen.
fn scopes_of(events: &[Event]) -> Vec<Scope> {
    let org = Scenario::preset("small").unwrap().organisation();
    let mut engine = Engine::new(&org).unwrap();
    for event in events {
        engine.apply(event);
    }
    let scopes: BTreeSet<String> = engine.scopes().iter().map(|s| s.to_string()).collect();
    scopes.iter().map(|s| s.parse().unwrap()).collect()
}

/// `today` figures of every scope and the alert list, as a node serves them.
fn readings(server: &Server, scopes: &[Scope]) -> (Vec<Value>, Value) {
    let figures = scopes
        .iter()
        .map(|scope| server.get_json(&format!("/api/v1/metrics?scope={scope}&window=today")))
        .collect();
    (figures, server.get_json("/api/v1/alerts?since=0"))
}

#[test]
fn three_nodes_give_identical_figures_through_a_node_kill_and_a_nats_server_kill() {
    let dir = tempfile::tempdir().unwrap();
    let (days, config) = simulate_days("small", &["2026-03-09"], 11, dir.path());
    let text = std::fs::read_to_string(&days[0]).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let events: Vec<Event> = lines.iter().map(|l| Event::from_json(l).unwrap()).collect();

    let started = Instant::now();
    eprintln!("{} events", lines.len());
    let mut nats = NatsCluster::start(3);
    let mut token = None;
    let a = node(&nats, (dir.path(), "a"), &config, &mut token);
    let mut b = node(&nats, (dir.path(), "b"), &config, &mut token);
    let c = node(&nats, (dir.path(), "c"), &config, &mut token);

    let chunk = lines.len().div_ceil(CHUNKS);
    let mut acknowledged = 0;
    let mut b_killed = false;
    for (i, part) in lines.chunks(chunk).enumerate() {
        acknowledged += post_until_stored(&a, &part.join("\n"));
        // B is killed mid-day at the first chunk after it wrote a snapshot (one a second at
        // most, as messages arrive: the feed goes on meanwhile, so a snapshot comes).
        if !b_killed && i >= CHUNKS / 2 - 2 {
            let snapshots = b.data_dir().join("cluster-snapshots");
            if std::fs::read_dir(&snapshots).map_or(0, |d| d.count()) > 0 {
                b.kill_hard();
                b_killed = true;
            } else {
                assert!(i < CHUNKS - 4, "node B wrote no snapshot by chunk {i}");
                std::thread::sleep(Duration::from_millis(500));
            }
        }
        if i == CHUNKS / 2 {
            nats.kill(1);
        }
        if i == CHUNKS - 3 {
            assert!(b_killed, "node B was not killed mid-day");
            b.restart();
        }
    }
    assert_eq!(acknowledged, lines.len() as u64, "every line acknowledged");

    eprintln!("posted after {:?}", started.elapsed());
    let scopes = scopes_of(&events);
    assert!(scopes.len() > 20, "{scopes:?}");
    // Read every node at one stream position: a node's stream_last is what it last heard, so
    // the positions may agree while a message is still on its way; every figure names the
    // position it reflects (none while a node is part way through a message), and a reading
    // whose figures name another position is taken again.
    let deadline = Instant::now() + SETTLE;
    let (position, readings_by_node) = loop {
        let position = wait_until_equal(&[&a, &b, &c]);
        let taken: Vec<(Vec<Value>, Value)> =
            [&a, &b, &c].iter().map(|n| readings(n, &scopes)).collect();
        let at_position = taken.iter().all(|(figures, _)| {
            figures
                .iter()
                .all(|f| f["stream_seq"].as_u64() == Some(position))
        });
        if at_position {
            break (position, taken);
        }
        assert!(
            Instant::now() < deadline,
            "the nodes' figures never stood at one stream position"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    eprintln!("equal at {position} after {:?}", started.elapsed());
    let (a_figures, a_alerts) = &readings_by_node[0];
    for (name, (figures, alerts)) in ["b", "c"].iter().zip(&readings_by_node[1..]) {
        for ((scope, mine), theirs) in scopes.iter().zip(a_figures).zip(figures) {
            assert_eq!(
                mine, theirs,
                "node {name}, scope {scope}: today's figures differ"
            );
        }
        assert_eq!(a_alerts, alerts, "node {name}: the alert lists differ");
    }
    let centre = scopes
        .iter()
        .position(|s| *s == Scope::Centre)
        .map(|i| &a_figures[i])
        .unwrap();
    assert!(
        centre["offered"].as_u64().unwrap() > 100,
        "a day of calls: {centre}"
    );
    assert!(
        !a_alerts.as_array().unwrap().is_empty(),
        "the day raises alerts"
    );

    eprintln!("compared after {:?}", started.elapsed());
    // A and C applied every acknowledged event exactly once.
    for (name, server) in [("a", &a), ("c", &c)] {
        let health: Value = server.get_json("/healthz");
        assert_eq!(
            health["events"]["accepted"].as_u64(),
            Some(lines.len() as u64),
            "node {name}: {health}"
        );
    }
    // B resumed from its snapshot and replayed only the tail of the stream.
    let b_health = cluster_health(&b);
    let resumed = b_health["resumed_from_snapshot"]
        .as_u64()
        .unwrap_or_else(|| panic!("node B did not resume from a snapshot: {b_health}"));
    assert!(resumed > 1, "{b_health}");
    let replayed = b_health["replayed_messages"].as_u64().unwrap();
    assert!(
        replayed > 0 && replayed <= position - (resumed - 1),
        "B replayed messages after its snapshot only: {b_health}"
    );
    assert!(
        replayed < position,
        "B replayed the tail, not the whole stream: {b_health}"
    );
    drop(nats);
}
