//! Ingest against a real server: per-line errors next to accepted lines, duplicates counted
//! once (and journaled once), the token, size limits, and the ingest websocket.

use std::time::Duration;

use floorwatch_core::wire::IngestReply;
use floorwatch_tests::Server;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

const T0: i64 = 1_700_000_000_000;

fn line(id: &str, seq: u64, ts: i64, kind: &str) -> String {
    format!(r#"{{"v":1,"id":"{id}","source":"test","seq":{seq},"ts":{ts},{kind}}}"#)
}

/// One call in `billing`: enters, is answered after `wait_s`, ends 60 s later.
fn call(n: u64, start: i64, wait_s: i64) -> Vec<String> {
    let c = format!("c{n}");
    vec![
        line(
            &format!("{c}-q"),
            n * 10,
            start,
            &format!(r#""type":"call_entered_queue","call":"{c}","queue":"billing""#),
        ),
        line(
            &format!("{c}-a"),
            n * 10 + 1,
            start + wait_s * 1000,
            &format!(r#""type":"call_answered","call":"{c}","agent":"a1""#),
        ),
        line(
            &format!("{c}-e"),
            n * 10 + 2,
            start + wait_s * 1000 + 60_000,
            &format!(r#""type":"call_ended","call":"{c}","agent":"a1""#),
        ),
    ]
}

fn journal_lines(server: &Server) -> usize {
    // The journal's day files are compressed: `floorwatch journal cat` prints their events.
    let cat = floorwatch_tests::run_floorwatch(server.data_dir(), &["journal", "cat"], "");
    assert!(
        cat.status.success(),
        "{}",
        String::from_utf8_lossy(&cat.stderr)
    );
    String::from_utf8(cat.stdout).unwrap().lines().count()
}

#[test]
fn bad_lines_get_per_line_errors_while_good_lines_are_accepted() {
    let server = Server::start(&["--clock", "events"]);
    let mut lines = call(1, T0, 5);
    lines.insert(1, "this is not json".into());
    lines.insert(
        3,
        line(
            "bad-ts",
            99,
            1_700_000_000,
            r#""type":"agent_logout","agent":"a1""#,
        ),
    );
    lines.push(r#"{"v":1,"id":"x","source":"test","seq":1,"ts":1700000000000,"type":"call_exploded","call":"c"}"#.into());
    let reply = server.post_events(&lines.join("\n"));
    assert_eq!((reply.accepted, reply.duplicate, reply.rejected), (3, 0, 3));
    let numbered: Vec<u64> = reply.errors.iter().map(|e| e.line).collect();
    assert_eq!(numbered, vec![2, 4, 6]);
    assert!(
        reply.errors[1].reason.contains("`ts`"),
        "{:?}",
        reply.errors
    );
    assert!(
        reply.errors[2].reason.contains("call_exploded"),
        "{:?}",
        reply.errors
    );

    let billing = server.figures("queue:billing", "today");
    assert_eq!((billing.offered, billing.answered), (1, 1));
    assert_eq!(journal_lines(&server), 3);

    // The same as a JSON array: errors are numbered by position.
    let array = format!("[{}, {{\"v\":1}}]", call(2, T0 + 1_000, 3)[0]);
    let reply = server.post_events(&array);
    assert_eq!((reply.accepted, reply.rejected), (1, 1));
    assert_eq!(reply.errors[0].line, 2);

    // A body that is not even an array is refused whole, with a JSON error.
    let refused = server.post_with("/api/v1/events", "[{\"v\":1", &[]);
    assert_eq!(refused.status, 400);
    assert!(refused.json::<serde_json::Value>()["error"].is_string());
}

#[test]
fn duplicate_ids_are_counted_once_and_journaled_once() {
    let server = Server::start(&["--clock", "events"]);
    let lines = call(1, T0, 5);
    let reply = server.post_events(&lines.join("\n"));
    assert_eq!((reply.accepted, reply.duplicate), (3, 0));
    // The whole body again, plus a repeat inside one body.
    let again = format!("{}\n{}", lines.join("\n"), call(2, T0, 2)[0]);
    let again = format!("{again}\n{}", call(2, T0, 2)[0]);
    let reply = server.post_events(&again);
    assert_eq!((reply.accepted, reply.duplicate, reply.rejected), (1, 4, 0));
    let billing = server.figures("queue:billing", "today");
    assert_eq!((billing.offered, billing.answered), (1, 1));
    assert_eq!(
        billing.waiting_now, 1,
        "the second call waits, counted once"
    );
    assert_eq!(
        journal_lines(&server),
        4,
        "duplicates never reach the journal"
    );

    let health: serde_json::Value = server.get_json("/healthz");
    assert_eq!(health["events"]["accepted"], 4);
    assert_eq!(health["events"]["duplicate"], 4);
    let metrics = server.get("/metrics").body;
    assert!(
        metrics.contains(r#"floorwatch_events_total{source="test",outcome="duplicate"} 4"#),
        "{metrics}"
    );
}

#[test]
fn late_events_are_applied_counted_and_reported() {
    let server = Server::start(&["--clock", "events", "--lateness", "30"]);
    server.post_events(&call(1, T0 + 600_000, 5).join("\n"));
    // About ten minutes behind the floor's clock: beyond the 30 s allowance.
    let reply = server.post_events(&call(2, T0, 5).join("\n"));
    assert_eq!(reply.accepted, 3);
    let health: serde_json::Value = server.get_json("/healthz");
    assert_eq!(health["events"]["late"], 3);
    assert_eq!(
        server.figures("queue:billing", "today").offered,
        2,
        "applied all the same"
    );
    assert!(server.get("/metrics").body.contains(r#"outcome="late"} 3"#));
}

#[test]
fn a_token_guards_ingest_and_bodies_have_a_limit() {
    let server = Server::start(&["--ingest-token", "s3cret", "--max-body-bytes", "2048"]);
    let body = call(1, T0, 5).join("\n");
    let missing = server.post_with("/api/v1/events", &body, &[]);
    assert_eq!(missing.status, 401, "{}", missing.body);
    assert!(
        missing.json::<serde_json::Value>()["error"]
            .as_str()
            .unwrap()
            .contains("Bearer")
    );
    let wrong = server.post_with("/api/v1/events", &body, &[("Authorization", "Bearer nope")]);
    assert_eq!(wrong.status, 401);
    let right = server.post_with(
        "/api/v1/events",
        &body,
        &[("Authorization", "Bearer s3cret")],
    );
    assert_eq!(right.status, 200, "{}", right.body);
    assert_eq!(right.json::<IngestReply>().accepted, 3);

    let huge = (0..40)
        .map(|n| call(n + 10, T0, 1).join("\n"))
        .collect::<Vec<_>>()
        .join("\n");
    let too_big = server.post_with(
        "/api/v1/events",
        &huge,
        &[("Authorization", "Bearer s3cret")],
    );
    assert_eq!(too_big.status, 413, "{}", too_big.body);
    assert!(
        too_big.json::<serde_json::Value>()["error"]
            .as_str()
            .unwrap()
            .contains("--max-body-bytes")
    );
    // Reads need no token.
    assert_eq!(server.get("/api/v1/queues").status, 200);
}

/// The next `n` ingest replies on `socket`.
async fn read_replies<S>(socket: &mut S, n: usize) -> Vec<IngestReply>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let mut replies = Vec::new();
    while replies.len() < n {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Message::Text(text) = message {
            replies.push(serde_json::from_str::<IngestReply>(text.as_str()).unwrap());
        }
    }
    replies
}

#[tokio::test]
async fn the_ingest_websocket_answers_each_message() {
    let server = Server::start(&["--clock", "events"]);
    let (mut socket, _) = tokio_tungstenite::connect_async(server.ws_url("/api/v1/ingest"))
        .await
        .unwrap();
    let lines = call(1, T0, 5);
    let array = format!("[{}]", lines.join(","));
    socket.send(Message::text(array)).await.unwrap();
    socket.send(Message::text(lines[0].clone())).await.unwrap();
    socket.send(Message::text("nonsense")).await.unwrap();
    let replies = read_replies(&mut socket, 3).await;
    assert_eq!((replies[0].accepted, replies[0].duplicate), (3, 0));
    assert_eq!((replies[1].accepted, replies[1].duplicate), (0, 1));
    assert_eq!((replies[2].rejected, replies[2].errors[0].line), (1, 1));
    let billing = tokio::task::spawn_blocking(move || server.figures("queue:billing", "today"))
        .await
        .unwrap();
    assert_eq!(billing.answered, 1);
}

/// A sender may send messages ahead of their replies (the simulator's replay keeps several in
/// flight): every one is answered, in order, and recorded in the order sent: with a lateness
/// allowance of 0 s, one message recorded out of order would count as late.
#[tokio::test]
async fn the_ingest_websocket_records_messages_sent_ahead_in_order() {
    let server = Server::start(&["--clock", "events", "--lateness", "0"]);
    let (mut socket, _) = tokio_tungstenite::connect_async(server.ws_url("/api/v1/ingest"))
        .await
        .unwrap();
    // Twenty calls a minute apart, each line its own message, all sent before any reply.
    let mut lines: Vec<String> = (1..=20)
        .flat_map(|n| call(n, T0 + n as i64 * 60_000, 5))
        .collect();
    lines.sort_by_key(|l| {
        serde_json::from_str::<serde_json::Value>(l).unwrap()["ts"]
            .as_i64()
            .unwrap()
    });
    for line in &lines {
        socket.send(Message::text(line.clone())).await.unwrap();
    }
    let replies = read_replies(&mut socket, lines.len()).await;
    assert!(
        replies.iter().all(|r| (r.accepted, r.rejected) == (1, 0)),
        "{replies:?}"
    );
    let (health, billing) = tokio::task::spawn_blocking(move || {
        let health: serde_json::Value = server.get_json("/healthz");
        (health, server.figures("queue:billing", "today"))
    })
    .await
    .unwrap();
    assert_eq!(health["events"]["accepted"], 60, "{health}");
    assert_eq!(
        health["events"]["late"], 0,
        "recorded in the order sent: {health}"
    );
    assert_eq!(billing.answered, 20);
}
