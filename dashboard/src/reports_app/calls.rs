//! The calls behind a figure (drill-down) and the callback worklist: the call detail records
//! of `GET /api/v1/reports/calls`, paged by its cursor, with masked callers, the audited
//! unmask where the role allows it, and "called back" on abandoned calls.
//!
//! A link from the wallboard names a live window and the server's clock (`window`, `at`);
//! the page first asks where the centre's day starts (the day rows of `/intervals` around
//! that instant), turns the window into its span (`crate::reports::drill::span`) and rewrites
//! the URL, so a reload or a shared link lists the same calls.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde_json::{Value, json};

use super::shared::{Ctx, Load, failed, load, navigate, picker, post};
use crate::format;
use crate::reports::drill::{self, DAY_MS};
use crate::reports::page::{CALLBACKS, OUTCOMES, ReportsRoute, SERVICE_LEVELS};
use crate::reports::text::RKey;
use crate::route::percent_encode;

#[component]
pub(crate) fn Calls(ctx: Ctx) -> impl IntoView {
    let page = RwSignal::new(Load::Loading);
    // The cursors of the pages before this one, and this page's.
    let after = RwSignal::new(None::<String>);
    let reload = RwSignal::new(0_u32);
    let unmasked = RwSignal::new(BTreeMap::<String, String>::new());
    let resolving = Memo::new(move |_| ctx.route.with(|r| r.window.is_some() && r.at.is_some()));
    Effect::new(move |_| {
        if resolving.get() {
            resolve(ctx);
        }
    });
    // A new route starts from the first page.
    Effect::new(move |_| {
        ctx.route.track();
        after.set(None);
    });
    Effect::new(move |_| {
        reload.track();
        if resolving.get() {
            return;
        }
        let scope = ctx.scope();
        let cursor = after.get();
        let path = ctx
            .route
            .with(|r| r.calls_path(&scope, &ctx.today(), "", cursor.as_deref()));
        load(&path, page);
    });
    view! {
        <main class="reports reports-calls">
            <CallFilters ctx=ctx/>
            <CallDownloads ctx=ctx/>
            {move || match page.get() {
                Load::Loading => view! { <p class="reports-note">{ctx.t(RKey::Loading)}</p> }.into_any(),
                Load::Failed(why) => failed(ctx, why).into_any(),
                Load::Ready(page) => view! {
                    <CallTable ctx=ctx page=page.clone() unmasked=unmasked reload=reload/>
                    <Paging ctx=ctx page=page after=after/>
                }
                .into_any(),
            }}
        </main>
    }
}

/// Finds the centre's day around `at`, turns the live window into its span and rewrites the
/// URL with it (`location.replace`: the back button skips the unresolved link).
fn resolve(ctx: Ctx) {
    let route = ctx.route.get_untracked();
    let (Some(window), Some(at)) = (route.window.clone(), route.at) else {
        return;
    };
    let scope = ctx.scope();
    let path = format!(
        "/api/v1/reports/intervals?scope={}&from={}&to={}&interval=day",
        percent_encode(&scope),
        drill::utc_date(at - 2 * DAY_MS),
        drill::utc_date(at + DAY_MS)
    );
    let days = RwSignal::new(Load::Loading);
    load(&path, days);
    Effect::new(move |_| {
        let Load::Ready(report) = days.get() else {
            return;
        };
        let rows = report["rows"].as_array().cloned().unwrap_or_default();
        let day_of = |ms: i64| {
            rows.iter().find(|r| {
                r["start_ms"].as_i64().is_some_and(|s| s <= ms)
                    && r["end_ms"].as_i64().is_some_and(|e| ms < e)
            })
        };
        let local = |row: &Value| {
            row["start_local"]
                .as_str()
                .and_then(|s| s.get(..10))
                .map(String::from)
        };
        let Some(today) = day_of(at) else { return };
        let day_start = today["start_ms"].as_i64().unwrap_or(at);
        let Some((start, end)) = drill::span(&window, at, day_start) else {
            return;
        };
        let mut resolved: ReportsRoute = route.clone();
        resolved.window = None;
        resolved.at = None;
        resolved.start_ms = Some(start);
        resolved.end_ms = Some(end);
        resolved.from = day_of(start).and_then(local).or_else(|| local(today));
        resolved.to = local(today);
        let _ = window_replace(&resolved.to_hash());
    });
}

fn window_replace(hash: &str) -> Result<(), wasm_bindgen::JsValue> {
    let location = window().location();
    let path = location.pathname()?;
    location.replace(&format!("{path}{hash}"))
}

#[component]
fn CallFilters(ctx: Ctx) -> impl IntoView {
    let set = move |change: &dyn Fn(&mut ReportsRoute)| {
        let mut route = ctx.route.get_untracked();
        change(&mut route);
        navigate(&route);
    };
    let choices = |names: &[&'static str]| {
        names
            .iter()
            .filter_map(|&n| RKey::state(n).map(|k| (n, k)))
            .collect::<Vec<_>>()
    };
    let span = move || {
        ctx.route.with(|r| {
            let when = |ms: Option<i64>| {
                ms.map(|ms| {
                    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64))
                        .to_locale_string(ctx.lang.get().tag(), &wasm_bindgen::JsValue::UNDEFINED)
                        .as_string()
                        .unwrap_or_default()
                })
            };
            match (when(r.start_ms), when(r.end_ms)) {
                (Some(start), Some(end)) => {
                    crate::i18n::fill(ctx.t(RKey::CallsSpan), &[("start", &start), ("end", &end)])
                }
                _ => format!(
                    "{} – {}",
                    r.from.clone().unwrap_or_default(),
                    r.to.clone().unwrap_or_default()
                ),
            }
        })
    };
    view! {
        <h2>{move || ctx.t(RKey::Calls)}" · "{move || ctx.scope()}</h2>
        <p class="hint" data-span=move || ctx.route.with(|r| format!("{:?}-{:?}", r.start_ms, r.end_ms))>{span}</p>
        <form class="filters" data-form="calls" on:submit=|ev| ev.prevent_default()>
            {picker(
                ctx,
                "outcome",
                RKey::Outcome,
                Some(RKey::Any),
                choices(&OUTCOMES),
                Signal::derive(move || ctx.route.with(|r| r.outcome.clone())),
                move |v| set(&|r| r.outcome = Some(v.clone()).filter(|v| !v.is_empty())),
            )}
            {picker(
                ctx,
                "service_level",
                RKey::ServiceLevel,
                Some(RKey::Any),
                choices(&SERVICE_LEVELS),
                Signal::derive(move || ctx.route.with(|r| r.service_level.clone())),
                move |v| set(&|r| r.service_level = Some(v.clone()).filter(|v| !v.is_empty())),
            )}
            {picker(
                ctx,
                "callback",
                RKey::Callback,
                Some(RKey::Any),
                choices(&CALLBACKS),
                Signal::derive(move || ctx.route.with(|r| r.callback.clone())),
                move |v| set(&|r| r.callback = Some(v.clone()).filter(|v| !v.is_empty())),
            )}
        </form>
    }
}

#[component]
fn CallDownloads(ctx: Ctx) -> impl IntoView {
    ctx.may_export().then(|| {
        let href = move |ext: &'static str| {
            move || {
                let scope = ctx.scope();
                ctx.route.with(|r| r.calls_path(&scope, &ctx.today(), ext, None))
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

#[component]
fn CallTable(
    ctx: Ctx,
    page: Value,
    unmasked: RwSignal<BTreeMap<String, String>>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let total = page["total"].as_u64().unwrap_or(0);
    let calls = page["calls"].as_array().cloned().unwrap_or_default();
    let heading =
        |key: RKey, class: &'static str| view! { <th class=class>{move || ctx.t(key)}</th> };
    let rows = calls
        .into_iter()
        .map(|call| view! { <CallRow ctx=ctx call=call unmasked=unmasked reload=reload/> })
        .collect_view();
    view! {
        <p class="count" data-total=total>
            {move || crate::i18n::fill(ctx.t(RKey::CallsTotal), &[("total", &total.to_string())])}
        </p>
        <section class="panel">
            <div class="table-scroll">
                <table class="figures table-calls" data-table="calls">
                    <thead>
                        <tr>
                            {heading(RKey::Entered, "")}
                            {heading(RKey::Queue, "")}
                            {heading(RKey::Wait, "num")}
                            {heading(RKey::Outcome, "")}
                            {heading(RKey::Agent, "")}
                            {heading(RKey::Talk, "num")}
                            {heading(RKey::Caller, "")}
                            {heading(RKey::ServiceLevel, "")}
                            {heading(RKey::Callback, "")}
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn CallRow(
    ctx: Ctx,
    call: Value,
    unmasked: RwSignal<BTreeMap<String, String>>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let id = call["id"].as_str().unwrap_or_default().to_string();
    let text = |field: &str| call[field].as_str().unwrap_or_default().to_string();
    // A name to read, the id in its tooltip (`queue_name` and `agent_name` beside the ids).
    let named = |field: &str| {
        let name = call[format!("{field}_name")]
            .as_str()
            .filter(|n| !n.is_empty());
        name.map_or_else(|| text(field), String::from)
    };
    let ms = |field: &str| format::seconds(call[field].as_f64().map(|v| v / 1000.0));
    let state = move |name: String| {
        move || RKey::state(&name).map_or(name.clone(), |k| ctx.t(k).to_string())
    };
    let masked = call["caller"].as_str().map(String::from);
    let caller = {
        let id = id.clone();
        move || {
            unmasked
                .with(|u| u.get(&id).cloned())
                .or_else(|| masked.clone())
                .unwrap_or_else(|| format::NONE.to_string())
        }
    };
    let unmask = (ctx.may_unmask() && call["caller"].is_string()).then(|| {
        let id = id.clone();
        let on_click = move |_| {
            let reason = window()
                .prompt_with_message(ctx.t(RKey::UnmaskReason))
                .ok()
                .flatten()
                .unwrap_or_default();
            if reason.trim().is_empty() {
                return;
            }
            let id = id.clone();
            let body = json!({ "reason": reason }).to_string();
            post(
                &format!("/api/v1/calls/{}/unmask", percent_encode(&id)),
                &body,
                move |status, text| {
                    let answer: Value = serde_json::from_str(&text).unwrap_or_default();
                    let shown = match (status, answer["caller"].as_str()) {
                        (200, Some(number)) => number.to_string(),
                        _ => format!("{}: {}", status, crate::alerts::error_message(&text)),
                    };
                    unmasked.update(|u| {
                        u.insert(id, shown);
                    });
                },
            );
        };
        view! {
            <button type="button" data-control="unmask" on:click=on_click>
                {move || ctx.t(RKey::Unmask)}
            </button>
        }
    });
    let callback = match &call["callback"] {
        Value::Object(done) => {
            let by = done["by"].as_str().unwrap_or_default().to_string();
            let at = done["at_ms"].as_f64().unwrap_or_default();
            let line = move || {
                let when = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at))
                    .to_locale_string(ctx.lang.get().tag(), &wasm_bindgen::JsValue::UNDEFINED)
                    .as_string()
                    .unwrap_or_default();
                crate::i18n::fill(ctx.t(RKey::CalledBackBy), &[("by", &by), ("at", &when)])
            };
            view! { <span data-callback="done">{line}</span> }.into_any()
        }
        _ if call["outcome"] == "abandoned" && ctx.may_call_back() => {
            let id = id.clone();
            let on_click = move |_| {
                post(
                    &format!("/api/v1/reports/calls/{}/callback", percent_encode(&id)),
                    "{}",
                    move |_, _| reload.update(|n| *n += 1),
                );
            };
            view! {
                <button type="button" data-control="called-back" on:click=on_click>
                    {move || ctx.t(RKey::CalledBack)}
                </button>
            }
            .into_any()
        }
        _ => ().into_any(),
    };
    view! {
        <tr data-call=id.clone() data-outcome=text("outcome")>
            <td data-field="entered_local">{text("entered_local").replacen('T', " ", 1)}</td>
            <td data-field="queue" title=text("queue")>{named("queue")}</td>
            <td class="num" data-field="wait_ms">{ms("wait_ms")}</td>
            <td data-field="outcome">{state(text("outcome"))}</td>
            <td data-field="agent" title=text("agent")>{named("agent")}</td>
            <td class="num" data-field="talk_ms">{ms("talk_ms")}</td>
            <td data-field="caller"><span class="caller">{caller}</span>" "{unmask}</td>
            <td data-field="service_level">{state(text("service_level"))}</td>
            <td data-field="callback">{callback}</td>
        </tr>
    }
}

#[component]
fn Paging(ctx: Ctx, page: Value, after: RwSignal<Option<String>>) -> impl IntoView {
    let next = page["next"].as_str().map(String::from);
    view! {
        <div class="paging">
            {move || after.get().is_some().then(|| view! {
                <button type="button" data-control="first-page" on:click=move |_| after.set(None)>
                    {move || ctx.t(RKey::FirstPage)}
                </button>
            })}
            {next.map(|cursor| view! {
                <button type="button" data-control="next-page" on:click=move |_| after.set(Some(cursor.clone()))>
                    {move || ctx.t(RKey::Next)}
                </button>
            })}
        </div>
    }
}
