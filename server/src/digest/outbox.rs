//! The digest outbox: every recipient's message of a day, composed once and kept on disk until
//! it is sent, so each recipient gets a day's digest exactly once across restarts (a crash
//! between sending and recording aside: see [`Message::message_id`]).
//!
//! `DATA_DIR/digest/outbox.ndjson` holds one record per line (`crate::ndjson_log`):
//! - `composed`: a recipient's message of a day with its full content. Every recipient's
//!   message of a day is appended in one write, so a day is composed for everyone or for no
//!   one; a day with a `composed` (or `day`) record is never composed again.
//! - `sent` (the relay or robot took it) or `refused` (it answered that no retry can help).
//! - `day`: the last day composed, written when the file is compacted at start (the file then
//!   holds that line and what is still to send), or for a day with nothing to digest.
//!
//! A recipient is known by its key (`email:SCOPE:ADDRESSES`, `webhook:SCOPE:URL`): one removed
//! from the config loses what was pending for it (counted and logged at start).

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::compose::Digest;
use crate::ndjson_log::{FsyncPolicy, LogError, NdjsonLog};

pub(crate) const FILE: &str = "outbox.ndjson";

/// One recipient's message of one day, as composed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Message {
    /// `<floorwatch-digest.DAY.HASH@DOMAIN>`, the same for the same day and recipient every
    /// time: a message sent again after a crash between sending and recording `sent` carries
    /// the id of the first, so the receiver can drop it (docs/HISTORY.md, "The morning digest").
    pub(crate) message_id: String,
    pub(crate) subject: String,
    /// The e-mail's text, or the webhook's JSON body, exactly as it is sent.
    pub(crate) body: String,
    pub(crate) digest: Digest,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
enum Record {
    Composed {
        day: String,
        recipient: String,
        message: Message,
    },
    Sent {
        day: String,
        recipient: String,
    },
    Refused {
        day: String,
        recipient: String,
        reason: String,
    },
    Day {
        day: String,
    },
}

/// How a sending ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Finished {
    Sent,
    /// Refused for good, with what the receiver said.
    Refused(String),
}

/// What reading the outbox back found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct OutboxReport {
    pub(crate) pending: usize,
    /// Pending messages of recipients no longer configured, dropped.
    pub(crate) dropped: usize,
    pub(crate) last_day: Option<String>,
    pub(crate) torn_tail: Option<u64>,
    pub(crate) bad_lines: Vec<(u64, String)>,
}

pub(crate) struct DigestOutbox {
    recipients: Vec<String>,
    ready: Vec<Notify>,
    state: Mutex<State>,
}

struct State {
    file: NdjsonLog,
    queues: Vec<VecDeque<(String, Message)>>,
    last_day: Option<String>,
}

impl DigestOutbox {
    /// Opens `dir/outbox.ndjson`, keeps what is pending for `recipients` (their keys) and
    /// compacts the file to the last day composed and what is pending.
    pub(crate) fn open(
        dir: &Path,
        recipients: &[String],
        fsync: FsyncPolicy,
    ) -> Result<(Arc<DigestOutbox>, OutboxReport), LogError> {
        let (mut file, opened) = NdjsonLog::open(&dir.join(FILE), fsync)?;
        let mut report = OutboxReport {
            torn_tail: opened.torn_tail,
            bad_lines: opened
                .bad_lines
                .into_iter()
                .map(|n| (n, "not UTF-8".to_string()))
                .collect(),
            ..OutboxReport::default()
        };
        let mut all: Vec<(String, String, Message)> = Vec::new();
        let mut last_day: Option<String> = None;
        let line_count = opened.lines.len();
        for (number, line) in opened.lines {
            let record = match serde_json::from_str::<Record>(&line) {
                Ok(record) => record,
                Err(e) => {
                    report.bad_lines.push((number, e.to_string()));
                    continue;
                }
            };
            match record {
                Record::Composed {
                    day,
                    recipient,
                    message,
                } => {
                    later(&mut last_day, &day);
                    all.push((day, recipient, message));
                }
                Record::Sent { day, recipient } | Record::Refused { day, recipient, .. } => {
                    all.retain(|(d, r, _)| !(*d == day && *r == recipient));
                }
                Record::Day { day } => later(&mut last_day, &day),
            }
        }
        let mut queues = vec![VecDeque::new(); recipients.len()];
        for (day, recipient, message) in all {
            match recipients.iter().position(|r| *r == recipient) {
                Some(i) => queues[i].push_back((day, message)),
                None => report.dropped += 1,
            }
        }
        report.pending = queues.iter().map(VecDeque::len).sum();
        report.last_day = last_day.clone();
        let compacted = report.pending + usize::from(last_day.is_some());
        if line_count > compacted {
            let mut contents = Vec::new();
            if let Some(day) = &last_day {
                push_line(&mut contents, &Record::Day { day: day.clone() });
            }
            for (recipient, queue) in recipients.iter().zip(&queues) {
                for (day, message) in queue {
                    push_line(
                        &mut contents,
                        &Record::Composed {
                            day: day.clone(),
                            recipient: recipient.clone(),
                            message: message.clone(),
                        },
                    );
                }
            }
            file.replace(&contents)?;
        }
        let outbox = DigestOutbox {
            ready: recipients.iter().map(|_| Notify::new()).collect(),
            recipients: recipients.to_vec(),
            state: Mutex::new(State {
                file,
                queues,
                last_day,
            }),
        };
        Ok((Arc::new(outbox), report))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The last day composed (or found to have nothing to digest).
    pub(crate) fn last_day(&self) -> Option<String> {
        self.lock().last_day.clone()
    }

    /// Records `day` as composed with every recipient's message (`(index, message)`; none for
    /// a day with nothing to digest), durably and in one write, then hands the messages to the
    /// senders. If the write fails nothing is handed over and the day stays due.
    pub(crate) fn compose(
        &self,
        day: &str,
        messages: Vec<(usize, Message)>,
    ) -> Result<(), LogError> {
        let mut lines = Vec::new();
        if messages.is_empty() {
            push_line(&mut lines, &Record::Day { day: day.into() });
        }
        for (index, message) in &messages {
            if let Some(recipient) = self.recipients.get(*index) {
                push_line(
                    &mut lines,
                    &Record::Composed {
                        day: day.into(),
                        recipient: recipient.clone(),
                        message: message.clone(),
                    },
                );
            }
        }
        {
            let mut state = self.lock();
            state.file.append(&lines)?;
            state.last_day = Some(day.to_string());
            for (index, message) in messages {
                if let Some(queue) = state.queues.get_mut(index) {
                    queue.push_back((day.to_string(), message));
                }
            }
        }
        for ready in &self.ready {
            ready.notify_one();
        }
        Ok(())
    }

    /// The next message for recipient `index`, with its day.
    pub(crate) fn next(&self, index: usize) -> Option<(String, Message)> {
        self.lock().queues.get(index)?.front().cloned()
    }

    /// Waits until recipient `index` may have a message.
    pub(crate) async fn wait(&self, index: usize) {
        if let Some(ready) = self.ready.get(index) {
            ready.notified().await;
        }
    }

    /// Messages still to send, over every recipient.
    pub(crate) fn pending(&self) -> usize {
        self.lock().queues.iter().map(VecDeque::len).sum()
    }

    /// Records how sending `day`'s message to recipient `index` ended and takes it off the
    /// queue.
    pub(crate) fn finish(
        &self,
        index: usize,
        day: &str,
        finished: Finished,
    ) -> Result<(), LogError> {
        let Some(recipient) = self.recipients.get(index) else {
            return Ok(());
        };
        let record = match finished {
            Finished::Sent => Record::Sent {
                day: day.into(),
                recipient: recipient.clone(),
            },
            Finished::Refused(reason) => Record::Refused {
                day: day.into(),
                recipient: recipient.clone(),
                reason,
            },
        };
        let mut line = Vec::new();
        push_line(&mut line, &record);
        let mut state = self.lock();
        if let Some(queue) = state.queues.get_mut(index)
            && queue.front().is_some_and(|(d, _)| d == day)
        {
            queue.pop_front();
        }
        state.file.append(&line)
    }
}

/// Keeps the later of two `YYYY-MM-DD` days.
fn later(last: &mut Option<String>, day: &str) {
    if last.as_deref().is_none_or(|l| l < day) {
        *last = Some(day.to_string());
    }
}

fn push_line(buf: &mut Vec<u8>, record: &Record) {
    if let Ok(text) = serde_json::to_string(record) {
        buf.extend_from_slice(text.as_bytes());
        buf.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::compose::Digest;

    fn message(day: &str) -> Message {
        Message {
            message_id: format!("<{day}@x>"),
            subject: "s".into(),
            body: "b".into(),
            digest: Digest {
                day: day.into(),
                weekday: "Monday".into(),
                compared_with: String::new(),
                centre: "c".into(),
                scope: "centre".into(),
                signed_off: false,
                rows: Vec::new(),
            },
        }
    }

    #[test]
    fn composed_not_sent_survives_a_restart_and_a_day_is_composed_once() {
        let dir = tempfile::tempdir().unwrap();
        let keys = [
            "email:centre:a@x".to_string(),
            "webhook:centre:u".to_string(),
        ];
        let (outbox, report) = DigestOutbox::open(dir.path(), &keys, FsyncPolicy::Batch).unwrap();
        assert_eq!(report.last_day, None);
        outbox
            .compose(
                "2026-03-09",
                vec![(0, message("2026-03-09")), (1, message("2026-03-09"))],
            )
            .unwrap();
        outbox.finish(1, "2026-03-09", Finished::Sent).unwrap();
        drop(outbox);
        let (outbox, report) = DigestOutbox::open(dir.path(), &keys, FsyncPolicy::Batch).unwrap();
        assert_eq!(report.pending, 1);
        assert_eq!(report.last_day.as_deref(), Some("2026-03-09"));
        assert_eq!(outbox.next(0).unwrap().0, "2026-03-09");
        assert!(outbox.next(1).is_none());
        outbox
            .finish(0, "2026-03-09", Finished::Refused("550".into()))
            .unwrap();
        drop(outbox);
        // Compacted to the last day, nothing pending; a recipient removed loses nothing more.
        let (outbox, report) =
            DigestOutbox::open(dir.path(), &keys[..1], FsyncPolicy::Batch).unwrap();
        assert_eq!((report.pending, report.dropped), (0, 0));
        assert_eq!(outbox.last_day().as_deref(), Some("2026-03-09"));
        let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        outbox.compose("2026-03-10", Vec::new()).unwrap();
        assert_eq!(outbox.last_day().as_deref(), Some("2026-03-10"));
        assert_eq!(outbox.pending(), 0);
    }
}
