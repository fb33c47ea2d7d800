//! Names everywhere a person reads (issue 18 item 4): with an organisation that names every
//! level, the wall (a site, a group, a team, a queue, the queues layout) and the supervisor
//! view (queue and team tables, the agent grid and its team filter) show the configured names,
//! and no id is rendered as text; the ids stay in tooltips.
//!
//! Needs Debian's chromium and chromium-driver (`scripts/install-browser`).

mod wallboard_support;

use serde_json::json;
use wallboard_support::{
    Browser, DAY_START, Feed, MINUTE, one_browser_at_a_time, wait_for_connection, wall_server,
};

/// Every level named; ids that cannot be mistaken for words, so finding one in the page's text
/// means an id was shown.
const ORG: &str = r#"
[centre]
id = "hotline"
name = "Hotline"

[[sites]]
id = "st-9x"
name = "Riverside site"

[[sites.groups]]
id = "gr-4k"
name = "Billing department"

[[sites.groups.teams]]
id = "tm-7n"
name = "Billing team 1"
agents = [{ id = "ag-101", name = "Wang Wei" }, { id = "ag-102", name = "Li Na" }]

[[sites.groups.teams]]
id = "tm-8s"
name = "Billing team 2"
agents = [{ id = "ag-201", name = "Zhang Min" }]

[[queues]]
id = "qu-3b"
name = "Billing line"
owner = "team:tm-7n"

[[queues]]
id = "qu-5v"
name = "VIP line"
owner = "group:gr-4k"
"#;

const IDS: [&str; 9] = [
    "st-9x", "gr-4k", "tm-7n", "tm-8s", "ag-101", "ag-102", "ag-201", "qu-3b", "qu-5v",
];

/// Fails when the page's visible text contains any id.
async fn assert_no_id_shown(browser: &Browser, page: &str) {
    let text = browser.js("return document.body.innerText", vec![]).await;
    let text = text.as_str().unwrap_or_default();
    for id in IDS {
        assert!(!text.contains(id), "{page} shows the id `{id}`:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wall_and_the_supervisor_show_names_not_ids() {
    let _one = one_browser_at_a_time().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("floorwatch.toml");
    std::fs::write(&config, ORG).unwrap();
    let server = wall_server(Some(&config));

    let mut feed = Feed::new(DAY_START);
    feed.login("ag-101", "tm-7n")
        .login("ag-102", "tm-7n")
        .login("ag-201", "tm-8s");
    for n in 0..6 {
        let at = DAY_START + 1_000 + n * MINUTE;
        feed.answered_call(
            &format!("b{n}"),
            "qu-3b",
            "ag-101",
            at,
            4.0,
            Some(60.0),
            5.0,
        );
        feed.answered_call(
            &format!("v{n}"),
            "qu-5v",
            "ag-201",
            at,
            3.0,
            Some(50.0),
            5.0,
        );
    }
    feed.state_at(DAY_START + 2_000, "ag-102", "available", None);
    let reply = server.post_events(&feed.take());
    assert_eq!(reply.rejected, 0, "{:?}", reply.errors);

    let browser = Browser::open(1920, 1080, "en-US").await;
    for (scope, name) in [
        ("site:st-9x", "Riverside site"),
        ("group:gr-4k", "Billing department"),
        ("team:tm-7n", "Billing team 1"),
        ("queue:qu-3b", "Billing line"),
    ] {
        browser
            .goto(&format!("{}/#/wall?scope={scope}", server.url()))
            .await;
        wallboard_support::sign_in_as_admin(&browser).await;
        wait_for_connection(&browser, "live").await;
        browser
            .wait_for(
                &format!("the wall of {scope} to be titled {name}"),
                "const h = document.querySelector('.wall-scope');
                 return h && h.dataset.scope === arguments[0]
                     && h.textContent.trim() === arguments[1];",
                vec![json!(scope), json!(name)],
            )
            .await;
        assert_no_id_shown(&browser, &format!("the wall of {scope}")).await;
    }

    browser
        .goto(&format!("{}/#/wall?layout=queues", server.url()))
        .await;
    let tiles = browser
        .wait_for(
            "the queues layout to show both queues",
            "const tiles = Array.from(document.querySelectorAll('.wall-queues tbody th.name'));
             return tiles.length === 2 && tiles.map(th => [th.title, th.textContent.trim()]);",
            vec![],
        )
        .await;
    assert_eq!(
        tiles,
        json!([["queue:qu-3b", "Billing line"], ["queue:qu-5v", "VIP line"]])
    );
    assert_no_id_shown(&browser, "the queues layout").await;

    browser
        .goto(&format!("{}/#/supervisor", server.url()))
        .await;
    let shown = browser
        .wait_for(
            "the supervisor's tables and grid to fill",
            "const names = sel => Array.from(document.querySelectorAll(sel))
                 .map(e => e.textContent.trim());
             const queues = names('[data-table=queues] tbody tr:not(.total) th');
             const teams = names('[data-table=teams] tbody tr th');
             const agents = Array.from(document.querySelectorAll('[data-agent]'))
                 .map(r => [r.dataset.agent, r.children[0].textContent, r.children[1].textContent]);
             const options = names('[data-control=team] option').slice(1);
             if (queues.length < 2 || teams.length < 2 || agents.length < 3 || options.length < 2)
                 return null;
             return { queues: queues.sort(), teams: teams.sort(), agents, options };",
            vec![],
        )
        .await;
    assert_eq!(shown["queues"], json!(["Billing line", "VIP line"]));
    assert_eq!(shown["teams"], json!(["Billing team 1", "Billing team 2"]));
    assert_eq!(
        shown["agents"],
        json!([
            ["ag-102", "Li Na", "Billing team 1"],
            ["ag-101", "Wang Wei", "Billing team 1"],
            ["ag-201", "Zhang Min", "Billing team 2"],
        ])
    );
    assert_eq!(
        shown["options"],
        json!(["Billing team 1", "Billing team 2"])
    );
    // The ids stay at hand, in tooltips.
    let titles = browser
        .js(
            "return Array.from(document.querySelectorAll('[data-table=teams] tbody th'))
                 .map(th => th.title).sort();",
            vec![],
        )
        .await;
    assert_eq!(titles, json!(["team:tm-7n", "team:tm-8s"]));
    assert_no_id_shown(&browser, "the supervisor view").await;
    browser.close().await;
}
