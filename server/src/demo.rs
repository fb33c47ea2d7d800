//! `--demo`: the embedded simulator feeds the server in real time, so a new user sees a live
//! floor at once.
//!
//! The simulator's `small` preset is simulated from the centre's midnight. Everything up to now
//! is recorded at once, so "today" already has a morning of calls behind it when the wallboard
//! opens; everything after is released when the wall clock reaches each event's time. Both go
//! through the same recorder as any other source (journaled, source `sim`). When the simulated
//! day ends the next one starts. Without `--data-dir` the demo writes to a fresh temporary directory, removed at exit:
//! a demo never mixes with a real journal, and every start shows a fresh floor.

use std::iter::Peekable;
use std::time::Duration;

use anyhow::Context;
use floorwatch_core::{Event, Millis};
use floorwatch_sim::{Scenario, Simulation};
use tokio::sync::watch;

use crate::config::Settings;
use crate::recorder::RecorderHandle;

/// The preset the demo runs.
pub const PRESET: &str = "small";
/// Most events recorded in one batch.
const MAX_BATCH: usize = 1_000;

pub struct Demo {
    scenario: Scenario,
    seed: u64,
}

impl Demo {
    /// Loads the scenario and gives the server its organisation.
    pub fn prepare(settings: &mut Settings) -> anyhow::Result<Demo> {
        let scenario = Scenario::preset(PRESET).context("loading the demo scenario")?;
        settings
            .use_organisation(scenario.organisation())
            .context("the demo scenario's organisation")?;
        let seed = settings
            .demo_seed
            .unwrap_or_else(|| wall_ms().unsigned_abs());
        tracing::info!(
            scenario = scenario.name(),
            agents = scenario.agent_count(),
            seed,
            "demo: the embedded simulator feeds the floor in real time"
        );
        Ok(Demo { scenario, seed })
    }

    /// Feeds the recorder until shutdown.
    pub async fn run(self, recorder: RecorderHandle, mut shutdown: watch::Receiver<bool>) {
        let mut day = 0u64;
        loop {
            let start = wall_ms();
            let scenario = self.scenario.clone();
            let seed = self.seed.wrapping_add(day);
            // Simulating the day up to now takes a moment: off the async threads.
            let simulation = tokio::task::spawn_blocking(move || {
                let date = centre_date(&scenario, start)?;
                let mut events = Simulation::new(&scenario, date, seed).peekable();
                events.peek();
                Some(events)
            })
            .await;
            let Ok(Some(simulation)) = simulation else {
                tracing::error!("demo: the simulator failed to start");
                return;
            };
            if !release(simulation, &recorder, &mut shutdown).await {
                return;
            }
            day += 1;
        }
    }
}

/// The centre's local date of the day containing `at`.
fn centre_date(scenario: &Scenario, at: Millis) -> Option<jiff::civil::Date> {
    let calendar = scenario.calendar();
    let start = jiff::Timestamp::from_millisecond(calendar.day_start(at)).ok()?;
    Some(start.to_zoned(calendar.time_zone().clone()).date())
}

/// Releases the simulation's events as the wall clock reaches them: all that are due at once,
/// in batches, then each as its time comes. False on shutdown.
async fn release(
    mut events: Peekable<Simulation>,
    recorder: &RecorderHandle,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    loop {
        let now = wall_ms();
        let mut batch: Vec<Event> = Vec::new();
        while batch.len() < MAX_BATCH {
            match events.next_if(|e| e.ts <= now) {
                Some(event) => batch.push(event),
                None => break,
            }
        }
        if !batch.is_empty() {
            if let Err(e) = recorder.record(batch).await {
                tracing::warn!(error = %e, "demo: events not recorded");
            }
            continue;
        }
        let Some(next) = events.peek() else {
            tracing::info!("demo: the simulated day ended; starting the next");
            return true;
        };
        let wait = Duration::from_millis((next.ts - now).clamp(1, 1_000) as u64);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return false,
        }
        if *shutdown.borrow() {
            return false;
        }
    }
}

fn wall_ms() -> Millis {
    jiff::Timestamp::now().as_millisecond()
}
