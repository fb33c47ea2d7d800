//! Pre-compressed copies of the bundle's text and wasm files (issue 15 item 5): beside each
//! `NAME`, `NAME.gz` (zopfli: gzip any browser reads, some 5 % smaller than `gzip -9`) and
//! `NAME.br` (brotli, quality 11). The server sends the smallest one the browser accepts
//! (`server/src/http/assets.rs`), so compression costs the build once, never a request, and
//! the size budgets (`size.rs`) measure exactly the bytes on the wire.

use std::io::Write;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Files worth compressing: everything a page loads but images.
const COMPRESSED_EXTENSIONS: [&str; 5] = ["wasm", "js", "css", "html", "svg"];
/// Brotli's window: 4 MB, more than any file of ours, so the whole file is one window.
const BROTLI_WINDOW_BITS: u32 = 22;
/// Brotli's best (slowest) quality: the build pays it once.
const BROTLI_QUALITY: u32 = 11;
/// Zopfli's iterations. Its default (15) takes about twice as long for a few hundred bytes
/// more on our wasm; five keep `cargo xtask dist` quick.
const ZOPFLI_ITERATIONS: u64 = 5;

/// The pre-compressed copies' suffixes, for the size check and the server.
pub const GZIP_SUFFIX: &str = "gz";
pub const BROTLI_SUFFIX: &str = "br";

/// Writes `.gz` and `.br` beside every compressible file under `dir`, recursively.
pub fn write_beside(dir: &Path) -> anyhow::Result<()> {
    for path in compressible_files(dir)? {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        std::fs::write(with_suffix(&path, GZIP_SUFFIX), gzip(&bytes)?)
            .with_context(|| format!("writing the gzip copy of {}", path.display()))?;
        std::fs::write(with_suffix(&path, BROTLI_SUFFIX), brotli(&bytes)?)
            .with_context(|| format!("writing the brotli copy of {}", path.display()))?;
    }
    Ok(())
}

/// `path` with `.suffix` appended (`a.wasm` → `a.wasm.gz`).
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

/// Gzip with zopfli: the same format any browser inflates, found by a slower search.
pub fn gzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let options = zopfli::Options {
        iteration_count: NonZeroU64::new(ZOPFLI_ITERATIONS).unwrap_or(NonZeroU64::MIN),
        ..zopfli::Options::default()
    };
    let mut out = Vec::with_capacity(bytes.len() / 3);
    zopfli::compress(options, zopfli::Format::Gzip, bytes, &mut out).context("zopfli")?;
    Ok(out)
}

/// Brotli at its best quality.
pub fn brotli(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() / 3);
    {
        let mut writer =
            brotli::CompressorWriter::new(&mut out, 64 * 1024, BROTLI_QUALITY, BROTLI_WINDOW_BITS);
        writer.write_all(bytes).context("brotli")?;
        writer.flush().context("brotli")?;
    }
    Ok(out)
}

fn compressible_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| COMPRESSED_EXTENSIONS.contains(&e))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn both_copies_decompress_to_the_file_and_only_compressible_files_get_them() {
        let dir = std::env::temp_dir().join(format!("xtask-precompress-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let text = "export function f() { return 42; }\n".repeat(200);
        std::fs::write(dir.join("sub/app.js"), &text).unwrap();
        std::fs::write(dir.join("logo.png"), b"\x89PNG").unwrap();
        write_beside(&dir).unwrap();

        let gz = std::fs::read(dir.join("sub/app.js.gz")).unwrap();
        let mut inflated = String::new();
        flate2::read::GzDecoder::new(gz.as_slice())
            .read_to_string(&mut inflated)
            .unwrap();
        assert_eq!(inflated, text);
        let br = std::fs::read(dir.join("sub/app.js.br")).unwrap();
        let mut unbrotli = String::new();
        brotli::Decompressor::new(br.as_slice(), 4096)
            .read_to_string(&mut unbrotli)
            .unwrap();
        assert_eq!(unbrotli, text);
        assert!(br.len() < text.len() / 10 && gz.len() < text.len() / 10);
        assert!(!dir.join("logo.png.gz").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
