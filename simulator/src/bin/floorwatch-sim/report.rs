//! `report`: a recorded day's figures per queue and for the centre, computed by the core
//! engine exactly as the server computes them (docs/METRICS.md), for the `today` window at the
//! last event's time.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use floorwatch_core::{Engine, Figures, Organisation, Scope, Window};
use floorwatch_sim::Scenario;

use crate::alerts_run::AlertRun;
use crate::format::{Format, RecordedDay};
use crate::progress::{Progress, Span, Summary, local_time};

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// The recorded day (`-` for standard input).
    file: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Ndjson)]
    format: Format,
    /// Configure the engine with this scenario's organisation (queues and their settings,
    /// teams): a preset or a TOML file [default: small].
    #[arg(long, conflicts_with_all = ["timezone", "service_level_threshold", "short_abandon"])]
    scenario: Option<String>,
    /// Instead of a scenario, an empty organisation in this time zone (as the server's flag).
    #[arg(long, value_name = "ZONE")]
    timezone: Option<String>,
    /// Service-level threshold T of the empty organisation, seconds [default: 20].
    #[arg(long, value_name = "SECS")]
    service_level_threshold: Option<u32>,
    /// Short-abandon threshold of the empty organisation, seconds [default: 5].
    #[arg(long, value_name = "SECS")]
    short_abandon: Option<u32>,
    /// Print a JSON array of `Figures` (each queue, then the centre) instead of a table.
    #[arg(long)]
    json: bool,
    /// Also evaluate the default alert rules at every 10-second boundary, as the server does
    /// (skipping the boundaries of a floor at rest), and print how many boundaries were
    /// evaluated, the alert changes and the time the evaluations took: the alert book's cost
    /// alone, without HTTP or journals (BENCHMARKS.md, "Fourth pass").
    #[arg(long)]
    alerts: bool,
    /// With `--alerts`: write every alert change, one JSON object a line, to this file (to
    /// compare two builds byte for byte).
    #[arg(long, value_name = "FILE", requires = "alerts")]
    alert_changes: Option<PathBuf>,
}

impl ReportArgs {
    fn organisation(&self) -> Result<Organisation> {
        let flags = self.timezone.is_some()
            || self.service_level_threshold.is_some()
            || self.short_abandon.is_some();
        if !flags {
            let name = self.scenario.as_deref().unwrap_or("small");
            return Ok(Scenario::load(name)?.organisation());
        }
        let mut org = Organisation::default();
        if let Some(zone) = &self.timezone {
            org.centre.timezone = zone.clone();
        }
        if let Some(t) = self.service_level_threshold {
            org.centre.service_level.threshold_s = t;
        }
        if let Some(s) = self.short_abandon {
            org.centre.service_level.short_abandon_s = s;
        }
        Ok(org)
    }
}

pub(crate) fn report(args: &ReportArgs) -> Result<()> {
    let org = args.organisation()?;
    let mut engine = Engine::new(&org).context("the organisation is not valid")?;
    let mut day = RecordedDay::open(&args.file, args.format)?;
    let span = day.bytes_total.map(Span::Bytes).unwrap_or(Span::Unknown);
    let mut progress = Progress::new(&span, "reading");
    let mut events = 0u64;
    let mut alerts = match args.alerts {
        true => Some(AlertRun::new(&org)?),
        false => None,
    };
    while let Some(recorded) = day.next() {
        let recorded = recorded.context("cannot read the recorded day")?;
        match &mut alerts {
            Some(run) => run.apply(&mut engine, &recorded.event),
            None => {
                engine.apply(&recorded.event);
            }
        }
        events += 1;
        progress.update(day.bytes_read, events, || None);
    }
    progress.finish();

    let mut figures = Vec::new();
    for queue in engine.queues() {
        figures.push(engine.figures(&Scope::Queue(queue.id), Window::Today)?);
    }
    figures.push(engine.figures(&Scope::Centre, Window::Today)?);

    let tz = engine.calendar().time_zone().clone();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
    } else {
        println!(
            "today from {} to {} ({} events)",
            local_time(engine.calendar().day_start(engine.now()), &tz),
            local_time(engine.now(), &tz),
            events
        );
        print!("{}", table(&figures));
    }
    if let Some(run) = alerts {
        run.finish(args.alert_changes.as_deref())?;
    }
    if day.skipped_count > 0 {
        let mut summary = Summary::new(format!("{} lines skipped", day.skipped_count));
        for s in &day.skipped {
            summary.row(&format!("line {}", s.line), &s.reason);
        }
        summary.print();
    }
    Ok(())
}

/// The figures as an aligned text table, one row per scope.
fn table(figures: &[Figures]) -> String {
    let header = [
        "scope",
        "offered",
        "answered",
        "abandoned",
        "short",
        "timed out",
        "within T",
        "SL %",
        "aband %",
        "ASA s",
        "max wait s",
        "talk s",
        "AHT s",
    ];
    let rows: Vec<Vec<String>> = figures
        .iter()
        .map(|f| {
            vec![
                f.scope.to_string(),
                f.offered.to_string(),
                f.answered.to_string(),
                f.abandoned.to_string(),
                f.short_abandoned.to_string(),
                f.timed_out.to_string(),
                f.answered_within_threshold.to_string(),
                opt(f.service_level_pct),
                opt(f.abandon_rate_pct),
                opt(f.asa_s),
                opt(f.max_wait_s),
                opt(f.avg_talk_s),
                opt(f.aht_s),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        for (i, cell) in cells.iter().enumerate() {
            if i == 0 {
                out.push_str(&format!("{cell:<w$}", w = widths[0]));
            } else {
                out.push_str(&format!("  {cell:>w$}", w = widths[i]));
            }
        }
        out.push('\n');
    };
    line(header.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// A figure to one decimal, or "—" when it has no value (docs/METRICS.md: never 0 or 100).
fn opt(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1}"))
        .unwrap_or_else(|| "—".to_string())
}
