//! Alerts on replayed days through a real server (issue 7, "Done when"):
//! - a simulated day with a sudden call peak raises the alerts the core's rules raise for that
//!   day, at the same event times, identically on two replays at different speeds into
//!   `--clock events` servers, and among them a sudden-peak alert on the queue hit, within
//!   minutes of the peak's start;
//! - a condition that oscillates around its threshold raises one alert, not many.

mod alerts_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use alerts_support::{BASE, Script, alerts, post, write_config};
use floorwatch_core::alerts::{Alert, Alerts, AlertsConfig, Level, RuleKind, boundaries};
use floorwatch_core::{Engine, Event, Organisation, Scope};
use floorwatch_sim::Scenario;
use floorwatch_tests::{Server, binary, workspace_root};

/// Before this the engine's clock has not been set by an event (as in the server's floor).
const CLOCK_UNSET_BEFORE: i64 = 946_684_800_000;

fn sim(args: &[&str]) -> Output {
    let output = Command::new(binary("floorwatch-sim"))
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("FLOORWATCH_INGEST_TOKEN")
        .output()
        .unwrap_or_else(|e| panic!("running floorwatch-sim: {e}"));
    assert!(
        output.status.success(),
        "floorwatch-sim {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The small preset with a sudden peak on billing: five times the calls from 10:00 for 20
/// minutes.
fn peak_scenario(dir: &Path) -> PathBuf {
    let small = workspace_root().join("simulator/scenarios/small.toml");
    let mut text = std::fs::read_to_string(&small).unwrap();
    text.push_str(
        r#"
[[incidents]]
kind = "call_peak"
start = "10:00"
minutes = 20
factor = 5
queues = ["billing"]
"#,
    );
    let path = dir.join("peak.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// What the core's rules raise for `events` when boundaries are stepped as the server's floor
/// steps them: the reference the servers must match.
fn reference(org: &Organisation, events: &[Event]) -> Vec<Alert> {
    let mut engine = Engine::new(org).unwrap();
    let mut rules = Alerts::new(&AlertsConfig::default(), org).unwrap();
    for event in events {
        let now = engine.now();
        if !event.test && event.ts > now && now >= CLOCK_UNSET_BEFORE {
            for b in boundaries(now, event.ts) {
                engine.tick(b);
                rules.evaluate(&engine, b);
            }
        }
        let applied = engine.apply_new(event);
        rules.observe(event, applied);
    }
    rules.alerts_since(0)
}

fn replay(day: &Path, config: &Path, speed: &[&str]) -> Vec<Alert> {
    let config = config.to_string_lossy();
    let server = Server::start(&["--clock", "events", "--config", &config]);
    let mut args = vec!["replay", day.to_str().unwrap(), "--to", server.url()];
    args.extend_from_slice(speed);
    let output = sim(&args);
    let summary = String::from_utf8_lossy(&output.stderr);
    assert!(summary.contains("rejected 0"), "{summary}");
    alerts(&server)
}

#[test]
fn a_sudden_peak_day_raises_the_same_alerts_at_any_replay_speed() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = peak_scenario(dir.path());
    let scenario_arg = scenario.to_string_lossy().to_string();
    let day = dir.path().join("day.ndjson");
    sim(&[
        "generate",
        "--scenario",
        &scenario_arg,
        "--date",
        "2026-03-09",
        "--seed",
        "7",
        "-o",
        day.to_str().unwrap(),
    ]);
    let org_toml = sim(&["organisation", "--scenario", &scenario_arg]);
    // No [alerts] table: the default rules (docs/ALERTS.md, "Defaults").
    let config = dir.path().join("org.toml");
    std::fs::write(&config, org_toml.stdout).unwrap();

    let events: Vec<Event> = std::fs::read_to_string(&day)
        .unwrap()
        .lines()
        .map(|line| Event::from_json(line).unwrap())
        .collect();
    let org = Scenario::load(&scenario_arg).unwrap().organisation();
    let expected = reference(&org, &events);

    let at_max = replay(&day, &config, &["--speed", "max"]);
    let paced = replay(&day, &config, &["--speed", "28800", "--batch", "200"]);
    let json = |alerts: &[Alert]| serde_json::to_value(alerts).unwrap();
    assert_eq!(json(&at_max), json(&expected), "a replay at max speed");
    assert_eq!(json(&paced), json(&expected), "a replay at 28,800x");

    // The peak: 10:00 in Shanghai is 02:00Z. Arrivals in the last 5 minutes pass twice the
    // usual volume (the hour before) within minutes of the start, and the alert clears after.
    // (The rule's default factor of 2 also catches a natural surge or two in a day.)
    let peak_start = BASE + 3_600_000;
    let peaks: Vec<&Alert> = expected
        .iter()
        .filter(|a| a.kind == RuleKind::SuddenPeak && a.scope == Scope::Queue("billing".into()))
        .filter(|a| (peak_start - 3_600_000..peak_start + 3_600_000).contains(&a.raised_at))
        .collect();
    assert_eq!(peaks.len(), 1, "{peaks:#?}");
    let peak = peaks[0];
    assert!(
        (peak_start..peak_start + 5 * 60_000).contains(&peak.raised_at),
        "raised {} s after the peak began",
        (peak.raised_at - peak_start) / 1000
    );
    assert!(
        peak.cleared_at
            .is_some_and(|t| t < peak_start + 40 * 60_000)
    );
    assert_eq!(peak.rule, "sudden-peak");
    assert_eq!(peak.metric, "arrivals_5m");
    assert!(peak.value.unwrap() > 2.0 * peak.usual.unwrap());
    // No other queue peaked.
    assert!(
        expected
            .iter()
            .filter(|a| a.kind == RuleKind::SuddenPeak)
            .all(|a| a.scope == Scope::Queue("billing".into()) || a.scope == Scope::Centre),
        "{expected:#?}"
    );
    // The peak pushed billing's service level below target too.
    assert!(
        expected.iter().any(|a| a.rule == "service-level"
            && a.scope == Scope::Queue("billing".into())
            && a.raised_at > peak_start),
        "{expected:#?}"
    );
}

/// Waiting calls on billing alternate between 5 and 3 every 20 s, around a warning threshold
/// of 4 that clears at 2: one alert, raised at the first boundary, open through the flapping,
/// cleared when the queue empties; the flapping that starts again within the cool-down raises
/// nothing.
#[test]
fn a_condition_oscillating_around_its_threshold_raises_one_alert() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        r#"
[alerts]
default_rules = false

[[alerts.rules]]
id = "queue-building"
metric = "waiting_now"
scope = "queue:billing"
comparison = "above"
warning = 4
clear = 2
hold_s = 0
cooldown_s = 600
"#,
    );
    let server = Server::start(&["--clock", "events", "--config", config.to_str().unwrap()]);
    let mut script = Script::new();
    let mut n = 0;
    let mut call = || {
        n += 1;
        format!("c{n}")
    };
    // Flapping from 0 s to 300 s, and again from 400 s to 600 s.
    for (from, to) in [(1.0, 301.0), (401.0, 601.0)] {
        let mut waiting: Vec<String> = Vec::new();
        for _ in 0..5 {
            let c = call();
            script.enter(from, &c, "billing");
            waiting.push(c);
        }
        let mut t = from + 20.0;
        let mut up = false;
        while t < to {
            if up {
                for _ in 0..2 {
                    let c = call();
                    script.enter(t, &c, "billing");
                    waiting.push(c);
                }
            } else {
                for c in waiting.drain(..2) {
                    script.abandon(t, &c);
                }
            }
            up = !up;
            t += 20.0;
        }
        for c in waiting.drain(..) {
            script.abandon(to, &c);
        }
    }
    script.login(700.0, "a3", "t2");
    post(&server, &mut script);

    let got = alerts(&server);
    assert_eq!(got.len(), 1, "{got:#?}");
    let alert = &got[0];
    assert_eq!(
        alert.id,
        format!("queue-building/queue:billing@{}", BASE + 10_000)
    );
    assert_eq!(alert.level, Level::Warning);
    assert_eq!(alert.threshold, 4.0);
    // The value at the clear.
    assert_eq!(alert.value, Some(0.0));
    // The queue empties at 301 s: cleared at the next boundary.
    assert_eq!(alert.cleared_at, Some(BASE + 310_000));
}
