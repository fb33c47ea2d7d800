//! Requests to the server's JSON API: a plain `XMLHttpRequest` with a callback (a `fetch`
//! awaited in a future costs the bundle's budget more for the same request). The session
//! cookie goes with every request by itself (same origin).

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// What the server answered: status 0 when nothing answered.
pub(crate) struct Answer {
    pub status: u16,
    pub text: String,
    /// The `Retry-After` header, when present (a 429).
    #[cfg_attr(feature = "reports", allow(dead_code))] // the wallboard's sign-in reads it
    pub retry_after: Option<String>,
}

/// Sends `method path` with an optional JSON body and hands the answer to `done`. A request
/// the browser refuses to send is answered with status 0 too.
///
/// `done` is boxed so one copy of this function (and of its `loadend` closure) serves every
/// caller: generic, it was compiled once per call site (BENCHMARKS.md, "Bundle size").
pub(crate) fn request(
    method: &str,
    path: &str,
    body: Option<&str>,
    done: impl FnOnce(Answer) + 'static,
) {
    send(method, path, body, Box::new(done));
}

#[inline(never)]
fn send(method: &str, path: &str, body: Option<&str>, done: Box<dyn FnOnce(Answer)>) {
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
        return done(no_answer());
    };
    if xhr.open(method, path).is_err()
        || (body.is_some()
            && xhr
                .set_request_header("Content-Type", "application/json")
                .is_err())
    {
        return done(no_answer());
    }
    let answered = xhr.clone();
    let on_end = Closure::once_into_js(move || {
        done(Answer {
            status: answered.status().unwrap_or(0),
            text: answered.response_text().ok().flatten().unwrap_or_default(),
            retry_after: answered.get_response_header("Retry-After").ok().flatten(),
        })
    });
    xhr.set_onloadend(Some(on_end.unchecked_ref()));
    // A failed send still ends in `loadend` with status 0.
    let _ = xhr.send_with_opt_str(body);
}

fn no_answer() -> Answer {
    Answer {
        status: 0,
        text: String::new(),
        retry_after: None,
    }
}
