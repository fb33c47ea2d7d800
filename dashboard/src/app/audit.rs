//! The audit page, for the security officer and admins: the records of
//! `GET /api/v1/audit` newest first, filtered by actor, action and since when, and whether the
//! chain verifies. `crate::audit` writes the filters and the result as HTML (they change only
//! on a new answer or language) and says what the verdict means.

use leptos::prelude::*;

use super::http;
use super::signin::field_value;
use super::store::Ctx;
use crate::audit;

#[component]
pub(super) fn Audit() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    // The reply's text, read when shown (`audit::result_html`): a signal of a plain string is
    // in the bundle already, one of a parsed answer was not (BENCHMARKS.md, "Bundle size").
    let reply = RwSignal::new(None::<String>);
    let load = move || {
        let path = audit::query(
            &field_value("actor"),
            &field_value("action"),
            &field_value("since"),
        );
        http::request("GET", &path, None, move |answer| {
            reply.set(Some(answer.text))
        });
    };
    load();
    view! {
        <main
            class="audit panel"
            on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                load();
            }
        >
            <div inner_html=move || audit::form_html(ctx.lang.get())></div>
            <div inner_html=move || {
                reply.with(|r| audit::result_html(ctx.lang.get(), r.as_deref()))
            }></div>
        </main>
    }
}
