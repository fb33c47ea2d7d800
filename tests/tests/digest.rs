//! Issue 12, item 7 (the morning digest), through a real server (`--clock events`) with an SMTP
//! relay (STARTTLS, a self-signed certificate the server is told to trust) and work-chat robots
//! started here:
//! - a day of two sites replayed, then the next morning crossing 09:30: every recipient gets
//!   exactly one message, with only its subtree's figures, each equal to
//!   `GET /api/v1/reports/intervals?interval=day` of the day; each is audited and counted;
//! - the relay hangs (the digest is composed, not sent), the server is SIGKILLed and restarted
//!   with a working relay: exactly one message per recipient in the end, none again after a
//!   further restart.

mod smtp_support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::routing::post;
use floorwatch_tests::Server;
use serde_json::{Value, json};
use smtp_support::{Received, SmtpReceiver};

const ZONE: &str = "Asia/Shanghai";
const DAY: &str = "2026-03-09";
const NEXT: &str = "2026-03-10";
const AFTER: &str = "2026-03-11";

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

/// Work-chat robots: every POST to `/hook/NAME` is recorded and answered 200.
#[derive(Clone, Default)]
struct Hooks(Arc<Mutex<Vec<(String, Value)>>>);

impl Hooks {
    fn start(runtime: &tokio::runtime::Runtime) -> (Hooks, String) {
        let hooks = Hooks::default();
        let app = Router::new()
            .route("/hook/{name}", post(take))
            .with_state(hooks.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}/hook", listener.local_addr().unwrap());
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (hooks, base)
    }

    fn to(&self, name: &str) -> Vec<Value> {
        let got = self.0.lock().unwrap();
        got.iter()
            .filter(|(n, _)| n == name)
            .map(|(_, b)| b.clone())
            .collect()
    }
}

async fn take(
    State(hooks): State<Hooks>,
    UrlPath(name): UrlPath<String>,
    body: String,
) -> &'static str {
    let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
    hooks.0.lock().unwrap().push((name, body));
    "ok"
}

fn config(dir: &Path, smtp: &SmtpReceiver, hooks: &str) -> PathBuf {
    let text = format!(
        r#"
[centre]
id = "hotline"
name = "Hotline"
timezone = "{ZONE}"

[[sites]]
id = "north"
name = "North site"
[[sites.groups]]
id = "n-group"
[[sites.groups.teams]]
id = "n-team"
agents = ["n1", "n2"]

[[sites]]
id = "south"
name = "South site"
[[sites.groups]]
id = "s-group"
[[sites.groups.teams]]
id = "s-team"
agents = ["s1"]

[[queues]]
id = "nq"
name = "North sales"
owner = "site:north"
threshold_s = 20
target_pct = 80.0

[[queues]]
id = "sq"
name = "South care"
owner = "team:s-team"
threshold_s = 30
target_pct = 90.0

{digest}
[[digest.email]]
to = ["manager@hotline.example"]
scope = "centre"

[[digest.email]]
to = ["north@hotline.example"]
scope = "site:north"

[[digest.email]]
to = ["south@hotline.example", "south-deputy@hotline.example"]
scope = "site:south"

[[digest.webhooks]]
url = "{hooks}/north"
format = "json"
scope = "site:north"

[[digest.webhooks]]
url = "{hooks}/south"
format = "wecom"
scope = "site:south"
retry_first_ms = 100
"#,
        digest = smtp.digest_toml("09:30"),
    );
    let path = dir.join("floorwatch.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Events of the test, in time order per POST.
#[derive(Default)]
struct Script {
    seq: u64,
    lines: Vec<(i64, Value)>,
}

fn ms(day: &str, time: &str) -> i64 {
    smtp_support::local_ms(ZONE, day, time)
}

impl Script {
    fn push(&mut self, ts: i64, kind: &str, fields: Value) {
        self.seq += 1;
        let mut event = json!({"v": 1, "id": format!("digest-test-{}", self.seq),
            "source": "pbx", "seq": self.seq, "ts": ts, "type": kind});
        if let (Value::Object(e), Value::Object(f)) = (&mut event, fields) {
            e.extend(f);
        }
        self.lines.push((ts, event));
    }

    /// A call entering `queue` at `at`: answered by `agent` after `wait_s` and talked for two
    /// minutes, or abandoned after `wait_s` when `agent` is `None`.
    fn call(&mut self, id: &str, queue: &str, at: i64, wait_s: i64, agent: Option<&str>) {
        self.push(
            at,
            "call_entered_queue",
            json!({"call": id, "queue": queue,
            "caller": "13800000000", "direction": "inbound"}),
        );
        let after = at + wait_s * 1000;
        match agent {
            Some(agent) => {
                self.push(after, "call_answered", json!({"call": id, "agent": agent}));
                self.push(after + 120_000, "call_ended", json!({"call": id}));
            }
            None => self.push(after, "call_abandoned", json!({"call": id})),
        }
    }

    fn logins(&mut self, day: &str) {
        for (agent, team) in [("n1", "n-team"), ("n2", "n-team"), ("s1", "s-team")] {
            self.push(
                ms(day, "08:00"),
                "agent_login",
                json!({"agent": agent, "team": team}),
            );
        }
    }

    fn post(&mut self, server: &Server) {
        let mut lines = std::mem::take(&mut self.lines);
        lines.sort_by_key(|(ts, _)| *ts);
        let body: Vec<String> = lines.iter().map(|(_, e)| e.to_string()).collect();
        let reply = server.post_events(&body.join("\n"));
        assert_eq!(reply.accepted, lines.len() as u64, "{:?}", reply.errors);
    }
}

/// The day: two sites' queues, some calls answered late and some abandoned.
fn the_day(script: &mut Script) {
    script.logins(DAY);
    for i in 0..8i64 {
        let at = ms(DAY, "09:00") + i * 15 * 60_000;
        let agent = if i % 4 == 3 {
            None
        } else if i % 2 == 0 {
            Some("n1")
        } else {
            Some("n2")
        };
        script.call(&format!("n{i}"), "nq", at, 5 + 4 * i, agent);
    }
    for i in 0..5i64 {
        let at = ms(DAY, "10:07") + i * 20 * 60_000;
        let agent = if i == 2 { None } else { Some("s1") };
        script.call(&format!("s{i}"), "sq", at, 10 + 7 * i, agent);
    }
    for agent in ["n1", "n2", "s1"] {
        script.push(ms(DAY, "18:00"), "agent_logout", json!({"agent": agent}));
    }
}

/// A morning: a call at 09:00, then an event at 09:31 that moves the floor's clock past 09:30.
fn morning(script: &mut Script, day: &str) {
    script.logins(day);
    script.call(&format!("m-{day}"), "nq", ms(day, "09:00"), 3, Some("n1"));
    script.push(
        ms(day, "09:31"),
        "agent_state",
        json!({"agent": "n2", "state": "not_ready",
        "reason": "break"}),
    );
}

fn pct(v: &Value) -> String {
    v.as_f64()
        .map_or_else(|| "—".into(), |v| format!("{v:.1}%"))
}

fn secs(v: &Value) -> String {
    v.as_f64()
        .map_or_else(|| "—".into(), |v| format!("{v:.1} s"))
}

/// The day row of `scope` from the reports API.
fn day_row(server: &Server, scope: &str, day: &str) -> Value {
    let reply = server.get(&format!(
        "/api/v1/reports/intervals?scope={scope}&from={day}&to={day}&interval=day"
    ));
    assert_eq!(reply.status, 200, "{scope}: {}", reply.body);
    let body: Value = reply.json();
    body["rows"][0].clone()
}

/// The lines the e-mail must show for `scope` (nothing happened the same weekday last week).
fn expected_lines(row: &Value) -> Vec<String> {
    vec![
        format!("offered {} (last week 0)", row["offered"]),
        format!("answered {} (last week 0)", row["answered"]),
        format!("abandoned {} (last week 0)", row["abandoned"]),
        format!(
            "service level {} (target {:.1}%; last week —)",
            pct(&row["service_level_pct"]),
            row["service_level_target_pct"].as_f64().unwrap()
        ),
        format!("ASA {} (last week —)", secs(&row["asa_s"])),
        format!("AHT {} (last week —)", secs(&row["aht_s"])),
        format!(
            "abandon rate {} (last week —)",
            pct(&row["abandon_rate_pct"])
        ),
    ]
}

/// The sections of an e-mail's text: (scope, its figure lines).
fn sections(body: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in body.lines() {
        if let Some(head) = line.strip_prefix("== ") {
            let scope = head.split(' ').next().unwrap_or_default().to_string();
            out.push((scope, Vec::new()));
        } else if let Some((_, lines)) = out.last_mut()
            && !line.is_empty()
        {
            lines.push(line.to_string());
        }
    }
    out
}

/// The e-mail recipients and the scopes each must see, in order.
const EMAIL: [(&str, &[&str]); 3] = [
    (
        "manager@hotline.example",
        &["centre", "site:north", "site:south", "queue:nq", "queue:sq"],
    ),
    ("north@hotline.example", &["site:north", "queue:nq"]),
    ("south@hotline.example", &["site:south", "queue:sq"]),
];

fn mail_to<'a>(messages: &'a [Received], address: &str, day: &str) -> Vec<&'a Received> {
    messages
        .iter()
        .filter(|m| m.to.iter().any(|t| t == address))
        .filter(|m| m.header("Subject").is_some_and(|s| s.contains(day)))
        .collect()
}

/// Every recipient got exactly one message of `DAY`, with exactly its subtree's figures, each
/// equal to the reports API's day row.
fn check_day(server: &Server, smtp: &SmtpReceiver, hooks: &Hooks) {
    let messages = smtp.messages();
    for (address, scopes) in EMAIL {
        let got = mail_to(&messages, address, DAY);
        assert_eq!(got.len(), 1, "{address}: {got:#?}");
        let mail = got[0];
        assert_eq!(mail.from, "floorwatch@hotline.example");
        let body = mail.body();
        assert!(body.contains("Provisional: not signed off."), "{body}");
        let found = sections(&body);
        let found_scopes: Vec<&str> = found.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(found_scopes, scopes, "{address}:\n{body}");
        for (scope, lines) in &found {
            assert_eq!(
                *lines,
                expected_lines(&day_row(server, scope, DAY)),
                "{address} {scope}"
            );
        }
        if address.starts_with("north") {
            assert!(!body.contains("south") && !body.contains("South"), "{body}");
        }
        if address.starts_with("south") {
            assert!(!body.contains("north") && !body.contains("North"), "{body}");
            assert!(mail.to.iter().any(|t| t == "south-deputy@hotline.example"));
        }
        let id = mail.header("Message-ID").unwrap();
        assert!(
            id.starts_with(&format!("<floorwatch-digest.{DAY}.")),
            "{id}"
        );
    }
    // The north robot takes the digest itself: its rows are the reports API's, figure by figure.
    let north: Vec<Value> = hooks
        .to("north")
        .into_iter()
        .filter(|b| b["digest"]["day"] == DAY)
        .collect();
    assert_eq!(north.len(), 1, "{north:#?}");
    let rows = north[0]["digest"]["rows"].as_array().unwrap();
    let scopes: Vec<&str> = rows.iter().map(|r| r["scope"].as_str().unwrap()).collect();
    assert_eq!(scopes, ["site:north", "queue:nq"]);
    for row in rows {
        let api = day_row(server, row["scope"].as_str().unwrap(), DAY);
        for figure in [
            "offered",
            "answered",
            "abandoned",
            "service_level_pct",
            "service_level_target_pct",
            "asa_s",
            "aht_s",
            "abandon_rate_pct",
        ] {
            assert_eq!(row["day"][figure], api[figure], "{} {figure}", row["scope"]);
        }
    }
    assert_eq!(north[0]["digest"]["signed_off"], false);
    // The south robot's markdown names its own site and queue only.
    let south: Vec<String> = hooks
        .to("south")
        .into_iter()
        .map(|b| {
            b["markdown"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .filter(|md| md.contains(DAY))
        .collect();
    assert_eq!(south.len(), 1, "{south:#?}");
    assert!(
        south[0].contains("`site:south`") && south[0].contains("`queue:sq`"),
        "{}",
        south[0]
    );
    assert!(!south[0].contains("north"), "{}", south[0]);
}

fn outbox(data: &Path) -> String {
    std::fs::read_to_string(data.join("digest/outbox.ndjson")).unwrap_or_default()
}

fn records(data: &Path, record: &str) -> usize {
    outbox(data)
        .lines()
        .filter(|l| l.contains(&format!("\"record\":\"{record}\"")))
        .count()
}

fn audited(data: &Path) -> Vec<String> {
    std::fs::read_to_string(data.join("audit.log"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"action\":\"digest\""))
        .map(str::to_string)
        .collect()
}

#[test]
fn each_recipient_gets_its_subtree_once_with_the_reports_figures() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpReceiver::start(dir.path());
    let (hooks, base) = Hooks::start(smtp.runtime());
    let config = config(dir.path(), &smtp, &base);
    let data = dir.path().join("data");
    let server = Server::start_in(
        &data,
        &["--clock", "events", "--config", config.to_str().unwrap()],
    );
    let mut script = Script::default();
    the_day(&mut script);
    script.post(&server);
    assert!(smtp.messages().is_empty());
    morning(&mut script, NEXT);
    script.post(&server);
    eventually("three e-mails and two robot messages", || {
        (smtp.messages().len() >= 3
            && hooks.to("north").len() + hooks.to("south").len() >= 2
            && records(&data, "sent") >= 5)
            .then_some(())
    });
    check_day(&server, &smtp, &hooks);
    // Every digest sent is in the audit trail, once, and counted for Prometheus.
    let audit = audited(&data);
    assert_eq!(audit.len(), 5, "{audit:#?}");
    assert!(
        audit
            .iter()
            .all(|l| l.contains(DAY) && l.contains("provisional"))
    );
    assert!(
        !audit.iter().any(|l| l.contains("?")),
        "no robot key in the trail"
    );
    let metrics = server.get("/metrics").body;
    assert!(
        metrics.contains(r#"floorwatch_digest_messages_total{channel="email",outcome="sent"} 3"#),
        "{metrics}"
    );
    assert!(metrics.contains("floorwatch_digest_pending 0"), "{metrics}");
}

#[test]
fn a_digest_composed_before_a_crash_is_sent_once_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpReceiver::start(dir.path());
    let (hooks, base) = Hooks::start(smtp.runtime());
    let config = config(dir.path(), &smtp, &base);
    let data = dir.path().join("data");
    let mut server = Server::start_in(
        &data,
        &["--clock", "events", "--config", config.to_str().unwrap()],
    );
    smtp.stall(true);
    let mut script = Script::default();
    the_day(&mut script);
    script.post(&server);
    morning(&mut script, NEXT);
    script.post(&server);
    // Composed, the robots served, the relay holding the e-mail's connection: SIGKILL.
    eventually("the digest composed and the relay hanging", || {
        (records(&data, "composed") == 5 && records(&data, "sent") == 2 && smtp.connections() >= 1)
            .then_some(())
    });
    let composed = outbox(&data);
    server.kill_hard();
    assert!(smtp.messages().is_empty());
    smtp.stall(false);
    server.restart();
    eventually("three e-mails after the restart", || {
        (smtp.messages().len() >= 3 && records(&data, "sent") >= 3).then_some(())
    });
    // The message sent is the one composed before the crash: its Message-ID says so.
    for mail in smtp.messages() {
        let id = mail.header("Message-ID").unwrap();
        assert!(composed.contains(&id), "{id} not in\n{composed}");
    }
    // A further restart sends nothing again; the next day's digest is the barrier: every
    // recipient's messages go in order, so a repeat of the first day would come before it.
    server.restart();
    let mut script = Script {
        seq: 1_000,
        ..Script::default()
    };
    morning(&mut script, AFTER);
    script.post(&server);
    eventually("the next day's digest everywhere", || {
        let messages = smtp.messages();
        let mails = EMAIL
            .iter()
            .all(|(a, _)| mail_to(&messages, a, NEXT).len() == 1);
        let hooked = ["north", "south"]
            .iter()
            .all(|h| hooks.to(h).iter().any(|b| b.to_string().contains(NEXT)));
        (mails && hooked).then_some(())
    });
    check_day(&server, &smtp, &hooks);
    assert_eq!(smtp.messages().len(), 6);
    assert_eq!(hooks.to("north").len() + hooks.to("south").len(), 4);
}
