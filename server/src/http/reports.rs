//! `GET /api/v1/reports/intervals`, `/compare`, `/agents` and `/calls`: history's reports as
//! JSON (docs/HISTORY.md, "Reports" and "Calls"), computed by [`super::report_query`] and
//! [`super::call_query`]; and `POST /api/v1/reports/calls/{id}/callback`, the callback
//! worklist's mark.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use floorwatch_core::Scope;
use serde::{Deserialize, Serialize};

use super::call_query::{CallsQuery, CallsReport, calls_report};
use super::error::{ApiError, ApiQuery};
use super::identity::Identity;
use super::report_query::{
    AgentsQuery, AgentsReport, CompareQuery, CompareReport, IntervalsQuery, IntervalsReport,
    agent_report, compare_report, interval_report, read_store,
};
use super::state::AppState;
use crate::audit::{self, Action, Entry};
use crate::floor;
use crate::history::store::Store;
use crate::history::store::calls::{Callback, MarkError};
use crate::permission::{Grants, Permission};

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

/// `GET /api/v1/reports/calls?scope=S&from=D&to=D` with the drill-down window
/// (`start_ms`, `end_ms`), `outcome`, `service_level`, `callback`, `after` and `limit`
/// (docs/HISTORY.md, "Calls"): the visits whose outcome fell in the window, oldest first,
/// caller numbers masked. Checked as `intervals`.
pub(crate) async fn calls(
    State(state): State<AppState>,
    identity: Identity,
    ApiQuery(pairs): ApiQuery<Vec<(String, String)>>,
) -> Result<Json<CallsReport>, ApiError> {
    let query = CallsQuery::parse(pairs)?;
    Ok(Json(calls_report(&state, &identity, query, false).await?))
}

/// Longest note of a callback mark, in characters.
const MAX_NOTE: usize = 200;

/// The optional body of a callback mark.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CallbackRequest {
    note: Option<String>,
}

/// What a callback mark answers.
#[derive(Debug, Serialize)]
pub(crate) struct Marked {
    id: String,
    callback: Callback,
}

/// `POST /api/v1/reports/calls/{id}/callback` with an optional `{"note": "..."}`: marks the
/// caller of a stored (or not yet stored) visit called back. Needs *read calls* at the call's
/// queue (supervisors, team leads, managers, admins); audited before it is committed; 409 when
/// marked already.
pub(crate) async fn callback(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Marked>, ApiError> {
    let fresh = {
        let floor = floor::lock(state.floor());
        let allowed = identity
            .user()
            .is_some_and(|user| user.role.grants(Permission::ReadCallers));
        if !allowed {
            identity.require(Permission::ReadCallers, &Scope::Centre, &floor)?;
        }
        floor.calls_not_stored().into_iter().find(|c| c.id == id)
    };
    if state.settings().history_days == 0 {
        return Err(ApiError::NotFound(
            "history is off on this server (--history-days 0)".into(),
        ));
    }
    let visit = match fresh {
        Some(visit) => Some(visit),
        None => {
            let key = id.clone();
            read_store(&state, move |store| store.call(&key)).await?
        }
    };
    let Some(visit) = visit else {
        return Err(ApiError::NotFound(format!(
            "no call `{id}` in history (see GET /api/v1/reports/calls)"
        )));
    };
    {
        let floor = floor::lock(state.floor());
        identity.require(
            Permission::ReadCallers,
            &Scope::Queue(visit.queue.clone()),
            &floor,
        )?;
    }
    let note = parse_note(&body)?;
    let mark = Callback {
        // The user's name (the worklist shows who); the audit record names the credential too.
        by: identity
            .user()
            .map_or_else(|| identity.actor(), |user| user.user.clone()),
        at_ms: jiff::Timestamp::now().as_millisecond(),
        note,
    };
    let data_dir = state.settings().data_dir.path().to_path_buf();
    let entry = Entry::new(
        identity.actor(),
        Action::Callback,
        format!("call:{id}"),
        format!(
            "queue={} call={} outcome={}{}",
            visit.queue,
            visit.call,
            visit.outcome.as_str(),
            mark.note
                .as_deref()
                .map(|n| format!(" note={n}"))
                .unwrap_or_default()
        ),
    );
    let (key, at, given) = (id.clone(), visit.outcome_ms, mark.clone());
    let calendar = super::report_query::calendar(&state)?;
    let trail = state.accounts().audit().clone();
    let existing = tokio::task::spawn_blocking(move || {
        Store::open(&data_dir, &calendar)
            .map_err(MarkError::from)?
            .mark_callback((&key, at), &given, || {
                audit::record_blocking(&trail, entry).map_err(|e| e.to_string())
            })
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the callback mark failed: {e}")))?
    .map_err(|e| match e {
        MarkError::Unrecorded(why) => ApiError::Unavailable(format!(
            "the audit trail could not be written, so nothing was marked: {why}"
        )),
        MarkError::Store(e) => {
            tracing::error!(error = %e, "history store could not be written");
            ApiError::Unavailable(
                "the history store could not be written; see the server's log".into(),
            )
        }
    })?;
    if let Some(earlier) = existing {
        return Err(ApiError::Conflict(format!(
            "call `{id}` was marked called back already, by {} at {} (UTC ms)",
            earlier.by, earlier.at_ms
        )));
    }
    tracing::info!(actor = %mark.by, call = %id, queue = %visit.queue, "caller marked called back");
    Ok(Json(Marked { id, callback: mark }))
}

/// The note of an optional JSON body: at most [`MAX_NOTE`] characters of one line.
fn parse_note(body: &[u8]) -> Result<Option<String>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let request: CallbackRequest = serde_json::from_slice(body).map_err(|e| {
        ApiError::BadRequest(format!(
            "the body must be empty or {{\"note\": \"...\"}} ({e})"
        ))
    })?;
    let Some(note) = request
        .note
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
    else {
        return Ok(None);
    };
    let chars = note.chars().count();
    if chars > MAX_NOTE {
        return Err(ApiError::BadRequest(format!(
            "`note` must be at most {MAX_NOTE} characters (it has {chars})"
        )));
    }
    if note.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(
            "`note` must be one line of text, without control characters".into(),
        ));
    }
    Ok(Some(note))
}
