//! Replacing a small file whole, so that a crash leaves either the old contents or the new,
//! never a mix: a temporary file beside it (`.NAME.PID.tmp`) is written and synced, renamed
//! over the file, and the directory synced so the rename itself reaches the disk. Used for
//! `accounts.json`, `config-audit.json`, the alert journal's compaction and the floor's
//! checkpoints (written as a stream by [`replace_with`], never whole in memory).

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
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
    replace_with(path, access, |file| file.write_all(contents))
}

/// Replaces `path` with what `write` writes (buffered), as [`replace`] does: for contents
/// produced as a stream (a checkpoint compressed on its way to the disk), so the file's bytes
/// never sit in memory whole.
pub(crate) fn replace_with(
    path: &Path,
    access: Access,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    let tmp = temporary(path);
    let written = write_synced(&tmp, access, write).and_then(|()| std::fs::rename(&tmp, path));
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

fn write_synced(
    tmp: &Path,
    access: Access,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if access == Access::Private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    let mut file = BufWriter::with_capacity(1 << 16, options.open(tmp)?);
    write(&mut file)?;
    let file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
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
    fn a_stream_is_written_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("floor.ckpt");
        replace_with(&path, Access::Private, |file| {
            file.write_all(b"one ")?;
            file.write_all(b"two\n")
        })
        .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"one two\n");
        // A writer that fails half way leaves the old file and no temporary one.
        let failed = replace_with(&path, Access::Private, |file| {
            file.write_all(b"half")?;
            Err(io::Error::other("the compressor failed"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"one two\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
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
