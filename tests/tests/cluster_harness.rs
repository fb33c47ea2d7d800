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
