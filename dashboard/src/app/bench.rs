//! `window.__floorwatch_apply_frame(json)`: applies a live frame's contents to the store as if
//! it had arrived, and returns the milliseconds spent parsing and applying it, the agent grid's
//! DOM writes included (other views' effects follow in the microtasks right after). Browser tests and the benchmark of
//! BENCHMARKS.md ("## Wallboard") time a 1,000-agent delta with it, adding the time until
//! those microtasks have run.
//!
//! Frame order is not checked: the hook feeds the store directly, beside the live connection.

use floorwatch_core::wire::LiveFrame;
use wasm_bindgen::JsValue;
use wasm_bindgen::closure::Closure;

use super::connection::now_ms;
use super::store::Store;
use crate::live::parse_frame;

pub(super) const HOOK: &str = "__floorwatch_apply_frame";

pub(super) fn install(store: Store) {
    let apply = Closure::<dyn Fn(String) -> Result<f64, JsValue>>::new(move |json: String| {
        let started = now_ms();
        let frame = parse_frame(&json).map_err(|e| JsValue::from_str(&e.to_string()))?;
        match frame {
            LiveFrame::Delta {
                now: _,
                figures,
                agents,
                history,
                ..
            } => {
                store.apply_delta(figures, agents, history);
            }
            other => {
                store.apply(other, js_sys::Date::now());
            }
        }
        super::dom_batch::flush();
        Ok(now_ms() - started)
    });
    // Without a window there is no page to measure; the hook is simply absent.
    if let Some(window) = web_sys::window() {
        let _ = js_sys::Reflect::set(&window, &JsValue::from_str(HOOK), apply.as_ref());
    }
    // The hook lives as long as the page.
    apply.forget();
}
