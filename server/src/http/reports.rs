//! `GET /api/v1/reports/intervals`, `/compare` and `/agents`: history's reports as JSON
//! (docs/HISTORY.md, "Reports"), computed by [`super::report_query`].

use axum::Json;
use axum::extract::State;

use super::error::{ApiError, ApiQuery};
use super::identity::Identity;
use super::report_query::{
    AgentsQuery, AgentsReport, CompareQuery, CompareReport, IntervalsQuery, IntervalsReport,
    agent_report, compare_report, interval_report,
};
use super::state::AppState;

/// `GET /api/v1/reports/intervals?scope=S&from=D&to=D&interval=15m|30m|60m|day|week|month`.
pub(crate) async fn intervals(
    State(state): State<AppState>,
    identity: Identity,
    ApiQuery(query): ApiQuery<IntervalsQuery>,
) -> Result<Json<IntervalsReport>, ApiError> {
    let report = interval_report(&state, &identity, query, false).await?;
    Ok(Json(IntervalsReport {
        scope: report.scope,
        interval: report.granularity.name(),
        from: report.from,
        to: report.to,
        rows: report.rows,
        signed_off: report.signed_off,
    }))
}

/// `GET /api/v1/reports/compare`: a day against the previous day, the same weekday last week,
/// or the same weekday of the last four weeks pooled; checked as `intervals`.
pub(crate) async fn compare(
    State(state): State<AppState>,
    identity: Identity,
    ApiQuery(query): ApiQuery<CompareQuery>,
) -> Result<Json<CompareReport>, ApiError> {
    Ok(Json(compare_report(&state, &identity, query, false).await?))
}

/// `GET /api/v1/reports/agents`: per agent inside the scope now (as the live agent lists):
/// handled, handle times, occupancy, utilisation, not-ready time by reason, first sign-in and
/// last sign-out of the period. Needs *read reports* and *read agent data* at the scope.
pub(crate) async fn agents(
    State(state): State<AppState>,
    identity: Identity,
    ApiQuery(query): ApiQuery<AgentsQuery>,
) -> Result<Json<AgentsReport>, ApiError> {
    Ok(Json(agent_report(&state, &identity, query, false).await?))
}
