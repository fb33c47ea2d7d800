//! What the cluster's shared buckets and stream have in common: creating a bucket, the number
//! of copies, and waiting on a NATS round trip from synchronous code.

use std::time::Duration;

/// Opens the KV bucket `name`, creating it when it does not exist yet: `replicas` copies (1,
/// or 3 on a three-server NATS cluster), entries older than `max_age` dropped (zero: kept),
/// `history` revisions kept per key.
pub(crate) async fn bucket(
    jetstream: &async_nats::jetstream::Context,
    name: &str,
    replicas: usize,
    max_age: Duration,
    history: i64,
) -> Result<async_nats::jetstream::kv::Store, String> {
    // The bucket's stream as the KV clients make it, created directly: the client's own
    // `create_key_value` first asks for the account's limits, whose answer Debian's 2.9 server
    // words in a way async-nats 0.52 cannot read.
    jetstream
        .get_or_create_stream(async_nats::jetstream::stream::Config {
            name: format!("KV_{name}"),
            subjects: vec![format!("$KV.{name}.>")],
            max_messages_per_subject: history.max(1),
            max_age,
            num_replicas: replicas.max(1),
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: async_nats::jetstream::stream::DiscardPolicy::New,
            ..Default::default()
        })
        .await
        .map_err(|e| format!("KV bucket {name}: {e}"))?;
    jetstream
        .get_key_value(name)
        .await
        .map_err(|e| format!("KV bucket {name}: {e}"))
}

/// Copies of the cluster's shared state: three on a cluster of three NATS servers or more (one
/// may be lost), else one.
pub(crate) fn replicas(settings: &super::ClusterSettings) -> usize {
    if settings.servers.len() >= 3 { 3 } else { 1 }
}

/// Runs `work` (a NATS round trip) to its end from synchronous code: the accounts and the audit
/// trail are synchronous because single-node mode's files are. On a runtime's worker thread the
/// worker is handed over first (multi-threaded runtimes only; the server's is one); on a
/// blocking thread (`spawn_blocking`) or outside any runtime it simply waits.
pub(crate) fn wait<T>(
    handle: &tokio::runtime::Handle,
    work: impl std::future::Future<Output = T>,
) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(current) if current.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| handle.block_on(work))
        }
        _ => handle.block_on(work),
    }
}
