//! Alerts on the wallboard (docs/ALERTS.md): the supervisor's alert panel, where an alert is
//! acknowledged with a note, and the wall's banner of open alerts about queues and the floor.
//!
//! What each row says is decided in `crate::alerts`, which also writes it as HTML: a row's
//! cells and the banner are set whole (`inner_html`) when their alert or the language changes,
//! rarely, which costs the bundle a fraction of a reactive view per cell; only the "since" cell
//! ticks. Acknowledgements go to `POST /api/v1/alerts/ack` (`crate::http`), which records the
//! signed-in user as the one who acknowledged (the page sends no name); this page, like every
//! other, learns of them from the live feed a push interval later, so all screens show the same
//! book, with who acknowledged.

use floorwatch_core::Scope;
use floorwatch_core::alerts::Alert;
use leptos::prelude::*;

use super::store::Ctx;
use crate::alerts::{self, AckRequest, AlertBook};
use crate::format;
use crate::i18n::Key;

/// Who the alert is about, by name: the agent's name, a queue's configured name, the centre.
fn scope_label(ctx: Ctx, alert: &Alert) -> String {
    match (&alert.scope, &alert.agent_name) {
        (Scope::Agent(_), Some(name)) => name.clone(),
        (scope, _) => ctx.scope_name(scope),
    }
}

/// The supervisor's alert panel: every alert the page holds, open ones first.
#[component]
pub(super) fn AlertPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let store = ctx.store;
    let rows = Memo::new(move |_| {
        store.alerts.with(|book| {
            book.ordered()
                .into_iter()
                .map(|a| a.id.clone())
                .collect::<Vec<_>>()
        })
    });
    let counts = move || {
        let lang = ctx.lang.get();
        store.alerts.with(|book| {
            let (critical, warning) = AlertBook::open_counts(&book.ordered());
            if book.is_empty() {
                lang.t(Key::AlertsNone).to_string()
            } else {
                lang.fill(
                    Key::AlertBanner,
                    &[
                        ("critical", &critical.to_string()),
                        ("warning", &warning.to_string()),
                    ],
                )
            }
        })
    };
    view! {
        <section class="panel panel-alerts" data-panel="alerts">
            <div class="alerts-head">
                <h2>{move || ctx.t(Key::AlertsHeading)}</h2>
                <span class="alert-counts">{counts}</span>
            </div>
            <div class="alerts" data-table="alerts">
                <For
                    each=move || rows.get()
                    key=|id| id.clone()
                    children=move |id| view! { <AlertRow id=id/> }
                />
            </div>
        </section>
    }
}

/// What one row shows, re-read when its alert or the language changes.
#[derive(Clone, PartialEq)]
struct Row {
    html: String,
    class: String,
    state: &'static str,
    raised_at: i64,
    cleared_at: Option<i64>,
    needs_ack: bool,
}

/// One alert: its cells, since when, and the form to acknowledge it while nobody has.
#[component]
fn AlertRow(id: String) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let store = ctx.store;
    let row = {
        let id = id.clone();
        Memo::new(move |_| {
            let lang = ctx.lang.get();
            store.alerts.with(|book| {
                book.get(&id).map(|a| Row {
                    html: alerts::row_html(a, lang, &scope_label(ctx, a)),
                    class: format!(
                        "alert-row alert-{} alert-{}",
                        a.level.as_str(),
                        alerts::state(a)
                    ),
                    state: alerts::state(a),
                    raised_at: a.raised_at,
                    cleared_at: a.cleared_at,
                    needs_ack: a.acknowledged.is_none(),
                })
            })
        })
    };
    let note = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let acknowledge = {
        let id = id.clone();
        move |_| {
            let body = serde_json::to_string(&AckRequest {
                id: &id,
                note: note.get_untracked().trim(),
            })
            .unwrap_or_default();
            busy.set(true);
            crate::http::request("POST", "/api/v1/alerts/ack", Some(&body), move |answer| {
                match answer.status {
                    200 => error.set(None),
                    0 => error.set(Some(ctx.t(Key::ConnReconnecting).to_string())),
                    _ => error.set(Some(alerts::error_message(&answer.text))),
                }
                busy.set(false);
            });
        }
    };

    let since = move || {
        let now = store.server_now();
        row.with(|r| {
            r.as_ref()
                .map(|r| format::elapsed(Some(r.raised_at), r.cleared_at.unwrap_or(now)))
        })
    };
    let needs_ack = Memo::new(move |_| row.with(|r| r.as_ref().is_some_and(|r| r.needs_ack)));
    let form = move || {
        needs_ack.get().then(|| {
            view! {
                <input
                    type="text"
                    data-control="ack-note"
                    maxlength="1000"
                    placeholder=move || ctx.t(Key::AlertNote)
                    prop:value=note.get_untracked()
                    on:input=move |ev| note.set(event_target_value(&ev))
                />
                <button data-control="ack" disabled=move || busy.get() on:click=acknowledge.clone()>
                    {move || ctx.t(Key::AlertAcknowledge)}
                </button>
            }
        })
    };
    let read =
        move |f: fn(&Row) -> String| move || row.with(|r| r.as_ref().map(f).unwrap_or_default());
    view! {
        <div data-alert=id data-state=read(|r| r.state.to_string()) class=read(|r| r.class.clone())>
            <span class="cells" inner_html=read(|r| r.html.clone())></span>
            <span class="since">{since}</span>
            <span class="ack-form">{form}</span>
            <span class="ack-error">{move || error.get()}</span>
        </div>
    }
}

/// The wall's banner: how many alerts are open, and the open ones about queues and the floor
/// (never an agent's name: the wall is public).
#[component]
pub(super) fn AlertBanner() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let store = ctx.store;
    let banner = Memo::new(move |_| {
        let lang = ctx.lang.get();
        store.alerts.with(|book| {
            let shown = book.wall();
            if shown.is_empty() {
                return None;
            }
            let critical = AlertBook::open_counts(&shown).0 > 0;
            Some((
                critical,
                alerts::banner_html(&shown, lang, |a| scope_label(ctx, a)),
            ))
        })
    });
    move || {
        banner.get().map(|(critical, html)| {
            let class = if critical {
                "alert-banner alert-critical"
            } else {
                "alert-banner alert-warning"
            };
            view! { <div class=class role="alert" data-banner="alerts" inner_html=html></div> }
        })
    }
}
