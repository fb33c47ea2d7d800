//! The wallboard bundle at `/`, served from `--assets DIR` (written by `cargo xtask dist`).
//! Checked on every request rather than at start, so building the bundle while the server runs
//! just works; until then `/` explains how to build it.

use std::path::PathBuf;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use super::state::AppState;

/// Serves a file of the bundle, or the "not built" page. Open to anyone: the sign-in page must
/// load, and the bundle holds no data (that comes from the API and the live socket).
pub(crate) async fn wallboard(State(state): State<AppState>, request: Request) -> Response {
    let dir = &state.settings().assets;
    if !dir.join("index.html").is_file() {
        let status = match request.uri().path() {
            "/" | "/index.html" => StatusCode::OK,
            _ => StatusCode::NOT_FOUND,
        };
        return (status, not_built(dir)).into_response();
    }
    match ServeDir::new(dir)
        .append_index_html_on_directories(true)
        .oneshot(request)
        .await
    {
        Ok(response) => response.map(Body::new),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// `/reports`: the reports page, a module of its own in the bundle's `reports/` (written by
/// `cargo xtask dist`, so the TV's first load never carries it). Open to anyone like the rest
/// of the bundle: the page asks the session itself, and every report is checked by the API.
pub(crate) async fn reports(state: State<AppState>, mut request: Request) -> Response {
    *request.uri_mut() = Uri::from_static("/reports/index.html");
    wallboard(state, request).await
}

/// Plain HTML: the Content-Security-Policy (`super::edge`) allows no inline style or script.
fn not_built(dir: &std::path::Path) -> Html<String> {
    let shown = escape(&display_path(dir));
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Floorwatch: wallboard not built</title></head><body>\
         <h1>The wallboard is not built</h1>\
         <p>The server is running, but there is no wallboard bundle in <code>{shown}</code>.</p>\
         <p>Build it from the repository root with <code>cargo xtask dist</code>, then reload \
         this page (or start the server with <code>--assets DIR</code> pointing at a built \
         bundle).</p>\
         <p>The API works meanwhile: <a href=\"/api/v1/metrics\">/api/v1/metrics</a>, \
         <a href=\"/healthz\">/healthz</a>.</p></body></html>\n"
    );
    Html(page)
}

fn display_path(dir: &std::path::Path) -> String {
    let absolute: PathBuf = std::env::current_dir()
        .map(|cwd| cwd.join(dir))
        .unwrap_or_else(|_| dir.to_path_buf());
    absolute.display().to_string()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
