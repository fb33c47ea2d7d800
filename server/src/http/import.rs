//! `POST /api/v1/import/queue-log`: an Asterisk queue_log text (a day's file, or any part of
//! one) read at once by `floorwatch_core::queue_log::QueueLogReader` and recorded like ingest
//! (journaled before it counts; the ingest token is required as for `POST /api/v1/events`).
//!
//! The reply says, by line number, which lines counted, which were all seen before, and which
//! were refused and why:
//!
//! ```json
//! {"lines": 93, "events": 160, "accepted": 158, "duplicate": 2, "rejected": 1,
//!  "accepted_lines": [[1, 40], [42, 92]], "duplicate_lines": [[93, 93]],
//!  "errors": [{"line": 41, "reason": "unknown event `FROBNICATE`"}]}
//! ```
//!
//! `lines` counts the non-blank lines; `accepted`, `duplicate` count events; `rejected` counts
//! lines. A line that reads fine but says nothing countable (`QUEUESTART`) is among the
//! accepted lines. Event ids depend only on a line's text, so importing a file twice, or a file
//! a `queue-log-file` source already followed, counts each line once. `?source=NAME` names the
//! events' source `queue-log:NAME` [default: `queue-log:import`].

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use floorwatch_core::Event;
use floorwatch_core::queue_log::QueueLogReader;
use floorwatch_core::wire::IngestLineError;
use serde::{Deserialize, Serialize};

use super::edge;
use super::error::{ApiError, ApiQuery};
use super::identity::Identity;
use super::state::AppState;
use crate::telemetry::EventOutcome;

/// At most this many refused lines are listed; `rejected` counts them all.
const MAX_ERRORS: usize = 1_000;

/// The answer to an import.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct ImportReply {
    pub(crate) lines: u64,
    pub(crate) events: u64,
    pub(crate) accepted: u64,
    pub(crate) duplicate: u64,
    pub(crate) rejected: u64,
    /// Inclusive ranges of lines that counted (or read fine with nothing to count).
    pub(crate) accepted_lines: Vec<[u64; 2]>,
    /// Inclusive ranges of lines whose events had all been recorded before.
    pub(crate) duplicate_lines: Vec<[u64; 2]>,
    pub(crate) errors: Vec<IngestLineError>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ImportParams {
    source: Option<String>,
}

/// `POST /api/v1/import/queue-log`: with `Content-Type: text/x-queue-log` (or
/// `application/octet-stream`), never `text/plain`, which another site's page could send
/// ([`super::edge`]).
pub(crate) async fn queue_log(
    State(state): State<AppState>,
    identity: Identity,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<ImportParams>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ImportReply>, ApiError> {
    edge::require_own_origin(&headers, state.settings().tls.is_some())?;
    edge::require_content_type(&headers, edge::QUEUE_LOG_TYPES)?;
    identity.require_ingest()?;
    let body = body.map_err(ApiError::from_body_rejection)?;
    let source = match params.source {
        Some(name) if name.is_empty() || name.len() > 200 => {
            return Err(ApiError::BadRequest(
                "`source` must be 1 to 200 bytes".into(),
            ));
        }
        Some(name) if floorwatch_core::event::control_character(&name).is_some() => {
            return Err(ApiError::BadRequest(
                "`source` has a control or text-direction character".into(),
            ));
        }
        Some(name) => format!("queue-log:{name}"),
        None => "queue-log:import".to_string(),
    };
    let read = read_lines(&source, &body);
    state
        .telemetry()
        .count_events(&source, EventOutcome::Rejected, read.rejected);

    // One batch per line, all queued at once: the recorder writes them under one sync (group
    // commit) and answers each, which says line by line what was new.
    let recorder = state.recorder().clone();
    let answers = futures_util::future::join_all(read.batches.into_iter().map(|(line, events)| {
        let recorder = recorder.clone();
        async move { (line, recorder.record(events).await) }
    }))
    .await;

    let mut reply = ImportReply {
        lines: read.lines,
        events: read.events,
        rejected: read.rejected,
        errors: read.errors,
        ..ImportReply::default()
    };
    let mut accepted_lines = read.quiet_lines;
    let mut duplicate_lines = Vec::new();
    for (line, answer) in answers {
        let recorded = answer.map_err(ApiError::from)?;
        reply.accepted += recorded.accepted;
        reply.duplicate += recorded.duplicate;
        if let Some((_, why)) = recorded.refused.first() {
            // Too far ahead of the clock (docs/EVENTS.md, "Time"): the line is refused.
            reply.rejected += 1;
            if reply.errors.len() < MAX_ERRORS {
                reply.errors.push(IngestLineError {
                    line,
                    reason: why.to_string(),
                });
            }
        } else if recorded.accepted > 0 {
            accepted_lines.push(line);
        } else {
            duplicate_lines.push(line);
        }
    }
    reply.errors.sort_by_key(|e| e.line);
    accepted_lines.sort_unstable();
    reply.accepted_lines = ranges(&accepted_lines);
    reply.duplicate_lines = ranges(&duplicate_lines);
    tracing::info!(
        %source,
        lines = reply.lines,
        accepted = reply.accepted,
        duplicate = reply.duplicate,
        rejected = reply.rejected,
        "queue_log imported"
    );
    Ok(Json(reply))
}

/// A body read line by line.
#[derive(Debug, Default)]
struct Read {
    lines: u64,
    events: u64,
    rejected: u64,
    /// Each line's events, for lines that gave some.
    batches: Vec<(u64, Vec<Event>)>,
    /// Lines read fine that give no event.
    quiet_lines: Vec<u64>,
    errors: Vec<IngestLineError>,
}

fn read_lines(source: &str, body: &[u8]) -> Read {
    let mut reader = QueueLogReader::new(source);
    let mut read = Read::default();
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        let number = i as u64 + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        read.lines += 1;
        let result = match std::str::from_utf8(line) {
            Ok(text) => reader
                .read_line(number, text)
                .map_err(|e| e.reason.to_string()),
            Err(e) => Err(format!("not UTF-8: {e}")),
        };
        match result {
            Ok(events) if events.is_empty() => read.quiet_lines.push(number),
            Ok(events) => {
                read.events += events.len() as u64;
                read.batches.push((number, events));
            }
            Err(reason) => {
                read.rejected += 1;
                if read.errors.len() < MAX_ERRORS {
                    read.errors.push(IngestLineError {
                        line: number,
                        reason,
                    });
                }
            }
        }
    }
    read
}

/// Sorted line numbers as inclusive ranges: `1 2 3 5` → `[1, 3] [5, 5]`.
fn ranges(lines: &[u64]) -> Vec<[u64; 2]> {
    let mut out: Vec<[u64; 2]> = Vec::new();
    for &line in lines {
        match out.last_mut() {
            Some(last) if last[1] + 1 == line => last[1] = line,
            _ => out.push([line, line]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_numbered_and_refused_with_their_reason() {
        let body = b"1710429900|NONE|NONE|NONE|QUEUESTART|\n\n\
            1710430200|c1|billing|NONE|ENTERQUEUE||13800000001|1\r\n\
            1710430203|c1|billing|NONE|FROBNICATE|1\n\
            \xff\xfe\n\
            1710430210|c1|billing|SIP/1001|CONNECT|10|x|2\n";
        let read = read_lines("queue-log:test", body);
        assert_eq!(read.lines, 5);
        assert_eq!(read.quiet_lines, [1]);
        let lines: Vec<u64> = read.batches.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [3, 6]);
        assert_eq!(read.rejected, 2);
        assert_eq!(read.errors[0].line, 4);
        assert!(
            read.errors[0].reason.contains("FROBNICATE"),
            "{:?}",
            read.errors
        );
        assert_eq!(read.errors[1].line, 5);
        assert!(read.errors[1].reason.contains("UTF-8"));
        assert!(
            read.events >= 3,
            "entry, then the static member's login and the answer"
        );
    }

    #[test]
    fn line_numbers_fold_into_ranges() {
        assert_eq!(ranges(&[1, 2, 3, 5, 7, 8]), [[1, 3], [5, 5], [7, 8]]);
        assert!(ranges(&[]).is_empty());
    }
}
