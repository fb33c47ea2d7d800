//! Why the store could not be read or written ([`StoreError`]), and the adapter that names the
//! file on a SQLite error.

use std::path::{Path, PathBuf};

use floorwatch_core::Millis;

/// Why the store could not be read or written. Names the file: an operator acts on it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    #[error("history store {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("history store {path}: row {scope} at {start_ms}: damaged histogram: {reason}")]
    Histogram {
        path: PathBuf,
        scope: String,
        start_ms: Millis,
        reason: String,
    },
    /// A write asked of a store opened read-only (a programming error, named rather than
    /// panicking on a request path).
    #[error("history store {path}: opened read-only, cannot write")]
    ReadOnly { path: PathBuf },
}

/// Wraps a SQLite error of the store at `path`.
pub(super) fn sqlite(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}
