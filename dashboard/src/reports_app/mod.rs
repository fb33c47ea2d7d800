//! The reports page's browser app (`/reports`): the session check (signed-in users only, the
//! cookie session of the wallboard), the header, and the two parts, the interval report and
//! the calls list. Compiled for wasm32 with the `reports` feature only: its own module, loaded
//! by its own page, never by the TV.
//!
//! What it asks and shows is decided in `crate::reports` (host-tested); the server checks
//! every request itself (docs/SECURITY.md), the page only hides what would be refused.

mod calls;
mod intervals;
mod shared;

use leptos::prelude::*;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::http;
use crate::i18n::Lang;
use crate::reports::page::{Page, ReportsRoute};
use crate::reports::text::RKey;
use crate::session::{Role, SESSION_PATH, SessionInfo};
use shared::{Ctx, navigate};

/// Runs when the module is instantiated by `reports/index.html`.
#[wasm_bindgen(start)]
pub(crate) fn start() {
    leptos::mount::mount_to_body(App);
}

fn current_route() -> ReportsRoute {
    let location = window().location();
    ReportsRoute::parse(
        &location.search().unwrap_or_default(),
        &location.hash().unwrap_or_default(),
    )
}

fn browser_today() -> String {
    let now = js_sys::Date::new_0();
    format!(
        "{:04}-{:02}-{:02}",
        now.get_full_year(),
        now.get_month() + 1,
        now.get_date()
    )
}

fn browser_lang() -> Lang {
    let navigator = window().navigator();
    let preferred: Vec<String> = navigator
        .languages()
        .iter()
        .filter_map(|v| v.as_string())
        .chain(navigator.language())
        .collect();
    Lang::from_browser(preferred.iter().map(String::as_str))
}

#[derive(Clone, PartialEq)]
enum Auth {
    Checking,
    SignedOut,
    SignedIn(SessionInfo),
}

#[component]
fn App() -> impl IntoView {
    let route = RwSignal::new(current_route());
    let browser = browser_lang();
    let lang = Memo::new(move |_| route.with(|r| r.lang).unwrap_or(browser));
    let listener =
        window_event_listener(leptos::ev::hashchange, move |_| route.set(current_route()));
    on_cleanup(move || listener.remove());
    Effect::new(move |_| {
        let lang = lang.get();
        let doc = document();
        if let Some(html) = doc.document_element() {
            let _ = html.set_attribute("lang", lang.tag());
        }
        doc.set_title(&format!("Floorwatch · {}", RKey::Title.t(lang)));
    });

    let auth = RwSignal::new(Auth::Checking);
    http::request("GET", SESSION_PATH, None, move |answer| {
        auth.set(match (answer.status, SessionInfo::parse(&answer.text)) {
            (200, Some(info)) => Auth::SignedIn(info),
            _ => Auth::SignedOut,
        })
    });

    move || match auth.get() {
        Auth::Checking => {
            view! { <p class="reports-note">{move || RKey::Loading.t(lang.get())}</p> }.into_any()
        }
        Auth::SignedOut => view! {
            <main class="reports-note" data-state="signed-out">
                <p>{move || RKey::SignInFirst.t(lang.get())}</p>
                <a href="/" data-control="sign-in">{move || RKey::SignIn.t(lang.get())}</a>
            </main>
        }
        .into_any(),
        Auth::SignedIn(info) => {
            let ctx = Ctx {
                route,
                lang,
                role: info.role,
                root: StoredValue::new(info.scope.to_string()),
                today: StoredValue::new(browser_today()),
            };
            view! { <SignedIn ctx=ctx user=info.user/> }.into_any()
        }
    }
}

#[component]
fn SignedIn(ctx: Ctx, user: String) -> impl IntoView {
    // Reports are read per scope with *read reports*: never a wall display or a paired screen.
    let allowed = matches!(
        ctx.role,
        Role::Admin | Role::Manager | Role::Supervisor | Role::TeamLead
    );
    // Only a change of part rebuilds the body; a change of period or filter reloads in place.
    let page = Memo::new(move |_| ctx.route.with(|r| r.page));
    let body = move || {
        if !allowed {
            return view! { <p class="reports-note" data-state="refused">{move || ctx.t(RKey::NotForRole)}</p> }
                .into_any();
        }
        match page.get() {
            Page::Intervals => view! { <intervals::Intervals ctx=ctx/> }.into_any(),
            Page::Calls => view! { <calls::Calls ctx=ctx/> }.into_any(),
        }
    };
    let report_link = move || {
        ctx.route.with(|r| {
            ReportsRoute {
                page: Page::Intervals,
                lang: r.lang,
                scope: r.scope.clone(),
                from: r.from.clone(),
                to: r.to.clone(),
                ..ReportsRoute::default()
            }
            .to_hash()
        })
    };
    let wall_link = move || {
        let lang = ctx.route.with(|r| r.lang);
        match lang {
            Some(lang) => format!("/?lang={}#/supervisor", lang.tag()),
            None => "/#/supervisor".to_string(),
        }
    };
    let switch_lang = move |_| {
        let mut route = ctx.route.get_untracked();
        route.lang = Some(ctx.lang.get_untracked().other());
        navigate(&route);
    };
    view! {
        <div class="app app-reports">
            <header class="bar">
                <div class="bar-part">
                    <strong class="brand">"Floorwatch · "{move || ctx.t(RKey::Title)}</strong>
                    <a href=report_link data-nav="intervals">{move || ctx.t(RKey::NavIntervals)}</a>
                    <a href=wall_link data-nav="wallboard">{move || ctx.t(RKey::NavWallboard)}</a>
                </div>
                <div class="bar-part">
                    <button type="button" class="lang-switch" data-control="lang" on:click=switch_lang>
                        {move || match ctx.lang.get() { Lang::En => "中文", Lang::Zh => "English" }}
                    </button>
                    <span class="who" data-user=user.clone()>{user.clone()}</span>
                </div>
            </header>
            {body}
        </div>
    }
}
