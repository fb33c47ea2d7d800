//! Need to know (issue: hardening, item 10): a role that may read no figures is sent no queue
//! list, and with an organisation configured, a queue named only by events is counted in the
//! centre but kept off the wall, listed for admins (flagged) and counted in /metrics.

use std::time::Duration;

use floorwatch_core::QueueView;
use floorwatch_core::wire::LiveFrame;
use floorwatch_tests::{LiveClient, Received, Server};

const CONFIG: &str = r#"
[[sites]]
id = "north"
[[sites.groups]]
id = "g1"
[[sites.groups.teams]]
id = "t1"
agents = ["a1"]
[[queues]]
id = "billing"
name = "Billing secrets"
owner = "team:t1"
"#;

fn start() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("floorwatch.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let server = Server::start(&["--clock", "events", "--config", config.to_str().unwrap()]);
    let ts = 1_772_000_000_000i64;
    let body = [("c1", "billing"), ("c2", "typo-queue")]
        .iter()
        .enumerate()
        .map(|(i, (call, queue))| {
            format!(
                r#"{{"v":1,"id":"e{i}","source":"pbx","seq":{i},"ts":{ts},"type":"call_entered_queue","call":"{call}","queue":"{queue}"}}"#
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let reply = server.post_events(&body);
    assert_eq!(reply.accepted, 2, "nothing is lost: {reply:?}");
    (server, dir)
}

/// The queue list of the snapshot that answers a subscription (after the errors naming the
/// entries refused, if any).
async fn snapshot_queues(live: &mut LiveClient) -> Vec<QueueView> {
    loop {
        match live.receive(Duration::from_secs(10)).await {
            Received::Frame(LiveFrame::Snapshot { queues, .. }) => return queues,
            Received::Frame(LiveFrame::Error { .. }) => continue,
            other => panic!("not a snapshot: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unassigned_queue_counts_but_stays_off_the_wall() {
    let (server, _dir) = start();
    let centre = tokio::task::block_in_place(|| server.figures("centre", "today"));
    assert_eq!(centre.waiting_now, 2);

    // Admins see it, flagged; a manager of the whole centre does not.
    let listed: Vec<serde_json::Value> =
        tokio::task::block_in_place(|| server.get_json("/api/v1/queues"));
    let flag = |id: &str| {
        listed
            .iter()
            .find(|q| q["id"] == id)
            .map(|q| q["unassigned"].as_bool().unwrap_or(false))
    };
    assert_eq!(flag("typo-queue"), Some(true), "{listed:?}");
    assert_eq!(flag("billing"), Some(false), "{listed:?}");
    server.add_user("boss", "manager", Some("centre"), "manager password 1");
    let token = server.create_token("boss");
    let reply = tokio::task::block_in_place(|| server.get_as("/api/v1/queues", &token));
    let ids: Vec<String> = reply
        .json::<Vec<QueueView>>()
        .into_iter()
        .map(|q| q.id)
        .collect();
    assert_eq!(ids, vec!["billing"]);
    let metrics = tokio::task::block_in_place(|| server.get("/metrics").body);

    // The wall's queue list has only the configured queue.
    let mut live = LiveClient::connect(&server).await;
    live.subscribe(&["centre"], &["today"]).await;
    let ids: Vec<String> = snapshot_queues(&mut live)
        .await
        .into_iter()
        .map(|q| q.id)
        .collect();
    assert_eq!(ids, vec!["billing"]);
    let metrics = if metrics.contains("floorwatch_unassigned_queues 1") {
        metrics
    } else {
        // The gauge is set by the publisher, which has run by now.
        tokio::task::block_in_place(|| server.get("/metrics").body)
    };
    assert!(
        metrics.contains("floorwatch_unassigned_queues 1"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_that_reads_no_figures_gets_no_queue_list() {
    let (server, _dir) = start();
    server.add_user("officer", "security_officer", None, "officer password 1");
    let token = server.create_token("officer");
    let mut live = LiveClient::connect_as(&server, &token).await;
    live.subscribe(&["centre"], &["today"]).await;
    let list = snapshot_queues(&mut live).await;
    assert!(list.is_empty(), "the officer was sent queues: {list:?}");
}
