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

/// One `/healthz` reply: the floor's clock, and whether it arrived after the flag was set.
type Answer = (Option<i64>, bool);

/// Polls `/healthz` back to back on another thread until the returned flag is set; the
/// answer is the floor clock (`now`) of every reply, in order, each with whether the flag was
/// already set when it arrived (only the last one: the poll ends with a reply received after
/// the flag). Which replies came mid-jump is judged by their clock and their order, never by
/// how long they took (timings are BENCHMARKS.md's, "A jump of the clock").
fn watch_health(server: &Server) -> (Arc<AtomicBool>, std::thread::JoinHandle<Vec<Answer>>) {
    let stop = Arc::new(AtomicBool::new(false));
    let url = format!("{}/healthz", server.url());
    let flag = stop.clone();
    let handle = std::thread::spawn(move || {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .new_agent();
        let mut answers = Vec::new();
        loop {
            let mut reply = agent.get(&url).call().expect("healthz answers");
            assert_eq!(reply.status().as_u16(), 200, "healthz failed");
            let health: serde_json::Value = reply.body_mut().read_json().expect("healthz JSON");
            let done = flag.load(Ordering::SeqCst);
            answers.push((health["now"].as_i64(), done));
            if done {
                return answers;
            }
        }
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
    let reply = server.post_events(&body);
    stop.store(true, Ordering::SeqCst);
    let answers = health.join().unwrap();

    assert_eq!((reply.accepted, reply.rejected), (2, 1), "{reply:?}");
    assert_eq!(reply.errors[0].line, 2);
    let reason = &reply.errors[0].reason;
    assert!(
        reason.starts_with("field `ts`: 2098-12-31T23:59:59.999Z")
            && reason.contains("--max-future"),
        "{reason}"
    );
    // The server was not frozen: healthz answered after the POST, and the clock did not
    // move (today is today, and both calls wait in it).
    let last = answers.last().copied();
    assert!(
        last.is_some_and(|(clock, after)| after && clock.is_some_and(|c| c < now_ms() + 60_000)),
        "{last:?}"
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
    // Five days with an agent signed in and a call waiting (no rest: the call's wait grows
    // with the clock, so the longest-wait rule is evaluated at every boundary, in steps that
    // let go of the floor's lock; tens of milliseconds even in a debug build, so replies land
    // mid-jump: with the agent alone, rules now sleep through the days and the jump took under
    // 10 ms), then thirty days at rest (skipped to each timer). How long each takes is a
    // benchmark (BENCHMARKS.md, "A jump of the clock"), not asserted here.
    let mut server = Server::start(&["--clock", "events", "--max-jump", "3000000"]);
    let t0 = 1_772_000_000_000;
    server.post_events(&event("in", t0, "login"));
    server.post_events(&event("w0", t0, "call"));
    let mut from = t0;
    for (id, ts, kind) in [
        ("out", t0 + 5 * DAY, "logout"),
        ("c1", t0 + 35 * DAY, "call"),
    ] {
        let (stop, health) = watch_health(&server);
        let started = Instant::now();
        let reply = server.post_events(&event(id, ts, kind));
        let took = started.elapsed();
        stop.store(true, Ordering::SeqCst);
        let answers = health.join().unwrap();
        assert_eq!(reply.accepted, 1, "{reply:?}");
        // Replies received before the POST's, with the clock part way: made while the jump
        // was being caught up, and answered before it was finished.
        let mid_jump = answers
            .iter()
            .filter(|(clock, after)| !after && clock.is_some_and(|c| from < c && c < ts))
            .count();
        if id == "out" {
            assert!(
                mid_jump > 0,
                "no healthz reply came mid-jump ({} replies, the jump took {took:?})",
                answers.len()
            );
        }
        // Every reply's clock is one the floor held: between the jump's ends, never past.
        assert!(
            answers
                .iter()
                .all(|(clock, _)| clock.is_some_and(|c| from <= c && c <= ts)),
            "{answers:?}"
        );
        eprintln!(
            "{id}: jump caught up in {took:?}; {} healthz replies, {mid_jump} of them mid-jump",
            answers.len()
        );
        from = ts;
    }
    let health: serde_json::Value = server.get_json("/healthz");
    assert_eq!(health["now"].as_i64(), Some(t0 + 35 * DAY));
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
