//! History's reports, checked and computed (docs/HISTORY.md, "Reports"): what the report
//! handlers ([`super::reports`]) answer as JSON and the file handlers
//! ([`super::report_files`]) write as CSV or XLSX.
//!
//! Checked as the live figures are ([`Identity::require`]): *read reports* at the scope, and
//! *read agent data* too for an agent; a wall display reads no report. The store is read on a
//! blocking thread with its own read-only connection, so a month's report never holds the
//! floor's lock nor an async worker.

use floorwatch_core::history::{IntervalFigures, IntervalRow};
use floorwatch_core::{CentreCalendar, Scope, ServiceLevelSettings};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::identity::Identity;
use super::state::AppState;
use crate::floor;
use crate::history::report::{self, Against, Granularity, ReportRow};
use crate::history::store::sign_off::SignOffView;
use crate::history::store::{Store, StoreError};
use crate::permission::Permission;

/// `?scope=S&from=YYYY-MM-DD&to=YYYY-MM-DD&interval=15m|30m|60m|day|week|month`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IntervalsQuery {
    scope: Option<String>,
    from: Option<String>,
    to: Option<String>,
    interval: Option<String>,
}

/// The answer: one row per interval of the period, oldest first.
#[derive(Debug, Serialize)]
pub(crate) struct IntervalsReport {
    pub(crate) scope: Scope,
    pub(crate) interval: &'static str,
    pub(crate) from: Date,
    pub(crate) to: Date,
    pub(crate) rows: Vec<ReportRow>,
    /// The days of the period signed off for the scope (or a scope above it): a report marks
    /// sealed and amended days.
    pub(crate) signed_off: Vec<SignOffView>,
}

/// The scope of a report query (default `centre`), its settings checked: *read reports* at it,
/// *read agent data* too for an agent (or for a per-agent report, `agents`), and known to the
/// floor; *export* too for a download. Returns the service-level settings its figures are judged by.
pub(crate) fn checked_scope(
    state: &AppState,
    identity: &Identity,
    scope: &Scope,
    agents: bool,
    export: bool,
) -> Result<ServiceLevelSettings, ApiError> {
    let floor = floor::lock(state.floor());
    identity.require(Permission::ReadReports, scope, &floor)?;
    if agents || matches!(scope, Scope::Agent(_)) {
        identity.require(Permission::ReadAgents, scope, &floor)?;
    }
    if export {
        identity.require(Permission::Export, scope, &floor)?;
    }
    if floor.contains(scope, scope).is_none() {
        return Err(ApiError::NotFound(format!("unknown scope `{scope}`")));
    }
    if state.settings().history_days == 0 {
        return Err(ApiError::NotFound(
            "history is off on this server (--history-days 0)".into(),
        ));
    }
    Ok(match scope {
        Scope::Queue(id) => floor
            .queues()
            .into_iter()
            .find(|q| &q.id == id)
            .map(|q| q.settings),
        _ => None,
    }
    .unwrap_or(state.settings().organisation.centre.service_level))
}

pub(crate) fn parse_scope(text: Option<&str>) -> Result<Scope, ApiError> {
    match text {
        None => Ok(Scope::Centre),
        Some(text) => text
            .parse()
            .map_err(|e| ApiError::BadRequest(format!("`scope`: {e}"))),
    }
}

pub(crate) fn parse_date(name: &str, text: Option<&str>) -> Result<Option<Date>, ApiError> {
    text.map(|t| {
        t.parse::<Date>().map_err(|_| {
            ApiError::BadRequest(format!("`{name}`: `{t}` is not a date (YYYY-MM-DD)"))
        })
    })
    .transpose()
}

fn required_date(name: &str, text: Option<&str>) -> Result<Date, ApiError> {
    parse_date(name, text)?
        .ok_or_else(|| ApiError::BadRequest(format!("`{name}` is required (YYYY-MM-DD)")))
}

/// `interval`, 15 minutes when not given.
fn parse_granularity(text: Option<&str>) -> Result<Granularity, ApiError> {
    text.unwrap_or("15m")
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("`interval`: {e}")))
}

pub(crate) fn calendar(state: &AppState) -> Result<CentreCalendar, ApiError> {
    state
        .settings()
        .organisation
        .calendar()
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// The closes the floor has sent the history thread, to wait on with [`written`] before a read
/// or a sign-off (`None` while history is off).
pub(crate) fn queued_closes(state: &AppState) -> Option<crate::history::writer::HistorySender> {
    crate::floor::lock(state.floor()).history_sender()
}

/// Waits (blocking: off the async runtime) until the history thread has written the closes
/// queued in `history` ([`queued_closes`]): it gathers a replay's closes before writing them,
/// and a report or a sign-off must find every close the floor made (docs/HISTORY.md, "The
/// store"). A thread that takes too long is logged; the caller goes on with the store as it is.
pub(crate) fn written(history: Option<crate::history::writer::HistorySender>) {
    if let Some(history) = history
        && !history.flush()
    {
        tracing::warn!(
            "history thread did not write its queued closes in time; reading the store as it is"
        );
    }
}

/// Runs `read` on the store in a blocking thread, once the history thread has written every
/// close the floor made before the request (it gathers a replay's closes before writing them:
/// docs/HISTORY.md, "The store"); a store that cannot be read is a 503 (and logged with why).
pub(crate) async fn read_store<T: Send + 'static>(
    state: &AppState,
    read: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let data_dir = state.settings().data_dir.path().to_path_buf();
    let history = queued_closes(state);
    tokio::task::spawn_blocking(move || {
        written(history);
        read(&Store::open_read_only(&data_dir)?)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the report failed: {e}")))?
    .map_err(|e| {
        tracing::error!(error = %e, "history store could not be read");
        ApiError::Unavailable("the history store could not be read; see the server's log".into())
    })
}

/// An interval report, computed: what the JSON answer and the exports carry.
pub(crate) struct Intervals {
    pub(crate) scope: Scope,
    pub(crate) granularity: Granularity,
    pub(crate) from: Date,
    pub(crate) to: Date,
    pub(crate) rows: Vec<ReportRow>,
    pub(crate) signed_off: Vec<SignOffView>,
}

/// Checks and computes an interval report (`export`: the caller must hold *export* too).
pub(crate) async fn interval_report(
    state: &AppState,
    identity: &Identity,
    query: IntervalsQuery,
    export: bool,
) -> Result<Intervals, ApiError> {
    let scope = parse_scope(query.scope.as_deref())?;
    let from = required_date("from", query.from.as_deref())?;
    let to = parse_date("to", query.to.as_deref())?.unwrap_or(from);
    let granularity = parse_granularity(query.interval.as_deref())?;
    let settings = checked_scope(state, identity, &scope, false, export)?;
    let calendar = calendar(state)?;
    let span = report::period(&calendar, from, to).map_err(ApiError::BadRequest)?;
    let of = scope.clone();
    let (rows, signed_off) = read_store(state, move |store| {
        let key = of.to_string();
        let quarters = store.rows(&key, span)?;
        let intervals = report::intervals(&calendar, span, granularity);
        let rows = report::roll_up(&calendar, &of, &settings, &quarters, &intervals);
        Ok((rows, store.sign_offs(&key, span)?))
    })
    .await?;
    Ok(Intervals {
        scope,
        granularity,
        from,
        to,
        rows,
        signed_off,
    })
}

/// `?scope=S&date=YYYY-MM-DD&against=previous-day|same-weekday-last-week|same-weekday-4-weeks-avg&interval=15m|30m|60m`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompareQuery {
    scope: Option<String>,
    date: Option<String>,
    against: Option<String>,
    interval: Option<String>,
}

/// A day and what it is compared with, interval by interval of its local clock.
#[derive(Debug, Serialize)]
pub(crate) struct CompareReport {
    pub(crate) scope: Scope,
    pub(crate) interval: &'static str,
    pub(crate) date: Date,
    pub(crate) against: &'static str,
    /// The days pooled into `against_rows` (counts there are their sums).
    pub(crate) against_days: Vec<Date>,
    pub(crate) rows: Vec<ReportRow>,
    /// Aligned with `rows` by local time of day.
    pub(crate) against_rows: Vec<ReportRow>,
}

/// Checks and computes a comparison (`export`: the caller must hold *export* too).
pub(crate) async fn compare_report(
    state: &AppState,
    identity: &Identity,
    query: CompareQuery,
    export: bool,
) -> Result<CompareReport, ApiError> {
    let scope = parse_scope(query.scope.as_deref())?;
    let date = required_date("date", query.date.as_deref())?;
    let against: Against = query
        .against
        .as_deref()
        .unwrap_or("same-weekday-last-week")
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("`against`: {e}")))?;
    let granularity = parse_granularity(query.interval.as_deref())?;
    if !matches!(granularity, Granularity::Minutes(_)) {
        return Err(ApiError::BadRequest(
            "`interval`: a day is compared in 15m, 30m or 60m".into(),
        ));
    }
    let settings = checked_scope(state, identity, &scope, false, export)?;
    let calendar = calendar(state)?;
    let span = report::period(&calendar, date, date).map_err(ApiError::BadRequest)?;
    let days = against.days(date);
    let spans = days
        .iter()
        .map(|d| report::period(&calendar, *d, *d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ApiError::BadRequest)?;
    let of = scope.clone();
    let (rows, against_rows) = read_store(state, move |store| {
        let key = of.to_string();
        let intervals = report::intervals(&calendar, span, granularity);
        let quarters = store.rows(&key, span)?;
        let rows = report::roll_up(&calendar, &of, &settings, &quarters, &intervals);
        let others = spans
            .iter()
            .map(|s| store.rows(&key, *s))
            .collect::<Result<Vec<_>, _>>()?;
        let against = report::pooled_by_time_of_day(&calendar, &of, &settings, &others, &intervals);
        Ok((rows, against))
    })
    .await?;
    Ok(CompareReport {
        scope,
        interval: granularity.name(),
        date,
        against: against.name(),
        against_days: days,
        rows,
        against_rows,
    })
}

/// `?scope=S&from=YYYY-MM-DD&to=YYYY-MM-DD`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgentsQuery {
    scope: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// One agent over a period.
#[derive(Debug, Serialize)]
pub(crate) struct AgentReportRow {
    pub(crate) agent: String,
    pub(crate) name: String,
    pub(crate) team: Option<String>,
    #[serde(flatten)]
    pub(crate) figures: IntervalFigures,
}

/// Every agent of a subtree over a period.
#[derive(Debug, Serialize)]
pub(crate) struct AgentsReport {
    pub(crate) scope: Scope,
    pub(crate) from: Date,
    pub(crate) to: Date,
    pub(crate) rows: Vec<AgentReportRow>,
}

/// Checks and computes a per-agent report (`export`: the caller must hold *export* too).
pub(crate) async fn agent_report(
    state: &AppState,
    identity: &Identity,
    query: AgentsQuery,
    export: bool,
) -> Result<AgentsReport, ApiError> {
    let scope = parse_scope(query.scope.as_deref())?;
    let from = required_date("from", query.from.as_deref())?;
    let to = parse_date("to", query.to.as_deref())?.unwrap_or(from);
    let settings = checked_scope(state, identity, &scope, true, export)?;
    let agents = floor::lock(state.floor())
        .agents_in(&scope)
        .map_err(ApiError::from)?;
    let calendar = calendar(state)?;
    let span = report::period(&calendar, from, to).map_err(ApiError::BadRequest)?;
    let rows = read_store(state, move |store| {
        agents
            .into_iter()
            .map(|a| {
                let scope = Scope::Agent(a.id.clone());
                let mut sum = IntervalRow::default();
                // Whole days and no percentile: each day's row, without its samples (a month
                // is ~30 rows an agent instead of ~1,400 quarter-hours).
                for (_, row) in store.day_rows_without_samples(&scope.to_string(), span)? {
                    sum.merge(&row);
                }
                Ok(AgentReportRow {
                    figures: sum.figures(scope, span, &settings),
                    agent: a.id,
                    name: a.name,
                    team: a.team,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()
    })
    .await?;
    Ok(AgentsReport {
        scope,
        from,
        to,
        rows,
    })
}
