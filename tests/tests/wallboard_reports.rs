//! The reports page in a real browser against a real server (issue 12, items 3 and 5, "Done
//! when"): two days of the `small` scenario replayed with `--clock events`; the page's interval
//! table and charts equal `GET /api/v1/reports/intervals` and `/compare` for the day, a signed-off
//! day is marked, the CSV and XLSX downloads of the page's own links open (read back with
//! `calamine`), and a figure on the supervisor view drills down to the calls behind it (equal
//! to `GET /api/v1/reports/calls`).
//!
//! Needs Debian's chromium and chromium-driver (`scripts/install-browser`).

mod wallboard_support;

use std::io::Cursor;
use std::path::Path;

use calamine::Reader;
use floorwatch_tests::{Server, sim, simulate_days, workspace_root};
use serde_json::{Value, json};
use wallboard_support::{
    Browser, assets_args, one_browser_at_a_time, sign_in_as_admin, wait_for_connection,
};

const DAYS: [&str; 2] = ["2026-03-09", "2026-03-10"];
const ZONE: &str = "Asia/Shanghai";

/// Records the days with the simulator and starts a server with their organisation.
fn serve_days(dir: &Path) -> (Server, Vec<std::path::PathBuf>) {
    let scenario = workspace_root().join("simulator/scenarios/small.toml");
    let scenario = scenario.to_string_lossy().to_string();
    let (files, config) = simulate_days(&scenario, &DAYS, 3, dir);
    let mut args = vec![
        "--clock".to_string(),
        "events".to_string(),
        "--config".to_string(),
        config.to_string_lossy().to_string(),
    ];
    args.extend(assets_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    (Server::start_in(&dir.join("data"), &args), files)
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

/// One event the next morning: the clock passes the last day's end, closing its quarter-hours.
fn next_morning(server: &Server, local: &str) {
    let ts = local
        .parse::<jiff::civil::DateTime>()
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get(ZONE).unwrap())
        .unwrap()
        .timestamp()
        .as_millisecond();
    let event = json!({"v": 1, "id": "next-morning", "source": "reports-test", "seq": 1,
        "ts": ts, "type": "agent_logout", "agent": "a0001"});
    server.post_events(&event.to_string());
}

/// The page's download link `kind`, fetched by the page itself with its session cookie:
/// status, content type and the bytes.
async fn download(browser: &Browser, kind: &str) -> (String, u64, String, Vec<u8>) {
    let got = browser
        .js_async(
            "const done = arguments[arguments.length - 1];
             const href = document.querySelector(`[data-download=${arguments[0]}]`).getAttribute('href');
             fetch(href, {credentials: 'same-origin'}).then(async r => {
               const bytes = Array.from(new Uint8Array(await r.arrayBuffer()));
               done({href, status: r.status, type: r.headers.get('content-type'), bytes});
             }).catch(e => done({href, status: 0, type: String(e), bytes: []}));",
            vec![json!(kind)],
        )
        .await;
    let bytes = got["bytes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap() as u8)
        .collect();
    (
        got["href"].as_str().unwrap_or_default().to_string(),
        got["status"].as_u64().unwrap_or(0),
        got["type"].as_str().unwrap_or_default().to_string(),
        bytes,
    )
}

/// The figure `field` of each row, as the page's charts plot it (a count of `days` pooled days
/// per day).
fn plotted(rows: &Value, field: &str, days: usize) -> String {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| match (&r[field], field) {
            (Value::Null, _) => "null".to_string(),
            (v, "offered") => {
                let v = v.as_f64().unwrap() / days as f64;
                serde_json::to_string(&v).unwrap()
            }
            (v, _) => serde_json::to_string(&v.as_f64().unwrap()).unwrap(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reports_page_shows_the_day_of_the_api_with_its_charts_and_downloads() {
    let _one = one_browser_at_a_time().await;
    let dir = tempfile::tempdir().unwrap();
    let (mut server, files) = serve_days(dir.path());
    for file in &files {
        replay(&server, file);
    }
    next_morning(&server, "2026-03-11T12:00:00");
    // The report reads the store, which the history thread writes behind ingest: the jump to
    // the next morning closes the evening's quarter-hours at once. A graceful stop writes what
    // is queued, so the API and the page below read the same rows.
    server.terminate(std::time::Duration::from_secs(20));
    server.restart();
    let day = DAYS[1];
    let report: Value = server.get_json(&format!(
        "/api/v1/reports/intervals?scope=centre&from={day}&to={day}&interval=15m"
    ));
    let rows = report["rows"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 96);
    let offered: u64 = rows.iter().map(|r| r["offered"].as_u64().unwrap()).sum();
    assert!(offered > 100, "the day should have calls, got {offered}");
    let signed = server.post_with(
        "/api/v1/reports/sign-off",
        &json!({"scope": "centre", "date": DAYS[0]}).to_string(),
        &[("Content-Type", "application/json")],
    );
    assert_eq!(signed.status, 200, "{}", signed.body);

    let browser = Browser::open(1600, 1000, "en-US").await;
    browser
        .goto(&format!("{}/#/supervisor", server.url()))
        .await;
    sign_in_as_admin(&browser).await;
    browser
        .goto(&format!(
            "{}/reports#intervals?scope=centre&from={day}&to={day}&interval=15m",
            server.url()
        ))
        .await;
    browser
        .wait_for(
            "the interval table",
            "return document.querySelectorAll('[data-table=intervals] tbody tr').length === 96;",
            vec![],
        )
        .await;
    // Every cell of every row equals the API's figure (data-value is the API's JSON).
    let shown = browser
        .js(
            "return [...document.querySelectorAll('[data-table=intervals] tbody tr')].map(tr => ({
               start: Number(tr.dataset.start),
               cells: Object.fromEntries([...tr.querySelectorAll('td')].map(td =>
                 [td.dataset.field, JSON.parse(td.dataset.value)]))}));",
            vec![],
        )
        .await;
    let shown = shown.as_array().unwrap();
    let mut fields = 0;
    for (row, page) in rows.iter().zip(shown) {
        assert_eq!(page["start"], row["start_ms"]);
        let cells = page["cells"].as_object().unwrap();
        assert_eq!(cells.len(), 8, "{cells:?}");
        for (field, value) in cells {
            // JavaScript has one number type: 0.0 comes back as 0.
            let same = match (value.as_f64(), row[field].as_f64()) {
                (Some(a), Some(b)) => a == b,
                _ => value == &row[field],
            };
            assert!(
                same,
                "{field} at {}: {value} != {}",
                row["start_local"], row[field]
            );
            fields += 1;
        }
    }
    assert_eq!(fields, 96 * 8);

    // The charts: the day against the previous day, each figure as the compare API says.
    let compare: Value = server.get_json(&format!(
        "/api/v1/reports/compare?scope=centre&date={day}&against=previous-day&interval=15m"
    ));
    browser
        .wait_for(
            "the four charts",
            "return document.querySelectorAll('[data-chart] [data-series=day] polyline').length >= 4;",
            vec![],
        )
        .await;
    for field in ["service_level_pct", "offered", "asa_s", "abandon_rate_pct"] {
        let series = browser
            .js(
                "const c = document.querySelector(`[data-chart=${arguments[0]}]`);
                 return [c.querySelector('[data-series=day]').dataset.values,
                         c.querySelector('[data-series=against]').dataset.values];",
                vec![json!(field)],
            )
            .await;
        assert_eq!(
            series[0],
            json!(plotted(&compare["rows"], field, 1)),
            "{field}"
        );
        assert_eq!(
            series[1],
            json!(plotted(&compare["against_rows"], field, 1)),
            "{field} of the previous day"
        );
    }
    browser.screenshot("reports-intervals").await;

    // The downloads, by the page's own links and its session: the CSV and the workbook hold
    // the day's 96 rows.
    let (href, status, kind, csv) = download(&browser, "csv").await;
    assert_eq!(status, 200, "{href}: {}", String::from_utf8_lossy(&csv));
    assert!(kind.starts_with("text/csv"), "{kind}");
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with('\u{feff}'), "a byte-order mark");
    assert_eq!(csv.lines().count(), 1 + 96, "{href}");
    let (href, status, _, xlsx) = download(&browser, "xlsx").await;
    assert_eq!(status, 200, "{href}");
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(xlsx)).unwrap();
    let sheet = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&sheet).unwrap();
    assert_eq!(range.height(), 1 + 96, "{href}");

    // The signed-off day is marked, row and list.
    browser
        .goto(&format!(
            "{}/reports#intervals?scope=centre&from={}&to={day}&interval=day",
            server.url(),
            DAYS[0]
        ))
        .await;
    let marks = browser
        .wait_for(
            "the sealed day's mark",
            "const rows = [...document.querySelectorAll('[data-table=intervals] tbody tr')];
             return rows.length === 2 && document.querySelector('[data-sealed-day]')
               ? [rows.map(r => r.dataset.mark || null), document.querySelector('[data-sealed-day]').dataset.sealedDay]
               : null;",
            vec![],
        )
        .await;
    assert_eq!(marks, json!([["sealed", null], DAYS[0]]));

    // Chinese, like the wallboard.
    browser.click("[data-control=lang]").await;
    browser
        .wait_for(
            "the Chinese headings",
            "return document.querySelector('[data-table=intervals] thead th')?.textContent === '开始时间';",
            vec![],
        )
        .await;
    browser.close().await;
}

/// Needs the calls API (`GET /api/v1/reports/calls`, branch `cdr`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_figure_drills_down_to_its_calls() {
    let _one = one_browser_at_a_time().await;
    let dir = tempfile::tempdir().unwrap();
    let (server, files) = serve_days(dir.path());
    replay(&server, &files[1]);
    let abandoned = server.figures("centre", "today").abandoned;
    assert!(abandoned > 0, "the day should have abandoned calls");

    let browser = Browser::open(1600, 1000, "en-US").await;
    browser
        .goto(&format!("{}/#/supervisor?window=today", server.url()))
        .await;
    sign_in_as_admin(&browser).await;
    wait_for_connection(&browser, "live").await;
    let cell = "table.table-queues tr.total td[data-figure=abandoned_today]";
    browser
        .wait_for(
            "today's abandoned calls on the supervisor view",
            "return document.querySelector(arguments[0])?.dataset.value === arguments[1];",
            vec![json!(cell), json!(abandoned.to_string())],
        )
        .await;
    browser.click(cell).await;
    // The reports page resolves the window and lists the calls behind the figure.
    let hash = browser
        .wait_for(
            "the calls behind the figure",
            "return location.pathname === '/reports' && location.hash.includes('start_ms=')
               && document.querySelector('[data-table=calls] [data-call]') ? location.hash : null;",
            vec![],
        )
        .await;
    let hash = hash.as_str().unwrap();
    // The page's own query, less what is the page's alone (its language).
    let query: Vec<&str> = hash
        .split_once('?')
        .unwrap()
        .1
        .split('&')
        .filter(|p| !p.starts_with("lang="))
        .collect();
    let query = query.join("&");
    assert!(query.contains("outcome=abandoned"), "{hash}");
    let api: Value = server.get_json(&format!("/api/v1/reports/calls?{query}&limit=100"));
    let page = browser
        .js(
            "return {total: Number(document.querySelector('[data-total]').dataset.total),
                     calls: [...document.querySelectorAll('[data-table=calls] [data-call]')].map(tr =>
                       [tr.dataset.call, tr.dataset.outcome,
                        tr.querySelector('[data-field=caller] .caller').textContent])};",
            vec![],
        )
        .await;
    assert_eq!(page["total"], api["total"]);
    assert_eq!(
        api["total"],
        json!(abandoned),
        "the calls behind the figure are its calls"
    );
    let expected: Vec<Value> = api["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| json!([c["id"], c["outcome"], c["caller"].as_str().unwrap_or("—")]))
        .collect();
    assert_eq!(page["calls"], json!(expected));
    browser.screenshot("reports-calls").await;
    browser.close().await;
}
