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
    let mut stream = jetstream
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
    // A bucket made with fewer copies (by a node that counted fewer servers) gets its copies
    // now, as the event stream does (`super::stream::ensure`).
    let have = stream
        .info()
        .await
        .map_err(|e| format!("KV bucket {name}: {e}"))?
        .config
        .clone();
    if have.num_replicas < replicas.max(1) {
        tracing::info!(
            bucket = name,
            replicas,
            was = have.num_replicas,
            "giving a bucket its copies"
        );
        let wanted = async_nats::jetstream::stream::Config {
            num_replicas: replicas.max(1),
            ..have
        };
        jetstream
            .update_stream(wanted)
            .await
            .map_err(|e| format!("KV bucket {name}: {e}"))?;
    }
    jetstream
        .get_key_value(name)
        .await
        .map_err(|e| format!("KV bucket {name}: {e}"))
}

/// How many NATS servers the cluster has, as far as this node can tell: the URLs it was given
/// or the servers the one it reached tells of (its `connect_urls`), whichever is more. A node
/// given one URL of a three-server cluster must still keep three copies of everything
/// (docs/CLUSTER.md, "Failure modes"): counted from `--cluster` alone, the claims on side
/// effects would live on one server, and that server's loss would stop every webhook and
/// digest of the cluster. Waits for the first connection (the server's INFO says who else
/// there is).
pub(crate) async fn servers_known(
    settings: &super::ClusterSettings,
    client: &async_nats::Client,
) -> usize {
    let info = loop {
        if let Some(info) = client.try_server_info() {
            break info;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    settings.servers.len().max(info.connect_urls.len())
}

/// Copies of the event stream and of every bucket on a cluster of `servers` NATS servers:
/// three when it has three or more (a quorum survives the loss of one), else one per server.
pub(crate) fn replicas(servers: usize) -> usize {
    servers.clamp(1, 3)
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
