//! The browser app: the session (sign-in page until someone is signed in), the page frame
//! (header, view switch) for the signed-in role, and the wiring of route, store and live
//! connection. Compiled for wasm32 only.

mod alerts;
mod audit;
mod bench;
mod connection;
mod devices;
mod dom_batch;
mod http;
mod pairing;
mod signin;
mod store;
mod supervisor;
mod wall;
mod widgets;

use std::time::Duration;

use floorwatch_core::{Scope, Window};
use leptos::either::{EitherOf3, EitherOf5};
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::header;
use crate::i18n::{Key, Lang};
use crate::live::{ConnStatus, Plan};
use crate::route::{Route, View};
use crate::session::{self, Activity, RoleViews, SESSION_PATH, SessionInfo};
use connection::Connection;
use store::Store;

/// Runs when the module is instantiated by the bundle's `index.html`.
#[wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(App);
}

/// Whether someone is signed in on this page.
#[derive(Clone, PartialEq)]
pub enum Auth {
    /// Asking the server (`GET /api/v1/session`) at start.
    Checking,
    /// The sign-in page, with why the last session ended when it did not end by itself here.
    SignedOut(Option<String>),
    SignedIn(SessionInfo),
}

/// What the page has before anyone signs in.
#[derive(Clone, Copy)]
pub struct Shell {
    pub route: RwSignal<Route>,
    pub lang: Memo<Lang>,
    pub auth: RwSignal<Auth>,
}

/// What every component of the signed-in app can reach.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub store: Store,
    pub route: RwSignal<Route>,
    pub lang: Memo<Lang>,
    /// The root of the signed-in user's subtree, for as long as this app is shown. A memo
    /// that never changes rather than a `StoredValue<SessionInfo>`: `Memo<Scope>` is in the
    /// bundle already (the wall's scope), a stored value of a new type is not (BENCHMARKS.md,
    /// "Bundle size").
    pub root: Memo<Scope>,
}

impl Ctx {
    pub fn t(&self, key: Key) -> &'static str {
        self.lang.get().t(key)
    }

    pub fn window(&self) -> Window {
        self.route.with(Route::window_or_default)
    }

    /// The root of the user's subtree: where figures start.
    pub fn root(&self) -> Scope {
        self.root.get_untracked()
    }

    /// Shows `route`: the hash changes, and the `hashchange` listener updates the page.
    pub fn navigate(&self, route: Route) {
        navigate(route);
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

fn navigate(route: Route) {
    if let Some(w) = web_sys::window() {
        // Setting the hash cannot fail on a same-origin page; if it did, nothing changes.
        let _ = w.location().set_hash(&route.to_hash());
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

/// Whether this page was last signed in as a paired screen: a screen nobody touches must come
/// back by itself, so a refusal is asked about again (every [`SCREEN_RECHECK`]) instead of
/// leaving it on the sign-in page for good.
static SCREEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
const SCREEN_RECHECK: Duration = Duration::from_secs(15);

/// Asks the server who is signed in (`GET /api/v1/session`, which also counts as activity). A
/// 401 shows the sign-in page with the server's reason (a paired screen asks again a little
/// later); a changed session (a new role) re-opens the app for it. No answer at start is asked
/// again; no answer later changes nothing (the live connection keeps retrying and asks again
/// when it closes next).
fn check_session(auth: RwSignal<Auth>) {
    use std::sync::atomic::Ordering::Relaxed;
    http::request("GET", SESSION_PATH, None, move |answer| {
        let starting = auth.with_untracked(|a| *a == Auth::Checking);
        match answer.status {
            200 => {
                if let Some(info) = SessionInfo::parse(&answer.text) {
                    SCREEN.store(info.device, Relaxed);
                    if auth.with_untracked(|a| *a != Auth::SignedIn(info.clone())) {
                        auth.set(Auth::SignedIn(info));
                    }
                }
            }
            401 => {
                let out = Auth::SignedOut(
                    (!starting).then(|| crate::alerts::error_message(&answer.text)),
                );
                // Unchanged: the sign-in page (and a pairing code on it) stays as it is.
                if auth.with_untracked(|a| *a != out) {
                    auth.set(out);
                }
                if SCREEN.load(Relaxed) {
                    set_timeout(move || check_session(auth), SCREEN_RECHECK);
                }
            }
            _ if starting => {
                set_timeout(move || check_session(auth), Duration::from_secs(2));
            }
            _ => {}
        }
    });
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
                rotate: r.rotate_s.is_some(),
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

/// The click handler of the header and the sign-in page, by the clicked control's
/// `data-control`: `lang` switches the language, `sign-out` ends the session. One handler for
/// both pages' static HTML (`crate::header`), so it is compiled once.
fn control_clicked(shell: Shell) -> impl Fn(leptos::ev::MouseEvent) + Copy + 'static {
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
