//! Alerts through a real server, one lifecycle at a time (issue 7, "Done when"):
//! - a break overrun raises an alert naming the agent and the reason, delivered on the live
//!   socket to the team lead of that agent's team only (not to another team, not to the wall),
//!   and acknowledged over HTTP;
//! - a silent source raises a critical system alert; the book and its acknowledgements survive
//!   a crash, and evaluation goes on after the restart as if never interrupted;
//! - a mistake in the `[alerts]` table stops the server at start, naming the key.

mod alerts_support;

use std::process::Command;
use std::time::Duration;

use alerts_support::{BASE, Script, alerts, eventually, post, write_config};
use floorwatch_core::alerts::{Alert, Level, RuleKind};
use floorwatch_core::{NotReadyReason, Scope};
use floorwatch_tests::{Board, LiveClient, Received, Server, binary};
use serde_json::{Value, json};

/// Acknowledges as the user whose API token is `token`: the acknowledgement is recorded in
/// that user's name.
fn ack(server: &Server, token: &str, id: &str, note: &str) -> floorwatch_tests::Reply {
    let body = json!({ "id": id, "note": note }).to_string();
    let bearer = format!("Bearer {token}");
    server.post_with(
        "/api/v1/alerts/ack",
        &body,
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &bearer),
        ],
    )
}

/// A user of `role` over `scope` on the server, and an API token of theirs.
fn user(server: &Server, name: &str, role: &str, scope: &str) -> String {
    server.add_user(name, role, Some(scope), "a long enough password");
    server.create_token(name)
}

/// Frames for `for_ms`, applied to `board`.
async fn drain(live: &mut LiveClient, board: &mut Board, for_ms: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(for_ms);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return;
        }
        match tokio::time::timeout(left, live.receive(Duration::from_secs(10))).await {
            Ok(Received::Frame(frame)) => board.apply(&frame),
            Ok(Received::Closed(close)) => panic!("the live socket closed: {close:?}"),
            Err(_) => return,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_break_overrun_names_the_agent_and_reaches_only_its_team_lead() {
    let dir = tempfile::tempdir().unwrap();
    // The default rules: a break longer than 15 minutes is a warning.
    let config = write_config(dir.path(), "");
    let server = Server::start(&["--clock", "events", "--config", config.to_str().unwrap()]);
    let lead_t1 = user(&server, "lead-t1", "team_lead", "team:t1");
    let lead_t2 = user(&server, "lead-t2", "team_lead", "team:t2");

    let mut script = Script::new();
    script
        .login(0.0, "a1", "t1")
        .login(0.0, "a3", "t2")
        .state(1.0, "a1", "available", None)
        .state(1.0, "a3", "available", None);
    post(&server, &mut script);

    // The team lead of t1, the team lead of t2, and the wall (figures only).
    let mut clients = Vec::new();
    for scopes in [
        vec!["team:t1", "agents:team:t1"],
        vec!["team:t2", "agents:team:t2"],
        vec!["centre"],
    ] {
        let mut live = LiveClient::connect(&server).await;
        live.subscribe(&scopes, &["today"]).await;
        let mut board = Board::default();
        board.apply(&live.next_frame().await);
        clients.push((live, board));
    }

    // a1 goes on a break at 60 s and stays on it; a3 keeps the clock moving with meetings
    // (not watched by default).
    script.state(60.0, "a1", "not_ready", Some("break"));
    for minute in 2..=20 {
        let s = 60.0 * f64::from(minute);
        let state = if minute % 2 == 0 {
            "not_ready"
        } else {
            "available"
        };
        let reason = (state == "not_ready").then_some("meeting");
        script.state(s, "a3", state, reason);
    }
    post(&server, &mut script);

    let all = alerts(&server);
    assert_eq!(all.len(), 1, "{all:#?}");
    let alert = &all[0];
    // Met once more than 900 s have passed since 60 s: at the boundary 970 s.
    let raised_at = BASE + 970_000;
    assert_eq!(alert.id, format!("not-ready-overrun/agent:a1@{raised_at}"));
    assert_eq!(alert.rule, "not-ready-overrun");
    assert_eq!(alert.kind, RuleKind::NotReadyOverrun);
    assert_eq!(alert.metric, "not_ready_s");
    assert_eq!(alert.scope, Scope::Agent("a1".into()));
    assert_eq!(alert.agent_name.as_deref(), Some("Li Na"));
    assert_eq!(alert.reason, Some(NotReadyReason::Break));
    assert_eq!(alert.level, Level::Warning);
    assert_eq!((alert.value, alert.threshold), (Some(910.0), 900.0));
    assert!(alert.is_open() && alert.acknowledged.is_none());

    // Only the team lead of t1 is told.
    let (lead, board) = &mut clients[0];
    lead.until(board, Duration::from_secs(10), |b| {
        b.alerts.contains_key(&alert.id)
    })
    .await;
    for (live, board) in &mut clients[1..] {
        drain(live, board, 1_000).await;
        assert!(board.alerts.is_empty(), "{:?}", board.alerts);
        assert!(
            board.deltas > 0,
            "the other clients did get the later events"
        );
    }

    // Acknowledged over HTTP: the answer is the alert, and the team lead sees who and why.
    // The other team's lead may not even see it.
    assert_eq!(ack(&server, &lead_t2, &alert.id, "").status, 404);
    let reply = ack(&server, &lead_t1, &alert.id, "she is with HR");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let acked: Alert = reply.json();
    let acknowledgement = acked.acknowledged.clone().unwrap();
    assert_eq!(acknowledgement.by, "lead-t1");
    assert_eq!(acknowledgement.note, "she is with HR");
    assert_eq!(acknowledgement.at, BASE + 1_200_000, "the floor's clock");
    let (lead, board) = &mut clients[0];
    lead.until(board, Duration::from_secs(10), |b| {
        b.alerts[&alert.id].acknowledged.is_some()
    })
    .await;
    assert_eq!(board.alerts[&alert.id], acked);

    // Once only; unknown ids and bad bodies are JSON errors.
    let again = ack(&server, server.admin_token(), &alert.id, "");
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(
        again.json::<Value>()["error"]
            .as_str()
            .unwrap()
            .contains("lead-t1")
    );
    let unknown = ack(&server, &lead_t1, "nope/queue:x@1", "");
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    let anonymous = server.request(
        "POST",
        "/api/v1/alerts/ack",
        Some(&json!({ "id": alert.id }).to_string()),
        &[("Content-Type", "application/json")],
    );
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    let malformed = server.post_with(
        "/api/v1/alerts/ack",
        "{\"alert\": 1}",
        &[("Content-Type", "application/json")],
    );
    assert_eq!(malformed.status, 400, "{}", malformed.body);
    assert!(malformed.json::<Value>()["error"].is_string());
    let bad_since = server.get("/api/v1/alerts?since=yesterday");
    assert_eq!(bad_since.status, 400, "{}", bad_since.body);

    // `since` leaves out alerts that changed before it, but never an open one; a1 comes back.
    script.state(1_260.0, "a1", "available", None);
    script.state(1_300.0, "a3", "available", None);
    post(&server, &mut script);
    let cleared: Vec<Alert> = server.get_json(&format!("/api/v1/alerts?since={}", BASE));
    assert_eq!(cleared[0].cleared_at, Some(BASE + 1_270_000));
    let later: Vec<Alert> = server.get_json(&format!("/api/v1/alerts?since={}", BASE + 1_280_000));
    assert!(later.is_empty(), "{later:#?}");

    // The rules, defaults filled in.
    let rules: Vec<Value> = server.get_json("/api/v1/alerts/rules");
    let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(
        ids,
        [
            "service-level",
            "not-ready-overrun",
            "source-silent",
            "sudden-peak",
            "dropped-calls"
        ]
    );
    assert_eq!(
        rules[1]["allowance_min"],
        json!({ "break": 15, "meal": 30 })
    );
}

#[test]
fn a_silent_source_raises_a_system_alert_that_survives_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "[alerts]\ndefault_rules = true\n");
    let data = dir.path().join("data");
    let mut server = Server::start_in(
        &data,
        &["--clock", "events", "--config", config.to_str().unwrap()],
    );

    // Two switches; pbx1 falls silent after 10 s while pbx2 keeps talking every 30 s.
    let mut script = Script::new();
    script.login(0.0, "a1", "t1");
    script.push(
        "pbx1",
        10.0,
        "agent_state",
        json!({ "agent": "a1", "state": "available" }),
    );
    for k in 0..=12 {
        let s = 30.0 * f64::from(k) + 5.0;
        script.push(
            "pbx2",
            s,
            "agent_login",
            json!({ "agent": "a3", "team": "t2" }),
        );
    }
    post(&server, &mut script);

    let all = alerts(&server);
    assert_eq!(all.len(), 1, "{all:#?}");
    let alert = &all[0];
    // Silent for 300 s from 10 s: met at the boundary 310 s.
    assert_eq!(
        alert.id,
        format!("source-silent/centre/pbx1@{}", BASE + 310_000)
    );
    assert_eq!(alert.kind, RuleKind::SourceSilent);
    assert_eq!(alert.scope, Scope::Centre);
    assert_eq!(alert.source.as_deref(), Some("pbx1"));
    assert_eq!(alert.level, Level::Critical);
    let duty_lead = user(&server, "duty-lead", "supervisor", "centre");
    let reply = ack(&server, &duty_lead, &alert.id, "link down, PBX team called");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let before = alerts(&server);

    // A crash, then a restart on the same data dir: the book is as it was.
    server.kill_hard();
    server.restart();
    assert_eq!(alerts(&server), before);

    // pbx1 speaks again at 400 s: cleared at the next boundary, and no second alert is raised
    // for the time the server was down.
    script.push(
        "pbx2",
        395.0,
        "agent_login",
        json!({ "agent": "a4", "team": "t2" }),
    );
    script.push(
        "pbx1",
        400.0,
        "agent_state",
        json!({ "agent": "a1", "state": "available" }),
    );
    script.push(
        "pbx2",
        420.0,
        "agent_login",
        json!({ "agent": "a4", "team": "t2" }),
    );
    post(&server, &mut script);
    let after = alerts(&server);
    assert_eq!(after.len(), 1, "{after:#?}");
    assert_eq!(after[0].cleared_at, Some(BASE + 410_000));
    assert_eq!(after[0].acknowledged, before[0].acknowledged);
    assert_eq!(after[0].escalation_step, 0, "acknowledged: never escalated");

    let journal = std::fs::read_to_string(data.join("alerts/changes.ndjson")).unwrap();
    let kinds: Vec<String> = journal
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["change"].to_string())
        .collect();
    assert_eq!(kinds, ["\"raised\"", "\"acknowledged\"", "\"cleared\""]);
}

#[test]
fn an_escalation_survives_a_restart_at_the_time_it_was_due() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        r#"
[alerts]
default_rules = false
escalation = [{ role = "team_lead", after_min = 0 }, { role = "supervisor", after_min = 5 }]

[[alerts.rules]]
id = "feed"
kind = "source_silent"
silent_s = 60
sources = ["pbx1"]
"#,
    );
    let data = dir.path().join("data");
    let mut server = Server::start_in(
        &data,
        &["--clock", "events", "--config", config.to_str().unwrap()],
    );
    let mut script = Script::new();
    script.push(
        "pbx1",
        0.0,
        "agent_login",
        json!({ "agent": "a1", "team": "t1" }),
    );
    script.push(
        "pbx2",
        100.0,
        "agent_login",
        json!({ "agent": "a3", "team": "t2" }),
    );
    post(&server, &mut script);
    let raised = alerts(&server);
    assert_eq!(raised[0].raised_at, BASE + 60_000);
    assert_eq!(raised[0].escalation_step, 0);

    server.kill_hard();
    server.restart();
    script.push(
        "pbx2",
        500.0,
        "agent_login",
        json!({ "agent": "a3", "team": "t2" }),
    );
    post(&server, &mut script);
    let escalated = eventually("the escalation", Duration::from_secs(5), || {
        let all = alerts(&server);
        (all[0].escalation_step == 1).then_some(all)
    });
    // Five minutes after the raise, at the boundary 360 s, though the server was down then.
    assert_eq!(escalated[0].escalated_at, BASE + 360_000);
    assert_eq!(escalated.len(), 1);
}

#[test]
fn a_mistake_in_the_alerts_table_stops_the_server_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[alerts]\n[[alerts.rules]]\nid = \"x\"\nmetric = \"offerd\"\ncomparison = \"above\"\nwarning = 1\n",
    );
    let output = Command::new(binary("floorwatch"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--config",
            config.to_str().unwrap(),
        ])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("alerts.rules[0].metric: unknown metric \"offerd\""),
        "{stderr}"
    );
}
