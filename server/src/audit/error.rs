//! Why the trail could not be appended to or read.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub(crate) enum AuditError {
    #[error("audit trail {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "audit trail {path}: the last line is incomplete (the machine stopped mid-write?); \
         nothing more is appended until it is looked at: run `floorwatch audit verify`"
    )]
    TornTail { path: PathBuf },
    #[error(
        "audit trail {path}: the last record cannot be read ({reason}); nothing more is \
         appended until it is looked at: run `floorwatch audit verify`"
    )]
    DamagedTail { path: PathBuf, reason: String },
    #[error(
        "audit trail {path}: the last record is not a torn line but a damaged one ({reason}); \
         that is not a crash: nothing was cut, see `floorwatch audit verify`"
    )]
    NotTorn { path: PathBuf, reason: String },
    #[error("audit trail {trail} (the cluster's): {reason}")]
    Shared { trail: String, reason: String },
}
