//! Signed-in sessions: a random id in a cookie, an idle time-out, and an absolute end at the
//! end of the user's shift ("sessions end at shift end; idle sessions time out",
//! shared/DOMAIN.md). Pure and clock-injected: every call takes `now`.
//!
//! Wall-clock time ([`jiff::Timestamp`]) because a shift ends at a time of day. Only the
//! SHA-256 of each id is kept, so a memory dump gives no usable cookie. Sessions live in
//! memory: a restart signs everyone out. A session holds the user's name only; the server
//! re-reads the user ([`super::Accounts::principal`]) on each request, so a disabled user or a
//! changed role takes effect at once.

use std::collections::HashMap;
use std::time::Duration;

use super::token::{self, RandomError, Secret};

/// What every session id starts with.
pub const SESSION_PREFIX: &str = "fws_";

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub started: jiff::Timestamp,
    pub last_seen: jiff::Timestamp,
    /// The absolute end: the shift's end, or `started + longest`, whichever is first.
    pub ends: jiff::Timestamp,
}

/// Why a session id no longer works. The server logs (and audits) the first two as a forced
/// log-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionEnded {
    #[error("the session was idle for too long")]
    IdleTimeout,
    #[error("the session ended with the shift")]
    ShiftEnded,
    #[error("no such session (signed out, expired, or the server restarted)")]
    Unknown,
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
}

impl Sessions {
    pub fn new(policy: SessionPolicy) -> Sessions {
        Sessions {
            policy,
            by_digest: HashMap::new(),
        }
    }

    /// Opens a session for `user` at `now`, ending at `shift_end` (if any) and after
    /// `longest` at the latest. The returned id is the cookie value; it is not kept.
    pub fn create(
        &mut self,
        user: &str,
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
            started: now,
            last_seen: now,
            ends,
        };
        self.by_digest.insert(id.digest(), session.clone());
        Ok((id, session))
    }

    /// The session behind a presented id, marked as seen at `now`. An expired session is
    /// removed and says why.
    pub fn touch(&mut self, id: &str, now: jiff::Timestamp) -> Result<Session, SessionEnded> {
        let digest = token::digest(id);
        let session = self
            .by_digest
            .get_mut(&digest)
            .ok_or(SessionEnded::Unknown)?;
        if let Some(ended) = ended(&self.policy, session, now) {
            self.by_digest.remove(&digest);
            return Err(ended);
        }
        session.last_seen = now;
        Ok(session.clone())
    }

    /// Signs out (log-out): the session is gone.
    pub fn end(&mut self, id: &str) -> Option<Session> {
        self.by_digest.remove(&token::digest(id))
    }

    /// Forced log-out of every session of `user` (disabled, password changed).
    pub fn end_user(&mut self, user: &str) -> Vec<Session> {
        let mut ended = Vec::new();
        self.by_digest.retain(|_, s| {
            let keep = s.user != user;
            if !keep {
                ended.push(s.clone());
            }
            keep
        });
        ended
    }

    /// Removes every session expired at `now` and returns them with the reason, for the log
    /// and the audit trail. Call it now and then (every minute).
    pub fn expire(&mut self, now: jiff::Timestamp) -> Vec<(Session, SessionEnded)> {
        let policy = self.policy;
        let mut out = Vec::new();
        self.by_digest.retain(|_, s| match ended(&policy, s, now) {
            Some(why) => {
                out.push((s.clone(), why));
                false
            }
            None => true,
        });
        out
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
    } else if now >= later(session.last_seen, policy.idle_timeout) {
        Some(SessionEnded::IdleTimeout)
    } else {
        None
    }
}

fn later(t: jiff::Timestamp, by: Duration) -> jiff::Timestamp {
    let by = jiff::SignedDuration::try_from(by).unwrap_or(jiff::SignedDuration::MAX);
    t.checked_add(by).unwrap_or(jiff::Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_700_000_000 + minutes * 60).unwrap()
    }

    #[test]
    fn a_session_lives_while_used_and_dies_when_idle() {
        let mut sessions = Sessions::default();
        let (id, session) = sessions.create("lead1", at(0), None).unwrap();
        assert!(id.expose().starts_with(SESSION_PREFIX));
        assert_eq!(session.ends, at(12 * 60));
        for minute in [10, 35, 64] {
            assert_eq!(
                sessions.touch(id.expose(), at(minute)).unwrap().last_seen,
                at(minute)
            );
        }
        assert_eq!(
            sessions.touch(id.expose(), at(94)),
            Err(SessionEnded::IdleTimeout)
        );
        assert_eq!(
            sessions.touch(id.expose(), at(95)),
            Err(SessionEnded::Unknown)
        );
        assert!(sessions.is_empty());
    }

    #[test]
    fn a_session_ends_with_the_shift_however_busy() {
        let mut sessions = Sessions::default();
        let (id, session) = sessions.create("lead1", at(0), Some(at(45))).unwrap();
        assert_eq!(session.ends, at(45));
        sessions.touch(id.expose(), at(20)).unwrap();
        sessions.touch(id.expose(), at(44)).unwrap();
        assert_eq!(
            sessions.touch(id.expose(), at(45)),
            Err(SessionEnded::ShiftEnded)
        );
        // A shift end past the longest session is cut to it; one already over opens nothing.
        let (_, long) = sessions.create("lead1", at(0), Some(at(20 * 60))).unwrap();
        assert_eq!(long.ends, at(12 * 60));
        assert!(matches!(
            sessions.create("lead1", at(50), Some(at(45))),
            Err(SessionError::ShiftOver(_))
        ));
    }

    #[test]
    fn sign_out_and_forced_sign_out() {
        let mut sessions = Sessions::default();
        let (a, _) = sessions.create("lead1", at(0), None).unwrap();
        let (b, _) = sessions.create("lead1", at(0), None).unwrap();
        let (c, _) = sessions.create("admin", at(0), None).unwrap();
        assert_eq!(
            sessions.end(a.expose()).map(|s| s.user),
            Some("lead1".into())
        );
        assert_eq!(sessions.end(a.expose()), None);
        assert_eq!(sessions.end_user("lead1").len(), 1);
        assert_eq!(
            sessions.touch(b.expose(), at(1)),
            Err(SessionEnded::Unknown)
        );
        assert!(sessions.touch(c.expose(), at(1)).is_ok());
    }

    #[test]
    fn expiry_sweeps_and_says_why() {
        let mut sessions = Sessions::default();
        let (_, _) = sessions.create("idle", at(0), None).unwrap();
        let (_, _) = sessions.create("shift", at(0), Some(at(20))).unwrap();
        let (busy, _) = sessions.create("busy", at(0), None).unwrap();
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
    }

    #[test]
    fn ids_are_not_kept_in_memory() {
        let mut sessions = Sessions::default();
        let (id, _) = sessions.create("lead1", at(0), None).unwrap();
        assert!(!format!("{sessions:?}").contains(id.expose()));
    }
}
