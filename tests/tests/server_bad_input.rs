//! Bad input at the edge (issue: hardening, items 3 and 9): a body of garbage gets a small
//! reply at a small cost, and ids or user names with control characters are refused before
//! they can reach a log line or a team lead's screen.

use floorwatch_tests::Server;

/// The peak resident memory of process `pid`, bytes (Linux: `VmHWM` in /proc).
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap()
}

#[test]
fn a_garbage_body_gets_a_small_reply_and_costs_little_memory() {
    // Issue: hardening, item 3 (a reply about 50 times the request).
    let server = Server::start(&[]);
    let body = "x\n".repeat(8 * 1024 * 1024);
    let reply = server.post_with(
        "/api/v1/events",
        &body,
        &[("Content-Type", "application/x-ndjson")],
    );
    assert_eq!(
        reply.status,
        200,
        "{}",
        &reply.body[..reply.body.len().min(500)]
    );
    assert!(reply.body.len() < 64 * 1024, "{} bytes", reply.body.len());
    let parsed: floorwatch_core::wire::IngestReply = reply.json();
    assert_eq!(parsed.rejected, 8 * 1024 * 1024);
    assert_eq!(parsed.errors.len(), 100);
    let peak = peak_rss(server.pid().unwrap());
    assert!(peak < 200 * 1024 * 1024, "peak RSS {} MB", peak >> 20);
}

#[test]
fn control_characters_are_refused_in_ids_and_user_names() {
    let server = Server::start(&[]);
    let now = jiff::Timestamp::now().as_millisecond();
    let first = format!(
        r#"{{"v":1,"id":"e1","source":"pbx","seq":1,"ts":{now},"type":"agent_login","agent":"a1\nsigned in user=admin"}}"#
    );
    let second = format!(
        r#"{{"v":1,"id":"e2","source":"pbx","seq":2,"ts":{now},"type":"agent_login","agent":"a\u202e2"}}"#
    );
    let body = format!("{first}\n{second}");
    let reply = server.post_events(&body);
    assert_eq!((reply.accepted, reply.rejected), (0, 2), "{reply:?}");
    for error in &reply.errors {
        assert!(
            error
                .reason
                .contains("field `agent` has a control or text-direction character"),
            "{error:?}"
        );
    }

    let forged = "admin\nINFO floorwatch_server::http::signin: signed in user=admin";
    let reply = server.request(
        "POST",
        "/api/v1/session",
        Some(&serde_json::json!({"user": forged, "password": "x"}).to_string()),
        &[("Content-Type", "application/json")],
    );
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains("control"), "{}", reply.body);
    assert!(
        !server
            .logs()
            .lines()
            .any(|l| l.starts_with("INFO floorwatch_server::http::signin")),
        "{}",
        server.logs()
    );
}
