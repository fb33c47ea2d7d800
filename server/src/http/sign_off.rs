//! End-of-day sign-off over HTTP (docs/HISTORY.md, "Sign-off"):
//! - `POST /api/v1/reports/sign-off` `{"scope": "centre"|"site:ID", "date": "YYYY-MM-DD"}`
//!   seals the day's rows of the scope's subtree with a hash, in the audit chain;
//! - `POST /api/v1/reports/amend` `{"scope", "date", "reason"}` applies what arrived for the
//!   day after its sign-off, audited with each figure before and after;
//! - `GET /api/v1/reports/sign-offs?scope=S&from=D&to=D` lists the signed-off days covering a
//!   scope, with what waits for an amendment.
//!
//! "过期不补": a signed-off day never changes quietly. Signing off and amending need the
//! *sign off* permission at the scope (managers and admins); the audit record is written in the
//! same step as the change, before it is committed (no record, no change).

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use floorwatch_core::{Millis, Scope};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ApiJson, ApiQuery, JsonShape};
use super::identity::Identity;
use super::report_query;
use super::state::AppState;
use crate::audit::{self, Action, Entry};
use crate::floor;
use crate::history::report;
use crate::history::store::Store;
use crate::history::store::sign_off::{SignOffError, SignOffView};
use crate::permission::Permission;

/// Longest reason of an amendment, in characters.
const MAX_REASON: usize = 500;

/// The body of a sign-off or an amendment.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignOffRequest {
    scope: String,
    date: Date,
    /// Amendments only: why the day changes after its sign-off.
    reason: Option<String>,
}

/// What a sign-off or an amendment did.
#[derive(Debug, Serialize)]
pub(crate) struct Signed {
    scope: Scope,
    date: Date,
    /// The day's rows' hash, as recorded in the audit chain.
    hash: String,
    /// Amendments: the rows applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    rows: Option<usize>,
}

impl JsonShape for SignOffRequest {
    const EXPECTED: &'static str =
        r#"{"scope": "centre", "date": "YYYY-MM-DD"} (an amendment adds "reason": "...")"#;
}

/// A sign-off's or an amendment's scope, checked.
struct Checked {
    scope: Scope,
    /// The day's span.
    span: (Millis, Millis),
    /// Every scope inside it the floor knows: what a seal covers.
    covered: BTreeSet<String>,
}

/// The scope (a site or the centre), checked: *sign off* at it, history on, the day over.
fn checked(
    state: &AppState,
    identity: &Identity,
    request: &SignOffRequest,
) -> Result<Checked, ApiError> {
    let scope: Scope = request
        .scope
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("`scope`: {e}")))?;
    if !matches!(scope, Scope::Centre | Scope::Site(_)) {
        return Err(ApiError::BadRequest(format!(
            "`scope`: a day is signed off for a site or the centre, not `{scope}`"
        )));
    }
    if state.settings().history_days == 0 {
        return Err(ApiError::NotFound(
            "history is off on this server (--history-days 0)".into(),
        ));
    }
    let calendar = state
        .settings()
        .organisation
        .calendar()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let span =
        report::period(&calendar, request.date, request.date).map_err(ApiError::BadRequest)?;
    let floor = floor::lock(state.floor());
    identity.require(Permission::SignOff, &scope, &floor)?;
    if floor.contains(&scope, &scope).is_none() {
        return Err(ApiError::NotFound(format!("unknown scope `{scope}`")));
    }
    if floor.now() < span.1 {
        return Err(ApiError::Conflict(format!(
            "{} has not ended on the floor's clock: a day is signed off once it is over",
            request.date
        )));
    }
    let covered = floor
        .scopes()
        .into_iter()
        .filter(|s| floor.contains(&scope, s) == Some(true))
        .map(|s| s.to_string())
        .collect();
    Ok(Checked {
        scope,
        span,
        covered,
    })
}

impl From<SignOffError> for ApiError {
    fn from(e: SignOffError) -> ApiError {
        match e {
            SignOffError::AlreadySigned { .. } | SignOffError::NothingToAmend { .. } => {
                ApiError::Conflict(e.to_string())
            }
            SignOffError::NotSigned { .. } => ApiError::NotFound(e.to_string()),
            SignOffError::Unrecorded(why) => ApiError::Unavailable(format!(
                "the audit trail could not be written, so nothing was changed: {why}"
            )),
            SignOffError::Store(e) => {
                tracing::error!(error = %e, "history store could not be written");
                ApiError::Unavailable("the history store could not be written".into())
            }
        }
    }
}

/// `POST /api/v1/reports/sign-off`.
pub(crate) async fn sign_off(
    State(state): State<AppState>,
    identity: Identity,
    ApiJson(request): ApiJson<SignOffRequest>,
) -> Result<Json<Signed>, ApiError> {
    let Checked {
        scope,
        span,
        covered,
    } = checked(&state, &identity, &request)?;
    let data_dir = state.settings().data_dir.path().to_path_buf();
    let actor = identity.actor();
    let (of, date) = (scope.clone(), request.date);
    let calendar = report_query::calendar(&state)?;
    let trail = state.accounts().audit().clone();
    let history = report_query::queued_closes(&state);
    let hash = tokio::task::spawn_blocking(move || {
        // What the floor closed before the request is in the day it signs or amends.
        report_query::written(history);
        let mut store = Store::open(&data_dir, &calendar).map_err(SignOffError::from)?;
        store.sign_off((&of, date, span), &covered, &actor, |hash, rows| {
            let entry = Entry::new(
                actor.clone(),
                Action::SignOff,
                of.to_string(),
                format!("day={date} rows={rows} sha256={hash}"),
            );
            audit::record_blocking(&trail, entry).map_err(|e| e.to_string())
        })
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the sign-off failed: {e}")))??;
    Ok(Json(Signed {
        scope,
        date,
        hash,
        rows: None,
    }))
}

/// `POST /api/v1/reports/amend`.
pub(crate) async fn amend(
    State(state): State<AppState>,
    identity: Identity,
    ApiJson(request): ApiJson<SignOffRequest>,
) -> Result<Json<Signed>, ApiError> {
    let reason = request.reason.as_deref().map(str::trim).unwrap_or_default();
    if reason.is_empty() || reason.chars().count() > MAX_REASON {
        return Err(ApiError::BadRequest(format!(
            "`reason`: say why the signed-off day changes (1 to {MAX_REASON} characters)"
        )));
    }
    if reason.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(
            "`reason`: control characters are not allowed".into(),
        ));
    }
    let scope = checked(&state, &identity, &request)?.scope;
    let settings = state.settings().organisation.centre.service_level;
    let data_dir = state.settings().data_dir.path().to_path_buf();
    let actor = identity.actor();
    let (of, date, reason) = (scope.clone(), request.date, reason.to_string());
    let calendar = report_query::calendar(&state)?;
    let trail = state.accounts().audit().clone();
    let history = report_query::queued_closes(&state);
    let amended = tokio::task::spawn_blocking(move || {
        // What the floor closed before the request is in the day it signs or amends.
        report_query::written(history);
        let mut store = Store::open(&data_dir, &calendar).map_err(SignOffError::from)?;
        store.amend((&of, date), &settings, |amended| {
            let detail = serde_json::json!({
                "day": date, "reason": reason, "rows": amended.rows,
                "sha256": amended.hash, "before": amended.before, "after": amended.after,
            });
            let entry = Entry::new(
                actor.clone(),
                Action::Amendment,
                of.to_string(),
                detail.to_string(),
            );
            audit::record_blocking(&trail, entry).map_err(|e| e.to_string())
        })
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the amendment failed: {e}")))??;
    Ok(Json(Signed {
        scope,
        date,
        hash: amended.hash,
        rows: Some(amended.rows),
    }))
}

/// `?scope=S&from=D&to=D`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignOffsQuery {
    scope: Option<String>,
    from: Date,
    to: Option<Date>,
}

/// `GET /api/v1/reports/sign-offs`: the signed-off days of the period covering the scope
/// (*read reports* at it), each with its amendments and what waits for one.
pub(crate) async fn list(
    State(state): State<AppState>,
    identity: Identity,
    ApiQuery(query): ApiQuery<SignOffsQuery>,
) -> Result<Json<Vec<SignOffView>>, ApiError> {
    let scope: Scope = match query.scope.as_deref() {
        None => Scope::Centre,
        Some(text) => text
            .parse()
            .map_err(|e| ApiError::BadRequest(format!("`scope`: {e}")))?,
    };
    {
        let floor = floor::lock(state.floor());
        identity.require(Permission::ReadReports, &scope, &floor)?;
    }
    let calendar = state
        .settings()
        .organisation
        .calendar()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let span = report::period(&calendar, query.from, query.to.unwrap_or(query.from))
        .map_err(ApiError::BadRequest)?;
    let data_dir = state.settings().data_dir.path().to_path_buf();
    let key = scope.to_string();
    let views = tokio::task::spawn_blocking(move || {
        Store::open_read_only(&data_dir)?.sign_offs(&key, span)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("listing sign-offs failed: {e}")))?
    .map_err(|e| {
        tracing::error!(error = %e, "history store could not be read");
        ApiError::Unavailable("the history store could not be read".into())
    })?;
    Ok(Json(views))
}
