//! `floorwatch`: the server binary. See `floorwatch --help`.

use std::process::ExitCode;

use clap::Parser;
use floorwatch_server::{Cli, Settings};
use tracing_subscriber::EnvFilter;

/// mimalloc rather than glibc's allocator (issue 15, item 1: a replay within twice the offline
/// report). The recorder thread allocates and frees a few blocks for each event it applies, and
/// the `recorder-drop` thread frees what the ingest tasks allocated (server/src/recorder.rs);
/// glibc's `malloc`/`free` were about 15 % of the recorder's samples. With mimalloc the
/// recorder's CPU on the large day is 12 % lower (22 % in the seventh pass, with huge pages),
/// the output the same (BENCHMARKS.md, "Seventh pass: the recorder thread's per-event cost"
/// and "Eighth pass: the recorder thread's allocator"). Memory meets issue 15's item 6 (under
/// 250 MB, flat day over day) only without transparent huge pages for its arenas (the
/// `no_thp` feature, server/Cargo.toml: with them 100-170 MB sat in 2 MB pages a few live
/// blocks kept resident) and with its freed pages purged when the server gives memory back
/// (`heap::give_back` in server/src/heap.rs, `mi_collect`). glibc still serves the C libraries
/// (SQLite, zstd), so its `malloc_trim` stays too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
