//! What the alerts tests share: a small floor's config with an `[alerts]` table, events written
//! in seconds after a base instant, and reading alerts back from a server.

#![allow(dead_code)] // Each test file uses its own part of the kit.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use floorwatch_core::alerts::Alert;
use floorwatch_tests::Server;
use serde_json::{Value, json};

/// 2026-03-09T01:00:00Z, 09:00 in Shanghai: a multiple of the 10-second evaluation period.
pub const BASE: i64 = 1_773_018_000_000;

/// A Shanghai centre: site north, group g1, team t1 (a1 "Li Na", a2) owning queue billing, and
/// team t2 (a3, a4) owning queue sales.
pub const ORG: &str = r#"
[centre]
id = "hotline"
timezone = "Asia/Shanghai"

[[sites]]
id = "north"

[[sites.groups]]
id = "g1"

[[sites.groups.teams]]
id = "t1"
agents = [{ id = "a1", name = "Li Na" }, "a2"]

[[sites.groups.teams]]
id = "t2"
agents = ["a3", "a4"]

[[queues]]
id = "billing"
owner = "team:t1"

[[queues]]
id = "sales"
owner = "team:t2"
"#;

/// Writes `ORG` plus `alerts` (TOML) to `dir/floorwatch.toml` and returns its path.
pub fn write_config(dir: &Path, alerts: &str) -> PathBuf {
    let path = dir.join("floorwatch.toml");
    std::fs::write(&path, format!("{ORG}\n{alerts}\n"))
        .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path
}

/// Events at seconds after [`BASE`], one NDJSON line each.
pub struct Script {
    seq: u64,
    lines: Vec<(i64, Value)>,
}

impl Default for Script {
    fn default() -> Self {
        Script::new()
    }
}

impl Script {
    pub fn new() -> Script {
        Script {
            seq: 0,
            lines: Vec::new(),
        }
    }

    /// The instant `s` seconds after [`BASE`].
    pub fn at(s: f64) -> i64 {
        BASE + (s * 1000.0).round() as i64
    }

    /// An event of `kind` from `source` at `s` seconds.
    pub fn push(&mut self, source: &str, s: f64, kind: &str, fields: Value) -> &mut Script {
        let mut event = json!({ "v": 1, "source": source, "ts": Script::at(s), "type": kind });
        if let (Value::Object(event), Value::Object(fields)) = (&mut event, fields) {
            event.extend(fields);
        }
        self.lines.push((Script::at(s), event));
        self
    }

    pub fn login(&mut self, s: f64, agent: &str, team: &str) -> &mut Script {
        self.push(
            "pbx1",
            s,
            "agent_login",
            json!({ "agent": agent, "team": team }),
        )
    }

    pub fn state(&mut self, s: f64, agent: &str, state: &str, reason: Option<&str>) -> &mut Script {
        let fields = match reason {
            Some(reason) => json!({ "agent": agent, "state": state, "reason": reason }),
            None => json!({ "agent": agent, "state": state }),
        };
        self.push("pbx1", s, "agent_state", fields)
    }

    pub fn enter(&mut self, s: f64, call: &str, queue: &str) -> &mut Script {
        self.push(
            "pbx1",
            s,
            "call_entered_queue",
            json!({ "call": call, "queue": queue }),
        )
    }

    pub fn abandon(&mut self, s: f64, call: &str) -> &mut Script {
        self.push("pbx1", s, "call_abandoned", json!({ "call": call }))
    }

    /// Everything added since the last call, in time order, numbered: an NDJSON body.
    pub fn take(&mut self) -> String {
        let mut lines = std::mem::take(&mut self.lines);
        lines.sort_by_key(|(ts, _)| *ts);
        let mut out = Vec::with_capacity(lines.len());
        for (_, mut event) in lines {
            self.seq += 1;
            event["seq"] = json!(self.seq);
            event["id"] = json!(format!("alerts-test-{}", self.seq));
            out.push(event.to_string());
        }
        out.join("\n")
    }
}

/// Posts the script's pending events; every one must be accepted.
pub fn post(server: &Server, script: &mut Script) {
    let body = script.take();
    let expected = body.lines().count() as u64;
    let reply = server.post_events(&body);
    assert_eq!(reply.accepted, expected, "{reply:?}");
}

/// `GET /api/v1/alerts?since=0`: every alert, in raise order.
pub fn alerts(server: &Server) -> Vec<Alert> {
    server.get_json("/api/v1/alerts?since=0")
}

/// Polls `check` until it returns something, for at most `timeout`.
pub fn eventually<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
