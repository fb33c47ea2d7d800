//! Signing in and out: `POST /api/v1/session` (a name and password for a session cookie),
//! `GET /api/v1/session` (who am I; counts as activity), `DELETE /api/v1/session` (sign out)
//! (docs/SECURITY.md, "Logins and sessions").
//!
//! A login goes through the [`crate::accounts::LoginGuard`] first (account lock-out, per-address rate limit:
//! 429 with `Retry-After`, nothing verified), then the Argon2 verification off the async
//! threads. Every answer to a refused password is the same 401 text, whether the name exists,
//! the password was wrong, the account is disabled or signs in with tokens only; the reason
//! goes to the audit trail (`login_failed`). Every session that ends, for whatever reason, is
//! audited once as `logout` ([`session_ended`]) and live sockets signed in with it are told to
//! close. A sign-in is done only once its `login` record is written (no record, no session:
//! 503 otherwise, `crate::audit::writer`).

use std::net::SocketAddr;
use std::time::Instant;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::cookies::{self, DEVICE_COOKIE, device_cookie, session_set_cookie};
use super::error::{ApiError, ApiJson, JsonShape};
use super::identity::{Identity, Proof};
use super::session::{revoke_device, save_sessions, session_ended};
use super::state::AppState;
use crate::accounts::session::{SessionEnded, SessionKind};
use crate::accounts::{LoginError, LoginRefusal, Password, Refusal, Role};
use crate::audit::{self, Action, Entry};

/// The one answer to any refused password.
pub(crate) const WRONG: &str = "wrong user name or password";
/// Longest user name or password looked at; longer ones are refused like a wrong password
/// (bounds the work one attempt can cause).
const MAX_FIELD_CHARS: usize = 256;

/// Who is signed in, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct SessionInfo {
    pub(crate) user: String,
    pub(crate) role: Role,
    pub(crate) scope: String,
    /// RFC 3339, the session's absolute end (shift end or the longest session); `null` for an
    /// API token, which has none.
    pub(crate) expires: Option<String>,
    /// Seconds without activity that end the session; `null` when it never idles out (a wall
    /// display, an API token, a paired screen).
    pub(crate) idle_timeout_s: Option<u64>,
    /// `true` for a paired screen (device credential), which never signs out by itself; absent
    /// otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) device: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignIn {
    user: String,
    password: String,
}

impl JsonShape for SignIn {
    const EXPECTED: &'static str = r#"{"user": "NAME", "password": "PASSWORD"}"#;
}

/// `POST /api/v1/session` with `{"user": "...", "password": "..."}`.
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<ApiJson<SignIn>, ApiError>,
) -> Response {
    match sign_in_checked(&state, peer, body).await {
        Ok(response) => response,
        Err(Refused::Throttled(refusal)) => {
            let seconds = refusal.retry_after().as_secs_f64().ceil().max(1.0) as u64;
            let mut response = ApiError::TooManyRequests(refusal.to_string()).into_response();
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
            response
        }
        Err(Refused::Api(e)) => e.into_response(),
    }
}

enum Refused {
    Throttled(Refusal),
    Api(ApiError),
}

impl From<ApiError> for Refused {
    fn from(e: ApiError) -> Refused {
        Refused::Api(e)
    }
}

async fn sign_in_checked(
    state: &AppState,
    peer: SocketAddr,
    body: Result<ApiJson<SignIn>, ApiError>,
) -> Result<Response, Refused> {
    let ApiJson(request) = body?;
    let name: String = request
        .user
        .trim()
        .to_lowercase()
        .chars()
        .take(MAX_FIELD_CHARS + 1)
        .collect();
    if name.is_empty() {
        return Err(ApiError::BadRequest("`user` must not be empty".into()).into());
    }
    if let Some(at) = floorwatch_core::event::control_character(&name) {
        // No account can have such a name (docs/SECURITY.md), and it must not reach a log line.
        return Err(ApiError::BadRequest(format!(
            "`user` has a control or text-direction character at character {at}"
        ))
        .into());
    }
    let address = peer.ip();
    let admitted = state.login_guard().admit(&name, address, Instant::now());
    if let Err(refusal) = admitted {
        let reason = match refusal {
            Refusal::AccountLocked { .. } => "locked",
            Refusal::AddressThrottled { .. } => "rate limited",
        };
        tracing::info!(user = %name, peer = %address, reason, "login refused before checking");
        // A refusal stands whether or not its record could be written (logged if not).
        let _ = audit::record(
            state.accounts().audit(),
            login_failed(&name, address, reason),
        )
        .await;
        return Err(Refused::Throttled(refusal));
    }

    let verified = if name.chars().count() > MAX_FIELD_CHARS
        || request.password.chars().count() > MAX_FIELD_CHARS
    {
        Err(LoginError::Refused(LoginRefusal::UnknownUser))
    } else {
        let accounts = state.accounts().clone();
        let password = Password::given(request.password);
        let user = name.clone();
        tokio::task::spawn_blocking(move || accounts.authenticate_password(&user, &password))
            .await
            .map_err(|e| ApiError::Internal(format!("the password check stopped: {e}")))?
    };
    let principal = match verified {
        Ok(principal) => principal,
        Err(LoginError::Refused(why)) => {
            let locked = state.login_guard().failed(&name, Instant::now());
            let reason = match why {
                LoginRefusal::UnknownUser => "unknown user",
                LoginRefusal::WrongPassword => "wrong password",
                LoginRefusal::Disabled => "disabled",
                LoginRefusal::TokenOnly => "tokens only",
            };
            if locked.is_some() {
                tracing::warn!(user = %name, peer = %address, "too many wrong passwords: account locked");
            } else {
                tracing::info!(user = %name, peer = %address, reason, "login failed");
            }
            // A refusal stands whether or not its record could be written (logged if not).
            let _ = audit::record(
                state.accounts().audit(),
                login_failed(&name, address, reason),
            )
            .await;
            return Err(ApiError::Unauthorized(WRONG.into()).into());
        }
        Err(LoginError::Accounts(e)) => return Err(ApiError::Internal(e.to_string()).into()),
    };
    state.login_guard().succeeded(&name);

    let kind = session_kind(principal.role);
    let now = jiff::Timestamp::now();
    // Sessions end at the user's shift end (docs/SECURITY.md), in the centre's time zone.
    let calendar = state
        .settings()
        .organisation
        .calendar()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let shift_end = state
        .accounts()
        .shift_end_after(&principal.user, now, calendar.time_zone())
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let created = state
        .sessions()
        .create(&principal.user, kind, now, shift_end);
    let (id, session) = created.map_err(|e| ApiError::Forbidden(e.to_string()))?;
    // No record, no session: a sign-in the security officer cannot see does not happen
    // (docs/SECURITY.md, "The audit trail").
    let recorded = audit::record(
        state.accounts().audit(),
        Entry::new(
            principal.user.clone(),
            Action::Login,
            format!("user:{}", principal.user),
            format!("peer={address}"),
        ),
    )
    .await;
    if let Err(refused) = recorded {
        state
            .sessions()
            .end(id.expose(), SessionEnded::SignedOut, jiff::Timestamp::now());
        return Err(ApiError::from(refused).into());
    }
    // On disk before the cookie is handed out: a restart right after still knows it.
    save_sessions(state).await;
    tracing::info!(user = %principal.user, role = %principal.role, peer = %address, "signed in");
    let info = SessionInfo {
        user: principal.user.clone(),
        role: principal.role,
        scope: principal.subtree.to_string(),
        expires: Some(session.ends.to_string()),
        idle_timeout_s: state.sessions().idle_timeout(kind).map(|d| d.as_secs()),
        device: false,
    };
    let cookie = session_set_cookie(Some(id.expose()), state.settings().tls.is_some());
    let cookie = HeaderValue::from_str(&cookie)
        .map_err(|_| ApiError::Internal("the session cookie is not a header value".into()))?;
    Ok(([(SET_COOKIE, cookie)], Json(info)).into_response())
}

/// Wall displays are devices nobody touches: their sessions never idle out.
fn session_kind(role: Role) -> SessionKind {
    match role {
        Role::WallDisplay => SessionKind::Device,
        _ => SessionKind::Person,
    }
}

fn login_failed(name: &str, address: std::net::IpAddr, reason: &str) -> Entry {
    Entry::new(
        name,
        Action::LoginFailed,
        format!("user:{name}"),
        format!("peer={address} reason={reason}"),
    )
}

/// `GET /api/v1/session`: who is signed in (session cookie, API token or a paired screen's
/// device cookie). With a session cookie it is activity: the idle time-out starts again. A
/// paired screen gets its device cookie again, so the browser's 400-day limit starts over.
pub(crate) async fn whoami(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Response, ApiError> {
    let user = identity.require_user()?;
    let (expires, idle_timeout_s) = match &identity.proof {
        Proof::Session { session, .. } => (
            Some(session.ends.to_string()),
            state
                .sessions()
                .idle_timeout(session.kind)
                .map(|d| d.as_secs()),
        ),
        _ => (None, None),
    };
    let info = Json(SessionInfo {
        user: user.user.clone(),
        role: user.role,
        scope: user.subtree.to_string(),
        expires,
        idle_timeout_s,
        device: user.is_device(),
    });
    let renewed = match &identity.proof {
        Proof::Device {
            credential,
            cookie: true,
        } => {
            let cookie = device_cookie(Some(credential.expose()), state.settings().tls.is_some());
            HeaderValue::from_str(&cookie).ok()
        }
        _ => None,
    };
    Ok(match renewed {
        Some(cookie) => ([(SET_COOKIE, cookie)], info).into_response(),
        None => info.into_response(),
    })
}

/// `DELETE /api/v1/session`: signs out (if the cookie names a session) and clears the cookie.
/// Without a session, a paired screen's device cookie is revoked and cleared: signing out at
/// the screen unpairs it (audited `device_revoke` in the screen's name).
pub(crate) async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let tls = state.settings().tls.is_some();
    let mut cleared = vec![session_set_cookie(None, tls)];
    let mut signed_out = false;
    if let Some(id) = cookies::session_cookie(&headers) {
        let why = SessionEnded::SignedOut;
        let ended = state.sessions().end(id, why, jiff::Timestamp::now());
        if let Some(session) = ended {
            signed_out = true;
            session_ended(&state, &session, why).await;
        }
    }
    if let Some(credential) = cookies::cookie(&headers, DEVICE_COOKIE)
        && !signed_out
    {
        if let Ok(Some(device)) = state.accounts().authenticate_device(credential) {
            let revoked = revoke_device(
                &state,
                device.actor(),
                device.user.clone(),
                "signed out at the screen".into(),
            )
            .await;
            if let Err(e) = revoked {
                tracing::error!(device = %device.user, error = %e, "the screen could not be unpaired");
                return e.into_response();
            }
        }
        cleared.push(device_cookie(None, tls));
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    for value in cleared {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_displays_never_idle_out() {
        assert_eq!(session_kind(Role::WallDisplay), SessionKind::Device);
        for role in [Role::Admin, Role::TeamLead, Role::SecurityOfficer] {
            assert_eq!(session_kind(role), SessionKind::Person);
        }
    }

    #[test]
    fn session_info_is_the_contract_shape() {
        let info = SessionInfo {
            user: "lead1".into(),
            role: Role::TeamLead,
            scope: "team:t1".into(),
            expires: Some("2025-03-03T20:00:00Z".into()),
            idle_timeout_s: Some(1800),
            device: false,
        };
        assert_eq!(
            serde_json::to_value(&info).unwrap(),
            serde_json::json!({"user": "lead1", "role": "team_lead", "scope": "team:t1",
                "expires": "2025-03-03T20:00:00Z", "idle_timeout_s": 1800})
        );
    }
}
