//! `GET /api/v1/reports/intervals`: a scope's history in the intervals of the centre's calendar
//! (docs/HISTORY.md, "Reports").
//!
//! Checked as the live figures are ([`Identity::require`]): *read reports* at the scope, and
//! *read agent data* too for an agent; a wall display reads no report. The store is read on a
//! blocking thread with its own read-only connection, so a month's report never holds the
//! floor's lock nor an async worker.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use floorwatch_core::Scope;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::report::{self, Granularity, ReportRow};
use super::store::Store;
use crate::api::{ApiError, query_error};
use crate::app::AppState;
use crate::floor;
use crate::identity::Identity;
use crate::permission::Permission;

/// `?scope=S&from=YYYY-MM-DD&to=YYYY-MM-DD&interval=15m|30m|60m|day|week|month`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntervalsQuery {
    scope: Option<String>,
    from: Option<String>,
    to: Option<String>,
    interval: Option<String>,
}

/// The answer: one row per interval of the period, oldest first.
#[derive(Debug, Serialize)]
pub struct IntervalsReport {
    scope: Scope,
    interval: &'static str,
    from: Date,
    to: Date,
    rows: Vec<ReportRow>,
}

/// `GET /api/v1/reports/intervals`: see the module doc.
pub async fn intervals(
    State(state): State<AppState>,
    identity: Identity,
    query: Result<Query<IntervalsQuery>, QueryRejection>,
) -> Result<Json<IntervalsReport>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    let scope: Scope = match query.scope.as_deref() {
        None => Scope::Centre,
        Some(text) => text
            .parse()
            .map_err(|e| ApiError::BadRequest(format!("`scope`: {e}")))?,
    };
    let date = |name: &str, text: Option<&str>| -> Result<Option<Date>, ApiError> {
        text.map(|t| {
            t.parse::<Date>().map_err(|_| {
                ApiError::BadRequest(format!("`{name}`: `{t}` is not a date (YYYY-MM-DD)"))
            })
        })
        .transpose()
    };
    let from = date("from", query.from.as_deref())?
        .ok_or_else(|| ApiError::BadRequest("`from` is required (YYYY-MM-DD)".into()))?;
    let to = date("to", query.to.as_deref())?.unwrap_or(from);
    let granularity: Granularity = query
        .interval
        .as_deref()
        .unwrap_or("15m")
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("`interval`: {e}")))?;

    let settings = {
        let floor = floor::lock(&state.floor);
        identity.require(Permission::ReadReports, &scope, &floor)?;
        if matches!(scope, Scope::Agent(_)) {
            identity.require(Permission::ReadAgents, &scope, &floor)?;
        }
        if floor.contains(&scope, &scope).is_none() {
            return Err(ApiError::NotFound(format!("unknown scope `{scope}`")));
        }
        match &scope {
            Scope::Queue(id) => floor
                .queues()
                .into_iter()
                .find(|q| &q.id == id)
                .map(|q| q.settings),
            _ => None,
        }
        .unwrap_or(state.settings.organisation.centre.service_level)
    };
    if state.settings.history_days == 0 {
        return Err(ApiError::NotFound(
            "history is off on this server (--history-days 0)".into(),
        ));
    }
    let calendar = state
        .settings
        .organisation
        .calendar()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let span = report::period(&calendar, from, to).map_err(ApiError::BadRequest)?;
    let data_dir = state.settings.data_dir.path().to_path_buf();
    let of = scope.clone();
    let rows = tokio::task::spawn_blocking(move || {
        let store = Store::open_read_only(&data_dir)?;
        let quarters = store.rows(&of.to_string(), span)?;
        let intervals = report::intervals(&calendar, span, granularity);
        Ok::<_, super::store::StoreError>(report::roll_up(
            &calendar, &of, &settings, &quarters, &intervals,
        ))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the report failed: {e}")))?
    .map_err(|e| {
        tracing::error!(error = %e, "history store could not be read");
        ApiError::Unavailable("the history store could not be read; see the server's log".into())
    })?;
    Ok(Json(IntervalsReport {
        scope,
        interval: granularity.name(),
        from,
        to,
        rows,
    }))
}
