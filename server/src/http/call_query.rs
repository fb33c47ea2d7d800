//! The calls report, checked and computed (docs/HISTORY.md, "Calls"): what
//! `GET /api/v1/reports/calls` answers ([`super::reports`]) and its CSV and XLSX files
//! ([`super::report_files`]) write.
//!
//! Checked as the other reports: *read reports* at the scope (cut to the user's subtree: the
//! calls of the queues inside the scope), *read agent data* too for an agent's calls, *export*
//! for a file. The floor's records not stored yet (the open quarter-hour's) are merged in, so a
//! drill-down reaches the floor's "now".

use floorwatch_core::history::{CallDetail, ServiceLevelClass, VisitOutcome, visit_id_time};
use floorwatch_core::{Millis, Scope, ServiceLevelVariant};
use jiff::civil::Date;
use serde::Serialize;

use super::error::ApiError;
use super::identity::Identity;
use super::report_query::{calendar, checked_scope, parse_date, parse_scope, read_store};
use super::state::AppState;
use crate::accounts::mask_caller;
use crate::floor;
use crate::history::report;
use crate::history::store::calls::{CallFilter, Callback};

/// Calls per page when `limit` is not given.
const DEFAULT_LIMIT: usize = 100;
/// Most calls per page.
const MAX_LIMIT: usize = 500;
/// Most calls in one file: an XLSX sheet's rows less the header. A longer period is refused
/// with a 400 saying so, never cut short silently.
pub(crate) const MAX_FILE_ROWS: usize = 1_048_575;

/// A calls report's query, parsed.
#[derive(Debug)]
pub(crate) struct CallsQuery {
    scope: Scope,
    from: Option<Date>,
    to: Option<Date>,
    window: (Option<Millis>, Option<Millis>),
    outcomes: Vec<VisitOutcome>,
    service_level: Option<ServiceLevelClass>,
    callback: Option<bool>,
    after: Option<(Millis, String)>,
    limit: Option<usize>,
}

impl CallsQuery {
    /// Parses the query string's pairs (`outcome` may repeat or be a comma list); a 400 names
    /// what is wrong.
    pub(crate) fn parse(pairs: Vec<(String, String)>) -> Result<CallsQuery, ApiError> {
        let bad = |text: String| ApiError::BadRequest(text);
        let mut q = CallsQuery {
            scope: Scope::Centre,
            from: None,
            to: None,
            window: (None, None),
            outcomes: Vec::new(),
            service_level: None,
            callback: None,
            after: None,
            limit: None,
        };
        let ms = |name: &str, v: &str| -> Result<Millis, ApiError> {
            v.parse()
                .map_err(|_| bad(format!("`{name}`: `{v}` is not a time in UTC milliseconds")))
        };
        for (key, value) in pairs {
            match key.as_str() {
                "scope" => q.scope = parse_scope(Some(&value))?,
                "from" => q.from = parse_date("from", Some(&value))?,
                "to" => q.to = parse_date("to", Some(&value))?,
                "start_ms" => q.window.0 = Some(ms("start_ms", &value)?),
                "end_ms" => q.window.1 = Some(ms("end_ms", &value)?),
                "outcome" => {
                    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                        let outcome = VisitOutcome::parse(name).ok_or_else(|| {
                            bad(format!(
                                "`outcome`: `{name}` is not one of answered, abandoned, \
                                 timed_out, transferred"
                            ))
                        })?;
                        if !q.outcomes.contains(&outcome) {
                            q.outcomes.push(outcome);
                        }
                    }
                }
                "service_level" => {
                    q.service_level = Some(match value.as_str() {
                        "missed" => ServiceLevelClass::Missed,
                        "met" => ServiceLevelClass::Met,
                        other => {
                            return Err(bad(format!(
                                "`service_level`: `{other}` is not missed or met"
                            )));
                        }
                    })
                }
                "callback" => {
                    q.callback = Some(match value.as_str() {
                        "done" => true,
                        "pending" => false,
                        other => {
                            return Err(bad(format!(
                                "`callback`: `{other}` is not pending or done"
                            )));
                        }
                    })
                }
                "after" => {
                    let at = visit_id_time(&value).ok_or_else(|| {
                        bad(format!(
                            "`after`: `{value}` is not a cursor (the `next` of a page)"
                        ))
                    })?;
                    q.after = Some((at, value));
                }
                "limit" => {
                    let n: usize = value
                        .parse()
                        .map_err(|_| bad(format!("`limit`: `{value}` is not a whole number")))?;
                    if !(1..=MAX_LIMIT).contains(&n) {
                        return Err(bad(format!("`limit` must be 1 to {MAX_LIMIT} (it is {n})")));
                    }
                    q.limit = Some(n);
                }
                other => {
                    return Err(bad(format!(
                        "unknown parameter `{other}`: the calls report takes scope, from, to, \
                         start_ms, end_ms, outcome, service_level, callback, after, limit"
                    )));
                }
            }
        }
        Ok(q)
    }
}

/// One visit as the report shows it: the caller number masked.
#[derive(Debug, Serialize)]
pub(crate) struct CallRow {
    pub(crate) id: String,
    pub(crate) call: String,
    pub(crate) queue: String,
    /// The queue's name as screens show it (the id when none is configured); files keep the
    /// id only.
    pub(crate) queue_name: String,
    pub(crate) entered_ms: Millis,
    pub(crate) entered_local: String,
    pub(crate) wait_ms: Millis,
    pub(crate) outcome: &'static str,
    pub(crate) outcome_ms: Millis,
    pub(crate) agent: Option<String>,
    /// The agent's name as screens show it, when the agent is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) agent_name: Option<String>,
    pub(crate) talk_ms: Option<Millis>,
    /// Beyond the shared contract: hold time once the talk ended (0 when the feed reported
    /// none; queue_log reports none).
    pub(crate) hold_ms: Option<Millis>,
    pub(crate) transferred: bool,
    pub(crate) caller: Option<String>,
    pub(crate) service_level: &'static str,
    pub(crate) callback: Option<Callback>,
}

/// The answer of `GET /api/v1/reports/calls`.
#[derive(Debug, Serialize)]
pub(crate) struct CallsReport {
    pub(crate) scope: Scope,
    pub(crate) from: Date,
    pub(crate) to: Date,
    pub(crate) total: u64,
    pub(crate) calls: Vec<CallRow>,
    pub(crate) next: Option<String>,
}

/// Checks and computes a calls report: one page, or for a file (`export`) every call of the
/// query (at most [`MAX_FILE_ROWS`]).
pub(crate) async fn calls_report(
    state: &AppState,
    identity: &Identity,
    query: CallsQuery,
    export: bool,
) -> Result<CallsReport, ApiError> {
    let scope = query.scope.clone();
    let settings = checked_scope(state, identity, &scope, false, export)?;
    let calendar = calendar(state)?;
    let span = window(&calendar, &query)?;
    let (queues, fresh) = {
        let floor = floor::lock(state.floor());
        let queues = match &scope {
            Scope::Centre | Scope::Agent(_) => None,
            Scope::Queue(q) => Some(vec![q.clone()]),
            _ => Some(
                floor
                    .queues()
                    .into_iter()
                    .filter(|q| floor.contains(&scope, &Scope::Queue(q.id.clone())) == Some(true))
                    .map(|q| q.id)
                    .collect(),
            ),
        };
        (queues, floor.calls_not_stored())
    };
    let variant: ServiceLevelVariant = settings.variant;
    let filter = CallFilter {
        span,
        queues,
        agent: match &scope {
            Scope::Agent(a) => Some(a.clone()),
            _ => None,
        },
        outcomes: query.outcomes.clone(),
        service_level: query.service_level.map(|class| (variant, class)),
        called_back: query.callback,
    };
    let limit = match (export, query.limit) {
        (_, Some(n)) => n,
        (true, None) => MAX_FILE_ROWS,
        (false, None) => DEFAULT_LIMIT,
    };
    let after = query.after.clone();
    let page = read_store(state, move |store| {
        store.calls(
            &filter,
            after.as_ref().map(|(ms, id)| (*ms, id.as_str())),
            limit,
            &fresh,
        )
    })
    .await?;
    if export && page.next.is_some() && query.limit.is_none() {
        return Err(ApiError::BadRequest(format!(
            "the query has {} calls, more than a file holds ({MAX_FILE_ROWS}): ask for a \
             shorter period",
            page.total
        )));
    }
    let day = |t: Millis| calendar.date_of(t).unwrap_or_default();
    let mut calls: Vec<CallRow> = page
        .calls
        .into_iter()
        .map(|(c, callback)| row(&calendar, variant, c, callback))
        .collect();
    {
        // Names for the page to read; the ids stay beside them.
        let floor = floor::lock(state.floor());
        for call in &mut calls {
            if let Some(name) = floor.name_of(&Scope::Queue(call.queue.clone())) {
                call.queue_name = name;
            }
            call.agent_name = call
                .agent
                .as_ref()
                .and_then(|a| floor.name_of(&Scope::Agent(a.clone())));
        }
    }
    Ok(CallsReport {
        from: query.from.unwrap_or_else(|| day(span.0)),
        to: query.to.or(query.from).unwrap_or_else(|| day(span.1 - 1)),
        scope,
        total: page.total,
        next: page.next,
        calls,
    })
}

/// The outcome window: the days `from`..`to`, cut to `[start_ms, end_ms)` when given.
fn window(
    calendar: &floorwatch_core::CentreCalendar,
    q: &CallsQuery,
) -> Result<(Millis, Millis), ApiError> {
    let days = match q.from {
        Some(from) => Some(
            report::period(calendar, from, q.to.unwrap_or(from)).map_err(ApiError::BadRequest)?,
        ),
        None if q.to.is_some() => {
            return Err(ApiError::BadRequest(
                "`to` needs `from` (YYYY-MM-DD)".into(),
            ));
        }
        None => None,
    };
    let span = match (days, q.window) {
        (Some(days), (None, None)) => days,
        (days, (Some(start), Some(end))) => {
            if start >= end {
                return Err(ApiError::BadRequest(format!(
                    "`start_ms` ({start}) must be before `end_ms` ({end})"
                )));
            }
            match days {
                Some((from, to)) => (start.max(from), end.min(to).max(start.max(from))),
                None => (start, end),
            }
        }
        (_, (Some(_), None)) | (_, (None, Some(_))) => {
            return Err(ApiError::BadRequest(
                "`start_ms` and `end_ms` go together (the drill-down window, UTC ms)".into(),
            ));
        }
        (None, (None, None)) => {
            return Err(ApiError::BadRequest(
                "`from` is required (YYYY-MM-DD), or `start_ms` and `end_ms`".into(),
            ));
        }
    };
    if span.1 - span.0 > report::MAX_DAYS * floorwatch_core::time::DAY_MS {
        return Err(ApiError::BadRequest(format!(
            "the window is longer than {} days",
            report::MAX_DAYS
        )));
    }
    Ok(span)
}

fn row(
    calendar: &floorwatch_core::CentreCalendar,
    variant: ServiceLevelVariant,
    c: CallDetail,
    callback: Option<Callback>,
) -> CallRow {
    CallRow {
        entered_local: jiff::Timestamp::from_millisecond(c.entered_ms)
            .map(|ts| {
                ts.to_zoned(calendar.time_zone().clone())
                    .strftime("%Y-%m-%dT%H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default(),
        service_level: c.service_level(variant).as_str(),
        caller: c.caller.as_deref().map(mask_caller),
        outcome: c.outcome.as_str(),
        id: c.id,
        call: c.call,
        queue_name: c.queue.clone(),
        queue: c.queue,
        agent_name: None,
        entered_ms: c.entered_ms,
        wait_ms: c.wait_ms,
        outcome_ms: c.outcome_ms,
        agent: c.agent,
        talk_ms: c.talk_ms,
        hold_ms: c.hold_ms,
        transferred: c.transferred,
        callback,
    }
}
