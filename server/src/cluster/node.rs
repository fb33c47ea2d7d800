//! One node of the cluster, wired (docs/CLUSTER.md, "A node's start"): connect to NATS and make
//! sure of the stream ([`connect`]); `crate::app` then builds the floor from the node's
//! snapshot (`crate::start::node_floor`) and [`start`]s the stream publisher (ingest's side),
//! the consumer and the applier (the floor's side), instead of the journal and the recorder.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream;
use floorwatch_core::Millis;
use tokio::sync::mpsc;

use super::ClusterSettings;
use super::apply::{self, NodeApplier};
use super::publish::{ACK_TIMEOUT, StreamPublisher};
use super::start::NodeStart;
use super::status::NodeStatus;
use super::stream;
use crate::apply::Applier;
use crate::floor::SharedFloor;
use crate::pulse::Pulse;
use crate::recorder::{self, RecorderHandle};
use crate::shutdown::Shutdown;
use crate::telemetry::Telemetry;

/// What the applier reads ahead of itself.
const READ_AHEAD: usize = 256;

/// A running node.
pub(crate) struct Node {
    pub(crate) floor: SharedFloor,
    /// Where ingest hands its batches (published to the stream).
    pub(crate) recorder: RecorderHandle,
    pub(crate) status: Arc<NodeStatus>,
    pub(crate) history_thread: Option<JoinHandle<()>>,
    /// JetStream, for the clock's ticks.
    pub(crate) js: jetstream::Context,
    /// NATS servers known (the stream's and the lease bucket's replicas follow).
    pub(crate) servers: usize,
    publisher: tokio::task::JoinHandle<()>,
    consumer: tokio::task::JoinHandle<()>,
    applier: JoinHandle<()>,
}

/// The cluster reached: JetStream, and the stream made sure of.
pub(crate) struct Connected {
    js: jetstream::Context,
    servers: usize,
    /// The stream's last sequence at start.
    pub(crate) stream_last: u64,
}

/// Creates or updates the stream over the node's connection. Waits, retrying, until JetStream
/// answers: nodes and NATS servers may start in any order.
pub(crate) async fn connect(
    cluster: &ClusterSettings,
    client: async_nats::Client,
) -> anyhow::Result<Connected> {
    let servers = super::nats::servers_known(cluster, &client).await;
    let mut js = jetstream::new(client);
    js.set_timeout(ACK_TIMEOUT);
    let stream_last = loop {
        match stream::ensure(&js, servers).await {
            Ok(last) => break last,
            Err(e) => {
                tracing::warn!(error = %e, "JetStream is not answering yet (no quorum?); retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    Ok(Connected {
        js,
        servers,
        stream_last,
    })
}

/// Starts a node on `node`, its floor as `crate::start::node_floor` built it (see the module
/// doc). `lateness`: `--lateness` in ms, for the answers' late counts.
pub(crate) fn start(
    (connected, cluster): (Connected, &ClusterSettings),
    node: NodeStart,
    (telemetry, pulse): (Arc<Telemetry>, Arc<Pulse>),
    lateness: Millis,
    shutdown: Shutdown,
) -> anyhow::Result<Node> {
    let Connected {
        js,
        servers,
        stream_last,
    } = connected;
    let status = Arc::new(NodeStatus::new(
        cluster.node.clone(),
        node.resumed.then_some(node.from_seq),
        stream_last,
    ));
    tracing::info!(
        node = %cluster.node,
        stream = stream::STREAM,
        replicas = stream::config(servers).num_replicas,
        from_seq = node.from_seq,
        stream_last,
        snapshot = node.resumed,
        "cluster node starting: consuming the stream"
    );
    pulse.set_clock(node.floor.now());
    let floor: SharedFloor = Arc::new(Mutex::new(node.floor));
    let (recorder, rx) = recorder::channel();
    let publisher = StreamPublisher::new(
        js.clone(),
        node.lookout,
        telemetry.clone(),
        pulse.clone(),
        lateness,
    );
    let publisher = tokio::spawn(publisher.run(rx));
    let (tx, deliveries) = mpsc::channel(READ_AHEAD);
    let consumer = tokio::spawn(apply::consume(
        js.clone(),
        (node.from_seq, status.clone()),
        tx,
        shutdown,
    ));
    let applier = NodeApplier {
        applier: Applier::new(floor.clone(), telemetry, pulse),
        seen: node.seen,
        days: node.days,
        history: node.history,
        checkpoints: node.checkpoints,
        status: status.clone(),
    }
    .spawn(deliveries)
    .context("starting the cluster applier thread")?;
    if status.health().caught_up {
        status.report_caught_up();
    }
    Ok(Node {
        floor,
        recorder,
        status,
        history_thread: node.history_thread,
        js,
        servers,
        publisher,
        consumer,
        applier,
    })
}

impl Node {
    /// Stops the node once shutdown has fired: what ingest queued is published, the consumer
    /// stops, the applier takes a last snapshot. Returns the history thread to join.
    pub(crate) async fn stop(self) -> Option<JoinHandle<()>> {
        self.recorder.stop().await;
        let _ = self.publisher.await;
        let _ = self.consumer.await;
        let applier = self.applier;
        let joined = tokio::task::spawn_blocking(move || applier.join()).await;
        if !matches!(joined, Ok(Ok(()))) {
            tracing::error!("the cluster applier thread ended abnormally");
        }
        self.history_thread
    }
}
