//! `cargo xtask dist`: the wallboard bundle, built without trunk or the wasm-bindgen CLI
//! (neither installs here: see /work/shared/BUILD-NOTES.md). Steps:
//!
//! 1. make sure the wasm32-unknown-unknown target is installed (`rustup target add`);
//! 2. `cargo build -p floorwatch-dashboard --target wasm32-unknown-unknown --profile wasm-release`
//!    into its own target dir (`target/wasm`), so it never waits on the host build's lock;
//! 3. wasm-bindgen in-process, `--target web` output, into a fresh `target/dist/`;
//! 4. `wasm-opt` (binaryen, installed by `scripts/setup`) shrinks the bindgen output in place;
//! 5. `index.html`, `style.css` and `boot.js` from `dashboard/` beside it;
//! 6. steps 2 to 5 again for the reports page (the dashboard with its `reports` feature: a
//!    module of its own, so the TV never loads it) into `target/dist/reports/`, with
//!    `dashboard/reports/`'s page, boot script and style sheet;
//! 7. content-hashed names for every file but the pages (`fingerprint.rs`), so the server can
//!    let browsers keep them for good;
//! 8. gzip (zopfli) and brotli copies beside each file (`precompress.rs`), what the server sends;
//! 9. fail when a module's wasm + JS, gzipped as sent, is above its budget (`size.rs`): the
//!    TV's bundle 250 KB, the reports page its own.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use clap::Args;

use crate::size;

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const PACKAGE: &str = "floorwatch-dashboard";
/// The library's file stem: the crate name with `-` as `_`.
const STEM: &str = "floorwatch_dashboard";
const PROFILE: &str = "wasm-release";
/// Files copied verbatim from `dashboard/` into the bundle.
const STATIC_FILES: [&str; 3] = ["index.html", "style.css", "boot.js"];
/// The reports page's module: the same crate with this feature.
const REPORTS_FEATURE: &str = "reports";
/// The reports page's file stem, and its directory in the bundle (served at `/reports`).
const REPORTS_STEM: &str = "floorwatch_reports";
const REPORTS_DIR: &str = "reports";
/// Files copied verbatim from `dashboard/reports/` into `target/dist/reports/`.
const REPORTS_FILES: [&str; 3] = ["index.html", "boot.js", "reports.css"];

#[derive(Args, Default)]
pub struct DistArgs {
    /// Only measure an existing target/dist (no build).
    #[arg(long)]
    check_size_only: bool,
    /// Keep the wasm name section, so browser profiles show Rust function names. The bundle
    /// then exceeds the size limit; the check is reported but does not fail.
    #[arg(long, conflicts_with = "check_size_only")]
    keep_names: bool,
}

pub fn run(args: &DistArgs) -> anyhow::Result<()> {
    let root = workspace_root();
    let dist = root.join("target").join("dist");
    if !args.check_size_only {
        ensure_wasm_target()?;
        if dist.exists() {
            std::fs::remove_dir_all(&dist)
                .with_context(|| format!("removing {}", dist.display()))?;
        }
        let wasm = build(&root, None)?;
        write_module(&wasm, &dist, STEM, args.keep_names)?;
        copy_files(&root.join("dashboard"), &STATIC_FILES, &dist)?;
        crate::wasm_opt::shrink(&dist.join(format!("{STEM}_bg.wasm")), args.keep_names)?;

        let reports = dist.join(REPORTS_DIR);
        let wasm = build(&root, Some(REPORTS_FEATURE))?;
        write_module(&wasm, &reports, REPORTS_STEM, args.keep_names)?;
        copy_files(
            &root.join("dashboard").join(REPORTS_DIR),
            &REPORTS_FILES,
            &reports,
        )?;
        crate::wasm_opt::shrink(
            &reports.join(format!("{REPORTS_STEM}_bg.wasm")),
            args.keep_names,
        )?;
        give_hashed_names(&dist, &reports)?;
        crate::precompress::write_beside(&dist)?;
        println!("bundle written to {}", dist.display());
    }
    let reports = dist.join(REPORTS_DIR);
    let checks = [
        (
            "the wallboard (TV) bundle",
            &dist,
            size::measure(&dist, Some(&reports))?,
            size::LIMIT_GZIP_BYTES,
        ),
        (
            "the reports page",
            &reports,
            size::measure(&reports, None)?,
            size::REPORTS_LIMIT_GZIP_BYTES,
        ),
    ];
    let mut failed = None;
    for (name, dir, sizes, limit) in &checks {
        println!("{name}:");
        if let Err(e) = size::check(dir, sizes, name, *limit) {
            failed.get_or_insert(e);
        }
    }
    match failed {
        Some(e) if args.keep_names => {
            println!("(profiling build, size not enforced: {e})");
            Ok(())
        }
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Renames every file the pages load to its content-hashed name, leaves first, rewriting the
/// files that name it (`fingerprint.rs`). Only the two `index.html` keep their names: they are
/// the entry points, served with `Cache-Control: no-cache`.
fn give_hashed_names(dist: &Path, reports: &Path) -> anyhow::Result<()> {
    use crate::fingerprint::rename;
    for (dir, stem, style) in [
        (dist, STEM, "style.css"),
        (reports, REPORTS_STEM, "reports.css"),
    ] {
        let page = dir.join("index.html");
        let glue = format!("{stem}.js");
        rename(
            dir,
            &format!("{stem}_bg.wasm"),
            &[dir.join(&glue), page.clone()],
        )?;
        rename(dir, &glue, &[dir.join("boot.js")])?;
        rename(dir, "boot.js", std::slice::from_ref(&page))?;
        // The reports page takes the wallboard's style sheet too (`/style.css`).
        let mut pages = vec![page];
        if dir == dist {
            pages.push(reports.join("index.html"));
        }
        rename(dir, style, &pages)?;
    }
    Ok(())
}

/// The workspace root: xtask lives one level below it.
pub(crate) fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or(manifest_dir.clone(), Path::to_path_buf)
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// A fresh machine has only the host's standard library: add the wasm target's.
fn ensure_wasm_target() -> anyhow::Result<()> {
    let installed = match Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
    {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        // No rustup: the toolchain came from elsewhere; let cargo say whether it has the target.
        _ => return Ok(()),
    };
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        return Ok(());
    }
    println!("installing the {WASM_TARGET} target (rustup target add {WASM_TARGET})");
    let status = Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .status()
        .context("running rustup")?;
    if !status.success() {
        bail!("`rustup target add {WASM_TARGET}` failed ({status})");
    }
    Ok(())
}

/// Builds the dashboard for wasm32 (with `feature`, if any) and returns the path of its `.wasm`.
fn build(root: &Path, feature: Option<&str>) -> anyhow::Result<PathBuf> {
    let target_dir = root.join("target").join("wasm");
    let status = cargo()
        .current_dir(root)
        .args([
            "build",
            "--package",
            PACKAGE,
            "--lib",
            "--target",
            WASM_TARGET,
        ])
        .args(["--profile", PROFILE])
        .args(feature.map(|f| ["--features", f]).into_iter().flatten())
        .arg("--target-dir")
        .arg(&target_dir)
        .status()
        .context("running cargo build for the dashboard")?;
    if !status.success() {
        bail!("building {PACKAGE} for {WASM_TARGET} failed ({status})");
    }
    let wasm = target_dir
        .join(WASM_TARGET)
        .join(PROFILE)
        .join(format!("{STEM}.wasm"));
    anyhow::ensure!(
        wasm.is_file(),
        "expected {} after the build",
        wasm.display()
    );
    Ok(wasm)
}

/// Writes the bindgen output of `wasm` into `dir`, named `stem`.
fn write_module(wasm: &Path, dir: &Path, stem: &str, keep_names: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen
        .input_path(wasm)
        .out_name(stem)
        .web(true)?
        // The library defaults this to true, unlike the CLI; without the default module path
        // the page fails with "WebAssembly.instantiate(): Argument 0 must be a buffer source".
        .omit_default_module_path(false)
        .typescript(false)
        // Function names only help a debugger or a profiler; on the wire they would double
        // the download.
        .remove_name_section(!keep_names)
        .remove_producers_section(true)
        .generate(dir)
        .with_context(|| format!("running wasm-bindgen on {stem}"))
}

/// Copies `names` from `source` into `dir`.
fn copy_files(source: &Path, names: &[&str], dir: &Path) -> anyhow::Result<()> {
    for name in names {
        std::fs::copy(source.join(name), dir.join(name)).with_context(|| {
            format!(
                "copying {} into {}",
                source.join(name).display(),
                dir.display()
            )
        })?;
    }
    Ok(())
}
