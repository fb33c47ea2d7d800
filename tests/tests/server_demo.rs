//! `--demo`: the embedded simulator feeds a live floor at once, through the journal.

use std::time::{Duration, Instant};

use floorwatch_core::{AgentView, Scope};
use floorwatch_tests::{Board, LiveClient, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_shows_a_live_floor_at_once() {
    let server = Server::start(&["--demo", "--demo-seed", "7", "--push-interval-ms", "100"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let signed_in = loop {
        let agents: Vec<AgentView> =
            tokio::task::block_in_place(|| server.get_json("/api/v1/agents"));
        let signed_in = agents.iter().filter(|a| a.state.is_some()).count();
        if signed_in > 0 {
            break signed_in;
        }
        assert!(Instant::now() < deadline, "no agent signed in: {agents:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(signed_in <= 20, "the small preset has 20 agents");

    // The events went through the journal like any source's, as `sim`.
    let health: serde_json::Value = tokio::task::block_in_place(|| server.get_json("/healthz"));
    assert!(
        health["events"]["accepted"].as_u64().unwrap() > 0,
        "{health}"
    );
    let metrics = tokio::task::block_in_place(|| server.get("/metrics").body);
    assert!(
        metrics.contains(r#"source="sim",outcome="accepted""#),
        "{metrics}"
    );

    // The organisation is the scenario's: its teams are scopes from the start.
    let mut live = LiveClient::connect(&server).await;
    live.subscribe(&["centre", "agents:centre"], &["today"])
        .await;
    let mut board = Board::default();
    live.until(&mut board, Duration::from_secs(10), |b| b.snapshots == 1)
        .await;
    let centre = board.get("centre", "today").unwrap();
    assert_eq!(
        centre.agents.logged_in as usize,
        board.agents.values().filter(|a| a.state.is_some()).count()
    );
    assert!(centre.agents.logged_in > 0);

    // The day up to now was recorded before the wall clock moved the floor on: none of it
    // counts as late, and its minutes are in the sparklines from the first snapshot.
    assert_eq!(health["events"]["late"], 0, "{health}");
    if centre.offered > 0 {
        let points = board.history.get(&Scope::Centre).map_or(0, Vec::len);
        assert!(points > 0, "calls today but no sparkline points");
    }
}

/// The demo centre's opening hours, as `server/src/demo.rs` gives them (`OPENING_HOURS`), and
/// its zone (the `small` preset's).
const DEMO_OPEN: (i8, i8) = (8, 21);
const DEMO_ZONE: &str = "Asia/Shanghai";

/// Whether the demo centre is open at `at` (local time within [`DEMO_OPEN`]).
fn demo_open_at(at: i64) -> bool {
    let zone = jiff::tz::TimeZone::get(DEMO_ZONE).unwrap();
    let local = jiff::Timestamp::from_millisecond(at)
        .unwrap()
        .to_zoned(zone)
        .hour();
    (DEMO_OPEN.0..DEMO_OPEN.1).contains(&local)
}

/// The demo's organisation: the `small` preset with the demo's opening hours.
fn demo_organisation(scenario: &floorwatch_sim::Scenario) -> floorwatch_core::Organisation {
    let mut org = scenario.organisation();
    let day = || Some(vec![format!("{:02}:00-{:02}:00", DEMO_OPEN.0, DEMO_OPEN.1)]);
    org.centre.opening_hours = Some(floorwatch_core::opening_hours::OpeningHoursConfig {
        mon: day(),
        tue: day(),
        wed: day(),
        thu: day(),
        fri: day(),
        sat: day(),
        sun: day(),
        exceptions: Vec::new(),
    });
    org
}

/// A whole demo day (seed 7), replayed through the engine and the default alert rules as the
/// server evaluates them (every 10 s boundary before the event that crosses it): what a
/// supervisor would see if the demo ran all day. Issue 18 counted 98 alerts in the first
/// seconds (source-silent over the night, break overruns by seconds, service level on one call,
/// sudden peaks); what is left is each justified.
#[test]
fn a_demo_day_raises_only_alerts_a_supervisor_would_act_on() {
    use floorwatch_core::alerts::{Alerts, AlertsConfig, RuleKind, boundaries};
    use floorwatch_core::{Engine, Window};

    let scenario = floorwatch_sim::Scenario::preset("small").unwrap();
    let org = demo_organisation(&scenario);
    let mut engine = Engine::new(&org).unwrap();
    let mut alerts = Alerts::new(&AlertsConfig::default(), &org).unwrap();
    let min_offered = alerts
        .rules()
        .iter()
        .find(|r| r.id == "service-level")
        .and_then(|r| r.min_offered)
        .unwrap();
    assert_eq!(min_offered, 5);
    let date = jiff::civil::date(2026, 12, 7);
    let mut raised = Vec::new();
    let mut clock: Option<i64> = None;
    for event in floorwatch_sim::Simulation::new(&scenario, date, 7) {
        if let Some(now) = clock {
            for b in boundaries(now, event.ts).take_while(|&b| b <= event.ts) {
                engine.tick(b);
                for change in alerts.evaluate(&engine, b).changes {
                    if let floorwatch_core::alerts::AlertChange::Raised { alert } = change {
                        // Service level is judged on at least `min_offered` calls, never fewer.
                        if alert.kind == RuleKind::Metric {
                            let window = alert.window.unwrap_or(Window::Rolling30);
                            let offered = engine.figures(&alert.scope, window).unwrap().offered;
                            assert!(offered >= min_offered, "{alert:?} on {offered} calls");
                        }
                        raised.push(alert.id.clone());
                    }
                }
            }
        }
        let applied = engine.apply(&event);
        alerts.observe(&event, applied);
        clock = Some(engine.now());
    }
    let book = alerts.alerts_since(0);
    let summary: Vec<String> = book
        .iter()
        .map(|a| {
            format!(
                "{} {:?}",
                a.id,
                a.cleared_at.map(|c| (c - a.raised_at) / 1000)
            )
        })
        .collect();
    assert_eq!(book.len(), raised.len());
    assert_no_noise(&book, &summary);
    // What is left of the day, by rule: no source-silent (the feed is quiet only at night, when
    // the centre is closed), overruns only by minutes, service level on 5 calls or more in its
    // window, and the first day's sudden peaks (no earlier day to compare with, so the hour
    // before is the usual volume). Noise coming back changes these counts.
    let count = |rule: &str| book.iter().filter(|a| a.rule == rule).count();
    let counts = [
        ("source-silent", count("source-silent")),
        ("not-ready-overrun", count("not-ready-overrun")),
        ("service-level", count("service-level")),
        ("sudden-peak", count("sudden-peak")),
        ("dropped-calls", count("dropped-calls")),
    ];
    assert_eq!(
        counts,
        [
            ("source-silent", 0),
            ("not-ready-overrun", 6),
            ("service-level", 27),
            ("sudden-peak", 4),
            ("dropped-calls", 0),
        ],
        "{summary:#?}"
    );
}

/// The demo started fresh: once it has recorded its morning (everything simulated from the
/// centre's midnight up to now), the alerts it raised meanwhile, all shown in its first minute,
/// are none while the centre was closed, no overrun by seconds, no service level on fewer calls
/// than the rule's `min_offered`. What the morning holds depends on the hour the test runs;
/// `a_demo_day_raises_only_alerts_a_supervisor_would_act_on` pins a whole day.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_opens_without_noise() {
    let started = jiff::Timestamp::now().as_millisecond();
    let server = Server::start(&["--demo", "--demo-seed", "7"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    // The wall clock moves the floor only once the morning is recorded.
    loop {
        let health: serde_json::Value = tokio::task::block_in_place(|| server.get_json("/healthz"));
        if health["now"].as_i64().is_some_and(|now| now >= started) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the demo never caught up: {health}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let rules: serde_json::Value =
        tokio::task::block_in_place(|| server.get_json("/api/v1/alerts/rules"));
    let service_level = rules
        .as_array()
        .and_then(|r| r.iter().find(|r| r["id"] == "service-level"))
        .unwrap_or_else(|| panic!("no service-level rule: {rules}"));
    assert_eq!(service_level["min_offered"], 5, "{service_level}");

    let alerts: Vec<floorwatch_core::alerts::Alert> =
        tokio::task::block_in_place(|| server.get_json("/api/v1/alerts?since=0"));
    let summary: Vec<String> = alerts.iter().map(|a| a.id.clone()).collect();
    assert_no_noise(&alerts, &summary);
    // Within a whole demo day's count (37 at seed 7 on the day above; days differ by date),
    // whatever the hour: not issue 18's 98 in the first seconds.
    assert!(alerts.len() <= 45, "{} alerts: {summary:#?}", alerts.len());
}

/// What a supervisor would call noise, in `alerts`: silence or service level while the centre
/// is closed (silence is expected then), or a break overrun by seconds (the simulated overruns
/// last 3 to 12 minutes past the allowance, so a real one stays open at least two minutes).
fn assert_no_noise(alerts: &[floorwatch_core::alerts::Alert], summary: &[String]) {
    use floorwatch_core::alerts::RuleKind;
    for alert in alerts {
        match alert.kind {
            RuleKind::SourceSilent | RuleKind::Metric => assert!(
                demo_open_at(alert.raised_at),
                "{} raised while the centre is closed: {summary:#?}",
                alert.id
            ),
            RuleKind::NotReadyOverrun => {
                let open_s = alert.cleared_at.map(|c| (c - alert.raised_at) / 1000);
                assert!(
                    open_s.is_none_or(|s| s >= 120),
                    "{} is an overrun by seconds: {summary:#?}",
                    alert.id
                );
            }
            _ => {}
        }
    }
}
