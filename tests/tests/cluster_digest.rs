//! The morning digest of a cluster goes out once, not once per node (issue 16 item 3,
//! docs/CLUSTER.md "Exactly once"), through a real SMTP relay started here (STARTTLS, a
//! self-signed certificate), a NATS JetStream server and two `floorwatch --cluster` nodes; the
//! events go into one node and reach both through the cluster's event stream:
//! - both nodes compose the same message; exactly one reaches the relay, audited once;
//! - a node that claimed the message and hangs on the relay is SIGKILLed; the other node takes
//!   the message over once the claim lapses and sends it, with the same Message-ID.

mod cluster_support;
#[allow(dead_code)] // The digest's own tests use the rest of the relay's kit.
mod smtp_support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cluster_support::{cli, node_dir, start_node};
use floorwatch_tests::Server;
use floorwatch_tests::nats::NatsCluster;
use serde_json::{Value, json};
use smtp_support::SmtpReceiver;

const ZONE: &str = "Asia/Shanghai";
const DAY: &str = "2026-03-09";
const NEXT: &str = "2026-03-10";

/// Waits for `check` to give a value; fails after a generous deadline (a hang, never a speed).
fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn config(dir: &Path, smtp: &SmtpReceiver) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let text = format!(
        r#"
[centre]
id = "hotline"
timezone = "{ZONE}"

[[sites]]
id = "north"
[[sites.groups]]
id = "n-group"
[[sites.groups.teams]]
id = "n-team"
agents = ["n1"]

[[queues]]
id = "nq"
owner = "site:north"

{digest}
[[digest.email]]
to = ["manager@hotline.example"]
scope = "centre"
"#,
        digest = smtp.digest_toml("09:30"),
    );
    let path = dir.join("floorwatch.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn ms(day: &str, time: &str) -> i64 {
    smtp_support::local_ms(ZONE, day, time)
}

/// A day with two calls, then the next morning past 09:30: the same NDJSON for every node.
fn events() -> String {
    let mut seq = 0;
    let mut lines = Vec::new();
    let mut push = |ts: i64, kind: &str, fields: Value| {
        seq += 1;
        let mut event = json!({"v": 1, "id": format!("cluster-digest-{seq}"),
            "source": "pbx", "seq": seq, "ts": ts, "type": kind});
        if let (Value::Object(e), Value::Object(f)) = (&mut event, fields) {
            e.extend(f);
        }
        lines.push(event.to_string());
    };
    push(
        ms(DAY, "08:00"),
        "agent_login",
        json!({"agent": "n1", "team": "n-team"}),
    );
    for (i, at) in ["09:00", "10:00"].iter().enumerate() {
        let call = format!("c{i}");
        push(
            ms(DAY, at),
            "call_entered_queue",
            json!({"call": call, "queue": "nq", "caller": "13800000000", "direction": "inbound"}),
        );
        push(
            ms(DAY, at) + 5_000,
            "call_answered",
            json!({"call": call, "agent": "n1"}),
        );
        push(ms(DAY, at) + 125_000, "call_ended", json!({"call": call}));
    }
    push(ms(DAY, "18:00"), "agent_logout", json!({"agent": "n1"}));
    push(
        ms(NEXT, "08:00"),
        "agent_login",
        json!({"agent": "n1", "team": "n-team"}),
    );
    push(
        ms(NEXT, "09:31"),
        "agent_state",
        json!({"agent": "n1", "state": "not_ready", "reason": "break"}),
    );
    lines.join("\n")
}

fn feed(node: &Server) {
    let body = events();
    let reply = node.post_events(&body);
    assert_eq!(reply.accepted, body.lines().count() as u64, "{reply:?}");
}

fn digests_audited(dir: &Path, urls: &str) -> usize {
    cli(dir, urls, &["audit", "list", "--action", "digest"], "")
        .lines()
        .filter(|l| l.contains(DAY))
        .count()
}

#[test]
fn two_nodes_send_the_digest_once() {
    let root = tempfile::tempdir().unwrap();
    let smtp = SmtpReceiver::start(root.path());
    let nats = NatsCluster::start(1);
    let urls = nats.urls();
    let mut token = None;
    let mut nodes = Vec::new();
    for name in ["a", "b"] {
        let dir = node_dir(root.path(), name, &urls, &mut token);
        let config = config(&root.path().join(name), &smtp);
        nodes.push((
            dir.clone(),
            start_node(&dir, &urls, name, &["--config", config.to_str().unwrap()]),
        ));
    }
    // Into A only: B applies the same events from the stream.
    feed(&nodes[0].1);
    let dir = &nodes[0].0;
    eventually("the digest sent and audited", || {
        (!smtp.messages().is_empty() && digests_audited(dir, &urls) >= 1).then_some(())
    });
    // Both nodes are done with it: each has recorded it sent (by itself or by the other).
    for (dir, _) in &nodes {
        eventually("the digest finished on every node", || {
            let outbox =
                std::fs::read_to_string(dir.join("digest/outbox.ndjson")).unwrap_or_default();
            outbox.contains("\"record\":\"sent\"").then_some(())
        });
    }
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "one message, not one per node");
    assert_eq!(digests_audited(dir, &urls), 1);
}

#[test]
fn a_node_killed_while_sending_the_digest_is_taken_over() {
    let root = tempfile::tempdir().unwrap();
    let smtp = SmtpReceiver::start(root.path());
    let nats = NatsCluster::start(1);
    let urls = nats.urls();
    let mut token = None;
    let dir_a = node_dir(root.path(), "a", &urls, &mut token);
    let dir_b = node_dir(root.path(), "b", &urls, &mut token);
    let config_a = config(&root.path().join("a"), &smtp);
    let config_b = config(&root.path().join("b"), &smtp);

    // A alone claims the digest and hangs on the relay: SIGKILL between claim and sent.
    smtp.stall(true);
    let mut a = start_node(
        &dir_a,
        &urls,
        "a",
        &["--config", config_a.to_str().unwrap()],
    );
    feed(&a);
    eventually("A connected to the relay", || {
        (smtp.connections() >= 1).then_some(())
    });
    a.kill_hard();
    assert!(smtp.messages().is_empty());
    smtp.stall(false);

    // B applies the stream A fed, computes the same message, finds A's claim, waits for it to
    // lapse, sends it.
    let b = start_node(
        &dir_b,
        &urls,
        "b",
        &["--config", config_b.to_str().unwrap()],
    );
    eventually("B sent the digest", || {
        (!smtp.messages().is_empty() && digests_audited(&dir_b, &urls) >= 1).then_some(())
    });
    let composed_by_a =
        std::fs::read_to_string(dir_a.join("digest/outbox.ndjson")).unwrap_or_default();
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    let id = messages[0].header("Message-ID").unwrap();
    assert!(
        composed_by_a.contains(&id),
        "{id} is the message A composed"
    );
    assert_eq!(digests_audited(&dir_b, &urls), 1);
    drop(b);
}
