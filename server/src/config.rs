//! The server's settings: one [`Layer`] of options, given as flags or as keys of the same names
//! in an optional TOML file (which also holds the organisation tree, `[centre]`, `[[sites]]`,
//! `[[queues]]`, and the `[alerts]` and `[[sources]]` tables), resolved into [`Settings`].
//!
//! Flags win over the file, the file wins over the defaults. Each setting is declared once, in
//! [`Layer`]: its flag and key, its doc (the `--help` text) and its default (`[default: ...]`,
//! applied in [`Settings::from_layer`]). Every mistake is reported with the key at fault, before
//! anything is opened or bound.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::ValueEnum;
use floorwatch_core::org::{Centre, QueueConfig, Site};
use floorwatch_core::{OrgError, Organisation};
use serde::Deserialize;

use crate::alerts::settings::{AlertSettings, AlertSettingsError};
use crate::digest::settings::{DigestSettings, DigestSettingsError};
use crate::horizon::ClockMode;
use crate::ndjson_log::FsyncPolicy;
use crate::secret::Secret;

/// How a setting given in a higher layer (the flags) covers the same one in a lower layer (the
/// file).
trait Layered {
    fn over(self, under: Self) -> Self;
}

impl<T> Layered for Option<T> {
    fn over(self, under: Self) -> Self {
        self.or(under)
    }
}

/// A switch is on if either layer turns it on.
impl Layered for bool {
    fn over(self, under: Self) -> Self {
        self || under
    }
}

/// Tables only the file has.
impl<T> Layered for Vec<T> {
    fn over(self, under: Self) -> Self {
        if self.is_empty() { under } else { self }
    }
}

/// Declares [`Layer`] and its [`Layer::over`] from one list of fields.
macro_rules! layer {
    ($(#[$struct_meta:meta])* struct $name:ident { $( $(#[$meta:meta])* $field:ident : $ty:ty, )* }) => {
        $(#[$struct_meta])*
        pub(crate) struct $name { $( $(#[$meta])* pub(crate) $field: $ty, )* }

        impl $name {
            /// These settings where given, `under`'s where not.
            pub(crate) fn over(self, under: $name) -> $name {
                $name { $( $field: Layered::over(self.$field, under.$field), )* }
            }
        }
    };
}

layer! {
    /// One layer of settings: the command line's flags or the config file's keys (the flags'
    /// names in kebab-case). A setting left out is `None` (or empty) and falls through to the
    /// layer below, then to its default.
    #[derive(Debug, Default, clap::Args, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    struct Layer {
    /// Address to serve HTTP and websockets on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR", value_parser = parse_listen)]
    listen: Option<String>,
    /// Where the event journal lives [default: ./floorwatch-data; with --demo: a fresh
    /// temporary directory, removed at exit].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The centre's IANA time zone, whose midnight (plus reset time) starts "today".
    #[arg(long, value_name = "ZONE")]
    timezone: Option<String>,
    /// Centre-wide service-level threshold T in seconds, for queues that set none.
    #[arg(long, value_name = "SECS")]
    service_level_threshold: Option<u32>,
    /// Centre-wide short-abandon limit in seconds, for queues that set none.
    #[arg(long, value_name = "SECS")]
    short_abandon: Option<u32>,
    /// Feed the server from the embedded simulator in real time (a live floor at once).
    #[arg(long)]
    #[serde(default)]
    demo: bool,
    /// Seed of the --demo simulation [default: taken from the wall clock].
    #[arg(long, value_name = "N")]
    demo_seed: Option<u64>,
    /// `wall`: time advances with the wall clock and with events; `events`: only event time
    /// advances it, so a replayed day shows as if live [default: wall].
    #[arg(long, value_enum)]
    clock: Option<ClockMode>,
    /// Token ingest clients must send as `Authorization: Bearer TOKEN`. Without one, ingest is
    /// accepted from loopback clients only.
    #[arg(
        long,
        env = "FLOORWATCH_INGEST_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    ingest_token: Option<Secret>,
    /// Events older than the floor's clock minus this many seconds are counted and reported as
    /// late (they are still applied) [default: 30].
    #[arg(long, value_name = "SECS")]
    lateness: Option<u64>,
    /// With `--clock wall`: events more than this many seconds ahead of the wall clock are
    /// refused (a switch with a wrong clock, a typo in a replay) [default: 300].
    #[arg(long, value_name = "SECS")]
    max_future: Option<u64>,
    /// With `--clock events`: events more than this many seconds ahead of the latest accepted
    /// event are refused, unless the journal is empty; raise it to replay a day long after the
    /// last one [default: 86400].
    #[arg(long, value_name = "SECS")]
    max_jump: Option<u64>,
    /// Days of history (every scope's quarter-hours, docs/HISTORY.md) kept; 0 keeps none and
    /// turns history off [default: 400].
    #[arg(long, value_name = "DAYS")]
    history_days: Option<u32>,
    /// Seconds between checkpoints of the floor while events arrive (one is also written at a
    /// graceful stop); 0 writes none and starts by replaying the whole journal [default: 300].
    #[arg(long, value_name = "SECS")]
    checkpoint_every_s: Option<u64>,
    /// Days of journal segments kept, to rebuild history from [default: 35].
    #[arg(long, value_name = "DAYS")]
    journal_days: Option<u32>,
    /// Live deltas are coalesced and sent at most this often [default: 250].
    #[arg(long, value_name = "MS")]
    push_interval_ms: Option<u64>,
    /// A live client that got nothing for this long gets a heartbeat [default: 5000].
    #[arg(long, value_name = "MS")]
    heartbeat_ms: Option<u64>,
    /// When the journal is synced to disk: `batch` (before every acknowledgement) or `never`
    /// (left to the OS: survives a crash of the server, not of the machine) [default: batch].
    #[arg(long, value_enum)]
    fsync: Option<FsyncPolicy>,
    /// Directory of the wallboard bundle served at `/` [default: the bundle built into the
    /// server (release builds), or the workspace's target/dist (debug builds)].
    #[arg(long, env = "FLOORWATCH_ASSETS", value_name = "DIR")]
    assets: Option<PathBuf>,
    /// Largest accepted `POST /api/v1/events` body, bytes [default: 16777216].
    #[arg(long, value_name = "BYTES")]
    max_body_bytes: Option<usize>,
    /// Largest accepted websocket message, bytes [default: 4194304].
    #[arg(long, value_name = "BYTES")]
    max_frame_bytes: Option<usize>,
    /// Frames queued per live client before its stale deltas are dropped and it is resynced
    /// [default: 8].
    #[arg(long, value_name = "N")]
    client_queue_frames: Option<usize>,
    /// A live client that cannot take a frame for this long is disconnected [default: 10000].
    #[arg(long, value_name = "MS")]
    slow_client_timeout_ms: Option<u64>,
    /// A request head (its first byte to its blank line) must arrive within this long, or the
    /// connection is closed [default: 10000].
    #[arg(long, value_name = "MS")]
    header_timeout_ms: Option<u64>,
    /// A request body must arrive within this long after its head, or the request is
    /// answered 408 [default: 30000].
    #[arg(long, value_name = "MS")]
    body_timeout_ms: Option<u64>,
    /// A connection with no request in progress and nothing sent either way for this long is
    /// closed (a new connection too, until its first byte) [default: 60000].
    #[arg(long, value_name = "MS")]
    idle_connection_timeout_ms: Option<u64>,
    /// Most connections open at once from one client address (an IPv6 client counts as its
    /// /64); 0 for no cap, e.g. behind a reverse proxy [default: 64].
    #[arg(long, value_name = "N")]
    max_connections_per_address: Option<usize>,
    /// Log format on stderr [default: text].
    #[arg(long, value_enum)]
    log_format: Option<LogFormat>,
    /// PEM certificate chain: serve HTTPS and wss instead of HTTP and ws (with --tls-key).
    #[arg(long, value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// A signed-in session ends after this many seconds without user activity (wall displays
    /// never idle out) [default: 1800].
    #[arg(long, value_name = "SECS")]
    session_idle_timeout: Option<u64>,
    /// No session lasts longer than this many seconds, however busy [default: 43200].
    #[arg(long, value_name = "SECS")]
    session_max: Option<u64>,
    /// Run as one node of a cluster (docs/CLUSTER.md): the NATS servers of its JetStream,
    /// `nats://HOST:PORT[,nats://HOST:PORT...]`. Without it the server is a single node with
    /// its own journal.
    #[arg(long, value_name = "URLS")]
    cluster: Option<String>,
    /// This node's name in the cluster, unique per node [default: the host name and the
    /// listen port].
    #[arg(long, value_name = "NAME")]
    cluster_node: Option<String>,
    /// NATS credentials file (a user JWT and nkey seed) for --cluster.
    #[arg(long, value_name = "FILE")]
    cluster_creds: Option<PathBuf>,
    /// PEM CA certificate the NATS servers' TLS certificates are checked against; with it
    /// the connection requires TLS.
    #[arg(long, value_name = "FILE")]
    cluster_ca: Option<PathBuf>,
        /// The centre (`[centre]`): file only.
        #[arg(skip)]
        centre: Option<Centre>,
        /// The sites (`[[sites]]`): file only.
        #[arg(skip)]
        #[serde(default)]
        sites: Vec<Site>,
        /// The queues (`[[queues]]`): file only.
        #[arg(skip)]
        #[serde(default)]
        queues: Vec<QueueConfig>,
        /// Alert rules and webhooks (docs/ALERTS.md); read by `crate::alerts::settings`.
        #[arg(skip)]
        alerts: Option<toml::Table>,
        /// The morning digest (docs/HISTORY.md, "The morning digest"); read by
        /// `crate::digest::settings`.
        #[arg(skip)]
        digest: Option<toml::Table>,
        /// CTI sources (docs/CTI.md, "Sources"); read by `crate::sources`.
        #[arg(skip)]
        #[serde(default)]
        sources: Vec<toml::Table>,
    }
}

/// `--listen`: checked as an address when parsed, kept as given (the file's key is checked
/// with the other settings).
fn parse_listen(text: &str) -> Result<String, std::net::AddrParseError> {
    text.parse::<SocketAddr>().map(|_| text.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
/// How the server logs on stderr (`--log-format`).
pub(crate) enum LogFormat {
    Text,
    Json,
}

/// Where the data directory comes from; a temporary one is removed at exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DataDir {
    Given(PathBuf),
    /// `--demo` without `--data-dir`: a fresh directory under the system's temp dir.
    Temporary(PathBuf),
}

impl DataDir {
    pub(crate) fn path(&self) -> &Path {
        match self {
            DataDir::Given(p) | DataDir::Temporary(p) => p,
        }
    }
}

/// Everything the server runs with, resolved and validated. Public because `main` loads it
/// (and reports a mistake) before logging and the async runtime start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The `--config` file these settings were read from, if any (the actor of configuration
    /// audit records, docs/SECURITY.md).
    pub(crate) config_file: Option<PathBuf>,
    pub(crate) listen: SocketAddr,
    pub(crate) data_dir: DataDir,
    pub(crate) organisation: Organisation,
    pub(crate) demo: bool,
    pub(crate) demo_seed: Option<u64>,
    pub(crate) clock: ClockMode,
    pub(crate) ingest_token: Option<Secret>,
    pub(crate) lateness: Duration,
    /// How far ahead of the server's clock an event may be (`--max-future`, `--max-jump`).
    pub(crate) horizon: crate::horizon::Horizon,
    /// Days of history rows kept; 0: history off (docs/HISTORY.md).
    pub(crate) history_days: u32,
    /// Days of journal segments kept.
    pub(crate) journal_days: u32,
    /// Between checkpoints of the floor; zero: none (docs/ARCHITECTURE.md, "Checkpoints").
    pub(crate) checkpoint_every: Duration,
    pub(crate) push_interval: Duration,
    pub(crate) heartbeat: Duration,
    pub(crate) fsync: FsyncPolicy,
    /// `None`: the bundle built into the binary (`crate::http` `assets`).
    pub(crate) assets: Option<PathBuf>,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_frame_bytes: usize,
    pub(crate) client_queue_frames: usize,
    pub(crate) slow_client_timeout: Duration,
    /// Connection time limits and the per-address cap (docs/SECURITY.md, "Connections").
    pub(crate) connections: crate::serve::Limits,
    pub(crate) log_format: LogFormat,
    /// `--tls-cert` and `--tls-key`: HTTPS and wss (docs/SECURITY.md).
    pub(crate) tls: Option<crate::tls::TlsFiles>,
    /// Sessions end after this long without user activity (docs/SECURITY.md).
    pub(crate) session_idle_timeout: Duration,
    /// ... and after this long at most.
    pub(crate) session_max: Duration,
    /// The `[alerts]` table: rules and webhooks, checked against the organisation.
    pub(crate) alerts: AlertSettings,
    /// The `[digest]` table: the morning digest's time, relay and recipients; none without it.
    pub(crate) digest: Option<DigestSettings>,
    /// The `[[sources]]` tables: switches and files the server reads itself.
    pub(crate) sources: Vec<crate::sources::SourceConfig>,
    /// `--cluster`: this server is one node of a cluster on NATS JetStream; none for a single
    /// node with its own journal (docs/CLUSTER.md).
    pub(crate) cluster: Option<crate::cluster::ClusterSettings>,
    /// The centre-wide overrides given as flags or top-level keys, re-applied to the demo's
    /// organisation.
    centre_overrides: CentreOverrides,
}

#[derive(Debug, Clone, Default)]
struct CentreOverrides {
    timezone: Option<String>,
    service_level_threshold: Option<u32>,
    short_abandon: Option<u32>,
}

impl CentreOverrides {
    fn apply(&self, org: &mut Organisation) {
        if let Some(zone) = &self.timezone {
            org.centre.timezone = zone.clone();
        }
        if let Some(t) = self.service_level_threshold {
            org.centre.service_level.threshold_s = t;
        }
        if let Some(s) = self.short_abandon {
            org.centre.service_level.short_abandon_s = s;
        }
    }
}

/// Why the server cannot start with the flags and file it was given: one line naming the file
/// or key at fault, for the operator (`main` prints it before logging is set up).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct SettingsError(#[from] ConfigError);

/// A configuration mistake, naming the file or key at fault.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config: {0}")]
    Organisation(#[from] OrgError),
    #[error("config key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
    #[error("config: {0}")]
    Alerts(#[from] AlertSettingsError),
    #[error("config: {0}")]
    Digest(#[from] DigestSettingsError),
    #[error("config: {0}")]
    Sources(#[from] crate::sources::SourceConfigError),
}

const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub(crate) const DEFAULT_DATA_DIR: &str = "floorwatch-data";
/// Name prefix of the temporary data dirs of `--demo` runs.
pub(crate) const DEMO_DIR_PREFIX: &str = "floorwatch-demo-";

impl Settings {
    /// Whether logs are JSON lines (`--log-format json`) rather than text: `main` sets up
    /// logging before the server starts.
    pub fn json_logs(&self) -> bool {
        self.log_format == LogFormat::Json
    }

    /// `flags` over the file `config` (if any) over the defaults.
    pub(crate) fn layered(config: Option<PathBuf>, flags: Layer) -> Result<Settings, ConfigError> {
        let file = match &config {
            Some(path) => read_file(path)?,
            None => Layer::default(),
        };
        let mut settings = Settings::from_layer(flags.over(file))?;
        settings.config_file = config;
        Ok(settings)
    }

    /// The settings of `layer`, each default applied where it gives none.
    fn from_layer(layer: Layer) -> Result<Settings, ConfigError> {
        let text = layer.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
        let listen = text.parse().map_err(|e| ConfigError::Invalid {
            key: "listen",
            message: format!("`{text}` is not an address such as 127.0.0.1:8080 ({e})"),
        })?;
        let demo = layer.demo;
        let data_dir = match layer.data_dir {
            Some(dir) => DataDir::Given(dir),
            None if demo => DataDir::Temporary(std::env::temp_dir().join(format!(
                "{DEMO_DIR_PREFIX}{}-{}",
                std::process::id(),
                jiff::Timestamp::now().as_millisecond()
            ))),
            None => DataDir::Given(PathBuf::from(DEFAULT_DATA_DIR)),
        };
        let centre_overrides = CentreOverrides {
            timezone: layer.timezone,
            service_level_threshold: layer.service_level_threshold,
            short_abandon: layer.short_abandon,
        };
        let mut organisation = Organisation {
            centre: layer.centre.unwrap_or_default(),
            sites: layer.sites,
            queues: layer.queues,
        };
        centre_overrides.apply(&mut organisation);
        organisation.validate()?;
        let alerts = match layer.alerts {
            Some(table) => AlertSettings::from_table(table, &organisation)?,
            None => AlertSettings::default(),
        };
        let digest = layer
            .digest
            .map(|table| DigestSettings::from_table(table, &organisation))
            .transpose()?;
        let sources = crate::sources::from_tables(layer.sources)?;
        let clock = layer.clock.unwrap_or(ClockMode::Wall);
        let cluster = crate::cluster::ClusterSettings::from_flags(
            layer.cluster.as_deref(),
            layer.cluster_node,
            layer.cluster_creds,
            layer.cluster_ca,
            listen,
        )
        .map_err(|(key, message)| ConfigError::Invalid { key, message })?;
        let ms = |value: Option<u64>, default: u64| Duration::from_millis(value.unwrap_or(default));
        let secs = |value: Option<u64>, default: u64| Duration::from_secs(value.unwrap_or(default));
        let settings = Settings {
            config_file: None,
            listen,
            data_dir,
            organisation,
            demo,
            demo_seed: layer.demo_seed,
            clock,
            ingest_token: layer.ingest_token.filter(|t| !t.expose().is_empty()),
            lateness: secs(layer.lateness, 30),
            horizon: crate::horizon::Horizon::new(clock, layer.max_future, layer.max_jump)
                .map_err(|(key, message)| ConfigError::Invalid { key, message })?,
            history_days: layer.history_days.unwrap_or(crate::history::HISTORY_DAYS),
            journal_days: layer.journal_days.unwrap_or(crate::history::JOURNAL_DAYS),
            checkpoint_every: secs(layer.checkpoint_every_s, 300),
            push_interval: ms(layer.push_interval_ms, 250),
            heartbeat: ms(layer.heartbeat_ms, 5_000),
            fsync: layer.fsync.unwrap_or(FsyncPolicy::Batch),
            assets: layer.assets,
            max_body_bytes: layer.max_body_bytes.unwrap_or(16 << 20),
            max_frame_bytes: layer.max_frame_bytes.unwrap_or(4 << 20),
            client_queue_frames: layer.client_queue_frames.unwrap_or(8),
            slow_client_timeout: ms(layer.slow_client_timeout_ms, 10_000),
            connections: crate::serve::Limits {
                header: ms(layer.header_timeout_ms, 10_000),
                body: ms(layer.body_timeout_ms, 30_000),
                idle: ms(layer.idle_connection_timeout_ms, 60_000),
                per_address: layer.max_connections_per_address.unwrap_or(64),
            },
            log_format: layer.log_format.unwrap_or(LogFormat::Text),
            tls: crate::tls::TlsFiles::pair(layer.tls_cert, layer.tls_key)
                .map_err(|(key, message)| ConfigError::Invalid { key, message })?,
            session_idle_timeout: secs(layer.session_idle_timeout, 30 * 60),
            session_max: secs(layer.session_max, 12 * 3600),
            alerts,
            digest,
            sources,
            cluster,
            centre_overrides,
        };
        settings.check_ranges()?;
        Ok(settings)
    }

    fn check_ranges(&self) -> Result<(), ConfigError> {
        let ms = |d: Duration| d.as_millis() as u64;
        range("push-interval-ms", ms(self.push_interval), 10, 60_000)?;
        range("heartbeat-ms", ms(self.heartbeat), 100, 300_000)?;
        range(
            "slow-client-timeout-ms",
            ms(self.slow_client_timeout),
            100,
            600_000,
        )?;
        range(
            "header-timeout-ms",
            ms(self.connections.header),
            100,
            600_000,
        )?;
        range("body-timeout-ms", ms(self.connections.body), 100, 3_600_000)?;
        range(
            "idle-connection-timeout-ms",
            ms(self.connections.idle),
            100,
            3_600_000,
        )?;
        range(
            "max-connections-per-address",
            self.connections.per_address as u64,
            0,
            1_000_000,
        )?;
        range("lateness", self.lateness.as_secs(), 0, 86_400)?;
        range(
            "session-idle-timeout",
            self.session_idle_timeout.as_secs(),
            1,
            86_400,
        )?;
        range("session-max", self.session_max.as_secs(), 1, 7 * 86_400)?;
        range("max-body-bytes", self.max_body_bytes as u64, 1024, 1 << 30)?;
        range(
            "max-frame-bytes",
            self.max_frame_bytes as u64,
            1024,
            1 << 30,
        )?;
        range(
            "client-queue-frames",
            self.client_queue_frames as u64,
            1,
            4096,
        )?;
        Ok(())
    }

    /// Replaces the organisation (the demo brings its own), keeping the centre-wide overrides
    /// given as flags or keys.
    pub(crate) fn use_organisation(&mut self, mut org: Organisation) -> Result<(), ConfigError> {
        self.centre_overrides.apply(&mut org);
        org.validate()?;
        self.alerts.check(&org)?;
        if let Some(digest) = &self.digest {
            digest.check(&org)?;
        }
        self.organisation = org;
        Ok(())
    }
}

fn range(key: &'static str, value: u64, min: u64, max: u64) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            key,
            message: format!("{value} is outside {min}..={max}"),
        })
    }
}

fn read_file(path: &Path) -> Result<Layer, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_file(path, &text)
}

fn parse_file(path: &Path, text: &str) -> Result<Layer, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests;
