//! Webhooks to real local HTTP receivers (issue 7, "Done when"): every notification batch
//! reaches every receiver once, in order, including a receiver that answers 500 twice before
//! 200; nothing is lost and nothing is taken twice, even across a crash of the server.

mod alerts_support;
mod webhook_support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use alerts_support::{Script, alerts, eventually, post, write_config};
use floorwatch_core::alerts::Alert;
use floorwatch_tests::Server;
use serde_json::json;
use webhook_support::{Receiver, Request};

/// Rules that make a few changes at known times: pbx1 silent for 60 s (critical), a break
/// longer than 2 minutes (warning).
fn config_with(dir: &std::path::Path, hooks: &[(&str, &str)]) -> std::path::PathBuf {
    let hooks: Vec<(&str, &str, Option<&std::path::Path>)> = hooks
        .iter()
        .map(|(url, format)| (*url, *format, None))
        .collect();
    config_with_ca(dir, &hooks)
}

/// As [`config_with`], each receiver with an optional `ca_file`.
fn config_with_ca(
    dir: &std::path::Path,
    hooks: &[(&str, &str, Option<&std::path::Path>)],
) -> std::path::PathBuf {
    let mut text = String::from(
        r#"
[alerts]
default_rules = false
batch_s = 30

[[alerts.rules]]
id = "feed"
kind = "source_silent"
silent_s = 60
sources = ["pbx1"]

[[alerts.rules]]
id = "breaks"
kind = "not_ready_overrun"
allowance_min = { break = 2 }
"#,
    );
    for (url, format, ca) in hooks {
        text.push_str(&format!(
            "\n[[alerts.webhooks]]\nurl = \"{url}\"\nformat = \"{format}\"\n\
             retry_first_ms = 200\nretry_max_s = 1\ntimeout_s = 5\n"
        ));
        if let Some(ca) = ca {
            text.push_str(&format!("ca_file = \"{}\"\n", ca.display()));
        }
    }
    write_config(dir, &text)
}

/// pbx1 (a1) goes quiet after 10 s with a1 on a break; pbx2 keeps the clock going every 20 s
/// up to `until` seconds.
fn quiet_morning(script: &mut Script, until: f64) {
    script.login(0.0, "a1", "t1");
    script.state(10.0, "a1", "not_ready", Some("break"));
    let mut s = 5.0;
    while s <= until {
        script.push(
            "pbx2",
            s,
            "agent_login",
            json!({ "agent": "a3", "team": "t2" }),
        );
        s += 20.0;
    }
}

fn ids(requests: &[Request]) -> Vec<(String, u16)> {
    requests
        .iter()
        .map(|r| (r.batch.clone(), r.status))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_batch_reaches_every_receiver_once_in_order() {
    let steady = Receiver::start(&[]).await;
    let flaky = Receiver::start(&[500, 500]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), &[(&steady.url, "json"), (&flaky.url, "wecom")]);
    let server = Server::start(&["--clock", "events", "--config", config.to_str().unwrap()]);

    // pbx1 silent from 10 s: raised at 70 s (a batch at once). The break from 10 s overruns 2
    // minutes at 140 s (70 s after the last batch: a batch at once). pbx1 and a1 are back at
    // 200 s and pbx1 keeps talking: both clear at 210 s, one batch.
    let mut script = Script::new();
    quiet_morning(&mut script, 285.0);
    script.state(200.0, "a1", "available", None);
    for s in [240.0, 280.0] {
        script.push(
            "pbx1",
            s,
            "agent_login",
            json!({ "agent": "a2", "team": "t1" }),
        );
    }
    let server_ref = &server;
    tokio::task::block_in_place(|| post(server_ref, &mut script));
    // An acknowledgement at 285 s joins the batch of the next boundary, 290 s.
    let feed = tokio::task::block_in_place(|| alerts(server_ref))
        .into_iter()
        .find(|a| a.rule == "feed")
        .unwrap();
    let body = json!({ "id": feed.id, "by": "duty-lead", "note": "pbx1 rebooted" }).to_string();
    let reply = tokio::task::block_in_place(|| {
        server_ref.post_with(
            "/api/v1/alerts/ack",
            &body,
            &[("Content-Type", "application/json")],
        )
    });
    assert_eq!(reply.status, 200, "{}", reply.body);
    script.push(
        "pbx2",
        295.0,
        "agent_login",
        json!({ "agent": "a3", "team": "t2" }),
    );
    tokio::task::block_in_place(|| post(server_ref, &mut script));

    let expected: Vec<String> = ["batch-70", "batch-140", "batch-210", "batch-290"]
        .iter()
        .map(|b| {
            let offset: i64 = b.trim_start_matches("batch-").parse().unwrap();
            format!("batch-{}", Script::at(offset as f64))
        })
        .collect();
    for receiver in [&steady, &flaky] {
        let want = expected.len();
        tokio::task::block_in_place(|| {
            eventually("every batch delivered", Duration::from_secs(20), || {
                (receiver.taken_batches().len() >= want).then_some(())
            })
        });
    }
    // A moment more: nothing else comes (no repeat of a batch already taken).
    tokio::time::sleep(Duration::from_millis(1_500)).await;

    assert_eq!(
        steady.taken_batches(),
        expected,
        "{:#?}",
        steady
            .requests()
            .iter()
            .map(|r| &r.body["notices"])
            .collect::<Vec<_>>()
    );
    assert!(steady.requests().iter().all(|r| r.status == 200));
    let first = &expected[0];
    let mut flaky_expected = vec![(first.clone(), 500), (first.clone(), 500)];
    flaky_expected.extend(expected.iter().map(|b| (b.clone(), 200)));
    assert_eq!(ids(&flaky.requests()), flaky_expected);

    // The ids travel in the headers; the bodies are the receivers' formats.
    for receiver in [&steady, &flaky] {
        for r in receiver.requests() {
            assert_eq!(r.idempotency_key, format!("hotline:{}", r.batch));
            assert_eq!(r.content_type, "application/json");
        }
    }
    for r in flaky.requests() {
        assert_eq!(r.body["msgtype"], "text", "{}", r.body);
        assert!(
            r.body["text"]["content"]
                .as_str()
                .unwrap()
                .starts_with("[Floorwatch]")
        );
    }

    // The json receiver got every change exactly once: two raises, an acknowledgement, two
    // clears, each with the alert as it stood right after.
    let notices: Vec<(String, String)> = steady
        .requests()
        .iter()
        .flat_map(|r| {
            assert_eq!(r.body["batch"], json!(r.batch));
            r.body["notices"].as_array().unwrap().clone()
        })
        .map(|n| {
            (
                n["change"].as_str().unwrap().to_string(),
                n["alert"]["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let book: Vec<Alert> = tokio::task::block_in_place(|| alerts(server_ref));
    let (feed, breaks) = (&book[0].id, &book[1].id);
    assert_eq!(book.len(), 2);
    assert_eq!(
        notices,
        [
            ("raised".to_string(), feed.clone()),
            ("raised".to_string(), breaks.clone()),
            ("cleared".to_string(), feed.clone()),
            ("cleared".to_string(), breaks.clone()),
            ("acknowledged".to_string(), feed.clone()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_queued_before_a_crash_is_delivered_after_the_restart() {
    let receiver = Receiver::start(&[]).await;
    receiver.set_down(true);
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), &[(&receiver.url, "slack")]);
    let data = dir.path().join("data");
    let args = ["--clock", "events", "--config", config.to_str().unwrap()];
    let mut server = Server::start_in(&data, &args);

    // One change, the feed raised at 70 s; the receiver is down.
    let mut script = Script::new();
    quiet_morning(&mut script, 100.0);
    tokio::task::block_in_place(|| post(&server, &mut script));
    tokio::task::block_in_place(|| {
        eventually("a failed attempt", Duration::from_secs(10), || {
            (!receiver.requests().is_empty()).then_some(())
        })
    });

    server.kill_hard();
    receiver.set_down(false);
    tokio::task::block_in_place(|| server.restart());
    tokio::task::block_in_place(|| {
        eventually(
            "the delivery after the restart",
            Duration::from_secs(10),
            || (!receiver.taken_batches().is_empty()).then_some(()),
        )
    });
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let batch = format!("batch-{}", Script::at(70.0));
    assert_eq!(receiver.taken_batches(), std::slice::from_ref(&batch));
    assert!(
        receiver
            .requests()
            .iter()
            .all(|r| r.batch == batch && (r.status == 503 || r.status == 200))
    );
    let text = receiver.requests()[0].body["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.contains("CRITICAL raised"), "{text}");
    assert!(text.contains("pbx1"), "{text}");

    // Delivered is recorded: another restart sends nothing again.
    let before = receiver.requests().len();
    tokio::task::block_in_place(|| server.restart());
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(receiver.requests().len(), before);
}

/// WeCom, DingTalk and Slack robots are HTTPS only: a receiver with a certificate the server
/// trusts (its authority in `ca_file`) gets the batch; one whose certificate nobody vouches for
/// gets nothing, not even the body, and is retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_receiver_gets_its_batch_and_an_untrusted_one_gets_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (trusted, ca, _) = Receiver::start_tls(&dir.path().join("trusted")).await;
    let (stranger, _, refused) = Receiver::start_tls(&dir.path().join("stranger")).await;
    let config = config_with_ca(
        dir.path(),
        &[
            (&trusted.url, "json", Some(&ca)),
            (&stranger.url, "json", None),
        ],
    );
    let server = Server::start(&["--clock", "events", "--config", config.to_str().unwrap()]);

    // pbx1 silent from 10 s: the feed alert is raised at 70 s, one batch.
    let mut script = Script::new();
    quiet_morning(&mut script, 100.0);
    tokio::task::block_in_place(|| post(&server, &mut script));
    tokio::task::block_in_place(|| {
        eventually("the batch over https", Duration::from_secs(20), || {
            (!trusted.taken_batches().is_empty()).then_some(())
        })
    });
    tokio::task::block_in_place(|| {
        eventually("refused handshakes", Duration::from_secs(20), || {
            (refused.load(Ordering::SeqCst) >= 2).then_some(())
        })
    });
    assert_eq!(
        trusted.taken_batches(),
        [format!("batch-{}", Script::at(70.0))],
        "{:?}",
        trusted.requests()
    );
    assert_eq!(trusted.requests()[0].body["notices"][0]["change"], "raised");
    assert!(stranger.requests().is_empty(), "{:?}", stranger.requests());
}
