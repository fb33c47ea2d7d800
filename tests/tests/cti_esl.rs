//! The server's `freeswitch-esl` source against the fake FreeSWITCH (`floorwatch-sim
//! esl-server`, docs/CTI.md, "FreeSWITCH"):
//!
//! - an uninterrupted day gives exactly the figures of the same canonical day sent as NDJSON,
//!   reduced to what mod_callcenter carries (no IVR completions, no test flag, every
//!   not-ready reason `other`), worked out here with the core engine, every scope;
//! - the same day with the link dropped mid-day (planned and random drops; the switch's day
//!   paused while no client is synchronised) ends at the same figures: the source reconnects
//!   and resyncs with `callcenter_config queue list ...` over the same socket.
//!
//! Servers run with `--clock events` and the scenario's organisation, as a tester would.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use floorwatch_core::{
    AgentState, Engine, Event, EventKind, Figures, NotReadyReason, Scope, Window,
};
use floorwatch_sim::{Scenario, Simulation};
use floorwatch_tests::{FakeSwitch, Server, binary};

const SCENARIO: &str = "small";
const DATE: &str = "2026-03-09";
const SEED: u64 = 3;

fn config(dir: &Path, switch: &FakeSwitch) -> PathBuf {
    let org = Command::new(binary("floorwatch-sim"))
        .args(["organisation", "--scenario", SCENARIO])
        .output()
        .unwrap();
    assert!(org.status.success());
    let mut text = String::from_utf8(org.stdout).unwrap();
    text.push_str(&format!(
        "\n[[sources]]\nkind = \"freeswitch-esl\"\nname = \"fs\"\nhost = \"127.0.0.1\"\n\
         port = {}\npassword = \"s3cret\"\nreconnect_min_ms = 100\n",
        switch.port()
    ));
    let path = dir.join("floorwatch.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The canonical event as mod_callcenter carries it (docs/CTI.md, "What ESL cannot carry").
fn as_esl_carries(event: &Event) -> Option<Event> {
    let mut e = event.clone();
    e.test = false;
    match &mut e.kind {
        EventKind::CallIvrCompleted { .. } => return None,
        EventKind::AgentState {
            state: AgentState::NotReady,
            reason,
            ..
        } => *reason = Some(NotReadyReason::Other),
        _ => {}
    }
    Some(e)
}

fn as_read(figures: Figures) -> Figures {
    serde_json::from_str(&serde_json::to_string(&figures).unwrap()).unwrap()
}

fn reference(scenario: &Scenario) -> Engine {
    let mut engine = Engine::new(&scenario.organisation()).unwrap();
    for event in
        Simulation::new(scenario, DATE.parse().unwrap(), SEED).filter_map(|e| as_esl_carries(&e))
    {
        engine.apply(&event);
    }
    engine
}

fn wait_for(server: &Server, what: &str, want: &Figures) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let centre = server.figures("centre", "today");
        if centre == *want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the day did not come in; last centre figures {centre:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_day_from_freeswitch_gives_the_ndjson_figures_with_or_without_drops() {
    let scenario = Scenario::preset(SCENARIO).unwrap();
    let expected = reference(&scenario);
    let centre = as_read(expected.figures(&Scope::Centre, Window::Today).unwrap());
    assert!(centre.offered > 800 && centre.abandoned > 0 && centre.timed_out > 0);
    let scopes = expected.scopes();
    assert!(scopes.len() > 20, "{scopes:?}");

    let seed = SEED.to_string();
    for (what, drops) in [
        ("uninterrupted", vec![]),
        (
            "dropped",
            vec![
                "--drop-at",
                "3000,12000",
                "--drop-random",
                "0.0003",
                "--drop-seed",
                "9",
            ],
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec![
            "--scenario",
            SCENARIO,
            "--date",
            DATE,
            "--seed",
            &seed,
            "--speed",
            "max",
            "--password",
            "s3cret",
        ];
        args.extend_from_slice(&drops);
        let switch = FakeSwitch::start_esl(&args);
        let cfg = config(dir.path(), &switch);
        let server = Server::start(&["--config", cfg.to_str().unwrap(), "--clock", "events"]);
        wait_for(&server, what, &centre);
        for scope in &scopes {
            let want = as_read(expected.figures(scope, Window::Today).unwrap());
            assert_eq!(
                server.figures(&scope.to_string(), "today"),
                want,
                "{what}: {scope}"
            );
        }
        let logs = server.logs();
        let resyncs = logs.matches("ESL resynced from callcenter_config").count();
        if drops.is_empty() {
            assert_eq!(resyncs, 1, "{logs}");
        } else {
            assert!(resyncs >= 4, "{resyncs} resyncs:\n{logs}");
            assert!(
                logs.contains("switch link down") && logs.contains("protocol=\"ESL\""),
                "{logs}"
            );
        }
        assert!(!logs.contains("s3cret"), "the password is never logged");
    }
}
