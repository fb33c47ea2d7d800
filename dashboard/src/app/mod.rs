//! The browser app: the session (sign-in page until someone is signed in), the page frame
//! (header, view switch) for the signed-in role, and the wiring of route, store and live
//! connection. Compiled for wasm32 only.

mod alerts;
mod audit;
mod bench;
mod connection;
mod devices;
mod dom_batch;
use crate::http;
mod pairing;
mod signin;
mod store;
mod supervisor;
mod wall;
mod widgets;

use std::time::Duration;

use floorwatch_core::Window;
use leptos::either::{EitherOf3, EitherOf5};
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::header;
use crate::i18n::{Key, Lang};
use crate::live::{ConnStatus, Plan};
use crate::route::{Route, View};
use crate::session::{self, Activity, RoleViews, SessionInfo};
use connection::Connection;
use signin::control_clicked;
use store::Store;
use store::{Auth, Ctx, Shell, check_session};

/// Runs when the module is instantiated by the bundle's `index.html`.
#[wasm_bindgen(start)]
pub(crate) fn start() {
    leptos::mount::mount_to_body(App);
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
    let auth = RwSignal::new(Auth::Checking);
    provide_context(Shell { route, lang, auth });

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
    check_session(auth);

    // `Either`, not `AnyView`: erasing the type would compile every view's server-side
    // rendering and hydration into the bundle as well.
    move || match auth.get() {
        Auth::Checking => EitherOf3::A(()),
        Auth::SignedOut(reason) => EitherOf3::B(view! { <signin::SignIn reason=reason/> }),
        Auth::SignedIn(info) => EitherOf3::C(view! { <SignedIn info=info/> }),
    }
}

/// The app for a signed-in user: the views their role may open, fed from the root of their
/// subtree. A fresh store per session, so nothing of one user's floor outlives their session.
#[component]
fn SignedIn(info: SessionInfo) -> impl IntoView {
    let Shell { route, lang, auth } = expect_context::<Shell>();
    let SessionInfo {
        user,
        role,
        scope,
        device,
        ..
    } = info;
    let root = scope.clone();
    let store = Store::new();
    let ctx = Ctx {
        store,
        route,
        lang,
        root: Memo::new(move |_| scope.clone()),
    };
    provide_context(ctx);
    let view = Memo::new(move |_| route.with(|r| role.view_for(r.view)));

    // User input keeps the session alive; live frames do not. One untyped listener closure
    // for both kinds of input, so it is compiled once; a plain cell holds when the session
    // was last touched (a stored value of a new type would cost the bundle more).
    let activity = std::rc::Rc::new(std::cell::Cell::new(Activity::default()));
    let touch = move |_: web_sys::Event| {
        let mut last = activity.get();
        let due = last.due(js_sys::Date::now());
        activity.set(last);
        if due {
            check_session(auth);
        }
    };
    let pointer = window_event_listener_untyped("pointerdown", touch.clone());
    let key = window_event_listener_untyped("keydown", touch);
    on_cleanup(move || {
        pointer.remove();
        key.remove();
    });

    if role.watches_floor() {
        let plan = Memo::new(move |_| {
            route.with(|r| Plan {
                view: view.get().unwrap_or_default(),
                window: r.window_or_default(),
                root: root.clone(),
                wall_scope: r.scope.clone().unwrap_or_else(|| root.clone()),
                every_queue: r.rotate_s.is_some() || r.queues_layout,
            })
        });
        let on_closed = move |code: u16| {
            // A paired screen signed out (revoked, or its role changed) asks who it is now.
            if code == session::SIGNED_OUT_CLOSE && !device {
                let reason = store.refused.try_get_untracked().flatten();
                let reason = reason.map(|r| session::signed_out_reason(&r).to_string());
                auth.set(Auth::SignedOut(reason));
            } else {
                // A refused upgrade (the session ended while the socket was down) shows only
                // as a close: ask the session endpoint why.
                check_session(auth);
            }
        };
        let conn = Connection::start(store, plan.get_untracked(), on_closed);
        {
            let conn = conn.clone();
            Effect::new(move |_| conn.set_plan(plan.get()));
        }
        let ticker = {
            let conn = conn.clone();
            set_interval_with_handle(
                move || {
                    let now = js_sys::Date::now();
                    store.local_now.set(now);
                    conn.watchdog(now);
                },
                Duration::from_secs(1),
            )
        };
        let conn = SendWrapper::new(conn);
        on_cleanup(move || {
            conn.stop();
            if let Ok(ticker) = ticker {
                ticker.clear();
            }
        });
        bench::install(store);
    }

    let body = move || match view.get() {
        Some(View::Wall) => EitherOf5::A(view! { <wall::Wall/> }),
        Some(View::Supervisor) => EitherOf5::B(view! { <supervisor::Supervisor/> }),
        Some(View::Audit) => EitherOf5::C(view! { <audit::Audit/> }),
        Some(View::Devices) => EitherOf5::D(view! { <devices::Devices/> }),
        None => EitherOf5::E(()),
    };
    let class = move || match view.get() {
        Some(View::Wall) => "app app-wall",
        Some(View::Supervisor) => "app app-supervisor",
        _ => "app app-audit",
    };
    view! {
        <div class=class>
            <Header user=user role=role/>
            <Refused/>
            {body}
        </div>
    }
}

/// The header: its links, window selector, language switch, user and sign-out button are
/// static HTML from `crate::header` (rewritten when the route or language changes); only the
/// connection indicator and the clock are live views.
#[component]
fn Header(user: String, role: session::Role) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let shell = expect_context::<Shell>();
    let on_window = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        if let Ok(window) = value.parse::<Window>() {
            let mut route = ctx.route.get_untracked();
            route.window = Some(window);
            ctx.navigate(route);
        }
    };
    let chrome = move || {
        let lang = ctx.lang.get();
        ctx.route.with(|r| header::chrome_html(lang, r, role))
    };
    let who = move || header::who_html(ctx.lang.get(), &user, role);
    let live = role
        .watches_floor()
        .then(|| view! { <widgets::ConnIndicator/> <widgets::ServerClockDisplay/> });
    view! {
        <header class="bar" on:click=control_clicked(shell) on:change=on_window>
            <div class="bar-part" inner_html=chrome></div>
            {live}
            <div class="bar-part" inner_html=who></div>
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
