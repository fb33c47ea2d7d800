//! [`Accounts`]: the one door to `accounts.json`. Reads come from a cache re-read only when the
//! file changed on disk; every change goes through [`Accounts::change`], which writes the file
//! and its audit record together (no record, no change: the file is put back).
//!
//! In cluster mode the door opens on the cluster's book instead ([`SharedBook`]): the same
//! reads and changes, the lock on the file replaced by a write at the revision read (a change
//! that raced another node's is refused, never merged blindly).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::store::{self, AccountBook, StoreError};
use super::{AccountsError, SharedBook};
use crate::audit::{AuditTrail, Entry};

/// The accounts of one data dir. Share one behind an `Arc`: it caches the file and re-reads it
/// only when it changed on disk.
#[derive(Debug)]
pub(crate) struct Accounts {
    data_dir: PathBuf,
    path: PathBuf,
    audit: AuditTrail,
    cache: Mutex<Option<Cached>>,
    /// The cluster's book, in cluster mode; `None`: `accounts.json`.
    shared: Option<Arc<dyn SharedBook>>,
}

#[derive(Debug)]
struct Cached {
    stamp: Stamp,
    book: Arc<AccountBook>,
}

/// What tells a changed file apart: a rename gives it a new inode; size and mtime catch the
/// rest.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

impl Accounts {
    /// The accounts in `data_dir` (`accounts.json`) and its audit trail. Reads nothing yet.
    pub(crate) fn open(data_dir: &Path) -> Accounts {
        Accounts {
            data_dir: data_dir.to_path_buf(),
            path: data_dir.join(store::ACCOUNTS_FILE),
            audit: AuditTrail::open(data_dir),
            cache: Mutex::new(None),
            shared: None,
        }
    }

    /// The cluster's accounts (`book`) and audit trail (`audit`), for a node of `data_dir`.
    pub(crate) fn shared(
        data_dir: &Path,
        book: Arc<dyn SharedBook>,
        audit: AuditTrail,
    ) -> Accounts {
        Accounts {
            data_dir: data_dir.to_path_buf(),
            path: data_dir.join(store::ACCOUNTS_FILE),
            audit,
            cache: Mutex::new(None),
            shared: Some(book),
        }
    }

    /// The audit trail changes are written to (the same data dir).
    pub(crate) fn audit(&self) -> &AuditTrail {
        &self.audit
    }

    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The book as on disk now, from the cache when the file did not change.
    pub(super) fn book(&self) -> Result<Arc<AccountBook>, AccountsError> {
        if let Some(shared) = &self.shared {
            return Ok(shared.current()?);
        }
        let stamp = stamp(&self.path).map_err(|source| StoreError::Io {
            path: self.path.clone(),
            source,
        })?;
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let (Some(cached), Some(stamp)) = (cache.as_ref(), stamp.as_ref())
            && cached.stamp == *stamp
        {
            return Ok(cached.book.clone());
        }
        let book = Arc::new(store::load(&self.path)?);
        *cache = stamp.map(|stamp| Cached {
            stamp,
            book: book.clone(),
        });
        Ok(book)
    }

    /// Whether no user exists yet (the server's first start creates the demo accounts).
    pub(crate) fn is_empty(&self) -> Result<bool, AccountsError> {
        Ok(self.book()?.users.is_empty())
    }

    /// Reads the book under the writers' lock, applies `edit`, writes the result and its audit
    /// record. If the audit record cannot be written, the previous book is put back: a change
    /// is kept only together with its record.
    pub(super) fn change<T>(
        &self,
        now: jiff::Timestamp,
        edit: impl FnOnce(&mut AccountBook) -> Result<(T, Entry), AccountsError>,
    ) -> Result<T, AccountsError> {
        self.change_as(Audited::Required, now, edit)
    }

    pub(super) fn change_as<T>(
        &self,
        audited: Audited,
        now: jiff::Timestamp,
        edit: impl FnOnce(&mut AccountBook) -> Result<(T, Entry), AccountsError>,
    ) -> Result<T, AccountsError> {
        let _lock = match &self.shared {
            Some(_) => None,
            None => Some(store::lock(&self.data_dir)?),
        };
        let (before, revision) = match &self.shared {
            Some(shared) => shared.fresh()?,
            None => (store::load(&self.path)?, 0),
        };
        let mut after = before.clone();
        let (out, entry) = edit(&mut after)?;
        after.format = store::format_for(&after);
        let written = match &self.shared {
            Some(shared) => shared.write(&after, revision)?,
            None => {
                store::save(&self.path, &after)?;
                0
            }
        };
        if audited == Audited::LockOut {
            // Locking someone out never waits for a healthy trail: the record is queued
            // durably when the trail cannot take it, and goes in first once it can.
            return match self.audit.append_or_queue(entry, now) {
                Ok(crate::audit::Written::Trail(_)) => Ok(out),
                Ok(crate::audit::Written::Queued(why)) => {
                    tracing::warn!(reason = %why, "audit trail not writable: the lock-out is done and its record queued");
                    Ok(out)
                }
                Err(audit) => {
                    tracing::error!(error = %audit, "neither the audit trail nor its queue could be written; the lock-out is done all the same");
                    Ok(out)
                }
            };
        }
        if let Err(audit) = self.audit.append(entry, now) {
            let restored = match &self.shared {
                Some(shared) => shared.write(&before, written).map(|_| ()),
                None => store::save(&self.path, &before),
            };
            return match restored {
                Ok(()) => Err(AccountsError::Audit(audit)),
                Err(restore) => Err(AccountsError::Unrestored { audit, restore }),
            };
        }
        Ok(out)
    }
}

/// How a change must be recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Audited {
    /// In the trail, or the change is undone.
    Required,
    /// A lock-out (disabling a user, revoking a token or a device): in the trail, else queued
    /// beside it, else logged; the change stands in every case.
    LockOut,
}

fn stamp(path: &Path) -> std::io::Result<Option<Stamp>> {
    match std::fs::metadata(path) {
        Ok(meta) => {
            #[cfg(unix)]
            let inode = std::os::unix::fs::MetadataExt::ino(&meta);
            #[cfg(not(unix))]
            let inode = 0;
            Ok(Some(Stamp {
                len: meta.len(),
                modified: meta.modified().ok(),
                inode,
            }))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}
