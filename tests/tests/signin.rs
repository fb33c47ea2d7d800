//! Signing in, sessions and API tokens against a real server (docs/SECURITY.md, "Logins and
//! sessions"): the cookie and its flags, the one answer to every wrong password, the lock-out,
//! idle expiry, sign-out, the live socket closing when its session ends, API tokens with
//! their user's scope, and a disabled user stopping at once. The full role x endpoint matrix
//! is tests/tests/authorisation_matrix.rs.

use std::time::Duration;

use floorwatch_core::wire::LiveFrame;
use floorwatch_tests::{LiveClient, Received, Reply, Server};

/// A small floor: site north > group g1 > teams t1 (agent a1) and t2 (agent a2); queue
/// billing owned by t1, queue sales by t2.
const ORG: &str = r#"
[centre]
id = "hotline"

[[sites]]
id = "north"

[[sites.groups]]
id = "g1"

[[sites.groups.teams]]
id = "t1"
agents = ["a1"]

[[sites.groups.teams]]
id = "t2"
agents = ["a2"]

[[queues]]
id = "billing"
owner = "team:t1"

[[queues]]
id = "sales"
owner = "team:t2"
"#;

const LEAD_PASSWORD: &str = "lead one password";

/// A server on the small floor with `extra` flags, and a team lead `lead1` of t1.
fn start(extra: &[&str]) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("floorwatch.toml");
    std::fs::write(&config, ORG).unwrap();
    let config = config.to_string_lossy().into_owned();
    let mut args = vec!["--config", config.as_str(), "--clock", "events"];
    args.extend_from_slice(extra);
    let server = Server::start(&args);
    server.add_user("lead1", "team_lead", Some("team:t1"), LEAD_PASSWORD);
    server.post_events(
        "{\"v\":1,\"id\":\"l1\",\"source\":\"test\",\"seq\":1,\"ts\":1700000000000,\"type\":\"agent_login\",\"agent\":\"a1\",\"team\":\"t1\"}\n\
         {\"v\":1,\"id\":\"l2\",\"source\":\"test\",\"seq\":2,\"ts\":1700000000000,\"type\":\"agent_login\",\"agent\":\"a2\",\"team\":\"t2\"}",
    );
    (server, dir)
}

fn sign_in(server: &Server, user: &str, password: &str) -> Reply {
    let body = serde_json::json!({"user": user, "password": password}).to_string();
    server.request(
        "POST",
        "/api/v1/session",
        Some(&body),
        &[("Content-Type", "application/json")],
    )
}

/// Signs in and gives the session cookie's value.
fn session(server: &Server, user: &str, password: &str) -> String {
    let reply = sign_in(server, user, password);
    assert_eq!(reply.status, 200, "sign in: {}", reply.body);
    reply.session_cookie().expect("a session cookie")
}

fn get_with_cookie(server: &Server, path: &str, cookie: &str) -> Reply {
    let header = format!("fw_session={cookie}");
    server.request("GET", path, None, &[("Cookie", &header)])
}

/// The audit records of `action`, as JSON, from the real command line.
fn audit(server: &Server, action: &str) -> Vec<serde_json::Value> {
    server
        .command(&["audit", "list", "--action", action, "--json"])
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn error_text(reply: &Reply) -> String {
    reply.json::<serde_json::Value>()["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn nothing_is_readable_without_credentials_but_health_and_the_page() {
    let (server, _dir) = start(&[]);
    for path in [
        "/api/v1/metrics",
        "/api/v1/queues",
        "/api/v1/agents",
        "/api/v1/alerts",
        "/api/v1/alerts/rules",
        "/api/v1/session",
        "/metrics",
    ] {
        let reply = server.get_anonymous(path);
        assert_eq!(reply.status, 401, "{path}: {}", reply.body);
        assert!(
            error_text(&reply).contains("sign in"),
            "{path}: {}",
            reply.body
        );
    }
    assert_eq!(server.get_anonymous("/healthz").status, 200);
    assert_eq!(server.get_anonymous("/").status, 200);
    let wrong = server.get_as("/api/v1/metrics", "fw_0000");
    assert_eq!(wrong.status, 401);
    assert_eq!(error_text(&wrong), "unknown bearer token");
}

#[test]
fn signing_in_sets_a_strict_http_only_cookie_and_signing_out_clears_it() {
    let (server, _dir) = start(&[]);
    let reply = sign_in(&server, "Lead1", LEAD_PASSWORD);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let set_cookie = reply.header("set-cookie").expect("Set-Cookie").to_string();
    assert!(set_cookie.starts_with("fw_session=fws_"), "{set_cookie}");
    for flag in ["; Path=/", "; HttpOnly", "; SameSite=Strict"] {
        assert!(set_cookie.contains(flag), "{flag} in {set_cookie}");
    }
    assert!(
        !set_cookie.contains("Secure"),
        "no TLS, no Secure: {set_cookie}"
    );
    let info: serde_json::Value = reply.json();
    assert_eq!(info["user"], "lead1");
    assert_eq!(info["role"], "team_lead");
    assert_eq!(info["scope"], "team:t1");
    assert_eq!(info["idle_timeout_s"], 1800);
    let expires: jiff::Timestamp = info["expires"].as_str().unwrap().parse().unwrap();
    let hours = (expires - jiff::Timestamp::now()).get_seconds() as f64 / 3600.0;
    assert!((11.9..=12.0).contains(&hours), "ends after 12 h: {hours}");

    let cookie = reply.session_cookie().unwrap();
    let whoami = get_with_cookie(&server, "/api/v1/session", &cookie);
    assert_eq!(whoami.status, 200, "{}", whoami.body);
    assert_eq!(whoami.json::<serde_json::Value>()["user"], "lead1");
    assert_eq!(
        get_with_cookie(&server, "/api/v1/metrics?scope=team:t1", &cookie).status,
        200
    );

    let header = format!("fw_session={cookie}");
    let out = server.request("DELETE", "/api/v1/session", None, &[("Cookie", &header)]);
    assert_eq!(out.status, 204);
    let cleared = out.header("set-cookie").unwrap_or_default();
    assert!(
        cleared.starts_with("fw_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let after = get_with_cookie(&server, "/api/v1/metrics?scope=team:t1", &cookie);
    assert_eq!(after.status, 401);
    assert!(error_text(&after).contains("signed out"), "{}", after.body);

    let logins = audit(&server, "login");
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0]["actor"], "lead1");
    assert_eq!(logins[0]["target"], "user:lead1");
    assert!(
        logins[0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("peer=127.0.0.1")
    );
    let logouts = audit(&server, "logout");
    assert_eq!(logouts.len(), 1);
    assert_eq!(logouts[0]["detail"], "signed out");
}

#[test]
fn a_wrong_password_reads_exactly_like_an_unknown_user() {
    let (server, _dir) = start(&[]);
    let wrong = sign_in(&server, "lead1", "not the password");
    let unknown = sign_in(&server, "nobody", LEAD_PASSWORD);
    assert_eq!((wrong.status, unknown.status), (401, 401));
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(error_text(&wrong), "wrong user name or password");
    assert!(wrong.session_cookie().is_none());
    let bad = server.request(
        "POST",
        "/api/v1/session",
        Some("{\"user\": 3}"),
        &[("Content-Type", "application/json")],
    );
    assert_eq!(bad.status, 400, "{}", bad.body);

    let failed = audit(&server, "login_failed");
    let details: Vec<(&str, &str)> = failed
        .iter()
        .map(|r| (r["actor"].as_str().unwrap(), r["detail"].as_str().unwrap()))
        .collect();
    assert_eq!(
        details,
        vec![
            ("lead1", "peer=127.0.0.1 reason=wrong password"),
            ("nobody", "peer=127.0.0.1 reason=unknown user"),
        ]
    );
}

#[test]
fn five_wrong_passwords_lock_the_account_even_against_the_right_one() {
    let (server, _dir) = start(&[]);
    for attempt in 0..5 {
        let reply = sign_in(&server, "lead1", &format!("guess number {attempt}"));
        assert_eq!(reply.status, 401, "attempt {attempt}: {}", reply.body);
    }
    let locked = sign_in(&server, "lead1", LEAD_PASSWORD);
    assert_eq!(locked.status, 429, "{}", locked.body);
    let retry: u64 = locked
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert!(error_text(&locked).contains("locked"), "{}", locked.body);
    assert!(locked.session_cookie().is_none());
    // Other accounts are not locked.
    server.add_user("lead2", "team_lead", Some("team:t2"), "lead two password");
    assert_eq!(sign_in(&server, "lead2", "lead two password").status, 200);

    let reasons: Vec<String> = audit(&server, "login_failed")
        .iter()
        .map(|r| r["detail"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(reasons.len(), 6, "{reasons:?}");
    assert!(
        reasons[..5]
            .iter()
            .all(|r| r.ends_with("reason=wrong password"))
    );
    assert_eq!(reasons[5], "peer=127.0.0.1 reason=locked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_ends_with_its_reason_audited_once_and_closes_its_live_socket() {
    let (server, _dir) = start(&["--session-idle-timeout", "2"]);
    let cookie = session(&server, "lead1", LEAD_PASSWORD);
    let header = format!("fw_session={cookie}");
    let mut live = LiveClient::connect_with(&server, &[("Cookie", &header)])
        .await
        .unwrap();
    live.subscribe(&["team:t1"], &["today"]).await;
    assert!(matches!(
        live.next_frame().await,
        LiveFrame::Snapshot { .. }
    ));

    // Live frames are not activity: the socket is told why and closed with 4401.
    let closed = wait_for_close(&mut live, Duration::from_secs(10)).await;
    assert_eq!(
        closed.0.as_deref(),
        Some("signed out: the session was idle for too long")
    );
    assert_eq!(closed.1, Some(4401));

    std::thread::sleep(Duration::from_millis(200));
    for _ in 0..2 {
        let reply = get_with_cookie(&server, "/api/v1/session", &cookie);
        assert_eq!(reply.status, 401);
        assert!(
            error_text(&reply).contains("the session was idle for too long"),
            "{}",
            reply.body
        );
    }
    let logouts = audit(&server, "logout");
    assert_eq!(logouts.len(), 1, "audited once: {logouts:?}");
    assert_eq!(logouts[0]["detail"], "idle timeout");
    assert_eq!(logouts[0]["actor"], "lead1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_keeps_a_session_and_a_wall_display_never_idles_out() {
    let (server, _dir) = start(&["--session-idle-timeout", "2"]);
    server.add_user("wall", "wall_display", None, "wall display pw");
    let lead = session(&server, "lead1", LEAD_PASSWORD);
    let wall = session(&server, "wall", "wall display pw");
    let info = get_with_cookie(&server, "/api/v1/session", &wall);
    assert_eq!(
        info.json::<serde_json::Value>()["idle_timeout_s"],
        serde_json::Value::Null
    );
    for _ in 0..4 {
        std::thread::sleep(Duration::from_secs(1));
        assert_eq!(
            get_with_cookie(&server, "/api/v1/session", &lead).status,
            200
        );
    }
    assert_eq!(
        get_with_cookie(&server, "/api/v1/metrics", &wall).status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_closes_the_live_socket_and_cross_site_cookies_are_refused() {
    let (server, _dir) = start(&[]);
    let anonymous = LiveClient::connect_with(&server, &[]).await;
    assert!(
        anonymous
            .as_ref()
            .err()
            .is_some_and(|e| e.starts_with("HTTP 401"))
    );
    let cookie = session(&server, "lead1", LEAD_PASSWORD);
    let header = format!("fw_session={cookie}");
    let cross = LiveClient::connect_with(
        &server,
        &[("Cookie", &header), ("Origin", "http://evil.example")],
    )
    .await;
    assert!(
        cross
            .as_ref()
            .err()
            .is_some_and(|e| e.starts_with("HTTP 403"))
    );

    let own_origin = server.url().to_string();
    let mut live =
        LiveClient::connect_with(&server, &[("Cookie", &header), ("Origin", &own_origin)])
            .await
            .unwrap();
    live.subscribe(&["team:t1"], &[]).await;
    assert!(matches!(
        live.next_frame().await,
        LiveFrame::Snapshot { .. }
    ));
    let out = server.request("DELETE", "/api/v1/session", None, &[("Cookie", &header)]);
    assert_eq!(out.status, 204);
    let closed = wait_for_close(&mut live, Duration::from_secs(5)).await;
    assert_eq!(closed.0.as_deref(), Some("signed out: signed out"));
    assert_eq!(closed.1, Some(4401));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_token_reads_and_subscribes_with_its_users_scope() {
    let (server, _dir) = start(&[]);
    let token = server.create_token("lead1");
    assert_eq!(
        server
            .get_as("/api/v1/metrics?scope=team:t1", &token)
            .status,
        200
    );
    assert_eq!(
        server
            .get_as("/api/v1/metrics?scope=queue:billing", &token)
            .status,
        200
    );
    for outside in [
        "team:t2",
        "centre",
        "queue:sales",
        "site:north",
        "team:nope",
    ] {
        let reply = server.get_as(&format!("/api/v1/metrics?scope={outside}"), &token);
        assert_eq!(reply.status, 403, "{outside}: {}", reply.body);
    }
    let queues: Vec<serde_json::Value> = server.get_as("/api/v1/queues", &token).json();
    let ids: Vec<&str> = queues.iter().map(|q| q["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["billing"]);
    let agents: Vec<serde_json::Value> = server.get_as("/api/v1/agents", &token).json();
    let ids: Vec<&str> = agents.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a1"]);
    assert_eq!(server.get_as("/api/v1/agents?team=t2", &token).status, 403);
    let whoami: serde_json::Value = server.get_as("/api/v1/session", &token).json();
    assert_eq!(whoami["scope"], "team:t1");

    let mut live = LiveClient::connect_as(&server, &token).await;
    live.subscribe(
        &["centre", "team:t1", "agents:team:t1", "agents:team:t2"],
        &[],
    )
    .await;
    let mut errors = Vec::new();
    let snapshot = loop {
        match live.next_frame().await {
            LiveFrame::Error { message, .. } => errors.push(message),
            frame @ LiveFrame::Snapshot { .. } => break frame,
            _ => {}
        }
    };
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].starts_with("`centre` refused"), "{errors:?}");
    assert!(
        errors[1].starts_with("`agents:team:t2` refused"),
        "{errors:?}"
    );
    let LiveFrame::Snapshot {
        figures,
        agents,
        queues,
        ..
    } = snapshot
    else {
        unreachable!()
    };
    assert!(figures.iter().all(|f| f.scope.to_string() == "team:t1"));
    assert!(!figures.is_empty());
    assert!(agents.iter().all(|a| a.id == "a1"), "{agents:?}");
    let queue_ids: Vec<&str> = queues.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(queue_ids, ["billing"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_user_stops_at_once_session_token_and_socket() {
    // A short idle time-out only to make the sweep (which checks live sockets) run every second.
    let (server, _dir) = start(&["--session-idle-timeout", "8"]);
    let cookie = session(&server, "lead1", LEAD_PASSWORD);
    let token = server.create_token("lead1");
    assert_eq!(
        get_with_cookie(&server, "/api/v1/metrics?scope=team:t1", &cookie).status,
        200
    );
    let mut live = LiveClient::connect_as(&server, &token).await;
    live.subscribe(&["team:t1"], &[]).await;
    assert!(matches!(
        live.next_frame().await,
        LiveFrame::Snapshot { .. }
    ));

    server.command(&["user", "disable", "lead1"]);
    let by_cookie = get_with_cookie(&server, "/api/v1/metrics?scope=team:t1", &cookie);
    assert_eq!(by_cookie.status, 401);
    assert!(
        error_text(&by_cookie).contains("disabled"),
        "{}",
        by_cookie.body
    );
    let by_token = server.get_as("/api/v1/metrics?scope=team:t1", &token);
    assert_eq!(by_token.status, 401);
    assert_eq!(sign_in(&server, "lead1", LEAD_PASSWORD).status, 401);

    let closed = wait_for_close(&mut live, Duration::from_secs(10)).await;
    assert_eq!(
        closed.0.as_deref(),
        Some("signed out: the API token was revoked or its user disabled")
    );
    assert_eq!(closed.1, Some(4401));
    let logouts = audit(&server, "logout");
    assert_eq!(logouts.len(), 1, "{logouts:?}");
    assert_eq!(logouts[0]["detail"], "user disabled");
}

/// Frames until the socket closes: the last error message before it, and the close code.
async fn wait_for_close(live: &mut LiveClient, within: Duration) -> (Option<String>, Option<u16>) {
    let deadline = tokio::time::Instant::now() + within;
    let mut last_error = None;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        assert!(!left.is_zero(), "the live socket stayed open");
        match live.receive(left).await {
            Received::Frame(LiveFrame::Error { message, .. }) => last_error = Some(message),
            Received::Frame(_) => {}
            Received::Closed(frame) => return (last_error, frame.map(|f| u16::from(f.code))),
        }
    }
}

/// The value of the cookie `name` an answer sets (empty when it clears it).
fn set_cookie(reply: &Reply, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    reply
        .headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .find_map(|(_, v)| v.strip_prefix(prefix.as_str()))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_string())
}

fn admin_delete(server: &Server, path: &str) -> Reply {
    let bearer = format!("Bearer {}", server.admin_token());
    server.request("DELETE", path, None, &[("Authorization", &bearer)])
}

/// Every file of the data dir, as text (to look for secrets written in the clear).
fn data_dir_text(server: &Server) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(server.data_dir()).unwrap().flatten() {
        if let Ok(body) = std::fs::read_to_string(entry.path()) {
            text.push_str(&body);
        }
    }
    text
}

/// Issue 13 item 6: a person's session outlives a crash and restart (kept hashed in the data
/// dir); one signed out before the crash stays out. Fails on a server that keeps sessions in
/// memory only.
#[test]
fn a_session_survives_a_restart_and_a_signed_out_one_stays_out() {
    let (mut server, _dir) = start(&[]);
    server.add_user("sup1", "supervisor", None, "supervisor password 1");
    let cookie = session(&server, "lead1", LEAD_PASSWORD);
    let gone = session(&server, "sup1", "supervisor password 1");
    let header = format!("fw_session={gone}");
    let out = server.request("DELETE", "/api/v1/session", None, &[("Cookie", &header)]);
    assert_eq!(out.status, 204);

    server.restart();
    let whoami = get_with_cookie(&server, "/api/v1/session", &cookie);
    assert_eq!(whoami.status, 200, "{}", whoami.body);
    let info: serde_json::Value = whoami.json();
    assert_eq!(info["user"], "lead1");
    assert_eq!(info["idle_timeout_s"], 1800);
    assert!(info.get("device").is_none(), "{info}");
    assert_eq!(
        get_with_cookie(&server, "/api/v1/metrics?scope=team:t1", &cookie).status,
        200
    );
    assert_eq!(
        get_with_cookie(&server, "/api/v1/session", &gone).status,
        401
    );
    let stored = std::fs::read_to_string(server.data_dir().join("sessions.json")).unwrap();
    assert!(
        !data_dir_text(&server).contains(&cookie),
        "a raw session id on disk"
    );
    assert_eq!(stored.matches("\"sha256\"").count(), 1, "{stored}");
}

/// Issue 13 item 6: the idle time-out still applies across a restart.
#[test]
fn an_idle_time_out_holds_across_a_restart() {
    let (mut server, _dir) = start(&["--session-idle-timeout", "3"]);
    let cookie = session(&server, "lead1", LEAD_PASSWORD);
    server.restart();
    assert_eq!(
        get_with_cookie(&server, "/api/v1/session", &cookie).status,
        200
    );
    std::thread::sleep(Duration::from_secs(4));
    let late = get_with_cookie(&server, "/api/v1/metrics?scope=team:t1", &cookie);
    assert_eq!(late.status, 401);
    assert!(error_text(&late).contains("idle"), "{}", late.body);
    let logouts = audit(&server, "logout");
    assert_eq!(logouts.len(), 1, "{logouts:?}");
    assert_eq!(logouts[0]["detail"], "idle timeout");
}

/// Issue 13 item 6: a TV asks for a pairing code, an admin types it, and the TV collects a
/// device credential (an HttpOnly cookie) that reads floor figures only, survives a restart,
/// never idles out, and stops at once (live socket closed with 4401) when revoked. Fails on
/// today's main: there is no pairing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screen_paired_by_code_survives_a_restart_and_stops_when_revoked() {
    let (mut server, _dir) = start(&["--session-idle-timeout", "2"]);
    let asked = server.request("POST", "/api/v1/pairing", None, &[]);
    assert_eq!(asked.status, 201, "{}", asked.body);
    let code = asked.json::<serde_json::Value>()["code"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(code.len(), 9, "{code}");
    let poll = set_cookie(&asked, "fw_pairing").expect("a pairing cookie");
    let poll_header = format!("fw_pairing={poll}");
    let waiting = server.request("GET", "/api/v1/pairing", None, &[("Cookie", &poll_header)]);
    assert_eq!(waiting.json::<serde_json::Value>()["state"], "waiting");

    // Only an admin pairs, and only with the code shown.
    let lead = session(&server, "lead1", LEAD_PASSWORD);
    let pair = |code: &str| {
        serde_json::json!({"code": code, "name": "lobby-tv", "scope": "site:north"}).to_string()
    };
    let by_lead = server.request(
        "POST",
        "/api/v1/devices/pair",
        Some(&pair(&code)),
        &[
            ("Content-Type", "application/json"),
            ("Cookie", &format!("fw_session={lead}")),
        ],
    );
    assert_eq!(by_lead.status, 403, "{}", by_lead.body);
    let json = [("Content-Type", "application/json")];
    let wrong = server.post_with("/api/v1/devices/pair", &pair("2222-2222"), &json);
    assert_eq!(wrong.status, 404, "{}", wrong.body);
    let paired = server.post_with("/api/v1/devices/pair", &pair(&code.to_lowercase()), &json);
    assert_eq!(paired.status, 201, "{}", paired.body);
    let other = serde_json::json!({"code": code, "name": "lobby-tv-2"}).to_string();
    let again = server.post_with("/api/v1/devices/pair", &other, &json);
    assert_eq!(again.status, 404, "a code is used once: {}", again.body);

    let collected = server.request("GET", "/api/v1/pairing", None, &[("Cookie", &poll_header)]);
    assert_eq!(collected.json::<serde_json::Value>()["state"], "paired");
    let device_set = collected
        .headers
        .iter()
        .find(|(n, v)| n == "set-cookie" && v.starts_with("fw_device="))
        .map(|(_, v)| v.clone())
        .expect("the device cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=34560000"] {
        assert!(device_set.contains(flag), "{device_set}");
    }
    let credential = set_cookie(&collected, "fw_device").unwrap();
    assert!(credential.starts_with("fwd_"));
    let gone = server.request("GET", "/api/v1/pairing", None, &[("Cookie", &poll_header)]);
    assert_eq!(gone.status, 404, "handed out once");
    assert!(
        !data_dir_text(&server).contains(&credential),
        "a raw credential on disk"
    );

    let tv = format!("fw_device={credential}");
    let as_tv = |server: &Server, path: &str| server.request("GET", path, None, &[("Cookie", &tv)]);
    let info: serde_json::Value = as_tv(&server, "/api/v1/session").json();
    assert_eq!(
        info,
        serde_json::json!({"user": "lobby-tv", "role": "wall_display", "scope": "site:north",
            "expires": null, "idle_timeout_s": null, "device": true})
    );
    assert_eq!(
        as_tv(&server, "/api/v1/metrics?scope=site:north").status,
        200
    );
    assert_eq!(as_tv(&server, "/api/v1/agents").status, 403);
    assert_eq!(as_tv(&server, "/api/v1/calls").status, 403);
    assert_eq!(as_tv(&server, "/api/v1/devices").status, 403);

    // A crash and a restart: the screen reads on; idle for longer than the time-out, too.
    server.restart();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(as_tv(&server, "/api/v1/session").status, 200);
    let own_origin = server.url().to_string();
    let mut live = LiveClient::connect_with(&server, &[("Cookie", &tv), ("Origin", &own_origin)])
        .await
        .unwrap();
    live.subscribe(&["site:north"], &[]).await;
    assert!(matches!(
        live.next_frame().await,
        LiveFrame::Snapshot { .. }
    ));
    let listed: serde_json::Value = server.get_json("/api/v1/devices");
    assert_eq!(listed[0]["name"], "lobby-tv");
    assert_eq!(listed[0]["revoked"], serde_json::Value::Null);

    assert_eq!(
        admin_delete(&server, "/api/v1/devices/lobby-tv").status,
        204
    );
    let closed = wait_for_close(&mut live, Duration::from_secs(5)).await;
    assert_eq!(
        closed.0.as_deref(),
        Some("signed out: the screen's pairing was revoked")
    );
    assert_eq!(closed.1, Some(4401));
    let refused = as_tv(&server, "/api/v1/metrics?scope=site:north");
    assert_eq!(refused.status, 401);
    assert!(
        error_text(&refused).contains("pair it again"),
        "{}",
        refused.body
    );
    assert_eq!(
        admin_delete(&server, "/api/v1/devices/lobby-tv").status,
        404
    );

    let actors = |action: &str| -> Vec<(String, String)> {
        audit(&server, action)
            .iter()
            .map(|r| {
                (
                    r["actor"].as_str().unwrap_or_default().to_string(),
                    r["target"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    let pairs = actors("device_pair");
    assert_eq!(pairs.len(), 1, "{pairs:?}");
    let admin = format!("({})", floorwatch_tests::HARNESS_USER);
    assert!(pairs[0].0.ends_with(&admin), "{pairs:?}");
    assert_eq!(pairs[0].1, "device:lobby-tv");
    assert_eq!(actors("device_revoke").len(), 1);
    let tv_logins = actors("login")
        .into_iter()
        .filter(|(actor, _)| actor == "device:lobby-tv")
        .count();
    assert_eq!(tv_logins, 2, "one per server run, not one per request");
}

/// Issue 13 item 6: a screen added on the command line (a kiosk set up by a script) reads with
/// its credential until `device revoke`, and is refused after.
#[test]
fn a_revoked_screen_is_refused() {
    let (server, _dir) = start(&[]);
    let credential = server
        .command(&["device", "add", "kiosk-1", "--role", "wall_display"])
        .trim()
        .to_string();
    let reads = server.get_as("/api/v1/metrics?scope=centre", &credential);
    assert_eq!(reads.status, 200, "{}", reads.body);
    let listed = server.command(&["device", "list"]);
    assert!(
        listed.contains("kiosk-1") && listed.contains("active"),
        "{listed}"
    );
    server.command(&["device", "revoke", "kiosk-1"]);
    let refused = server.get_as("/api/v1/metrics?scope=centre", &credential);
    assert_eq!(refused.status, 401, "{}", refused.body);
    let cookie = format!("fw_device={credential}");
    let by_cookie = server.request("GET", "/api/v1/session", None, &[("Cookie", &cookie)]);
    assert_eq!(by_cookie.status, 401);
}
