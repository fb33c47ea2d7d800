//! Reports as files: `GET /api/v1/reports/{intervals,compare,agents,calls}.{csv,xlsx}`, with
//! the query of the report (docs/HISTORY.md, "Exports").
//!
//! A download needs *export* at the scope besides what the report needs ("no export without a
//! separate permission", shared/DOMAIN.md). The `export` audit record (the report, its
//! parameters and row count) is written before the file is sent; if it cannot be written, no
//! file is sent (`audit::record`). CSV is UTF-8 with a byte-order mark, text
//! cells guarded against formula injection as the agents export's are; XLSX cells are typed
//! (numbers as numbers, text as text: a spreadsheet never runs a cell as a formula).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use floorwatch_core::Scope;
use floorwatch_core::history::IntervalFigures;
use serde_json::Value;

use super::call_query::{CallsQuery, calls_report};
use super::error::{ApiError, ApiQuery};
use super::identity::Identity;
use super::report_query::{
    AgentsQuery, CompareQuery, IntervalsQuery, agent_report, compare_report, interval_report,
};
use super::state::AppState;
use crate::audit::{self, Action, Entry};
use crate::history::report::ReportRow;
use crate::spreadsheet::{Cell, Table, file_part};

/// A file format of the exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Csv,
    Xlsx,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// The figures of a report row, in the order of the file's columns (docs/HISTORY.md); an
/// object (`service_level_variants`, `not_ready_by_reason_s`) spreads into one column per key.
const FIGURES: [&str; 37] = [
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "timed_out",
    "answered_within_threshold",
    "ivr_completed",
    "handled",
    "service_level_pct",
    "service_level_variant",
    "service_level_target_pct",
    "answer_rate_pct",
    "abandon_rate_pct",
    "asa_s",
    "max_wait_s",
    "avg_talk_s",
    "avg_hold_s",
    "avg_acw_s",
    "aht_s",
    "occupancy_pct",
    "utilisation_pct",
    "wait_p50_s",
    "wait_p90_s",
    "wait_p99_s",
    "handle_p50_s",
    "handle_p90_s",
    "handle_p99_s",
    "logged_in_s",
    "available_s",
    "on_call_s",
    "hold_s",
    "after_call_work_s",
    "not_ready_s",
    "not_ready_by_reason_s",
    "service_level_variants",
    "signed_in_at",
    "signed_out_at",
];

/// Not-ready reasons, for one column each whether or not the period has time in them.
const REASONS: [&str; 7] = [
    "break", "meal", "meeting", "training", "coaching", "outbound", "other",
];
/// The service-level variants, one column each.
const VARIANTS: [&str; 4] = [
    "answered_over_offered",
    "answered_over_answered",
    "removed_over_offered",
    "answered_over_offered_excl_abandoned_within",
];

/// A table with the columns of a report row after `leading` columns of the report's own.
fn report_table(leading: &[&str]) -> Table {
    let mut columns: Vec<String> = leading.iter().map(|c| c.to_string()).collect();
    for figure in FIGURES {
        match figure {
            "not_ready_by_reason_s" => {
                columns.extend(REASONS.iter().map(|r| format!("not_ready_{r}_s")))
            }
            "service_level_variants" => {
                columns.extend(VARIANTS.iter().map(|v| format!("service_level_{v}_pct")))
            }
            other => columns.push(other.to_string()),
        }
    }
    Table {
        columns,
        rows: Vec::new(),
    }
}

/// Adds a row to `table`: `leading` cells, then the figures of `figures` (a serialized row).
fn push_row(table: &mut Table, leading: Vec<Cell>, figures: &Value) {
    let mut row = leading;
    for figure in FIGURES {
        match figure {
            "not_ready_by_reason_s" => row.extend(
                REASONS
                    .iter()
                    .map(|r| cell(figures[figure].get(r).unwrap_or(&Value::Null))),
            ),
            "service_level_variants" => row.extend(
                VARIANTS
                    .iter()
                    .map(|v| cell(figures[figure].get(v).unwrap_or(&Value::Null))),
            ),
            other => row.push(cell(figures.get(other).unwrap_or(&Value::Null))),
        }
    }
    table.rows.push(row);
}

/// A JSON value as a cell: null is empty (a figure with no denominator, never a made-up 0).
fn cell(value: &Value) -> Cell {
    match value {
        Value::Number(n) => n.as_f64().map_or(Cell::Empty, Cell::Number),
        Value::String(s) => Cell::Text(s.clone()),
        Value::Bool(b) => Cell::Text(b.to_string()),
        _ => Cell::Empty,
    }
}

/// A report's table: `leading` columns, then the figures, one row per (leading cells,
/// figures).
fn rows_table<'a>(
    leading: &[&str],
    rows: impl Iterator<Item = (Vec<Cell>, &'a IntervalFigures)>,
) -> Table {
    let mut table = report_table(leading);
    for (cells, figures) in rows {
        let figures = serde_json::to_value(figures).unwrap_or(Value::Null);
        push_row(&mut table, cells, &figures);
    }
    table
}

/// A comparison's rows of one series, each led by the series' name.
fn series<'a>(
    name: &'a str,
    rows: &'a [ReportRow],
) -> impl Iterator<Item = (Vec<Cell>, &'a IntervalFigures)> + 'a {
    rows.iter().map(move |r| {
        let mut cells = vec![Cell::Text(name.to_string())];
        cells.extend(interval_cells(r));
        (cells, &r.figures)
    })
}

fn interval_cells(row: &ReportRow) -> Vec<Cell> {
    vec![
        Cell::Text(row.start_local.clone()),
        Cell::Number(row.start_ms as f64),
        Cell::Number(row.end_ms as f64),
    ]
}

/// `GET /api/v1/reports/intervals.{csv,xlsx}`.
pub(crate) async fn intervals(
    state: AppState,
    identity: Identity,
    ApiQuery(query): ApiQuery<IntervalsQuery>,
    format: Format,
) -> Result<Response, ApiError> {
    let report = interval_report(&state, &identity, query, true).await?;
    let table = rows_table(
        &["start_local", "start_ms", "end_ms"],
        report.rows.iter().map(|r| (interval_cells(r), &r.figures)),
    );
    let detail = format!(
        "from={} to={} interval={}",
        report.from,
        report.to,
        report.granularity.name()
    );
    let name = format!(
        "intervals-{}-{}-{}",
        file_part(&report.scope.to_string()),
        report.from,
        report.to
    );
    send(
        &state,
        &identity,
        ("intervals", &report.scope, detail),
        &name,
        table,
        format,
    )
    .await
}

/// `GET /api/v1/reports/compare.{csv,xlsx}`: the day's rows, then the comparison's, told apart
/// by the `series` column.
pub(crate) async fn compare(
    state: AppState,
    identity: Identity,
    ApiQuery(query): ApiQuery<CompareQuery>,
    format: Format,
) -> Result<Response, ApiError> {
    let report = compare_report(&state, &identity, query, true).await?;
    let table = rows_table(
        &["series", "start_local", "start_ms", "end_ms"],
        series("day", &report.rows).chain(series(report.against, &report.against_rows)),
    );
    let detail = format!(
        "date={} against={} interval={}",
        report.date, report.against, report.interval
    );
    let name = format!(
        "compare-{}-{}",
        file_part(&report.scope.to_string()),
        report.date
    );
    send(
        &state,
        &identity,
        ("compare", &report.scope, detail),
        &name,
        table,
        format,
    )
    .await
}

/// `GET /api/v1/reports/agents.{csv,xlsx}`.
pub(crate) async fn agents(
    state: AppState,
    identity: Identity,
    ApiQuery(query): ApiQuery<AgentsQuery>,
    format: Format,
) -> Result<Response, ApiError> {
    let report = agent_report(&state, &identity, query, true).await?;
    let table = rows_table(
        &["agent", "name", "team"],
        report.rows.iter().map(|row| {
            let cells = vec![
                Cell::Text(row.agent.clone()),
                Cell::Text(row.name.clone()),
                row.team.clone().map_or(Cell::Empty, Cell::Text),
            ];
            (cells, &row.figures)
        }),
    );
    let detail = format!("from={} to={}", report.from, report.to);
    let name = format!(
        "agents-{}-{}-{}",
        file_part(&report.scope.to_string()),
        report.from,
        report.to
    );
    send(
        &state,
        &identity,
        ("agents", &report.scope, detail),
        &name,
        table,
        format,
    )
    .await
}

/// `GET /api/v1/reports/calls.{csv,xlsx}`: one row per visit of the query (every page, unless
/// `after`/`limit` ask for one), caller numbers masked.
pub(crate) async fn calls(
    state: AppState,
    identity: Identity,
    ApiQuery(pairs): ApiQuery<Vec<(String, String)>>,
    format: Format,
) -> Result<Response, ApiError> {
    let detail = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ");
    let report = calls_report(&state, &identity, CallsQuery::parse(pairs)?, true).await?;
    let columns = [
        "id",
        "call",
        "queue",
        "entered_local",
        "entered_ms",
        "wait_s",
        "outcome",
        "outcome_ms",
        "agent",
        "talk_s",
        "hold_s",
        "transferred",
        "caller",
        "service_level",
        "callback_by",
        "callback_at_ms",
        "callback_note",
    ];
    let text = |t: &str| Cell::Text(t.to_string());
    let opt = |t: &Option<String>| t.clone().map_or(Cell::Empty, Cell::Text);
    let secs = |ms: Option<i64>| ms.map_or(Cell::Empty, |ms| Cell::Number(ms as f64 / 1000.0));
    let rows = report
        .calls
        .iter()
        .map(|c| {
            vec![
                text(&c.id),
                text(&c.call),
                text(&c.queue),
                text(&c.entered_local),
                Cell::Number(c.entered_ms as f64),
                secs(Some(c.wait_ms)),
                text(c.outcome),
                Cell::Number(c.outcome_ms as f64),
                opt(&c.agent),
                secs(c.talk_ms),
                secs(c.hold_ms),
                text(if c.transferred { "true" } else { "false" }),
                opt(&c.caller),
                text(c.service_level),
                c.callback.as_ref().map_or(Cell::Empty, |m| text(&m.by)),
                c.callback
                    .as_ref()
                    .map_or(Cell::Empty, |m| Cell::Number(m.at_ms as f64)),
                c.callback
                    .as_ref()
                    .and_then(|m| m.note.clone())
                    .map_or(Cell::Empty, Cell::Text),
            ]
        })
        .collect();
    let table = Table {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
    };
    let name = format!(
        "calls-{}-{}-{}",
        file_part(&report.scope.to_string()),
        report.from,
        report.to
    );
    send(
        &state,
        &identity,
        ("calls", &report.scope, detail),
        &name,
        table,
        format,
    )
    .await
}

/// Writes the file, audits the export (no record, no file) and sends it.
async fn send(
    state: &AppState,
    identity: &Identity,
    (report, scope, detail): (&str, &Scope, String),
    name: &str,
    table: Table,
    format: Format,
) -> Result<Response, ApiError> {
    let body = match format {
        Format::Csv => table
            .csv()
            .map_err(|e| ApiError::Internal(format!("writing the CSV: {e}")))?,
        Format::Xlsx => table
            .xlsx(report)
            .map_err(|e| ApiError::Internal(format!("writing the XLSX: {e}")))?,
    };
    let entry = Entry::new(
        identity.actor(),
        Action::Export,
        scope.to_string(),
        format!(
            "reports/{report}.{} {detail} rows={}",
            format.extension(),
            table.rows.len()
        ),
    );
    audit::record(state.accounts().audit(), entry).await?;
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.{}\"", format.extension()),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response())
}

/// The routes, one per report and format.
pub(crate) fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    let mut router = axum::Router::new();
    for format in [Format::Csv, Format::Xlsx] {
        let ext = format.extension();
        router = router
            .route(
                &format!("/api/v1/reports/intervals.{ext}"),
                get(move |State(s): State<AppState>, i: Identity, q| intervals(s, i, q, format)),
            )
            .route(
                &format!("/api/v1/reports/compare.{ext}"),
                get(move |State(s): State<AppState>, i: Identity, q| compare(s, i, q, format)),
            )
            .route(
                &format!("/api/v1/reports/agents.{ext}"),
                get(move |State(s): State<AppState>, i: Identity, q| agents(s, i, q, format)),
            )
            .route(
                &format!("/api/v1/reports/calls.{ext}"),
                get(move |State(s): State<AppState>, i: Identity, q| calls(s, i, q, format)),
            );
    }
    router
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_spread_objects_into_columns_and_guard_text() {
        let mut table = report_table(&["agent"]);
        let figures = serde_json::json!({
            "offered": 3, "service_level_pct": null,
            "not_ready_by_reason_s": {"meal": 60.0},
            "service_level_variants": {"answered_over_offered": 50.0}
        });
        push_row(&mut table, vec![Cell::Text("=cmd()".into())], &figures);
        let csv = String::from_utf8(table.csv().unwrap()).unwrap();
        assert!(csv.starts_with('\u{feff}'));
        let mut lines = csv.trim_start_matches('\u{feff}').lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let row: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert_eq!(header.len(), row.len());
        let at = |name: &str| row[header.iter().position(|h| h == &name).unwrap()];
        assert_eq!(at("agent"), "'=cmd()");
        assert_eq!(at("offered"), "3");
        assert_eq!(at("service_level_pct"), "");
        assert_eq!(at("not_ready_meal_s"), "60");
        assert_eq!(at("not_ready_break_s"), "");
        assert_eq!(at("service_level_answered_over_offered_pct"), "50");
        assert!(table.xlsx("intervals").unwrap().starts_with(b"PK"));
    }
}
