//! Screens paired as devices (docs/SECURITY.md, "Devices"): the pairing endpoints a TV's
//! sign-in page uses, and the admin's endpoints that pair, list and revoke screens.
//!
//! | request | who | answer |
//! |---|---|---|
//! | `POST /api/v1/pairing` | anyone (the TV) | 201 `{"code", "expires_in_s"}` and the request's poll cookie |
//! | `GET /api/v1/pairing` | the TV, by its poll cookie | `{"state": "waiting", ...}`, or `{"state": "paired", "device"}` and the device cookie; 404 when gone |
//! | `POST /api/v1/devices/pair` | an admin | pairs the screen showing `code` as `name`: 201 |
//! | `GET /api/v1/devices` | an admin | every screen, revoked ones too |
//! | `DELETE /api/v1/devices/NAME` | an admin | revokes it; its live sockets close with 4401 at once |
//!
//! The device credential reaches the TV only as an `HttpOnly`, `SameSite=Strict` cookie
//! (`Secure` under TLS) with the longest `Max-Age` browsers keep (400 days), renewed whenever
//! the TV asks who it is: the page's scripts never see it, and no other site's page sends it.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::accounts::pairing::{PairingPolicy, PairingRefused, Pairings, Poll, display_code};
use crate::accounts::{AccountsError, DeviceSummary, NewDevice, Role, Subtree};
use crate::api::ApiError;
use crate::app::AppState;
use crate::audit::{Action, Entry};
use crate::identity::{self, Identity};
use crate::signin;

/// Where a TV asks for a pairing code and polls it.
pub(crate) const PAIRING_PATH: &str = "/api/v1/pairing";
/// The cookie naming a TV's pairing request (only ever sent to [`PAIRING_PATH`]).
pub(crate) const PAIRING_COOKIE: &str = "fw_pairing";
/// The cookie holding a paired screen's device credential.
pub(crate) const DEVICE_COOKIE: &str = "fw_device";
/// 400 days: the longest a browser keeps a cookie (RFC 6265bis); renewed on every
/// `GET /api/v1/session`, so a screen that is switched on at least once a year stays paired.
const DEVICE_COOKIE_MAX_AGE_S: u64 = 400 * 24 * 3600;

/// The pairing requests of this server, and the screens that signed in since it started (each
/// is audited as `login` once per run, not on every request).
#[derive(Debug)]
pub(crate) struct DeviceDesk {
    pairings: Mutex<Pairings>,
    seen: Mutex<HashSet<String>>,
}

impl Default for DeviceDesk {
    fn default() -> DeviceDesk {
        DeviceDesk {
            pairings: Mutex::new(Pairings::new(PairingPolicy::default())),
            seen: Mutex::new(HashSet::new()),
        }
    }
}

impl DeviceDesk {
    fn pairings(&self) -> MutexGuard<'_, Pairings> {
        self.pairings.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether this is the screen's first request since the server started (then it is
    /// audited as a `login`).
    pub(crate) fn first_seen(&self, device: &str) -> bool {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(device.to_string())
    }

    fn forget(&self, device: &str) {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(device);
    }
}

/// A screen as the admin's endpoints show it.
#[derive(Debug, Serialize)]
pub(crate) struct DeviceView {
    name: String,
    role: Role,
    scope: String,
    created: String,
    revoked: Option<String>,
}

impl From<DeviceSummary> for DeviceView {
    fn from(d: DeviceSummary) -> DeviceView {
        DeviceView {
            name: d.name,
            role: d.role,
            scope: d.subtree.to_string(),
            created: d.created.to_string(),
            revoked: d.revoked.map(|t| t.to_string()),
        }
    }
}

#[derive(Debug, Serialize)]
struct Waiting {
    state: &'static str,
    code: String,
    expires_in_s: u64,
}

/// `POST /api/v1/pairing`: a new pairing request for the screen asking; the code to show, and
/// the poll cookie.
pub(crate) async fn start(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    let started = state.devices.pairings().start(peer.ip(), Instant::now());
    let started = match started {
        Ok(started) => started,
        Err(PairingRefused::TooMany(wait)) => {
            tracing::info!(peer = %peer.ip(), "pairing request refused: rate limited");
            return too_many(&PairingRefused::TooMany(wait), wait);
        }
        Err(refused @ PairingRefused::Full) => {
            tracing::warn!("pairing request refused: too many screens waiting");
            return too_many(&refused, Duration::from_secs(60));
        }
        Err(other) => return ApiError::Internal(other.to_string()).into_response(),
    };
    tracing::info!(peer = %peer.ip(), "pairing requested");
    let lifetime = started.expires_in.as_secs();
    let cookie = cookie(
        PAIRING_COOKIE,
        Some(started.poll.expose()),
        PAIRING_PATH,
        lifetime,
        state.settings.tls.is_some(),
    );
    let body = Json(Waiting {
        state: "waiting",
        code: display_code(&started.code),
        expires_in_s: lifetime,
    });
    match HeaderValue::from_str(&cookie) {
        Ok(cookie) => (StatusCode::CREATED, [(SET_COOKIE, cookie)], body).into_response(),
        Err(_) => {
            ApiError::Internal("the pairing cookie is not a header value".into()).into_response()
        }
    }
}

fn too_many(refused: &PairingRefused, wait: Duration) -> Response {
    let mut response = ApiError::TooManyRequests(refused.to_string()).into_response();
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
    response
}

/// `GET /api/v1/pairing`: the TV's poll. Once paired, the answer carries the device cookie
/// (this once) and clears the poll cookie.
pub(crate) async fn poll(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let tls = state.settings.tls.is_some();
    let cleared = cookie(PAIRING_COOKIE, None, PAIRING_PATH, 0, tls);
    let found = identity::cookie(&headers, PAIRING_COOKIE)
        .map(|poll| state.devices.pairings().poll(poll, Instant::now()));
    match found {
        Some(Poll::Waiting { code, expires_in }) => Json(Waiting {
            state: "waiting",
            code: display_code(&code),
            expires_in_s: expires_in.as_secs(),
        })
        .into_response(),
        Some(Poll::Paired { device, credential }) => {
            tracing::info!(device = %device, "a paired screen collected its credential");
            let given = device_cookie(Some(credential.expose()), tls);
            let mut response =
                Json(serde_json::json!({"state": "paired", "device": device})).into_response();
            for value in [given, cleared] {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    response.headers_mut().append(SET_COOKIE, value);
                }
            }
            response
        }
        Some(Poll::Gone) | None => {
            let mut response = ApiError::NotFound(
                "no pairing request (it expired or was used): ask for a new code".into(),
            )
            .into_response();
            if let Ok(value) = HeaderValue::from_str(&cleared) {
                response.headers_mut().append(SET_COOKIE, value);
            }
            response
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PairRequest {
    code: String,
    name: String,
    #[serde(default)]
    role: Option<Role>,
    #[serde(default)]
    scope: Option<Subtree>,
}

/// `POST /api/v1/devices/pair` `{"code": "ABCD-EFGH", "name": "lobby-tv", "role":
/// "wall_display", "scope": "centre"}` (role and scope optional): an admin pairs the screen
/// showing the code. Audited `device_pair` in the admin's name.
pub(crate) async fn pair(
    State(state): State<AppState>,
    identity: Identity,
    body: Result<Json<PairRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<DeviceView>), ApiError> {
    let admin = identity.require_admin()?;
    let Json(request) = body.map_err(|r| {
        ApiError::BadRequest(format!(
            "{}; expected {{\"code\": \"ABCD-EFGH\", \"name\": \"lobby-tv\", \"role\": \
             \"wall_display\", \"scope\": \"centre\"}}",
            r.body_text()
        ))
    })?;
    let new = NewDevice {
        name: request.name.trim().to_string(),
        role: request.role.unwrap_or(Role::WallDisplay),
        subtree: request.scope,
    };
    if let Some(subtree) = &new.subtree
        && !subtree.exists_in(&state.settings.organisation)
    {
        return Err(ApiError::BadRequest(format!(
            "scope `{subtree}`: no such node in the organisation"
        )));
    }
    // Everything that can be refused is refused before the code is used up.
    let accounts = state.accounts.clone();
    let checked = new.clone();
    blocking(move || accounts.check_new_device(&checked))
        .await?
        .map_err(refused)?;
    let claim = state
        .devices
        .pairings()
        .claim(&request.code, Instant::now())
        .map_err(|e| ApiError::NotFound(e.to_string()))?;
    let actor = admin.actor();
    let how = format!("code from peer={}", claim.requester);
    let accounts = state.accounts.clone();
    let added = blocking(move || accounts.add_device(&actor, new, &how, jiff::Timestamp::now()))
        .await
        .and_then(|r| r.map_err(refused));
    match added {
        Ok((summary, credential)) => {
            tracing::info!(device = %summary.name, role = %summary.role, by = %admin.user, "screen paired");
            state.devices.pairings().complete(
                claim,
                summary.name.clone(),
                credential,
                Instant::now(),
            );
            Ok((StatusCode::CREATED, Json(summary.into())))
        }
        Err(e) => {
            state.devices.pairings().release(claim);
            Err(e)
        }
    }
}

/// `GET /api/v1/devices`: every screen ever paired (an admin's).
pub(crate) async fn list(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Json<Vec<DeviceView>>, ApiError> {
    identity.require_admin()?;
    let accounts = state.accounts.clone();
    let devices = blocking(move || accounts.devices())
        .await?
        .map_err(refused)?;
    Ok(Json(devices.into_iter().map(DeviceView::from).collect()))
}

/// `DELETE /api/v1/devices/NAME`: revokes the screen (an admin's); audited `device_revoke`.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    identity: Identity,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let admin = identity.require_admin()?;
    let actor = admin.actor();
    revoke_as(&state, actor, name, String::new()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes a screen and closes its live sockets at once (4401).
pub(crate) async fn revoke_as(
    state: &AppState,
    actor: String,
    name: String,
    detail: String,
) -> Result<(), ApiError> {
    let accounts = state.accounts.clone();
    let revoked =
        blocking(move || accounts.revoke_device(&actor, &name, &detail, jiff::Timestamp::now()))
            .await?
            .map_err(refused)?;
    tracing::info!(device = %revoked.name, "screen revoked");
    state.devices.forget(&revoked.name);
    state.sign_outs.send_modify(|n| *n = n.wrapping_add(1));
    Ok(())
}

/// A screen's first request since the server started: audited `login` (actor `device:NAME`).
pub(crate) async fn signed_in(state: &AppState, device: &str, peer: SocketAddr) {
    if state.devices.first_seen(device) {
        tracing::info!(device = %device, peer = %peer.ip(), "screen signed in");
        signin::audit(
            state,
            Entry::new(
                format!("device:{device}"),
                Action::Login,
                format!("device:{device}"),
                format!("peer={} device", peer.ip()),
            ),
        )
        .await;
    }
}

/// The `Set-Cookie` value of the device credential (`None`: clear it).
pub(crate) fn device_cookie(credential: Option<&str>, tls: bool) -> String {
    cookie(DEVICE_COOKIE, credential, "/", DEVICE_COOKIE_MAX_AGE_S, tls)
}

fn cookie(name: &str, value: Option<&str>, path: &str, max_age_s: u64, tls: bool) -> String {
    let secure = if tls { "; Secure" } else { "" };
    let (value, max_age) = match value {
        Some(value) => (value, max_age_s),
        None => ("", 0),
    };
    format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(format!("the accounts writer stopped: {e}")))
}

fn refused(e: AccountsError) -> ApiError {
    match e {
        AccountsError::BadName(_) | AccountsError::BadScope(_) | AccountsError::DeviceRole(_) => {
            ApiError::BadRequest(e.to_string())
        }
        AccountsError::DeviceExists(_) => ApiError::Conflict(e.to_string()),
        AccountsError::UnknownDevice(_) => ApiError::NotFound(e.to_string()),
        AccountsError::Audit(_) => ApiError::Unavailable(e.to_string()),
        other => ApiError::Internal(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_device_cookie_is_long_lived_strict_and_http_only() {
        assert_eq!(
            device_cookie(Some("fwd_1"), true),
            "fw_device=fwd_1; Path=/; Max-Age=34560000; HttpOnly; SameSite=Strict; Secure"
        );
        assert_eq!(
            device_cookie(None, false),
            "fw_device=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
        );
        assert_eq!(
            cookie(PAIRING_COOKIE, Some("fwp_1"), PAIRING_PATH, 300, false),
            "fw_pairing=fwp_1; Path=/api/v1/pairing; Max-Age=300; HttpOnly; SameSite=Strict"
        );
    }
}
