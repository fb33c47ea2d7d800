//! Restart from a checkpoint (docs/ARCHITECTURE.md, "Checkpoints"): a server stopped with
//! SIGTERM writes a checkpoint and the next start resumes from it, replaying nothing; killed
//! with SIGKILL later, the next start resumes from the same checkpoint and replays the journal
//! after it; a damaged checkpoint is ignored with a warning and the whole journal replayed.
//! Every time the figures, agents and alerts equal those before the stop.

use std::path::{Path, PathBuf};
use std::time::Duration;

use floorwatch_core::{AgentView, Event, Figures, QueueView};
use floorwatch_sim::{Scenario, Simulation};
use floorwatch_tests::{Server, run_floorwatch};

/// Events `from..to` of a simulated day of the `small` preset, as NDJSON bodies of 500.
fn simulated_day(from: usize, to: usize) -> Vec<String> {
    let scenario = Scenario::preset("small").unwrap();
    let events: Vec<Event> = Simulation::new(&scenario, jiff::civil::date(2026, 3, 9), 7)
        .skip(from)
        .take(to - from)
        .collect();
    events
        .chunks(500)
        .map(|chunk| {
            chunk
                .iter()
                .map(Event::to_json)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect()
}

/// A rule that raises on the small day, so alerts are part of what must come back.
const ALERTS: &str = r#"
[alerts]
[[alerts.rules]]
id = "queue-building"
metric = "waiting_now"
scope = "every_queue"
comparison = "above"
warning = 1
critical = 4
hold_s = 20
"#;

#[derive(Debug, PartialEq)]
struct Readout {
    figures: Vec<Figures>,
    agents: Vec<AgentView>,
    alerts: serde_json::Value,
}

fn readout(server: &Server) -> Readout {
    let queues: Vec<QueueView> = server.get_json("/api/v1/queues");
    let scopes = std::iter::once("centre".to_string())
        .chain(queues.iter().map(|q| format!("queue:{}", q.id)));
    let mut figures = Vec::new();
    for scope in scopes {
        for window in ["today", "15m", "60m"] {
            figures.push(server.figures(&scope, window));
        }
    }
    Readout {
        figures,
        agents: server.get_json("/api/v1/agents"),
        alerts: server.get_json("/api/v1/alerts?since=0"),
    }
}

fn post_all(server: &Server, bodies: &[String]) -> u64 {
    let mut accepted = 0;
    for body in bodies {
        let reply = server.post_events(body);
        assert_eq!(reply.rejected, 0, "{:?}", reply.errors);
        accepted += reply.accepted;
    }
    accepted
}

fn journal_health(server: &Server) -> serde_json::Value {
    let health: serde_json::Value = server.get_json("/healthz");
    health["journal"].clone()
}

/// `floorwatch checkpoint check` with the server's config: whether a start would resume from
/// a checkpoint, and its listing.
fn checkpoint_check(server: &Server, config: &Path) -> (bool, String) {
    let out = run_floorwatch(
        server.data_dir(),
        &["checkpoint", "check", "--config", config.to_str().unwrap()],
        "",
    );
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A server replaying by event time with [`ALERTS`]; the dir holding its config.
fn start() -> (tempfile::TempDir, PathBuf, Server) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("floorwatch.toml");
    std::fs::write(&config, ALERTS).unwrap();
    let server = Server::start(&["--clock", "events", "--config", config.to_str().unwrap()]);
    (dir, config, server)
}

#[test]
fn a_restart_resumes_from_the_checkpoint_with_the_same_figures_and_alerts() {
    let (_dir, config, mut server) = start();
    let accepted = post_all(&server, &simulated_day(0, 6_000));
    assert!(accepted > 5_000, "{accepted}");
    let before = readout(&server);
    assert!(before.figures[0].offered > 0, "the day has calls");
    assert!(
        before.alerts.as_array().is_some_and(|a| !a.is_empty()),
        "the rule raised nothing: the test would prove nothing about alerts"
    );

    // A graceful stop writes a checkpoint; the start resumes from it and replays nothing.
    assert!(server.terminate(Duration::from_secs(60)).is_some());
    let (usable, listing) = checkpoint_check(&server, &config);
    assert!(usable, "{listing}");
    assert!(listing.contains("would be used"), "{listing}");
    server.restart();
    let journal = journal_health(&server);
    assert_eq!(journal["from_checkpoint"], accepted, "{journal}");
    // Only the events just before the checkpoint's position are read again (and dropped as
    // known): two journal marks' worth, whatever the journal's length.
    assert!(
        journal["replayed_events"].as_u64().unwrap() <= 2_048,
        "{journal}"
    );
    assert_eq!(readout(&server), before);

    // More events, then a crash: the same checkpoint and the journal after it.
    let more = post_all(&server, &simulated_day(6_000, 9_000));
    assert!(more > 2_000, "{more}");
    let before = readout(&server);
    server.kill_hard();
    server.restart();
    let journal = journal_health(&server);
    assert_eq!(journal["from_checkpoint"], accepted, "{journal}");
    assert!(
        journal["replayed_events"].as_u64().unwrap() >= more,
        "{journal}"
    );
    assert_eq!(readout(&server), before);
    // What the checkpoint holds is still known: a resend is all duplicates.
    let reply = server.post_events(&simulated_day(0, 500)[0]);
    assert_eq!(reply.accepted, 0);
    assert_eq!(readout(&server), before);
}

#[test]
fn a_damaged_checkpoint_is_ignored_and_the_whole_journal_replayed() {
    let (_dir, config, mut server) = start();
    let accepted = post_all(&server, &simulated_day(0, 6_000));
    let before = readout(&server);
    assert!(server.terminate(Duration::from_secs(60)).is_some());
    let dir = server.data_dir().join("checkpoints");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let mut bytes = std::fs::read(&files[0]).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&files[0], &bytes).unwrap();
    let (usable, listing) = checkpoint_check(&server, &config);
    assert!(!usable, "{listing}");
    assert!(listing.contains("ignored: damaged"), "{listing}");

    server.restart();
    let journal = journal_health(&server);
    assert_eq!(
        journal["from_checkpoint"],
        serde_json::Value::Null,
        "{journal}"
    );
    assert_eq!(journal["replayed_events"], accepted, "{journal}");
    assert!(
        server.logs().contains("checkpoint ignored"),
        "{}",
        server.logs()
    );
    assert_eq!(readout(&server), before);
}

/// A checkpoint taken in the middle of a replay, while the history thread still gathers the
/// closes sent before it (a past day's closes wait up to two seconds to be written together),
/// reaches the disk only once they are written: killed the moment it appears, the server
/// resumes from it. On disk before them, it would be refused at the next start ("the history
/// store does not end where its interval ledger begins") and the whole journal replayed.
#[test]
fn a_checkpoint_taken_while_history_gathers_closes_is_usable_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("floorwatch.toml");
    std::fs::write(&config, ALERTS).unwrap();
    let cfg = config.to_str().unwrap();
    let mut server = Server::start(&[
        "--clock",
        "events",
        "--config",
        cfg,
        "--checkpoint-every-s",
        "1",
    ]);
    let mut accepted = post_all(&server, &simulated_day(0, 3_000));
    let checkpoints = server.data_dir().join("checkpoints");
    let written = || -> std::collections::BTreeSet<std::path::PathBuf> {
        std::fs::read_dir(&checkpoints).map_or_else(
            |_| Default::default(),
            |files| {
                files
                    .filter_map(Result::ok)
                    .map(|f| f.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "ckpt"))
                    .collect()
            },
        )
    };
    // The next group comes after the schedule's second, and after any checkpoint of the
    // groups above is written (each waits for the closes before it, two seconds at most): one
    // batch, whose quarter-hour closes the history thread is still gathering when the
    // checkpoint after it is taken.
    std::thread::sleep(Duration::from_millis(3_000));
    let earlier = written();
    accepted += post_all(&server, &simulated_day(3_000, 3_500));
    let before = readout(&server);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while written().is_subset(&earlier) {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint written"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    server.kill_hard();
    server.restart();
    let journal = journal_health(&server);
    assert_eq!(
        journal["from_checkpoint"],
        accepted,
        "{journal}\n{}",
        server.logs()
    );
    assert_eq!(readout(&server), before);
}
