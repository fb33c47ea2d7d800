//! `floorwatch-sim`: record simulated call days, stream or replay them into a Floorwatch
//! server at any speed, and report a day's figures with the core engine.
//!
//! ```text
//! floorwatch-sim generate --scenario small --date 2026-03-09 --seed 42 -o day.ndjson
//! floorwatch-sim replay day.ndjson --speed 60 --to http://127.0.0.1:8080
//! floorwatch-sim run --scenario medium --start now --speed 1 --to http://127.0.0.1:8080
//! floorwatch-sim report day.ndjson
//! floorwatch-sim ami-server --scenario small --date 2026-03-09 --speed 60 --port 5038
//! floorwatch-sim esl-server --scenario small --date 2026-03-09 --speed 60 --port 8021
//! ```

mod alerts_run;
mod ami_server;
mod args;
mod esl_server;
mod format;
mod generate;
mod ingest;
mod ingest_socket;
mod pacing;
mod progress;
mod report;
mod stop;
mod stream;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use floorwatch_sim::Scenario;

use crate::args::{ReplayArgs, RunArgs};

#[derive(Debug, Parser)]
#[command(
    name = "floorwatch-sim",
    version,
    about = "Simulated call-centre days for Floorwatch: generate, stream, replay, report, and serve as a fake Asterisk or FreeSWITCH switch"
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
    /// Serve a simulated day as a fake FreeSWITCH with mod_callcenter over its event socket
    /// (ESL), for testing a Floorwatch `freeswitch-esl` source; it can drop its clients'
    /// connections on demand or at random.
    EslServer(esl_server::EslServerArgs),
    /// Print a scenario's organisation (centre, sites, groups, teams, agents, queues) as the
    /// server's TOML config, so `floorwatch --config FILE` knows the floor being simulated.
    #[command(alias = "org")]
    Organisation {
        /// A preset (small, medium, large) or a scenario TOML file.
        #[arg(long, short, default_value = "small")]
        scenario: String,
    },
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
            let runtime = sending_runtime()?;
            runtime.block_on(stream::run(&args))
        }
        Command::Replay(args) => {
            let runtime = sending_runtime()?;
            runtime.block_on(stream::replay(&args))
        }
        Command::Report(args) => report::report(&args),
        Command::AmiServer(args) => {
            let runtime = runtime()?;
            runtime.block_on(ami_server::serve(&args))
        }
        Command::EslServer(args) => {
            let runtime = runtime()?;
            runtime.block_on(esl_server::serve(&args))
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

/// `run` and `replay`: the next batch is read and parsed on this thread while the one before
/// is in flight on the runtime's one worker (`stream::InFlight`), so the replay's own parsing
/// overlaps the server's work instead of adding to it (issue 15).
fn sending_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
