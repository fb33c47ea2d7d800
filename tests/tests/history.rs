//! Issue 12, "Done when" (history), through real servers fed by the simulator with
//! `--clock events`:
//! - three days replayed: the 15-minute rows of every queue, team and the centre equal a
//!   recomputation from the event files written here; each day's row equals
//!   `GET /api/v1/metrics?window=today` taken at the end of that day, every figure (so the
//!   quarter-hours add up to the day, percentiles included); the DST day has 92 quarter-hours;
//! - `floorwatch history rebuild` from the journal gives rows byte-identical to those written
//!   live, and a server killed (SIGKILL) in the middle of a day ends with the same rows as one
//!   that was not;
//! - a late event amends the quarter-hour it belongs to, days later;
//! - the call detail records (`call` lines of the dump) are rebuilt and survive the kill
//!   byte for byte too.
//!
//! The centre is the `small` scenario moved to New York, where 2026-03-08 is 23 hours long.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use calamine::DataType;
use floorwatch_tests::{Server, floorwatch_ok, sim, simulate_days, workspace_root};
use serde_json::{Value, json};

const DAYS: [&str; 3] = ["2026-03-07", "2026-03-08", "2026-03-09"];
/// A quarter-hour, ms.
const QUARTER: i64 = 900_000;

/// The three days' event files and the server config of their organisation.
struct Recorded {
    days: Vec<PathBuf>,
    config: String,
}

fn record(dir: &Path) -> Recorded {
    let small = workspace_root().join("simulator/scenarios/small.toml");
    let text = std::fs::read_to_string(&small).unwrap();
    assert!(text.contains("Asia/Shanghai"), "{}", small.display());
    let scenario = dir.join("new-york.toml");
    std::fs::write(&scenario, text.replace("Asia/Shanghai", "America/New_York")).unwrap();
    let scenario = scenario.to_string_lossy().to_string();
    let (days, config) = simulate_days(&scenario, &DAYS, 7, dir);
    Recorded {
        days,
        config: config.to_string_lossy().to_string(),
    }
}

fn replay(server: &Server, file: &Path) {
    let output = sim(&[
        "replay",
        &file.to_string_lossy(),
        "--speed",
        "max",
        "--to",
        server.url(),
    ]);
    let summary = String::from_utf8_lossy(&output.stderr);
    assert!(summary.contains("rejected 0"), "{summary}");
}

/// One event the next day: the clock crosses the last day's end, closing its quarter-hours.
fn next_morning(server: &Server, id: &str, local: &str) {
    let ts = local
        .parse::<jiff::civil::DateTime>()
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("America/New_York").unwrap())
        .unwrap()
        .timestamp()
        .as_millisecond();
    let event = json!({"v": 1, "id": id, "source": "history-test", "seq": 1, "ts": ts,
        "type": "agent_logout", "agent": "a0001"});
    server.post_events(&event.to_string());
}

fn report(server: &Server, scope: &str, from: &str, to: &str, interval: &str) -> Vec<Value> {
    let reply = server.get(&format!(
        "/api/v1/reports/intervals?scope={scope}&from={from}&to={to}&interval={interval}"
    ));
    assert_eq!(
        reply.status, 200,
        "{scope} {from}..{to} {interval}: {}",
        reply.body
    );
    let body: Value = reply.json();
    assert_eq!(body["scope"], scope);
    assert_eq!(body["interval"], interval);
    body["rows"].as_array().cloned().unwrap_or_default()
}

/// A call that waited 40 s in `billing` and hung up, entering at `at` (UTC), as NDJSON.
fn late_call(id: &str, at: &str) -> String {
    let t = at.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    let events = [
        json!({"v": 1, "id": format!("{id}-1"), "source": "history-test", "seq": 1, "ts": t,
            "type": "call_entered_queue", "call": id, "queue": "billing",
            "caller": "13900000000", "direction": "inbound"}),
        json!({"v": 1, "id": format!("{id}-2"), "source": "history-test", "seq": 2,
            "ts": t + 40_000, "type": "call_abandoned", "call": id, "queue": "billing",
            "wait_ms": 40_000}),
    ];
    events
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// What the test counts itself from the event files, per scope and quarter-hour start.
#[derive(Debug, Default, Clone, PartialEq)]
struct Counted {
    answered: u64,
    abandoned: u64,
    timed_out: u64,
    handled: u64,
    answered_wait_ms: i64,
}

/// Counts every queue outcome in its queue and the centre, every handled call (its talk ended,
/// hung up or transferred) in its agent's team and the centre, in the quarter-hour of the event
/// (docs/METRICS.md, "Calls"); test calls count nowhere.
fn recount(days: &[PathBuf]) -> BTreeMap<(String, i64), Counted> {
    let mut team_of = BTreeMap::new();
    let mut out: BTreeMap<(String, i64), Counted> = BTreeMap::new();
    for file in days {
        for line in std::fs::read_to_string(file).unwrap().lines() {
            let e: Value = serde_json::from_str(line).unwrap();
            if e["test"] == true {
                continue;
            }
            let quarter = e["ts"].as_i64().unwrap().div_euclid(QUARTER) * QUARTER;
            let mut count = |scope: String, f: &dyn Fn(&mut Counted)| {
                f(out.entry((scope, quarter)).or_default());
                f(out.entry(("centre".into(), quarter)).or_default());
            };
            let queue = || format!("queue:{}", e["queue"].as_str().unwrap());
            match e["type"].as_str().unwrap() {
                "agent_login" => {
                    if let Some(team) = e["team"].as_str() {
                        team_of.insert(e["agent"].as_str().unwrap().to_string(), team.to_string());
                    }
                }
                "call_answered" => {
                    let wait = e["wait_ms"].as_i64().unwrap();
                    count(queue(), &|c| {
                        c.answered += 1;
                        c.answered_wait_ms += wait;
                    })
                }
                "call_abandoned" => count(queue(), &|c| c.abandoned += 1),
                "call_timed_out" => count(queue(), &|c| c.timed_out += 1),
                "call_ended" | "call_transferred" => {
                    if let Some(agent) = e["agent"].as_str() {
                        let team = format!("team:{}", team_of[agent]);
                        count(team, &|c| c.handled += 1);
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// A store's rows as stored (`floorwatch history dump`), the server stopped.
fn dump(data_dir: &Path, config: &str) -> String {
    floorwatch_ok(
        data_dir,
        &[
            "history", "dump", "--config", config, "--from", DAYS[0], "--to", DAYS[2],
        ],
        "",
    )
}

#[test]
fn three_days_are_kept_quarter_hour_by_quarter_hour_and_rebuild_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let recorded = record(dir.path());
    let args = ["--clock", "events", "--config", recorded.config.as_str()];
    let data = dir.path().join("uninterrupted");
    let mut server = Server::start_in(&data, &args);

    // Each day replayed, and its figures at its end.
    let counted = recount(&recorded.days);
    let queues: BTreeSet<String> = counted
        .keys()
        .filter(|(s, _)| s.starts_with("queue:"))
        .map(|(s, _)| s.clone())
        .collect();
    let teams: BTreeSet<String> = counted
        .keys()
        .filter(|(s, _)| s.starts_with("team:"))
        .map(|(s, _)| s.clone())
        .collect();
    assert!(
        queues.len() >= 2 && teams.len() >= 2,
        "{queues:?} {teams:?}"
    );
    let scopes: Vec<String> = std::iter::once("centre".to_string())
        .chain(queues.iter().cloned())
        .chain(teams.iter().cloned())
        .collect();
    let mut at_day_end: BTreeMap<(String, &str), Value> = BTreeMap::new();
    for (day, file) in DAYS.iter().zip(&recorded.days) {
        replay(&server, file);
        for scope in &scopes {
            let figures = server.get(&format!("/api/v1/metrics?scope={scope}&window=today"));
            at_day_end.insert((scope.clone(), day), figures.json());
        }
    }
    next_morning(&server, "next-morning-1", "2026-03-10T12:00:00");
    // A graceful stop writes what is queued; the start after it resumes history where the
    // store ends, replaying the journal without counting anything twice.
    server.terminate(Duration::from_secs(20));
    server.restart();

    // Every quarter-hour of every scope, against the recount.
    for scope in &scopes {
        let rows = report(&server, scope, DAYS[0], DAYS[2], "15m");
        assert_eq!(
            rows.len(),
            96 + 92 + 96,
            "{scope}: the DST day has 92 quarter-hours"
        );
        for row in &rows {
            let start = row["start_ms"].as_i64().unwrap();
            assert_eq!(row["end_ms"].as_i64().unwrap() - start, QUARTER);
            let want = counted
                .get(&(scope.clone(), start))
                .cloned()
                .unwrap_or_default();
            let got = Counted {
                answered: row["answered"].as_u64().unwrap(),
                abandoned: row["abandoned"].as_u64().unwrap(),
                timed_out: row["timed_out"].as_u64().unwrap(),
                handled: row["handled"].as_u64().unwrap(),
                answered_wait_ms: want.answered_wait_ms,
            };
            let mut want_counts = want.clone();
            if !scope.starts_with("team:") && scope != "centre" {
                want_counts.handled = got.handled; // handled calls count in teams, not queues
            }
            assert_eq!(got, want_counts, "{scope} at {}", row["start_local"]);
            let asa = row["asa_s"].as_f64();
            let want_asa = (want.answered > 0)
                .then(|| want.answered_wait_ms as f64 / want.answered as f64 / 1000.0);
            // Within a unit of the last place: serde_json's parser may round the last digit.
            let close = match (asa, want_asa) {
                (Some(a), Some(b)) => (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                (a, b) => a == b,
            };
            assert!(
                close,
                "{scope} at {}: asa {asa:?}, want {want_asa:?}",
                row["start_local"]
            );
            assert_eq!(
                row["offered"].as_u64().unwrap(),
                want.answered + want.abandoned + want.timed_out
            );
        }
        // Each day's row is the live "today" at the day's end: every figure, percentiles of
        // the merged quarter-hours included.
        let days = report(&server, scope, DAYS[0], DAYS[2], "day");
        assert_eq!(days.len(), 3, "{scope}");
        for (row, day) in days.iter().zip(DAYS) {
            let live = &at_day_end[&(scope.clone(), day)];
            let mut compared = 0;
            for (key, value) in row.as_object().unwrap() {
                if let Some(want) = live.get(key) {
                    assert_eq!(value, want, "{scope} {day}: {key}");
                    compared += 1;
                }
            }
            assert!(
                compared >= 28,
                "{scope} {day}: only {compared} figures in common"
            );
        }
    }
    // The last day against the one before, by the clock on the wall (the DST day lacks 02:00).
    let compared: Value = server
        .get("/api/v1/reports/compare?scope=centre&date=2026-03-09&against=previous-day")
        .json();
    let (rows, against) = (
        compared["rows"].as_array().unwrap(),
        compared["against_rows"].as_array().unwrap(),
    );
    assert_eq!((rows.len(), against.len()), (96, 96));
    let offered =
        |rows: &[Value]| -> u64 { rows.iter().map(|r| r["offered"].as_u64().unwrap()).sum() };
    let day_rows = report(&server, "centre", DAYS[1], DAYS[2], "day");
    assert_eq!(offered(against), day_rows[0]["offered"].as_u64().unwrap());
    assert_eq!(offered(rows), day_rows[1]["offered"].as_u64().unwrap());
    assert_eq!(against[8]["start_local"], "2026-03-09T02:00");
    assert_eq!(
        against[8]["offered"], 0,
        "no 02:00 on the day clocks went forward"
    );
    // Per agent: the handled calls of the day add up to the centre's; sign-in times are kept.
    let agents: Value = server
        .get(&format!(
            "/api/v1/reports/agents?scope=centre&from={}",
            DAYS[2]
        ))
        .json();
    let agents = agents["rows"].as_array().unwrap();
    let handled: u64 = agents.iter().map(|a| a["handled"].as_u64().unwrap()).sum();
    assert_eq!(handled, day_rows[1]["handled"].as_u64().unwrap());
    assert!(agents.iter().filter(|a| a["signed_in_at"].is_i64()).count() >= 10);

    // The interval report as CSV and XLSX: the same rows, read back; each download audited.
    let query = format!("scope=queue:billing&from={}&interval=30m", DAYS[1]);
    let (status, kind, csv) = server.get_bytes(&format!("/api/v1/reports/intervals.csv?{query}"));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&csv));
    assert_eq!(kind.as_deref(), Some("text/csv; charset=utf-8"));
    let csv = String::from_utf8(csv).unwrap();
    let csv = csv.strip_prefix('\u{feff}').expect("a byte-order mark");
    let lines: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        lines.len(),
        1 + 46,
        "a header and 46 half-hours on the DST day"
    );
    let offered_col = lines[0].iter().position(|c| *c == "offered").unwrap();
    let (status, _, xlsx) = server.get_bytes(&format!("/api/v1/reports/intervals.xlsx?{query}"));
    assert_eq!(status, 200);
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx)).unwrap();
    let sheet = calamine::Reader::worksheet_range(&mut book, "intervals").unwrap();
    let halves = report(&server, "queue:billing", DAYS[1], DAYS[1], "30m");
    for (i, row) in halves.iter().enumerate() {
        let offered = row["offered"].as_u64().unwrap();
        assert_eq!(lines[i + 1][offered_col], offered.to_string());
        let cell = sheet.get_value((i as u32 + 1, offered_col as u32)).unwrap();
        assert_eq!(cell.as_f64(), Some(offered as f64), "xlsx row {i}");
        assert_eq!(
            sheet.get_value((i as u32 + 1, 0)).unwrap().to_string(),
            row["start_local"]
        );
    }
    let audit = server.get("/api/v1/audit?action=export").body;
    assert!(
        audit.contains("reports/intervals.csv") && audit.contains("rows=46"),
        "{audit}"
    );
    assert!(audit.contains("reports/intervals.xlsx"), "{audit}");

    let centre_days = report(&server, "centre", DAYS[0], DAYS[2], "day");
    assert!(
        centre_days[1]["offered"].as_u64().unwrap() > 300,
        "{centre_days:?}"
    );
    assert!(centre_days[1]["handle_p90_s"].as_f64().is_some());

    // A late event amends its quarter-hour: a call abandoned on the first day at 10:05.
    let before = report(&server, "queue:billing", DAYS[0], DAYS[0], "15m");
    let ten = before
        .iter()
        .position(|r| r["start_local"] == "2026-03-07T10:00")
        .unwrap();
    let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    let late = [
        json!({"v": 1, "id": "late-1", "source": "history-test", "seq": 1,
            "ts": at("2026-03-07T15:05:00Z"), "type": "call_entered_queue",
            "call": "late-call", "queue": "billing", "caller": "13900000000", "direction": "inbound"}),
        json!({"v": 1, "id": "late-2", "source": "history-test", "seq": 2,
            "ts": at("2026-03-07T15:05:40Z"), "type": "call_abandoned",
            "call": "late-call", "queue": "billing", "wait_ms": 40_000}),
    ];
    let body: Vec<String> = late.iter().map(Value::to_string).collect();
    server.post_events(&body.join("\n"));
    next_morning(&server, "next-morning-2", "2026-03-10T12:20:00");
    let deadline = Instant::now() + Duration::from_secs(10);
    let amended = loop {
        let rows = report(&server, "queue:billing", DAYS[0], DAYS[0], "15m");
        if rows[ten]["abandoned"] != before[ten]["abandoned"] || Instant::now() > deadline {
            break rows;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        amended[ten]["abandoned"].as_u64().unwrap(),
        before[ten]["abandoned"].as_u64().unwrap() + 1,
        "{}",
        amended[ten]
    );
    for (i, (a, b)) in amended.iter().zip(&before).enumerate() {
        if i != ten {
            assert_eq!(a, b, "only the late event's quarter-hour changes");
        }
    }
    // Sign-off: the second day sealed; a late event for it waits beside its rows until a
    // manager amends the day with a reason, audited with each figure before and after.
    let signed = server.post_with(
        "/api/v1/reports/sign-off",
        &json!({"scope": "centre", "date": DAYS[1]}).to_string(),
        &[("Content-Type", "application/json")],
    );
    assert_eq!(signed.status, 200, "{}", signed.body);
    let hash = signed.json::<Value>()["hash"].as_str().unwrap().to_string();
    let again = server.post_with(
        "/api/v1/reports/sign-off",
        &json!({"scope": "centre", "date": DAYS[1]}).to_string(),
        &[("Content-Type", "application/json")],
    );
    assert_eq!(again.status, 409, "{}", again.body);
    let sealed = report(&server, "queue:billing", DAYS[1], DAYS[1], "15m");
    let late_on_sealed = late_call("late-sealed", "2026-03-08T14:05:00Z");
    server.post_events(&late_on_sealed);
    next_morning(&server, "next-morning-3", "2026-03-10T12:35:00");
    let deadline = Instant::now() + Duration::from_secs(10);
    let waiting = loop {
        let list: Value = server
            .get(&format!(
                "/api/v1/reports/sign-offs?scope=queue:billing&from={}",
                DAYS[1]
            ))
            .json();
        let waiting = list[0]["after_sign_off_rows"].as_u64().unwrap_or(0);
        if waiting > 0 || Instant::now() > deadline {
            assert_eq!(list[0]["hash"], hash.as_str());
            break waiting;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(waiting > 0, "the late event was not kept aside");
    assert_eq!(
        report(&server, "queue:billing", DAYS[1], DAYS[1], "15m"),
        sealed,
        "a signed-off day changed without an amendment"
    );
    let marked: Value = server
        .get(&format!(
            "/api/v1/reports/intervals?scope=centre&from={}&interval=day",
            DAYS[1]
        ))
        .json();
    assert_eq!(marked["signed_off"][0]["hash"], hash.as_str(), "{marked}");
    let amended = server.post_with(
        "/api/v1/reports/amend",
        &json!({"scope": "centre", "date": DAYS[1], "reason": "switch resent a lost call"})
            .to_string(),
        &[("Content-Type", "application/json")],
    );
    assert_eq!(amended.status, 200, "{}", amended.body);
    let now = report(&server, "queue:billing", DAYS[1], DAYS[1], "15m");
    let ten = now
        .iter()
        .position(|r| r["start_local"] == "2026-03-08T10:00")
        .unwrap();
    assert_eq!(
        now[ten]["abandoned"].as_u64().unwrap(),
        sealed[ten]["abandoned"].as_u64().unwrap() + 1
    );
    let audit = server.get("/api/v1/audit?action=amendment").body;
    assert!(
        audit.contains("switch resent a lost call")
            && audit.contains("before")
            && audit.contains("abandoned"),
        "{audit}"
    );
    assert!(
        server
            .get("/api/v1/audit?action=sign_off")
            .body
            .contains(&hash),
        "the seal's hash is in the audit chain"
    );

    server.terminate(Duration::from_secs(20));
    let verified = floorwatch_ok(&data, &["audit", "verify"], "");
    assert!(verified.contains("intact"), "{verified}");
    let live = dump(&data, &recorded.config);
    assert!(live.lines().count() > 1000, "{} rows", live.lines().count());
    // The call detail records are in the dump too, so the rebuild and the kill compare them.
    let calls = live.lines().filter(|l| l.starts_with("call\t")).count();
    assert!(calls > 1000, "{calls} call rows");

    // Rebuilt from the journal: the same bytes.
    let rebuilt = floorwatch_ok(
        &data,
        &[
            "history",
            "rebuild",
            "--config",
            &recorded.config,
            "--from",
            DAYS[0],
            "--to",
            DAYS[2],
        ],
        "",
    );
    assert!(rebuilt.contains("rebuilt"), "{rebuilt}");
    assert_eq!(
        dump(&data, &recorded.config),
        live,
        "rebuild differs from live"
    );

    // The same days into a server killed in the middle of the second one.
    let killed_data = dir.path().join("killed");
    let mut killed = Server::start_in(&killed_data, &args);
    replay(&killed, &recorded.days[0]);
    let second = std::fs::read_to_string(&recorded.days[1]).unwrap();
    let lines: Vec<&str> = second.lines().collect();
    let half = dir.path().join("half.ndjson");
    std::fs::write(&half, lines[..lines.len() / 2].join("\n") + "\n").unwrap();
    replay(&killed, &half);
    killed.kill_hard();
    killed.restart();
    replay(&killed, &recorded.days[1]);
    replay(&killed, &recorded.days[2]);
    next_morning(&killed, "next-morning-1", "2026-03-10T12:00:00");
    killed.post_events(&body.join("\n"));
    next_morning(&killed, "next-morning-2", "2026-03-10T12:20:00");
    killed.post_events(&late_call("late-sealed", "2026-03-08T14:05:00Z"));
    next_morning(&killed, "next-morning-3", "2026-03-10T12:35:00");
    killed.terminate(Duration::from_secs(20));
    assert_eq!(
        dump(&killed_data, &recorded.config),
        live,
        "a kill lost or doubled rows"
    );
}
