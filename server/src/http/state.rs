//! What every request handler shares: [`AppState`], the services below the edge, each reached
//! through a method, never through a public field.
//!
//! Invariant: only the edge (`crate::http`) holds an `AppState`; the services below take what
//! they need as constructor arguments (the publisher, the recorder, the sources, the alert
//! senders), so nothing below the edge can reach everything.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::watch;

use crate::accounts::pairing::DeviceDesk;
use crate::accounts::session_file::SessionFile;
use crate::accounts::{Accounts, LoginGuard, Sessions};
use crate::cluster::status::NodeStatus;
use crate::config::Settings;
use crate::floor::SharedFloor;
use crate::journal::ReplayReport;
use crate::live::Clients;
use crate::recorder::{Pulse, RecorderHandle};
use crate::shutdown::Shutdown;
use crate::telemetry::Telemetry;

/// What every request handler shares (cheap to clone).
#[derive(Clone)]
pub(crate) struct AppState(Arc<Shared>);

/// The services an [`AppState`] is made of, as start-up hands them over.
pub(crate) struct Shared {
    pub(crate) settings: Settings,
    pub(crate) floor: SharedFloor,
    pub(crate) recorder: RecorderHandle,
    pub(crate) clients: Arc<Clients>,
    pub(crate) telemetry: Arc<Telemetry>,
    pub(crate) pulse: Arc<Pulse>,
    /// Completes when the server starts shutting down.
    pub(crate) shutdown: Shutdown,
    pub(crate) started: Instant,
    pub(crate) replay: ReplayReport,
    /// Cluster mode: where this node stands in the stream (docs/CLUSTER.md); `None` on a
    /// single node.
    pub(crate) cluster: Option<Arc<NodeStatus>>,
    /// The users and API tokens of the data dir (docs/SECURITY.md), re-read when changed.
    pub(crate) accounts: Arc<Accounts>,
    /// Signed-in sessions, kept in `session_file` too so that a restart signs nobody out.
    pub(crate) sessions: Mutex<Sessions>,
    /// `sessions.json` in the data dir ([`super::session::save_sessions`] writes it).
    pub(crate) session_file: SessionFile,
    /// Pairing requests of screens, and the paired screens seen since start.
    pub(crate) devices: DeviceDesk,
    /// Login lock-out and per-address rate limit.
    pub(crate) login_guard: Mutex<LoginGuard>,
    /// Bumped whenever a session ended and on every sweep: live sockets then check that their
    /// session or API token still works, and close with 4401 if not.
    pub(crate) sign_outs: watch::Sender<u64>,
}

impl AppState {
    /// The state of a server made of `shared`.
    pub(crate) fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }

    /// The settings the server started with.
    pub(crate) fn settings(&self) -> &Settings {
        &self.0.settings
    }

    /// The live floor.
    pub(crate) fn floor(&self) -> &SharedFloor {
        &self.0.floor
    }

    /// Where ingest hands its batches.
    pub(crate) fn recorder(&self) -> &RecorderHandle {
        &self.0.recorder
    }

    /// Cluster mode: this node's place in the stream.
    pub(crate) fn cluster(&self) -> Option<&NodeStatus> {
        self.0.cluster.as_deref()
    }

    /// The connected live clients.
    pub(crate) fn clients(&self) -> &Arc<Clients> {
        &self.0.clients
    }

    /// The server's counters.
    pub(crate) fn telemetry(&self) -> &Arc<Telemetry> {
        &self.0.telemetry
    }

    /// The floor's clock and the ingest times waiting for their push.
    pub(crate) fn pulse(&self) -> &Arc<Pulse> {
        &self.0.pulse
    }

    /// A listener for the server's shutdown.
    pub(crate) fn shutdown(&self) -> Shutdown {
        self.0.shutdown.clone()
    }

    /// When the server started.
    pub(crate) fn started(&self) -> Instant {
        self.0.started
    }

    /// What the journal's replay found at start.
    pub(crate) fn replay(&self) -> &ReplayReport {
        &self.0.replay
    }

    /// The accounts of the data dir.
    pub(crate) fn accounts(&self) -> &Arc<Accounts> {
        &self.0.accounts
    }

    /// The sessions, locked briefly (never across an await).
    pub(crate) fn sessions(&self) -> MutexGuard<'_, Sessions> {
        self.0.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The sessions' lock itself, for the writer of `sessions.json`.
    pub(crate) fn sessions_mutex(&self) -> &Mutex<Sessions> {
        &self.0.sessions
    }

    /// `sessions.json` in the data dir.
    pub(crate) fn session_file(&self) -> &SessionFile {
        &self.0.session_file
    }

    /// Pairing requests and the paired screens seen since start.
    pub(crate) fn devices(&self) -> &DeviceDesk {
        &self.0.devices
    }

    /// The login guard, locked briefly (never across an await).
    pub(crate) fn login_guard(&self) -> MutexGuard<'_, LoginGuard> {
        self.0.login_guard.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes whenever live sockets must check their credentials again.
    pub(crate) fn sign_outs(&self) -> watch::Receiver<u64> {
        self.0.sign_outs.subscribe()
    }

    /// Tells every live socket to check its credential again (a session ended, a screen was
    /// revoked, the sweep ran).
    pub(crate) fn tell_sign_outs(&self) {
        self.0.sign_outs.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The configured ingest token, if any.
    pub(crate) fn ingest_token(&self) -> Option<&str> {
        self.0.settings.ingest_token.as_ref().map(|t| t.expose())
    }

    /// Whether the recorder still takes batches.
    pub(crate) fn recorder_running(&self) -> bool {
        self.0.recorder.is_running()
    }
}
