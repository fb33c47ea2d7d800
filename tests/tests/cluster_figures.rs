//! Cluster mode with real processes (issue 16, items 1 to 4; docs/CLUSTER.md): three
//! JetStream servers and three `floorwatch --cluster` nodes on 127.0.0.1, with an alert
//! webhook and the morning digest configured on every node (a receiver and an SMTP relay
//! started here).
//!
//! A simulated day is posted into node A in chunks. Mid-day, once node B or C holds the claim
//! of a webhook batch (the receiver holds its request unanswered), that node is SIGKILLed, and
//! at once the NATS server leading the claims' bucket is SIGKILLed too: ingest into A goes on
//! (a batch the stream could not confirm while it elected a new leader is answered 503 and
//! sent again, as any sender would), the dead node's batch is taken over by another node after
//! its lease, with a NATS server down, and the dead node restarts from its snapshot and
//! replays only the stream's tail. At the end all three nodes stand at the same stream
//! sequence and give identical `today` figures for every scope and identical alert lists; A
//! and the other survivor applied every acknowledged event exactly once. Then the next
//! morning crosses 09:30: the day's digest is sent. Every webhook batch any node queued was
//! taken exactly once (one 2xx per Idempotency-Key) and the digest arrived once.
//!
//! The claims' bucket was made by a command line told of one NATS server only: it still has
//! three copies (a node counts the servers its NATS server tells of), so the loss of its
//! leader loses no claim.

mod cluster_support;
#[allow(dead_code)] // The digest's own tests use the rest of the relay's kit.
mod smtp_support;
mod webhook_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cluster_support::{cli, node_dir, start_node};
use floorwatch_core::{Engine, Event, Scope};
use floorwatch_sim::Scenario;
use floorwatch_tests::nats::NatsCluster;
use floorwatch_tests::{Server, simulate_days};
use serde_json::{Value, json};
use smtp_support::SmtpReceiver;
use webhook_support::{HELD, Hold, Receiver};

/// How long the nodes may take to agree (generous: two shared cores, debug builds).
const SETTLE: Duration = Duration::from_secs(60);
/// The day is posted in this many chunks.
const CHUNKS: usize = 16;
/// How long the webhook batches and the digest may take once the day is in (a held batch's
/// lease, retries; two shared cores, debug builds).
const EFFECTS: Duration = Duration::from_secs(120);
/// A little over the claims' poll (server/src/effects.rs: a fifth of the 15 s lease).
const CATCH_UP: Duration = Duration::from_millis(3_500);

/// The simulated day's date, and the centre's (Asia/Shanghai, the `small` preset's).
const DAY: &str = "2026-03-09";
const NEXT: &str = "2026-03-10";
const ZONE: &str = "Asia/Shanghai";
/// The claims' bucket (server/src/effects.rs) and the buckets and stream of the shared state.
const EFFECTS_STREAM: &str = "KV_floorwatch_effects";
const SHARED_STREAMS: [&str; 4] = [
    EFFECTS_STREAM,
    "KV_floorwatch_accounts",
    "KV_floorwatch_sessions",
    "FLOORWATCH_AUDIT",
];

/// The simulated organisation (`org`) with the default alert rules, one webhook to `hook`
/// and the morning digest at 09:30 through `smtp` to one manager, written to `dir`.
fn effects_config(dir: &Path, org: &Path, hook: &str, smtp: &SmtpReceiver) -> PathBuf {
    let org = std::fs::read_to_string(org).unwrap();
    let text = format!(
        r#"{org}
[[alerts.webhooks]]
url = "{hook}"
format = "json"
retry_first_ms = 200
retry_max_s = 1
timeout_s = 300
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

/// Node `name` on its data dir (made by [`node_dir`]), told of every NATS server.
fn node(nats: &NatsCluster, dir: &Path, name: &str, config: &Path) -> Server {
    start_node(
        dir,
        &nats.urls(),
        name,
        &[
            "--config",
            config.to_str().unwrap(),
            "--checkpoint-every-s",
            "1",
        ],
    )
}

/// Whether `server` has written a snapshot of its engine.
fn has_snapshot(server: &Server) -> bool {
    let snapshots = server.data_dir().join("cluster-snapshots");
    std::fs::read_dir(&snapshots).map_or(0, |d| d.count()) > 0
}

/// A node's webhook outbox (`alerts/outbox.ndjson`): the batch ids it queued, in order (each
/// once), and those still pending (queued, neither delivered by it nor dropped as sent by
/// another node).
fn webhook_outbox(server: &Server) -> (Vec<String>, BTreeSet<String>) {
    let path = server.data_dir().join("alerts/outbox.ndjson");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let (mut queued, mut finished) = (Vec::new(), BTreeSet::new());
    for line in text.lines() {
        let Ok(record) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        match record["record"].as_str() {
            Some("queued") => {
                let id = record["batch"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                if !queued.contains(&id) {
                    queued.push(id);
                }
            }
            Some(_) => {
                finished.insert(record["batch"].as_str().unwrap_or_default().to_string());
            }
            None => {}
        }
    }
    let pending = queued
        .iter()
        .filter(|id| !finished.contains(*id))
        .cloned()
        .collect();
    (queued, pending)
}

/// Whether a node has finished the digest (sent it, or dropped it as sent by another node).
fn digest_finished(server: &Server) -> bool {
    let path = server.data_dir().join("digest/outbox.ndjson");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .contains("\"record\":\"sent\"")
}

/// The next morning: an agent of the day signs in at 08:00 and takes a break at 09:31, so the
/// floor's clock crosses 09:30 and the day's digest is due. From a source of its own.
fn next_morning(lines: &[&str]) -> String {
    let login: Value = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["type"] == "agent_login")
        .expect("the day signs agents in");
    let at = |time: &str| smtp_support::local_ms(ZONE, NEXT, time);
    let event = |seq: u64, ts: i64, kind: &str, extra: Value| {
        let mut event = json!({"v": 1, "id": format!("next-morning-{seq}"),
            "source": "next-morning", "seq": seq, "ts": ts, "type": kind,
            "agent": login["agent"]});
        if let (Value::Object(e), Value::Object(x)) = (&mut event, extra) {
            e.extend(x);
        }
        event.to_string()
    };
    [
        event(
            1,
            at("08:00"),
            "agent_login",
            json!({"team": login["team"]}),
        ),
        event(
            2,
            at("09:31"),
            "agent_state",
            json!({"state": "not_ready", "reason": "break"}),
        ),
    ]
    .join("\n")
}

/// Waits for `check` to give a value; fails after `within` (a hang, never a speed).
fn eventually<T>(what: &str, within: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
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
fn three_nodes_give_identical_figures_and_effects_once_through_a_node_kill_and_a_nats_server_kill()
{
    let dir = tempfile::tempdir().unwrap();
    let (days, org) = simulate_days("small", &[DAY], 11, dir.path());
    let text = std::fs::read_to_string(&days[0]).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let events: Vec<Event> = lines.iter().map(|l| Event::from_json(l).unwrap()).collect();

    let started = Instant::now();
    eprintln!("{} events", lines.len());
    let smtp = SmtpReceiver::start(dir.path());
    let hooks = smtp.runtime().block_on(Receiver::start(&[]));
    let config = effects_config(dir.path(), &org, &hooks.url, &smtp);
    let mut nats = NatsCluster::start(3);

    // The harness admin is made by the command line told of the third NATS server only: it
    // makes the shared buckets, and still gives each three copies (it counts the servers that
    // NATS server tells of).
    let mut token = None;
    let dirs: Vec<(&str, PathBuf)> = ["a", "b", "c"]
        .into_iter()
        .map(|name| (name, node_dir(dir.path(), name, &nats.url(2), &mut token)))
        .collect();
    let placed: BTreeMap<String, u64> = nats
        .streams()
        .into_iter()
        .map(|s| (s.name, s.replicas))
        .collect();
    for name in SHARED_STREAMS {
        assert_eq!(placed.get(name), Some(&3), "{name}: {placed:?}");
    }
    let mut nodes: Vec<(&str, Server)> = dirs
        .iter()
        .map(|(name, data)| (*name, node(&nats, data, name, &config)))
        .collect();

    let chunk = lines.len().div_ceil(CHUNKS);
    let mut acknowledged = 0;
    // The node killed (B or C, whichever first sends a batch once the receiver holds) and how
    // many requests the receiver had when the NATS server went down.
    let mut victim: Option<(usize, String)> = None;
    let mut requests_at_nats_kill = 0;
    // The first batch sent by B or C is held: that node has claimed it and hangs in its
    // delivery; every node's later batches wait behind it.
    hooks.set_hold(Hold::FirstNotFrom("a".into()));
    for (i, part) in lines.chunks(chunk).enumerate() {
        acknowledged += post_until_stored(&nodes[0].1, &part.join("\n"));
        if hooks.held().is_none() {
            // A node that lost a claim asks again after a poll (3 s): A, which wins while the
            // others sleep, keeps winning unless the feed waits for them to catch up, so that
            // all three race for the next chunk's first batch.
            std::thread::sleep(CATCH_UP);
        }
        // Mid-day, at the first chunk after the holder wrote a snapshot (one a second at most,
        // as messages arrive: the feed goes on meanwhile, so a snapshot comes), the holder is
        // killed, and with its claim still live the NATS server leading the claims' bucket.
        if victim.is_none() && i >= CHUNKS / 2 - 2 {
            let holder = hooks.held().and_then(|held| {
                let at = nodes.iter().position(|(name, _)| *name == held.node)?;
                has_snapshot(&nodes[at].1).then_some((at, held.idempotency_key))
            });
            if let Some((at, key)) = holder {
                nodes[at].1.kill_hard();
                let leader = nats
                    .streams()
                    .into_iter()
                    .find(|s| s.name == EFFECTS_STREAM)
                    .and_then(|s| s.leader)
                    .expect("the claims' bucket has a leader");
                requests_at_nats_kill = hooks.requests().len();
                nats.kill(nats.index_of(&leader).unwrap());
                eprintln!(
                    "killed node {} holding {key} and NATS server {leader} at chunk {i}",
                    nodes[at].0
                );
                victim = Some((at, key));
            } else {
                assert!(
                    i < CHUNKS - 4,
                    "by chunk {i} neither B nor C held a batch with a snapshot: {:#?}",
                    hooks.requests()
                );
                std::thread::sleep(Duration::from_millis(500));
            }
        }
        if i == CHUNKS - 3 {
            let (at, key) = victim.as_ref().expect("a node was killed mid-day");
            // Back only once its batch was taken over: a node back under its own name would
            // resume its own claim and send the batch itself.
            eventually("the killed node's batch taken over", EFFECTS, || {
                hooks.taken_keys().contains(key).then_some(())
            });
            eprintln!("taken over after {:?}", started.elapsed());
            nodes[*at].1.restart();
        }
    }
    assert_eq!(acknowledged, lines.len() as u64, "every line acknowledged");
    let (victim, held_key) = victim.unwrap();
    let survivor = 3 - victim;
    let (a, b, c) = (&nodes[0].1, &nodes[1].1, &nodes[2].1);

    eprintln!("posted after {:?}", started.elapsed());
    let scopes = scopes_of(&events);
    assert!(scopes.len() > 20, "{scopes:?}");
    // Read every node at one stream position: a node's stream_last is what it last heard, so
    // the positions may agree while a message is still on its way; every figure names the
    // position it reflects (none while a node is part way through a message), and a reading
    // whose figures name another position is taken again.
    let deadline = Instant::now() + SETTLE;
    let (position, readings_by_node) = loop {
        let position = wait_until_equal(&[a, b, c]);
        let taken: Vec<(Vec<Value>, Value)> =
            [a, b, c].iter().map(|n| readings(n, &scopes)).collect();
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
    // A and the other survivor applied every acknowledged event exactly once.
    for at in [0, survivor] {
        let health: Value = nodes[at].1.get_json("/healthz");
        assert_eq!(
            health["events"]["accepted"].as_u64(),
            Some(lines.len() as u64),
            "node {}: {health}",
            nodes[at].0
        );
    }
    // The killed node resumed from its snapshot and replayed only the tail of the stream.
    let restarted = cluster_health(&nodes[victim].1);
    let resumed = restarted["resumed_from_snapshot"]
        .as_u64()
        .unwrap_or_else(|| panic!("the killed node did not resume from a snapshot: {restarted}"));
    assert!(resumed > 1, "{restarted}");
    let replayed = restarted["replayed_messages"].as_u64().unwrap();
    assert!(
        replayed > 0 && replayed <= position - (resumed - 1),
        "it replayed messages after its snapshot only: {restarted}"
    );
    assert!(
        replayed < position,
        "it replayed the tail, not the whole stream: {restarted}"
    );

    // The next morning: the day's digest is due. Then every node has finished every webhook
    // batch it queued and the digest (sent it, or dropped it as sent by another node): nothing
    // more will be sent.
    post_until_stored(a, &next_morning(&lines));
    let queued = eventually("every effect finished on every node", EFFECTS, || {
        let outboxes: Vec<(Vec<String>, BTreeSet<String>)> =
            nodes.iter().map(|(_, n)| webhook_outbox(n)).collect();
        let done = outboxes.iter().all(|(_, pending)| pending.is_empty())
            && outboxes[0].0 == outboxes[survivor].0
            && nodes.iter().all(|(_, n)| digest_finished(n));
        done.then(|| outboxes[0].0.clone())
    });
    eprintln!("effects done after {:?}", started.elapsed());

    // Every batch the nodes queued was taken exactly once, under its Idempotency-Key.
    let requests = hooks.requests();
    let expected: BTreeSet<String> = queued.iter().map(|id| format!("hotline:{id}")).collect();
    assert!(
        expected.len() > 5,
        "a day of alerts makes batches: {queued:?}"
    );
    eprintln!(
        "{} batches, {} requests, held {held_key} from node {}",
        expected.len(),
        requests.len(),
        nodes[victim].0
    );
    let mut taken: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in hooks.taken() {
        taken.entry(r.idempotency_key).or_default().push(r.node);
    }
    let twice: Vec<_> = taken.iter().filter(|(_, by)| by.len() > 1).collect();
    assert!(twice.is_empty(), "batches taken more than once: {twice:?}");
    assert_eq!(
        taken.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "every batch queued taken, nothing else: {requests:#?}"
    );
    // The held batch was the killed node's, and another node sent it after the NATS server
    // went down (taken over from a claim that outlived the claims' bucket's leader).
    let held = requests.iter().position(|r| r.status == HELD).unwrap();
    assert_eq!(requests[held].node, nodes[victim].0);
    assert_eq!(requests[held].idempotency_key, held_key);
    let again = requests
        .iter()
        .position(|r| r.idempotency_key == held_key && r.status == 200)
        .unwrap();
    assert!(again >= requests_at_nats_kill, "{requests:#?}");
    assert_ne!(requests[again].node, nodes[victim].0, "{requests:#?}");

    // The digest arrived once: one message, one Message-ID, audited once.
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "one digest, not one per node");
    let id = messages[0].header("Message-ID").unwrap();
    assert!(id.contains(DAY), "{id}");
    let audited = cli(
        &dirs[0].1,
        &nats.urls(),
        &["audit", "list", "--action", "digest"],
        "",
    );
    assert_eq!(
        audited.lines().filter(|l| l.contains(DAY)).count(),
        1,
        "{audited}"
    );
    eprintln!("checked after {:?}", started.elapsed());
    drop(nodes);
    drop(nats);
}
