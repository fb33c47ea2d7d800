//! What the authorisation tests share (issue 8): a two-site organisation with its own model of
//! the tree, the role table written out from docs/SECURITY.md, accounts made with the real
//! `floorwatch user`/`token` commands, a short day of events, raw HTTP and websocket clients
//! that send any credential (bearer token, session cookie or none), and the matrix that
//! reports which cells differ.
//!
//! The expectations here are derived on purpose without the server's code
//! (server/src/permission.rs): a test that asked the code under test what to expect could not
//! fail.

#![allow(dead_code)] // Each test file uses its own part of the kit.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use floorwatch_tests::floorwatch_ok;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// 2026-03-09T01:00:00Z, 09:00 in Shanghai: a multiple of the 10-second alert evaluation.
pub const BASE: i64 = 1_773_018_000_000;

/// The event source of every event the tests send.
pub const SOURCE: &str = "pbx-matrix";

// ---------------------------------------------------------------------------------------------
// The organisation and its model.
// ---------------------------------------------------------------------------------------------

/// Sites of the centre `hq`.
pub const SITES: [&str; 2] = ["site_n", "site_s"];
/// (group, site).
pub const GROUPS: [(&str, &str); 3] = [
    ("grp_n1", "site_n"),
    ("grp_n2", "site_n"),
    ("grp_s1", "site_s"),
];
/// (team, group).
pub const TEAMS: [(&str, &str); 5] = [
    ("team_n1", "grp_n1"),
    ("team_n2", "grp_n1"),
    ("team_n3", "grp_n2"),
    ("team_s1", "grp_s1"),
    ("team_s2", "grp_s1"),
];
/// (agent, display name, team).
pub const AGENTS: [(&str, &str, &str); 8] = [
    ("agt_n1a", "Nadia Novak", "team_n1"),
    ("agt_n1b", "Ned Nolan", "team_n1"),
    ("agt_n2a", "Nina Nash", "team_n2"),
    ("agt_n3a", "Noel Nye", "team_n3"),
    ("agt_s1a", "Sara Stone", "team_s1"),
    ("agt_s1b", "Sid Sharp", "team_s1"),
    ("agt_s2a", "Sue Swift", "team_s2"),
    ("agt_s2b", "Stan Shore", "team_s2"),
];
/// (queue, owner node, the agent who answers its calls: one inside the owner's subtree, so
/// a call never ties two subtrees together).
pub const QUEUES: [(&str, Option<&str>, &str); 7] = [
    ("que_tn1", Some("team:team_n1"), "agt_n1a"),
    ("que_tn2", Some("team:team_n2"), "agt_n2a"),
    ("que_gn1", Some("group:grp_n1"), "agt_n1b"),
    ("que_sn", Some("site:site_n"), "agt_n3a"),
    ("que_ts1", Some("team:team_s1"), "agt_s1a"),
    ("que_ss", Some("site:site_s"), "agt_s1b"),
    ("que_hq", None, "agt_s2a"),
];
/// Agents who go on a break long enough to raise a `not_ready_overrun` alert about them.
pub const ON_BREAK: [&str; 4] = ["agt_n1b", "agt_n2a", "agt_n3a", "agt_s2b"];

/// The server's config: the organisation above, and alert rules that raise an alert about
/// every queue with calls, every team owning such a queue, and every agent on a long break.
/// Rule scopes name no particular node, so the rule list itself says nothing about any subtree.
pub fn config_toml() -> String {
    let mut toml = String::from("[centre]\nid = \"hq\"\ntimezone = \"Asia/Shanghai\"\n");
    for site in SITES {
        let _ = write!(toml, "\n[[sites]]\nid = \"{site}\"\n");
        for (group, _) in GROUPS.iter().filter(|(_, s)| *s == site) {
            let _ = write!(toml, "\n[[sites.groups]]\nid = \"{group}\"\n");
            for (team, _) in TEAMS.iter().filter(|(_, g)| g == group) {
                let agents: Vec<String> = AGENTS
                    .iter()
                    .filter(|(_, _, t)| t == team)
                    .map(|(id, name, _)| format!("{{ id = \"{id}\", name = \"{name}\" }}"))
                    .collect();
                let _ = write!(
                    toml,
                    "\n[[sites.groups.teams]]\nid = \"{team}\"\nagents = [{}]\n",
                    agents.join(", ")
                );
            }
        }
    }
    for (queue, owner, _) in QUEUES {
        let _ = write!(toml, "\n[[queues]]\nid = \"{queue}\"\n");
        if let Some(owner) = owner {
            let _ = writeln!(toml, "owner = \"{owner}\"");
        }
    }
    toml.push_str(
        r#"
[alerts]
default_rules = false

[[alerts.rules]]
id = "breaks"
kind = "not_ready_overrun"
scope = "centre"
allowance_min = { break = 1 }

[[alerts.rules]]
id = "queue-busy"
metric = "offered"
scope = "every_queue"
window = "today"
comparison = "above"
warning = 0
hold_s = 0

[[alerts.rules]]
id = "team-busy"
metric = "offered"
scope = "every_team"
window = "today"
comparison = "above"
warning = 0
hold_s = 0
"#,
    );
    toml
}

/// The parent of a scope in the organisation (`None` for the centre and unknown scopes): an
/// agent belongs to their team, a queue to its owner (the centre when it has none).
pub fn parent(scope: &str) -> Option<String> {
    let (kind, id) = scope.split_once(':')?;
    match kind {
        "site" => SITES.contains(&id).then(|| "centre".to_string()),
        "group" => GROUPS
            .iter()
            .find(|(g, _)| *g == id)
            .map(|(_, s)| format!("site:{s}")),
        "team" => TEAMS
            .iter()
            .find(|(t, _)| *t == id)
            .map(|(_, g)| format!("group:{g}")),
        "agent" => AGENTS
            .iter()
            .find(|(a, _, _)| *a == id)
            .map(|(_, _, t)| format!("team:{t}")),
        "queue" => QUEUES
            .iter()
            .find(|(q, _, _)| *q == id)
            .map(|(_, owner, _)| owner.unwrap_or("centre").to_string()),
        _ => None,
    }
}

/// Whether the organisation has this scope.
pub fn known(scope: &str) -> bool {
    scope == "centre" || parent(scope).is_some()
}

/// Whether `scope` lies in the subtree rooted at `root` (itself included). Unknown scopes lie
/// nowhere.
pub fn inside(root: &str, scope: &str) -> bool {
    if !known(scope) {
        return false;
    }
    let mut at = Some(scope.to_string());
    while let Some(s) = at {
        if s == root {
            return true;
        }
        at = parent(&s);
    }
    false
}

/// Every node and queue of the organisation as a scope (the centre first).
pub fn all_scopes() -> Vec<String> {
    let mut all = vec!["centre".to_string()];
    all.extend(SITES.iter().map(|s| format!("site:{s}")));
    all.extend(GROUPS.iter().map(|(g, _)| format!("group:{g}")));
    all.extend(TEAMS.iter().map(|(t, _)| format!("team:{t}")));
    all.extend(AGENTS.iter().map(|(a, _, _)| format!("agent:{a}")));
    all.extend(QUEUES.iter().map(|(q, _, _)| format!("queue:{q}")));
    all
}

/// The bare id of a scope (`team:team_n1` → `team_n1`).
pub fn id_of(scope: &str) -> &str {
    scope.split_once(':').map_or(scope, |(_, id)| id)
}

/// The agents inside `root`.
pub fn agents_inside(root: &str) -> BTreeSet<String> {
    AGENTS
        .iter()
        .map(|(a, _, _)| *a)
        .filter(|a| inside(root, &format!("agent:{a}")))
        .map(str::to_string)
        .collect()
}

/// The queues inside `root`.
pub fn queues_inside(root: &str) -> BTreeSet<String> {
    QUEUES
        .iter()
        .map(|(q, _, _)| *q)
        .filter(|q| inside(root, &format!("queue:{q}")))
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Roles: the table of docs/SECURITY.md ("What each role may do") and issue 8, written out here.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Admin,
    Manager,
    Supervisor,
    TeamLead,
    WallDisplay,
    SecurityOfficer,
    Ingest,
}

impl Role {
    /// As the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Supervisor => "supervisor",
            Role::TeamLead => "team_lead",
            Role::WallDisplay => "wall_display",
            Role::SecurityOfficer => "security_officer",
            Role::Ingest => "ingest",
        }
    }
}

/// The functions a role may be granted (always over its subtree).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perm {
    ReadFigures,
    ReadAgents,
    ReadReports,
    SignOff,
    AcknowledgeAlerts,
    ReadCallers,
    Unmask,
    Export,
    ReadAudit,
    Ingest,
}

/// Issue 12: history's reports go to the people who run the floor (admin, manager,
/// supervisor, team lead), never to the wall; signing off a day is a manager's (and admin's).
/// Issue 8: admin does everything but sending events; manager (a site or the centre) reads,
/// acknowledges, reads and unmasks callers, exports; supervisor the same without export ("no
/// export without a separate permission"); team lead reads their team, its agents and calls
/// and acknowledges, but unmasks nothing; the wall display reads floor figures only; the
/// security officer reads the audit trail and operates nothing; ingest only sends events.
pub fn grants(role: Role, perm: Perm) -> bool {
    use Perm::*;
    //               figures agents reports sign-off ack callers unmask export audit ingest
    let row: [bool; 10] = match role {
        Role::Admin => [true, true, true, true, true, true, true, true, true, false],
        Role::Manager => [true, true, true, true, true, true, true, true, false, false],
        Role::Supervisor => [
            true, true, true, false, true, true, true, false, false, false,
        ],
        Role::TeamLead => [
            true, true, true, false, true, true, false, false, false, false,
        ],
        Role::WallDisplay => [
            true, false, false, false, false, false, false, false, false, false,
        ],
        Role::SecurityOfficer => [
            false, false, false, false, false, false, false, false, true, false,
        ],
        Role::Ingest => [
            false, false, false, false, false, false, false, false, false, true,
        ],
    };
    let column = match perm {
        ReadFigures => 0,
        ReadAgents => 1,
        ReadReports => 2,
        SignOff => 3,
        AcknowledgeAlerts => 4,
        ReadCallers => 5,
        Unmask => 6,
        Export => 7,
        ReadAudit => 8,
        Ingest => 9,
    };
    row[column]
}

// ---------------------------------------------------------------------------------------------
// Caller numbers.
// ---------------------------------------------------------------------------------------------

/// docs/SECURITY.md "Caller numbers": 11 characters or more keep the first three and the last
/// four; 5 to 10 keep the last two; 4 or fewer are all hidden. The length is kept.
pub fn mask(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    let n = chars.len();
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let shown = if n >= 11 {
                i < 3 || i >= n - 4
            } else if n >= 5 {
                i >= n - 2
            } else {
                false
            };
            if shown { *c } else { '*' }
        })
        .collect()
}

/// The id of call `n` of a queue: it names the queue, so a leaked call shows up as a leaked id.
pub fn call_id(queue: &str, n: u32) -> String {
    format!("{queue}-c{n}")
}

/// The caller number of call `n` of the queue at `index` in [`QUEUES`]: unique, 11 digits.
pub fn caller(index: usize, n: u32) -> String {
    format!("1390000{index:02}{n:02}")
}

// ---------------------------------------------------------------------------------------------
// Events.
// ---------------------------------------------------------------------------------------------

/// Events at seconds after [`BASE`], numbered by the order they are added (give them in time
/// order); `take` hands out an NDJSON body.
#[derive(Default)]
pub struct Day {
    seq: u64,
    lines: Vec<String>,
}

impl Day {
    pub fn push(&mut self, s: u32, kind: &str, fields: Value) -> &mut Day {
        self.seq += 1;
        let mut event = json!({
            "v": 1,
            "id": format!("matrix-{}", self.seq),
            "source": SOURCE,
            "seq": self.seq,
            "ts": BASE + i64::from(s) * 1000,
            "type": kind,
        });
        if let (Value::Object(event), Value::Object(fields)) = (&mut event, fields) {
            event.extend(fields);
        }
        self.lines.push(event.to_string());
        self
    }

    pub fn take(&mut self) -> String {
        std::mem::take(&mut self.lines).join("\n")
    }

    /// The morning: every agent signs in; each queue gets an answered call (c1), an abandoned
    /// one (c2) and one still waiting (c3), all with caller numbers; then some agents go on a
    /// break that overruns. The clock ends at +300 s, past every alert's raise.
    pub fn morning() -> Day {
        let mut day = Day::default();
        for (agent, _, team) in AGENTS {
            day.push(0, "agent_login", json!({ "agent": agent, "team": team }));
        }
        for (i, (queue, _, agent)) in QUEUES.iter().enumerate() {
            let s = 10 + 2 * i as u32;
            for n in 1..=3 {
                day.push(
                    s,
                    "call_entered_queue",
                    json!({ "call": call_id(queue, n), "queue": queue, "caller": caller(i, n) }),
                );
            }
            day.push(
                s + 1,
                "call_answered",
                json!({ "call": call_id(queue, 1), "agent": agent }),
            );
            day.push(
                s + 2,
                "call_abandoned",
                json!({ "call": call_id(queue, 2) }),
            );
        }
        for (i, (queue, _, agent)) in QUEUES.iter().enumerate() {
            let s = 40 + 2 * i as u32;
            day.push(
                s,
                "call_ended",
                json!({ "call": call_id(queue, 1), "agent": agent }),
            );
            day.push(
                s + 1,
                "call_after_call_work_ended",
                json!({ "call": call_id(queue, 1) }),
            );
        }
        for agent in ON_BREAK {
            day.push(
                60,
                "agent_state",
                json!({ "agent": agent, "state": "not_ready", "reason": "break" }),
            );
        }
        day.push(
            300,
            "agent_state",
            json!({ "agent": "agt_n1a", "state": "available" }),
        );
        day
    }

    /// Later in the day, at `s`: every agent changes state and each queue gets a new waiting
    /// call `n`, so every scope of the floor changes (and deltas follow).
    pub fn later(&mut self, s: u32, n: u32) -> String {
        for (agent, _, _) in AGENTS {
            let state = if n.is_multiple_of(2) {
                json!({ "agent": agent, "state": "available" })
            } else {
                json!({ "agent": agent, "state": "not_ready", "reason": "meeting" })
            };
            self.push(s, "agent_state", state);
        }
        for (i, (queue, _, _)) in QUEUES.iter().enumerate() {
            self.push(
                s + 1,
                "call_entered_queue",
                json!({ "call": call_id(queue, n), "queue": queue, "caller": caller(i, n) }),
            );
        }
        self.take()
    }
}

/// Every caller number the tests ever send (calls 1 to 9 of each queue).
pub fn every_caller() -> Vec<String> {
    (0..QUEUES.len())
        .flat_map(|i| (1..=9).map(move |n| caller(i, n)))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Accounts, with the real command line (docs/SECURITY.md "Command line").
// ---------------------------------------------------------------------------------------------

/// `floorwatch ARGS --data-dir DIR --config FILE` with `stdin`; panics unless it succeeds, and
/// returns its stdout.
pub fn floorwatch(data_dir: &Path, config: &Path, args: &[&str], stdin: &str) -> String {
    let config = config.to_string_lossy();
    let args: Vec<&str> = args.iter().copied().chain(["--config", &config]).collect();
    floorwatch_ok(data_dir, &args, stdin)
}

/// A user of the tests.
#[derive(Debug, Clone)]
pub struct User {
    pub name: &'static str,
    pub role: Role,
    /// The subtree the user holds, as a scope (`centre`, `site:ID`, ...).
    pub root: &'static str,
    /// `None` for ingest accounts (tokens only).
    pub password: Option<&'static str>,
}

/// `floorwatch user add` (password on stdin) and `floorwatch token create`; returns the token.
pub fn create_account(data_dir: &Path, config: &Path, user: &User) -> String {
    let mut args = vec!["user", "add", user.name, "--role", user.role.name()];
    if user.root != "centre" {
        args.extend(["--scope", user.root]);
    }
    let stdin = user.password.map(|p| format!("{p}\n")).unwrap_or_default();
    floorwatch(data_dir, config, &args, &stdin);
    let out = floorwatch(
        data_dir,
        config,
        &[
            "token",
            "create",
            user.name,
            "--label",
            "authorisation matrix",
        ],
        "",
    );
    let token = out.trim().to_string();
    assert!(
        token.starts_with("fw_"),
        "token create printed {out:?} for {}",
        user.name
    );
    token
}

/// Writes the config next to the data dir; returns its path.
pub fn write_config(dir: &Path) -> PathBuf {
    let path = dir.join("floorwatch.toml");
    std::fs::write(&path, config_toml())
        .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP with any credential.
// ---------------------------------------------------------------------------------------------

/// What a request carries to say who sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Anonymous,
    /// `Authorization: Bearer TOKEN`.
    Bearer(String),
    /// `Cookie: fw_session=…` (the whole `name=value`).
    Cookie(String),
    /// `Cookie: fw_device=…`: a paired screen's device credential (the whole `name=value`).
    Device(String),
}

impl Credential {
    fn header(&self) -> Option<(&'static str, String)> {
        match self {
            Credential::Anonymous => None,
            Credential::Bearer(token) => Some(("Authorization", format!("Bearer {token}"))),
            Credential::Cookie(cookie) | Credential::Device(cookie) => {
                Some(("Cookie", cookie.clone()))
            }
        }
    }
}

/// An HTTP answer with the headers the tests look at.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub set_cookie: Vec<String>,
    pub retry_after: Option<String>,
}

impl Answer {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// `METHOD base+path` with `credential` and, for POST, `body` (JSON unless `content_type`
/// says otherwise). Transport failures panic: the server must answer every request.
pub fn request(
    base: &str,
    method: &str,
    path: &str,
    credential: &Credential,
    body: Option<(&str, &str)>,
) -> Answer {
    let url = format!("{base}{path}");
    let header = credential.header();
    let agent = agent();
    let result = match method {
        "GET" | "DELETE" => {
            let mut builder = if method == "GET" {
                agent.get(&url)
            } else {
                agent.delete(&url)
            };
            if let Some((name, value)) = &header {
                builder = builder.header(*name, value.as_str());
            }
            builder.call()
        }
        "POST" => {
            let (content_type, text) = body.unwrap_or(("application/json", ""));
            let mut builder = agent.post(&url).header("Content-Type", content_type);
            if let Some((name, value)) = &header {
                builder = builder.header(*name, value.as_str());
            }
            builder.send(text)
        }
        other => panic!("no method {other} in the tests"),
    };
    let mut response = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = response.status().as_u16();
    let set_cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok().map(str::to_string));
    // Bytes shown as text: a spreadsheet (XLSX) answer is read too.
    let body = response
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_else(|e| panic!("reading the answer to {method} {path}: {e}"));
    Answer {
        status,
        body,
        set_cookie,
        retry_after,
    }
}

// ---------------------------------------------------------------------------------------------
// Raw websockets with any credential.
// ---------------------------------------------------------------------------------------------

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A websocket that hands out each text frame as it came (for scanning the raw JSON).
pub struct RawSocket {
    socket: Socket,
}

/// What a socket delivered next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    Text(String),
    /// Closed, with the close code and reason if the server sent a close frame.
    Closed(Option<(u16, String)>),
    Timeout,
}

/// Opens `url` with `credential`: `Err(status)` when the server refused the upgrade.
pub async fn connect(url: &str, credential: &Credential) -> Result<RawSocket, u16> {
    let mut request = url
        .into_client_request()
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    if let Some((name, value)) = credential.header() {
        let value = HeaderValue::from_str(&value).unwrap_or_else(|e| panic!("{name}: {e}"));
        request.headers_mut().insert(name, value);
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(RawSocket { socket }),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(e) => panic!("connecting {url}: {e}"),
    }
}

impl RawSocket {
    pub async fn send(&mut self, text: &str) {
        self.socket
            .send(Message::text(text))
            .await
            .unwrap_or_else(|e| panic!("sending on a websocket: {e}"));
    }

    pub async fn next(&mut self, timeout: Duration) -> Next {
        loop {
            let Ok(next) = tokio::time::timeout(timeout, self.socket.next()).await else {
                return Next::Timeout;
            };
            match next {
                Some(Ok(Message::Text(text))) => return Next::Text(text.as_str().to_string()),
                Some(Ok(Message::Close(frame))) => {
                    return Next::Closed(
                        frame.map(|f| (u16::from(f.code), f.reason.as_str().to_string())),
                    );
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Next::Closed(None),
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Leaks.
// ---------------------------------------------------------------------------------------------

/// The strings that must never reach a principal holding `root` (`None`: nothing may, an
/// anonymous client), with why: every id of a site, group, team, agent or queue outside the
/// subtree, the names of agents outside it, every caller number in full and, for a wall
/// display (`personal = false`), every agent's id and name.
pub fn forbidden(root: Option<&str>, personal: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for scope in all_scopes().into_iter().filter(|s| s != "centre") {
        let outside = root.is_none_or(|r| !inside(r, &scope));
        let agent = scope.starts_with("agent:");
        if outside || (agent && !personal) {
            let why = if outside {
                format!("`{scope}` lies outside the subtree")
            } else {
                "an agent id on a display without per-agent data".to_string()
            };
            out.push((id_of(&scope).to_string(), why));
        }
    }
    for (agent, name, _) in AGENTS {
        let outside = root.is_none_or(|r| !inside(r, &format!("agent:{agent}")));
        if outside || !personal {
            out.push((name.to_string(), format!("the name of agent {agent}")));
        }
    }
    for number in every_caller() {
        out.push((number, "a caller number in full".to_string()));
    }
    out
}

/// The forbidden strings found in `text` (after removing the `echo`ed request words, which a
/// refusal may repeat back).
pub fn leaks(text: &str, forbidden: &[(String, String)], echo: &[&str]) -> Vec<String> {
    let mut text = text.to_string();
    for word in echo {
        text = text.replace(word, "");
    }
    forbidden
        .iter()
        .filter(|(word, _)| text.contains(word.as_str()))
        .map(|(word, why)| format!("carries `{word}` ({why})"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The matrix.
// ---------------------------------------------------------------------------------------------

/// One cell: what was asked, the outcomes allowed, what happened, and what was wrong with a
/// successful answer's content.
#[derive(Debug, Clone)]
pub struct Cell {
    pub request: String,
    pub expected: Vec<String>,
    pub got: String,
    pub problems: Vec<String>,
}

impl Cell {
    pub fn passed(&self) -> bool {
        self.expected.contains(&self.got) && self.problems.is_empty()
    }
}

/// Principals (columns) by probes (rows).
#[derive(Debug, Default)]
pub struct Matrix {
    principals: Vec<String>,
    probes: Vec<String>,
    cells: BTreeMap<(String, String), Cell>,
}

impl Matrix {
    pub fn new(principals: &[String]) -> Matrix {
        Matrix {
            principals: principals.to_vec(),
            ..Matrix::default()
        }
    }

    /// Records a cell; a probe is listed in the order first recorded.
    pub fn record(&mut self, principal: &str, probe: &str, cell: Cell) {
        if !self.probes.iter().any(|p| p == probe) {
            // Beside its siblings (`… in`, `… out`, `… unknown`), whoever recorded one first.
            let family = |p: &str| match p.rsplit_once(' ') {
                Some((f, "in" | "out" | "unknown")) => f.to_string(),
                _ => p.to_string(),
            };
            let at = self
                .probes
                .iter()
                .rposition(|p| family(p) == family(probe))
                .map_or(self.probes.len(), |i| i + 1);
            self.probes.insert(at, probe.to_string());
        }
        let key = (principal.to_string(), probe.to_string());
        assert!(
            !self.cells.contains_key(&key),
            "cell {principal} × {probe} recorded twice"
        );
        self.cells.insert(key, cell);
    }

    pub fn cells(&self) -> usize {
        self.cells.len()
    }

    pub fn failures(&self) -> Vec<(&(String, String), &Cell)> {
        self.cells.iter().filter(|(_, c)| !c.passed()).collect()
    }

    /// The table: one line per probe, one column per principal; a cell shows what happened,
    /// and `!got≠expected` (or `!got*` for bad content) where it differs. `·`: not applicable.
    pub fn render(&self) -> String {
        let width = 12;
        let first = self
            .probes
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(5)
            .max(5)
            + 1;
        let mut out = format!("{:first$}", "probe");
        for p in &self.principals {
            let _ = write!(out, "{p:>width$}");
        }
        out.push('\n');
        for probe in &self.probes {
            let _ = write!(out, "{probe:first$}");
            for principal in &self.principals {
                let text = match self.cells.get(&(principal.clone(), probe.clone())) {
                    None => "·".to_string(),
                    Some(cell) if cell.passed() => cell.got.clone(),
                    Some(cell) if !cell.expected.contains(&cell.got) => {
                        format!("!{}≠{}", cell.got, cell.expected.join("|"))
                    }
                    Some(cell) => format!("!{}*", cell.got),
                };
                let _ = write!(out, "{text:>width$}");
            }
            out.push('\n');
        }
        out
    }

    /// Every failing cell in words.
    pub fn report_failures(&self) -> String {
        let mut out = String::new();
        for ((principal, probe), cell) in self.failures() {
            let _ = writeln!(
                out,
                "- {principal} × {probe}: {} → expected {}, got {}",
                cell.request,
                cell.expected.join(" or "),
                cell.got
            );
            for problem in &cell.problems {
                let _ = writeln!(out, "    {problem}");
            }
        }
        out
    }
}

/// How long each phase of a test took.
pub struct Laps {
    last: std::time::Instant,
    laps: Vec<(&'static str, Duration)>,
}

impl Default for Laps {
    fn default() -> Self {
        Laps {
            last: std::time::Instant::now(),
            laps: Vec::new(),
        }
    }
}

impl Laps {
    /// Ends the phase `name`, begun at the previous mark.
    pub fn mark(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        self.laps.push((name, now - self.last));
        self.last = now;
    }

    pub fn render(&self) -> String {
        self.laps
            .iter()
            .map(|(name, d)| format!("{name} {:.1} s", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The first `n` characters of `text`, for messages.
pub fn excerpt(text: &str, n: usize) -> String {
    let cut: String = text.chars().take(n).collect();
    if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_of_the_tree_matches_the_config() {
        assert!(inside("site:site_n", "queue:que_gn1"));
        assert!(inside("team:team_n1", "agent:agt_n1b"));
        assert!(!inside("team:team_n1", "queue:que_gn1"));
        assert!(!inside("site:site_n", "queue:que_hq"));
        assert!(inside("centre", "queue:que_hq"));
        assert!(!inside("centre", "team:team_zz"));
        assert_eq!(mask("13900000301"), "139****0301");
        assert_eq!(mask("87654321"), "******21");
    }

    /// The leak check looks for bare ids in raw text: no id may be part of another, or of a
    /// word every answer holds.
    #[test]
    fn the_forbidden_words_are_distinct_and_say_what_they_should() {
        let ids: Vec<String> = all_scopes()
            .iter()
            .filter(|s| *s != "centre")
            .map(|s| id_of(s).to_string())
            .collect();
        for a in &ids {
            for b in &ids {
                assert!(a == b || !b.contains(a.as_str()), "{a} is part of {b}");
            }
        }
        let words = |root: Option<&str>, personal| -> Vec<String> {
            forbidden(root, personal)
                .into_iter()
                .map(|(w, _)| w)
                .collect()
        };
        let lead = words(Some("team:team_n1"), true);
        for word in [
            "team_n2",
            "grp_n1",
            "site_n",
            "que_gn1",
            "Sara Stone",
            "13900000001",
        ] {
            assert!(lead.iter().any(|w| w == word), "{word}");
        }
        for word in ["team_n1", "agt_n1a", "Nadia Novak", "que_tn1"] {
            assert!(!lead.iter().any(|w| w == word), "{word}");
        }
        let wall = words(Some("site:site_n"), false);
        assert!(wall.iter().any(|w| w == "Nadia Novak") && wall.iter().any(|w| w == "agt_n1a"));
        assert!(!wall.iter().any(|w| w == "que_gn1"));
        let found = leaks(
            r#"{"scope":"team:team_n2","name":"x"}"#,
            &forbidden(Some("team:team_n1"), true),
            &[],
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            leaks(
                "`team:team_n2` is outside",
                &forbidden(Some("team:team_n1"), true),
                &["team:team_n2"]
            )
            .is_empty()
        );
    }
}
