//! The live floor: the core engine plus what the server keeps beside it, the per-minute history
//! of each scope (for sparklines), the alert book (`crate::alerts`), the call register
//! (`crate::calls`: the calls of each queue with their caller numbers), lateness accounting and
//! a version that changes whenever a figure or an alert might have.
//!
//! The clock moves by events and wall ticks; [`LiveFloor::advance_to`] steps every evaluation
//! boundary it crosses (docs/ALERTS.md, "Evaluation"), so alerts come at the same event times
//! whatever the replay speed.
//!
//! One [`LiveFloor`] lives behind a mutex held briefly: the recorder applies journaled events, the
//! wall-clock ticker advances time, the publisher and the HTTP API read figures.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use floorwatch_core::alerts::{self, Alert, Alerts};
use floorwatch_core::history::CallDetail;
use floorwatch_core::time::MINUTE_MS;
use floorwatch_core::wire::{HISTORY_MINUTES, MinutePoint};
use floorwatch_core::{
    AgentView, Applied, Engine, EngineError, Event, Figures, Millis, Needs, OrgError, Organisation,
    PointFrom, QueueView, Scope, Window,
};

use crate::alerts::{AckError, AlertDesk};
use crate::calls::CallRegister;
use crate::history::writer::HistorySender;
use crate::history::{ClosedIntervals, HistoryResume};

pub(crate) mod snapshot;

pub(crate) use crate::history::LedgerFrom;

/// Most boundaries (evaluations or samples) taken under one hold of the lock while a long jump
/// of the clock is caught up ([`LiveFloor::catch_up`]): about a millisecond each on a 5,000-agent
/// floor, so a reader waits some tens of milliseconds at most.
pub(crate) const CATCH_UP_STEPS: usize = 32;
/// Before this the engine's clock has not been set by any event or tick (2000-01-01).
const CLOCK_UNSET_BEFORE: Millis = 946_684_800_000;

/// What became of one event on the floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub(crate) applied: Applied,
    /// How far behind the floor's clock the event was, when beyond the lateness allowance.
    /// Late events are applied all the same: the engine puts them in the windows they belong
    /// to, so "today" stays right; they are counted and reported so the sender gets fixed.
    pub(crate) late_by: Option<Millis>,
}

/// The floor shared between tasks.
pub(crate) type SharedFloor = Arc<Mutex<LiveFloor>>;

/// How many threads wait for a floor's lock now ([`lock`]; every floor of the process: a
/// test's several floors can only make [`someone_waits`] say yes more often).
static WAITING: AtomicUsize = AtomicUsize::new(0);

/// Locks the floor. A panic while it was held (an engine bug) poisons the lock; the state is
/// still the best there is, so readers go on rather than take the whole server down.
pub(crate) fn lock(floor: &SharedFloor) -> MutexGuard<'_, LiveFloor> {
    let locked = match floor.try_lock() {
        Ok(guard) => Ok(guard),
        Err(TryLockError::Poisoned(poisoned)) => Err(poisoned),
        Err(TryLockError::WouldBlock) => {
            WAITING.fetch_add(1, Ordering::SeqCst);
            let locked = floor.lock();
            WAITING.fetch_sub(1, Ordering::SeqCst);
            locked
        }
    };
    locked.unwrap_or_else(|poisoned| {
        tracing::error!("the floor's lock was poisoned by a panic; continuing");
        poisoned.into_inner()
    })
}

/// Whether some thread is waiting in [`lock`] now: the recorder catching up a long jump lets
/// the lock go between steps only then (issue 10: a far-future event must not keep readers
/// waiting for the whole jump; issue 15: letting go means journaling and syncing the alert
/// changes first, about a thousand syncs in a month's replay when nobody was waiting). A
/// reader that starts waiting just after the answer waits one step more, as before.
pub(crate) fn someone_waits() -> bool {
    WAITING.load(Ordering::SeqCst) > 0
}

/// The live floor: the engine and everything the server keeps beside it (see the module doc).
pub(crate) struct LiveFloor {
    engine: Engine,
    lateness: Millis,
    history: BTreeMap<Scope, VecDeque<MinutePoint>>,
    /// Agent scopes sampled for history while someone subscribes to them; tree and queue
    /// scopes are always sampled.
    sampled_agents: BTreeSet<Scope>,
    /// What each tree and queue scope's last point was worked out from, by place
    /// ([`Engine::points_but_agents`]): a scope whose sums stood still is not summed again
    /// at the next minute end. A cache, never saved.
    points_from: Vec<PointFrom>,
    version: u64,
    alerts: AlertDesk,
    /// The calls of each queue, waiting or of the last hour (fed here, so a journal replay at
    /// start rebuilds it).
    calls: CallRegister,
    /// False while the journal is replayed at start: events are observed, boundaries are not
    /// evaluated (the alert journal already holds what they raised).
    evaluating: bool,
    /// Where each close of the engine's interval ledger goes (docs/HISTORY.md); `None` while
    /// history is off.
    interval_store: Option<HistorySender>,
    /// The journal sequence number of the last event applied: what a close of the ledger
    /// covers, so that a restart resumes after it.
    journal_seq: Option<u64>,
    /// The store position the ledger's open deltas count from (its last close, or the resume
    /// point it started at); `None` while history is off. A checkpoint keeps it, so that a
    /// restart can tell whether the store and the restored ledger fit (`crate::checkpoint`).
    ledger_from: Option<LedgerFrom>,
    /// Cluster mode: the stream sequence of the last message applied, which every figure read
    /// with it reflects (docs/CLUSTER.md); `None` on a single node.
    stream_seq: Option<u64>,
}

impl LiveFloor {
    pub(crate) fn new(
        org: &Organisation,
        lateness_ms: Millis,
        alerts: AlertDesk,
    ) -> Result<LiveFloor, OrgError> {
        Ok(LiveFloor {
            engine: Engine::new(org)?,
            lateness: lateness_ms,
            history: BTreeMap::new(),
            sampled_agents: BTreeSet::new(),
            points_from: Vec::new(),
            version: 0,
            alerts,
            calls: CallRegister::new(),
            evaluating: true,
            interval_store: None,
            journal_seq: None,
            ledger_from: None,
            stream_seq: None,
        })
    }

    /// Keeps history from here on: the engine's ledger counts every event into quarter-hours,
    /// closed at each quarter-hour end the clock crosses and sent to `history`. Running agent
    /// states count as stored up to `from.closed_until` (the store's resume point; 0 for a new
    /// store).
    pub(crate) fn keep_history(&mut self, history: HistorySender, from: LedgerFrom) {
        self.engine.keep_intervals(from.closed_until);
        self.ledger_from = Some(from);
        self.interval_store = Some(history);
    }

    /// [`Self::keep_history`] from where the store left off (its resume point), before the
    /// event numbered `seq` (`None`: no journal number to check the store against): what a
    /// start's journal replay and a cluster node's stream apply both do once history is due.
    pub(crate) fn resume_history(&mut self, resume: HistoryResume, seq: Option<u64>) {
        let from = resume.position();
        let (sender, closed_until) = resume.resume(seq);
        self.keep_history(
            sender,
            LedgerFrom {
                closed_until,
                ..from
            },
        );
    }

    /// Stops sending closes to the history thread (at shutdown, once every event is recorded),
    /// so that it ends after writing those queued.
    pub(crate) fn stop_history(&mut self) {
        self.interval_store = None;
    }

    /// Where the closes go (`None` while history is off): a report waits on it for the closes
    /// queued before it ([`HistorySender::flush`]).
    pub(crate) fn history_sender(&self) -> Option<HistorySender> {
        self.interval_store.clone()
    }

    /// The call records the store may not have yet: those of the closes the history thread
    /// has not written (it gathers a replay's closes into one transaction) and those changed
    /// since (the latter win), for a drill-down up to the floor's "now" (docs/HISTORY.md,
    /// "Calls"). Empty while history is off.
    pub(crate) fn calls_not_stored(&self) -> Vec<CallDetail> {
        let Some(history) = &self.interval_store else {
            return Vec::new();
        };
        let open = self.engine.open_calls();
        let newer: BTreeSet<&str> = open.iter().map(|c| c.id.as_str()).collect();
        let mut out: Vec<CallDetail> = history
            .calls_not_written()
            .into_iter()
            .filter(|c| !newer.contains(c.id.as_str()))
            .collect();
        out.extend(open);
        out
    }

    /// Records that the event just applied is number `seq` of the journal.
    pub(crate) fn applied_journal_seq(&mut self, seq: u64) {
        self.journal_seq = Some(seq);
    }

    /// Cluster mode: the message at stream sequence `seq` is applied.
    pub(crate) fn set_stream_position(&mut self, seq: u64) {
        self.stream_seq = Some(seq);
    }

    /// Cluster mode: the floor is part way through a message (a long jump caught up in steps,
    /// readers let in between them): it reflects no stream position until the message is
    /// applied.
    pub(crate) fn leave_stream_position(&mut self) {
        self.stream_seq = None;
    }

    /// Cluster mode: the stream sequence the floor reflects (`None` on a single node, and on
    /// a node part way through a message).
    pub(crate) fn stream_position(&self) -> Option<u64> {
        self.stream_seq
    }

    /// Whether crossing a boundary evaluates the alert rules (off while replaying the journal).
    pub(crate) fn set_evaluating(&mut self, evaluating: bool) {
        self.evaluating = evaluating;
    }

    /// Applies one (journaled) event, sampling the history at every minute end it crosses.
    pub(crate) fn apply(&mut self, event: &Event) -> Outcome {
        let outcome = self.apply_held(event);
        self.flush_alerts();
        outcome
    }

    /// [`Self::apply`] without journaling the alert changes it made: they wait, in order, for
    /// the next [`Self::flush`] (or any step that flushes). The recorder applies a whole group
    /// of batches this way under one hold of the lock and flushes once before letting go, so
    /// a replay makes one write and one sync of the alert journal per group instead of one per
    /// event that changed an alert (issue 15); nobody can read the floor in between, so
    /// "journaled before pushed" still holds (docs/ALERTS.md, "Changes and the journal").
    pub(crate) fn apply_held(&mut self, event: &Event) -> Outcome {
        let now = self.engine.now();
        let late_by =
            (now >= CLOCK_UNSET_BEFORE && event.ts < now - self.lateness).then_some(now - event.ts);
        if !event.test {
            // Test calls never move the clock (the engine ignores their time as well).
            self.advance_to(event.ts);
        }
        // The recorder drops ids it has seen before journaling, so the engine need not keep
        // its own record of them (docs/ARCHITECTURE.md, step 2).
        let applied = self.engine.apply_new(event);
        self.alerts.observe(event, applied);
        if applied != Applied::Duplicate {
            self.calls.observe(event);
            self.calls.forget_before(self.engine.now());
            self.version += 1;
        }
        Outcome { applied, late_by }
    }

    /// Journals the alert changes held since the last flush and queues their notification
    /// batches (see [`Self::apply_held`]); the floor's lock must still be held.
    pub(crate) fn flush(&mut self) {
        self.flush_alerts();
    }

    /// Moves the clock to `now` (the wall clock in `--clock wall`).
    pub(crate) fn tick(&mut self, now: Millis) {
        if now > self.engine.now() {
            self.advance_to(now);
            self.engine.tick(now);
            self.calls.forget_before(now);
            self.version += 1;
            self.flush_alerts();
        }
    }

    /// Journals the alert changes of the step just taken (before anyone can read them: the
    /// floor's lock is held) and queues their notification batch.
    fn flush_alerts(&mut self) {
        if self.alerts.flush() {
            self.version += 1;
        }
    }

    /// The alert rules and book, for reading.
    pub(crate) fn alerts(&self) -> &Alerts {
        self.alerts.alerts()
    }

    /// Changes whenever an alert was raised, changed or acknowledged.
    pub(crate) fn alerts_version(&self) -> u64 {
        self.alerts.version()
    }

    /// The scopes whose subscribers and readers may see `alert` (docs/ALERTS.md, "Who sees an
    /// alert").
    pub(crate) fn alert_scopes(&self, alert: &Alert) -> Vec<Scope> {
        self.alerts.alerts().visible_in(alert, &self.engine)
    }

    /// Acknowledges alert `id` at the floor's clock; journaled before it returns.
    pub(crate) fn acknowledge(
        &mut self,
        id: &str,
        by: &str,
        note: &str,
    ) -> Result<Alert, AckError> {
        let alert = self.alerts.acknowledge(id, by, note, self.engine.now())?;
        self.version += 1;
        Ok(alert)
    }

    /// Journals every alert change from now on (after the start-up replay).
    pub(crate) fn attach_alert_journal(&mut self, journal: crate::alerts::AlertJournal) {
        self.alerts.set_journal(journal);
    }

    /// Rebuilds the alert book from its journal (at start, before the events are replayed).
    pub(crate) fn restore_alerts(
        &mut self,
        changes: Vec<alerts::AlertChange>,
    ) -> alerts::RestoreReport {
        self.alerts.restore(changes)
    }

    /// The call register: the calls of each queue, waiting now or of the last hour of the
    /// floor's clock.
    pub(crate) fn calls(&self) -> &CallRegister {
        &self.calls
    }

    /// The engine's clock.
    pub(crate) fn now(&self) -> Millis {
        self.engine.now()
    }

    /// Changes whenever any figure may have changed.
    pub(crate) fn version(&self) -> u64 {
        self.version
    }

    pub(crate) fn figures(&self, scope: &Scope, window: Window) -> Result<Figures, EngineError> {
        self.engine.figures(scope, window)
    }

    pub(crate) fn queues(&self) -> Vec<QueueView> {
        self.engine.queues()
    }

    /// The name screens show for `scope` ([`Engine::name_of`]).
    pub(crate) fn name_of(&self, scope: &Scope) -> Option<String> {
        self.engine.name_of(scope).map(str::to_string)
    }

    /// The configured names of sites, groups and teams ([`Engine::tree_names`]).
    pub(crate) fn tree_names(&self) -> Vec<(Scope, String)> {
        self.engine.tree_names()
    }

    pub(crate) fn scopes(&self) -> Vec<Scope> {
        self.engine.scopes()
    }

    /// The per-minute points of `scope`, oldest first (at most [`HISTORY_MINUTES`]).
    pub(crate) fn history(&self, scope: &Scope) -> Vec<MinutePoint> {
        self.history
            .get(scope)
            .map(|points| points.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Sets the agent scopes to sample for history (the ones subscribed to right now).
    pub(crate) fn sample_agent_scopes(&mut self, scopes: BTreeSet<Scope>) {
        self.history
            .retain(|scope, _| !matches!(scope, Scope::Agent(_)) || scopes.contains(scope));
        self.sampled_agents = scopes;
    }

    /// Whether `inner` lies inside the subtree of `outer` as the floor is now; `None` when
    /// either is unknown ([`Engine::contains`]). Every access check asks this.
    pub(crate) fn contains(&self, outer: &Scope, inner: &Scope) -> Option<bool> {
        self.engine.contains(outer, inner)
    }

    /// The agents inside `scope`, for an `agents:SCOPE` subscription or `/api/v1/agents`.
    pub(crate) fn agents_in(&self, scope: &Scope) -> Result<Vec<AgentView>, EngineError> {
        self.engine.agents_in(scope)
    }

    /// Ticks the engine to each boundary in (now, t] that matters and, in order, samples every
    /// scope at each minute end and evaluates the alert rules at each 10-second boundary
    /// (`alerts::EVALUATION_PERIOD_MS`), so a point shows the state at the end of its minute and
    /// an alert comes at the same event time whether time moved by an event or by the wall
    /// clock. Only the last [`HISTORY_MINUTES`] minute ends of a long jump are sampled, and only
    /// the boundaries the alerts say can change anything are evaluated: a floor at rest skips
    /// to its next timer (`Alerts::is_due`, docs/ALERTS.md "Evaluation").
    fn advance_to(&mut self, t: Millis) {
        self.step_to(t, usize::MAX);
    }

    /// [`Self::advance_to`] in steps: takes at most `steps` boundaries (evaluations or
    /// samples) and returns whether every boundary up to `t` is done. The recorder catches up a
    /// long jump this way, letting go of the floor's lock between calls so that readers (the
    /// publisher, the API) never wait for the whole jump. What the steps changed is readable
    /// (and its alert changes journaled) when it returns.
    pub(crate) fn catch_up(&mut self, t: Millis, steps: usize) -> bool {
        let done = self.catch_up_held(t, steps);
        self.flush_alerts();
        done
    }

    /// [`Self::catch_up`] for a caller that goes on under the same hold of the lock (the
    /// recorder, which applies the event that made the jump and flushes once for its whole
    /// group): the alert changes are not journaled here. A caller that lets the lock go
    /// between steps must [`Self::flush`] first (docs/ALERTS.md, "Changes and the journal");
    /// the recorder does so only when someone waits for the lock ([`someone_waits`]). A
    /// month's replay crosses a gap of more than 32 boundaries about a thousand times, and
    /// each step synced the alert journal once more (issue 15).
    pub(crate) fn catch_up_held(&mut self, t: Millis, steps: usize) -> bool {
        let done = self.step_to(t, steps);
        self.calls.forget_before(self.engine.now());
        self.version += 1;
        done
    }

    fn step_to(&mut self, t: Millis, steps: usize) -> bool {
        let now = self.engine.now();
        if t <= now || now < CLOCK_UNSET_BEFORE {
            return true;
        }
        self.close_quarter_hours(t);
        let last = t.div_euclid(MINUTE_MS) * MINUTE_MS;
        let first_sampled = last - (HISTORY_MINUTES as Millis - 1) * MINUTE_MS;
        if !self.evaluating {
            let first = (now.div_euclid(MINUTE_MS) + 1) * MINUTE_MS;
            let mut boundary = first.max(first_sampled);
            while boundary <= last {
                self.engine.tick(boundary);
                self.sample(boundary - MINUTE_MS);
                boundary += MINUTE_MS;
            }
            return true;
        }
        let mut left = steps;
        let mut next = alerts::boundaries(now, t).next();
        let mut done = true;
        while let Some(boundary) = next.filter(|&b| b <= t) {
            let due = self.alerts.alerts().is_due(boundary);
            let sampled = boundary.rem_euclid(MINUTE_MS) == 0 && boundary >= first_sampled;
            if !due && !sampled {
                // Nothing happens before the next due boundary or the next minute sampled.
                let wake = self
                    .alerts
                    .alerts()
                    .rests_until()
                    .unwrap_or(boundary + alerts::EVALUATION_PERIOD_MS);
                let sample = first_sampled.max((boundary.div_euclid(MINUTE_MS) + 1) * MINUTE_MS);
                next = Some(wake.min(sample));
                continue;
            }
            if left == 0 {
                done = false;
                break;
            }
            left -= 1;
            self.engine.tick(boundary);
            if sampled {
                self.sample(boundary - MINUTE_MS);
            }
            if due {
                self.alerts.evaluate(&self.engine, boundary);
            }
            next = Some(boundary + alerts::EVALUATION_PERIOD_MS);
        }
        done
    }

    /// Closes the interval ledger at the last quarter-hour end in (now, t], if any, and sends
    /// what it counted to the history thread (before the event at `t` is applied: it belongs
    /// to the next quarter-hour).
    fn close_quarter_hours(&mut self, t: Millis) {
        let Some(history) = &self.interval_store else {
            return;
        };
        let Some((until, deltas)) = self.engine.close_intervals_crossing(t) else {
            return;
        };
        let calls = self.engine.close_calls();
        self.ledger_from = Some(LedgerFrom {
            closed_until: until,
            through_seq: self.journal_seq,
        });
        let closed = ClosedIntervals {
            until,
            through_seq: self.journal_seq,
            deltas,
            calls: calls.into(),
        };
        if !history.send(closed) {
            tracing::error!("the history thread has stopped: history is no longer kept");
            self.interval_store = None;
        }
    }

    fn sample(&mut self, minute: Millis) {
        // A point draws service level and calls waiting: sums, never agents or percentiles.
        // The tree's and the queues' scopes are read by their place in the engine's tree and
        // borrowed from it, and a scope's key is copied only the first time it is sampled
        // (issue 15: copying every scope at every minute end, and looking each up by its id,
        // were a share of the recorder's time). Their points are worked out alone, not as
        // whole figures, and a scope whose sums stood still since its last point is not summed
        // again (`Engine::points_but_agents`; a replayed month samples 43,200 minute ends).
        let window = Window::Rolling15;
        let tree = self.engine.points_but_agents(window, &mut self.points_from);
        let agents = self.sampled_agents.iter().filter_map(|scope| {
            let f = self.engine.figures_with(scope, window, Needs::SUMS).ok()?;
            Some((scope, f.service_level_pct, f.waiting_now))
        });
        for (scope, service_level_pct, waiting) in tree.chain(agents) {
            let point = MinutePoint {
                minute,
                service_level_pct,
                waiting,
            };
            if let Some(points) = self.history.get_mut(scope) {
                push_point(points, point);
            } else {
                push_point(self.history.entry(scope.clone()).or_default(), point);
            }
        }
    }
}

/// Appends `point` to a scope's per-minute points, keeping the last [`HISTORY_MINUTES`].
fn push_point(points: &mut VecDeque<MinutePoint>, point: MinutePoint) {
    points.push_back(point);
    while points.len() > HISTORY_MINUTES {
        points.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M0: Millis = 1_700_000_040_000; // a minute boundary

    fn floor(org: &Organisation) -> LiveFloor {
        let alerts = Alerts::new(&Default::default(), org).unwrap();
        LiveFloor::new(org, 30_000, AlertDesk::new(alerts)).unwrap()
    }

    fn event(id: &str, ts: Millis, kind: floorwatch_core::EventKind) -> Event {
        Event {
            v: 1,
            id: id.into(),
            source: "test".into(),
            seq: 1,
            ts,
            test: false,
            kind,
        }
    }

    fn enters(call: &str, ts: Millis) -> Event {
        event(
            call,
            ts,
            floorwatch_core::EventKind::CallEnteredQueue {
                call: call.into(),
                queue: "billing".into(),
                priority: 0,
                caller: None,
                direction: floorwatch_core::Direction::Inbound,
            },
        )
    }

    #[test]
    fn history_samples_each_minute_end_the_clock_crosses() {
        let mut floor = floor(&Organisation::default());
        floor.apply(&enters("c1", M0 + 10_000));
        assert!(floor.history(&Scope::Centre).is_empty());
        floor.apply(&enters("c2", M0 + 70_000));
        // Two minutes pass at once: both minute ends are sampled.
        floor.apply(&enters("c3", M0 + 200_000));
        let waiting: Vec<(Millis, u64)> = floor
            .history(&Scope::Centre)
            .iter()
            .map(|p| (p.minute - M0, p.waiting))
            .collect();
        assert_eq!(waiting, vec![(0, 1), (60_000, 2), (120_000, 2)]);
        assert_eq!(floor.history(&Scope::Queue("billing".into())).len(), 3);

        // The wall clock crosses minute ends too.
        floor.tick(M0 + 241_000);
        assert_eq!(
            floor.history(&Scope::Centre).last().unwrap().minute,
            M0 + 180_000
        );
        // A jump of hours keeps the last hour only.
        floor.tick(M0 + 5 * 3_600_000);
        assert_eq!(floor.history(&Scope::Centre).len(), HISTORY_MINUTES);
    }

    /// Every point of every tree and queue scope is what a fresh read of the scope's figures
    /// (`Engine::figures_with`, the sums) says at its minute end, though points are worked out
    /// alone and scopes whose sums stood still are not summed again: a small centre's night
    /// and morning (quiet minutes, busy ones, minutes leaving the window), sampled by events
    /// and by a jump of the wall clock.
    #[test]
    fn every_point_is_a_fresh_read_of_its_scope_at_its_minute_end() {
        use floorwatch_sim::{Scenario, Simulation};
        let scenario = Scenario::preset("small").unwrap();
        let org = scenario.organisation();
        let events: Vec<Event> = Simulation::new(&scenario, "2026-03-02".parse().unwrap(), 3)
            .take(6_000)
            .collect();
        let mut floor = floor(&org);
        let mut mirror = Engine::new(&org).unwrap();
        let mut expected: BTreeMap<Scope, Vec<MinutePoint>> = BTreeMap::new();
        let read_to =
            |mirror: &mut Engine, expected: &mut BTreeMap<Scope, Vec<MinutePoint>>, t: Millis| {
                let now = mirror.now();
                if now < CLOCK_UNSET_BEFORE {
                    return;
                }
                let mut end = (now.div_euclid(MINUTE_MS) + 1) * MINUTE_MS;
                while end <= t {
                    mirror.tick(end);
                    let scopes: Vec<Scope> = mirror.scopes_but_agents().cloned().collect();
                    for scope in scopes {
                        let f = mirror
                            .figures_with(&scope, Window::Rolling15, Needs::SUMS)
                            .unwrap();
                        expected.entry(scope).or_default().push(MinutePoint {
                            minute: end - MINUTE_MS,
                            service_level_pct: f.service_level_pct,
                            waiting: f.waiting_now,
                        });
                    }
                    end += MINUTE_MS;
                }
            };
        let mut checked = 0;
        for event in &events {
            if !event.test {
                read_to(&mut mirror, &mut expected, event.ts);
            }
            mirror.apply(event);
            floor.apply(event);
            for (scope, points) in &expected {
                assert_eq!(
                    floor.history(scope).last(),
                    points.last(),
                    "{scope} before {}",
                    event.id
                );
                checked += 1;
            }
        }
        let end = floor.now() + 20 * MINUTE_MS;
        read_to(&mut mirror, &mut expected, end);
        floor.tick(end);
        for (scope, points) in &expected {
            let tail = &points[points.len().saturating_sub(HISTORY_MINUTES)..];
            assert_eq!(floor.history(scope), tail, "{scope}");
        }
        assert!(checked > 1_000 && expected.len() > 5, "{checked}");
    }

    #[test]
    fn alerts_are_evaluated_at_each_boundary_crossed_but_not_while_replaying() {
        let org = Organisation::default();
        let config: alerts::AlertsConfig = serde_json::from_str(
            r#"{"default_rules": false, "rules": [
                {"id": "feed", "kind": "source_silent", "silent_s": 60}]}"#,
        )
        .unwrap();
        let raised = |replaying: bool| {
            let desk = AlertDesk::new(Alerts::new(&config, &org).unwrap());
            let mut floor = LiveFloor::new(&org, 30_000, desk).unwrap();
            floor.set_evaluating(!replaying);
            // Someone is signed in: the feed's silence is not expected (docs/ALERTS.md).
            floor.apply(&event(
                "in",
                M0 + 500,
                floorwatch_core::EventKind::AgentLogin {
                    agent: "a1".into(),
                    team: None,
                },
            ));
            floor.apply(&enters("c1", M0 + 1_000));
            floor.tick(M0 + 75_000);
            floor.set_evaluating(true);
            let version = floor.version();
            floor.tick(M0 + 95_000);
            assert!(floor.version() > version);
            floor
                .alerts()
                .alerts_since(0)
                .iter()
                .map(|a| (a.key.clone(), a.raised_at - M0))
                .collect::<Vec<_>>()
        };
        // Silent for 60 s from 1 s: met first at the boundary 70 s.
        assert_eq!(
            raised(false),
            vec![("feed/centre/test".to_string(), 70_000)]
        );
        // Replayed up to 75 s: evaluation goes on from the next boundary.
        assert_eq!(raised(true), vec![("feed/centre/test".to_string(), 80_000)]);
    }

    /// A floor with one rule (the feed silent for 60 s) journaling its alert changes to a file
    /// of its own: the floor, that file, and the directory that holds it (kept while it lives).
    fn silent_feed_floor_with_journal() -> (LiveFloor, std::path::PathBuf, tempfile::TempDir) {
        let org = Organisation::default();
        let config: alerts::AlertsConfig = serde_json::from_str(
            r#"{"default_rules": false, "rules": [
                {"id": "feed", "kind": "source_silent", "silent_s": 60}]}"#,
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (journal, _, _) =
            crate::alerts::AlertJournal::open(dir.path(), crate::ndjson_log::FsyncPolicy::Never)
                .unwrap();
        let mut floor = LiveFloor::new(
            &org,
            30_000,
            AlertDesk::new(Alerts::new(&config, &org).unwrap()),
        )
        .unwrap();
        floor.attach_alert_journal(journal);
        let file = dir.path().join(crate::alerts::journal::FILE);
        (floor, file, dir)
    }

    #[test]
    fn held_alert_changes_are_journaled_at_the_flush_as_one_by_one() {
        let events = [
            event(
                "in",
                M0 + 500,
                floorwatch_core::EventKind::AgentLogin {
                    agent: "a1".into(),
                    team: None,
                },
            ),
            enters("c1", M0 + 1_000),
            // Crosses the boundary at 70 s, where the feed is found silent: an alert is raised.
            enters("c2", M0 + 95_000),
            enters("c3", M0 + 96_000),
        ];
        let journaled = |held: bool| {
            let (mut floor, file, _dir) = silent_feed_floor_with_journal();
            for e in &events {
                if held {
                    floor.apply_held(e);
                } else {
                    floor.apply(e);
                }
            }
            let before_flush = std::fs::read_to_string(&file).unwrap();
            floor.flush();
            (before_flush, std::fs::read_to_string(&file).unwrap())
        };
        let (held_before, held) = journaled(true);
        let (_, one_by_one) = journaled(false);
        // Held: nothing written until the flush, then exactly what one-by-one wrote.
        assert_eq!(held_before, "");
        assert!(one_by_one.contains("\"raised\""), "{one_by_one}");
        assert_eq!(held, one_by_one);
    }

    #[test]
    fn a_jump_caught_up_under_the_lock_is_journaled_at_the_flush() {
        let (mut floor, file, _dir) = silent_feed_floor_with_journal();
        let login = event(
            "in",
            M0 + 500,
            floorwatch_core::EventKind::AgentLogin {
                agent: "a1".into(),
                team: None,
            },
        );
        floor.apply(&login);
        floor.apply(&enters("c1", M0 + 1_000));
        // Ten minutes later: the feed is found silent at 70 s. Caught up in one call (60
        // boundaries, 64 steps allowed): the raise waits for the caller's flush.
        let later = M0 + 600_000;
        assert!(floor.catch_up_held(later, 64));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "");
        floor.flush();
        let journaled = std::fs::read_to_string(&file).unwrap();
        assert!(journaled.contains("\"raised\""), "{journaled}");

        // A jump taken in several steps journals nothing either: the caller flushes before it
        // lets the lock go between them (when someone waits for it): the feed heard again
        // (cleared at the next boundary), then silent again 60 s later.
        floor.apply(&enters("c2", later + 1_000));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), journaled);
        assert!(!floor.catch_up_held(later + 1_200_000, 10));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), journaled);
        floor.flush();
        let after_step = std::fs::read_to_string(&file).unwrap();
        assert!(after_step.contains("\"cleared\""), "{after_step}");
        assert_eq!(after_step.matches("\"raised\"").count(), 2, "{after_step}");
    }

    #[test]
    fn a_thread_blocked_on_the_lock_is_seen_waiting() {
        let shared: SharedFloor = Arc::new(Mutex::new(floor(&Organisation::default())));
        let held = lock(&shared);
        let other = Arc::clone(&shared);
        let waiter = std::thread::spawn(move || lock(&other).now());
        // Other tests' floors can only add waiters: the answer must turn true while the
        // thread is blocked, whatever else runs.
        let since = std::time::Instant::now();
        while !someone_waits() {
            assert!(
                since.elapsed() < std::time::Duration::from_secs(30),
                "a thread blocked on the floor's lock was never seen waiting"
            );
            std::thread::yield_now();
        }
        drop(held);
        assert_eq!(waiter.join().unwrap(), shared.lock().unwrap().now());
    }

    #[test]
    fn late_events_are_flagged_and_test_calls_do_not_move_the_clock() {
        let mut floor = floor(&Organisation::default());
        let first = floor.apply(&enters("c1", M0 + 100_000));
        assert_eq!(first.late_by, None);
        assert_eq!(floor.apply(&enters("c2", M0 + 80_000)).late_by, None);
        let late = floor.apply(&enters("c3", M0 + 60_000));
        assert_eq!(late.late_by, Some(40_000));
        assert_eq!(late.applied, Applied::Applied);

        let mut test_call = enters("t1", M0 + 900_000);
        test_call.test = true;
        assert_eq!(floor.apply(&test_call).applied, Applied::Test);
        assert_eq!(floor.now(), M0 + 100_000);
    }
}
