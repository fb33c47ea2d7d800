//! The audit trail of a cluster: one JetStream stream, `FLOORWATCH_AUDIT`, one [`Record`] per
//! message, hash-chained exactly as `audit.log` is (docs/SECURITY.md, "The audit trail").
//!
//! Several nodes append to it. Each record is sealed onto the last one in the stream and
//! published with `Nats-Expected-Last-Sequence` set to that record's stream sequence: if another
//! node appended in between, JetStream refuses the publish (wrong last sequence), and the
//! writer reads the new last record, seals again and retries. So the stream never forks: the
//! record at stream sequence N is the chain's record N. The stream denies deletes and purges,
//! and keeps its records for ever; `floorwatch audit verify --cluster URLS` walks it.

use std::sync::Mutex;

use async_nats::jetstream::{self, stream};

use crate::audit::{AuditError, Entry, Record, SharedTrail, chain};

/// The stream.
pub(crate) const AUDIT_STREAM: &str = "FLOORWATCH_AUDIT";
/// Its one subject.
const SUBJECT: &str = "floorwatch.audit";
/// Appends that lost a race this many times in a row give up (the caller's "no record, no
/// action" answers 503): a sign of something wrong, not of load.
const MOST_RACES: usize = 50;

/// The cluster's audit trail, as one node appends to and reads it.
#[derive(Debug)]
pub(crate) struct AuditStream {
    stream: stream::Stream,
    jetstream: jetstream::Context,
    handle: tokio::runtime::Handle,
    /// The last record this node saw at the end of the stream, to seal the next one onto
    /// without reading it back (a wrong guess costs one refused publish).
    last: Mutex<Option<Record>>,
}

impl AuditStream {
    /// Opens (or creates) the stream, with `replicas` copies.
    pub(crate) async fn open(
        jetstream: &jetstream::Context,
        replicas: usize,
    ) -> Result<AuditStream, String> {
        let stream = jetstream
            .get_or_create_stream(stream::Config {
                name: AUDIT_STREAM.to_string(),
                subjects: vec![SUBJECT.to_string()],
                num_replicas: replicas.max(1),
                deny_delete: true,
                deny_purge: true,
                ..Default::default()
            })
            .await
            .map_err(|e| format!("stream {AUDIT_STREAM}: {e}"))?;
        Ok(AuditStream {
            stream,
            jetstream: jetstream.clone(),
            handle: tokio::runtime::Handle::current(),
            last: Mutex::new(None),
        })
    }

    /// Appends `entry` sealed onto the last record of the stream; see the module doc.
    pub(crate) async fn append_async(
        &self,
        entry: Entry,
        now: jiff::Timestamp,
    ) -> Result<Record, AuditError> {
        let mut guess = self.last.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for _ in 0..MOST_RACES {
            let expected = guess.as_ref().map_or(0, |r| r.seq);
            let record = chain::seal(
                guess.as_ref().map(|r| (r.seq, r.hash.as_str())),
                now,
                entry.clone(),
            );
            let payload = serde_json::to_vec(&record).map_err(|e| shared(e.to_string()))?;
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(
                async_nats::header::NATS_EXPECTED_LAST_SEQUENCE,
                expected.to_string().as_str(),
            );
            // JetStream reads an expected last sequence of 0 as "no expectation": two nodes
            // racing for the first record would both be stored. The message id makes the
            // second a duplicate (within the stream's two-minute window). An entry noticed by
            // several nodes (a session timing out) carries its own id instead: the first node's
            // record stands and the others' are dropped as duplicates.
            let id = match &entry.once {
                Some(key) => format!("floorwatch-once-{key}"),
                None => format!("floorwatch-audit-{}", record.seq),
            };
            headers.insert(async_nats::header::NATS_MESSAGE_ID, id.as_str());
            let published = self
                .jetstream
                .publish_with_headers(SUBJECT, headers, payload.into())
                .await
                .map_err(|e| shared(e.to_string()))?
                .await;
            match published {
                // Another node recorded the same event: nothing more to write.
                Ok(ack) if ack.duplicate && entry.once.is_some() => return Ok(record),
                Ok(ack) if ack.duplicate => {
                    guess = self.last_record().await?;
                }
                Ok(ack) if ack.sequence == record.seq => {
                    *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(record.clone());
                    return Ok(record);
                }
                Ok(ack) => {
                    return Err(shared(format!(
                        "record {} was stored at stream sequence {}: the stream holds more than \
                         the audit trail",
                        record.seq, ack.sequence
                    )));
                }
                Err(e) if e.kind() == jetstream::context::PublishErrorKind::WrongLastSequence => {
                    guess = self.last_record().await?;
                }
                Err(e) => return Err(shared(e.to_string())),
            }
        }
        Err(shared(format!(
            "lost the race to append {MOST_RACES} times in a row"
        )))
    }

    /// The last record in the stream, read back.
    async fn last_record(&self) -> Result<Option<Record>, AuditError> {
        let mut stream = self.stream.clone();
        let last = stream
            .info()
            .await
            .map_err(|e| shared(e.to_string()))?
            .state
            .last_sequence;
        if last == 0 {
            return Ok(None);
        }
        let message = stream
            .get_raw_message(last)
            .await
            .map_err(|e| shared(e.to_string()))?;
        serde_json::from_slice(&message.payload)
            .map(Some)
            .map_err(|e| shared(format!("the last record (sequence {last}) is damaged: {e}")))
    }

    /// Every message of the stream, in order, each a record or why it is not one.
    pub(crate) async fn records_async(&self) -> Result<Vec<Result<Record, String>>, AuditError> {
        let mut stream = self.stream.clone();
        let last = stream
            .info()
            .await
            .map_err(|e| shared(e.to_string()))?
            .state
            .last_sequence;
        let mut out = Vec::with_capacity(last as usize);
        for sequence in 1..=last {
            let message = stream
                .get_raw_message(sequence)
                .await
                .map_err(|e| shared(format!("sequence {sequence}: {e}")))?;
            out.push(
                serde_json::from_slice::<Record>(&message.payload)
                    .map_err(|e| format!("not an audit record: {e}")),
            );
        }
        Ok(out)
    }
}

impl SharedTrail for AuditStream {
    fn append(&self, entry: Entry, now: jiff::Timestamp) -> Result<Record, AuditError> {
        super::nats::wait(&self.handle, self.append_async(entry, now))
    }

    fn records(&self) -> Result<Vec<Result<Record, String>>, AuditError> {
        super::nats::wait(&self.handle, self.records_async())
    }

    fn shown(&self) -> String {
        format!("the cluster's stream {AUDIT_STREAM}")
    }
}

fn shared(reason: String) -> AuditError {
    AuditError::Shared {
        trail: AUDIT_STREAM.to_string(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::audit::{Action, AuditTrail, Verdict};
    use crate::test_nats::NatsServer;

    async fn node(server: &NatsServer) -> Arc<AuditStream> {
        let jetstream = async_nats::jetstream::new(server.client().await);
        Arc::new(AuditStream::open(&jetstream, 1).await.unwrap())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_nodes_racing_to_append_make_one_chain() {
        let server = NatsServer::start();
        let dir = tempfile::tempdir().unwrap();
        let a = AuditTrail::shared(dir.path(), node(&server).await);
        let b = AuditTrail::shared(dir.path(), node(&server).await);
        let writers: Vec<_> = [("a", a.clone()), ("b", b.clone())]
            .into_iter()
            .map(|(name, trail)| {
                tokio::task::spawn_blocking(move || {
                    for i in 0..40 {
                        let entry = Entry::new(
                            format!("node:{name}"),
                            Action::Login,
                            "user:x",
                            format!("n={i}"),
                        );
                        trail.append(entry, jiff::Timestamp::now()).unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.await.unwrap();
        }
        let verdict = tokio::task::spawn_blocking(move || a.verify().unwrap())
            .await
            .unwrap();
        match verdict {
            Verdict::Intact { records, .. } => assert_eq!(records, 80),
            other => panic!("the chain forked or broke: {other:?}"),
        }
        let lines = tokio::task::spawn_blocking(move || b.lines().unwrap())
            .await
            .unwrap();
        let by_a = lines
            .iter()
            .filter(|l| l.record.as_ref().is_ok_and(|r| r.actor == "node:a"))
            .count();
        assert_eq!((lines.len(), by_a), (80, 40));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_record_sealed_onto_a_stale_end_is_refused_and_sealed_again() {
        let server = NatsServer::start();
        let a = node(&server).await;
        let b = node(&server).await;
        let first = a
            .append_async(
                Entry::new("a", Action::Login, "t", "1"),
                jiff::Timestamp::now(),
            )
            .await
            .unwrap();
        // B has never seen the first record: its first guess is the genesis, refused.
        let second = b
            .append_async(
                Entry::new("b", Action::Login, "t", "2"),
                jiff::Timestamp::now(),
            )
            .await
            .unwrap();
        assert_eq!((first.seq, second.seq), (1, 2));
        assert_eq!(second.prev, first.hash);
        // One event noticed by both nodes is recorded once.
        let once = |who: &str| {
            Entry::new(who, Action::Logout, "user:x", "idle timeout").once("logout:x:1")
        };
        let by_a = a
            .append_async(once("a"), jiff::Timestamp::now())
            .await
            .unwrap();
        b.append_async(once("b"), jiff::Timestamp::now())
            .await
            .unwrap();
        let all = b.records_async().await.unwrap();
        let logouts = all
            .iter()
            .filter(|r| r.as_ref().is_ok_and(|r| r.action == Action::Logout))
            .count();
        assert_eq!((all.len(), logouts, by_a.seq), (3, 1, 3));
        // A's guess is stale now.
        let third = a
            .append_async(
                Entry::new("a", Action::Login, "t", "3"),
                jiff::Timestamp::now(),
            )
            .await
            .unwrap();
        assert_eq!(third.seq, 4);
        assert_eq!(third.prev, by_a.hash);
    }
}
