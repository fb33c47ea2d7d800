//! The cluster's account book (docs/CLUSTER.md, "Shared state"): the users, API tokens and
//! paired screens of `accounts.json`, as one JSON value under the key `book` of the KV bucket
//! `floorwatch_accounts`. One value, not one key per account, because a change often spans
//! several (disabling a user revokes nothing else but a name must stay unique across users and
//! devices) and a write at the revision read makes the whole change atomic; the book is small
//! (a few hundred accounts, well under the bucket's 1 MiB a value) and changes rarely.
//!
//! Reads are served from this node's copy, confirmed with the cluster every [`CONFIRM_EVERY`]
//! (read-through with a short cache rather than a watch: the bound on revocation is then one
//! number that holds whatever the connection did). A change made on any node is therefore seen
//! by every node within [`CONFIRM_EVERY`], at once on the node that made it. A node that could
//! not confirm its copy for [`STALE_AFTER`] (cut off from NATS) refuses to authenticate anyone
//! (503) rather than trust a copy that may miss a revocation.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, kv};

use crate::accounts::SharedBook;
use crate::accounts::store::{self, AccountBook, StoreError};

/// The bucket.
pub(crate) const ACCOUNTS_BUCKET: &str = "floorwatch_accounts";
/// The key of the book.
const KEY: &str = "book";
/// How often a node confirms its copy of the book: the longest a change made on one node
/// takes to be seen on another (a sign-out, a revoked token or screen, a disabled user).
pub(crate) const CONFIRM_EVERY: Duration = Duration::from_secs(1);
/// How long a copy not confirmed is trusted at all.
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(10);

/// The book of the cluster, as one node keeps it.
#[derive(Debug)]
pub(crate) struct KvBook {
    kv: kv::Store,
    handle: tokio::runtime::Handle,
    copy: Mutex<Copy>,
}

#[derive(Debug, Clone)]
struct Copy {
    book: Arc<AccountBook>,
    revision: u64,
    confirmed: Instant,
}

impl KvBook {
    /// Opens (or creates) the bucket and reads the book; call [`KvBook::keep_confirmed`] to
    /// keep the copy current.
    pub(crate) async fn open(
        jetstream: &jetstream::Context,
        replicas: usize,
    ) -> Result<Arc<KvBook>, String> {
        let kv =
            super::nats::bucket(jetstream, ACCOUNTS_BUCKET, replicas, Duration::ZERO, 5).await?;
        let (book, revision) = read(&kv).await.map_err(|e| e.to_string())?;
        Ok(Arc::new(KvBook {
            kv,
            handle: tokio::runtime::Handle::current(),
            copy: Mutex::new(Copy {
                book: Arc::new(book),
                revision,
                confirmed: Instant::now(),
            }),
        }))
    }

    /// Confirms the copy every [`CONFIRM_EVERY`] until `shutdown`.
    pub(crate) async fn keep_confirmed(self: Arc<KvBook>, mut shutdown: crate::shutdown::Shutdown) {
        let mut interval = tokio::time::interval(CONFIRM_EVERY);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                () = shutdown.recv() => return,
            }
            if let Err(e) = self.confirm().await {
                tracing::warn!(error = %e, "the cluster's accounts could not be read; keeping the copy for now");
            }
        }
    }

    /// Reads the book's revision (and the book when it moved) and marks the copy confirmed.
    pub(crate) async fn confirm(&self) -> Result<(), StoreError> {
        let (book, revision) = read(&self.kv).await?;
        self.keep(book, revision);
        Ok(())
    }

    fn keep(&self, book: AccountBook, revision: u64) {
        let mut copy = self.copy.lock().unwrap_or_else(|p| p.into_inner());
        if revision >= copy.revision {
            *copy = Copy {
                book: Arc::new(book),
                revision,
                confirmed: Instant::now(),
            };
        }
    }
}

impl SharedBook for KvBook {
    fn current(&self) -> Result<Arc<AccountBook>, StoreError> {
        let copy = self.copy.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if copy.confirmed.elapsed() > STALE_AFTER {
            return Err(shared(format!(
                "not confirmed with the cluster for {} s: refusing to trust a copy that may miss a revocation",
                copy.confirmed.elapsed().as_secs()
            )));
        }
        Ok(copy.book)
    }

    fn fresh(&self) -> Result<(AccountBook, u64), StoreError> {
        super::nats::wait(&self.handle, read(&self.kv))
    }

    fn write(&self, book: &AccountBook, revision: u64) -> Result<u64, StoreError> {
        let value = serde_json::to_vec(book).map_err(|e| shared(e.to_string()))?;
        let written = super::nats::wait(&self.handle, async {
            if revision == 0 {
                self.kv.create(KEY, value.into()).await.map_err(|e| {
                    if e.kind() == kv::CreateErrorKind::AlreadyExists {
                        StoreError::Conflict
                    } else {
                        shared(e.to_string())
                    }
                })
            } else {
                self.kv
                    .update(KEY, value.into(), revision)
                    .await
                    .map_err(|e| {
                        if e.kind() == kv::UpdateErrorKind::WrongLastRevision {
                            StoreError::Conflict
                        } else {
                            shared(e.to_string())
                        }
                    })
            }
        })?;
        // Read-your-writes on this node at once; the others within a confirmation.
        self.keep(book.clone(), written);
        Ok(written)
    }
}

/// The book in the bucket and its revision (an empty book at revision 0 before the first).
async fn read(kv: &kv::Store) -> Result<(AccountBook, u64), StoreError> {
    let entry = kv.entry(KEY).await.map_err(|e| shared(e.to_string()))?;
    let Some(entry) = entry.filter(|e| e.operation == kv::Operation::Put) else {
        return Ok((
            AccountBook {
                format: store::FORMAT,
                ..AccountBook::default()
            },
            0,
        ));
    };
    let book: AccountBook = serde_json::from_slice(&entry.value)
        .map_err(|e| shared(format!("the book is damaged: {e}")))?;
    if book.format > store::FORMAT {
        return Err(shared(format!(
            "the book has format {}, newer than this floorwatch reads ({})",
            book.format,
            store::FORMAT
        )));
    }
    Ok((book, entry.revision))
}

fn shared(reason: String) -> StoreError {
    StoreError::Shared {
        bucket: ACCOUNTS_BUCKET.to_string(),
        reason,
    }
}
