//! Tests of `session`.

use super::*;
use crate::accounts::session_file::{SessionFile, SessionFileError};
use std::sync::Mutex;

fn at(minutes: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_700_000_000 + minutes * 60).unwrap()
}

fn why(result: Result<Session, Closed>) -> (SessionEnded, bool) {
    let closed = result.unwrap_err();
    (closed.why, closed.ended.is_some())
}

#[test]
fn a_session_lives_while_used_and_dies_when_idle() {
    let mut sessions = Sessions::default();
    let (id, session) = sessions
        .create("lead1", SessionKind::Person, at(0), None)
        .unwrap();
    assert!(id.expose().starts_with(SESSION_PREFIX));
    assert_eq!(session.ends, at(12 * 60));
    for minute in [10, 35, 64] {
        assert_eq!(
            sessions.touch(id.expose(), at(minute)).unwrap().last_seen,
            at(minute)
        );
    }
    // The ending is handed out once, then remembered.
    assert_eq!(
        why(sessions.touch(id.expose(), at(94))),
        (SessionEnded::IdleTimeout, true)
    );
    assert_eq!(
        why(sessions.touch(id.expose(), at(95))),
        (SessionEnded::IdleTimeout, false)
    );
    assert!(sessions.is_empty());
    assert_eq!(
        why(sessions.touch("fws_never", at(95))),
        (SessionEnded::Unknown, false)
    );
}

#[test]
fn a_check_is_not_activity() {
    let mut sessions = Sessions::default();
    let (id, _) = sessions
        .create("lead1", SessionKind::Person, at(0), None)
        .unwrap();
    sessions.check(id.expose(), at(20)).unwrap();
    sessions.check(id.expose(), at(29)).unwrap();
    assert_eq!(
        why(sessions.check_digest(&id.digest(), at(30))),
        (SessionEnded::IdleTimeout, true)
    );
}

#[test]
fn a_wall_display_never_idles_out_but_ends_after_the_longest_time() {
    let mut sessions = Sessions::default();
    let (id, _) = sessions
        .create("wall", SessionKind::Device, at(0), None)
        .unwrap();
    assert_eq!(sessions.idle_timeout(SessionKind::Device), None);
    assert!(sessions.check(id.expose(), at(11 * 60)).is_ok());
    assert!(sessions.expire(at(11 * 60 + 59)).is_empty());
    let gone = sessions.expire(at(12 * 60));
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].1, SessionEnded::ShiftEnded);
}

#[test]
fn a_session_ends_with_the_shift_however_busy() {
    let mut sessions = Sessions::default();
    let (id, session) = sessions
        .create("lead1", SessionKind::Person, at(0), Some(at(45)))
        .unwrap();
    assert_eq!(session.ends, at(45));
    sessions.touch(id.expose(), at(20)).unwrap();
    sessions.touch(id.expose(), at(44)).unwrap();
    assert_eq!(
        why(sessions.touch(id.expose(), at(45))),
        (SessionEnded::ShiftEnded, true)
    );
    // A shift end past the longest session is cut to it; one already over opens nothing.
    let (_, long) = sessions
        .create("lead1", SessionKind::Person, at(0), Some(at(20 * 60)))
        .unwrap();
    assert_eq!(long.ends, at(12 * 60));
    assert!(matches!(
        sessions.create("lead1", SessionKind::Person, at(50), Some(at(45))),
        Err(SessionError::ShiftOver(_))
    ));
}

#[test]
fn sign_out_and_forced_sign_out() {
    let mut sessions = Sessions::default();
    let person = SessionKind::Person;
    let (a, _) = sessions.create("lead1", person, at(0), None).unwrap();
    let (b, _) = sessions.create("lead1", person, at(0), None).unwrap();
    let (c, _) = sessions.create("admin", person, at(0), None).unwrap();
    assert_eq!(sessions.users(), vec!["admin".to_string(), "lead1".into()]);
    assert_eq!(
        sessions
            .end(a.expose(), SessionEnded::SignedOut, at(0))
            .map(|s| s.user),
        Some("lead1".into())
    );
    assert_eq!(
        sessions.end(a.expose(), SessionEnded::SignedOut, at(0)),
        None
    );
    assert_eq!(
        why(sessions.touch(a.expose(), at(1))),
        (SessionEnded::SignedOut, false)
    );
    assert_eq!(
        sessions
            .end_user("lead1", SessionEnded::UserDisabled, at(0))
            .len(),
        1
    );
    assert_eq!(
        why(sessions.touch(b.expose(), at(1))),
        (SessionEnded::UserDisabled, false)
    );
    assert!(sessions.touch(c.expose(), at(1)).is_ok());
}

#[test]
fn expiry_sweeps_and_says_why() {
    let mut sessions = Sessions::default();
    let person = SessionKind::Person;
    let (idle, _) = sessions.create("idle", person, at(0), None).unwrap();
    let (_, _) = sessions
        .create("shift", person, at(0), Some(at(20)))
        .unwrap();
    let (busy, _) = sessions.create("busy", person, at(0), None).unwrap();
    sessions.touch(busy.expose(), at(25)).unwrap();
    let mut gone: Vec<_> = sessions
        .expire(at(31))
        .into_iter()
        .map(|(s, why)| (s.user, why))
        .collect();
    gone.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        gone,
        vec![
            ("idle".to_string(), SessionEnded::IdleTimeout),
            ("shift".to_string(), SessionEnded::ShiftEnded)
        ]
    );
    assert_eq!(sessions.len(), 1);
    // The sweep handed the ending out; a later request is only told why.
    assert_eq!(
        why(sessions.check(idle.expose(), at(32))),
        (SessionEnded::IdleTimeout, false)
    );
    // Endings are forgotten after the longest session.
    sessions.expire(at(31 + 12 * 60));
    assert_eq!(
        why(sessions.check(idle.expose(), at(31 + 12 * 60))),
        (SessionEnded::Unknown, false)
    );
}

fn saved(file: &SessionFile, sessions: Sessions) -> (Mutex<Sessions>, String) {
    let sessions = Mutex::new(sessions);
    file.save(&sessions).unwrap();
    let text = std::fs::read_to_string(file.path()).unwrap_or_default();
    (sessions, text)
}

#[test]
fn open_sessions_survive_a_restart_by_digest_only() {
    let dir = tempfile::tempdir().unwrap();
    let file = SessionFile::new(dir.path());
    let policy = SessionPolicy::default();
    let mut sessions = file.load(policy).unwrap();
    assert!(sessions.is_empty(), "no file: no sessions");
    let person = SessionKind::Person;
    let (lead, _) = sessions
        .create("lead1", person, at(0), Some(at(45)))
        .unwrap();
    let (wall, _) = sessions
        .create("wall", SessionKind::Device, at(0), None)
        .unwrap();
    let (gone, _) = sessions.create("admin", person, at(0), None).unwrap();
    sessions.end(gone.expose(), SessionEnded::SignedOut, at(1));
    let (sessions, text) = saved(&file, sessions);
    for id in [&lead, &wall, &gone] {
        assert!(!text.contains(id.expose()), "a raw id on disk: {text}");
    }
    assert!(text.contains(&lead.digest()) && text.contains(&wall.digest()));
    assert!(
        !text.contains(&gone.digest()),
        "an ended session stays in the file"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    drop(sessions);

    // A new server on the same data dir: the cookies work, the rules still hold.
    let file = SessionFile::new(dir.path());
    let mut back = file.load(policy).unwrap();
    assert_eq!(back.len(), 2);
    let session = back.touch(lead.expose(), at(20)).unwrap();
    assert_eq!((session.user.as_str(), session.ends), ("lead1", at(45)));
    assert!(
        back.check(wall.expose(), at(11 * 60)).is_ok(),
        "never idles out"
    );
    assert_eq!(
        why(back.check(gone.expose(), at(2))),
        (SessionEnded::Unknown, false)
    );
    assert_eq!(
        why(back.touch(lead.expose(), at(45))),
        (SessionEnded::ShiftEnded, true)
    );
    let (_, text) = saved(&file, back);
    assert!(
        !text.contains(&lead.digest()),
        "the ended session is removed: {text}"
    );
}

#[test]
fn idle_time_outs_hold_across_a_restart_and_last_seen_is_written_once_a_minute() {
    let dir = tempfile::tempdir().unwrap();
    let file = SessionFile::new(dir.path());
    let mut sessions = Sessions::default();
    let (id, _) = sessions
        .create("lead1", SessionKind::Person, at(0), None)
        .unwrap();
    let sessions = Mutex::new(sessions);
    assert!(file.save(&sessions).unwrap());
    assert!(!file.save(&sessions).unwrap(), "unchanged: not written");
    let touch = |t| sessions.lock().unwrap().touch(id.expose(), t).unwrap();
    // Activity within the minute moves nothing on disk; a minute later it does.
    touch(at(0) + jiff::SignedDuration::from_secs(30));
    assert!(!file.save(&sessions).unwrap());
    touch(at(20));
    assert!(file.save(&sessions).unwrap());
    // Killed at minute 40 (nothing more written); started again at minute 51: idle since 20.
    touch(at(40) - jiff::SignedDuration::from_secs(59));
    let mut back = SessionFile::new(dir.path())
        .load(SessionPolicy::default())
        .unwrap();
    assert_eq!(
        back.expire(at(51))
            .into_iter()
            .map(|(s, why)| (s.user, why))
            .collect::<Vec<_>>(),
        vec![("lead1".to_string(), SessionEnded::IdleTimeout)]
    );
}

#[test]
fn a_shorter_longest_session_applies_to_restored_ones_and_bad_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = SessionFile::new(dir.path());
    let mut sessions = Sessions::default();
    sessions
        .create("wall", SessionKind::Device, at(0), None)
        .unwrap();
    saved(&file, sessions);
    let policy = SessionPolicy {
        longest: Duration::from_secs(3600),
        ..SessionPolicy::default()
    };
    let back = SessionFile::new(dir.path()).load(policy).unwrap();
    assert_eq!(back.snapshot().1.sessions[0].session.ends, at(60));
    std::fs::write(file.path(), "{\"format\": 1, \"sessions\": [").unwrap();
    assert!(matches!(
        file.load(policy),
        Err(SessionFileError::Damaged { .. })
    ));
    std::fs::write(file.path(), "{\"format\": 7}").unwrap();
    let err = file.load(policy).unwrap_err();
    assert!(err.to_string().contains("newer"), "{err}");
}

#[test]
fn ids_are_not_kept_in_memory() {
    let mut sessions = Sessions::default();
    let (id, _) = sessions
        .create("lead1", SessionKind::Person, at(0), None)
        .unwrap();
    sessions.end(id.expose(), SessionEnded::SignedOut, at(1));
    let (id2, _) = sessions
        .create("lead1", SessionKind::Person, at(0), None)
        .unwrap();
    let shown = format!("{sessions:?}");
    assert!(!shown.contains(id.expose()) && !shown.contains(id2.expose()));
}
