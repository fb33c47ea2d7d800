//! What the page's components share: whether someone is signed in (asked of the server at
//! start and whenever a session may have changed), the page's shell, and for a signed-in user
//! the context every component reaches, with the reactive store the views read: figures,
//! history, queues, agents and the connection's health, filled from live frames.
//!
//! Agents are held one signal each (keyed by id), so a delta touching a thousand agents updates
//! a thousand rows in place and never rebuilds the grid; the id list only changes when agents
//! join or leave.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use floorwatch_core::wire::{LiveFrame, ScopeHistory};
use floorwatch_core::{AgentView, Figures, QueueView, Scope, Window};
use leptos::prelude::*;

use super::http;
use crate::agents;
use crate::alerts::AlertBook;
use crate::i18n::{Key, Lang};
use crate::live::{self, ConnStatus, FigureBook, HistoryBook, ServerClock};
use crate::route::Route;
use crate::session::{SESSION_PATH, SessionInfo};

#[derive(Clone, Copy)]
pub(crate) struct Store {
    pub figures: RwSignal<FigureBook>,
    pub history: RwSignal<HistoryBook>,
    pub queues: RwSignal<Vec<QueueView>>,
    /// Flips whenever a snapshot brings other names of sites, groups and teams ([`NAMES`]):
    /// a signal of a type the bundle has anyway, not a signal of the list (BENCHMARKS.md,
    /// "Names and the queues layout").
    names_changed: RwSignal<bool>,
    /// The agent grid's rows, in its order.
    pub agent_ids: RwSignal<Vec<String>>,
    agents: StoredValue<HashMap<String, ArcRwSignal<AgentView>>>,
    pub teams: RwSignal<BTreeSet<String>>,
    /// The alerts the subscription may see (docs/ALERTS.md), by id.
    pub alerts: RwSignal<AlertBook>,
    pub clock: RwSignal<ServerClock>,
    /// Browser time (`Date.now()`) of the last frame, heartbeats included.
    pub last_frame: RwSignal<Option<f64>>,
    pub open: RwSignal<bool>,
    pub ever_live: RwSignal<bool>,
    /// The server's reason for refusing the subscription, until a snapshot arrives.
    pub refused: RwSignal<Option<String>>,
    /// The browser's clock, ticking once a second.
    pub local_now: RwSignal<f64>,
    /// The server's clock in whole seconds (as ms): every ticking figure reads this, so frames
    /// arriving within the same second do not re-run them.
    now: Memo<i64>,
}

impl Store {
    pub(crate) fn new() -> Store {
        let clock = RwSignal::new(ServerClock::default());
        let local_now = RwSignal::new(js_sys::Date::now());
        let now = Memo::new(move |_| clock.get().now(local_now.get()).div_euclid(1000) * 1000);
        Store {
            figures: RwSignal::new(FigureBook::default()),
            history: RwSignal::new(HistoryBook::default()),
            queues: RwSignal::new(Vec::new()),
            names_changed: RwSignal::new(false),
            agent_ids: RwSignal::new(Vec::new()),
            agents: StoredValue::new(HashMap::new()),
            teams: RwSignal::new(BTreeSet::new()),
            alerts: RwSignal::new(AlertBook::default()),
            clock,
            last_frame: RwSignal::new(None),
            open: RwSignal::new(false),
            ever_live: RwSignal::new(false),
            refused: RwSignal::new(None),
            local_now,
            now,
        }
    }

    /// The server's clock now, ticking once a second.
    pub(crate) fn server_now(&self) -> i64 {
        self.now.get()
    }

    pub(crate) fn status(&self) -> ConnStatus {
        live::status(
            self.open.get(),
            self.ever_live.get(),
            self.last_frame.get(),
            self.local_now.get(),
        )
    }

    /// Whether figures are too old to show as live (greyed out).
    pub(crate) fn is_stale(&self) -> bool {
        live::is_stale(self.last_frame.get(), self.local_now.get())
    }

    /// The figures of `scope` over `window`, tracked.
    pub(crate) fn figures_of(&self, scope: &Scope, window: Window) -> Option<Figures> {
        self.figures.with(|b| b.get(scope, window).cloned())
    }

    /// An agent's row signal, untracked (the row tracks it).
    pub(crate) fn agent(&self, id: &str) -> Option<ArcRwSignal<AgentView>> {
        self.agents.with_value(|m| m.get(id).cloned())
    }

    /// Re-runs every agent row (after the language, a filter or the clock's second changed).
    pub(crate) fn touch_agents(&self) {
        self.agents
            .with_value(|m| m.values().for_each(|s| s.notify()));
    }

    /// How many agents match `pred`, and how many there are; tracks every agent.
    pub(crate) fn count_agents(&self, pred: impl Fn(&AgentView) -> bool) -> (usize, usize) {
        self.agent_ids.track();
        self.agents.with_value(|m| {
            let matching = m.values().filter(|s| s.with(&pred)).count();
            (matching, m.len())
        })
    }

    /// Applies a frame the connection let through; returns whether the queues or teams it knows
    /// changed (the subscription may need widening).
    pub(crate) fn apply(&self, frame: LiveFrame, received_at: f64) -> bool {
        self.last_frame.set(Some(received_at));
        match frame {
            LiveFrame::Snapshot {
                now,
                figures,
                agents,
                queues,
                names,
                history,
                alerts,
                ..
            } => {
                self.clock.set(ServerClock {
                    server_ms: now,
                    local_ms: received_at,
                });
                self.alerts.update(|book| book.replace(alerts));
                self.ever_live.set(true);
                self.refused.set(None);
                self.figures.update(|b| b.replace(figures));
                self.history.update(|h| h.replace(history));
                // Before the agents: their rows read the team names untracked.
                let changed = NAMES.with_borrow_mut(|n| {
                    let changed = *n != names;
                    *n = names;
                    changed
                });
                if changed {
                    self.names_changed.update(|b| *b = !*b);
                }
                let queues_changed = self.queues.with_untracked(|q| *q != queues);
                if queues_changed {
                    self.queues.set(queues);
                }
                self.replace_agents(agents) || queues_changed
            }
            LiveFrame::Delta {
                now,
                figures,
                agents,
                history,
                alerts,
                ..
            } => {
                self.clock.set(ServerClock {
                    server_ms: now,
                    local_ms: received_at,
                });
                if !alerts.is_empty() {
                    self.alerts.update(|book| book.update(alerts));
                }
                self.apply_delta(figures, agents, history)
            }
            LiveFrame::Heartbeat { now, .. } => {
                self.clock.set(ServerClock {
                    server_ms: now,
                    local_ms: received_at,
                });
                false
            }
            LiveFrame::Error { message, .. } => {
                self.refused.set(Some(message));
                false
            }
        }
    }

    pub(crate) fn apply_delta(
        &self,
        figures: Vec<Figures>,
        agents: Vec<AgentView>,
        history: Vec<ScopeHistory>,
    ) -> bool {
        if !figures.is_empty() {
            self.figures.update(|b| b.update(figures));
        }
        if !history.is_empty() {
            self.history.update(|h| h.append(history));
        }
        if agents.is_empty() {
            return false;
        }
        let mut joined = Vec::new();
        self.agents.with_value(|rows| {
            for view in agents {
                match rows.get(&view.id) {
                    Some(row) => {
                        if row.with_untracked(|old| *old != view) {
                            row.set(view);
                        }
                    }
                    None => joined.push(view),
                }
            }
        });
        if joined.is_empty() {
            return false;
        }
        let new_teams = live::teams_of(&joined);
        self.agents.update_value(|rows| {
            for view in joined {
                rows.insert(view.id.clone(), ArcRwSignal::new(view));
            }
        });
        self.reorder();
        self.merge_teams(new_teams)
    }

    /// A snapshot's agents: rows of agents still present are updated in place, the rest
    /// dropped or added.
    fn replace_agents(&self, agents: Vec<AgentView>) -> bool {
        let teams = live::teams_of(&agents);
        self.agents.update_value(|rows| {
            let mut next = HashMap::with_capacity(agents.len());
            for view in agents {
                let row = match rows.remove(&view.id) {
                    Some(row) => {
                        if row.with_untracked(|old| *old != view) {
                            row.set(view.clone());
                        }
                        row
                    }
                    None => ArcRwSignal::new(view.clone()),
                };
                next.insert(view.id, row);
            }
            *rows = next;
        });
        self.reorder();
        let changed = self.teams.with_untracked(|t| *t != teams);
        if changed {
            self.teams.set(teams);
        }
        changed
    }

    fn merge_teams(&self, new: BTreeSet<String>) -> bool {
        let missing = self.teams.with_untracked(|t| !new.is_subset(t));
        if missing {
            self.teams.update(|t| t.extend(new));
        }
        missing
    }

    fn reorder(&self) {
        let mut views: Vec<AgentView> = self
            .agents
            .with_value(|m| m.values().map(|s| s.get_untracked()).collect());
        agents::order(&mut views);
        let ids: Vec<String> = views.into_iter().map(|v| v.id).collect();
        if self.agent_ids.with_untracked(|old| *old != ids) {
            self.agent_ids.set(ids);
        }
    }
}

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

    /// The display name of a scope: "Whole centre", a queue's, site's, group's or team's
    /// configured name, the id where none is configured (the id itself goes in tooltips).
    pub(crate) fn scope_name(&self, scope: &Scope) -> String {
        let id = scope.id().unwrap_or_default();
        let name = match scope {
            Scope::Centre => return self.t(Key::ScopeCentre).to_string(),
            Scope::Queue(_) => self
                .store
                .queues
                .with(|qs| qs.iter().find(|q| q.id == id).map(|q| q.name.clone())),
            other => {
                self.store.names_changed.track();
                name_in(other)
            }
        };
        name.filter(|n| !n.is_empty())
            .unwrap_or_else(|| id.to_string())
    }

    /// A team's configured name, or its id; untracked, for the agent rows (which must not
    /// subscribe to the names, see `supervisor::AgentRow`).
    pub(crate) fn team_name(&self, id: &str) -> String {
        name_in(&Scope::Team(id.to_string())).unwrap_or_else(|| id.to_string())
    }
}

thread_local! {
    /// The configured names of the sites, groups and teams in the subtree, from the last
    /// snapshot (`LiveFrame::Snapshot::names`); [`Store`]'s `names_changed` tells readers.
    static NAMES: std::cell::RefCell<Vec<(Scope, String)>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn name_in(scope: &Scope) -> Option<String> {
    NAMES.with_borrow(|names| {
        names
            .iter()
            .find(|(s, _)| s == scope)
            .map(|(_, n)| n.clone())
    })
}

pub(super) fn navigate(route: Route) {
    if let Some(w) = web_sys::window() {
        // Setting the hash cannot fail on a same-origin page; if it did, nothing changes.
        let _ = w.location().set_hash(&route.to_hash());
    }
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
pub(super) fn check_session(auth: RwSignal<Auth>) {
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
