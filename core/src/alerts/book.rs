//! The alert book: every alert ever raised, and the changes that made it what it is
//! (docs/ALERTS.md, "Lifecycle"). Alerts are never deleted (不漏报不瞒报): an alert is raised,
//! may change level, escalate and be acknowledged, and is cleared; it stays in the book.
//!
//! The book changes only by [`AlertChange`]s, the same ones the server journals, so replaying
//! the journal through [`AlertBook::apply`] rebuilds exactly the book that was.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::rules::{Comparison, EscalationTier, Level, RuleKind};
use crate::event::{Millis, NotReadyReason};
use crate::scope::{Scope, Window};

/// One alert: a condition of one rule on one scope, from its raise to its clear.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// `KEY@RAISED_AT`: stable, so a replay raises the same ids.
    pub id: String,
    /// `RULE/SCOPE` (and `/SOURCE` for a silent source): the condition; one alert per key is
    /// open at a time.
    pub key: String,
    /// The id of the rule that raised it.
    pub rule: String,
    /// The rule's kind.
    pub kind: RuleKind,
    /// The figure's name for metric rules; `not_ready_s`, `silence_s`, `arrivals_5m` or
    /// `dropped_calls` for the built-in kinds.
    pub metric: String,
    /// Where the condition holds (a queue, a team, an agent, the centre).
    pub scope: Scope,
    /// The rule's window (metric rules over a window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// Whether the value breaches by falling below or rising above the threshold.
    pub comparison: Comparison,
    /// The agent's display name (not-ready overruns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    /// The not-ready reason (not-ready overruns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<NotReadyReason>,
    /// The silent source (source-silent alerts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The usual 5-minute volume the arrivals were compared with (sudden peaks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usual: Option<f64>,
    /// How bad it is now.
    pub level: Level,
    /// The value when raised, last changed level, or cleared; `None` when the figure was null.
    pub value: Option<f64>,
    /// The threshold of the current level.
    pub threshold: f64,
    /// When it was raised, event time.
    pub raised_at: Millis,
    /// Who acknowledged it, when and with what note; `None` until someone does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<Acknowledgement>,
    /// When it cleared, event time; `None` while open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleared_at: Option<Millis>,
    /// Position in the rule's escalation chain (0: the first role, told at the raise).
    pub escalation_step: usize,
    /// Who is told now.
    pub escalated_to: EscalationTier,
    /// When it was escalated to them, event time.
    pub escalated_at: Millis,
    /// The time of the latest change.
    pub updated_at: Millis,
}

/// Who acknowledged an alert, when (event time), and what they said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// The user who acknowledged it.
    pub by: String,
    /// When, event time.
    pub at: Millis,
    /// What they wrote (may be empty).
    #[serde(default)]
    pub note: String,
}

impl Alert {
    /// Whether it has not cleared yet (acknowledged alerts are still open).
    pub fn is_open(&self) -> bool {
        self.cleared_at.is_none()
    }
}

/// One change to the book: what the server journals, pushes to subscribers and sends by
/// webhook. Serialised with a `change` tag (`raised`, `level_changed`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum AlertChange {
    /// A new alert.
    Raised {
        /// The alert as raised.
        alert: Box<Alert>,
    },
    /// An open alert moved between warning and critical.
    LevelChanged {
        /// The alert's id.
        id: String,
        /// When, event time.
        at: Millis,
        /// The new level.
        level: Level,
        /// The value at the change; `None` when the figure was null.
        value: Option<f64>,
        /// The threshold of the new level.
        threshold: f64,
    },
    /// An unacknowledged alert reached the next step of its escalation chain.
    Escalated {
        /// The alert's id.
        id: String,
        /// When, event time.
        at: Millis,
        /// The step reached.
        step: usize,
        /// Who is told from now on.
        role: EscalationTier,
    },
    /// Someone acknowledged the alert.
    Acknowledged {
        /// The alert's id.
        id: String,
        /// When, event time.
        at: Millis,
        /// The user who acknowledged it.
        by: String,
        /// What they wrote.
        note: String,
    },
    /// The condition ended.
    Cleared {
        /// The alert's id.
        id: String,
        /// When, event time.
        at: Millis,
        /// The value at the clear; `None` when the figure was null.
        value: Option<f64>,
    },
}

impl AlertChange {
    /// The alert this change is about.
    pub fn id(&self) -> &str {
        match self {
            AlertChange::Raised { alert } => &alert.id,
            AlertChange::LevelChanged { id, .. }
            | AlertChange::Escalated { id, .. }
            | AlertChange::Acknowledged { id, .. }
            | AlertChange::Cleared { id, .. } => id,
        }
    }

    /// When it happened (event time).
    pub fn at(&self) -> Millis {
        match self {
            AlertChange::Raised { alert } => alert.raised_at,
            AlertChange::LevelChanged { at, .. }
            | AlertChange::Escalated { at, .. }
            | AlertChange::Acknowledged { at, .. }
            | AlertChange::Cleared { at, .. } => *at,
        }
    }

    /// The sort of this change, as its `change` tag names it.
    pub fn kind(&self) -> ChangeKind {
        match self {
            AlertChange::Raised { .. } => ChangeKind::Raised,
            AlertChange::LevelChanged { .. } => ChangeKind::LevelChanged,
            AlertChange::Escalated { .. } => ChangeKind::Escalated,
            AlertChange::Acknowledged { .. } => ChangeKind::Acknowledged,
            AlertChange::Cleared { .. } => ChangeKind::Cleared,
        }
    }
}

/// The sort of an [`AlertChange`], as named in its `change` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// See [`AlertChange::Raised`].
    Raised,
    /// See [`AlertChange::LevelChanged`].
    LevelChanged,
    /// See [`AlertChange::Escalated`].
    Escalated,
    /// See [`AlertChange::Acknowledged`].
    Acknowledged,
    /// See [`AlertChange::Cleared`].
    Cleared,
}

impl ChangeKind {
    /// Every change, in an alert's life order (see [`super::RuleKind::ALL`]).
    pub const ALL: [ChangeKind; 5] = [
        ChangeKind::Raised,
        ChangeKind::LevelChanged,
        ChangeKind::Escalated,
        ChangeKind::Acknowledged,
        ChangeKind::Cleared,
    ];
}

/// Why an acknowledgement or a journaled change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertError {
    /// No alert has this id.
    #[error("no alert with id \"{0}\"")]
    Unknown(String),
    /// Acknowledged once already: the first acknowledgement stands.
    #[error("alert \"{id}\" was already acknowledged by {by}")]
    AlreadyAcknowledged {
        /// The alert's id.
        id: String,
        /// Who acknowledged it first.
        by: String,
    },
    /// A raise of an id the book holds (a repeat from a journal).
    #[error("alert \"{0}\" is already in the book")]
    AlreadyRaised(String),
    /// A clear of an alert already cleared.
    #[error("alert \"{0}\" is already cleared")]
    AlreadyCleared(String),
    /// A change older than the alert's latest (a repeat from a journal).
    #[error("alert \"{0}\" changed later than this change (a repeat from a journal)")]
    Stale(String),
    /// A field of the request is wrong.
    #[error("`{field}` {problem}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
}

/// Every alert, in the order raised, with the open ones indexed by key.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct AlertBook {
    alerts: Vec<Alert>,
    by_id: BTreeMap<String, usize>,
    open_by_key: BTreeMap<String, usize>,
    last_cleared: BTreeMap<String, Millis>,
}

impl AlertBook {
    /// Applies one change; a change that does not fit the book (an unknown id, a second raise,
    /// acknowledgement or clear, a level change or escalation older than the alert's latest
    /// change) is refused and leaves the book as it was, so a journal applied twice is applied
    /// once.
    pub fn apply(&mut self, change: &AlertChange) -> Result<&Alert, AlertError> {
        if let AlertChange::Raised { alert } = change {
            if self.by_id.contains_key(&alert.id) {
                return Err(AlertError::AlreadyRaised(alert.id.clone()));
            }
            let idx = self.alerts.len();
            self.by_id.insert(alert.id.clone(), idx);
            match alert.cleared_at {
                None => {
                    self.open_by_key.insert(alert.key.clone(), idx);
                }
                Some(at) => self.note_cleared(&alert.key.clone(), at),
            }
            self.alerts.push(alert.as_ref().clone());
            return Ok(&self.alerts[idx]);
        }
        let id = change.id();
        let idx = *self
            .by_id
            .get(id)
            .ok_or_else(|| AlertError::Unknown(id.to_string()))?;
        let alert = &mut self.alerts[idx];
        match change {
            AlertChange::Raised { .. } => {}
            AlertChange::LevelChanged {
                at,
                level,
                value,
                threshold,
                ..
            } => {
                if *at < alert.updated_at || (*at == alert.updated_at && alert.level == *level) {
                    return Err(AlertError::Stale(id.to_string()));
                }
                alert.level = *level;
                alert.value = *value;
                alert.threshold = *threshold;
                alert.updated_at = *at;
            }
            AlertChange::Escalated { at, step, role, .. } => {
                if *step <= alert.escalation_step || *at < alert.updated_at {
                    return Err(AlertError::Stale(id.to_string()));
                }
                alert.escalation_step = *step;
                alert.escalated_to = *role;
                alert.escalated_at = *at;
                alert.updated_at = *at;
            }
            AlertChange::Acknowledged { at, by, note, .. } => {
                if let Some(ack) = &alert.acknowledged {
                    return Err(AlertError::AlreadyAcknowledged {
                        id: id.to_string(),
                        by: ack.by.clone(),
                    });
                }
                alert.acknowledged = Some(Acknowledgement {
                    by: by.clone(),
                    at: *at,
                    note: note.clone(),
                });
                alert.updated_at = alert.updated_at.max(*at);
            }
            AlertChange::Cleared { at, value, .. } => {
                if alert.cleared_at.is_some() {
                    return Err(AlertError::AlreadyCleared(id.to_string()));
                }
                alert.cleared_at = Some(*at);
                alert.value = *value;
                alert.updated_at = *at;
                let key = alert.key.clone();
                if self.open_by_key.get(&key) == Some(&idx) {
                    self.open_by_key.remove(&key);
                }
                self.note_cleared(&key, *at);
            }
        }
        Ok(&self.alerts[idx])
    }

    fn note_cleared(&mut self, key: &str, at: Millis) {
        let last = self.last_cleared.entry(key.to_string()).or_insert(at);
        *last = (*last).max(at);
    }

    /// The alert with this id, open or cleared.
    pub fn get(&self, id: &str) -> Option<&Alert> {
        self.by_id.get(id).map(|&i| &self.alerts[i])
    }

    /// The open alert of a condition, if any.
    pub fn open(&self, key: &str) -> Option<&Alert> {
        self.open_by_key.get(key).map(|&i| &self.alerts[i])
    }

    /// Every open alert, by key.
    pub fn open_alerts(&self) -> impl Iterator<Item = &Alert> {
        self.open_by_key.values().map(|&i| &self.alerts[i])
    }

    /// The open alerts of rule `rule`, by key.
    pub(crate) fn open_of<'a>(&'a self, rule: &'a str) -> impl Iterator<Item = &'a Alert> + 'a {
        self.open_alerts().filter(move |a| a.rule == rule)
    }

    /// When the condition's last alert cleared (for the cool-down).
    pub fn last_cleared(&self, key: &str) -> Option<Millis> {
        self.last_cleared.get(key).copied()
    }

    /// Every alert, in the order raised.
    pub fn all(&self) -> &[Alert] {
        &self.alerts
    }

    /// How many alerts the book holds, cleared ones included.
    pub fn len(&self) -> usize {
        self.alerts.len()
    }

    /// Whether the book holds no alert at all.
    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
    }
}
