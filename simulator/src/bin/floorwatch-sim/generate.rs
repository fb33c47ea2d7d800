//! `generate`: simulate a day and write it to a file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use floorwatch_sim::Simulation;

use crate::args::DayArgs;
use crate::format::{EventWriter, Format, create_output};
use crate::progress::{Progress, Span, Summary, local_clock, rate};

#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    #[command(flatten)]
    day: DayArgs,
    /// Output file (`-` for standard output).
    #[arg(short, long, default_value = "-")]
    output: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Ndjson)]
    format: Format,
    /// Consecutive days simulated from --date into the one file, each with the same seed
    /// (call and event ids carry the date, so they never repeat): a month of queue_log for
    /// the replay benchmark (BENCHMARKS.md, "Simulator").
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=366))]
    days: u32,
}

pub(crate) fn generate(args: &GenerateArgs) -> Result<()> {
    let scenario = args.day.scenario()?;
    let date = args.day.date(&scenario);
    let tz = scenario.calendar().time_zone().clone();
    let started = Instant::now();
    let last = date
        .checked_add(jiff::Span::new().days(i64::from(args.days) - 1))
        .context("--days runs past the last date there is")?;
    let from = Simulation::new(&scenario, date, args.day.seed).day_start();
    let to = Simulation::new(&scenario, last, args.day.seed).day_end();
    let mut progress = Progress::new(&Span::SimTime { from, to }, "generating");
    let mut writer = EventWriter::new(create_output(&args.output)?, args.format);
    let mut kinds: BTreeMap<&'static str, u64> = BTreeMap::new();
    let (mut events, mut test_events) = (0u64, 0u64);
    for day in date
        .series(jiff::Span::new().days(1))
        .take(args.days as usize)
    {
        for event in Simulation::new(&scenario, day, args.day.seed) {
            writer
                .write(&event)
                .with_context(|| format!("cannot write to {}", args.output.display()))?;
            events += 1;
            test_events += u64::from(event.test);
            *kinds.entry(event.kind.type_name()).or_default() += 1;
            progress.update(((event.ts - from).max(0) / 1000) as u64, events, || {
                Some(local_clock(event.ts, &tz))
            });
        }
    }
    let lines = writer.lines;
    writer
        .finish()
        .with_context(|| format!("cannot write to {}", args.output.display()))?;
    progress.finish();
    let elapsed = started.elapsed();

    let count = |kind: &str| kinds.get(kind).copied().unwrap_or(0);
    let days = if args.days == 1 {
        format!("day {date}")
    } else {
        format!("{} days {date} to {last}", args.days)
    };
    let mut summary = Summary::new(format!(
        "generated {} {days} (seed {}) in {:.2} s",
        scenario.name(),
        args.day.seed,
        elapsed.as_secs_f64()
    ));
    summary
        .row("agents", scenario.agent_count())
        .row("events", events)
        .row("events/s", rate(events, elapsed))
        .row(
            "calls queued",
            format!(
                "{} legs: {} answered, {} abandoned, {} timed out",
                count("call_entered_queue"),
                count("call_answered"),
                count("call_abandoned"),
                count("call_timed_out")
            ),
        )
        .row("IVR self-service", count("call_ivr_completed"))
        .row("test-call events", test_events);
    if args.format == Format::QueueLog {
        summary.row("queue_log lines", lines);
    }
    summary.row(
        "written to",
        if args.output.as_os_str() == "-" {
            "standard output".to_string()
        } else {
            let size = std::fs::metadata(&args.output)
                .map(|m| m.len())
                .unwrap_or(0);
            format!("{} ({:.1} MB)", args.output.display(), size as f64 / 1e6)
        },
    );
    summary.print();
    Ok(())
}
