//! The wallboard in a real browser against a real server (issue 5, "Done when"): the wall's
//! figures equal `GET /api/v1/metrics`; a tile turns red when service level falls below target;
//! the language switch changes every label; screenshots of both views, the sign-in page (with a
//! refused password) and the audit page.
//!
//! Needs Debian's chromium and chromium-driver (`scripts/install-browser`). The server runs with
//! `--clock events` on a fixed morning of events, so every figure holds still while compared.

mod wallboard_support;

use floorwatch_tests::Server;
use serde_json::json;
use wallboard_support::{
    Browser, DAY_START, Feed, assert_wall_matches_api, assets_args, morning, one_browser_at_a_time,
    submit_sign_in, wait_for_connection,
};

fn server() -> Server {
    let mut args = vec!["--clock".to_string(), "events".to_string()];
    args.extend(assets_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(&args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wall_shows_the_figures_of_the_api() {
    let _one = one_browser_at_a_time().await;
    let server = server();
    let reply = server.post_events(&morning(&mut Feed::new(DAY_START)));
    assert_eq!(reply.rejected, 0, "{:?}", reply.errors);
    let answered: u64 = server.figures("centre", "today").answered;
    assert!(
        answered > 20,
        "the morning should have answered calls, got {answered}"
    );

    let browser = Browser::open(1920, 1080, "en-US").await;
    for (scope, window) in [
        ("centre", "today"),
        ("centre", "15m"),
        ("queue:support", "60m"),
        ("queue:billing", "interval30"),
    ] {
        browser
            .goto(&format!(
                "{}/#/wall?scope={scope}&window={window}",
                server.url()
            ))
            .await;
        wallboard_support::sign_in_as_admin(&browser).await;
        wait_for_connection(&browser, "live").await;
        assert_wall_matches_api(&browser, &server, scope, window).await;
        // The wall is for everyone in the room: no caller numbers, no agent.
        let text = browser.js("return document.body.innerText", vec![]).await;
        let text = text.as_str().unwrap_or_default();
        assert!(!text.contains("13800001234"), "a caller number on the wall");
        assert!(!text.contains("agent-"), "an agent on the wall");
    }
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tile_turns_red_when_service_level_falls_below_target() {
    let _one = one_browser_at_a_time().await;
    let server = server();
    let mut feed = Feed::new(DAY_START);
    feed.login("a1", "north").login("a2", "north");
    let mut at = DAY_START + 1_000;
    for n in 0..10 {
        feed.answered_call(
            &format!("quick-{n}"),
            "billing",
            "a1",
            at,
            5.0,
            Some(30.0),
            5.0,
        );
        at += 60_000;
    }
    server.post_events(&feed.take());
    let browser = Browser::open(1920, 1080, "en-US").await;
    browser
        .goto(&format!("{}/#/wall?window=today", server.url()))
        .await;
    wallboard_support::sign_in_as_admin(&browser).await;
    wait_for_connection(&browser, "live").await;
    let tile = "document.querySelector('[data-figure=service_level_pct]').className";
    browser
        .wait_for(
            "the service-level tile to be green at 100 %",
            &format!("return {tile}.includes('tone-good') && {tile}"),
            vec![],
        )
        .await;

    // A burst of calls answered after a minute each: 10 of 20 within T, 50 % against 80 %.
    for n in 0..10 {
        feed.answered_call(
            &format!("slow-{n}"),
            "billing",
            "a2",
            at,
            60.0,
            Some(30.0),
            5.0,
        );
        at += 20_000;
    }
    server.post_events(&feed.take());
    let centre = server.figures("centre", "today");
    assert_eq!(centre.service_level_pct, Some(50.0));
    browser
        .wait_for(
            "the service-level tile to turn red",
            &format!("return {tile}.includes('tone-bad') && {tile}"),
            vec![],
        )
        .await;
    assert_wall_matches_api(&browser, &server, "centre", "today").await;
    browser.screenshot("wall-service-level-red").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_supervisor_sorts_queues_and_filters_agents() {
    use floorwatch_dashboard::figure::Figure;

    let _one = one_browser_at_a_time().await;
    let server = server();
    server.post_events(&morning(&mut Feed::new(DAY_START)));
    let browser = Browser::open(1920, 1080, "en-US").await;
    browser
        .goto(&format!("{}/#/supervisor", server.url()))
        .await;
    wallboard_support::sign_in_as_admin(&browser).await;
    wait_for_connection(&browser, "live").await;
    browser
        .wait_for(
            "the queue table to fill",
            "const cells = document.querySelectorAll('[data-table=queues] td[data-figure=answered_today]');
             return cells.length === 4 && Array.from(cells).every(c => c.dataset.value !== 'null');",
            vec![],
        )
        .await;

    // Sorting by calls answered today: descending first, ascending on the second click.
    let column = 1 + Figure::QUEUE_TABLE
        .iter()
        .position(|&f| f == Figure::AnsweredToday)
        .unwrap();
    let mut by_answered: Vec<(u64, String)> = ["billing", "support", "vip"]
        .iter()
        .map(|q| {
            (
                server.figures(&format!("queue:{q}"), "today").answered,
                format!("queue:{q}"),
            )
        })
        .collect();
    by_answered.sort();
    let ascending: Vec<String> = by_answered.into_iter().map(|(_, q)| q).collect();
    let descending: Vec<String> = ascending.iter().rev().cloned().collect();
    let order =
        "return Array.from(document.querySelectorAll('[data-table=queues] tbody tr:not(.total)'))
                     .map(r => r.dataset.scope)";
    let header = format!("[data-table=queues] th[data-column='{column}']");
    browser.click(&header).await;
    assert_eq!(browser.js(order, vec![]).await, json!(descending));
    browser.click(&header).await;
    assert_eq!(browser.js(order, vec![]).await, json!(ascending));

    // Filtering the grid: a team (kept in the URL), then agents past their break allowance.
    let shown = "return Array.from(document.querySelectorAll('[data-agent]:not(.hidden)'))
                     .map(r => r.dataset.agent)";
    assert_eq!(
        browser.js(shown, vec![]).await.as_array().map(Vec::len),
        Some(12)
    );
    browser.select("select[data-control=team]", "north").await;
    browser
        .wait_for(
            "the grid to show team north only",
            "return document.querySelectorAll('[data-agent]:not(.hidden)').length === 4 &&
                 location.hash.includes('team=north')",
            vec![],
        )
        .await;
    browser
        .select("select[data-control=state]", "overrun")
        .await;
    browser
        .wait_for(
            "the grid to show the agent past the break allowance",
            "return document.querySelectorAll('[data-agent]:not(.hidden)').length === 1",
            vec![],
        )
        .await;
    assert_eq!(browser.js(shown, vec![]).await, json!(["agent-01"]));
    browser
        .select("select[data-control=state]", "available")
        .await;
    let mut available: Vec<String> = server
        .get_json::<Vec<floorwatch_core::AgentView>>("/api/v1/agents?team=north")
        .into_iter()
        .filter(|a| a.state == Some(floorwatch_core::AgentState::Available))
        .map(|a| a.id)
        .collect();
    available.sort();
    browser
        .wait_for(
            "the grid to show north's available agents",
            "return document.querySelectorAll('[data-agent]:not(.hidden)').length === arguments[0]",
            vec![json!(available.len())],
        )
        .await;
    let mut rows: Vec<String> = serde_json::from_value(browser.js(shown, vec![]).await).unwrap();
    rows.sort();
    assert_eq!(rows, available);
    browser.close().await;
}

/// Every text on the page that is a label (not a figure, not a name from the data) must be in
/// the selected language: English labels have no Chinese, Chinese labels no Latin letters
/// beyond the product's name and the other language's name on the switch. Tooltips change too.
const LABELS: &str = "
    const data = new Set(arguments[0]);
    const allowed = arguments[1];
    const latin = /[A-Za-z]/, han = /[\\u4e00-\\u9fff]/;
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const texts = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (n.parentElement.closest('noscript')) continue;
        const t = n.nodeValue.trim();
        if (t && !data.has(t) && (latin.test(t) || han.test(t))) texts.push(t);
    }
    // Ids in tooltips (beside a name: a table row's scope, an agent, a team option) are the
    // same in every language.
    const titles = Array.from(document.querySelectorAll('[title]'))
        .filter(e => !e.matches('th.name, [data-agent] > [role=cell], option'))
        .map(e => e.title).filter(t => t);
    const foreign = texts.filter(t => {
        let rest = t;
        for (const a of allowed) rest = rest.split(a).join('');
        return document.documentElement.lang.startsWith('zh') ? latin.test(rest) : han.test(rest);
    });
    return { texts, titles, foreign };";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_switch_changes_every_label() {
    let _one = one_browser_at_a_time().await;
    let server = server();
    server.post_events(&morning(&mut Feed::new(DAY_START)));
    // The signed-in user's name in the header is data too.
    let mut data: Vec<String> = vec![floorwatch_tests::HARNESS_USER.to_string()];
    let agents: Vec<floorwatch_core::AgentView> = server.get_json("/api/v1/agents");
    let queues: Vec<floorwatch_core::QueueView> = server.get_json("/api/v1/queues");
    for a in &agents {
        data.push(a.name.clone());
        data.extend(a.team.clone());
    }
    // Alert rule ids and source names are the config's and the feed's own words too.
    let alerts: Vec<floorwatch_core::alerts::Alert> = server.get_json("/api/v1/alerts");
    for a in &alerts {
        data.push(a.rule.clone());
        data.extend(a.source.clone());
    }
    for q in &queues {
        data.push(q.name.clone());
        data.push(q.id.clone());
    }

    let browser = Browser::open(1920, 1080, "en-US").await;
    for view in ["wall", "supervisor"] {
        browser
            .goto(&format!("{}/#/{view}?lang=en", server.url()))
            .await;
        wallboard_support::sign_in_as_admin(&browser).await;
        wait_for_connection(&browser, "live").await;
        browser
            .wait_for(
                "the page to fill",
                "return document.querySelector('[data-figure=answered_today]')?.dataset.value !== 'null' &&
                    (location.hash.startsWith('#/wall') ||
                     document.querySelectorAll('[data-table=teams] tbody tr').length === 3 &&
                     document.querySelectorAll('[data-agent]').length === 12)",
                vec![],
            )
            .await;
        let english = browser.js(LABELS, vec![json!(data), json!(["中文"])]).await;
        assert_eq!(english["foreign"], json!([]), "{view}: Chinese in English");
        assert!(english["texts"].as_array().is_some_and(|t| t.len() > 20));

        browser.click("[data-control=lang]").await;
        browser
            .wait_for(
                "the page to switch to Chinese",
                "return document.documentElement.lang === 'zh-CN'",
                vec![],
            )
            .await;
        let chinese = browser
            .js(LABELS, vec![json!(data), json!(["Floorwatch", "English"])])
            .await;
        assert_eq!(
            chinese["foreign"],
            json!([]),
            "{view}: English left in Chinese"
        );
        let (en_titles, zh_titles) = (
            english["titles"].as_array().unwrap(),
            chinese["titles"].as_array().unwrap(),
        );
        assert_eq!(en_titles.len(), zh_titles.len(), "{view}: tooltips");
        for (en, zh) in en_titles.iter().zip(zh_titles) {
            assert_ne!(en, zh, "{view}: a tooltip did not change");
        }
        // The switch is in the URL: a reload (a TV's restart) keeps the language.
        let url = browser.js("return location.hash", vec![]).await;
        assert!(url.as_str().is_some_and(|h| h.contains("lang=zh")), "{url}");

        browser.click("[data-control=lang]").await;
        browser
            .wait_for(
                "the page to switch back to English",
                "return document.documentElement.lang === 'en'",
                vec![],
            )
            .await;
        let back = browser.js(LABELS, vec![json!(data), json!(["中文"])]).await;
        assert_eq!(back["texts"], english["texts"], "{view}: English again");
    }
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_speaks_the_browser_language_by_default() {
    let _one = one_browser_at_a_time().await;
    let server = server();
    let browser = Browser::open(1280, 720, "zh-CN").await;
    browser.goto(&format!("{}/#/wall", server.url())).await;
    wallboard_support::sign_in_as_admin(&browser).await;
    browser
        .wait_for(
            "the page to default to Chinese",
            "return document.documentElement.lang === 'zh-CN' && \
             document.querySelector('[data-figure=service_level_pct] .tile-label').textContent",
            vec![],
        )
        .await;
    let label = browser
        .js(
            "return document.querySelector('[data-figure=service_level_pct] .tile-label').textContent",
            vec![],
        )
        .await;
    assert_eq!(label, json!("服务水平"));
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots_of_both_views() {
    let _one = one_browser_at_a_time().await;
    let server = server();
    server.post_events(&morning(&mut Feed::new(DAY_START)));
    for (name, width, height, path) in [
        ("wall-1920x1080", 1920, 1080, "#/wall"),
        ("wall-zh-1920x1080", 1920, 1080, "#/wall?lang=zh"),
        ("wall-3840x2160", 3840, 2160, "#/wall"),
        ("supervisor-1920x1080", 1920, 1080, "#/supervisor"),
        (
            "supervisor-zh-1920x1080",
            1920,
            1080,
            "#/supervisor?lang=zh",
        ),
    ] {
        let browser = Browser::open(width, height, "en-US").await;
        browser.goto(&format!("{}/{path}", server.url())).await;
        wallboard_support::sign_in_as_admin(&browser).await;
        wait_for_connection(&browser, "live").await;
        browser
            .wait_for(
                "the page to fill",
                "return document.querySelector('[data-figure=answered_today]')?.dataset.value !== 'null'",
                vec![],
            )
            .await;
        if path.starts_with("#/supervisor") {
            browser
                .wait_for(
                    "every queue and team row to fill",
                    "const filled = (table, figure) => {
                         const cells = document.querySelectorAll(
                             `[data-table=${table}] tbody td[data-figure=${figure}]`);
                         return cells.length > 1 &&
                             Array.from(cells).every(c => c.dataset.value !== 'null');
                     };
                     return filled('queues', 'answered_today') && filled('teams', 'agents_logged_in');",
                    vec![],
                )
                .await;
            // The agent on a 30-minute break stands out.
            browser
                .wait_for(
                    "the overrunning break to stand out",
                    "return document.querySelector('[data-agent=\"agent-01\"]')?.classList.contains('overrun')",
                    vec![],
                )
                .await;
        }
        // The PNG header's size: the viewport, exactly.
        check_screenshot(&browser.screenshot(name).await, width, height);
        browser.close().await;
    }

    // The sign-in page with a refused password (its error line showing), in both languages.
    for (name, path) in [
        ("signin-1920x1080", "#/wall"),
        ("signin-zh-1920x1080", "#/wall?lang=zh"),
    ] {
        let browser = Browser::open(1920, 1080, "en-US").await;
        browser.goto(&format!("{}/{path}", server.url())).await;
        browser
            .wait_for(
                "the sign-in form",
                "return document.querySelector('[data-form=signin] [data-control=user]') !== null;",
                vec![],
            )
            .await;
        submit_sign_in(&browser, floorwatch_tests::HARNESS_USER, "not the password").await;
        browser
            .wait_for(
                "the refusal under the fields",
                "const p = document.querySelector('.signin-error');
                 return p !== null && p.textContent !== '' && p.getBoundingClientRect().height > 0;",
                vec![],
            )
            .await;
        check_screenshot(&browser.screenshot(name).await, 1920, 1080);
        browser.close().await;
    }

    // The audit page, listing those refused sign-ins among the logins, the chain verified.
    let browser = Browser::open(1920, 1080, "en-US").await;
    browser.goto(&format!("{}/#/audit", server.url())).await;
    wallboard_support::sign_in_as_admin(&browser).await;
    browser
        .wait_for(
            "the audit table with a failed login and the chain's verdict",
            "const actions = Array.from(document.querySelectorAll('[data-table=audit] tbody tr'))
                 .map(r => r.cells[2].textContent);
             return actions.includes('login_failed') &&
                 document.querySelector('[data-verdict]')?.dataset.verdict === 'ok';",
            vec![],
        )
        .await;
    check_screenshot(&browser.screenshot("audit-1920x1080").await, 1920, 1080);
    browser.close().await;
}

/// A PNG of exactly the viewport's size.
fn check_screenshot(file: &std::path::Path, width: u32, height: u32) {
    let png = std::fs::read(file).unwrap();
    assert_eq!(&png[1..4], b"PNG", "{}", file.display());
    let size = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    assert_eq!((size(16), size(20)), (width, height), "{}", file.display());
}
