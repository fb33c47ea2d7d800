//! The arguments several subcommands share: which day of which scenario, and where and how to
//! send its events.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use floorwatch_sim::Scenario;

use crate::format::Format;
use crate::pacing::Speed;

/// Which day of which scenario.
#[derive(Debug, Args)]
pub(crate) struct DayArgs {
    /// A preset (small, medium, large) or a scenario TOML file.
    #[arg(long, short, default_value = "small")]
    pub(crate) scenario: String,
    /// The local date simulated, YYYY-MM-DD [default: today in the centre's time zone].
    #[arg(long)]
    pub(crate) date: Option<jiff::civil::Date>,
    /// The random seed: the same seed gives the same day, byte for byte.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
}

impl DayArgs {
    pub(crate) fn scenario(&self) -> Result<Scenario> {
        Scenario::load(&self.scenario).map_err(anyhow::Error::from)
    }

    pub(crate) fn date(&self, scenario: &Scenario) -> jiff::civil::Date {
        self.date.unwrap_or_else(|| {
            jiff::Timestamp::now()
                .to_zoned(scenario.calendar().time_zone().clone())
                .date()
        })
    }
}

/// Where and how to send events.
#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// The server's base URL, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub(crate) to: String,
    /// Replay speed: 1 (real time), 10, 60, any positive number, or max (as fast as the server
    /// acknowledges).
    #[arg(long, default_value = "max")]
    pub(crate) speed: Speed,
    /// The server's ingest token (sent as `Authorization: Bearer`); none: no header.
    #[arg(long, env = "FLOORWATCH_INGEST_TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// Most events in one request.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub(crate) batch: u64,
    /// Batches sent ahead of their acknowledgements, over the server's ingest websocket, so it
    /// records one while it reads the next (http:// only). 1: one `POST` at a time, each
    /// acknowledged before the next (always so for https://).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub(crate) in_flight: u64,
    /// Give up when the server has been unavailable this long, seconds.
    #[arg(long, default_value_t = 300)]
    pub(crate) retry_for: u64,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) day: DayArgs,
    /// Start mid-day: a local time HH:MM on --date, or `now` (today, from this moment: with
    /// --speed 1 the events carry the wall clock's time). Agents already on shift show at once.
    #[arg(long)]
    pub(crate) start: Option<String>,
    #[command(flatten)]
    pub(crate) send: SendArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// The recorded day (`-` for standard input).
    pub(crate) file: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Ndjson)]
    pub(crate) format: Format,
    #[command(flatten)]
    pub(crate) send: SendArgs,
}
