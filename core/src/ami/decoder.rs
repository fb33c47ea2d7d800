//! The incremental AMI decoder: bytes in, messages out, in bounded memory.
//!
//! AMI is line-based: `Key: Value` lines, CRLF (or a bare LF from proxies and test tools), and a
//! blank line after each message. The very first line of a connection is the banner
//! (`Asterisk Call Manager/5.0.1`), which has no colon-space. A `Response: Follows` reply (the
//! old `Command` action) carries free text lines, kept as `Output` values.
//!
//! A block the decoder cannot use (a line without a colon, a line or a block over the limits) is
//! reported once, when its closing blank line arrives, and skipped; the next block decodes
//! normally. Bytes of a block already known to be bad are counted, not kept.

use std::collections::VecDeque;

use super::message::AmiMessage;

/// Longest line kept. Asterisk's own lines are a few hundred bytes at most.
pub const MAX_LINE_LEN: usize = 8 * 1024;
/// Largest message kept, all its lines together.
pub const MAX_MESSAGE_LEN: usize = 64 * 1024;
/// Most `Key: Value` pairs in one message.
pub const MAX_FIELDS: usize = 512;

/// A block that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmiError {
    /// The start of the line, digits shown as `#` ([`excerpt`]).
    #[error("line without `Key: Value` in a message: `{0}`")]
    Malformed(String),
    /// A line over the limit.
    #[error("a line longer than {MAX_LINE_LEN} bytes; its message was skipped")]
    LineTooLong,
    /// A message over the size or line limit.
    #[error("a message longer than {MAX_MESSAGE_LEN} bytes or {MAX_FIELDS} lines was skipped")]
    TooLarge,
}

/// What a malformed line shows in logs: its first 80 characters with every digit as `#`. The
/// shape is what a reader needs; the digits may be a caller number, which never reaches a log
/// unmasked (docs/SECURITY.md, "Caller numbers").
fn excerpt(line: &str) -> String {
    line.chars()
        .take(80)
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect()
}

/// Decodes one connection's byte stream. Make a new one for each connection: the banner is
/// expected first.
///
/// Feed what the socket gave, then call [`AmiDecoder::next_message`] until it returns `None`;
/// doing so after every feed keeps memory within one chunk plus [`MAX_LINE_LEN`].
#[derive(Debug, Clone, Default)]
pub struct AmiDecoder {
    buf: Vec<u8>,
    /// Start of the unread bytes in `buf`.
    pos: usize,
    /// Discarding the rest of an over-long line.
    discarding_line: bool,
    banner: Option<String>,
    /// Any line seen yet on this connection (the banner can only be the first).
    started: bool,
    block: AmiMessage,
    block_len: usize,
    block_error: Option<AmiError>,
    /// Messages completed but not yet handed out (never more than one per line fed).
    ready: VecDeque<Result<AmiMessage, AmiError>>,
}

impl AmiDecoder {
    /// A decoder at the start of a stream (before the banner line).
    pub fn new() -> AmiDecoder {
        AmiDecoder::default()
    }

    /// The switch's banner line, once received (`Asterisk Call Manager/5.0.1`).
    pub fn banner(&self) -> Option<&str> {
        self.banner.as_deref()
    }

    /// Appends bytes read from the connection.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete message, or the error of a skipped block; `None` when more bytes are
    /// needed.
    pub fn next_message(&mut self) -> Option<Result<AmiMessage, AmiError>> {
        loop {
            if let Some(done) = self.ready.pop_front() {
                return Some(done);
            }
            let rest = &self.buf[self.pos..];
            let Some(newline) = rest.iter().position(|b| *b == b'\n') else {
                if rest.len() > MAX_LINE_LEN {
                    // An over-long line: drop what we have and the rest of it when it comes.
                    self.discarding_line = true;
                    self.fail(AmiError::LineTooLong);
                    self.buf.clear();
                    self.pos = 0;
                }
                self.compact();
                return None;
            };
            let end = self.pos + newline;
            let line_start = self.pos;
            self.pos = end + 1;
            if self.discarding_line {
                self.discarding_line = false;
                continue;
            }
            let mut line = &self.buf[line_start..end];
            if let Some(stripped) = line.strip_suffix(b"\r") {
                line = stripped;
            }
            if line.len() > MAX_LINE_LEN {
                self.fail(AmiError::LineTooLong);
                continue;
            }
            let text = String::from_utf8_lossy(line).into_owned();
            self.take_line(&text);
        }
    }

    fn take_line(&mut self, line: &str) {
        let first = !self.started;
        self.started = true;
        if line.trim().is_empty() {
            self.end_block();
            return;
        }
        if first && !line.contains(": ") && line.contains('/') {
            self.banner = Some(line.chars().take(200).collect());
            return;
        }
        self.block_len += line.len() + 2;
        if self.block_len > MAX_MESSAGE_LEN || self.block.len() >= MAX_FIELDS {
            self.fail(AmiError::TooLarge);
        }
        if self.block_error.is_some() {
            return;
        }
        match line.split_once(':') {
            Some((key, value)) if !key.trim().is_empty() && !key.trim().contains(' ') => {
                self.block.push(key.trim(), value.trim_start());
            }
            _ if self.block.response() == Some("Follows") => self.block.push("Output", line),
            _ => self.fail(AmiError::Malformed(excerpt(line))),
        }
    }

    /// Marks the current block bad (the first reason wins) and drops what it held.
    fn fail(&mut self, error: AmiError) {
        if self.block_error.is_none() {
            self.block_error = Some(error);
        }
        self.block = AmiMessage::new();
    }

    fn end_block(&mut self) {
        let block = std::mem::take(&mut self.block);
        self.block_len = 0;
        match self.block_error.take() {
            Some(error) => self.ready.push_back(Err(error)),
            None if !block.is_empty() => self.ready.push_back(Ok(block)),
            None => {}
        }
    }

    fn compact(&mut self) {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
    }

    /// Bytes held: unread input plus the lines kept of the message being read (a block already
    /// known to be bad keeps none). For tests and the fuzzer's memory bound.
    pub fn buffered(&self) -> usize {
        let kept = if self.block_error.is_some() {
            0
        } else {
            self.block_len
        };
        self.buf.len() - self.pos + kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(decoder: &mut AmiDecoder) -> Vec<Result<AmiMessage, AmiError>> {
        std::iter::from_fn(|| decoder.next_message()).collect()
    }

    #[test]
    fn banner_then_messages_split_anywhere() {
        let wire = b"Asterisk Call Manager/5.0.1\r\nResponse: Success\r\nMessage: Authentication accepted\r\n\r\nEvent: FullyBooted\nStatus: Fully Booted\n\n";
        for chunk in 1..wire.len() {
            let mut d = AmiDecoder::new();
            let mut got = Vec::new();
            for part in wire.chunks(chunk) {
                d.feed(part);
                got.extend(decode_all(&mut d));
            }
            assert_eq!(d.banner(), Some("Asterisk Call Manager/5.0.1"));
            assert_eq!(got.len(), 2, "chunk {chunk}");
            let second = got[1].as_ref().unwrap();
            assert_eq!(second.event(), Some("FullyBooted"));
            assert_eq!(second.get("status"), Some("Fully Booted"));
        }
    }

    #[test]
    fn a_garbage_block_is_reported_once_and_the_next_one_decodes() {
        let mut d = AmiDecoder::new();
        d.feed(b"Asterisk Call Manager/2.10.4\r\nEvent: Ping\r\nthis is not a header\r\nX: y\r\n\r\nEvent: Pong\r\n\r\n");
        let got = decode_all(&mut d);
        assert_eq!(got.len(), 2);
        assert!(matches!(&got[0], Err(AmiError::Malformed(l)) if l == "this is not a header"));
        assert_eq!(got[1].as_ref().unwrap().event(), Some("Pong"));
    }

    #[test]
    fn a_malformed_line_never_shows_its_digits() {
        let mut d = AmiDecoder::new();
        d.feed(
            b"Asterisk Call Manager/2.10.4\r\nEvent: Newchannel\r\nCallerIDNum 13812341234\r\n\r\n",
        );
        let got = decode_all(&mut d);
        let error = got[0].as_ref().unwrap_err().to_string();
        assert!(error.contains("CallerIDNum ###########"), "{error}");
        assert!(!error.contains("1234"), "{error}");
    }

    #[test]
    fn an_endless_line_is_dropped_in_bounded_memory() {
        let mut d = AmiDecoder::new();
        d.feed(b"Event: Big\r\nValue: ");
        for _ in 0..100 {
            d.feed(&[b'x'; 4096]);
            assert!(decode_all(&mut d).is_empty());
            assert!(d.buffered() <= MAX_LINE_LEN + 4096 + 64, "{}", d.buffered());
        }
        d.feed(b"\r\n\r\nEvent: After\r\n\r\n");
        let got = decode_all(&mut d);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], Err(AmiError::LineTooLong));
        assert_eq!(got[1].as_ref().unwrap().event(), Some("After"));
    }
}
