//! The server's settings: command-line flags, an optional TOML file with keys of the same names,
//! and the organisation tree (`[centre]`, `[[sites]]`, `[[queues]]`) from that file.
//!
//! Flags win over the file, the file wins over the defaults. Every mistake is reported with the
//! key at fault, before anything is opened or bound.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use floorwatch_core::org::{Centre, QueueConfig, Site};
use floorwatch_core::{OrgError, Organisation};
use serde::Deserialize;

use crate::alerts::settings::{AlertSettings, AlertSettingsError};
use crate::secret::Secret;

/// `floorwatch`: the live call-centre wallboard server.
#[derive(Debug, Default, Parser)]
#[command(
    name = "floorwatch",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Administration on the data dir (docs/SECURITY.md); without one, the server runs.
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    /// TOML file with any of the keys below (same names as the flags) plus the organisation:
    /// `[centre]`, `[[sites]]`, `[[queues]]`. Flags win over the file.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Address to serve HTTP and websockets on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: Option<SocketAddr>,
    /// Where the event journal lives [default: ./floorwatch-data; with --demo: a fresh
    /// temporary directory, removed at exit].
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// The centre's IANA time zone, whose midnight (plus reset time) starts "today".
    #[arg(long, value_name = "ZONE")]
    pub(crate) timezone: Option<String>,
    /// Centre-wide service-level threshold T in seconds, for queues that set none.
    #[arg(long, value_name = "SECS")]
    pub(crate) service_level_threshold: Option<u32>,
    /// Centre-wide short-abandon limit in seconds, for queues that set none.
    #[arg(long, value_name = "SECS")]
    pub(crate) short_abandon: Option<u32>,
    /// Feed the server from the embedded simulator in real time (a live floor at once).
    #[arg(long)]
    pub(crate) demo: bool,
    /// Seed of the --demo simulation [default: taken from the wall clock].
    #[arg(long, value_name = "N")]
    pub(crate) demo_seed: Option<u64>,
    /// `wall`: time advances with the wall clock and with events; `events`: only event time
    /// advances it, so a replayed day shows as if live [default: wall].
    #[arg(long, value_enum)]
    pub(crate) clock: Option<ClockMode>,
    /// Token ingest clients must send as `Authorization: Bearer TOKEN`. Without one, ingest is
    /// accepted from loopback clients only.
    #[arg(
        long,
        env = "FLOORWATCH_INGEST_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub(crate) ingest_token: Option<Secret>,
    /// Events older than the floor's clock minus this many seconds are counted and reported as
    /// late (they are still applied) [default: 30].
    #[arg(long, value_name = "SECS")]
    pub(crate) lateness: Option<u64>,
    /// With `--clock wall`: events more than this many seconds ahead of the wall clock are
    /// refused (a switch with a wrong clock, a typo in a replay) [default: 300].
    #[arg(long, value_name = "SECS")]
    pub(crate) max_future: Option<u64>,
    /// With `--clock events`: events more than this many seconds ahead of the latest accepted
    /// event are refused, unless the journal is empty; raise it to replay a day long after the
    /// last one [default: 86400].
    #[arg(long, value_name = "SECS")]
    pub(crate) max_jump: Option<u64>,
    /// Live deltas are coalesced and sent at most this often [default: 250].
    #[arg(long, value_name = "MS")]
    pub(crate) push_interval_ms: Option<u64>,
    /// A live client that got nothing for this long gets a heartbeat [default: 5000].
    #[arg(long, value_name = "MS")]
    pub(crate) heartbeat_ms: Option<u64>,
    /// When the journal is synced to disk: `batch` (before every acknowledgement) or `never`
    /// (left to the OS: survives a crash of the server, not of the machine) [default: batch].
    #[arg(long, value_enum)]
    pub(crate) fsync: Option<FsyncPolicy>,
    /// Directory of the wallboard bundle served at `/` [default: target/dist].
    #[arg(long, env = "FLOORWATCH_ASSETS", value_name = "DIR")]
    pub(crate) assets: Option<PathBuf>,
    /// Largest accepted `POST /api/v1/events` body, bytes [default: 16777216].
    #[arg(long, value_name = "BYTES")]
    pub(crate) max_body_bytes: Option<usize>,
    /// Largest accepted websocket message, bytes [default: 4194304].
    #[arg(long, value_name = "BYTES")]
    pub(crate) max_frame_bytes: Option<usize>,
    /// Frames queued per live client before its stale deltas are dropped and it is resynced
    /// [default: 8].
    #[arg(long, value_name = "N")]
    pub(crate) client_queue_frames: Option<usize>,
    /// A live client that cannot take a frame for this long is disconnected [default: 10000].
    #[arg(long, value_name = "MS")]
    pub(crate) slow_client_timeout_ms: Option<u64>,
    /// A request head (its first byte to its blank line) must arrive within this long, or the
    /// connection is closed [default: 10000].
    #[arg(long, value_name = "MS")]
    pub(crate) header_timeout_ms: Option<u64>,
    /// A request body must arrive within this long after its head, or the request is
    /// answered 408 [default: 30000].
    #[arg(long, value_name = "MS")]
    pub(crate) body_timeout_ms: Option<u64>,
    /// A connection with no request in progress and nothing sent either way for this long is
    /// closed (a new connection too, until its first byte) [default: 60000].
    #[arg(long, value_name = "MS")]
    pub(crate) idle_connection_timeout_ms: Option<u64>,
    /// Most connections open at once from one client address (an IPv6 client counts as its
    /// /64); 0 for no cap, e.g. behind a reverse proxy [default: 64].
    #[arg(long, value_name = "N")]
    pub(crate) max_connections_per_address: Option<usize>,
    /// Log format on stderr [default: text].
    #[arg(long, value_enum)]
    pub(crate) log_format: Option<LogFormat>,
    /// PEM certificate chain: serve HTTPS and wss instead of HTTP and ws (with --tls-key).
    #[arg(long, value_name = "FILE")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE")]
    pub(crate) tls_key: Option<PathBuf>,
    /// A signed-in session ends after this many seconds without user activity (wall displays
    /// never idle out) [default: 1800].
    #[arg(long, value_name = "SECS")]
    pub(crate) session_idle_timeout: Option<u64>,
    /// No session lasts longer than this many seconds, however busy [default: 43200].
    #[arg(long, value_name = "SECS")]
    pub(crate) session_max: Option<u64>,
}

/// `floorwatch user|token|device|audit|journal ...`: accounts, API tokens and the audit trail of a data dir,
/// with or without the server running (docs/SECURITY.md).
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Accounts: add, passwd, disable, list.
    #[command(subcommand)]
    User(crate::accounts::command::UserCommand),
    /// API tokens for scripts: create, list, revoke.
    #[command(subcommand)]
    Token(crate::accounts::command::TokenCommand),
    /// Paired screens (wall TVs): add, list, revoke.
    #[command(subcommand)]
    Device(crate::accounts::command::DeviceCommand),
    /// The audit trail: verify its hash chain, list records.
    #[command(subcommand)]
    Audit(crate::audit::command::AuditCommand),
    /// The event journal: check what a start would replay and set aside.
    #[command(subcommand)]
    Journal(crate::journal_command::JournalCommand),
}

impl Cli {
    /// Runs the administration subcommand, if one was given (the server does not start then);
    /// the exit code says whether it succeeded.
    pub fn run_command(&mut self) -> Option<std::process::ExitCode> {
        self.command.take().map(Command::run)
    }
}

impl Command {
    /// Runs the command to its end; the exit code says whether it succeeded.
    pub(crate) fn run(self) -> std::process::ExitCode {
        match self {
            Command::User(command) => command.run(),
            Command::Token(command) => command.run(),
            Command::Device(command) => command.run(),
            Command::Audit(command) => command.run(),
            Command::Journal(command) => command.run(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ClockMode {
    Wall,
    Events,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum FsyncPolicy {
    Batch,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
/// How the server logs on stderr (`--log-format`); public because `main` sets up logging
/// before anything else runs.
pub enum LogFormat {
    /// One human-readable line per event (colours on a terminal).
    Text,
    /// One JSON object per event, for a log collector.
    Json,
}

/// The `--config` file: the flags' names as keys, plus the organisation tables.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    timezone: Option<String>,
    service_level_threshold: Option<u32>,
    short_abandon: Option<u32>,
    #[serde(default)]
    demo: bool,
    demo_seed: Option<u64>,
    clock: Option<ClockMode>,
    ingest_token: Option<Secret>,
    lateness: Option<u64>,
    max_future: Option<u64>,
    max_jump: Option<u64>,
    push_interval_ms: Option<u64>,
    heartbeat_ms: Option<u64>,
    fsync: Option<FsyncPolicy>,
    assets: Option<PathBuf>,
    max_body_bytes: Option<usize>,
    max_frame_bytes: Option<usize>,
    client_queue_frames: Option<usize>,
    slow_client_timeout_ms: Option<u64>,
    header_timeout_ms: Option<u64>,
    body_timeout_ms: Option<u64>,
    idle_connection_timeout_ms: Option<u64>,
    max_connections_per_address: Option<usize>,
    log_format: Option<LogFormat>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    session_idle_timeout: Option<u64>,
    session_max: Option<u64>,
    centre: Option<Centre>,
    #[serde(default)]
    sites: Vec<Site>,
    #[serde(default)]
    queues: Vec<QueueConfig>,
    /// Alert rules and webhooks (docs/ALERTS.md); read by `crate::alerts::settings`.
    alerts: Option<toml::Table>,
    /// CTI sources (docs/CTI.md, "Sources"); read by `crate::sources`.
    #[serde(default)]
    sources: Vec<toml::Table>,
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
    pub(crate) push_interval: Duration,
    pub(crate) heartbeat: Duration,
    pub(crate) fsync: FsyncPolicy,
    pub(crate) assets: PathBuf,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_frame_bytes: usize,
    pub(crate) client_queue_frames: usize,
    pub(crate) slow_client_timeout: Duration,
    /// Connection time limits and the per-address cap (docs/SECURITY.md, "Connections").
    pub(crate) connections: crate::serve::Limits,
    /// The log format, which `main` needs before the server starts.
    pub log_format: LogFormat,
    /// `--tls-cert` and `--tls-key`: HTTPS and wss (docs/SECURITY.md).
    pub(crate) tls: Option<crate::tls::TlsFiles>,
    /// Sessions end after this long without user activity (docs/SECURITY.md).
    pub(crate) session_idle_timeout: Duration,
    /// ... and after this long at most.
    pub(crate) session_max: Duration,
    /// The `[alerts]` table: rules and webhooks, checked against the organisation.
    pub(crate) alerts: AlertSettings,
    /// The `[[sources]]` tables: switches and files the server reads itself.
    pub(crate) sources: Vec<crate::sources::SourceConfig>,
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
    Sources(#[from] crate::sources::SourceConfigError),
}

pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub(crate) const DEFAULT_DATA_DIR: &str = "floorwatch-data";
pub(crate) const DEFAULT_ASSETS: &str = "target/dist";
/// Name prefix of the temporary data dirs of `--demo` runs.
pub(crate) const DEMO_DIR_PREFIX: &str = "floorwatch-demo-";

impl Settings {
    /// Resolves flags, the `--config` file and the defaults into validated settings.
    pub fn load(cli: Cli) -> Result<Settings, SettingsError> {
        Ok(Settings::layered(cli)?)
    }

    /// [`Settings::load`], with the crate's own error.
    pub(crate) fn layered(cli: Cli) -> Result<Settings, ConfigError> {
        let file = match &cli.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let config_file = cli.config.clone();
        let mut settings = Settings::resolve(cli, file)?;
        settings.config_file = config_file;
        Ok(settings)
    }

    fn resolve(cli: Cli, file: FileConfig) -> Result<Settings, ConfigError> {
        let listen = match (cli.listen, &file.listen) {
            (Some(addr), _) => addr,
            (None, Some(text)) => text.parse().map_err(|e| ConfigError::Invalid {
                key: "listen",
                message: format!("`{text}` is not an address such as 127.0.0.1:8080 ({e})"),
            })?,
            (None, None) => DEFAULT_LISTEN.parse().map_err(|_| ConfigError::Invalid {
                key: "listen",
                message: "bad built-in default".into(),
            })?,
        };
        let demo = cli.demo || file.demo;
        let data_dir = match cli.data_dir.or(file.data_dir) {
            Some(dir) => DataDir::Given(dir),
            None if demo => DataDir::Temporary(std::env::temp_dir().join(format!(
                "{DEMO_DIR_PREFIX}{}-{}",
                std::process::id(),
                jiff::Timestamp::now().as_millisecond()
            ))),
            None => DataDir::Given(PathBuf::from(DEFAULT_DATA_DIR)),
        };
        let centre_overrides = CentreOverrides {
            timezone: cli.timezone.or(file.timezone),
            service_level_threshold: cli.service_level_threshold.or(file.service_level_threshold),
            short_abandon: cli.short_abandon.or(file.short_abandon),
        };
        let mut organisation = Organisation {
            centre: file.centre.unwrap_or_default(),
            sites: file.sites,
            queues: file.queues,
        };
        centre_overrides.apply(&mut organisation);
        organisation.validate()?;
        let alerts = match file.alerts {
            Some(table) => AlertSettings::from_table(table, &organisation)?,
            None => AlertSettings::default(),
        };
        let sources = crate::sources::from_tables(file.sources)?;

        let token = cli
            .ingest_token
            .or(file.ingest_token)
            .filter(|t| !t.expose().is_empty());
        let push_interval_ms = cli
            .push_interval_ms
            .or(file.push_interval_ms)
            .unwrap_or(250);
        let heartbeat_ms = cli.heartbeat_ms.or(file.heartbeat_ms).unwrap_or(5_000);
        let slow_ms = cli
            .slow_client_timeout_ms
            .or(file.slow_client_timeout_ms)
            .unwrap_or(10_000);
        let clock = cli.clock.or(file.clock).unwrap_or(ClockMode::Wall);
        let settings = Settings {
            config_file: None,
            listen,
            data_dir,
            organisation,
            demo,
            demo_seed: cli.demo_seed.or(file.demo_seed),
            clock,
            ingest_token: token,
            lateness: Duration::from_secs(cli.lateness.or(file.lateness).unwrap_or(30)),
            horizon: crate::horizon::Horizon::new(
                clock,
                cli.max_future.or(file.max_future),
                cli.max_jump.or(file.max_jump),
            )
            .map_err(|(key, message)| ConfigError::Invalid { key, message })?,
            push_interval: Duration::from_millis(push_interval_ms),
            heartbeat: Duration::from_millis(heartbeat_ms),
            fsync: cli.fsync.or(file.fsync).unwrap_or(FsyncPolicy::Batch),
            assets: cli
                .assets
                .or(file.assets)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_ASSETS)),
            max_body_bytes: cli
                .max_body_bytes
                .or(file.max_body_bytes)
                .unwrap_or(16 << 20),
            max_frame_bytes: cli
                .max_frame_bytes
                .or(file.max_frame_bytes)
                .unwrap_or(4 << 20),
            client_queue_frames: cli
                .client_queue_frames
                .or(file.client_queue_frames)
                .unwrap_or(8),
            slow_client_timeout: Duration::from_millis(slow_ms),
            connections: crate::serve::Limits {
                header: Duration::from_millis(
                    cli.header_timeout_ms
                        .or(file.header_timeout_ms)
                        .unwrap_or(10_000),
                ),
                body: Duration::from_millis(
                    cli.body_timeout_ms
                        .or(file.body_timeout_ms)
                        .unwrap_or(30_000),
                ),
                idle: Duration::from_millis(
                    cli.idle_connection_timeout_ms
                        .or(file.idle_connection_timeout_ms)
                        .unwrap_or(60_000),
                ),
                per_address: cli
                    .max_connections_per_address
                    .or(file.max_connections_per_address)
                    .unwrap_or(64),
            },
            log_format: cli
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Text),
            tls: crate::tls::TlsFiles::pair(
                cli.tls_cert.or(file.tls_cert),
                cli.tls_key.or(file.tls_key),
            )?,
            session_idle_timeout: Duration::from_secs(
                cli.session_idle_timeout
                    .or(file.session_idle_timeout)
                    .unwrap_or(30 * 60),
            ),
            session_max: Duration::from_secs(
                cli.session_max.or(file.session_max).unwrap_or(12 * 3600),
            ),
            alerts,
            sources,
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

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_file(path, &text)
}

fn parse_file(path: &Path, text: &str) -> Result<FileConfig, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(cli: Cli, toml: &str) -> Result<Settings, ConfigError> {
        Settings::resolve(cli, parse_file(Path::new("test.toml"), toml)?)
    }

    #[test]
    fn the_ingest_token_never_shows_in_debug_output() {
        let cli = Cli::try_parse_from(["floorwatch", "--ingest-token", "s3cret-token"]).unwrap();
        let file = parse_file(Path::new("t.toml"), r#"ingest-token = "file-s3cret""#).unwrap();
        assert!(!format!("{cli:?} {file:?}").contains("s3cret"));
        let s = settings(cli, "").unwrap();
        assert!(!format!("{s:?}").contains("s3cret"));
        assert_eq!(
            s.ingest_token.as_ref().map(Secret::expose),
            Some("s3cret-token")
        );
    }

    #[test]
    fn defaults_without_flags_or_file() {
        let s = settings(Cli::default(), "").unwrap();
        assert_eq!(s.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(s.data_dir, DataDir::Given(DEFAULT_DATA_DIR.into()));
        assert_eq!(s.clock, ClockMode::Wall);
        assert_eq!(s.fsync, FsyncPolicy::Batch);
        assert_eq!(s.lateness, Duration::from_secs(30));
        assert_eq!(s.push_interval, Duration::from_millis(250));
        assert!(s.ingest_token.is_none());
        assert_eq!(s.session_idle_timeout, Duration::from_secs(1800));
        assert_eq!(s.session_max, Duration::from_secs(12 * 3600));
    }

    #[test]
    fn session_times_come_from_flags_or_keys() {
        let cli = Cli::try_parse_from(["floorwatch", "--session-idle-timeout", "2"]).unwrap();
        let s = settings(cli, "session-max = 60").unwrap();
        assert_eq!(s.session_idle_timeout, Duration::from_secs(2));
        assert_eq!(s.session_max, Duration::from_secs(60));
        let err = settings(Cli::default(), "session-idle-timeout = 0").unwrap_err();
        assert!(err.to_string().contains("`session-idle-timeout`"), "{err}");
    }

    #[test]
    fn connection_limits_come_from_flags_or_keys() {
        let s = settings(Cli::default(), "").unwrap();
        assert_eq!(
            s.connections,
            crate::serve::Limits {
                header: Duration::from_secs(10),
                body: Duration::from_secs(30),
                idle: Duration::from_secs(60),
                per_address: 64,
            }
        );
        let cli = Cli::try_parse_from(["floorwatch", "--header-timeout-ms", "2000"]).unwrap();
        let toml = "header-timeout-ms = 5000\nbody-timeout-ms = 700\n\
                    idle-connection-timeout-ms = 900\nmax-connections-per-address = 0";
        let s = settings(cli, toml).unwrap();
        assert_eq!(s.connections.header, Duration::from_millis(2000));
        assert_eq!(s.connections.body, Duration::from_millis(700));
        assert_eq!(s.connections.idle, Duration::from_millis(900));
        assert_eq!(s.connections.per_address, 0);
        let err = settings(Cli::default(), "header-timeout-ms = 5").unwrap_err();
        assert!(err.to_string().contains("`header-timeout-ms`"), "{err}");
    }

    #[test]
    fn file_keys_have_the_flags_names_and_flags_win() {
        let toml = r#"
            listen = "127.0.0.1:9999"
            push-interval-ms = 100
            clock = "events"
            ingest-token = "from-file"
            timezone = "Asia/Shanghai"
            [centre]
            id = "hotline"
            [[queues]]
            id = "billing"
            threshold_s = 30
        "#;
        let cli = Cli {
            push_interval_ms: Some(500),
            service_level_threshold: Some(15),
            ..Cli::default()
        };
        let s = settings(cli, toml).unwrap();
        assert_eq!(s.listen.port(), 9999);
        assert_eq!(s.push_interval, Duration::from_millis(500), "the flag wins");
        assert_eq!(s.clock, ClockMode::Events);
        assert_eq!(
            s.ingest_token.as_ref().map(Secret::expose),
            Some("from-file")
        );
        assert_eq!(s.organisation.centre.id, "hotline");
        assert_eq!(s.organisation.centre.timezone, "Asia/Shanghai");
        assert_eq!(s.organisation.centre.service_level.threshold_s, 15);
        assert_eq!(s.organisation.queue_settings("billing").threshold_s, 30);
    }

    #[test]
    fn unknown_keys_are_errors_that_name_the_key() {
        let err = settings(Cli::default(), "push_intervall = 3").unwrap_err();
        assert!(err.to_string().contains("push_intervall"), "{err}");
        let err = settings(Cli::default(), "[[queues]]\nid = \"q\"\ncolour = \"red\"").unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn organisation_errors_name_the_key() {
        let err = settings(
            Cli::default(),
            "[[queues]]\nid = \"q\"\n[[queues]]\nid = \"q\"",
        )
        .unwrap_err();
        assert!(err.to_string().contains("queues[1].id"), "{err}");
        let err = settings(
            Cli {
                timezone: Some("Mars/Olympus".into()),
                ..Cli::default()
            },
            "",
        )
        .unwrap_err();
        assert!(err.to_string().contains("centre.timezone"), "{err}");
    }

    #[test]
    fn bad_values_name_the_key() {
        let err = settings(Cli::default(), "listen = \"nowhere\"").unwrap_err();
        assert!(err.to_string().contains("`listen`"), "{err}");
        let err = settings(Cli::default(), "push-interval-ms = 1").unwrap_err();
        assert!(err.to_string().contains("`push-interval-ms`"), "{err}");
        let err = settings(Cli::default(), "clock = \"sundial\"").unwrap_err();
        assert!(err.to_string().contains("sundial"), "{err}");
    }

    #[test]
    fn alert_mistakes_name_their_key() {
        let toml = "[[queues]]\nid = \"billing\"\n[alerts]\n[[alerts.rules]]\nid = \"x\"\n\
                    scope = \"site:nowhere\"\nkind = \"sudden_peak\"";
        let err = settings(Cli::default(), toml).unwrap_err();
        assert!(err.to_string().contains("alerts.rules[0].scope"), "{err}");
        let err = settings(Cli::default(), "[alerts]\nbatch = 3").unwrap_err();
        assert!(
            err.to_string()
                .contains("alerts.batch: unknown field `batch`"),
            "{err}"
        );
        let s = settings(Cli::default(), "").unwrap();
        assert!(s.alerts.rules.default_rules && s.alerts.webhooks.is_empty());
    }

    #[test]
    fn demo_without_data_dir_uses_a_temporary_one() {
        let s = settings(
            Cli {
                demo: true,
                ..Cli::default()
            },
            "",
        )
        .unwrap();
        assert!(matches!(s.data_dir, DataDir::Temporary(_)));
        assert!(s.data_dir.path().starts_with(std::env::temp_dir()));
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let s = settings(Cli::default(), "ingest-token = \"s3cret\"").unwrap();
        assert!(!format!("{s:?}").contains("s3cret"));
    }

    #[test]
    fn the_example_config_parses() {
        let text = include_str!("../floorwatch.example.toml");
        settings(Cli::default(), text).unwrap();
    }
}
