//! What the cluster tests share: nodes of a cluster on data dirs whose harness admin lives in
//! the cluster's accounts, and the command line run against the cluster.

#![allow(dead_code)] // Each test file uses its own part of the kit.

use std::path::{Path, PathBuf};

use floorwatch_tests::{HARNESS_TOKEN_FILE, Server, run_floorwatch};

/// `floorwatch ARGS --cluster URLS --data-dir DIR`, which must succeed: its stdout.
pub fn cli(dir: &Path, urls: &str, args: &[&str], stdin: &str) -> String {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--cluster", urls]);
    let out = run_floorwatch(dir, &all, stdin);
    assert!(
        out.status.success(),
        "floorwatch {all:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A node's data dir, holding the harness admin's token made in the cluster's accounts (the
/// harness would otherwise make one in the data dir's own `accounts.json`, which a node of a
/// cluster does not read).
pub fn node_dir(root: &Path, name: &str, urls: &str, token: &mut Option<String>) -> PathBuf {
    let dir = root.join(name).join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let token = token.get_or_insert_with(|| {
        cli(
            &dir,
            urls,
            &["user", "add", "harness", "--role", "admin"],
            "harness password 1\n",
        );
        cli(&dir, urls, &["token", "create", "harness"], "")
            .trim()
            .to_string()
    });
    std::fs::write(dir.join(HARNESS_TOKEN_FILE), token.as_bytes()).unwrap();
    dir
}

pub fn start_node(dir: &Path, urls: &str, name: &str, extra: &[&str]) -> Server {
    let mut args = vec![
        "--clock",
        "events",
        "--cluster",
        urls,
        "--cluster-node",
        name,
    ];
    args.extend(extra);
    Server::start_in(dir, &args)
}
