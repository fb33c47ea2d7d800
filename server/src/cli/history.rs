//! `floorwatch history rebuild|prune|dump`: history from the journal, retention, and the rows as
//! stored (docs/HISTORY.md).
//!
//! A rebuild replays every journal segment, archived ones included, through a fresh engine with
//! its ledger on, and replaces the rows of the days asked for. Events of those days found in
//! later segments (late ones) are included, as they were live. It takes the data dir's lock:
//! the server must be stopped, or its live closes and the rebuild would both write the days.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use floorwatch_core::history::QUARTER_HOUR_MS;
use floorwatch_core::{Engine, Millis, Organisation};
use jiff::civil::Date;

use super::accounts::DataDirArgs;
use crate::history::report;
use crate::history::store::Store;
use crate::history::{HISTORY_DAYS, JOURNAL_DAYS};
use crate::journal;

/// `floorwatch history ...`
#[derive(Debug, Subcommand)]
pub(crate) enum HistoryCommand {
    /// Recomputes the quarter-hours of the centre days FROM to TO (local dates, inclusive) from
    /// the journal and replaces their rows. The server must be stopped.
    Rebuild {
        #[command(flatten)]
        store: DataDirArgs,
        #[command(flatten)]
        days: DaysArgs,
    },
    /// Deletes history rows older than --history-days and journal segments older than
    /// --journal-days (UTC days of arrival).
    Prune {
        #[command(flatten)]
        store: DataDirArgs,
        /// Days of history rows kept.
        #[arg(long, default_value_t = HISTORY_DAYS)]
        history_days: u32,
        /// Days of journal segments kept.
        #[arg(long, default_value_t = JOURNAL_DAYS)]
        journal_days: u32,
    },
    /// Prints the stored rows of the centre days FROM to TO, one per line, tab-separated, in
    /// the store's columns (histograms in hex): what a rebuild must reproduce byte for byte.
    Dump {
        #[command(flatten)]
        store: DataDirArgs,
        #[command(flatten)]
        days: DaysArgs,
    },
}

/// The centre days a command works on.
#[derive(Debug, Args)]
pub(crate) struct DaysArgs {
    /// First centre day, YYYY-MM-DD.
    #[arg(long)]
    from: Date,
    /// Last centre day, YYYY-MM-DD.
    #[arg(long)]
    to: Date,
}

impl DaysArgs {
    /// Their span in `org`'s calendar.
    fn span(&self, org: &Organisation) -> anyhow::Result<(Millis, Millis)> {
        report::span(&org.calendar()?, self.from, self.to).map_err(anyhow::Error::msg)
    }
}

impl HistoryCommand {
    /// Runs the command; exit code 1 on failure (the error on stderr).
    pub(crate) fn run(self) -> ExitCode {
        match self.execute(&mut io::stdout().lock()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        }
    }

    fn execute(self, out: &mut dyn Write) -> anyhow::Result<()> {
        match self {
            HistoryCommand::Rebuild { store, days } => {
                let (dir, org) = store.resolve()?;
                let org = org.unwrap_or_default();
                let _lock = crate::app::lock_data_dir(&dir)?;
                let range = days.span(&org)?;
                let mut store = Store::open(&dir, &org.calendar()?)?;
                let written = rebuild(&dir, &org, &mut store, range)?;
                writeln!(out, "rebuilt {} to {}: {written} rows", days.from, days.to)?;
            }
            HistoryCommand::Prune {
                store,
                history_days,
                journal_days,
            } => {
                let (dir, org) = store.resolve()?;
                let calendar = org.unwrap_or_default().calendar()?;
                let _lock = crate::app::lock_data_dir(&dir)?;
                let now = jiff::Timestamp::now().as_millisecond();
                let before = now - i64::from(history_days) * floorwatch_core::time::DAY_MS;
                let rows = Store::open(&dir, &calendar)?.prune(before)?;
                let today = jiff::Timestamp::now()
                    .to_zoned(jiff::tz::TimeZone::UTC)
                    .date();
                let oldest = today
                    .checked_sub(jiff::Span::new().days(i64::from(journal_days)))
                    .context("--journal-days reaches before year -9999")?;
                let segments = journal::remove_before(&dir.join("journal"), oldest, today)?;
                writeln!(
                    out,
                    "pruned {rows} history rows before {history_days} days ago and {segments} \
                     journal segments before {oldest}"
                )?;
            }
            HistoryCommand::Dump { store, days } => {
                let (dir, org) = store.resolve()?;
                let org = org.unwrap_or_default();
                let range = days.span(&org)?;
                let store = Store::open(&dir, &org.calendar()?)?;
                for line in store
                    .dump(range)?
                    .into_iter()
                    .chain(store.dump_calls(range)?)
                {
                    writeln!(out, "{line}")?;
                }
            }
        }
        Ok(())
    }
}

/// Rebuilds the rows of `range` in `store` from the whole journal in `data_dir`, closing the
/// ledger at each quarter-hour the clock crosses as the live floor does (memory stays that of
/// one close); returns how many rows the range has now.
pub(crate) fn rebuild(
    data_dir: &Path,
    org: &Organisation,
    store: &mut Store,
    range: (Millis, Millis),
) -> anyhow::Result<usize> {
    let mut engine = Engine::new(org)?;
    engine.keep_intervals(0);
    let mut rebuild = store.rebuild(range)?;
    let mut failed = None;
    journal::read_all(&data_dir.join("journal"), |_, _, event| {
        if !event.test
            && failed.is_none()
            && let Some((_, deltas)) = engine.close_intervals_crossing(event.ts)
            && let Err(e) = rebuild
                .merge(&deltas)
                .and_then(|()| rebuild.merge_calls(&engine.close_calls()))
        {
            failed = Some(e);
        }
        engine.apply(&event);
    })?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    // The live floor has closed up to the last quarter-hour its clock crossed: so does this.
    let last = engine.now().div_euclid(QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
    rebuild.merge(&engine.close_intervals(last))?;
    rebuild.merge_calls(&engine.close_calls())?;
    Ok(rebuild.commit()?)
}
