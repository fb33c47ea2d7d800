//! Wiring: start-up (lock the data dir, replay the journal, start the recorder), the
//! background tasks (publisher, wall clock, demo, sources), and graceful shutdown.
//!
//! Data flows one way: sources → recorder (journal, then floor) → publisher → wallboards.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::accounts::session_file::SessionFile;
use crate::accounts::{Accounts, LoginGuard, LoginPolicy, SessionPolicy, Sessions};
use crate::alerts::{self, AlertDesk, Outbox};
use crate::config::{DataDir, Settings};
use crate::demo::{Demo, DemoLogins};
use crate::floor::{self, CATCH_UP_STEPS, SharedFloor};
use crate::horizon::ClockMode;
use crate::http::{self, AppState, Shared};
use crate::live::{Clients, Publisher};
use crate::recorder::{Pulse, Recorder};
use crate::shutdown::{Shutdown, Trigger};
use crate::sources;
use crate::telemetry::Telemetry;

/// Runs the server until SIGTERM or Ctrl-C. The one entry point `main` needs: it owns the
/// runtime, the server owns everything else.
pub async fn run(mut settings: Settings) -> anyhow::Result<()> {
    crate::heap::tune();
    let demo = if settings.demo {
        Some(Demo::prepare(&mut settings)?)
    } else {
        None
    };
    let data_dir = settings.data_dir.path().to_path_buf();
    if matches!(settings.data_dir, DataDir::Temporary(_)) {
        sweep_stale_demo_dirs(&data_dir);
    }
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating the data dir {}", data_dir.display()))?;
    let _lock = lock_data_dir(&data_dir)?;
    // Cluster mode: accounts, sessions, the audit trail and the claims on side effects live in
    // the cluster's JetStream (docs/CLUSTER.md, "Shared state"); else in the data dir.
    // One connection to the cluster's NATS servers serves the shared state and the stream.
    let nats = match &settings.cluster {
        Some(cluster) => Some(cluster.connect().await?),
        None => None,
    };
    let shared = join_cluster(&settings, &data_dir, nats.clone()).await?;
    let accounts = Arc::new(match &shared {
        Some(shared) => shared.accounts(&data_dir),
        None => Accounts::open(&data_dir),
    });
    crate::config_audit::audit_at_start(accounts.audit(), &data_dir, &settings);
    let demo_logins = prepare_accounts(&accounts, demo.is_some(), &data_dir).await?;

    let telemetry = Arc::new(Telemetry::new());
    let pulse = Arc::new(Pulse::default());
    let (desk, outbox) = open_alerts(&settings, &data_dir)?;
    let started = Instant::now();
    let trigger = Trigger::new();
    // A single node keeps its journal and records through its recorder; a cluster node
    // publishes to the stream and applies it (docs/CLUSTER.md).
    let (floor, recorder, engine, replay) = match settings.cluster.clone() {
        None => {
            let crate::start::Started {
                mut floor,
                journal,
                seen,
                days,
                lookout,
                replay,
                history_thread,
                checkpoints,
            } = crate::start::floor(&settings, &data_dir, desk, wall_ms())?;
            // The demo records its day up to now before the wall clock ticks (see
            // `wall_clock`).
            if settings.clock == ClockMode::Wall && !settings.demo {
                floor.tick(wall_ms());
            }
            pulse.set_clock(floor.now());
            let floor: SharedFloor = Arc::new(Mutex::new(floor));
            let (recorder, recorder_thread) = Recorder::new(
                journal,
                (seen, days),
                floor.clone(),
                telemetry.clone(),
                pulse.clone(),
                lookout,
            )
            .with_checkpoints(checkpoints)
            .spawn()
            .context("starting the recorder thread")?;
            let engine = Running::Single {
                recorder_thread,
                history_thread,
            };
            (floor, recorder, engine, replay)
        }
        Some(cluster) => {
            let client = match nats {
                Some(client) => client,
                None => cluster.connect().await?,
            };
            let connected = crate::cluster::node::connect(&cluster, client).await?;
            let node = crate::start::node_floor(
                &settings,
                &data_dir,
                desk,
                (wall_ms(), connected.stream_last),
            )?;
            let lateness = i64::try_from(settings.lateness.as_millis()).unwrap_or(i64::MAX);
            let node = crate::cluster::node::start(
                (connected, &cluster),
                node,
                (telemetry.clone(), pulse.clone()),
                lateness,
                trigger.subscribe(),
            )?;
            let replay = crate::journal::ReplayReport::default();
            (
                node.floor.clone(),
                node.recorder.clone(),
                Running::Node(Box::new(node)),
                replay,
            )
        }
    };
    let node_status = match &engine {
        Running::Node(node) => Some(node.status.clone()),
        Running::Single { .. } => None,
    };
    let clients = Arc::new(Clients::default());
    let listen = settings.listen;
    let session_policy = SessionPolicy {
        idle_timeout: settings.session_idle_timeout,
        longest: settings.session_max,
    };
    let session_file = match &shared {
        Some(shared) => SessionFile::shared(&data_dir, shared.sessions.clone()),
        None => SessionFile::new(&data_dir),
    };
    let sessions = load_sessions(&session_file, session_policy);
    let state = AppState::new(Shared {
        settings,
        floor,
        recorder,
        clients: clients.clone(),
        telemetry,
        pulse,
        shutdown: trigger.subscribe(),
        started,
        replay,
        cluster: node_status,
        accounts,
        sessions: Mutex::new(sessions),
        session_file,
        devices: Default::default(),
        login_guard: Mutex::new(match &shared {
            Some(shared) => LoginGuard::new(LoginPolicy::default()).told_by(shared.logins.teller()),
            None => LoginGuard::new(LoginPolicy::default()),
        }),
        sign_outs: watch::channel(0).0,
    });
    let settings = state.settings();
    if let Some(shared) = &shared {
        follow_cluster(shared, &state, &trigger);
    }

    let tls = crate::tls::server_config(settings.tls.as_ref())?;
    let https = tls.is_some();
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    let tls = tls.map(tokio_rustls::TlsAcceptor::from);
    announce(addr, https);
    if let Some(logins) = &demo_logins {
        logins.announce(&shown_url(addr, https));
    }
    if settings.ingest_token.is_none() {
        tracing::warn!(
            "no ingest token configured: ingest is accepted from loopback clients only \
             (set --ingest-token or FLOORWATCH_INGEST_TOKEN to accept other hosts)"
        );
    }

    let publisher = Publisher::new(
        clients.clone(),
        state.floor().clone(),
        state.telemetry().clone(),
        state.pulse().clone(),
        settings.push_interval,
        settings.slow_client_timeout,
    );
    let publisher = tokio::spawn(publisher.run(trigger.subscribe()));
    tokio::spawn(http::sweep(state.clone(), trigger.subscribe()));
    tokio::spawn(crate::heap::give_back_every(
        crate::heap::PERIOD,
        trigger.subscribe(),
    ));
    let calendar = settings.organisation.calendar()?;
    let senders = alerts::webhook::spawn_senders(
        &outbox,
        &settings.alerts.webhooks,
        &calendar,
        &settings.organisation.centre.id,
        shared.as_ref().map(|s| &s.effects),
        &trigger.subscribe(),
    )
    .map_err(anyhow::Error::msg)?;
    let digest = crate::digest::spawn(
        crate::digest::Start {
            digest: settings.digest.as_ref(),
            organisation: &settings.organisation,
            data_dir: settings.data_dir.path(),
            history: settings.history_days > 0,
            fsync: settings.fsync,
            audit: state.accounts().audit().clone(),
            effects: shared.as_ref().map(|s| s.effects.clone()),
        },
        state.pulse().clone(),
        state.telemetry().clone(),
        &trigger.subscribe(),
    )?;
    // With the demo, the wall clock waits until the simulated day up to now is recorded: its
    // tick would otherwise move the floor's clock to now first, making the morning late and
    // leaving its minutes out of the sparklines.
    let demo_caught_up = watch::Sender::new(demo.is_none());
    if let Running::Node(node) = &engine {
        if settings.clock == ClockMode::Wall {
            // The cluster's clock moves by ticks in the stream, from the lease holder.
            tokio::spawn(crate::cluster::clock::run(
                node.js.clone(),
                (node.status.node.clone(), node.servers),
                demo_caught_up.subscribe(),
                trigger.subscribe(),
            ));
        }
    } else if settings.clock == ClockMode::Wall {
        tokio::spawn(wall_clock(
            state.floor().clone(),
            state.pulse().clone(),
            demo_caught_up.subscribe(),
            trigger.subscribe(),
        ));
    }
    if let Some(demo) = demo {
        tokio::spawn(demo.run(
            state.recorder().clone(),
            trigger.subscribe(),
            demo_caught_up,
        ));
    }
    let source_tasks = sources::spawn(
        &settings.sources,
        &sources::SourceContext {
            organisation: settings.organisation.clone(),
            recorder: state.recorder().clone(),
            telemetry: state.telemetry().clone(),
            shutdown: trigger.subscribe(),
        },
    );

    crate::serve::serve(
        listener,
        tls,
        http::router(state.clone()),
        settings.connections,
        async {
            shutdown_signal().await;
            tracing::info!("shutting down: closing live clients, flushing the journal");
            trigger.fire();
        },
    )
    .await;
    trigger.fire();

    // The last activity of each session, for the next start.
    http::save_sessions(&state).await;
    // Websockets were handed off by the HTTP server; wait for them to send their close frames.
    clients.all_gone(Duration::from_secs(3)).await;
    let _ = publisher.await;
    for sender in senders.into_iter().chain(digest) {
        let _ = sender.await;
    }
    // Sources record what they hold before the recorder stops.
    for task in source_tasks {
        let _ = task.await;
    }
    let history_thread = match engine {
        Running::Single {
            recorder_thread,
            history_thread,
        } => {
            state.recorder().stop().await;
            let joined = tokio::task::spawn_blocking(move || recorder_thread.join()).await;
            if !matches!(joined, Ok(Ok(()))) {
                tracing::error!("the recorder thread ended abnormally");
            }
            history_thread
        }
        Running::Node(node) => node.stop().await,
    };
    // Every event is recorded: history writes the closes queued and stops. The quarter-hour
    // still open is not written; the next start replays it from the journal.
    floor::lock(state.floor()).stop_history();
    if let Some(thread) = history_thread {
        let joined = tokio::task::spawn_blocking(move || thread.join()).await;
        if !matches!(joined, Ok(Ok(()))) {
            tracing::error!("the history thread ended abnormally");
        }
    }
    if let DataDir::Temporary(dir) = &settings.data_dir {
        drop(_lock);
        match std::fs::remove_dir_all(dir) {
            Ok(()) => tracing::info!(dir = %dir.display(), "removed the demo's temporary data dir"),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "could not remove the demo's data dir")
            }
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// What applies events to the floor: a single node's recorder (and its journal), or a cluster
/// node (docs/CLUSTER.md).
enum Running {
    Single {
        recorder_thread: std::thread::JoinHandle<()>,
        history_thread: Option<std::thread::JoinHandle<()>>,
    },
    Node(Box<crate::cluster::node::Node>),
}

/// The sessions open at the last stop (or crash). A file that cannot be read is reported and
/// left for the next write to replace: everyone signs in again, nobody gets in who should not.
fn load_sessions(file: &SessionFile, policy: SessionPolicy) -> Sessions {
    match file.load(policy) {
        Ok(sessions) => {
            if !sessions.is_empty() {
                tracing::info!(sessions = sessions.len(), "sessions restored");
            }
            sessions
        }
        Err(e) => {
            tracing::warn!(error = %e, "the open sessions could not be read; everyone signs in again");
            Sessions::new(policy)
        }
    }
}

/// The alert desk of the configured rules, and the webhook outbox (what was pending at the last
/// stop is delivered first).
fn open_alerts(settings: &Settings, data_dir: &Path) -> anyhow::Result<(AlertDesk, Arc<Outbox>)> {
    let rules =
        floorwatch_core::alerts::Alerts::new(&settings.alerts.rules, &settings.organisation)
            .context("config: [alerts]")?;
    let dir = data_dir.join("alerts");
    let (outbox, report) = Outbox::open(&dir, &settings.alerts.webhooks, settings.fsync)?;
    if report.pending > 0 || report.dropped > 0 {
        tracing::info!(
            pending = report.pending,
            dropped_for_removed_webhooks = report.dropped,
            "webhook outbox read"
        );
    }
    if let Some(bytes) = report.torn_tail {
        tracing::warn!(bytes, "the webhook outbox's last line was torn; cut off");
    }
    for (line, reason) in report.bad_lines.iter().take(10) {
        tracing::error!(line, %reason, "damaged webhook outbox line skipped");
    }
    Ok((AlertDesk::new(rules).with_outbox(outbox.clone()), outbox))
}

/// One server per data dir: a second one would interleave journal writes.
pub(crate) fn lock_data_dir(dir: &Path) -> anyhow::Result<std::fs::File> {
    let path = dir.join("floorwatch.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another floorwatch server is using the data dir {}",
            dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
}

/// Removes the temporary data dirs of earlier demos that were killed before they could clean
/// up (their lock is free: no process holds it). Best effort: anything unexpected is left.
fn sweep_stale_demo_dirs(own: &Path) {
    let Some(parent) = own.parent() else { return };
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_demo = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(crate::config::DEMO_DIR_PREFIX));
        if !is_demo || path == own || !path.is_dir() {
            continue;
        }
        // A dir without a lock file may be a demo that is starting right now: leave it.
        let Ok(lock) = std::fs::File::open(path.join("floorwatch.lock")) else {
            continue;
        };
        if lock.try_lock().is_ok() && std::fs::remove_dir_all(&path).is_ok() {
            tracing::info!(dir = %path.display(), "removed a killed demo's temporary data dir");
        }
    }
}

/// Logs the wallboard's URL and prints it once to stdout: the line the README's command
/// shows, and the line test harnesses read to learn the port (`floorwatch listening on URL`).
fn announce(addr: SocketAddr, https: bool) {
    use std::io::Write;
    let url = shown_url(addr, https);
    tracing::info!(%addr, wallboard = %format!("{url}/"), "listening");
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "floorwatch listening on {url} (wallboard: {url}/)");
    let _ = stdout.flush();
}

/// The URL to tell people: the bound address, or this machine's loopback for a wildcard one.
fn shown_url(addr: SocketAddr, https: bool) -> String {
    let shown = if addr.ip().is_unspecified() {
        SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
    } else {
        addr
    };
    let scheme = if https { "https" } else { "http" };
    format!("{scheme}://{shown}")
}

/// Opens the cluster's shared state when the server runs as a node of one, and marks the data
/// dir so the account commands ask for `--cluster` (a start without `--cluster` unmarks it).
async fn join_cluster(
    settings: &Settings,
    data_dir: &Path,
    client: Option<async_nats::Client>,
) -> anyhow::Result<Option<crate::cluster::shared::SharedState>> {
    let (Some(cluster), Some(client)) = (&settings.cluster, client) else {
        // A single node again: its own files are the accounts now.
        let _ = std::fs::remove_file(data_dir.join(crate::cluster::CLUSTER_MARK));
        return Ok(None);
    };
    crate::cluster::shared::SharedState::mark(data_dir, cluster);
    // As for the event stream: JetStream may not answer yet (the NATS servers starting, a
    // leader being elected after one was lost), so the node waits for it, saying why.
    loop {
        match crate::cluster::shared::SharedState::open(&client, cluster, settings.session_max)
            .await
        {
            Ok(shared) => return Ok(Some(shared)),
            Err(e) => {
                tracing::warn!(error = %e, "the cluster's shared state is not answering yet; retrying in 1 s");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}

/// Applies the other nodes' session changes and login tries to this node's (a session ended
/// elsewhere closes its live sockets here at once).
fn follow_cluster(
    shared: &crate::cluster::shared::SharedState,
    state: &AppState,
    trigger: &Trigger,
) {
    let node = state.clone();
    let apply = move |change: crate::accounts::session::SessionChange| {
        let ended = matches!(
            change,
            crate::accounts::session::SessionChange::Ended { .. }
        );
        node.session_file().adopt(node.sessions_mutex(), change);
        if ended {
            node.tell_sign_outs();
        }
    };
    let guard = state.clone();
    let heard = move |user: &str, failed: bool| {
        guard.login_guard().heard(user, failed, Instant::now());
    };
    shared.spawn(apply, heard, trigger);
}

/// The demo's accounts (created on a data dir without users), or a warning when nobody can
/// sign in yet: nothing is readable without an account.
async fn prepare_accounts(
    accounts: &Arc<Accounts>,
    demo: bool,
    data_dir: &Path,
) -> anyhow::Result<Option<DemoLogins>> {
    let accounts = accounts.clone();
    let dir = data_dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        if demo {
            let logins = DemoLogins::prepare(&accounts, &dir)?;
            if logins.is_none() {
                tracing::info!(
                    "demo: this data dir has its own accounts; sign in with one of them"
                );
            }
            return Ok(logins);
        }
        if accounts.is_empty().context("reading the accounts")? {
            tracing::warn!(
                "no accounts yet: nobody can sign in and nothing can be read; create the first \
                 admin with `floorwatch user add admin --role admin --data-dir {}`",
                dir.display()
            );
        }
        Ok(None)
    })
    .await
    .context("preparing the accounts")?
}

/// In `--clock wall`, time moves on even when no event arrives: waits expire, rolling windows
/// slide, the day resets at the centre's midnight.
async fn wall_clock(
    floor: SharedFloor,
    pulse: Arc<Pulse>,
    mut demo_caught_up: watch::Receiver<bool>,
    mut shutdown: Shutdown,
) {
    tokio::select! {
        // An error: the demo stopped before catching up (it logged why); tick anyway.
        _ = demo_caught_up.wait_for(|done| *done) => {}
        () = shutdown.recv() => return,
    }
    let mut interval = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = interval.tick() => {
                // A clock that jumped (a suspended machine) is caught up in steps, so that
                // nobody waits for the floor's lock meanwhile.
                let now = wall_ms();
                loop {
                    let caught_up = {
                        let mut floor = floor::lock(&floor);
                        let done = floor.catch_up(now, CATCH_UP_STEPS);
                        if done {
                            floor.tick(now);
                            pulse.set_clock(floor.now());
                        }
                        done
                    };
                    if caught_up {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
            }
            () = shutdown.recv() => return,
        }
    }
}

fn wall_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
