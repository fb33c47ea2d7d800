//! The seam that lets the trail live outside the data dir: in cluster mode (docs/CLUSTER.md,
//! "Shared state") the records go to a JetStream stream every node appends to
//! (`crate::cluster::audit_stream`), chained exactly as `audit.log` is. [`super::AuditTrail`]
//! holds one or the other; everything that audits goes through it unchanged.

use super::trail::AuditError;
use super::{Entry, Record, Verdict, chain};

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

/// `audit verify` over records read in order: the first that breaks the chain, or the count and
/// the head. A stream has no torn tail: a record is stored whole or not at all.
pub(super) fn verify(records: &[Result<Record, String>]) -> Verdict {
    let mut prev: Option<(u64, &str)> = None;
    for (i, record) in records.iter().enumerate() {
        let checked = record
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|r| chain::check(prev, r).map(|()| r));
        match checked {
            Ok(record) => prev = Some((record.seq, record.hash.as_str())),
            Err(reason) => {
                return Verdict::Broken {
                    line: i as u64 + 1,
                    reason,
                };
            }
        }
    }
    let (records, head) = prev.map_or((0, chain::GENESIS.to_string()), |(s, h)| (s, h.to_string()));
    Verdict::Intact { records, head }
}
