//! The deployable server (issue 14, item 8; docs/DEPLOY.md): `cargo xtask package` writes a
//! tarball that, extracted into an empty root, gives a `floorwatch` serving the wallboard and
//! the API with no `target/` anywhere near it, run as its systemd unit would run it.
//!
//! Needs the wallboard bundle in `target/dist` (`cargo xtask dist`, which `./scripts/test` runs
//! before the tests). Builds the server with the `package-check` profile (Cargo.toml): the
//! bundle embedded as in release, without release's optimisation, which took CI minutes.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use floorwatch_tests::{READY_TIMEOUT, workspace_root};

/// The installed server, killed on drop (so a failing assertion leaves no process behind).
struct Installed(Child);

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// `cargo xtask package --skip-dist --profile package-check --out DIR`: the tarball's path.
fn package(out: &Path) -> PathBuf {
    let output = cargo()
        .current_dir(workspace_root())
        .args([
            "xtask",
            "package",
            "--skip-dist",
            "--profile",
            "package-check",
            "--out",
        ])
        .arg(out)
        .output()
        .unwrap_or_else(|e| panic!("running cargo xtask package: {e}"));
    assert!(
        output.status.success(),
        "cargo xtask package failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let tarballs: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap_or_else(|e| panic!("reading {}: {e}", out.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .collect();
    assert_eq!(tarballs.len(), 1, "one tarball expected: {tarballs:?}");
    tarballs[0].clone()
}

/// The unit's `ExecStart`, with the paths inside `root` and the test's own listen address.
fn exec_start(unit: &str, root: &Path) -> Vec<String> {
    let line = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap_or_else(|| panic!("no ExecStart in the unit:\n{unit}"));
    let mut args: Vec<String> = line
        .split_whitespace()
        .map(|word| {
            if word.starts_with('/') {
                root.join(word.trim_start_matches('/'))
                    .to_string_lossy()
                    .into_owned()
            } else {
                word.to_string()
            }
        })
        .collect();
    args.extend(["--listen".into(), "127.0.0.1:0".into()]);
    args
}

fn start(args: &[String], root: &Path) -> (Installed, String) {
    let mut child = Command::new(&args[0])
        .args(&args[1..])
        // Where the unit runs it: the state directory, not the repository.
        .current_dir(root.join("var/lib/floorwatch"))
        .env_remove("FLOORWATCH_ASSETS")
        .env_remove("FLOORWATCH_INGEST_TOKEN")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("starting the installed floorwatch: {e}"));
    let stdout = child.stdout.take();
    let installed = Installed(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Some(stdout) = stdout else { return };
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("floorwatch listening on ")
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(
                    rest.split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                );
            }
        }
    });
    let url = rx
        .recv_timeout(READY_TIMEOUT)
        .unwrap_or_else(|_| panic!("the installed floorwatch did not report its address"));
    (installed, url)
}

/// Runs the installed binary's own commands on the installed data dir, as the install note does.
fn command(binary: &Path, data_dir: &Path, args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(binary)
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running floorwatch {args:?}: {e}"));
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(stdin.as_bytes()).expect("stdin");
    }
    let out = child.wait_with_output().expect("floorwatch command");
    assert!(
        out.status.success(),
        "floorwatch {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_package_installs_into_an_empty_root_and_serves_the_wallboard_and_the_api() {
    let dist = workspace_root().join("target/dist");
    let index = std::fs::read(dist.join("index.html"))
        .unwrap_or_else(|e| panic!("no wallboard bundle (run `cargo xtask dist`): {e}"));
    // The wasm's content-hashed name (`cargo xtask dist`), as the page names it.
    let wasm_name = std::fs::read_dir(&dist)
        .expect("the bundle")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|n| n.starts_with("floorwatch_dashboard_bg.") && n.ends_with(".wasm"))
        .expect("the bundle's wasm");
    let wasm = std::fs::read(dist.join(&wasm_name)).expect("the bundle's wasm");
    assert!(
        contains(&index, wasm_name.as_bytes()),
        "the page does not name {wasm_name}"
    );

    let out = tempfile::tempdir().expect("temp dir");
    let tarball = package(out.path());
    let root = tempfile::tempdir().expect("temp root");
    let root = root.path();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(root)
        .status()
        .expect("running tar");
    assert!(status.success(), "tar -xzf failed");

    // The layout the install note and the unit promise.
    let binary = root.join("usr/local/bin/floorwatch");
    let unit = std::fs::read_to_string(root.join("etc/systemd/system/floorwatch.service"))
        .expect("the systemd unit");
    assert!(root.join("etc/floorwatch/floorwatch.toml").is_file());
    assert!(
        root.join("usr/local/share/doc/floorwatch/DEPLOY.md")
            .is_file()
    );
    for line in [
        "User=floorwatch",
        "StateDirectory=floorwatch",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "CapabilityBoundingSet=",
    ] {
        assert!(unit.lines().any(|l| l == line), "`{line}` missing:\n{unit}");
    }
    // systemd's own judgement of the hardening, offline against the temp root: fails above 2.0
    // ("OK" is below 2.0 on its scale of 0 to 10).
    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--threshold=20", "--no-pager"])
        .arg(format!("--root={}", root.display()))
        .arg("floorwatch.service")
        .output()
        .expect("systemd-analyze (installed by scripts/setup --for-tests)");
    assert!(
        security.status.success(),
        "the unit's exposure is above 2.0:\n{}",
        String::from_utf8_lossy(&security.stdout)
    );

    // The bundle travels inside the binary: no target/ is read.
    let shipped = std::fs::read(&binary).expect("the installed binary");
    assert!(
        contains(&shipped, &index),
        "index.html is not in the binary"
    );
    let middle = wasm.len() / 2;
    assert!(
        contains(&shipped, &wasm[middle..middle + 4096]),
        "the wallboard's wasm is not in the binary"
    );

    // Run as the unit runs it (ExecStart, in the state directory), on a free port.
    let data_dir = root.join("var/lib/floorwatch");
    std::fs::create_dir_all(&data_dir).expect("state directory");
    command(
        &binary,
        &data_dir,
        &["user", "add", "ops", "--role", "admin"],
        "ops password 1\n",
    );
    let token = command(&binary, &data_dir, &["token", "create", "ops"], "")
        .trim()
        .to_string();
    let (_server, url) = start(&exec_start(&unit, root), root);

    let agent = ureq::agent();
    let mut page = agent.get(&format!("{url}/")).call().expect("GET /");
    assert_eq!(page.status(), 200);
    let body = page.body_mut().read_to_vec().expect("the page");
    assert_eq!(body, index, "/ is not the bundle's index.html");
    let mut module = agent
        .get(&format!("{url}/{wasm_name}"))
        .call()
        .expect("GET the wasm");
    assert_eq!(
        module
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(
        module
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/wasm")
    );
    let body = module
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .expect("the wasm");
    assert!(body == wasm, "the served wasm is not the bundle's");
    // A browser gets the smallest copy it accepts, exactly as `cargo xtask dist` wrote it.
    for (accept, coding, suffix) in [("gzip, deflate", "gzip", "gz"), ("gzip, br", "br", "br")] {
        let mut module = agent
            .get(&format!("{url}/{wasm_name}"))
            .header("Accept-Encoding", accept)
            .call()
            .expect("GET the wasm compressed");
        assert_eq!(
            module
                .headers()
                .get("content-encoding")
                .and_then(|v| v.to_str().ok()),
            Some(coding)
        );
        let body = module
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .expect("the compressed wasm");
        let copy = std::fs::read(dist.join(format!("{wasm_name}.{suffix}"))).expect("the copy");
        assert!(
            body == copy,
            "the {coding} wasm sent is not the bundle's copy"
        );
        assert!(
            body.len() < wasm.len() / 3,
            "{coding}: {} bytes",
            body.len()
        );
    }

    let mut metrics = agent
        .get(&format!("{url}/api/v1/metrics"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .expect("GET /api/v1/metrics");
    let figures: serde_json::Value = metrics.body_mut().read_json().expect("JSON figures");
    assert!(figures.is_object(), "{figures}");
    let health: serde_json::Value = agent
        .get(&format!("{url}/healthz"))
        .call()
        .expect("GET /healthz")
        .body_mut()
        .read_json()
        .expect("health JSON");
    assert_eq!(health["status"], "ok");
}
