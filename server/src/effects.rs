//! Exactly-once side effects across the cluster (issue 16 item 3, docs/CLUSTER.md, "Exactly
//! once"). Every node computes the same alerts and digests (the engine is deterministic), so
//! every node's outbox holds the same webhook batches and digest messages; a claim in the
//! `floorwatch_effects` KV bucket decides which node sends each one.
//!
//! A claim is a lease keyed by the effect's existing idempotency key (the webhook batch's
//! `Idempotency-Key`, the digest's Message-ID and recipient):
//! - `create` (create-only) takes it: the winner sends; its value says `sending` and the node.
//! - The holder renews it every third of its lease (`LEASE`) while it sends (retries included), so a
//!   receiver that is down for an hour keeps the same sender.
//! - Anyone else waits. A waiter that has seen the same revision of a `sending` claim for a
//!   whole lease (on its own monotonic clock: no two nodes' clocks are compared) takes it over
//!   with `update` at that revision: the holder died between claim and "sent". Two waiters
//!   racing to take over: one `update` wins, the other sees a new revision and waits again;
//!   a taker confirms with a second `update` at its own revision a moment later before it
//!   sends, since a JetStream leader before 2.11 may let two updates at one revision through.
//! - When the receiver took it (or refused it for good) the holder writes `done`; every other
//!   node then drops it from its outbox without sending.
//!
//! A holder killed after sending and before writing `done` is taken over and the effect sent
//! again, with the same Idempotency-Key / Message-ID, so the receiver can drop the repeat: the
//! same promise single-node mode makes across a crash.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_nats::jetstream::kv;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The bucket of claims.
pub(crate) const EFFECTS_BUCKET: &str = "floorwatch_effects";
/// How long a silent claim holds: a node that stops renewing is taken over after this.
pub(crate) const LEASE: Duration = Duration::from_secs(15);
/// How long a claim (and its `done`) is kept: longer than any outbox keeps a batch or a day's
/// digest pending, so a node back after days still finds what was sent without it.
pub(crate) const KEEP_CLAIMS_FOR: Duration = Duration::from_secs(14 * 86_400);

/// What a claim says now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum State {
    Sending,
    Done,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Mark {
    state: State,
    node: String,
    /// Bumped on every renewal, so a renewal is a new revision even with equal content.
    beat: u64,
}

/// Whose turn a side effect is.
#[derive(Debug)]
pub(crate) enum Turn {
    /// This node sends it: keep the claim until [`Effects::done`].
    Mine(Claim),
    /// Another node sent it (or it was refused for good): drop it without sending.
    Done,
    /// Another node holds a live claim: ask again after [`Effects::poll`].
    Wait,
}

/// A claim this node holds: renewed in the background until [`Effects::done`] or drop (a
/// dropped claim stops being renewed and is taken over after a lease, as a dead node's is).
#[derive(Debug)]
pub(crate) struct Claim {
    key: String,
    renewer: tokio::task::JoinHandle<()>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

/// The claims could not be read or written (NATS unreachable); the sender retries.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EffectsError {
    #[error("the effects bucket cannot be opened: {0}")]
    Open(String),
    #[error("the claim {key} cannot be read or written: {reason}")]
    Claim { key: String, reason: String },
}

/// The cluster's claims, as one node sees them.
#[derive(Debug)]
pub(crate) struct Effects {
    kv: kv::Store,
    node: String,
    lease: Duration,
    /// Per key: the revision of another node's claim last seen, and since when (this node's
    /// monotonic clock).
    seen: Mutex<HashMap<String, (u64, Instant)>>,
}

impl Effects {
    /// The claims kept in `kv` (the cluster's [`EFFECTS_BUCKET`], opened by
    /// `crate::cluster::shared`), as node `node` sees them.
    pub(crate) fn new(kv: kv::Store, node: &str) -> Effects {
        Effects {
            kv,
            node: node.to_string(),
            lease: LEASE,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// The same claims with another lease (tests take a dead node's claim over sooner).
    #[cfg(test)]
    pub(crate) fn with_lease(mut self, lease: Duration) -> Effects {
        self.lease = lease;
        self
    }

    /// How long a waiter sleeps before asking again: a fifth of a lease.
    pub(crate) fn poll(&self) -> Duration {
        self.lease / 5
    }

    /// The name this node claims under.
    pub(crate) fn node(&self) -> &str {
        &self.node
    }

    /// The key of an effect: `kind` (`webhook`, `digest`), the receiver, and the effect's own
    /// idempotency key, hashed (KV keys allow few characters; Message-IDs hold `<@>`).
    pub(crate) fn key(kind: &str, receiver: &str, id: &str) -> String {
        let mut hasher = Sha256::new();
        for part in [kind, receiver, id] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        format!("{kind}.{:x}", hasher.finalize())
    }

    /// Whose turn the effect `key` is; see the module doc.
    pub(crate) async fn claim(&self, key: &str) -> Result<Turn, EffectsError> {
        let mine = self.mark(State::Sending, 0);
        match self.kv.create(key, mine).await {
            Ok(revision) => return Ok(Turn::Mine(self.hold(key, revision))),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {}
            Err(e) => return Err(self.failed(key, e)),
        }
        let Some(entry) = self.kv.entry(key).await.map_err(|e| self.failed(key, e))? else {
            // Gone between the two calls (purged by age): claim it again next time.
            return Ok(Turn::Wait);
        };
        let mark: Mark = match serde_json::from_slice(&entry.value) {
            Ok(mark) => mark,
            // Not ours to read: never send what another writer may have sent.
            Err(_) => return Ok(Turn::Done),
        };
        if mark.state == State::Done {
            self.forget(key);
            return Ok(Turn::Done);
        }
        let take_over = mark.node == self.node || {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            match seen.get(key) {
                Some((revision, since)) if *revision == entry.revision => {
                    since.elapsed() >= self.lease
                }
                _ => {
                    seen.insert(key.to_string(), (entry.revision, Instant::now()));
                    false
                }
            }
        };
        if !take_over {
            return Ok(Turn::Wait);
        }
        let value = self.mark(State::Sending, mark.beat + 1);
        let revision = match self.kv.update(key, value, entry.revision).await {
            Ok(revision) => revision,
            Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => return Ok(Turn::Wait),
            Err(e) => return Err(self.failed(key, e)),
        };
        // Confirmed before sending: two waiters whose leases ran out together update at the
        // same revision at the same moment, and a JetStream leader before nats-server 2.11
        // can accept both (nats-io/nats-server#6194: an update checked against what the
        // leader has applied while the other is still in flight). Once both are applied only
        // the later revision is the last: an update at our own revision then fails for the
        // earlier one, which waits, and succeeds for the later one, which sends.
        tokio::time::sleep(self.settle()).await;
        match self
            .kv
            .update(key, self.mark(State::Sending, mark.beat + 2), revision)
            .await
        {
            Ok(revision) => {
                tracing::warn!(key, from = %mark.node, node = %self.node, "a side effect's claim was silent for a lease: taken over");
                self.forget(key);
                Ok(Turn::Mine(self.hold(key, revision)))
            }
            Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                tracing::info!(key, node = %self.node, "a side effect's claim was taken over by another node at the same moment: waiting");
                Ok(Turn::Wait)
            }
            Err(e) => Err(self.failed(key, e)),
        }
    }

    /// How long a take-over waits before confirming its claim: long enough for a racing
    /// take-over's update to be applied (a fifteenth of a lease, 1 s).
    fn settle(&self) -> Duration {
        self.lease / 15
    }

    /// The effect was taken (or refused for good): no node sends it again.
    pub(crate) async fn done(&self, claim: Claim) -> Result<(), EffectsError> {
        claim.renewer.abort();
        self.kv
            .put(&claim.key, self.mark(State::Done, 0))
            .await
            .map(|_| ())
            .map_err(|e| self.failed(&claim.key, e))
    }

    fn hold(&self, key: &str, revision: u64) -> Claim {
        let kv = self.kv.clone();
        let node = self.node.clone();
        let every = self.lease / 3;
        let owned = key.to_string();
        let renewer = tokio::spawn(async move {
            let mut revision = revision;
            let mut beat = 1;
            loop {
                tokio::time::sleep(every).await;
                beat += 1;
                let value = encode(&Mark {
                    state: State::Sending,
                    node: node.clone(),
                    beat,
                });
                match kv.update(&owned, value, revision).await {
                    Ok(next) => revision = next,
                    Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                        tracing::warn!(key = %owned, %node, "a side effect's claim was taken over while this node held it");
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(key = %owned, error = %e, "a side effect's claim could not be renewed; retrying")
                    }
                }
            }
        });
        Claim {
            key: key.to_string(),
            renewer,
        }
    }

    fn mark(&self, state: State, beat: u64) -> bytes::Bytes {
        encode(&Mark {
            state,
            node: self.node.clone(),
            beat,
        })
    }

    fn forget(&self, key: &str) {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }

    fn failed(&self, key: &str, reason: impl std::fmt::Display) -> EffectsError {
        EffectsError::Claim {
            key: key.to_string(),
            reason: reason.to_string(),
        }
    }
}

/// Asks until it is this node's turn or someone else's effect is done; `None` at shutdown. A
/// claim that cannot be read (NATS unreachable) is asked again: nothing is sent unclaimed.
pub(crate) async fn await_turn(
    effects: &Effects,
    key: &str,
    shutdown: &mut crate::shutdown::Shutdown,
) -> Option<Turn> {
    loop {
        match effects.claim(key).await {
            Ok(Turn::Wait) => {}
            Ok(turn) => return Some(turn),
            Err(e) => tracing::warn!(error = %e, "a side effect's claim failed; asking again"),
        }
        tokio::select! {
            () = tokio::time::sleep(effects.poll()) => {}
            () = shutdown.recv() => return None,
        }
    }
}

/// Records a claimed effect done; a failure is logged (the claim then lapses, and another node
/// sends it again with the same idempotency key).
pub(crate) async fn finish(effects: &Effects, claim: Option<Claim>) {
    if let Some(claim) = claim
        && let Err(e) = effects.done(claim).await
    {
        tracing::warn!(error = %e, "a side effect sent could not be marked done; another node may send it again, with the same idempotency key");
    }
}

fn encode(mark: &Mark) -> bytes::Bytes {
    bytes::Bytes::from(serde_json::to_vec(mark).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_nats::NatsServer;

    async fn node(server: &NatsServer, name: &str, lease: Duration) -> Effects {
        let client = server.client().await;
        let jetstream = async_nats::jetstream::new(client);
        crate::cluster::shared::open_effects(&jetstream, name, 1)
            .await
            .unwrap()
            .with_lease(lease)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_node_sends_and_the_others_drop_it() {
        let server = NatsServer::start();
        let a = node(&server, "a", LEASE).await;
        let b = node(&server, "b", LEASE).await;
        let key = Effects::key("webhook", "http://x/hook", "c1:batch-1");
        let Turn::Mine(claim) = a.claim(&key).await.unwrap() else {
            panic!("the first claim is the claimer's")
        };
        assert!(matches!(b.claim(&key).await.unwrap(), Turn::Wait));
        assert!(matches!(b.claim(&key).await.unwrap(), Turn::Wait));
        a.done(claim).await.unwrap();
        assert!(matches!(b.claim(&key).await.unwrap(), Turn::Done));
        assert!(matches!(a.claim(&key).await.unwrap(), Turn::Done));
        // Another batch is a claim of its own.
        let other = Effects::key("webhook", "http://x/hook", "c1:batch-2");
        assert!(matches!(b.claim(&other).await.unwrap(), Turn::Mine(_)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dead_claimers_effect_is_taken_over_after_a_lease() {
        let server = NatsServer::start();
        let lease = Duration::from_millis(600);
        let a = node(&server, "a", lease).await;
        let b = node(&server, "b", lease).await;
        let key = Effects::key("digest", "email:centre:m@x", "<floorwatch-digest.d@x>");
        let Turn::Mine(claim) = a.claim(&key).await.unwrap() else {
            panic!("the first claim is the claimer's")
        };
        // A dies between claim and send: its claim is no longer renewed.
        drop(claim);
        drop(a);
        assert!(matches!(b.claim(&key).await.unwrap(), Turn::Wait));
        let taken = loop {
            match b.claim(&key).await.unwrap() {
                Turn::Mine(claim) => break claim,
                Turn::Wait => tokio::time::sleep(b.poll()).await,
                Turn::Done => panic!("nobody sent it"),
            }
        };
        b.done(taken).await.unwrap();
        let a = node(&server, "a", lease).await;
        assert!(matches!(a.claim(&key).await.unwrap(), Turn::Done));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_live_claim_is_renewed_and_never_taken_over() {
        let server = NatsServer::start();
        let lease = Duration::from_secs(3);
        let a = node(&server, "a", lease).await;
        let b = node(&server, "b", lease).await;
        let key = Effects::key("webhook", "http://x/hook", "c1:batch-9");
        let Turn::Mine(claim) = a.claim(&key).await.unwrap() else {
            panic!("the first claim is the claimer's")
        };
        // Two leases and more of asking: the renewals keep moving the revision, so B waits.
        for _ in 0..12 {
            assert!(matches!(b.claim(&key).await.unwrap(), Turn::Wait));
            tokio::time::sleep(b.poll()).await;
        }
        a.done(claim).await.unwrap();
        assert!(matches!(b.claim(&key).await.unwrap(), Turn::Done));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_node_back_from_a_crash_resumes_its_own_claim() {
        let server = NatsServer::start();
        let a = node(&server, "a", LEASE).await;
        let key = Effects::key("webhook", "http://x/hook", "c1:batch-3");
        let Turn::Mine(claim) = a.claim(&key).await.unwrap() else {
            panic!("the first claim is the claimer's")
        };
        drop(claim);
        drop(a);
        let again = node(&server, "a", LEASE).await;
        assert!(matches!(again.claim(&key).await.unwrap(), Turn::Mine(_)));
    }
}
