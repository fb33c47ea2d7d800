//! The NATS harness the cluster tests stand on (`floorwatch_tests::nats`): three JetStream
//! servers on loopback form a cluster, and one killed comes back on its own ports.

use floorwatch_tests::nats::NatsCluster;

#[test]
fn three_servers_form_a_cluster_and_one_comes_back_after_a_kill() {
    let mut cluster = NatsCluster::start(3);
    assert_eq!(cluster.len(), 3);
    assert_eq!(cluster.urls().split(',').count(), 3);
    let first = cluster.url(1);
    cluster.kill(1);
    cluster.restart(1);
    assert_eq!(
        cluster.url(1),
        first,
        "a restarted server keeps its client port"
    );
    let logs = cluster.logs();
    assert!(
        logs.contains("JetStream cluster") || logs.contains("Route connection created"),
        "the servers did not cluster:\n{logs}"
    );
}

#[test]
fn the_balancer_moves_requests_to_the_next_node_when_the_first_stops_answering() {
    use floorwatch_tests::Server;
    use floorwatch_tests::balancer::Balancer;
    let mut first = Server::start(&["--clock", "events"]);
    let second = Server::start(&["--clock", "events"]);
    // The second node is told apart by the one event only it accepted.
    let reply = second.post_events(
        r#"{"v":1,"id":"b-1","source":"test","seq":1,"ts":1700000000000,"type":"call_entered_queue","call":"c1","queue":"billing"}"#,
    );
    assert_eq!(reply.accepted, 1, "{reply:?}");
    let accepted = |url: &str| -> Option<u64> {
        let body = ureq::get(&format!("{url}/healthz"))
            .call()
            .ok()?
            .body_mut()
            .read_to_string()
            .ok()?;
        serde_json::from_str::<serde_json::Value>(&body).ok()?["events"]["accepted"].as_u64()
    };
    assert_eq!(accepted(first.url()), Some(0));
    let balancer = Balancer::start(&[first.url(), second.url()]);
    assert_eq!(
        accepted(&balancer.url()),
        Some(0),
        "the first node serves first"
    );
    first.kill_hard();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while accepted(&balancer.url()) != Some(1) {
        assert!(
            std::time::Instant::now() < deadline,
            "the balancer never moved to the second node"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
