//! Crash and recovery: a server killed with SIGKILL and restarted on the same data dir reports
//! the same figures as before the kill; a torn last journal write is cut off and reported.

use std::io::Write;

use floorwatch_core::{AgentView, Event, Figures, QueueView};
use floorwatch_sim::{Scenario, Simulation};
use floorwatch_tests::Server;

/// The first `n` events of a simulated day of the `small` preset, as NDJSON bodies of 500.
fn simulated_day(n: usize) -> Vec<String> {
    let scenario = Scenario::preset("small").unwrap();
    let events: Vec<Event> = Simulation::new(&scenario, jiff::civil::date(2026, 3, 9), 7)
        .take(n)
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

struct Readout {
    figures: Vec<Figures>,
    agents: Vec<AgentView>,
}

fn readout(server: &Server) -> Readout {
    let queues: Vec<QueueView> = server.get_json("/api/v1/queues");
    let scopes = std::iter::once("centre".to_string())
        .chain(queues.iter().map(|q| format!("queue:{}", q.id)));
    let figures = scopes
        .map(|scope| server.figures(&scope, "today"))
        .collect();
    Readout {
        figures,
        agents: server.get_json("/api/v1/agents"),
    }
}

#[test]
fn a_killed_server_restarts_with_the_same_today_figures() {
    let mut server = Server::start(&["--clock", "events"]);
    let bodies = simulated_day(6_000);
    let mut accepted = 0;
    for body in &bodies {
        let reply = server.post_events(body);
        assert_eq!(reply.rejected, 0, "{:?}", reply.errors);
        accepted += reply.accepted;
    }
    assert!(accepted > 5_000, "{accepted}");
    let before = readout(&server);
    assert!(before.figures[0].offered > 0, "the day has calls");
    assert!(!before.agents.is_empty());

    server.kill_hard();
    server.restart();
    let after = readout(&server);
    assert_eq!(after.figures, before.figures);
    assert_eq!(after.agents, before.agents);
    let health: serde_json::Value = server.get_json("/healthz");
    assert_eq!(health["journal"]["replayed_events"], accepted);

    // Resending everything after the restart: all duplicates, nothing changes.
    let reply = server.post_events(&bodies[0]);
    assert_eq!(reply.accepted, 0);
    assert_eq!(readout(&server).figures, before.figures);
}

#[test]
fn a_torn_last_line_is_cut_off_and_reported() {
    let mut server = Server::start(&["--clock", "events"]);
    let bodies = simulated_day(600);
    server.post_events(&bodies[0]);
    let before = readout(&server);
    server.kill_hard();

    // A kill in the middle of a write leaves the start of a frame behind: its header (36
    // bytes, docs/ARCHITECTURE.md "The journal") and the first bytes of its body.
    let journal = server.data_dir().join("journal");
    let segment = std::fs::read_dir(&journal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .max()
        .unwrap();
    let torn = std::fs::read(&segment).unwrap()[..40].to_vec();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&segment)
        .unwrap()
        .write_all(&torn)
        .unwrap();

    server.restart();
    assert_eq!(readout(&server).figures, before.figures);
    let health: serde_json::Value = server.get_json("/healthz");
    assert_eq!(health["journal"]["torn_tail_bytes"], 40);
    assert!(server.logs().contains("torn"), "{}", server.logs());
    // The journal takes whole frames again.
    let reply = server.post_events(&bodies[1]);
    assert!(reply.accepted > 0);
    server.kill_hard();
    server.restart();
    let health: serde_json::Value = server.get_json("/healthz");
    assert_eq!(health["journal"]["bad_lines"], 0);
    assert!(health["journal"]["torn_tail_bytes"].is_null());
}
