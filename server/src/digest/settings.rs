//! The `[digest]` table of the server's config: when the morning digest goes out, the SMTP relay
//! it goes through, and who receives it (`[[digest.email]]`, `[[digest.webhooks]]`), each
//! recipient with the scope whose subtree it may see (docs/HISTORY.md, "The morning digest").
//!
//! Every mistake names its key, the way the rest of the config does: `digest.at: ...`,
//! `digest.email[1].scope: ...`.

use std::path::PathBuf;

use floorwatch_core::alerts::WebhookFormat;
use floorwatch_core::{Organisation, Scope};
use serde::Deserialize;

use crate::alerts::settings::{check_url, extra_roots};
use crate::secret::Secret;

/// What the `[digest]` table configures.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DigestSettings {
    /// The local time of the centre's calendar at which yesterday's digest goes out, `HH:MM`.
    #[serde(default = "default_at")]
    pub(crate) at: String,
    /// The relay e-mail goes through; required when any `[[digest.email]]` is given.
    #[serde(default)]
    pub(crate) smtp: Option<SmtpConfig>,
    /// E-mail recipients, each with its scope.
    #[serde(default)]
    pub(crate) email: Vec<EmailRecipient>,
    /// Work-chat robots, each with its scope.
    #[serde(default)]
    pub(crate) webhooks: Vec<DigestWebhook>,
}

fn default_at() -> String {
    "09:30".into()
}

/// `[digest.smtp]`: the relay, reached with STARTTLS unless `starttls = false` says otherwise
/// (a relay on the same machine).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SmtpConfig {
    pub(crate) host: String,
    /// 587, the submission port, unless given.
    #[serde(default = "default_port")]
    pub(crate) port: u16,
    /// The `From:` address, `Floorwatch <floorwatch@example.com>` or a bare address.
    pub(crate) from: String,
    /// Login to the relay (with `password`); none means the relay takes mail unauthenticated.
    #[serde(default)]
    pub(crate) username: Option<String>,
    #[serde(default)]
    pub(crate) password: Option<Secret>,
    /// STARTTLS is required by default: a relay that does not offer it gets nothing, so no
    /// figures cross the network in the clear. `false` only for a relay on loopback.
    #[serde(default = "default_true")]
    pub(crate) starttls: bool,
    /// A PEM file of extra certificate authorities to trust (a private relay's), on top of the
    /// system's.
    #[serde(default)]
    pub(crate) ca_file: Option<PathBuf>,
    /// One attempt gives up after this long (and is retried).
    #[serde(default = "default_timeout_s")]
    pub(crate) timeout_s: u64,
    #[serde(default = "default_retry_first_ms")]
    pub(crate) retry_first_ms: u64,
    #[serde(default = "default_retry_max_s")]
    pub(crate) retry_max_s: u64,
}

fn default_port() -> u16 {
    587
}
fn default_true() -> bool {
    true
}
fn default_timeout_s() -> u64 {
    30
}
fn default_retry_first_ms() -> u64 {
    1_000
}
fn default_retry_max_s() -> u64 {
    600
}

/// One `[[digest.email]]`: one message a day to every address of `to`, with the figures of
/// `scope`'s subtree only.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailRecipient {
    pub(crate) to: Vec<String>,
    /// `centre`, `site:ID`, `group:ID`, `team:ID` or `queue:ID`: what these readers may see,
    /// the way an account's scope is (docs/SECURITY.md).
    pub(crate) scope: String,
}

/// One `[[digest.webhooks]]`: a robot of a work-chat group, with the figures of `scope`'s
/// subtree only.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DigestWebhook {
    pub(crate) url: String,
    pub(crate) scope: String,
    /// `json` (the digest itself), `wecom` or `dingtalk` (markdown), `slack`.
    #[serde(default)]
    pub(crate) format: WebhookFormat,
    #[serde(default)]
    pub(crate) ca_file: Option<PathBuf>,
    #[serde(default = "default_timeout_s")]
    pub(crate) timeout_s: u64,
    #[serde(default = "default_retry_first_ms")]
    pub(crate) retry_first_ms: u64,
    #[serde(default = "default_retry_max_s")]
    pub(crate) retry_max_s: u64,
}

/// A mistake in the `[digest]` table, naming its key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{key}: {message}")]
pub(crate) struct DigestSettingsError {
    pub(crate) key: String,
    pub(crate) message: String,
}

fn field(key: impl Into<String>, message: impl Into<String>) -> DigestSettingsError {
    DigestSettingsError {
        key: key.into(),
        message: message.into(),
    }
}

impl DigestSettings {
    /// Reads the `[digest]` table (already parsed as TOML) and checks every recipient's scope
    /// against `org`.
    pub(crate) fn from_table(
        table: toml::Table,
        org: &Organisation,
    ) -> Result<DigestSettings, DigestSettingsError> {
        let settings: DigestSettings = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| {
                let path = e.path().to_string();
                let key = if path == "." || path.is_empty() {
                    "digest".to_string()
                } else if path.starts_with('[') {
                    format!("digest{path}")
                } else {
                    format!("digest.{path}")
                };
                field(key, e.into_inner().to_string())
            })?;
        settings.check_fields()?;
        settings.check(org)?;
        Ok(settings)
    }

    /// The local time of day it goes out, (hour, minute).
    pub(crate) fn at(&self) -> (i8, i8) {
        parse_at(&self.at).unwrap_or((9, 30))
    }

    fn check_fields(&self) -> Result<(), DigestSettingsError> {
        parse_at(&self.at).map_err(|m| field("digest.at", m))?;
        if let Some(smtp) = &self.smtp {
            smtp.check()?;
        } else if !self.email.is_empty() {
            return Err(field(
                "digest.smtp",
                "[[digest.email]] recipients need a [digest.smtp] relay (host, from)",
            ));
        }
        for (i, email) in self.email.iter().enumerate() {
            if email.to.is_empty() {
                return Err(field(format!("digest.email[{i}].to"), "names no address"));
            }
            for (j, address) in email.to.iter().enumerate() {
                address.parse::<lettre::Address>().map_err(|e| {
                    field(
                        format!("digest.email[{i}].to[{j}]"),
                        format!("`{address}` is not an e-mail address ({e})"),
                    )
                })?;
            }
        }
        for (i, hook) in self.webhooks.iter().enumerate() {
            let key = format!("digest.webhooks[{i}]");
            check_url(&hook.url).map_err(|m| field(format!("{key}.url"), m))?;
            if let Some(path) = &hook.ca_file {
                extra_roots(path).map_err(|m| field(format!("{key}.ca_file"), m))?;
            }
            retries(&key, hook.timeout_s, hook.retry_first_ms, hook.retry_max_s)?;
        }
        Ok(())
    }

    /// Checks every recipient's scope against an organisation (again when `--demo` brings its
    /// own): it must name a part of the tree or a queue, never an agent (agent figures stay
    /// with team leads, docs/SECURITY.md).
    pub(crate) fn check(&self, org: &Organisation) -> Result<(), DigestSettingsError> {
        let scopes = self
            .email
            .iter()
            .enumerate()
            .map(|(i, e)| (format!("digest.email[{i}].scope"), &e.scope))
            .chain(
                self.webhooks
                    .iter()
                    .enumerate()
                    .map(|(i, w)| (format!("digest.webhooks[{i}].scope"), &w.scope)),
            );
        for (key, text) in scopes {
            let scope: Scope = text.parse().map_err(|e| field(&key, format!("{e}")))?;
            if matches!(scope, Scope::Agent(_)) {
                return Err(field(
                    key,
                    "a digest goes to a part of the floor or a queue, never about one agent",
                ));
            }
            if !super::subtree::known(org, &scope) {
                return Err(field(
                    key,
                    format!("`{scope}` is not in the configured organisation"),
                ));
            }
        }
        Ok(())
    }
}

impl SmtpConfig {
    fn check(&self) -> Result<(), DigestSettingsError> {
        if self.host.trim().is_empty() {
            return Err(field("digest.smtp.host", "is empty"));
        }
        self.from.parse::<lettre::message::Mailbox>().map_err(|e| {
            field(
                "digest.smtp.from",
                format!("`{}` is not an e-mail address ({e})", self.from),
            )
        })?;
        if self.password.is_some() != self.username.is_some() {
            return Err(field(
                "digest.smtp.password",
                "username and password go together",
            ));
        }
        if let Some(path) = &self.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                field(
                    "digest.smtp.ca_file",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            lettre::transport::smtp::client::Certificate::from_pem(&pem).map_err(|e| {
                field(
                    "digest.smtp.ca_file",
                    format!("{} is not a PEM certificate: {e}", path.display()),
                )
            })?;
        }
        retries(
            "digest.smtp",
            self.timeout_s,
            self.retry_first_ms,
            self.retry_max_s,
        )
    }
}

fn retries(
    key: &str,
    timeout_s: u64,
    retry_first_ms: u64,
    retry_max_s: u64,
) -> Result<(), DigestSettingsError> {
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
    range("timeout_s", timeout_s, 1, 600)?;
    range("retry_first_ms", retry_first_ms, 10, 600_000)?;
    range("retry_max_s", retry_max_s, 1, 86_400)?;
    if retry_max_s * 1000 < retry_first_ms {
        return Err(field(
            format!("{key}.retry_max_s"),
            "must be at least retry_first_ms",
        ));
    }
    Ok(())
}

/// `HH:MM` of the local clock.
fn parse_at(text: &str) -> Result<(i8, i8), String> {
    let bad = || format!("`{text}` is not a local time HH:MM such as 09:30");
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let h: i8 = h.parse().map_err(|_| bad())?;
    let m: i8 = m.parse().map_err(|_| bad())?;
    if !(0..24).contains(&h) || !(0..60).contains(&m) {
        return Err(bad());
    }
    Ok((h, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> Organisation {
        toml::from_str(
            r#"
            [[sites]]
            id = "north"
            [[sites.groups]]
            id = "n-sales"
            [[sites.groups.teams]]
            id = "n-team"
            [[queues]]
            id = "nq"
            owner = "team:n-team"
            "#,
        )
        .unwrap()
    }

    fn settings(text: &str) -> Result<DigestSettings, DigestSettingsError> {
        DigestSettings::from_table(toml::from_str(text).unwrap(), &org())
    }

    #[test]
    fn defaults_and_recipients_are_read() {
        let s = settings(
            r#"
            [smtp]
            host = "relay.example"
            from = "Floorwatch <fw@example.com>"
            [[email]]
            to = ["boss@example.com"]
            scope = "site:north"
            [[webhooks]]
            url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"
            format = "wecom"
            scope = "queue:nq"
            "#,
        )
        .unwrap();
        assert_eq!(s.at(), (9, 30));
        let smtp = s.smtp.unwrap();
        assert_eq!((smtp.port, smtp.starttls), (587, true));
        assert_eq!(s.email[0].scope, "site:north");
        assert_eq!(s.webhooks[0].format, WebhookFormat::Wecom);
    }

    #[test]
    fn mistakes_name_their_key() {
        let cases = [
            ("at = \"9h30\"", "digest.at: `9h30` is not a local time"),
            ("at = \"24:00\"", "digest.at: `24:00` is not a local time"),
            ("sent_at = 1", "digest.sent_at: unknown field"),
            (
                "[[email]]\nto = [\"a@x.example\"]\nscope = \"centre\"",
                "digest.smtp: [[digest.email]] recipients need",
            ),
            (
                "[smtp]\nhost = \"h\"\nfrom = \"f@x.example\"\n[[email]]\nto = [\"nobody\"]\nscope = \"centre\"",
                "digest.email[0].to[0]: `nobody` is not an e-mail address",
            ),
            (
                "[smtp]\nhost = \"h\"\nfrom = \"f@x.example\"\n[[email]]\nto = [\"a@x.example\"]\nscope = \"site:south\"",
                "digest.email[0].scope: `site:south` is not in the configured organisation",
            ),
            (
                "[[webhooks]]\nurl = \"http://h/\"\nscope = \"agent:a1\"",
                "digest.webhooks[0].scope: a digest goes to a part of the floor",
            ),
            (
                "[[webhooks]]\nurl = \"ftp://h/\"\nscope = \"centre\"",
                "digest.webhooks[0].url",
            ),
            (
                "[smtp]\nhost = \"h\"\nfrom = \"f@x.example\"\nusername = \"u\"",
                "digest.smtp.password: username and password go together",
            ),
        ];
        for (text, expected) in cases {
            let err = settings(text).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{text:?}: {err}");
        }
    }
}
