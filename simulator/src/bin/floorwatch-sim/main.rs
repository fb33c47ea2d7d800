//! `floorwatch-sim`: record simulated call days, stream or replay them into a Floorwatch
//! server at any speed, and report a day's figures with the core engine.
//!
//! ```text
//! floorwatch-sim generate --scenario small --date 2026-03-09 --seed 42 -o day.ndjson
//! floorwatch-sim replay day.ndjson --speed 60 --to http://127.0.0.1:8080
//! floorwatch-sim run --scenario medium --start now --speed 1 --to http://127.0.0.1:8080
//! floorwatch-sim report day.ndjson
//! floorwatch-sim ami-server --scenario small --date 2026-03-09 --speed 60 --port 5038
//! ```

mod ami_server;
mod format;
mod generate;
mod ingest;
mod pacing;
mod progress;
mod report;
mod stream;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use floorwatch_sim::Scenario;

use crate::format::Format;
use crate::pacing::Speed;

#[derive(Debug, Parser)]
#[command(
    name = "floorwatch-sim",
    version,
    about = "Simulated call-centre days for Floorwatch: generate, stream, replay, report, and serve as a fake Asterisk switch"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a day and write it to a file (NDJSON canonical events, or an Asterisk queue_log).
    Generate(generate::GenerateArgs),
    /// Simulate a day and stream it to a server as it is simulated.
    Run(RunArgs),
    /// Replay a recorded day into a server, keeping its spacing scaled by the speed.
    Replay(ReplayArgs),
    /// Print a recorded day's figures per queue and for the centre, computed by the core engine.
    Report(report::ReportArgs),
    /// Serve a simulated day as a fake Asterisk switch over AMI (the Asterisk Manager
    /// Interface), for testing a Floorwatch `asterisk-ami` source; it can drop its clients'
    /// connections on demand or at random.
    AmiServer(ami_server::AmiServerArgs),
    /// Print a scenario's organisation (centre, sites, groups, teams, agents, queues) as the
    /// server's TOML config, so `floorwatch --config FILE` knows the floor being simulated.
    #[command(alias = "org")]
    Organisation {
        /// A preset (small, medium, large) or a scenario TOML file.
        #[arg(long, short, default_value = "small")]
        scenario: String,
    },
}

/// Which day of which scenario.
#[derive(Debug, Args)]
struct DayArgs {
    /// A preset (small, medium, large) or a scenario TOML file.
    #[arg(long, short, default_value = "small")]
    scenario: String,
    /// The local date simulated, YYYY-MM-DD [default: today in the centre's time zone].
    #[arg(long)]
    date: Option<jiff::civil::Date>,
    /// The random seed: the same seed gives the same day, byte for byte.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

impl DayArgs {
    fn scenario(&self) -> Result<Scenario> {
        Scenario::load(&self.scenario).map_err(anyhow::Error::from)
    }

    fn date(&self, scenario: &Scenario) -> jiff::civil::Date {
        self.date.unwrap_or_else(|| {
            jiff::Timestamp::now()
                .to_zoned(scenario.calendar().time_zone().clone())
                .date()
        })
    }
}

/// Where and how to send events.
#[derive(Debug, Args)]
struct SendArgs {
    /// The server's base URL, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    to: String,
    /// Replay speed: 1 (real time), 10, 60, any positive number, or max (as fast as the server
    /// acknowledges).
    #[arg(long, default_value = "max")]
    speed: Speed,
    /// The server's ingest token (sent as `Authorization: Bearer`); none: no header.
    #[arg(long, env = "FLOORWATCH_INGEST_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Most events in one request.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    batch: u64,
    /// Give up when the server has been unavailable this long, seconds.
    #[arg(long, default_value_t = 300)]
    retry_for: u64,
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    day: DayArgs,
    /// Start mid-day: a local time HH:MM on --date, or `now` (today, from this moment: with
    /// --speed 1 the events carry the wall clock's time). Agents already on shift show at once.
    #[arg(long)]
    start: Option<String>,
    #[command(flatten)]
    send: SendArgs,
}

#[derive(Debug, Args)]
struct ReplayArgs {
    /// The recorded day (`-` for standard input).
    file: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Ndjson)]
    format: Format,
    #[command(flatten)]
    send: SendArgs,
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    // reqwest is built without a crypto provider of its own: ring serves every client
    // (`--to https://...` included). Only fails if one was installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("floorwatch-sim: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Generate(args) => generate::generate(&args),
        Command::Run(args) => {
            let runtime = runtime()?;
            runtime.block_on(stream::run(&args))
        }
        Command::Replay(args) => {
            let runtime = runtime()?;
            runtime.block_on(stream::replay(&args))
        }
        Command::Report(args) => report::report(&args),
        Command::AmiServer(args) => {
            let runtime = runtime()?;
            runtime.block_on(ami_server::serve(&args))
        }
        Command::Organisation { scenario } => {
            let org = Scenario::load(&scenario)?.organisation();
            let text = toml::to_string(&org).context("cannot write the organisation as TOML")?;
            print!(
                "# The organisation of scenario `{scenario}`, for `floorwatch --config`.\n{text}"
            );
            Ok(())
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
