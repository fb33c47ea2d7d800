//! The end-to-end harness: real `floorwatch` processes on 127.0.0.1, real HTTP and websocket
//! clients. Used by the server's tests and meant for the simulator-replay and browser tests.
//!
//! ```no_run
//! use floorwatch_tests::{Board, LiveClient, Server};
//! # async fn demo() {
//! let server = Server::start(&["--clock", "events"]);          // fresh temp data dir, port 0
//! let reply = server.post_events("{...one event per line...}"); // IngestReply
//! let centre: serde_json::Value = server.get_json("/api/v1/metrics?scope=centre&window=today");
//! let mut live = LiveClient::connect(&server).await;
//! live.subscribe(&["centre", "queue:billing"], &["today"]).await;
//! let mut board = Board::default();
//! board.apply(&live.next_frame().await);                       // the snapshot
//! # }
//! ```
//!
//! How it finds the server: binaries are built once per test process ([`binary`]: `cargo
//! build -p PACKAGE --bin NAME` with the test's own profile, honouring `CARGO_TARGET_DIR` and
//! `CARGO`, the path read from cargo's JSON artifact messages). The server is started with
//! `--listen 127.0.0.1:0 --data-dir DIR` plus the test's arguments; once bound it prints one
//! line on stdout, `floorwatch listening on http://127.0.0.1:PORT (wallboard: ...)`, and the
//! harness takes the URL from it (waiting at most [`READY_TIMEOUT`]). The server's log
//! (stderr) goes to a file beside the data dir, shown by [`Server::logs`] and printed when a
//! test panics while a server runs.
//!
//! Every process is killed on drop ([`Server`] sends SIGKILL and waits), so a failing test
//! leaves nothing running. [`Server::kill_hard`] and [`Server::restart`] give the
//! crash-and-recover tests their SIGKILL and a restart on the same data dir.
//!
//! Nothing on a server is readable without credentials (docs/SECURITY.md). Before its first
//! start on a data dir the harness creates an admin, [`HARNESS_USER`], with the real command
//! line (`floorwatch user add` with the password on stdin, then `floorwatch token create`),
//! keeps the API token in the data dir ([`HARNESS_TOKEN_FILE`]) for restarts, and sends it as
//! `Authorization: Bearer` with every [`Server::get`], [`Server::post_with`] (but not to the
//! ingest endpoints, where an admin may not send: those keep the loopback rule or the
//! test's own token) and [`LiveClient::connect`]. Tests of other principals use
//! [`Server::add_user`], [`Server::create_token`], [`Server::get_as`],
//! [`Server::request`] and [`LiveClient::connect_as`].

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::Duration;

use floorwatch_core::alerts::Alert;
use floorwatch_core::wire::{IngestReply, LiveFrame, MinutePoint, Subscribe};
use floorwatch_core::{AgentView, Figures, Scope, Window};
use futures_util::{SinkExt, StreamExt};
use serde::de::DeserializeOwned;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

pub mod balancer;
pub mod nats;
pub mod tls;

/// How long a starting server may take to print its listening line.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long [`LiveClient::next_frame`] waits by default.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(10);
/// The admin the harness signs in as.
pub const HARNESS_USER: &str = "harness";
/// Its password (for tests that sign in with it).
pub const HARNESS_PASSWORD: &str = "harness password 1";
/// The file in the data dir keeping the harness admin's API token across restarts.
pub const HARNESS_TOKEN_FILE: &str = "harness-token";

/// The workspace root (where `cargo` is run from).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Runs `floorwatch-sim ARGS` to the end; panics with its output when it fails.
pub fn sim(args: &[&str]) -> std::process::Output {
    let output = Command::new(binary("floorwatch-sim"))
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("FLOORWATCH_INGEST_TOKEN")
        .output()
        .unwrap_or_else(|e| panic!("running floorwatch-sim: {e}"));
    assert!(
        output.status.success(),
        "floorwatch-sim {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Simulates one day per date of `scenario` (a preset name or a scenario file) into
/// `dir/DATE.ndjson`, seeded `first_seed`, `first_seed + 1`, ...; writes the organisation it
/// simulated to `dir/org.toml`. Returns the day files and the organisation's path.
pub fn simulate_days(
    scenario: &str,
    dates: &[&str],
    first_seed: usize,
    dir: &Path,
) -> (Vec<PathBuf>, PathBuf) {
    let days = dates
        .iter()
        .enumerate()
        .map(|(i, date)| {
            let file = dir.join(format!("{date}.ndjson"));
            let seed = (first_seed + i).to_string();
            let out = file.to_string_lossy().to_string();
            sim(&[
                "generate",
                "--scenario",
                scenario,
                "--date",
                date,
                "--seed",
                &seed,
                "-o",
                &out,
            ]);
            file
        })
        .collect();
    let config = dir.join("org.toml");
    std::fs::write(
        &config,
        sim(&["organisation", "--scenario", scenario]).stdout,
    )
    .unwrap_or_else(|e| panic!("writing {}: {e}", config.display()));
    (days, config)
}

/// The path of a workspace binary (`floorwatch`, `floorwatch-load`, `floorwatch-sim`), built
/// on first use in this test process with the profile the tests were built with.
pub fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(|| Mutex::new(HashMap::new()));
    let mut built = built.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    let package = match name {
        "floorwatch" => "floorwatch-server",
        "floorwatch-load" => "floorwatch-loadgen",
        "floorwatch-sim" => "floorwatch-sim",
        other => panic!("no workspace binary named `{other}` known to the harness"),
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace_root())
        .args(["build", "--message-format=json-render-diagnostics", "-p"])
        .args([package, "--bin", name]);
    if !cfg!(debug_assertions) {
        command.arg("--release");
    }
    let output = command
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("running cargo build for {name}: {e}"));
    if !output.status.success() {
        panic!(
            "cargo build -p {package} --bin {name} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let path = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo built {name} but named no executable"));
    built.insert(name.to_string(), path.clone());
    path
}

/// A program a test runs from Debian's packages (`nats-server`, `haproxy`), or a panic that
/// says how to install it.
pub fn installed(program: &str) -> PathBuf {
    ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"]
        .iter()
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.exists())
        .unwrap_or_else(|| {
            panic!(
                "{program} is not installed: run ./scripts/setup --for-tests (Debian's {program})"
            )
        })
}

/// A `floorwatch` server process. Killed (SIGKILL) on drop.
pub struct Server {
    child: Option<Child>,
    url: String,
    /// Holds the temporary data dir (and the logs) for the server's lifetime.
    _temp: Option<tempfile::TempDir>,
    data_dir: PathBuf,
    log_dir: PathBuf,
    args: Vec<String>,
    starts: usize,
    /// The harness admin's API token.
    token: String,
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    /// Every response header, names in lowercase, in order.
    pub headers: Vec<(String, String)>,
}

impl Reply {
    /// The body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not the JSON expected ({e}): {}", self.body))
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `fw_session` cookie value this answer sets, if any (empty when it clears it).
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .find_map(|(_, v)| v.strip_prefix("fw_session="))
            .map(|rest| rest.split(';').next().unwrap_or_default().to_string())
    }
}

/// The `Content-Type` an ingest endpoint takes (docs/SECURITY.md, "Browsers").
pub fn ingest_content_type(path: &str) -> Option<&'static str> {
    if path.starts_with("/api/v1/events") {
        Some("application/x-ndjson")
    } else if path.starts_with("/api/v1/import/queue-log") {
        Some("text/x-queue-log")
    } else {
        None
    }
}

/// Paths where events are sent: an admin may not send, so the harness's token stays off them.
fn is_ingest_path(path: &str) -> bool {
    path.starts_with("/api/v1/events")
        || path.starts_with("/api/v1/import/")
        || path.starts_with("/api/v1/ingest")
}

impl Server {
    /// Starts a server on a fresh temporary data dir with `args` (besides `--listen` and
    /// `--data-dir`, which the harness sets).
    pub fn start(args: &[&str]) -> Server {
        let temp = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let data_dir = temp.path().join("data");
        let log_dir = temp.path().to_path_buf();
        Server::launch(Some(temp), data_dir, log_dir, args)
    }

    /// Starts a server on a data dir the caller owns (kept after the server is gone).
    pub fn start_in(data_dir: &Path, args: &[&str]) -> Server {
        let log_dir = data_dir.parent().unwrap_or(data_dir).to_path_buf();
        Server::launch(None, data_dir.to_path_buf(), log_dir, args)
    }

    fn launch(
        temp: Option<tempfile::TempDir>,
        data_dir: PathBuf,
        log_dir: PathBuf,
        args: &[&str],
    ) -> Server {
        let token = harness_token(&data_dir);
        let mut server = Server {
            child: None,
            url: String::new(),
            _temp: temp,
            data_dir,
            log_dir,
            args: args.iter().map(|a| a.to_string()).collect(),
            starts: 0,
            token,
        };
        server.spawn();
        server
    }

    /// The harness admin's API token (`Authorization: Bearer TOKEN`).
    pub fn admin_token(&self) -> &str {
        &self.token
    }

    /// Adds a user with `floorwatch user add NAME --role ROLE [--scope SCOPE]` on the server's
    /// data dir (the password on stdin; none for an `ingest` account). Works while the server
    /// runs: it re-reads the accounts.
    pub fn add_user(&self, name: &str, role: &str, scope: Option<&str>, password: &str) {
        let mut args = vec!["user", "add", name, "--role", role];
        if let Some(scope) = scope {
            args.extend(["--scope", scope]);
        }
        let stdin = (role != "ingest").then(|| format!("{password}\n"));
        floorwatch_ok(&self.data_dir, &args, stdin.as_deref().unwrap_or(""));
    }

    /// A new API token of `user` (`floorwatch token create USER`).
    pub fn create_token(&self, user: &str) -> String {
        create_token(&self.data_dir, user)
    }

    /// Runs `floorwatch ARGS --data-dir DIR` (a `user`, `token` or `audit` command) and gives
    /// its stdout; panics if it fails.
    pub fn command(&self, args: &[&str]) -> String {
        floorwatch_ok(&self.data_dir, args, "")
    }

    fn spawn(&mut self) {
        self.starts += 1;
        let log_path = self.log_path();
        let log = std::fs::File::create(&log_path)
            .unwrap_or_else(|e| panic!("creating {}: {e}", log_path.display()));
        let mut child = Command::new(binary("floorwatch"))
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&self.data_dir)
            .args(&self.args)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting floorwatch: {e}"));
        let stdout = child.stdout.take();
        self.child = Some(child);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let Some(stdout) = stdout else { return };
            let mut tx = Some(tx);
            // Read to the end so the server never blocks on a full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("floorwatch listening on ")
                    && let Some(tx) = tx.take()
                {
                    let url = rest.split_whitespace().next().unwrap_or_default();
                    let _ = tx.send(url.to_string());
                }
            }
        });
        match rx.recv_timeout(READY_TIMEOUT) {
            Ok(url) => self.url = url,
            Err(_) => {
                let logs = self.logs();
                self.kill_hard();
                panic!("floorwatch did not report its address in time; its log:\n{logs}");
            }
        }
    }

    fn log_path(&self) -> PathBuf {
        self.log_dir.join(format!("floorwatch-{}.log", self.starts))
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `ws://127.0.0.1:PORT{path}`.
    pub fn ws_url(&self, path: &str) -> String {
        format!("{}{path}", self.url.replacen("http://", "ws://", 1))
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The current run's log (stderr).
    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// SIGKILL, as a crash would; waits for the process to be gone.
    pub fn kill_hard(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM (graceful shutdown) and waits up to `timeout` for the exit; SIGKILL after that.
    pub fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    /// Starts the server again on the same data dir with the same arguments (killing it
    /// first if it still runs). It gets a new port: read [`Server::url`] again.
    pub fn restart(&mut self) {
        self.kill_hard();
        self.spawn();
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Generous: under the full suite on two cores (browsers, replays, every request's
            // journal fsync) a server's first answer has taken 30 s; a hang still fails.
            .timeout_global(Some(Duration::from_secs(90)))
            .build()
            .into()
    }

    /// `GET path` as the harness admin.
    pub fn get(&self, path: &str) -> Reply {
        self.get_as(path, &self.token)
    }

    /// `GET path` with `Authorization: Bearer TOKEN`.
    pub fn get_as(&self, path: &str, token: &str) -> Reply {
        let bearer = format!("Bearer {token}");
        self.request("GET", path, None, &[("Authorization", &bearer)])
    }

    /// `GET path` with no credentials at all.
    pub fn get_anonymous(&self, path: &str) -> Reply {
        self.request("GET", path, None, &[])
    }

    /// Any request, with exactly the headers given (no credentials added) and an optional
    /// body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let method = ureq::http::Method::from_bytes(method.as_bytes())
            .unwrap_or_else(|e| panic!("method {method}: {e}"));
        let mut request = ureq::http::Request::builder()
            .method(method.clone())
            .uri(format!("{}{path}", self.url));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = match body {
            Some(body) => request
                .body(body.to_string())
                .map_err(|e| e.to_string())
                .and_then(|r| Server::agent().run(r).map_err(|e| e.to_string())),
            None => request
                .body(())
                .map_err(|e| e.to_string())
                .and_then(|r| Server::agent().run(r).map_err(|e| e.to_string())),
        }
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        read_reply(response, path)
    }

    /// `GET path` as the harness admin, for a file: its status, content type and bytes.
    pub fn get_bytes(&self, path: &str) -> (u16, Option<String>, Vec<u8>) {
        let request = ureq::http::Request::builder()
            .uri(format!("{}{path}", self.url))
            .header("Authorization", format!("Bearer {}", self.token))
            .body(())
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let mut response = Server::agent()
            .run(request)
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .unwrap_or_else(|e| panic!("reading the answer to {path}: {e}"));
        (response.status().as_u16(), kind, body)
    }

    /// `GET path`, which must answer 200 with JSON.
    pub fn get_json<T: DeserializeOwned>(&self, path: &str) -> T {
        let reply = self.get(path);
        assert_eq!(reply.status, 200, "GET {path}: {}", reply.body);
        reply.json()
    }

    /// `POST path` with `body` and extra headers; as the harness admin unless the headers
    /// carry their own `Authorization` or the path is an ingest endpoint. An ingest endpoint
    /// gets the `Content-Type` it takes (`application/x-ndjson`, `text/x-queue-log`) unless the
    /// headers carry their own.
    pub fn post_with(&self, path: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
        let has = |wanted: &str| {
            headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case(wanted))
        };
        let bearer = format!("Bearer {}", self.token);
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if !has("authorization") && !is_ingest_path(path) {
            all.push(("Authorization", &bearer));
        }
        if !has("content-type")
            && let Some(content_type) = ingest_content_type(path)
        {
            all.push(("Content-Type", content_type));
        }
        self.request("POST", path, Some(body), &all)
    }

    /// `POST /api/v1/events` (NDJSON or a JSON array), which must answer 200.
    pub fn post_events(&self, body: &str) -> IngestReply {
        let reply = self.post_with("/api/v1/events", body, &[]);
        assert_eq!(reply.status, 200, "POST /api/v1/events: {}", reply.body);
        reply.json()
    }

    /// The figures of `scope` over `window`, from `GET /api/v1/metrics`.
    pub fn figures(&self, scope: &str, window: &str) -> Figures {
        self.get_json(&format!("/api/v1/metrics?scope={scope}&window={window}"))
    }
}

fn read_reply(mut response: ureq::http::Response<ureq::Body>, path: &str) -> Reply {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    // Bytes, shown as text: a spreadsheet (XLSX) answer is read too, its bytes replaced where
    // they are not UTF-8 (a test that needs them reads the file itself).
    let body = response
        .body_mut()
        .read_to_vec()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_else(|e| panic!("reading the answer to {path}: {e}"));
    Reply {
        status,
        body,
        headers,
    }
}

/// The harness admin's token for `data_dir`: read back, or made on first use with the real
/// command line.
fn harness_token(data_dir: &Path) -> String {
    let file = data_dir.join(HARNESS_TOKEN_FILE);
    if let Ok(token) = std::fs::read_to_string(&file)
        && !token.trim().is_empty()
    {
        return token.trim().to_string();
    }
    let stdin = format!("{HARNESS_PASSWORD}\n");
    floorwatch_ok(
        data_dir,
        &["user", "add", HARNESS_USER, "--role", "admin"],
        &stdin,
    );
    let token = create_token(data_dir, HARNESS_USER);
    std::fs::write(&file, &token).unwrap_or_else(|e| panic!("writing {}: {e}", file.display()));
    token
}

fn create_token(data_dir: &Path, user: &str) -> String {
    let out = floorwatch_ok(data_dir, &["token", "create", user], "");
    let token = out.trim().to_string();
    assert!(token.starts_with("fw_"), "token create printed {out:?}");
    token
}

/// Runs the real `floorwatch ARGS --data-dir DIR` (the `user`, `token` and `audit`
/// subcommands) with `stdin` piped in (and closed, so a password is read as one line: no
/// terminal); its output, whatever the exit status.
pub fn run_floorwatch(data_dir: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(binary("floorwatch"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running floorwatch {args:?}: {e}"));
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(stdin.as_bytes())
            .unwrap_or_else(|e| panic!("writing to floorwatch {args:?}: {e}"));
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("running floorwatch {args:?}: {e}"))
}

/// [`run_floorwatch`] that must succeed: its stdout.
pub fn floorwatch_ok(data_dir: &Path, args: &[&str], stdin: &str) -> String {
    let out = run_floorwatch(data_dir, args, stdin);
    assert!(
        out.status.success(),
        "floorwatch {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::thread::panicking() && self.child.is_some() {
            eprintln!("--- floorwatch log ({}) ---\n{}", self.url, self.logs());
        }
        self.kill_hard();
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A websocket client of `/api/v1/live`.
pub struct LiveClient {
    socket: Socket,
}

/// What the live socket delivered next.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    Frame(LiveFrame),
    /// The server closed the connection (with its close frame, if any).
    Closed(Option<CloseFrame>),
}

impl LiveClient {
    /// Connects as the harness admin.
    pub async fn connect(server: &Server) -> LiveClient {
        LiveClient::connect_as(server, server.admin_token()).await
    }

    /// Connects with `Authorization: Bearer TOKEN`.
    pub async fn connect_as(server: &Server, token: &str) -> LiveClient {
        let bearer = format!("Bearer {token}");
        LiveClient::connect_with(server, &[("Authorization", &bearer)])
            .await
            .unwrap_or_else(|e| panic!("connecting the live socket: {e}"))
    }

    /// Connects with exactly the headers given (a cookie, an `Origin`, none at all); the
    /// refusal as text (with the HTTP status) when the server refuses the upgrade.
    pub async fn connect_with(
        server: &Server,
        headers: &[(&str, &str)],
    ) -> Result<LiveClient, String> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = server.ws_url("/api/v1/live");
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| format!("{url}: {e}"))?;
        for (name, value) in headers {
            let name =
                tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes())
                    .map_err(|e| e.to_string())?;
            let value = tokio_tungstenite::tungstenite::http::HeaderValue::from_str(value)
                .map_err(|e| e.to_string())?;
            request.headers_mut().insert(name, value);
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(LiveClient { socket }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(format!(
                "HTTP {}: {}",
                response.status().as_u16(),
                response
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default()
            )),
            Err(e) => Err(format!("connecting {url}: {e}")),
        }
    }

    /// Sends `{"subscribe": [...], "windows": [...]}`.
    pub async fn subscribe(&mut self, scopes: &[&str], windows: &[&str]) {
        let subscribe = Subscribe {
            subscribe: scopes
                .iter()
                .map(|s| s.parse().unwrap_or_else(|e| panic!("{s}: {e}")))
                .collect(),
            windows: windows
                .iter()
                .map(|w| w.parse().unwrap_or_else(|e| panic!("{w}: {e}")))
                .collect(),
        };
        let text = serde_json::to_string(&subscribe).unwrap_or_default();
        self.send_text(&text).await;
    }

    /// Sends any text message (for malformed-subscription tests).
    pub async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::text(text))
            .await
            .unwrap_or_else(|e| panic!("sending on the live socket: {e}"));
    }

    /// The next frame or the close, within `timeout`; panics on timeout.
    pub async fn receive(&mut self, timeout: Duration) -> Received {
        loop {
            let next = tokio::time::timeout(timeout, self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("no live frame within {timeout:?}"));
            match next {
                Some(Ok(Message::Text(text))) => {
                    let frame = serde_json::from_str(text.as_str())
                        .unwrap_or_else(|e| panic!("not a LiveFrame ({e}): {text}"));
                    return Received::Frame(frame);
                }
                Some(Ok(Message::Close(frame))) => return Received::Closed(frame),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Received::Closed(None),
            }
        }
    }

    /// The next frame within [`FRAME_TIMEOUT`]; panics if the socket closes.
    pub async fn next_frame(&mut self) -> LiveFrame {
        match self.receive(FRAME_TIMEOUT).await {
            Received::Frame(frame) => frame,
            Received::Closed(close) => panic!("the live socket closed: {close:?}"),
        }
    }

    /// Frames until one satisfies `done` (applying each to `board`), within `timeout`.
    pub async fn until(
        &mut self,
        board: &mut Board,
        timeout: Duration,
        mut done: impl FnMut(&Board) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + timeout;
        while !done(board) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.receive(left.max(Duration::from_millis(1))).await {
                Received::Frame(frame) => board.apply(&frame),
                Received::Closed(close) => panic!("the live socket closed: {close:?}"),
            }
        }
    }
}

/// A client's picture of the floor, built from live frames exactly as a wallboard would:
/// a snapshot replaces everything, a delta overwrites what it carries. Panics on a gap in
/// `seq`, which the protocol says must not happen.
#[derive(Debug, Default, Clone)]
pub struct Board {
    pub seq: u64,
    pub now: i64,
    pub snapshots: u64,
    pub deltas: u64,
    pub heartbeats: u64,
    pub errors: Vec<String>,
    pub figures: HashMap<(Scope, Window), Figures>,
    pub agents: BTreeMap<String, AgentView>,
    pub history: HashMap<Scope, Vec<MinutePoint>>,
    /// Alerts by id: a snapshot replaces them, a delta overwrites the ones it carries.
    pub alerts: BTreeMap<String, Alert>,
}

impl Board {
    pub fn apply(&mut self, frame: &LiveFrame) {
        let seq = frame.seq();
        assert_eq!(seq, self.seq + 1, "live frames skipped a seq: {frame:?}");
        self.seq = seq;
        match frame {
            LiveFrame::Snapshot {
                now,
                figures,
                agents,
                history,
                alerts,
                ..
            } => {
                self.snapshots += 1;
                self.alerts = alerts.iter().map(|a| (a.id.clone(), a.clone())).collect();
                self.now = *now;
                self.figures = figures
                    .iter()
                    .map(|f| ((f.scope.clone(), f.window), f.clone()))
                    .collect();
                self.agents = agents.iter().map(|a| (a.id.clone(), a.clone())).collect();
                self.history = history
                    .iter()
                    .map(|h| (h.scope.clone(), h.points.clone()))
                    .collect();
            }
            LiveFrame::Delta {
                now,
                figures,
                agents,
                history,
                alerts,
                ..
            } => {
                self.deltas += 1;
                for a in alerts {
                    self.alerts.insert(a.id.clone(), a.clone());
                }
                self.now = *now;
                for f in figures {
                    self.figures.insert((f.scope.clone(), f.window), f.clone());
                }
                for a in agents {
                    self.agents.insert(a.id.clone(), a.clone());
                }
                for h in history {
                    self.history
                        .entry(h.scope.clone())
                        .or_default()
                        .extend(h.points.iter().copied());
                }
            }
            LiveFrame::Heartbeat { now, .. } => {
                self.heartbeats += 1;
                self.now = *now;
            }
            LiveFrame::Error { message, .. } => self.errors.push(message.clone()),
        }
    }

    /// The figures of `scope` over `window`, as the board shows them.
    pub fn get(&self, scope: &str, window: &str) -> Option<&Figures> {
        let scope: Scope = scope.parse().ok()?;
        let window: Window = window.parse().ok()?;
        self.figures.get(&(scope, window))
    }
}

/// `floorwatch-sim ami-server` or `esl-server`: the fake Asterisk or FreeSWITCH the CTI tests
/// point a server's `asterisk-ami` or `freeswitch-esl` source at (docs/CTI.md, "The fake
/// switch", "The fake FreeSWITCH"). Killed (SIGKILL) on drop.
pub struct FakeSwitch {
    child: Option<Child>,
    addr: String,
}

impl FakeSwitch {
    /// Starts `floorwatch-sim ami-server --port 0` with `args` (scenario, date, seed, speed,
    /// credentials, drops) and waits for the address it prints first. Its log goes to stderr.
    pub fn start(args: &[&str]) -> FakeSwitch {
        FakeSwitch::start_kind("ami-server", args)
    }

    /// Starts `floorwatch-sim esl-server --port 0` (a fake FreeSWITCH) with `args`.
    pub fn start_esl(args: &[&str]) -> FakeSwitch {
        FakeSwitch::start_kind("esl-server", args)
    }

    fn start_kind(kind: &str, args: &[&str]) -> FakeSwitch {
        let mut child = Command::new(binary("floorwatch-sim"))
            .args([kind, "--port", "0"])
            .args(args)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting floorwatch-sim {kind}: {e}"));
        let stdout = child.stdout.take();
        let (tx, rx) = mpsc::channel();
        let prefix = format!("{kind} listening on ");
        std::thread::spawn(move || {
            let Some(stdout) = stdout else { return };
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix(prefix.as_str())
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(addr.trim().to_string());
                }
            }
        });
        let mut switch = FakeSwitch {
            child: Some(child),
            addr: String::new(),
        };
        match rx.recv_timeout(READY_TIMEOUT) {
            Ok(addr) => switch.addr = addr,
            Err(_) => panic!("floorwatch-sim {kind} did not report its address in time"),
        }
        switch
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {}", self.addr))
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

impl Drop for FakeSwitch {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
