//! The simulator through a real server (issue 4, "Done when"):
//! - a day replayed at `--speed max` gives, for every queue and the centre, exactly the `today`
//!   figures that `floorwatch-sim report` computes from the same file;
//! - a replay interrupted by a server crash and restart resumes by itself and ends with the
//!   same figures: nothing lost (counts would be lower), nothing counted twice (higher).
//!
//! Both servers run with `--clock events` and the scenario's organisation (written by
//! `floorwatch-sim organisation`), as the README tells testers to.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use floorwatch_core::Figures;
use floorwatch_tests::{Server, binary, sim};

const SCENARIO: &str = "small";

/// A recorded day and the server config of its organisation, in `dir`.
fn record_day(dir: &Path, seed: &str) -> (PathBuf, PathBuf) {
    let day = dir.join("day.ndjson");
    let day_arg = day.to_string_lossy().to_string();
    sim(&[
        "generate",
        "--scenario",
        SCENARIO,
        "--date",
        "2026-03-09",
        "--seed",
        seed,
        "-o",
        &day_arg,
    ]);
    let config = dir.join("org.toml");
    let org = sim(&["organisation", "--scenario", SCENARIO]);
    std::fs::write(&config, org.stdout).unwrap();
    (day, config)
}

/// `floorwatch-sim report --json`: each queue's figures, then the centre's.
fn report(day: &Path) -> Vec<Figures> {
    let day = day.to_string_lossy();
    let output = sim(&["report", &day, "--scenario", SCENARIO, "--json"]);
    serde_json::from_slice(&output.stdout).unwrap()
}

fn assert_same_figures(server: &Server, expected: &[Figures]) {
    assert!(expected.len() >= 2, "queues and the centre");
    let centre = expected.last().unwrap();
    assert!(centre.offered > 500 && centre.abandoned > 0, "{centre:?}");
    for want in expected {
        let got = server.figures(&want.scope.to_string(), "today");
        assert_eq!(&got, want, "{}", want.scope);
    }
}

#[test]
fn a_replay_at_max_speed_gives_the_figures_of_report() {
    let dir = tempfile::tempdir().unwrap();
    let (day, config) = record_day(dir.path(), "42");
    let config = config.to_string_lossy().to_string();
    let server = Server::start(&["--clock", "events", "--config", &config]);
    let day_arg = day.to_string_lossy().to_string();
    let output = sim(&["replay", &day_arg, "--speed", "max", "--to", server.url()]);
    let summary = String::from_utf8_lossy(&output.stderr);
    assert!(summary.contains("rejected 0"), "{summary}");
    assert_same_figures(&server, &report(&day));
}

/// Forwards each connection to whichever server is current; while none answers, it closes the
/// client's connection, as a crashed server's port would refuse it. The replay keeps one URL
/// across the restart (the restarted server gets a new port).
struct Relay {
    url: String,
    target: Arc<Mutex<String>>,
}

impl Relay {
    fn start(target: &str) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let target = Arc::new(Mutex::new(target.trim_start_matches("http://").to_string()));
        let current = target.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let addr = current.lock().unwrap().clone();
                std::thread::spawn(move || {
                    if let Ok(upstream) = TcpStream::connect(&addr) {
                        pipe(client, upstream);
                    }
                });
            }
        });
        Relay { url, target }
    }

    fn point_to(&self, url: &str) {
        *self.target.lock().unwrap() = url.trim_start_matches("http://").to_string();
    }
}

/// Copies both ways until either side closes.
fn pipe(client: TcpStream, upstream: TcpStream) {
    let (Ok(mut client_r), Ok(mut upstream_w)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let (mut upstream_r, mut client_w) = (upstream, client);
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_r, &mut upstream_w);
        let _ = upstream_w.shutdown(std::net::Shutdown::Write);
    });
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n) = upstream_r.read(&mut buf) {
        if n == 0 || client_w.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = client_w.shutdown(std::net::Shutdown::Both);
    let _ = up.join();
}

#[test]
fn a_replay_interrupted_by_a_server_restart_resumes_without_gaps_or_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let (day, config) = record_day(dir.path(), "43");
    let config = config.to_string_lossy().to_string();
    let mut server = Server::start(&["--clock", "events", "--config", &config]);
    let relay = Relay::start(server.url());

    // A day at 28,800x lasts 3 s: long enough to crash the server in the middle.
    let replay = Command::new(binary("floorwatch-sim"))
        .args([
            "replay",
            &day.to_string_lossy(),
            "--speed",
            "28800",
            "--batch",
            "200",
        ])
        .args(["--retry-for", "60", "--to", &relay.url])
        .env("RUST_LOG", "warn")
        .env_remove("FLOORWATCH_INGEST_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut replay = KillOnDrop(Some(replay));

    std::thread::sleep(Duration::from_millis(1_000));
    let mid_day = server.figures("centre", "today");
    assert!(mid_day.offered > 0, "the replay had started: {mid_day:?}");
    server.kill_hard();
    std::thread::sleep(Duration::from_millis(700));
    server.restart();
    relay.point_to(server.url());

    let output = replay.0.take().unwrap().wait_with_output().unwrap();
    let summary = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{summary}");
    // It did meet the dead server, and got past it.
    let retried: u64 = summary
        .lines()
        .find_map(|l| l.trim().strip_prefix("requests"))
        .and_then(|rest| rest.split('(').nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no request count in:\n{summary}"));
    assert!(
        retried > 0,
        "the replay never saw the server down:\n{summary}"
    );
    println!("{summary}");

    let expected = report(&day);
    assert!(
        expected.last().unwrap().offered > mid_day.offered,
        "the restart came before the end of the day"
    );
    assert_same_figures(&server, &expected);
}

/// The replay process, killed if the test fails before it ends.
struct KillOnDrop(Option<std::process::Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
