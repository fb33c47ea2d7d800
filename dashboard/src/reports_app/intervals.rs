//! The interval report: pickers (scope, period, granularity, comparison), the sealed and
//! amended days, the table (every cell opens the calls behind it), the charts of the day
//! against its comparison, and the downloads for those who may export.

use leptos::prelude::*;
use serde_json::Value;

use super::shared::{Ctx, Load, failed, load, navigate, picker};
use crate::reports::chart::{self, HEIGHT, WIDTH};
use crate::reports::columns::{self, CHARTS, Column, Kind, TABLE};
use crate::reports::page::{AGAINST, INTERVALS, ReportsRoute};
use crate::reports::text::RKey;

#[component]
pub(crate) fn Intervals(ctx: Ctx) -> impl IntoView {
    let report = RwSignal::new(Load::Loading);
    let compare = RwSignal::new(Load::Loading);
    let request = Memo::new(move |_| {
        let scope = ctx.scope();
        let today = ctx.today();
        ctx.route.with(|r| {
            (
                r.intervals_path(&scope, &today, ""),
                r.charts_day(&today).map(|day| r.compare_path(&scope, &day)),
            )
        })
    });
    Effect::new(move |_| {
        let (intervals, against) = request.get();
        load(&intervals, report);
        if let Some(against) = against {
            load(&against, compare);
        }
    });
    let charts = move || request.with(|(_, against)| against.is_some());
    view! {
        <main class="reports">
            <Pickers ctx=ctx/>
            <Downloads ctx=ctx/>
            {move || match report.get() {
                Load::Loading => view! { <p class="reports-note">{ctx.t(RKey::Loading)}</p> }.into_any(),
                Load::Failed(why) => failed(ctx, why).into_any(),
                Load::Ready(report) => view! {
                    <SignedOff ctx=ctx report=report.clone()/>
                    <Table ctx=ctx report=report/>
                }
                .into_any(),
            }}
            {move || charts().then(|| match compare.get() {
                Load::Ready(compare) => view! { <Charts ctx=ctx compare=compare/> }.into_any(),
                Load::Failed(why) => failed(ctx, why).into_any(),
                Load::Loading => ().into_any(),
            })}
        </main>
    }
}

#[component]
fn Pickers(ctx: Ctx) -> impl IntoView {
    let set = move |change: &dyn Fn(&mut ReportsRoute)| {
        let mut route = ctx.route.get_untracked();
        change(&mut route);
        navigate(&route);
    };
    let today = ctx.today();
    let (from_today, to_today) = (today.clone(), today);
    let from = move || ctx.route.with(|r| r.period(&from_today).0);
    let to = move || ctx.route.with(|r| r.period(&to_today).1);
    // The scopes offered: the user's root and the queues they may read (`/api/v1/queues`);
    // any other scope inside the subtree may be typed.
    let queues = RwSignal::new(Load::Loading);
    load("/api/v1/queues", queues);
    let options = move || match queues.get() {
        Load::Ready(Value::Array(list)) => std::iter::once((ctx.root.get_value(), &Value::Null))
            .chain(list.iter().filter_map(|q| {
                q["id"]
                    .as_str()
                    .map(|id| (format!("queue:{id}"), &q["name"]))
            }))
            // The name to read, the scope to type: a queue's configured name as the label.
            .map(|(s, name)| {
                let label = name
                    .as_str()
                    .filter(|n| !n.is_empty())
                    .unwrap_or(&s)
                    .to_string();
                view! { <option value=s label=label></option> }
            })
            .collect_view()
            .into_any(),
        _ => ().into_any(),
    };
    let intervals = INTERVALS
        .iter()
        .map(|&name| (name, RKey::interval(name)))
        .collect();
    let against = AGAINST
        .iter()
        .map(|&name| (name, RKey::against(name)))
        .collect();
    view! {
        <form class="filters pickers" data-form="report" on:submit=|ev| ev.prevent_default()>
            <label>
                <span>{move || ctx.t(RKey::Scope)}</span>
                <input
                    type="text"
                    list="report-scopes"
                    data-control="scope"
                    prop:value=move || ctx.scope()
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        set(&|r| r.scope = Some(value.trim().to_string()).filter(|s| !s.is_empty()));
                    }
                />
                <datalist id="report-scopes">{options}</datalist>
            </label>
            <label>
                <span>{move || ctx.t(RKey::From)}</span>
                <input
                    type="date"
                    data-control="from"
                    prop:value=from
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        set(&|r| r.from = Some(value.clone()).filter(|d| !d.is_empty()));
                    }
                />
            </label>
            <label>
                <span>{move || ctx.t(RKey::To)}</span>
                <input
                    type="date"
                    data-control="to"
                    prop:value=to
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        set(&|r| r.to = Some(value.clone()).filter(|d| !d.is_empty()));
                    }
                />
            </label>
            {picker(
                ctx,
                "interval",
                RKey::Interval,
                None,
                intervals,
                Signal::derive(move || Some(ctx.route.with(|r| r.interval_or_default().to_string()))),
                move |v| set(&|r| r.interval = Some(v.clone())),
            )}
            {picker(
                ctx,
                "against",
                RKey::Against,
                None,
                against,
                Signal::derive(move || Some(ctx.route.with(|r| r.against_or_default().to_string()))),
                move |v| set(&|r| r.against = Some(v.clone())),
            )}
        </form>
        <p class="hint">{move || ctx.t(RKey::DrillHint)}</p>
    }
}

/// CSV and XLSX of the report, for those who may export; the server audits each download.
#[component]
fn Downloads(ctx: Ctx) -> impl IntoView {
    ctx.may_export().then(|| {
        let href = move |ext: &'static str| {
            move || {
                let scope = ctx.scope();
                ctx.route.with(|r| r.intervals_path(&scope, &ctx.today(), ext))
            }
        };
        view! {
            <div class="downloads">
                <a href=href(".csv") download="" data-download="csv">{move || ctx.t(RKey::DownloadCsv)}</a>
                <a href=href(".xlsx") download="" data-download="xlsx">{move || ctx.t(RKey::DownloadXlsx)}</a>
            </div>
        }
    })
}

/// The days of the period signed off (sealed), amended since, or with late rows waiting.
#[component]
fn SignedOff(ctx: Ctx, report: Value) -> impl IntoView {
    let sealed = columns::sealed_days(&report);
    (!sealed.is_empty()).then(|| {
        let items = sealed
            .into_iter()
            .map(|s| {
                let day = s.day.clone();
                let line = move || {
                    let lang = ctx.lang.get();
                    let mut line = crate::i18n::fill(
                        RKey::SignedOffBy.t(lang),
                        &[("day", &s.day), ("scope", &s.scope), ("by", &s.by)],
                    );
                    for (n, key) in [
                        (s.amendments, RKey::AmendedTimes),
                        (s.waiting, RKey::WaitingRows),
                    ] {
                        if n > 0 {
                            line.push_str(" · ");
                            line.push_str(&crate::i18n::fill(
                                key.t(lang),
                                &[("n", &n.to_string())],
                            ));
                        }
                    }
                    line
                };
                view! {
                    <li data-sealed-day=day data-amendments=s.amendments data-waiting=s.waiting>
                        {line}
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="sealed-days">{items}</ul> }
    })
}

#[component]
fn Table(ctx: Ctx, report: Value) -> impl IntoView {
    let sealed = columns::sealed_days(&report);
    let rows = report["rows"].as_array().cloned().unwrap_or_default();
    if rows.is_empty() {
        return view! { <p class="reports-note">{move || ctx.t(RKey::NoRows)}</p> }.into_any();
    }
    let scope = report["scope"].as_str().unwrap_or_default().to_string();
    let headers = TABLE
        .iter()
        .map(|c| {
            let label = c.label;
            view! { <th class="num" data-field=c.field>{move || ctx.t(label)}</th> }
        })
        .collect_view();
    let body = rows
        .into_iter()
        .map(|row| {
            let mark = columns::row_mark(&row, &sealed);
            let span = columns::span(&row);
            let cells = TABLE
                .iter()
                .map(|&c| cell(ctx, &scope, &row, c, span))
                .collect::<Vec<_>>();
            let mark_text = move || match mark {
                Some("amended") => format!(" ✎ {}", ctx.t(RKey::Amended)),
                Some(_) => format!(" 🔒 {}", ctx.t(RKey::Sealed)),
                None => String::new(),
            };
            view! {
                <tr data-start=span.map(|s| s.0) data-mark=mark class=mark.unwrap_or_default()>
                    <th class="name">{columns::start_text(&row)}<span class="mark">{mark_text}</span></th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="panel">
            <div class="table-scroll">
                <table class="figures table-intervals" data-table="intervals">
                    <thead>
                        <tr>
                            <th>{move || ctx.t(RKey::Time)}</th>
                            {headers}
                        </tr>
                    </thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

/// A figure of a row: a link to the calls behind it (the row's span, the column's cut).
fn cell(
    ctx: Ctx,
    scope: &str,
    row: &Value,
    column: Column,
    span: Option<(i64, i64)>,
) -> impl IntoView + use<> {
    let scope = scope.to_string();
    let href = move || {
        span.map(|span| {
            ctx.route
                .with(|r| r.drill(&scope, &ctx.today(), span, column.drill))
                .to_hash()
        })
    };
    view! {
        <td class="num" data-field=column.field data-value=column.raw(row)>
            <a href=href data-drill=column.drill>{column.text(row)}</a>
        </td>
    }
}

/// A chart per figure: the day against the comparison series, aligned by local time of day.
#[component]
fn Charts(ctx: Ctx, compare: Value) -> impl IntoView {
    let rows = compare["rows"].as_array().cloned().unwrap_or_default();
    let against = compare["against_rows"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let days = compare["against_days"]
        .as_array()
        .map_or(1, |d| d.len().max(1));
    let n = rows.len();
    let first = rows.first().map(columns::start_text).unwrap_or_default();
    let last = rows.last().map(columns::start_text).unwrap_or_default();
    let charts = CHARTS
        .iter()
        .map(|&c| {
            let day: Vec<Option<f64>> = rows.iter().map(|r| c.plotted(r, 1)).collect();
            let other: Vec<Option<f64>> = against.iter().map(|r| c.plotted(r, days)).collect();
            let top = chart::top(&[&day, &other], c.fixed_max());
            let series = |class: &'static str, id: &'static str, values: &[Option<f64>]| {
                let lines = chart::polylines(values, n, top)
                    .into_iter()
                    .map(|points| view! { <polyline points=points></polyline> })
                    .collect_view();
                view! { <g class=class data-series=id data-values=chart::values_attr(values)>{lines}</g> }
            };
            let top_text = match c.kind {
                Kind::Pct => format!("{top}%"),
                Kind::Secs => crate::format::seconds(Some(top)),
                Kind::Count => top.to_string(),
            };
            let label = c.label;
            view! {
                <figure class="chart" data-chart=c.field>
                    <figcaption>{move || ctx.t(label)}</figcaption>
                    <div class="chart-plot">
                        <span class="chart-top">{top_text}</span>
                        <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") preserveAspectRatio="none" role="img">
                            {series("series-against", "against", &other)}
                            {series("series-day", "day", &day)}
                        </svg>
                    </div>
                    <div class="chart-axis">
                        <span>{first.clone()}</span>
                        <span>{last.clone()}</span>
                    </div>
                </figure>
            }
        })
        .collect_view();
    let against_name = compare["against"].as_str().unwrap_or_default().to_string();
    let against_attr = against_name.clone();
    view! {
        <section class="panel charts" data-against=against_attr>
            <p class="chart-legend">
                <span class="legend-day">{move || ctx.t(RKey::ThisDay)}</span>
                <span class="legend-against">
                    {move || ctx.t(RKey::Comparison)}": "{move || ctx.t(RKey::against(&against_name))}
                </span>
            </p>
            <div class="chart-grid">{charts}</div>
        </section>
    }
}
