//! The cluster's clock (docs/CLUSTER.md, "Time"): with `--clock wall`, one node at a time, the
//! holder of a lease in a KV bucket, publishes the wall clock to the stream once a second, and
//! every node's floor moves by those ticks (clock = max), never by its own wall clock. A node
//! that stops renewing loses the lease within [`LEASE`]; another takes it over. Two holders at
//! once (a partition healing) publish ticks with the same message id per second: stored once.

use std::time::Duration;

use async_nats::jetstream::{self, kv, message::PublishMessage, stream};
use tokio::sync::watch;

use super::stream::{KIND_HEADER, KIND_TICK, SUBJECT, tick_message_id};
use crate::shutdown::Shutdown;

/// The bucket holding the cluster's leases.
pub(crate) const LEASE_BUCKET: &str = "FLOORWATCH_LEASES";
/// The clock's lease key.
const CLOCK_KEY: &str = "clock";
/// How long a lease lasts without renewal (the bucket's max age).
pub(crate) const LEASE: Duration = Duration::from_secs(5);

/// Ticks the cluster's clock while this node holds the lease, until shutdown. Waits first for
/// `ready` (the demo's morning recorded, as a single node's wall clock does). `servers`: the NATS
/// servers known (`super::nats::servers_known`), which the lease bucket's copies follow.
pub(crate) async fn run(
    js: jetstream::Context,
    (node, servers): (String, usize),
    mut ready: watch::Receiver<bool>,
    mut shutdown: Shutdown,
) {
    tokio::select! {
        _ = ready.wait_for(|done| *done) => {}
        () = shutdown.recv() => return,
    }
    let mut bucket = None;
    let mut warned = false;
    let mut held: Option<u64> = None;
    let mut interval = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            () = shutdown.recv() => return,
        }
        if bucket.is_none() {
            match leases(&js, servers).await {
                Ok(store) => bucket = Some(store),
                Err(e) => {
                    if !std::mem::replace(&mut warned, true) {
                        tracing::warn!(error = %e, "the clock's lease bucket is not reachable yet; retrying every second");
                    }
                    continue;
                }
            }
        }
        let Some(store) = &bucket else { continue };
        held = match held {
            Some(revision) => match store.update(CLOCK_KEY, node.clone().into(), revision).await {
                Ok(revision) => Some(revision),
                Err(e) => {
                    tracing::warn!(node = %node, error = %e, "lost the clock's lease");
                    None
                }
            },
            None => match store.create(CLOCK_KEY, node.clone().into()).await {
                Ok(revision) => {
                    tracing::info!(node = %node, "holding the clock's lease: ticking the cluster's clock");
                    Some(revision)
                }
                Err(_) => None,
            },
        };
        if held.is_some() {
            tick(&js).await;
        }
    }
}

/// The lease bucket, made on first use. Its stream is made here rather than by
/// `create_key_value`, which first reads the account's JetStream limits in a form nats-server
/// 2.9 (Debian's) does not answer with; the stream is the one a KV bucket is (`KV_` + name,
/// one value per key, roll-ups, no deletes), so the KV client reads and writes it as usual.
async fn leases(js: &jetstream::Context, servers: usize) -> anyhow::Result<kv::Store> {
    if let Ok(store) = js.get_key_value(LEASE_BUCKET).await {
        return Ok(store);
    }
    js.get_or_create_stream(stream::Config {
        name: format!("KV_{LEASE_BUCKET}"),
        description: Some("Floorwatch: who ticks the cluster's clock".into()),
        subjects: vec![format!("$KV.{LEASE_BUCKET}.>")],
        max_messages_per_subject: 1,
        max_age: LEASE,
        duplicate_window: LEASE,
        storage: stream::StorageType::File,
        num_replicas: super::nats::replicas(servers),
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: stream::DiscardPolicy::New,
        ..Default::default()
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    js.get_key_value(LEASE_BUCKET)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Publishes the wall clock now as a tick.
async fn tick(js: &jetstream::Context) {
    let now = jiff::Timestamp::now().as_millisecond();
    let publish = PublishMessage::build()
        .payload(now.to_string().into())
        .message_id(tick_message_id(now))
        .header(KIND_HEADER, KIND_TICK);
    let stored = match js.send_publish(SUBJECT, publish).await {
        Ok(ack) => tokio::time::timeout(super::publish::ACK_TIMEOUT, ack)
            .await
            .map_err(|_| "no acknowledgement".to_string())
            .and_then(|r| r.map(|_| ()).map_err(|e| e.to_string())),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = stored {
        tracing::warn!(error = %e, "a clock tick was not stored");
    }
}
