//! The seam that lets the account book live outside the data dir: in cluster mode
//! (docs/CLUSTER.md, "Shared state") the book is one value in a JetStream KV bucket every node
//! reads and writes (`crate::cluster::kv_accounts`), so a supervisor or a screen signed in on
//! one node is known on every other. [`super::Accounts`] holds the file or this; every account
//! operation runs unchanged on either.

use std::sync::Arc;

use super::store::{AccountBook, StoreError};

/// A book kept somewhere every node of a cluster reaches. Synchronous, as the file is: writes
/// come from blocking threads (`spawn_blocking`, the command line).
pub(crate) trait SharedBook: Send + Sync + std::fmt::Debug {
    /// The book as this node last confirmed it with the cluster (at most a short, documented
    /// while ago); an error once it could not be confirmed for too long, so a node cut off
    /// from the cluster stops trusting credentials revoked elsewhere.
    fn current(&self) -> Result<Arc<AccountBook>, StoreError>;
    /// The book read from the cluster now, and its revision, to change it.
    fn fresh(&self) -> Result<(AccountBook, u64), StoreError>;
    /// Writes `book` if the cluster's book is still at `revision`; its new revision, or
    /// [`StoreError::Conflict`] when another node changed it meanwhile.
    fn write(&self, book: &AccountBook, revision: u64) -> Result<u64, StoreError>;
}
