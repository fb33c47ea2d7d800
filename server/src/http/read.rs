//! The HTTP read API: figures, queues, agents, health and Prometheus metrics.
//!
//! Every read is checked with [`Identity::require`] against the floor as it is now
//! (docs/SECURITY.md, "What each role may do"): figures need `ReadFigures` at the scope
//! (`ReadAgents` for an agent), lists are cut to the caller's subtree. `/healthz` is open and
//! names nothing personal; `/metrics` needs any signed-in principal.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use floorwatch_core::{AgentView, Figures, QueueView, Scope};
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ApiQuery};
use super::identity::Identity;
use super::params::ScopeWindowQuery;
use super::state::AppState;
use crate::floor;
use crate::horizon::ClockMode;
use crate::permission::Permission;

/// `GET /api/v1/metrics?scope=SCOPE&window=WINDOW`: the figures of docs/METRICS.md for one
/// scope (default `centre`) over one window (default `today`).
pub(crate) async fn metrics(
    State(state): State<AppState>,
    identity: Identity,
    ApiQuery(query): ApiQuery<ScopeWindowQuery>,
) -> Result<Json<Reading>, ApiError> {
    let (scope, window) = query.resolve()?;
    let floor = floor::lock(state.floor());
    identity.require(Identity::read_permission(&scope), &scope, &floor)?;
    let figures = floor.figures(&scope, window)?;
    Ok(Json(Reading {
        figures,
        stream_seq: floor.stream_position(),
    }))
}

/// Figures, and in cluster mode the stream sequence they reflect (docs/CLUSTER.md): two
/// nodes at the same sequence show the same figures.
#[derive(Debug, Serialize)]
pub(crate) struct Reading {
    #[serde(flatten)]
    figures: Figures,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_seq: Option<u64>,
}

/// `GET /api/v1/queues`: every queue, configured or seen, with its settings, that lies in the
/// caller's subtree (a team lead: the queues their team owns).
pub(crate) async fn queues(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Json<Vec<QueueView>>, ApiError> {
    let floor = floor::lock(state.floor());
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
pub(crate) struct AgentsQuery {
    team: Option<String>,
}

/// `GET /api/v1/agents?team=ID`: the agents of one team, or without `team` every agent of
/// the caller's subtree (the whole floor for a centre-wide user).
pub(crate) async fn agents(
    State(state): State<AppState>,
    identity: Identity,
    ApiQuery(query): ApiQuery<AgentsQuery>,
) -> Result<Json<Vec<AgentView>>, ApiError> {
    let scope = match query.team {
        Some(team) if team.is_empty() => {
            return Err(ApiError::BadRequest("`team` must not be empty".into()));
        }
        Some(team) => Scope::Team(team),
        None => identity.home(),
    };
    let floor = floor::lock(state.floor());
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
    /// Cluster mode: the node's name, its stream position and the stream's last sequence,
    /// and what its start replayed (docs/CLUSTER.md, "Health"). Absent on a single node.
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<crate::cluster::status::NodeHealth>,
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
    /// The start resumed from a checkpoint holding the events before this journal position
    /// and replayed only those after it; `null`: it replayed the whole journal
    /// (docs/ARCHITECTURE.md, "Checkpoints").
    from_checkpoint: Option<u64>,
}

#[derive(Debug, Serialize)]
struct LiveHealth {
    clients: usize,
    frames_sent: u64,
    frames_dropped: u64,
}

/// `GET /healthz`: 200 while the recorder runs, 503 once it stopped (ingest would fail). Open to
/// anyone (load balancers, monitoring): counts and states only, nothing personal.
pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    let (accepted, duplicate, rejected, late) = state.telemetry().event_totals();
    let recorder_running = state.recorder_running();
    let health = Health {
        status: if recorder_running { "ok" } else { "degraded" },
        version: env!("CARGO_PKG_VERSION"),
        uptime_s: state.started().elapsed().as_secs(),
        clock: state.settings().clock,
        now: state.pulse().clock(),
        ingest_token: state.settings().ingest_token.is_some(),
        events: EventTotals {
            accepted,
            duplicate,
            rejected,
            late,
        },
        journal: JournalHealth {
            recorder_running,
            replayed_events: state.replay().events,
            replayed_segments: state.replay().segments,
            torn_tail_bytes: state.replay().torn_tail_bytes(),
            bad_lines: state.replay().bad_lines.len(),
            lost_events: state.replay().lost_events(),
            gaps: state.replay().gaps.len(),
            future_segments: state.replay().future_segments.len(),
            from_checkpoint: state.replay().from_checkpoint,
        },
        live: LiveHealth {
            clients: state.clients().len(),
            frames_sent: state.telemetry().frames_sent(),
            frames_dropped: state.telemetry().frames_dropped(),
        },
        rss_bytes: crate::telemetry::resident_bytes(),
        cluster: state.cluster().map(|c| c.health()),
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
pub(crate) async fn prometheus(State(state): State<AppState>, identity: Identity) -> Response {
    if let Err(refused) = identity.require_user() {
        return refused.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.telemetry().render(),
    )
        .into_response()
}
