//! Exports: figures as a file to take away, a separate and audited permission ("no export
//! without a separate permission", shared/DOMAIN.md; docs/SECURITY.md, "Exports").
//!
//! `GET /api/v1/export/agents.csv?scope=SCOPE&window=WINDOW`: one row per agent inside the
//! scope (default `centre`) with the agent's handling figures over the window (default `today`;
//! docs/METRICS.md defines each). Needs `Export` at the scope. The `export` record (target the
//! scope, detail the window and the row count) is written to the audit trail before the file
//! is sent; if it cannot be written, no file is sent.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use floorwatch_core::{AgentView, Figures, Scope, Window};

use super::error::{ApiError, ApiQuery};
use super::identity::Identity;
use super::params::ScopeWindowQuery;
use super::state::AppState;
use crate::audit::{self, Action, Entry};
use crate::floor;
use crate::permission::Permission;
use crate::spreadsheet::{file_part, text_cell};

/// The columns of `agents.csv`, in order.
pub(crate) const AGENT_COLUMNS: [&str; 14] = [
    "agent",
    "name",
    "team",
    "state",
    "window",
    "from",
    "to",
    "handled",
    "avg_talk_s",
    "avg_hold_s",
    "avg_acw_s",
    "aht_s",
    "occupancy_pct",
    "utilisation_pct",
];

/// `GET /api/v1/export/agents.csv?scope=SCOPE&window=WINDOW`.
pub(crate) async fn agents_csv(
    State(state): State<AppState>,
    identity: Identity,
    ApiQuery(query): ApiQuery<ScopeWindowQuery>,
) -> Result<Response, ApiError> {
    let (scope, window) = query.resolve()?;
    let rows = {
        let floor = floor::lock(state.floor());
        identity.require(Permission::Export, &scope, &floor)?;
        let agents = floor.agents_in(&scope)?;
        let mut rows = Vec::with_capacity(agents.len());
        for agent in agents {
            let figures = floor.figures(&Scope::Agent(agent.id.clone()), window)?;
            rows.push((agent, figures));
        }
        rows
    };
    let body = agents_table(&rows, window)
        .map_err(|e| ApiError::Internal(format!("writing the CSV: {e}")))?;
    let entry = Entry::new(
        identity.actor(),
        Action::Export,
        scope.to_string(),
        format!("agents.csv window={window} rows={}", rows.len()),
    );
    audit::record(state.accounts().audit(), entry).await?;
    let filename = format!("agents-{}-{}.csv", file_part(&scope.to_string()), window);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response())
}

/// The CSV: a UTF-8 byte-order mark (so a spreadsheet reads the names as UTF-8, not in the
/// local code page), a header row, one row per agent. Quoting is the `csv` crate's (RFC 4180).
/// Empty cells are figures the window has none of (docs/METRICS.md: never a made-up 0).
fn agents_table(rows: &[(AgentView, Figures)], window: Window) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    out.write_record(AGENT_COLUMNS)?;
    for (agent, f) in rows {
        out.write_record([
            text_cell(&agent.id),
            text_cell(&agent.name),
            text_cell(agent.team.as_deref().unwrap_or("")),
            agent
                .state
                .map(|s| s.as_str())
                .unwrap_or("logged_out")
                .into(),
            window.to_string(),
            time_cell(f.from),
            time_cell(f.to),
            f.handled.to_string(),
            number_cell(f.avg_talk_s),
            number_cell(f.avg_hold_s),
            number_cell(f.avg_acw_s),
            number_cell(f.aht_s),
            number_cell(f.occupancy_pct),
            number_cell(f.utilisation_pct),
        ])?;
    }
    out.into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

fn number_cell(value: Option<f64>) -> String {
    value.map(|v| format!("{v:.1}")).unwrap_or_default()
}

fn time_cell(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: &str, name: &str) -> AgentView {
        serde_json::from_value(serde_json::json!({
            "id": id, "name": name, "team": "t1", "state": "on_call", "reason": null,
            "state_since": null, "call": null, "call_since": null, "handled_today": 3,
            "aht_today_s": null
        }))
        .unwrap()
    }

    fn figures() -> Figures {
        serde_json::from_str(
            r#"{
            "scope": "agent:a1", "window": "today", "from": 1700000000000,
            "to": 1700000600000, "offered": 0, "answered": 0, "abandoned": 0,
            "short_abandoned": 0, "timed_out": 0, "answered_within_threshold": 0,
            "ivr_completed": 0, "handled": 3, "service_level_pct": null,
            "service_level_variant": "answered_over_offered", "service_level_target_pct": 80.0,
            "service_level_variants": {"answered_over_offered": null,
                "answered_over_answered": null, "removed_over_offered": null,
                "answered_over_offered_excl_abandoned_within": null},
            "answer_rate_pct": null, "abandon_rate_pct": null, "asa_s": null,
            "max_wait_s": null, "avg_talk_s": 181.25, "avg_hold_s": null, "avg_acw_s": 20.0,
            "aht_s": 201.25, "occupancy_pct": null, "utilisation_pct": null,
            "wait_p50_s": null, "wait_p90_s": null, "wait_p99_s": null,
            "handle_p50_s": null, "handle_p90_s": null, "handle_p99_s": null,
            "waiting_now": 0, "oldest_waiting_since": null,
            "agents": {"logged_in": 1, "available": 0, "ringing": 0, "on_call": 1, "hold": 0,
                "after_call_work": 0, "not_ready": 0, "not_ready_by_reason": {}},
            "agents_needed": null
        }"#,
        )
        .unwrap()
    }

    #[test]
    fn names_are_quoted_and_formulas_defused() {
        let rows = vec![
            (agent("a1", "Wang, \"Xiao\" Li"), figures()),
            (agent("a2", "=HYPERLINK(\"x\")"), figures()),
            (agent("a3", "王小丽"), figures()),
        ];
        let bytes = agents_table(&rows, Window::Today).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], AGENT_COLUMNS.join(","));
        assert_eq!(lines.len(), 4, "{text}");
        assert!(
            lines[1]
                .starts_with("a1,\"Wang, \"\"Xiao\"\" Li\",t1,on_call,today,2023-11-14T22:13:20Z,"),
            "{text}"
        );
        assert!(lines[1].ends_with(",3,181.2,,20.0,201.2,,"), "{text}");
        assert!(
            lines[2].starts_with("a2,\"'=HYPERLINK(\"\"x\"\")\","),
            "{text}"
        );
        assert!(lines[3].starts_with("a3,王小丽,"), "{text}");
        // Read back by a CSV reader, every row has every column.
        let mut reader = csv::Reader::from_reader(&bytes[3..]);
        for record in reader.records() {
            assert_eq!(record.unwrap().len(), AGENT_COLUMNS.len());
        }
    }

    #[test]
    fn file_names_keep_plain_characters_only() {
        assert_eq!(file_part("team:t1"), "team_t1");
        assert_eq!(file_part("site:north/../x"), "site_north_.._x");
    }
}
