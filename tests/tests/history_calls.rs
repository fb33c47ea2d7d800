//! Issue 12, items 2 and 3 (the calls report, the callback worklist, drill-down), through a
//! real server with `--clock events`, fed a day written here call by call:
//! - the day's calls report equals a recomputation from those events (outcome, wait, agent,
//!   talk), each call once over every page, test calls never, caller numbers masked;
//! - `service_level=missed` (and `met`) in a quarter-hour's window are exactly the calls that
//!   make the gap between the service level's denominator and numerator of that quarter-hour in
//!   `/api/v1/reports/intervals`, for a queue and for the centre;
//! - the drill-down reaches the floor's "now": calls of the quarter-hour still open are found;
//! - a callback mark is audited, a second one is a 409, the worklist filters on it;
//! - a team lead sees their own team's queues' calls only;
//! - a stored call unmasks by its id (audited); CSV and XLSX read back.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use calamine::{DataType, Reader};
use floorwatch_tests::Server;
use serde_json::{Value, json};

/// 2026-03-09T09:00:00Z.
const NINE: i64 = 1_773_046_800_000;
const QUARTER: i64 = 900_000;
const DAY: &str = "2026-03-09";

const CONFIG: &str = r#"
[centre]
id = "hq"
timezone = "UTC"

[[sites]]
id = "s1"

[[sites.groups]]
id = "g1"

[[sites.groups.teams]]
id = "t1"
agents = [{ id = "a1", name = "Ann" }, { id = "a2", name = "Bo" }]

[[sites.groups.teams]]
id = "t2"
agents = [{ id = "a3", name = "Cy" }]

[[queues]]
id = "sales"
owner = "team:t1"

[[queues]]
id = "care"
owner = "team:t2"
"#;

/// One visit as the test wrote it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Visit {
    call: String,
    queue: String,
    outcome: &'static str,
    wait_ms: i64,
    outcome_ms: i64,
    agent: Option<String>,
    talk_ms: Option<i64>,
}

/// The day's events (NDJSON lines, in time order) and the visits they make.
fn day() -> (Vec<String>, Vec<Visit>, BTreeMap<String, String>) {
    let mut events: Vec<(i64, Value)> = Vec::new();
    let mut visits = Vec::new();
    let mut callers = BTreeMap::new();
    let waits = [2_000, 4_000, 12_000, 20_000, 21_000, 45_000, 90_000];
    for i in 0..84i64 {
        let call = format!("c{i:03}");
        let queue = if i % 3 == 0 { "care" } else { "sales" };
        let entered = NINE + i * 97_000;
        let wait = waits[(i % 7) as usize];
        let at = entered + wait;
        let caller = format!("1390000{i:04}");
        callers.insert(call.clone(), caller.clone());
        events.push((
            entered,
            json!({"type": "call_entered_queue", "call": call, "queue": queue,
                "caller": caller, "direction": "inbound"}),
        ));
        let (outcome, agent, talk) = match i % 4 {
            0 | 1 => {
                let agent = if queue == "care" {
                    "a3"
                } else if i % 2 == 0 {
                    "a1"
                } else {
                    "a2"
                };
                events.push((
                    at,
                    json!({"type": "call_answered", "call": call, "agent": agent}),
                ));
                let talk = 60_000 + i * 1_000;
                events.push((
                    at + talk,
                    json!({"type": "call_ended", "call": call, "agent": agent}),
                ));
                ("answered", Some(agent.to_string()), Some(talk))
            }
            2 => {
                events.push((
                    at,
                    json!({"type": "call_abandoned", "call": call, "queue": queue}),
                ));
                ("abandoned", None, None)
            }
            _ => {
                events.push((
                    at,
                    json!({"type": "call_timed_out", "call": call, "queue": queue}),
                ));
                ("timed_out", None, None)
            }
        };
        visits.push(Visit {
            call,
            queue: queue.into(),
            outcome,
            wait_ms: wait,
            outcome_ms: at,
            agent,
            talk_ms: talk,
        });
    }
    // A call moved from sales to care while waiting, then answered there.
    let moved = NINE + 30 * 60_000 + 500;
    events.push((
        moved,
        json!({"type": "call_entered_queue", "call": "m1", "queue": "sales",
            "caller": "13911112222", "direction": "inbound"}),
    ));
    events.push((
        moved + 30_000,
        json!({"type": "call_entered_queue", "call": "m1", "queue": "care",
            "direction": "inbound"}),
    ));
    events.push((
        moved + 40_000,
        json!({"type": "call_answered", "call": "m1", "agent": "a3"}),
    ));
    events.push((
        moved + 100_000,
        json!({"type": "call_ended", "call": "m1", "agent": "a3"}),
    ));
    callers.insert("m1".into(), "13911112222".into());
    visits.push(Visit {
        call: "m1".into(),
        queue: "sales".into(),
        outcome: "transferred",
        wait_ms: 30_000,
        outcome_ms: moved + 30_000,
        agent: None,
        talk_ms: None,
    });
    visits.push(Visit {
        call: "m1".into(),
        queue: "care".into(),
        outcome: "answered",
        wait_ms: 10_000,
        outcome_ms: moved + 40_000,
        agent: Some("a3".into()),
        talk_ms: Some(60_000),
    });
    // A trainee's test call: never stored.
    let test = NINE + 20 * 60_000;
    events.push((
        test,
        json!({"type": "call_entered_queue", "call": "t-test", "queue": "sales",
            "caller": "13800000000", "direction": "inbound", "test": true}),
    ));
    events.push((
        test + 50_000,
        json!({"type": "call_abandoned", "call": "t-test", "queue": "sales", "test": true}),
    ));
    events.sort_by_key(|(ts, _)| *ts);
    let lines = events
        .into_iter()
        .enumerate()
        .map(|(n, (ts, mut e))| {
            e["v"] = json!(1);
            e["id"] = json!(format!("hc-{n}"));
            e["source"] = json!("history-calls");
            e["seq"] = json!(n + 1);
            e["ts"] = json!(ts);
            e.to_string()
        })
        .collect();
    visits.sort();
    (lines, visits, callers)
}

/// Every call of a query, page by page (`limit` a page); asserts each id comes once.
fn all_pages(server: &Server, token: Option<&str>, query: &str, limit: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut ids = BTreeSet::new();
    let mut after = String::new();
    loop {
        let path = format!("/api/v1/reports/calls?{query}&limit={limit}{after}");
        let reply = match token {
            Some(t) => server.get_as(&path, t),
            None => server.get(&path),
        };
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        let body: Value = reply.json();
        let calls = body["calls"].as_array().unwrap().clone();
        assert!(calls.len() <= limit);
        for c in &calls {
            assert!(
                ids.insert(c["id"].as_str().unwrap().to_string()),
                "{c} came twice"
            );
        }
        out.extend(calls);
        match body["next"].as_str() {
            Some(next) => after = format!("&after={next}"),
            None => {
                assert_eq!(
                    body["total"].as_u64().unwrap() as usize,
                    out.len(),
                    "{query}"
                );
                return out;
            }
        }
    }
}

fn as_visit(c: &Value) -> Visit {
    Visit {
        call: c["call"].as_str().unwrap().into(),
        queue: c["queue"].as_str().unwrap().into(),
        outcome: match c["outcome"].as_str().unwrap() {
            "answered" => "answered",
            "abandoned" => "abandoned",
            "timed_out" => "timed_out",
            "transferred" => "transferred",
            other => panic!("outcome {other}"),
        },
        wait_ms: c["wait_ms"].as_i64().unwrap(),
        outcome_ms: c["outcome_ms"].as_i64().unwrap(),
        agent: c["agent"].as_str().map(str::to_string),
        talk_ms: c["talk_ms"].as_i64(),
    }
}

fn total(server: &Server, query: &str) -> u64 {
    let path = format!("/api/v1/reports/calls?{query}");
    let body: Value = server.get_json(&path);
    body["total"].as_u64().unwrap()
}

#[test]
fn the_calls_report_drills_down_to_the_calls_behind_each_figure() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("org.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let config = config.to_string_lossy().to_string();
    let mut server = Server::start_in(
        &dir.path().join("data"),
        &["--clock", "events", "--config", &config],
    );
    let (lines, visits, callers) = day();
    server.post_events(&lines.join("\n"));

    // The last calls' quarter-hour is still open: the drill-down finds them all the same.
    let last = visits.iter().map(|v| v.outcome_ms).max().unwrap();
    let open_from = last.div_euclid(QUARTER) * QUARTER;
    let open: Vec<Value> = all_pages(
        &server,
        None,
        &format!(
            "scope=centre&start_ms={open_from}&end_ms={}",
            open_from + QUARTER
        ),
        500,
    );
    let want_open = visits.iter().filter(|v| v.outcome_ms >= open_from).count();
    assert!(want_open > 0);
    assert_eq!(open.len(), want_open, "the open quarter-hour's calls");

    // The next morning closes every quarter-hour of the day; a restart resumes from the store.
    let morning = json!({"v": 1, "id": "hc-morning", "source": "history-calls", "seq": 1000,
        "ts": NINE + 24 * 3_600_000, "type": "agent_logout", "agent": "a1"});
    server.post_events(&morning.to_string());
    server.terminate(Duration::from_secs(20));
    server.restart();

    // The day's report equals the recomputation, each call once over the pages.
    let day_calls = all_pages(&server, None, &format!("scope=centre&from={DAY}"), 7);
    let mut got: Vec<Visit> = day_calls.iter().map(as_visit).collect();
    got.sort();
    assert_eq!(got, visits);
    let outcomes: BTreeSet<&str> = visits.iter().map(|v| v.outcome).collect();
    for outcome in outcomes {
        let want = visits.iter().filter(|v| v.outcome == outcome).count() as u64;
        assert_eq!(
            total(
                &server,
                &format!("scope=centre&from={DAY}&outcome={outcome}")
            ),
            want,
            "{outcome}"
        );
    }
    assert_eq!(
        total(
            &server,
            &format!("scope=centre&from={DAY}&outcome=abandoned,timed_out")
        ),
        visits
            .iter()
            .filter(|v| v.outcome == "abandoned" || v.outcome == "timed_out")
            .count() as u64
    );
    // Oldest outcome first; masked callers only; entered = outcome - wait in local time.
    let times: Vec<i64> = day_calls
        .iter()
        .map(|c| c["outcome_ms"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    let body = serde_json::to_string(&day_calls).unwrap();
    for (call, number) in &callers {
        assert!(!body.contains(number.as_str()), "{call}'s number unmasked");
    }
    assert!(!body.contains("t-test"), "a test call was stored");
    for c in &day_calls {
        let caller = c["caller"].as_str().unwrap();
        assert!(caller.contains('*'), "{caller}");
        assert_eq!(
            c["entered_ms"].as_i64().unwrap(),
            c["outcome_ms"].as_i64().unwrap() - c["wait_ms"].as_i64().unwrap()
        );
        assert!(
            c["entered_local"]
                .as_str()
                .unwrap()
                .starts_with("2026-03-09T09:")
                || c["entered_local"]
                    .as_str()
                    .unwrap()
                    .starts_with("2026-03-09T1")
        );
    }

    // Drill-down: each quarter-hour's missed and met calls are the figure's gap and numerator.
    let mut checked = 0;
    for scope in ["queue:sales", "queue:care", "centre"] {
        let rows: Value = server.get_json(&format!(
            "/api/v1/reports/intervals?scope={scope}&from={DAY}&interval=15m"
        ));
        for row in rows["rows"].as_array().unwrap() {
            let offered = row["offered"].as_u64().unwrap();
            if offered == 0 {
                continue;
            }
            let (start, end) = (
                row["start_ms"].as_i64().unwrap(),
                row["end_ms"].as_i64().unwrap(),
            );
            let window = format!("scope={scope}&start_ms={start}&end_ms={end}");
            let within = row["answered_within_threshold"].as_u64().unwrap();
            let denominator = offered - row["short_abandoned"].as_u64().unwrap();
            assert_eq!(
                total(&server, &format!("{window}&service_level=met")),
                within,
                "{scope} {}",
                row["start_local"]
            );
            assert_eq!(
                total(&server, &format!("{window}&service_level=missed")),
                denominator - within,
                "{scope} {}: the missed calls are the gap",
                row["start_local"]
            );
            let sl = row["service_level_pct"].as_f64().unwrap();
            assert!((sl - 100.0 * within as f64 / denominator as f64).abs() < 0.01);
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked} quarter-hours checked");

    // The callback worklist: a supervisor marks an abandoned caller, once.
    server.add_user("sup", "supervisor", None, "supervisor-password-1");
    let sup = server.create_token("sup");
    let worklist = format!("scope=centre&from={DAY}&outcome=abandoned&callback=pending");
    let pending = total(&server, &worklist);
    let first = all_pages(&server, None, &worklist, 500)[0].clone();
    let id = first["id"].as_str().unwrap();
    let bearer = format!("Bearer {sup}");
    let headers = [
        ("Authorization", bearer.as_str()),
        ("Content-Type", "application/json"),
    ];
    let path = format!("/api/v1/reports/calls/{id}/callback");
    let marked = server.post_with(&path, r#"{"note": "rang back, resolved"}"#, &headers);
    assert_eq!(marked.status, 200, "{}", marked.body);
    let again = server.post_with(&path, "", &headers);
    assert_eq!(again.status, 409, "{}", again.body);
    let long = server.post_with(
        &format!(
            "/api/v1/reports/calls/{}/callback",
            day_calls[1]["id"].as_str().unwrap()
        ),
        &json!({"note": "x".repeat(201)}).to_string(),
        &headers,
    );
    assert_eq!(long.status, 400, "{}", long.body);
    assert_eq!(total(&server, &worklist), pending - 1);
    let done: Vec<Value> = all_pages(
        &server,
        None,
        &format!("scope=centre&from={DAY}&callback=done"),
        10,
    );
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["id"], id);
    assert_eq!(done[0]["callback"]["by"], "sup");
    let audit = server.get("/api/v1/audit?action=callback").body;
    assert!(
        audit.contains(&format!("call:{id}")) && audit.contains("sup"),
        "{audit}"
    );

    // A team lead of t1 sees sales (owned by t1) only.
    server.add_user("lead", "team_lead", Some("team:t1"), "lead-password-0001");
    let lead = server.create_token("lead");
    let own = all_pages(
        &server,
        Some(&lead),
        &format!("scope=team:t1&from={DAY}"),
        500,
    );
    assert_eq!(
        own.len(),
        visits.iter().filter(|v| v.queue == "sales").count()
    );
    assert!(own.iter().all(|c| c["queue"] == "sales"));
    for outside in ["centre", "team:t2", "queue:care"] {
        let reply = server.get_as(
            &format!("/api/v1/reports/calls?scope={outside}&from={DAY}"),
            &lead,
        );
        assert_eq!(reply.status, 403, "{outside}: {}", reply.body);
    }
    let care = day_calls.iter().find(|c| c["queue"] == "care").unwrap();
    let lead_bearer = format!("Bearer {lead}");
    let refused = server.post_with(
        &format!(
            "/api/v1/reports/calls/{}/callback",
            care["id"].as_str().unwrap()
        ),
        "",
        &[("Authorization", lead_bearer.as_str())],
    );
    assert_eq!(refused.status, 403, "{}", refused.body);

    // A stored call unmasks by its id, audited.
    let reply = server.post_with(
        &format!("/api/v1/calls/{id}/unmask"),
        &json!({"reason": "calling the customer back"}).to_string(),
        &[("Content-Type", "application/json")],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let unmasked: Value = reply.json();
    assert_eq!(
        unmasked["caller"].as_str(),
        callers
            .get(first["call"].as_str().unwrap())
            .map(String::as_str)
    );
    assert!(server.get("/api/v1/audit?action=unmask").body.contains(id));

    // Files: the same rows, read back.
    let (status, kind, csv) = server.get_bytes(&format!(
        "/api/v1/reports/calls.csv?scope=centre&from={DAY}"
    ));
    assert_eq!(status, 200);
    assert!(kind.unwrap_or_default().starts_with("text/csv"));
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with('\u{feff}'));
    assert_eq!(csv.lines().count(), visits.len() + 1);
    assert!(csv.lines().next().unwrap().contains("service_level"));
    let (status, _, xlsx) = server.get_bytes(&format!(
        "/api/v1/reports/calls.xlsx?scope=queue:sales&from={DAY}&outcome=abandoned"
    ));
    assert_eq!(status, 200);
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx)).unwrap();
    let sheet = book.worksheet_range("calls").unwrap();
    let header: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let outcome_at = header.iter().position(|h| h == "outcome").unwrap();
    let wait_at = header.iter().position(|h| h == "wait_s").unwrap();
    let rows: Vec<_> = sheet.rows().skip(1).collect();
    assert_eq!(
        rows.len(),
        visits
            .iter()
            .filter(|v| v.queue == "sales" && v.outcome == "abandoned")
            .count()
    );
    assert!(
        rows.iter()
            .all(|r| r[outcome_at].get_string() == Some("abandoned"))
    );
    assert!(rows.iter().all(|r| r[wait_at].get_float().is_some()));
    let exports = server.get("/api/v1/audit?action=export").body;
    assert!(
        exports.contains("reports/calls.csv") && exports.contains("rows="),
        "{exports}"
    );

    // Bad queries are 400s naming what is wrong.
    for (query, word) in [
        ("scope=centre", "from"),
        (
            &format!("scope=centre&from={DAY}&outcome=lost") as &str,
            "outcome",
        ),
        (
            &format!("scope=centre&from={DAY}&service_level=maybe"),
            "service_level",
        ),
        (&format!("scope=centre&from={DAY}&limit=501"), "limit"),
        (&format!("scope=centre&from={DAY}&after=nope"), "after"),
        ("scope=centre&start_ms=5", "end_ms"),
    ] {
        let reply = server.get(&format!("/api/v1/reports/calls?{query}"));
        assert_eq!(reply.status, 400, "{query}: {}", reply.body);
        assert!(reply.body.contains(word), "{query}: {}", reply.body);
    }
    server.terminate(Duration::from_secs(20));
}
