//! What a web page in a browser on the server's machine cannot make the server do, and the
//! headers every response carries (issue 13, items 4 and 7; docs/SECURITY.md, "Browsers").
//!
//! On the code before issue 13 every refusal here was a 200: loopback ingest without a token
//! took `text/plain` from `Origin: https://evil.example`, the demo's loopback ingest was open,
//! and no response carried a security header.

use floorwatch_core::wire::IngestReply;
use floorwatch_tests::Server;

const EVENT: &str = r#"{"v":1,"id":"e1","source":"test","seq":1,"ts":1700000000000,"type":"agent_login","agent":"a1"}"#;

fn error_of(reply: &floorwatch_tests::Reply) -> String {
    reply.json::<serde_json::Value>()["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn ingest_takes_only_its_own_content_types() {
    // No ingest token: loopback ingest is open, as the quick start runs.
    let server = Server::start(&["--clock", "events"]);
    for refused in [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let reply = server.post_with("/api/v1/events", EVENT, &[("Content-Type", refused)]);
        assert_eq!(reply.status, 415, "{refused}: {}", reply.body);
        let error = error_of(&reply);
        assert!(
            error.contains("`application/x-ndjson` or `application/json`"),
            "{error}"
        );
    }
    // No type at all (a page's fetch of a Blob without one) is refused too.
    let none = server.request("POST", "/api/v1/events", Some(EVENT), &[]);
    assert_eq!(none.status, 415, "{}", none.body);
    assert!(error_of(&none).contains("was none"), "{}", none.body);
    // Nothing refused was recorded.
    let health: serde_json::Value = server.get_json("/healthz");
    assert_eq!(health["events"]["accepted"], 0, "{health}");

    for accepted in ["application/x-ndjson", "application/json; charset=utf-8"] {
        let reply = server.post_with("/api/v1/events", EVENT, &[("Content-Type", accepted)]);
        assert_eq!(reply.status, 200, "{accepted}: {}", reply.body);
    }

    let line = "1700000000|NONE|NONE|NONE|QUEUESTART|\n";
    let plain = server.post_with(
        "/api/v1/import/queue-log",
        line,
        &[("Content-Type", "text/plain")],
    );
    assert_eq!(plain.status, 415, "{}", plain.body);
    assert!(
        error_of(&plain).contains("`text/x-queue-log` or `application/octet-stream`"),
        "{}",
        plain.body
    );
    for accepted in ["text/x-queue-log", "application/octet-stream"] {
        let reply = server.post_with(
            "/api/v1/import/queue-log",
            line,
            &[("Content-Type", accepted)],
        );
        assert_eq!(reply.status, 200, "{accepted}: {}", reply.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_refuses_another_sites_page() {
    let server = Server::start(&["--clock", "events"]);
    let host = server.url().trim_start_matches("http://").to_string();
    let own = server.url().to_string();
    let post = |origin: &str| {
        server.post_with(
            "/api/v1/events",
            EVENT,
            &[("Origin", origin), ("Content-Type", "application/x-ndjson")],
        )
    };
    for foreign in [
        "https://evil.example",
        "null",
        &format!("https://{host}"),
        "http://127.0.0.1:1",
    ] {
        let reply = tokio::task::block_in_place(|| post(foreign));
        assert_eq!(reply.status, 403, "{foreign}: {}", reply.body);
        assert!(error_of(&reply).contains("another site"), "{}", reply.body);
    }
    // The issue's exact request: a CORS "simple request" from another site.
    let simple = tokio::task::block_in_place(|| {
        server.post_with(
            "/api/v1/events",
            EVENT,
            &[
                ("Origin", "https://evil.example"),
                ("Content-Type", "text/plain"),
            ],
        )
    });
    assert_eq!(simple.status, 403, "{}", simple.body);
    let import = tokio::task::block_in_place(|| {
        server.post_with(
            "/api/v1/import/queue-log",
            "1700000000|NONE|NONE|NONE|QUEUESTART|\n",
            &[("Origin", "https://evil.example")],
        )
    });
    assert_eq!(import.status, 403, "{}", import.body);
    let health: serde_json::Value = tokio::task::block_in_place(|| server.get_json("/healthz"));
    assert_eq!(health["events"]["accepted"], 0, "{health}");

    // The server's own origin passes.
    let mine = tokio::task::block_in_place(|| post(&own));
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert_eq!(mine.json::<IngestReply>().accepted, 1);

    // The ingest websocket: CORS does not apply to websockets at all.
    let upgrade = |origin: String| {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = server
            .ws_url("/api/v1/ingest")
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("Origin", origin.parse().unwrap());
        tokio_tungstenite::connect_async(request)
    };
    match upgrade("https://evil.example".into()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 403)
        }
        other => panic!(
            "a foreign Origin opened the ingest socket: {:?}",
            other.err()
        ),
    }
    assert!(
        upgrade(own).await.is_ok(),
        "the server's own origin may open the ingest socket"
    );
}

#[test]
fn the_demo_closes_loopback_ingest_with_a_token_of_its_own() {
    let server = Server::start(&["--demo", "--demo-seed", "7"]);
    let reply = server.post_with("/api/v1/events", EVENT, &[]);
    assert_eq!(reply.status, 401, "{}", reply.body);
    let logs = server.logs();
    assert!(
        logs.contains("a random one was made and is not shown"),
        "{logs}"
    );
    // A token given on the command line is the one that works.
    let given = Server::start(&[
        "--demo",
        "--demo-seed",
        "7",
        "--ingest-token",
        "demo-s3cret",
    ]);
    let reply = given.post_with(
        "/api/v1/events",
        EVENT,
        &[("Authorization", "Bearer demo-s3cret")],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
}

const CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
                   img-src 'self' data:; font-src 'self'; connect-src 'self'; \
                   manifest-src 'self'; base-uri 'none'; form-action 'self'; \
                   frame-ancestors 'none'; object-src 'none'";

fn assert_security_headers(what: &str, reply: &floorwatch_tests::Reply) {
    assert_eq!(
        reply.header("content-security-policy"),
        Some(CSP),
        "{what}: {:?}",
        reply.headers
    );
    assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{what}");
    assert_eq!(
        reply.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        reply.header("referrer-policy"),
        Some("no-referrer"),
        "{what}"
    );
    assert_eq!(
        reply.header("strict-transport-security"),
        None,
        "{what}: no HSTS without TLS"
    );
}

#[test]
fn every_response_carries_the_security_headers() {
    let server = Server::start(&["--clock", "events"]);
    let page = server.get_anonymous("/");
    assert_eq!(page.status, 200);
    assert_security_headers("the wallboard", &page);
    let api = server.get("/api/v1/queues");
    assert_eq!(api.status, 200, "{}", api.body);
    assert_security_headers("an API reply", &api);
    let health = server.get_anonymous("/healthz");
    assert_security_headers("/healthz", &health);
    let missing = server.get("/api/v1/nothing-here");
    assert_eq!(missing.status, 404);
    assert_security_headers("an API 404", &missing);
    let missing_file = server.get_anonymous("/no-such-file.js");
    assert_eq!(missing_file.status, 404);
    assert_security_headers("a missing file", &missing_file);
    let unauthorised = server.get_anonymous("/api/v1/metrics");
    assert_eq!(unauthorised.status, 401);
    assert_security_headers("a 401", &unauthorised);
    let bad = server.get("/api/v1/metrics?scope=nonsense");
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_security_headers("a 400", &bad);
    let refused = server.post_with("/api/v1/events", EVENT, &[("Content-Type", "text/plain")]);
    assert_eq!(refused.status, 415);
    assert_security_headers("a 415", &refused);
}
