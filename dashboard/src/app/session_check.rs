//! Asking the server who is signed in, at start and whenever a session may have changed, and
//! asking again for a paired screen that nobody will sign in by hand.

use std::time::Duration;

use leptos::prelude::*;

use super::context::Auth;
use super::http;
use crate::session::{SESSION_PATH, SessionInfo};

/// Whether this page was last signed in as a paired screen: a screen nobody touches must come
/// back by itself, so a refusal is asked about again (every [`SCREEN_RECHECK`]) instead of
/// leaving it on the sign-in page for good.
static SCREEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
const SCREEN_RECHECK: Duration = Duration::from_secs(15);

/// Asks the server who is signed in (`GET /api/v1/session`, which also counts as activity). A
/// 401 shows the sign-in page with the server's reason (a paired screen asks again a little
/// later); a changed session (a new role) re-opens the app for it. No answer at start is asked
/// again; no answer later changes nothing (the live connection keeps retrying and asks again
/// when it closes next).
pub(super) fn check_session(auth: RwSignal<Auth>) {
    use std::sync::atomic::Ordering::Relaxed;
    http::request("GET", SESSION_PATH, None, move |answer| {
        let starting = auth.with_untracked(|a| *a == Auth::Checking);
        match answer.status {
            200 => {
                if let Some(info) = SessionInfo::parse(&answer.text) {
                    SCREEN.store(info.device, Relaxed);
                    if auth.with_untracked(|a| *a != Auth::SignedIn(info.clone())) {
                        auth.set(Auth::SignedIn(info));
                    }
                }
            }
            401 => {
                let out = Auth::SignedOut(
                    (!starting).then(|| crate::alerts::error_message(&answer.text)),
                );
                // Unchanged: the sign-in page (and a pairing code on it) stays as it is.
                if auth.with_untracked(|a| *a != out) {
                    auth.set(out);
                }
                if SCREEN.load(Relaxed) {
                    set_timeout(move || check_session(auth), SCREEN_RECHECK);
                }
            }
            _ if starting => {
                set_timeout(move || check_session(auth), Duration::from_secs(2));
            }
            _ => {}
        }
    });
}
