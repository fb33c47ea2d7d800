//! Who is asking: every HTTP request and websocket that needs to know passes through the
//! [`Identity`] extractor, and every read and subscription asks [`Identity::require`] whether
//! this principal may use a permission at a scope ([`crate::permission`]).
//!
//! The principals, in the order they are looked for:
//! 1. `Authorization: Bearer TOKEN`: the configured ingest token, else an API token of an
//!    account ([`crate::accounts::Accounts::authenticate_token`]) or a device credential
//!    (`fwd_…`), else refused outright (401 "unknown bearer token"), so a misconfigured
//!    sender finds out at once;
//! 2. the session cookie `fw_session` ([`super::signin`]): the session is looked up (reads
//!    the wallboard makes by itself are not activity; a sign-in check, `GET
//!    /api/v1/session`, and anything that changes something are) and the user re-read from
//!    the accounts on every request, so a disabled user or a changed role acts at once; an
//!    ended session is refused with 401 saying why (unless the browser also holds a device
//!    cookie: a paired screen on which someone signed in and out stays the screen);
//! 3. the device cookie `fw_device` of a paired screen ([`super::devices`]): looked up in
//!    the accounts on every request like an API token, so a revoked screen stops at once; a
//!    device only ever reads ([`Identity::require`]);
//! 4. nothing: anonymous, which may read nothing; a server without an ingest token accepts
//!    ingest from loopback peers ([`Requester::LoopbackIngest`]).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use floorwatch_core::Scope;

use super::cookies::{DEVICE_COOKIE, cookie, session_cookie};
use super::error::ApiError;
use super::session::{self, SESSION_PATH, device_signed_in};
use super::state::AppState;
use crate::accounts;
use crate::accounts::Role;
use crate::accounts::session::{Closed, Session, SessionEnded};
use crate::accounts::token::{DEVICE_PREFIX, Secret};
use crate::floor::LiveFloor;
use crate::permission::{self, Grants, Permission};

/// Who is behind a request: an account (its [`accounts::Principal`]), the ingest token, a
/// loopback sender, or nobody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Requester {
    /// No credentials: may read nothing, may not ingest.
    Anonymous,
    /// Presented the configured ingest token.
    IngestToken,
    /// No credentials, no ingest token is configured and the peer is on this machine: may
    /// ingest, and read nothing.
    LoopbackIngest,
    /// A user, signed in with a session cookie or an API token: their role over their subtree
    /// decides ([`crate::permission`]).
    User(accounts::Principal),
}

/// How the principal proved who they are: what a long-lived connection (the live socket)
/// checks again while it lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Proof {
    None,
    IngestToken,
    /// The session cookie: the SHA-256 of its id (what [`accounts::Sessions`] is keyed by) and
    /// the session as of this request.
    Session {
        digest: String,
        session: Session,
    },
    /// An API token, as presented (its `Debug` shows `***`).
    Token(Secret),
    /// A paired screen's device credential, as presented; `cookie`: in the `fw_device` cookie
    /// (else as a bearer token).
    Device {
        credential: Secret,
        cookie: bool,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub(crate) principal: Requester,
    pub(crate) peer: SocketAddr,
    pub(crate) proof: Proof,
}

impl Identity {
    /// Ingest needs the configured token, an ingest account's API token, or no token
    /// configured and a loopback peer.
    pub(crate) fn require_ingest(&self) -> Result<(), ApiError> {
        match &self.principal {
            Requester::IngestToken | Requester::LoopbackIngest => Ok(()),
            Requester::User(user) if user.role.grants(Permission::Ingest) => Ok(()),
            Requester::User(user) => Err(ApiError::Forbidden(format!(
                "a {} may not send events; use an API token of an ingest account",
                user.role
            ))),
            Requester::Anonymous if self.peer.ip().is_loopback() => Err(ApiError::Unauthorized(
                "ingest needs `Authorization: Bearer TOKEN` with the server's ingest token or \
                 an ingest account's API token"
                    .into(),
            )),
            Requester::Anonymous => Err(ApiError::Forbidden(
                "this server has no ingest token and accepts ingest from loopback clients \
                 only; start it with --ingest-token and send `Authorization: Bearer TOKEN`, \
                 or use an API token of an ingest account"
                    .into(),
            )),
        }
    }

    /// The signed-in user (session or API token), if any.
    pub(crate) fn user(&self) -> Option<&accounts::Principal> {
        match &self.principal {
            Requester::User(user) => Some(user),
            _ => None,
        }
    }

    /// The signed-in user, or 401 (no credentials) / 403 (the ingest token) saying what to
    /// do: for endpoints open to any signed-in principal.
    pub(crate) fn require_user(&self) -> Result<&accounts::Principal, ApiError> {
        match &self.principal {
            Requester::User(user) => Ok(user),
            Requester::IngestToken => Err(ApiError::Forbidden(INGEST_TOKEN_READS.into())),
            Requester::Anonymous | Requester::LoopbackIngest => {
                Err(ApiError::Unauthorized(SIGN_IN.into()))
            }
        }
    }

    /// The root of the subtree this identity reads: the user's, or the centre for anyone else
    /// (who is then refused by [`Identity::require`]).
    pub(crate) fn home(&self) -> Scope {
        self.user().map_or(Scope::Centre, |u| u.subtree.root())
    }

    /// Who to name in an audit record: the user (`token:ID (user)` for an API token), else
    /// what the principal is and the peer address.
    pub(crate) fn actor(&self) -> String {
        match &self.principal {
            Requester::User(user) => user.actor(),
            Requester::IngestToken => "ingest-token".into(),
            Requester::LoopbackIngest | Requester::Anonymous => {
                format!("anonymous@{}", self.peer.ip())
            }
        }
    }

    /// An admin acting in person (a session or an API token, never a paired screen): for the
    /// account endpoints (pairing screens), which `permission` does not cover.
    pub(crate) fn require_admin(&self) -> Result<&accounts::Principal, ApiError> {
        let user = self.require_user()?;
        if user.role != Role::Admin || user.is_device() {
            return Err(ApiError::Forbidden(format!(
                "only an admin may pair, list or revoke screens, not a {}{}",
                user.role,
                if user.is_device() { " screen" } else { "" }
            )));
        }
        Ok(user)
    }

    /// Whether this identity may use `permission` at `scope` on the floor as it is now
    /// ([`permission::check`]): 401 without credentials, 403 with a message naming what was
    /// refused. A paired screen, whatever its role, only reads figures and agents: an
    /// unattended credential never acknowledges, unmasks, exports or reads calls or the audit.
    pub(crate) fn require(
        &self,
        permission: Permission,
        scope: &Scope,
        floor: &LiveFloor,
    ) -> Result<(), ApiError> {
        match &self.principal {
            Requester::User(user)
                if user.is_device()
                    && !matches!(permission, Permission::ReadFigures | Permission::ReadAgents) =>
            {
                Err(ApiError::Forbidden(format!(
                    "a paired screen only shows figures; sign in as a person to {}",
                    permission.as_str()
                )))
            }
            Requester::User(user) => permission::check(
                user.role,
                &user.subtree,
                permission,
                scope,
                |outer, inner| floor.contains(outer, inner),
            )
            .map_err(|denied| ApiError::Forbidden(denied.to_string())),
            Requester::IngestToken | Requester::LoopbackIngest
                if permission == Permission::Ingest =>
            {
                Ok(())
            }
            Requester::IngestToken => Err(ApiError::Forbidden(INGEST_TOKEN_READS.into())),
            Requester::Anonymous | Requester::LoopbackIngest => {
                Err(ApiError::Unauthorized(SIGN_IN.into()))
            }
        }
    }

    /// The permission reading `scope` takes: per-agent data for an agent, figures otherwise.
    pub(crate) fn read_permission(scope: &Scope) -> Permission {
        match scope {
            Scope::Agent(_) => Permission::ReadAgents,
            _ => Permission::ReadFigures,
        }
    }
}

const SIGN_IN: &str =
    "sign in (POST /api/v1/session) or send `Authorization: Bearer TOKEN` with an API token";
const INGEST_TOKEN_READS: &str =
    "the ingest token sends events only; sign in or use an API token to read";

impl FromRequestParts<AppState> for Identity {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| *addr)
            .ok_or_else(|| ApiError::Internal("peer address unknown".into()))?;
        if let Some(token) = bearer(&parts.headers)? {
            if token.starts_with(DEVICE_PREFIX) {
                return identify_device(state, token, false, peer).await;
            }
            return identify_bearer(state, token, peer);
        }
        let device = cookie(&parts.headers, DEVICE_COOKIE);
        if let Some(id) = session_cookie(&parts.headers) {
            let activity = !matches!(parts.method, Method::GET | Method::HEAD)
                || parts.uri.path() == SESSION_PATH;
            match identify_session(state, id, activity, peer).await {
                Err(_) if device.is_some() => {}
                other => return other,
            }
        }
        if let Some(credential) = device {
            return identify_device(state, credential, true, peer).await;
        }
        let principal = if state.ingest_token().is_none() && peer.ip().is_loopback() {
            Requester::LoopbackIngest
        } else {
            Requester::Anonymous
        };
        Ok(Identity {
            principal,
            peer,
            proof: Proof::None,
        })
    }
}

/// The token of `Authorization: Bearer TOKEN`, if the header is there; any other form of the
/// header is refused.
fn bearer(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|token| Some(token.trim()))
        .ok_or_else(|| {
            ApiError::Unauthorized("the Authorization header must be `Bearer TOKEN`".into())
        })
}

/// A paired screen's device credential (cookie, or bearer for a kiosk set up with `floorwatch
/// device add`).
async fn identify_device(
    state: &AppState,
    credential: &str,
    cookie: bool,
    peer: SocketAddr,
) -> Result<Identity, ApiError> {
    match state.accounts().authenticate_device(credential) {
        Ok(Some(device)) => {
            device_signed_in(state, &device.user, peer).await?;
            Ok(Identity {
                principal: Requester::User(device),
                peer,
                proof: Proof::Device {
                    credential: Secret::new(credential.to_string()),
                    cookie,
                },
            })
        }
        Ok(None) => Err(ApiError::Unauthorized(DEVICE_REVOKED.into())),
        Err(e) => Err(ApiError::Internal(e.to_string())),
    }
}

/// The 401 of a device credential that no longer works.
pub(crate) const DEVICE_REVOKED: &str =
    "this screen's pairing was revoked or is unknown: pair it again (\"pair this screen\")";

/// A bearer token: the ingest token, or an account's API token.
fn identify_bearer(state: &AppState, token: &str, peer: SocketAddr) -> Result<Identity, ApiError> {
    if let Some(configured) = state.ingest_token()
        && constant_time_eq(token.as_bytes(), configured.as_bytes())
    {
        return Ok(Identity {
            principal: Requester::IngestToken,
            peer,
            proof: Proof::IngestToken,
        });
    }
    match state.accounts().authenticate_token(token) {
        Ok(Some(user)) => Ok(Identity {
            principal: Requester::User(user),
            peer,
            proof: Proof::Token(Secret::new(token.to_string())),
        }),
        Ok(None) => Err(ApiError::Unauthorized("unknown bearer token".into())),
        Err(e) => Err(ApiError::Internal(e.to_string())),
    }
}

/// A session cookie: the session, then its user as the accounts say now.
async fn identify_session(
    state: &AppState,
    id: &str,
    activity: bool,
    peer: SocketAddr,
) -> Result<Identity, ApiError> {
    let now = jiff::Timestamp::now();
    let looked_up = {
        let mut sessions = state.sessions();
        if activity {
            sessions.touch(id, now)
        } else {
            sessions.check(id, now)
        }
    };
    if activity {
        // The last-seen time moves on disk at most once a minute (a no-op otherwise).
        session::save_sessions(state).await;
    }
    let session = match looked_up {
        Ok(session) => session,
        Err(Closed { why, ended }) => {
            if let Some(session) = ended {
                session::session_ended(state, &session, why).await;
            }
            return Err(signed_out(why));
        }
    };
    match state.accounts().principal(&session.user) {
        Ok(Some(user)) => Ok(Identity {
            principal: Requester::User(user),
            peer,
            proof: Proof::Session {
                digest: accounts::token::digest(id),
                session,
            },
        }),
        Ok(None) => {
            let why = SessionEnded::UserDisabled;
            let ended = state.sessions().end(id, why, now);
            if let Some(session) = ended {
                session::session_ended(state, &session, why).await;
            }
            Err(signed_out(why))
        }
        Err(e) => Err(ApiError::Internal(e.to_string())),
    }
}

/// The 401 for a session that no longer works, saying why.
pub(crate) fn signed_out(why: SessionEnded) -> ApiError {
    ApiError::Unauthorized(format!("{why}: sign in again (POST /api/v1/session)"))
}

/// Compares without returning early, so the time taken says nothing about the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn peer(ip: &str) -> SocketAddr {
        format!("{ip}:5000").parse().unwrap()
    }

    #[test]
    fn anonymous_remote_ingest_is_forbidden_with_advice() {
        let id = Identity {
            principal: Requester::Anonymous,
            peer: peer("10.0.0.5"),
            proof: Proof::None,
        };
        let err = id.require_ingest().unwrap_err();
        assert!(err.to_string().contains("--ingest-token"), "{err}");
    }

    #[test]
    fn no_credentials_read_nothing_and_the_ingest_token_only_sends() {
        let anonymous = Identity {
            principal: Requester::LoopbackIngest,
            peer: peer("127.0.0.1"),
            proof: Proof::None,
        };
        assert!(anonymous.require_ingest().is_ok());
        assert!(matches!(
            anonymous.require_user(),
            Err(ApiError::Unauthorized(_))
        ));
        let ingest = Identity {
            principal: Requester::IngestToken,
            peer: peer("10.0.0.5"),
            proof: Proof::IngestToken,
        };
        assert!(ingest.require_ingest().is_ok());
        assert!(matches!(ingest.require_user(), Err(ApiError::Forbidden(_))));
    }

    #[test]
    fn only_bearer_authorization_is_understood() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers).unwrap(), None);
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer  fw_1 "));
        assert_eq!(bearer(&headers).unwrap(), Some("fw_1"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Basic eDp5"));
        assert!(bearer(&headers).is_err());
    }
}
