//! "Pair this screen" on the sign-in page: asks the server for a pairing code, shows it large
//! for an admin to type on their screens page, and polls the request until the server hands
//! this browser its device cookie; then the page asks who it is and shows the wall. The code
//! and the hint are written straight into the page's `.pairing-code` and `.pairing-hint`
//! (`data-code` says the code too, for tests).

use std::time::Duration;

use leptos::prelude::*;

use super::http;
use super::store::{Auth, Shell};
use crate::devices::{PAIRING_PATH, Pairing};
use crate::i18n::Key;

/// How often the screen asks whether it was paired.
const POLL_EVERY: Duration = Duration::from_secs(2);

/// Asks for a new pairing code and starts polling it.
pub(super) fn start(shell: Shell) {
    http::request(
        "POST",
        PAIRING_PATH,
        None,
        move |answer| match Pairing::read(answer.status, &answer.text) {
            Pairing::Waiting(code) => {
                show(shell, Some(&code), Key::PairHint);
                poll(shell);
            }
            _ => show_text(None, &crate::alerts::error_message(&answer.text)),
        },
    );
}

fn poll(shell: Shell) {
    set_timeout(
        move || {
            // Signed in meanwhile (a person, or paired): nothing more to ask.
            if shell
                .auth
                .with_untracked(|a| matches!(a, Auth::SignedIn(_)))
            {
                return;
            }
            http::request(
                "GET",
                PAIRING_PATH,
                None,
                move |answer| match Pairing::read(answer.status, &answer.text) {
                    Pairing::Paired => super::store::check_session(shell.auth),
                    Pairing::Gone => show(shell, None, Key::PairExpired),
                    Pairing::Waiting(code) => {
                        show(shell, Some(&code), Key::PairHint);
                        poll(shell);
                    }
                    Pairing::Retry => poll(shell),
                },
            );
        },
        POLL_EVERY,
    );
}

fn show(shell: Shell, code: Option<&str>, hint: Key) {
    show_text(code, shell.lang.get_untracked().t(hint));
}

fn show_text(code: Option<&str>, hint: &str) {
    let doc = document();
    if let Ok(Some(p)) = doc.query_selector(".pairing-hint") {
        p.set_text_content(Some(hint));
    }
    if let Ok(Some(p)) = doc.query_selector(".pairing-code") {
        p.set_text_content(code);
        // Only a hook for tests and styles; the text above is what people read.
        let _ = p.set_attribute("data-code", code.unwrap_or_default());
    }
}
