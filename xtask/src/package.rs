//! `cargo xtask package`: the tarball a server machine needs (docs/DEPLOY.md).
//!
//! 1. the wallboard bundle (`cargo xtask dist`, with its size check), unless `--skip-dist`;
//! 2. the server in release (or `--profile`), which embeds `target/dist`
//!    (server/src/http/assets.rs);
//! 3. a tarball whose paths are relative to `/`: the binary in `usr/local/bin`, the example
//!    config in `etc/floorwatch`, the systemd unit in `etc/systemd/system`, docs/DEPLOY.md in
//!    `usr/local/share/doc/floorwatch`.
//!
//! The tarball is reproducible from the same inputs: entries in a fixed order, owned by root,
//! with fixed modes and modification times.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use flate2::Compression;
use flate2::write::GzEncoder;

use crate::dist::{self, DistArgs, workspace_root};

#[derive(clap::Args)]
pub struct PackageArgs {
    /// Package the bundle already in target/dist instead of building it first.
    #[arg(long)]
    skip_dist: bool,
    /// Directory for the tarball [default: target/package].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The cargo profile the server is built with. A machine gets `release`; the package test
    /// (tests/tests/package.rs) uses `package-check` (Cargo.toml), which embeds the bundle as
    /// release does but compiles unoptimised, so CI does not pay for a release build.
    #[arg(long, value_name = "NAME", default_value = "release")]
    profile: String,
}

/// What goes into the tarball: its path there, where it comes from, and its mode.
struct Entry {
    path: &'static str,
    source: PathBuf,
    mode: u32,
}

/// The directories the package owns (every other parent exists on a Debian system).
const OWN_DIRECTORIES: [&str; 2] = ["etc/floorwatch/", "usr/local/share/doc/floorwatch/"];

/// Modification time of every entry: 2026-01-01T00:00:00Z, so the same inputs give the same
/// bytes (a fixed date rather than the epoch, which some tools show as "missing").
const MTIME: u64 = 1_767_225_600;

pub fn run(args: &PackageArgs) -> anyhow::Result<()> {
    let root = workspace_root();
    if !args.skip_dist {
        dist::run(&DistArgs::default())?;
    }
    let bundle = root.join("target").join("dist").join("index.html");
    if !bundle.is_file() {
        bail!(
            "no wallboard bundle at {}: run `cargo xtask dist` first (or drop --skip-dist)",
            bundle.display()
        );
    }
    let built = build_server(&root, &args.profile)?;
    let staging = root.join("target").join("package").join("staging");
    std::fs::create_dir_all(&staging).with_context(|| format!("creating {}", staging.display()))?;
    let binary = staging.join("floorwatch");
    strip_debug_info(&built, &binary)?;
    let entries = [
        Entry {
            path: "usr/local/bin/floorwatch",
            source: binary,
            mode: 0o755,
        },
        Entry {
            path: "etc/floorwatch/floorwatch.toml",
            source: root.join("server").join("floorwatch.example.toml"),
            mode: 0o640,
        },
        Entry {
            path: "etc/systemd/system/floorwatch.service",
            source: root.join("packaging").join("floorwatch.service"),
            mode: 0o644,
        },
        Entry {
            path: "usr/local/share/doc/floorwatch/DEPLOY.md",
            source: root.join("docs").join("DEPLOY.md"),
            mode: 0o644,
        },
    ];
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| root.join("target").join("package"));
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let name = format!(
        "floorwatch-{}-linux-{}.tar.gz",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH
    );
    let tarball = out_dir.join(name);
    write_tarball(&tarball, &entries)?;
    println!("package written to {}", tarball.display());
    Ok(())
}

/// `cargo build --profile PROFILE` of the server's binary; its path as cargo reports it (so
/// `CARGO_TARGET_DIR` is respected).
fn build_server(root: &Path, profile: &str) -> anyhow::Result<PathBuf> {
    let mut child = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(root)
        .args([
            "build",
            "--profile",
            profile,
            "--package",
            "floorwatch-server",
            "--bin",
            "floorwatch",
            "--message-format=json-render-diagnostics",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .context("running cargo build for the server")?;
    let mut executable = None;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.context("reading cargo's output")?;
            let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if message["reason"] == "compiler-artifact"
                && let Some(path) = message["executable"].as_str()
            {
                executable = Some(PathBuf::from(path));
            }
        }
    }
    let status = child.wait().context("waiting for cargo build")?;
    if !status.success() {
        bail!("building the server with the `{profile}` profile failed ({status})");
    }
    executable.context("cargo built the server but named no executable")
}

/// The release profile keeps line tables for profiling (Cargo.toml); the shipped binary does
/// without them (131 MB with them, 23 MB without). binutils' `strip` is on every machine that
/// can build the server (the bundled SQLite is compiled with the C toolchain).
fn strip_debug_info(built: &Path, shipped: &Path) -> anyhow::Result<()> {
    let status = Command::new("strip")
        .arg("--strip-debug")
        .arg("-o")
        .arg(shipped)
        .arg(built)
        .status()
        .context("running `strip` (binutils)")?;
    if !status.success() {
        bail!(
            "`strip --strip-debug {}` failed ({status})",
            built.display()
        );
    }
    Ok(())
}

fn write_tarball(tarball: &Path, entries: &[Entry]) -> anyhow::Result<()> {
    let file = File::create(tarball).with_context(|| format!("creating {}", tarball.display()))?;
    let mut archive = tar::Builder::new(GzEncoder::new(file, Compression::best()));
    // Only the package's own directories: extracting into `/` must not touch the mode or time
    // of `/etc` or `/usr/local`, which GNU tar would reset to the archive's.
    for directory in OWN_DIRECTORIES {
        append(
            &mut archive,
            directory,
            tar::EntryType::Directory,
            0o755,
            &[],
        )?;
    }
    for entry in entries {
        let data = std::fs::read(&entry.source)
            .with_context(|| format!("reading {}", entry.source.display()))?;
        append(
            &mut archive,
            entry.path,
            tar::EntryType::Regular,
            entry.mode,
            &data,
        )?;
    }
    archive
        .into_inner()
        .and_then(GzEncoder::finish)
        .with_context(|| format!("writing {}", tarball.display()))?;
    Ok(())
}

fn append<W: std::io::Write>(
    archive: &mut tar::Builder<W>,
    path: &str,
    kind: tar::EntryType,
    mode: u32,
    data: &[u8],
) -> anyhow::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(MTIME);
    header.set_size(data.len() as u64);
    archive
        .append_data(&mut header, path, data)
        .with_context(|| format!("adding {path} to the tarball"))
}
