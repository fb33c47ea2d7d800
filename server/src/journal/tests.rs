//! Tests of `journal`.

use super::*;
use floorwatch_core::EventKind;
use std::io::Write;

fn event(n: u64) -> Event {
    Event {
        v: 1,
        id: format!("e{n}"),
        source: "test".into(),
        seq: n,
        ts: 1_700_000_000_000 + n as i64,
        test: false,
        kind: EventKind::AgentLogin {
            agent: format!("a{n}"),
            team: None,
        },
    }
}

fn lines(events: &[Event]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in events {
        out.extend_from_slice(e.to_json().as_bytes());
        out.push(b'\n');
    }
    out
}

fn day(s: &str) -> Date {
    s.parse().unwrap()
}

fn replay(dir: &Path) -> (Journal, ReplayReport, Vec<Event>) {
    replay_from(dir, day("2000-01-01"))
}

fn replay_from(dir: &Path, from: Date) -> (Journal, ReplayReport, Vec<Event>) {
    let mut seen = Vec::new();
    let (journal, report) =
        Journal::open(dir, FsyncPolicy::Batch, from, 0, |_, _, e| seen.push(e)).unwrap();
    (journal, report, seen)
}

#[test]
fn appended_events_come_back_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, report, seen) = replay(dir.path());
    assert_eq!((report.segments, seen.len()), (0, 0));
    journal
        .append(&lines(&[event(1), event(2)]), 2, day("2024-03-01"))
        .unwrap();
    journal
        .append(&lines(&[event(3)]), 1, day("2024-03-01"))
        .unwrap();
    drop(journal);
    let (_, report, seen) = replay(dir.path());
    assert_eq!(seen, vec![event(1), event(2), event(3)]);
    assert_eq!(report.events, 3);
    assert!(report.torn_tail.is_none() && report.bad_lines.is_empty());
}

#[test]
fn segments_rotate_by_day_and_a_clock_stepping_back_keeps_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, _, _) = replay(dir.path());
    journal
        .append(&lines(&[event(1)]), 1, day("2024-03-01"))
        .unwrap();
    journal
        .append(&lines(&[event(2)]), 1, day("2024-03-02"))
        .unwrap();
    // The wall clock stepped back a day: still the newest segment, order kept.
    journal
        .append(&lines(&[event(3)]), 1, day("2024-03-01"))
        .unwrap();
    assert!(
        journal
            .current_segment()
            .unwrap()
            .ends_with("2024-03-02.ndjson")
    );
    drop(journal);
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    let (_, report, seen) = replay(dir.path());
    assert_eq!(report.segments, 2);
    assert_eq!(seen, vec![event(1), event(2), event(3)]);
    // Segments older than the replay window stay on disk, unread.
    let (_, report, seen) = replay_from(dir.path(), day("2024-03-02"));
    assert_eq!((report.segments, report.archived_segments), (1, 1));
    assert_eq!(seen, vec![event(2), event(3)]);
}

#[test]
fn a_torn_last_line_is_dropped_reported_and_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, _, _) = replay(dir.path());
    journal
        .append(&lines(&[event(1), event(2)]), 2, day("2024-03-01"))
        .unwrap();
    let path = journal.current_segment().unwrap().to_path_buf();
    drop(journal);
    let torn = &event(3).to_json()[..20];
    OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(torn.as_bytes())
        .unwrap();

    let (mut journal, report, seen) = replay(dir.path());
    assert_eq!(seen, vec![event(1), event(2)]);
    assert_eq!(report.torn_tail, Some((path.clone(), 20)));
    // Appending after the cut gives whole lines again.
    journal
        .append(&lines(&[event(4)]), 1, day("2024-03-01"))
        .unwrap();
    drop(journal);
    let (_, report, seen) = replay(dir.path());
    assert_eq!(seen, vec![event(1), event(2), event(4)]);
    assert!(report.torn_tail.is_none() && report.bad_lines.is_empty());
}

#[test]
fn a_damaged_line_in_the_middle_is_skipped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("2024-03-01.ndjson");
    let mut text = lines(&[event(1)]);
    text.extend_from_slice(b"{\"v\":1,garbage\n\xff\xfe\n\n");
    text.extend_from_slice(&lines(&[event(2)]));
    fs::write(&path, text).unwrap();
    fs::write(dir.path().join("notes.txt"), "not a segment").unwrap();
    let (_, report, seen) = replay(dir.path());
    assert_eq!(seen, vec![event(1), event(2)]);
    let bad: Vec<u64> = report.bad_lines.iter().map(|(_, n, _)| *n).collect();
    assert_eq!(bad, vec![2, 3]);
    assert_eq!(report.segments, 1);
}

#[test]
fn a_checkpoint_position_skips_what_it_holds_and_hands_over_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, _, _) = replay(dir.path());
    // Three segments: 0..3000, 3000..6000, 6000..9000.
    for (d, range) in [
        ("2024-03-01", 0..3000),
        ("2024-03-02", 3000..6000),
        ("2024-03-03", 6000..9000),
    ] {
        for chunk in range.collect::<Vec<u64>>().chunks(500) {
            let events: Vec<Event> = chunk.iter().map(|&n| event(n)).collect();
            journal
                .append(&lines(&events), events.len() as u64, day(d))
                .unwrap();
        }
    }
    drop(journal);
    let skip_before = 7000;
    let mut handed = Vec::new();
    let (journal, report) = Journal::open(
        dir.path(),
        FsyncPolicy::Batch,
        day("2000-01-01"),
        skip_before,
        |_, seq, e| handed.push((seq.unwrap(), e)),
    )
    .unwrap();
    // Every event from the position on, in order, with its number; the first segment unread,
    // the rest before the position counted without being parsed.
    let from: Vec<u64> = handed
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| *s >= skip_before)
        .collect();
    assert_eq!(from, (skip_before..9000).collect::<Vec<_>>());
    assert!(handed.iter().all(|(s, e)| *e == event(*s)));
    assert!(handed.len() < 9000 - 4000, "{} handed over", handed.len());
    assert!(report.skipped_events > 0);
    assert!(report.events < 9000);
    assert_eq!(journal.next_seq(), 9000);
    assert!(report.gaps.is_empty() && report.bad_lines.is_empty());
}
