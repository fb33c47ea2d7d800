//! The `queue-log-file` source: follows an Asterisk queue_log as app_queue appends to it, like
//! `tail -F`, read by `floorwatch_core::queue_log::QueueLogReader` (docs/CTI.md, "Sources").
//!
//! Every `poll_ms` the file is looked at by name:
//!
//! - the same file (device and inode), grown: the new complete lines are read; a last line
//!   without its newline yet waits for it;
//! - the same file, shorter than what was read (truncated in place, `copytruncate`): read again
//!   from its start (a truncated file that has grown back past the old length by the next poll
//!   cannot be told from growth: keep `poll_ms` short against the rotation's write rate);
//! - another file under the name (rotated by rename, `create`), or none: what the old file got
//!   before the rotation is read to its end first, then the new file from its start.
//!
//! `from = "end"` skips what the file holds when the source first opens it (a live floor from
//! now on); `from = "start"` reads it all. Event ids depend only on a line's text, so reading a
//! file again (a restart with `from = "start"`, an import of the same day) counts nothing twice.
//! One reader follows every file under the name, so agents and calls carry across a rotation;
//! line numbers are those of the file being read. A line the reader cannot use is reported with
//! its number and reason and skipped.

use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use floorwatch_core::queue_log::QueueLogReader;
use serde::Deserialize;

use super::context::{SourceContext, record};
use crate::telemetry::EventOutcome;

/// Where reading starts the first time the file is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ReadFrom {
    Start,
    #[default]
    End,
}

/// A queue_log to follow, from a `[[sources]]` table of kind `queue-log-file`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueueLogFileConfig {
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    pub(crate) from: ReadFrom,
    pub(crate) poll: Duration,
}

impl QueueLogFileConfig {
    pub(crate) fn source(&self) -> String {
        format!("queue-log:{}", self.name)
    }
}

/// The longest line kept while waiting for its end; a longer one is reported and skipped (the
/// reader refuses lines over 4 KiB anyway).
const MAX_LINE: usize = 64 * 1024;
/// Most bytes read in one poll: a huge backlog is read in slices, each recorded on its own.
const MAX_READ: usize = 4 << 20;
/// Unusable lines reported at `warn` per file; the rest at `debug`.
const LINE_WARNINGS: u64 = 100;

/// What a poll found, in file order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tailed {
    /// A complete line and its number in the file being read.
    Line { number: u64, text: String },
    /// A line longer than the limit, skipped.
    TooLong { number: u64 },
    /// A file was opened under the name, reading from this line on.
    Opened { from_line: u64 },
    /// The file under the name is another one (renamed away, or removed).
    Rotated,
    /// The file got shorter than what was read: it is read again from its start.
    Truncated,
}

/// Follows one path.
#[derive(Debug)]
pub(crate) struct Tail {
    path: PathBuf,
    from: ReadFrom,
    opened_before: bool,
    open: Option<OpenFile>,
}

#[derive(Debug)]
struct OpenFile {
    file: File,
    id: FileId,
    offset: u64,
    line: u64,
    partial: Vec<u8>,
    /// Inside a line already reported too long, up to its newline.
    discarding: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId(u64, u64);

#[cfg(unix)]
fn file_id(meta: &Metadata) -> FileId {
    use std::os::unix::fs::MetadataExt;
    FileId(meta.dev(), meta.ino())
}

/// Without inodes a rename cannot be told from growth; truncation still is.
#[cfg(not(unix))]
fn file_id(_: &Metadata) -> FileId {
    FileId(0, 0)
}

impl Tail {
    pub(crate) fn new(path: &Path, from: ReadFrom) -> Tail {
        Tail {
            path: path.to_path_buf(),
            from,
            opened_before: false,
            open: None,
        }
    }

    /// What was appended since the last poll; `true` with it when more is waiting (the read
    /// stopped at [`MAX_READ`]).
    pub(crate) fn poll(&mut self) -> io::Result<(Vec<Tailed>, bool)> {
        let mut out = Vec::new();
        let now = match std::fs::metadata(&self.path) {
            Ok(meta) => Some(meta),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if let Some(open) = &mut self.open {
            if now.as_ref().is_some_and(|m| file_id(m) == open.id) {
                if now.as_ref().is_some_and(|m| m.len() < open.offset) {
                    out.push(Tailed::Truncated);
                    open.offset = 0;
                    open.line = 0;
                    open.partial.clear();
                    open.discarding = false;
                }
                let more = open.read_new(&mut out)?;
                return Ok((out, more));
            }
            // Rotated: the old file's last lines first, then the new one.
            let more = open.read_new(&mut out)?;
            if more {
                return Ok((out, true));
            }
            if !open.partial.is_empty() && !open.discarding {
                open.line += 1;
                out.push(Tailed::Line {
                    number: open.line,
                    text: String::from_utf8_lossy(&open.partial).into_owned(),
                });
            }
            self.open = None;
            out.push(Tailed::Rotated);
        }
        if now.is_some() {
            let skip_existing = !self.opened_before && self.from == ReadFrom::End;
            let file = match File::open(&self.path) {
                Ok(file) => file,
                // Gone between the look and the open: next poll.
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((out, false)),
                Err(e) => return Err(e),
            };
            let id = file_id(&file.metadata()?);
            let mut open = OpenFile {
                file,
                id,
                offset: 0,
                line: 0,
                partial: Vec::new(),
                discarding: false,
            };
            if skip_existing {
                open.skip_to_last_line_end()?;
            }
            self.opened_before = true;
            out.push(Tailed::Opened {
                from_line: open.line + 1,
            });
            let more = open.read_new(&mut out)?;
            self.open = Some(open);
            return Ok((out, more));
        }
        Ok((out, false))
    }
}

impl OpenFile {
    /// Positions after the last complete line, counting the lines skipped.
    fn skip_to_last_line_end(&mut self) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(0))?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut read = 0u64;
        loop {
            let n = self.file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            for (i, b) in buf[..n].iter().enumerate() {
                if *b == b'\n' {
                    self.line += 1;
                    self.offset = read + i as u64 + 1;
                }
            }
            read += n as u64;
        }
        Ok(())
    }

    /// Reads from the offset to the end (at most [`MAX_READ`]); complete lines go to `out`.
    fn read_new(&mut self, out: &mut Vec<Tailed>) -> io::Result<bool> {
        self.file.seek(SeekFrom::Start(self.offset))?;
        let mut chunk = vec![0u8; 64 * 1024];
        let mut total = 0usize;
        loop {
            if total >= MAX_READ {
                return Ok(true);
            }
            let n = self.file.read(&mut chunk)?;
            if n == 0 {
                return Ok(false);
            }
            total += n;
            self.offset += n as u64;
            self.take(&chunk[..n], out);
        }
    }

    fn take(&mut self, mut bytes: &[u8], out: &mut Vec<Tailed>) {
        while !bytes.is_empty() {
            let newline = bytes.iter().position(|b| *b == b'\n');
            let (piece, rest, ends) = match newline {
                Some(i) => (&bytes[..i], &bytes[i + 1..], true),
                None => (bytes, &bytes[bytes.len()..], false),
            };
            bytes = rest;
            if !self.discarding {
                self.partial.extend_from_slice(piece);
                if self.partial.len() > MAX_LINE {
                    self.partial.clear();
                    self.discarding = true;
                    out.push(Tailed::TooLong {
                        number: self.line + 1,
                    });
                }
            }
            if ends {
                self.line += 1;
                if !std::mem::take(&mut self.discarding) {
                    let line = std::mem::take(&mut self.partial);
                    let line = line.strip_suffix(b"\r").unwrap_or(&line);
                    out.push(Tailed::Line {
                        number: self.line,
                        text: String::from_utf8_lossy(line).into_owned(),
                    });
                }
            }
        }
    }
}

/// Runs the source until shutdown.
pub(crate) async fn run(config: QueueLogFileConfig, mut context: SourceContext) {
    let source = config.source();
    let mut reader = QueueLogReader::new(&source);
    let mut tail = Some(Tail::new(&config.path, config.from));
    let mut reported = 0u64;
    let mut last_error: Option<String> = None;
    loop {
        let Some(mut polling) = tail.take() else {
            return;
        };
        let polled = tokio::task::spawn_blocking(move || {
            let result = polling.poll();
            (result, polling)
        })
        .await;
        let Ok((result, polling)) = polled else {
            tracing::error!(%source, "the queue_log reader panicked; the source stops");
            return;
        };
        tail = Some(polling);
        let mut more = false;
        match result {
            Err(e) => {
                let message = e.to_string();
                if last_error.as_deref() != Some(message.as_str()) {
                    tracing::warn!(%source, path = %config.path.display(), error = %message, "cannot read the queue_log");
                    last_error = Some(message);
                }
            }
            Ok((items, more_waiting)) => {
                last_error = None;
                more = more_waiting;
                let mut events = Vec::new();
                let mut rejected = 0;
                for item in items {
                    match item {
                        Tailed::Line { number, text } => match reader.read_line(number, &text) {
                            Ok(read) => events.extend(read),
                            Err(e) => {
                                rejected += 1;
                                report_line(
                                    &source,
                                    &config.path,
                                    &mut reported,
                                    number,
                                    &e.reason.to_string(),
                                );
                            }
                        },
                        Tailed::TooLong { number } => {
                            rejected += 1;
                            let reason = format!("longer than {MAX_LINE} bytes");
                            report_line(&source, &config.path, &mut reported, number, &reason);
                        }
                        Tailed::Opened { from_line } => {
                            reported = 0;
                            tracing::info!(%source, path = %config.path.display(), from_line, "following the queue_log");
                        }
                        Tailed::Rotated => {
                            tracing::info!(%source, path = %config.path.display(), "the queue_log was rotated; the old file was read to its end");
                        }
                        Tailed::Truncated => {
                            tracing::warn!(%source, path = %config.path.display(), "the queue_log was truncated; reading it again from its start");
                        }
                    }
                }
                context
                    .telemetry
                    .count_events(&source, EventOutcome::Rejected, rejected);
                if !record(&mut context, &source, events).await {
                    return;
                }
            }
        }
        if more {
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep(config.poll) => {}
            () = context.shutdown.recv() => return,
        }
    }
}

fn report_line(source: &str, path: &Path, reported: &mut u64, line: u64, reason: &str) {
    *reported += 1;
    if *reported <= LINE_WARNINGS {
        tracing::warn!(%source, path = %path.display(), line, %reason, "unusable queue_log line skipped");
    } else {
        tracing::debug!(%source, path = %path.display(), line, %reason, "unusable queue_log line skipped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn lines(items: &[Tailed]) -> Vec<(u64, String)> {
        items
            .iter()
            .filter_map(|t| match t {
                Tailed::Line { number, text } => Some((*number, text.clone())),
                _ => None,
            })
            .collect()
    }

    fn append(path: &Path, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    #[test]
    fn follows_growth_waits_for_whole_lines_and_survives_rename_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue_log");
        let mut tail = Tail::new(&path, ReadFrom::Start);
        assert_eq!(tail.poll().unwrap(), (vec![], false), "no file yet");
        append(&path, "a\nb\r\nc");
        let (items, more) = tail.poll().unwrap();
        assert!(!more);
        assert_eq!(items[0], Tailed::Opened { from_line: 1 });
        assert_eq!(lines(&items), [(1, "a".into()), (2, "b".into())]);
        append(&path, "c\nd\n");
        assert_eq!(
            lines(&tail.poll().unwrap().0),
            [(3, "cc".into()), (4, "d".into())]
        );
        // logrotate: the last lines land in the old file, then it is renamed away.
        append(&path, "e\n");
        std::fs::rename(&path, dir.path().join("queue_log.1")).unwrap();
        append(&path, "f\nf2\nf3\n");
        let (items, _) = tail.poll().unwrap();
        assert_eq!(
            lines(&items),
            [
                (5, "e".into()),
                (1, "f".into()),
                (2, "f2".into()),
                (3, "f3".into())
            ]
        );
        assert!(items.contains(&Tailed::Rotated));
        // copytruncate: the same file, emptied, then written again (less than before).
        std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        append(&path, "g\n");
        let (items, _) = tail.poll().unwrap();
        assert_eq!(items[0], Tailed::Truncated);
        assert_eq!(lines(&items), [(1, "g".into())]);
    }

    #[test]
    fn from_the_end_skips_what_is_there_and_counts_its_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue_log");
        append(&path, "old1\nold2\npart");
        let mut tail = Tail::new(&path, ReadFrom::End);
        let (items, _) = tail.poll().unwrap();
        assert_eq!(items, [Tailed::Opened { from_line: 3 }]);
        append(&path, "ial\nnew\n");
        assert_eq!(
            lines(&tail.poll().unwrap().0),
            [(3, "partial".into()), (4, "new".into())]
        );
        // A rotated file is read from its start whatever `from` says.
        std::fs::remove_file(&path).unwrap();
        append(&path, "next\n");
        assert_eq!(lines(&tail.poll().unwrap().0), [(1, "next".into())]);
    }

    #[test]
    fn an_endless_line_is_reported_once_and_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue_log");
        append(&path, "ok\n");
        append(&path, &"x".repeat(MAX_LINE + 10));
        let mut tail = Tail::new(&path, ReadFrom::Start);
        let (items, _) = tail.poll().unwrap();
        assert!(items.contains(&Tailed::TooLong { number: 2 }), "{items:?}");
        append(&path, &"x".repeat(1000));
        append(&path, "\nafter\n");
        let (items, _) = tail.poll().unwrap();
        assert_eq!(lines(&items), [(3, "after".into())]);
        assert!(!items.iter().any(|t| matches!(t, Tailed::TooLong { .. })));
    }
}
