//! Progress bars for long runs (hidden when standard error is not a terminal) and the
//! one-screen summary every run ends with.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use floorwatch_core::Millis;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use jiff::tz::TimeZone;

/// A progress bar over a span of simulated time or of bytes, with events/s and an ETA.
pub(crate) struct Progress {
    bar: ProgressBar,
    started: Instant,
    last_draw: Instant,
    /// Events counted at the last draw; events between two readings of the clock (a 64th of
    /// those between the last two draws); the count at which the clock is read next.
    drawn_at: u64,
    stride: u64,
    next_look: u64,
}

/// What the bar measures.
pub(crate) enum Span {
    /// Simulated time from `from` to `to`, UTC ms.
    SimTime { from: Millis, to: Millis },
    /// Bytes of a file.
    Bytes(u64),
    /// Unknown length (standard input).
    Unknown,
}

impl Progress {
    pub(crate) fn new(span: &Span, what: &str) -> Progress {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr_with_hz(8)
        } else {
            ProgressDrawTarget::hidden()
        };
        let len = match span {
            Span::SimTime { from, to, .. } => Some(((to - from).max(1) / 1000) as u64),
            Span::Bytes(n) => Some(*n),
            Span::Unknown => None,
        };
        let bar = ProgressBar::with_draw_target(len, target);
        let template = match len {
            Some(_) => format!(
                "{what} [{{elapsed_precise}}] {{wide_bar}} {{percent:>3}}% {{msg}} ETA {{eta}}"
            ),
            None => format!("{what} [{{elapsed_precise}}] {{spinner}} {{msg}}"),
        };
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("=> "));
        }
        let now = Instant::now();
        Progress {
            bar,
            started: now,
            last_draw: now,
            drawn_at: 0,
            stride: 1,
            next_look: 0,
        }
    }

    /// Updates position and message; cheap to call for every event (draws a few times a second).
    /// `clock` is only called when the bar is drawn: formatting an event's local time for every
    /// event of a replay cost the client more than reading it (issue 15).
    pub(crate) fn update(
        &mut self,
        position: u64,
        events: u64,
        clock: impl FnOnce() -> Option<String>,
    ) {
        // The clock is read about 64 times between two draws, not for every event: at a
        // replay's half a million events a second, reading it was 4 % of the client's CPU
        // (issue 15, item 1); a slow run reads it for every event, as before.
        if events < self.next_look {
            return;
        }
        self.next_look = events.saturating_add(self.stride);
        let now = Instant::now();
        if now.duration_since(self.last_draw) < Duration::from_millis(100) {
            return;
        }
        self.last_draw = now;
        self.stride = (events.saturating_sub(self.drawn_at) / 64).max(1);
        self.drawn_at = events;
        let rate = events as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        self.bar.set_position(position);
        let clock = clock().map(|c| format!(" at {c}")).unwrap_or_default();
        self.bar
            .set_message(format!("{events} events, {rate:.0} events/s{clock}"));
    }

    pub(crate) fn finish(self) {
        self.bar.finish_and_clear();
    }
}

/// `HH:MM:SS` on the local clock.
pub(crate) fn local_clock(t: Millis, tz: &TimeZone) -> String {
    jiff::Timestamp::from_millisecond(t)
        .map(|ts| ts.to_zoned(tz.clone()).strftime("%H:%M:%S").to_string())
        .unwrap_or_default()
}

/// `YYYY-MM-DD HH:MM:SS` on the local clock.
pub(crate) fn local_time(t: Millis, tz: &TimeZone) -> String {
    jiff::Timestamp::from_millisecond(t)
        .map(|ts| {
            ts.to_zoned(tz.clone())
                .strftime("%Y-%m-%d %H:%M:%S %Z")
                .to_string()
        })
        .unwrap_or_default()
}

/// A one-screen summary: aligned `name: value` lines under a title, on standard error (standard
/// output may be carrying the data).
pub(crate) struct Summary {
    title: String,
    rows: Vec<(String, String)>,
}

impl Summary {
    pub(crate) fn new(title: impl Into<String>) -> Summary {
        Summary {
            title: title.into(),
            rows: Vec::new(),
        }
    }

    pub(crate) fn row(&mut self, name: &str, value: impl std::fmt::Display) -> &mut Self {
        self.rows.push((name.to_string(), value.to_string()));
        self
    }

    pub(crate) fn render(&self) -> String {
        let width = self.rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        let mut out = format!("{}\n", self.title);
        for (name, value) in &self.rows {
            out.push_str(&format!("  {name:<width$}  {value}\n"));
        }
        out
    }

    pub(crate) fn print(&self) {
        eprint!("{}", self.render());
    }
}

/// Events per second, for summaries.
pub(crate) fn rate(events: u64, elapsed: Duration) -> String {
    format!("{:.0}", events as f64 / elapsed.as_secs_f64().max(1e-9))
}
