//! The supervisor view: the alert panel, a sortable queue table, a team table and the agent
//! grid.

use std::cell::RefCell;
use std::rc::Rc;

use floorwatch_core::{Scope, Window};
use leptos::prelude::*;

use super::dom_batch::{self, NodeId};
use super::store::Ctx;
use super::widgets::FigureCell;
use crate::agents::{self, StateFilter};
use crate::figure::{self, Figure};
use crate::i18n::{Key, Lang};
use crate::sort::{self, SortKey, SortOrder};
use send_wrapper::SendWrapper;

#[component]
pub(super) fn Supervisor() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let store = ctx.store;
    let queue_rows = queue_rows(ctx);
    let team_rows = Signal::derive(move || {
        store.teams.with(|ts| {
            ts.iter()
                .map(|t| Scope::Team(t.clone()))
                .collect::<Vec<_>>()
        })
    });
    view! {
        <main class="supervisor" on:click=move |ev| drill(ctx, ev)>
            <super::alerts::AlertPanel/>
            <FigureTable
                table="queues"
                heading=Key::QueuesHeading
                name_heading=Key::ColQueue
                rows=queue_rows
                columns=&Figure::QUEUE_TABLE
                total=true
            />
            <FigureTable
                table="teams"
                heading=Key::TeamsHeading
                name_heading=Key::ColTeam
                rows=team_rows
                columns=&Figure::TEAM_TABLE
                total=false
            />
            <AgentGrid/>
        </main>
    }
}

/// The queue table's rows: every queue of the subtree (the wall's queues layout shows the same).
pub(super) fn queue_rows(ctx: Ctx) -> Signal<Vec<Scope>> {
    Signal::derive(move || {
        ctx.store.queues.with(|qs| {
            qs.iter()
                .map(|q| Scope::Queue(q.id.clone()))
                .collect::<Vec<_>>()
        })
    })
}

/// A click on a figure that has calls behind it opens them on the reports page
/// (`crate::reports::drill`): one listener for every cell, and only the link in this bundle.
fn drill(ctx: Ctx, ev: leptos::ev::MouseEvent) {
    use wasm_bindgen::JsCast;
    let cell = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|e| e.closest("td[data-drill]").ok().flatten());
    let Some(cell) = cell else { return };
    let attr = |e: &web_sys::Element, name| e.get_attribute(name).unwrap_or_default();
    let scope = cell
        .closest("tr[data-scope]")
        .ok()
        .flatten()
        .map(|row| attr(&row, "data-scope"));
    if let Some(scope) = scope {
        let href = crate::reports::drill::href(
            &scope,
            &attr(&cell, "data-drill"),
            &attr(&cell, "data-window"),
            ctx.store.server_now(),
            ctx.lang.get_untracked(),
        );
        // Assigning a same-origin address cannot fail; if it did, the page stays.
        let _ = window().location().set_href(&href);
    }
}

/// A table of scopes by figures, sortable by any column; the centre's row on top when `total`.
/// The wall's queues layout shows the queues' as tiles (`wall::QueueWall`).
#[component]
pub(super) fn FigureTable(
    table: &'static str,
    heading: Key,
    name_heading: Key,
    #[prop(into)] rows: Signal<Vec<Scope>>,
    columns: &'static [Figure],
    total: bool,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let store = ctx.store;
    let order = RwSignal::new(SortOrder::default());
    let sorted = Memo::new(move |_| {
        let mut rows = rows.get();
        let order = order.get();
        let window = ctx.window();
        let now = store.server_now();
        let queues = store.queues.read();
        sort::sort_rows(&mut rows, order, |scope, column| match column {
            0 => SortKey::Text(ctx.scope_name(scope)),
            c => {
                let figure = columns[c - 1];
                let settings = figure::settings_for(scope, &queues);
                let selected = store.figures_of(scope, window);
                let today = store.figures_of(scope, Window::Today);
                SortKey::Number(
                    figure
                        .read(selected.as_ref(), today.as_ref(), &settings, now)
                        .sort,
                )
            }
        });
        rows
    });
    let header = move |column: usize, label: Key, tip: Option<Figure>| {
        let numeric = column > 0;
        let arrow = move || {
            let o = order.get();
            match (o.column == column, o.descending) {
                (false, _) => "",
                (true, true) => " ▼",
                (true, false) => " ▲",
            }
        };
        let title = move || match tip {
            Some(figure) => figure.tooltip(ctx.lang.get(), ctx.window(), None, &Default::default()),
            None => ctx.t(Key::SortHint).to_string(),
        };
        view! {
            <th
                class=if numeric { "num sortable" } else { "sortable" }
                data-column=column
                title=title
                on:click=move |_| order.update(|o| *o = o.clicked(column, numeric))
            >
                {move || ctx.t(label)}
                {arrow}
            </th>
        }
    };
    let headers = std::iter::once(header(0, name_heading, None))
        .chain(
            columns
                .iter()
                .enumerate()
                .map(move |(i, &f)| header(i + 1, f.label(), Some(f))),
        )
        .collect_view();
    let row = move |scope: Scope, class: &'static str| {
        let name_scope = scope.clone();
        let cells = columns
            .iter()
            .map(|&figure| {
                let scope = scope.clone();
                view! { <FigureCell figure=figure scope=Signal::derive(move || scope.clone())/> }
            })
            .collect_view();
        view! {
            <tr class=class data-scope=scope.to_string()>
                <th class="name" title=scope.to_string()>
                    {move || ctx.scope_name(&name_scope)}
                </th>
                {cells}
            </tr>
        }
    };
    view! {
        <section class=format!("panel panel-{table}")>
            <h2>{move || ctx.t(heading)}</h2>
            <div class="table-scroll">
                <table class=format!("figures table-{table}") data-table=table>
                    <thead>
                        <tr>{headers}</tr>
                    </thead>
                    <tbody>
                        {total.then(|| row(ctx.root(), "total"))}
                        <For
                            each=move || sorted.get()
                            key=|scope| scope.to_string()
                            children=move |scope| row(scope, "")
                        />
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// Every agent, filterable by team and state; agents past their break allowance stand out.
#[component]
fn AgentGrid() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let store = ctx.store;
    let team = Memo::new(move |_| ctx.route.with(|r| r.team.clone()));
    let state = RwSignal::new(StateFilter::All);
    let shown = Memo::new(move |_| {
        let (team, state) = (team.get(), state.get());
        let now = if state == StateFilter::Overrun {
            store.server_now()
        } else {
            0
        };
        store.count_agents(|a| agents::is_shown(a, team.as_deref(), state, now))
    });
    let env = Memo::new(move |_| GridEnv {
        lang: ctx.lang.get(),
        team: team.get(),
        filter: state.get(),
        now: store.server_now(),
    });
    // Rows read the environment untracked; tell them all when it changes.
    Effect::new(move |_| {
        env.track();
        store.touch_agents();
    });
    let on_team = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let mut route = ctx.route.get_untracked();
        route.team = Some(value).filter(|v| !v.is_empty());
        ctx.navigate(route);
    };
    let team_options = move || {
        store
            .teams
            .get()
            .into_iter()
            .map(|t| {
                let selected = team.get().as_deref() == Some(t.as_str());
                let name = ctx.scope_name(&Scope::Team(t.clone()));
                view! {
                    <option value=t.clone() title=t selected=selected>
                        {name}
                    </option>
                }
            })
            .collect_view()
    };
    let state_options = StateFilter::choices()
        .into_iter()
        .map(|f| {
            let label = move || match f {
                StateFilter::All => ctx.t(Key::FilterAll),
                StateFilter::Is(s) => ctx.lang.get().state(s),
                StateFilter::Overrun => ctx.t(Key::Overrun),
            };
            view! {
                <option
                    value=f.value()
                    selected=move || state.get() == f
                    prop:selected=move || state.get() == f
                >
                    {label}
                </option>
            }
        })
        .collect_view();
    let column = |label: Key, definition: Option<Key>, class: &'static str| {
        view! {
            <span
                class=class
                role="columnheader"
                title=move || definition.map(|d| ctx.t(d)).unwrap_or_default()
            >
                {move || ctx.t(label)}
            </span>
        }
    };
    view! {
        <section class="panel panel-agents">
            <h2>{move || ctx.t(Key::AgentsHeading)}</h2>
            <div class="filters">
                <label>
                    <span>{move || ctx.t(Key::FilterTeam)}</span>
                    <select on:change=on_team data-control="team">
                        <option value="" selected=move || team.get().is_none()>
                            {move || ctx.t(Key::FilterAll)}
                        </option>
                        {team_options}
                    </select>
                </label>
                <label>
                    <span>{move || ctx.t(Key::FilterState)}</span>
                    <select
                        data-control="state"
                        on:change=move |ev| state.set(StateFilter::from_value(&event_target_value(&ev)))
                    >
                        {state_options}
                    </select>
                </label>
                <span class="count" data-shown=move || shown.get().0>
                    {move || {
                        let (shown, total) = shown.get();
                        ctx.lang
                            .get()
                            .fill(
                                Key::AgentCount,
                                &[("shown", &shown.to_string()), ("total", &total.to_string())],
                            )
                    }}
                </span>
                <span class="legend overrun" title=move || overrun_rule(ctx)>
                    {move || ctx.t(Key::Overrun)}
                </span>
            </div>
            // Rows are grid boxes, not table rows: each is contained and skipped while off
            // screen, so a change in one row never re-lays out a thousand.
            <div class="agents" role="table" data-table="agents">
                <div class="agent-head" role="row">
                    {column(Key::ColAgent, None, "")}
                    {column(Key::ColTeam, None, "")}
                    {column(Key::ColState, None, "")}
                    {column(Key::ColReason, Some(Key::DefOverrun), "")}
                    {column(Key::ColTimeInState, Some(Key::DefTimeInState), "num")}
                    {column(Key::ColCallDuration, Some(Key::DefCallDuration), "num")}
                    {column(Key::ColCallsHandled, Some(Key::DefCallsHandledToday), "num")}
                    {column(Key::ColAgentAht, Some(Key::DefAgentAht), "num")}
                </div>
                <For
                    each=move || store.agent_ids.get()
                    key=|id| id.clone()
                    children=move |id| view! { <AgentRow id=id env=env/> }
                />
            </div>
        </section>
    }
}

fn overrun_rule(ctx: Ctx) -> String {
    ctx.lang.get().fill(
        Key::DefOverrun,
        &[
            ("break", &agents::BREAK_ALLOWANCE_MIN.to_string()),
            ("meal", &agents::MEAL_ALLOWANCE_MIN.to_string()),
        ],
    )
}

/// What every row of the grid depends on besides its own agent: the language, the filters and
/// the clock's second.
#[derive(Clone, PartialEq)]
struct GridEnv {
    lang: Lang,
    team: Option<String>,
    filter: StateFilter,
    now: i64,
}

/// One agent's row. Each agent has its own signal (a delta touching a thousand agents sets a
/// thousand signals and never rebuilds the grid), and each row has exactly one effect, run
/// synchronously when its agent changes, which queues only the texts that changed
/// (`dom_batch` writes a frame's queue in one call).
///
/// Measured in Chromium (BENCHMARKS.md, "## Wallboard"): one effect per cell, scheduled as
/// separate tasks, cost about 150 ms for a 1,000-agent delta; rows subscribing to the shared
/// language, filters and clock made every re-run remove itself from those signals' thousand
/// subscribers (quadratic). So a row tracks only its agent, reads the shared [`GridEnv`]
/// untracked, and the grid notifies every row once when the environment changes.
#[component]
fn AgentRow(id: String, env: Memo<GridEnv>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let store = ctx.store;
    let Some(agent) = store.agent(&id) else {
        return ().into_any();
    };
    let render = move || {
        let env = env.get_untracked();
        agent.with(|a| {
            let mut cells = agents::row_cells(a, env.lang, env.now);
            cells[1] = ctx.team_name(&cells[1]);
            (
                agents::row_class(a, env.team.as_deref(), env.filter, env.now),
                cells,
            )
        })
    };
    let (class, cells) = untrack(render.clone());
    let shown = (class.clone(), cells.clone());
    let bind = move |row: web_sys::Element| {
        let row = SendWrapper::new(row);
        let mut shown = shown.clone();
        let render = render.clone();
        // The row's element (for its class) and each cell's text node, once built.
        let nodes = SendWrapper::new(Rc::new(RefCell::new(Vec::<NodeId>::new())));
        let registered = nodes.clone();
        on_cleanup(move || {
            registered
                .borrow_mut()
                .drain(..)
                .for_each(dom_batch::release);
        });
        ImmediateEffect::new_mut_scoped(move || {
            let (class, cells) = render();
            let mut nodes = nodes.borrow_mut();
            if nodes.is_empty() {
                // The first run comes as the row is built, before its cells exist: nothing to
                // write yet. The first change registers the nodes the view below made.
                if class == shown.0 && cells == shown.1 {
                    return;
                }
                nodes.push(dom_batch::register(&row));
                let cells = row.children();
                for i in 0..cells.length() {
                    let Some(cell) = cells.item(i) else { continue };
                    let text = match cell.first_child() {
                        Some(text) => text,
                        None => match cell.append_child(&document().create_text_node("")) {
                            Ok(text) => text,
                            Err(_) => continue,
                        },
                    };
                    nodes.push(dom_batch::register(&text));
                }
            }
            if class != shown.0 {
                dom_batch::write(nodes[0], &class);
                shown.0 = class;
            }
            for (i, text) in cells.into_iter().enumerate() {
                if text != shown.1[i] {
                    if let Some(&node) = nodes.get(i + 1) {
                        dom_batch::write(node, &text);
                    }
                    shown.1[i] = text;
                }
            }
        });
    };
    let [
        name,
        team_cell,
        state_cell,
        reason,
        in_state,
        on_call,
        handled,
        aht,
    ] = cells;
    // Every cell starts with a text node (even an empty one), for the effect above.
    view! {
        <div class=class role="row" data-agent=id.clone() use:bind>
            <span role="cell" title=id.clone()>{name}</span>
            <span role="cell">{team_cell}</span>
            <span role="cell" class="state">{state_cell}</span>
            <span role="cell">{reason}</span>
            <span role="cell" class="num">{in_state}</span>
            <span role="cell" class="num">{on_call}</span>
            <span role="cell" class="num">{handled}</span>
            <span role="cell" class="num">{aht}</span>
        </div>
    }
    .into_any()
}
