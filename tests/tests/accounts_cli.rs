//! End-to-end: the real `floorwatch` binary's `user`, `token` and `audit` subcommands on a
//! fresh data dir (issue 8, docs/SECURITY.md). Passwords go in on stdin, as a script would
//! send them.

use std::path::Path;
use std::process::{Command, Output};

use floorwatch_tests::{binary, run_floorwatch};

/// Runs `floorwatch ARGS --data-dir DIR` with `stdin` piped in.
fn floorwatch(data_dir: &Path, args: &[&str], stdin: &str) -> Output {
    run_floorwatch(data_dir, args, stdin)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a command that must succeed; returns its stdout.
fn ok(data_dir: &Path, args: &[&str], stdin: &str) -> String {
    let out = floorwatch(data_dir, args, stdin);
    assert!(
        out.status.success(),
        "floorwatch {args:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Runs a command that must fail; returns its stderr.
fn fails(data_dir: &Path, args: &[&str], stdin: &str) -> String {
    let out = floorwatch(data_dir, args, stdin);
    assert!(
        !out.status.success(),
        "floorwatch {args:?} should have failed:\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stderr)
}

#[test]
fn users_are_added_with_a_password_on_stdin_listed_and_disabled() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");

    ok(
        &data,
        &["user", "add", "admin", "--role", "admin"],
        "first admin password\n",
    );
    ok(
        &data,
        &[
            "user",
            "add",
            "lead1",
            "--role",
            "team_lead",
            "--scope",
            "team:t1",
        ],
        "lead one password\r\n",
    );
    let refused = fails(
        &data,
        &[
            "user",
            "add",
            "lead2",
            "--role",
            "team-lead",
            "--scope",
            "team:t2",
        ],
        "short\n",
    );
    assert!(refused.contains("at least 10"), "{refused}");
    let refused = fails(
        &data,
        &[
            "user",
            "add",
            "lead2",
            "--role",
            "team_lead",
            "--scope",
            "team:t2",
        ],
        "",
    );
    assert!(refused.contains("the password is empty"), "{refused}");
    assert!(
        refused.contains("stdin"),
        "says where it was read from: {refused}"
    );
    let refused = fails(
        &data,
        &["user", "add", "lead3", "--role", "team_lead"],
        "a long enough one\n",
    );
    assert!(refused.contains("--scope team:ID"), "{refused}");
    let refused = fails(
        &data,
        &["user", "add", "admin", "--role", "manager"],
        "a long enough one\n",
    );
    assert!(refused.contains("already a user"), "{refused}");
    let refused = fails(
        &data,
        &[
            "user",
            "add",
            "q",
            "--role",
            "manager",
            "--scope",
            "queue:billing",
        ],
        "",
    );
    assert!(refused.contains("not a subtree"), "{refused}");

    let list = ok(&data, &["user", "list"], "");
    let rows: Vec<&str> = list.lines().collect();
    assert_eq!(rows.len(), 3, "header, admin, lead1:\n{list}");
    assert!(rows[0].starts_with("NAME"), "{list}");
    assert!(
        rows[1].starts_with("admin ") && rows[1].contains("centre") && rows[1].contains("active"),
        "{list}"
    );
    assert!(
        rows[2].starts_with("lead1 ")
            && rows[2].contains("team_lead")
            && rows[2].contains("team:t1"),
        "{list}"
    );
    assert!(
        !list.contains("argon2") && !list.contains("password"),
        "no hashes: {list}"
    );

    ok(
        &data,
        &["user", "passwd", "lead1"],
        "a brand new password\n",
    );
    ok(&data, &["user", "disable", "lead1"], "");
    let list = ok(&data, &["user", "list"], "");
    assert!(
        list.lines().nth(2).is_some_and(|r| r.contains("disabled")),
        "{list}"
    );
    let refused = fails(&data, &["user", "disable", "ghost"], "");
    assert!(refused.contains("no user `ghost`"), "{refused}");

    let stored = std::fs::read_to_string(data.join("accounts.json")).unwrap();
    assert!(
        stored.contains("$argon2id$"),
        "passwords are stored as argon2id hashes"
    );
    for secret in [
        "first admin password",
        "lead one password",
        "a brand new password",
    ] {
        assert!(!stored.contains(secret));
    }

    let verified = ok(&data, &["audit", "verify"], "");
    assert!(
        verified.contains("intact: 4 records"),
        "add, add, passwd, disable: {verified}"
    );
    let adds = ok(&data, &["audit", "list", "--action", "user_add"], "");
    assert_eq!(adds.lines().count(), 2, "{adds}");
    assert!(
        adds.contains("user:lead1") && adds.contains("role=team_lead scope=team:t1"),
        "{adds}"
    );
}

#[test]
fn tokens_are_printed_once_listed_and_revoked() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    ok(&data, &["user", "add", "switch", "--role", "ingest"], "");
    ok(
        &data,
        &[
            "user",
            "add",
            "tv",
            "--role",
            "wall_display",
            "--scope",
            "site:north",
        ],
        "wall display pw\n",
    );

    let token = ok(
        &data,
        &["token", "create", "switch", "--label", "asterisk 1"],
        "",
    );
    let token = token.trim();
    assert!(token.starts_with("fw_") && token.len() == 3 + 64, "{token}");
    let second = ok(&data, &["token", "create", "tv"], "");
    assert_ne!(second.trim(), token);
    let refused = fails(&data, &["token", "create", "ghost"], "");
    assert!(refused.contains("no user `ghost`"), "{refused}");

    let list = ok(&data, &["token", "list"], "");
    let rows: Vec<&str> = list.lines().collect();
    assert_eq!(rows.len(), 3, "{list}");
    assert!(
        rows[1].contains("switch") && rows[1].contains("active") && rows[1].contains("asterisk 1"),
        "{list}"
    );
    assert!(!list.contains(token), "tokens are never listed");
    let id = rows[1].split_whitespace().next().unwrap();
    assert!(id.starts_with("tok_"), "{list}");

    ok(&data, &["token", "revoke", id], "");
    let list = ok(&data, &["token", "list"], "");
    assert!(
        list.lines().nth(1).is_some_and(|r| r.contains("revoked")),
        "{list}"
    );
    let refused = fails(&data, &["token", "revoke", id], "");
    assert!(refused.contains("already revoked"), "{refused}");

    let stored = std::fs::read_to_string(data.join("accounts.json")).unwrap();
    assert!(!stored.contains(token), "only the token's hash is stored");
    let trail = ok(&data, &["audit", "list", "--json"], "");
    assert!(!trail.contains(token), "no token in the trail");
    let actions: Vec<String> = trail
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        actions,
        [
            "user_add",
            "user_add",
            "token_create",
            "token_create",
            "token_revoke"
        ]
    );
}

#[test]
fn audit_verify_names_the_line_of_a_hand_edited_record() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    ok(
        &data,
        &[
            "user",
            "add",
            "boss",
            "--role",
            "manager",
            "--scope",
            "site:north",
        ],
        "the boss password\n",
    );
    ok(
        &data,
        &[
            "user",
            "add",
            "lead1",
            "--role",
            "team_lead",
            "--scope",
            "team:t1",
        ],
        "lead one password\n",
    );
    ok(&data, &["token", "create", "lead1"], "");
    let verified = ok(&data, &["audit", "verify"], "");
    assert!(verified.contains("intact: 3 records"), "{verified}");

    // Someone widens what the record says lead1 was given.
    let path = data.join("audit.log");
    let original = std::fs::read_to_string(&path).unwrap();
    let edited = original.replacen("scope=team:t1", "scope=centre", 1);
    assert_ne!(edited, original);
    std::fs::write(&path, &edited).unwrap();
    let out = floorwatch(&data, &["audit", "verify"], "");
    assert_eq!(out.status.code(), Some(1), "stderr: {}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(report.contains("BROKEN at line 2"), "{report}");
    assert!(report.contains("edited"), "{report}");

    // Deleting a record instead is caught on the line that follows the gap.
    let lines: Vec<&str> = original.lines().collect();
    std::fs::write(&path, format!("{}\n{}\n", lines[0], lines[2])).unwrap();
    let out = floorwatch(&data, &["audit", "verify"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("BROKEN at line 2"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn without_a_subcommand_server_flags_still_run_the_server_and_are_not_mixed() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    // Server flags before a subcommand are a mistake, not silently ignored.
    let out = Command::new(binary("floorwatch"))
        .args(["--demo", "user", "list"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let help = Command::new(binary("floorwatch"))
        .arg("--help")
        .output()
        .unwrap();
    let help = text(&help.stdout);
    for word in ["user", "token", "audit", "--listen", "--demo"] {
        assert!(help.contains(word), "--help lists {word}:\n{help}");
    }
    let server = floorwatch_tests::Server::start_in(&data, &[]);
    assert_eq!(server.get("/healthz").status, 200);
}
