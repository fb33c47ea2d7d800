//! A client that never reads must not delay anyone: the server drops its stale deltas and
//! finally disconnects it, while a second client on the same subscription keeps getting every
//! change promptly, and ingest keeps being acknowledged.

use std::time::{Duration, Instant};

use floorwatch_tests::{Board, LiveClient, Server};
use futures_util::SinkExt;
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const T0: i64 = 1_700_000_000_000;
const AGENTS: usize = 500;

fn event(id: &str, ts: i64, kind: &str) -> String {
    format!(r#"{{"v":1,"id":"{id}","source":"test","seq":1,"ts":{ts},{kind}}}"#)
}

/// Every agent changes state: each delta of `agents:centre` carries all of them.
fn round(n: i64) -> (String, i64) {
    let ts = T0 + n * 1_000;
    let state = if n % 2 == 0 {
        "available"
    } else {
        "after_call_work"
    };
    let body = (0..AGENTS)
        .map(|a| {
            event(
                &format!("r{n}-a{a}"),
                ts,
                &format!(r#""type":"agent_state","agent":"a{a}","state":"{state}""#),
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    (body, ts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_does_not_delay_a_second_client() {
    let server = Server::start(&[
        "--clock",
        "events",
        "--push-interval-ms",
        "50",
        "--client-queue-frames",
        "2",
        "--slow-client-timeout-ms",
        "1000",
    ]);
    let logins = (0..AGENTS)
        .map(|a| {
            event(
                &format!("login-a{a}"),
                T0,
                &format!(
                    r#""type":"agent_login","agent":"a{a}","team":"t{}""#,
                    a % 10
                ),
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    tokio::task::block_in_place(|| server.post_events(&logins));

    // The stuck client: a tiny receive buffer, subscribes, then never reads again.
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let addr = server.url().trim_start_matches("http://").parse().unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let mut upgrade = server.ws_url("/api/v1/live").into_client_request().unwrap();
    upgrade.headers_mut().insert(
        "Authorization",
        format!("Bearer {}", server.admin_token()).parse().unwrap(),
    );
    let (mut stuck, _) = tokio_tungstenite::client_async(upgrade, stream)
        .await
        .unwrap();
    stuck
        .send(Message::text(r#"{"subscribe":["centre","agents:centre"]}"#))
        .await
        .unwrap();

    let mut live = LiveClient::connect(&server).await;
    live.subscribe(&["centre", "agents:centre"], &[]).await;
    let mut board = Board::default();
    live.until(&mut board, Duration::from_secs(10), |b| b.snapshots == 1)
        .await;

    let mut slowest = Duration::ZERO;
    for n in 1..=40 {
        let (body, ts) = round(n);
        let posted = Instant::now();
        let reply = tokio::task::block_in_place(|| server.post_events(&body));
        assert_eq!(reply.accepted, AGENTS as u64);
        live.until(&mut board, Duration::from_secs(10), |b| b.now >= ts)
            .await;
        slowest = slowest.max(posted.elapsed());
        let expected = if n % 2 == 0 {
            "available"
        } else {
            "after_call_work"
        };
        assert!(
            board
                .agents
                .values()
                .all(|a| a.state.map(|s| s.as_str()) == Some(expected)),
            "round {n}: the second client sees every change"
        );
    }
    // Not a benchmark: just far below what waiting on the stuck client would cost.
    assert!(
        slowest < Duration::from_secs(5),
        "slowest round {slowest:?}"
    );

    // The stuck client was given up on: deltas dropped, then disconnected.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut n = 41;
    loop {
        let health: serde_json::Value = tokio::task::block_in_place(|| server.get_json("/healthz"));
        let metrics = tokio::task::block_in_place(|| server.get("/metrics").body);
        let disconnected = metrics
            .lines()
            .find(|l| l.starts_with("floorwatch_live_slow_clients_disconnected_total"))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        if health["live"]["frames_dropped"].as_u64().unwrap_or(0) > 0
            && disconnected >= 1
            && health["live"]["clients"] == 1
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the stuck client was not dropped: {health}\n{metrics}"
        );
        let (body, ts) = round(n);
        n += 1;
        tokio::task::block_in_place(|| server.post_events(&body));
        live.until(&mut board, Duration::from_secs(10), |b| b.now >= ts)
            .await;
    }
    assert_eq!(
        board.snapshots, 1,
        "the reading client never needed a resync"
    );
    drop(stuck);
}
