//! What follows a session or a screen signing in or out, shared by the sign-in endpoints, the
//! [`Identity`](super::identity::Identity) extractor, the live sockets and the devices
//! endpoints: ending a session (audited `logout`, live sockets told), keeping `sessions.json`
//! current, a paired screen's first request (audited `login`), revoking a screen, and the sweep
//! that ends idle and expired sessions (docs/SECURITY.md, "Logins and sessions").
//!
//! Open sessions are kept in `sessions.json` ([`crate::accounts::session_file::SessionFile`]) so
//! that a restart signs nobody out: a new session is written before its cookie is handed out,
//! an ended one is removed before the answer that ended it (or right after the sweep found it).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::error::ApiError;
use super::state::AppState;
use crate::accounts::session::{Session, SessionEnded};
use crate::audit::{self, Action, Entry};
use crate::shutdown::Shutdown;

/// The path of the session endpoints.
pub(crate) const SESSION_PATH: &str = "/api/v1/session";
/// The sweep runs at most this far apart.
const LONGEST_SWEEP: Duration = Duration::from_secs(30);

/// A session ended (signed out, idle, shift end, user disabled): logged, audited as `logout`
/// with the reason, and live sockets are told to check their sessions. Called once per
/// session: [`crate::accounts::Sessions`] hands each ending out once. The session is over
/// whether or not its record could be written (refusing to end it would keep a session open
/// that its user wanted closed); a failure is logged by the audit writer.
pub(crate) async fn session_ended(state: &AppState, session: &Session, why: SessionEnded) {
    tracing::info!(user = %session.user, reason = why.audit_detail(), "session ended");
    let entry = Entry::new(
        session.user.clone(),
        Action::Logout,
        format!("user:{}", session.user),
        why.audit_detail(),
    )
    // In a cluster every node holding the session may notice it time out: one record.
    .once(format!(
        "logout:{}:{}",
        session.user,
        session.started.as_nanosecond()
    ));
    let _ = audit::record(state.accounts().audit(), entry).await;
    save_sessions(state).await;
    state.tell_sign_outs();
}

/// Writes `sessions.json` if the sessions changed since it was last written, off the async
/// threads. A failure is logged: the sessions still work until the next restart.
pub(crate) async fn save_sessions(state: &AppState) {
    let generation = state.sessions().generation();
    if state.session_file().is_current(generation) {
        return;
    }
    let shared = state.clone();
    let saved =
        tokio::task::spawn_blocking(move || shared.session_file().save(shared.sessions_mutex()))
            .await;
    match saved {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            tracing::error!(error = %e, "sessions not written; a restart would sign them out")
        }
        Err(e) => tracing::error!(error = %e, "the sessions writer stopped"),
    }
}

/// A screen's first request since the server started: audited `login` (actor `device:NAME`).
/// No record, no sign-in: if it cannot be written the request is refused (503) and the next
/// one tries again.
pub(crate) async fn device_signed_in(
    state: &AppState,
    device: &str,
    peer: SocketAddr,
) -> Result<(), ApiError> {
    if state.devices().first_seen(device) {
        let entry = Entry::new(
            format!("device:{device}"),
            Action::Login,
            format!("device:{device}"),
            format!("peer={} device", peer.ip()),
        );
        if let Err(refused) = audit::record(state.accounts().audit(), entry).await {
            state.devices().forget(device);
            return Err(refused.into());
        }
        tracing::info!(device = %device, peer = %peer.ip(), "screen signed in");
    }
    Ok(())
}

/// Revokes a screen and closes its live sockets at once (4401).
pub(crate) async fn revoke_device(
    state: &AppState,
    actor: String,
    name: String,
    detail: String,
) -> Result<(), ApiError> {
    let accounts = state.accounts().clone();
    let revoked =
        blocking(move || accounts.revoke_device(&actor, &name, &detail, jiff::Timestamp::now()))
            .await??;
    tracing::info!(device = %revoked.name, "screen revoked");
    state.devices().forget(&revoked.name);
    state.tell_sign_outs();
    Ok(())
}

/// Runs accounts work (Argon2, file writes) off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(format!("the accounts writer stopped: {e}")))
}

/// How often the sweep runs: often enough that an idle session ends within a quarter of its
/// time-out (at least every second, at most every 30 s).
fn sweep_period(idle_timeout: Duration) -> Duration {
    (idle_timeout / 4).clamp(Duration::from_secs(1), LONGEST_SWEEP)
}

/// Ends expired sessions and those of users who were disabled or removed, forgets old login
/// failures, and wakes every live socket to check its credentials, until shutdown.
pub(crate) async fn sweep(state: AppState, mut shutdown: Shutdown) {
    let period = sweep_period(state.sessions().policy().idle_timeout);
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            () = shutdown.recv() => return,
        }
        let now = jiff::Timestamp::now();
        let expired = state.sessions().expire(now);
        for (session, why) in expired {
            session_ended(&state, &session, why).await;
        }
        let users = state.sessions().users();
        for user in users {
            match state.accounts().principal(&user) {
                Ok(Some(_)) => {}
                Ok(None) => {
                    let why = SessionEnded::UserDisabled;
                    let ended = state.sessions().end_user(&user, why, now);
                    for session in ended {
                        session_ended(&state, &session, why).await;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "sessions: the accounts could not be read"),
            }
        }
        state.login_guard().prune(Instant::now());
        // API tokens on live sockets are checked again on every sweep (revoked, disabled).
        state.tell_sign_outs();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweep_keeps_up_with_short_time_outs_without_spinning() {
        assert_eq!(sweep_period(Duration::from_secs(2)), Duration::from_secs(1));
        assert_eq!(
            sweep_period(Duration::from_secs(60)),
            Duration::from_secs(15)
        );
        assert_eq!(sweep_period(Duration::from_secs(1800)), LONGEST_SWEEP);
    }
}
