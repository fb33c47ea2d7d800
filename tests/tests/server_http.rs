//! The HTTP read API against a real server: figures by scope and window, agents by team,
//! queues, errors as JSON with the right status, health, Prometheus, the wallboard page.

use floorwatch_core::{AgentView, QueueView};
use floorwatch_tests::Server;

const T0: i64 = 1_700_000_000_000;

fn events() -> String {
    [
        r#"{"v":1,"id":"l1","source":"test","seq":1,"ts":1700000000000,"type":"agent_login","agent":"a1","team":"t1"}"#,
        r#"{"v":1,"id":"l2","source":"test","seq":2,"ts":1700000000000,"type":"agent_login","agent":"a2","team":"t2"}"#,
        r#"{"v":1,"id":"q1","source":"test","seq":3,"ts":1700000001000,"type":"call_entered_queue","call":"c1","queue":"billing"}"#,
        r#"{"v":1,"id":"q2","source":"test","seq":4,"ts":1700000002000,"type":"call_entered_queue","call":"c2","queue":"sales"}"#,
        r#"{"v":1,"id":"a1","source":"test","seq":5,"ts":1700000003000,"type":"call_answered","call":"c1","agent":"a1"}"#,
    ]
    .join("\n")
}

#[test]
fn figures_queues_and_agents() {
    let server = Server::start(&["--clock", "events"]);
    server.post_events(&events());

    let centre: serde_json::Value = server.get_json("/api/v1/metrics");
    assert_eq!(centre["scope"], "centre");
    assert_eq!(centre["window"], "today");
    assert!(centre["from"].as_i64().unwrap() <= T0);
    assert_eq!(centre["to"], T0 + 3_000);
    assert_eq!(
        centre["offered"], 1,
        "offered counts calls that left the queue"
    );
    assert_eq!(centre["waiting_now"], 1);
    assert_eq!(centre["oldest_waiting_since"], T0 + 2_000);
    assert_eq!(centre["asa_s"], 2.0);
    for window in ["15m", "30m", "60m", "interval15", "interval30", "today"] {
        let f = server.figures("queue:billing", window);
        assert_eq!((f.window.as_str(), f.offered), (window, 1));
    }

    let queues: Vec<QueueView> = server.get_json("/api/v1/queues");
    let ids: Vec<&str> = queues.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(ids, ["billing", "sales"]);
    let t1: Vec<AgentView> = server.get_json("/api/v1/agents?team=t1");
    assert_eq!(t1.len(), 1);
    assert_eq!(t1[0].id, "a1");
    let all: Vec<AgentView> = server.get_json("/api/v1/agents");
    assert_eq!(all.len(), 2);
}

#[test]
fn errors_are_json_with_the_right_status() {
    let server = Server::start(&[]);
    let cases = [
        ("/api/v1/metrics?scope=floor:1", 400, "expected"),
        ("/api/v1/metrics?window=5m", 400, "5m"),
        ("/api/v1/metrics?scope=queue:nope", 404, "queue:nope"),
        ("/api/v1/metrics?colour=red", 400, "colour"),
        ("/api/v1/nothing", 404, "no such endpoint"),
    ];
    for (path, status, needle) in cases {
        let reply = server.get(path);
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
        let error = reply.json::<serde_json::Value>()["error"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(error.contains(needle), "{path}: {error}");
    }
    let wrong_method = server.post_with("/api/v1/metrics", "", &[]);
    assert_eq!(wrong_method.status, 405);
    assert!(wrong_method.json::<serde_json::Value>()["error"].is_string());
}

#[test]
fn health_prometheus_and_the_wallboard_page() {
    let server = Server::start(&["--assets", "/nonexistent/floorwatch-dist"]);
    let health: serde_json::Value = server.get_json("/healthz");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["clock"], "wall");
    let metrics = server.get("/metrics");
    assert_eq!(metrics.status, 200);
    for name in [
        "floorwatch_journal_append_seconds",
        "floorwatch_ingest_to_push_seconds",
        "floorwatch_live_clients",
        "floorwatch_live_frames_sent_total",
        "process_resident_memory_bytes",
    ] {
        assert!(
            metrics.body.contains(name),
            "{name} missing:\n{}",
            metrics.body
        );
    }
    let page = server.get("/");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("cargo xtask dist"), "{}", page.body);

    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<html>the wallboard</html>").unwrap();
    std::fs::write(dist.path().join("app.wasm"), b"\0asm").unwrap();
    let dist_path = dist.path().to_str().unwrap().to_string();
    // What `cargo xtask dist` writes: a content-hashed name with its pre-compressed copies
    // (stand-in bytes here, so the test sees which copy is sent).
    let glue = "app.0123456789.js";
    std::fs::write(dist.path().join(glue), "plain").unwrap();
    std::fs::write(dist.path().join(format!("{glue}.gz")), "gzip copy").unwrap();
    std::fs::write(dist.path().join(format!("{glue}.br")), "brotli copy").unwrap();
    let server = Server::start(&["--assets", &dist_path]);
    let page = server.get("/");
    assert!(page.body.contains("the wallboard"));
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    let wasm = server.get("/app.wasm");
    assert_eq!(wasm.status, 200);
    assert_eq!(wasm.header("cache-control"), Some("no-cache"));

    let path = format!("/{glue}");
    let sent = |accept: &str| {
        let reply = server.request("GET", &path, None, &[("Accept-Encoding", accept)]);
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.header("cache-control"),
            Some("public, max-age=31536000, immutable"),
            "a content-hashed name never changes"
        );
        (
            reply.header("content-encoding").map(str::to_string),
            reply.body,
        )
    };
    // Chromium on a plain-HTTP origin, then on HTTPS, then a client that takes no coding.
    assert_eq!(
        sent("gzip, deflate"),
        (Some("gzip".into()), "gzip copy".into())
    );
    assert_eq!(
        sent("gzip, deflate, br, zstd"),
        (Some("br".into()), "brotli copy".into())
    );
    assert_eq!(sent("identity"), (None, "plain".into()));
}
