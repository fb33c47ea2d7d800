//! The security officer's page (docs/SECURITY.md, "The audit trail"): the query for
//! `GET /api/v1/audit`, its answer, and the table written as HTML.
//!
//! The list changes only when the officer asks again, so it is written whole with
//! `inner_html` (every value escaped) instead of a reactive view per cell, which would cost the
//! bundle's budget far more for a page one role opens.

use serde_json::Value;

use crate::alerts::{error_message, escape};
use crate::i18n::{Key, Lang};
use crate::route::percent_encode;

/// The actions a record may name, for the filter.
pub const ACTIONS: [&str; 15] = [
    "login",
    "login_failed",
    "logout",
    "config_change",
    "threshold_change",
    "alert_ack",
    "unmask",
    "export",
    "user_add",
    "user_passwd",
    "user_disable",
    "token_create",
    "token_revoke",
    "device_pair",
    "device_revoke",
];

/// How many records one answer lists.
pub const LIMIT: u32 = 500;

/// `{"records": [...], "verified": {...}}`, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditAnswer {
    /// The records of the page, in order.
    pub records: Vec<AuditRecord>,
    /// What the server found checking the whole chain.
    pub verified: Verified,
}

impl AuditAnswer {
    /// Reads the server's answer, or says what is missing.
    ///
    /// Read field by field from a `serde_json::Value` (whose parser the bundle has anyway)
    /// rather than through derived `Deserialize`s, which compile a parser per type into the
    /// wasm (BENCHMARKS.md, "Bundle size").
    pub fn parse(body: &str) -> Result<AuditAnswer, String> {
        let v: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
        let records = v["records"].as_array().ok_or("no records in the answer")?;
        let records = records
            .iter()
            .map(AuditRecord::read)
            .collect::<Option<Vec<_>>>()
            .ok_or("a record without seq, time, actor, action, target or detail")?;
        let v = &v["verified"];
        let verified = Verified {
            ok: v["ok"].as_bool().ok_or("no verdict in the answer")?,
            records: v["records"].as_u64().unwrap_or(0),
            last_hash: v["last_hash"].as_str().unwrap_or_default().to_string(),
            problem: v["problem"].as_str().map(String::from),
        };
        Ok(AuditAnswer { records, verified })
    }
}

/// One record of the audit trail, as the server lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// Its position in the chain, from 1.
    pub seq: u64,
    /// When, RFC 3339.
    pub time: String,
    /// Who did it.
    pub actor: String,
    /// What they did (`user.create`, `call.unmask`, ...).
    pub action: String,
    /// What it was done to.
    pub target: String,
    /// Anything else recorded, as text.
    pub detail: String,
}

impl AuditRecord {
    fn read(v: &Value) -> Option<AuditRecord> {
        let text = |name: &str| v[name].as_str().map(String::from);
        Some(AuditRecord {
            seq: v["seq"].as_u64()?,
            time: text("time")?,
            actor: text("actor")?,
            action: text("action")?,
            target: text("target")?,
            detail: text("detail")?,
        })
    }
}

/// The whole chain's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// Whether every record's hash chains to the one before.
    pub ok: bool,
    /// Records checked.
    pub records: u64,
    /// The hash of the last record, to compare with a copy kept elsewhere.
    pub last_hash: String,
    /// Where the chain breaks, when it does.
    pub problem: Option<String>,
}

/// The request for the filters as typed: empty ones are left out.
pub fn query(actor: &str, action: &str, since: &str) -> String {
    let mut path = format!("/api/v1/audit?limit={LIMIT}");
    for (name, value) in [("actor", actor), ("action", action), ("since", since)] {
        let value = value.trim();
        if !value.is_empty() {
            path.push_str(&format!("&{name}={}", percent_encode(value)));
        }
    }
    path
}

/// The verdict in words: intact with its record count and last hash (to note elsewhere), or
/// the problem the server found.
pub fn verdict(lang: Lang, v: &Verified) -> String {
    let records = v.records.to_string();
    match (&v.problem, v.ok) {
        (None, true) => lang.fill(
            Key::AuditChainOk,
            &[("records", &records), ("hash", &v.last_hash)],
        ),
        (problem, _) => lang.fill(
            Key::AuditChainBroken,
            &[
                ("records", &records),
                ("problem", problem.as_deref().unwrap_or("?")),
            ],
        ),
    }
}

/// [`verdict`] as HTML, the hash in a `<code>` of its own (monospace, to compare or copy).
fn verdict_html(lang: Lang, v: &Verified) -> String {
    const HASH: char = '\u{1}';
    let hash = format!("<code class=\"hash\">{}</code>", escape(&v.last_hash));
    let marked = Verified {
        last_hash: HASH.to_string(),
        ..v.clone()
    };
    escape(&verdict(lang, &marked)).replace(HASH, &hash)
}

/// The heading and the filter form, written whole (they change only with the language). The
/// page reads the fields by `data-control`.
pub fn form_html(lang: Lang) -> String {
    let input = |key: Key, name: &str| {
        format!(
            "<label><span>{}</span><input type=\"text\" data-control=\"{name}\"></label>",
            lang.t(key)
        )
    };
    let mut options = format!("<option value=\"\">{}</option>", lang.t(Key::FilterAll));
    for a in ACTIONS {
        options.push_str(&format!("<option value=\"{a}\">{a}</option>"));
    }
    format!(
        "<h2>{}</h2><form class=\"filters\">{}<label><span>{}</span>\
         <select data-control=\"action\">{options}</select></label>{}\
         <button type=\"submit\" data-control=\"audit-show\">{}</button></form>",
        lang.t(Key::ViewAudit),
        input(Key::AuditActor, "actor"),
        lang.t(Key::AuditAction),
        input(Key::AuditSince, "since"),
        lang.t(Key::AuditShow)
    )
}

/// The header row of the audit table.
pub fn head_html(lang: Lang) -> String {
    let mut html = String::from("<tr>");
    for key in [
        Key::ColAuditTime,
        Key::AuditActor,
        Key::AuditAction,
        Key::ColAuditTarget,
        Key::ColAuditDetail,
    ] {
        html.push_str(&format!("<th>{}</th>", lang.t(key)));
    }
    html.push_str("</tr>");
    html
}

/// The verdict (`data-verdict` = `loading`, `ok`, `broken` or `error`) and the table of the
/// server's reply to the query (its body; `None` while nothing has answered yet). A refusal
/// shows the server's words, an empty reply (nothing answered) says so.
pub fn result_html(lang: Lang, reply: Option<&str>) -> String {
    let (state, verdict, rows) = match reply.map(AuditAnswer::parse) {
        None => ("loading", String::new(), String::new()),
        Some(Ok(a)) => (
            if a.verified.ok { "ok" } else { "broken" },
            verdict_html(lang, &a.verified),
            rows_html(&a.records),
        ),
        Some(Err(unreadable)) => {
            let body = reply.unwrap_or_default();
            let said = match error_message(body) {
                _ if body.is_empty() => lang.t(Key::SignInNoAnswer).to_string(),
                // Not the server's `{"error": ...}`: say why the answer did not read.
                said if said == body => unreadable,
                said => said,
            };
            ("error", escape(&said), String::new())
        }
    };
    format!(
        "<p class=\"verdict verdict-{state}\" data-verdict=\"{state}\">{}</p>\
         <table class=\"figures table-audit\" data-table=\"audit\"><thead>{}</thead>\
         <tbody>{rows}</tbody></table>",
        verdict,
        head_html(lang)
    )
}

/// The table's rows: time, actor, action, target, detail; one `<tr data-seq>` per record.
pub fn rows_html(records: &[AuditRecord]) -> String {
    let mut html = String::new();
    for r in records {
        html.push_str(&format!("<tr data-seq=\"{}\">", r.seq));
        for cell in [&r.time, &r.actor, &r.action, &r.target, &r.detail] {
            html.push_str(&format!("<td>{}</td>", escape(cell)));
        }
        html.push_str("</tr>");
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_go_into_the_query_only_when_given() {
        assert_eq!(query("", " ", ""), "/api/v1/audit?limit=500");
        assert_eq!(
            query("lead 1", "login", "12h"),
            "/api/v1/audit?limit=500&actor=lead%201&action=login&since=12h"
        );
    }

    const REPLY: &str = r#"{"records":[{"seq":2,"time":"2026-03-09T09:00:01.000Z","actor":"lead1",
                "action":"login","target":"user:lead1","detail":"peer=<127.0.0.1>",
                "prev":"00","hash":"ab"}],"matched":1,
                "verified":{"ok":true,"records":2,"last_hash":"ab"}}"#;

    #[test]
    fn the_answer_reads_and_the_rows_are_escaped() {
        let answer = AuditAnswer::parse(REPLY).unwrap();
        assert_eq!(answer.records[0].actor, "lead1");
        assert_eq!(answer.verified.records, 2);
        assert_eq!(answer.verified.problem, None);
        assert!(AuditAnswer::parse(r#"{"records":[{"seq":1}],"verified":{"ok":true}}"#).is_err());
        assert!(AuditAnswer::parse(r#"{"verified":{"ok":true}}"#).is_err());
        assert!(AuditAnswer::parse(r#"{"records":[]}"#).is_err());
        let html = rows_html(&answer.records);
        assert!(html.starts_with("<tr data-seq=\"2\"><td>2026-03-09T09:00:01.000Z</td>"));
        assert!(html.contains("<td>peer=&lt;127.0.0.1&gt;</td>"), "{html}");
        assert!(verdict(Lang::En, &answer.verified).contains("ab"));
        let broken = Verified {
            ok: false,
            records: 1,
            last_hash: "ab".into(),
            problem: Some("line 2: hash does not match".into()),
        };
        assert!(verdict(Lang::En, &broken).contains("line 2"));
        assert!(form_html(Lang::Zh).contains("data-control=\"since\""));
        assert_eq!(head_html(Lang::En).matches("<th>").count(), 5);
        assert!(result_html(Lang::Zh, None).contains("data-verdict=\"loading\""));
    }

    #[test]
    fn the_reply_shows_as_a_verdict_and_a_table_or_the_refusal() {
        let shown = result_html(Lang::En, Some(REPLY));
        assert!(shown.contains("data-verdict=\"ok\""), "{shown}");
        assert!(shown.contains("<tr data-seq=\"2\">"), "{shown}");
        assert!(
            shown.contains("last hash <code class=\"hash\">ab</code></p>"),
            "{shown}"
        );
        let refused = result_html(Lang::En, Some(r#"{"error":"not <allowed>"}"#));
        assert!(
            refused.contains("data-verdict=\"error\">not &lt;allowed&gt;</p>"),
            "{refused}"
        );
        let silent = result_html(Lang::En, Some(""));
        assert!(silent.contains(Lang::En.t(Key::SignInNoAnswer)), "{silent}");
        let garbled = result_html(Lang::En, Some("{\"records\": 1}"));
        assert!(garbled.contains("no records in the answer"), "{garbled}");
    }
}
