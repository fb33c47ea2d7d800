//! Replacing a small file whole, so that a crash leaves either the old contents or the new,
//! never a mix: a temporary file beside it (`.NAME.PID.tmp`) is written and synced, renamed
//! over the file, and the directory synced so the rename itself reaches the disk. Used for
//! `accounts.json`, `config-audit.json` and the alert journal's compaction.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Who may read the file written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Its owner only (mode 0600): accounts and configuration snapshots.
    Private,
    /// The process's umask decides.
    Default,
}

/// Replaces `path` with `contents`. On failure the temporary file is removed and `path` is
/// left as it was (or, if only the directory sync failed, already replaced).
pub(crate) fn replace(path: &Path, contents: &[u8], access: Access) -> io::Result<()> {
    let tmp = temporary(path);
    let written = write_synced(&tmp, contents, access).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

fn temporary(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy());
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

fn write_synced(tmp: &Path, contents: &[u8], access: Access) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if access == Access::Private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    let mut file = options.open(tmp)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_whole_and_no_temporary_file_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("book.json");
        replace(&path, b"old\n", Access::Private).unwrap();
        replace(&path, b"new\n", Access::Private).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["book.json"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_failed_write_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("book.json");
        replace(&path, b"old\n", Access::Default).unwrap();
        // The temporary file's place is taken by a directory: the write fails.
        std::fs::create_dir(temporary(&path)).unwrap();
        assert!(replace(&path, b"new\n", Access::Default).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old\n");
    }
}
