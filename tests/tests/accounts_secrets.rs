//! End-to-end: secrets never reach the server's log (issue 8, "the ingest token and AMI secret
//! are never logged"). The server runs at the chattiest log level, `trace`, so that anything
//! any layer (hyper, axum, tower) would print is in the file that is searched.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use floorwatch_tests::{READY_TIMEOUT, binary};

/// A server process with its own log level; killed on drop.
struct Traced {
    child: Child,
    url: String,
    log: std::path::PathBuf,
}

impl Drop for Traced {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_traced(dir: &std::path::Path, args: &[&str]) -> Traced {
    let log = dir.join("floorwatch.log");
    let mut child = Command::new(binary("floorwatch"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.join("data"))
        .args(args)
        .env("RUST_LOG", "trace")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("floorwatch listening on ")
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(
                    rest.split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                );
            }
        }
    });
    let url = rx.recv_timeout(READY_TIMEOUT).unwrap_or_else(|_| {
        panic!(
            "no listening line; log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    });
    Traced { child, url, log }
}

fn post(url: &str, token: &str, body: &str) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    agent
        .post(format!("{url}/api/v1/events"))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/x-ndjson")
        .send(body)
        .map(|r| r.status().as_u16())
        .unwrap_or_else(|e| panic!("POST: {e}"))
}

#[test]
fn the_ingest_token_never_shows_in_the_log() {
    let temp = tempfile::tempdir().unwrap();
    let token = "s3cret-ingest-token-7f3a9c";
    let wrong = "wrong-guess-token-b81d22";
    let mut server = start_traced(temp.path(), &["--ingest-token", token, "--clock", "events"]);
    let caller = "13987654321";
    let event = format!(
        r#"{{"v":1,"id":"e1","source":"test","seq":1,"ts":1700000000000,"type":"call_entered_queue","call":"c1","queue":"billing","caller":"{caller}"}}"#
    );
    let event = event.as_str();
    assert_eq!(post(&server.url, token, event), 200);
    assert_eq!(post(&server.url, wrong, event), 401);
    let _ = server.child.kill();
    let _ = server.child.wait();

    let log = std::fs::read_to_string(&server.log).unwrap();
    assert!(log.lines().count() > 5, "the server logged: {log}");
    assert!(
        !log.contains(token),
        "the ingest token is in the log:\n{log}"
    );
    assert!(
        !log.contains(wrong),
        "a presented token is in the log:\n{log}"
    );
    assert!(
        !log.contains(caller),
        "a caller number is in the log:\n{log}"
    );
}
