//! The websocket to `/api/v1/live`: subscribe, check frame order, resync on a gap, reconnect
//! with back-off, and give up on a socket that has gone silent.
//!
//! The decisions are in `crate::live`; this module only wires them to the browser's
//! `WebSocket`.

use std::cell::RefCell;
use std::rc::Rc;

use floorwatch_core::wire::LiveFrame;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use super::store::Store;
use crate::live::{Backoff, DEAD_AFTER_MS, FrameOrder, Plan, Verdict, parse_frame};

/// Where the live feed is: same origin, `wss:` when the page came over TLS.
fn live_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}/api/v1/live", location.host().ok()?))
}

struct Socket {
    ws: WebSocket,
    // Kept alive as long as the socket; dropped with it.
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        // Closing an already closed socket is a no-op; nothing to report either way.
        let _ = self.ws.close();
    }
}

struct State {
    store: Store,
    plan: Plan,
    socket: Option<Socket>,
    /// Browser time the current socket was opened, for the silence watchdog.
    opened_at: f64,
    order: FrameOrder,
    backoff: Backoff,
    /// The subscription last sent on this socket.
    sent: Option<String>,
    retry_pending: bool,
    /// Signed out or left the page: no more sockets.
    stopped: bool,
    /// Told the close code of every socket that closes (`session::SIGNED_OUT_CLOSE` when the
    /// session ended), after the reconnect is scheduled.
    on_closed: Rc<dyn Fn(u16)>,
}

/// A handle on the live connection; cheap to clone.
#[derive(Clone)]
pub(super) struct Connection(Rc<RefCell<State>>);

impl Connection {
    pub(super) fn start(store: Store, plan: Plan, on_closed: impl Fn(u16) + 'static) -> Connection {
        let conn = Connection(Rc::new(RefCell::new(State {
            store,
            plan,
            socket: None,
            opened_at: 0.0,
            order: FrameOrder::default(),
            backoff: Backoff::default(),
            sent: None,
            retry_pending: false,
            stopped: false,
            on_closed: Rc::new(on_closed),
        })));
        conn.connect();
        conn
    }

    /// A new view, window or scope: subscribe again (the server answers with a snapshot).
    pub(super) fn set_plan(&self, plan: Plan) {
        let changed = {
            let mut state = self.0.borrow_mut();
            let changed = state.plan != plan;
            state.plan = plan;
            changed
        };
        if changed {
            self.subscribe(true);
        }
    }

    /// Called once a second: closes a socket that has said nothing for too long, so that the
    /// reconnect logic takes over.
    pub(super) fn watchdog(&self, now: f64) {
        let silent = {
            let state = self.0.borrow();
            let last = state
                .store
                .last_frame
                .get_untracked()
                .unwrap_or(0.0)
                .max(state.opened_at);
            state.socket.is_some() && state.store.open.get_untracked() && now - last > DEAD_AFTER_MS
        };
        if silent {
            self.disconnected();
        }
    }

    /// Closes the socket for good (signed out, or the page left the floor views).
    pub(super) fn stop(&self) {
        let old = {
            let mut state = self.0.borrow_mut();
            state.stopped = true;
            state.socket.take()
        };
        // May run inside the socket's own `onclose`: drop it once the current task is done.
        if let Some(old) = old {
            queue_microtask(move || drop(old));
        }
    }

    fn connect(&self) {
        if self.0.borrow().stopped {
            return;
        }
        let Some(url) = live_url() else { return };
        let ws = match WebSocket::new(&url) {
            Ok(ws) => ws,
            Err(_) => {
                self.schedule_retry();
                return;
            }
        };
        let on_open = {
            let conn = self.clone();
            Closure::<dyn FnMut()>::new(move || {
                let store = {
                    let mut state = conn.0.borrow_mut();
                    state.opened_at = js_sys::Date::now();
                    state.sent = None;
                    state.order = FrameOrder::default();
                    state.store
                };
                store.open.set(true);
                conn.subscribe(false);
            })
        };
        let on_message = {
            let conn = self.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
                if let Some(text) = ev.data().as_string() {
                    conn.received(&text);
                }
            })
        };
        let on_close = {
            let conn = self.clone();
            Closure::<dyn FnMut(CloseEvent)>::new(move |ev: CloseEvent| {
                conn.disconnected();
                let on_closed = conn.0.borrow().on_closed.clone();
                let code = ev.code();
                // Outside the socket's handler: what it does may stop this connection.
                queue_microtask(move || on_closed(code));
            })
        };
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        self.0.borrow_mut().socket = Some(Socket {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        });
    }

    /// Sends the plan's subscription; unless `force`, only when it differs from the last one
    /// sent on this socket.
    fn subscribe(&self, force: bool) {
        let mut state = self.0.borrow_mut();
        let Some(ws) = state.socket.as_ref().map(|s| s.ws.clone()) else {
            return;
        };
        if ws.ready_state() != WebSocket::OPEN {
            return;
        }
        let store = state.store;
        let subscribe = state
            .plan
            .subscribe(&store.queues.get_untracked(), &store.teams.get_untracked());
        let Ok(text) = serde_json::to_string(&subscribe) else {
            return;
        };
        if !force && state.sent.as_deref() == Some(text.as_str()) {
            return;
        }
        if ws.send_with_str(&text).is_ok() {
            state.order.subscribed();
            state.sent = Some(text);
        }
    }

    fn received(&self, text: &str) {
        let received_at = js_sys::Date::now();
        let frame = match parse_frame(text) {
            Ok(frame) => frame,
            Err(e) => {
                // A frame we cannot read leaves us unsure of the state: start over.
                leptos::logging::warn!("{e}");
                self.subscribe(true);
                return;
            }
        };
        let (verdict, store) = {
            let mut state = self.0.borrow_mut();
            (state.order.check(&frame), state.store)
        };
        match verdict {
            Verdict::Apply => {
                if matches!(frame, LiveFrame::Snapshot { .. }) {
                    self.0.borrow_mut().backoff.reset();
                }
                let started = now_ms();
                let learned = store.apply(frame, received_at);
                super::dom_batch::flush();
                record_frame_time(now_ms() - started);
                if learned {
                    self.subscribe(false);
                }
            }
            Verdict::Ignore => store.last_frame.set(Some(received_at)),
            Verdict::Resync => self.subscribe(true),
        }
    }

    fn disconnected(&self) {
        let (store, old) = {
            let mut state = self.0.borrow_mut();
            state.sent = None;
            (state.store, state.socket.take())
        };
        // This may run inside the old socket's own `onclose` closure, which must not be freed
        // while it runs: drop the socket once the current task is done.
        if let Some(old) = old {
            queue_microtask(move || drop(old));
        }
        store.open.set(false);
        self.schedule_retry();
    }

    fn schedule_retry(&self) {
        let delay = {
            let mut state = self.0.borrow_mut();
            if state.retry_pending || state.stopped {
                return;
            }
            state.retry_pending = true;
            state.backoff.next_delay_ms(js_sys::Math::random())
        };
        let conn = self.clone();
        set_timeout(
            move || {
                conn.0.borrow_mut().retry_pending = false;
                conn.connect();
            },
            std::time::Duration::from_millis(delay as u64),
        );
    }
}

/// `performance.now()`, for timing frame application.
pub(super) fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

/// Leaves the synchronous cost of the last frame on `<body data-last-frame-ms>`, and when the
/// page first showed figures (`data-first-frame-at`: `performance.now()`, ms since the page
/// started loading, issue 15's "first figure"), where a browser test or a curious supervisor
/// can read them.
pub(super) fn record_frame_time(ms: f64) {
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        // A failed attribute write only loses a diagnostic.
        let _ = body.set_attribute("data-last-frame-ms", &format!("{ms:.3}"));
        if !body.has_attribute("data-first-frame-at") {
            let _ = body.set_attribute("data-first-frame-at", &format!("{:.1}", now_ms()));
        }
    }
}
