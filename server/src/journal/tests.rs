//! Tests of `journal`.

use super::marks::Gap;
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

fn day(s: &str) -> Date {
    s.parse().unwrap()
}

/// A batch of `events`, each with the day given beside it.
fn batch(events: &[(u64, &str)]) -> JournalBatch {
    let mut batch = JournalBatch::default();
    for &(n, d) in events {
        batch.push(day(d), event(n).to_json().as_bytes());
    }
    batch
}

fn opening(from_seq: Option<u64>) -> Opening {
    Opening {
        fsync: FsyncPolicy::Batch,
        latest_day: None,
        from_seq,
    }
}

/// Replays `dir`: the journal, the report, and the events with their sequence numbers.
fn replay_from(dir: &Path, from_seq: Option<u64>) -> (Journal, ReplayReport, Vec<(u64, Event)>) {
    let mut seen = Vec::new();
    let (journal, report) = Journal::open(dir, opening(from_seq), |seq, e| {
        seen.push((seq.unwrap_or(u64::MAX), e))
    })
    .unwrap();
    (journal, report, seen)
}

fn replay(dir: &Path) -> (Journal, ReplayReport, Vec<Event>) {
    let (journal, report, seen) = replay_from(dir, None);
    (journal, report, seen.into_iter().map(|(_, e)| e).collect())
}

fn events(ns: &[u64]) -> Vec<Event> {
    ns.iter().map(|&n| event(n)).collect()
}

fn file(dir: &Path, d: &str) -> PathBuf {
    dir.join(format!("{d}{SUFFIX}"))
}

#[test]
fn appended_events_come_back_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, report, seen) = replay(dir.path());
    assert_eq!((report.segments, seen.len()), (0, 0));
    journal
        .append(&batch(&[(1, "2024-03-01"), (2, "2024-03-01")]))
        .unwrap();
    journal.append(&batch(&[(3, "2024-03-01")])).unwrap();
    assert_eq!(journal.next_seq(), 3);
    drop(journal);
    let (journal, report, seen) = replay_from(dir.path(), None);
    assert_eq!(seen, vec![(0, event(1)), (1, event(2)), (2, event(3))]);
    assert_eq!(report.events, 3);
    assert_eq!(journal.next_seq(), 3);
    assert!(report.torn_tails.is_empty() && report.bad_lines.is_empty() && report.gaps.is_empty());
}

#[test]
fn events_go_to_their_days_file_and_replay_in_journal_order() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, _, _) = replay(dir.path());
    // A replayed past day interleaved with today's events, within a batch and across batches.
    journal
        .append(&batch(&[
            (1, "2024-03-02"),
            (2, "2024-03-01"),
            (3, "2024-03-02"),
        ]))
        .unwrap();
    journal
        .append(&batch(&[(4, "2024-03-01"), (5, "2024-03-01")]))
        .unwrap();
    journal.append(&batch(&[(6, "2024-03-02")])).unwrap();
    drop(journal);
    let mut names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["2024-03-01.fwj", "2024-03-02.fwj"]);
    let (_, report, seen) = replay_from(dir.path(), None);
    let seqs: Vec<u64> = seen.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, [0, 1, 2, 3, 4, 5]);
    let seen: Vec<Event> = seen.into_iter().map(|(_, e)| e).collect();
    assert_eq!(seen, events(&[1, 2, 3, 4, 5, 6]));
    assert_eq!(report.segments, 2);
    assert!(report.gaps.is_empty(), "{:?}", report.gaps);
    // Each day file is a plain zstd file of its own day's lines.
    let lines = |d: &str| {
        let mut out = Vec::new();
        let bytes = fs::read(file(dir.path(), d)).unwrap();
        zstd::stream::copy_decode(&bytes[..], &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let expected = |ns: &[u64]| {
        ns.iter()
            .map(|&n| event(n).to_json() + "\n")
            .collect::<String>()
    };
    assert_eq!(lines("2024-03-01"), expected(&[2, 4, 5]));
    assert_eq!(lines("2024-03-02"), expected(&[1, 3, 6]));
}

#[test]
fn a_start_replays_from_the_last_days_first_frame_and_a_checkpoint_from_its_number() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, _, _) = replay(dir.path());
    journal.append(&batch(&[(1, "2024-03-01")])).unwrap();
    journal.append(&batch(&[(2, "2024-03-02")])).unwrap();
    journal.append(&batch(&[(3, "2024-03-03")])).unwrap();
    journal.append(&batch(&[(4, "2024-03-04")])).unwrap();
    // A late event of the oldest day, written after the window's start: replayed.
    journal.append(&batch(&[(5, "2024-03-01")])).unwrap();
    journal.append(&batch(&[(6, "2024-03-04")])).unwrap();
    drop(journal);
    let (journal, report, seen) = replay(dir.path());
    assert_eq!(seen, events(&[2, 3, 4, 5, 6]));
    assert_eq!((report.segments, report.archived_segments), (4, 0));
    assert_eq!(journal.next_seq(), 6);
    // From a checkpoint at number 3: frames before it are skipped by their headers.
    let (_, report, seen) = replay_from(dir.path(), Some(3));
    assert_eq!(seen, vec![(3, event(4)), (4, event(5)), (5, event(6))]);
    assert_eq!(report.archived_segments, 2);
}

/// Bytes `range` of the file of day `d` replaced by `with`.
fn overwrite(path: &Path, at: usize, with: &[u8]) {
    let mut bytes = fs::read(path).unwrap();
    bytes[at..at + with.len()].copy_from_slice(with);
    fs::write(path, bytes).unwrap();
}

/// The (offset, header) of each frame of a day file.
fn frames_of(path: &Path) -> Vec<(u64, frames::FrameHeader)> {
    DayIndex::scan(day("2024-03-01"), path).unwrap().frames
}

#[test]
fn a_torn_write_is_dropped_reported_and_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, _, _) = replay(dir.path());
    journal
        .append(&batch(&[(1, "2024-03-01"), (2, "2024-03-01")]))
        .unwrap();
    drop(journal);
    let path = file(dir.path(), "2024-03-01");
    // A kill mid-write leaves the start of a frame: its header and part of its body.
    let start = fs::read(&path).unwrap()[..40].to_vec();
    OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(&start)
        .unwrap();
    let (mut journal, report, seen) = replay(dir.path());
    assert_eq!(seen, events(&[1, 2]));
    assert_eq!(report.torn_tails, vec![(path.clone(), 40)]);
    assert_eq!(report.torn_tail_bytes(), Some(40));
    journal.append(&batch(&[(4, "2024-03-01")])).unwrap();
    drop(journal);
    // Half a header torn is a torn write too.
    let start = fs::read(&path).unwrap()[..7].to_vec();
    OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(&start)
        .unwrap();
    let (_, report, seen) = replay(dir.path());
    assert_eq!(seen, events(&[1, 2, 4]));
    assert_eq!(report.torn_tail_bytes(), Some(7));
    let (_, report, _) = replay(dir.path());
    assert!(report.torn_tails.is_empty() && report.bad_lines.is_empty() && report.gaps.is_empty());
}

#[test]
fn a_damaged_header_loses_exactly_its_frames_events_and_names_the_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, _, _) = replay(dir.path());
    journal.append(&batch(&[(1, "2024-03-01")])).unwrap();
    journal
        .append(&batch(&[
            (2, "2024-03-01"),
            (3, "2024-03-01"),
            (4, "2024-03-01"),
        ]))
        .unwrap();
    journal.append(&batch(&[(5, "2024-03-02")])).unwrap();
    journal.append(&batch(&[(6, "2024-03-01")])).unwrap();
    drop(journal);
    let path = file(dir.path(), "2024-03-01");
    let frames = frames_of(&path);
    let (second, _) = frames[1];
    let (third, _) = frames[2];
    overwrite(&path, second as usize + 4, &[0; 20]);
    let (_, report, seen) = replay(dir.path());
    assert_eq!(seen, events(&[1, 5, 6]));
    assert_eq!(report.lost_events(), 3);
    assert_eq!(
        report.gaps,
        vec![Gap {
            segment: path.clone(),
            bytes: Some((second, third)),
            lost: Some(3),
            what: "events overwritten (damaged bytes)".into(),
        }]
    );
    // A damaged body: its checksum fails, and its header says how many are lost.
    let (_, header) = frames[2];
    overwrite(&path, third as usize + frames::HEADER_LEN + 5, b"XXXX");
    let (_, report, seen) = replay(dir.path());
    assert_eq!(seen, events(&[1, 5]));
    assert_eq!(report.lost_events(), 3 + u64::from(header.events));
    assert!(
        report.gaps[1].what.contains("damaged frame"),
        "{:?}",
        report.gaps
    );
    assert_eq!(
        report.gaps[1].bytes,
        Some((third, third + header.frame_len()))
    );
}

#[test]
fn a_deleted_day_file_is_noticed_and_a_copied_one_read_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, _, _) = replay(dir.path());
    journal.append(&batch(&[(1, "2024-03-01")])).unwrap();
    journal
        .append(&batch(&[(2, "2024-03-02"), (3, "2024-03-02")]))
        .unwrap();
    journal.append(&batch(&[(4, "2024-03-03")])).unwrap();
    drop(journal);
    fs::remove_file(file(dir.path(), "2024-03-02")).unwrap();
    let (_, report, seen) = replay(dir.path());
    assert_eq!(seen, events(&[1, 4]));
    assert_eq!(report.lost_events(), 2);
    assert!(report.gaps[0].what.contains("deleted"), "{:?}", report.gaps);
    // A file copied onto itself: every event comes twice (the start applies it once, by id).
    let path = file(dir.path(), "2024-03-03");
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, [bytes.clone(), bytes].concat()).unwrap();
    let (_, _, seen) = replay(dir.path());
    assert_eq!(seen, events(&[1, 4, 4]));
}

#[test]
fn an_old_format_journal_replays_and_the_day_files_continue_its_numbers() {
    let dir = tempfile::tempdir().unwrap();
    // What the server wrote before the day files: NDJSON per UTC day of writing, with marks.
    let today = wall_today();
    let yesterday = today.yesterday().unwrap();
    let lines = |first: u64, ns: &[u64]| {
        let mut text = marks::Header::new(today, first).line();
        for &n in ns {
            text.extend_from_slice(event(n).to_json().as_bytes());
            text.push(b'\n');
        }
        text
    };
    fs::write(
        dir.path().join(format!("{yesterday}.ndjson")),
        lines(0, &[1, 2]),
    )
    .unwrap();
    let mut newest = lines(2, &[3]);
    newest.extend_from_slice(b"{\"v\":1,\"id\":\"torn");
    fs::write(dir.path().join(format!("{today}.ndjson")), newest).unwrap();
    fs::write(dir.path().join("notes.txt"), "not a segment").unwrap();
    let (mut journal, report, seen) = replay_from(dir.path(), None);
    assert_eq!(seen, vec![(0, event(1)), (1, event(2)), (2, event(3))]);
    assert_eq!(report.torn_tail_bytes(), Some(17));
    assert_eq!(journal.next_seq(), 3);
    journal.append(&batch(&[(4, "2024-03-01")])).unwrap();
    drop(journal);
    let (_, report, seen) = replay_from(dir.path(), None);
    assert_eq!(seen.last(), Some(&(3, event(4))));
    assert_eq!(seen.len(), 4);
    assert!(
        report.gaps.is_empty() && report.torn_tails.is_empty(),
        "{report:?}"
    );
    // `journal cat` reads both, in order, and only the days asked for.
    let mut cat = Vec::new();
    let report = read_lines(dir.path(), Range::default(), |_, _, line| {
        cat.push(String::from_utf8(line.to_vec()).unwrap())
    })
    .unwrap();
    let expected: Vec<String> = [1, 2, 3, 4].iter().map(|&n| event(n).to_json()).collect();
    assert_eq!(cat, expected);
    assert_eq!(report.events, 4);
    let mut cat = Vec::new();
    let range = Range {
        from: Some(day("2024-03-01")),
        to: Some(day("2024-03-01")),
    };
    read_lines(dir.path(), range, |_, _, line| cat.push(line.to_vec())).unwrap();
    assert_eq!(cat, vec![event(4).to_json().into_bytes()]);
}

#[test]
fn a_batch_compressed_by_its_sender_reads_back_in_its_place_in_the_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, _, _) = replay(dir.path());
    let lines: Vec<String> = [2, 3].iter().map(|&n| event(n).to_json()).collect();
    let packed = pack(lines.iter().map(|l| l.as_bytes())).unwrap();
    let mut mixed = batch(&[(1, "2024-03-01")]);
    mixed.push_packed(day("2024-03-01"), packed);
    mixed.push(day("2024-03-02"), event(4).to_json().as_bytes());
    journal.append(&mixed).unwrap();
    assert_eq!(journal.next_seq(), 4);
    drop(journal);
    let (_, report, seen) = replay_from(dir.path(), None);
    assert_eq!(
        seen,
        vec![(0, event(1)), (1, event(2)), (2, event(3)), (3, event(4))]
    );
    assert_eq!((report.events, report.segments), (4, 2));
}
