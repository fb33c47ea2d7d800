//! The seam that lets the trail live outside the data dir: in cluster mode (docs/CLUSTER.md,
//! "Shared state") the records go to a JetStream stream every node appends to
//! (`crate::cluster::audit_stream`), chained exactly as `audit.log` is. [`super::AuditTrail`]
//! holds one or the other; everything that audits goes through it unchanged.

use super::error::AuditError;
use super::{Entry, Record};

/// A trail kept somewhere every node of a cluster reaches. Synchronous, as the file is: callers
/// are on blocking threads already ([`super::record`]).
pub(crate) trait SharedTrail: Send + Sync + std::fmt::Debug {
    /// Appends `entry` at `now`, chained onto the last record whoever wrote it.
    fn append(&self, entry: Entry, now: jiff::Timestamp) -> Result<Record, AuditError>;
    /// Every record in order, each one or why it cannot be read.
    fn records(&self) -> Result<Vec<Result<Record, String>>, AuditError>;
    /// Where it is, for messages (`audit verify` prints it).
    fn shown(&self) -> String;
}
