//! Tests of `trail`.

use super::*;

fn at(ms: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(ms).unwrap()
}

fn trail_with(n: usize) -> (tempfile::TempDir, AuditTrail) {
    let dir = tempfile::tempdir().unwrap();
    let trail = AuditTrail::open(dir.path());
    for i in 0..n {
        trail
            .append(
                Entry::new(
                    if i % 2 == 0 { "alice" } else { "bob" },
                    if i % 3 == 0 {
                        Action::Login
                    } else {
                        Action::AlertAck
                    },
                    format!("alert:{i}"),
                    "",
                ),
                at(1_000 * i as i64),
            )
            .unwrap();
    }
    (dir, trail)
}

fn edit_line(trail: &AuditTrail, number: usize, edit: impl Fn(&str) -> String) {
    let text = std::fs::read_to_string(trail.path()).unwrap();
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == number {
                edit(l)
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(trail.path(), lines.join("\n") + "\n").unwrap();
}

#[test]
fn an_empty_or_missing_trail_is_intact() {
    let (_dir, trail) = trail_with(0);
    assert_eq!(
        trail.verify().unwrap(),
        Verdict::Intact {
            records: 0,
            head: chain::GENESIS.into()
        }
    );
    assert!(trail.lines().unwrap().is_empty());
}

#[test]
fn appended_records_chain_and_verify() {
    let (_dir, trail) = trail_with(5);
    let lines = trail.lines().unwrap();
    assert_eq!(lines.len(), 5);
    let last = lines[4].record.clone().unwrap();
    assert_eq!(last.seq, 5);
    assert_eq!(
        trail.verify().unwrap(),
        Verdict::Intact {
            records: 5,
            head: last.hash
        }
    );
}

#[test]
fn an_edited_record_is_named_by_its_line() {
    let (_dir, trail) = trail_with(5);
    edit_line(&trail, 3, |l| l.replace("alert:2", "alert:9"));
    match trail.verify().unwrap() {
        Verdict::Broken { line, reason } => {
            assert_eq!(line, 3);
            assert!(reason.contains("edited"), "{reason}");
        }
        other => panic!("not caught: {other:?}"),
    }
}

#[test]
fn an_edit_that_recomputes_the_hash_breaks_the_next_line() {
    let (_dir, trail) = trail_with(4);
    let mut second = trail.lines().unwrap()[1].record.clone().unwrap();
    second.actor = "mallory".into();
    second.hash = chain::hash(
        &second.prev,
        second.seq,
        &second.time,
        &second.actor,
        second.action,
        &second.target,
        &second.detail,
    );
    let forged = serde_json::to_string(&second).unwrap();
    edit_line(&trail, 2, |_| forged.clone());
    assert!(matches!(
        trail.verify().unwrap(),
        Verdict::Broken { line: 3, .. }
    ));
}

#[test]
fn removed_and_garbled_lines_are_caught() {
    let (_dir, trail) = trail_with(4);
    edit_line(&trail, 2, |_| String::new());
    assert!(matches!(
        trail.verify().unwrap(),
        Verdict::Broken { line: 2, .. }
    ));
    let (_dir, trail) = trail_with(4);
    let text = std::fs::read_to_string(trail.path()).unwrap();
    let without_second: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, l)| l)
        .collect();
    std::fs::write(trail.path(), without_second.join("\n") + "\n").unwrap();
    match trail.verify().unwrap() {
        Verdict::Broken { line, reason } => {
            assert_eq!(line, 2);
            assert!(reason.contains("seq"), "{reason}");
        }
        other => panic!("not caught: {other:?}"),
    }
}

#[test]
fn a_torn_tail_is_reported_and_blocks_appends() {
    let (_dir, trail) = trail_with(2);
    let mut file = OpenOptions::new().append(true).open(trail.path()).unwrap();
    file.write_all(br#"{"seq":3,"ti"#).unwrap();
    assert!(matches!(
        trail.verify().unwrap(),
        Verdict::TornTail {
            records: 2,
            bytes: 12,
            ..
        }
    ));
    let err = trail
        .append(Entry::new("a", Action::Login, "", ""), at(0))
        .unwrap_err();
    assert!(matches!(err, AuditError::TornTail { .. }), "{err}");
}

#[test]
fn a_lock_out_is_queued_past_a_torn_tail_and_repair_writes_it_first() {
    let (_dir, trail) = trail_with(2);
    let mut file = OpenOptions::new().append(true).open(trail.path()).unwrap();
    file.write_all(br#"{"seq":3,"ti"#).unwrap();
    let queued = trail
        .append_or_queue(
            Entry::new("cli:root", Action::UserDisable, "user:mallory", ""),
            at(5_000),
        )
        .unwrap();
    assert!(matches!(queued, Written::Queued(_)), "{queued:?}");
    assert_eq!(trail.pending().unwrap(), 1);

    let repair = trail.repair("cli:root", at(9_000)).unwrap();
    assert_eq!(repair.cut_bytes, 12);
    assert_eq!(repair.record.seq, 4);
    assert_eq!(trail.pending().unwrap(), 0);
    let records = trail.records(&Filter::default()).unwrap();
    let tail: Vec<(u64, Action, &str)> = records[2..]
        .iter()
        .map(|r| (r.seq, r.action, r.time.as_str()))
        .collect();
    assert_eq!(
        tail,
        vec![
            (3, Action::UserDisable, "1970-01-01T00:00:05Z"),
            (4, Action::AuditRepair, "1970-01-01T00:00:09Z")
        ]
    );
    assert!(matches!(
        trail.verify().unwrap(),
        Verdict::Intact { records: 4, .. }
    ));
}

#[test]
fn repair_leaves_a_damaged_complete_line_alone() {
    let (_dir, trail) = trail_with(2);
    let mut file = OpenOptions::new().append(true).open(trail.path()).unwrap();
    file.write_all(b"{\"seq\":3}\n").unwrap();
    let before = std::fs::read(trail.path()).unwrap();
    let err = trail.repair("cli:root", at(0)).unwrap_err();
    assert!(matches!(err, AuditError::NotTorn { .. }), "{err}");
    assert_eq!(std::fs::read(trail.path()).unwrap(), before);
    assert!(matches!(
        trail.verify().unwrap(),
        Verdict::Broken { line: 3, .. }
    ));
}

#[test]
fn the_last_line_is_found_across_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let trail = AuditTrail::open(dir.path());
    let long = "x".repeat(chain::MAX_DETAIL_CHARS);
    for i in 0..5 {
        trail
            .append(
                Entry::new("a", Action::Export, format!("t{i}"), long.clone()),
                at(i),
            )
            .unwrap();
    }
    assert!(matches!(
        trail.verify().unwrap(),
        Verdict::Intact { records: 5, .. }
    ));
}

#[test]
fn concurrent_writers_keep_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let trail = AuditTrail::open(dir.path());
            std::thread::spawn(move || {
                for i in 0..10 {
                    trail
                        .append(
                            Entry::new(format!("w{t}"), Action::Login, format!("{i}"), ""),
                            at(i),
                        )
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let trail = AuditTrail::open(dir.path());
    assert!(matches!(
        trail.verify().unwrap(),
        Verdict::Intact { records: 40, .. }
    ));
}

#[test]
fn filters_select_by_actor_action_and_time() {
    let (_dir, trail) = trail_with(6);
    let by_alice = trail
        .records(&Filter {
            actor: Some("alice".into()),
            ..Filter::default()
        })
        .unwrap();
    assert_eq!(by_alice.len(), 3);
    let logins = trail
        .records(&Filter {
            action: Some(Action::Login),
            ..Filter::default()
        })
        .unwrap();
    assert_eq!(logins.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 4]);
    let recent = trail
        .records(&Filter {
            since: Some(at(4_000)),
            ..Filter::default()
        })
        .unwrap();
    assert_eq!(recent.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![5, 6]);
}

#[cfg(unix)]
#[test]
fn the_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, trail) = trail_with(1);
    let mode = std::fs::metadata(trail.path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}
