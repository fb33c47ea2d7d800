//! The alerts' HTTP API (docs/ALERTS.md):
//!
//! - `GET /api/v1/alerts/rules`: the rules evaluated, every default filled in;
//! - `GET /api/v1/alerts?since=EPOCH_MS`: every alert changed at or after `since` and every
//!   alert still open, in raise order, as far as the caller may see them;
//! - `POST /api/v1/alerts/ack` with `{"id": "...", "note": "..."}`: acknowledges one alert
//!   (ids hold `/` and `:`, so they travel in the body, not the path) in the signed-in user's
//!   name; audited as `alert_ack`.
//!
//! Reads need `ReadFigures` (docs/SECURITY.md, "What each role may do") and are
//! scope-checked: an alert is shown to whoever may read one of the scopes it is visible in
//! (its own scope and every scope above it, `Alerts::visible_in`), so a team lead sees their
//! team's alerts and no other team's. An alert about an agent names them, so it needs
//! `ReadAgents` there: a wall display never sees one. Acknowledging needs `AcknowledgeAlerts`
//! at one of those scopes. Errors are `{"error": "..."}`.

use axum::Json;
use axum::extract::State;
use floorwatch_core::alerts::{Alert, AlertError, AlertRule, RuleScope};
use serde::Deserialize;

use super::error::ApiError;
use super::error::{ApiJson, ApiQuery, JsonShape};
use super::identity::Identity;
use super::state::AppState;
use crate::alerts::AckError;
use crate::audit::{self, Action, Entry};
use crate::floor::{self, LiveFloor};
use crate::permission::{Grants, Permission};

/// `GET /api/v1/alerts/rules`: the rules for every scope of a kind, and those for one scope
/// the caller may read.
pub(crate) async fn rules(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Json<Vec<AlertRule>>, ApiError> {
    let floor = floor::lock(state.floor());
    identity.require(Permission::ReadFigures, &identity.home(), &floor)?;
    let rules = floor
        .alerts()
        .rules()
        .iter()
        .filter(|rule| match &rule.scope {
            Some(RuleScope::One(scope)) => identity
                .require(Identity::read_permission(scope), scope, &floor)
                .is_ok(),
            _ => true,
        })
        .cloned()
        .collect();
    Ok(Json(rules))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertsQuery {
    since: Option<String>,
}

/// `GET /api/v1/alerts?since=EPOCH_MS` (`since` defaults to 0: every alert).
pub(crate) async fn list(
    State(state): State<AppState>,
    identity: Identity,
    ApiQuery(query): ApiQuery<AlertsQuery>,
) -> Result<Json<Vec<Alert>>, ApiError> {
    let since = match query.since.as_deref() {
        None => 0,
        Some(text) => text.trim().parse::<i64>().map_err(|_| {
            ApiError::BadRequest(format!(
                "`since` must be a time in epoch milliseconds, not \"{text}\""
            ))
        })?,
    };
    let floor = floor::lock(state.floor());
    identity.require(Permission::ReadFigures, &identity.home(), &floor)?;
    let alerts = floor
        .alerts()
        .alerts_since(since)
        .into_iter()
        .filter(|alert| may_see(&identity, &floor, alert))
        .collect();
    Ok(Json(alerts))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AckRequest {
    id: String,
    /// Ignored: an acknowledgement is recorded in the signed-in user's name, whatever the
    /// body says (kept so that older wallboards are not refused).
    #[serde(default, rename = "by")]
    _by: String,
    #[serde(default)]
    note: String,
}

impl JsonShape for AckRequest {
    const EXPECTED: &'static str = r#"{"id": "ALERT ID", "by": "NAME", "note": "..."}"#;
}

/// `POST /api/v1/alerts/ack`: answers the acknowledged alert, once it is journaled; audited
/// as `alert_ack`.
pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    identity: Identity,
    ApiJson(request): ApiJson<AckRequest>,
) -> Result<Json<Alert>, ApiError> {
    let user = identity.require_user()?;
    if !user.role.grants(Permission::AcknowledgeAlerts) {
        // Refused by the role alone, before any lookup: says nothing about the alert.
        return Err(ApiError::Forbidden(format!(
            "a {} may not {}",
            user.role,
            Permission::AcknowledgeAlerts.as_str()
        )));
    }
    let by = user.user.clone();
    let note = request.note.trim().to_string();
    let acknowledged = {
        let mut floor = floor::lock(state.floor());
        let Some(alert) = floor.alerts().alert(&request.id).cloned() else {
            return Err(unknown(&request.id));
        };
        if !may_see(&identity, &floor, &alert) {
            // An alert the caller may not see is answered like one that does not exist.
            return Err(unknown(&request.id));
        }
        let may_acknowledge = floor.alert_scopes(&alert).iter().any(|scope| {
            identity
                .require(Permission::AcknowledgeAlerts, scope, &floor)
                .is_ok()
        });
        if !may_acknowledge {
            return Err(
                match identity.require(Permission::AcknowledgeAlerts, &alert.scope, &floor) {
                    Err(refused) => refused,
                    Ok(()) => ApiError::Forbidden(format!(
                        "you may not acknowledge alerts about `{}`",
                        alert.scope
                    )),
                },
            );
        }
        floor.acknowledge(&request.id, &by, &note)
    };
    let alert = acknowledged.map_err(|e| match e {
        AckError::Refused(AlertError::Unknown(_)) => ApiError::NotFound(e.to_string()),
        AckError::Refused(AlertError::AlreadyAcknowledged { .. }) => {
            ApiError::Conflict(e.to_string())
        }
        AckError::Refused(_) => ApiError::BadRequest(e.to_string()),
        AckError::Journal(_) => ApiError::Unavailable(e.to_string()),
    })?;
    // Already journaled: the acknowledgement stands; a record that could not be written is
    // logged by the audit writer.
    let entry = Entry::new(
        identity.actor(),
        Action::AlertAck,
        format!("alert:{}", alert.id),
        note,
    );
    let _ = audit::record(state.accounts().audit(), entry).await;
    Ok(Json(alert))
}

fn unknown(id: &str) -> ApiError {
    ApiError::NotFound(AlertError::Unknown(id.to_string()).to_string())
}

/// Whether `identity` may see `alert`: read one of the scopes it is visible in, with
/// `ReadAgents` for an alert about an agent (it names them).
pub(crate) fn may_see(identity: &Identity, floor: &LiveFloor, alert: &Alert) -> bool {
    let permission = Identity::read_permission(&alert.scope);
    floor
        .alert_scopes(alert)
        .iter()
        .any(|scope| identity.require(permission, scope, floor).is_ok())
}
