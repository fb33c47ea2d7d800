//! The audit trail is written like the journal (issue: hardening, item 2): when it cannot take
//! a record (a full disk, here a file-size limit on the server process), the half-written
//! record is cut back and the sign-in that needed it is refused with 503; the trail verifies
//! intact; and a torn tail left by a crash never stops an administrator from locking someone
//! out.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use floorwatch_tests::{binary, run_floorwatch};

const PASSWORD: &str = "admin password 1";

/// A server whose files may not grow past `limit_bytes` (the shell's `ulimit -f`, in 512-byte
/// blocks, with SIGXFSZ ignored so that a write past it fails with EFBIG instead of killing).
struct Limited {
    child: Child,
    url: String,
}

impl Limited {
    fn start(data_dir: &std::path::Path, limit_bytes: u64) -> Limited {
        let script = format!(
            "trap '' XFSZ; ulimit -f {}; exec \"$0\" --listen 127.0.0.1:0 --data-dir \"$1\"",
            limit_bytes.div_ceil(512)
        );
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(binary("floorwatch"))
            .arg(data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("the server printed its address")
                .unwrap();
            if let Some(rest) = line.strip_prefix("floorwatch listening on ") {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        // Keep reading so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Limited { child, url }
    }

    fn sign_in(&self) -> u16 {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .new_agent();
        agent
            .post(&format!("{}/api/v1/session", self.url))
            .header("Content-Type", "application/json")
            .send(
                serde_json::json!({"user": "admin", "password": PASSWORD})
                    .to_string()
                    .as_bytes(),
            )
            .map(|r| r.status().as_u16())
            .unwrap()
    }
}

impl Drop for Limited {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_full_trail_refuses_sign_in_and_is_never_torn() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let added = run_floorwatch(
        &data,
        &["user", "add", "admin", "--role", "admin"],
        &format!("{PASSWORD}\n"),
    );
    assert!(added.status.success(), "{added:?}");
    let trail = data.join("audit.log");
    // Room for a few more records, not for ten.
    let limit = std::fs::metadata(&trail).unwrap().len() + 1_200;
    let server = Limited::start(&data, limit);
    let statuses: Vec<u16> = (0..8).map(|_| server.sign_in()).collect();
    assert_eq!(statuses[0], 200, "{statuses:?}");
    let refused = statuses.iter().position(|&s| s != 200);
    assert!(
        refused.is_some_and(|i| statuses[i..].iter().all(|&s| s == 503)),
        "sign-ins once the trail is full: {statuses:?}"
    );
    drop(server);

    // Every record written is whole: the trail verifies intact, with one login record per
    // sign-in that succeeded and none for those refused.
    let verify = run_floorwatch(&data, &["audit", "verify"], "");
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "{said}");
    let logins = run_floorwatch(&data, &["audit", "list", "--action", "login"], "");
    let logins = String::from_utf8_lossy(&logins.stdout).lines().count();
    let signed_in = statuses.iter().filter(|&&s| s == 200).count();
    assert_eq!(logins, signed_in, "{statuses:?}");
}

#[test]
fn a_torn_trail_does_not_stop_a_lock_out() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    for name in ["admin", "mallory"] {
        let added = run_floorwatch(
            &data,
            &["user", "add", name, "--role", "admin"],
            &format!("{PASSWORD}\n"),
        );
        assert!(added.status.success(), "{added:?}");
    }
    // A crash mid-write tore the last line.
    let trail = data.join("audit.log");
    let mut text = std::fs::read(&trail).unwrap();
    text.extend_from_slice(br#"{"seq":3,"time":"2026-"#);
    std::fs::write(&trail, text).unwrap();
    let verify = run_floorwatch(&data, &["audit", "verify"], "");
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(!verify.status.success() && said.contains("TORN"), "{said}");

    // Disabling still works, and says where its record went.
    let disabled = run_floorwatch(&data, &["user", "disable", "mallory"], "");
    assert!(
        disabled.status.success(),
        "{}",
        String::from_utf8_lossy(&disabled.stderr)
    );
    // A change that is not a lock-out still needs the trail.
    let added = run_floorwatch(
        &data,
        &["user", "add", "eve", "--role", "admin"],
        &format!("{PASSWORD}\n"),
    );
    assert!(!added.status.success(), "{added:?}");

    // The repair cuts the torn line, writes the queued record, then its own.
    let repaired = run_floorwatch(&data, &["audit", "repair"], "");
    assert!(repaired.status.success(), "{repaired:?}");
    let verify = run_floorwatch(&data, &["audit", "verify"], "");
    assert!(verify.status.success(), "{verify:?}");
    let listed = run_floorwatch(&data, &["audit", "list"], "");
    let listed = String::from_utf8_lossy(&listed.stdout);
    let actions: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.split_whitespace().nth(3))
        .collect();
    assert_eq!(
        actions,
        vec!["user_add", "user_add", "user_disable", "audit_repair"],
        "{listed}"
    );
}
