//! The HTTP read API: figures, queues, agents, health and Prometheus metrics; and the one error
//! shape every endpoint answers with, `{"error": "..."}` under the right status.
//!
//! Every read is checked with [`Identity::require`] against the floor as it is now
//! (docs/SECURITY.md, "What each role may do"): figures need `ReadFigures` at the scope
//! (`ReadAgents` for an agent), lists are cut to the caller's subtree. `/healthz` is open and
//! names nothing personal; `/metrics` needs any signed-in principal.

use axum::Json;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use floorwatch_core::{AgentView, EngineError, Figures, QueueView, Scope, Window};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::config::ClockMode;
use crate::floor;
use crate::identity::Identity;
use crate::permission::Permission;
use crate::recorder::RecordError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with what is recorded (an alert acknowledged twice).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body did not arrive within `--body-timeout-ms`.
    #[error("{0}")]
    RequestTimeout(String),
    /// A body of a type the endpoint does not take (the message names the types it does).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Too many attempts (login lock-out, rate limit); the caller adds `Retry-After`.
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// `{"error": "..."}`, for places that answer without a status (a websocket message).
    pub fn json_body(&self) -> String {
        serde_json::to_string(&ErrorBody {
            error: &self.to_string(),
        })
        .unwrap_or_default()
    }

    pub fn from_body_rejection(rejection: BytesRejection) -> ApiError {
        if let Some(timeout) = find_source::<crate::serve::BodyTimeout>(&rejection) {
            ApiError::RequestTimeout(timeout.to_string())
        } else if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(
                "the body is larger than the server's limit (--max-body-bytes); send smaller \
                 batches"
                    .into(),
            )
        } else {
            ApiError::BadRequest(format!(
                "could not read the body: {}",
                rejection.body_text()
            ))
        }
    }
}

/// The first error of type `E` in the chain of `error` and its sources.
fn find_source<'a, E: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a E> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

impl From<RecordError> for ApiError {
    fn from(e: RecordError) -> ApiError {
        ApiError::Unavailable(e.to_string())
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        match e {
            EngineError::UnknownScope(_) => ApiError::NotFound(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(%status, error = %self, "request failed");
        }
        (
            status,
            Json(ErrorBody {
                error: &self.to_string(),
            }),
        )
            .into_response()
    }
}

pub(crate) fn query_error(rejection: QueryRejection) -> ApiError {
    ApiError::BadRequest(rejection.body_text())
}

/// `?scope=SCOPE&window=WINDOW`, as `metrics` and the exports take them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeWindowQuery {
    scope: Option<String>,
    window: Option<String>,
}

impl ScopeWindowQuery {
    /// The scope (default `centre`) and window (default `today`); a bad one is a 400 naming
    /// the parameter.
    pub fn resolve(&self) -> Result<(Scope, Window), ApiError> {
        let bad = |name: &'static str| {
            move |e: floorwatch_core::ScopeError| ApiError::BadRequest(format!("`{name}`: {e}"))
        };
        let scope = match self.scope.as_deref() {
            None => Scope::Centre,
            Some(text) => text.parse().map_err(bad("scope"))?,
        };
        let window = match self.window.as_deref() {
            None => Window::Today,
            Some(text) => text.parse().map_err(bad("window"))?,
        };
        Ok((scope, window))
    }
}

/// `GET /api/v1/metrics?scope=SCOPE&window=WINDOW`: the figures of docs/METRICS.md for one
/// scope (default `centre`) over one window (default `today`).
pub async fn metrics(
    State(state): State<AppState>,
    identity: Identity,
    query: Result<Query<ScopeWindowQuery>, QueryRejection>,
) -> Result<Json<Figures>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    let (scope, window) = query.resolve()?;
    let floor = floor::lock(&state.floor);
    identity.require(Identity::read_permission(&scope), &scope, &floor)?;
    let figures = floor.figures(&scope, window)?;
    Ok(Json(figures))
}

/// `GET /api/v1/queues`: every queue, configured or seen, with its settings, that lies in the
/// caller's subtree (a team lead: the queues their team owns).
pub async fn queues(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Json<Vec<QueueView>>, ApiError> {
    let floor = floor::lock(&state.floor);
    identity.require(Permission::ReadFigures, &identity.home(), &floor)?;
    // Unassigned queues (named by events, not configured) are listed for admins, flagged,
    // so that they can be added to the organisation or the sender fixed.
    let admin = identity
        .user()
        .is_some_and(|u| u.role == floorwatch_core::Role::Admin);
    let visible = floor
        .queues()
        .into_iter()
        .filter(|q| !q.unassigned || admin)
        .filter(|q| {
            identity
                .require(Permission::ReadFigures, &Scope::Queue(q.id.clone()), &floor)
                .is_ok()
        })
        .collect();
    Ok(Json(visible))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentsQuery {
    team: Option<String>,
}

/// `GET /api/v1/agents?team=ID`: the agents of one team, or without `team` every agent of
/// the caller's subtree (the whole floor for a centre-wide user).
pub async fn agents(
    State(state): State<AppState>,
    identity: Identity,
    query: Result<Query<AgentsQuery>, QueryRejection>,
) -> Result<Json<Vec<AgentView>>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    let scope = match query.team {
        Some(team) if team.is_empty() => {
            return Err(ApiError::BadRequest("`team` must not be empty".into()));
        }
        Some(team) => Scope::Team(team),
        None => identity.home(),
    };
    let floor = floor::lock(&state.floor);
    identity.require(Permission::ReadAgents, &scope, &floor)?;
    Ok(Json(floor.agents_in(&scope)?))
}

#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    uptime_s: u64,
    clock: ClockMode,
    /// The floor's clock, UTC ms.
    now: i64,
    ingest_token: bool,
    events: EventTotals,
    journal: JournalHealth,
    live: LiveHealth,
    rss_bytes: Option<u64>,
}

#[derive(Debug, Serialize)]
struct EventTotals {
    accepted: u64,
    duplicate: u64,
    rejected: u64,
    late: u64,
}

#[derive(Debug, Serialize)]
struct JournalHealth {
    recorder_running: bool,
    replayed_events: u64,
    replayed_segments: usize,
    torn_tail_bytes: Option<u64>,
    bad_lines: usize,
    /// Events known lost to damage or a deleted segment (docs/ARCHITECTURE.md, journal).
    lost_events: u64,
    /// Damaged stretches and missing segments found at start.
    gaps: usize,
    /// Segments named for a day after tomorrow, left alone.
    future_segments: usize,
}

#[derive(Debug, Serialize)]
struct LiveHealth {
    clients: usize,
    frames_sent: u64,
    frames_dropped: u64,
}

/// `GET /healthz`: 200 while the recorder runs, 503 once it stopped (ingest would fail). Open to
/// anyone (load balancers, monitoring): counts and states only, nothing personal.
pub async fn healthz(State(state): State<AppState>) -> Response {
    let (accepted, duplicate, rejected, late) = state.telemetry.event_totals();
    let recorder_running = state.recorder_running();
    let health = Health {
        status: if recorder_running { "ok" } else { "degraded" },
        version: env!("CARGO_PKG_VERSION"),
        uptime_s: state.started.elapsed().as_secs(),
        clock: state.settings.clock,
        now: state.pulse.clock(),
        ingest_token: state.settings.ingest_token.is_some(),
        events: EventTotals {
            accepted,
            duplicate,
            rejected,
            late,
        },
        journal: JournalHealth {
            recorder_running,
            replayed_events: state.replay.events,
            replayed_segments: state.replay.segments,
            torn_tail_bytes: state.replay.torn_tail.as_ref().map(|(_, n)| *n),
            bad_lines: state.replay.bad_lines.len(),
            lost_events: state.replay.lost_events(),
            gaps: state.replay.gaps.len(),
            future_segments: state.replay.future_segments.len(),
        },
        live: LiveHealth {
            clients: state.clients.len(),
            frames_sent: state.telemetry.frames_sent(),
            frames_dropped: state.telemetry.frames_dropped(),
        },
        rss_bytes: crate::telemetry::resident_bytes(),
    };
    let status = if recorder_running {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(health)).into_response()
}

/// `GET /metrics`: Prometheus text format, for any signed-in principal (a monitoring
/// system's API token).
pub async fn prometheus(State(state): State<AppState>, identity: Identity) -> Response {
    if let Err(refused) = identity.require_user() {
        return refused.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.telemetry.render(),
    )
        .into_response()
}

/// Any other `/api/...` path.
pub async fn not_found() -> ApiError {
    ApiError::NotFound(
        "no such endpoint; see GET /api/v1/metrics, /api/v1/queues, /api/v1/agents, \
         POST /api/v1/events, websockets /api/v1/live and /api/v1/ingest"
            .into(),
    )
}

/// A known path with the wrong method.
pub async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(ErrorBody {
            error: "method not allowed on this path",
        }),
    )
        .into_response()
}
