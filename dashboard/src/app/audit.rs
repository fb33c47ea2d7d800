//! The audit page, for the security officer and admins: the records of
//! `GET /api/v1/audit` newest first, filtered by actor, action and since when, and whether the
//! chain verifies. `crate::audit` writes the filters and the result as HTML (they change only
//! on a new answer or language) and says what the verdict means.

use leptos::prelude::*;

use super::signin::field_value;
use super::{Ctx, http};
use crate::alerts::error_message;
use crate::audit::{self, AuditAnswer};

#[component]
pub fn Audit() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let answer = RwSignal::new(None::<Result<AuditAnswer, String>>);
    let load = move || {
        let path = audit::query(
            &field_value("actor"),
            &field_value("action"),
            &field_value("since"),
        );
        http::request("GET", &path, None, move |reply| {
            answer.set(Some(match reply.status {
                200 => AuditAnswer::parse(&reply.text),
                _ => Err(error_message(&reply.text)),
            }));
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
                answer.with(|a| audit::result_html(ctx.lang.get(), a.as_ref()))
            }></div>
        </main>
    }
}
