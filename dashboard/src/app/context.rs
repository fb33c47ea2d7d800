//! What the components share: whether someone is signed in, the page's shell before that, and
//! the context every component of the signed-in app reaches.

use floorwatch_core::{Scope, Window};
use leptos::prelude::*;

use super::store::Store;
use crate::i18n::{Key, Lang};
use crate::route::Route;
use crate::session::SessionInfo;

/// Whether someone is signed in on this page.
#[derive(Clone, PartialEq)]
pub(crate) enum Auth {
    /// Asking the server (`GET /api/v1/session`) at start.
    Checking,
    /// The sign-in page, with why the last session ended when it did not end by itself here.
    SignedOut(Option<String>),
    SignedIn(SessionInfo),
}

/// What the page has before anyone signs in.
#[derive(Clone, Copy)]
pub(crate) struct Shell {
    pub route: RwSignal<Route>,
    pub lang: Memo<Lang>,
    pub auth: RwSignal<Auth>,
}

/// What every component of the signed-in app can reach.
#[derive(Clone, Copy)]
pub(crate) struct Ctx {
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
    pub(crate) fn t(&self, key: Key) -> &'static str {
        self.lang.get().t(key)
    }

    pub(crate) fn window(&self) -> Window {
        self.route.with(Route::window_or_default)
    }

    /// The root of the user's subtree: where figures start.
    pub(crate) fn root(&self) -> Scope {
        self.root.get_untracked()
    }

    /// Shows `route`: the hash changes, and the `hashchange` listener updates the page.
    pub(crate) fn navigate(&self, route: Route) {
        navigate(route);
    }

    /// The display name of a scope: a queue's configured name, "Whole centre", a team's id.
    pub(crate) fn scope_name(&self, scope: &Scope) -> String {
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

pub(super) fn navigate(route: Route) {
    if let Some(w) = web_sys::window() {
        // Setting the hash cannot fail on a same-origin page; if it did, nothing changes.
        let _ = w.location().set_hash(&route.to_hash());
    }
}
