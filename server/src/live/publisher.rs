//! The publisher: it reads the floor once for every feed, diffs each feed, and queues one
//! shared frame per feed for its clients (a delta, or a snapshot for those that need one).
//!
//! When it reads: at least once per push interval (the wall clock moves windows on even
//! without events), and as soon as events change a quiet floor. A change is pushed at once when
//! the last push went out a push interval ago or more, else when that interval is over: a quiet
//! floor shows an event within milliseconds, a busy one is coalesced, however many events
//! arrive, to at most one delta per client per interval. A new subscription is served within
//! [`SNAPSHOT_GAP`], so the first figures after sign-in do not wait for a tick.
//!
//! Many clients are served in turns ([`super::phases`]): past a thousand, each paced push goes
//! to one phase of them, the phases a fraction of the interval apart, and the floor is read
//! for that phase at its turn (a reading is shared by the phases served before the floor
//! changes again). A push then writes to hundreds of sockets, not to all of them, and no
//! client waits for the others' writes on top of the interval.

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
use super::phases::{CLIENTS_PER_PHASE, PhaseSet, Phases};
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
    /// The feeds in use, by phase and their key's address ([`key_address`]).
    feeds: HashMap<(u64, usize), PhaseFeed>,
    /// The last reading of the floor: the phases served after it, until the floor changes,
    /// are brought to it without reading again.
    reading: Option<Readings>,
    /// How many readings were taken: which one a feed was last brought to.
    readings_taken: u64,
    /// The floor's version at the last reading.
    read_version: Option<u64>,
    sampled_agents: BTreeSet<Scope>,
    alerts: AlertCache,
    /// Which clients each push serves.
    phases: Phases,
}

/// A feed of one phase, and the reading it was last brought to.
struct PhaseFeed {
    feed: Feed,
    reading: u64,
}

/// Why the publisher reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Push {
    /// The floor changed after a push interval of rest: every phase at once.
    Everyone,
    /// A tick, or a change under load: the phase whose turn it is.
    Turn,
    /// A client waits for a snapshot: its phase, without pacing the others.
    Snapshots,
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
            reading: None,
            readings_taken: 0,
            read_version: None,
            sampled_agents: BTreeSet::new(),
            alerts: None,
            phases: Phases::new(CLIENTS_PER_PHASE),
        }
    }

    /// The same publisher with phases of `clients` clients (tests with a handful).
    #[cfg(test)]
    fn with_clients_per_phase(mut self, clients: usize) -> Publisher {
        self.phases = Phases::new(clients);
        self
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
            // Each phase's turn comes once a push interval: one phase, every interval.
            let step = self.phases.step(interval);
            let tick = last_read + step;
            // When to read, and for whom (a snapshot for a new subscriber does not pace: the
            // others' next change still goes out at once).
            let (due, push) = tokio::select! {
                () = shutdown.recv() => return,
                () = sleep_until(tick.into()) => (tick, Push::Turn),
                () = pulse.changed() => {
                    if clients.len() == 0 {
                        // Nobody to tell: a replay with no screen open reads at ticks only.
                        continue;
                    }
                    let now = Instant::now();
                    let push = match last_push {
                        Some(at) if now < at + interval => Push::Turn,
                        _ => Push::Everyone,
                    };
                    (last_push.map_or(now, |at| (at + step).max(now)).min(tick), push)
                }
                () = clients.subscribed() => {
                    ((last_read + SNAPSHOT_GAP).max(Instant::now()).min(tick), Push::Snapshots)
                }
            };
            if due > Instant::now() {
                tokio::select! {
                    () = shutdown.recv() => return,
                    () = sleep_until(due.into()) => {}
                }
            }
            let pushed = self.publish(push);
            last_read = Instant::now();
            if pushed && push != Push::Snapshots {
                last_push = Some(last_read);
            }
        }
    }

    /// One reading and its frames for the phases `push` serves; whether it read the floor or
    /// served a snapshot.
    ///
    /// Per client this is two pointer hashes and a `try_send` of a shared body: everything
    /// else (the read, the diff, the serialising) is per distinct subscription and phase.
    fn publish(&mut self, push: Push) -> bool {
        if let Some(before) = self.phases.fit(self.clients.len()) {
            self.rephase(before);
        }
        let (subscribed, snapshots_due) = self.subscribed();
        let serve = match push {
            Push::Everyone => self.phases.all(),
            Push::Turn => PhaseSet::one(self.phases.take_turn()),
            Push::Snapshots => PhaseSet::default(),
        }
        .with(snapshots_due);
        self.feeds.retain(|at, _| subscribed.contains_key(at));
        for (at, key) in &subscribed {
            self.feeds.entry(*at).or_insert_with(|| PhaseFeed {
                feed: Feed::new(key.clone()),
                reading: 0,
            });
        }

        let fresh = match self.read() {
            Some(readings) => {
                self.reading = Some(readings);
                self.readings_taken += 1;
                true
            }
            None => false,
        };
        // Counted as a push whenever the floor was read for someone: reads, not frames, are
        // what cost (a read that finds no change for a feed still paces the next).
        let pushed = (fresh && !subscribed.is_empty()) || !snapshots_due.is_empty();
        // The feeds served, brought to the last reading if they are not at it yet.
        let mut updates: HashMap<(u64, usize), Update> = HashMap::new();
        if let Some(readings) = &self.reading {
            for (at, phase_feed) in &mut self.feeds {
                if serve.contains(at.0) && phase_feed.reading < self.readings_taken {
                    phase_feed.reading = self.readings_taken;
                    updates.insert(*at, phase_feed.feed.update(readings));
                }
            }
        }
        // Nothing to tell anyone: no slot need be visited (a quiet tick costs nothing a client).
        updates.retain(|_, u| u.delta.is_some() || u.resync_all);
        let mut stuck = Vec::new();
        if !updates.is_empty() || !snapshots_due.is_empty() {
            let now = Instant::now();
            for mut slot in self.clients.slots.iter_mut() {
                let id = *slot.key();
                let phase = self.phases.of(id);
                if !serve.contains(phase) {
                    continue;
                }
                let slot = slot.value_mut();
                let Some(at) = slot.feed.as_ref().map(|key| (phase, key_address(key))) else {
                    continue;
                };
                // A feed missing here: subscribed since the tick began, served next tick.
                let Some(phase_feed) = self.feeds.get_mut(&at) else {
                    continue;
                };
                if deliver(
                    &mut phase_feed.feed,
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

    /// Clients whose phase changed with the phase count are resynced with a snapshot of
    /// their new phase's feed (what they hold is their old phase's).
    fn rephase(&mut self, before: u64) {
        let after = self.phases.count();
        for mut slot in self.clients.slots.iter_mut() {
            let id = *slot.key();
            if id % before != id % after {
                slot.value_mut().resync.moved();
            }
        }
    }

    /// The distinct subscriptions in use in each phase, by phase and address, and the phases
    /// where a client waits for a snapshot (one pass over the clients, a pointer hash each).
    fn subscribed(&self) -> (HashMap<(u64, usize), Arc<FeedKey>>, PhaseSet) {
        let mut keys: HashMap<(u64, usize), Arc<FeedKey>> = HashMap::new();
        let mut snapshots_due = PhaseSet::default();
        for slot in self.clients.slots.iter() {
            if let Some(key) = &slot.feed {
                let phase = self.phases.of(*slot.key());
                keys.entry((phase, key_address(key)))
                    .or_insert_with(|| key.clone());
                if slot.resync.needs_snapshot() {
                    snapshots_due.insert(phase);
                }
            }
        }
        (keys, snapshots_due)
    }

    /// Reads everything the feeds need from the floor under one lock; `None` when nothing can
    /// have changed since the last reading and every feed has a state.
    fn read(&mut self) -> Option<Readings> {
        // Each distinct subscription once, whatever the phases it is in.
        let keys: Vec<Arc<FeedKey>> = self
            .feeds
            .values()
            .map(|f| (key_address(f.feed.key()), f.feed.key()))
            .collect::<HashMap<_, _>>()
            .into_values()
            .cloned()
            .collect();
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
        let all_ready = self.feeds.values().all(|f| f.feed.is_ready());
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use floorwatch_core::alerts::Alerts;
    use floorwatch_core::wire::Subscribe;
    use floorwatch_core::{Direction, Event, EventKind, Organisation};
    use tokio::sync::mpsc;

    use super::*;
    use crate::alerts::AlertDesk;

    const M0: Millis = 1_700_000_040_000;

    fn enters(call: &str, ts: Millis) -> Event {
        Event {
            v: 1,
            id: call.into(),
            source: "test".into(),
            seq: 1,
            ts,
            test: false,
            kind: EventKind::CallEnteredQueue {
                call: call.into(),
                queue: "billing".into(),
                priority: 0,
                caller: None,
                direction: Direction::Inbound,
            },
        }
    }

    struct Wall {
        publisher: Publisher,
        clients: Arc<Clients>,
        floor: SharedFloor,
        queues: Vec<mpsc::Receiver<Outgoing>>,
    }

    impl Wall {
        /// A publisher with phases of two clients, and no client yet.
        fn new() -> Wall {
            let org = Organisation::default();
            let alerts = Alerts::new(&Default::default(), &org).unwrap();
            let floor = LiveFloor::new(&org, 30_000, AlertDesk::new(alerts)).unwrap();
            let floor: SharedFloor = Arc::new(Mutex::new(floor));
            let clients = Arc::new(Clients::default());
            let publisher = Publisher::new(
                clients.clone(),
                floor.clone(),
                Arc::new(Telemetry::new()),
                Arc::new(Pulse::default()),
                Duration::from_millis(250),
                Duration::from_secs(10),
            )
            .with_clients_per_phase(2);
            Wall {
                publisher,
                clients,
                floor,
                queues: Vec::new(),
            }
        }

        /// A client that joins and watches the centre; its id is its index.
        fn join(&mut self) {
            let joined = self.clients.join(16);
            assert_eq!(joined.id as usize, self.queues.len());
            let subscribe: Subscribe = serde_json::from_str(r#"{"subscribe":["centre"]}"#).unwrap();
            self.clients
                .subscribe(joined.id, FeedKey::new(&subscribe, Some(Scope::Centre)));
            self.queues.push(joined.writer_parts.into_receiver());
        }

        fn apply(&self, event: &Event) {
            floor::lock(&self.floor).apply(event);
        }

        /// What each client was sent since the last look: (kind, body) of each frame.
        fn sent(&mut self) -> Vec<Vec<(FrameKind, Arc<str>)>> {
            self.queues
                .iter_mut()
                .map(|rx| {
                    let mut frames = Vec::new();
                    while let Ok(frame) = rx.try_recv() {
                        if let Outgoing::Shared { kind, body, .. } = frame {
                            frames.push((kind, body));
                        }
                    }
                    frames
                })
                .collect()
        }
    }

    fn kinds(sent: &[Vec<(FrameKind, Arc<str>)>]) -> Vec<Vec<FrameKind>> {
        sent.iter()
            .map(|frames| frames.iter().map(|(kind, _)| *kind).collect())
            .collect()
    }

    /// Four clients in two phases: a change under load reaches one phase a turn, each from
    /// the same reading; a change after rest reaches both at once; more clients split the
    /// phases again and the moved clients are resynced with a snapshot.
    #[test]
    fn turns_serve_one_phase_each_and_moved_clients_get_a_snapshot() {
        use FrameKind::{Delta, Snapshot};
        let mut wall = Wall::new();
        (0..4).for_each(|_| wall.join());
        wall.apply(&enters("c0", M0));

        assert!(wall.publisher.publish(Push::Snapshots));
        assert_eq!(wall.publisher.phases.count(), 2);
        assert_eq!(kinds(&wall.sent()), vec![vec![Snapshot]; 4]);

        wall.apply(&enters("c1", M0 + 1_000));
        wall.publisher.publish(Push::Turn);
        let first = wall.sent();
        assert_eq!(kinds(&first), [vec![Delta], vec![], vec![Delta], vec![]]);
        wall.publisher.publish(Push::Turn);
        let second = wall.sent();
        assert_eq!(kinds(&second), [vec![], vec![Delta], vec![], vec![Delta]]);
        assert_eq!(
            first[0][0].1, second[1][0].1,
            "both phases told the same reading"
        );
        wall.publisher.publish(Push::Turn);
        assert_eq!(kinds(&wall.sent()), vec![Vec::<FrameKind>::new(); 4]);

        wall.apply(&enters("c2", M0 + 2_000));
        wall.publisher.publish(Push::Everyone);
        assert_eq!(kinds(&wall.sent()), vec![vec![Delta]; 4]);

        // A fifth client: phases of two need three, so four: clients 2 and 3 move.
        wall.join();
        wall.publisher.publish(Push::Snapshots);
        assert_eq!(wall.publisher.phases.count(), 4);
        assert_eq!(
            kinds(&wall.sent()),
            [
                vec![],
                vec![],
                vec![Snapshot],
                vec![Snapshot],
                vec![Snapshot]
            ]
        );
        wall.apply(&enters("c3", M0 + 3_000));
        let turns: Vec<_> = (0..4)
            .map(|_| {
                wall.publisher.publish(Push::Turn);
                kinds(&wall.sent())
            })
            .collect();
        let told: Vec<usize> = (0..5)
            .map(|client| turns.iter().map(|sent| sent[client].len()).sum())
            .collect();
        assert_eq!(told, [1; 5], "each client once in a round of turns");
    }
}
