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

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::cookies::{self, PAIRING_COOKIE, PAIRING_PATH, device_cookie, lasting_cookie};
use super::error::{ApiError, ApiJson, JsonShape};
use super::identity::Identity;
use super::session::{blocking, revoke_device};
use super::state::AppState;
use crate::accounts::pairing::{PairingRefused, Poll, display_code};
use crate::accounts::{DeviceSummary, NewDevice, Role, Subtree};

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
    let started = state.devices().pairings().start(peer.ip(), Instant::now());
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
    let cookie = lasting_cookie(
        PAIRING_COOKIE,
        Some(started.poll.expose()),
        PAIRING_PATH,
        lifetime,
        state.settings().tls.is_some(),
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
    let tls = state.settings().tls.is_some();
    let cleared = lasting_cookie(PAIRING_COOKIE, None, PAIRING_PATH, 0, tls);
    let found = cookies::cookie(&headers, PAIRING_COOKIE)
        .map(|poll| state.devices().pairings().poll(poll, Instant::now()));
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

impl JsonShape for PairRequest {
    const EXPECTED: &'static str =
        r#"{"code": "ABCD-EFGH", "name": "lobby-tv", "role": "wall_display", "scope": "centre"}"#;
}

/// `POST /api/v1/devices/pair` `{"code": "ABCD-EFGH", "name": "lobby-tv", "role":
/// "wall_display", "scope": "centre"}` (role and scope optional): an admin pairs the screen
/// showing the code. Audited `device_pair` in the admin's name.
pub(crate) async fn pair(
    State(state): State<AppState>,
    identity: Identity,
    body: Result<ApiJson<PairRequest>, ApiError>,
) -> Result<(StatusCode, Json<DeviceView>), ApiError> {
    let admin = identity.require_admin()?;
    let ApiJson(request) = body?;
    let new = NewDevice {
        name: request.name.trim().to_string(),
        role: request.role.unwrap_or(Role::WallDisplay),
        subtree: request.scope,
    };
    if let Some(subtree) = &new.subtree
        && !subtree.exists_in(&state.settings().organisation)
    {
        return Err(ApiError::BadRequest(format!(
            "scope `{subtree}`: no such node in the organisation"
        )));
    }
    // Everything that can be refused is refused before the code is used up.
    let accounts = state.accounts().clone();
    let checked = new.clone();
    blocking(move || accounts.check_new_device(&checked))
        .await?
        .map_err(ApiError::from)?;
    let claim = state
        .devices()
        .pairings()
        .claim(&request.code, Instant::now())
        .map_err(|e| ApiError::NotFound(e.to_string()))?;
    let actor = admin.actor();
    let how = format!("code from peer={}", claim.requester);
    let accounts = state.accounts().clone();
    let added = blocking(move || accounts.add_device(&actor, new, &how, jiff::Timestamp::now()))
        .await
        .and_then(|r| r.map_err(ApiError::from));
    match added {
        Ok((summary, credential)) => {
            tracing::info!(device = %summary.name, role = %summary.role, by = %admin.user, "screen paired");
            state.devices().pairings().complete(
                claim,
                summary.name.clone(),
                credential,
                Instant::now(),
            );
            Ok((StatusCode::CREATED, Json(summary.into())))
        }
        Err(e) => {
            state.devices().pairings().release(claim);
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
    let accounts = state.accounts().clone();
    let devices = blocking(move || accounts.devices())
        .await?
        .map_err(ApiError::from)?;
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
    revoke_device(&state, actor, name, String::new()).await?;
    Ok(StatusCode::NO_CONTENT)
}
