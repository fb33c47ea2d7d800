//! The incremental ESL decoder: bytes in, frames out, in bounded memory.
//!
//! mod_event_socket frames everything the same way (src/mod/event_handlers/mod_event_socket/
//! mod_event_socket.c): `Name: value` header lines, a blank line, and, when the headers hold a
//! `Content-Length`, exactly that many bytes of body. `auth/request` and `command/reply` have
//! no body; `api/response` and `text/event-plain` do (an event's body is itself a header block,
//! read by [`EslFrame::event`]).
//!
//! A frame the decoder cannot use is reported once and skipped: a header line without a colon
//! or over [`MAX_LINE_LEN`], too many headers, a body over [`MAX_BODY_LEN`] (its bytes are
//! counted off and dropped, so the next frame still starts in the right place).

use std::collections::VecDeque;

use super::headers::{EslHeaders, url_decode};

/// Longest header line kept.
pub const MAX_LINE_LEN: usize = 8 * 1024;
/// Most headers in one frame (and in one event).
pub const MAX_HEADERS: usize = 512;
/// Largest body kept: an `api/response` listing every member of a busy switch fits.
pub const MAX_BODY_LEN: usize = 4 * 1024 * 1024;

/// A frame that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EslError {
    /// The start of the line, digits shown as `#` (a caller number never reaches a log).
    #[error("header line without `Name: value`: `{0}`")]
    Malformed(String),
    /// A header line over the limit.
    #[error("a header line longer than {MAX_LINE_LEN} bytes; its frame was skipped")]
    LineTooLong,
    /// Too many headers.
    #[error("a frame with more than {MAX_HEADERS} headers was skipped")]
    TooManyHeaders,
    /// `Content-Length` that is not a number of bytes.
    #[error("`Content-Length: {0}` is not a length; the frame was skipped")]
    BadContentLength(String),
    /// A body over the limit (its length), skipped.
    #[error("a body of {0} bytes (over {MAX_BODY_LEN}) was skipped")]
    BodyTooLarge(usize),
}

/// The shape of a line for logs: its first 80 characters, every digit as `#`.
fn excerpt(line: &str) -> String {
    line.chars()
        .take(80)
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect()
}

/// One frame: its headers and its body (empty without `Content-Length`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EslFrame {
    /// The frame's own headers (`Content-Type`, `Reply-Text`, `Content-Length`).
    pub headers: EslHeaders,
    /// The body, as text (non-UTF-8 bytes become U+FFFD).
    pub body: String,
}

impl EslFrame {
    /// `Content-Type`: `auth/request`, `command/reply`, `api/response`, `text/event-plain`,
    /// `text/disconnect-notice`, `text/rude-rejection`.
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get("Content-Type")
    }

    /// `Reply-Text` of a `command/reply` (`+OK accepted`, `-ERR invalid`).
    pub fn reply_text(&self) -> Option<&str> {
        self.headers.get("Reply-Text")
    }

    /// Whether the frame is an event in the plain format.
    pub fn is_event(&self) -> bool {
        self.content_type()
            .is_some_and(|t| t.eq_ignore_ascii_case("text/event-plain"))
    }

    /// The event carried in the body of a `text/event-plain` frame: its header lines, values
    /// URL-decoded, up to the first blank line (an event's own body, if any, is not read).
    pub fn event(&self) -> Result<EslHeaders, EslError> {
        let mut headers = EslHeaders::new();
        for line in self.body.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.is_empty() {
                break;
            }
            if line.len() > MAX_LINE_LEN {
                return Err(EslError::LineTooLong);
            }
            if headers.len() >= MAX_HEADERS {
                return Err(EslError::TooManyHeaders);
            }
            match line.split_once(':') {
                Some((name, value)) if !name.trim().is_empty() => {
                    headers.push(name.trim(), url_decode(value.trim_start()));
                }
                _ => return Err(EslError::Malformed(excerpt(line))),
            }
        }
        Ok(headers)
    }

    /// A frame as the switch writes it: headers, `Content-Length` when there is a body, a
    /// blank line, the body.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if !self.body.is_empty() {
            out.push_str(&format!("Content-Length: {}\n", self.body.len()));
        }
        for (name, value) in self.headers.fields() {
            if name.eq_ignore_ascii_case("Content-Length") {
                continue;
            }
            out.push_str(&format!("{}: {}\n", name, value.replace(['\r', '\n'], " ")));
        }
        out.push('\n');
        out.push_str(&self.body);
        out
    }
}

#[derive(Debug, Clone)]
enum Reading {
    Headers,
    /// Body bytes still to come for the frame held.
    Body(usize),
    /// Body bytes still to drop for a frame skipped.
    Skipping(usize),
}

/// Decodes one connection's byte stream. Feed what the socket gave, then call
/// [`EslDecoder::next_frame`] until it returns `None`.
#[derive(Debug, Clone)]
pub struct EslDecoder {
    buf: Vec<u8>,
    pos: usize,
    reading: Reading,
    /// Dropping the rest of an over-long header line.
    discarding_line: bool,
    frame: EslFrame,
    error: Option<EslError>,
    /// `Content-Length` of a frame already known to be bad.
    skip_length: Option<String>,
    ready: VecDeque<Result<EslFrame, EslError>>,
}

impl Default for EslDecoder {
    fn default() -> Self {
        EslDecoder::new()
    }
}

impl EslDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> EslDecoder {
        EslDecoder {
            buf: Vec::new(),
            pos: 0,
            reading: Reading::Headers,
            discarding_line: false,
            frame: EslFrame::default(),
            error: None,
            skip_length: None,
            ready: VecDeque::new(),
        }
    }

    /// Appends bytes read from the connection.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame, or the error of a skipped one; `None` when more bytes are
    /// needed.
    pub fn next_frame(&mut self) -> Option<Result<EslFrame, EslError>> {
        loop {
            if let Some(done) = self.ready.pop_front() {
                return Some(done);
            }
            match self.reading {
                Reading::Body(n) => {
                    if self.buf.len() - self.pos < n {
                        self.compact();
                        return None;
                    }
                    let body = &self.buf[self.pos..self.pos + n];
                    self.frame.body = String::from_utf8_lossy(body).into_owned();
                    self.pos += n;
                    self.reading = Reading::Headers;
                    let frame = std::mem::take(&mut self.frame);
                    self.ready.push_back(Ok(frame));
                }
                Reading::Skipping(n) => {
                    let have = self.buf.len() - self.pos;
                    let take = have.min(n);
                    self.pos += take;
                    if take < n {
                        self.reading = Reading::Skipping(n - take);
                        self.compact();
                        return None;
                    }
                    self.reading = Reading::Headers;
                }
                Reading::Headers => {
                    let rest = &self.buf[self.pos..];
                    let Some(newline) = rest.iter().position(|b| *b == b'\n') else {
                        if rest.len() > MAX_LINE_LEN {
                            self.discarding_line = true;
                            self.fail(EslError::LineTooLong);
                            self.buf.clear();
                            self.pos = 0;
                        }
                        self.compact();
                        return None;
                    };
                    let start = self.pos;
                    self.pos += newline + 1;
                    if self.discarding_line {
                        self.discarding_line = false;
                        continue;
                    }
                    let mut line = &self.buf[start..start + newline];
                    if let Some(stripped) = line.strip_suffix(b"\r") {
                        line = stripped;
                    }
                    if line.len() > MAX_LINE_LEN {
                        self.fail(EslError::LineTooLong);
                        continue;
                    }
                    let text = String::from_utf8_lossy(line).into_owned();
                    self.take_line(&text);
                }
            }
        }
    }

    fn take_line(&mut self, line: &str) {
        if line.trim().is_empty() {
            self.end_headers();
            return;
        }
        if self.frame.headers.len() >= MAX_HEADERS {
            self.fail(EslError::TooManyHeaders);
        }
        if self.error.is_some() {
            // Kept for its Content-Length only, so the body can be skipped.
            if let Some((name, value)) = line.split_once(':')
                && name.trim().eq_ignore_ascii_case("Content-Length")
            {
                self.skip_length = Some(value.trim().to_string());
            }
            return;
        }
        match line.split_once(':') {
            Some((name, value)) if !name.trim().is_empty() => {
                self.frame.headers.push(name.trim(), value.trim());
            }
            _ => self.fail(EslError::Malformed(excerpt(line))),
        }
    }

    fn fail(&mut self, error: EslError) {
        if self.error.is_none() {
            self.error = Some(error);
        }
    }

    /// The blank line after the headers: a body follows if `Content-Length` says so.
    fn end_headers(&mut self) {
        let skip_length = self.skip_length.take();
        let length = self
            .frame
            .headers
            .get("Content-Length")
            .or(skip_length.as_deref())
            .map(|v| {
                v.parse::<usize>()
                    .map_err(|_| EslError::BadContentLength(excerpt(v)))
            });
        let error = self.error.take();
        match (length, error) {
            (None, None) if self.frame.headers.is_empty() => {}
            (None, None) => {
                let frame = std::mem::take(&mut self.frame);
                self.ready.push_back(Ok(frame));
            }
            (Some(Ok(0)), None) => {
                let frame = std::mem::take(&mut self.frame);
                self.ready.push_back(Ok(frame));
            }
            (Some(Ok(n)), None) if n <= MAX_BODY_LEN => self.reading = Reading::Body(n),
            (Some(Ok(n)), None) => {
                self.frame = EslFrame::default();
                self.reading = Reading::Skipping(n);
                self.ready.push_back(Err(EslError::BodyTooLarge(n)));
            }
            (Some(Err(e)), None) => {
                self.frame = EslFrame::default();
                self.ready.push_back(Err(e));
            }
            (length, Some(e)) => {
                // A bad header block: its body, if its length is known, is skipped too.
                self.frame = EslFrame::default();
                if let Some(Ok(n)) = length {
                    self.reading = Reading::Skipping(n);
                }
                self.ready.push_back(Err(e));
            }
        }
    }

    fn compact(&mut self) {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
    }

    /// Bytes held: unread input plus the frame being read. For tests and the fuzzer's
    /// memory bound (at most [`MAX_BODY_LEN`] + one header block + one chunk).
    pub fn buffered(&self) -> usize {
        let headers: usize = self
            .frame
            .headers
            .fields()
            .iter()
            .map(|(k, v)| k.len() + v.len() + 3)
            .sum();
        self.buf.len() - self.pos + headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(d: &mut EslDecoder) -> Vec<Result<EslFrame, EslError>> {
        std::iter::from_fn(|| d.next_frame()).collect()
    }

    const EVENT: &str = "Event-Name: CUSTOM\nEvent-Subclass: callcenter%3A%3Ainfo\nCC-Action: agent-status-change\nCC-Agent-Status: On%20Break\n\n";

    fn wire() -> String {
        format!(
            "Content-Type: auth/request\n\nContent-Type: command/reply\nReply-Text: +OK accepted\n\nContent-Length: {}\nContent-Type: text/event-plain\n\n{EVENT}Content-Type: api/response\nContent-Length: 4\n\n+OK\n",
            EVENT.len()
        )
    }

    #[test]
    fn frames_split_anywhere_decode_alike() {
        let wire = wire();
        for chunk in 1..wire.len() {
            let mut d = EslDecoder::new();
            let mut got = Vec::new();
            for part in wire.as_bytes().chunks(chunk) {
                d.feed(part);
                got.extend(decode_all(&mut d));
            }
            assert_eq!(got.len(), 4, "chunk {chunk}");
            let frames: Vec<EslFrame> = got.into_iter().map(Result::unwrap).collect();
            assert_eq!(frames[0].content_type(), Some("auth/request"));
            assert_eq!(frames[1].reply_text(), Some("+OK accepted"));
            assert!(frames[2].is_event());
            let event = frames[2].event().unwrap();
            assert_eq!(event.get("Event-Subclass"), Some("callcenter::info"));
            assert_eq!(event.get("cc-agent-status"), Some("On Break"));
            assert_eq!(frames[3].body, "+OK\n");
        }
    }

    #[test]
    fn a_bad_frame_is_reported_once_and_the_stream_goes_on() {
        let mut d = EslDecoder::new();
        d.feed(b"Content-Type: x\nno colon 13812341234\n\nContent-Length: zz\n\nContent-Length: 3\nbroken\n\nabcContent-Type: auth/request\n\n");
        let got = decode_all(&mut d);
        assert_eq!(got.len(), 4, "{got:?}");
        let first = got[0].as_ref().unwrap_err().to_string();
        assert!(first.contains("no colon ###########"), "{first}");
        assert_eq!(got[1], Err(EslError::BadContentLength("zz".into())));
        assert!(matches!(got[2], Err(EslError::Malformed(_))));
        assert_eq!(
            got[3].as_ref().unwrap().content_type(),
            Some("auth/request")
        );
    }

    #[test]
    fn an_oversized_body_is_skipped_in_bounded_memory() {
        let mut d = EslDecoder::new();
        let n = MAX_BODY_LEN + 10;
        d.feed(format!("Content-Type: api/response\nContent-Length: {n}\n\n").as_bytes());
        let mut errors = decode_all(&mut d);
        let mut left = n;
        while left > 0 {
            let part = left.min(64 * 1024);
            d.feed(&vec![b'x'; part]);
            left -= part;
            errors.extend(decode_all(&mut d));
            assert!(d.buffered() <= 64 * 1024, "{}", d.buffered());
        }
        d.feed(b"Content-Type: auth/request\n\n");
        errors.extend(decode_all(&mut d));
        assert_eq!(errors[0], Err(EslError::BodyTooLarge(n)));
        assert_eq!(
            errors[1].as_ref().unwrap().content_type(),
            Some("auth/request")
        );
    }

    #[test]
    fn an_endless_header_line_is_dropped() {
        let mut d = EslDecoder::new();
        d.feed(b"Content-Type: ");
        for _ in 0..10 {
            d.feed(&[b'x'; 4096]);
            assert!(decode_all(&mut d).is_empty());
            assert!(d.buffered() <= MAX_LINE_LEN + 4096 + 64);
        }
        d.feed(b"\n\nContent-Type: auth/request\n\n");
        let got = decode_all(&mut d);
        assert_eq!(got[0], Err(EslError::LineTooLong));
        assert_eq!(
            got[1].as_ref().unwrap().content_type(),
            Some("auth/request")
        );
    }
}
