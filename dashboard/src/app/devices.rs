//! The admin's screens page: pair a screen by the code its sign-in page shows.
//! `crate::devices` writes the form as HTML. Listing and revoking screens is on the command
//! line and the API (`floorwatch device list|revoke`, `DELETE /api/v1/devices/NAME`): a table
//! here did not fit the bundle's budget (BENCHMARKS.md, "Bundle size").

use leptos::prelude::*;

use super::http;
use super::signin::field_value;
use super::store::Ctx;
use crate::devices::{self, PAIR_PATH};

#[component]
pub(super) fn Devices() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let note = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = devices::pair_body(
            &field_value("code"),
            &field_value("device-name"),
            &field_value("device-role"),
            &field_value("device-scope"),
        );
        http::request("POST", PAIR_PATH, Some(&body), move |answer| {
            note.set(devices::paired_note(
                ctx.lang.get_untracked(),
                answer.status,
                &answer.text,
            ));
        });
    };
    view! {
        <main class="audit devices panel" on:submit=submit>
            <div inner_html=move || devices::form_html(ctx.lang.get())></div>
            <p class="devices-note" inner_html=move || note.get()></p>
        </main>
    }
}
