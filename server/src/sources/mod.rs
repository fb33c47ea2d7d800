//! CTI sources: the server's own clients of a switch's feed (docs/CTI.md, "Sources").
//!
//! Each `[[sources]]` table of the config starts one task:
//!
//! - `kind = "asterisk-ami"` ([`ami`]): a client of the Asterisk Manager Interface, mapped by
//!   `floorwatch_core::ami::AmiMapper`, resynced with QueueStatus on every (re)connect;
//! - `kind = "freeswitch-esl"` ([`esl`]): an inbound client of FreeSWITCH's event socket,
//!   mapped by `floorwatch_core::esl::EslMapper`, resynced with `callcenter_config queue list`
//!   on every (re)connect;
//! - `kind = "queue-log-file"` ([`queue_log_file`]): follows an Asterisk queue_log file across
//!   rotation, read by `floorwatch_core::queue_log::QueueLogReader`.
//!
//! `POST /api/v1/import/queue-log` (`crate::http::import`) reads a whole queue_log text at once.
//!
//! Sources feed the recorder exactly as HTTP ingest does: events are journaled before they
//! count, and an id seen before is applied once.

pub(crate) mod ami;
mod context;
pub(crate) mod esl;
pub(crate) mod queue_log_file;
mod switch_link;

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use tokio::task::JoinHandle;

use crate::secret::Secret;

pub(crate) use ami::AmiConfig;
pub(crate) use context::SourceContext;
pub(crate) use esl::EslConfig;
pub(crate) use queue_log_file::{QueueLogFileConfig, ReadFrom};

/// One `[[sources]]` table, checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SourceConfig {
    AsteriskAmi(AmiConfig),
    FreeswitchEsl(EslConfig),
    QueueLogFile(QueueLogFileConfig),
}

impl SourceConfig {
    /// The `source` of the events it produces (`ami:NAME`, `queue-log:NAME`).
    pub(crate) fn source(&self) -> String {
        match self {
            SourceConfig::AsteriskAmi(c) => c.source(),
            SourceConfig::FreeswitchEsl(c) => c.source(),
            SourceConfig::QueueLogFile(c) => c.source(),
        }
    }
}

/// A mistake in a `[[sources]]` table, naming its key (`sources[1].port: ...`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{key}: {message}")]
pub(crate) struct SourceConfigError {
    pub(crate) key: String,
    pub(crate) message: String,
}

fn invalid(index: usize, key: &str, message: impl Into<String>) -> SourceConfigError {
    SourceConfigError {
        key: if key.is_empty() {
            format!("sources[{index}]")
        } else {
            format!("sources[{index}].{key}")
        },
        message: message.into(),
    }
}

/// A `[[sources]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
enum SourceTable {
    AsteriskAmi(AmiTable),
    FreeswitchEsl(EslTable),
    QueueLogFile(QueueLogFileTable),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EslTable {
    /// Names the source: events carry `esl:NAME` [default: HOST:PORT].
    name: Option<String>,
    host: String,
    #[serde(default = "default_esl_port")]
    port: u16,
    /// event_socket.conf.xml's password itself, or:
    password: Option<String>,
    /// the environment variable holding it (kept out of the config file).
    password_env: Option<String>,
    #[serde(default = "default_reconnect_min_ms")]
    reconnect_min_ms: u64,
    #[serde(default = "default_reconnect_max_ms")]
    reconnect_max_ms: u64,
    #[serde(default = "default_connect_timeout_ms")]
    connect_timeout_ms: u64,
    #[serde(default = "default_ping_interval_s")]
    ping_interval_s: u64,
}

fn default_esl_port() -> u16 {
    8021
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AmiTable {
    /// Names the source: events carry `ami:NAME` [default: HOST:PORT].
    name: Option<String>,
    host: String,
    #[serde(default = "default_ami_port")]
    port: u16,
    username: String,
    /// The secret itself, or:
    secret: Option<String>,
    /// the environment variable holding it (kept out of the config file).
    secret_env: Option<String>,
    /// The event mask asked for at Login.
    #[serde(default = "default_events")]
    events: String,
    #[serde(default = "default_reconnect_min_ms")]
    reconnect_min_ms: u64,
    #[serde(default = "default_reconnect_max_ms")]
    reconnect_max_ms: u64,
    #[serde(default = "default_connect_timeout_ms")]
    connect_timeout_ms: u64,
    #[serde(default = "default_ping_interval_s")]
    ping_interval_s: u64,
    #[serde(default = "default_abandon_grace_ms")]
    abandon_grace_ms: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueLogFileTable {
    /// Names the source: events carry `queue-log:NAME` [default: the path].
    name: Option<String>,
    path: PathBuf,
    /// Where reading starts the first time the file is opened: `start` or `end`.
    #[serde(default)]
    from: ReadFrom,
    #[serde(default = "default_poll_ms")]
    poll_ms: u64,
}

fn default_ami_port() -> u16 {
    5038
}
fn default_events() -> String {
    "agent,call".into()
}
fn default_reconnect_min_ms() -> u64 {
    500
}
fn default_reconnect_max_ms() -> u64 {
    30_000
}
fn default_connect_timeout_ms() -> u64 {
    5_000
}
fn default_ping_interval_s() -> u64 {
    20
}
fn default_abandon_grace_ms() -> u64 {
    floorwatch_core::ami::DEFAULT_ABANDON_GRACE_MS as u64
}
fn default_poll_ms() -> u64 {
    250
}

/// Longest source name: the event's `source` field holds at most 256 bytes.
const MAX_NAME: usize = 200;

/// Reads and checks the `[[sources]]` tables.
pub(crate) fn from_tables(
    tables: Vec<toml::Table>,
) -> Result<Vec<SourceConfig>, SourceConfigError> {
    let mut out: Vec<SourceConfig> = Vec::with_capacity(tables.len());
    for (index, table) in tables.into_iter().enumerate() {
        let parsed: SourceTable = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| invalid(index, "", e.message().to_string()))?;
        let config = match parsed {
            SourceTable::AsteriskAmi(t) => SourceConfig::AsteriskAmi(ami_config(index, t)?),
            SourceTable::FreeswitchEsl(t) => SourceConfig::FreeswitchEsl(esl_config(index, t)?),
            SourceTable::QueueLogFile(t) => SourceConfig::QueueLogFile(queue_log_config(index, t)?),
        };
        if out.iter().any(|c| c.source() == config.source()) {
            return Err(invalid(
                index,
                "name",
                format!(
                    "`{}` is the source of another [[sources]] table",
                    config.source()
                ),
            ));
        }
        out.push(config);
    }
    Ok(out)
}

fn ami_config(index: usize, t: AmiTable) -> Result<AmiConfig, SourceConfigError> {
    if t.host.trim().is_empty() {
        return Err(invalid(index, "host", "must not be empty"));
    }
    if t.username.is_empty() {
        return Err(invalid(index, "username", "must not be empty"));
    }
    let secret = match (t.secret, t.secret_env) {
        (Some(secret), None) => secret,
        (None, Some(var)) => std::env::var(&var).map_err(|_| {
            invalid(
                index,
                "secret_env",
                format!("the environment variable `{var}` is not set"),
            )
        })?,
        _ => {
            return Err(invalid(
                index,
                "secret",
                "give exactly one of `secret` and `secret_env`",
            ));
        }
    };
    let name = t.name.unwrap_or_else(|| format!("{}:{}", t.host, t.port));
    check_name(index, &name)?;
    check_range(index, "reconnect_min_ms", t.reconnect_min_ms, 10, 600_000)?;
    check_range(
        index,
        "reconnect_max_ms",
        t.reconnect_max_ms,
        t.reconnect_min_ms,
        3_600_000,
    )?;
    check_range(
        index,
        "connect_timeout_ms",
        t.connect_timeout_ms,
        100,
        300_000,
    )?;
    check_range(index, "ping_interval_s", t.ping_interval_s, 1, 3_600)?;
    check_range(index, "abandon_grace_ms", t.abandon_grace_ms, 0, 60_000)?;
    Ok(AmiConfig {
        name,
        host: t.host,
        port: t.port,
        username: t.username,
        secret: Secret::new(secret),
        events: t.events,
        reconnect_min: Duration::from_millis(t.reconnect_min_ms),
        reconnect_max: Duration::from_millis(t.reconnect_max_ms),
        connect_timeout: Duration::from_millis(t.connect_timeout_ms),
        ping_interval: Duration::from_secs(t.ping_interval_s),
        abandon_grace_ms: t.abandon_grace_ms as i64,
    })
}

fn esl_config(index: usize, t: EslTable) -> Result<EslConfig, SourceConfigError> {
    if t.host.trim().is_empty() {
        return Err(invalid(index, "host", "must not be empty"));
    }
    let password = match (t.password, t.password_env) {
        (Some(password), None) => password,
        (None, Some(var)) => std::env::var(&var).map_err(|_| {
            invalid(
                index,
                "password_env",
                format!("the environment variable `{var}` is not set"),
            )
        })?,
        _ => {
            return Err(invalid(
                index,
                "password",
                "give exactly one of `password` and `password_env`",
            ));
        }
    };
    if password.contains(['\r', '\n']) {
        return Err(invalid(index, "password", "must be one line"));
    }
    let name = t.name.unwrap_or_else(|| format!("{}:{}", t.host, t.port));
    check_name(index, &name)?;
    check_range(index, "reconnect_min_ms", t.reconnect_min_ms, 10, 600_000)?;
    check_range(
        index,
        "reconnect_max_ms",
        t.reconnect_max_ms,
        t.reconnect_min_ms,
        3_600_000,
    )?;
    check_range(
        index,
        "connect_timeout_ms",
        t.connect_timeout_ms,
        100,
        300_000,
    )?;
    check_range(index, "ping_interval_s", t.ping_interval_s, 1, 3_600)?;
    Ok(EslConfig {
        name,
        host: t.host,
        port: t.port,
        password: Secret::new(password),
        reconnect_min: Duration::from_millis(t.reconnect_min_ms),
        reconnect_max: Duration::from_millis(t.reconnect_max_ms),
        connect_timeout: Duration::from_millis(t.connect_timeout_ms),
        ping_interval: Duration::from_secs(t.ping_interval_s),
    })
}

fn queue_log_config(
    index: usize,
    t: QueueLogFileTable,
) -> Result<QueueLogFileConfig, SourceConfigError> {
    if t.path.as_os_str().is_empty() {
        return Err(invalid(index, "path", "must not be empty"));
    }
    let name = t.name.unwrap_or_else(|| t.path.display().to_string());
    check_name(index, &name)?;
    check_range(index, "poll_ms", t.poll_ms, 10, 60_000)?;
    Ok(QueueLogFileConfig {
        name,
        path: t.path,
        from: t.from,
        poll: Duration::from_millis(t.poll_ms),
    })
}

fn check_name(index: usize, name: &str) -> Result<(), SourceConfigError> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(invalid(
            index,
            "name",
            format!("must be 1 to {MAX_NAME} bytes (set `name` for a long path)"),
        ));
    }
    Ok(())
}

fn check_range(
    index: usize,
    key: &str,
    value: u64,
    min: u64,
    max: u64,
) -> Result<(), SourceConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(invalid(
            index,
            key,
            format!("{value} is outside {min}..={max}"),
        ))
    }
}

/// Starts one task per configured source; each ends at shutdown.
pub(crate) fn spawn(configs: &[SourceConfig], context: &SourceContext) -> Vec<JoinHandle<()>> {
    configs
        .iter()
        .map(|config| {
            tracing::info!(source = %config.source(), "starting source");
            match config {
                SourceConfig::AsteriskAmi(c) => tokio::spawn(ami::run(c.clone(), context.clone())),
                SourceConfig::FreeswitchEsl(c) => {
                    tokio::spawn(esl::run(c.clone(), context.clone()))
                }
                SourceConfig::QueueLogFile(c) => {
                    tokio::spawn(queue_log_file::run(c.clone(), context.clone()))
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(text: &str) -> Vec<toml::Table> {
        #[derive(Deserialize)]
        struct File {
            sources: Vec<toml::Table>,
        }
        toml::from_str::<File>(text).unwrap().sources
    }

    #[test]
    fn both_kinds_read_with_their_defaults() {
        let configs = from_tables(tables(
            r#"
            [[sources]]
            kind = "asterisk-ami"
            host = "127.0.0.1"
            username = "floorwatch"
            secret = "s3cret"

            [[sources]]
            kind = "queue-log-file"
            path = "/var/log/asterisk/queue_log"
            from = "start"
            "#,
        ))
        .unwrap();
        let SourceConfig::AsteriskAmi(ami) = &configs[0] else {
            panic!("{configs:?}")
        };
        assert_eq!(ami.port, 5038);
        assert_eq!(ami.source(), "ami:127.0.0.1:5038");
        assert_eq!(ami.events, "agent,call");
        assert!(!format!("{configs:?}").contains("s3cret"), "{configs:?}");
        let SourceConfig::QueueLogFile(file) = &configs[1] else {
            panic!("{configs:?}")
        };
        assert_eq!(file.from, ReadFrom::Start);
        assert_eq!(file.source(), "queue-log:/var/log/asterisk/queue_log");
    }

    #[test]
    fn an_esl_source_reads_with_its_defaults_and_hides_its_password() {
        let configs = from_tables(tables(
            "[[sources]]\nkind = \"freeswitch-esl\"\nhost = \"10.0.0.5\"\npassword = \"ClueCon\"",
        ))
        .unwrap();
        let SourceConfig::FreeswitchEsl(esl) = &configs[0] else {
            panic!("{configs:?}")
        };
        assert_eq!(esl.port, 8021);
        assert_eq!(esl.source(), "esl:10.0.0.5:8021");
        assert!(!format!("{configs:?}").contains("ClueCon"), "{configs:?}");
        let err = |text: &str| from_tables(tables(text)).unwrap_err().to_string();
        let e = err("[[sources]]\nkind = \"freeswitch-esl\"\nhost = \"h\"");
        assert!(e.starts_with("sources[0].password:"), "{e}");
        let e = err(
            "[[sources]]\nkind = \"freeswitch-esl\"\nhost = \"h\"\npassword = \"p\"\nping_interval_s = 0",
        );
        assert!(e.starts_with("sources[0].ping_interval_s:"), "{e}");
    }

    #[test]
    fn mistakes_name_their_key() {
        let err = |text: &str| from_tables(tables(text)).unwrap_err().to_string();
        let e = err("[[sources]]\nkind = \"asterisk\"\nhost = \"h\"");
        assert!(
            e.starts_with("sources[0]: unknown variant `asterisk`"),
            "{e}"
        );
        let e = err(
            "[[sources]]\nkind = \"asterisk-ami\"\nhost = \"h\"\nusername = \"u\"\nsecret = \"s\"\nprot = 1",
        );
        assert!(
            e.contains("sources[0]") && e.contains("unknown field `prot`"),
            "{e}"
        );
        let e = err("[[sources]]\nkind = \"asterisk-ami\"\nhost = \"h\"\nusername = \"u\"");
        assert!(e.starts_with("sources[0].secret:"), "{e}");
        let e = err(
            "[[sources]]\nkind = \"asterisk-ami\"\nhost = \"h\"\nusername = \"u\"\nsecret_env = \"FLOORWATCH_TEST_NO_SUCH_VAR\"",
        );
        assert!(e.starts_with("sources[0].secret_env:"), "{e}");
        let e = err(
            "[[sources]]\nkind = \"queue-log-file\"\npath = \"/q\"\n[[sources]]\nkind = \"queue-log-file\"\npath = \"/q\"\npoll_ms = 5",
        );
        assert!(e.starts_with("sources[1].poll_ms:"), "{e}");
        let e = err(
            "[[sources]]\nkind = \"queue-log-file\"\npath = \"/q\"\n[[sources]]\nkind = \"queue-log-file\"\npath = \"/q\"",
        );
        assert!(e.starts_with("sources[1].name:"), "{e}");
        let e = err("[[sources]]\nkind = \"queue-log-file\"\npath = \"/q\"\nfrom = \"middle\"");
        assert!(e.contains("middle"), "{e}");
    }
}
