//! The web edge: every route of the server, and everything that knows about HTTP. A request
//! comes in through [`router`], is identified ([`identity`]), and is answered by one feature's
//! handlers, which call the services below (the floor, the recorder, the accounts, the audit
//! trail) and answer with [`error::ApiError`] when they refuse.
//!
//! Layers, each importing only the ones below it:
//! 1. [`router`] (this file): the routes of every feature;
//! 2. the handlers, one module per feature: [`read`] (figures, queues, agents, health),
//!    [`ingest`] and [`import`] (events in), [`live`] (the live websocket), [`signin`],
//!    [`devices`], [`alerts`], [`calls`], [`export`], [`audit`], [`assets`] (the wallboard),
//!    [`reports`], [`report_files`] and [`sign_off`] (history);
//! 3. what handlers share: [`identity`] (the `Identity` extractor), [`session`] (what follows a
//!    sign-in or sign-out), [`params`], [`cookies`], [`edge`] (origin, content types, security
//!    headers), [`report_query`] and [`call_query`] (history's reports, checked and computed);
//! 4. [`state`] (`AppState`) and [`error`] (`ApiError`, `ApiQuery`, `ApiJson`).
//!
//! Invariants: no handler imports the router or another handler; the services never import
//! this module (they take their dependencies as constructor arguments).

mod alerts;
mod assets;
mod audit;
mod call_query;
mod calls;
mod cookies;
mod devices;
mod edge;
mod error;
mod export;
mod identity;
mod import;
mod ingest;
mod live;
mod params;
mod read;
mod report_files;
mod report_query;
mod reports;
mod session;
mod sign_off;
mod signin;
mod state;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, delete, get, post};

pub(crate) use session::{save_sessions, sweep};
pub(crate) use state::{AppState, Shared};

/// Every route of the server, every response with the security headers ([`edge`]).
pub(crate) fn router(state: AppState) -> Router {
    let max_body = state.settings().max_body_bytes;
    let https = state.settings().tls.is_some();
    let routes = Router::new()
        .route(
            session::SESSION_PATH,
            post(signin::sign_in)
                .get(signin::whoami)
                .delete(signin::sign_out),
        )
        .route(
            cookies::PAIRING_PATH,
            post(devices::start).get(devices::poll),
        )
        .route("/api/v1/devices", get(devices::list))
        .route("/api/v1/devices/pair", post(devices::pair))
        .route("/api/v1/devices/{name}", delete(devices::revoke))
        .route("/api/v1/events", post(ingest::post_events))
        .route("/api/v1/import/queue-log", post(import::queue_log))
        .route("/api/v1/ingest", get(ingest::ingest_socket))
        .route("/api/v1/live", get(live::live_socket))
        .route("/api/v1/metrics", get(read::metrics))
        .route("/api/v1/queues", get(read::queues))
        .route("/api/v1/agents", get(read::agents))
        .route("/api/v1/alerts", get(alerts::list))
        .route("/api/v1/alerts/rules", get(alerts::rules))
        .route("/api/v1/alerts/ack", post(alerts::acknowledge))
        .route("/api/v1/calls", get(calls::list))
        .route("/api/v1/calls/{id}/unmask", post(calls::unmask))
        .route("/api/v1/export/agents.csv", get(export::agents_csv))
        .route("/api/v1/audit", get(audit::list))
        .route("/api/v1/reports/intervals", get(reports::intervals))
        .route("/api/v1/reports/compare", get(reports::compare))
        .route("/api/v1/reports/agents", get(reports::agents))
        .route("/api/v1/reports/calls", get(reports::calls))
        .route(
            "/api/v1/reports/calls/{id}/callback",
            post(reports::callback),
        )
        .route("/api/v1/reports/sign-off", post(sign_off::sign_off))
        .route("/api/v1/reports/amend", post(sign_off::amend))
        .route("/api/v1/reports/sign-offs", get(sign_off::list))
        .merge(report_files::routes())
        .route("/api", any(error::not_found))
        .route("/api/{*rest}", any(error::not_found))
        .route("/reports", get(assets::reports))
        .route("/healthz", get(read::healthz))
        .route("/metrics", get(read::prometheus))
        .fallback(assets::wallboard)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state);
    edge::with_security_headers(routes, https)
}
