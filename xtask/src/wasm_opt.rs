//! binaryen's `wasm-opt` on the bindgen output: about 8 KB off the gzipped bundle
//! (BENCHMARKS.md, "Bundle size").
//!
//! The flags were chosen by measuring the gzipped size, not the raw size: `-Oz` as it stands
//! makes the module 15 % smaller raw but 11 % *larger* gzipped, because inlining functions that
//! have one caller breaks up the repeated code gzip feeds on. Optimising for size with that
//! inlining limited to small functions (`-ocimfs 10`) gives the smallest download.
//!
//! wasm-opt is a Debian package (`binaryen`), not a crate, so `scripts/setup` installs it. A
//! missing wasm-opt fails the build: a silently unoptimised bundle would pass or fail the size
//! check depending on the machine.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

const WASM_OPT: &str = "wasm-opt";

/// The optimisation: size first, one-caller inlining only for functions up to 10 instructions.
const OPTIMISE: [&str; 3] = ["-Os", "--one-caller-inline-max-function-size", "10"];

/// The WebAssembly features rustc emits for wasm32-unknown-unknown (its default target CPU,
/// "generic", since Rust 1.82/LLVM 19 and 1.87/LLVM 20). wasm-opt refuses a module using a
/// feature not listed, so a toolchain that starts emitting a new one fails here, loudly.
const FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// Optimises `wasm` in place. `keep_names` keeps the name section (`-g`) for profiling builds.
pub fn shrink(wasm: &Path, keep_names: bool) -> anyhow::Result<()> {
    let version = Command::new(WASM_OPT).arg("--version").output();
    match version {
        Ok(out) if out.status.success() => {}
        _ => bail!(
            "`{WASM_OPT}` (Debian package binaryen) is not installed or does not run; \
             run ./scripts/setup, which installs it"
        ),
    }
    let optimised = wasm.with_extension("opt.wasm");
    let mut command = Command::new(WASM_OPT);
    command.args(OPTIMISE).args(FEATURES);
    if keep_names {
        command.arg("--debuginfo");
    }
    let status = command
        .arg(wasm)
        .arg("-o")
        .arg(&optimised)
        .status()
        .with_context(|| format!("running {WASM_OPT}"))?;
    if !status.success() {
        bail!("`{WASM_OPT}` failed on {} ({status})", wasm.display());
    }
    let before = std::fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let mut after =
        std::fs::read(&optimised).with_context(|| format!("reading {}", optimised.display()))?;
    repair_table_exports(&before, &mut after)?;
    std::fs::write(wasm, &after).with_context(|| format!("writing {}", wasm.display()))?;
    std::fs::remove_file(&optimised).with_context(|| format!("removing {}", optimised.display()))
}

/// binaryen 108 (Debian's) writes every exported table as table 0: wasm-bindgen's module has
/// a funcref table 0 and exports its externref table 1 as `__wbindgen_externrefs`, so after
/// wasm-opt the export names the funcref table and the page dies at start with "Table.set():
/// function-typed object must be null ... or a Wasm function object" (seen in Chromium; the
/// tables themselves and the code are written correctly). This points each exported table
/// back at the table of the element type it had before; a module whose exports are right is
/// left as it is.
fn repair_table_exports(before: &[u8], after: &mut [u8]) -> anyhow::Result<()> {
    let (types_before, exports_before) = tables(before)?;
    let (types_after, exports_after) = tables(after)?;
    for (name, (_, index)) in &exports_after {
        let Some((_, (_, wanted))) = exports_before.iter().find(|(n, _)| n == name) else {
            bail!("wasm-opt added the table export {name}");
        };
        let Some(&wanted_type) = types_before.get(*wanted as usize) else {
            bail!("table export {name} names no table before wasm-opt");
        };
        if types_after.get(*index as usize) == Some(&wanted_type) {
            continue;
        }
        let mut same = types_after
            .iter()
            .enumerate()
            .filter(|(_, t)| **t == wanted_type);
        let (Some((fixed, _)), None) = (same.next(), same.next()) else {
            bail!("cannot tell which table the export {name} should name after wasm-opt");
        };
        // Indices below 128 are one LEB byte: patch in place.
        let fixed = u8::try_from(fixed).ok().filter(|f| *f < 0x80);
        let at = exports_after
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, (at, _))| *at);
        match (fixed, at) {
            (Some(fixed), Some(at)) if after[at] < 0x80 => after[at] = fixed,
            _ => bail!("cannot repair the table export {name} after wasm-opt"),
        }
    }
    Ok(())
}

/// The element type of every defined table (imported tables are not used by the bundle and
/// make this fail), and every table export as name, (offset of its index byte, index).
type TableExports = Vec<(String, (usize, u32))>;

fn tables(wasm: &[u8]) -> anyhow::Result<(Vec<u8>, TableExports)> {
    let mut types = Vec::new();
    let mut exports = Vec::new();
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        let (size, body) = leb(wasm, at + 1)?;
        let end = body + size as usize;
        anyhow::ensure!(
            end <= wasm.len(),
            "section {id} runs past the end of the module"
        );
        match id {
            2 => {
                // Imports: only a table import would shift table indices.
                let (count, mut i) = leb(wasm, body)?;
                for _ in 0..count {
                    for _ in 0..2 {
                        let (len, next) = leb(wasm, i)?;
                        i = next + len as usize;
                    }
                    let kind = *wasm.get(i).context("truncated import")?;
                    anyhow::ensure!(kind != 1, "the module imports a table");
                    i += 1;
                    i = match kind {
                        0 => leb(wasm, i)?.1,
                        2 => {
                            let flags = *wasm.get(i).context("truncated import")?;
                            let i = leb(wasm, i + 1)?.1;
                            if flags & 1 == 1 { leb(wasm, i)?.1 } else { i }
                        }
                        3 => i + 2,
                        _ => bail!("unknown import kind {kind}"),
                    };
                }
            }
            4 => {
                let (count, mut i) = leb(wasm, body)?;
                for _ in 0..count {
                    types.push(*wasm.get(i).context("truncated table")?);
                    let flags = *wasm.get(i + 1).context("truncated table")?;
                    i = leb(wasm, i + 2)?.1;
                    if flags & 1 == 1 {
                        i = leb(wasm, i)?.1;
                    }
                }
            }
            7 => {
                let (count, mut i) = leb(wasm, body)?;
                for _ in 0..count {
                    let (len, name_at) = leb(wasm, i)?;
                    let name_end = name_at + len as usize;
                    let name = wasm.get(name_at..name_end).context("truncated export")?;
                    let kind = *wasm.get(name_end).context("truncated export")?;
                    let (index, next) = leb(wasm, name_end + 1)?;
                    if kind == 1 {
                        let name = String::from_utf8_lossy(name).into_owned();
                        exports.push((name, (name_end + 1, index)));
                    }
                    i = next;
                }
            }
            _ => {}
        }
        at = end;
    }
    Ok((types, exports))
}

/// An unsigned LEB128 at `at`: its value and the offset after it.
fn leb(wasm: &[u8], mut at: usize) -> anyhow::Result<(u32, usize)> {
    let mut value = 0u32;
    for shift in (0..35).step_by(7) {
        let byte = *wasm.get(at).context("truncated LEB128 number")?;
        at += 1;
        value |= u32::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Ok((value, at));
        }
    }
    bail!("LEB128 number too long")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module with a funcref table 0 and an externref table 1 exported as `t`, whose
    /// export names table `index`.
    fn module(index: u8) -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend([4, 7, 2, 0x70, 0, 1, 0x6f, 0, 2]);
        m.extend([7, 5, 1, 1, b't', 1, index]);
        m
    }

    #[test]
    fn a_misnumbered_table_export_is_pointed_back() {
        let before = module(1);
        let mut after = module(0);
        repair_table_exports(&before, &mut after).unwrap();
        assert_eq!(after, before);
        let mut right = module(1);
        repair_table_exports(&before, &mut right).unwrap();
        assert_eq!(right, before);
        assert!(tables(&before[..12]).is_err());
    }
}
