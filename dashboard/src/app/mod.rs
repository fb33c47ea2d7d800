//! The browser app: the page frame (header, view switch) and the wiring of route, store and
//! live connection. Compiled for wasm32 only.

mod alerts;
mod bench;
mod connection;
mod dom_batch;
mod store;
mod supervisor;
mod wall;
mod widgets;

use std::time::Duration;

use floorwatch_core::{Scope, Window};
use leptos::prelude::*;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::i18n::{Key, Lang};
use crate::live::{ConnStatus, Plan};
use crate::route::{Route, View};
use connection::Connection;
use store::Store;

/// Runs when the module is instantiated by the bundle's `index.html`.
#[wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(App);
}

/// What every component can reach.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub store: Store,
    pub route: RwSignal<Route>,
    pub lang: Memo<Lang>,
}

impl Ctx {
    pub fn t(&self, key: Key) -> &'static str {
        self.lang.get().t(key)
    }

    pub fn window(&self) -> Window {
        self.route.with(Route::window_or_default)
    }

    /// Shows `route`: the hash changes, and the `hashchange` listener updates the page.
    pub fn navigate(&self, route: Route) {
        if let Some(w) = web_sys::window() {
            // Setting the hash cannot fail on a same-origin page; if it did, nothing changes.
            let _ = w.location().set_hash(&route.to_hash());
        }
    }

    /// The display name of a scope: a queue's configured name, "Whole centre", a team's id.
    pub fn scope_name(&self, scope: &Scope) -> String {
        match scope {
            Scope::Centre => self.t(Key::ScopeCentre).to_string(),
            Scope::Queue(id) => self.store.queues.with(|qs| {
                qs.iter()
                    .find(|q| &q.id == id)
                    .map(|q| q.name.clone())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| id.clone())
            }),
            other => other.id().unwrap_or_default().to_string(),
        }
    }
}

fn current_route() -> Route {
    let location = window().location();
    Route::parse(
        &location.search().unwrap_or_default(),
        &location.hash().unwrap_or_default(),
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

#[component]
fn App() -> impl IntoView {
    let route = RwSignal::new(current_route());
    let browser = browser_lang();
    let lang = Memo::new(move |_| route.with(|r| r.lang).unwrap_or(browser));
    let store = Store::new();
    let ctx = Ctx { store, route, lang };
    provide_context(ctx);

    let listener =
        window_event_listener(leptos::ev::hashchange, move |_| route.set(current_route()));
    on_cleanup(move || listener.remove());

    Effect::new(move |_| {
        let lang = lang.get();
        let doc = document();
        if let Some(html) = doc.document_element() {
            // Only affects fonts and screen readers; nothing to do if refused.
            let _ = html.set_attribute("lang", lang.tag());
        }
        doc.set_title(lang.t(Key::AppTitle));
    });

    let plan = Memo::new(move |_| {
        route.with(|r| Plan {
            view: r.view,
            window: r.window_or_default(),
            wall_scope: r.scope.clone().unwrap_or(Scope::Centre),
            rotate: r.rotate_s.is_some(),
        })
    });
    let conn = Connection::start(store, plan.get_untracked());
    {
        let conn = conn.clone();
        Effect::new(move |_| conn.set_plan(plan.get()));
    }
    let ticker = set_interval_with_handle(
        move || {
            let now = js_sys::Date::now();
            store.local_now.set(now);
            conn.watchdog(now);
        },
        Duration::from_secs(1),
    );
    if let Ok(ticker) = ticker {
        on_cleanup(move || ticker.clear());
    }
    bench::install(store);

    let body = move || match route.with(|r| r.view) {
        View::Wall => view! { <wall::Wall/> }.into_any(),
        View::Supervisor => view! { <supervisor::Supervisor/> }.into_any(),
    };
    view! {
        <div class=move || {
            match route.with(|r| r.view) {
                View::Wall => "app app-wall",
                View::Supervisor => "app app-supervisor",
            }
        }>
            <Header/>
            <Refused/>
            {body}
        </div>
    }
}

#[component]
fn Header() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let link = move |view: View| ctx.route.with(|r| Route { view, ..r.clone() }.to_hash());
    let is_view = move |view: View| ctx.route.with(|r| r.view == view);
    let on_window = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        if let Ok(window) = value.parse::<Window>() {
            let mut route = ctx.route.get_untracked();
            route.window = Some(window);
            ctx.navigate(route);
        }
    };
    let switch_lang = move |_| {
        let mut route = ctx.route.get_untracked();
        route.lang = Some(ctx.lang.get_untracked().other());
        ctx.navigate(route);
    };
    let windows = Window::ALL
        .into_iter()
        .map(|w| {
            view! {
                <option
                    value=w.as_str()
                    selected=move || ctx.window() == w
                    prop:selected=move || ctx.window() == w
                >
                    {move || ctx.lang.get().window(w)}
                </option>
            }
        })
        .collect_view();
    view! {
        <header class="bar">
            <span class="brand">{move || ctx.t(Key::AppTitle)}</span>
            <nav class="views">
                <a href=move || link(View::Wall) class:active=move || is_view(View::Wall)>
                    {move || ctx.t(Key::ViewWall)}
                </a>
                <a
                    href=move || link(View::Supervisor)
                    class:active=move || is_view(View::Supervisor)
                >
                    {move || ctx.t(Key::ViewSupervisor)}
                </a>
            </nav>
            <label class="window-select">
                <span>{move || ctx.t(Key::WindowLabel)}</span>
                <select on:change=on_window data-control="window">
                    {windows}
                </select>
            </label>
            <button
                class="lang-switch"
                data-control="lang"
                title=move || ctx.t(Key::SwitchLanguage)
                on:click=switch_lang
            >
                {move || ctx.lang.get().other().t(Key::LanguageName)}
            </button>
            <widgets::ConnIndicator/>
            <widgets::ServerClockDisplay/>
        </header>
    }
}

/// The server's refusal of the subscription, if any, in plain words.
#[component]
fn Refused() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || {
        ctx.store.refused.get().map(|message| {
            view! {
                <div class="refused" role="alert">
                    {move || ctx.t(Key::ServerRefused)}": "{message}
                </div>
            }
        })
    }
}

impl ConnStatus {
    fn label(self) -> Key {
        match self {
            ConnStatus::Connecting => Key::ConnConnecting,
            ConnStatus::Live => Key::ConnLive,
            ConnStatus::Reconnecting => Key::ConnReconnecting,
            ConnStatus::Stale => Key::ConnStale,
        }
    }

    fn class(self) -> &'static str {
        match self {
            ConnStatus::Connecting => "conn conn-connecting",
            ConnStatus::Live => "conn conn-live",
            ConnStatus::Reconnecting => "conn conn-reconnecting",
            ConnStatus::Stale => "conn conn-stale",
        }
    }

    fn id(self) -> &'static str {
        match self {
            ConnStatus::Connecting => "connecting",
            ConnStatus::Live => "live",
            ConnStatus::Reconnecting => "reconnecting",
            ConnStatus::Stale => "stale",
        }
    }
}
