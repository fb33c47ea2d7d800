//! The webhook outbox: notification batches waiting to be delivered, per webhook, in order,
//! kept on disk so that a batch queued before a restart is still delivered after it.
//!
//! `DATA_DIR/alerts/outbox.ndjson` holds one record per line: `queued` (a batch for a webhook,
//! written when the batch closes, after its changes are in the alert journal), then
//! `delivered` (the receiver answered 2xx) or `refused` (it answered a 4xx that no retry can
//! fix). What is queued and not yet finished is pending. At start the file is read back and
//! rewritten with only what is pending.
//!
//! A webhook is known by its URL: a receiver removed from the config loses what was pending
//! for it (counted and logged at start); one added gets the batches that close from then on.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use floorwatch_core::alerts::NotificationBatch;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::settings::WebhookConfig;
use crate::ndjson_log::FsyncPolicy;
use crate::ndjson_log::{LogError, NdjsonLog};

pub(crate) const FILE: &str = "outbox.ndjson";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
enum Record {
    Queued {
        webhook: String,
        batch: NotificationBatch,
    },
    Delivered {
        webhook: String,
        batch: String,
    },
    Refused {
        webhook: String,
        batch: String,
        status: u16,
    },
}

/// How a delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Finished {
    Delivered,
    /// The receiver refused the batch with this status; retrying cannot help.
    Refused(u16),
}

/// What reading the outbox back found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct OutboxReport {
    /// Batches still to deliver, over every webhook.
    pub(crate) pending: usize,
    /// Pending batches of webhooks no longer configured, dropped.
    pub(crate) dropped: usize,
    pub(crate) torn_tail: Option<u64>,
    pub(crate) bad_lines: Vec<(u64, String)>,
}

pub(crate) struct Outbox {
    urls: Vec<String>,
    ready: Vec<Notify>,
    state: Mutex<State>,
}

struct State {
    file: NdjsonLog,
    queues: Vec<VecDeque<NotificationBatch>>,
}

impl Outbox {
    /// Opens `dir/outbox.ndjson`, keeps what is pending for the configured `webhooks` and
    /// rewrites the file with only that.
    pub(crate) fn open(
        dir: &Path,
        webhooks: &[WebhookConfig],
        fsync: FsyncPolicy,
    ) -> Result<(Arc<Outbox>, OutboxReport), LogError> {
        let (mut file, opened) = NdjsonLog::open(&dir.join(FILE), fsync)?;
        let lines = opened.lines;
        let urls: Vec<String> = webhooks.iter().map(|w| w.url.clone()).collect();
        let mut report = OutboxReport {
            torn_tail: opened.torn_tail,
            bad_lines: opened
                .bad_lines
                .into_iter()
                .map(|n| (n, "not UTF-8".to_string()))
                .collect(),
            ..OutboxReport::default()
        };
        let mut all: Vec<(String, VecDeque<NotificationBatch>)> = Vec::new();
        let line_count = lines.len();
        for (number, line) in lines {
            let record = match serde_json::from_str::<Record>(&line) {
                Ok(record) => record,
                Err(e) => {
                    report.bad_lines.push((number, e.to_string()));
                    continue;
                }
            };
            match record {
                Record::Queued { webhook, batch } => {
                    match all.iter_mut().find(|(url, _)| *url == webhook) {
                        Some((_, queue)) => queue.push_back(batch),
                        None => all.push((webhook, VecDeque::from([batch]))),
                    }
                }
                Record::Delivered { webhook, batch } | Record::Refused { webhook, batch, .. } => {
                    if let Some((_, queue)) = all.iter_mut().find(|(url, _)| *url == webhook) {
                        queue.retain(|b| b.id != batch);
                    }
                }
            }
        }
        let mut queues: Vec<VecDeque<NotificationBatch>> = vec![VecDeque::new(); urls.len()];
        for (url, pending) in all {
            match urls.iter().position(|u| *u == url) {
                Some(i) => queues[i] = pending,
                None => report.dropped += pending.len(),
            }
        }
        report.pending = queues.iter().map(VecDeque::len).sum();
        if line_count != report.pending {
            let mut contents = Vec::new();
            for (url, queue) in urls.iter().zip(&queues) {
                for batch in queue {
                    push_line(
                        &mut contents,
                        &Record::Queued {
                            webhook: url.clone(),
                            batch: batch.clone(),
                        },
                    );
                }
            }
            file.replace(&contents)?;
        }
        let outbox = Outbox {
            ready: urls.iter().map(|_| Notify::new()).collect(),
            urls,
            state: Mutex::new(State { file, queues }),
        };
        Ok((Arc::new(outbox), report))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `batch` for every webhook: written to the file first, then handed to the
    /// senders. A failed write still hands it over (it is delivered unless the server stops
    /// first) and is reported.
    pub(crate) fn queue(&self, batch: &NotificationBatch) -> Result<(), LogError> {
        if self.urls.is_empty() {
            return Ok(());
        }
        let mut lines = Vec::new();
        for url in &self.urls {
            push_line(
                &mut lines,
                &Record::Queued {
                    webhook: url.clone(),
                    batch: batch.clone(),
                },
            );
        }
        let written = {
            let mut state = self.lock();
            let written = state.file.append(&lines);
            for queue in &mut state.queues {
                queue.push_back(batch.clone());
            }
            written
        };
        for ready in &self.ready {
            ready.notify_one();
        }
        written
    }

    /// The next batch for webhook `index`, if any.
    pub(crate) fn next(&self, index: usize) -> Option<NotificationBatch> {
        self.lock().queues.get(index)?.front().cloned()
    }

    /// Waits until webhook `index` may have a batch.
    pub(crate) async fn wait(&self, index: usize) {
        if let Some(ready) = self.ready.get(index) {
            ready.notified().await;
        }
    }

    /// Records how the delivery of `batch` to webhook `index` ended and takes it off the queue.
    pub(crate) fn finish(
        &self,
        index: usize,
        batch: &str,
        finished: Finished,
    ) -> Result<(), LogError> {
        let Some(url) = self.urls.get(index) else {
            return Ok(());
        };
        let record = match finished {
            Finished::Delivered => Record::Delivered {
                webhook: url.clone(),
                batch: batch.to_string(),
            },
            Finished::Refused(status) => Record::Refused {
                webhook: url.clone(),
                batch: batch.to_string(),
                status,
            },
        };
        let mut line = Vec::new();
        push_line(&mut line, &record);
        let mut state = self.lock();
        if let Some(queue) = state.queues.get_mut(index)
            && queue.front().is_some_and(|b| b.id == batch)
        {
            queue.pop_front();
        }
        state.file.append(&line)
    }

    #[cfg(test)]
    /// Batches waiting for webhook `index`.
    pub(crate) fn pending(&self, index: usize) -> usize {
        self.lock().queues.get(index).map_or(0, VecDeque::len)
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

    fn webhook(url: &str) -> WebhookConfig {
        WebhookConfig {
            url: url.into(),
            ca_file: None,
            format: Default::default(),
            retry_first_ms: 100,
            retry_max_s: 1,
            timeout_s: 1,
        }
    }

    fn batch(at: i64) -> NotificationBatch {
        NotificationBatch {
            id: format!("batch-{at}"),
            at,
            notices: vec![],
        }
    }

    #[test]
    fn pending_batches_survive_a_restart_and_finished_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let hooks = [webhook("http://a/"), webhook("http://b/")];
        let (outbox, report) = Outbox::open(dir.path(), &hooks, FsyncPolicy::Batch).unwrap();
        assert_eq!(report.pending, 0);
        outbox.queue(&batch(1)).unwrap();
        outbox.queue(&batch(2)).unwrap();
        assert_eq!(outbox.next(0).unwrap().id, "batch-1");
        outbox.finish(0, "batch-1", Finished::Delivered).unwrap();
        outbox.finish(1, "batch-1", Finished::Refused(400)).unwrap();
        outbox.finish(1, "batch-2", Finished::Delivered).unwrap();
        assert_eq!((outbox.pending(0), outbox.pending(1)), (1, 0));
        drop(outbox);

        // Webhook b is gone from the config, c is new: a keeps its batch 2.
        let hooks = [webhook("http://a/"), webhook("http://c/")];
        let (outbox, report) = Outbox::open(dir.path(), &hooks, FsyncPolicy::Batch).unwrap();
        assert_eq!((report.pending, report.dropped), (1, 0));
        assert_eq!(outbox.next(0).unwrap().id, "batch-2");
        assert!(outbox.next(1).is_none());
        drop(outbox);
        let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert_eq!(
            text.lines().count(),
            1,
            "compacted to what is pending: {text}"
        );

        let (_, report) = Outbox::open(dir.path(), &[], FsyncPolicy::Batch).unwrap();
        assert_eq!((report.pending, report.dropped), (0, 1));
    }
}
