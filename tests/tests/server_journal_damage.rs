//! Journal damage is handled evenly (issue: hardening, item 8): a segment copied onto itself
//! is applied once; zeros written over a frame of a day file are reported with the byte range
//! and the exact number of events lost; a segment deleted from the sequence is noticed; a
//! segment named in the future is left alone.

use floorwatch_tests::{Server, run_floorwatch};

fn enters(id: usize, ts: i64) -> String {
    format!(
        r#"{{"v":1,"id":"e{id}","source":"pbx","seq":{id},"ts":{ts},"type":"call_entered_queue","call":"c{id}","queue":"billing"}}"#
    )
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn post(server: &Server, ids: std::ops::Range<usize>, ts: i64) {
    let body: Vec<String> = ids.map(|i| enters(i, ts)).collect();
    let reply = server.post_events(&body.join("\n"));
    assert_eq!(reply.accepted as usize, body.len(), "{reply:?}");
}

fn segments(server: &Server) -> Vec<std::path::PathBuf> {
    let mut all: Vec<_> = std::fs::read_dir(server.data_dir().join("journal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    all.sort();
    all
}

fn health(server: &Server) -> serde_json::Value {
    server.get_json::<serde_json::Value>("/healthz")["journal"].clone()
}

#[test]
fn a_segment_copied_onto_itself_is_applied_once() {
    // The first 6,000 events of a simulated day (the issue's offered 16,904 became 33,115).
    let mut server = Server::start(&["--clock", "events"]);
    let scenario = floorwatch_sim::Scenario::preset("small").unwrap();
    let events: Vec<floorwatch_core::Event> =
        floorwatch_sim::Simulation::new(&scenario, jiff::civil::date(2026, 3, 9), 7)
            .take(6_000)
            .collect();
    for chunk in events.chunks(500) {
        let body: Vec<String> = chunk.iter().map(floorwatch_core::Event::to_json).collect();
        server.post_events(&body.join("\n"));
    }
    let before = server.figures("centre", "today");
    assert!(before.offered > 100, "{}", before.offered);
    server.kill_hard();
    let segment = segments(&server).pop().unwrap();
    let text = std::fs::read(&segment).unwrap();
    std::fs::write(&segment, [text.clone(), text].concat()).unwrap();
    server.restart();
    let after = server.figures("centre", "today");
    assert_eq!(
        (
            after.offered,
            after.answered,
            after.abandoned,
            after.handled
        ),
        (
            before.offered,
            before.answered,
            before.abandoned,
            before.handled
        )
    );
    assert!(server.logs().contains("applied once"), "{}", server.logs());
}

#[test]
fn zeros_over_a_stretch_are_reported_with_bytes_and_events_lost() {
    let mut server = Server::start(&[]);
    let ts = now_ms() - 60_000;
    for start in (0..3_000).step_by(500) {
        post(&server, start..start + 500, ts);
    }
    server.kill_hard();
    let segment = segments(&server).pop().unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    // Zeros over the body of the third frame (events 1,000 to 1,499: one frame per request),
    // up to 4 KB of it. Frames as docs/ARCHITECTURE.md "The journal" lays them out: a 36-byte
    // header with the event count at bytes 20..24 and the body's length at 24..28.
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let mut frames = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let (events, body) = (u32_at(&bytes, at + 20), u32_at(&bytes, at + 24) as usize);
        frames.push((at, events, body));
        at += 36 + body;
    }
    assert_eq!(frames.len(), 6, "{frames:?}");
    let (third, expected, body) = frames[2];
    let expected = expected as u64;
    assert_eq!(expected, 500);
    let from = third + 36 + 8;
    let to = (from + 4096).min(third + 36 + body - 4);
    bytes[from..to].fill(0);
    std::fs::write(&segment, &bytes).unwrap();

    server.restart();
    let journal = health(&server);
    assert_eq!(journal["lost_events"], expected, "{journal}");
    assert_eq!(journal["gaps"], 1, "{journal}");
    assert_eq!(
        server.figures("centre", "today").waiting_now,
        3_000 - expected
    );
    let logs = server.logs();
    assert!(logs.contains("journal damage: events lost"), "{logs}");
    let check = run_floorwatch(server.data_dir(), &["journal", "check"], "");
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(!check.status.success(), "{said}");
    assert!(said.contains(&format!("{expected} events lost")), "{said}");
}

#[test]
fn a_deleted_segment_is_noticed_and_a_future_one_left_alone() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("data");
    // Three segments of the last three UTC days, ten events each, written as the server does.
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let journal = dir.join("journal");
    std::fs::create_dir_all(&journal).unwrap();
    let ts = now_ms() - 3_600_000;
    for (k, back) in [2i64, 1, 0].into_iter().enumerate() {
        let day = today.checked_sub(jiff::Span::new().days(back)).unwrap();
        let mut text = format!(
            "{{\"floorwatch_journal\":1,\"day\":\"{day}\",\"first\":{}}}\n",
            k * 10
        );
        for i in k * 10..k * 10 + 10 {
            text.push_str(&enters(i, ts));
            text.push('\n');
        }
        std::fs::write(journal.join(format!("{day}.ndjson")), text).unwrap();
    }
    let middle = today.checked_sub(jiff::Span::new().days(1)).unwrap();
    std::fs::remove_file(journal.join(format!("{middle}.ndjson"))).unwrap();
    std::fs::write(journal.join("2099-01-01.ndjson"), enters(99, ts) + "\n").unwrap();

    let server = Server::start_in(&dir, &[]);
    let health = health(&server);
    assert_eq!(health["lost_events"], 10, "{health}");
    assert_eq!(health["future_segments"], 1, "{health}");
    assert_eq!(server.figures("centre", "today").waiting_now, 20);
    assert!(
        server.logs().contains("one was deleted"),
        "{}",
        server.logs()
    );
    // New events go to today's segment, never to the future one.
    post(&server, 100..101, now_ms());
    let future = std::fs::read_to_string(journal.join("2099-01-01.ndjson")).unwrap();
    assert_eq!(future.lines().count(), 1);
}
