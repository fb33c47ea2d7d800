//! The wall view, for the TV: floor figures only, big, coloured, no caller numbers and no
//! per-agent figures (it does not even subscribe to agents), and a banner of the open alerts
//! about queues and the floor. With `layout=queues` it shows every queue at once instead, one
//! compact tile each (name, service level, calls waiting, longest wait), for a centre with many
//! queues: a grid that fits 60 of them on a 1080p TV.

use std::time::Duration;

use floorwatch_core::Scope;
use leptos::either::Either;
use leptos::prelude::*;

use super::store::Ctx;
use super::widgets::Tile;
use crate::figure::Figure;
use crate::i18n::Key;
use crate::sparkline::Series;

#[component]
pub(super) fn Wall() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let queues = Memo::new(move |_| ctx.route.with(|r| r.queues_layout));
    move || {
        if queues.get() {
            Either::Left(view! { <QueueWall/> })
        } else {
            Either::Right(view! { <ScopeWall/> })
        }
    }
}

/// The wall of one scope (the root, `scope=`, or each in turn with `rotate=`): every wall
/// figure as a big tile.
#[component]
fn ScopeWall() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let route = ctx.route;
    let turn = RwSignal::new(0usize);

    // Rotation through the centre and every queue, when the URL asks for it.
    Effect::new(move |_| {
        let Some(seconds) = route.with(|r| r.rotate_s) else {
            return;
        };
        let handle = set_interval_with_handle(
            move || turn.update(|t| *t = t.wrapping_add(1)),
            Duration::from_secs(u64::from(seconds)),
        );
        if let Ok(handle) = handle {
            on_cleanup(move || handle.clear());
        }
    });

    let scope = Memo::new(move |_| {
        let (fixed, rotating) = route.with(|r| (r.scope.clone(), r.rotate_s.is_some()));
        if !rotating {
            return fixed.unwrap_or_else(|| ctx.root());
        }
        let mut scopes = vec![ctx.root()];
        ctx.store
            .queues
            .with(|qs| scopes.extend(qs.iter().map(|q| Scope::Queue(q.id.clone()))));
        scopes.swap_remove(turn.get() % scopes.len())
    });

    let tiles = Figure::WALL
        .into_iter()
        .map(|figure| {
            let spark = match figure {
                Figure::ServiceLevel => Some(Series::ServiceLevel),
                Figure::CallsWaiting => Some(Series::Waiting),
                _ => None,
            };
            match spark {
                Some(series) => view! { <Tile figure=figure scope=scope spark=series/> }.into_any(),
                None => view! { <Tile figure=figure scope=scope/> }.into_any(),
            }
        })
        .collect_view();

    view! {
        <main class="wall">
            <h1 class="wall-scope" data-scope=move || scope.get().to_string()>
                {move || ctx.scope_name(&scope.get())}
            </h1>
            <super::alerts::AlertBanner/>
            <div class="tiles">{tiles}</div>
        </main>
    }
}

/// `layout=queues`: every queue of the subtree as a compact tile. The tiles are the
/// supervisor's queue table with three columns (names, figures and colours as there: a
/// component of its own cost the TV's bundle 8 KB, BENCHMARKS.md "Names and the queues
/// layout"), laid out by `style.css` (`.wall-queues`) as a grid whose columns follow the number
/// of queues, so 60 of them fit a 1080p TV; a tile takes the colour of its service level against
/// target, as the wall's service-level tile does, and the table's head is the tiles' legend.
#[component]
fn QueueWall() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let root = ctx.root();
    let id = root.to_string();
    view! {
        <main class="wall wall-queues">
            <h1 class="wall-scope" data-scope=id>
                {move || ctx.scope_name(&root)}
            </h1>
            <super::alerts::AlertBanner/>
            <super::supervisor::FigureTable
                table="queue-tiles"
                heading=Key::QueuesHeading
                name_heading=Key::ColQueue
                rows=super::supervisor::queue_rows(ctx)
                columns=&Figure::QUEUE_TILE
                total=false
            />
        </main>
    }
}
