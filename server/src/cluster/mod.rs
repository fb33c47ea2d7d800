//! Cluster mode (issue 16, docs/CLUSTER.md): several `floorwatch` nodes fed one ordered,
//! replicated log on NATS JetStream compute the same figures, because the engine is
//! deterministic. This module holds what every part of cluster mode shares: the settings
//! (`--cluster`, `--cluster-node`, `--cluster-creds`, `--cluster-ca`) and the connection.
//!
//! - [`stream`]: the stream, its messages and positions; [`publish`]: ingest's side, batches
//!   published and answered once stored; [`apply`]: the consumer and the applier, the stream
//!   applied to the floor in order; [`clock`]: the clock's ticks from the lease holder;
//!   [`start`]: the floor from the node's snapshot; [`status`]: where the node stands, for
//!   `/healthz`; [`node`]: all of it wired.
//!
//! Single-node mode (no `--cluster`) never touches this module and keeps its own journal.

pub(crate) mod apply;
pub(crate) mod audit_stream;
pub(crate) mod clock;
pub(crate) mod kv_accounts;
pub(crate) mod kv_sessions;
pub(crate) mod logins;
mod nats;
pub(crate) mod node;
pub(crate) mod publish;
pub(crate) mod shared;
pub(crate) mod start;
pub(crate) mod status;
pub(crate) mod stream;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// What a node of a cluster leaves in its data dir, naming its NATS servers: the account and
/// audit commands refuse the data dir's own files there and say to give `--cluster`.
pub(crate) const CLUSTER_MARK: &str = "cluster.url";

/// How one node reaches the cluster's NATS servers, and who it is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClusterSettings {
    /// The NATS servers, each `nats://HOST:PORT` (or `tls://`); the client moves to another
    /// one of them when the one it uses goes away.
    pub(crate) servers: Vec<async_nats::ServerAddr>,
    /// This node's name: unique per node, shown in `/healthz` and on every frame so a screen
    /// knows which node it is on, and the consumer and lease holder's name in JetStream.
    pub(crate) node: String,
    /// A NATS credentials file (user JWT and nkey seed), when the servers require one.
    pub(crate) creds: Option<PathBuf>,
    /// A CA certificate for the servers' TLS; with it the connection requires TLS.
    pub(crate) ca: Option<PathBuf>,
}

/// Why the cluster cannot be reached.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClusterError {
    #[error("cluster credentials file {path}: {source}")]
    Credentials {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot connect to the cluster's NATS servers: {0}")]
    Connect(#[from] async_nats::ConnectError),
}

impl ClusterSettings {
    /// The settings from the flags (or the file's keys of the same names); `None` without
    /// `--cluster`. A mistake names its key, as every other setting's does.
    pub(crate) fn from_flags(
        urls: Option<&str>,
        node: Option<String>,
        creds: Option<PathBuf>,
        ca: Option<PathBuf>,
        listen: SocketAddr,
    ) -> Result<Option<ClusterSettings>, (&'static str, String)> {
        let Some(urls) = urls else {
            return match (&node, &creds, &ca) {
                (None, None, None) => Ok(None),
                (Some(_), _, _) => Err(("cluster-node", needs_cluster())),
                (_, Some(_), _) => Err(("cluster-creds", needs_cluster())),
                (_, _, Some(_)) => Err(("cluster-ca", needs_cluster())),
            };
        };
        let servers = urls
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|url| {
                url.parse::<async_nats::ServerAddr>().map_err(|e| {
                    (
                        "cluster",
                        format!("`{url}` is not a NATS server address such as nats://127.0.0.1:4222 ({e})"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if servers.is_empty() {
            return Err(("cluster", "name at least one NATS server".into()));
        }
        let node = match node {
            Some(name) => check_node_name(name)?,
            None => default_node_name(listen),
        };
        Ok(Some(ClusterSettings {
            servers,
            node,
            creds,
            ca,
        }))
    }

    /// Connects to the cluster's NATS servers. The client reconnects by itself for as long
    /// as the process runs (to any server of the list, and to servers the cluster tells it
    /// of); a first connection that fails is retried too, so nodes and NATS servers may start
    /// in any order.
    pub(crate) async fn connect(&self) -> Result<async_nats::Client, ClusterError> {
        let mut options = async_nats::ConnectOptions::new()
            .name(format!("floorwatch {}", self.node))
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            .max_reconnects(None);
        if let Some(path) = &self.creds {
            options = options.credentials_file(path).await.map_err(|source| {
                ClusterError::Credentials {
                    path: path.clone(),
                    source,
                }
            })?;
        }
        if let Some(ca) = &self.ca {
            options = options.add_root_certificates(ca.clone()).require_tls(true);
        }
        Ok(options.connect(self.servers.as_slice()).await?)
    }
}

fn needs_cluster() -> String {
    "is only used with --cluster".into()
}

/// Node names end up in JetStream consumer and KV key names: letters, digits, `-` and `_`.
fn check_node_name(name: String) -> Result<String, (&'static str, String)> {
    let fine = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if fine {
        Ok(name)
    } else {
        Err((
            "cluster-node",
            format!(
                "`{name}` is not a node name: use 1-64 letters, digits, `-` or `_` (it names the node's consumer in JetStream)"
            ),
        ))
    }
}

/// The host name and the listen port, which together are unique on a network of nodes.
fn default_node_name(listen: SocketAddr) -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into());
    let host: String = host
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(48)
        .collect();
    format!("{host}-{}", listen.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listen() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 8080))
    }

    #[test]
    fn without_cluster_there_are_no_cluster_settings() {
        assert_eq!(
            ClusterSettings::from_flags(None, None, None, None, listen()),
            Ok(None)
        );
    }

    #[test]
    fn a_cluster_flag_without_cluster_names_its_key() {
        let err =
            ClusterSettings::from_flags(None, Some("a".into()), None, None, listen()).unwrap_err();
        assert_eq!(err.0, "cluster-node");
    }

    #[test]
    fn servers_are_parsed_and_a_bad_one_is_named() {
        let settings = ClusterSettings::from_flags(
            Some("nats://127.0.0.1:4222, nats://127.0.0.1:4223"),
            Some("node-a".into()),
            None,
            None,
            listen(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(settings.servers.len(), 2);
        assert_eq!(settings.node, "node-a");
        let err = ClusterSettings::from_flags(Some("http://[nope"), None, None, None, listen())
            .unwrap_err();
        assert_eq!(err.0, "cluster");
        assert!(err.1.contains("http://[nope"), "{}", err.1);
    }

    #[test]
    fn a_node_name_must_be_usable_in_jetstream() {
        for bad in ["", "a.b", "a b", "a*"] {
            let err = ClusterSettings::from_flags(
                Some("nats://127.0.0.1:4222"),
                Some(bad.into()),
                None,
                None,
                listen(),
            )
            .unwrap_err();
            assert_eq!(err.0, "cluster-node", "{bad}");
        }
        let name = default_node_name(listen());
        assert!(check_node_name(name.clone()).is_ok(), "{name}");
    }
}
