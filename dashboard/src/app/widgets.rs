//! Pieces both views use: a figure tile, a table cell, the sparkline, the connection indicator
//! and the clock.

use floorwatch_core::{Figures, Scope, ServiceLevelSettings, Window};
use leptos::prelude::*;

use super::store::Ctx;
use crate::figure::{self, Figure, Reading, Span};
use crate::i18n::Key;
use crate::sparkline::{self, Series};

/// The live readings of one figure of one scope: everything a tile or a cell shows.
#[derive(Clone, Copy)]
pub(super) struct FigureReading {
    pub reading: Memo<Reading>,
    pub tooltip: Signal<String>,
    /// The window the figure covers, as `data-window` says it (`live` for live figures).
    pub window_id: Signal<&'static str>,
    pub settings: Memo<ServiceLevelSettings>,
    /// The words shown instead of the number ("not enough calls"), if any.
    pub instead: Signal<Option<&'static str>>,
}

impl FigureReading {
    /// What the tile or cell shows: the number, or the words instead of it.
    fn shown(&self) -> String {
        self.instead
            .get()
            .map_or_else(|| self.reading.with(|r| r.text.clone()), String::from)
    }
}

pub(super) fn read_figure(ctx: Ctx, figure: Figure, scope: Signal<Scope>) -> FigureReading {
    let store = ctx.store;
    let window = Memo::new(move |_| ctx.window());
    let selected: Memo<Option<Figures>> =
        Memo::new(move |_| scope.with(|s| store.figures_of(s, window.get())));
    let today: Memo<Option<Figures>> =
        Memo::new(move |_| scope.with(|s| store.figures_of(s, Window::Today)));
    let settings =
        Memo::new(move |_| scope.with(|s| store.queues.with(|q| figure::settings_for(s, q))));
    let ticking = figure == Figure::LongestWait;
    let reading = Memo::new(move |_| {
        let now = if ticking { store.server_now() } else { 0 };
        selected.with(|sel| {
            today.with(|tod| figure.read(sel.as_ref(), tod.as_ref(), &settings.read(), now))
        })
    });
    let tooltip = Signal::derive(move || {
        selected.with(|sel| {
            figure.tooltip(ctx.lang.get(), window.get(), sel.as_ref(), &settings.read())
        })
    });
    let window_id = Signal::derive(move || match figure.span() {
        Span::Selected => window.get().as_str(),
        Span::Today => Window::Today.as_str(),
        Span::Live => "live",
    });
    let instead = Signal::derive(move || {
        selected
            .with(|sel| figure.too_few_calls(sel.as_ref()))
            .then(|| ctx.t(Key::NotEnoughCalls))
    });
    FigureReading {
        reading,
        tooltip,
        window_id,
        settings,
        instead,
    }
}

/// A wall tile: label, big figure, what it covers, an optional sparkline; coloured by its
/// thresholds and greyed out when stale.
#[component]
pub(super) fn Tile(
    figure: Figure,
    #[prop(into)] scope: Signal<Scope>,
    #[prop(optional)] spark: Option<Series>,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let store = ctx.store;
    let r = read_figure(ctx, figure, scope);
    let class = move || {
        let tone = r.reading.with(|r| r.tone.class());
        let stale = if store.is_stale() { " stale" } else { "" };
        format!("tile tile-{} {tone}{stale}", figure.id())
    };
    let subtitle = move || {
        let lang = ctx.lang.get();
        match figure {
            Figure::ServiceLevel => {
                let target = store
                    .figures_of(&scope.get(), ctx.window())
                    .map_or(r.settings.get().target_pct, |f| f.service_level_target_pct);
                format!(
                    "{} · {}",
                    lang.fill(
                        Key::TargetIn,
                        &[
                            ("target", &format!("{target}")),
                            ("t", &r.settings.get().threshold_s.to_string()),
                        ],
                    ),
                    lang.window(ctx.window())
                )
            }
            _ => match figure.span() {
                Span::Selected => lang.window(ctx.window()).to_string(),
                Span::Today => lang.window(Window::Today).to_string(),
                Span::Live => lang.t(Key::WindowLive).to_string(),
            },
        }
    };
    view! {
        <section
            class=class
            data-figure=figure.id()
            data-scope=move || scope.get().to_string()
            data-window=r.window_id
            data-value=move || r.reading.with(|r| r.raw.clone())
            title=r.tooltip
        >
            <h2 class="tile-label">{move || ctx.t(figure.label())}</h2>
            <div class="tile-value">{move || r.shown()}</div>
            <div class="tile-sub">{subtitle}</div>
            {spark.map(|series| view! { <Sparkline scope=scope series=series/> })}
        </section>
    }
}

/// A table cell showing one figure, coloured like its tile.
#[component]
pub(super) fn FigureCell(figure: Figure, #[prop(into)] scope: Signal<Scope>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let store = ctx.store;
    let r = read_figure(ctx, figure, scope);
    let class = move || {
        let tone = r.reading.with(|r| r.tone.class());
        let stale = if store.is_stale() { " stale" } else { "" };
        format!("num {tone}{stale}")
    };
    view! {
        <td
            class=class
            data-figure=figure.id()
            data-drill=figure.drill()
            data-window=r.window_id
            data-value=move || r.reading.with(|r| r.raw.clone())
            title=r.tooltip
        >
            {move || r.shown()}
        </td>
    }
}

/// The last 60 minutes of a scope's service level or calls waiting.
#[component]
pub(super) fn Sparkline(#[prop(into)] scope: Signal<Scope>, series: Series) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let store = ctx.store;
    let lines = Memo::new(move |_| {
        store
            .history
            .with(|h| sparkline::polylines(h.get(&scope.get()), series))
    });
    let target_y = move || {
        let target = store
            .figures_of(&scope.get(), Window::Today)
            .map_or(80.0, |f| f.service_level_target_pct);
        sparkline::target_y(target).to_string()
    };
    let (label, definition) = match series {
        Series::ServiceLevel => (Key::SparkServiceLevel, Key::DefSparkServiceLevel),
        Series::Waiting => (Key::SparkWaiting, Key::DefSparkWaiting),
    };
    let view_box = format!("0 0 {} {}", sparkline::WIDTH, sparkline::HEIGHT);
    view! {
        <div
            class="spark"
            data-spark=move || scope.get().to_string()
            title=move || format!("{}\n{}", ctx.t(label), ctx.t(definition))
        >
            <svg viewBox=view_box preserveAspectRatio="none" aria-hidden="true">
                {(series == Series::ServiceLevel)
                    .then(|| {
                        view! {
                            <line
                                class="spark-target"
                                x1="0"
                                x2=sparkline::WIDTH.to_string()
                                y1=target_y
                                y2=target_y
                            ></line>
                        }
                    })}
                {move || {
                    lines
                        .get()
                        .into_iter()
                        .map(|points| view! { <polyline points=points></polyline> })
                        .collect_view()
                }}
            </svg>
            <span class="spark-label">{move || ctx.t(label)}</span>
        </div>
    }
}

/// Live / reconnecting / stale, visible from across the room.
#[component]
pub(super) fn ConnIndicator() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let status = Memo::new(move |_| ctx.store.status());
    view! {
        <span
            class=move || status.get().class()
            data-conn=move || status.get().id()
            title=move || ctx.t(Key::TipConnection)
            role="status"
        >
            <span class="conn-dot"></span>
            {move || ctx.t(status.get().label())}
        </span>
    }
}

/// The server's clock as the browser's local time, `HH:MM:SS`.
#[component]
pub(super) fn ServerClockDisplay() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let text = move || {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
            ctx.store.server_now() as f64
        ));
        format!(
            "{:02}:{:02}:{:02}",
            date.get_hours(),
            date.get_minutes(),
            date.get_seconds()
        )
    };
    view! { <span class="clock">{text}</span> }
}
