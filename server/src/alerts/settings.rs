//! The `[alerts]` table of the server's config: the core's rules (docs/ALERTS.md, "Rules") plus
//! the server's own `[[alerts.webhooks]]`, the receivers every notification batch is POSTed to.
//!
//! The core's `AlertsConfig` refuses keys it does not know, so the webhooks are taken out of the
//! table before the rest is read as rules. Every mistake names its key, the way the rest of the
//! config does: `alerts.rules[2].metrc: unknown field`, `alerts.webhooks[0].url: ...`.

use floorwatch_core::Organisation;
use floorwatch_core::alerts::{Alerts, AlertsConfig, RuleError, WebhookFormat};
use serde::Deserialize;

/// What the `[alerts]` table configures. Absent, it is the defaults: the default rules and no
/// webhooks.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct AlertSettings {
    pub(crate) rules: AlertsConfig,
    pub(crate) webhooks: Vec<WebhookConfig>,
}

/// One `[[alerts.webhooks]]` receiver.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookConfig {
    /// Where batches are POSTed: `https://` (WeCom, DingTalk and Slack robots are) or
    /// `http://` (a receiver on the local network), see [`check_url`].
    pub(crate) url: String,
    /// A PEM file of extra certificate authorities to trust for this receiver (a company CA),
    /// on top of the system's (Debian's `ca-certificates`).
    #[serde(default)]
    pub(crate) ca_file: Option<std::path::PathBuf>,
    /// The body's shape: `json` (the batch itself), `wecom`, `dingtalk` or `slack`.
    #[serde(default)]
    pub(crate) format: WebhookFormat,
    /// The first retry waits this long; each further one twice as long (docs/ALERTS.md,
    /// "Webhooks").
    #[serde(default = "default_retry_first_ms")]
    pub(crate) retry_first_ms: u64,
    /// Retries never wait longer than this.
    #[serde(default = "default_retry_max_s")]
    pub(crate) retry_max_s: u64,
    /// One attempt gives up after this long (and is retried).
    #[serde(default = "default_timeout_s")]
    pub(crate) timeout_s: u64,
}

fn default_retry_first_ms() -> u64 {
    1_000
}

fn default_retry_max_s() -> u64 {
    300
}

fn default_timeout_s() -> u64 {
    10
}

/// A mistake in the `[alerts]` table, naming its key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum AlertSettingsError {
    #[error("{key}: {message}")]
    Field { key: String, message: String },
    #[error(transparent)]
    Rule(#[from] RuleError),
}

fn field(key: impl Into<String>, message: impl Into<String>) -> AlertSettingsError {
    AlertSettingsError::Field {
        key: key.into(),
        message: message.into(),
    }
}

impl AlertSettings {
    /// Reads the `[alerts]` table (already parsed as TOML) and checks every rule against
    /// `org`, the way `Alerts::new` will at start.
    pub(crate) fn from_table(
        mut table: toml::Table,
        org: &Organisation,
    ) -> Result<AlertSettings, AlertSettingsError> {
        let webhooks = match table.remove("webhooks") {
            None => Vec::new(),
            Some(value) => read::<Vec<WebhookConfig>>("alerts.webhooks", value)?,
        };
        for (i, webhook) in webhooks.iter().enumerate() {
            webhook.check(&format!("alerts.webhooks[{i}]"))?;
        }
        let rules = read::<AlertsConfig>("alerts", toml::Value::Table(table))?;
        let settings = AlertSettings { rules, webhooks };
        settings.check(org)?;
        Ok(settings)
    }

    /// Checks the rules against an organisation (again when `--demo` brings its own).
    pub(crate) fn check(&self, org: &Organisation) -> Result<(), AlertSettingsError> {
        Alerts::new(&self.rules, org)?;
        Ok(())
    }
}

/// Deserialises `value`, naming the path of any mistake below `prefix`.
fn read<T: serde::de::DeserializeOwned>(
    prefix: &str,
    value: toml::Value,
) -> Result<T, AlertSettingsError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let key = if path == "." || path.is_empty() {
            prefix.to_string()
        } else if path.starts_with('[') {
            format!("{prefix}{path}")
        } else {
            format!("{prefix}.{path}")
        };
        field(key, e.into_inner().to_string())
    })
}

impl WebhookConfig {
    fn check(&self, key: &str) -> Result<(), AlertSettingsError> {
        check_url(&self.url).map_err(|message| field(format!("{key}.url"), message))?;
        if let Some(path) = &self.ca_file {
            extra_roots(path).map_err(|message| field(format!("{key}.ca_file"), message))?;
        }
        let range = |name: &str, value: u64, min: u64, max: u64| {
            if (min..=max).contains(&value) {
                Ok(())
            } else {
                Err(field(
                    format!("{key}.{name}"),
                    format!("{value} is outside {min}..={max}"),
                ))
            }
        };
        range("retry_first_ms", self.retry_first_ms, 10, 600_000)?;
        range("retry_max_s", self.retry_max_s, 1, 86_400)?;
        range("timeout_s", self.timeout_s, 1, 300)?;
        if self.retry_max_s * 1000 < self.retry_first_ms {
            return Err(field(
                format!("{key}.retry_max_s"),
                "must be at least retry_first_ms",
            ));
        }
        Ok(())
    }
}

/// A webhook URL must be `https://HOST[:PORT]/...` or `http://HOST[:PORT]/...`.
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("\"{url}\" is not a URL ({e})"))?;
    match parsed.scheme() {
        "http" | "https" => {}
        other => {
            return Err(format!(
                "\"{url}\": scheme \"{other}\" is neither https nor http"
            ));
        }
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("\"{url}\" names no host"));
    }
    Ok(())
}

/// The certificates of a PEM file of extra authorities; an error names the file and what is
/// wrong with it.
pub(crate) fn extra_roots(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let roots = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("{} is not a PEM certificate bundle: {e}", path.display()))?;
    if roots.is_empty() {
        return Err(format!("{} holds no certificate", path.display()));
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> Result<AlertSettings, AlertSettingsError> {
        let table: toml::Table = toml::from_str(text).unwrap();
        AlertSettings::from_table(table, &Organisation::default())
    }

    #[test]
    fn an_empty_table_is_the_defaults() {
        let s = settings("").unwrap();
        assert_eq!(s, AlertSettings::default());
        assert!(s.rules.default_rules);
    }

    #[test]
    fn rules_and_webhooks_are_read() {
        let s = settings(
            r#"
            batch_s = 10
            [[rules]]
            id = "long-wait"
            metric = "longest_waiting_s"
            comparison = "above"
            warning = 120
            [[webhooks]]
            url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"
            format = "wecom"
            [[webhooks]]
            url = "http://relay.local/slack"
            "#,
        )
        .unwrap();
        assert_eq!(s.rules.batch_s, 10);
        assert_eq!(s.rules.rules[0].id, "long-wait");
        assert_eq!(s.webhooks.len(), 2);
        assert_eq!(s.webhooks[0].format, WebhookFormat::Wecom);
        assert_eq!(s.webhooks[1].format, WebhookFormat::Json);
        assert_eq!(s.webhooks[1].retry_first_ms, 1_000);
    }

    #[test]
    fn mistakes_name_their_key() {
        let cases = [
            (
                "batch_secs = 3",
                "alerts.batch_secs: unknown field `batch_secs`",
            ),
            (
                "[[rules]]\nid = \"x\"\nmetrc = \"offered\"",
                "alerts.rules[0].metrc: unknown field `metrc`",
            ),
            (
                "[[rules]]\nid = \"x\"\nmetric = \"foo\"\ncomparison = \"above\"\nwarning = 1",
                "alerts.rules[0].metric: unknown metric \"foo\"",
            ),
            (
                "[[webhooks]]\nurl = \"ftp://qyapi.example/send\"",
                "alerts.webhooks[0].url: \"ftp://qyapi.example/send\": scheme \"ftp\" is neither",
            ),
            (
                "[[webhooks]]\nurl = \"https://a/\"\nca_file = \"/nonexistent/ca.pem\"",
                "alerts.webhooks[0].ca_file: cannot read /nonexistent/ca.pem",
            ),
            (
                "[[webhooks]]\nurl = \"http://a/\"\nformat = \"telex\"",
                "alerts.webhooks[0].format: unknown variant `telex`",
            ),
            (
                "[[webhooks]]\nurl = \"http://a/\"\nretry_first_ms = 1",
                "alerts.webhooks[0].retry_first_ms: 1 is outside",
            ),
            (
                "[[webhooks]]\nurl = \"not a url\"",
                "alerts.webhooks[0].url",
            ),
        ];
        for (text, expected) in cases {
            let err = settings(text).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{text:?}: {err}");
        }
    }
}
