//! The alerts the wallboard holds and how they read on screen (docs/ALERTS.md): the book the
//! live frames fill, the order of the supervisor's alert panel, the wall's banner, and the
//! one-line summary of each alert, free of the browser so host tests reach it.
//!
//! What the wall may show is decided by the server (an agent's alert never reaches a
//! subscription without an agent list); the wall's banner also leaves agent alerts out, so a
//! wall that somehow held one would still not show a name.

use std::collections::BTreeMap;

use floorwatch_core::Scope;
use floorwatch_core::alerts::{Alert, ChangeKind, Comparison, EscalationTier, Level, RuleKind};
use serde::Serialize;

use crate::format;
use crate::i18n::{Key, Lang, fill};

/// The alerts a page holds, by id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertBook {
    alerts: BTreeMap<String, Alert>,
}

impl AlertBook {
    /// A snapshot replaces everything.
    pub fn replace(&mut self, alerts: Vec<Alert>) {
        self.alerts.clear();
        self.update(alerts);
    }

    /// A delta (or an acknowledgement's answer) replaces the alerts it carries, unless the
    /// book already holds a later state of one (an answer overtaken by a delta).
    pub fn update(&mut self, alerts: Vec<Alert>) {
        for alert in alerts {
            let newer = self.alerts.get(&alert.id).is_none_or(|held| {
                alert.updated_at > held.updated_at
                    || (alert.updated_at == held.updated_at
                        && (alert.acknowledged.is_some() || held.acknowledged.is_none()))
            });
            if newer {
                self.alerts.insert(alert.id.clone(), alert);
            }
        }
    }

    /// The alert with this id, open or cleared.
    pub fn get(&self, id: &str) -> Option<&Alert> {
        self.alerts.get(id)
    }

    /// How many alerts the page holds.
    pub fn len(&self) -> usize {
        self.alerts.len()
    }

    /// Whether the page holds no alert.
    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
    }

    /// The supervisor panel's order: open alerts first, critical before warning, the
    /// unacknowledged before the acknowledged, newest first; then cleared ones, latest clear
    /// first.
    pub fn ordered(&self) -> Vec<&Alert> {
        let mut list: Vec<&Alert> = self.alerts.values().collect();
        list.sort_by_key(|a| {
            (
                !a.is_open(),
                a.level != Level::Critical,
                a.acknowledged.is_some(),
                std::cmp::Reverse(a.cleared_at.unwrap_or(a.raised_at)),
                a.id.clone(),
            )
        });
        list
    }

    /// What the wall's banner shows: open alerts about queues and the floor (never one that
    /// names an agent), in the panel's order.
    pub fn wall(&self) -> Vec<&Alert> {
        self.ordered()
            .into_iter()
            .filter(|a| a.is_open() && !matches!(a.scope, Scope::Agent(_)))
            .collect()
    }

    /// Open alerts by level: (critical, warning).
    pub fn open_counts(alerts: &[&Alert]) -> (usize, usize) {
        let open = alerts.iter().filter(|a| a.is_open());
        let critical = open.clone().filter(|a| a.level == Level::Critical).count();
        (critical, open.count() - critical)
    }
}

/// Where an alert stands, as the panel's `data-state` says it.
pub fn state(alert: &Alert) -> &'static str {
    match (alert.is_open(), alert.acknowledged.is_some()) {
        (false, _) => "cleared",
        (true, true) => "acknowledged",
        (true, false) => "open",
    }
}

/// Where an alert stands, in words: open and whom it was told, acknowledged by whom, cleared.
pub fn status(alert: &Alert, lang: Lang) -> String {
    status_as(alert, lang, Text::Plain)
}

fn status_as(alert: &Alert, lang: Lang, text: Text) -> String {
    let acked = alert.acknowledged.as_ref().map(|ack| {
        fill(
            &text.template(lang, Key::AlertAcknowledgedBy),
            &[("by", &text.data(&ack.by))],
        )
    });
    let cleared = text.template(lang, Key::AlertCleared);
    match (alert.is_open(), acked) {
        (true, Some(acked)) => acked,
        (true, None) => fill(
            &text.template(lang, Key::AlertToldRole),
            &[("role", &text.words(lang.t(tier_key(alert.escalated_to))))],
        ),
        (false, Some(acked)) => format!("{cleared} · {acked}"),
        (false, None) => cleared,
    }
}

/// Whether text is written plain or as HTML, where every value that comes from the floor
/// (an agent's name, a source, a rule's figure without a label) sits in an element of its own,
/// apart from the catalogue's words around it.
#[derive(Clone, Copy)]
enum Text {
    Plain,
    Html,
}

impl Text {
    fn template(self, lang: Lang, key: Key) -> String {
        self.words(lang.t(key))
    }

    /// The catalogue's words (and numbers).
    fn words(self, words: &str) -> String {
        match self {
            Text::Plain => words.to_string(),
            Text::Html => escape(words),
        }
    }

    /// A value from the floor: a name, an id.
    fn data(self, value: &str) -> String {
        match self {
            Text::Plain => value.to_string(),
            Text::Html => format!("<span class=\"data\">{}</span>", escape(value)),
        }
    }
}

/// The label of an alert level.
pub fn level_key(level: Level) -> Key {
    match level {
        Level::Warning => Key::AlertLevelWarning,
        Level::Critical => Key::AlertLevelCritical,
    }
}

/// The label of an escalation tier ("told: supervisor").
pub fn tier_key(role: EscalationTier) -> Key {
    match role {
        EscalationTier::TeamLead => Key::RoleTeamLead,
        EscalationTier::Supervisor => Key::RoleSupervisor,
        EscalationTier::Manager => Key::RoleManager,
    }
}

/// What the alert's rule watches, in `lang`: a built-in kind's label, or a metric rule's
/// figure. The rule's id (configured text, often English) is only the row's tooltip.
fn kind_label(alert: &Alert, lang: Lang, text: Text) -> String {
    match kind_key(alert.kind) {
        Some(key) => text.words(lang.t(key)),
        None => metric_label(&alert.metric, lang, text),
    }
}

/// The label of a built-in kind; `None` for a metric rule, which reads as its figure.
pub fn kind_key(kind: RuleKind) -> Option<Key> {
    Some(match kind {
        RuleKind::Metric => return None,
        RuleKind::NotReadyOverrun => Key::KindNotReadyOverrun,
        RuleKind::SourceSilent => Key::KindSourceSilent,
        RuleKind::SuddenPeak => Key::KindSuddenPeak,
        RuleKind::DroppedCalls => Key::KindDroppedCalls,
    })
}

/// The label of where an alert stands after a change: open (raised, a level change, an
/// escalation), acknowledged, cleared (the words [`status`] shows).
pub fn change_key(change: ChangeKind) -> Key {
    match change {
        ChangeKind::Raised | ChangeKind::LevelChanged | ChangeKind::Escalated => {
            Key::AlertOpenStatus
        }
        ChangeKind::Acknowledged => Key::AlertAcknowledgedBy,
        ChangeKind::Cleared => Key::AlertCleared,
    }
}

/// A figure's label where the wallboard has one; its METRICS.md name otherwise.
fn metric_label(metric: &str, lang: Lang, text: Text) -> String {
    let key = match metric {
        "service_level_pct" => Key::ServiceLevel,
        "waiting_now" => Key::CallsWaiting,
        "longest_waiting_s" | "max_wait_s" => Key::LongestWait,
        "abandon_rate_pct" => Key::AbandonRate,
        "asa_s" => Key::Asa,
        "aht_s" => Key::Aht,
        "agents_available" => Key::AgentsAvailable,
        "agents_not_ready" => Key::AgentsNotReady,
        "agents_logged_in" => Key::AgentsLoggedIn,
        "occupancy_pct" => Key::Occupancy,
        "utilisation_pct" => Key::Utilisation,
        other => return text.data(other),
    };
    text.words(lang.t(key))
}

/// A number as the alert's figure reads: percentages and seconds with one decimal at most.
fn number(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// Seconds as a clock (`15:10`).
fn duration(seconds: f64) -> String {
    format::seconds(Some(seconds))
}

/// The alert in one line, in `lang`: what was past which limit (the value at the raise, the
/// last level change or the clear).
pub fn summary(alert: &Alert, lang: Lang) -> String {
    summary_as(alert, lang, Text::Plain)
}

/// [`summary`] as HTML, names in elements of their own.
pub fn summary_html(alert: &Alert, lang: Lang) -> String {
    summary_as(alert, lang, Text::Html)
}

fn summary_as(alert: &Alert, lang: Lang, text: Text) -> String {
    let value = alert.value;
    let shown = |v: Option<f64>| v.map_or_else(|| format::NONE.to_string(), number);
    let fill_in = |key: Key, args: &[(&str, &str)]| fill(&text.template(lang, key), args);
    match alert.kind {
        RuleKind::Metric => fill_in(
            match alert.comparison {
                Comparison::Below => Key::AlertMetricBelow,
                Comparison::Above => Key::AlertMetricAbove,
            },
            &[
                ("metric", &metric_label(&alert.metric, lang, text)),
                ("value", &shown(value)),
                ("threshold", &number(alert.threshold)),
            ],
        ),
        RuleKind::NotReadyOverrun => {
            let agent = alert
                .agent_name
                .clone()
                .unwrap_or_else(|| alert.scope.id().unwrap_or_default().to_string());
            let reason = alert.reason.map_or("", |r| lang.reason(r));
            fill_in(
                Key::AlertNotReady,
                &[
                    ("agent", &text.data(&agent)),
                    ("reason", &text.words(reason)),
                    (
                        "for",
                        &value.map_or_else(|| format::NONE.to_string(), duration),
                    ),
                    ("allowance", &duration(alert.threshold)),
                ],
            )
        }
        RuleKind::SourceSilent => fill_in(
            Key::AlertSilent,
            &[
                (
                    "source",
                    &text.data(alert.source.as_deref().unwrap_or_default()),
                ),
                (
                    "for",
                    &value.map_or_else(|| format::NONE.to_string(), duration),
                ),
            ],
        ),
        RuleKind::SuddenPeak => fill_in(
            Key::AlertPeak,
            &[("value", &shown(value)), ("usual", &shown(alert.usual))],
        ),
        RuleKind::DroppedCalls => fill_in(Key::AlertDropped, &[("value", &shown(value))]),
    }
}

/// `text` safe inside HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The cells of one alert's row in the supervisor's panel, as HTML (every text escaped):
/// level, rule, where (`scope`: its display name), what, and where it stands. Rows are written
/// whole when their alert or the language changes, which costs the bundle far less than a
/// reactive view per cell.
pub fn row_html(alert: &Alert, lang: Lang, scope: &str) -> String {
    let note = alert
        .acknowledged
        .as_ref()
        .map(|ack| ack.note.as_str())
        .unwrap_or_default();
    format!(
        "<span class=\"level\">{}</span><span class=\"rule\" title=\"{}\">{}</span>\
         <span class=\"scope\">{}</span><span class=\"what\">{}</span>\
         <span class=\"ack-status\">{}</span><span class=\"ack-note\">{}</span>",
        escape(lang.t(level_key(alert.level))),
        escape(&format!("{}: {}", lang.t(Key::ColAlertRule), alert.rule)),
        kind_label(alert, lang, Text::Html),
        escape(scope),
        summary_html(alert, lang),
        status_as(alert, lang, Text::Html),
        escape(note),
    )
}

/// The wall's banner as HTML: the counts, then one item per alert (`scope` names each).
pub fn banner_html(alerts: &[&Alert], lang: Lang, scope: impl Fn(&Alert) -> String) -> String {
    let (critical, warning) = AlertBook::open_counts(alerts);
    let mut html = format!(
        "<strong>{}</strong><ul>",
        escape(&lang.fill(
            Key::AlertBanner,
            &[
                ("critical", &critical.to_string()),
                ("warning", &warning.to_string()),
            ],
        ))
    );
    for alert in alerts {
        html.push_str(&format!(
            "<li class=\"alert-{}\">{}: <span class=\"scope\">{}</span> — {}</li>",
            alert.level.as_str(),
            escape(lang.t(level_key(alert.level))),
            escape(&scope(alert)),
            summary_html(alert, lang),
        ));
    }
    html.push_str("</ul>");
    html
}

/// The body of `POST /api/v1/alerts/ack`: no name, since the server records the signed-in
/// user as the one who acknowledged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AckRequest<'a> {
    /// The alert acknowledged.
    pub id: &'a str,
    /// What the acknowledger wrote.
    pub note: &'a str,
}

/// The server's `{"error": "..."}`, or the body itself when it is not that.
pub fn error_message(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(String::from))
        .unwrap_or_else(|| body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use floorwatch_core::NotReadyReason;
    use floorwatch_core::alerts::Acknowledgement;

    fn alert(id: &str, scope: &str, kind: RuleKind, level: Level, raised_at: i64) -> Alert {
        Alert {
            id: id.into(),
            key: id.into(),
            rule: "r".into(),
            kind,
            metric: "service_level_pct".into(),
            scope: scope.parse().unwrap(),
            window: None,
            comparison: Comparison::Below,
            agent_name: None,
            reason: None,
            source: None,
            usual: None,
            level,
            value: Some(43.5),
            threshold: 80.0,
            raised_at,
            acknowledged: None,
            cleared_at: None,
            escalation_step: 0,
            escalated_to: EscalationTier::TeamLead,
            escalated_at: raised_at,
            updated_at: raised_at,
        }
    }

    #[test]
    fn the_panel_puts_open_critical_unacknowledged_alerts_first() {
        let mut book = AlertBook::default();
        let mut acked = alert("acked", "queue:a", RuleKind::Metric, Level::Critical, 5);
        acked.acknowledged = Some(Acknowledgement {
            by: "x".into(),
            at: 6,
            note: String::new(),
        });
        let mut cleared = alert("cleared", "queue:a", RuleKind::Metric, Level::Critical, 1);
        cleared.cleared_at = Some(9);
        book.replace(vec![
            alert("warn", "queue:a", RuleKind::Metric, Level::Warning, 7),
            cleared,
            acked,
            alert("crit-old", "queue:b", RuleKind::Metric, Level::Critical, 2),
            alert(
                "crit-new",
                "centre",
                RuleKind::SourceSilent,
                Level::Critical,
                3,
            ),
            alert(
                "agent",
                "agent:a1",
                RuleKind::NotReadyOverrun,
                Level::Warning,
                8,
            ),
        ]);
        let ids: Vec<&str> = book.ordered().iter().map(|a| a.id.as_str()).collect();
        assert_eq!(
            ids,
            ["crit-new", "crit-old", "acked", "agent", "warn", "cleared"]
        );
        let wall: Vec<&str> = book.wall().iter().map(|a| a.id.as_str()).collect();
        assert_eq!(wall, ["crit-new", "crit-old", "acked", "warn"]);
        assert_eq!(AlertBook::open_counts(&book.wall()), (3, 1));
        assert_eq!(state(book.get("acked").unwrap()), "acknowledged");
        assert_eq!(state(book.get("cleared").unwrap()), "cleared");
        assert_eq!(state(book.get("warn").unwrap()), "open");
        assert_eq!(
            status(book.get("warn").unwrap(), Lang::En),
            "Open, told: team lead"
        );
        assert_eq!(
            status(book.get("acked").unwrap(), Lang::En),
            "Acknowledged by x"
        );
        assert_eq!(status(book.get("cleared").unwrap(), Lang::Zh), "已解除");
    }

    #[test]
    fn a_later_state_is_never_replaced_by_an_earlier_one() {
        let mut book = AlertBook::default();
        let open = alert("a", "queue:a", RuleKind::Metric, Level::Warning, 1);
        let mut acked = open.clone();
        acked.acknowledged = Some(Acknowledgement {
            by: "lead".into(),
            at: 1,
            note: "ok".into(),
        });
        book.update(vec![acked.clone()]);
        book.update(vec![open.clone()]);
        assert_eq!(book.get("a"), Some(&acked));
        let mut cleared = acked.clone();
        cleared.cleared_at = Some(20);
        cleared.updated_at = 20;
        book.update(vec![cleared.clone()]);
        book.update(vec![acked]);
        assert_eq!(book.get("a"), Some(&cleared));
        book.replace(vec![]);
        assert!(book.is_empty());
    }

    #[test]
    fn summaries_say_what_was_past_which_limit() {
        let sl = alert("a", "queue:billing", RuleKind::Metric, Level::Warning, 1);
        assert_eq!(summary(&sl, Lang::En), "Service level 43.5 below 80");
        assert_eq!(summary(&sl, Lang::Zh), "服务水平 43.5 低于 80");
        let mut overrun = alert(
            "b",
            "agent:a1",
            RuleKind::NotReadyOverrun,
            Level::Warning,
            1,
        );
        overrun.agent_name = Some("Li Na".into());
        overrun.reason = Some(NotReadyReason::Break);
        overrun.value = Some(910.0);
        overrun.threshold = 900.0;
        assert_eq!(
            summary(&overrun, Lang::En),
            "Li Na: not ready (Break) for 15:10, allowance 15:00"
        );
        let mut silent = alert("c", "centre", RuleKind::SourceSilent, Level::Critical, 1);
        silent.source = Some("ami:pbx1".into());
        silent.value = Some(300.0);
        assert_eq!(
            summary(&silent, Lang::En),
            "Source ami:pbx1: no event for 5:00"
        );
        let mut peak = alert(
            "d",
            "queue:billing",
            RuleKind::SuddenPeak,
            Level::Warning,
            1,
        );
        peak.value = Some(25.0);
        peak.usual = Some(10.0);
        assert_eq!(summary(&peak, Lang::En), "25 arrivals in 5 min, usual 10");
        // As HTML, names from the floor sit apart from the catalogue's words.
        assert_eq!(
            summary_html(&overrun, Lang::Zh),
            "<span class=\"data\">Li Na</span>：示忙（小休）已 15:10，允许 15:00"
        );
        let mut gone = sl.clone();
        gone.value = None;
        assert_eq!(summary(&gone, Lang::En), "Service level — below 80");
    }

    #[test]
    fn every_kind_reads_in_words_in_both_languages_never_as_its_id() {
        let kinds = [
            (RuleKind::Metric, "service-level"),
            (RuleKind::NotReadyOverrun, "not-ready-overrun"),
            (RuleKind::SourceSilent, "source-silent"),
            (RuleKind::SuddenPeak, "sudden-peak"),
            (RuleKind::DroppedCalls, "dropped-calls"),
        ];
        for lang in Lang::ALL {
            for (kind, rule) in kinds {
                let mut a = alert("a", "queue:billing", kind, Level::Warning, 1);
                a.rule = rule.into();
                a.metric = "service_level_pct".into();
                let label = kind_label(&a, lang, Text::Plain);
                assert!(!label.trim().is_empty(), "{kind:?} in {lang:?}");
                assert_ne!(label, kind.as_str(), "{kind:?} in {lang:?}");
                let html = row_html(&a, lang, "Billing");
                let title = format!("title=\"{}: {rule}\"", lang.t(Key::ColAlertRule));
                assert!(html.contains(&title), "{lang:?}: {html}");
                let shown = html.replace(&title, "");
                assert!(!shown.contains(rule), "{lang:?}: {html}");
                assert!(!shown.contains(kind.as_str()), "{lang:?}: {html}");
            }
        }
    }

    #[test]
    fn rows_and_the_banner_escape_every_text() {
        let mut a = alert("a", "queue:billing", RuleKind::Metric, Level::Critical, 1);
        a.rule = "<b>".into();
        a.acknowledged = Some(Acknowledgement {
            by: "lead \"t1\"".into(),
            at: 2,
            note: "a & b".into(),
        });
        let html = row_html(&a, Lang::En, "Billing <VIP>");
        assert!(html.contains("title=\"Rule: &lt;b&gt;\""), "{html}");
        assert!(html.contains("Billing &lt;VIP&gt;"), "{html}");
        assert!(
            html.contains("Acknowledged by <span class=\"data\">lead &quot;t1&quot;</span>"),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"ack-note\">a &amp; b</span>"),
            "{html}"
        );
        let banner = banner_html(&[&a], Lang::En, |_| "Billing".into());
        assert_eq!(
            banner,
            "<strong>1 critical, 0 warning</strong><ul><li class=\"alert-critical\">Critical: \
             <span class=\"scope\">Billing</span> — Service level 43.5 below 80</li></ul>"
        );
    }

    #[test]
    fn server_errors_read_as_their_message() {
        assert_eq!(
            error_message(r#"{"error":"already acknowledged"}"#),
            "already acknowledged"
        );
        assert_eq!(error_message("bad gateway"), "bad gateway");
        let body = serde_json::to_string(&AckRequest {
            id: "r/queue:a@1",
            note: "she is with HR",
        })
        .unwrap();
        assert_eq!(body, r#"{"id":"r/queue:a@1","note":"she is with HR"}"#);
    }

    /// Every alert kind, state and escalation tier (their lists in core, kept complete there)
    /// has a label in both catalogues: not empty, not the raw id, and in Chinese on the 中文
    /// page (issue 18: kinds showed as `service-level`, `source-silent`).
    #[test]
    fn every_kind_state_and_tier_has_a_label_in_both_languages() {
        let mut labels: Vec<(String, Key)> = Vec::new();
        for kind in RuleKind::ALL {
            // A metric rule reads as its figure: the default rule's is service level.
            let key = kind_key(kind).unwrap_or_else(|| {
                assert_eq!(kind, RuleKind::Metric);
                Key::ServiceLevel
            });
            labels.push((kind.as_str().into(), key));
        }
        for level in Level::ALL {
            labels.push((level.as_str().into(), level_key(level)));
        }
        for tier in EscalationTier::ALL {
            labels.push((tier.as_str().into(), tier_key(tier)));
        }
        for change in ChangeKind::ALL {
            labels.push((format!("{change:?}"), change_key(change)));
        }
        let han = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        for (id, key) in labels {
            let (en, zh) = (Lang::En.t(key), Lang::Zh.t(key));
            for (lang, label) in [("en", en), ("zh", zh)] {
                assert!(!label.trim().is_empty(), "{id}: no {lang} label");
                // An id that is an English word ("supervisor") may be its English label; a
                // snake_case id (`team_lead`, `not_ready_overrun`) or its kebab-case never.
                let raw = [id.clone(), id.replace('_', "-")];
                let is_raw = raw.iter().any(|r| {
                    (r.contains(['_', '-']) || lang == "zh") && label.contains(r.as_str())
                });
                assert!(!is_raw, "{id}: the {lang} label {label:?} is the raw id");
            }
            assert!(han(zh), "{id}: the zh label {zh:?} is not Chinese");
            assert_ne!(en, zh, "{id}: one label for both languages");
        }
    }
}
