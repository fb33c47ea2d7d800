//! Issue 8, "Done when": an authorisation matrix over a real server, with real HTTP and
//! websocket clients. Every endpoint of the contract (notes/AUTH-CONTRACT.md) and every live
//! subscription kind is asked by every role — with its API token and, for roles that sign in
//! with a password, its session cookie —, by a screen paired as a device (issue 13: its device
//! cookie; it only ever reads), by the configured ingest token and anonymously, at a
//! scope inside and a scope outside the user's subtree. Each cell checks the status (never a
//! 500) and that a successful answer carries nothing from outside the subtree: no outside id,
//! agent name or full caller number, in any body or any live frame, also while events keep
//! arriving for outside scopes.
//!
//! What each cell should be is derived here from the role table of docs/SECURITY.md and a
//! model of the test's own organisation (`auth_support`), never from the server's code.
//!
//! On failure the whole matrix is printed: one line per probe, one column per principal;
//! `!got≠expected` marks a wrong status, `!got*` a right status with wrong content, listed in
//! words below the table.

mod auth_support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_support::{
    AGENTS, Answer, BASE, Cell, Credential, Day, Laps, Matrix, Next, ON_BREAK, Perm, QUEUES,
    RawSocket, Role, User, agents_inside, call_id, caller, connect, create_account, excerpt,
    forbidden, grants, id_of, inside, known, leaks, mask, parent, queues_inside, request,
    write_config,
};
use floorwatch_tests::Server;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

/// The configured ingest token (`--ingest-token`).
const INGEST_TOKEN: &str = "cfg-ingest-secret-0123456789";
/// The session cookie's name.
const COOKIE: &str = "fw_session";
/// The device cookie's name (a paired screen).
const DEVICE_COOKIE: &str = "fw_device";
/// The one text of every refused sign-in (notes/AUTH-CONTRACT.md).
const WRONG_LOGIN: &str = "wrong user name or password";

fn users() -> Vec<User> {
    let user = |name, role, root, password| User {
        name,
        role,
        root,
        password,
    };
    vec![
        user("boss", Role::Admin, "centre", Some("boss-password-0001")),
        user(
            "mgr-north",
            Role::Manager,
            "site:site_n",
            Some("manager-password-0002"),
        ),
        user(
            "sup-gn1",
            Role::Supervisor,
            "group:grp_n1",
            Some("supervisor-password-0003"),
        ),
        user(
            "lead-tn1",
            Role::TeamLead,
            "team:team_n1",
            Some("lead-password-0004"),
        ),
        user(
            "wall-north",
            Role::WallDisplay,
            "site:site_n",
            Some("wall-password-0005"),
        ),
        user(
            "auditor",
            Role::SecurityOfficer,
            "centre",
            Some("auditor-password-0006"),
        ),
        user("switch", Role::Ingest, "centre", None),
    ]
}

/// The paired screen: a wall display of the north site, by its device cookie.
const DEVICE: User = User {
    name: "lobby-north",
    role: Role::WallDisplay,
    root: "site:site_n",
    password: None,
};

/// Who asks: a user with one of their credentials, the configured ingest token, or nobody.
#[derive(Debug, Clone)]
struct Principal {
    label: String,
    user: Option<User>,
    credential: Credential,
}

impl Principal {
    fn is_cookie(&self) -> bool {
        matches!(self.credential, Credential::Cookie(_))
    }

    /// A paired screen: whatever its role, it only reads figures and agents.
    fn is_device(&self) -> bool {
        matches!(self.credential, Credential::Device(_))
    }

    /// A browser credential that `DELETE /api/v1/session` ends (a session, or a paired screen,
    /// which signing out at the screen unpairs).
    fn signs_out(&self) -> bool {
        self.is_cookie() || self.is_device()
    }

    /// The cookie signing out clears.
    fn cookie_name(&self) -> &'static str {
        if self.is_device() {
            DEVICE_COOKIE
        } else {
            COOKIE
        }
    }

    /// Whether the principal holds `perm` (over its subtree).
    fn grants(&self, perm: Perm) -> bool {
        self.user.as_ref().is_some_and(|u| {
            grants(u.role, perm)
                && (!self.is_device() || matches!(perm, Perm::ReadFigures | Perm::ReadAgents))
        })
    }

    /// Whether the principal is an admin in person (the account endpoints: pairing screens).
    fn is_admin(&self) -> bool {
        !self.is_device() && self.user.as_ref().is_some_and(|u| u.role == Role::Admin)
    }

    /// The subtree whose probes this principal is asked (the centre's for non-users).
    fn root(&self) -> &'static str {
        self.user.as_ref().map_or("centre", |u| u.root)
    }

    /// What must never reach this principal.
    fn forbidden(&self) -> Vec<(String, String)> {
        match &self.user {
            Some(user) => forbidden(Some(user.root), user.role != Role::WallDisplay),
            None => forbidden(None, false),
        }
    }

    /// Whether the principal may read anything on the live socket at all.
    fn reads_anything(&self) -> bool {
        self.grants(Perm::ReadFigures) || self.grants(Perm::ReadAgents)
    }

    /// The outcome of an endpoint that needs `perm` at `scope` (`None`: the user's own subtree,
    /// the list filtered to it). `unknown` is the answer for a centre-wide user asking about a
    /// scope the floor does not know (permission.rs's doc: allowed, and the endpoint says 404);
    /// below the centre an unknown scope is refused like an outside one, so nobody can probe
    /// which teams exist.
    fn expect(&self, perm: Perm, scope: Option<&str>, unknown: &str) -> Vec<String> {
        let one = |s: &str| vec![s.to_string()];
        let Some(user) = &self.user else {
            return match self.credential {
                Credential::Anonymous => one("401"),
                _ if perm == Perm::Ingest => one("200"),
                _ => one("403"),
            };
        };
        if !self.grants(perm) {
            return one("403");
        }
        match scope {
            None => one("200"),
            Some(scope) if user.root == "centre" => {
                if known(scope) {
                    one("200")
                } else {
                    one(unknown)
                }
            }
            Some(scope) if inside(user.root, scope) => one("200"),
            Some(_) => one("403"),
        }
    }
}

fn principals(users: &[User], tokens: &BTreeMap<&str, String>) -> Vec<Principal> {
    let short = |role: Role| match role {
        Role::Admin => "admin",
        Role::Manager => "mgr",
        Role::Supervisor => "sup",
        Role::TeamLead => "lead",
        Role::WallDisplay => "wall",
        Role::SecurityOfficer => "sec",
        Role::Ingest => "ingest",
    };
    let mut out = Vec::new();
    for user in users {
        out.push(Principal {
            label: format!("{}/tok", short(user.role)),
            user: Some(user.clone()),
            credential: Credential::Bearer(tokens[user.name].clone()),
        });
        if user.password.is_some() {
            // The cookie is filled in once the user has signed in.
            out.push(Principal {
                label: format!("{}/ck", short(user.role)),
                user: Some(user.clone()),
                credential: Credential::Cookie(String::new()),
            });
        }
    }
    out.push(Principal {
        label: "ingest-cfg".into(),
        user: None,
        credential: Credential::Bearer(INGEST_TOKEN.into()),
    });
    out.push(Principal {
        label: "anon".into(),
        user: None,
        credential: Credential::Anonymous,
    });
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    In,
    Out,
}

impl Side {
    fn word(self) -> &'static str {
        match self {
            Side::In => "in",
            Side::Out => "out",
        }
    }
}

const KINDS: [&str; 6] = ["centre", "site", "group", "team", "queue", "agent"];

/// The scope of `kind` a principal holding `root` is probed with: inside, the highest such
/// node in the subtree; outside, the nearest one beyond it (the parent's other children, the
/// parent itself) — and for a centre-wide user, for whom nothing is outside, a scope the floor
/// does not know.
fn probe_scope(root: &str, kind: &str, side: Side) -> Option<String> {
    let (ins, outs): (&[&str], &[&str]) = match kind {
        "centre" => (&["centre"], &["centre"]),
        "site" => (
            &["site:site_n", "site:site_s"],
            &["site:site_n", "site:site_s"],
        ),
        "group" => (
            &["group:grp_n1", "group:grp_n2", "group:grp_s1"],
            &["group:grp_n1", "group:grp_n2", "group:grp_s1"],
        ),
        "team" => (
            &["team:team_n1", "team:team_s1"],
            &["team:team_n2", "team:team_n3", "team:team_s1"],
        ),
        "queue" => (
            &[
                "queue:que_hq",
                "queue:que_sn",
                "queue:que_gn1",
                "queue:que_tn1",
            ],
            &["queue:que_sn", "queue:que_ss"],
        ),
        "agent" => (
            &["agent:agt_n1a"],
            &["agent:agt_n2a", "agent:agt_n3a", "agent:agt_s1a"],
        ),
        other => panic!("no scope kind {other}"),
    };
    match side {
        Side::In => ins.iter().find(|s| inside(root, s)).map(|s| s.to_string()),
        Side::Out if root == "centre" => {
            let unknown = match kind {
                "centre" => return None,
                "site" => "site:site_zz",
                "group" => "group:grp_zz",
                "team" => "team:team_zz",
                "queue" => "queue:que_zz",
                _ => "agent:agt_zz",
            };
            Some(unknown.to_string())
        }
        Side::Out => outs
            .iter()
            .find(|s| !inside(root, s))
            .map(|s| s.to_string()),
    }
}

/// The statuses of a refusal that may also be phrased as "no such thing" (an alert or a call
/// the user may not see is answered like one that does not exist).
fn refused_or_hidden(expected: Vec<String>) -> Vec<String> {
    if expected == ["403"] {
        vec!["403".into(), "404".into()]
    } else {
        expected
    }
}

/// What a successful answer must hold besides carrying nothing forbidden.
#[derive(Debug, Clone)]
enum Content {
    Any,
    Json,
    Figures(String),
    /// A history report of the scope, one row (a day).
    Report(String),
    Ids {
        field: &'static str,
        want: BTreeSet<String>,
    },
    Calls(BTreeSet<String>),
    Unmasked {
        call: String,
        number: String,
    },
    Acknowledged(String),
    Csv(String),
    Audit,
    /// The session of the user (`true`: a paired screen, whose answer says `"device": true`).
    Session(User, bool),
}

struct Probe {
    name: String,
    method: &'static str,
    path: String,
    body: Option<(&'static str, String)>,
    expected: Vec<String>,
    content: Content,
}

/// Everything the HTTP probes need to know about the floor as the test made it.
struct Floor {
    /// Alerts as the admin sees them: id → (scope, acknowledged).
    alerts: Vec<(String, String)>,
    /// Calls of the morning with their queue (c1..c3 of every queue).
    calls: Vec<(String, String)>,
}

impl Floor {
    fn calls_in(&self, root: &str) -> BTreeSet<String> {
        self.calls
            .iter()
            .filter(|(_, q)| inside(root, &format!("queue:{q}")))
            .map(|(c, _)| c.clone())
            .collect()
    }

    fn alerts_seen_by(&self, user: &User) -> BTreeSet<String> {
        self.alerts
            .iter()
            .filter(|(_, scope)| inside(user.root, scope))
            .filter(|(_, scope)| user.role != Role::WallDisplay || !scope.starts_with("agent:"))
            .map(|(id, _)| id.clone())
            .collect()
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The HTTP probes of one principal, but acknowledgements (which need alerts handed out).
fn http_probes(p: &Principal, floor: &Floor) -> Vec<Probe> {
    let root = p.root();
    let mut probes = Vec::new();
    let mut push = |name: String, path: String, expected: Vec<String>, content: Content| {
        probes.push(Probe {
            name,
            method: "GET",
            path,
            body: None,
            expected,
            content,
        });
    };

    for kind in KINDS {
        for side in [Side::In, Side::Out] {
            let Some(scope) = probe_scope(root, kind, side) else {
                continue;
            };
            let perm = if kind == "agent" {
                Perm::ReadAgents
            } else {
                Perm::ReadFigures
            };
            push(
                format!("GET metrics {kind} {}", side.word()),
                format!("/api/v1/metrics?scope={scope}&window=today"),
                p.expect(perm, Some(&scope), "404"),
                Content::Figures(scope),
            );
        }
    }
    // History (issue 12): read reports at the scope, read agent data too for an agent.
    for kind in ["site", "team", "queue", "agent"] {
        for side in [Side::In, Side::Out] {
            let Some(scope) = probe_scope(root, kind, side) else {
                continue;
            };
            let mut want = p.expect(Perm::ReadReports, Some(&scope), "404");
            if kind == "agent" && want == ["200"] {
                want = p.expect(Perm::ReadAgents, Some(&scope), "404");
            }
            push(
                format!("GET reports {kind} {}", side.word()),
                format!("/api/v1/reports/intervals?scope={scope}&from=2026-03-09&interval=day"),
                want,
                Content::Report(scope),
            );
        }
    }
    for side in [Side::In, Side::Out] {
        let Some(team) = probe_scope(root, "team", side) else {
            continue;
        };
        push(
            format!("GET reports/compare team {}", side.word()),
            format!("/api/v1/reports/compare?scope={team}&date=2026-03-09&against=previous-day"),
            p.expect(Perm::ReadReports, Some(&team), "404"),
            Content::Json,
        );
        // A report's needs, and one more permission at the same scope once they are met.
        let and = |more: Perm| {
            let want = p.expect(Perm::ReadReports, Some(&team), "404");
            if want == ["200"] {
                p.expect(more, Some(&team), "404")
            } else {
                want
            }
        };
        for ext in ["csv", "xlsx"] {
            push(
                format!("GET reports/intervals.{ext} team {}", side.word()),
                format!(
                    "/api/v1/reports/intervals.{ext}?scope={team}&from=2026-03-09&interval=day"
                ),
                and(Perm::Export),
                Content::Any,
            );
            // The agent report's file: agent data first, then export.
            let agents_file = match and(Perm::ReadAgents) {
                want if want == ["200"] => p.expect(Perm::Export, Some(&team), "404"),
                want => want,
            };
            push(
                format!("GET reports/agents.{ext} team {}", side.word()),
                format!("/api/v1/reports/agents.{ext}?scope={team}&from=2026-03-09"),
                agents_file,
                Content::Any,
            );
            push(
                format!("GET reports/calls.{ext} team {}", side.word()),
                format!("/api/v1/reports/calls.{ext}?scope={team}&from=2026-03-09"),
                and(Perm::Export),
                Content::Any,
            );
        }
        // The calls report (issue 12): checked as the other reports; its files need export
        // (above).
        push(
            format!("GET reports/calls team {}", side.word()),
            format!("/api/v1/reports/calls?scope={team}&from=2026-03-09"),
            p.expect(Perm::ReadReports, Some(&team), "404"),
            Content::Json,
        );
        let want = and(Perm::ReadAgents);
        push(
            format!("GET reports/agents team {}", side.word()),
            format!("/api/v1/reports/agents?scope={team}&from=2026-03-09"),
            want,
            Content::Json,
        );
    }
    push(
        "GET metrics team unknown".into(),
        "/api/v1/metrics?scope=team:team_zz&window=today".into(),
        p.expect(Perm::ReadFigures, Some("team:team_zz"), "404"),
        Content::Json,
    );
    push(
        "GET queues".into(),
        "/api/v1/queues".into(),
        p.expect(Perm::ReadFigures, None, "404"),
        Content::Ids {
            field: "id",
            want: queues_inside(root),
        },
    );
    push(
        "GET agents".into(),
        "/api/v1/agents".into(),
        p.expect(Perm::ReadAgents, None, "404"),
        Content::Ids {
            field: "id",
            want: agents_inside(root),
        },
    );
    for side in [Side::In, Side::Out] {
        if let Some(team) = probe_scope(root, "team", side) {
            push(
                format!("GET agents?team {}", side.word()),
                format!("/api/v1/agents?team={}", id_of(&team)),
                p.expect(Perm::ReadAgents, Some(&team), "404"),
                Content::Ids {
                    field: "id",
                    want: agents_inside(&team),
                },
            );
        }
    }
    let seen = p.user.as_ref().map(|u| floor.alerts_seen_by(u));
    push(
        "GET alerts".into(),
        "/api/v1/alerts?since=0".into(),
        p.expect(Perm::ReadFigures, None, "404"),
        Content::Ids {
            field: "id",
            want: seen.unwrap_or_default(),
        },
    );
    push(
        "GET alerts/rules".into(),
        "/api/v1/alerts/rules".into(),
        p.expect(Perm::ReadFigures, None, "404"),
        Content::Json,
    );
    push(
        "GET calls".into(),
        "/api/v1/calls".into(),
        p.expect(Perm::ReadCallers, None, "404"),
        Content::Calls(floor.calls_in(root)),
    );
    for side in [Side::In, Side::Out] {
        if let Some(queue) = probe_scope(root, "queue", side) {
            push(
                format!("GET calls?queue {}", side.word()),
                format!("/api/v1/calls?queue={}", id_of(&queue)),
                p.expect(Perm::ReadCallers, Some(&queue), "404"),
                Content::Calls(floor.calls_in(&queue)),
            );
        }
    }
    let export_scopes = [
        (Side::In, Some(root.to_string())),
        (Side::Out, probe_scope(root, "site", Side::Out)),
    ];
    for (side, scope) in export_scopes {
        if let Some(scope) = scope {
            let first_agent = agents_inside(&scope).into_iter().next().unwrap_or_default();
            push(
                format!("GET export.csv {}", side.word()),
                format!("/api/v1/export/agents.csv?scope={scope}&window=today"),
                p.expect(Perm::Export, Some(&scope), "404"),
                Content::Csv(first_agent),
            );
        }
    }
    push(
        "GET audit".into(),
        "/api/v1/audit".into(),
        p.expect(Perm::ReadAudit, None, "404"),
        Content::Audit,
    );
    let signed_in = match (&p.user, &p.credential) {
        (Some(_), _) => vec!["200".to_string()],
        (None, Credential::Anonymous) => vec!["401".to_string()],
        (None, _) => vec!["401".to_string(), "403".to_string()],
    };
    push(
        "GET /metrics".into(),
        "/metrics".into(),
        signed_in.clone(),
        Content::Any,
    );
    push(
        "GET /healthz".into(),
        "/healthz".into(),
        vec!["200".into()],
        Content::Json,
    );
    push(
        "GET / (wallboard)".into(),
        "/".into(),
        vec!["200".into()],
        Content::Any,
    );
    push(
        "GET session".into(),
        "/api/v1/session".into(),
        signed_in,
        match &p.user {
            Some(user) => Content::Session(user.clone(), p.is_device()),
            None => Content::Any,
        },
    );

    // Paired screens (issue 13): an admin in person pairs, lists and revokes them; asking for a
    // pairing code and polling it is open to anyone (a TV before it is signed in), rate-limited
    // per address.
    let admin_only = |ok: &str| -> Vec<String> {
        match (&p.user, &p.credential) {
            _ if p.is_admin() => vec![ok.to_string()],
            (Some(_), _) => vec!["403".into()],
            (None, Credential::Anonymous) => vec!["401".into()],
            (None, _) => vec!["403".into()],
        }
    };
    push(
        "GET devices".into(),
        "/api/v1/devices".into(),
        admin_only("200"),
        Content::Json,
    );
    push(
        "GET pairing (none asked)".into(),
        "/api/v1/pairing".into(),
        vec!["404".into()],
        Content::Any,
    );
    probes.push(Probe {
        name: "POST devices/pair unknown code".into(),
        method: "POST",
        path: "/api/v1/devices/pair".into(),
        body: Some((
            "application/json",
            json!({"code": "2222-2222", "name": "matrix-tv"}).to_string(),
        )),
        expected: admin_only("404"),
        content: Content::Json,
    });
    probes.push(Probe {
        name: "DELETE devices/NAME unknown".into(),
        method: "DELETE",
        path: "/api/v1/devices/no-such-screen".into(),
        body: None,
        expected: admin_only("404"),
        content: Content::Any,
    });
    probes.push(Probe {
        name: "POST pairing".into(),
        method: "POST",
        path: "/api/v1/pairing".into(),
        body: Some(("application/json", String::new())),
        expected: vec!["201".into(), "429".into()],
        content: Content::Json,
    });

    // Sign-off (issue 12): a manager's act on a site or the centre; the first one allowed
    // seals the day, the others find it sealed. An amendment with nothing to amend is refused
    // with 409 once allowed.
    for side in [Side::In, Side::Out] {
        let Some(site) = probe_scope(root, "site", side) else {
            continue;
        };
        let mut expected = p.expect(Perm::SignOff, Some(&site), "404");
        if expected == ["200"] {
            expected.push("409".into());
        }
        probes.push(Probe {
            name: format!("POST reports/sign-off site {}", side.word()),
            method: "POST",
            path: "/api/v1/reports/sign-off".into(),
            body: Some((
                "application/json",
                json!({"scope": site, "date": "2026-03-08"}).to_string(),
            )),
            expected,
            content: Content::Json,
        });
        let mut expected = p.expect(Perm::SignOff, Some(&site), "404");
        if expected == ["200"] {
            expected = vec!["409".into()];
        }
        probes.push(Probe {
            name: format!("POST reports/amend site {}", side.word()),
            method: "POST",
            path: "/api/v1/reports/amend".into(),
            body: Some((
                "application/json",
                json!({"scope": site, "date": "2026-03-08", "reason": "matrix"}).to_string(),
            )),
            expected,
            content: Content::Json,
        });
    }

    // The callback worklist's mark (issue 12): *read calls* at the call's queue; a visit that
    // history does not have is a 404 once the role may mark at all.
    probes.push(Probe {
        name: "POST reports/calls/ID/callback unknown".into(),
        method: "POST",
        path: "/api/v1/reports/calls/1773046800000-0123456789abcdef/callback".into(),
        body: Some(("application/json", String::new())),
        expected: match p.expect(Perm::ReadCallers, None, "404") {
            allowed if allowed == ["200"] => vec!["404".into()],
            refused => refused,
        },
        content: Content::Json,
    });

    // Unmasking: the first call of a queue inside, and of a queue outside (an unknown call for
    // a centre-wide user).
    for side in [Side::In, Side::Out] {
        let Some(queue) = probe_scope(root, "queue", side) else {
            continue;
        };
        let call = call_id(id_of(&queue), 1);
        let number = QUEUES
            .iter()
            .position(|(q, _, _)| *q == id_of(&queue))
            .map(|i| caller(i, 1))
            .unwrap_or_default();
        let mut expected = p.expect(Perm::Unmask, Some(&queue), "404");
        if side == Side::Out {
            expected = refused_or_hidden(expected);
        }
        probes.push(Probe {
            name: format!("POST calls/ID/unmask {}", side.word()),
            method: "POST",
            path: format!("/api/v1/calls/{}/unmask", encode(&call)),
            body: Some((
                "application/json",
                json!({ "reason": "authorisation matrix: who may unmask" }).to_string(),
            )),
            expected,
            content: Content::Unmasked { call, number },
        });
    }

    // Ingest: a duplicate of the morning's first event (nothing changes), and a queue_log line
    // that carries no event.
    let ingest = p.expect(Perm::Ingest, None, "404");
    probes.push(Probe {
        name: "POST events".into(),
        method: "POST",
        path: "/api/v1/events".into(),
        body: Some(("application/x-ndjson", first_event())),
        expected: ingest.clone(),
        content: Content::Json,
    });
    probes.push(Probe {
        name: "POST import/queue-log".into(),
        method: "POST",
        path: "/api/v1/import/queue-log?source=matrix".into(),
        body: Some((
            "text/x-queue-log",
            format!("{}|NONE|NONE|NONE|QUEUESTART|\n", BASE / 1000),
        )),
        expected: ingest,
        content: Content::Json,
    });
    probes
}

fn first_event() -> String {
    Day::morning()
        .take()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Runs one probe and judges the answer.
fn run_probe(url: &str, p: &Principal, probe: &Probe) -> (Cell, Answer) {
    let body = probe.body.as_ref().map(|(t, b)| (*t, b.as_str()));
    let answer = request(url, probe.method, &probe.path, &p.credential, body);
    let got = answer.status.to_string();
    let mut problems = Vec::new();
    if answer.status == 200 {
        let echo: Vec<&str> = match &probe.content {
            Content::Unmasked { number, .. } => vec![number.as_str()],
            _ => vec![],
        };
        problems.extend(leaks(&answer.body, &p.forbidden(), &echo));
        problems.extend(check_content(&probe.content, &answer));
    }
    if answer.status >= 400
        && answer
            .json()
            .and_then(|v| v["error"].as_str().map(str::len))
            .is_none()
    {
        problems.push(format!(
            "an error answer must be {{\"error\": \"...\"}}, got {}",
            excerpt(&answer.body, 120)
        ));
    }
    let cell = Cell {
        request: format!("{} {}", probe.method, probe.path),
        expected: probe.expected.clone(),
        got,
        problems,
    };
    (cell, answer)
}

fn check_content(content: &Content, answer: &Answer) -> Vec<String> {
    let mut problems = Vec::new();
    let json = answer.json();
    let need_json = !matches!(content, Content::Any | Content::Csv(_));
    if need_json && json.is_none() {
        return vec![format!("not JSON: {}", excerpt(&answer.body, 200))];
    }
    let json = json.unwrap_or(Value::Null);
    match content {
        Content::Any | Content::Json => {}
        Content::Figures(scope) => {
            if json["scope"] != scope.as_str() {
                problems.push(format!("figures of {} for {scope}", json["scope"]));
            }
        }
        Content::Report(scope) => {
            let rows = json["rows"].as_array().map_or(0, Vec::len);
            if json["scope"] != scope.as_str() || rows != 1 {
                problems.push(format!(
                    "report of {} with {rows} rows for {scope}",
                    json["scope"]
                ));
            }
        }
        Content::Ids { field, want } => {
            let got: BTreeSet<String> = json
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i[*field].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if &got != want {
                problems.push(format!("listed {got:?}, expected exactly {want:?}"));
            }
        }
        Content::Calls(want) => {
            let items = json.as_array().cloned().unwrap_or_default();
            let got: BTreeSet<String> = items
                .iter()
                .filter_map(|c| c["call"].as_str().map(str::to_string))
                .collect();
            if &got != want {
                problems.push(format!("calls {got:?}, expected exactly {want:?}"));
            }
            for call in &items {
                let (Some(id), Some(shown)) = (call["call"].as_str(), call["caller"].as_str())
                else {
                    problems.push(format!("a call without id or caller: {call}"));
                    continue;
                };
                if let Some(number) = number_of(id)
                    && shown != mask(&number)
                {
                    problems.push(format!(
                        "call {id} shows caller {shown}, expected the mask {}",
                        mask(&number)
                    ));
                }
            }
        }
        Content::Unmasked { call, number } => {
            if json["call"] != call.as_str() || json["caller"] != number.as_str() {
                problems.push(format!("unmasked {json}, expected {call} → {number}"));
            }
        }
        Content::Acknowledged(id) => {
            if json["id"] != id.as_str() || json["acknowledged"].is_null() {
                problems.push(format!(
                    "answered {}, expected {id} acknowledged",
                    excerpt(&json.to_string(), 200)
                ));
            }
        }
        Content::Csv(agent) => {
            if !agent.is_empty() && !answer.body.contains(agent.as_str()) {
                problems.push(format!(
                    "the CSV lacks agent {agent} of the scope: {}",
                    excerpt(&answer.body, 200)
                ));
            }
        }
        Content::Audit => {
            if !json["records"].is_array() || json["verified"]["ok"] != true {
                problems.push(format!(
                    "expected records and a verified chain, got {}",
                    excerpt(&json.to_string(), 200)
                ));
            }
        }
        Content::Session(user, device) => {
            let scope = user.root;
            if json["user"] != user.name
                || json["role"] != user.role.name()
                || json["scope"] != scope
                || json["device"].as_bool().unwrap_or(false) != *device
            {
                problems.push(format!(
                    "SessionInfo {json}, expected user {} role {} scope {scope}",
                    user.name,
                    user.role.name()
                ));
            }
        }
    }
    problems
}

/// The caller number of a call id of the tests (`QUEUE-cN`).
fn number_of(call: &str) -> Option<String> {
    let (queue, n) = call.rsplit_once("-c")?;
    let n: u32 = n.parse().ok()?;
    let index = QUEUES.iter().position(|(q, _, _)| *q == queue)?;
    Some(caller(index, n))
}

/// The alerts as an admin sees them: (id, scope, acknowledged?).
fn admin_alerts(url: &str, admin: &Credential) -> Vec<(String, String, bool)> {
    let answer = request(url, "GET", "/api/v1/alerts?since=0", admin, None);
    assert_eq!(answer.status, 200, "the admin's alerts: {}", answer.body);
    answer
        .json()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap_or_default().to_string(),
                a["scope"].as_str().unwrap_or_default().to_string(),
                !a["acknowledged"].is_null(),
            )
        })
        .collect()
}

/// Acknowledgements: each principal that may acknowledge gets an alert of its own inside its
/// subtree (the narrowest subtrees choose first); refused ones must leave the alert as it was.
fn run_acks(url: &str, principals: &[Principal], admin: &Credential, matrix: &mut Matrix) {
    let depth = |root: &str| {
        let mut d = 0;
        let mut at = Some(root.to_string());
        while let Some(s) = at {
            at = parent(&s);
            d += 1;
        }
        d
    };
    let mut order: Vec<&Principal> = principals.iter().collect();
    order.sort_by_key(|p| std::cmp::Reverse(depth(p.root())));
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for p in order {
        let alerts = admin_alerts(url, admin);
        let root = p.root();
        let may = p.grants(Perm::AcknowledgeAlerts);
        let visible_to = |scope: &str| {
            inside(root, scope)
                && !(p.user.as_ref().is_some_and(|u| u.role == Role::WallDisplay)
                    && scope.starts_with("agent:"))
        };
        let inside_alert = alerts
            .iter()
            .find(|(id, scope, acked)| visible_to(scope) && !acked && !taken.contains(id))
            .or_else(|| alerts.iter().find(|(_, scope, _)| visible_to(scope)));
        let outside_alert = if root == "centre" {
            Some((
                "queue-busy/queue:que_zz@1".to_string(),
                "queue:que_zz".to_string(),
                false,
            ))
        } else {
            alerts
                .iter()
                .find(|(_, scope, _)| !inside(root, scope))
                .cloned()
        };
        let probes = [
            (Side::In, inside_alert.cloned()),
            (Side::Out, outside_alert),
        ];
        for (side, alert) in probes {
            let name = format!("POST alerts/ack {}", side.word());
            let Some((id, scope, _)) = alert else {
                continue;
            };
            let mut expected = p.expect(Perm::AcknowledgeAlerts, Some(&scope), "404");
            if side == Side::Out {
                expected = refused_or_hidden(expected);
            }
            if may && expected == ["200"] {
                taken.insert(id.clone());
            }
            let before = alerts.iter().find(|(i, _, _)| *i == id).map(|a| a.2);
            let probe = Probe {
                name: name.clone(),
                method: "POST",
                path: "/api/v1/alerts/ack".into(),
                body: Some((
                    "application/json",
                    json!({ "id": id, "note": "matrix" }).to_string(),
                )),
                expected,
                content: Content::Acknowledged(id.clone()),
            };
            let (mut cell, answer) = run_probe(url, p, &probe);
            if answer.status != 200 {
                let after = admin_alerts(url, admin)
                    .into_iter()
                    .find(|(i, _, _)| *i == id)
                    .map(|a| a.2);
                if after != before {
                    cell.problems
                        .push(format!("a refused acknowledgement changed alert {id}"));
                }
            }
            matrix.record(&p.label, &name, cell);
        }
    }
}

/// Signs in with a password: the cookie (`fw_session=…`) and the cell.
fn sign_in(url: &str, name: &str, password: &str, expect_ok: bool) -> (Option<String>, Cell) {
    let body = json!({ "user": name, "password": password }).to_string();
    let answer = request(
        url,
        "POST",
        "/api/v1/session",
        &Credential::Anonymous,
        Some(("application/json", &body)),
    );
    let mut problems = Vec::new();
    let mut cookie = None;
    if expect_ok && answer.status == 200 {
        match answer
            .set_cookie
            .iter()
            .find(|c| c.starts_with(&format!("{COOKIE}=")))
        {
            None => problems.push(format!("no {COOKIE} cookie set: {:?}", answer.set_cookie)),
            Some(set) => {
                let pair = set.split(';').next().unwrap_or_default().trim().to_string();
                for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
                    if !set
                        .split(';')
                        .any(|a| a.trim().eq_ignore_ascii_case(attribute))
                    {
                        problems.push(format!("the cookie lacks `{attribute}`: {set}"));
                    }
                }
                if set
                    .split(';')
                    .any(|a| a.trim().eq_ignore_ascii_case("Secure"))
                {
                    problems.push(format!("`Secure` on a plain-HTTP server: {set}"));
                }
                if !pair.starts_with(&format!("{COOKIE}=fws_")) {
                    problems.push(format!("the session id is not `fws_…`: {pair}"));
                }
                cookie = Some(pair);
            }
        }
        let json = answer.json().unwrap_or(Value::Null);
        if json["user"] != name {
            problems.push(format!("SessionInfo names {} not {name}", json["user"]));
        }
    }
    if !expect_ok && answer.json().map(|v| v["error"].clone()) != Some(json!(WRONG_LOGIN)) {
        problems.push(format!(
            "a refused sign-in must say `{WRONG_LOGIN}` whatever the reason, said {}",
            excerpt(&answer.body, 120)
        ));
    }
    let cell = Cell {
        request: format!("POST /api/v1/session as {name}"),
        expected: vec![if expect_ok { "200" } else { "401" }.to_string()],
        got: answer.status.to_string(),
        problems,
    };
    (cookie, cell)
}

// ---------------------------------------------------------------------------------------------
// The live socket.
// ---------------------------------------------------------------------------------------------

/// One live cell: a connection with one subscription message.
struct LiveProbe {
    principal: usize,
    name: String,
    /// The entries sent in one subscription message.
    entries: Vec<String>,
    /// The entry whose refusal the cell expects to be named (mixed subscriptions).
    refused: Option<String>,
    expected: Vec<String>,
    /// The figures scope or agent-list root the snapshot must show, when allowed.
    shows: Option<(bool, String)>,
}

struct LiveResult {
    got: String,
    frames: Vec<String>,
    later: usize,
}

fn live_probes(index: usize, p: &Principal) -> Vec<LiveProbe> {
    let root = p.root();
    let mut probes = Vec::new();
    let outcome = |expected: Vec<String>| -> Vec<String> {
        let mut out: Vec<String> = expected
            .iter()
            .map(|e| {
                if e == "200" {
                    "snap".to_string()
                } else {
                    "err".to_string()
                }
            })
            .collect();
        if !p.reads_anything() && p.credential != Credential::Anonymous {
            // Nothing to read at all: refusing the upgrade is as good as refusing each entry.
            out.push("403".into());
        }
        out
    };
    let mut allowed_entries = Vec::new();
    for kind in KINDS {
        for side in [Side::In, Side::Out] {
            let Some(scope) = probe_scope(root, kind, side) else {
                continue;
            };
            let perm = if kind == "agent" {
                Perm::ReadAgents
            } else {
                Perm::ReadFigures
            };
            let expected = p.expect(perm, Some(&scope), "404");
            if expected == ["200"] {
                allowed_entries.push(scope.clone());
            }
            probes.push(LiveProbe {
                principal: index,
                name: format!("live {kind} {}", side.word()),
                entries: vec![scope.clone()],
                refused: None,
                expected: outcome(expected),
                shows: Some((false, scope)),
            });
        }
    }
    let agent_scopes = [
        (Side::In, Some(root.to_string())),
        (Side::Out, probe_scope(root, "team", Side::Out)),
    ];
    for (side, scope) in agent_scopes {
        let Some(scope) = scope else { continue };
        let expected = p.expect(Perm::ReadAgents, Some(&scope), "404");
        let entry = format!("agents:{scope}");
        if expected == ["200"] {
            allowed_entries.push(entry.clone());
        }
        probes.push(LiveProbe {
            principal: index,
            name: format!("live agents:SCOPE {}", side.word()),
            entries: vec![entry],
            refused: None,
            expected: outcome(expected),
            shows: Some((true, scope)),
        });
    }
    if !allowed_entries.is_empty()
        && let Some(out) = probe_scope(root, "team", Side::Out)
    {
        let mut entries = allowed_entries;
        entries.push(out.clone());
        probes.push(LiveProbe {
            principal: index,
            name: "live mixed in+out".into(),
            entries,
            refused: Some(out),
            expected: vec!["err".into()],
            shows: None,
        });
    }
    probes
}

/// Connects, subscribes, reports the first frame on `first`, then collects every frame until
/// `stop`.
async fn live_cell(
    url: String,
    credential: Credential,
    entries: Vec<String>,
    first: mpsc::UnboundedSender<()>,
    mut stop: watch::Receiver<bool>,
) -> LiveResult {
    let mut socket = match connect(&url, &credential).await {
        Ok(socket) => socket,
        Err(status) => {
            let _ = first.send(());
            return LiveResult {
                got: status.to_string(),
                frames: Vec::new(),
                later: 0,
            };
        }
    };
    let subscribe = json!({ "subscribe": entries, "windows": ["today"] }).to_string();
    socket.send(&subscribe).await;
    let mut frames = Vec::new();
    let got = loop {
        match socket.next(Duration::from_secs(8)).await {
            Next::Text(text) => {
                let kind = frame_type(&text);
                frames.push(text);
                match kind.as_str() {
                    "heartbeat" => continue,
                    "snapshot" => break "snap".to_string(),
                    "error" => break "err".to_string(),
                    other => break other.to_string(),
                }
            }
            Next::Closed(close) => break format!("closed {close:?}"),
            Next::Timeout => break "silent".to_string(),
        }
    };
    let _ = first.send(());
    let mut later = 0;
    loop {
        tokio::select! {
            next = socket.next(Duration::from_secs(30)) => match next {
                Next::Text(text) => {
                    if !matches!(frame_type(&text).as_str(), "heartbeat") {
                        later += 1;
                    }
                    frames.push(text);
                }
                Next::Closed(_) | Next::Timeout => break,
            },
            _ = stop.changed() => break,
        }
    }
    socket.close().await;
    LiveResult { got, frames, later }
}

fn frame_type(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v["type"].as_str().map(str::to_string))
        .unwrap_or_else(|| "not-json".into())
}

/// Judges a live cell from everything its connection received; `alerts` are the floor's
/// (id, scope) as the admin saw them before any live client connected.
fn judge_live(
    p: &Principal,
    probe: &LiveProbe,
    result: &LiveResult,
    alerts: &[(String, String)],
) -> Cell {
    let forbidden = p.forbidden();
    let mut problems = Vec::new();
    // A refusal may repeat what was asked (`agents:team:t2`, `team:t2`): that is not a leak.
    let echo: Vec<&str> = probe
        .entries
        .iter()
        .flat_map(|e| [e.as_str(), e.strip_prefix("agents:").unwrap_or(e)])
        .collect();
    let mut got = result.got.clone();
    let mut named = false;
    for text in &result.frames {
        let frame: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        if frame["type"] == "error" {
            let message = frame["message"].as_str().unwrap_or_default();
            let wanted = probe.refused.as_ref().or(probe.entries.first());
            if wanted.is_some_and(|w| message.contains(w.as_str())) {
                named = true;
            }
            problems.extend(
                leaks(message, &forbidden, &echo)
                    .into_iter()
                    .map(|l| format!("the error frame {l}: {message}")),
            );
        } else {
            problems.extend(
                leaks(text, &forbidden, &[])
                    .into_iter()
                    .map(|l| format!("a {} frame {l}", frame["type"])),
            );
        }
    }
    if probe.refused.is_some() {
        // Mixed: the refusal may come before or after a snapshot of what was allowed.
        got = if named {
            "err".into()
        } else {
            format!("{got}/no-err")
        };
    } else if got == "err" && !named {
        problems.push(format!(
            "the error frame does not name `{}`: {:?}",
            probe.entries.join(","),
            result.frames.first()
        ));
    }
    if got == "snap" {
        let snapshot: Value = result
            .frames
            .iter()
            .find(|t| frame_type(t) == "snapshot")
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or(Value::Null);
        match &probe.shows {
            Some((false, scope)) => {
                let figures = snapshot["figures"].as_array().cloned().unwrap_or_default();
                if figures.is_empty() || figures.iter().any(|f| f["scope"] != scope.as_str()) {
                    problems.push(format!(
                        "the snapshot should carry the figures of {scope}: {}",
                        excerpt(&snapshot["figures"].to_string(), 200)
                    ));
                }
            }
            Some((true, root)) => {
                let agents: BTreeSet<String> = snapshot["agents"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|a| a["id"].as_str().map(str::to_string))
                    .collect();
                if agents != agents_inside(root) {
                    problems.push(format!(
                        "the snapshot lists agents {agents:?}, expected {:?}",
                        agents_inside(root)
                    ));
                }
            }
            None => {}
        }
        // The queue list is cut to the subscriber's subtree; the alerts are those of the
        // subscribed scope and below, an agent's only with an agent list covering them.
        let ids = |field: &str| -> BTreeSet<String> {
            snapshot[field]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter_map(|a| a["id"].as_str().map(str::to_string))
                .collect()
        };
        if ids("queues") != queues_inside(p.root()) {
            problems.push(format!(
                "the snapshot lists queues {:?}, expected {:?}",
                ids("queues"),
                queues_inside(p.root())
            ));
        }
        if let Some((agent_list, scope)) = &probe.shows {
            let want: BTreeSet<String> = alerts
                .iter()
                .filter(|(_, s)| inside(scope, s) && (*agent_list || !s.starts_with("agent:")))
                .map(|(id, _)| id.clone())
                .collect();
            if ids("alerts") != want {
                problems.push(format!(
                    "the snapshot shows alerts {:?}, expected {want:?}",
                    ids("alerts")
                ));
            }
        }
        if probe.shows == Some((true, "centre".to_string())) {
            // The control: the later events reached every agent of the floor, so the other
            // cells' silence about outside agents means something.
            let later = result
                .frames
                .iter()
                .skip(1)
                .cloned()
                .collect::<Vec<_>>()
                .join("");
            let missing: Vec<&str> = AGENTS
                .iter()
                .map(|(a, _, _)| *a)
                .filter(|a| !later.contains(a))
                .collect();
            if !missing.is_empty() {
                problems.push(format!("no later frame told of agents {missing:?}"));
            }
        }
        if result.later == 0 {
            problems.push("no delta or snapshot followed while the day went on".into());
        }
    }
    Cell {
        request: format!("subscribe {:?}", probe.entries),
        expected: probe.expected.clone(),
        got,
        problems,
    }
}

/// Every live cell at once, while the day goes on with events for every scope.
async fn run_live(
    server_ws: String,
    url: String,
    principals: Vec<Principal>,
    day: Day,
    alerts: Vec<(String, String)>,
) -> Vec<(String, String, Cell)> {
    let (first_tx, mut first_rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let mut probes = Vec::new();
    for (i, p) in principals.iter().enumerate() {
        if p.credential == Credential::Anonymous {
            continue;
        }
        for probe in live_probes(i, p) {
            let task = tokio::spawn(live_cell(
                server_ws.clone(),
                p.credential.clone(),
                probe.entries.clone(),
                first_tx.clone(),
                stop_rx.clone(),
            ));
            tasks.push(task);
            probes.push(probe);
        }
    }
    drop(first_tx);
    for _ in 0..tasks.len() {
        if tokio::time::timeout(Duration::from_secs(20), first_rx.recv())
            .await
            .ok()
            .flatten()
            .is_none()
        {
            break;
        }
    }

    // The day goes on: every agent changes state, every queue gets a call, three times.
    let day = Arc::new(std::sync::Mutex::new(day));
    for (s, n) in [(310, 4), (330, 5), (350, 6)] {
        let day = day.clone();
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            let body = day.lock().map(|mut d| d.later(s, n)).unwrap_or_default();
            let answer = request(
                &url,
                "POST",
                "/api/v1/events",
                &Credential::Bearer(INGEST_TOKEN.into()),
                Some(("application/x-ndjson", &body)),
            );
            assert_eq!(answer.status, 200, "feeding the day: {}", answer.body);
        })
        .await
        .unwrap_or_else(|e| panic!("feeding the day: {e}"));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let _ = stop_tx.send(true);

    let mut cells = Vec::new();
    for (task, probe) in tasks.into_iter().zip(&probes) {
        let p = &principals[probe.principal];
        let cell = match task.await {
            Ok(result) => judge_live(p, probe, &result, &alerts),
            Err(e) => Cell {
                request: format!("subscribe {:?}", probe.entries),
                expected: probe.expected.clone(),
                got: "panic".into(),
                problems: vec![e.to_string()],
            },
        };
        cells.push((p.label.clone(), probe.name.clone(), cell));
    }

    // Anonymous: refused before the upgrade.
    let got = match connect(&server_ws, &Credential::Anonymous).await {
        Ok(socket) => {
            socket.close().await;
            "101".to_string()
        }
        Err(status) => status.to_string(),
    };
    cells.push((
        "anon".into(),
        "live upgrade".into(),
        Cell {
            request: "GET /api/v1/live (websocket)".into(),
            expected: vec!["401".into()],
            got,
            problems: vec![],
        },
    ));
    cells
}

/// The ingest socket: allowed principals get the upgrade (101).
async fn ingest_socket(ws: &str, p: &Principal) -> Cell {
    let expected: Vec<String> = p
        .expect(Perm::Ingest, None, "404")
        .into_iter()
        .map(|s| if s == "200" { "101".to_string() } else { s })
        .collect();
    let got = match connect(ws, &p.credential).await {
        Ok(socket) => {
            socket.close().await;
            "101".to_string()
        }
        Err(status) => status.to_string(),
    };
    Cell {
        request: "GET /api/v1/ingest (websocket)".into(),
        expected,
        got,
        problems: vec![],
    }
}

/// After a log-out, an open live socket is told and closed with 4401.
async fn signed_out_watch(mut socket: RawSocket) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut told = false;
    while Instant::now() < deadline {
        match socket.next(Duration::from_secs(5)).await {
            Next::Text(text) => {
                let frame: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                if frame["type"] == "error"
                    && frame["message"]
                        .as_str()
                        .is_some_and(|m| m.starts_with("signed out"))
                {
                    told = true;
                }
            }
            Next::Closed(Some((code, _))) => {
                return if told {
                    code.to_string()
                } else {
                    format!("{code}-untold")
                };
            }
            Next::Closed(None) => return "dropped".into(),
            Next::Timeout => break,
        }
    }
    "open".into()
}

#[test]
fn every_endpoint_and_subscription_against_every_role_inside_and_outside_its_subtree() {
    let started = Instant::now();
    let mut laps = Laps::default();
    // Built (or found up to date) first, so the laps below time the test, not the build.
    floorwatch_tests::binary("floorwatch");
    laps.mark("cargo build");
    let temp = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let config = write_config(temp.path());
    let data = temp.path().join("data");
    let users = users();
    let mut tokens = BTreeMap::new();
    for user in &users {
        tokens.insert(user.name, create_account(&data, &config, user));
    }
    // A screen paired on the command line (the code flow is tests/tests/signin.rs's).
    let device = floorwatch_tests::floorwatch_ok(
        &data,
        &[
            "device",
            "add",
            DEVICE.name,
            "--role",
            DEVICE.role.name(),
            "--scope",
            DEVICE.root,
            "--config",
            &config.to_string_lossy(),
        ],
        "",
    );
    laps.mark("accounts");
    let config_arg = config.to_string_lossy().into_owned();
    let server = Server::start_in(
        &data,
        &[
            "--clock",
            "events",
            "--config",
            &config_arg,
            "--ingest-token",
            INGEST_TOKEN,
            "--push-interval-ms",
            "50",
            // Every role's sockets come from this one test on 127.0.0.1, hundreds at once:
            // more than the per-address cap (64) lets one real client hold.
            "--max-connections-per-address",
            "0",
        ],
    );
    let url = server.url().to_string();
    laps.mark("server start");
    let ingest = Credential::Bearer(INGEST_TOKEN.into());
    let admin = Credential::Bearer(tokens["boss"].clone());

    // The morning, through the real ingest endpoint.
    let mut day = Day::morning();
    let body = day.take();
    let sent = body.lines().count();
    let answer = request(
        &url,
        "POST",
        "/api/v1/events",
        &ingest,
        Some(("application/x-ndjson", &body)),
    );
    assert_eq!(answer.status, 200, "feeding the morning: {}", answer.body);
    let accepted = answer.json().map(|v| v["accepted"].clone());
    assert_eq!(accepted, Some(json!(sent)), "{}", answer.body);

    // Every alert the rules raise: each agent on a long break, each queue with calls, each
    // team owning such a queue.
    let mut want: BTreeSet<String> = ON_BREAK.iter().map(|a| format!("agent:{a}")).collect();
    want.extend(QUEUES.iter().map(|(q, _, _)| format!("queue:{q}")));
    want.extend(["team:team_n1", "team:team_n2", "team:team_s1"].map(String::from));
    let deadline = Instant::now() + Duration::from_secs(10);
    let alerts = loop {
        let alerts = admin_alerts(&url, &admin);
        let scopes: BTreeSet<String> = alerts.iter().map(|(_, s, _)| s.clone()).collect();
        if want.is_subset(&scopes) {
            break alerts;
        }
        assert!(
            Instant::now() < deadline,
            "the alerts expected ({want:?}) were not all raised: {scopes:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let floor = Floor {
        alerts: alerts
            .iter()
            .map(|(id, s, _)| (id.clone(), s.clone()))
            .collect(),
        calls: QUEUES
            .iter()
            .flat_map(|(q, _, _)| (1..=3).map(move |n| (call_id(q, n), q.to_string())))
            .collect(),
    };

    laps.mark("morning and alerts");
    let mut principals = principals(&users, &tokens);
    principals.push(Principal {
        label: "wall/dev".into(),
        user: Some(DEVICE),
        credential: Credential::Device(format!("{DEVICE_COOKIE}={}", device.trim())),
    });
    let labels: Vec<String> = principals.iter().map(|p| p.label.clone()).collect();
    let mut matrix = Matrix::new(&labels);

    // Sign-ins: every password user; refused alike for a wrong password, an unknown user and
    // an ingest account (tokens only).
    for p in principals.iter_mut().filter(|p| p.is_cookie()) {
        let Some(user) = p.user.clone() else { continue };
        let (cookie, cell) = sign_in(&url, user.name, user.password.unwrap_or_default(), true);
        matrix.record(&p.label, "POST session (sign in)", cell);
        p.credential = Credential::Cookie(cookie.unwrap_or_else(|| format!("{COOKIE}=none")));
    }
    let (_, cell) = sign_in(&url, "lead-tn1", "not-the-password-9", false);
    matrix.record("anon", "POST session (sign in)", cell);
    let (_, cell) = sign_in(&url, "nobody-here", "some-password-123", false);
    matrix.record("anon", "POST session unknown user", cell);
    let (_, cell) = sign_in(&url, "switch", "any-password-4567", false);
    matrix.record("ingest/tok", "POST session (sign in)", cell);

    laps.mark("sign-ins");
    // Every HTTP probe.
    for p in &principals {
        for probe in http_probes(p, &floor) {
            let (cell, _) = run_probe(&url, p, &probe);
            matrix.record(&p.label, &probe.name, cell);
        }
    }
    run_acks(&url, &principals, &admin, &mut matrix);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
    let ingest_ws = server.ws_url("/api/v1/ingest");
    for p in &principals {
        let cell = runtime.block_on(ingest_socket(&ingest_ws, p));
        matrix.record(&p.label, "ws ingest", cell);
    }

    laps.mark("http");
    // The live socket; and one socket per session, kept open for the log-out below.
    let live_ws = server.ws_url("/api/v1/live");
    let cells = runtime.block_on(run_live(
        live_ws.clone(),
        url.clone(),
        principals.clone(),
        day,
        floor.alerts.clone(),
    ));
    for (principal, probe, cell) in cells {
        matrix.record(&principal, &probe, cell);
    }
    let watchers: Vec<(usize, Option<RawSocket>)> = runtime.block_on(async {
        let mut out = Vec::new();
        for (i, p) in principals.iter().enumerate().filter(|(_, p)| p.signs_out()) {
            let socket = match connect(&live_ws, &p.credential).await {
                Ok(mut socket) => {
                    let entry = p.root().to_string();
                    socket
                        .send(&json!({ "subscribe": [entry] }).to_string())
                        .await;
                    Some(socket)
                }
                Err(_) => None,
            };
            out.push((i, socket));
        }
        out
    });

    laps.mark("live");
    // Signing out, last: the session ends everywhere at once.
    for (i, socket) in watchers {
        let p = &principals[i];
        let answer = request(&url, "DELETE", "/api/v1/session", &p.credential, None);
        let mut problems = Vec::new();
        if answer.status == 204
            && !answer
                .set_cookie
                .iter()
                .any(|c| c.starts_with(&format!("{}=", p.cookie_name())) && c.contains("Max-Age=0"))
        {
            problems.push(format!(
                "the cookie was not cleared: {:?}",
                answer.set_cookie
            ));
        }
        matrix.record(
            &p.label,
            "DELETE session",
            Cell {
                request: "DELETE /api/v1/session".into(),
                expected: vec!["204".into()],
                got: answer.status.to_string(),
                problems,
            },
        );
        let got = match socket {
            Some(socket) => runtime.block_on(signed_out_watch(socket)),
            None => "no-socket".into(),
        };
        matrix.record(
            &p.label,
            "live after sign-out",
            Cell {
                request: "an open live socket when the session is signed out".into(),
                expected: vec!["4401".into()],
                got,
                problems: vec![],
            },
        );
        let after = request(&url, "GET", "/api/v1/session", &p.credential, None);
        matrix.record(
            &p.label,
            "GET session after sign-out",
            Cell {
                request: "GET /api/v1/session with the signed-out cookie".into(),
                expected: vec!["401".into()],
                got: after.status.to_string(),
                problems: vec![],
            },
        );
        let upgrade = match runtime.block_on(connect(&live_ws, &p.credential)) {
            Ok(socket) => {
                runtime.block_on(socket.close());
                "101".to_string()
            }
            Err(status) => status.to_string(),
        };
        matrix.record(
            &p.label,
            "live upgrade after sign-out",
            Cell {
                request: "GET /api/v1/live with the signed-out cookie".into(),
                expected: vec!["401".into()],
                got: upgrade,
                problems: vec![],
            },
        );
    }
    // Tokens and nobody: DELETE is for cookies; whatever it answers, never a 5xx, and the
    // token keeps working.
    for p in principals.iter().filter(|p| !p.signs_out()) {
        let answer = request(&url, "DELETE", "/api/v1/session", &p.credential, None);
        // The contract names only the cookie: without a session there is nothing to end, and
        // an idempotent 204 is as good as a refusal.
        let expected: Vec<String> = if p.credential == Credential::Anonymous {
            ["204", "401"].map(String::from).to_vec()
        } else {
            ["204", "400", "401", "403", "405"]
                .map(String::from)
                .to_vec()
        };
        let mut problems = Vec::new();
        if p.user.is_some() {
            let still = request(&url, "GET", "/api/v1/session", &p.credential, None);
            if still.status != 200 {
                problems.push(format!(
                    "the API token stopped working after DELETE /api/v1/session: {}",
                    still.status
                ));
            }
        }
        matrix.record(
            &p.label,
            "DELETE session",
            Cell {
                request: "DELETE /api/v1/session".into(),
                expected,
                got: answer.status.to_string(),
                problems,
            },
        );
    }

    laps.mark("sign-outs");
    let table = matrix.render();
    println!(
        "authorisation matrix: {} cells in {:.1} s ({})\n{table}",
        matrix.cells(),
        started.elapsed().as_secs_f64(),
        laps.render()
    );
    let failures = matrix.failures();
    assert!(
        failures.is_empty(),
        "{} of {} cells differ from the contract:\n{table}\n{}",
        failures.len(),
        matrix.cells(),
        matrix.report_failures()
    );
}
