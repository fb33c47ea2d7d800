//! Time is bounded and cheap (issue: hardening, item 1): an event far ahead of the clock is
//! refused with a line error and never journaled; a jump the horizon allows is caught up in
//! steps while `/healthz` keeps answering; a journal that already holds a far-future event is
//! replayed with it set aside, and `floorwatch journal check` lists it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use floorwatch_tests::{Server, run_floorwatch};

/// the event that froze the server (2098-12-31T23:59:59.999Z).
const YEAR_2099: i64 = 4_070_908_799_999;
const DAY: i64 = 86_400_000;

fn event(id: &str, ts: i64, kind: &str) -> String {
    match kind {
        "login" => format!(
            r#"{{"v":1,"id":"{id}","source":"pbx","seq":1,"ts":{ts},"type":"agent_login","agent":"a1"}}"#
        ),
        "logout" => format!(
            r#"{{"v":1,"id":"{id}","source":"pbx","seq":1,"ts":{ts},"type":"agent_logout","agent":"a1"}}"#
        ),
        _ => format!(
            r#"{{"v":1,"id":"{id}","source":"pbx","seq":1,"ts":{ts},"type":"call_entered_queue","call":"{id}","queue":"billing"}}"#
        ),
    }
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Polls `/healthz` every 20 ms on another thread until the returned flag is set; the answer
/// is the slowest reply seen (and how many were made).
fn watch_health(server: &Server) -> (Arc<AtomicBool>, std::thread::JoinHandle<(Duration, u32)>) {
    let stop = Arc::new(AtomicBool::new(false));
    let url = format!("{}/healthz", server.url());
    let flag = stop.clone();
    let handle = std::thread::spawn(move || {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .new_agent();
        let (mut slowest, mut n) = (Duration::ZERO, 0);
        while !flag.load(Ordering::Relaxed) {
            let started = Instant::now();
            let status = agent.get(&url).call().map(|r| r.status().as_u16());
            assert_eq!(status.ok(), Some(200), "healthz failed");
            slowest = slowest.max(started.elapsed());
            n += 1;
            std::thread::sleep(Duration::from_millis(20));
        }
        (slowest, n)
    });
    (stop, handle)
}

#[test]
fn a_far_future_event_is_refused_while_healthz_answers_and_is_never_journaled() {
    let mut server = Server::start(&[]);
    let (stop, health) = watch_health(&server);
    let now = now_ms();
    let body = [
        event("ok-1", now - 1_000, "call"),
        event("future", YEAR_2099, "logout"),
        event("ok-2", now, "call"),
    ]
    .join("\n");
    let started = Instant::now();
    let reply = server.post_events(&body);
    let took = started.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let (slowest, polls) = health.join().unwrap();

    assert_eq!((reply.accepted, reply.rejected), (2, 1), "{reply:?}");
    assert_eq!(reply.errors[0].line, 2);
    let reason = &reply.errors[0].reason;
    assert!(
        reason.starts_with("field `ts`: 2098-12-31T23:59:59.999Z")
            && reason.contains("--max-future"),
        "{reason}"
    );
    assert!(took < Duration::from_secs(2), "the POST took {took:?}");
    assert!(
        slowest < Duration::from_millis(100),
        "healthz took {slowest:?} (of {polls})"
    );
    // The clock did not move: today is today, and both calls wait in it.
    let health: serde_json::Value = server.get_json("/healthz");
    assert!(
        health["now"].as_i64().unwrap() < now_ms() + 60_000,
        "{health}"
    );
    assert_eq!(server.figures("centre", "today").waiting_now, 2);

    // Not journaled: a restart has the same day, and nothing to set aside.
    server.restart();
    assert_eq!(server.figures("centre", "today").waiting_now, 2);
    let check = run_floorwatch(server.data_dir(), &["journal", "check"], "");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[test]
fn with_the_event_clock_a_jump_beyond_max_jump_is_refused() {
    let server = Server::start(&["--clock", "events", "--max-jump", "3600"]);
    let t0 = 1_772_000_000_000;
    let reply = server.post_events(&event("c1", t0, "call"));
    assert_eq!(
        reply.accepted, 1,
        "the first event sets the clock wherever it is"
    );
    let reply = server.post_events(
        &[
            event("c2", t0 + 3_600_000, "call"),
            event("c3", t0 + 2 * 3_600_000 + 1_000, "call"),
        ]
        .join("\n"),
    );
    assert_eq!((reply.accepted, reply.rejected), (1, 1), "{reply:?}");
    assert_eq!(reply.errors[0].line, 2);
    assert!(
        reply.errors[0]
            .reason
            .contains("ahead of the latest accepted event"),
        "{:?}",
        reply.errors
    );
    assert!(reply.errors[0].reason.contains("--max-jump"));
}

#[test]
fn a_long_jump_is_caught_up_while_healthz_answers() {
    // Two days with an agent signed in (no rest: every boundary is evaluated), then thirty
    // days at rest (skipped to each timer).
    let mut server = Server::start(&["--clock", "events", "--max-jump", "3000000"]);
    let t0 = 1_772_000_000_000;
    server.post_events(&event("in", t0, "login"));
    for (id, ts, kind) in [
        ("out", t0 + 2 * DAY, "logout"),
        ("c1", t0 + 32 * DAY, "call"),
    ] {
        let (stop, health) = watch_health(&server);
        let started = Instant::now();
        let reply = server.post_events(&event(id, ts, kind));
        let took = started.elapsed();
        stop.store(true, Ordering::Relaxed);
        let (slowest, polls) = health.join().unwrap();
        assert_eq!(reply.accepted, 1, "{reply:?}");
        assert!(
            slowest < Duration::from_millis(100),
            "{id}: healthz took {slowest:?} of {polls} polls while the jump took {took:?}"
        );
        eprintln!("{id}: jump caught up in {took:?}; slowest healthz {slowest:?} ({polls} polls)");
    }
    let health: serde_json::Value = server.get_json("/healthz");
    assert_eq!(health["now"].as_i64(), Some(t0 + 32 * DAY));
    assert_eq!(server.figures("centre", "today").waiting_now, 1);
    server.terminate(Duration::from_secs(10));
}

#[test]
fn a_journaled_far_future_event_is_set_aside_at_start_and_listed_by_check() {
    // What an older server journaled (its NDJSON segment of the UTC day of writing, header
    // first): a real call, the far-future event, then a real one.
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let journal = data.join("journal");
    std::fs::create_dir_all(&journal).unwrap();
    let now = now_ms();
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let text = format!(
        "{{\"floorwatch_journal\":1,\"day\":\"{today}\",\"first\":0}}\n{}\n{}\n{}\n",
        event("c1", now - 5_000, "call"),
        event("future", YEAR_2099, "logout"),
        event("c2", now - 1_000, "call")
    );
    std::fs::write(journal.join(format!("{today}.ndjson")), text).unwrap();

    let check = run_floorwatch(&data, &["journal", "check"], "");
    let listed = String::from_utf8_lossy(&check.stdout);
    assert!(!check.status.success(), "{listed}");
    assert!(
        listed.contains(":3: set aside: id \"future\"") && listed.contains("--max-future"),
        "{listed}"
    );
    assert!(listed.contains("3 events, 1 set aside"), "{listed}");

    let server = Server::start_in(&data, &[]);
    // The clock is today's, both real calls wait, and the log says what was set aside.
    let health: serde_json::Value = server.get_json("/healthz");
    assert!(
        health["now"].as_i64().unwrap() < now_ms() + 60_000,
        "{health}"
    );
    assert_eq!(server.figures("centre", "today").waiting_now, 2);
    assert!(server.logs().contains("set aside"), "{}", server.logs());
}
