//! The trail's file: appending under a lock, reading, verifying, filtering.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::AuditError;
use super::{Action, Entry, Record, SharedTrail, chain};

/// The file of the trail inside the data dir.
pub(crate) const AUDIT_FILE: &str = "audit.log";

/// Where a record went ([`AuditTrail::append_or_queue`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Written {
    /// Into the trail.
    Trail(Record),
    /// Into the queue beside it, because the trail could not be appended to (why): it goes
    /// into the trail, first, with the next record that can be.
    Queued(String),
}

/// What `audit repair` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Repair {
    /// Bytes of a torn last line cut off (0: the trail was not torn).
    pub(crate) cut_bytes: u64,
    /// The `audit_repair` record written (with the queued records before it).
    pub(crate) record: Record,
}

/// Records that could not be appended when an account change had to happen anyway (a
/// lock-out), one JSON `{"time", "entry"}` per line, in the data dir beside the trail.
pub(crate) const PENDING_FILE: &str = "audit-pending.ndjson";

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Pending {
    time: jiff::Timestamp,
    entry: Entry,
}

/// The audit trail of one data dir. Cheap to clone; opens the file for each operation, so the
/// server and the command line can share it. In cluster mode the records go to the cluster's
/// trail instead ([`SharedTrail`]); the queue of records that had to wait stays in the data dir.
#[derive(Debug, Clone)]
pub(crate) struct AuditTrail {
    path: PathBuf,
    shared: Option<Arc<dyn SharedTrail>>,
}

/// One line of the file as read: its number (from 1) and the record, or why it is not one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Line {
    pub(crate) number: u64,
    pub(crate) record: Result<Record, String>,
}

/// What `audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Every record follows the one before it. `head` is the last record's hash (the
    /// genesis for an empty trail): note it to detect a cut-off tail later.
    Intact { records: u64, head: String },
    /// Intact but for an incomplete last line of `bytes`: what a crash mid-write leaves (it was
    /// never acknowledged). `floorwatch audit repair` cuts it off, and records that it did.
    TornTail {
        records: u64,
        head: String,
        bytes: u64,
    },
    /// The first line that breaks the chain, and why. Records before it are intact.
    Broken { line: u64, reason: String },
}

/// Which records `audit list` and the security officer's page show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Filter {
    pub(crate) actor: Option<String>,
    pub(crate) action: Option<Action>,
    /// Records at or after this time.
    pub(crate) since: Option<jiff::Timestamp>,
}

impl Filter {
    pub(crate) fn matches(&self, record: &Record) -> bool {
        self.actor.as_ref().is_none_or(|a| *a == record.actor)
            && self.action.is_none_or(|a| a == record.action)
            && self
                .since
                .is_none_or(|since| record.timestamp().is_some_and(|t| t >= since))
    }
}

impl AuditTrail {
    /// The trail of `data_dir` (`audit.log` in it); nothing is opened yet.
    pub(crate) fn open(data_dir: &Path) -> AuditTrail {
        AuditTrail {
            path: data_dir.join(AUDIT_FILE),
            shared: None,
        }
    }

    /// The cluster's trail `shared`; records that must wait are queued in `data_dir`.
    pub(crate) fn shared(data_dir: &Path, shared: Arc<dyn SharedTrail>) -> AuditTrail {
        AuditTrail {
            path: data_dir.join(AUDIT_FILE),
            shared: Some(shared),
        }
    }

    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Where the records are, for messages: the file, or the cluster's stream.
    pub(crate) fn shown(&self) -> String {
        match &self.shared {
            Some(shared) => shared.shown(),
            None => self.path.display().to_string(),
        }
    }

    /// Appends `entry` at `now`, chained to the last record, and syncs it to disk before
    /// returning; records queued earlier ([`Self::append_or_queue`]) go in first, in order.
    /// Holds an exclusive lock on the file meanwhile, so concurrent writers (the server's
    /// tasks, a command line) each chain onto the record before theirs. A write that fails
    /// (a full disk) is cut back: the trail never keeps half a record of its own making.
    pub(crate) fn append(&self, entry: Entry, now: jiff::Timestamp) -> Result<Record, AuditError> {
        if let Some(shared) = &self.shared {
            return self.append_shared(shared.as_ref(), entry, now);
        }
        let mut file = self.open_locked()?;
        self.append_locked(&mut file, entry, now)
    }

    /// [`Self::append`], or, when the trail cannot take it (torn, damaged, disk full), the
    /// entry queued durably beside it, to go in first when the trail can be appended to
    /// again. For the changes that lock someone out (disabling a user, revoking a token): they
    /// must never wait for a healthy trail. Fails only when neither can be written.
    pub(crate) fn append_or_queue(
        &self,
        entry: Entry,
        now: jiff::Timestamp,
    ) -> Result<Written, AuditError> {
        match self.append(entry.clone(), now) {
            Ok(record) => Ok(Written::Trail(record)),
            Err(refused) => {
                self.queue(&Pending { time: now, entry })?;
                Ok(Written::Queued(refused.to_string()))
            }
        }
    }

    /// Cuts off a torn last line (a crash mid-write: never acknowledged), then appends an
    /// `audit_repair` record by `actor` saying how many bytes went, after any queued records.
    /// A damaged last line that is complete is not a crash's doing and is left alone.
    pub(crate) fn repair(&self, actor: &str, now: jiff::Timestamp) -> Result<Repair, AuditError> {
        if let Some(shared) = &self.shared {
            // A stream stores a record whole or not at all: there is never a tail to cut.
            let entry = Entry::new(actor, Action::AuditRepair, "audit:trail", "cut_bytes=0");
            let record = self.append_shared(shared.as_ref(), entry, now)?;
            return Ok(Repair {
                cut_bytes: 0,
                record,
            });
        }
        let mut file = self.open_locked()?;
        let len = file.metadata().map_err(self.io_err())?.len();
        let cut_bytes = match last_line(&mut file).map_err(self.io_err())? {
            Tail::Torn => {
                let keep = complete_length(&mut file, len).map_err(self.io_err())?;
                file.set_len(keep).map_err(self.io_err())?;
                file.sync_data().map_err(self.io_err())?;
                len - keep
            }
            Tail::Line(bytes) => {
                if let Err(e) = serde_json::from_slice::<Record>(&bytes) {
                    return Err(AuditError::NotTorn {
                        path: self.path.clone(),
                        reason: e.to_string(),
                    });
                }
                0
            }
            Tail::Empty => 0,
        };
        let entry = Entry::new(
            actor,
            Action::AuditRepair,
            "audit:trail",
            format!("cut_bytes={cut_bytes}"),
        );
        let record = self.append_locked(&mut file, entry, now)?;
        Ok(Repair { cut_bytes, record })
    }

    /// Records queued and not yet in the trail.
    pub(crate) fn pending(&self) -> Result<u64, AuditError> {
        match std::fs::read_to_string(self.pending_path()) {
            Ok(text) => Ok(text.lines().filter(|l| !l.trim().is_empty()).count() as u64),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(source) => Err(AuditError::Io {
                path: self.pending_path(),
                source,
            }),
        }
    }

    fn io_err(&self) -> impl Fn(io::Error) -> AuditError + '_ {
        |source| AuditError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// [`Self::append`] to the cluster's trail: queued records first, in order.
    fn append_shared(
        &self,
        shared: &dyn SharedTrail,
        entry: Entry,
        now: jiff::Timestamp,
    ) -> Result<Record, AuditError> {
        let queued = self.read_pending()?;
        for pending in &queued {
            shared.append(pending.entry.clone(), pending.time)?;
        }
        if !queued.is_empty() {
            let _ = std::fs::remove_file(self.pending_path());
        }
        shared.append(entry, now)
    }

    fn pending_path(&self) -> PathBuf {
        self.path.with_file_name(PENDING_FILE)
    }

    /// The trail, opened for appending and locked exclusively (until the file is dropped).
    fn open_locked(&self) -> Result<File, AuditError> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(self.io_err())?;
        }
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&self.path).map_err(self.io_err())?;
        file.lock().map_err(self.io_err())?;
        Ok(file)
    }

    fn append_locked(
        &self,
        file: &mut File,
        entry: Entry,
        now: jiff::Timestamp,
    ) -> Result<Record, AuditError> {
        let mut last = match last_line(file).map_err(self.io_err())? {
            Tail::Empty => None,
            Tail::Torn => {
                return Err(AuditError::TornTail {
                    path: self.path.clone(),
                });
            }
            Tail::Line(bytes) => Some(serde_json::from_slice::<Record>(&bytes).map_err(|e| {
                AuditError::DamagedTail {
                    path: self.path.clone(),
                    reason: e.to_string(),
                }
            })?),
        };
        let len = file.seek(SeekFrom::End(0)).map_err(self.io_err())?;
        let queued = self.read_pending()?;
        let mut lines = Vec::new();
        for pending in queued.iter().chain([&Pending { time: now, entry }]) {
            let record = chain::seal(
                last.as_ref().map(|r| (r.seq, r.hash.as_str())),
                pending.time,
                pending.entry.clone(),
            );
            lines.extend(serde_json::to_vec(&record).unwrap_or_default());
            lines.push(b'\n');
            last = Some(record);
        }
        // One write of whole lines: readers never see half a record unless the machine stops
        // mid-write; a failed write is cut back at once.
        let written = file.write_all(&lines).and_then(|()| file.sync_data());
        if let Err(source) = written {
            let _ = file.set_len(len).and_then(|()| file.sync_data());
            return Err(AuditError::Io {
                path: self.path.clone(),
                source,
            });
        }
        if !queued.is_empty() {
            // They are in the trail now; a crash before this line only writes them twice,
            // each copy chained and visible to the officer, never loses one.
            let _ = std::fs::remove_file(self.pending_path());
        }
        last.ok_or_else(|| AuditError::DamagedTail {
            path: self.path.clone(),
            reason: "no record was written".into(),
        })
    }

    fn read_pending(&self) -> Result<Vec<Pending>, AuditError> {
        let text = match std::fs::read_to_string(self.pending_path()) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(AuditError::Io {
                    path: self.pending_path(),
                    source,
                });
            }
        };
        // A torn last line (the queue write failed half-way) is dropped: it was never
        // reported as queued.
        Ok(text
            .split_inclusive('\n')
            .filter(|l| l.ends_with('\n'))
            .filter_map(|l| serde_json::from_str(l.trim_end()).ok())
            .collect())
    }

    fn queue(&self, pending: &Pending) -> Result<(), AuditError> {
        let path = self.pending_path();
        let io_err = |source| AuditError::Io {
            path: path.clone(),
            source,
        };
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(io_err)?;
        file.lock().map_err(io_err)?;
        let len = file.metadata().map_err(io_err)?.len();
        let mut line = serde_json::to_vec(pending).unwrap_or_default();
        line.push(b'\n');
        if let Err(e) = file.write_all(&line).and_then(|()| file.sync_data()) {
            let _ = file.set_len(len);
            return Err(io_err(e));
        }
        Ok(())
    }

    /// Every line of the trail, in order. A missing file is an empty trail.
    pub(crate) fn lines(&self) -> Result<Vec<Line>, AuditError> {
        if let Some(shared) = &self.shared {
            return Ok(shared
                .records()?
                .into_iter()
                .zip(1..)
                .map(|(record, number)| Line { number, record })
                .collect());
        }
        let mut out = Vec::new();
        self.for_each_line(|number, bytes, complete| {
            let record = if complete {
                serde_json::from_slice::<Record>(bytes)
                    .map_err(|e| format!("not an audit record: {e}"))
            } else {
                Err("the line is incomplete (no newline at its end)".into())
            };
            out.push(Line { number, record });
            true
        })?;
        Ok(out)
    }

    #[cfg(test)]
    /// The records matching `filter`, in order; damaged lines are left out (`verify` names
    /// them).
    pub(crate) fn records(&self, filter: &Filter) -> Result<Vec<Record>, AuditError> {
        Ok(self
            .lines()?
            .into_iter()
            .filter_map(|line| line.record.ok())
            .filter(|r| filter.matches(r))
            .collect())
    }

    /// Checks the whole chain and names the first line that breaks it.
    pub(crate) fn verify(&self) -> Result<Verdict, AuditError> {
        if let Some(shared) = &self.shared {
            return Ok(verify_records(&shared.records()?));
        }
        let mut prev: Option<(u64, String)> = None;
        let mut broken = None;
        // Only the last line can lack its newline: a torn tail, not tampering.
        let mut torn = None;
        self.for_each_line(|number, bytes, complete| {
            let outcome = if complete {
                serde_json::from_slice::<Record>(bytes)
                    .map_err(|e| format!("not an audit record: {e}"))
                    .and_then(|record| {
                        chain::check(prev.as_ref().map(|(s, h)| (*s, h.as_str())), &record)
                            .map(|()| record)
                    })
            } else {
                torn = Some(bytes.len() as u64);
                return false;
            };
            match outcome {
                Ok(record) => {
                    prev = Some((record.seq, record.hash));
                    true
                }
                Err(reason) => {
                    broken = Some(Verdict::Broken {
                        line: number,
                        reason,
                    });
                    false
                }
            }
        })?;
        let (records, head) = prev.unwrap_or_else(|| (0, chain::GENESIS.into()));
        Ok(broken.unwrap_or(match torn {
            Some(bytes) => Verdict::TornTail {
                records,
                head,
                bytes,
            },
            None => Verdict::Intact { records, head },
        }))
    }

    /// Calls `each(number, bytes, ends_with_newline)` for every line until it returns false.
    fn for_each_line(
        &self,
        mut each: impl FnMut(u64, &[u8], bool) -> bool,
    ) -> Result<(), AuditError> {
        let io_err = |source| AuditError::Io {
            path: self.path.clone(),
            source,
        };
        let file = match File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_err(e)),
        };
        let mut reader = BufReader::new(file);
        let mut buf = Vec::new();
        let mut number = 0;
        loop {
            buf.clear();
            let n = reader.read_until(b'\n', &mut buf).map_err(io_err)?;
            if n == 0 {
                return Ok(());
            }
            number += 1;
            let complete = buf.last() == Some(&b'\n');
            let bytes = if complete {
                &buf[..buf.len() - 1]
            } else {
                &buf[..]
            };
            if !each(number, bytes, complete) {
                return Ok(());
            }
        }
    }
}

/// `audit verify` over records read in order: the first that breaks the chain, or the count and
/// the head. A stream has no torn tail: a record is stored whole or not at all.
fn verify_records(records: &[Result<Record, String>]) -> Verdict {
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

enum Tail {
    Empty,
    /// The file does not end with a newline.
    Torn,
    /// The last line, without its newline.
    Line(Vec<u8>),
}

/// The length of the file up to and including its last newline (0 if it has none).
fn complete_length(file: &mut File, len: u64) -> io::Result<u64> {
    const BLOCK: u64 = 4096;
    let mut end = len;
    while end > 0 {
        let from = end.saturating_sub(BLOCK);
        let mut block = vec![0u8; (end - from) as usize];
        file.seek(SeekFrom::Start(from))?;
        file.read_exact(&mut block)?;
        if let Some(at) = block.iter().rposition(|&b| b == b'\n') {
            return Ok(from + at as u64 + 1);
        }
        end = from;
    }
    Ok(0)
}

/// The last line of the file, read backwards from the end in blocks (records are short, the
/// trail long).
fn last_line(file: &mut File) -> io::Result<Tail> {
    const BLOCK: u64 = 4096;
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(Tail::Empty);
    }
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1))?;
    file.read_exact(&mut last)?;
    if last[0] != b'\n' {
        return Ok(Tail::Torn);
    }
    let end = len - 1;
    let mut start = end;
    let mut line: Vec<u8> = Vec::new();
    while start > 0 {
        let from = start.saturating_sub(BLOCK);
        let mut block = vec![0u8; (start - from) as usize];
        file.seek(SeekFrom::Start(from))?;
        file.read_exact(&mut block)?;
        if let Some(at) = block.iter().rposition(|&b| b == b'\n') {
            block.drain(..=at);
            block.extend_from_slice(&line);
            return Ok(Tail::Line(block));
        }
        block.extend_from_slice(&line);
        line = block;
        start = from;
    }
    Ok(Tail::Line(line))
}

#[cfg(test)]
mod tests;
