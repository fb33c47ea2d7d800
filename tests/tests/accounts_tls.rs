//! End-to-end: `--tls-cert` / `--tls-key` serve HTTPS and wss (issue 8, "Transport"). The
//! certificate is made at test time with rcgen; an HTTPS request and a websocket client over
//! rustls trust it and nothing else. (No reqwest here: its rustls feature would be unified into
//! the simulator's plain-HTTP client in a workspace build.)

use std::sync::Arc;
use std::time::Duration;

use floorwatch_core::wire::LiveFrame;
use floorwatch_tests::Server;
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// A self-signed certificate for 127.0.0.1 written to `dir`, and a client configuration that
/// trusts exactly it.
fn certificate(dir: &std::path::Path) -> (String, String, Arc<rustls::ClientConfig>) {
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()])
        .unwrap_or_else(|e| panic!("rcgen: {e}"));
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(made.cert.der().clone()).unwrap();
    (
        cert.display().to_string(),
        key.display().to_string(),
        Arc::new(client_config(roots)),
    )
}

fn client_config(roots: rustls::RootCertStore) -> rustls::ClientConfig {
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// `GET path` over TLS to `address`: the reply's status line, or the handshake's error.
async fn get_over_tls(
    address: &str,
    path: &str,
    config: Arc<rustls::ClientConfig>,
) -> std::io::Result<String> {
    let tcp = tokio::net::TcpStream::connect(address).await?;
    let mut tls = tokio_rustls::TlsConnector::from(config)
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await?;
    tls.write_all(request(address, path).as_bytes()).await?;
    status_line(&mut tls).await
}

fn request(address: &str, path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")
}

/// Reads up to the end of the first line (or the end of the stream).
async fn status_line<R: tokio::io::AsyncRead + Unpin>(stream: &mut R) -> std::io::Result<String> {
    let mut reply = Vec::new();
    let mut chunk = [0u8; 512];
    while !reply.windows(2).any(|w| w == b"\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .map_err(|_| std::io::Error::other("no reply within 10 s"))??;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&reply);
    Ok(text.lines().next().unwrap_or_default().to_string())
}

#[tokio::test]
async fn https_and_wss_work_with_the_given_certificate() {
    let temp = tempfile::tempdir().unwrap();
    let (cert, key, trusted) = certificate(temp.path());
    let server = Server::start(&["--tls-cert", &cert, "--tls-key", &key, "--clock", "events"]);
    let url = server.url().to_string();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let address = url.trim_start_matches("https://").to_string();
    let status = get_over_tls(&address, "/healthz", trusted.clone())
        .await
        .unwrap_or_else(|e| panic!("GET {url}/healthz over TLS: {e:?}"));
    assert_eq!(status, "HTTP/1.1 200 OK");

    // A client that does not trust the certificate is refused in the handshake.
    let untrusting = Arc::new(client_config(rustls::RootCertStore::empty()));
    let refused = get_over_tls(&address, "/healthz", untrusting).await;
    assert!(
        refused.is_err(),
        "an untrusted certificate was accepted: {refused:?}"
    );
    // Plain HTTP on the TLS port gets no HTTP answer.
    let mut plain = tokio::net::TcpStream::connect(&address).await.unwrap();
    plain
        .write_all(request(&address, "/healthz").as_bytes())
        .await
        .unwrap();
    let answer = status_line(&mut plain).await;
    assert!(
        !answer.as_deref().unwrap_or_default().starts_with("HTTP/"),
        "plain HTTP was answered: {answer:?}"
    );

    // The live socket over wss: subscribe, receive the snapshot.
    let tcp = tokio::net::TcpStream::connect(&address).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(trusted.clone())
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
        .unwrap_or_else(|e| panic!("TLS handshake for wss: {e}"));
    // Nothing is readable without credentials: the harness admin's API token.
    let mut upgrade = format!("wss://{address}/api/v1/live")
        .into_client_request()
        .unwrap();
    upgrade.headers_mut().insert(
        "Authorization",
        format!("Bearer {}", server.admin_token()).parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::client_async(upgrade, tls)
        .await
        .unwrap_or_else(|e| panic!("wss upgrade: {e}"));
    socket
        .send(Message::text(
            r#"{"subscribe":["centre"],"windows":["today"]}"#,
        ))
        .await
        .unwrap();
    let frame = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str::<LiveFrame>(text.as_str())
                        .unwrap_or_else(|e| panic!("not a LiveFrame ({e}): {text}"));
                }
                Some(Ok(_)) => continue,
                other => panic!("the wss socket ended: {other:?}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no frame over wss within 10 s"));
    assert!(
        matches!(frame, LiveFrame::Snapshot { .. }),
        "first frame over wss: {frame:?}"
    );

    // Signing in over HTTPS: the session cookie is `Secure`, never sent over plain HTTP.
    let body = format!(
        r#"{{"user":"{}","password":"{}"}}"#,
        floorwatch_tests::HARNESS_USER,
        floorwatch_tests::HARNESS_PASSWORD
    );
    let sign_in = format!(
        "POST /api/v1/session HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let tcp = tokio::net::TcpStream::connect(&address).await.unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(trusted)
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
        .unwrap();
    tls.write_all(sign_in.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut reply)).await;
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let cookie = reply
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no Set-Cookie: {reply}"));
    assert!(
        cookie.contains("fw_session=fws_") && cookie.contains("; Secure"),
        "{cookie}"
    );
    // Under TLS, browsers are told to keep to HTTPS (issue 13 item 7; plain HTTP sends no
    // HSTS: tests/tests/server_edge.rs), beside the headers every response carries.
    let header = |name: &str| {
        reply.lines().take_while(|l| !l.is_empty()).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    };
    assert_eq!(
        header("strict-transport-security").as_deref(),
        Some("max-age=31536000"),
        "{reply}"
    );
    assert!(
        header("content-security-policy").is_some_and(|csp| csp.contains("frame-ancestors 'none'")),
        "{reply}"
    );
    assert_eq!(header("x-frame-options").as_deref(), Some("DENY"));
}

#[tokio::test]
async fn silent_clients_do_not_hold_up_other_handshakes() {
    let temp = tempfile::tempdir().unwrap();
    let (cert, key, trusted) = certificate(temp.path());
    let server = Server::start(&["--tls-cert", &cert, "--tls-key", &key]);
    let address = server.url().trim_start_matches("https://").to_string();
    // Connections that never start their handshake.
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(tokio::net::TcpStream::connect(&address).await.unwrap());
    }
    let started = std::time::Instant::now();
    let status = get_over_tls(&address, "/healthz", trusted)
        .await
        .unwrap_or_else(|e| panic!("GET /healthz over TLS beside silent clients: {e:?}"));
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_key_without_a_certificate_is_a_config_error() {
    let temp = tempfile::tempdir().unwrap();
    let (_, key, _) = certificate(temp.path());
    let out = std::process::Command::new(floorwatch_tests::binary("floorwatch"))
        .args(["--listen", "127.0.0.1:0", "--tls-key", &key, "--data-dir"])
        .arg(temp.path().join("data"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`tls-cert`"), "{stderr}");
    assert!(!stderr.contains("PRIVATE KEY"), "{stderr}");
}
