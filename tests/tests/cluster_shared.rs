//! What follows a user to any node of a cluster, and what happens once per cluster (issue 16
//! item 3, docs/CLUSTER.md "Shared state" and "Exactly once"), with real processes: a NATS
//! JetStream server and two `floorwatch --cluster` nodes on loopback.
//!
//! The events go into node A only and reach both nodes through the cluster's event stream, so
//! both compute the same alert batches; the claims alone decide which node sends each one.

mod alerts_support;
mod cluster_support;
mod webhook_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use alerts_support::{Script, eventually, post, write_config};
use cluster_support::{cli, node_dir, start_node};
use floorwatch_tests::nats::NatsCluster;
use floorwatch_tests::{Reply, Server, run_floorwatch};
use serde_json::json;
use webhook_support::{HELD, Hold, Receiver, Request};

/// Long enough for a change to cross the cluster (bounded by a second, docs/CLUSTER.md) on a
/// loaded machine; the tests poll, they do not time.
const CROSS: Duration = Duration::from_secs(30);

/// Waits until every node has the account book in which `user` exists: a change made on the
/// command line reaches a node at its next confirmation (docs/CLUSTER.md, "Shared state").
/// Told by a token of the user (a wrong password would count towards the lock-out).
fn known_everywhere(nodes: &[&Server], dir: &Path, urls: &str, user: &str) {
    let token = cli(
        dir,
        urls,
        &["token", "create", user, "--label", "probe"],
        "",
    )
    .trim()
    .to_string();
    for node in nodes {
        eventually("the user known on every node", CROSS, || {
            (node.get_as("/api/v1/session", &token).status == 200).then_some(())
        });
    }
}

fn sign_in(server: &Server, user: &str, password: &str) -> String {
    let body = json!({"user": user, "password": password}).to_string();
    let reply = server.request(
        "POST",
        "/api/v1/session",
        Some(&body),
        &[("Content-Type", "application/json")],
    );
    assert_eq!(reply.status, 200, "sign in: {}", reply.body);
    reply.session_cookie().expect("a session cookie")
}

fn with_cookie(server: &Server, method: &str, cookie: &str) -> Reply {
    let header = format!("fw_session={cookie}");
    server.request(method, "/api/v1/session", None, &[("Cookie", &header)])
}

#[test]
fn accounts_sessions_and_tokens_follow_a_user_to_any_node() {
    let nats = NatsCluster::start(1);
    let urls = nats.urls();
    let root = tempfile::tempdir().unwrap();
    let mut token = None;
    let dir_a = node_dir(root.path(), "a", &urls, &mut token);
    let dir_b = node_dir(root.path(), "b", &urls, &mut token);
    let a = start_node(&dir_a, &urls, "a", &[]);
    let b = start_node(&dir_b, &urls, "b", &[]);

    // A user made on the command line against the cluster signs in on either node.
    cli(
        &dir_a,
        &urls,
        &["user", "add", "sup1", "--role", "supervisor"],
        "sup1 password 123\n",
    );
    known_everywhere(&[&a, &b], &dir_a, &urls, "sup1");
    let on_a = sign_in(&a, "sup1", "sup1 password 123");
    // The session opened on A works on B without signing in again.
    let whoami = eventually("A's session known on B", CROSS, || {
        let reply = with_cookie(&b, "GET", &on_a);
        (reply.status == 200).then_some(reply)
    });
    assert_eq!(whoami.json::<serde_json::Value>()["user"], "sup1");

    // Signing out on B ends the session on A too.
    assert_eq!(with_cookie(&b, "DELETE", &on_a).status, 204);
    eventually("A refuses the session signed out on B", CROSS, || {
        (with_cookie(&a, "GET", &on_a).status == 401).then_some(())
    });

    // A token made through A's data dir works on B; revoked, it stops working on both.
    let api = cli(&dir_a, &urls, &["token", "create", "sup1"], "")
        .trim()
        .to_string();
    eventually("the token works on B", CROSS, || {
        (b.get_as("/api/v1/session", &api).status == 200).then_some(())
    });
    let listed = cli(&dir_b, &urls, &["token", "list"], "");
    let id = listed
        .lines()
        .find(|l| l.contains("sup1") && !l.contains("probe"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no token of sup1 in:\n{listed}"))
        .to_string();
    cli(&dir_b, &urls, &["token", "revoke", &id], "");
    for node in [&a, &b] {
        eventually("the revoked token refused", CROSS, || {
            (node.get_as("/api/v1/session", &api).status == 401).then_some(())
        });
    }

    // A disabled user's session, opened on B, ends on A.
    let on_b = sign_in(&b, "sup1", "sup1 password 123");
    eventually("B's session known on A", CROSS, || {
        (with_cookie(&a, "GET", &on_b).status == 200).then_some(())
    });
    cli(&dir_a, &urls, &["user", "disable", "sup1"], "");
    eventually("A refuses the disabled user's session", CROSS, || {
        (with_cookie(&a, "GET", &on_b).status == 401).then_some(())
    });

    // The data dir's own files are not the cluster's: the commands say what to do.
    let out = run_floorwatch(&dir_a, &["user", "list"], "");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("--cluster"), "{said}");

    // Both nodes wrote into one chain, readable from either data dir.
    let verified = cli(&dir_b, &urls, &["audit", "verify"], "");
    assert!(verified.contains("intact"), "{verified}");
    let listed = cli(&dir_a, &urls, &["audit", "list", "--action", "logout"], "");
    assert!(listed.contains("signed out"), "{listed}");
}

#[test]
fn two_nodes_racing_to_audit_keep_one_chain() {
    let nats = NatsCluster::start(1);
    let urls = nats.urls();
    let root = tempfile::tempdir().unwrap();
    let mut token = None;
    let dir_a = node_dir(root.path(), "a", &urls, &mut token);
    let dir_b = node_dir(root.path(), "b", &urls, &mut token);
    let a = start_node(&dir_a, &urls, "a", &[]);
    let b = start_node(&dir_b, &urls, "b", &[]);
    cli(
        &dir_a,
        &urls,
        &["user", "add", "lead1", "--role", "supervisor"],
        "lead1 password 123\n",
    );
    known_everywhere(&[&a, &b], &dir_a, &urls, "lead1");
    // Sign-ins (each audited) on both nodes at once (8 each: under the per-address limit of
    // 10 a minute), and a third writer, the command line, making tokens meanwhile.
    std::thread::scope(|scope| {
        for node in [&a, &b] {
            scope.spawn(move || {
                for _ in 0..8 {
                    sign_in(node, "lead1", "lead1 password 123");
                }
            });
        }
        let (dir, urls) = (&dir_a, &urls);
        scope.spawn(move || {
            for i in 0..8 {
                let label = format!("race {i}");
                cli(
                    dir,
                    urls,
                    &["token", "create", "lead1", "--label", &label],
                    "",
                );
            }
        });
    });
    let verified = cli(&dir_a, &urls, &["audit", "verify"], "");
    assert!(verified.contains("intact"), "{verified}");
    let logins = cli(&dir_b, &urls, &["audit", "list", "--action", "login"], "");
    assert_eq!(
        logins.lines().filter(|l| l.contains("lead1")).count(),
        16,
        "{logins}"
    );
    let tokens = cli(
        &dir_b,
        &urls,
        &["audit", "list", "--action", "token_create"],
        "",
    );
    assert_eq!(
        tokens.lines().filter(|l| l.contains("race ")).count(),
        8,
        "{tokens}"
    );
}

/// The alerts of `alerts_webhooks`: pbx1 silent for 60 s, breaks over 2 minutes; one receiver.
fn alert_config(dir: &Path, url: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let text = format!(
        r#"
[alerts]
default_rules = false
batch_s = 30

[[alerts.rules]]
id = "feed"
kind = "source_silent"
silent_s = 60
sources = ["pbx1"]

[[alerts.rules]]
id = "breaks"
kind = "not_ready_overrun"
allowance_min = {{ break = 2 }}

[[alerts.webhooks]]
url = "{url}"
format = "json"
retry_first_ms = 200
retry_max_s = 1
timeout_s = 120
"#
    );
    write_config(dir, &text)
}

/// pbx1 (a1) goes quiet after 10 s with a1 on a break, back at 200 s: batches at 70, 140 and
/// 210 s.
fn morning() -> Script {
    let mut script = Script::new();
    script.login(0.0, "a1", "t1");
    script.state(10.0, "a1", "not_ready", Some("break"));
    let mut s = 5.0;
    while s <= 285.0 {
        script.push(
            "pbx2",
            s,
            "agent_login",
            json!({ "agent": "a3", "team": "t2" }),
        );
        s += 20.0;
    }
    script.state(200.0, "a1", "available", None);
    for s in [240.0, 280.0] {
        script.push(
            "pbx1",
            s,
            "agent_login",
            json!({ "agent": "a2", "team": "t1" }),
        );
    }
    script
}

fn expected_keys() -> Vec<String> {
    [70.0, 140.0, 210.0]
        .iter()
        .map(|s| format!("hotline:batch-{}", Script::at(*s)))
        .collect()
}

/// Both nodes start, get the same events through the stream (posted into A), and the receiver's
/// log is returned once every batch was taken; `kill_holder` SIGKILLs the node whose request the receiver holds.
async fn two_nodes_send(hold_first: bool) -> (Vec<Request>, Vec<String>) {
    let receiver = Receiver::start(&[]).await;
    if hold_first {
        receiver.set_hold(Hold::First);
    }
    let nats = NatsCluster::start(1);
    let urls = nats.urls();
    let root = tempfile::tempdir().unwrap();
    let mut token = None;
    let mut nodes = Vec::new();
    for name in ["a", "b"] {
        let dir = node_dir(root.path(), name, &urls, &mut token);
        let config = alert_config(&root.path().join(name), &receiver.url);
        let node = tokio::task::block_in_place(|| {
            start_node(&dir, &urls, name, &["--config", config.to_str().unwrap()])
        });
        nodes.push((name, node));
    }
    let mut script = morning();
    tokio::task::block_in_place(|| post(&nodes[0].1, &mut script));
    if hold_first {
        let holder = tokio::task::block_in_place(|| {
            eventually("a first request", CROSS, || {
                receiver.requests().first().map(|r| r.node.clone())
            })
        });
        let (_, node) = nodes
            .iter_mut()
            .find(|(name, _)| *name == holder)
            .unwrap_or_else(|| panic!("the request came from no known node: {holder:?}"));
        // Killed after claiming and while sending: the batch is the other node's after a lease.
        node.kill_hard();
    }
    let want = expected_keys().len();
    tokio::task::block_in_place(|| {
        eventually("every batch taken", Duration::from_secs(90), || {
            (receiver.taken_keys().len() >= want).then_some(())
        })
    });
    // A moment more: no node sends a batch already taken.
    tokio::time::sleep(Duration::from_secs(2)).await;
    (receiver.requests(), receiver.taken_keys())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_deliver_each_webhook_batch_once() {
    let (requests, taken) = two_nodes_send(false).await;
    assert_eq!(taken, expected_keys(), "{requests:#?}");
    assert_eq!(requests.len(), taken.len(), "no repeat: {requests:#?}");
    assert!(
        requests.iter().all(|r| r.node == "a" || r.node == "b"),
        "{requests:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_between_claim_and_delivery_is_taken_over() {
    let (requests, taken) = two_nodes_send(true).await;
    assert_eq!(taken, expected_keys(), "{requests:#?}");
    let first = &requests[0];
    assert_eq!(first.status, HELD, "{requests:#?}");
    // The held batch came again, from the other node, with the same key.
    let again: Vec<&Request> = requests
        .iter()
        .filter(|r| r.idempotency_key == first.idempotency_key && r.status == 200)
        .collect();
    assert_eq!(again.len(), 1, "{requests:#?}");
    assert_ne!(again[0].node, first.node, "{requests:#?}");
}
