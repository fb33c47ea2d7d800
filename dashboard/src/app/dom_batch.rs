//! The agent grid's DOM writes, batched: one call into JavaScript per frame instead of one per
//! changed cell.
//!
//! A frame that changes 1,000 agents changes about 5,000 cells. Written one by one from wasm,
//! each write pays a crossing into JavaScript and a UTF-8 decode of its text, which was about
//! half the cost of the frame (profiled in Chromium; BENCHMARKS.md, "## Wallboard"). Here rows
//! register their nodes once, writes queue `(node, text)` in wasm memory, and [`flush`] hands
//! the whole queue over at once: the node numbers as one array, the texts as one string.
//!
//! The connection flushes at the end of every frame, so a frame's cost includes its DOM
//! writes; anything else (a filter, the clock) is flushed by a microtask.

use std::cell::RefCell;

use leptos::prelude::queue_microtask;
use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(inline_js = r#"
const nodes = [];
export function fw_register(node) {
    nodes.push(node);
    return nodes.length - 1;
}
export function fw_release(id) {
    nodes[id] = null;
}
export function fw_write(ids, texts) {
    const parts = texts.split("\u001f");
    for (let i = 0; i < ids.length; i++) {
        const node = nodes[ids[i]];
        if (node === null || node === undefined) continue;
        if (node.nodeType === 1) node.className = parts[i];
        else node.nodeValue = parts[i];
    }
}
"#)]
extern "C" {
    fn fw_register(node: &web_sys::Node) -> u32;
    fn fw_release(id: u32);
    fn fw_write(ids: &[u32], texts: &str);
}

/// Separates the texts of one flush; stripped from the texts themselves.
const SEPARATOR: char = '\u{1f}';

#[derive(Default)]
struct Pending {
    ids: Vec<u32>,
    texts: String,
    scheduled: bool,
}

thread_local! {
    static PENDING: RefCell<Pending> = RefCell::new(Pending::default());
}

/// A node whose text (for a text node) or class (for an element) the batch may write. Ids are
/// never reused, so a write queued for a row removed since can only miss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct NodeId(u32);

pub(super) fn register(node: &web_sys::Node) -> NodeId {
    NodeId(fw_register(node))
}

pub(super) fn release(id: NodeId) {
    fw_release(id.0);
}

/// Queues `text` for `node`; written at the next [`flush`].
pub(super) fn write(node: NodeId, text: &str) {
    let schedule = PENDING.with_borrow_mut(|p| {
        if !p.ids.is_empty() {
            p.texts.push(SEPARATOR);
        }
        p.ids.push(node.0);
        if text.contains(SEPARATOR) {
            p.texts.push_str(&text.replace(SEPARATOR, " "));
        } else {
            p.texts.push_str(text);
        }
        !std::mem::replace(&mut p.scheduled, true)
    });
    if schedule {
        queue_microtask(flush);
    }
}

/// Writes everything queued, in one call.
pub(super) fn flush() {
    let (ids, texts) = PENDING.with_borrow_mut(|p| {
        p.scheduled = false;
        (std::mem::take(&mut p.ids), std::mem::take(&mut p.texts))
    });
    if !ids.is_empty() {
        fw_write(&ids, &texts);
    }
}
