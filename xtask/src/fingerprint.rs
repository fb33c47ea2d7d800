//! Content-hashed names (issue 15 item 5): `floorwatch_dashboard_bg.wasm` becomes
//! `floorwatch_dashboard_bg.1a2b3c4d5e.wasm`, and every file that names it is rewritten to the
//! new name. A name then stands for one content forever, so the server can tell browsers to
//! keep it for a year (`Cache-Control: immutable`, `server/src/http/assets.rs`): a wall that
//! reloads fetches only `index.html`, and a new release is picked up at once because its
//! `index.html` names new files.
//!
//! Files are renamed leaves first (the wasm before the glue script that loads it, the glue
//! before `boot.js` that imports it, `boot.js` before the page), so each hash covers the names
//! inside the file. A reference that is not found fails the build: it would mean wasm-bindgen's
//! output changed shape and the page would load a file that no longer exists.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

/// Hex digits of SHA-256 in a name: 40 bits, so two builds' files never share a name by chance.
pub const HASH_HEX_DIGITS: usize = 10;

/// Renames `dir/name` to its content-hashed name and rewrites the references to it in each of
/// `referrers` (each must hold at least one). Returns the new name.
pub fn rename(dir: &Path, name: &str, referrers: &[PathBuf]) -> anyhow::Result<String> {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let hashed = hashed_name(name, &bytes);
    std::fs::rename(&path, dir.join(&hashed))
        .with_context(|| format!("renaming {} to {hashed}", path.display()))?;
    for referrer in referrers {
        let text = std::fs::read_to_string(referrer)
            .with_context(|| format!("reading {}", referrer.display()))?;
        let (rewritten, count) = replace_references(&text, name, &hashed);
        if count == 0 {
            bail!(
                "{} does not name {name}: cannot give it its hashed name (has the page or \
                 wasm-bindgen's output changed?)",
                referrer.display()
            );
        }
        std::fs::write(referrer, rewritten)
            .with_context(|| format!("writing {}", referrer.display()))?;
    }
    Ok(hashed)
}

/// `stem.HASH.ext` for `stem.ext`.
fn hashed_name(name: &str, bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hash: String = digest
        .iter()
        .flat_map(|b| [b >> 4, b & 0xf])
        .take(HASH_HEX_DIGITS)
        .map(|nibble| char::from_digit(u32::from(nibble), 16).unwrap_or('0'))
        .collect();
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
        None => format!("{name}.{hash}"),
    }
}

/// Replaces `name` where it stands as a whole reference: after a quote or a `/`, before a
/// quote (`'x.wasm'`, `"./x.js"`, `"/reports/x.css"`), never inside a longer name.
fn replace_references(text: &str, name: &str, hashed: &str) -> (String, usize) {
    let mut out = String::with_capacity(text.len() + 64);
    let mut count = 0;
    let mut rest = text;
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + name.len()..].chars().next();
        out.push_str(&rest[..at]);
        if matches!(before, Some('"' | '\'' | '/')) && matches!(after, Some('"' | '\'')) {
            out.push_str(hashed);
            count += 1;
        } else {
            out.push_str(name);
        }
        rest = &rest[at + name.len()..];
    }
    out.push_str(rest);
    (out, count)
}

/// Whether `name` (a file name, no directory) carries a content hash as [`rename`] writes it.
#[cfg(test)]
fn is_hashed(name: &str) -> bool {
    let mut parts = name.rsplit('.');
    let _ext = parts.next();
    parts.next().is_some_and(|hash| {
        hash.len() == HASH_HEX_DIGITS && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_by_content_and_rewrites_whole_references_only() {
        let dir = std::env::temp_dir().join(format!("xtask-fingerprint-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("app_bg.wasm"), b"\0asm one").unwrap();
        std::fs::write(
            dir.join("app.js"),
            "u = new URL('app_bg.wasm', import.meta.url); // my_app_bg.wasm.map\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("index.html"),
            "<link rel=preload href=\"/m/app_bg.wasm\">",
        )
        .unwrap();
        let referrers = [dir.join("app.js"), dir.join("index.html")];
        let hashed = rename(&dir, "app_bg.wasm", &referrers).unwrap();
        assert!(is_hashed(&hashed), "{hashed}");
        assert!(hashed.starts_with("app_bg.") && hashed.ends_with(".wasm"));
        assert!(dir.join(&hashed).is_file() && !dir.join("app_bg.wasm").exists());
        let js = std::fs::read_to_string(dir.join("app.js")).unwrap();
        assert!(js.contains(&format!("'{hashed}'")), "{js}");
        assert!(
            js.contains("my_app_bg.wasm.map"),
            "a longer name is left alone: {js}"
        );
        let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
        assert!(html.contains(&format!("/m/{hashed}\"")), "{html}");

        // Other content, other name; a file nobody names fails the build.
        std::fs::write(dir.join("app_bg.wasm"), b"\0asm two").unwrap();
        let err = rename(&dir, "app_bg.wasm", &[dir.join("app.js")]).unwrap_err();
        assert!(
            err.to_string().contains("does not name app_bg.wasm"),
            "{err}"
        );
        let other = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("app_bg.") && n != &hashed)
            .count();
        assert_eq!(other, 1);
        assert!(!is_hashed("app_bg.wasm") && !is_hashed("boot.js"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
