//! The `floorwatch-sim` binary: files it writes, the report it prints, and delivery to a server
//! that fails (a fake one here, so the failures are exactly the ones wanted; the real server is
//! exercised in tests/tests/sim_replay.rs).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use floorwatch_core::queue_log::QueueLogReader;
use floorwatch_core::wire::IngestReply;
use floorwatch_core::{Event, EventKind, Figures, Organisation};
use floorwatch_sim::Scenario;

fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_floorwatch-sim"))
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("FLOORWATCH_INGEST_TOKEN")
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> Output {
    let out = sim(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn generate(dir: &Path, name: &str, extra: &[&str]) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut args = vec![
        "generate",
        "--scenario",
        "small",
        "--date",
        "2026-03-09",
        "-o",
        path.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    ok(&args);
    path
}

#[test]
fn generate_is_deterministic_and_writes_valid_events_or_queue_log() {
    let dir = tempfile::tempdir().unwrap();
    let a = std::fs::read(generate(dir.path(), "a.ndjson", &["--seed", "5"])).unwrap();
    let b = std::fs::read(generate(dir.path(), "b.ndjson", &["--seed", "5"])).unwrap();
    let c = std::fs::read(generate(dir.path(), "c.ndjson", &["--seed", "6"])).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    for line in String::from_utf8(a).unwrap().lines() {
        Event::from_json(line).unwrap();
    }
    let log = generate(
        dir.path(),
        "day.queue_log",
        &["--seed", "5", "--format", "queue-log"],
    );
    let text = std::fs::read_to_string(log).unwrap();
    let read = QueueLogReader::new("queue-log:test").read_text(&text);
    assert!(
        read.errors.is_empty(),
        "{:?}",
        &read.errors[..3.min(read.errors.len())]
    );
    assert!(
        read.events
            .iter()
            .any(|e| matches!(e.kind, EventKind::CallAnswered { .. }))
    );
}

#[test]
fn report_counts_what_the_file_holds() {
    let dir = tempfile::tempdir().unwrap();
    let day = generate(dir.path(), "day.ndjson", &["--seed", "8"]);
    let out = ok(&["report", day.to_str().unwrap(), "--json"]);
    let figures: Vec<Figures> = serde_json::from_slice(&out.stdout).unwrap();
    let centre = figures.last().unwrap();
    // Counted independently: outcomes of the non-test calls in the file.
    let text = std::fs::read_to_string(&day).unwrap();
    let mut outcomes: HashMap<&str, u64> = HashMap::new();
    for e in text.lines().map(|l| Event::from_json(l).unwrap()) {
        if e.test {
            continue;
        }
        let kind = match e.kind {
            EventKind::CallAnswered { .. } => "answered",
            EventKind::CallAbandoned { .. } => "abandoned",
            EventKind::CallTimedOut { .. } => "timed_out",
            _ => continue,
        };
        *outcomes.entry(kind).or_default() += 1;
    }
    assert_eq!(centre.answered, outcomes["answered"]);
    assert_eq!(centre.abandoned, outcomes["abandoned"]);
    assert_eq!(centre.timed_out, outcomes["timed_out"]);
    let queues: u64 = figures[..figures.len() - 1].iter().map(|f| f.offered).sum();
    assert_eq!(queues, centre.offered);
    // The table names every queue and the centre.
    let table = String::from_utf8(ok(&["report", day.to_str().unwrap()]).stdout).unwrap();
    for scope in ["queue:billing", "queue:support", "queue:vip", "centre"] {
        assert!(table.contains(scope), "{table}");
    }
}

#[test]
fn organisation_prints_the_scenarios_floor_as_server_config() {
    let out = ok(&["organisation", "--scenario", "medium"]);
    let org: Organisation = toml::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(org, Scenario::preset("medium").unwrap().organisation());
}

#[test]
fn a_bad_scenario_file_fails_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    let text = include_str!("../scenarios/small.toml")
        .replace("calls_per_day = 600", "calls_per_day = -600");
    std::fs::write(&path, text).unwrap();
    let out = sim(&["generate", "--scenario", path.to_str().unwrap(), "-o", "-"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("queues[0].calls_per_day"), "{err}");
    assert!(err.contains("bad.toml"), "{err}");
}

/// A fake `POST` ingest endpoint (the replays below send one batch at a time, `--in-flight 1`;
/// the websocket path is tested against the real server, tests/tests/sim_replay.rs) that
/// fails on purpose: it answers 503 to the first two requests and
/// drops the connection after reading the third (as a server crashing after it journaled the
/// batch but before it replied), then behaves. It records every event id it receives.
struct FakeServer {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
    authorization: Arc<Mutex<Vec<String>>>,
}

impl FakeServer {
    fn start() -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let authorization = Arc::new(Mutex::new(Vec::new()));
        let (s, a) = (seen.clone(), authorization.clone());
        std::thread::spawn(move || {
            let mut requests = 0;
            for stream in listener.incoming().map_while(Result::ok) {
                // One connection at a time: the client sends one batch at a time.
                serve(stream, &mut requests, &s, &a);
            }
        });
        FakeServer {
            url,
            seen,
            authorization,
        }
    }
}

fn serve(
    stream: TcpStream,
    requests: &mut u32,
    seen: &Mutex<Vec<String>>,
    authorization: &Mutex<Vec<String>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        let mut first = true;
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if first {
                assert!(line.starts_with("POST /api/v1/events "), "{line}");
                first = false;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            if lower.starts_with("authorization:") {
                authorization.lock().unwrap().push(line.trim().to_string());
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        *requests += 1;
        if *requests <= 2 {
            let _ =
                stream.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
            continue;
        }
        let mut seen = seen.lock().unwrap();
        let mut reply = IngestReply::default();
        for line in String::from_utf8(body).unwrap().lines() {
            let id = Event::from_json(line).unwrap().id;
            if seen.contains(&id) {
                reply.duplicate += 1;
            } else {
                reply.accepted += 1;
            }
            seen.push(id);
        }
        if *requests == 3 {
            return; // journaled, then crashed before replying
        }
        let json = serde_json::to_string(&reply).unwrap();
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            json.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(json.as_bytes());
    }
}

#[test]
fn replay_retries_an_unavailable_server_without_losing_or_duplicating_events() {
    let dir = tempfile::tempdir().unwrap();
    let day = generate(dir.path(), "day.ndjson", &["--seed", "9"]);
    let expected: Vec<String> = std::fs::read_to_string(&day)
        .unwrap()
        .lines()
        .map(|l| Event::from_json(l).unwrap().id)
        .collect();
    let server = FakeServer::start();
    let out = ok(&[
        "replay",
        day.to_str().unwrap(),
        "--speed",
        "max",
        "--batch",
        "1000",
        // The fake speaks `POST` only: one batch at a time, as with `--in-flight 1`.
        "--in-flight",
        "1",
        "--to",
        &server.url,
        "--token",
        "s3cret",
    ]);
    let summary = String::from_utf8_lossy(&out.stderr);
    let seen = server.seen.lock().unwrap().clone();
    // Every event arrived; the only repeat is the batch whose reply was lost, resent once.
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    let mut want = expected.clone();
    want.sort();
    assert_eq!(unique, want);
    assert_eq!(seen.len(), expected.len() + 1000, "{summary}");
    // Order kept: the resent batch repeats the one before it, then the file goes on.
    assert_eq!(&seen[..1000], &expected[..1000]);
    assert_eq!(&seen[1000..2000], &expected[..1000]);
    assert_eq!(&seen[2000..], &expected[1000..]);
    assert!(summary.contains("duplicate 1000"), "{summary}");
    assert!(summary.contains("(3 retried)"), "{summary}");
    let auth = server.authorization.lock().unwrap();
    assert!(
        auth.iter()
            .all(|h| h == "authorization: Bearer s3cret" || h == "Authorization: Bearer s3cret"),
        "{auth:?}"
    );
    assert!(!auth.is_empty());
}

#[test]
fn replay_paces_events_by_the_speed() {
    let dir = tempfile::tempdir().unwrap();
    let day = generate(dir.path(), "day.ndjson", &["--seed", "9"]);
    // The night: two hours of a small day, a handful of events, at 7200x: one second.
    let text = std::fs::read_to_string(&day).unwrap();
    let events: Vec<Event> = text.lines().map(|l| Event::from_json(l).unwrap()).collect();
    let first = events[0].ts;
    let night: Vec<&str> = text
        .lines()
        .zip(&events)
        .filter(|(_, e)| e.ts < first + 2 * 3_600_000)
        .map(|(l, _)| l)
        .collect();
    let path = dir.path().join("night.ndjson");
    std::fs::write(&path, night.join("\n")).unwrap();
    let span_s = (events[night.len() - 1].ts - first) as f64 / 1000.0;
    let server = FakeServer::start();
    // Let the fake's two deliberate 503s and its lost reply happen on a throwaway replay.
    let warm = dir.path().join("warm.ndjson");
    std::fs::write(&warm, format!("{}\n", night[0])).unwrap();
    ok(&[
        "replay",
        warm.to_str().unwrap(),
        "--in-flight",
        "1",
        "--to",
        &server.url,
    ]);
    let started = std::time::Instant::now();
    ok(&[
        "replay",
        path.to_str().unwrap(),
        "--speed",
        "7200",
        "--in-flight",
        "1",
        "--to",
        &server.url,
    ]);
    let took = started.elapsed().as_secs_f64();
    let want = span_s / 7200.0;
    assert!(
        took >= want * 0.95 && took < want + 2.0,
        "took {took:.2} s for {want:.2} s of scaled event time"
    );
}
