//! The publisher: it reads the floor once for every feed, diffs each feed, and queues one
//! shared frame per feed for its clients (a delta, or a snapshot for those that need one).
//!
//! When it reads: at least once per push interval (the wall clock moves windows on even
//! without events), and as soon as events change a quiet floor. A change is pushed at once when
//! the last push went out a push interval ago or more, else when that interval is over: a quiet
//! floor shows an event within milliseconds, a busy one is coalesced, however many events
//! arrive, to at most one delta per client per interval. A new subscription is served within
//! [`SNAPSHOT_GAP`], so the first figures after sign-in do not wait for a tick.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use floorwatch_core::{Millis, Scope};
use tokio::sync::mpsc::error::TrySendError;
use tokio::time::sleep_until;

use super::client::ClientSlot;
use super::clients::Clients;
use super::feed::{Feed, FeedKey, Readings, Update, VisibleAlert};
use super::frame::{FrameKind, Outgoing};
use crate::alerts::RECENT_MS;
use crate::floor::{self, LiveFloor, SharedFloor};
use crate::recorder::Pulse;
use crate::shutdown::Shutdown;
use crate::telemetry::{DropReason, Telemetry};

/// How soon after a (re)subscription its snapshot goes out at the latest: short enough not to
/// be felt, long enough that a wall of screens reconnecting after a restart is served in a few
/// reads rather than one read per screen.
const SNAPSHOT_GAP: Duration = Duration::from_millis(20);

/// Reads the floor once per push interval and queues each client's frame.
pub(crate) struct Publisher {
    clients: Arc<Clients>,
    floor: SharedFloor,
    telemetry: Arc<Telemetry>,
    pulse: Arc<Pulse>,
    push_interval: Duration,
    slow_client_timeout: Duration,
    /// The feeds in use, by their key's address ([`key_address`]).
    feeds: HashMap<usize, Feed>,
    /// The floor's version at the last reading.
    read_version: Option<u64>,
    sampled_agents: BTreeSet<Scope>,
    alerts: AlertCache,
}

impl Publisher {
    /// A publisher for `clients`, reading `floor` every `push_interval`; a client that could
    /// not take a resync for `slow_client_timeout` is disconnected.
    pub(crate) fn new(
        clients: Arc<Clients>,
        floor: SharedFloor,
        telemetry: Arc<Telemetry>,
        pulse: Arc<Pulse>,
        push_interval: Duration,
        slow_client_timeout: Duration,
    ) -> Publisher {
        Publisher {
            clients,
            floor,
            telemetry,
            pulse,
            push_interval,
            slow_client_timeout,
            feeds: HashMap::new(),
            read_version: None,
            sampled_agents: BTreeSet::new(),
            alerts: None,
        }
    }

    /// Publishes until shutdown: every push interval, and sooner on a change or a subscription
    /// (the module's doc says when).
    pub(crate) async fn run(mut self, mut shutdown: Shutdown) {
        let interval = self.push_interval;
        let pulse = self.pulse.clone();
        let clients = self.clients.clone();
        let mut last_read = Instant::now();
        // When the floor was last read for a push: a change waits for a push interval after it.
        let mut last_push: Option<Instant> = None;
        loop {
            let tick = last_read + interval;
            // When to read, and whether the read paces the next change (a snapshot for a new
            // subscriber does not: the others' next change still goes out at once).
            let (due, paces) = tokio::select! {
                () = shutdown.recv() => return,
                () = sleep_until(tick.into()) => (tick, true),
                () = pulse.changed() => {
                    if clients.len() == 0 {
                        // Nobody to tell: a replay with no screen open reads at ticks only.
                        continue;
                    }
                    let now = Instant::now();
                    (last_push.map_or(now, |at| (at + interval).max(now)).min(tick), true)
                }
                () = clients.subscribed() => {
                    ((last_read + SNAPSHOT_GAP).max(Instant::now()).min(tick), false)
                }
            };
            if due > Instant::now() {
                tokio::select! {
                    () = shutdown.recv() => return,
                    () = sleep_until(due.into()) => {}
                }
            }
            let pushed = self.publish();
            last_read = Instant::now();
            if pushed && paces {
                last_push = Some(last_read);
            }
        }
    }

    /// One reading and its frames; whether it read the floor or served a snapshot.
    ///
    /// Per client this is two pointer hashes and a `try_send` of a shared body: everything
    /// else (the read, the diff, the serialising) is per distinct subscription.
    fn publish(&mut self) -> bool {
        let (subscribed, snapshots_due) = self.subscribed();
        self.feeds.retain(|at, _| subscribed.contains_key(at));
        for (at, key) in &subscribed {
            self.feeds
                .entry(*at)
                .or_insert_with(|| Feed::new(key.clone()));
        }

        let readings = self.read();
        // Counted as a push whenever the floor was read for someone: reads, not frames, are
        // what cost (a read that finds no change for a feed still paces the next).
        let pushed = (readings.is_some() && !subscribed.is_empty()) || snapshots_due;
        let mut updates: HashMap<usize, Update> = match readings {
            Some(readings) => self
                .feeds
                .iter_mut()
                .map(|(at, feed)| (*at, feed.update(&readings)))
                .collect(),
            None => HashMap::new(),
        };
        // Nothing to tell anyone: no slot need be visited (a quiet tick costs nothing a client).
        updates.retain(|_, u| u.delta.is_some() || u.resync_all);
        let mut stuck = Vec::new();
        if !updates.is_empty() || snapshots_due {
            let now = Instant::now();
            for mut slot in self.clients.slots.iter_mut() {
                let id = *slot.key();
                let slot = slot.value_mut();
                let Some(at) = slot.feed.as_ref().map(key_address) else {
                    continue;
                };
                // A feed missing here: subscribed since the tick began, served next tick.
                let Some(feed) = self.feeds.get_mut(&at) else {
                    continue;
                };
                if deliver(
                    feed,
                    updates.get(&at),
                    slot,
                    now,
                    self.slow_client_timeout,
                    &self.telemetry,
                ) {
                    stuck.push(id);
                }
            }
        }
        for id in stuck {
            if let Some((_, slot)) = self.clients.slots.remove(&id) {
                self.telemetry.slow_clients_disconnected.inc();
                tracing::info!(
                    client = id,
                    "live client disconnected: it could not take a resync for the slow-client timeout"
                );
                slot.kick.notify_one();
            }
        }

        let accepted = self.pulse.take_accepted();
        if !subscribed.is_empty() {
            let now = Instant::now();
            for at in accepted {
                self.telemetry
                    .ingest_to_push_seconds
                    .observe(now.saturating_duration_since(at).as_secs_f64());
            }
        }
        pushed
    }

    /// The distinct subscriptions in use, by address, and whether any client waits for a
    /// snapshot (one pass over the clients, a pointer hash each).
    fn subscribed(&self) -> (HashMap<usize, Arc<FeedKey>>, bool) {
        let mut keys: HashMap<usize, Arc<FeedKey>> = HashMap::new();
        let mut snapshots_due = false;
        for slot in self.clients.slots.iter() {
            if let Some(key) = &slot.feed {
                keys.entry(key_address(key)).or_insert_with(|| key.clone());
                snapshots_due |= slot.resync.needs_snapshot();
            }
        }
        (keys, snapshots_due)
    }

    /// Reads everything the feeds need from the floor under one lock; `None` when nothing can
    /// have changed since the last reading and every feed has a state.
    fn read(&mut self) -> Option<Readings> {
        let keys: Vec<Arc<FeedKey>> = self.feeds.values().map(|f| f.key().clone()).collect();
        // The agent scopes anyone subscribes to (sampled for history while they do).
        let sampled: BTreeSet<Scope> = keys
            .iter()
            .flat_map(|key| key.figures.iter())
            .filter(|s| matches!(s, Scope::Agent(_)))
            .cloned()
            .collect();
        if keys.is_empty() && sampled == self.sampled_agents {
            // Nobody to read for: the floor's lock is left to the recorder (a replay with no
            // screen open cost a read of every alert and queue at each tick, issue 15).
            return None;
        }
        let mut floor = floor::lock(&self.floor);
        if sampled != self.sampled_agents {
            floor.sample_agent_scopes(sampled.clone());
            self.sampled_agents = sampled;
        }
        let version = floor.version();
        let all_ready = self.feeds.values().all(Feed::is_ready);
        if self.read_version == Some(version) && all_ready {
            return None;
        }
        self.read_version = Some(version);

        let mut readings = Readings {
            now: floor.now(),
            alerts: read_alerts(&mut self.alerts, &floor),
            stream_seq: floor.stream_position(),
            ..Readings::default()
        };
        // Queues only events named (not in the configured organisation) stay off the wall.
        let all = floor.queues();
        let unassigned = all.iter().filter(|q| q.unassigned).count();
        self.telemetry.unassigned_queues.set(unassigned as i64);
        let queues: Vec<_> = all.into_iter().filter(|q| !q.unassigned).collect();
        for key in &keys {
            if !readings.queues.contains_key(&key.within) {
                let inside = match &key.within {
                    None => Vec::new(),
                    Some(within) => queues
                        .iter()
                        .filter(|q| {
                            *within == Scope::Centre
                                || floor.contains(within, &Scope::Queue(q.id.clone())) == Some(true)
                        })
                        .cloned()
                        .collect(),
                };
                readings.queues.insert(key.within.clone(), inside);
            }
        }
        let names = floor.tree_names();
        for key in &keys {
            if !readings.names.contains_key(&key.within) {
                let inside = match &key.within {
                    None => Vec::new(),
                    Some(within) => names
                        .iter()
                        .filter(|(scope, _)| floor.contains(within, scope) == Some(true))
                        .cloned()
                        .collect(),
                };
                readings.names.insert(key.within.clone(), inside);
            }
        }
        let mut history_scopes = HashSet::new();
        let mut agent_scopes = HashSet::new();
        for key in &keys {
            for (scope, window) in key.figure_pairs() {
                let pair = (scope.clone(), window);
                if !readings.figures.contains_key(&pair)
                    && let Ok(figures) = floor.figures(scope, window)
                {
                    readings.figures.insert(pair, figures);
                }
            }
            history_scopes.extend(key.figures.iter().cloned());
            agent_scopes.extend(key.agents.iter().cloned());
        }
        for scope in history_scopes {
            let points = floor.history(&scope);
            readings.history.insert(scope, points);
        }
        for scope in agent_scopes {
            if let Ok(inside) = floor.agents_in(&scope) {
                readings.agents.insert(scope, inside);
            }
        }
        Some(readings)
    }
}

/// The alerts last read, by the book's version and the minute of the clock they were read at
/// (the last hour slides by the minute).
type AlertCache = Option<(u64, Millis, Arc<Vec<VisibleAlert>>)>;

/// Open alerts and those changed in the last hour, with the scopes that may see each; read
/// again only when the book changed or the clock moved to another minute.
fn read_alerts(cache: &mut AlertCache, floor: &LiveFloor) -> Arc<Vec<VisibleAlert>> {
    let version = floor.alerts_version();
    let minute = floor.now().div_euclid(floorwatch_core::time::MINUTE_MS);
    if let Some((v, m, alerts)) = cache
        && *v == version
        && *m == minute
    {
        return alerts.clone();
    }
    let alerts: Arc<Vec<VisibleAlert>> = Arc::new(
        floor
            .alerts()
            .alerts_since(floor.now() - RECENT_MS)
            .into_iter()
            .map(|alert| VisibleAlert {
                scopes: floor.alert_scopes(&alert),
                alert,
            })
            .collect(),
    );
    *cache = Some((version, minute, alerts.clone()));
    alerts
}

/// Queues what one client of `feed` needs this tick. Returns true if it has been stuck too
/// long (it could not take a resync for `slow_client_timeout`).
fn deliver(
    feed: &mut Feed,
    update: Option<&Update>,
    slot: &mut ClientSlot,
    now: Instant,
    slow_client_timeout: Duration,
    telemetry: &Telemetry,
) -> bool {
    let resync_all = update.is_some_and(|u| u.resync_all);
    if slot.resync.needs_snapshot() || resync_all {
        let Some(body) = feed.snapshot() else {
            return false;
        };
        let frame = Outgoing::Shared {
            generation: slot.resync.generation(),
            kind: FrameKind::Snapshot,
            body,
        };
        match slot.tx.try_send(frame) {
            Ok(()) => slot.resync.snapshot_queued(),
            Err(TrySendError::Full(_)) => {
                return slot.resync.snapshot_refused(now) > slow_client_timeout;
            }
            Err(TrySendError::Closed(_)) => {}
        }
    } else if let Some(body) = update.and_then(|u| u.delta.clone()) {
        let frame = Outgoing::Shared {
            generation: slot.resync.generation(),
            kind: FrameKind::Delta,
            body,
        };
        match slot.tx.try_send(frame) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                // Fallen behind: what is queued is stale now; resync with a snapshot.
                telemetry.frame_dropped(DropReason::QueueFull);
                slot.resync.delta_dropped(now);
            }
            Err(TrySendError::Closed(_)) => {}
        }
    }
    false
}

/// A subscription's address: keys are interned (`Clients::subscribe`), and a feed holds its
/// key, so the address names one subscription for as long as the feed exists.
fn key_address(key: &Arc<FeedKey>) -> usize {
    Arc::as_ptr(key) as usize
}
