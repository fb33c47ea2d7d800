//! The cluster's open sessions (docs/CLUSTER.md, "Shared state"): the KV bucket
//! `floorwatch_sessions`, one key per session (the SHA-256 of its id: the id itself is never
//! stored, as in `sessions.json`), whose value is the session or, once it ended, why.
//!
//! A node publishes its sessions' changes when it would have written `sessions.json`: a new
//! session before its cookie is handed out, an ended one before the answer that ended it,
//! last-seen times at most once a minute. Every node watches the bucket and applies the other
//! nodes' changes to its own sessions, so a session opened on node A works on node B, and a
//! sign-out on B ends it on A as soon as the watch delivers it (milliseconds on a healthy
//! cluster). Entries older than the longest session (plus an hour) are dropped by the bucket.

use std::time::Duration;

use async_nats::jetstream::{self, kv};
use futures_util::StreamExt;

use crate::accounts::session::{Session, SessionChange};
use crate::accounts::session_file::SharedSessions;

/// The bucket.
pub(crate) const SESSIONS_BUCKET: &str = "floorwatch_sessions";

/// The sessions of the cluster, as one node publishes and follows them.
#[derive(Debug)]
pub(crate) struct KvSessions {
    kv: kv::Store,
    handle: tokio::runtime::Handle,
}

impl KvSessions {
    /// Opens (or creates) the bucket; entries are kept for `longest_session` and an hour.
    pub(crate) async fn open(
        jetstream: &jetstream::Context,
        replicas: usize,
        longest_session: Duration,
    ) -> Result<KvSessions, String> {
        let keep = longest_session.saturating_add(Duration::from_secs(3600));
        let kv = super::nats::bucket(jetstream, SESSIONS_BUCKET, replicas, keep, 1).await?;
        Ok(KvSessions {
            kv,
            handle: tokio::runtime::Handle::current(),
        })
    }

    /// Applies every change made by any node (this one's come back too, and are no-ops) with
    /// `apply`, until `shutdown`. The watch starts with every key's current value (so nothing
    /// changed between the start's [`SharedSessions::load`] and the watch is missed) and is
    /// opened again the same way when it breaks (NATS lost).
    pub(crate) async fn follow(
        self: std::sync::Arc<KvSessions>,
        apply: impl Fn(SessionChange) + Send + 'static,
        mut shutdown: crate::shutdown::Shutdown,
    ) {
        loop {
            let watch = tokio::select! {
                watch = self.kv.watch_with_history(">") => watch,
                () = shutdown.recv() => return,
            };
            match watch {
                Ok(mut watch) => loop {
                    let next = tokio::select! {
                        next = watch.next() => next,
                        () = shutdown.recv() => return,
                    };
                    match next {
                        Some(Ok(entry)) => {
                            if let Some(change) = decode(&entry) {
                                apply(change);
                            }
                        }
                        Some(Err(e)) => {
                            tracing::warn!(error = %e, "the cluster's sessions watch failed; watching again");
                            break;
                        }
                        None => break,
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "the cluster's sessions cannot be watched; retrying")
                }
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                () = shutdown.recv() => return,
            }
        }
    }

    async fn load_async(&self) -> Result<Vec<(String, Session)>, String> {
        let mut keys = self.kv.keys().await.map_err(|e| e.to_string())?;
        let mut open = Vec::new();
        while let Some(key) = keys.next().await {
            let key = key.map_err(|e| e.to_string())?;
            let Some(entry) = self.kv.entry(key).await.map_err(|e| e.to_string())? else {
                continue;
            };
            if let Some(SessionChange::Open { digest, session }) = decode(&entry) {
                open.push((digest, session));
            }
        }
        Ok(open)
    }
}

impl SharedSessions for KvSessions {
    fn load(&self) -> Result<Vec<(String, Session)>, String> {
        super::nats::wait(&self.handle, self.load_async())
    }

    fn publish(&self, changes: &[SessionChange]) -> Result<(), String> {
        super::nats::wait(&self.handle, async {
            for change in changes {
                let value = serde_json::to_vec(change).map_err(|e| e.to_string())?;
                self.kv
                    .put(change.digest(), value.into())
                    .await
                    .map_err(|e| format!("{SESSIONS_BUCKET}: {e}"))?;
            }
            Ok(())
        })
    }
}

/// The change an entry holds (`None`: a deletion, or a value this floorwatch cannot read).
fn decode(entry: &kv::Entry) -> Option<SessionChange> {
    if entry.operation != kv::Operation::Put {
        return None;
    }
    let change: SessionChange = serde_json::from_slice(&entry.value).ok()?;
    let digest = entry.key.clone();
    Some(match change {
        SessionChange::Open { session, .. } => SessionChange::Open { digest, session },
        SessionChange::Ended { why, .. } => SessionChange::Ended { digest, why },
    })
}
