//! The calls' HTTP API (docs/SECURITY.md, "Caller numbers"):
//!
//! - `GET /api/v1/calls?queue=ID`: the calls of a queue, waiting now or whose queue outcome
//!   fell in the last hour of the floor's clock, newest first, caller numbers masked. Needs
//!   `ReadCallers` at `queue:ID`; without `queue`, every queue the user may read calls of.
//! - `POST /api/v1/calls/{id}/unmask` with `{"reason": "..."}`: one call's full number. Needs
//!   `Unmask` at the call's queue and a stated reason; the `unmask` record is written to the
//!   audit trail before the number is sent, and if it cannot be written, no number is sent.
//!   `id` is a call of the register (waiting or of the last hour), else a visit of history by
//!   the id the calls report gives (docs/HISTORY.md, "Calls"), under the same rules.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use floorwatch_core::Scope;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::error::{ApiJson, ApiQuery, JsonShape};
use super::identity::Identity;
use super::state::AppState;
use crate::audit::{self, Action, Entry};
use crate::calls::CallView;
use crate::floor::{self, LiveFloor};
use crate::history::store::Store;
use crate::permission::{Grants, Permission};

/// The stated reason of an unmask, in characters after trimming blanks: enough to say why,
/// short enough to read in the audit trail.
pub(crate) const REASON_CHARS: std::ops::RangeInclusive<usize> = 5..=500;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CallsQuery {
    queue: Option<String>,
}

/// `GET /api/v1/calls?queue=ID`.
pub(crate) async fn list(
    State(state): State<AppState>,
    identity: Identity,
    query: Result<ApiQuery<CallsQuery>, ApiError>,
) -> Result<Json<Vec<CallView>>, ApiError> {
    let ApiQuery(query) = query?;
    let floor = floor::lock(state.floor());
    let now = floor.now();
    match query.queue {
        Some(queue) if queue.trim().is_empty() => {
            Err(ApiError::BadRequest("`queue` must not be empty".into()))
        }
        Some(queue) => {
            let scope = Scope::Queue(queue.clone());
            identity.require(Permission::ReadCallers, &scope, &floor)?;
            if floor.contains(&Scope::Centre, &scope).is_none() {
                return Err(ApiError::NotFound(format!(
                    "no queue `{queue}` (see GET /api/v1/queues)"
                )));
            }
            Ok(Json(
                floor
                    .calls()
                    .calls(Some(&queue), now)
                    .map(|e| e.view())
                    .collect(),
            ))
        }
        None => {
            require_somewhere(&identity, Permission::ReadCallers, &floor)?;
            let mut allowed: HashMap<&str, bool> = HashMap::new();
            let mut visible = Vec::new();
            for entry in floor.calls().calls(None, now) {
                let may = *allowed.entry(&*entry.queue).or_insert_with(|| {
                    identity
                        .require(
                            Permission::ReadCallers,
                            &Scope::Queue(entry.queue.to_string()),
                            &floor,
                        )
                        .is_ok()
                });
                if may {
                    visible.push(entry.view());
                }
            }
            Ok(Json(visible))
        }
    }
}

/// Refuses (401 or 403, with the reason) an identity whose role has `permission` nowhere, so
/// a list it could never see any of is refused rather than answered empty.
fn require_somewhere(
    identity: &Identity,
    permission: Permission,
    floor: &LiveFloor,
) -> Result<(), ApiError> {
    if identity
        .user()
        .is_some_and(|user| user.role.grants(permission))
    {
        return Ok(());
    }
    identity.require(permission, &Scope::Centre, floor)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnmaskRequest {
    #[serde(default)]
    reason: String,
}

impl JsonShape for UnmaskRequest {
    const EXPECTED: &'static str = r#"{"reason": "why you need the number"}"#;
}

/// What an unmask answers.
#[derive(Debug, Serialize)]
pub(crate) struct Unmasked {
    pub(crate) call: String,
    pub(crate) caller: String,
}

/// `POST /api/v1/calls/{id}/unmask`.
pub(crate) async fn unmask(
    State(state): State<AppState>,
    identity: Identity,
    Path(call): Path<String>,
    body: Result<ApiJson<UnmaskRequest>, ApiError>,
) -> Result<Json<Unmasked>, ApiError> {
    let found = {
        let floor = floor::lock(state.floor());
        require_somewhere(&identity, Permission::Unmask, &floor)?;
        match floor.calls().call(&call, floor.now()) {
            Some(entry) => Some((
                entry.queue.to_string(),
                entry.full_caller().map(str::to_string),
            )),
            None => floor
                .calls_not_stored()
                .into_iter()
                .find(|c| c.id == call)
                .map(|c| (c.queue, c.caller)),
        }
    };
    let found = match found {
        Some(found) => Some(found),
        None => stored_visit(&state, &call).await?,
    };
    let Some((queue, number)) = found else {
        return Err(ApiError::NotFound(format!(
            "no call `{call}` waiting, with an outcome in the last hour, or in history"
        )));
    };
    {
        let floor = floor::lock(state.floor());
        let scope = Scope::Queue(queue.clone());
        if let Err(refused) = identity.require(Permission::Unmask, &scope, &floor) {
            // Say which call and whose scope, not which queue the call is in.
            return Err(match (refused, identity.user()) {
                (ApiError::Forbidden(_), Some(user)) => ApiError::Forbidden(format!(
                    "call `{call}` is outside your scope `{}`",
                    user.subtree
                )),
                (refused, _) => refused,
            });
        }
    }
    let ApiJson(request) = body?;
    let reason = check_reason(&request.reason)?;
    let Some(number) = number else {
        return Err(ApiError::NotFound(format!(
            "the switch sent no caller number for call `{call}`"
        )));
    };
    let actor = identity.actor();
    let entry = Entry::new(
        actor.clone(),
        Action::Unmask,
        format!("call:{call}"),
        format!("queue={queue} reason={reason}"),
    );
    audit::record(state.accounts().audit(), entry).await?;
    tracing::info!(%actor, %call, %queue, "caller number unmasked");
    Ok(Json(Unmasked {
        call,
        caller: number,
    }))
}

/// A visit of history by its id: its queue and caller number (`None` when history is off or
/// has no such visit).
async fn stored_visit(
    state: &AppState,
    id: &str,
) -> Result<Option<(String, Option<String>)>, ApiError> {
    if state.settings().history_days == 0 || floorwatch_core::history::visit_id_time(id).is_none() {
        return Ok(None);
    }
    let data_dir = state.settings().data_dir.path().to_path_buf();
    let key = id.to_string();
    tokio::task::spawn_blocking(move || {
        let store = Store::open_read_only(&data_dir)?;
        store.call(&key)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the unmask failed: {e}")))?
    .map(|visit| visit.map(|v| (v.queue, v.caller)))
    .map_err(|e| {
        tracing::error!(error = %e, "history store could not be read");
        ApiError::Unavailable("the history store could not be read; see the server's log".into())
    })
}

/// The reason, trimmed, if it says enough in one line.
fn check_reason(given: &str) -> Result<&str, ApiError> {
    let reason = given.trim();
    let chars = reason.chars().count();
    if !REASON_CHARS.contains(&chars) {
        return Err(ApiError::BadRequest(format!(
            "`reason` must be {} to {} characters after trimming blanks (it has {chars}): say \
             why you need the number; it is written to the audit trail",
            REASON_CHARS.start(),
            REASON_CHARS.end()
        )));
    }
    if reason.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(
            "`reason` must be one line of text, without control characters".into(),
        ));
    }
    Ok(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_says_enough_in_one_line() {
        assert_eq!(
            check_reason("  caller asked for a call back  ").unwrap(),
            "caller asked for a call back"
        );
        assert!(check_reason("five!").is_ok());
        assert!(check_reason("ok").is_err());
        assert!(check_reason("      ").is_err());
        assert!(check_reason(&"x".repeat(500)).is_ok());
        let long = check_reason(&"x".repeat(501)).unwrap_err();
        assert!(long.to_string().contains("5 to 500 characters"), "{long}");
        assert!(
            check_reason("投诉回访需要").is_ok(),
            "characters, not bytes"
        );
        assert!(check_reason("two\nlines here").is_err());
    }
}
