//! The wall view, for the TV: floor figures only, big, coloured, no caller numbers and no
//! per-agent figures (it does not even subscribe to agents), and a banner of the open alerts
//! about queues and the floor.

use std::time::Duration;

use floorwatch_core::Scope;
use leptos::prelude::*;

use super::store::Ctx;
use super::widgets::Tile;
use crate::figure::Figure;
use crate::sparkline::Series;

#[component]
pub(super) fn Wall() -> impl IntoView {
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
