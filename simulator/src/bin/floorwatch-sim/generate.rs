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
}

pub(crate) fn generate(args: &GenerateArgs) -> Result<()> {
    let scenario = args.day.scenario()?;
    let date = args.day.date(&scenario);
    let tz = scenario.calendar().time_zone().clone();
    let started = Instant::now();
    let sim = Simulation::new(&scenario, date, args.day.seed);
    let (from, to) = (sim.day_start(), sim.day_end());
    let mut progress = Progress::new(&Span::SimTime { from, to }, "generating");
    let mut writer = EventWriter::new(create_output(&args.output)?, args.format);
    let mut kinds: BTreeMap<&'static str, u64> = BTreeMap::new();
    let (mut events, mut test_events) = (0u64, 0u64);
    for event in sim {
        writer
            .write(&event)
            .with_context(|| format!("cannot write to {}", args.output.display()))?;
        events += 1;
        test_events += u64::from(event.test);
        *kinds.entry(event.kind.type_name()).or_default() += 1;
        progress.update(
            ((event.ts - from).max(0) / 1000) as u64,
            events,
            Some(local_clock(event.ts, &tz)),
        );
    }
    let lines = writer.lines;
    writer
        .finish()
        .with_context(|| format!("cannot write to {}", args.output.display()))?;
    progress.finish();
    let elapsed = started.elapsed();

    let count = |kind: &str| kinds.get(kind).copied().unwrap_or(0);
    let mut summary = Summary::new(format!(
        "generated {} day {date} (seed {}) in {:.2} s",
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
