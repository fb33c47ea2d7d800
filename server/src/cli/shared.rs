//! `--cluster URLS` of the account and audit commands: on a node of a cluster the accounts,
//! API tokens, paired screens and the audit trail are the cluster's (docs/CLUSTER.md, "Shared
//! state"), so the commands work on them through NATS instead of the data dir's files.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use floorwatch_core::Organisation;

use crate::accounts::Accounts;
use crate::audit::AuditTrail;
use crate::cluster::shared::SharedState;
use crate::cluster::{CLUSTER_MARK, ClusterSettings};
use crate::config::{DEFAULT_DATA_DIR, DataDir, Layer, Settings};

/// How long the commands wait for the cluster's NATS servers.
const CONNECT_WITHIN: Duration = Duration::from_secs(15);

/// Where the data dir is, for every administration command.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct DataDirArgs {
    /// The server's data dir [default: the config file's data-dir, else ./floorwatch-data].
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// The server's config file: its data-dir, and its organisation to check --scope against.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
}

impl DataDirArgs {
    /// The data dir, and the organisation when a config file was given.
    pub(crate) fn resolve(&self) -> anyhow::Result<(PathBuf, Option<Organisation>)> {
        let Some(config) = &self.config else {
            let dir = self
                .data_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
            return Ok((dir, None));
        };
        let flags = Layer {
            data_dir: self.data_dir.clone(),
            ..Layer::default()
        };
        let settings = Settings::layered(Some(config.clone()), flags)?;
        match settings.data_dir {
            DataDir::Given(dir) => Ok((dir, Some(settings.organisation))),
            DataDir::Temporary(_) => bail!(
                "{} runs a demo in a temporary data dir; give --data-dir",
                config.display()
            ),
        }
    }
}

/// The data dir, and the cluster when the server runs as one.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct StoreArgs {
    #[command(flatten)]
    pub(crate) store: DataDirArgs,
    /// The cluster's NATS servers (nats://HOST:PORT,...) when the server runs as a cluster:
    /// accounts and the audit trail are then the cluster's, the same on every node.
    #[arg(long, value_name = "URLS")]
    pub(crate) cluster: Option<String>,
}

impl StoreArgs {
    /// The data dir, and the organisation when a config file was given.
    pub(crate) fn resolve(&self) -> anyhow::Result<(PathBuf, Option<Organisation>)> {
        self.store.resolve()
    }

    /// The accounts: the cluster's with `--cluster`, else the data dir's.
    pub(crate) fn accounts(&self, dir: &Path) -> anyhow::Result<Accounts> {
        match self.shared(dir)? {
            Some(shared) => Ok(shared.accounts(dir)),
            None => Ok(Accounts::open(dir)),
        }
    }

    /// The audit trail: the cluster's with `--cluster`, else the data dir's.
    pub(crate) fn trail(&self, dir: &Path) -> anyhow::Result<AuditTrail> {
        match self.shared(dir)? {
            Some(shared) => Ok(AuditTrail::shared(dir, shared.audit.clone())),
            None => Ok(AuditTrail::open(dir)),
        }
    }

    fn shared(&self, dir: &Path) -> anyhow::Result<Option<SharedState>> {
        let Some(urls) = &self.cluster else {
            if let Ok(urls) = std::fs::read_to_string(dir.join(CLUSTER_MARK)) {
                bail!(
                    "{} belongs to a node of a cluster: its accounts and audit trail are the \
                     cluster's; give --cluster {}",
                    dir.display(),
                    urls.trim()
                );
            }
            return Ok(None);
        };
        let settings = ClusterSettings::from_flags(
            Some(urls),
            Some("cli".into()),
            None,
            None,
            SocketAddr::from(([127, 0, 0, 1], 0)),
        )
        .map_err(|(key, reason)| anyhow::anyhow!("--{key}: {reason}"))?
        .context("--cluster names no server")?;
        let runtime = runtime()?;
        let shared = runtime.block_on(async {
            let client = tokio::time::timeout(CONNECT_WITHIN, async {
                async_nats::ConnectOptions::new()
                    .name("floorwatch cli")
                    .connect(settings.servers.as_slice())
                    .await
            })
            .await
            .map_err(|_| anyhow::anyhow!("no NATS server of --cluster {urls} answered"))?
            .with_context(|| format!("connecting to --cluster {urls}"))?;
            let shared =
                SharedState::open(&client, &settings, Duration::from_secs(12 * 3600)).await?;
            anyhow::Ok(shared)
        })?;
        Ok(Some(shared))
    }
}

/// The runtime the cluster's client runs on, for the whole command: its calls are synchronous
/// (they wait on this runtime from the main thread).
fn runtime() -> anyhow::Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the cluster client's runtime")?;
    Ok(RUNTIME.get_or_init(|| runtime))
}
