//! What the parts of the reports page share: the context, loading JSON, posting, navigating,
//! a picker and the refusal line. A leaf: the parts import it, it imports none of them.

use leptos::prelude::*;
use serde_json::Value;

use crate::alerts::error_message;
use crate::http;
use crate::i18n::Lang;
use crate::reports::page::ReportsRoute;
use crate::reports::text::RKey;
use crate::session::Role;

/// What every part of the page reads: the route, the language, who is signed in.
#[derive(Clone, Copy)]
pub(crate) struct Ctx {
    pub route: RwSignal<ReportsRoute>,
    pub lang: Memo<Lang>,
    pub role: Role,
    /// The root of the user's subtree: the scope when the URL names none.
    pub root: StoredValue<String>,
    /// Today on the browser's calendar: the period when the URL names none.
    pub today: StoredValue<String>,
}

impl Ctx {
    pub(crate) fn t(&self, key: RKey) -> &'static str {
        key.t(self.lang.get())
    }

    pub(crate) fn scope(&self) -> String {
        self.route
            .with(|r| r.scope.clone())
            .unwrap_or_else(|| self.root.get_value())
    }

    pub(crate) fn today(&self) -> String {
        self.today.get_value()
    }

    /// Downloads need *export* (docs/SECURITY.md: admins and managers).
    pub(crate) fn may_export(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Manager)
    }

    /// Unmasking a caller needs *unmask* (admins, managers, supervisors).
    pub(crate) fn may_unmask(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Manager | Role::Supervisor)
    }

    /// Marking a caller called back: the callback worklist's users.
    pub(crate) fn may_call_back(&self) -> bool {
        matches!(
            self.role,
            Role::Admin | Role::Manager | Role::Supervisor | Role::TeamLead
        )
    }
}

/// Shows `route` (the hash changes; the page follows on `hashchange`).
pub(crate) fn navigate(route: &ReportsRoute) {
    let _ = window().location().set_hash(&route.to_hash());
}

/// What a request for JSON came to.
#[derive(Clone, PartialEq)]
pub(crate) enum Load {
    Loading,
    Failed(String),
    Ready(Value),
}

/// `GET path` into `into`, as [`Load`].
pub(crate) fn load(path: &str, into: RwSignal<Load>) {
    into.set(Load::Loading);
    http::request("GET", path, None, move |answer| {
        let loaded = match answer.status {
            200 => serde_json::from_str(&answer.text)
                .map(Load::Ready)
                .unwrap_or_else(|e| Load::Failed(e.to_string())),
            0 => Load::Failed("no answer".to_string()),
            status => Load::Failed(format!("{status}: {}", error_message(&answer.text))),
        };
        into.set(loaded);
    });
}

/// `POST path` with a JSON body; `done` gets the status and the body.
pub(crate) fn post(path: &str, body: &str, done: impl FnOnce(u16, String) + 'static) {
    http::request("POST", path, Some(body), move |answer| {
        done(answer.status, answer.text)
    });
}

/// The server's refusal, in its words.
pub(crate) fn failed(ctx: Ctx, why: String) -> impl IntoView {
    view! {
        <p class="refused" role="alert" data-state="failed">
            {ctx.t(RKey::Refused)}": "{why}
        </p>
    }
}

/// A `<select>` of `choices` (value, label), `current` selected, `on_pick` with the value
/// (`""` for the first, empty choice when `any` is given).
pub(crate) fn picker(
    ctx: Ctx,
    control: &'static str,
    label: RKey,
    any: Option<RKey>,
    choices: Vec<(&'static str, RKey)>,
    current: Signal<Option<String>>,
    on_pick: impl Fn(String) + 'static,
) -> impl IntoView {
    let options = any
        .map(|k| ("", k))
        .into_iter()
        .chain(choices)
        .map(|(value, key)| {
            let selected = move || current.get().as_deref().unwrap_or("") == value;
            view! {
                <option value=value selected=selected prop:selected=selected>
                    {move || ctx.t(key)}
                </option>
            }
        })
        .collect_view();
    view! {
        <label>
            <span>{move || ctx.t(label)}</span>
            <select data-control=control on:change=move |ev| on_pick(event_target_value(&ev))>
                {options}
            </select>
        </label>
    }
}
