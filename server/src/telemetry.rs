//! Counters and histograms about the server itself, exposed at `GET /metrics` in the
//! Prometheus text format and summed up in `GET /healthz`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

/// Distinct `source` label values kept before the rest are counted as `other`: sources are
/// named by senders, and a sender must not be able to grow the metrics without bound.
const MAX_SOURCES: usize = 64;

pub(crate) struct Telemetry {
    registry: Registry,
    events: Family<Labels, Counter>,
    sources: Mutex<Vec<String>>,
    pub(crate) journal_seconds: Histogram,
    pub(crate) ingest_to_push_seconds: Histogram,
    pub(crate) live_clients: Gauge,
    /// Queues named by events but not in the configured organisation (set when the publisher
    /// reads the floor for a client: with nobody subscribed it does not read).
    pub(crate) unassigned_queues: Gauge,
    frames_sent: Counter,
    frames_dropped: Family<Labels, Counter>,
    pub(crate) slow_clients_disconnected: Counter,
    /// Morning digest messages by channel and outcome (docs/HISTORY.md, "The morning digest").
    digest_messages: Family<Labels, Counter>,
    digest_pending: Gauge,
    totals: Totals,
}

/// Plain totals for `/healthz`.
#[derive(Debug, Default)]
struct Totals {
    accepted: AtomicU64,
    duplicate: AtomicU64,
    rejected: AtomicU64,
    late: AtomicU64,
    dropped: AtomicU64,
}

/// What became of an event, as counted by source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventOutcome {
    Accepted,
    Duplicate,
    Rejected,
    /// Accepted, but older than the floor's clock minus the lateness allowance.
    Late,
}

impl EventOutcome {
    fn as_str(self) -> &'static str {
        match self {
            EventOutcome::Accepted => "accepted",
            EventOutcome::Duplicate => "duplicate",
            EventOutcome::Rejected => "rejected",
            EventOutcome::Late => "late",
        }
    }
}

/// Why a live frame was not delivered.
#[derive(Debug, Clone, Copy)]
pub(crate) enum DropReason {
    /// The client's queue was full: the delta was dropped and a snapshot will follow.
    QueueFull,
    /// Already queued but made stale by a resync.
    Stale,
}

impl Default for Telemetry {
    fn default() -> Self {
        Telemetry::new()
    }
}

impl Telemetry {
    /// Counts one digest message's outcome (`sent`, `refused`, `failed`) on a channel.
    pub(crate) fn digest_message(&self, channel: &'static str, outcome: &'static str) {
        self.digest_messages
            .get_or_create(&vec![
                ("channel", channel.to_string()),
                ("outcome", outcome.to_string()),
            ])
            .inc();
    }

    /// Digest messages composed and not yet sent.
    pub(crate) fn digest_pending(&self, pending: usize) {
        self.digest_pending
            .set(i64::try_from(pending).unwrap_or(i64::MAX));
    }

    pub(crate) fn new() -> Telemetry {
        let mut registry = Registry::with_prefix("floorwatch");
        let events = Family::<Labels, Counter>::default();
        registry.register(
            "events",
            "Events by source and outcome (accepted, duplicate, rejected; late ones are also \
             counted as accepted)",
            events.clone(),
        );
        let journal_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        registry.register(
            "journal_append_seconds",
            "Time to append (and sync) one group of ingest batches to the journal",
            journal_seconds.clone(),
        );
        let ingest_to_push_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 14));
        registry.register(
            "ingest_to_push_seconds",
            "From an ingest batch's acceptance to the live frames reflecting it being queued \
             for every client",
            ingest_to_push_seconds.clone(),
        );
        let live_clients = Gauge::default();
        registry.register(
            "live_clients",
            "Websocket clients connected to /api/v1/live",
            live_clients.clone(),
        );
        let unassigned_queues = Gauge::default();
        registry.register(
            "unassigned_queues",
            "Queues named by events but not in the configured organisation: counted in the \
             centre, kept off the wall, listed for admins by GET /api/v1/queues",
            unassigned_queues.clone(),
        );
        let frames_sent = Counter::default();
        registry.register(
            "live_frames_sent",
            "Live frames written to clients",
            frames_sent.clone(),
        );
        let frames_dropped = Family::<Labels, Counter>::default();
        registry.register(
            "live_frames_dropped",
            "Live deltas not delivered to a slow client (it was resynced with a snapshot)",
            frames_dropped.clone(),
        );
        let slow_clients_disconnected = Counter::default();
        registry.register(
            "live_slow_clients_disconnected",
            "Live clients disconnected for being stuck too long",
            slow_clients_disconnected.clone(),
        );
        let digest_messages = Family::<Labels, Counter>::default();
        registry.register(
            "digest_messages",
            "Morning digest messages by channel (email, webhook) and outcome: sent, refused \
             (never sent again), failed (an attempt that is retried)",
            digest_messages.clone(),
        );
        let digest_pending = Gauge::default();
        registry.register(
            "digest_pending",
            "Morning digest messages composed and not yet sent",
            digest_pending.clone(),
        );
        Telemetry {
            registry,
            digest_messages,
            digest_pending,
            events,
            sources: Mutex::new(Vec::new()),
            journal_seconds,
            ingest_to_push_seconds,
            live_clients,
            unassigned_queues,
            frames_sent,
            frames_dropped,
            slow_clients_disconnected,
            totals: Totals::default(),
        }
    }

    /// Counts `n` events of `source` with `outcome`.
    pub(crate) fn count_events(&self, source: &str, outcome: EventOutcome, n: u64) {
        if n == 0 {
            return;
        }
        let total = match outcome {
            EventOutcome::Accepted => &self.totals.accepted,
            EventOutcome::Duplicate => &self.totals.duplicate,
            EventOutcome::Rejected => &self.totals.rejected,
            EventOutcome::Late => &self.totals.late,
        };
        total.fetch_add(n, Ordering::Relaxed);
        let labels = vec![
            ("source", self.source_label(source)),
            ("outcome", outcome.as_str().to_string()),
        ];
        self.events.get_or_create(&labels).inc_by(n);
    }

    fn source_label(&self, source: &str) -> String {
        let mut known = self.sources.lock().unwrap_or_else(|p| p.into_inner());
        if known.iter().any(|s| s == source) {
            source.to_string()
        } else if known.len() < MAX_SOURCES {
            known.push(source.to_string());
            source.to_string()
        } else {
            "other".to_string()
        }
    }

    pub(crate) fn frame_sent(&self) {
        self.frames_sent.inc();
    }

    pub(crate) fn frame_dropped(&self, reason: DropReason) {
        self.totals.dropped.fetch_add(1, Ordering::Relaxed);
        let reason = match reason {
            DropReason::QueueFull => "queue_full",
            DropReason::Stale => "stale",
        };
        self.frames_dropped
            .get_or_create(&vec![("reason", reason.to_string())])
            .inc();
    }

    pub(crate) fn frames_sent(&self) -> u64 {
        self.frames_sent.get()
    }

    pub(crate) fn frames_dropped(&self) -> u64 {
        self.totals.dropped.load(Ordering::Relaxed)
    }

    /// (accepted, duplicate, rejected, late) since start.
    pub(crate) fn event_totals(&self) -> (u64, u64, u64, u64) {
        let t = &self.totals;
        (
            t.accepted.load(Ordering::Relaxed),
            t.duplicate.load(Ordering::Relaxed),
            t.rejected.load(Ordering::Relaxed),
            t.late.load(Ordering::Relaxed),
        )
    }

    /// The Prometheus text exposition, plus the process's resident memory.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        if let Some(rss) = resident_bytes() {
            // Appended before `# EOF`, which `encode` writes last.
            let eof = out.rfind("# EOF").unwrap_or(out.len());
            out.insert_str(
                eof,
                &format!(
                    "# HELP process_resident_memory_bytes Resident memory size in bytes.\n\
                     # TYPE process_resident_memory_bytes gauge\n\
                     process_resident_memory_bytes {rss}\n"
                ),
            );
        }
        out
    }
}

/// This process's resident set size, from /proc (Linux only; `None` elsewhere).
pub(crate) fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_source_and_caps_the_sources() {
        let t = Telemetry::new();
        t.count_events("sim", EventOutcome::Accepted, 3);
        t.count_events("sim", EventOutcome::Rejected, 1);
        for i in 0..100 {
            t.count_events(&format!("s{i}"), EventOutcome::Accepted, 1);
        }
        let text = t.render();
        assert!(
            text.contains(r#"floorwatch_events_total{source="sim",outcome="accepted"} 3"#),
            "{text}"
        );
        assert!(text.contains(r#"source="other""#));
        assert!(text.contains("process_resident_memory_bytes"));
        assert!(text.trim_end().ends_with("# EOF"));
        assert_eq!(t.event_totals(), (103, 0, 1, 0));
    }
}
