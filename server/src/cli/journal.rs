//! `floorwatch journal check`: what a start would replay, and what it would set aside;
//! `floorwatch journal cat`: the events as NDJSON, in journal order.
//!
//! Both read every file of the data dir's journal, archived ones too, without changing a byte
//! (a running server may be appending). `check` lists the events a start sets aside for lying
//! too far ahead of the clock (docs/EVENTS.md, "Time"), the damaged lines, and a torn write;
//! `cat` makes the compressed day files readable (docs/ARCHITECTURE.md, "The journal").

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::accounts::{DataDirArgs, finish_check};
use crate::horizon::ClockMode;
use crate::horizon::{Horizon, Lookout};
use crate::journal;

/// `floorwatch journal ...`
#[derive(Debug, Subcommand)]
pub(crate) enum JournalCommand {
    /// Lists the events a start would set aside (too far ahead of the clock, with the same
    /// flags as the server's), damaged lines, events lost (with the damaged bytes, or a segment
    /// missing), segments named in the future and a torn tail; exits 1 if there are any.
    Check {
        #[command(flatten)]
        store: DataDirArgs,
        #[command(flatten)]
        horizon: HorizonArgs,
    },
    /// Prints the journal's events as NDJSON, one a line, in journal order (the order the floor
    /// applied them), exactly as journaled; damage is reported on stderr (exit 1).
    Cat {
        #[command(flatten)]
        store: DataDirArgs,
        /// Only the day files of this centre day (YYYY-MM-DD) and later (for files written
        /// before the day files: days of writing, UTC).
        #[arg(long, value_name = "DAY")]
        from: Option<jiff::civil::Date>,
        /// Only the day files of this centre day and earlier.
        #[arg(long, value_name = "DAY")]
        to: Option<jiff::civil::Date>,
    },
}

/// The server's flags that decide what is too far ahead.
#[derive(Debug, Clone, Args)]
pub(crate) struct HorizonArgs {
    /// The server's `--clock` [default: wall].
    #[arg(long, value_enum)]
    pub(crate) clock: Option<ClockMode>,
    /// The server's `--max-future`, seconds [default: 300].
    #[arg(long, value_name = "SECS")]
    pub(crate) max_future: Option<u64>,
    /// The server's `--max-jump`, seconds [default: 86400].
    #[arg(long, value_name = "SECS")]
    pub(crate) max_jump: Option<u64>,
}

impl JournalCommand {
    /// Runs the command; exit code 1 when something was found.
    pub(crate) fn run(self) -> ExitCode {
        finish_check(self.execute(&mut io::stdout().lock()))
    }

    /// Ok(false) when an event would be set aside or a line is damaged.
    fn execute(self, out: &mut dyn Write) -> anyhow::Result<bool> {
        let (store, horizon) = match self {
            JournalCommand::Check { store, horizon } => (store, horizon),
            JournalCommand::Cat { store, from, to } => return cat(&store, from, to, out),
        };
        let (data_dir, _) = store.resolve()?;
        let clock = horizon.clock.unwrap_or(ClockMode::Wall);
        let horizon = Horizon::new(clock, horizon.max_future, horizon.max_jump)
            .map_err(|(key, message)| anyhow::anyhow!("--{key}: {message}"))?;
        let mut lookout = Lookout::new(horizon, None);
        let wall_now = jiff::Timestamp::now().as_millisecond();
        let mut set_aside = 0u64;
        let dir = data_dir.join("journal");
        let mut write_error = None;
        let report = journal::read_all(&dir, |path, at, event| {
            if let Err(why) = lookout.admit(&event, wall_now) {
                set_aside += 1;
                let written = writeln!(
                    out,
                    "{}:{at}: set aside: id {:?} source {:?}: {why}",
                    path.display(),
                    event.id,
                    event.source
                );
                if let Err(e) = written {
                    write_error.get_or_insert(e);
                }
            }
        })?;
        if let Some(e) = write_error {
            return Err(e.into());
        }
        for (path, at, reason) in &report.bad_lines {
            writeln!(out, "{}:{at}: damaged: {reason}", path.display())?;
        }
        for gap in &report.gaps {
            let bytes = gap
                .bytes
                .map(|(from, to)| format!(" bytes {from}..{to}"))
                .unwrap_or_default();
            let lost = gap
                .lost
                .map_or_else(|| "an unknown number of".to_string(), |n| n.to_string());
            writeln!(
                out,
                "{}:{bytes}: {lost} events lost: {}",
                gap.segment.display(),
                gap.what
            )?;
        }
        for path in &report.future_segments {
            writeln!(
                out,
                "{}: named for a day after tomorrow: a start leaves it alone",
                path.display()
            )?;
        }
        for (path, bytes) in &report.torn_tails {
            writeln!(
                out,
                "{}: torn last write ({bytes} bytes; a start cuts it off)",
                path.display()
            )?;
        }
        writeln!(
            out,
            "journal {}: {} segments, {} events, {set_aside} set aside, {} damaged lines",
            dir.display(),
            report.segments,
            report.events,
            report.bad_lines.len()
        )?;
        Ok(set_aside == 0
            && report.bad_lines.is_empty()
            && report.gaps.is_empty()
            && report.future_segments.is_empty())
    }
}

/// `journal cat`: the lines to `out`, what was damaged or torn to stderr; Ok(false) if any.
fn cat(
    store: &DataDirArgs,
    from: Option<jiff::civil::Date>,
    to: Option<jiff::civil::Date>,
    out: &mut dyn Write,
) -> anyhow::Result<bool> {
    let (data_dir, _) = store.resolve()?;
    let dir = data_dir.join("journal");
    if !dir.is_dir() {
        anyhow::bail!("{} is not a journal directory", dir.display());
    }
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    let mut write_error = None;
    let report = journal::read_lines(&dir, journal::Range { from, to }, |_, _, line| {
        if write_error.is_none()
            && let Err(e) = out.write_all(line).and_then(|()| out.write_all(b"\n"))
        {
            write_error = Some(e);
        }
    })?;
    if let Some(e) = write_error {
        return Err(e.into());
    }
    out.flush()?;
    let mut err = io::stderr().lock();
    for (path, at, reason) in &report.bad_lines {
        writeln!(err, "{}:{at}: damaged: {reason}", path.display())?;
    }
    for gap in &report.gaps {
        let lost = gap
            .lost
            .map_or_else(|| "an unknown number of".to_string(), |n| n.to_string());
        writeln!(
            err,
            "{}: {lost} events lost: {}",
            gap.segment.display(),
            gap.what
        )?;
    }
    for (path, bytes) in &report.torn_tails {
        writeln!(err, "{}: torn last write ({bytes} bytes)", path.display())?;
    }
    Ok(report.bad_lines.is_empty() && report.gaps.is_empty() && report.torn_tails.is_empty())
}
