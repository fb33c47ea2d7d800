//! Asterisk queue_log into a real server, three ways (issue 6, items 3 and 4):
//!
//! - `floorwatch-sim replay FILE --format queue-log --speed max` (the replay contract);
//! - `POST /api/v1/import/queue-log` (accepted / duplicate / rejected by line);
//! - a `queue-log-file` source following a live file across a rename rotation and a
//!   copytruncate, plus one that starts from the end of its file.
//!
//! Every time the API's figures are compared with figures worked out here from the lines
//! themselves, by the contract of docs/CTI.md ("Replay contract"): outcome time = the line's
//! time, wait = CONNECT's holdtime or ABANDON's / EXIT*'s waittime, talk = calltime, counted
//! from the local midnight of the day. For tests/fixtures/queue_log/day_asia_shanghai.log those
//! come out as the hand-worked figures of core/tests/queue_log_day.rs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use floorwatch_core::Figures;
use floorwatch_core::queue_log::QueueLogReader;
use floorwatch_tests::{Server, binary, workspace_root};

fn fixture(name: &str) -> PathBuf {
    workspace_root().join("tests/fixtures/queue_log").join(name)
}

fn day_lines() -> Vec<String> {
    std::fs::read_to_string(fixture("day_asia_shanghai.log"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The replay contract's server.
const SERVER: [&str; 8] = [
    "--clock",
    "events",
    "--timezone",
    "Asia/Shanghai",
    "--service-level-threshold",
    "20",
    "--short-abandon",
    "5",
];

/// One queue's figures worked out from the lines.
#[derive(Debug, Default, Clone, PartialEq)]
struct Worked {
    answered: u64,
    abandoned: u64,
    short_abandoned: u64,
    timed_out: u64,
    within: u64,
    answered_wait_s: f64,
    max_wait_s: Option<f64>,
    talk_s: f64,
    handled: u64,
}

impl Worked {
    fn offered(&self) -> u64 {
        self.answered + self.abandoned + self.timed_out
    }

    fn add(&mut self, other: &Worked) {
        self.answered += other.answered;
        self.abandoned += other.abandoned;
        self.short_abandoned += other.short_abandoned;
        self.timed_out += other.timed_out;
        self.within += other.within;
        self.answered_wait_s += other.answered_wait_s;
        self.max_wait_s = match (self.max_wait_s, other.max_wait_s) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.talk_s += other.talk_s;
        self.handled += other.handled;
    }

    fn outcome(&mut self, wait_s: f64) {
        self.max_wait_s = Some(self.max_wait_s.map_or(wait_s, |m| m.max(wait_s)));
    }
}

/// The local midnight (Asia/Shanghai) starting the day of the file's last line, Unix seconds.
fn day_start(lines: &[String]) -> f64 {
    let last = lines
        .iter()
        .filter_map(|l| l.split('|').next()?.parse::<f64>().ok())
        .fold(0.0, f64::max);
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    let date = jiff::Timestamp::from_second(last as i64)
        .unwrap()
        .to_zoned(tz.clone())
        .date();
    date.to_zoned(tz).unwrap().timestamp().as_second() as f64
}

/// Each queue's figures for the day, from the lines (T = 20 s, S = 5 s).
fn work_out(lines: &[String], midnight: f64) -> BTreeMap<String, Worked> {
    let mut queues: BTreeMap<String, Worked> = BTreeMap::new();
    for line in lines {
        let f: Vec<&str> = line.split('|').collect();
        let Some(ts) = f.first().and_then(|t| t.parse::<f64>().ok()) else {
            continue;
        };
        if ts < midnight || f.len() < 5 {
            continue;
        }
        let num = |i: usize| f.get(5 + i).and_then(|v| v.parse::<f64>().ok());
        let q = queues.entry(f[2].to_string()).or_default();
        match f[4] {
            "CONNECT" => {
                let wait = num(0).unwrap();
                q.answered += 1;
                q.within += u64::from(wait <= 20.0);
                q.answered_wait_s += wait;
                q.outcome(wait);
            }
            "ABANDON" => {
                let wait = num(2).unwrap();
                q.abandoned += 1;
                q.short_abandoned += u64::from(wait < 5.0);
                q.outcome(wait);
            }
            "EXITWITHTIMEOUT" | "EXITEMPTY" => {
                q.timed_out += 1;
                q.outcome(num(2).unwrap());
            }
            "EXITWITHKEY" => {
                q.timed_out += 1;
                q.outcome(num(3).unwrap());
            }
            "COMPLETECALLER" | "COMPLETEAGENT" => {
                q.talk_s += num(1).unwrap();
                q.handled += 1;
            }
            "TRANSFER" | "BLINDTRANSFER" => {
                q.talk_s += num(3).unwrap();
                q.handled += 1;
            }
            "ATTENDEDTRANSFER" => {
                q.talk_s += f[f.len() - 2].parse::<f64>().unwrap();
                q.handled += 1;
            }
            _ => {}
        }
    }
    queues.retain(|name, _| name != "NONE");
    queues
}

fn worked_out(lines: &[String]) -> (BTreeMap<String, Worked>, Worked) {
    let queues = work_out(lines, day_start(lines));
    let mut centre = Worked::default();
    for q in queues.values() {
        centre.add(q);
    }
    (queues, centre)
}

fn ratio(num: f64, den: f64) -> Option<f64> {
    (den > 0.0).then(|| num / den)
}

/// The contract's figures of `got` equal what the lines say.
fn check(got: &Figures, want: &Worked, what: &str) {
    let counts = (
        got.offered,
        got.answered,
        got.abandoned,
        got.short_abandoned,
        got.timed_out,
        got.answered_within_threshold,
        got.handled,
    );
    let wanted = (
        want.offered(),
        want.answered,
        want.abandoned,
        want.short_abandoned,
        want.timed_out,
        want.within,
        want.handled,
    );
    assert_eq!(counts, wanted, "{what}: counts");
    let base = (want.offered() - want.short_abandoned) as f64;
    let close = |got: Option<f64>, want: Option<f64>, name: &str| match (got, want) {
        (Some(g), Some(w)) => assert!((g - w).abs() < 1e-9, "{what}: {name} {g} != {w}"),
        (g, w) => assert_eq!(g, w, "{what}: {name}"),
    };
    close(
        got.service_level_pct,
        ratio(100.0 * want.within as f64, base),
        "service_level_pct",
    );
    close(
        got.abandon_rate_pct,
        ratio(100.0 * (want.abandoned - want.short_abandoned) as f64, base),
        "abandon_rate_pct",
    );
    close(
        got.asa_s,
        ratio(want.answered_wait_s, want.answered as f64),
        "asa_s",
    );
    close(got.max_wait_s, want.max_wait_s, "max_wait_s");
    close(
        got.avg_talk_s,
        ratio(want.talk_s, want.handled as f64),
        "avg_talk_s",
    );
    assert_eq!(got.avg_hold_s, None, "{what}: queue_log has no hold");
    assert_eq!(
        got.avg_acw_s, None,
        "{what}: queue_log has no after-call work"
    );
}

fn check_server(server: &Server, lines: &[String]) {
    let (queues, centre) = worked_out(lines);
    for (name, want) in &queues {
        check(
            &server.figures(&format!("queue:{name}"), "today"),
            want,
            name,
        );
    }
    check(&server.figures("centre", "today"), &centre, "centre");
}

#[test]
fn the_worked_out_day_is_the_hand_worked_one() {
    let (queues, centre) = worked_out(&day_lines());
    assert_eq!(day_start(&day_lines()), 1_710_432_000.0);
    let billing = &queues["billing"];
    assert_eq!(
        (
            billing.offered(),
            billing.answered,
            billing.within,
            billing.short_abandoned
        ),
        (15, 9, 7, 2)
    );
    assert_eq!(
        (queues["sales"].offered(), queues["sales"].timed_out),
        (9, 2)
    );
    assert_eq!(
        (
            centre.offered(),
            centre.answered,
            centre.abandoned,
            centre.short_abandoned,
            centre.timed_out,
            centre.within,
        ),
        (24, 13, 7, 3, 4, 10)
    );
    assert_eq!((centre.talk_s, centre.handled), (2592.0, 14));
}

#[test]
fn a_replayed_queue_log_day_gives_the_figures_of_its_lines() {
    let server = Server::start(&SERVER);
    let file = fixture("day_asia_shanghai.log");
    let output = Command::new(binary("floorwatch-sim"))
        .args(["replay"])
        .arg(&file)
        .args([
            "--format",
            "queue-log",
            "--speed",
            "max",
            "--to",
            server.url(),
        ])
        .env("RUST_LOG", "warn")
        .env_remove("FLOORWATCH_INGEST_TOKEN")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    check_server(&server, &day_lines());

    // The same lines imported again count nothing twice: ids come from the lines' text.
    let body = std::fs::read_to_string(&file).unwrap();
    let reply = server.post_with("/api/v1/import/queue-log", &body, &[]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply: serde_json::Value = reply.json();
    assert_eq!(reply["accepted"], 0, "{reply}");
    assert!(reply["duplicate"].as_u64().unwrap() > 100, "{reply}");
    check_server(&server, &day_lines());
}

#[test]
fn the_import_endpoint_says_line_by_line_what_counted() {
    let server = Server::start(&SERVER);
    let body = std::fs::read_to_string(fixture("day_asia_shanghai.log")).unwrap();
    let reply = server.post_with("/api/v1/import/queue-log?source=day", &body, &[]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let first: serde_json::Value = reply.json();
    let lines = day_lines().len() as u64;
    assert_eq!(first["lines"], lines, "{first}");
    assert_eq!(first["rejected"], 0, "{first}");
    assert_eq!(
        first["accepted_lines"],
        serde_json::json!([[1, lines]]),
        "{first}"
    );
    assert_eq!(first["duplicate_lines"], serde_json::json!([]), "{first}");
    assert_eq!(first["accepted"], first["events"], "{first}");
    check_server(&server, &day_lines());

    // Again: every event a duplicate; only the lines with nothing to count stay "accepted".
    let again: serde_json::Value = server
        .post_with("/api/v1/import/queue-log", &body, &[])
        .json();
    assert_eq!(again["accepted"], 0, "{again}");
    assert_eq!(again["duplicate"], first["events"], "{again}");
    let quiet: Vec<u64> = day_lines()
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            ["QUEUESTART", "CONFIGRELOAD", "DID", "AGENTDUMP"]
                .iter()
                .any(|e| l.contains(&format!("|{e}|")))
        })
        .map(|(i, _)| i as u64 + 1)
        .collect();
    let accepted: Vec<u64> = again["accepted_lines"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r[0].as_u64().unwrap()..=r[1].as_u64().unwrap())
        .collect();
    // Some lines give no event because of what came before (a repeated PAUSE of a reason
    // already set): a subset of the accepted ones, always including the housekeeping lines.
    assert!(quiet.iter().all(|l| accepted.contains(l)), "{again}");
    check_server(&server, &day_lines());

    // Bad lines are named with their number and reason; the good ones still count.
    let bad = std::fs::read_to_string(fixture("malformed.log")).unwrap();
    let reply: serde_json::Value = server
        .post_with("/api/v1/import/queue-log", &bad, &[])
        .json();
    let expected = QueueLogReader::new("x").read_text(&bad);
    let errors: Vec<(u64, String)> = reply["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(u64, String)> = expected
        .errors
        .iter()
        .map(|e| (e.line, e.reason.to_string()))
        .collect();
    assert_eq!(errors, want);
    assert_eq!(reply["rejected"], want.len() as u64);
    let by_line: BTreeMap<u64, String> = errors.into_iter().collect();
    assert!(
        by_line.contains_key(&2),
        "`garbage` is refused: {by_line:?}"
    );
    assert!(by_line[&11].contains("FROBNICATE"), "{by_line:?}");
    assert!(
        !by_line.contains_key(&1),
        "a good line among bad ones counts"
    );

    // Import needs the ingest token like any ingest.
    let guarded = Server::start(&[&SERVER[..], &["--ingest-token", "t0ken"]].concat());
    let reply = guarded.post_with("/api/v1/import/queue-log", &body, &[]);
    assert_eq!(reply.status, 401, "{}", reply.body);
    let reply = guarded.post_with(
        "/api/v1/import/queue-log",
        &body,
        &[("Authorization", "Bearer t0ken")],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// A file mixing every line of current Asterisk and of QueueMetrics-format installations
/// (WITHDRAW, RINGCANCELED, RINGINUSE, OUTCALL, ENTERQUEUE with the caller's name, UNPAUSE on a
/// reason change, CALLERONHOLD / CALLEROFFHOLD, PAUSEREASON, CALLSTATUS, INFO|IVRSTART, DID,
/// HEARTBEAT) imports with no line refused, and its hold and time-out count.
#[test]
fn current_asterisk_and_queuemetrics_lines_import_with_none_refused() {
    let server = Server::start(&SERVER);
    let body = std::fs::read_to_string(fixture("current_asterisk_mixed.log")).unwrap();
    let reply = server.post_with("/api/v1/import/queue-log?source=current", &body, &[]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply: serde_json::Value = reply.json();
    assert_eq!(reply["lines"], 23, "{reply}");
    assert_eq!(reply["rejected"], 0, "{reply}");
    assert_eq!(
        reply["accepted_lines"],
        serde_json::json!([[1, 23]]),
        "{reply}"
    );
    let centre = server.figures("centre", "today");
    assert_eq!(
        (centre.offered, centre.answered, centre.timed_out),
        (2, 1, 1)
    );
    assert_eq!(centre.avg_hold_s, Some(20.0));
}

fn append(path: &Path, lines: &[String]) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for line in lines {
        writeln!(file, "{line}").unwrap();
    }
}

/// Waits until `done` holds for the server, within a minute.
fn eventually(server: &Server, what: &str, done: impl Fn(&Server) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(server) {
        assert!(
            Instant::now() < deadline,
            "{what}: not reached; the server's log:\n{}",
            server.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn centre_matches(server: &Server, lines: &[String]) -> bool {
    let (_, centre) = worked_out(lines);
    let got = server.figures("centre", "today");
    (got.offered, got.answered, got.handled) == (centre.offered(), centre.answered, centre.handled)
}

#[test]
fn a_followed_file_is_read_across_rotation_and_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("queue_log");
    let late_log = dir.path().join("late_queue_log");
    let lines = day_lines();
    append(&log, &lines[..40]);
    // Already there when the server starts: skipped by `from = "end"`.
    append(
        &late_log,
        &[
            "1710460000|L1|late|NONE|ENTERQUEUE||1|1".into(),
            "1710460003|L1|late|NONE|ABANDON|1|1|3".into(),
        ],
    );
    let config = dir.path().join("floorwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[[sources]]\nkind = \"queue-log-file\"\nname = \"pbx\"\npath = \"{}\"\n\
             from = \"start\"\npoll_ms = 20\n\n[[sources]]\nkind = \"queue-log-file\"\n\
             name = \"late\"\npath = \"{}\"\npoll_ms = 20\n",
            log.display(),
            late_log.display()
        ),
    )
    .unwrap();
    let server = Server::start(&[&SERVER[..], &["--config", config.to_str().unwrap()]].concat());
    eventually(&server, "the first 40 lines", |s| {
        centre_matches(s, &lines[..40])
    });

    // logrotate `create`: the last lines land in the old file, which is renamed away; the new
    // file goes on.
    append(&log, &lines[40..60]);
    std::fs::rename(&log, dir.path().join("queue_log.1")).unwrap();
    append(&log, &lines[60..85]);
    eventually(&server, "across the rename", |s| {
        centre_matches(s, &lines[..85])
    });

    // logrotate `copytruncate`: the same file emptied in place, then written again; one line
    // in it is garbage.
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&log)
        .unwrap();
    let mut rest = lines[85..89].to_vec();
    rest.push("garbage".into());
    rest.extend_from_slice(&lines[89..]);
    append(&log, &rest);
    eventually(&server, "after the truncation", |s| {
        centre_matches(s, &lines)
    });
    check_server(&server, &lines);

    let logs = server.logs();
    assert!(logs.contains("the queue_log was rotated"), "{logs}");
    assert!(logs.contains("the queue_log was truncated"), "{logs}");
    let bad = logs
        .lines()
        .find(|l| l.contains("unusable queue_log line skipped"))
        .unwrap_or_else(|| panic!("the garbage line is reported:\n{logs}"));
    assert!(
        bad.contains("line=5") && bad.contains("queue-log:pbx"),
        "{bad}"
    );

    // The file read from its end: only what came after the server opened it.
    eventually(&server, "the late source opened", |s| {
        s.logs()
            .lines()
            .any(|l| l.contains("source=queue-log:late") && l.contains("following the queue_log"))
    });
    append(
        &late_log,
        &[
            "1710460100|L2|late|NONE|ENTERQUEUE||2|1".into(),
            "1710460104|L2|late|SIP/9|CONNECT|4|x|1".into(),
        ],
    );
    eventually(&server, "the late source's new lines", |s| {
        // The queue is unknown until an event names it.
        let reply = s.get("/api/v1/metrics?scope=queue:late&window=today");
        reply.status == 200 && reply.json::<Figures>().offered == 1
    });
    let late = server.figures("queue:late", "today");
    assert_eq!((late.answered, late.abandoned), (1, 0), "{late:?}");
}
