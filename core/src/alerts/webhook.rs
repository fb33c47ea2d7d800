//! Webhook bodies for a notification batch, as pure functions (docs/ALERTS.md, "Webhooks").
//! Sending them (HTTP POST, retries with back-off) is the server's job.
//!
//! - `json`: the batch itself with a text rendering, for receivers of our own;
//! - `wecom` and `dingtalk`: the work-chat robots' text message,
//!   `{"msgtype":"text","text":{"content":...}}`;
//! - `slack`: an incoming webhook's `{"text":...}`.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::batch::NotificationBatch;
use super::text::batch_text;
use crate::calendar::CentreCalendar;

/// The shape of the body a webhook receiver expects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// A plain JSON body: the batch as the API lists it.
    #[default]
    Json,
    /// WeCom (企业微信) group robot markdown.
    Wecom,
    /// DingTalk (钉钉) group robot markdown.
    Dingtalk,
    /// Slack incoming webhook text.
    Slack,
}

impl WebhookFormat {
    /// The longest text the receiver takes, in bytes (WeCom's robot: 2048 bytes of content;
    /// DingTalk's: 20000; Slack truncates `text` past 40000 characters).
    pub fn max_text_bytes(self) -> usize {
        match self {
            WebhookFormat::Wecom => 2048,
            WebhookFormat::Dingtalk | WebhookFormat::Json => 20_000,
            WebhookFormat::Slack => 40_000,
        }
    }
}

/// The body to POST for `batch` (`Content-Type: application/json`).
pub fn webhook_body(
    format: WebhookFormat,
    batch: &NotificationBatch,
    calendar: &CentreCalendar,
) -> Value {
    let text = batch_text(batch, calendar, format.max_text_bytes());
    match format {
        WebhookFormat::Json => json!({
            "source": "floorwatch",
            "batch": batch.id,
            "at": batch.at,
            "text": text,
            "notices": serde_json::to_value(&batch.notices).unwrap_or(Value::Null),
        }),
        WebhookFormat::Wecom | WebhookFormat::Dingtalk => json!({
            "msgtype": "text",
            "text": { "content": text },
        }),
        WebhookFormat::Slack => json!({ "text": text }),
    }
}
