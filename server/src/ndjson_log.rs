//! [`NdjsonLog`]: an append-only NDJSON file, the storage of the alert journal and the webhook
//! outbox (the event journal has frames of its own, `crate::journal`): whole lines appended and synced
//! per the [`FsyncPolicy`], read back in order at start.
//!
//! Invariant: only newline-terminated lines count, and no append leaves part of itself behind.
//! A failed append is cut back to where the file was; a process killed mid-write leaves a torn
//! last line, which is cut off at open and reported. A line that does not parse is damage from
//! outside: skipped and reported by the reader.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use crate::atomic_file::{self, Access};

/// When appended lines are synced to disk (`--fsync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum FsyncPolicy {
    // Before every acknowledgement (group commit: one sync per batch).
    Batch,
    // Left to the OS: survives a crash of the server, not of the machine.
    Never,
}

/// A log file that could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub(crate) struct LogError {
    pub(crate) path: PathBuf,
    pub(crate) source: std::io::Error,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> LogError + '_ {
    move |source| LogError {
        path: path.to_path_buf(),
        source,
    }
}

/// What opening found: the complete lines, with their 1-based numbers, and any damage.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Contents {
    pub(crate) lines: Vec<(u64, String)>,
    /// Bytes of a torn last line cut off.
    pub(crate) torn_tail: Option<u64>,
    /// Lines that are not UTF-8: 1-based line numbers.
    pub(crate) bad_lines: Vec<u64>,
}

/// An NDJSON file open for appending.
pub(crate) struct NdjsonLog {
    path: PathBuf,
    file: File,
    fsync: FsyncPolicy,
    len: u64,
}

impl NdjsonLog {
    /// Opens (creating) `path` and returns its complete lines.
    pub(crate) fn open(path: &Path, fsync: FsyncPolicy) -> Result<(NdjsonLog, Contents), LogError> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let mut report = Contents::default();
        let mut good_len = 0u64;
        if path.exists() {
            let file = File::open(path).map_err(io_err(path))?;
            let mut reader = BufReader::new(file);
            let mut line = Vec::new();
            let mut number = 0u64;
            loop {
                line.clear();
                let n = reader.read_until(b'\n', &mut line).map_err(io_err(path))?;
                if n == 0 {
                    break;
                }
                number += 1;
                if line.last() != Some(&b'\n') {
                    report.torn_tail = Some(n as u64);
                    break;
                }
                good_len += n as u64;
                match std::str::from_utf8(&line[..n - 1]) {
                    Ok(text) if text.trim().is_empty() => {}
                    Ok(text) => report
                        .lines
                        .push((number, text.trim_end_matches('\r').to_string())),
                    Err(_) => report.bad_lines.push(number),
                }
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io_err(path))?;
        if report.torn_tail.is_some() {
            file.set_len(good_len).map_err(io_err(path))?;
            file.sync_all().map_err(io_err(path))?;
        }
        let journal = NdjsonLog {
            path: path.to_path_buf(),
            file,
            fsync,
            len: good_len,
        };
        Ok((journal, report))
    }

    /// Appends whole lines (each ending in `\n`) and syncs per the policy. On failure the file
    /// is cut back to where it was, so no partial line stays behind.
    pub(crate) fn append(&mut self, lines: &[u8]) -> Result<(), LogError> {
        self.append_all(&[lines])
    }

    /// [`NdjsonLog::append`] of several runs of lines, written and synced as one.
    pub(crate) fn append_all(&mut self, parts: &[&[u8]]) -> Result<(), LogError> {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        if total == 0 {
            return Ok(());
        }
        let written = parts
            .iter()
            .try_for_each(|part| self.file.write_all(part))
            .and_then(|()| match self.fsync {
                FsyncPolicy::Batch => self.file.sync_data(),
                FsyncPolicy::Never => Ok(()),
            });
        match written {
            Ok(()) => {
                self.len += total as u64;
                Ok(())
            }
            Err(source) => {
                // Best effort: a half-written append must not become a bad line in the middle.
                let _ = self.file.set_len(self.len);
                Err(LogError {
                    path: self.path.clone(),
                    source,
                })
            }
        }
    }

    /// Replaces the whole file with `contents` atomically (a new file renamed over the old
    /// one), for compaction.
    pub(crate) fn replace(&mut self, contents: &[u8]) -> Result<(), LogError> {
        atomic_file::replace(&self.path, contents, Access::Default).map_err(io_err(&self.path))?;
        self.file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(io_err(&self.path))?;
        self.len = contents.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_back_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.ndjson");
        let (mut file, contents) = NdjsonLog::open(&path, FsyncPolicy::Batch).unwrap();
        assert!(contents.lines.is_empty());
        file.append(b"{\"a\":1}\n{\"a\":2}\n").unwrap();
        drop(file);
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"a\":")
            .unwrap();
        let (mut file, report) = NdjsonLog::open(&path, FsyncPolicy::Batch).unwrap();
        assert_eq!(
            report.lines,
            vec![(1, "{\"a\":1}".to_string()), (2, "{\"a\":2}".to_string())]
        );
        assert_eq!(report.torn_tail, Some(5));
        file.append(b"{\"a\":3}\n").unwrap();
        file.replace(b"{\"a\":9}\n").unwrap();
        file.append(b"{\"a\":10}\n").unwrap();
        drop(file);
        let (_, report) = NdjsonLog::open(&path, FsyncPolicy::Batch).unwrap();
        let texts: Vec<&str> = report.lines.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(texts, ["{\"a\":9}", "{\"a\":10}"]);
        assert!(report.torn_tail.is_none() && report.bad_lines.is_empty());
    }
}
