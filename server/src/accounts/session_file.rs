//! `sessions.json`, or the cluster's sessions ([`SharedSessions`]): where the open sessions are
//! kept so that a restart (or, in a cluster, another node) signs nobody out.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::session::{
    SESSIONS_FILE, SESSIONS_FORMAT, Session, SessionBook, SessionChange, SessionPolicy, Sessions,
    StoredSession,
};
use crate::atomic_file::{self, Access};

#[derive(Debug, thiserror::Error)]
pub(crate) enum SessionFileError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} is damaged: {reason}")]
    Damaged { path: PathBuf, reason: String },
}

/// `sessions.json` of a data dir, written only by the server (which holds the data dir's
/// lock). Writers take turns, and each writes the sessions as they are when its turn comes,
/// so the file never goes back to an older state.
///
/// In cluster mode the sessions go to the cluster instead ([`SharedSessions`]): each save
/// publishes what changed since the last one (sessions opened or seen, sessions ended and why).
#[derive(Debug)]
pub(crate) struct SessionFile {
    path: PathBuf,
    /// The generation last written.
    written: Mutex<Option<u64>>,
    shared: Option<std::sync::Arc<dyn SharedSessions>>,
    /// Cluster mode: the sessions as last published or adopted, by digest.
    published: Mutex<HashMap<String, Session>>,
}

impl SessionFile {
    pub(crate) fn new(data_dir: &Path) -> SessionFile {
        SessionFile {
            path: data_dir.join(SESSIONS_FILE),
            written: Mutex::new(None),
            shared: None,
            published: Mutex::new(HashMap::new()),
        }
    }

    /// The cluster's sessions instead of `sessions.json`.
    pub(crate) fn shared(
        data_dir: &Path,
        shared: std::sync::Arc<dyn SharedSessions>,
    ) -> SessionFile {
        SessionFile {
            shared: Some(shared),
            ..SessionFile::new(data_dir)
        }
    }

    /// Another node's change: applied to `sessions`, and remembered as published so it is not
    /// sent back.
    pub(crate) fn adopt(&self, sessions: &Mutex<Sessions>, change: SessionChange) {
        let mut published = self.published.lock().unwrap_or_else(|p| p.into_inner());
        let mut sessions = sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.adopt(&change, jiff::Timestamp::now());
        match change {
            SessionChange::Open { digest, .. } => {
                if let Some(session) = sessions.open_session(&digest) {
                    published.insert(digest, session.clone());
                }
            }
            SessionChange::Ended { digest, .. } => {
                published.remove(&digest);
            }
        }
    }

    /// Cluster mode's save: what changed since the last publication, published.
    fn publish(
        &self,
        shared: &dyn SharedSessions,
        sessions: &Mutex<Sessions>,
    ) -> Result<bool, SessionFileError> {
        let mut published = self.published.lock().unwrap_or_else(|p| p.into_inner());
        let changes: Vec<SessionChange> = {
            let sessions = sessions.lock().unwrap_or_else(|p| p.into_inner());
            let opened = sessions
                .open_sessions()
                .filter(|(digest, session)| published.get(*digest) != Some(*session))
                .map(|(digest, session)| SessionChange::Open {
                    digest: digest.clone(),
                    session: session.clone(),
                });
            let ended = published
                .keys()
                .filter(|digest| sessions.open_session(digest).is_none())
                .map(|digest| SessionChange::Ended {
                    digest: digest.clone(),
                    why: sessions.why_ended(digest),
                });
            opened.chain(ended).collect()
        };
        if changes.is_empty() {
            return Ok(false);
        }
        shared
            .publish(&changes)
            .map_err(|reason| SessionFileError::Damaged {
                path: self.path.clone(),
                reason,
            })?;
        for change in changes {
            match change {
                SessionChange::Open { digest, session } => {
                    published.insert(digest, session);
                }
                SessionChange::Ended { digest, .. } => {
                    published.remove(&digest);
                }
            }
        }
        Ok(true)
    }

    #[cfg(test)]
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// The sessions in the file (none when there is no file yet). A damaged or newer file is
    /// an error: the caller starts without sessions (everyone signs in again), which is safe.
    pub(crate) fn load(&self, policy: SessionPolicy) -> Result<Sessions, SessionFileError> {
        if let Some(shared) = &self.shared {
            let open = shared.load().map_err(|reason| SessionFileError::Damaged {
                path: self.path.clone(),
                reason,
            })?;
            let mut published = self.published.lock().unwrap_or_else(|p| p.into_inner());
            published.extend(open.iter().cloned());
            let sessions = open
                .into_iter()
                .map(|(sha256, session)| StoredSession { sha256, session })
                .collect();
            *self.written.lock().unwrap_or_else(|p| p.into_inner()) = Some(0);
            return Ok(Sessions::restore(
                policy,
                SessionBook {
                    format: SESSIONS_FORMAT,
                    sessions,
                },
            ));
        }
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Sessions::new(policy)),
            Err(source) => {
                return Err(SessionFileError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let damaged = |reason: String| SessionFileError::Damaged {
            path: self.path.clone(),
            reason,
        };
        let book: SessionBook = serde_json::from_str(&text).map_err(|e| damaged(e.to_string()))?;
        if book.format > SESSIONS_FORMAT {
            return Err(damaged(format!(
                "format {} is newer than this floorwatch reads ({SESSIONS_FORMAT})",
                book.format
            )));
        }
        *self.written.lock().unwrap_or_else(|p| p.into_inner()) = Some(0);
        Ok(Sessions::restore(policy, book))
    }

    /// Whether the file shows the sessions of `generation` already (nothing to write).
    pub(crate) fn is_current(&self, generation: u64) -> bool {
        *self.written.lock().unwrap_or_else(|p| p.into_inner()) == Some(generation)
    }

    /// Writes the sessions if they changed since the last write (readable by the owner only,
    /// atomically). Blocking: call it off the async threads. `Ok(false)`: nothing to write.
    pub(crate) fn save(&self, sessions: &Mutex<Sessions>) -> Result<bool, SessionFileError> {
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        let (generation, book) = sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .snapshot();
        if *written == Some(generation) {
            return Ok(false);
        }
        if let Some(shared) = &self.shared {
            drop(book);
            self.publish(shared.as_ref(), sessions)?;
            *written = Some(generation);
            return Ok(true);
        }
        let io_err = |source| SessionFileError::Io {
            path: self.path.clone(),
            source,
        };
        let mut text = serde_json::to_vec_pretty(&book).map_err(|e| io_err(io::Error::other(e)))?;
        text.push(b'\n');
        atomic_file::replace(&self.path, &text, Access::Private).map_err(io_err)?;
        *written = Some(generation);
        Ok(true)
    }
}

/// Open sessions kept where every node reaches them, so a session opened on one node works on
/// every other and a sign-out on one ends it everywhere.
pub(crate) trait SharedSessions: Send + Sync + std::fmt::Debug {
    /// Every open session, at a node's start.
    fn load(&self) -> Result<Vec<(String, Session)>, String>;
    /// Tells the other nodes of this node's changes.
    fn publish(&self, changes: &[SessionChange]) -> Result<(), String>;
}
