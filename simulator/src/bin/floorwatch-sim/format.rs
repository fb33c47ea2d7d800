//! The two file formats of a recorded day: NDJSON canonical events (one per line, as
//! core/src/event.rs documents them) and Asterisk's queue_log (via `floorwatch_core::queue_log`).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use floorwatch_core::event::EventError;
use floorwatch_core::queue_log::{QueueLogReader, QueueLogWriter};
use floorwatch_core::{Event, Millis};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// One canonical event per line (JSON).
    Ndjson,
    /// An Asterisk queue_log (`unixtime|callid|queue|agent|EVENT|data...`).
    QueueLog,
}

/// Writes events in a format.
pub(crate) struct EventWriter<W: Write> {
    out: W,
    queue_log: Option<QueueLogWriter>,
    pub lines: u64,
}

impl<W: Write> EventWriter<W> {
    pub(crate) fn new(out: W, format: Format) -> Self {
        EventWriter {
            out,
            queue_log: (format == Format::QueueLog).then(QueueLogWriter::new),
            lines: 0,
        }
    }

    pub(crate) fn write(&mut self, event: &Event) -> io::Result<()> {
        match &mut self.queue_log {
            None => {
                serde_json::to_writer(&mut self.out, event)?;
                self.out.write_all(b"\n")?;
                self.lines += 1;
            }
            Some(writer) => {
                for line in writer.write(event) {
                    self.out.write_all(line.as_bytes())?;
                    self.out.write_all(b"\n")?;
                    self.lines += 1;
                }
            }
        }
        Ok(())
    }

    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// One event read back from a recorded file (a replay takes its line instead:
/// [`RecordedDay::next_line`]).
pub(crate) struct RecordedEvent {
    pub event: Event,
}

/// A line that could not be used, and why.
#[derive(Debug, Clone)]
pub(crate) struct Skipped {
    pub line: u64,
    pub reason: String,
}

/// Reads a recorded day as events, line by line (a file of any size streams).
pub(crate) struct RecordedDay {
    input: Box<dyn BufRead>,
    queue_log: Option<QueueLogReader>,
    line_no: u64,
    /// Bytes read so far, for progress.
    pub bytes_read: u64,
    /// Total bytes, when the input is a file.
    pub bytes_total: Option<u64>,
    pending: std::collections::VecDeque<Event>,
    pub skipped: Vec<Skipped>,
    pub skipped_count: u64,
    buf: String,
}

/// At most this many skipped lines are kept for the summary; the rest are only counted.
const SKIPPED_KEPT: usize = 20;

impl RecordedDay {
    /// Opens `path` (`-` for standard input).
    pub(crate) fn open(path: &Path, format: Format) -> Result<RecordedDay> {
        let (input, bytes_total): (Box<dyn BufRead>, Option<u64>) = if path == Path::new("-") {
            (Box::new(BufReader::new(io::stdin())), None)
        } else {
            let file =
                File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
            let len = file.metadata().ok().map(|m| m.len());
            (Box::new(BufReader::with_capacity(1 << 16, file)), len)
        };
        Ok(RecordedDay::from_reader(input, bytes_total, format, path))
    }

    pub(crate) fn from_reader(
        input: Box<dyn BufRead>,
        bytes_total: Option<u64>,
        format: Format,
        path: &Path,
    ) -> RecordedDay {
        RecordedDay {
            input,
            queue_log: (format == Format::QueueLog)
                .then(|| QueueLogReader::new(&format!("queue-log:{}", display_path(path)))),
            line_no: 0,
            bytes_read: 0,
            bytes_total,
            pending: Default::default(),
            skipped: Vec::new(),
            skipped_count: 0,
            buf: String::new(),
        }
    }

    fn skip(&mut self, reason: String) {
        self.skipped_count += 1;
        if self.skipped.len() < SKIPPED_KEPT {
            tracing::warn!(line = self.line_no, "skipped: {reason}");
            self.skipped.push(Skipped {
                line: self.line_no,
                reason,
            });
        }
    }
}

fn display_path(path: &Path) -> String {
    if path == Path::new("-") {
        "stdin".into()
    } else {
        std::fs::canonicalize(path)
            .unwrap_or_else(|_| PathBuf::from(path))
            .display()
            .to_string()
    }
}

/// The next event of a [`RecordedDay`]: read from the line in its buffer (NDJSON), or made
/// from a queue_log line.
// A return value, moved once: boxing the event would cost a queue_log replay an allocation
// an event.
#[allow(clippy::large_enum_variant)]
enum Next<T> {
    /// What an NDJSON line was read as: its event, or only its time
    /// ([`RecordedDay::next_line`]).
    Line(T),
    Made(Event),
}

impl RecordedDay {
    /// The next event, or `None` at the end; an NDJSON line is read by `read`
    /// ([`Event::from_json`], or [`Event::time_of_json`], which decides the same and words
    /// the same reason).
    fn advance<T>(
        &mut self,
        read: fn(&str) -> Result<T, EventError>,
    ) -> Option<io::Result<Next<T>>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(Next::Made(event)));
            }
            self.buf.clear();
            let n = match self.input.read_line(&mut self.buf) {
                Ok(0) => return None,
                Ok(n) => n,
                Err(e) => return Some(Err(e)),
            };
            self.bytes_read += n as u64;
            self.line_no += 1;
            let text = self.buf.trim_end_matches(['\r', '\n']);
            if text.trim().is_empty() {
                continue;
            }
            match &mut self.queue_log {
                None => match read(text) {
                    Ok(line) => return Some(Ok(Next::Line(line))),
                    Err(e) => self.skip(e.to_string()),
                },
                Some(reader) => match reader.read_line(self.line_no, text) {
                    Ok(events) => self.pending.extend(events),
                    Err(e) => self.skip(e.reason.to_string()),
                },
            }
        }
    }

    /// The line last read, without its line end.
    fn text(&self) -> &str {
        self.buf.trim_end_matches(['\r', '\n'])
    }

    /// The next event's time, its line appended to `out` (the original line for NDJSON, byte
    /// for byte; the event's JSON for queue_log): what a replay sends, with no `String` made
    /// per line, nor an event (issue 15: the replay client's CPU).
    pub(crate) fn next_line(&mut self, out: &mut String) -> Option<io::Result<Millis>> {
        Some(self.advance(Event::time_of_json)?.map(|next| match next {
            Next::Line(ts) => {
                out.push_str(self.text());
                ts
            }
            Next::Made(event) => {
                out.push_str(&event.to_json());
                event.ts
            }
        }))
    }
}

impl Iterator for RecordedDay {
    type Item = io::Result<RecordedEvent>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.advance(Event::from_json)?.map(|next| match next {
            Next::Line(event) | Next::Made(event) => RecordedEvent { event },
        }))
    }
}

/// Opens the output file (`-` for standard output).
pub(crate) fn create_output(path: &Path) -> Result<Box<dyn Write>> {
    if path == Path::new("-") {
        Ok(Box::new(io::BufWriter::with_capacity(
            1 << 16,
            io::stdout().lock(),
        )))
    } else {
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Box::new(io::BufWriter::with_capacity(1 << 16, file)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use floorwatch_sim::{Scenario, Simulation};

    #[test]
    fn ndjson_reads_back_what_was_written_and_skips_bad_lines_by_number() {
        let scenario = Scenario::preset("small").unwrap();
        let start = "2026-03-09T03:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond();
        let events: Vec<Event> = Simulation::starting_at(&scenario, start, 3)
            .take(200)
            .collect();
        let mut writer = EventWriter::new(Vec::new(), Format::Ndjson);
        for e in &events {
            writer.write(e).unwrap();
        }
        let mut bytes = writer.finish().unwrap();
        bytes.extend_from_slice(b"{\"not\":\"an event\"}\n\n");
        let input = Box::new(io::Cursor::new(bytes));
        let mut day = RecordedDay::from_reader(input, None, Format::Ndjson, Path::new("x"));
        let back: Vec<Event> = day.by_ref().map(|r| r.unwrap().event).collect();
        assert_eq!(back, events);
        assert_eq!(day.skipped_count, 1);
        assert_eq!(day.skipped[0].line, 201);
    }
}
