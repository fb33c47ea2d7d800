//! The journal line of each event of an ingest batch, made on the request's own task (issue
//! 15, item 4): the recorder's one thread then copies bytes instead of serialising every event.

use bytes::Bytes;
use floorwatch_core::Event;

/// The journal line of each event of a batch, in its order, made by the source on its own
/// task: the bytes received when a line is already canonical (what `Event::to_json` would
/// write, checked byte for byte), the canonical serialisation otherwise (issue 15, item 4).
/// The recorder's one thread then copies bytes instead of serialising every event.
#[derive(Debug, Default)]
pub(crate) struct EventLines {
    /// The request body the received lines are cut from (shared, not copied).
    received: Bytes,
    /// Canonical lines of events whose received line was not canonical, one after another.
    own: Vec<u8>,
    spans: Vec<LineSpan>,
}

/// Where one event's line is: in the body received or in [`EventLines::own`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineSpan {
    Received(usize, usize),
    Own(usize, usize),
}

impl EventLines {
    /// Lines cut from `received` or made here; empty until [`Self::push`].
    pub(crate) fn new(received: Bytes) -> EventLines {
        EventLines {
            received,
            own: Vec::new(),
            spans: Vec::new(),
        }
    }

    /// Adds the line of `event`, which was read from `received[at..at + len]`: that range
    /// when it is what `Event::to_json` writes, the serialisation otherwise. A range outside
    /// the body is serialised too.
    pub(crate) fn push(&mut self, event: &Event, at: usize, len: usize) {
        let start = self.own.len();
        // Serialising a struct of strings and numbers into memory cannot fail.
        let _ = serde_json::to_writer(&mut self.own, event);
        let end = self.own.len();
        let received = at.checked_add(len).and_then(|to| self.received.get(at..to));
        if received == Some(&self.own[start..end]) {
            self.own.truncate(start);
            self.spans.push(LineSpan::Received(at, at + len));
        } else {
            self.spans.push(LineSpan::Own(start, end));
        }
    }

    /// Adds the line of `event`, read from `received[at..at + len]` and known to be what
    /// `Event::to_json` writes of it (`Event::from_json_canonical` said so): that range, with
    /// no serialisation to compare (issue 15). A range outside the body is left to
    /// [`Self::push`].
    pub(crate) fn push_canonical(&mut self, event: &Event, at: usize, len: usize) {
        match at.checked_add(len) {
            Some(end) if end <= self.received.len() => {
                self.spans.push(LineSpan::Received(at, end));
            }
            _ => self.push(event, at, len),
        }
    }

    /// Room for `lines` more lines.
    pub(crate) fn reserve(&mut self, lines: usize) {
        self.spans.reserve(lines);
    }

    /// How many events have a line.
    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    /// The line of event `i`, if there is one.
    pub(crate) fn line(&self, i: usize) -> Option<&[u8]> {
        match *self.spans.get(i)? {
            LineSpan::Received(from, to) => self.received.get(from..to),
            LineSpan::Own(from, to) => self.own.get(from..to),
        }
    }

    /// How many lines were the bytes received (the rest were serialised).
    #[cfg(test)]
    pub(crate) fn received_count(&self) -> usize {
        self.spans
            .iter()
            .filter(|s| matches!(s, LineSpan::Received(..)))
            .count()
    }
}
