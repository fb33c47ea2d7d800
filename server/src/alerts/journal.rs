//! The alert journal: every `AlertChange` the book made (raised, level changed, escalated,
//! acknowledged, cleared), one NDJSON line each, appended and synced before the change is
//! pushed to a wallboard or queued for a webhook (docs/ALERTS.md, "Changes and the journal").
//!
//! `DATA_DIR/alerts/changes.ndjson`, never rotated: alerts are never deleted, and a busy floor
//! makes a few hundred changes a day. At start the whole file rebuilds the book
//! (`Alerts::restore`).

use std::path::Path;

use floorwatch_core::alerts::AlertChange;

use crate::ndjson_log::FsyncPolicy;
use crate::ndjson_log::{LogError, NdjsonLog};

/// The journal's file name inside the alerts directory.
pub(crate) const FILE: &str = "changes.ndjson";

/// What reading the journal back found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct AlertJournalReport {
    pub(crate) changes: u64,
    pub(crate) torn_tail: Option<u64>,
    /// (1-based line, reason) of lines that are not changes.
    pub(crate) bad_lines: Vec<(u64, String)>,
}

pub(crate) struct AlertJournal {
    file: NdjsonLog,
}

impl AlertJournal {
    /// Opens `dir/changes.ndjson` (creating it) and returns the changes it holds, in order.
    pub(crate) fn open(
        dir: &Path,
        fsync: FsyncPolicy,
    ) -> Result<(AlertJournal, Vec<AlertChange>, AlertJournalReport), LogError> {
        let (file, opened) = NdjsonLog::open(&dir.join(FILE), fsync)?;
        let lines = opened.lines;
        let mut report = AlertJournalReport {
            torn_tail: opened.torn_tail,
            bad_lines: opened
                .bad_lines
                .into_iter()
                .map(|n| (n, "not UTF-8".to_string()))
                .collect(),
            ..AlertJournalReport::default()
        };
        let mut changes = Vec::with_capacity(lines.len());
        for (number, line) in lines {
            match serde_json::from_str::<AlertChange>(&line) {
                Ok(change) => changes.push(change),
                Err(e) => report.bad_lines.push((number, e.to_string())),
            }
        }
        report.changes = changes.len() as u64;
        Ok((AlertJournal { file }, changes, report))
    }

    /// Appends `changes` in order, synced per the policy.
    pub(crate) fn append(&mut self, changes: &[AlertChange]) -> Result<(), LogError> {
        let mut buf = Vec::with_capacity(changes.len() * 512);
        for change in changes {
            // An AlertChange always serialises (strings, numbers, enums).
            if let Ok(line) = serde_json::to_string(change) {
                buf.extend_from_slice(line.as_bytes());
                buf.push(b'\n');
            }
        }
        self.file.append(&buf)
    }
}
