//! The bundles' size budgets: the wallboard's (the TV's first load, issue 5) at most 250 KB of
//! wasm + JS gzipped; the reports page (issue 12), a module of its own loaded only at
//! `/reports`, at most 200 KB. Measured on the pre-compressed copies the server sends
//! (`precompress.rs`): gzip, what every browser accepts (Chromium asks brotli only of HTTPS
//! origins, and a wall on a plain-HTTP LAN is common), with brotli's size shown beside it.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::precompress::{BROTLI_SUFFIX, GZIP_SUFFIX, with_suffix};

/// 250 KB, in bytes (decimal kilobytes, the stricter reading).
pub const LIMIT_GZIP_BYTES: u64 = 250_000;
/// The reports page's budget: 200 KB, about 23 % above its size when it was built (BENCHMARKS.md,
/// "Bundle size"), so it may grow a little but never unnoticed.
pub const REPORTS_LIMIT_GZIP_BYTES: u64 = 200_000;

/// One shipped file's size raw and as sent (its pre-compressed copies).
pub struct FileSize {
    pub path: PathBuf,
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

/// The sizes of every `.wasm` and `.js` file under `dir` but those under `skip` (another
/// module's directory), raw and pre-compressed, largest first.
pub fn measure(dir: &Path, skip: Option<&Path>) -> anyhow::Result<Vec<FileSize>> {
    let mut sizes = Vec::new();
    for path in shipped_files(dir, skip)? {
        let len = |path: &Path| {
            std::fs::metadata(path).map(|m| m.len()).with_context(|| {
                format!(
                    "no {} (pre-compressed copies are written by `cargo xtask dist`)",
                    path.display()
                )
            })
        };
        sizes.push(FileSize {
            raw: len(&path)?,
            gzip: len(&with_suffix(&path, GZIP_SUFFIX))?,
            brotli: len(&with_suffix(&path, BROTLI_SUFFIX))?,
            path,
        });
    }
    sizes.sort_by_key(|s| std::cmp::Reverse(s.gzip));
    Ok(sizes)
}

fn shipped_files(dir: &Path, skip: Option<&Path>) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                if skip != Some(path.as_path()) {
                    pending.push(path);
                }
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("wasm" | "js")
            ) {
                files.push(path);
            }
        }
    }
    Ok(files)
}

/// Prints the sizes of `name` and fails above its budget, `limit`.
pub fn check(dir: &Path, sizes: &[FileSize], name: &str, limit: u64) -> anyhow::Result<()> {
    anyhow::ensure!(
        sizes
            .iter()
            .any(|s| s.path.extension().is_some_and(|e| e == "wasm")),
        "no .wasm file in {}: run `cargo xtask dist` first",
        dir.display()
    );
    println!("{:>10} {:>10} {:>10}  file", "bytes", "gzip", "brotli");
    for s in sizes {
        let name = s.path.strip_prefix(dir).unwrap_or(&s.path);
        println!(
            "{:>10} {:>10} {:>10}  {}",
            s.raw,
            s.gzip,
            s.brotli,
            name.display()
        );
    }
    let total: u64 = sizes.iter().map(|s| s.gzip).sum();
    println!(
        "{:>10} {:>10} {:>10}  total wasm + js (limit {limit} gzipped)",
        sizes.iter().map(|s| s.raw).sum::<u64>(),
        total,
        sizes.iter().map(|s| s.brotli).sum::<u64>(),
    );
    anyhow::ensure!(
        total <= limit,
        "{name} is {total} bytes gzipped, over its {limit}-byte limit"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_only_wasm_and_js_and_fails_over_the_limit() {
        let dir = std::env::temp_dir().join(format!("xtask-size-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("snippets")).unwrap();
        std::fs::write(dir.join("app.js"), "export const a = 1;\n".repeat(50)).unwrap();
        std::fs::write(dir.join("snippets/x.js"), "x").unwrap();
        std::fs::write(dir.join("index.html"), "<html>").unwrap();
        // Not pre-compressed yet: nothing to measure what is sent.
        let err = measure(&dir, None).err().unwrap();
        assert!(format!("{err:#}").contains("cargo xtask dist"), "{err:#}");
        crate::precompress::write_beside(&dir).unwrap();
        let sizes = measure(&dir, None).unwrap();
        assert_eq!(sizes.len(), 2);
        assert!(sizes[0].gzip < sizes[0].raw);
        // Another module's directory is measured on its own.
        assert_eq!(measure(&dir, Some(&dir.join("snippets"))).unwrap().len(), 1);
        // No wasm yet: not a bundle.
        assert!(check(&dir, &sizes, "tv", LIMIT_GZIP_BYTES).is_err());

        // Incompressible bytes over the limit must fail; a small module must pass.
        let mut noise = Vec::with_capacity(LIMIT_GZIP_BYTES as usize + 1000);
        let mut x: u32 = 2_463_534_242;
        while noise.len() < LIMIT_GZIP_BYTES as usize + 1000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            noise.extend_from_slice(&x.to_le_bytes());
        }
        std::fs::write(dir.join("app_bg.wasm"), &noise).unwrap();
        crate::precompress::write_beside(&dir).unwrap();
        let err = check(&dir, &measure(&dir, None).unwrap(), "tv", LIMIT_GZIP_BYTES).unwrap_err();
        assert!(err.to_string().contains("over its"), "{err}");
        std::fs::write(dir.join("app_bg.wasm"), b"\0asm").unwrap();
        crate::precompress::write_beside(&dir).unwrap();
        check(&dir, &measure(&dir, None).unwrap(), "tv", LIMIT_GZIP_BYTES).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
