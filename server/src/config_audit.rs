//! Configuration changes, audited at start-up (docs/SECURITY.md, "The audit trail"): "every
//! threshold change leaves a trace" (shared/DOMAIN.md) holds for the config file too.
//!
//! The server's settings come from its config file, read at start. Each start compares what
//! matters to the floor's figures and alerts with what the previous start recorded in
//! `DATA_DIR/config-audit.json` ([`Snapshot`]) and writes one record per difference:
//!
//! - `threshold_change`, target `queue:ID` (or `centre` for the defaults), detail
//!   `threshold_s 20 -> 30, target_pct 80 -> 85`: a queue's effective service-level settings
//!   (threshold, target, variant, short abandon; a changed centre default changes every queue
//!   that does not set its own);
//! - `config_change` for the rest: queues, sites, groups and teams added or removed
//!   (`queue:ID` `added ...` / `removed`), a queue's owner or wrap-up, the centre's time zone
//!   or reset time, alert rules added, removed or changed (`rule:ID`, the changed fields), the
//!   escalation chain, the webhook receivers (compared by a hash of their URL, which may hold a
//!   robot's key, so no URL is stored);
//! - on the first start, one `config_change` `initial configuration`.
//!
//! The actor is `config:PATH` (the `--config` file) or `config:built-in`. The snapshot is
//! written (atomically) only after every record is, so a start whose records could not be
//! written records the change at the next start instead of losing it.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

use floorwatch_core::Organisation;
use floorwatch_core::alerts::Alerts;
use floorwatch_core::service_level::ServiceLevelSettings;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::alerts::AlertSettings;
use crate::atomic_file::{self, Access};
use crate::audit::{Action, AuditError, AuditTrail, Entry};
use crate::config::Settings;

/// What the previous start recorded, inside the data dir.
pub(crate) const SNAPSHOT_FILE: &str = "config-audit.json";
const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigAuditError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{0}")]
    Audit(#[from] AuditError),
    #[error("the alert rules: {0}")]
    Rules(String),
}

/// What a start compares: the settings that change figures and alerts, as the server runs
/// them (defaults filled in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Snapshot {
    pub(crate) format: u32,
    pub(crate) centre: CentreSnapshot,
    pub(crate) queues: BTreeMap<String, QueueSnapshot>,
    /// `site:ID`, `group:ID`, `team:ID`.
    pub(crate) nodes: BTreeSet<String>,
    /// Every rule evaluated, by id, with every default filled in.
    pub(crate) rules: BTreeMap<String, serde_json::Value>,
    pub(crate) escalation: serde_json::Value,
    /// SHA-256 of each webhook receiver's URL, in order.
    pub(crate) webhooks: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CentreSnapshot {
    pub(crate) timezone: String,
    pub(crate) reset_time: String,
    pub(crate) service_level: ServiceLevelSettings,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct QueueSnapshot {
    /// Effective: the queue's own settings, else the centre's.
    pub(crate) service_level: ServiceLevelSettings,
    pub(crate) owner: Option<String>,
    pub(crate) wrap_up_s: Option<u32>,
}

impl Snapshot {
    /// The snapshot of the settings a server starts with.
    pub(crate) fn of(
        org: &Organisation,
        alerts: &AlertSettings,
    ) -> Result<Snapshot, ConfigAuditError> {
        let defaults = &org.centre.service_level;
        let queues = org
            .queues
            .iter()
            .map(|q| {
                (
                    q.id.clone(),
                    QueueSnapshot {
                        service_level: q.service_level(defaults),
                        owner: q.owner.clone(),
                        wrap_up_s: q.wrap_up_s,
                    },
                )
            })
            .collect();
        let mut nodes = BTreeSet::new();
        for site in &org.sites {
            nodes.insert(format!("site:{}", site.id));
            for group in &site.groups {
                nodes.insert(format!("group:{}", group.id));
                for team in &group.teams {
                    nodes.insert(format!("team:{}", team.id));
                }
            }
        }
        let evaluated =
            Alerts::new(&alerts.rules, org).map_err(|e| ConfigAuditError::Rules(e.to_string()))?;
        let rules = evaluated
            .rules()
            .iter()
            .map(|rule| {
                let json = serde_json::to_value(rule).unwrap_or(serde_json::Value::Null);
                (rule.id.clone(), json)
            })
            .collect();
        Ok(Snapshot {
            format: FORMAT,
            centre: CentreSnapshot {
                timezone: org.centre.timezone.clone(),
                reset_time: org.centre.reset_time.clone(),
                service_level: *defaults,
            },
            queues,
            nodes,
            rules,
            escalation: serde_json::to_value(&alerts.rules.escalation)
                .unwrap_or(serde_json::Value::Null),
            webhooks: alerts
                .webhooks
                .iter()
                .map(|w| hex(&Sha256::digest(w.url.as_bytes())))
                .collect(),
        })
    }
}

/// The records for going from `before` (`None` on the first start) to `now`, by `actor`.
pub(crate) fn changes(before: Option<&Snapshot>, now: &Snapshot, actor: &str) -> Vec<Entry> {
    let Some(before) = before else {
        return vec![Entry::new(
            actor,
            Action::ConfigChange,
            "config",
            format!(
                "initial configuration: {} queues, {} sites/groups/teams, {} alert rules, {} \
                 webhooks; centre {}",
                now.queues.len(),
                now.nodes.len(),
                now.rules.len(),
                now.webhooks.len(),
                service_level_text(&now.centre.service_level)
            ),
        )];
    };
    let mut out = Vec::new();
    let config =
        |target: String, detail: String| Entry::new(actor, Action::ConfigChange, target, detail);
    let threshold =
        |target: String, detail: String| Entry::new(actor, Action::ThresholdChange, target, detail);

    // The centre.
    let sl = service_level_diff(&before.centre.service_level, &now.centre.service_level);
    if !sl.is_empty() {
        out.push(threshold("centre".into(), sl));
    }
    let mut centre = Vec::new();
    field(
        &mut centre,
        "timezone",
        &before.centre.timezone,
        &now.centre.timezone,
    );
    field(
        &mut centre,
        "reset_time",
        &before.centre.reset_time,
        &now.centre.reset_time,
    );
    if !centre.is_empty() {
        out.push(config("centre".into(), centre.join(", ")));
    }

    // Queues.
    for (id, old) in &before.queues {
        let target = format!("queue:{id}");
        let Some(new) = now.queues.get(id) else {
            out.push(config(target, "removed".into()));
            continue;
        };
        let sl = service_level_diff(&old.service_level, &new.service_level);
        if !sl.is_empty() {
            out.push(threshold(target.clone(), sl));
        }
        let mut other = Vec::new();
        field(&mut other, "owner", &opt(&old.owner), &opt(&new.owner));
        field(
            &mut other,
            "wrap_up_s",
            &opt(&old.wrap_up_s),
            &opt(&new.wrap_up_s),
        );
        if !other.is_empty() {
            out.push(config(target, other.join(", ")));
        }
    }
    for (id, new) in &now.queues {
        if !before.queues.contains_key(id) {
            out.push(config(
                format!("queue:{id}"),
                format!(
                    "added: {} owner={}",
                    service_level_text(&new.service_level),
                    opt(&new.owner)
                ),
            ));
        }
    }

    // Sites, groups, teams.
    for node in before.nodes.difference(&now.nodes) {
        out.push(config(node.clone(), "removed".into()));
    }
    for node in now.nodes.difference(&before.nodes) {
        out.push(config(node.clone(), "added".into()));
    }

    // Alert rules.
    for (id, old) in &before.rules {
        let target = format!("rule:{id}");
        match now.rules.get(id) {
            None => out.push(config(target, "removed".into())),
            Some(new) if new != old => {
                out.push(config(target, format!("changed: {}", json_diff(old, new))))
            }
            Some(_) => {}
        }
    }
    for (id, new) in &now.rules {
        if !before.rules.contains_key(id) {
            out.push(config(format!("rule:{id}"), format!("added: {new}")));
        }
    }
    if before.escalation != now.escalation {
        out.push(config(
            "alerts.escalation".into(),
            format!("{} -> {}", before.escalation, now.escalation),
        ));
    }
    if before.webhooks != now.webhooks {
        out.push(config(
            "alerts.webhooks".into(),
            format!(
                "receivers changed ({} -> {}; URLs compared by hash)",
                before.webhooks.len(),
                now.webhooks.len()
            ),
        ));
    }
    out
}

/// Compares the settings with the previous start's, writes a record per difference to the
/// trail of `data_dir`, then records the settings for the next start. Returns how many records
/// were written.
#[cfg(test)]
pub(crate) fn record_at_start(
    data_dir: &Path,
    org: &Organisation,
    alerts: &AlertSettings,
    actor: &str,
    now: jiff::Timestamp,
) -> Result<usize, ConfigAuditError> {
    record_to(
        &AuditTrail::open(data_dir),
        data_dir,
        org,
        alerts,
        actor,
        now,
    )
}

/// The records of a start, written into `trail` (in a cluster, the cluster's: every node compares its own
/// config with its own last start, and nodes started on the same change record it once, by the
/// change's content, docs/CLUSTER.md).
fn record_to(
    trail: &AuditTrail,
    data_dir: &Path,
    org: &Organisation,
    alerts: &AlertSettings,
    actor: &str,
    now: jiff::Timestamp,
) -> Result<usize, ConfigAuditError> {
    let path = data_dir.join(SNAPSHOT_FILE);
    let current = Snapshot::of(org, alerts)?;
    let previous = load(&path)?;
    let entries = changes(previous.as_ref(), &current, actor);
    let written = entries.len();
    for entry in entries {
        let key = {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(format!("{}\n{}", entry.target, entry.detail));
            format!("config:{digest:x}")
        };
        trail.append(entry.once(key), now)?;
    }
    if previous.as_ref() != Some(&current) {
        save(&path, &current)?;
    }
    Ok(written)
}

/// What the server's start-up calls (after locking the data dir, before serving): records the
/// differences by the `--config` file's actor. A failure is logged, not fatal: the floor must
/// come up, and the snapshot is kept as it was, so the next start records the change.
pub(crate) fn audit_at_start(trail: &AuditTrail, data_dir: &Path, settings: &Settings) {
    let actor = actor(settings.config_file.as_deref());
    let written = record_to(
        trail,
        data_dir,
        &settings.organisation,
        &settings.alerts,
        &actor,
        jiff::Timestamp::now(),
    );
    match written {
        Ok(0) => {}
        Ok(records) => {
            tracing::info!(records, %actor, "configuration changes written to the audit trail")
        }
        Err(e) => tracing::error!(
            error = %e,
            "configuration changes could not be written to the audit trail; the next start \
             records them"
        ),
    }
}

/// The actor of configuration records: `config:PATH` for the `--config` file, else
/// `config:built-in` (flags and defaults only, or the demo's organisation).
pub(crate) fn actor(config_file: Option<&Path>) -> String {
    match config_file {
        Some(path) => format!("config:{}", path.display()),
        None => "config:built-in".into(),
    }
}

/// The previous snapshot. A missing file is a first start; a damaged one (or one of a newer
/// format) is treated the same way, with a warning, so a start never fails on it and the next
/// start compares against a good one.
fn load(path: &Path) -> Result<Option<Snapshot>, ConfigAuditError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ConfigAuditError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    match serde_json::from_str::<Snapshot>(&text) {
        Ok(snapshot) if snapshot.format == FORMAT => Ok(Some(snapshot)),
        Ok(snapshot) => {
            tracing::warn!(path = %path.display(), format = snapshot.format, "the previous configuration snapshot has another format; recording the configuration as new");
            Ok(None)
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "the previous configuration snapshot cannot be read; recording the configuration as new");
            Ok(None)
        }
    }
}

/// Writes `snapshot` atomically: a temporary file beside it, synced, renamed over it, the
/// directory synced.
fn save(path: &Path, snapshot: &Snapshot) -> Result<(), ConfigAuditError> {
    let io_err = |source| ConfigAuditError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut text = serde_json::to_vec_pretty(snapshot).map_err(|e| io_err(io::Error::other(e)))?;
    text.push(b'\n');
    atomic_file::replace(path, &text, Access::Private).map_err(io_err)
}

fn service_level_text(s: &ServiceLevelSettings) -> String {
    format!(
        "threshold_s={} target_pct={} variant={} short_abandon_s={}",
        s.threshold_s,
        s.target_pct,
        s.variant.as_str(),
        s.short_abandon_s
    )
}

/// `threshold_s 20 -> 30, target_pct 80 -> 85`; empty when nothing changed.
fn service_level_diff(old: &ServiceLevelSettings, new: &ServiceLevelSettings) -> String {
    let mut out = Vec::new();
    field(
        &mut out,
        "threshold_s",
        &old.threshold_s.to_string(),
        &new.threshold_s.to_string(),
    );
    field(
        &mut out,
        "target_pct",
        &old.target_pct.to_string(),
        &new.target_pct.to_string(),
    );
    field(
        &mut out,
        "variant",
        old.variant.as_str(),
        new.variant.as_str(),
    );
    field(
        &mut out,
        "short_abandon_s",
        &old.short_abandon_s.to_string(),
        &new.short_abandon_s.to_string(),
    );
    out.join(", ")
}

fn field(out: &mut Vec<String>, name: &str, old: &str, new: &str) {
    if old != new {
        out.push(format!("{name} {old} -> {new}"));
    }
}

fn opt<T: ToString>(value: &Option<T>) -> String {
    value
        .as_ref()
        .map(T::to_string)
        .unwrap_or_else(|| "none".into())
}

/// The top-level fields of two rules that differ: `warning 80 -> 70, enabled true -> false`.
fn json_diff(old: &serde_json::Value, new: &serde_json::Value) -> String {
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else {
        return format!("{old} -> {new}");
    };
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let none = serde_json::Value::Null;
    keys.into_iter()
        .filter_map(|key| {
            let (a, b) = (old.get(key).unwrap_or(&none), new.get(key).unwrap_or(&none));
            (a != b).then(|| format!("{key} {a} -> {b}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
