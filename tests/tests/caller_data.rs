//! Issue 8, part B, on a real server: caller numbers masked in the call register and unmasked
//! only with the permission and a reason (audited before the number is sent), exports audited
//! and refused without the permission, the audit trail over HTTP for the security officer (with
//! its verdict on the chain), configuration changes audited at start-up, and `user enable`.
//!
//! One organisation: site north > group g1 > teams t1 (agent a1) and t2 (agent a2); queue
//! billing owned by t1, queue sales owned by t2.

use floorwatch_tests::{Reply, Server};
use serde_json::Value;

const CONFIG: &str = r#"
[[sites]]
id = "north"
[[sites.groups]]
id = "g1"
[[sites.groups.teams]]
id = "t1"
agents = ["a1"]
[[sites.groups.teams]]
id = "t2"
agents = [{ id = "a2", name = "=Wang, Li" }]
[[queues]]
id = "billing"
owner = "team:t1"
threshold_s = 20
[[queues]]
id = "sales"
owner = "team:t2"
"#;

/// A caller in billing (answered by a1), one waiting in billing, one waiting in sales.
const BILLING_ANSWERED: &str = "13812341234";
const BILLING_WAITING: &str = "+8613900001111";
const SALES_WAITING: &str = "13700005678";

struct Floor {
    server: Server,
    _config_dir: tempfile::TempDir,
    config: std::path::PathBuf,
}

fn start() -> Floor {
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("floorwatch.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let server = Server::start(&["--clock", "events", "--config", config.to_str().unwrap()]);
    let t0 = jiff::Timestamp::now().as_millisecond() - 600_000;
    let event = |seq: u64, ts: i64, body: &str| {
        format!(r#"{{"v":1,"id":"e{seq}","source":"test","seq":{seq},"ts":{ts},{body}}}"#)
    };
    let events = [
        event(
            1,
            t0,
            &format!(
                r#""type":"call_entered_queue","call":"c1","queue":"billing","caller":"{BILLING_ANSWERED}""#
            ),
        ),
        event(
            2,
            t0 + 1_000,
            &format!(
                r#""type":"call_entered_queue","call":"c2","queue":"billing","priority":2,"caller":"{BILLING_WAITING}""#
            ),
        ),
        event(
            3,
            t0 + 2_000,
            &format!(
                r#""type":"call_entered_queue","call":"c3","queue":"sales","caller":"{SALES_WAITING}""#
            ),
        ),
        event(4, t0 + 5_000, r#""type":"call_answered","call":"c1","agent":"a1""#),
        event(
            5,
            t0 + 6_000,
            r#""type":"call_entered_queue","call":"t9","queue":"billing","caller":"13000000000""#,
        )
        .replace(r#""seq":5,"#, r#""seq":5,"test":true,"#),
    ]
    .join("\n");
    let reply = server.post_events(&events);
    assert_eq!(reply.accepted, 5, "{reply:?}");
    Floor {
        server,
        _config_dir: config_dir,
        config,
    }
}

impl Floor {
    /// A user with a password and an API token; the token.
    fn user(&self, name: &str, role: &str, scope: Option<&str>) -> String {
        self.server
            .add_user(name, role, scope, &format!("{name} password 123"));
        self.server.create_token(name)
    }

    fn unmask(&self, token: &str, call: &str, body: &str) -> Reply {
        let bearer = format!("Bearer {token}");
        self.server.request(
            "POST",
            &format!("/api/v1/calls/{call}/unmask"),
            Some(body),
            &[
                ("Authorization", &bearer),
                ("Content-Type", "application/json"),
            ],
        )
    }

    /// The audit records of `action`, oldest first, as `floorwatch audit list --json` prints
    /// them.
    fn records(&self, action: &str) -> Vec<Value> {
        self.server
            .command(&["audit", "list", "--json", "--action", action])
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }
}

fn calls(reply: &Reply) -> Vec<Value> {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

fn error(reply: &Reply) -> String {
    reply.json::<Value>()["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn caller_numbers_are_masked_and_unmasked_only_with_the_permission_and_a_reason() {
    let floor = start();
    let sup = floor.user("sup1", "supervisor", Some("site:north"));
    let sup_t1 = floor.user("sup-t1", "supervisor", Some("team:t1"));
    let lead = floor.user("lead1", "team_lead", Some("team:t1"));
    let wall = floor.user("tv", "wall_display", None);

    // The supervisor of the site sees every queue's calls, newest first, numbers masked.
    let all = calls(&floor.server.get_as("/api/v1/calls", &sup));
    let listed: Vec<(&str, &str, &str)> = all
        .iter()
        .map(|c| {
            (
                c["call"].as_str().unwrap(),
                c["caller"].as_str().unwrap(),
                c["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![
            ("c3", "137****5678", "waiting"),
            ("c2", "+86*******1111", "waiting"),
            ("c1", "138****1234", "answered"),
        ],
        "the test call t9 is never listed"
    );
    assert_eq!(all[2]["agent"], "a1");
    assert_eq!(all[1]["priority"], 2);
    assert_eq!(all[0]["direction"], "inbound");
    for secret in [
        BILLING_ANSWERED,
        BILLING_WAITING,
        SALES_WAITING,
        "13000000000",
    ] {
        assert!(!all.iter().any(|c| c.to_string().contains(secret)));
    }

    // A team lead reads their own queues only, masked, and may not unmask.
    let own = calls(&floor.server.get_as("/api/v1/calls", &lead));
    let queues: Vec<&str> = own.iter().map(|c| c["queue"].as_str().unwrap()).collect();
    assert_eq!(queues, vec!["billing", "billing"]);
    assert_eq!(
        calls(&floor.server.get_as("/api/v1/calls?queue=billing", &lead)).len(),
        2
    );
    assert_eq!(
        floor
            .server
            .get_as("/api/v1/calls?queue=sales", &lead)
            .status,
        403
    );
    let refused = floor.unmask(&lead, "c1", r#"{"reason": "caller asked for a call back"}"#);
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(floor.records("unmask").is_empty(), "no record of a refusal");

    // The wall display reads no calls at all.
    assert_eq!(floor.server.get_as("/api/v1/calls", &wall).status, 403);
    assert_eq!(floor.server.get_anonymous("/api/v1/calls").status, 401);

    // Without a reason (or with one too short): 400 naming the rule, no number, no record.
    for body in [r#"{}"#, r#"{"reason": "  ok  "}"#] {
        let reply = floor.unmask(&sup, "c1", body);
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        assert!(
            error(&reply).contains("5 to 500 characters"),
            "{}",
            reply.body
        );
        assert!(!reply.body.contains(BILLING_ANSWERED));
    }
    assert!(floor.records("unmask").is_empty());

    // A supervisor of team t1 may not unmask a call of t2's queue; the answer names the call,
    // not its queue.
    let outside = floor.unmask(
        &sup_t1,
        "c3",
        r#"{"reason": "caller asked for a call back"}"#,
    );
    assert_eq!(outside.status, 403, "{}", outside.body);
    assert!(!outside.body.contains("sales") && !outside.body.contains(SALES_WAITING));
    assert_eq!(
        floor
            .unmask(
                &sup,
                "nope",
                r#"{"reason": "caller asked for a call back"}"#
            )
            .status,
        404
    );

    // With the permission and a reason: the full number, and a record naming the reason.
    let reply = floor.unmask(&sup, "c1", r#"{"reason": "  complaint 4711: call back  "}"#);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let answer: Value = reply.json();
    assert_eq!(answer["call"], "c1");
    assert_eq!(answer["caller"], BILLING_ANSWERED);
    let records = floor.records("unmask");
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(
        records[0]["actor"].as_str().unwrap(),
        format!("token:{} (sup1)", token_id(&floor, "sup1"))
    );
    assert_eq!(records[0]["target"], "call:c1");
    assert_eq!(
        records[0]["detail"],
        "queue=billing reason=complaint 4711: call back"
    );
    assert!(!records[0].to_string().contains(BILLING_ANSWERED));

    // The number is in no log line.
    let logs = floor.server.logs();
    for secret in [BILLING_ANSWERED, BILLING_WAITING, SALES_WAITING] {
        assert!(!logs.contains(secret), "{secret} in the log:\n{logs}");
    }
}

/// The id of `user`'s (only) token, from `floorwatch token list`.
fn token_id(floor: &Floor, user: &str) -> String {
    floor
        .server
        .command(&["token", "list"])
        .lines()
        .find(|line| line.split_whitespace().nth(1) == Some(user))
        .and_then(|line| line.split_whitespace().next())
        .unwrap_or_else(|| panic!("no token of {user}"))
        .to_string()
}

#[test]
fn exports_are_audited_and_refused_without_the_permission() {
    let floor = start();
    let manager = floor.user("mgr", "manager", Some("site:north"));
    let sup = floor.user("sup1", "supervisor", Some("site:north"));

    let refused = floor
        .server
        .get_as("/api/v1/export/agents.csv?scope=site:north", &sup);
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(floor.records("export").is_empty());

    let reply = floor.server.get_as(
        "/api/v1/export/agents.csv?scope=site:north&window=today",
        &manager,
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.header("content-disposition"),
        Some("attachment; filename=\"agents-site_north-today.csv\"")
    );
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/csv"))
    );
    let text = reply.body.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "a header and one row per agent:\n{text}");
    assert!(lines[0].starts_with("agent,name,team,state,window,from,to,handled,"));
    assert!(lines[1].starts_with("a1,a1,t1,"), "{text}");
    assert!(
        lines[2].starts_with("a2,\"'=Wang, Li\",t2,"),
        "names quoted, formulas defused:\n{text}"
    );
    let records = floor.records("export");
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["target"], "site:north");
    assert_eq!(records[0]["detail"], "agents.csv window=today rows=2");

    // Bad parameters name themselves; a scope outside the manager's site is refused.
    let bad = floor
        .server
        .get_as("/api/v1/export/agents.csv?window=yesterday", &manager);
    assert_eq!(bad.status, 400);
    assert!(error(&bad).contains("`window`"), "{}", bad.body);
    assert_eq!(
        floor
            .server
            .get_as("/api/v1/export/agents.csv?scope=centre", &manager)
            .status,
        403
    );
    assert_eq!(floor.records("export").len(), 1);
}

#[test]
fn the_audit_trail_is_read_by_the_security_officer_and_shows_an_edited_record() {
    let floor = start();
    let officer = floor.user("sec", "security_officer", None);
    let sup = floor.user("sup1", "supervisor", None);
    let reply = floor.unmask(&sup, "c2", r#"{"reason": "caller asked for a call back"}"#);
    assert_eq!(reply.status, 200, "{}", reply.body);

    assert_eq!(floor.server.get_as("/api/v1/audit", &sup).status, 403);

    let answer: Value = floor
        .server
        .get_as("/api/v1/audit", &officer)
        .json::<Value>();
    let records = answer["records"].as_array().unwrap();
    let seqs: Vec<u64> = records.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seqs:?}"
    );
    assert_eq!(records[0]["action"], "unmask");
    assert_eq!(answer["verified"]["ok"], true);
    assert_eq!(answer["verified"]["records"].as_u64(), Some(seqs[0]));
    assert_eq!(answer["verified"]["last_hash"], records[0]["hash"]);

    let adds: Value = floor
        .server
        .get_as("/api/v1/audit?action=user_add&since=1h&limit=2", &officer)
        .json();
    let adds = adds["records"].as_array().unwrap().clone();
    assert_eq!(adds.len(), 2);
    assert!(adds.iter().all(|r| r["action"] == "user_add"));
    assert_eq!(adds[0]["target"], "user:sup1");
    let by_sup: Value = floor
        .server
        .get_as(
            &format!(
                "/api/v1/audit?actor=token:{}%20(sup1)",
                token_id(&floor, "sup1")
            ),
            &officer,
        )
        .json();
    assert_eq!(by_sup["records"].as_array().unwrap().len(), 1);
    for (query, named) in [
        ("action=delete", "`action`"),
        ("since=yesterday", "`since`"),
        ("limit=0", "`limit`"),
    ] {
        let reply = floor
            .server
            .get_as(&format!("/api/v1/audit?{query}"), &officer);
        assert_eq!(reply.status, 400, "{query}");
        assert!(error(&reply).contains(named), "{query}: {}", reply.body);
    }

    // Someone edits the unmask record's reason in the file.
    let path = floor.server.data_dir().join("audit.log");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("caller asked for", "nobody asked for")).unwrap();
    let answer: Value = floor
        .server
        .get_as("/api/v1/audit", &officer)
        .json::<Value>();
    assert_eq!(answer["verified"]["ok"], false, "{answer}");
    assert!(
        answer["verified"]["problem"]
            .as_str()
            .is_some_and(|p| p.starts_with("line ")),
        "{answer}"
    );
}

#[test]
fn a_threshold_changed_in_the_config_is_audited_at_the_next_start() {
    let mut floor = start();
    let actor = format!("config:{}", floor.config.display());
    let initial = floor.records("config_change");
    assert_eq!(initial.len(), 1, "{initial:?}");
    assert_eq!(initial[0]["actor"].as_str(), Some(actor.as_str()));
    assert!(
        initial[0]["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("initial configuration")),
        "{initial:?}"
    );

    let changed = CONFIG
        .replace("threshold_s = 20", "threshold_s = 30")
        .replace(
            "[[queues]]\nid = \"sales\"",
            "[[queues]]\nid = \"vip\"\n[[queues]]\nid = \"sales\"",
        );
    std::fs::write(&floor.config, changed).unwrap();
    floor.server.restart();
    let thresholds = floor.records("threshold_change");
    assert_eq!(thresholds.len(), 1, "{thresholds:?}");
    assert_eq!(thresholds[0]["actor"].as_str(), Some(actor.as_str()));
    assert_eq!(thresholds[0]["target"], "queue:billing");
    assert_eq!(thresholds[0]["detail"], "threshold_s 20 -> 30");
    let configs = floor.records("config_change");
    assert_eq!(configs.len(), 2, "{configs:?}");
    assert_eq!(configs[1]["target"], "queue:vip");

    // The same configuration again: nothing new.
    floor.server.restart();
    assert_eq!(floor.records("threshold_change").len(), 1);
    assert_eq!(floor.records("config_change").len(), 2);
}

#[test]
fn user_enable_brings_a_disabled_user_back_and_is_audited() {
    let floor = start();
    let sup = floor.user("sup1", "supervisor", None);
    assert_eq!(floor.server.get_as("/api/v1/calls", &sup).status, 200);
    floor.server.command(&["user", "disable", "sup1"]);
    assert_eq!(floor.server.get_as("/api/v1/calls", &sup).status, 401);
    floor.server.command(&["user", "enable", "sup1"]);
    assert_eq!(floor.server.get_as("/api/v1/calls", &sup).status, 200);
    let enabled = floor.records("user_enable");
    assert_eq!(enabled.len(), 1, "{enabled:?}");
    assert_eq!(enabled[0]["target"], "user:sup1");

    floor.server.command(&["user", "shift", "sup1", "17:30"]);
    let shifts = floor.records("user_shift");
    assert_eq!(shifts[0]["detail"], "shift_end=17:30 (was none)");
    let list = floor.server.command(&["user", "list"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("sup1 ") && l.ends_with("17:30")),
        "{list}"
    );
}
