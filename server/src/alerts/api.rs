//! The alerts' HTTP API (docs/ALERTS.md):
//!
//! - `GET /api/v1/alerts/rules`: the rules evaluated, every default filled in;
//! - `GET /api/v1/alerts?since=EPOCH_MS`: every alert changed at or after `since` and every
//!   alert still open, in raise order, as far as the caller may see them;
//! - `POST /api/v1/alerts/ack` with `{"id": "...", "by": "...", "note": "..."}`: acknowledges
//!   one alert (ids hold `/` and `:`, so they travel in the body, not the path).
//!
//! Reads are scope-checked: an alert is shown to whoever may read one of the scopes it is
//! visible in (its own scope and every scope above it, `Alerts::visible_in`), so a team lead
//! sees their team's alerts and no other team's. Errors are `{"error": "..."}`.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use floorwatch_core::Scope;
use floorwatch_core::alerts::{Alert, AlertError, AlertRule};
use serde::Deserialize;

use super::AckError;
use crate::api::ApiError;
use crate::app::AppState;
use crate::floor;
use crate::identity::{Identity, Principal};

/// `GET /api/v1/alerts/rules`.
pub async fn rules(State(state): State<AppState>, _identity: Identity) -> Json<Vec<AlertRule>> {
    Json(floor::lock(&state.floor).alerts().rules().to_vec())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsQuery {
    since: Option<String>,
}

/// `GET /api/v1/alerts?since=EPOCH_MS` (`since` defaults to 0: every alert).
pub async fn list(
    State(state): State<AppState>,
    identity: Identity,
    query: Result<Query<AlertsQuery>, QueryRejection>,
) -> Result<Json<Vec<Alert>>, ApiError> {
    let Query(query) = query.map_err(|r| ApiError::BadRequest(r.body_text()))?;
    let since = match query.since.as_deref() {
        None => 0,
        Some(text) => text.trim().parse::<i64>().map_err(|_| {
            ApiError::BadRequest(format!(
                "`since` must be a time in epoch milliseconds, not \"{text}\""
            ))
        })?,
    };
    let floor = floor::lock(&state.floor);
    let alerts = floor
        .alerts()
        .alerts_since(since)
        .into_iter()
        .filter(|alert| may_see(&identity, &floor.alert_scopes(alert)))
        .collect();
    Ok(Json(alerts))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AckRequest {
    id: String,
    /// Who acknowledges, as typed on the wallboard (until accounts name the caller).
    #[serde(default)]
    by: String,
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/alerts/ack`: answers the acknowledged alert, once it is journaled.
pub async fn acknowledge(
    State(state): State<AppState>,
    identity: Identity,
    body: Result<Json<AckRequest>, JsonRejection>,
) -> Result<Json<Alert>, ApiError> {
    let Json(request) = body.map_err(|r| {
        ApiError::BadRequest(format!(
            "{}; expected {{\"id\": \"ALERT ID\", \"by\": \"NAME\", \"note\": \"...\"}}",
            r.body_text()
        ))
    })?;
    let by = acknowledger(&identity, &request.by);
    let mut floor = floor::lock(&state.floor);
    let visible = floor
        .alerts()
        .alert(&request.id)
        .is_some_and(|alert| may_see(&identity, &floor.alert_scopes(alert)));
    if !visible {
        // An alert the caller may not see is answered like one that does not exist.
        return Err(ApiError::NotFound(
            AlertError::Unknown(request.id.clone()).to_string(),
        ));
    }
    floor
        .acknowledge(&request.id, &by, request.note.trim())
        .map(Json)
        .map_err(|e| match e {
            AckError::Refused(AlertError::Unknown(_)) => ApiError::NotFound(e.to_string()),
            AckError::Refused(AlertError::AlreadyAcknowledged { .. }) => {
                ApiError::Conflict(e.to_string())
            }
            AckError::Refused(_) => ApiError::BadRequest(e.to_string()),
            AckError::Journal(_) => ApiError::Unavailable(e.to_string()),
        })
}

/// Whether `identity` may read one of the scopes an alert is visible in.
pub fn may_see(identity: &Identity, scopes: &[Scope]) -> bool {
    scopes.iter().any(|scope| identity.may_read(scope).is_ok())
}

/// Who is recorded as acknowledging. Once accounts exist (issue 8) a signed-in caller is
/// recorded by their own name, whatever the body says; until then every reader is anonymous
/// and the name typed on the wallboard is recorded as given.
fn acknowledger(identity: &Identity, given: &str) -> String {
    match &identity.principal {
        Principal::User(user) => user.actor(),
        Principal::Anonymous | Principal::LoopbackIngest | Principal::IngestToken => {
            given.trim().to_string()
        }
    }
}
