//! The "queues" wall layout (issue 18 item 5, "Done when"): `#/wall?layout=queues` shows every
//! configured queue as a compact tile; at 1920x1080, 60 queues fit without scrolling (every
//! tile inside the viewport, screenshot `target/screenshots/wall-queues-60.png`), each tile
//! named by its queue's name and coloured by its service level against target; a handful of
//! queues get large, readable tiles.
//!
//! Needs Debian's chromium and chromium-driver (`scripts/install-browser`).

mod wallboard_support;

use floorwatch_tests::Server;
use serde_json::{Value, json};
use wallboard_support::{
    Browser, DAY_START, Feed, MINUTE, one_browser_at_a_time, wait_for_connection, wall_server,
};

/// A server whose organisation has `count` queues (`q01`... named "Queue line 01"...), six
/// agents, and a day of traffic: each queue answers five calls (enough for a service level to
/// count, docs/ALERTS.md), quickly but for the first queue, whose callers waited a minute
/// (service level 0 %, below target); every third queue has a caller waiting.
fn server_with_queues(count: usize, dir: &std::path::Path) -> Server {
    let mut org = String::from(
        "[centre]\nid = \"hotline\"\nname = \"Hotline\"\n\n[[sites]]\nid = \"main\"\n\n\
         [[sites.groups]]\nid = \"all\"\n\n[[sites.groups.teams]]\nid = \"floor\"\n\
         agents = [\"a1\", \"a2\", \"a3\", \"a4\", \"a5\", \"a6\"]\n",
    );
    for n in 1..=count {
        org.push_str(&format!(
            "\n[[queues]]\nid = \"q{n:02}\"\nname = \"Queue line {n:02}\"\nowner = \"team:floor\"\n"
        ));
    }
    let config = dir.join("floorwatch.toml");
    std::fs::write(&config, org).unwrap();
    let server = wall_server(Some(&config));

    let mut feed = Feed::new(DAY_START);
    for a in 1..=6 {
        feed.login(&format!("a{a}"), "floor");
    }
    for n in 1..=count {
        let agent = format!("a{}", n % 6 + 1);
        let wait = if n == 1 { 60.0 } else { 5.0 };
        for c in 0..5 {
            let at = DAY_START + 1_000 + (n as i64 * 5 + c) * 2 * MINUTE;
            feed.answered_call(
                &format!("c{n}-{c}"),
                &format!("q{n:02}"),
                &agent,
                at,
                wait,
                Some(60.0),
                10.0,
            );
        }
    }
    let end = DAY_START + 1_000 + (count as i64 * 5 + 5) * 2 * MINUTE;
    for n in (1..=count).step_by(3) {
        feed.waiting_call(&format!("w{n}"), &format!("q{n:02}"), end);
    }
    let reply = server.post_events(&feed.take());
    assert_eq!(reply.rejected, 0, "{:?}", reply.errors);
    server
}

/// Opens the queues layout and waits until `count` tiles show their figures; returns each
/// tile's geometry, name, class and font sizes, and the page's.
async fn open_layout(browser: &Browser, server: &Server, count: usize) -> Value {
    browser
        .goto(&format!(
            "{}/#/wall?layout=queues&window=today",
            server.url()
        ))
        .await;
    wallboard_support::sign_in_as_admin(browser).await;
    wait_for_connection(browser, "live").await;
    browser
        .wait_for(
            &format!("{count} queue tiles with their service level"),
            "const tiles = document.querySelectorAll('.wall-queues tbody tr');
             return tiles.length === arguments[0] && Array.from(tiles).every(t =>
                 t.querySelector('[data-figure=service_level_pct]').dataset.value !== 'null');",
            vec![json!(count)],
        )
        .await;
    browser
        .js(
            "const px = (e, sel) => parseFloat(getComputedStyle(e.querySelector(sel)).fontSize);
             const tiles = Array.from(document.querySelectorAll('.wall-queues tbody tr')).map(t => {
                 const r = t.getBoundingClientRect();
                 const name = t.querySelector('th.name');
                 return {
                     id: t.dataset.scope.replace('queue:', ''),
                     name: name.textContent.trim(),
                     text: t.innerText,
                     background: getComputedStyle(t).backgroundColor,
                     level: t.querySelector('[data-figure=service_level_pct]').className,
                     left: r.left, top: r.top, right: r.right, bottom: r.bottom,
                     width: r.width, height: r.height,
                     name_px: px(t, 'th.name'),
                     level_px: px(t, '[data-figure=service_level_pct]'),
                     value_px: px(t, '[data-figure=waiting_now]'),
                     name_fits: name.scrollWidth <= name.clientWidth,
                 };
             });
             const d = document.documentElement;
             return {
                 tiles,
                 inner_width: innerWidth, inner_height: innerHeight,
                 scroll_width: d.scrollWidth, scroll_height: d.scrollHeight,
                 scroll_x: scrollX, scroll_y: scrollY,
             };",
            vec![],
        )
        .await
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_queues_fit_a_1080p_screen_without_scrolling() {
    let _one = one_browser_at_a_time().await;
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_queues(60, dir.path());
    let browser = Browser::open(1920, 1080, "en-US").await;
    let page = open_layout(&browser, &server, 60).await;
    browser.screenshot("wall-queues-60").await;

    let (width, height) = (f(&page["inner_width"]), f(&page["inner_height"]));
    assert_eq!((width, height), (1920.0, 1080.0), "the viewport");
    assert!(
        f(&page["scroll_height"]) <= height && f(&page["scroll_width"]) <= width,
        "the page scrolls: {page}"
    );
    let tiles = page["tiles"].as_array().unwrap();
    let names: Vec<&str> = tiles.iter().map(|t| t["name"].as_str().unwrap()).collect();
    let wanted: Vec<String> = (1..=60).map(|n| format!("Queue line {n:02}")).collect();
    assert_eq!(names, wanted, "one tile per queue, named by its name");
    for t in tiles {
        assert!(
            f(&t["left"]) >= 0.0
                && f(&t["top"]) >= 0.0
                && f(&t["right"]) <= width
                && f(&t["bottom"]) <= height,
            "a tile outside the viewport: {t}"
        );
        assert!(
            f(&t["width"]) > 0.0 && f(&t["height"]) > 0.0,
            "an empty tile: {t}"
        );
        assert_eq!(t["name_fits"], json!(true), "a name cut short: {t}");
        assert!(f(&t["name_px"]) >= 12.0, "a name too small to read: {t}");
        assert!(f(&t["level_px"]) >= 28.0, "a service level too small: {t}");
        let text = t["text"].as_str().unwrap();
        assert!(
            !text.contains(t["id"].as_str().unwrap()),
            "a tile shows its id: {t}"
        );
    }
    // Coloured by service level against target, as the wall's tile is: the first queue's
    // callers all waited past T (tone-bad, the wall's red), the second's were answered in time.
    assert!(
        tiles[0]["level"].as_str().unwrap().contains("tone-bad"),
        "{}",
        tiles[0]
    );
    assert_eq!(
        tiles[0]["background"],
        json!("rgb(161, 29, 29)"),
        "{}",
        tiles[0]
    );
    assert!(
        tiles[1]["level"].as_str().unwrap().contains("tone-good"),
        "{}",
        tiles[1]
    );
    assert_eq!(
        tiles[1]["background"],
        json!("rgb(15, 45, 25)"),
        "{}",
        tiles[1]
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_few_queues_get_large_readable_tiles() {
    let _one = one_browser_at_a_time().await;
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_queues(3, dir.path());
    let browser = Browser::open(1920, 1080, "en-US").await;
    let page = open_layout(&browser, &server, 3).await;
    browser.screenshot("wall-queues-3").await;
    let height = f(&page["inner_height"]);
    for t in page["tiles"].as_array().unwrap() {
        assert!(f(&t["bottom"]) <= height, "a tile below the screen: {t}");
        assert!(f(&t["name_px"]) >= 24.0, "the name is too small: {t}");
        assert!(
            f(&t["level_px"]) >= 64.0,
            "the service level is too small: {t}"
        );
        assert!(
            f(&t["value_px"]) >= 24.0,
            "the waiting figures are too small: {t}"
        );
    }
    browser.close().await;
}
