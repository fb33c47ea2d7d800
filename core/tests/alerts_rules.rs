//! Rule validation (errors name the key), the defaults, and the webhook bodies of a batch
//! (docs/ALERTS.md, "Rules", "Defaults", "Webhooks").

mod alerts_support;

use alerts_support::{AlertFloor, Script, config, org};
use floorwatch_core::alerts::{
    AlertRule, Alerts, AlertsConfig, Level, NotificationBatch, RuleKind, RuleScope, Threshold,
    WebhookFormat, batch_text, webhook_body,
};
use floorwatch_core::{CentreCalendar, NotReadyReason, Window};
use serde_json::json;

/// The error `Alerts::new` gives for a config whose third rule (index 2) is `rule`.
fn error_for(rule: &str) -> String {
    let json = format!(
        r#"{{"rules": [
            {{"id": "ok-1", "kind": "sudden_peak"}},
            {{"id": "ok-2", "metric": "aht_s", "comparison": "above", "warning": 400}},
            {rule}
        ]}}"#
    );
    match serde_json::from_str::<AlertsConfig>(&json) {
        Err(e) => format!("parse: {e}"),
        Ok(config) => match Alerts::new(&config, &org()) {
            Ok(_) => "accepted".into(),
            Err(e) => e.to_string(),
        },
    }
}

#[test]
fn validation_errors_name_the_key() {
    let cases = [
        (
            r#"{"id": "x", "metric": "foo", "comparison": "below", "warning": 1}"#,
            r#"alerts.rules[2].metric: unknown metric "foo" (expected one of: offered, "#,
        ),
        (
            r#"{"id": "x", "metric": "asa_s", "warning": 30}"#,
            r#"alerts.rules[2].comparison: required for kind "metric""#,
        ),
        (
            r#"{"id": "x", "metric": "asa_s", "comparison": "above"}"#,
            r#"alerts.rules[2].warning: required for kind "metric""#,
        ),
        (
            r#"{"id": "x"}"#,
            r#"alerts.rules[2].metric: required for kind "metric""#,
        ),
        (
            r#"{"id": "x", "kind": "sudden_peak", "metric": "asa_s"}"#,
            r#"alerts.rules[2].metric: not used by kind "sudden_peak""#,
        ),
        (
            r#"{"id": "x", "kind": "source_silent", "factor": 3}"#,
            r#"alerts.rules[2].factor: not used by kind "source_silent""#,
        ),
        (
            r#"{"id": "ok-1", "kind": "sudden_peak"}"#,
            r#"alerts.rules[2].id: duplicate rule id "ok-1""#,
        ),
        (
            r#"{"id": "a b", "kind": "sudden_peak"}"#,
            r#"alerts.rules[2].id: "a b" must be"#,
        ),
        (
            r#"{"id": "x", "metric": "asa_s", "comparison": "above", "warning": "target"}"#,
            "alerts.rules[2].warning: `target` thresholds are for metric service_level_pct only",
        ),
        (
            r#"{"id": "x", "metric": "service_level_pct", "comparison": "below",
                "warning": 80, "critical": 90}"#,
            "alerts.rules[2].critical: must be below warning (80)",
        ),
        (
            r#"{"id": "x", "metric": "service_level_pct", "comparison": "below",
                "warning": 80, "clear": 75}"#,
            "alerts.rules[2].clear: 75 would leave an alert raised",
        ),
        (
            r#"{"id": "x", "kind": "not_ready_overrun", "allowance_min": {"lunch": 30}}"#,
            r#"alerts.rules[2].allowance_min.lunch: unknown reason "lunch""#,
        ),
        (
            r#"{"id": "x", "kind": "not_ready_overrun", "scope": "every_queue"}"#,
            r#"alerts.rules[2].scope: "every_queue" agents are not members of queues"#,
        ),
        (
            r#"{"id": "x", "kind": "source_silent", "scope": "queue:billing"}"#,
            r#"alerts.rules[2].scope: "queue:billing" must be centre"#,
        ),
        (
            r#"{"id": "x", "kind": "sudden_peak", "scope": "site:south"}"#,
            r#"alerts.rules[2].scope: "site:south" is not in the organisation"#,
        ),
        (
            r#"{"id": "x", "kind": "sudden_peak", "factor": 0.5}"#,
            "alerts.rules[2].factor: must be a number of at least 1",
        ),
        (
            r#"{"id": "x", "kind": "dropped_calls", "window_min": 90}"#,
            "alerts.rules[2].window_min: must be 1 to 60 minutes",
        ),
        (
            r#"{"id": "x", "kind": "sudden_peak",
                "quiet_hours": [{"from": "22:00", "to": "7:00"}]}"#,
            r#"alerts.rules[2].quiet_hours[0].to: "7:00" is not a local time HH:MM"#,
        ),
        (
            r#"{"id": "x", "kind": "sudden_peak",
                "escalation": [{"role": "team_lead", "after_min": 0},
                               {"role": "manager", "after_min": 0}]}"#,
            "alerts.rules[2].escalation[1].after_min: must be later than the step before",
        ),
        (
            r#"{"id": "x", "kind": "sudden_peak", "hold_s": 100000}"#,
            "alerts.rules[2].hold_s: must be 0 to 86400 seconds",
        ),
    ];
    for (rule, want) in cases {
        let got = error_for(rule);
        assert!(
            got.starts_with(want),
            "rule {rule}\n got: {got}\nwant: {want}"
        );
    }
}

#[test]
fn unknown_fields_and_bad_values_are_refused_when_read() {
    for (rule, want) in [
        (
            r#"{"id": "x", "kind": "sudden_peak", "fator": 3}"#,
            "unknown field `fator`",
        ),
        (r#"{"id": "x", "kind": "peak"}"#, "unknown variant `peak`"),
        (
            r#"{"id": "x", "scope": "floor:1"}"#,
            "unknown scope `floor:1`",
        ),
        (
            r#"{"id": "x", "metric": "service_level_pct", "comparison": "below",
                "warning": "targe"}"#,
            "`targe` is not a number, `target`, `target-N` or `target+N`",
        ),
    ] {
        let got = error_for(rule);
        assert!(got.contains(want), "rule {rule}\n got: {got}\nwant: {want}");
    }
    let got = match Alerts::new(&config(r#"{"batch_s": 100000}"#), &org()) {
        Err(e) => e.to_string(),
        Ok(_) => "accepted".into(),
    };
    assert_eq!(got, "alerts.batch_s: must be at most 86400");
}

#[test]
fn the_defaults_are_listed_with_every_value_filled_in() {
    let alerts = Alerts::new(&AlertsConfig::default(), &org()).unwrap();
    let ids: Vec<&str> = alerts.rules().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "service-level",
            "not-ready-overrun",
            "source-silent",
            "sudden-peak",
            "dropped-calls"
        ]
    );
    let sl = &alerts.rules()[0];
    assert_eq!(sl.scope, Some(RuleScope::EveryQueue));
    assert_eq!(sl.metric.as_deref(), Some("service_level_pct"));
    assert_eq!(sl.window, Some(Window::Rolling30));
    assert_eq!(sl.warning, Some(Threshold::Target(0.0)));
    assert_eq!(sl.critical, Some(Threshold::Target(-10.0)));
    assert_eq!(sl.clear, Some(Threshold::Target(2.0)));
    assert_eq!((sl.hold_s, sl.cooldown_s), (Some(300), Some(600)));
    let breaks = &alerts.rules()[1];
    assert_eq!(
        breaks.allowance_min,
        Some([("break".to_string(), 15), ("meal".to_string(), 30)].into())
    );
    assert_eq!(breaks.level, Some(Level::Warning));
    assert_eq!(alerts.rules()[2].silent_s, Some(300));
    assert_eq!(alerts.rules()[2].level, Some(Level::Critical));
    // The listing is JSON for GET /api/v1/alerts/rules, and reads back as the same rules.
    let listed = serde_json::to_string(alerts.rules()).unwrap();
    assert!(
        listed.contains(r#""warning":"target","critical":"target-10""#),
        "{listed}"
    );
    let back: Vec<AlertRule> = serde_json::from_str(&listed).unwrap();
    assert_eq!(back, alerts.rules());

    // A configured rule with a default's id replaces it; `default_rules = false` drops them.
    let replaced = Alerts::new(
        &config(r#"{"rules": [{"id": "sudden-peak", "kind": "sudden_peak", "enabled": false}]}"#),
        &org(),
    )
    .unwrap();
    assert_eq!(replaced.rules().len(), 5);
    assert_eq!(replaced.rules()[0].id, "sudden-peak");
    assert!(!replaced.rules()[0].enabled);
    let none = Alerts::new(&config(r#"{"default_rules": false}"#), &org()).unwrap();
    assert!(none.rules().is_empty());
}

/// A batch of two break overruns raised together (a1 "Li Na" and a2, both on break from 0 s).
fn two_overruns() -> NotificationBatch {
    let mut day = Script::new("2026-03-02T01:00:00Z");
    for a in ["a1", "a2"] {
        day.login(0.0, a);
        day.not_ready(0.0, a, NotReadyReason::Break);
    }
    day.login(1200.0, "a3");
    let mut floor = AlertFloor::new(
        &org(),
        &config(
            r#"{"default_rules": false, "rules": [{"id": "breaks", "kind": "not_ready_overrun"}]}"#,
        ),
    );
    floor.apply_all(&day.sorted());
    assert_eq!(floor.batches.len(), 1, "raised together, sent together");
    floor.batches.remove(0)
}

#[test]
fn webhook_bodies_carry_the_batch_in_each_receivers_shape() {
    let batch = two_overruns();
    let calendar = CentreCalendar::new("Asia/Shanghai", "00:00").unwrap();
    let text = batch_text(&batch, &calendar, 10_000);
    assert_eq!(
        text,
        "[Floorwatch] 2 alert changes at 09:15:10\n\
         • 09:15:10 WARNING raised: Li Na (agent:a1): not ready (break) for 15m10s, allowance 15m00s\n\
         • 09:15:10 WARNING raised: a2 (agent:a2): not ready (break) for 15m10s, allowance 15m00s"
    );
    for format in [WebhookFormat::Wecom, WebhookFormat::Dingtalk] {
        assert_eq!(
            webhook_body(format, &batch, &calendar),
            json!({"msgtype": "text", "text": {"content": text}})
        );
    }
    assert_eq!(
        webhook_body(WebhookFormat::Slack, &batch, &calendar),
        json!({"text": text})
    );
    let generic = webhook_body(WebhookFormat::Json, &batch, &calendar);
    assert_eq!(generic["batch"], json!(batch.id));
    assert_eq!(generic["text"], json!(text));
    assert_eq!(generic["notices"][0]["change"], json!("raised"));
    assert_eq!(generic["notices"][1]["alert"]["scope"], json!("agent:a2"));
    assert_eq!(
        generic["notices"][1]["alert"]["kind"],
        json!(RuleKind::NotReadyOverrun.as_str())
    );
}

#[test]
fn long_batches_are_cut_at_whole_lines_to_fit_the_receiver() {
    let mut batch = two_overruns();
    let one = batch.notices[0].clone();
    batch.notices = vec![one; 100];
    let calendar = CentreCalendar::utc();
    let body = webhook_body(WebhookFormat::Wecom, &batch, &calendar);
    let content = body["text"]["content"].as_str().unwrap();
    assert!(content.len() <= 2048, "{}", content.len());
    let last = content.lines().last().unwrap();
    let shown = content.lines().filter(|l| l.starts_with('•')).count();
    assert_eq!(last, format!("… and {} more", 100 - shown));
    assert!(shown > 10);
}
