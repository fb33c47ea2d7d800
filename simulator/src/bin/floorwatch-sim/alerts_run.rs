//! `report --alerts`: the default alert rules evaluated over a recorded file exactly as the
//! server's floor steps them (tick the engine to each 10-second boundary crossed, evaluate the
//! boundaries the alerts say are due, then apply the event), with nothing else around: the
//! alert book's own cost in a replay, measured offline (BENCHMARKS.md, "Fourth pass: alert
//! boundaries"), and its changes, to compare two builds byte for byte.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use floorwatch_core::alerts::{
    AlertChange, Alerts, AlertsConfig, EVALUATION_PERIOD_MS, boundaries,
};
use floorwatch_core::{Engine, Event, Millis, Organisation};

/// Before this the engine's clock has not been set by an event (the server's rule too).
const CLOCK_UNSET_BEFORE: Millis = 946_684_800_000;

/// The alerts of one report run and what they did.
pub(crate) struct AlertRun {
    alerts: Alerts,
    changes: Vec<AlertChange>,
    /// Boundaries evaluated (due) and crossed in all.
    evaluated: u64,
    crossed: u64,
    /// Time spent ticking and evaluating boundaries.
    spent: Duration,
}

impl AlertRun {
    /// The default rules for `org`.
    pub(crate) fn new(org: &Organisation) -> Result<AlertRun> {
        let alerts = Alerts::new(&AlertsConfig::default(), org)
            .context("the default alert rules do not fit the organisation")?;
        Ok(AlertRun {
            alerts,
            changes: Vec::new(),
            evaluated: 0,
            crossed: 0,
            spent: Duration::ZERO,
        })
    }

    /// Evaluates the boundaries up to the event's time, then applies and observes it.
    pub(crate) fn apply(&mut self, engine: &mut Engine, event: &Event) {
        let now = engine.now();
        if event.ts > now && now >= CLOCK_UNSET_BEFORE {
            let started = Instant::now();
            self.crossed += (event.ts.div_euclid(EVALUATION_PERIOD_MS)
                - now.div_euclid(EVALUATION_PERIOD_MS)) as u64;
            let mut next = boundaries(now, event.ts).next();
            while let Some(boundary) = next.filter(|&b| b <= event.ts) {
                if !self.alerts.is_due(boundary) {
                    let wake = self.alerts.rests_until().unwrap_or(boundary);
                    next = Some(wake.max(boundary + EVALUATION_PERIOD_MS));
                    continue;
                }
                self.evaluated += 1;
                engine.tick(boundary);
                let evaluation = self.alerts.evaluate(engine, boundary);
                self.changes.extend(evaluation.changes);
                next = Some(boundary + EVALUATION_PERIOD_MS);
            }
            self.spent += started.elapsed();
        }
        let applied = engine.apply(event);
        self.alerts.observe(event, applied);
    }

    /// Prints what the alerts did and writes their changes to `changes_to`, if given.
    pub(crate) fn finish(self, changes_to: Option<&Path>) -> Result<()> {
        println!(
            "alerts: {} boundaries crossed, {} evaluated in {:.3} s ({:.1} us each), {} changes, {} alerts",
            self.crossed,
            self.evaluated,
            self.spent.as_secs_f64(),
            self.spent.as_secs_f64() * 1e6 / self.evaluated.max(1) as f64,
            self.changes.len(),
            self.alerts.book().len(),
        );
        if let Some(path) = changes_to {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let mut out = std::io::BufWriter::new(file);
            for change in &self.changes {
                serde_json::to_writer(&mut out, change)?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
        }
        Ok(())
    }
}
