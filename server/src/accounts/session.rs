//! Signed-in sessions: a random id in a cookie, an idle time-out, and an absolute end at the
//! end of the user's shift ("sessions end at shift end; idle sessions time out",
//! shared/DOMAIN.md). Pure and clock-injected: every call takes `now`.
//!
//! Wall-clock time ([`jiff::Timestamp`]) because a shift ends at a time of day. Only the
//! SHA-256 of each id is kept, so a memory dump (or the data dir) gives no usable cookie.
//! Open sessions are also kept in `sessions.json` in the data dir ([`SessionFile`], written
//! whole and atomically after each change), so a restart signs nobody out; the last activity
//! is written at most once a minute ([`SAVE_SEEN_EVERY`]), so a restart may end a session up
//! to a minute early, never late. A session holds the user's name only; the server
//! re-reads the user ([`super::Accounts::principal`]) on each request, so a disabled user or a
//! changed role takes effect at once.
//!
//! A session that ended is remembered for a while (by digest, with why it ended), so a client
//! still presenting its cookie is told why ("the session was idle for too long") rather than
//! "no such session". Each ending is handed out exactly once as [`Closed::ended`], so the
//! caller audits every log-out once, whether the sweep, a request or a sign-out noticed it.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::token::{self, RandomError, Secret};

/// The open sessions inside the data dir.
pub(crate) const SESSIONS_FILE: &str = "sessions.json";
/// The newest `sessions.json` format read.
pub(crate) const SESSIONS_FORMAT: u32 = 1;
/// Activity moves a session's last-seen time in the file at most this often: the file is not
/// rewritten on every click, and a restart can only make an idle time-out come this much early.
pub(crate) const SAVE_SEEN_EVERY: Duration = Duration::from_secs(60);

/// What every session id starts with.
pub(crate) const SESSION_PREFIX: &str = "fws_";

/// Most endings remembered; beyond it the oldest are forgotten (and their cookies answered as
/// unknown).
const MAX_REMEMBERED: usize = 100_000;

/// The defaults: 30 minutes idle, and never longer than 12 hours even without a shift end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SessionPolicy {
    pub(crate) idle_timeout: Duration,
    pub(crate) longest: Duration,
}

impl Default for SessionPolicy {
    fn default() -> SessionPolicy {
        SessionPolicy {
            idle_timeout: Duration::from_secs(30 * 60),
            longest: Duration::from_secs(12 * 3600),
        }
    }
}

/// One session's change, as nodes tell one another: opened or seen (its newest state), or
/// ended and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub(crate) enum SessionChange {
    Open {
        #[serde(skip)]
        digest: String,
        #[serde(flatten)]
        session: Session,
    },
    Ended {
        #[serde(skip)]
        digest: String,
        why: SessionEnded,
    },
}

impl SessionChange {
    /// The SHA-256 of the session id it is about.
    pub(crate) fn digest(&self) -> &str {
        match self {
            SessionChange::Open { digest, .. } | SessionChange::Ended { digest, .. } => digest,
        }
    }
}

/// Who sits behind a session, which decides whether it idles out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SessionKind {
    /// A person at a screen: the idle time-out applies.
    Person,
    /// A wall display signed in with a password: a TV nobody touches never idles out; only
    /// the absolute end applies. (A screen paired as a device has no session at all.)
    Device,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Session {
    pub(crate) user: String,
    pub(crate) kind: SessionKind,
    pub(crate) started: jiff::Timestamp,
    pub(crate) last_seen: jiff::Timestamp,
    /// The absolute end: the shift's end, or `started + longest`, whichever is first.
    pub(crate) ends: jiff::Timestamp,
}

/// Why a session id no longer works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SessionEnded {
    #[error("the session was idle for too long")]
    IdleTimeout,
    #[error("the session ended with the shift")]
    ShiftEnded,
    #[error("signed out")]
    SignedOut,
    #[error("the account was disabled")]
    UserDisabled,
    #[error("no such session (signed out or expired)")]
    Unknown,
}

impl SessionEnded {
    /// The `detail` of the `logout` audit record (docs/SECURITY.md, "The audit trail").
    pub(crate) fn audit_detail(self) -> &'static str {
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
pub(crate) struct Closed {
    pub(crate) why: SessionEnded,
    /// The session, when this very call ended it: log and audit the log-out now. `None` when
    /// it ended earlier (already handed out) or never existed.
    pub(crate) ended: Option<Session>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum SessionError {
    #[error("{0}")]
    Random(#[from] RandomError),
    #[error("the shift already ended at {0}; no session is opened")]
    ShiftOver(jiff::Timestamp),
}

/// The sessions of one server.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    policy: SessionPolicy,
    by_digest: HashMap<String, Open>,
    /// Sessions that ended, by digest: why, and when (forgotten after `policy.longest`).
    ended: HashMap<String, (SessionEnded, jiff::Timestamp)>,
    /// Counts the changes `sessions.json` must show (a session opened or ended, a last-seen
    /// time moved by [`SAVE_SEEN_EVERY`] or more): [`SessionFile::save`] writes when it moved.
    generation: u64,
}

#[derive(Debug)]
struct Open {
    session: Session,
    /// The last-seen time the file was last given.
    saved_seen: jiff::Timestamp,
}

/// `sessions.json`: the open sessions, by the SHA-256 of their ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SessionBook {
    pub(crate) format: u32,
    #[serde(default)]
    pub(crate) sessions: Vec<StoredSession>,
}

/// One open session as written: the digest of its id, never the id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredSession {
    pub(crate) sha256: String,
    #[serde(flatten)]
    pub(crate) session: Session,
}

impl Sessions {
    pub(crate) fn new(policy: SessionPolicy) -> Sessions {
        Sessions {
            policy,
            ..Sessions::default()
        }
    }

    pub(crate) fn policy(&self) -> SessionPolicy {
        self.policy
    }

    /// The idle time-out of a kind of session (`None`: it never idles out).
    pub(crate) fn idle_timeout(&self, kind: SessionKind) -> Option<Duration> {
        match kind {
            SessionKind::Person => Some(self.policy.idle_timeout),
            SessionKind::Device => None,
        }
    }

    /// Opens a session for `user` at `now`, ending at `shift_end` (if any) and after
    /// `longest` at the latest. The returned id is the cookie value; it is not kept.
    pub(crate) fn create(
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
        self.by_digest.insert(
            id.digest(),
            Open {
                session: session.clone(),
                saved_seen: now,
            },
        );
        self.generation += 1;
        Ok((id, session))
    }

    /// The session behind a presented id, marked as seen at `now` (user activity). An expired
    /// session is removed and says why.
    pub(crate) fn touch(&mut self, id: &str, now: jiff::Timestamp) -> Result<Session, Closed> {
        self.look_up(&token::digest(id), now, true)
    }

    /// The session behind a presented id, without counting as activity (a read the wallboard
    /// makes by itself). An expired session is removed and says why.
    pub(crate) fn check(&mut self, id: &str, now: jiff::Timestamp) -> Result<Session, Closed> {
        self.look_up(&token::digest(id), now, false)
    }

    /// As [`Sessions::check`], by the id's digest (what a long-lived connection keeps).
    pub(crate) fn check_digest(
        &mut self,
        digest: &str,
        now: jiff::Timestamp,
    ) -> Result<Session, Closed> {
        self.look_up(digest, now, false)
    }

    fn look_up(
        &mut self,
        digest: &str,
        now: jiff::Timestamp,
        activity: bool,
    ) -> Result<Session, Closed> {
        let Some(open) = self.by_digest.get_mut(digest) else {
            let why = self
                .ended
                .get(digest)
                .map_or(SessionEnded::Unknown, |(why, _)| *why);
            return Err(Closed { why, ended: None });
        };
        if let Some(why) = ended(&self.policy, &open.session, now) {
            let ended = self.by_digest.remove(digest).map(|o| o.session);
            self.remember(digest.to_string(), why, now);
            self.generation += 1;
            return Err(Closed { why, ended });
        }
        if activity {
            open.session.last_seen = now;
            if now >= later(open.saved_seen, SAVE_SEEN_EVERY) {
                open.saved_seen = now;
                self.generation += 1;
            }
        }
        Ok(open.session.clone())
    }

    /// Ends a session for `why` (a sign-out: [`SessionEnded::SignedOut`]); `None` if there was
    /// none.
    pub(crate) fn end(
        &mut self,
        id: &str,
        why: SessionEnded,
        now: jiff::Timestamp,
    ) -> Option<Session> {
        let digest = token::digest(id);
        let session = self.by_digest.remove(&digest)?.session;
        self.remember(digest, why, now);
        self.generation += 1;
        Some(session)
    }

    /// Forced log-out of every session of `user` (disabled, password changed).
    pub(crate) fn end_user(
        &mut self,
        user: &str,
        why: SessionEnded,
        now: jiff::Timestamp,
    ) -> Vec<Session> {
        let digests: Vec<String> = self
            .by_digest
            .iter()
            .filter(|(_, o)| o.session.user == user)
            .map(|(d, _)| d.clone())
            .collect();
        let mut out = Vec::with_capacity(digests.len());
        for digest in digests {
            if let Some(open) = self.by_digest.remove(&digest) {
                self.remember(digest, why, now);
                out.push(open.session);
            }
        }
        if !out.is_empty() {
            self.generation += 1;
        }
        out
    }

    /// The names of the users with an open session (to re-check them against the accounts).
    pub(crate) fn users(&self) -> Vec<String> {
        let mut users: Vec<String> = self
            .by_digest
            .values()
            .map(|o| o.session.user.clone())
            .collect();
        users.sort();
        users.dedup();
        users
    }

    /// Removes every session expired at `now` and returns them with the reason, for the log
    /// and the audit trail; forgets endings older than the longest session. Call it now and
    /// then (the server does every few seconds).
    pub(crate) fn expire(&mut self, now: jiff::Timestamp) -> Vec<(Session, SessionEnded)> {
        let policy = self.policy;
        let expired: Vec<(String, SessionEnded)> = self
            .by_digest
            .iter()
            .filter_map(|(d, o)| ended(&policy, &o.session, now).map(|why| (d.clone(), why)))
            .collect();
        let mut out = Vec::with_capacity(expired.len());
        for (digest, why) in expired {
            if let Some(open) = self.by_digest.remove(&digest) {
                self.remember(digest, why, now);
                out.push((open.session, why));
            }
        }
        if !out.is_empty() {
            self.generation += 1;
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

    /// Another node's change (cluster mode): a session opened or seen there is open here with
    /// its newest last-seen time; one ended there is ended here for the same reason, without
    /// being handed out as [`Closed::ended`] (the node that ended it audits it).
    pub(crate) fn adopt(&mut self, change: &SessionChange, now: jiff::Timestamp) {
        match change {
            SessionChange::Open { digest, session } => {
                if self.ended.contains_key(digest) {
                    return;
                }
                match self.by_digest.get_mut(digest) {
                    Some(open) => {
                        if session.last_seen > open.session.last_seen {
                            open.session.last_seen = session.last_seen;
                            open.saved_seen = session.last_seen;
                        }
                    }
                    None => {
                        self.by_digest.insert(
                            digest.clone(),
                            Open {
                                session: session.clone(),
                                saved_seen: session.last_seen,
                            },
                        );
                    }
                }
            }
            SessionChange::Ended { digest, why } => {
                self.by_digest.remove(digest);
                self.remember(digest.clone(), *why, now);
            }
        }
    }

    /// The open session of `digest`, if any.
    pub(crate) fn open_session(&self, digest: &str) -> Option<&Session> {
        self.by_digest.get(digest).map(|o| &o.session)
    }

    /// Every open session, by digest.
    pub(crate) fn open_sessions(&self) -> impl Iterator<Item = (&String, &Session)> {
        self.by_digest.iter().map(|(d, o)| (d, &o.session))
    }

    /// Why the session of `digest` ended, as remembered.
    pub(crate) fn why_ended(&self, digest: &str) -> SessionEnded {
        self.ended
            .get(digest)
            .map_or(SessionEnded::Unknown, |(why, _)| *why)
    }

    pub(crate) fn len(&self) -> usize {
        self.by_digest.len()
    }

    /// Counts the changes `sessions.json` must show ([`SessionFile::save`]).
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }

    /// The open sessions as `sessions.json` holds them (sorted, so equal books write equal
    /// files), and the generation they are of.
    pub(crate) fn snapshot(&self) -> (u64, SessionBook) {
        let mut sessions: Vec<StoredSession> = self
            .by_digest
            .iter()
            .map(|(digest, open)| StoredSession {
                sha256: digest.clone(),
                session: open.session.clone(),
            })
            .collect();
        sessions.sort_by(|a, b| a.sha256.cmp(&b.sha256));
        (
            self.generation,
            SessionBook {
                format: SESSIONS_FORMAT,
                sessions,
            },
        )
    }

    /// The sessions of a book read back at start, under today's `policy`: a shorter longest
    /// session than when one was opened shortens it. Sessions that ended while the server was
    /// down are kept, so that the sweep (or the next request) ends and audits them as usual.
    pub(crate) fn restore(policy: SessionPolicy, book: SessionBook) -> Sessions {
        let mut sessions = Sessions::new(policy);
        for StoredSession {
            sha256,
            mut session,
        } in book.sessions
        {
            session.ends = session.ends.min(later(session.started, policy.longest));
            let saved_seen = session.last_seen;
            sessions.by_digest.insert(
                sha256,
                Open {
                    session,
                    saved_seen,
                },
            );
        }
        sessions
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
mod tests;
