//! `floorwatch`: the server binary. See `floorwatch --help`.

use std::process::ExitCode;

use clap::Parser;
use floorwatch_server::{Cli, Settings};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    if let Some(code) = cli.run_command() {
        return code;
    }
    let settings = match Settings::load(cli) {
        Ok(settings) => settings,
        Err(e) => {
            // Before logging is set up: the one line an operator needs, naming the key.
            eprintln!("floorwatch: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(settings.json_logs());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(floorwatch_server::run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "floorwatch stopped on an error");
            ExitCode::FAILURE
        }
    }
}

/// Structured logs on stderr; `RUST_LOG` filters (default `info`).
fn init_logging(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
