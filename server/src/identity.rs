//! Who is asking: every HTTP request and websocket passes through the [`Identity`] extractor,
//! and every read and subscription asks it whether the scope may be seen.
//!
//! Today there are two principals: the ingest token (`Authorization: Bearer TOKEN`) and
//! anonymous readers; a server started without a token accepts ingest from loopback peers only.
//! Accounts, roles and scoped views (issue 8) fill in [`Identity::may_read`] and
//! [`Identity::may_subscribe`] without changing their callers.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use floorwatch_core::Scope;
use floorwatch_core::wire::Subscription;

use crate::accounts;
use crate::api::ApiError;
use crate::app::AppState;
use crate::floor::Floor;
use crate::permission::{self, Permission};

/// The principal behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// No credentials: may read (for now), may not ingest unless [`Principal::LoopbackIngest`].
    Anonymous,
    /// Presented the configured ingest token.
    IngestToken,
    /// No token is configured and the peer is on this machine: may ingest.
    LoopbackIngest,
    /// A user, signed in with a session cookie or an API token: their role over their subtree
    /// decides ([`crate::permission`]).
    User(accounts::Principal),
}

#[derive(Debug, Clone)]
pub struct Identity {
    pub principal: Principal,
    pub peer: SocketAddr,
}

impl Identity {
    /// Ingest needs the token, or no token configured and a loopback peer.
    pub fn require_ingest(&self) -> Result<(), ApiError> {
        match &self.principal {
            Principal::IngestToken | Principal::LoopbackIngest => Ok(()),
            Principal::User(user) if user.role.grants(Permission::Ingest) => Ok(()),
            Principal::User(user) => Err(ApiError::Forbidden(format!(
                "a {} may not send events; use an API token of an ingest account",
                user.role
            ))),
            Principal::Anonymous if self.peer.ip().is_loopback() => Err(ApiError::Unauthorized(
                "ingest needs `Authorization: Bearer TOKEN` with the server's ingest token".into(),
            )),
            Principal::Anonymous => Err(ApiError::Forbidden(
                "this server has no ingest token and accepts ingest from loopback clients \
                 only; start it with --ingest-token and send `Authorization: Bearer TOKEN`"
                    .into(),
            )),
        }
    }

    /// The signed-in user (session or API token), if any.
    pub fn user(&self) -> Option<&accounts::Principal> {
        match &self.principal {
            Principal::User(user) => Some(user),
            _ => None,
        }
    }

    /// Who to name in an audit record: the user (`token:ID (user)` for an API token), else
    /// what the principal is and the peer address.
    pub fn actor(&self) -> String {
        match &self.principal {
            Principal::User(user) => user.actor(),
            Principal::IngestToken => "ingest-token".into(),
            Principal::LoopbackIngest | Principal::Anonymous => {
                format!("anonymous@{}", self.peer.ip())
            }
        }
    }

    /// Whether this identity may use `permission` at `scope` on the floor as it is now
    /// ([`permission::check`]): 401 without credentials, 403 with a message naming what was
    /// refused.
    pub fn require(
        &self,
        permission: Permission,
        scope: &Scope,
        floor: &Floor,
    ) -> Result<(), ApiError> {
        match &self.principal {
            Principal::User(user) => permission::check(
                user.role,
                &user.subtree,
                permission,
                scope,
                |outer, inner| floor.contains(outer, inner),
            )
            .map_err(|denied| ApiError::Forbidden(denied.to_string())),
            Principal::IngestToken | Principal::LoopbackIngest
                if permission == Permission::Ingest =>
            {
                Ok(())
            }
            Principal::IngestToken | Principal::LoopbackIngest => Err(ApiError::Forbidden(
                "the ingest token sends events only; sign in or use an API token to read".into(),
            )),
            Principal::Anonymous => Err(ApiError::Unauthorized(
                "sign in (POST /api/v1/session) or send `Authorization: Bearer TOKEN`".into(),
            )),
        }
    }

    /// Whether this identity may read figures or agents of `scope`. Everyone may, until
    /// accounts and roles exist (issue 8).
    pub fn may_read(&self, scope: &Scope) -> Result<(), ApiError> {
        let _ = scope;
        Ok(())
    }

    /// Whether this identity may subscribe to `subscription` on the live socket; data outside a
    /// permitted scope must never leave the server, not even in a delta.
    pub fn may_subscribe(&self, subscription: &Subscription) -> Result<(), ApiError> {
        match subscription {
            Subscription::Figures(scope) | Subscription::Agents(scope) => self.may_read(scope),
        }
    }
}

impl FromRequestParts<AppState> for Identity {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| *addr)
            .ok_or_else(|| ApiError::Internal("peer address unknown".into()))?;
        let bearer = match parts.headers.get(AUTHORIZATION) {
            None => None,
            Some(value) => {
                let text = value.to_str().ok().and_then(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                });
                match text {
                    Some(token) => Some(token.trim()),
                    None => {
                        return Err(ApiError::Unauthorized(
                            "the Authorization header must be `Bearer TOKEN`".into(),
                        ));
                    }
                }
            }
        };
        let principal = identify(bearer, state.ingest_token(), peer);
        principal.map(|principal| Identity { principal, peer })
    }
}

/// The principal for a presented bearer token (if any), the configured ingest token and the
/// peer. A token that matches nothing is refused outright rather than read as anonymous, so a
/// misconfigured sender finds out at once.
fn identify(
    bearer: Option<&str>,
    configured: Option<&str>,
    peer: SocketAddr,
) -> Result<Principal, ApiError> {
    match (bearer, configured) {
        (Some(given), Some(token)) if constant_time_eq(given.as_bytes(), token.as_bytes()) => {
            Ok(Principal::IngestToken)
        }
        (Some(_), _) => Err(ApiError::Unauthorized("unknown bearer token".into())),
        (None, None) if peer.ip().is_loopback() => Ok(Principal::LoopbackIngest),
        (None, _) => Ok(Principal::Anonymous),
    }
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

    fn peer(ip: &str) -> SocketAddr {
        format!("{ip}:5000").parse().unwrap()
    }

    #[test]
    fn loopback_may_ingest_only_when_no_token_is_configured() {
        assert_eq!(
            identify(None, None, peer("127.0.0.1")).unwrap(),
            Principal::LoopbackIngest
        );
        assert_eq!(
            identify(None, None, peer("10.0.0.5")).unwrap(),
            Principal::Anonymous
        );
        assert_eq!(
            identify(None, Some("t"), peer("127.0.0.1")).unwrap(),
            Principal::Anonymous
        );
    }

    #[test]
    fn the_token_grants_ingest_and_a_wrong_one_is_refused() {
        assert_eq!(
            identify(Some("s3cret"), Some("s3cret"), peer("10.0.0.5")).unwrap(),
            Principal::IngestToken
        );
        assert!(identify(Some("guess"), Some("s3cret"), peer("127.0.0.1")).is_err());
        assert!(identify(Some("guess"), None, peer("127.0.0.1")).is_err());
    }

    #[test]
    fn anonymous_remote_ingest_is_forbidden_with_advice() {
        let id = Identity {
            principal: Principal::Anonymous,
            peer: peer("10.0.0.5"),
        };
        let err = id.require_ingest().unwrap_err();
        assert!(err.to_string().contains("--ingest-token"), "{err}");
    }
}
