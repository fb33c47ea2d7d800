//! The sign-in page: a user name and password for `POST /api/v1/session`, which answers with
//! the session (and sets its cookie) or says why not: the server's own words for a refused
//! password, how long to wait when locked out (`session::sign_in_error`).
//!
//! The page is static HTML (`session::sign_in_page_html`), rewritten only when the language
//! changes (keeping the user name typed so far); a refusal is written straight into its
//! `.signin-error` paragraph, which the style sheet hides while it is empty. Its controls
//! (language, pairing) and the header's (language, sign-out) share one click handler, here.

use leptos::prelude::*;

use super::store::{Auth, Shell, navigate};
use super::{http, pairing};
use crate::session::{Credentials, SESSION_PATH, SessionInfo, sign_in_error, sign_in_page_html};

/// The value of the form field `[data-control=NAME]` (empty when there is none).
pub(super) fn field_value(name: &str) -> String {
    document()
        .query_selector(&format!("[data-control={name}]"))
        .ok()
        .flatten()
        .and_then(|el| js_sys::Reflect::get(&el, &"value".into()).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// Shows `message` under the form (`data-error` says it too, for tests and styles).
fn show_error(message: &str) {
    if let Ok(Some(p)) = document().query_selector(".signin-error") {
        p.set_text_content(Some(message));
        // Only a hook for tests and styles; the text above is what the user reads.
        let _ = p.set_attribute("data-error", message);
    }
}

/// `reason`: why the last session ended, when it ended by itself (idle, shift end, ...).
#[component]
pub(super) fn SignIn(reason: Option<String>) -> impl IntoView {
    let shell = expect_context::<Shell>();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (user, password) = (field_value("user"), field_value("password"));
        let Ok(body) = serde_json::to_string(&Credentials {
            user: user.trim(),
            password: &password,
        }) else {
            return;
        };
        show_error("");
        http::request(
            "POST",
            SESSION_PATH,
            Some(&body),
            move |answer| match SessionInfo::parse(&answer.text) {
                Some(info) if answer.status == 200 => shell.auth.set(Auth::SignedIn(info)),
                _ => show_error(&sign_in_error(
                    shell.lang.get_untracked(),
                    answer.status,
                    &answer.text,
                    answer.retry_after.as_deref(),
                )),
            },
        );
    };
    view! {
        <main
            class="signin panel"
            on:submit=submit
            on:click=control_clicked(shell)
            inner_html=move || {
                // The name typed so far, read before the page is rewritten in the new language.
                sign_in_page_html(shell.lang.get(), reason.as_deref(), &field_value("user"))
            }
        ></main>
    }
}

/// The click handler of the header and the sign-in page, by the clicked control's
/// `data-control`: `lang` switches the language, `sign-out` ends the session. One handler for
/// both pages' static HTML (`crate::header`), so it is compiled once.
pub(super) fn control_clicked(shell: Shell) -> impl Fn(leptos::ev::MouseEvent) + Copy + 'static {
    move |ev| {
        let control = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .and_then(|el| el.closest("[data-control]").ok().flatten())
            .and_then(|el| el.get_attribute("data-control"));
        match control.as_deref() {
            Some("lang") => {
                let mut next = shell.route.get_untracked();
                next.lang = Some(shell.lang.get_untracked().other());
                navigate(next);
            }
            Some("pair") => pairing::start(shell),
            Some("sign-out") => {
                let auth = shell.auth;
                http::request("DELETE", SESSION_PATH, None, move |_| {
                    auth.set(Auth::SignedOut(None));
                });
            }
            _ => {}
        }
    }
}
