//! What the wallboard's browser tests share: the bundle, a headless Chromium driven over
//! WebDriver, a reconnectable front door for server restarts, and a small floor of events.
//!
//! The browser is Debian's `chromium` with its `chromedriver` (`scripts/install-browser`);
//! nothing here downloads a browser. Each browser gets its own profile directory and its own
//! chromedriver (started on a free port it reports itself), killed with its process group on
//! drop, so a failing test leaves no browser behind.

#![allow(dead_code)] // Each test file uses its own part of the kit.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use floorwatch_core::{Figures, QueueView, Scope};
use floorwatch_tests::{Server, workspace_root};
use serde_json::{Value, json};

/// How long a page may take to show what a test waits for.
pub const PAGE_TIMEOUT: Duration = Duration::from_secs(20);

/// Set by `./scripts/test` once its own `cargo xtask dist` has passed: every browser test
/// binary then serves that bundle instead of building it again (wasm-bindgen, wasm-opt and the
/// pre-compressed copies cost about a minute each time on the 2-core CI machine).
const BUNDLE_BUILT_ENV: &str = "FLOORWATCH_BUNDLE_BUILT";

/// The wallboard bundle (`target/dist`), built once per test process by `cargo xtask dist`,
/// which also fails when the bundle is over its size limit; or the one `./scripts/test` built
/// just before ([`BUNDLE_BUILT_ENV`]).
pub fn bundle() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = workspace_root();
            let dist = root.join("target").join("dist");
            if std::env::var_os(BUNDLE_BUILT_ENV).is_some() && dist.join("index.html").is_file() {
                return dist;
            }
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let output = Command::new(cargo)
                .current_dir(&root)
                .args(["run", "--quiet", "--package", "xtask", "--", "dist"])
                .output()
                .unwrap_or_else(|e| panic!("running cargo xtask dist: {e}"));
            assert!(
                output.status.success(),
                "cargo xtask dist failed:\n{}\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            root.join("target").join("dist")
        })
        .clone()
}

/// Server arguments that serve the bundle.
pub fn assets_args() -> Vec<String> {
    vec![
        "--assets".to_string(),
        bundle().to_string_lossy().into_owned(),
    ]
}

/// A server for a browser test: `--clock events` (the feed's times drive the floor), the
/// bundle, and the organisation in `config` if given.
pub fn wall_server(config: Option<&Path>) -> Server {
    let mut args = vec!["--clock".to_string(), "events".to_string()];
    if let Some(config) = config {
        args.push("--config".to_string());
        args.push(config.to_string_lossy().into_owned());
    }
    args.extend(assets_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(&args)
}

/// Where the tests leave their screenshots: `target/screenshots/`.
pub fn screenshots_dir() -> PathBuf {
    let dir = workspace_root().join("target").join("screenshots");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}

fn on_path(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!("`{name}` is not installed: run scripts/install-browser (Debian's chromium)")
        })
}

/// A headless Chromium at a fixed viewport, driven over WebDriver.
pub struct Browser {
    client: Option<Client>,
    _driver: Driver,
    _profile: tempfile::TempDir,
}

/// chromedriver and everything it starts (its own process group), killed on drop, even when
/// the session never started.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Browser {
    /// A browser whose viewport is exactly `width` x `height` CSS pixels, preferring `lang`.
    pub async fn open(width: u32, height: u32, lang: &str) -> Browser {
        let chromium = on_path("chromium");
        let mut command = Command::new(on_path("chromedriver"));
        command
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        // Its own process group, so that Drop can end chromedriver and the browser it started.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut driver = Driver(
            command
                .spawn()
                .unwrap_or_else(|e| panic!("starting chromedriver: {e}")),
        );
        let port = chromedriver_port(&mut driver.0);
        let profile = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    format!("--lang={lang}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": { "intl.accept_languages": lang },
                // Exact viewport: a window size would include the browser's own chrome.
                "mobileEmulation": {
                    "deviceMetrics": {
                        "width": width, "height": height, "pixelRatio": 1.0,
                        "touch": false, "mobile": false
                    }
                }
            }
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| panic!("starting a chromium session: {e}"));
        Browser {
            client: Some(client),
            _driver: driver,
            _profile: profile,
        }
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("browser already closed")
    }

    pub async fn goto(&self, url: &str) {
        self.client()
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) and returns its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client()
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Runs an asynchronous script: it ends by calling `arguments[arguments.length - 1]`.
    pub async fn js_async(&self, script: &str, args: Vec<Value>) -> Value {
        self.client()
            .execute_async(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Polls `script` until it returns something other than `null` or `false`, and returns it;
    /// panics after [`PAGE_TIMEOUT`] saying `what` was awaited and what the page showed.
    pub async fn wait_for(&self, what: &str, script: &str, args: Vec<Value>) -> Value {
        let deadline = Instant::now() + PAGE_TIMEOUT;
        loop {
            let value = self.js(script, args.clone()).await;
            if !matches!(value, Value::Null | Value::Bool(false)) {
                return value;
            }
            if Instant::now() > deadline {
                let page = self
                    .js("return document.body.innerText.slice(0, 3000)", vec![])
                    .await;
                panic!("timed out waiting for {what}; the page shows:\n{page}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the first element matching `css`.
    pub async fn click(&self, css: &str) {
        self.client()
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    /// Chooses the option of value `value` in the `<select>` matching `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.client()
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("choosing {value} in {css}: {e}"));
    }

    /// Writes a PNG of the viewport to `target/screenshots/NAME.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .client()
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("screenshot: {e}"));
        let path = screenshots_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    }

    /// Ends the session (chromedriver closes the browser); chromedriver goes on drop.
    /// Ends the session; first checks the console: the page must never have run into the
    /// server's Content-Security-Policy (issue 13 item 7: it allows the wallboard and nothing
    /// else, so a violation means the wallboard itself was cut short).
    pub async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let console = client.issue_cmd(BrowserLog).await;
            let _ = client.close().await;
            let console = console.unwrap_or_else(|e| panic!("reading the browser console: {e}"));
            let violations: Vec<&str> = console
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|entry| entry["message"].as_str())
                .filter(|m| m.contains("Content Security Policy") || m.contains("Refused to"))
                .collect();
            assert!(
                violations.is_empty(),
                "the page ran into the Content-Security-Policy:\n{}",
                violations.join("\n")
            );
        }
    }
}

/// chromedriver's browser console log (`goog:loggingPrefs` asks it to keep every entry).
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}

/// Reads chromedriver's "started successfully on port N." line.
fn chromedriver_port(driver: &mut Child) -> u16 {
    let stdout = driver.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        // Keep reading so chromedriver never blocks on a full pipe.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(port) = line
                .split("started successfully on port ")
                .nth(1)
                .and_then(|rest| rest.trim_end_matches('.').trim().parse::<u16>().ok())
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(port);
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("chromedriver did not report its port"))
}

/// A TCP front door on a fixed local port that forwards to the current server, so a page keeps
/// its origin while the server behind it restarts on a new port.
pub struct FrontDoor {
    addr: std::net::SocketAddr,
    target: Arc<Mutex<String>>,
    task: tokio::task::JoinHandle<()>,
}

impl FrontDoor {
    /// Forwards to `target` (`http://127.0.0.1:PORT`).
    pub async fn open(target: &str) -> FrontDoor {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("binding the front door: {e}"));
        let addr = listener.local_addr().expect("bound address");
        let target = Arc::new(Mutex::new(host_port(target)));
        let current = Arc::clone(&target);
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                let to = current.lock().unwrap_or_else(|p| p.into_inner()).clone();
                tokio::spawn(async move {
                    // A refused connection (server down) just closes the client's socket.
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&to).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        FrontDoor { addr, target, task }
    }

    /// `http://127.0.0.1:PORT` of the front door.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// New connections go to `target` from now on.
    pub fn point_to(&self, target: &str) {
        *self.target.lock().unwrap_or_else(|p| p.into_inner()) = host_port(target);
    }
}

impl Drop for FrontDoor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn host_port(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}

/// Events for the tests, one NDJSON line each, at fixed times on a fixed day: the server runs
/// with `--clock events`, so nothing moves unless a test posts more. Events may be added out of
/// order; [`Feed::take`] sorts them by time and numbers them.
pub struct Feed {
    seq: u64,
    /// The feed's clock, UTC ms: where [`Feed::event`] puts the next event.
    pub now: i64,
    pending: Vec<(i64, Value)>,
}

/// 2026-03-09T09:00:00Z: a Monday morning.
pub const DAY_START: i64 = 1_773_046_800_000;
pub const MINUTE: i64 = 60_000;

impl Feed {
    pub fn new(at: i64) -> Feed {
        Feed {
            seq: 0,
            now: at,
            pending: Vec::new(),
        }
    }

    /// Moves the feed's clock on by `seconds`.
    pub fn wait(&mut self, seconds: f64) -> &mut Feed {
        self.now += (seconds * 1000.0) as i64;
        self
    }

    /// Adds one event of `kind` with its fields at the feed's clock.
    pub fn event(&mut self, kind: &str, fields: Value) -> &mut Feed {
        self.at(self.now, kind, fields)
    }

    /// Adds one event of `kind` with its fields at `ts`.
    pub fn at(&mut self, ts: i64, kind: &str, fields: Value) -> &mut Feed {
        let mut event = json!({ "v": 1, "source": "wallboard-test", "ts": ts, "type": kind });
        if let (Value::Object(event), Value::Object(fields)) = (&mut event, fields) {
            event.extend(fields);
        }
        self.pending.push((ts, event));
        self
    }

    pub fn login(&mut self, agent: &str, team: &str) -> &mut Feed {
        self.event("agent_login", json!({ "agent": agent, "team": team }))
    }

    pub fn state_at(
        &mut self,
        ts: i64,
        agent: &str,
        state: &str,
        reason: Option<&str>,
    ) -> &mut Feed {
        let fields = match reason {
            Some(reason) => json!({ "agent": agent, "state": state, "reason": reason }),
            None => json!({ "agent": agent, "state": state }),
        };
        self.at(ts, "agent_state", fields)
    }

    pub fn state(&mut self, agent: &str, state: &str, reason: Option<&str>) -> &mut Feed {
        self.state_at(self.now, agent, state, reason)
    }

    /// `count` calls `PREFIX-0`, `PREFIX-1`, ... in billing, one a minute from `*at`, each
    /// answered by `agent` after `wait_s`, 40 s of talk and 5 s of wrap-up; `*at` moves past
    /// the last (the morning and the later calls of the resync and cluster-move tests).
    pub fn billing_calls(
        &mut self,
        (prefix, count): (&str, usize),
        agent: &str,
        at: &mut i64,
        wait_s: f64,
    ) -> &mut Feed {
        for n in 0..count {
            self.answered_call(
                &format!("{prefix}-{n}"),
                "billing",
                agent,
                *at,
                wait_s,
                Some(40.0),
                5.0,
            );
            *at += 60_000;
        }
        self
    }

    /// A call that enters `queue` at `start`, waits `wait_s`, and is answered by `agent`, who
    /// talks `talk_s` (`None`: still talking) and then wraps up for `acw_s`.
    #[allow(clippy::too_many_arguments)]
    pub fn answered_call(
        &mut self,
        call: &str,
        queue: &str,
        agent: &str,
        start: i64,
        wait_s: f64,
        talk_s: Option<f64>,
        acw_s: f64,
    ) -> &mut Feed {
        let ms = |s: f64| (s * 1000.0) as i64;
        let answered = start + ms(wait_s);
        self.at(
            start,
            "call_entered_queue",
            json!({ "call": call, "queue": queue, "caller": "13800001234" }),
        )
        .at(
            answered,
            "call_offered",
            json!({ "call": call, "agent": agent }),
        )
        .at(
            answered,
            "call_answered",
            json!({ "call": call, "agent": agent }),
        )
        .state_at(answered, agent, "on_call", None);
        if let Some(talk_s) = talk_s {
            let ended = answered + ms(talk_s);
            self.at(ended, "call_ended", json!({ "call": call, "agent": agent }))
                .state_at(ended, agent, "after_call_work", None)
                .at(
                    ended + ms(acw_s),
                    "call_after_call_work_ended",
                    json!({ "call": call }),
                )
                .state_at(ended + ms(acw_s), agent, "available", None);
        }
        self
    }

    /// A caller who enters `queue` at `start` and hangs up after `wait_s`.
    pub fn abandoned_call(
        &mut self,
        call: &str,
        queue: &str,
        start: i64,
        wait_s: f64,
    ) -> &mut Feed {
        self.at(
            start,
            "call_entered_queue",
            json!({ "call": call, "queue": queue }),
        )
        .at(
            start + (wait_s * 1000.0) as i64,
            "call_abandoned",
            json!({ "call": call }),
        )
    }

    /// A call that enters `queue` at `start` and is still waiting.
    pub fn waiting_call(&mut self, call: &str, queue: &str, start: i64) -> &mut Feed {
        self.at(
            start,
            "call_entered_queue",
            json!({ "call": call, "queue": queue }),
        )
    }

    /// The NDJSON body of everything added since the last call, in time order; the feed's
    /// clock moves to the last event.
    pub fn take(&mut self) -> String {
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_by_key(|(ts, _)| *ts);
        let mut lines = Vec::with_capacity(pending.len());
        for (ts, mut event) in pending {
            self.seq += 1;
            event["seq"] = json!(self.seq);
            event["id"] = json!(format!("wallboard-test-{}", self.seq));
            lines.push(event.to_string());
            self.now = self.now.max(ts);
        }
        lines.join("\n")
    }
}

/// A morning on a small floor, from 09:00 to 10:15: three queues, twelve agents in three teams,
/// 36 calls with waits from a few seconds to over a minute, a few abandons, one call in
/// progress, two callers waiting, and agents in every state, one of them on a break past its
/// allowance (30 minutes of a 15-minute break).
pub fn morning(feed: &mut Feed) -> String {
    let start = feed.now;
    let queues = ["billing", "support", "vip"];
    let teams = ["north", "south", "east"];
    let agents: Vec<String> = (1..=12).map(|i| format!("agent-{i:02}")).collect();
    for (i, agent) in agents.iter().enumerate() {
        feed.login(agent, teams[i % 3]);
    }
    let waits = [
        4.0, 9.0, 15.0, 35.0, 6.0, 12.0, 48.0, 3.0, 18.0, 25.0, 7.0, 11.0, 62.0,
    ];
    for n in 0..36 {
        let call = format!("call-{n:03}");
        let at = start + 90_000 * n as i64 + 1_000;
        if n % 9 == 4 {
            let wait = if n % 2 == 0 { 3.0 } else { 40.0 };
            feed.abandoned_call(&call, queues[n % 3], at, wait);
        } else {
            let talk = 60.0 + (n % 7) as f64 * 30.0;
            let wait = waits[n % waits.len()];
            feed.answered_call(
                &call,
                queues[n % 3],
                &agents[n % 12],
                at,
                wait,
                Some(talk),
                15.0,
            );
        }
    }
    let now = start + 75 * MINUTE;
    feed.state_at(start + 45 * MINUTE, "agent-01", "not_ready", Some("break"))
        .state_at(start + 60 * MINUTE, "agent-02", "not_ready", Some("meal"))
        .answered_call(
            "call-900",
            "vip",
            "agent-03",
            now - 3 * MINUTE,
            8.0,
            None,
            0.0,
        )
        .state_at(now - MINUTE, "agent-04", "after_call_work", None)
        .waiting_call("call-901", "support", now - 40_000)
        .waiting_call("call-902", "billing", now - 10_000)
        .state_at(now, "agent-05", "available", None);
    feed.take()
}

/// A lock that runs the browser tests of one test binary one at a time: each starts a server
/// and a browser, and two cores do not run several of both side by side within the timeouts.
pub async fn one_browser_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// Waits until the wall shows `scope` over `window` exactly as `GET /api/v1/metrics` reports
/// it: every tile's `data-value` equal to the API's field, and every tile's text equal to what
/// the dashboard's own formatting makes of the API's figures (the ticking longest wait aside).
pub async fn assert_wall_matches_api(
    browser: &Browser,
    server: &Server,
    scope: &str,
    window: &str,
) {
    use floorwatch_dashboard::figure::{self, Figure};

    let selected: Figures = server.figures(scope, window);
    let today: Figures = server.figures(scope, "today");
    let queues: Vec<QueueView> = server.get_json("/api/v1/queues");
    let parsed: Scope = scope.parse().unwrap_or_else(|e| panic!("{e}"));
    let settings = figure::settings_for(&parsed, &queues);
    let expected: Vec<(Figure, figure::Reading)> = Figure::WALL
        .into_iter()
        .map(|f| {
            (
                f,
                f.read(Some(&selected), Some(&today), &settings, selected.to),
            )
        })
        .collect();
    let wanted: serde_json::Map<String, Value> = expected
        .iter()
        .map(|(f, r)| (f.id().to_string(), json!(r.raw)))
        .collect();
    browser
        .wait_for(
            &format!("the wall to show {scope} over {window} as the API does: {wanted:?}"),
            "const [scope, wanted] = arguments;
             const tiles = Array.from(document.querySelectorAll('.tiles [data-figure]'));
             return tiles.length === Object.keys(wanted).length && tiles.every(t =>
                 t.dataset.scope === scope &&
                 (t.dataset.value === 'null'
                     ? wanted[t.dataset.figure] === 'null'
                     : Number(t.dataset.value) === Number(wanted[t.dataset.figure])));",
            vec![json!(scope), Value::Object(wanted)],
        )
        .await;
    let shown = browser
        .js(
            "const out = {};
             for (const t of document.querySelectorAll('.tiles [data-figure]'))
                 out[t.dataset.figure] = t.querySelector('.tile-value').textContent;
             return out;",
            vec![],
        )
        .await;
    for (figure, reading) in expected {
        if figure == Figure::LongestWait {
            continue; // It ticks: its start time was compared above.
        }
        let on_screen = shown[figure.id()].as_str();
        if figure.too_few_calls(Some(&selected)) {
            // Service level on too few calls reads as words, in the page's language.
            use floorwatch_dashboard::i18n::{Key, Lang};
            let words = Lang::ALL.map(|lang| lang.t(Key::NotEnoughCalls));
            assert!(
                on_screen.is_some_and(|s| words.contains(&s)),
                "{} of {scope} over {window}: {on_screen:?}",
                figure.id()
            );
            continue;
        }
        assert_eq!(
            on_screen,
            Some(reading.text.as_str()),
            "{} of {scope} over {window}",
            figure.id()
        );
    }
}

/// `data-conn` of the connection indicator: `connecting`, `live`, `reconnecting` or `stale`.
pub async fn wait_for_connection(browser: &Browser, state: &str) {
    browser
        .wait_for(
            &format!("the connection indicator to say {state}"),
            "return document.querySelector('[data-conn]')?.dataset.conn === arguments[0];",
            vec![json!(state)],
        )
        .await;
}

/// Signs in through the real sign-in page as `user`, if the page asks: waits for either the
/// sign-in form or a signed-in header, fills the form and submits it, and waits for the header
/// to name `user`. A page already signed in as `user` (the cookie survives `goto`) is left.
pub async fn sign_in(browser: &Browser, user: &str, password: &str) {
    let shown = browser
        .wait_for(
            "the sign-in page or a signed-in page",
            "if (document.querySelector('[data-form=signin] [data-control=user]')) return 'form';
             return document.querySelector('[data-user]')?.dataset.user || null;",
            vec![],
        )
        .await;
    if shown == json!(user) {
        return;
    }
    assert_eq!(shown, json!("form"), "signed in as someone else");
    submit_sign_in(browser, user, password).await;
    browser
        .wait_for(
            &format!("the header to name {user}"),
            "return document.querySelector('[data-user]')?.dataset.user === arguments[0];",
            vec![json!(user)],
        )
        .await;
}

/// Types `user` and `password` into the sign-in form and presses its button.
pub async fn submit_sign_in(browser: &Browser, user: &str, password: &str) {
    browser
        .js(
            "const form = document.querySelector('[data-form=signin]');
             form.querySelector('[data-control=user]').value = arguments[0];
             form.querySelector('[data-control=password]').value = arguments[1];",
            vec![json!(user), json!(password)],
        )
        .await;
    browser.click("[data-control=sign-in]").await;
}

/// Signs in as the harness's admin (`floorwatch_tests::HARNESS_USER`).
pub async fn sign_in_as_admin(browser: &Browser) {
    sign_in(
        browser,
        floorwatch_tests::HARNESS_USER,
        floorwatch_tests::HARNESS_PASSWORD,
    )
    .await;
}
