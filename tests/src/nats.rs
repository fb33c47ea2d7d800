//! Real NATS servers for the cluster tests (issue 16, docs/CLUSTER.md): Debian's `nats-server`
//! with JetStream, on 127.0.0.1, in a temp directory each, killed on drop.
//!
//! A cluster's ports are chosen before its first start (each bound to port 0 and let go), so
//! every server can list every other one as a route, and a server killed mid-test comes back
//! on the same client and route ports: the Floorwatch nodes pointed at it reconnect by the
//! address they were given. Ready means JetStream answers: the monitor's `/healthz` says ok
//! on every server (in a cluster, once JetStream has a meta leader).
//!
//! `./scripts/setup --for-tests` installs the package.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a starting cluster may take until JetStream answers on every server.
pub const NATS_READY_TIMEOUT: Duration = Duration::from_secs(60);

/// One server's fixed ports.
#[derive(Debug, Clone, Copy)]
struct Ports {
    client: u16,
    route: u16,
    monitor: u16,
}

/// One `nats-server` of a [`NatsCluster`].
struct Node {
    name: String,
    ports: Ports,
    store: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

/// One stream of a [`NatsCluster`], as [`NatsCluster::streams`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamPlacement {
    /// The stream's name (`KV_floorwatch_effects` for the bucket `floorwatch_effects`).
    pub name: String,
    /// Copies kept (`num_replicas` of its configuration).
    pub replicas: u64,
    /// The server leading it (`n1`, ...), when the server asked knows.
    pub leader: Option<String>,
}

/// N `nats-server` processes with JetStream, clustered when N > 1. Killed (SIGKILL) on drop.
pub struct NatsCluster {
    /// Holds the servers' stores and logs; removed on drop.
    dir: tempfile::TempDir,
    nodes: Vec<Node>,
}

/// A free TCP port on 127.0.0.1 (bound to port 0, then let go).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port on 127.0.0.1: {e}"))
}

/// `n` distinct free TCP ports on 127.0.0.1. Each is held bound until all are chosen: one
/// [`free_port`] after another may be handed the same port twice (a server then found its
/// client port taken by its own monitor: "address already in use").
pub fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<TcpListener> = (0..n)
        .map(|_| {
            TcpListener::bind("127.0.0.1:0")
                .unwrap_or_else(|e| panic!("no free port on 127.0.0.1: {e}"))
        })
        .collect();
    held.iter()
        .map(|l| {
            l.local_addr()
                .map(|a| a.port())
                .unwrap_or_else(|e| panic!("no free port on 127.0.0.1: {e}"))
        })
        .collect()
}

impl NatsCluster {
    /// Starts `size` servers (1 = a lone JetStream server, 3 = a cluster that keeps a
    /// three-replica stream through the loss of one) and waits until JetStream answers on all.
    pub fn start(size: usize) -> NatsCluster {
        assert!(size >= 1, "a NATS cluster needs a server");
        let dir = tempfile::Builder::new()
            .prefix("floorwatch-nats-")
            .tempdir()
            .unwrap_or_else(|e| panic!("creating a temp dir for NATS: {e}"));
        let ports = free_ports(size * 3);
        let nodes = ports
            .chunks(3)
            .enumerate()
            .map(|(i, p)| {
                let name = format!("n{}", i + 1);
                Node {
                    store: dir.path().join(&name),
                    log: dir.path().join(format!("{name}.log")),
                    name,
                    ports: Ports {
                        client: p[0],
                        route: p[1],
                        monitor: p[2],
                    },
                    child: None,
                }
            })
            .collect();
        let mut cluster = NatsCluster { dir, nodes };
        for i in 0..size {
            cluster.spawn(i);
        }
        cluster.wait_ready();
        cluster
    }

    /// The client URLs, `nats://127.0.0.1:PORT,...`, as `floorwatch --cluster` takes them.
    pub fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("nats://127.0.0.1:{}", n.ports.client))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Server `i`'s client URL.
    pub fn url(&self, i: usize) -> String {
        format!("nats://127.0.0.1:{}", self.nodes[i].ports.client)
    }

    /// How many servers the cluster has (running or not).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Never true: a cluster has at least one server.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// SIGKILLs server `i` (its store stays for [`NatsCluster::restart`]).
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts server `i` again on its ports and store, and waits until JetStream answers on
    /// every running server.
    pub fn restart(&mut self, i: usize) {
        self.kill(i);
        self.spawn(i);
        self.wait_ready();
    }

    /// Every server's log, for a failing test's message.
    pub fn logs(&self) -> String {
        self.nodes
            .iter()
            .map(|n| {
                let text = std::fs::read_to_string(&n.log).unwrap_or_default();
                format!("--- nats {} ---\n{text}", n.name)
            })
            .collect()
    }

    fn spawn(&mut self, i: usize) {
        let routes = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, n)| format!("nats://127.0.0.1:{}", n.ports.route))
            .collect::<Vec<_>>()
            .join(",");
        let node = &self.nodes[i];
        let mut command = Command::new(crate::installed("nats-server"));
        command
            .args(["--jetstream", "--store_dir"])
            .arg(&node.store)
            .args(["--addr", "127.0.0.1", "--port"])
            .arg(node.ports.client.to_string())
            .args(["--http_port"])
            .arg(node.ports.monitor.to_string())
            .args(["--server_name", &node.name, "--log"])
            .arg(&node.log);
        if self.nodes.len() > 1 {
            command
                .args(["--cluster_name", "floorwatch-test", "--cluster"])
                .arg(format!("nats://127.0.0.1:{}", node.ports.route))
                .args(["--routes", &routes]);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting nats-server {}: {e}", node.name));
        self.nodes[i].child = Some(child);
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + NATS_READY_TIMEOUT;
        for node in self.nodes.iter().filter(|n| n.child.is_some()) {
            let url = format!("http://127.0.0.1:{}/healthz", node.ports.monitor);
            loop {
                let ok = ureq::get(&url)
                    .call()
                    .map(|r| r.status() == 200)
                    .unwrap_or(false);
                if ok {
                    break;
                }
                if Instant::now() > deadline {
                    panic!(
                        "nats-server {} did not become ready in {NATS_READY_TIMEOUT:?}:\n{}",
                        node.name,
                        self.logs()
                    );
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// The streams JetStream holds (an event stream, every KV bucket's `KV_NAME` stream), as a
    /// running server's monitor reports them (`/jsz`): how many copies each has and which
    /// server (`n1`, `n2`, ...) leads it. Asked of every running server until one answers
    /// with the stream details (a server that just lost its meta leader may not).
    pub fn streams(&self) -> Vec<StreamPlacement> {
        let mut last = String::new();
        for node in self.nodes.iter().filter(|n| n.child.is_some()) {
            let url = format!(
                "http://127.0.0.1:{}/jsz?accounts=true&streams=true&config=true",
                node.ports.monitor
            );
            let jsz: serde_json::Value = match ureq::get(&url).call() {
                Ok(mut reply) => match reply.body_mut().read_json() {
                    Ok(v) => v,
                    Err(e) => {
                        last = e.to_string();
                        continue;
                    }
                },
                Err(e) => {
                    last = e.to_string();
                    continue;
                }
            };
            let streams: Vec<StreamPlacement> = jsz["account_details"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|account| account["stream_detail"].as_array().into_iter().flatten())
                .map(|stream| StreamPlacement {
                    name: stream["name"].as_str().unwrap_or_default().to_string(),
                    replicas: stream["config"]["num_replicas"].as_u64().unwrap_or(0),
                    leader: stream["cluster"]["leader"].as_str().map(str::to_string),
                })
                .collect();
            if !streams.is_empty() {
                return streams;
            }
            last = jsz.to_string();
        }
        panic!("no NATS server reported its streams: {last}")
    }

    /// The index (for [`NatsCluster::kill`]) of the server named `name` (`n1`, ...).
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// The directory holding the servers' stores and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}
