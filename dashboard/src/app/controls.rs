//! The controls in the static HTML of the header and the sign-in page (language, pairing,
//! sign-out), handled by one click listener.

use leptos::prelude::*;

use super::context::{Auth, Shell, navigate};
use super::{http, pairing};
use crate::session::SESSION_PATH;

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
