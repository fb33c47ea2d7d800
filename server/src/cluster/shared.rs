//! [`SharedState`]: what follows a user to any node and what must happen once per cluster
//! (docs/CLUSTER.md, "Shared state" and "Exactly once"), opened together at a node's start.

use std::sync::Arc;

use super::ClusterSettings;
use super::audit_stream::AuditStream;
use super::kv_accounts::KvBook;
use super::kv_sessions::KvSessions;
use super::logins::SharedLogins;
use super::nats::{replicas, servers_known};
use crate::accounts::session::SessionChange;
use crate::effects::{EFFECTS_BUCKET, Effects, EffectsError, KEEP_CLAIMS_FOR};

/// The cluster's shared buckets and stream, as one node uses them.
#[derive(Debug, Clone)]
pub(crate) struct SharedState {
    /// The account book (`floorwatch_accounts`).
    pub(crate) book: Arc<KvBook>,
    /// The open sessions (`floorwatch_sessions`).
    pub(crate) sessions: Arc<KvSessions>,
    /// The audit trail (`FLOORWATCH_AUDIT`).
    pub(crate) audit: Arc<AuditStream>,
    /// The claims on side effects (`floorwatch_effects`).
    pub(crate) effects: Arc<Effects>,
    /// Passwords tried on every node, for the lock-out (`floorwatch.logins`).
    pub(crate) logins: SharedLogins,
}

/// The shared state could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("the cluster's shared state: {0}")]
pub(crate) struct SharedError(String);

impl SharedState {
    /// Opens (creating on first use) every bucket and the stream, with three replicas on a
    /// cluster of three NATS servers or more (counted as the event stream's are:
    /// [`servers_known`], not only the URLs given). `longest_session` sizes how long the sessions
    /// bucket keeps an entry.
    pub(crate) async fn open(
        client: &async_nats::Client,
        settings: &ClusterSettings,
        longest_session: std::time::Duration,
    ) -> Result<SharedState, SharedError> {
        let jetstream = async_nats::jetstream::new(client.clone());
        let replicas = replicas(servers_known(settings, client).await);
        let book = KvBook::open(&jetstream, replicas)
            .await
            .map_err(SharedError)?;
        let sessions = KvSessions::open(&jetstream, replicas, longest_session)
            .await
            .map_err(SharedError)?;
        let audit = AuditStream::open(&jetstream, replicas)
            .await
            .map_err(SharedError)?;
        let effects = open_effects(&jetstream, &settings.node, replicas)
            .await
            .map_err(|e| SharedError(e.to_string()))?;
        Ok(SharedState {
            book,
            sessions: Arc::new(sessions),
            audit: Arc::new(audit),
            effects: Arc::new(effects),
            logins: SharedLogins::new(client.clone(), &settings.node),
        })
    }

    /// Keeps this node's copy of the accounts confirmed, hands every session change made by
    /// any node to `apply` (which applies it to this node's sessions) and every password tried
    /// on another node to `heard` (this node's login guard), until shutdown.
    pub(crate) fn spawn(
        &self,
        apply: impl Fn(SessionChange) + Send + 'static,
        heard: impl Fn(&str, bool) + Send + 'static,
        trigger: &crate::shutdown::Trigger,
    ) {
        tokio::spawn(self.book.clone().keep_confirmed(trigger.subscribe()));
        tokio::spawn(self.sessions.clone().follow(apply, trigger.subscribe()));
        tokio::spawn(self.logins.clone().follow(heard, trigger.subscribe()));
    }

    /// Leaves a mark in a node's `data_dir` naming the cluster, so the account and audit
    /// commands run on the data dir say to give `--cluster` instead of editing files no node
    /// reads.
    pub(crate) fn mark(data_dir: &std::path::Path, settings: &ClusterSettings) {
        let urls: Vec<String> = settings
            .servers
            .iter()
            .map(|s| s.clone().into_inner().to_string())
            .collect();
        let path = data_dir.join(super::CLUSTER_MARK);
        if let Err(e) = std::fs::write(&path, urls.join(",") + "\n") {
            tracing::warn!(path = %path.display(), error = %e, "the cluster mark could not be written");
        }
    }

    /// The accounts and audit trail of a node of `data_dir`, on the cluster's book and stream.
    pub(crate) fn accounts(&self, data_dir: &std::path::Path) -> crate::accounts::Accounts {
        let trail = crate::audit::AuditTrail::shared(data_dir, self.audit.clone());
        crate::accounts::Accounts::shared(data_dir, self.book.clone(), trail)
    }
}

/// The claims on side effects (`crate::effects`) in the cluster's bucket, opened (or created)
/// with `replicas` copies, as node `node` sees them.
pub(crate) async fn open_effects(
    jetstream: &async_nats::jetstream::Context,
    node: &str,
    replicas: usize,
) -> Result<Effects, EffectsError> {
    let kv = super::nats::bucket(jetstream, EFFECTS_BUCKET, replicas, KEEP_CLAIMS_FOR, 1)
        .await
        .map_err(EffectsError::Open)?;
    Ok(Effects::new(kv, node))
}
