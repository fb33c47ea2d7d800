//! Reading frames: one pass over the text into a flat struct (no buffered tree), alerts read
//! field by field, so the bundle carries no derived parser for the core's larger types.

use floorwatch_core::alerts::{
    Acknowledgement, Alert, Comparison, EscalationTier, Level, RuleKind,
};
use floorwatch_core::wire::{LiveFrame, ScopeHistory};
use floorwatch_core::{AgentView, Figures, Millis, NotReadyReason, QueueView};
use serde::Deserialize;
use serde_json::Value;

/// Reads one frame of `/api/v1/live`.
///
/// `LiveFrame` is an internally tagged enum; serde reads those by first buffering the whole
/// frame into a generic tree and then reading that tree again. For a thousand-agent delta that
/// doubles the parsing time and adds tens of kilobytes of wasm, so the dashboard reads every
/// frame in one pass into a flat struct with the tag as a field, then builds the enum. Alerts
/// are read from the generic tree ([`read_alert`]): a derived parser for the core's 22-field
/// `Alert` cost the bundle 5 KB gzipped (BENCHMARKS.md, "Bundle size").
pub fn parse_frame(text: &str) -> Result<LiveFrame, FrameError> {
    #[derive(Deserialize)]
    struct Flat {
        #[serde(rename = "type")]
        kind: FrameKind,
        seq: u64,
        now: Option<Millis>,
        #[serde(default)]
        figures: Vec<Figures>,
        #[serde(default)]
        agents: Vec<AgentView>,
        queues: Option<Vec<QueueView>>,
        // Read from the generic tree, as alerts are: no new derived parser in the bundle.
        #[serde(default)]
        names: Vec<Value>,
        #[serde(default)]
        history: Vec<ScopeHistory>,
        #[serde(default)]
        alerts: Vec<Value>,
        message: Option<String>,
        stream_seq: Option<u64>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum FrameKind {
        Snapshot,
        Delta,
        Heartbeat,
        Error,
    }
    let flat: Flat = serde_json::from_str(text).map_err(|e| FrameError(e.to_string()))?;
    let alerts = flat
        .alerts
        .iter()
        .map(read_alert)
        .collect::<Option<Vec<_>>>()
        .ok_or(FrameError(
            "an alert with a missing or unreadable field".into(),
        ))?;
    let now = || flat.now.ok_or(FrameError("missing field `now`".into()));
    Ok(match flat.kind {
        FrameKind::Snapshot => LiveFrame::Snapshot {
            seq: flat.seq,
            now: now()?,
            figures: flat.figures,
            agents: flat.agents,
            queues: flat
                .queues
                .ok_or(FrameError("missing field `queues`".into()))?,
            // An unreadable pair only leaves that scope's id on screen.
            names: flat
                .names
                .iter()
                .filter_map(|pair| {
                    Some((pair[0].as_str()?.parse().ok()?, pair[1].as_str()?.into()))
                })
                .collect(),
            history: flat.history,
            alerts,
            stream_seq: flat.stream_seq,
        },
        FrameKind::Delta => LiveFrame::Delta {
            seq: flat.seq,
            now: now()?,
            figures: flat.figures,
            agents: flat.agents,
            history: flat.history,
            alerts,
            stream_seq: flat.stream_seq,
        },
        FrameKind::Heartbeat => LiveFrame::Heartbeat {
            seq: flat.seq,
            now: now()?,
        },
        FrameKind::Error => LiveFrame::Error {
            seq: flat.seq,
            message: flat.message.unwrap_or_default(),
        },
    })
}

/// One alert of a frame, as the core's `Alert` serialises it (core/src/alerts/book.rs): `None`
/// when a field it always writes is missing or of the wrong kind. Optional fields the server
/// leaves out read as `None`.
pub fn read_alert(v: &Value) -> Option<Alert> {
    let string = |name: &str| v[name].as_str().map(String::from);
    let millis = |name: &str| v[name].as_i64();
    Some(Alert {
        id: string("id")?,
        key: string("key")?,
        rule: string("rule")?,
        kind: named(&v["kind"], &RULE_KINDS, RuleKind::as_str)?,
        metric: string("metric")?,
        scope: v["scope"].as_str()?.parse().ok()?,
        window: v["window"].as_str().and_then(|w| w.parse().ok()),
        comparison: named(&v["comparison"], &COMPARISONS, Comparison::as_str)?,
        agent_name: string("agent_name"),
        reason: named(&v["reason"], &NotReadyReason::ALL, NotReadyReason::as_str),
        source: string("source"),
        usual: v["usual"].as_f64(),
        level: named(&v["level"], &LEVELS, Level::as_str)?,
        value: v["value"].as_f64(),
        threshold: v["threshold"].as_f64()?,
        raised_at: millis("raised_at")?,
        acknowledged: match &v["acknowledged"] {
            Value::Null => None,
            ack => Some(Acknowledgement {
                by: ack["by"].as_str()?.to_string(),
                at: ack["at"].as_i64()?,
                note: ack["note"].as_str().unwrap_or_default().to_string(),
            }),
        },
        cleared_at: millis("cleared_at"),
        escalation_step: usize::try_from(v["escalation_step"].as_u64()?).ok()?,
        escalated_to: named(&v["escalated_to"], &TIERS, EscalationTier::as_str)?,
        escalated_at: millis("escalated_at")?,
        updated_at: millis("updated_at")?,
    })
}

/// The variant of `all` whose name (`as_str`, as serde writes it) is the string `v`.
fn named<T: Copy>(v: &Value, all: &[T], name: fn(T) -> &'static str) -> Option<T> {
    let text = v.as_str()?;
    all.iter().copied().find(|&t| name(t) == text)
}

/// Every variant of the core's alert enums; the tests check that each reads back.
pub(super) const RULE_KINDS: [RuleKind; 5] = [
    RuleKind::Metric,
    RuleKind::NotReadyOverrun,
    RuleKind::SourceSilent,
    RuleKind::SuddenPeak,
    RuleKind::DroppedCalls,
];
pub(super) const COMPARISONS: [Comparison; 2] = [Comparison::Below, Comparison::Above];
pub(super) const LEVELS: [Level; 2] = [Level::Warning, Level::Critical];
pub(super) const TIERS: [EscalationTier; 3] = [
    EscalationTier::TeamLead,
    EscalationTier::Supervisor,
    EscalationTier::Manager,
];

/// A frame that is not a valid `LiveFrame`.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameError(pub String);

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unreadable live frame: {}", self.0)
    }
}

impl std::error::Error for FrameError {}
