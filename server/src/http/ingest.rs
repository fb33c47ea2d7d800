//! Ingest: `POST /api/v1/events` (an NDJSON body or a JSON array) and the websocket
//! `/api/v1/ingest` (one event, an array or NDJSON per message, one [`IngestReply`] back).
//!
//! Each line is validated on its own: bad lines are listed with their line number and reason
//! while the good lines of the same request are recorded. Parsing happens on the request's own
//! task, so a flood of bad input costs its sender, not the other sources.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::http::HeaderMap;
use axum::response::Response;
use floorwatch_core::Event;
use floorwatch_core::wire::{IngestLineError, IngestReply};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use std::collections::{BTreeMap, VecDeque};

use serde::Deserialize;
use serde_json::value::RawValue;

use super::edge;
use super::error::ApiError;
use super::identity::Identity;
use super::state::AppState;
use crate::event_lines::EventLines;
use crate::recorder::{Lane, Pending, RecordError, Recorded};
use crate::telemetry::EventOutcome;

/// Line errors listed in one reply; `rejected` counts them all. A body of garbage costs its
/// sender a reply of some tens of kilobytes, never a multiple of the body.
pub(crate) const MAX_LISTED_ERRORS: usize = 100;
/// Longest reason listed for one line, bytes (a reason may quote the line's own text).
const MAX_REASON_BYTES: usize = 300;

/// The valid events of a request, and why the others were refused.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub(crate) events: Vec<Event>,
    /// The journal line of each event: the bytes received when already canonical (issue 15,
    /// item 4), made here, on the request's task, not on the recorder's one thread.
    journal_lines: EventLines,
    /// The line (or array position) of each event, for the errors the recorder adds.
    lines: Vec<u64>,
    /// The first [`MAX_LISTED_ERRORS`] refused lines, in line order.
    pub(crate) errors: Vec<IngestLineError>,
    /// Every refused line, listed or not.
    pub(crate) rejected: u64,
    /// Refused lines by `source`, where it could be read ("unknown" otherwise), for the
    /// per-source counts.
    pub(crate) refused_sources: BTreeMap<String, u64>,
}

/// Why a whole body was refused (a JSON array that does not parse as one).
#[derive(Debug, thiserror::Error)]
#[error("the body starts with `[` but is not a JSON array of events: {0}")]
pub(crate) struct BodyError(String);

/// Parses a body: a JSON array if its first non-blank byte is `[`, NDJSON otherwise (which
/// includes a single event object).
pub(crate) fn parse_body(body: &Bytes) -> Result<Parsed, BodyError> {
    parse_body_known(body, None)
}

/// [`parse_body`] of a body known to be UTF-8 already: `text` is `body` as a `str` (a
/// websocket text message, which the websocket layer validated), so its lines are not
/// validated a second time (issue 15, item 1).
fn parse_body_known(body: &Bytes, text: Option<&str>) -> Result<Parsed, BodyError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        parse_array(body)
    } else {
        Ok(parse_ndjson(body, text))
    }
}

impl Parsed {
    fn of(body: &Bytes) -> Parsed {
        Parsed {
            journal_lines: EventLines::new(body.clone()),
            ..Parsed::default()
        }
    }

    /// Room for `lines` more events.
    fn reserve(&mut self, lines: usize) {
        self.events.reserve(lines);
        self.lines.reserve(lines);
        self.journal_lines.reserve(lines);
    }
}

fn parse_array(body: &Bytes) -> Result<Parsed, BodyError> {
    let items: Vec<&RawValue> =
        serde_json::from_slice(body).map_err(|e| BodyError(e.to_string()))?;
    let mut parsed = Parsed::of(body);
    for (i, raw) in items.iter().enumerate() {
        parsed.line(
            i as u64 + 1,
            raw.get(),
            offset_in(body, raw.get().as_bytes()),
        );
    }
    Ok(parsed)
}

/// Where `part`, a slice of `body`, starts in it.
fn offset_in(body: &[u8], part: &[u8]) -> usize {
    (part.as_ptr() as usize).wrapping_sub(body.as_ptr() as usize)
}

/// Fewer bytes than the shortest line that can hold an event (every type has a field:
/// `{"v":1,"id":"a","source":"s","seq":1,"ts":1,"type":"agent_logout","agent":"a"}` is 78, and
/// a time stamp of this century has 13 digits): a
/// body cannot carry more events than its length over this.
const MIN_EVENT_LINE_BYTES: usize = 64;

/// How many events an NDJSON body can hold at most: its lines, but never more than its length
/// allows, so a body of blank lines does not reserve room for millions of events.
fn room_for_events(body: &[u8]) -> usize {
    let lines = body.iter().filter(|&&b| b == b'\n').count() + 1;
    lines.min(body.len() / MIN_EVENT_LINE_BYTES + 1)
}

fn parse_ndjson(body: &Bytes, text: Option<&str>) -> Parsed {
    let mut parsed = Parsed::of(body);
    // Room for every line at once: a replay's batch is thousands of events, and growing the
    // lists by doubling copied them and touched fresh pages at each step (the workers'
    // `realloc` and page faults; BENCHMARKS.md, "Eighth pass: history").
    parsed.reserve(room_for_events(body));
    // The whole body as text, validated once (or not at all: a websocket's text message) and
    // cut at its newlines by `memchr`. A body with a line that is not UTF-8 goes line by line,
    // so that the line is refused by number and the others are taken.
    let text = text
        .filter(|t| std::ptr::eq(t.as_bytes(), body.as_ref()))
        .or_else(|| std::str::from_utf8(body).ok());
    if let Some(text) = text {
        for (i, line) in text.split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.bytes().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            parsed.line(i as u64 + 1, line, offset_in(body, line.as_bytes()));
        }
        return parsed;
    }
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        let line_no = i as u64 + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match std::str::from_utf8(line) {
            Ok(text) => parsed.line(line_no, text, offset_in(body, line)),
            Err(e) => parsed.refuse(line_no, format!("not UTF-8: {e}"), None),
        }
    }
    parsed
}

impl Parsed {
    /// Takes line `line`, `text`, which starts at `at` in the body.
    fn line(&mut self, line: u64, text: &str, at: usize) {
        match Event::from_json_canonical(text) {
            Ok((event, canonical)) => {
                if canonical {
                    self.journal_lines.push_canonical(&event, at, text.len());
                } else {
                    self.journal_lines.push(&event, at, text.len());
                }
                self.events.push(event);
                self.lines.push(line);
            }
            Err(e) => self.refuse(line, e.to_string(), source_of(text)),
        }
    }

    fn refuse(&mut self, line: u64, reason: String, source: Option<String>) {
        self.rejected += 1;
        if self.errors.len() < MAX_LISTED_ERRORS {
            self.errors.push(IngestLineError {
                line,
                reason: clip(reason),
            });
        }
        *self
            .refused_sources
            .entry(source.unwrap_or_else(|| "unknown".into()))
            .or_default() += 1;
    }
}

/// `reason` cut to [`MAX_REASON_BYTES`] on a character boundary.
fn clip(mut reason: String) -> String {
    if reason.len() > MAX_REASON_BYTES {
        let mut end = MAX_REASON_BYTES;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
        reason.push('…');
    }
    reason
}

/// The `source` of a line that failed validation, if it has a readable one.
fn source_of(text: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct SourceOnly {
        source: Option<String>,
    }
    serde_json::from_str::<SourceOnly>(text)
        .ok()
        .and_then(|s| s.source)
        .filter(|s| !s.is_empty() && s.len() <= floorwatch_core::event::MAX_FIELD_LEN)
}

/// Records the valid events of `parsed` and builds the reply: the lines refused here and the
/// events the recorder refused (too far ahead), in line order, the first
/// [`MAX_LISTED_ERRORS`] listed.
async fn ingest(state: &AppState, parsed: Parsed) -> Result<IngestReply, RecordError> {
    let (pending, rest) = submit(state, parsed, None).await?;
    reply(rest, pending.answer().await?)
}

/// What a reply needs of a [`Parsed`] body once its events went to the recorder.
struct Unanswered {
    lines: Vec<u64>,
    errors: Vec<IngestLineError>,
    rejected: u64,
}

/// Counts the refused lines and hands the valid events to the recorder, behind every batch
/// submitted before (on `lane`, if the sender has several in flight).
async fn submit(
    state: &AppState,
    parsed: Parsed,
    lane: Option<Lane>,
) -> Result<(Pending, Unanswered), RecordError> {
    for (source, n) in &parsed.refused_sources {
        state
            .telemetry()
            .count_events(source, EventOutcome::Rejected, *n);
    }
    let pending = state
        .recorder()
        .submit(parsed.events, Some(parsed.journal_lines), lane)
        .await?;
    let rest = Unanswered {
        lines: parsed.lines,
        errors: parsed.errors,
        rejected: parsed.rejected,
    };
    Ok((pending, rest))
}

/// The reply to a body once the recorder answered it.
fn reply(rest: Unanswered, recorded: Recorded) -> Result<IngestReply, RecordError> {
    let mut errors = rest.errors;
    let refused = recorded.refused.len() as u64;
    errors.extend(recorded.refused.into_iter().filter_map(|(i, why)| {
        Some(IngestLineError {
            line: *rest.lines.get(i)?,
            reason: why.to_string(),
        })
    }));
    errors.sort_by_key(|e| e.line);
    errors.truncate(MAX_LISTED_ERRORS);
    Ok(IngestReply {
        accepted: recorded.accepted,
        duplicate: recorded.duplicate,
        rejected: rest.rejected + refused,
        errors,
    })
}

/// `POST /api/v1/events`: only from a client that is not another site's page
/// ([`super::edge`]), with an NDJSON or JSON body.
pub(crate) async fn post_events(
    State(state): State<AppState>,
    identity: Identity,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IngestReply>, ApiError> {
    edge::require_own_origin(&headers, state.settings().tls.is_some())?;
    edge::require_content_type(&headers, edge::EVENT_TYPES)?;
    identity.require_ingest()?;
    let body = body.map_err(ApiError::from_body_rejection)?;
    let parsed = parse_body(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let reply = ingest(&state, parsed).await.map_err(ApiError::from)?;
    Ok(Json(reply))
}

/// `GET /api/v1/ingest` (websocket): each text or binary message is a body as for
/// `POST /api/v1/events`; each gets an [`IngestReply`] (or `{"error": ..., "status": ...}`,
/// the status `POST` would have answered) back, in order.
///
/// A sender may send the next messages before the replies: up to [`INGEST_WINDOW`] of them
/// (and [`INGEST_WINDOW_BYTES`]) are parsed and queued for the recorder while it records the
/// first, which is how a replay keeps both cores busy. They are recorded in the order sent; if
/// the recorder refuses one (the journal cannot be written), it refuses every later one of the
/// connection too, answers each, and the server closes the connection: the sender connects
/// again and resends from the first refused message, and its events still land in order.
/// A cluster node takes one message at a time: the stream's publisher answers a group's
/// messages independently, so a refused one could be followed by a stored one.
/// A websocket is not subject to CORS at all: a foreign `Origin` is refused here too.
pub(crate) async fn ingest_socket(
    State(state): State<AppState>,
    identity: Identity,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    edge::require_own_origin(&headers, state.settings().tls.is_some())?;
    identity.require_ingest()?;
    let max = state.settings().max_frame_bytes;
    Ok(upgrade
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| ingest_connection(state, socket)))
}

/// Most messages of one ingest connection parsed and queued ahead of their replies.
pub(crate) const INGEST_WINDOW: usize = 4;
/// Most bytes of messages queued ahead of their replies (one message is always taken): what
/// one connection can hold in memory is bounded whatever the sender does.
pub(crate) const INGEST_WINDOW_BYTES: usize = 8 << 20;

/// One message on its way through the recorder.
struct InFlight {
    bytes: usize,
    answer: BoxFuture<'static, Answer>,
}

/// A message's reply, and whether it was a refusal the sender must resend from.
struct Answer {
    text: String,
    refused: bool,
}

async fn ingest_connection(state: AppState, mut socket: WebSocket) {
    let mut shutdown = state.shutdown();
    let window = if state.cluster().is_some() {
        1
    } else {
        INGEST_WINDOW
    };
    let lane = Lane::default();
    let mut in_flight: VecDeque<InFlight> = VecDeque::new();
    let mut queued_bytes = 0;
    loop {
        let room = in_flight.is_empty()
            || (in_flight.len() < window && queued_bytes < INGEST_WINDOW_BYTES);
        tokio::select! {
            biased;
            () = shutdown.recv() => {
                // What is queued is recorded before the recorder stops: answer it first.
                if !answer_all(&mut socket, std::mem::take(&mut in_flight)).await {
                    return;
                }
                let _ = socket.send(Message::Close(Some(CloseFrame {
                    code: close_code::AWAY,
                    reason: "server shutting down".into(),
                }))).await;
                return;
            }
            answer = next_answer(&mut in_flight), if !in_flight.is_empty() => {
                let Some(answer) = answer else { continue };
                if let Some(done) = in_flight.pop_front() {
                    queued_bytes -= done.bytes;
                }
                if socket.send(Message::Text(answer.text.into())).await.is_err() {
                    return;
                }
                if answer.refused {
                    refuse_the_rest(socket, in_flight).await;
                    return;
                }
            }
            message = socket.next(), if room => {
                let (body, text) = match message {
                    Some(Ok(Message::Text(text))) => (Bytes::from(text.clone()), Some(text)),
                    Some(Ok(Message::Binary(bytes))) => (bytes, None),
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "ingest socket closed with an error");
                        return;
                    }
                };
                let bytes = body.len();
                let answer = take(&state, &body, text.as_ref().map(|t| t.as_str()), &lane).await;
                queued_bytes += bytes;
                in_flight.push_back(InFlight { bytes, answer });
            }
        }
    }
    // The sender closed: the batches it sent are still recorded; answer them if it listens.
    answer_all(&mut socket, in_flight).await;
}

/// Sends the answer of every message in flight, in order; false once the sender is gone.
async fn answer_all(socket: &mut WebSocket, in_flight: VecDeque<InFlight>) -> bool {
    for message in in_flight {
        let answer = message.answer.await;
        if socket
            .send(Message::Text(answer.text.into()))
            .await
            .is_err()
        {
            return false;
        }
    }
    true
}

/// The answer of the oldest message in flight (`None`: nothing is).
async fn next_answer(in_flight: &mut VecDeque<InFlight>) -> Option<Answer> {
    match in_flight.front_mut() {
        Some(first) => Some((&mut first.answer).await),
        None => None,
    }
}

/// Parses `body` and queues its events for the recorder; the future of its reply.
async fn take(
    state: &AppState,
    body: &Bytes,
    text: Option<&str>,
    lane: &Lane,
) -> BoxFuture<'static, Answer> {
    let parsed = match parse_body_known(body, text) {
        Ok(parsed) => parsed,
        // Refused whole as bad input: nothing of it can ever be accepted, so the order of what
        // is accepted is not at stake and the connection goes on.
        Err(e) => return ready(error_answer(&ApiError::BadRequest(e.to_string()), false)),
    };
    match submit(state, parsed, Some(lane.clone())).await {
        Err(e) => ready(error_answer(&ApiError::from(e), true)),
        Ok((pending, rest)) => Box::pin(async move {
            match pending
                .answer()
                .await
                .and_then(|recorded| reply(rest, recorded))
            {
                Ok(reply) => Answer {
                    text: serde_json::to_string(&reply).unwrap_or_default(),
                    refused: false,
                },
                Err(e) => error_answer(&ApiError::from(e), true),
            }
        }),
    }
}

fn ready(answer: Answer) -> BoxFuture<'static, Answer> {
    Box::pin(std::future::ready(answer))
}

fn error_answer(error: &ApiError, refused: bool) -> Answer {
    Answer {
        text: error.json_body(),
        refused,
    }
}

/// After a refused message: the messages queued behind it are answered (refused too, by their
/// lane), and the connection is closed, telling the sender to connect again and resend.
async fn refuse_the_rest(mut socket: WebSocket, in_flight: VecDeque<InFlight>) {
    if !answer_all(&mut socket, in_flight).await {
        return;
    }
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: close_code::AGAIN,
            reason: "a message was not recorded: connect again and resend from it".into(),
        })))
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"v":1,"id":"e1","source":"sim","seq":1,"ts":1700000000000,"type":"agent_login","agent":"a1"}"#;
    const GOOD2: &str = r#"{"v":1,"id":"e2","source":"sim","seq":2,"ts":1700000000001,"type":"agent_logout","agent":"a1"}"#;

    /// A body of blank lines reserves room for the events its length could hold, not one per
    /// line (16 MB of newlines would otherwise reserve room for 16 million events).
    #[test]
    fn room_is_reserved_for_no_more_events_than_the_body_can_hold() {
        let shortest = r#"{"v":1,"id":"a","source":"s","seq":1,"ts":1700000000000,"type":"agent_logout","agent":"a"}"#;
        assert!(shortest.len() >= MIN_EVENT_LINE_BYTES);
        let parsed = parse_body(&Bytes::from(shortest)).unwrap();
        assert_eq!(
            (parsed.events.len(), parsed.rejected),
            (1, 0),
            "{:?}",
            parsed.errors
        );
        let blank = vec![b'\n'; 1 << 20];
        assert_eq!(
            room_for_events(&blank),
            (1 << 20) / MIN_EVENT_LINE_BYTES + 1
        );
        let lines = format!("{GOOD}\n{GOOD2}\n");
        assert_eq!(room_for_events(lines.as_bytes()), 3);
    }

    #[test]
    fn ndjson_keeps_good_lines_and_numbers_the_bad_ones() {
        let body = format!(
            "{GOOD}\r\n\n{{\"v\":1,\"id\":\"x\",\"source\":\"pbx\",\"seq\":1,\"ts\":5,\"type\":\"agent_logout\",\"agent\":\"a\"}}\nnot json\n{GOOD2}"
        );
        let parsed = parse_body(&Bytes::from(body)).unwrap();
        assert_eq!(parsed.events.len(), 2);
        let lines: Vec<u64> = parsed.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4]);
        assert!(
            parsed.errors[0].reason.contains("ts"),
            "{:?}",
            parsed.errors
        );
        let sources: Vec<(&str, u64)> = parsed
            .refused_sources
            .iter()
            .map(|(s, n)| (s.as_str(), *n))
            .collect();
        assert_eq!(sources, vec![("pbx", 1), ("unknown", 1)]);
    }

    #[test]
    fn the_journal_gets_the_canonical_line_received_or_made() {
        // Canonical (as `Event::to_json` writes it), then the same event spaced out, with its
        // fields in another order and a null optional field, then canonical again.
        let odd = r#"{ "type":"agent_login", "v":1,"id":"e3","source":"sim","seq":3,"ts":1700000000002,"agent":"a1","team":null }"#;
        let body = format!("{GOOD}\r\n{odd}\n{GOOD2}\n");
        let parsed = parse_body(&Bytes::from(body)).unwrap();
        assert_eq!(parsed.events.len(), 3);
        for (i, event) in parsed.events.iter().enumerate() {
            let line = parsed.journal_lines.line(i).unwrap();
            assert_eq!(
                std::str::from_utf8(line).unwrap(),
                event.to_json(),
                "event {i}"
            );
        }
        // The two canonical lines were taken as received; only the odd one was serialised.
        assert_eq!(parsed.journal_lines.received_count(), 2);
        assert_eq!(parsed.journal_lines.line(0).unwrap(), GOOD.as_bytes());

        // A canonical line with an escape is not known canonical by the reader
        // (`Event::from_json_canonical` says `false`): it is compared, and still taken.
        let escaped = r#"{"v":1,"id":"e\"4","source":"sim","seq":4,"ts":1700000000003,"type":"agent_logout","agent":"a1"}"#;
        assert_eq!(
            Event::from_json_canonical(escaped).unwrap().0.to_json(),
            escaped
        );
        assert!(!Event::from_json_canonical(escaped).unwrap().1);
        assert!(Event::from_json_canonical(GOOD).unwrap().1);
        let parsed = parse_body(&Bytes::from(format!("{escaped}\n{GOOD}\n{odd}"))).unwrap();
        assert_eq!(parsed.journal_lines.received_count(), 2);
        for (i, event) in parsed.events.iter().enumerate() {
            let line = parsed.journal_lines.line(i).unwrap();
            assert_eq!(std::str::from_utf8(line).unwrap(), event.to_json(), "{i}");
        }

        // A JSON array: its items are cut from the body too.
        let parsed = parse_body(&Bytes::from(format!("[{GOOD},\n {odd}]"))).unwrap();
        assert_eq!(parsed.journal_lines.received_count(), 1);
        for (i, event) in parsed.events.iter().enumerate() {
            let line = parsed.journal_lines.line(i).unwrap();
            assert_eq!(
                std::str::from_utf8(line).unwrap(),
                event.to_json(),
                "item {i}"
            );
        }
    }

    #[test]
    fn a_json_array_numbers_lines_by_position() {
        let body = format!("  [{GOOD}, {{\"v\":2}}, {GOOD2}]");
        let parsed = parse_body(&Bytes::from(body)).unwrap();
        assert_eq!(parsed.events.len(), 2);
        assert_eq!(parsed.errors.len(), 1);
        assert_eq!(parsed.errors[0].line, 2);
    }

    #[test]
    fn a_broken_array_is_refused_whole() {
        let err = parse_body(&Bytes::from(format!("[{GOOD},"))).unwrap_err();
        assert!(err.to_string().contains("not a JSON array"), "{err}");
    }

    /// What a body's lines become: events, journal lines, line numbers, errors.
    fn outcome(parsed: &Parsed) -> impl PartialEq + std::fmt::Debug {
        let journal: Vec<Vec<u8>> = (0..parsed.journal_lines.len())
            .map(|i| parsed.journal_lines.line(i).unwrap_or_default().to_vec())
            .collect();
        let errors: Vec<(u64, String)> = parsed
            .errors
            .iter()
            .map(|e| (e.line, e.reason.clone()))
            .collect();
        (
            parsed.events.clone(),
            journal,
            parsed.lines.clone(),
            errors,
            parsed.rejected,
            parsed.refused_sources.clone(),
        )
    }

    /// A body read whole as text (validated once, or known UTF-8 from a websocket text
    /// message) gives what the line-by-line reading gives: the same events, journal lines,
    /// line numbers and errors, blank lines, `\r\n` and a non-ASCII name included.
    #[test]
    fn a_text_body_reads_as_its_lines_do() {
        let odd = r#"{ "type":"agent_login", "v":1,"id":"e3","source":"sim","seq":3,"ts":1700000000002,"agent":"a1","team":null }"#;
        let named = GOOD.replace("\"a1\"", "\"王芳\"");
        let body = format!("\n{GOOD}\r\n \t\n{odd}\nnot json\r\n{named}\n\n{GOOD2}");
        let bytes = Bytes::from(body.clone());
        let whole = parse_body(&bytes).unwrap();
        let known = parse_body_known(&bytes, std::str::from_utf8(&bytes).ok()).unwrap();
        // The same lines, then a line that is not UTF-8 at the end: read line by line.
        let mut broken = body.into_bytes();
        broken.extend_from_slice(b"\n\xff");
        let by_line = parse_body(&Bytes::from(broken)).unwrap();
        assert_eq!(whole.events.len(), 4);
        assert_eq!(whole.rejected, 1);
        assert_eq!(outcome(&whole), outcome(&known));
        assert_eq!(by_line.rejected, 2);
        assert_eq!(by_line.errors[1].line, 9);
        let mut by_line = by_line;
        by_line.errors.pop();
        by_line.rejected -= 1;
        *by_line.refused_sources.get_mut("unknown").unwrap() -= 1;
        assert_eq!(outcome(&whole), outcome(&by_line));
        // A `str` that is not the body itself is not trusted: the body is read as it is.
        let other = parse_body_known(&bytes, Some(GOOD)).unwrap();
        assert_eq!(outcome(&other), outcome(&whole));
    }

    #[test]
    fn invalid_utf8_is_a_line_error_not_a_panic() {
        let mut body = GOOD.as_bytes().to_vec();
        body.extend_from_slice(b"\n\xff\xfe{}\n");
        let parsed = parse_body(&Bytes::from(body)).unwrap();
        assert_eq!(parsed.events.len(), 1);
        assert_eq!(parsed.errors[0].line, 2);
        assert!(parsed.errors[0].reason.contains("UTF-8"));
    }

    #[test]
    fn a_body_of_garbage_lists_the_first_errors_and_counts_the_rest() {
        let long = format!("{{\"v\":1,\"type\":\"{}\"}}", "y".repeat(100_000));
        let body = format!("{long}\n{}", "x\n".repeat(50_000));
        let parsed = parse_body(&Bytes::from(body)).unwrap();
        assert_eq!(parsed.rejected, 50_001);
        assert_eq!(parsed.errors.len(), MAX_LISTED_ERRORS);
        assert!(parsed.errors[0].reason.len() <= MAX_REASON_BYTES + '…'.len_utf8());
        assert_eq!(parsed.refused_sources.get("unknown"), Some(&50_001));
        let listed: usize = parsed.errors.iter().map(|e| e.reason.len() + 16).sum();
        assert!(listed < 64 * 1024, "{listed} bytes of errors");
    }

    #[test]
    fn empty_bodies_are_empty_replies() {
        let parsed = parse_body(&Bytes::from_static(b"\n  \n")).unwrap();
        assert!(parsed.events.is_empty() && parsed.errors.is_empty());
        let parsed = parse_body(&Bytes::from_static(b"[]")).unwrap();
        assert!(parsed.events.is_empty() && parsed.errors.is_empty());
    }
}
