//! Signed-in sessions: a random id in a cookie, an idle time-out, and an absolute end at the
//! end of the user's shift ("sessions end at shift end; idle sessions time out",
//! shared/DOMAIN.md). Pure and clock-injected: every call takes `now`.
//!
//! Wall-clock time ([`jiff::Timestamp`]) because a shift ends at a time of day. Only the
//! SHA-256 of each id is kept, so a memory dump gives no usable cookie. Sessions live in
//! memory: a restart signs everyone out. A session holds the user's name only; the server
//! re-reads the user ([`super::Accounts::principal`]) on each request, so a disabled user or a
//! changed role takes effect at once.
//!
//! A session that ended is remembered for a while (by digest, with why it ended), so a client
//! still presenting its cookie is told why ("the session was idle for too long") rather than
//! "no such session". Each ending is handed out exactly once as [`Closed::ended`], so the
//! caller audits every log-out once, whether the sweep, a request or a sign-out noticed it.

use std::collections::HashMap;
use std::time::Duration;

use super::token::{self, RandomError, Secret};

/// What every session id starts with.
pub const SESSION_PREFIX: &str = "fws_";

/// Most endings remembered; beyond it the oldest are forgotten (and their cookies answered as
/// unknown).
const MAX_REMEMBERED: usize = 100_000;

/// The defaults: 30 minutes idle, and never longer than 12 hours even without a shift end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle_timeout: Duration,
    pub longest: Duration,
}

impl Default for SessionPolicy {
    fn default() -> SessionPolicy {
        SessionPolicy {
            idle_timeout: Duration::from_secs(30 * 60),
            longest: Duration::from_secs(12 * 3600),
        }
    }
}

/// Who sits behind a session, which decides whether it idles out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// A person at a screen: the idle time-out applies.
    Person,
    /// A wall display: a TV nobody touches never idles out; only the absolute end applies.
    Device,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub kind: SessionKind,
    pub started: jiff::Timestamp,
    pub last_seen: jiff::Timestamp,
    /// The absolute end: the shift's end, or `started + longest`, whichever is first.
    pub ends: jiff::Timestamp,
}

/// Why a session id no longer works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionEnded {
    #[error("the session was idle for too long")]
    IdleTimeout,
    #[error("the session ended with the shift")]
    ShiftEnded,
    #[error("signed out")]
    SignedOut,
    #[error("the account was disabled")]
    UserDisabled,
    #[error("no such session (signed out, expired, or the server restarted)")]
    Unknown,
}

impl SessionEnded {
    /// The `detail` of the `logout` audit record (docs/SECURITY.md, "The audit trail").
    pub fn audit_detail(self) -> &'static str {
        match self {
            SessionEnded::IdleTimeout => "idle timeout",
            SessionEnded::ShiftEnded => "shift ended",
            SessionEnded::SignedOut => "signed out",
            SessionEnded::UserDisabled => "user disabled",
            SessionEnded::Unknown => "unknown session",
        }
    }
}

/// A presented id that no longer opens a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub why: SessionEnded,
    /// The session, when this very call ended it: log and audit the log-out now. `None` when
    /// it ended earlier (already handed out) or never existed.
    pub ended: Option<Session>,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("{0}")]
    Random(#[from] RandomError),
    #[error("the shift already ended at {0}; no session is opened")]
    ShiftOver(jiff::Timestamp),
}

/// The sessions of one server.
#[derive(Debug, Default)]
pub struct Sessions {
    policy: SessionPolicy,
    by_digest: HashMap<String, Session>,
    /// Sessions that ended, by digest: why, and when (forgotten after `policy.longest`).
    ended: HashMap<String, (SessionEnded, jiff::Timestamp)>,
}

impl Sessions {
    pub fn new(policy: SessionPolicy) -> Sessions {
        Sessions {
            policy,
            ..Sessions::default()
        }
    }

    pub fn policy(&self) -> SessionPolicy {
        self.policy
    }

    /// The idle time-out of a kind of session (`None`: it never idles out).
    pub fn idle_timeout(&self, kind: SessionKind) -> Option<Duration> {
        match kind {
            SessionKind::Person => Some(self.policy.idle_timeout),
            SessionKind::Device => None,
        }
    }

    /// Opens a session for `user` at `now`, ending at `shift_end` (if any) and after
    /// `longest` at the latest. The returned id is the cookie value; it is not kept.
    pub fn create(
        &mut self,
        user: &str,
        kind: SessionKind,
        now: jiff::Timestamp,
        shift_end: Option<jiff::Timestamp>,
    ) -> Result<(Secret, Session), SessionError> {
        let longest = later(now, self.policy.longest);
        let ends = shift_end.map_or(longest, |end| end.min(longest));
        if ends <= now {
            return Err(SessionError::ShiftOver(ends));
        }
        let id = token::random_secret(SESSION_PREFIX, 32)?;
        let session = Session {
            user: user.to_string(),
            kind,
            started: now,
            last_seen: now,
            ends,
        };
        self.by_digest.insert(id.digest(), session.clone());
        Ok((id, session))
    }

    /// The session behind a presented id, marked as seen at `now` (user activity). An expired
    /// session is removed and says why.
    pub fn touch(&mut self, id: &str, now: jiff::Timestamp) -> Result<Session, Closed> {
        self.look_up(&token::digest(id), now, true)
    }

    /// The session behind a presented id, without counting as activity (a read the wallboard
    /// makes by itself). An expired session is removed and says why.
    pub fn check(&mut self, id: &str, now: jiff::Timestamp) -> Result<Session, Closed> {
        self.look_up(&token::digest(id), now, false)
    }

    /// As [`Sessions::check`], by the id's digest (what a long-lived connection keeps).
    pub fn check_digest(&mut self, digest: &str, now: jiff::Timestamp) -> Result<Session, Closed> {
        self.look_up(digest, now, false)
    }

    fn look_up(
        &mut self,
        digest: &str,
        now: jiff::Timestamp,
        activity: bool,
    ) -> Result<Session, Closed> {
        let Some(session) = self.by_digest.get_mut(digest) else {
            let why = self
                .ended
                .get(digest)
                .map_or(SessionEnded::Unknown, |(why, _)| *why);
            return Err(Closed { why, ended: None });
        };
        if let Some(why) = ended(&self.policy, session, now) {
            let ended = self.by_digest.remove(digest);
            self.remember(digest.to_string(), why, now);
            return Err(Closed { why, ended });
        }
        if activity {
            session.last_seen = now;
        }
        Ok(session.clone())
    }

    /// Ends a session for `why` (a sign-out: [`SessionEnded::SignedOut`]); `None` if there was
    /// none.
    pub fn end(&mut self, id: &str, why: SessionEnded, now: jiff::Timestamp) -> Option<Session> {
        let digest = token::digest(id);
        let session = self.by_digest.remove(&digest)?;
        self.remember(digest, why, now);
        Some(session)
    }

    /// Forced log-out of every session of `user` (disabled, password changed).
    pub fn end_user(
        &mut self,
        user: &str,
        why: SessionEnded,
        now: jiff::Timestamp,
    ) -> Vec<Session> {
        let digests: Vec<String> = self
            .by_digest
            .iter()
            .filter(|(_, s)| s.user == user)
            .map(|(d, _)| d.clone())
            .collect();
        let mut out = Vec::with_capacity(digests.len());
        for digest in digests {
            if let Some(session) = self.by_digest.remove(&digest) {
                self.remember(digest, why, now);
                out.push(session);
            }
        }
        out
    }

    /// The names of the users with an open session (to re-check them against the accounts).
    pub fn users(&self) -> Vec<String> {
        let mut users: Vec<String> = self.by_digest.values().map(|s| s.user.clone()).collect();
        users.sort();
        users.dedup();
        users
    }

    /// Removes every session expired at `now` and returns them with the reason, for the log
    /// and the audit trail; forgets endings older than the longest session. Call it now and
    /// then (the server does every few seconds).
    pub fn expire(&mut self, now: jiff::Timestamp) -> Vec<(Session, SessionEnded)> {
        let policy = self.policy;
        let expired: Vec<(String, SessionEnded)> = self
            .by_digest
            .iter()
            .filter_map(|(d, s)| ended(&policy, s, now).map(|why| (d.clone(), why)))
            .collect();
        let mut out = Vec::with_capacity(expired.len());
        for (digest, why) in expired {
            if let Some(session) = self.by_digest.remove(&digest) {
                self.remember(digest, why, now);
                out.push((session, why));
            }
        }
        let forget_before = earlier(now, policy.longest);
        self.ended.retain(|_, (_, at)| *at > forget_before);
        out
    }

    fn remember(&mut self, digest: String, why: SessionEnded, now: jiff::Timestamp) {
        if self.ended.len() >= MAX_REMEMBERED
            && let Some(oldest) = self
                .ended
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(d, _)| d.clone())
        {
            self.ended.remove(&oldest);
        }
        self.ended.insert(digest, (why, now));
    }

    pub fn len(&self) -> usize {
        self.by_digest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }
}

fn ended(policy: &SessionPolicy, session: &Session, now: jiff::Timestamp) -> Option<SessionEnded> {
    if now >= session.ends {
        Some(SessionEnded::ShiftEnded)
    } else if session.kind == SessionKind::Person
        && now >= later(session.last_seen, policy.idle_timeout)
    {
        Some(SessionEnded::IdleTimeout)
    } else {
        None
    }
}

fn later(t: jiff::Timestamp, by: Duration) -> jiff::Timestamp {
    let by = jiff::SignedDuration::try_from(by).unwrap_or(jiff::SignedDuration::MAX);
    t.checked_add(by).unwrap_or(jiff::Timestamp::MAX)
}

fn earlier(t: jiff::Timestamp, by: Duration) -> jiff::Timestamp {
    let by = jiff::SignedDuration::try_from(by).unwrap_or(jiff::SignedDuration::MAX);
    t.checked_sub(by).unwrap_or(jiff::Timestamp::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
