//! `cargo xtask`: project chores that need more than one cargo command.
//!
//! - `cargo xtask dist` builds the wallboard (package `floorwatch-dashboard`) for
//!   wasm32-unknown-unknown, runs wasm-bindgen in-process and binaryen's `wasm-opt`, writes the
//!   bundle into `target/dist/` (which the server serves at `/`) and fails when the shipped
//!   wasm + JS exceed 250 KB gzipped.
//! - `cargo xtask dist --check-size-only` measures an existing `target/dist/` without building.
//! - `cargo xtask package` writes `target/package/floorwatch-VERSION-linux-ARCH.tar.gz`: the
//!   release server with the bundle built in, the example config, the systemd unit and
//!   docs/DEPLOY.md, to extract into `/` (`--skip-dist` packages the existing bundle).
//! - `cargo xtask check-imports [CRATE…]` fails when a crate's files import each other in a
//!   cycle (default: core, simulator, dashboard, server).

mod dist;
mod fingerprint;
mod imports;
mod package;
mod precompress;
mod size;
mod wasm_opt;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Floorwatch project chores")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the wallboard bundle into target/dist and check its size.
    Dist(dist::DistArgs),
    /// Write the tarball of an installable server (docs/DEPLOY.md).
    Package(package::PackageArgs),
    /// Fail when the files of a crate import each other in a cycle.
    CheckImports(imports::CheckImportsArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Dist(args) => dist::run(&args),
        Command::Package(args) => package::run(&args),
        Command::CheckImports(args) => imports::run(&args),
    }
}
